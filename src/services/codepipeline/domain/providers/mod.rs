//! Stub providers for AWS-owned action types: each picks what the real provider would report
//! (external execution id in the provider's own format, console URL, summary, output variables,
//! source revisions). Faults and durations come from the control plane (`Settings`). An action
//! whose provider is real here (what it names exists on this endpoint) is handed to the
//! engine's task instead (`Start::Task`; the real providers are `codepipeline::providers`).

mod faults;
mod outputs;

pub use faults::{Fault, FaultKind, Selector};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::execution::machine::{ActionRunner, ActionStart, Start};
use super::execution::model::{ActionResult, ErrorDetails};
use super::execution::rule_eval::RuleOutcome;

/// Durations and faults, changed at run time through `/_local/config` and `/_local/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Seconds every stub action runs, unless its provider has its own entry.
    pub default_duration: f64,
    /// Seconds by provider name (`CodeBuild`, `S3`, ...).
    #[serde(default)]
    pub provider_durations: BTreeMap<String, f64>,
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl Settings {
    pub fn with_default_duration(seconds: f64) -> Self {
        Settings {
            default_duration: seconds,
            ..Default::default()
        }
    }

    fn duration(&self, provider: &str) -> f64 {
        self.provider_durations
            .get(provider)
            .copied()
            .unwrap_or(self.default_duration)
    }
}

/// The server's [`ActionRunner`]: faults first, then a real provider when `is_real` says the
/// action has one, else the provider's stub.
pub struct StubRunner<'a> {
    pub settings: &'a mut Settings,
    pub account: &'a str,
    pub region: &'a str,
    pub is_real: &'a dyn Fn(&ActionStart) -> bool,
}

impl ActionRunner for StubRunner<'_> {
    fn rule(
        &mut self,
        pipeline: &str,
        stage: &str,
        rule: &str,
        provider: &str,
    ) -> Option<RuleOutcome> {
        faults::take_for(&mut self.settings.faults, pipeline, stage, rule, provider).map(|kind| {
            match kind {
                FaultKind::Hang => RuleOutcome::Hang,
                FaultKind::Fail { message } => RuleOutcome::Fail(message),
            }
        })
    }

    fn start(&mut self, s: &ActionStart) -> Start {
        let id = &s.action.action_type_id;
        if let Some(kind) = faults::take(&mut self.settings.faults, s) {
            return match kind {
                FaultKind::Hang => Start::Hang,
                FaultKind::Fail { message } => Start::After {
                    seconds: self.settings.duration(&id.provider),
                    result: Box::new(ActionResult {
                        error: Some(ErrorDetails {
                            code: "JobFailed".to_owned(),
                            message,
                        }),
                        ..ActionResult::default()
                    }),
                },
            };
        }
        if id.category == "Approval" {
            return Start::Approval;
        }
        if id.owner == "Custom" {
            return Start::Job { third_party: false };
        }
        if id.owner == "ThirdParty" && id.provider != "GitHub" {
            return Start::Job { third_party: true };
        }
        if (self.is_real)(s) {
            return Start::Task;
        }
        let region = s.action.region.as_deref().unwrap_or(self.region);
        let seconds = self.settings.duration(&id.provider);
        let mut result = outputs::result(s, self.account, region);
        result.targets = outputs::deploy_targets(s, seconds);
        Start::After {
            seconds,
            result: Box::new(result),
        }
    }
}
