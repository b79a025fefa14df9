//! Schedules: every enabled `rate(...)` rule fires on the engine's clock (an engine `Timer`, so
//! `/_local/clock` advances schedules as it advances executions). A rule first fires one
//! period after this process first sees it, then every period; when the clock jumps past
//! several periods it fires once, not once per missed period. Firing delivers EventBridge's
//! `Scheduled Event` (source `aws.events`, the rule's ARN as resource) to the rule's targets.
//! `cron(...)` rules are kept but do not fire yet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use serde_json::json;

use super::delivery::deliver;
use super::records::{self, RuleRecord};
use super::rules::rule_arn;
use super::schedule::Schedule;
use crate::call::Context;
use crate::services::bus::Event;
use crate::services::codepipeline::engine::Timer;
use crate::state::AppState;
use crate::store::decode;

struct Due {
    account: String,
    region: String,
    rule: RuleRecord,
    period: f64,
    next: f64,
}

#[derive(Default)]
struct Known {
    generation: Option<u64>,
    /// By `account/region/bus/name`, so a reload keeps when each rule is next due.
    rules: HashMap<String, Due>,
}

pub struct Scheduler {
    state: Weak<AppState>,
    known: Mutex<Known>,
}

impl Scheduler {
    pub fn new(state: Weak<AppState>) -> Self {
        Scheduler {
            state,
            known: Mutex::new(Known::default()),
        }
    }

    /// The enabled rate rules, read again when a rule was written.
    fn refresh(&self, known: &mut Known, now: f64) {
        let generation = records::generation();
        if known.generation == Some(generation) {
            return;
        }
        let Some(state) = self.state.upgrade() else {
            return;
        };
        let rows = state
            .store
            .scan("ev-rule/", None, usize::MAX)
            .unwrap_or_default();
        let mut fresh = HashMap::new();
        for (key, bytes) in rows {
            let Ok(rule) = decode::<RuleRecord>(&bytes) else {
                continue;
            };
            let period = match rule.schedule_expression.as_deref().map(Schedule::parse) {
                Some(Ok(Schedule::Rate(d))) if rule.enabled() => d.as_secs_f64(),
                _ => continue,
            };
            // Keys are `ev-rule/ACCOUNT/REGION/BUS/NAME`.
            let mut parts = key.splitn(5, '/').skip(1);
            let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
                continue;
            };
            let next = known
                .rules
                .get(&key)
                .filter(|d| d.period == period)
                .map_or(now + period, |d| d.next);
            fresh.insert(
                key.clone(),
                Due {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    rule,
                    period,
                    next,
                },
            );
        }
        known.rules = fresh;
        known.generation = Some(generation);
    }
}

impl Timer for Scheduler {
    fn next_due(&self, now: f64) -> Option<f64> {
        let mut known = self.known.lock().ok()?;
        self.refresh(&mut known, now);
        known.rules.values().map(|d| d.next).min_by(f64::total_cmp)
    }

    fn fire(&self, now: f64) {
        let Some(state) = self.state.upgrade() else {
            return;
        };
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        for due in known.rules.values_mut().filter(|d| d.next <= now) {
            due.next = now + due.period;
            let ctx = Context::new(&due.account, &due.region);
            let event = Event::new(
                "aws.events",
                "Scheduled Event",
                &due.account,
                &due.region,
                vec![rule_arn(&ctx, &due.rule.bus, &due.rule.name)],
                json!({}),
                now,
            );
            let (state, rule) = (state.clone(), due.rule.clone());
            tokio::spawn(async move {
                for target in &rule.targets {
                    deliver(&state, &event, &rule, target).await;
                }
            });
        }
    }
}

/// Starts firing schedules from the engine's timer loop.
pub fn start(state: &Arc<AppState>) {
    state
        .engine
        .add_timer(Arc::new(Scheduler::new(Arc::downgrade(state))));
}
