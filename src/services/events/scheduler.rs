//! Schedules: every enabled `rate(...)` or `cron(...)` rule fires on the engine's clock (an
//! engine `Timer`, so `/_local/clock` advances schedules as it advances executions). A rate
//! rule first fires one period after this process first sees it, a cron rule at its next
//! time; when the clock jumps past several times, a rule fires once, not once per missed time.
//! Firing delivers EventBridge's `Scheduled Event` (source `aws.events`, the rule's ARN as
//! resource) to the rule's targets.

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
    schedule: Schedule,
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
            let schedule = match rule.schedule_expression.as_deref().map(Schedule::parse) {
                Some(Ok(s)) if rule.enabled() => s,
                _ => continue,
            };
            // Keys are `ev-rule/ACCOUNT/REGION/BUS/NAME`.
            let mut parts = key.splitn(5, '/').skip(1);
            let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
                continue;
            };
            let kept = known
                .rules
                .get(&key)
                .filter(|d| d.schedule == schedule)
                .map(|d| d.next);
            let Some(next) = kept.or_else(|| schedule.next_after(now)) else {
                continue;
            };
            fresh.insert(
                key.clone(),
                Due {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    rule,
                    schedule,
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
        known
            .rules
            .values()
            .map(|d| d.next)
            .filter(|n| n.is_finite())
            .min_by(f64::total_cmp)
    }

    fn fire(&self, now: f64) {
        let Some(state) = self.state.upgrade() else {
            return;
        };
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        for due in known.rules.values_mut().filter(|d| d.next <= now) {
            // A schedule past its last time (a cron's years) is not due again.
            due.next = due.schedule.next_after(now).unwrap_or(f64::INFINITY);
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
