//! Stage conditions (V2): `beforeEntry` gates a stage's actions, `onSuccess` checks a stage
//! that succeeded, `onFailure` decides what a failed stage does (ROLLBACK, RETRY, FAIL, SKIP).
//! Each condition's rules are checked once per stage run and recorded; a rule that hangs keeps
//! its condition in progress until `OverrideStageCondition`.

use serde_json::Value;

use super::*;
use crate::services::codepipeline::domain::enums::StageRetryMode;
use crate::services::codepipeline::domain::execution::rule_eval::{self, RuleOutcome};

/// What a stage's conditions of one kind allow.
pub(super) enum Gate {
    Pass,
    Wait,
    /// A condition failed: its declared result and the first failing rule's message.
    Fail {
        result: ConditionResult,
        message: String,
    },
}

fn kind_key(kind: ConditionKind) -> &'static str {
    match kind {
        ConditionKind::BeforeEntry => "beforeEntry",
        ConditionKind::OnSuccess => "onSuccess",
        ConditionKind::OnFailure => "onFailure",
    }
}

impl Machine<'_> {
    /// The declared `beforeEntry`/`onSuccess`/`onFailure` block of stage `s` of execution `i`.
    pub(super) fn condition_block(&self, i: usize, s: usize, kind: ConditionKind) -> Option<Value> {
        let e = &self.executions[i];
        let stage = self.declarations.get(&e.pipeline_version)?.stages.get(s)?;
        let block = match kind {
            ConditionKind::BeforeEntry => &stage.before_entry,
            ConditionKind::OnSuccess => &stage.on_success,
            ConditionKind::OnFailure => &stage.on_failure,
        };
        block.clone()
    }

    fn declared_conditions(&self, i: usize, s: usize, kind: ConditionKind) -> Vec<Value> {
        self.condition_block(i, s, kind)
            .and_then(|b| b.get("conditions").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }

    /// Checks (once) and reports the conditions of `kind` for stage `s` of execution `i`, and
    /// whether this call changed anything.
    pub(super) fn check_conditions(
        &mut self,
        i: usize,
        s: usize,
        kind: ConditionKind,
    ) -> (Gate, bool) {
        let declared = self.declared_conditions(i, s, kind);
        if declared.is_empty() {
            return (Gate::Pass, false);
        }
        let already = self.executions[i].stages[s]
            .conditions
            .iter()
            .any(|c| c.kind == kind);
        let mut changed = false;
        if !already {
            let runs: Vec<ConditionRun> = declared
                .iter()
                .map(|c| self.run_condition(i, s, kind, c))
                .collect();
            self.executions[i].stages[s].conditions.extend(runs);
            let id = self.executions[i].id.clone();
            self.changed.insert(id);
            changed = true;
        }
        (self.gate(i, s, kind, &declared), changed)
    }

    fn gate(&self, i: usize, s: usize, kind: ConditionKind, declared: &[Value]) -> Gate {
        let runs: Vec<&ConditionRun> = self.executions[i].stages[s]
            .conditions
            .iter()
            .filter(|c| c.kind == kind)
            .collect();
        if runs.iter().any(|c| c.status == ConditionStatus::InProgress) {
            return Gate::Wait;
        }
        for (c, run) in runs.iter().enumerate() {
            if run.status == ConditionStatus::Failed {
                let result = ConditionResult::of(
                    declared
                        .get(c)
                        .and_then(|d| d.get("result"))
                        .and_then(Value::as_str),
                );
                let message = run
                    .summary
                    .clone()
                    .unwrap_or_else(|| format!("A {} condition failed", kind_key(kind)));
                return Gate::Fail { result, message };
            }
        }
        Gate::Pass
    }

    fn run_condition(
        &mut self,
        i: usize,
        s: usize,
        kind: ConditionKind,
        declared: &Value,
    ) -> ConditionRun {
        let now = self.now;
        let e = &self.executions[i];
        let (pipeline, stage) = (e.pipeline_name.clone(), e.stages[s].name.clone());
        let scope_values = (e.id.clone(), e.variables.clone(), e.namespaces.clone());
        let mut rules = Vec::new();
        for rule in declared
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = rule
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let provider = rule
                .pointer("/ruleTypeId/provider")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let scope = variables::Scope {
                execution_id: &scope_values.0,
                pipeline_variables: &scope_values.1,
                namespaces: &scope_values.2,
            };
            let mut resolved = BTreeMap::new();
            let mut unresolved = None;
            for (k, v) in rule
                .get("configuration")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                match variables::resolve(v.as_str().unwrap_or_default(), &scope) {
                    Ok(r) => {
                        resolved.insert(k.clone(), r);
                    }
                    Err(msg) => unresolved = Some(msg),
                }
            }
            let outcome = match unresolved {
                Some(msg) => RuleOutcome::Fail(msg),
                None => self
                    .runner
                    .rule(&pipeline, &stage, &name, &provider)
                    .unwrap_or_else(|| rule_eval::evaluate(&provider, &resolved, now)),
            };
            let (status, summary, error) = match outcome {
                RuleOutcome::Pass(m) => (ActionStatus::Succeeded, Some(m), None),
                RuleOutcome::Fail(m) => (
                    ActionStatus::Failed,
                    Some(m.clone()),
                    Some(ErrorDetails {
                        code: "RuleFailed".to_owned(),
                        message: m,
                    }),
                ),
                RuleOutcome::Hang => (ActionStatus::InProgress, None, None),
            };
            rules.push(RuleRun {
                name,
                rule_execution_id: (self.new_id)(),
                status,
                start_time: now,
                last_update: now,
                summary,
                error,
                resolved_configuration: resolved,
            });
        }
        let status = if rules.iter().any(|r| r.status == ActionStatus::InProgress) {
            ConditionStatus::InProgress
        } else if rules.iter().any(|r| r.status == ActionStatus::Failed) {
            ConditionStatus::Failed
        } else {
            ConditionStatus::Succeeded
        };
        let summary = rules
            .iter()
            .find(|r| r.status == ActionStatus::Failed)
            .and_then(|r| r.summary.clone());
        ConditionRun {
            kind,
            status,
            summary,
            last_change: now,
            rules,
        }
    }

    /// The stage and its execution fail with `message` as the execution's summary.
    pub(super) fn fail_stage(&mut self, i: usize, s: usize, message: String) {
        self.finish_stage(i, s, StageStatus::Failed, ExecStatus::Failed);
        self.executions[i].status_summary = Some(message);
    }

    /// A stage whose actions failed: `onFailure` decides (its conditions, when it has any, must
    /// pass for its result to apply). Without `onFailure` the stage and execution fail.
    pub(super) fn on_failure(&mut self, i: usize, s: usize) -> bool {
        let Some(block) = self.condition_block(i, s, ConditionKind::OnFailure) else {
            self.finish_stage(i, s, StageStatus::Failed, ExecStatus::Failed);
            return true;
        };
        let mut result = ConditionResult::of(block.get("result").and_then(Value::as_str));
        let (gate, checked) = self.check_conditions(i, s, ConditionKind::OnFailure);
        match gate {
            Gate::Wait => return checked,
            Gate::Fail { .. } => result = ConditionResult::Fail,
            Gate::Pass => {}
        }
        match result {
            ConditionResult::Retry if self.executions[i].stages[s].auto_retries == 0 => {
                let all = block
                    .pointer("/retryConfiguration/retryMode")
                    .and_then(Value::as_str)
                    .and_then(StageRetryMode::parse)
                    == Some(StageRetryMode::AllActions);
                let stage_run = &mut self.executions[i].stages[s];
                stage_run.auto_retries += 1;
                for a in stage_run.actions.iter_mut() {
                    let rerun = all
                        || matches!(
                            a.status,
                            Some(ActionStatus::Failed | ActionStatus::Abandoned)
                        );
                    if rerun && a.status.is_some() {
                        stage_run.history.push(a.clone());
                        *a = ActionRun::new(&a.name, a.run_order);
                    }
                }
                let id = self.executions[i].id.clone();
                self.changed.insert(id);
            }
            ConditionResult::Skip => self.skip_stage(i, s),
            ConditionResult::Rollback => {
                self.finish_stage(i, s, StageStatus::Failed, ExecStatus::Failed);
                self.request_rollback(i, s);
            }
            _ => self.finish_stage(i, s, StageStatus::Failed, ExecStatus::Failed),
        }
        true
    }

    /// A SKIP result: the stage is skipped and the execution moves on.
    pub(super) fn skip_stage(&mut self, i: usize, s: usize) {
        self.set_stage_status(i, s, StageStatus::Skipped);
        let now = self.now;
        let exec = &mut self.executions[i];
        exec.last_update = now;
        if s + 1 == exec.stages.len() || exec.only_stage == Some(s) {
            exec.status = ExecStatus::Succeeded;
            exec.position = Position::Done;
        } else {
            exec.position = Position::Waiting(s + 1);
        }
        let id = exec.id.clone();
        self.changed.insert(id);
    }

    /// A ROLLBACK result: ask the driver to roll the stage back to what it last deployed.
    pub(super) fn request_rollback(&mut self, i: usize, s: usize) {
        let exec = &self.executions[i];
        let stage = exec.stages[s].name.clone();
        if let Some(target) = self.runtime.deployed.get(&stage).filter(|t| **t != exec.id) {
            self.rollback_requests.push((stage, target.clone()));
        }
    }

    /// `OverrideStageCondition`: a condition still in progress stops waiting and passes.
    pub fn override_condition(
        &mut self,
        stage: &str,
        execution_id: &str,
        kind: ConditionKind,
    ) -> Result<(), AwsError> {
        if self
            .runtime
            .stage_latest
            .get(stage)
            .map(|(id, _)| id.as_str())
            != Some(execution_id)
        {
            return Err(AwsError::new(
                codes::NOT_LATEST_PIPELINE_EXECUTION,
                format!("Pipeline execution {execution_id} is not the latest execution of stage {stage}"),
            ));
        }
        let now = self.now;
        let not_overridable = || {
            AwsError::new(
                codes::CONDITION_NOT_OVERRIDABLE,
                format!(
                    "No {} condition of stage {stage} is in progress for execution {execution_id}",
                    kind_key(kind)
                ),
            )
        };
        let exec = self
            .executions
            .iter_mut()
            .find(|e| e.id == execution_id)
            .ok_or_else(not_overridable)?;
        let run = exec
            .stages
            .iter_mut()
            .find(|s| s.name == stage)
            .ok_or_else(not_overridable)?;
        let mut overridden = false;
        for c in run
            .conditions
            .iter_mut()
            .filter(|c| c.kind == kind && c.status == ConditionStatus::InProgress)
        {
            c.status = ConditionStatus::Overridden;
            c.last_change = now;
            for r in c
                .rules
                .iter_mut()
                .filter(|r| r.status == ActionStatus::InProgress)
            {
                r.status = ActionStatus::Abandoned;
                r.last_update = now;
            }
            overridden = true;
        }
        if !overridden {
            return Err(not_overridable());
        }
        self.changed.insert(execution_id.to_owned());
        self.advance();
        Ok(())
    }
}
