//! Delivery: every event on the bus (CodePipeline's state changes, S3's and CodeCommit's, and
//! what PutEvents sends) is matched against the enabled pattern rules of its account and
//! region, and handed to each matching rule's targets. A pipeline target starts that pipeline
//! with trigger `CloudWatchEvent` and the rule's ARN, as in AWS; an API destination gets an
//! HTTP request (`invoke`); other kinds of target are kept but nothing delivers to them yet.
//! Every event and every delivery goes to the activity list (`GET /_local/events`). Rules are read again only when
//! one was written (`records::generation`), and their patterns parsed once then.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::pattern::Pattern;
use super::records::{self, RuleRecord};
use super::rules::{rule_arn, DEFAULT_BUS};
use crate::call::Context;
use crate::services::bus::Event;
use crate::services::codepipeline::service::{pipeline, start_execution, StartRequest};
use crate::state::AppState;

type Rules = Arc<Vec<(RuleRecord, Pattern)>>;

fn load(state: &AppState, account: &str, region: &str, bus: &str) -> Rules {
    let all = records::all(state.store.as_ref(), account, region, bus).unwrap_or_default();
    Arc::new(
        all.into_iter()
            .filter_map(|r| {
                let pattern = Pattern::parse(r.event_pattern.as_deref()?).ok()?;
                Some((r, pattern))
            })
            .collect(),
    )
}

/// The rules an event meets: enabled, with a pattern it matches.
pub fn matching<'a>(rules: &'a [(RuleRecord, Pattern)], envelope: &Value) -> Vec<&'a RuleRecord> {
    rules
        .iter()
        .filter(|(r, p)| r.enabled() && p.matches(envelope))
        .map(|(r, _)| r)
        .collect()
}

pub fn spawn(state: Arc<AppState>) {
    // Every event, however far behind: a rule must not miss one because the engine was busy.
    // Services' internal events are not EventBridge's.
    let mut events = state.bus.subscribe_to(|e| !e.internal);
    tokio::spawn(async move {
        let mut cache: HashMap<(String, String, String), (u64, Rules)> = HashMap::new();
        let mut batch = Vec::with_capacity(BATCH_MAX);
        loop {
            // Taken a batch at a time: one event per wake-up kept it behind a busy engine.
            if events.recv_many(&mut batch, BATCH_MAX).await == 0 {
                return;
            }
            for event in batch.drain(..) {
                let bus = event.bus.clone().unwrap_or_else(|| DEFAULT_BUS.to_owned());
                let scope = (event.account.clone(), event.region.clone(), bus);
                let generation = records::generation();
                let rules = match cache.get(&scope) {
                    Some((g, rules)) if *g == generation => rules.clone(),
                    _ => {
                        let rules = load(&state, &scope.0, &scope.1, &scope.2);
                        cache.insert(scope.clone(), (generation, rules.clone()));
                        rules
                    }
                };
                state.activity.event(event.clone());
                if rules.is_empty() {
                    continue;
                }
                let Ok(envelope) = serde_json::to_value(&*event) else {
                    continue;
                };
                for rule in matching(&rules, &envelope) {
                    for target in &rule.targets {
                        deliver(&state, &event, rule, target).await;
                    }
                }
            }
        }
    });
}

/// The most events taken from the bus at once.
const BATCH_MAX: usize = 1024;

/// What codepipeline-local says of a target it does not deliver to.
pub const NOT_DELIVERED: &str =
    "codepipeline-local delivers to pipelines and API destinations only";

/// Whether events reach a target of this ARN here: a pipeline or an API destination.
pub fn delivered_here(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    arn.contains(":api-destination/") || (parts.len() == 6 && parts[2] == "codepipeline")
}

/// Hands `event` to one target of `rule`: a pipeline starts; an API destination gets the event
/// in a task of its own (it may be retried); other kinds get nothing yet.
pub async fn deliver(state: &Arc<AppState>, event: &Event, rule: &RuleRecord, target: &Value) {
    let arn = target["Arn"].as_str().unwrap_or_default();
    let ctx = Context::new(&event.account, &event.region);
    let rule_arn = rule_arn(&ctx, &rule.bus, &rule.name);
    if arn.contains(":api-destination/") {
        let (state, rule, target) = (state.clone(), rule.name.clone(), target.clone());
        let envelope = serde_json::to_value(event).unwrap_or_default();
        tokio::spawn(async move {
            super::invoke::to_destination(&state, &ctx, &rule, &target, &envelope).await;
        });
        return;
    }
    // arn:aws:codepipeline:REGION:ACCOUNT:NAME
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let is_pipeline = parts.len() == 6 && parts[2] == "codepipeline";
    let record = |status: &str, detail: String| {
        state.activity.delivery(serde_json::json!({
            "rule": rule.name, "target": arn, "eventId": event.id,
            "at": chrono::Utc::now().to_rfc3339(), "status": status, "detail": detail,
        }));
    };
    if is_pipeline && parts[4] != event.account {
        record("FAILED", "the pipeline is in another account: EventBridge delivers there only through that account's bus".to_owned());
        return;
    }
    if !is_pipeline {
        tracing::info!(rule = %rule.name, target = arn, "a rule matched; codepipeline-local delivers to pipelines and API destinations only, so this target got nothing");
        record("NOT_DELIVERED", NOT_DELIVERED.to_owned());
        return;
    }
    let target_ctx = Context::new(parts[4], parts[3]);
    let started = match pipeline(state, &target_ctx, parts[5]) {
        Ok(p) => {
            let request = StartRequest {
                trigger_type: "CloudWatchEvent",
                trigger_detail: Some(rule_arn),
                ..StartRequest::default()
            };
            start_execution(state, &target_ctx, &p, request).await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(id) => record("DELIVERED", format!("started execution {id}")),
        Err(e) => {
            tracing::warn!(rule = %rule.name, target = arn, error = %e, "a rule's target pipeline cannot be started");
            record("FAILED", e.message);
        }
    }
}
