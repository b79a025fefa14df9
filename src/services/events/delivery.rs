//! Delivery: every event on the bus (CodePipeline's state changes, S3's and CodeCommit's, and
//! what PutEvents sends) is matched against the enabled pattern rules of its account and
//! region, and handed to each matching rule's targets. A pipeline target starts that pipeline
//! with trigger `CloudWatchEvent` and the rule's ARN, as in AWS; other kinds of target are
//! kept but nothing delivers to them yet, which the log says. Rules are read again only when
//! one was written (`records::generation`), and their patterns parsed once then.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::pattern::Pattern;
use super::records::{self, RuleRecord};
use super::rules::{rule_arn, DEFAULT_BUS};
use crate::call::Context;
use crate::services::bus::Event;
use crate::services::codepipeline::service::{pipeline, start_execution, StartRequest};
use crate::state::AppState;

type Rules = Arc<Vec<(RuleRecord, Pattern)>>;

fn load(state: &AppState, account: &str, region: &str) -> Rules {
    let all = records::all(state.store.as_ref(), account, region, DEFAULT_BUS).unwrap_or_default();
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
    let mut events = state.bus.subscribe();
    tokio::spawn(async move {
        let mut cache: HashMap<(String, String), (u64, Rules)> = HashMap::new();
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "EventBridge fell behind the event bus: some events reached no rule"
                    );
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let scope = (event.account.clone(), event.region.clone());
            let generation = records::generation();
            let rules = match cache.get(&scope) {
                Some((g, rules)) if *g == generation => rules.clone(),
                _ => {
                    let rules = load(&state, &scope.0, &scope.1);
                    cache.insert(scope.clone(), (generation, rules.clone()));
                    rules
                }
            };
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
    });
}

/// Hands `event` to one target of `rule`.
pub async fn deliver(state: &AppState, event: &Event, rule: &RuleRecord, target: &Value) {
    let arn = target["Arn"].as_str().unwrap_or_default();
    let ctx = Context::new(&event.account, &event.region);
    let rule_arn = rule_arn(&ctx, &rule.bus, &rule.name);
    // arn:aws:codepipeline:REGION:ACCOUNT:NAME
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let is_pipeline = parts.len() == 6 && parts[2] == "codepipeline";
    if is_pipeline && parts[4] != event.account {
        tracing::warn!(rule = %rule.name, target = arn, "a rule's target pipeline is in another account: EventBridge delivers there only through that account's bus");
        return;
    }
    if !is_pipeline {
        tracing::info!(rule = %rule.name, target = arn, "a rule matched; codepipeline-local delivers to pipeline targets only, so this target got nothing");
        return;
    }
    let target_ctx = Context::new(parts[4], parts[3]);
    let record = match pipeline(state, &target_ctx, parts[5]) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(rule = %rule.name, target = arn, error = %e, "a rule's target pipeline cannot be started");
            return;
        }
    };
    let request = StartRequest {
        trigger_type: "CloudWatchEvent",
        trigger_detail: Some(rule_arn),
        ..StartRequest::default()
    };
    match start_execution(state, &target_ctx, &record, request).await {
        Ok(id) => {
            tracing::info!(rule = %rule.name, pipeline = parts[5], execution = %id, "a rule started a pipeline")
        }
        Err(e) => {
            tracing::warn!(rule = %rule.name, target = arn, error = %e, "a rule's target pipeline cannot be started")
        }
    }
}
