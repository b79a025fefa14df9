//! The execution state machine of one pipeline: pure, no I/O, no clock of its own. Each call
//! gets `now`; running actions carry their own `due` time, so the driver only has to call
//! `tick` at `next_due()`, and after a restart the timers are simply read back from the state.
//!
//! Stage locking follows the execution mode: SUPERSEDED lets one execution into a stage at a
//! time and supersedes older executions waiting at the same stage; QUEUED lets the oldest
//! waiting one in; PARALLEL never waits. A disabled inbound transition holds everyone.
//!
//! This file moves executions through stages and actions; `requests` holds the events API
//! callers send, `jobs` the job-worker events, `locking` who may enter a stage.

mod conditions;
mod jobs;
mod locking;
mod requests;

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use super::variables;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::enums::{ConditionResult, ExecutionMode, ExecutionType};
use crate::services::codepipeline::domain::pipeline::{ActionDeclaration, PipelineDeclaration};

/// How long a manual approval waits for an answer before it fails.
pub const APPROVAL_TIMEOUT_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// What a starting action will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// Finish after `seconds` with `result`.
    After {
        seconds: f64,
        result: Box<ActionResult>,
    },
    /// Wait for `PutApprovalResult` (or expiry).
    Approval,
    /// Never finish by itself (fault injection "hang"; stop it to end it).
    Hang,
    /// Wait for a job worker: custom actions (`PollForJobs`) or third-party ones
    /// (`PollForThirdPartyJobs`, when `third_party`).
    Job { third_party: bool },
    /// A real provider does the work as a task the engine owns; its result comes back through
    /// [`Machine::task_finished`].
    Task,
}

/// What a job worker reported with `PutJobSuccessResult` or `PutJobFailureResult`.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Success {
        summary: Option<String>,
        external_execution_id: Option<String>,
        percent_complete: Option<i64>,
        output_variables: BTreeMap<String, String>,
        continuation_token: Option<String>,
        revision: Option<Revision>,
    },
    Failure {
        code: String,
        message: String,
        external_execution_id: Option<String>,
    },
}

fn job_not_found(job_id: &str) -> AwsError {
    AwsError::new(codes::JOB_NOT_FOUND, format!("Job {job_id} was not found"))
}

/// Everything a provider may look at when an action starts.
pub struct ActionStart<'a> {
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub action: &'a ActionDeclaration,
    pub resolved_configuration: &'a BTreeMap<String, String>,
    pub execution_id: &'a str,
    pub source_override: Option<&'a SourceRevisionOverride>,
    pub now: f64,
}

/// Decides the outcome of each action as it starts: the stub providers (and faults) in the
/// server, a script in unit tests.
pub trait ActionRunner {
    fn start(&mut self, start: &ActionStart) -> Start;

    /// A fault for a condition's rule, if one is injected; `None` lets the rule be evaluated.
    fn rule(
        &mut self,
        _pipeline: &str,
        _stage: &str,
        _rule: &str,
        _provider: &str,
    ) -> Option<crate::services::codepipeline::domain::execution::rule_eval::RuleOutcome> {
        None
    }
}

/// Declarations by version. Shared, so the engine can hand one to work it does after letting go
/// of the pipeline (encoding, events) without copying it.
pub type Declarations = BTreeMap<i64, std::sync::Arc<PipelineDeclaration>>;

/// One pipeline's executions and runtime, borrowed for one event.
pub struct Machine<'a> {
    pub runtime: &'a mut PipelineRuntime,
    /// Unfinished executions (plus any just finished by this call), oldest first.
    pub executions: &'a mut Vec<Execution>,
    /// Declarations by version, for every version an execution here runs.
    pub declarations: &'a Declarations,
    pub runner: &'a mut dyn ActionRunner,
    pub new_id: &'a mut dyn FnMut() -> String,
    pub now: f64,
    /// Ids of executions this call changed: the driver persists exactly these.
    pub changed: BTreeSet<String>,
    /// `(stage, target execution)` rollbacks that ROLLBACK results asked for; the driver
    /// starts them (it can load the target execution, which may have finished long ago).
    pub rollback_requests: Vec<(String, String)>,
}

fn stage_not_found(stage: &str) -> AwsError {
    AwsError::new(
        codes::STAGE_NOT_FOUND,
        format!("Stage '{stage}' was not found in the pipeline"),
    )
}

impl<'a> Machine<'a> {
    pub fn new(
        runtime: &'a mut PipelineRuntime,
        executions: &'a mut Vec<Execution>,
        declarations: &'a Declarations,
        runner: &'a mut dyn ActionRunner,
        new_id: &'a mut dyn FnMut() -> String,
        now: f64,
    ) -> Self {
        Machine {
            runtime,
            executions,
            declarations,
            runner,
            new_id,
            now,
            changed: BTreeSet::new(),
            rollback_requests: Vec::new(),
        }
    }

    /// Starts a new execution of `version` and runs it as far as it goes now.
    pub fn start(
        &mut self,
        version: i64,
        trigger: Trigger,
        variables: BTreeMap<String, String>,
        source_overrides: Vec<SourceRevisionOverride>,
    ) -> Result<String, AwsError> {
        let decl = self.declarations.get(&version).ok_or_else(|| {
            AwsError::internal(format!("pipeline version {version} is not loaded"))
        })?;
        self.runtime.last_seq += 1;
        let id = (self.new_id)();
        let execution = Execution {
            format_version: crate::store::FORMAT_VERSION,
            id: id.clone(),
            seq: self.runtime.last_seq,
            pipeline_name: decl.name.clone(),
            pipeline_version: version,
            status: ExecStatus::InProgress,
            status_summary: None,
            trigger,
            execution_mode: decl
                .execution_mode
                .clone()
                .unwrap_or_else(|| ExecutionMode::Superseded.as_str().to_owned()),
            variables,
            source_overrides,
            start_time: self.now,
            last_update: self.now,
            position: Position::Waiting(0),
            stop: None,
            stages: decl.stages.iter().map(StageRun::fresh).collect(),
            namespaces: BTreeMap::new(),
            artifacts: BTreeMap::new(),
            revisions: BTreeMap::new(),
            execution_type: ExecutionType::Standard.as_str().to_owned(),
            rollback_target: None,
            only_stage: None,
            cancelled_by_update: false,
            retries: 0,
        };
        self.executions.push(execution);
        self.changed.insert(id.clone());
        self.advance();
        Ok(id)
    }

    /// The pipeline's definition is now `version`. As in AWS, an execution of an older version
    /// lets its running actions finish and then ends `Cancelled` with the stage it is in; one
    /// waiting between stages ends at once. None carries on into either definition.
    pub fn pipeline_updated(&mut self, version: i64) {
        for exec in self.executions.iter_mut() {
            if exec.status.is_finished() || exec.pipeline_version >= version {
                continue;
            }
            exec.cancelled_by_update = true;
            self.changed.insert(exec.id.clone());
        }
        self.advance();
    }

    /// Applies whatever time has made due.
    pub fn tick(&mut self) {
        self.advance();
    }

    /// The earliest time at which something happens by itself.
    pub fn next_due(&self) -> Option<f64> {
        self.executions
            .iter()
            .filter(|e| !e.status.is_finished())
            .flat_map(|e| e.stages.iter().flat_map(|s| &s.actions))
            .filter(|a| a.status == Some(ActionStatus::InProgress))
            .flat_map(|a| [a.due, a.expires])
            .flatten()
            .min_by(f64::total_cmp)
    }

    /// Runs every execution as far as it can go at `now`.
    fn advance(&mut self) {
        // Each pass either changes something or ends the loop; the bound guards against a bug looping.
        for _ in 0..10_000 {
            let mut progressed = false;
            for i in 0..self.executions.len() {
                progressed |= self.step(i);
            }
            progressed |= self.supersede_waiting();
            progressed |= self.enter_stages();
            if !progressed {
                break;
            }
        }
        self.sync_changed();
    }

    /// Brings `runtime`'s latest-stage and latest-action views up to date with every
    /// execution this call changed.
    fn sync_changed(&mut self) {
        let ids: Vec<String> = self.changed.iter().cloned().collect();
        for id in ids {
            self.sync_latest_of(&id);
        }
    }

    fn declaration(&self, version: i64) -> Option<&'a PipelineDeclaration> {
        self.declarations.get(&version).map(|d| &**d)
    }

    /// Moves execution `i` along within its current stage. Returns whether anything changed.
    fn step(&mut self, i: usize) -> bool {
        let now = self.now;
        let exec = &self.executions[i];
        if exec.status.is_finished() {
            return false;
        }
        let id = exec.id.clone();
        let s = match exec.position {
            Position::Done => return false,
            Position::Waiting(_) => {
                let ended = if exec.stop.is_some() {
                    ExecStatus::Stopped
                } else if exec.cancelled_by_update {
                    ExecStatus::Cancelled
                } else {
                    return false;
                };
                let exec = &mut self.executions[i];
                exec.status = ended;
                exec.position = Position::Done;
                exec.last_update = now;
                self.changed.insert(id);
                return true;
            }
            Position::Running(s) => s,
        };
        // beforeEntry conditions gate the stage's actions.
        let (gate, checked) = self.check_conditions(i, s, ConditionKind::BeforeEntry);
        match gate {
            conditions::Gate::Wait if self.executions[i].stop.is_some() => {
                self.finish_stage(i, s, StageStatus::Stopped, ExecStatus::Stopped);
                return true;
            }
            conditions::Gate::Wait if self.executions[i].cancelled_by_update => {
                self.finish_stage(i, s, StageStatus::Cancelled, ExecStatus::Cancelled);
                return true;
            }
            conditions::Gate::Wait => return checked,
            conditions::Gate::Fail { result, message } => {
                if result == ConditionResult::Skip {
                    self.skip_stage(i, s);
                } else {
                    self.fail_stage(i, s, message);
                }
                return true;
            }
            conditions::Gate::Pass => {}
        }
        let mut progressed = checked;
        let exec = &self.executions[i];
        // Finish what is due.
        let due: Vec<usize> = exec.stages[s]
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.status == Some(ActionStatus::InProgress))
            .filter(|(_, a)| a.due.is_some_and(|d| d <= now) || a.expires.is_some_and(|d| d <= now))
            .map(|(k, _)| k)
            .collect();
        for k in due {
            let run = &mut self.executions[i].stages[s].actions[k];
            let result = match run.pending.take() {
                Some(r) if run.due.is_some_and(|d| d <= now) => r,
                _ => ActionResult {
                    error: Some(ErrorDetails {
                        code: "ApprovalTimeout".to_owned(),
                        message: "The approval request expired after 7 days without a response"
                            .to_owned(),
                    }),
                    ..ActionResult::default()
                },
            };
            self.finish_action(i, s, k, result);
            progressed = true;
        }
        let exec = &self.executions[i];
        let actions = &exec.stages[s].actions;
        let running = actions
            .iter()
            .any(|a| a.status == Some(ActionStatus::InProgress));
        let failed = actions.iter().any(|a| {
            matches!(
                a.status,
                Some(ActionStatus::Failed | ActionStatus::Abandoned)
            )
        });
        if running {
            return progressed;
        }
        if exec.stop.is_some() {
            self.finish_stage(i, s, StageStatus::Stopped, ExecStatus::Stopped);
            return true;
        }
        if exec.cancelled_by_update {
            self.finish_stage(i, s, StageStatus::Cancelled, ExecStatus::Cancelled);
            return true;
        }
        if failed {
            return self.on_failure(i, s) || progressed;
        }
        let next_order = actions
            .iter()
            .filter(|a| a.status.is_none())
            .map(|a| a.run_order)
            .min();
        match next_order {
            Some(order) => {
                let to_start: Vec<usize> = actions
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.status.is_none() && a.run_order == order)
                    .map(|(k, _)| k)
                    .collect();
                for k in to_start {
                    self.start_action(i, s, k);
                }
            }
            None => {
                let (gate, checked) = self.check_conditions(i, s, ConditionKind::OnSuccess);
                match gate {
                    conditions::Gate::Wait => return checked || progressed,
                    conditions::Gate::Fail { result, message } => {
                        self.fail_stage(i, s, message);
                        if result == ConditionResult::Rollback {
                            self.request_rollback(i, s);
                        }
                        return true;
                    }
                    conditions::Gate::Pass => {}
                }
                let exec = &self.executions[i];
                let last = s + 1 == exec.stages.len() || exec.only_stage == Some(s);
                let artifacts_of = exec
                    .rollback_target
                    .clone()
                    .unwrap_or_else(|| exec.id.clone());
                self.runtime
                    .deployed
                    .insert(exec.stages[s].name.clone(), artifacts_of);
                self.set_stage_status(i, s, StageStatus::Succeeded);
                let exec = &mut self.executions[i];
                exec.last_update = now;
                if last {
                    exec.status = ExecStatus::Succeeded;
                    exec.position = Position::Done;
                } else {
                    exec.position = Position::Waiting(s + 1);
                }
                self.changed.insert(id);
            }
        }
        true
    }

    fn finish_stage(
        &mut self,
        i: usize,
        s: usize,
        stage_status: StageStatus,
        exec_status: ExecStatus,
    ) {
        self.set_stage_status(i, s, stage_status);
        let now = self.now;
        let exec = &mut self.executions[i];
        exec.status = exec_status;
        exec.position = Position::Done;
        exec.last_update = now;
        if exec_status == ExecStatus::Failed {
            let first_error = exec.stages[s]
                .actions
                .iter()
                .find_map(|a| a.result.as_ref().and_then(|r| r.error.as_ref()))
                .map(|e| e.message.clone());
            exec.status_summary = first_error;
        }
        if exec_status == ExecStatus::Stopped {
            exec.status_summary = exec.stop.as_ref().and_then(|s| s.reason.clone());
        }
        let id = exec.id.clone();
        self.changed.insert(id);
    }

    fn set_stage_status(&mut self, i: usize, s: usize, status: StageStatus) {
        let exec = &mut self.executions[i];
        exec.stages[s].status = Some(status);
        let name = exec.stages[s].name.clone();
        let id = exec.id.clone();
        if let Some(latest) = self.runtime.stage_latest.get_mut(&name) {
            if latest.0 == id {
                latest.1 = status;
            }
        }
    }

    /// Keeps `runtime`'s latest-stage and latest-action views of this execution current.
    fn sync_latest_of(&mut self, execution_id: &str) {
        let Some(exec) = self.executions.iter().find(|e| e.id == execution_id) else {
            return;
        };
        for stage in &exec.stages {
            let Some(status) = stage.status else { continue };
            if let Some(latest) = self.runtime.stage_latest.get_mut(&stage.name) {
                if latest.0 == execution_id {
                    latest.1 = status;
                }
            }
            for run in stage.actions.iter().filter(|a| a.status.is_some()) {
                let key = format!("{}/{}", stage.name, run.name);
                if let Some(latest) = self.runtime.action_latest.get_mut(&key) {
                    if latest.pipeline_execution_id == execution_id {
                        latest.run = run.latest_copy();
                    }
                }
            }
        }
    }

    fn record_latest_action(&mut self, i: usize, s: usize, k: usize) {
        let exec = &self.executions[i];
        let full = &exec.stages[s].actions[k];
        let key = format!("{}/{}", exec.stages[s].name, full.name);
        let previous_revision = self
            .runtime
            .action_latest
            .get(&key)
            .and_then(|l| l.current_revision.clone());
        let revision = match (
            &full.status,
            full.result.as_ref().and_then(|r| r.revision.clone()),
        ) {
            (Some(ActionStatus::Succeeded), Some(r)) => Some(r),
            _ => previous_revision,
        };
        self.runtime.action_latest.insert(
            key,
            LatestAction {
                pipeline_execution_id: exec.id.clone(),
                run: full.latest_copy(),
                current_revision: revision,
            },
        );
    }

    fn start_action(&mut self, i: usize, s: usize, k: usize) {
        let now = self.now;
        let exec = &self.executions[i];
        let Some(decl) = self.declaration(exec.pipeline_version) else {
            return;
        };
        let Some(action) = decl.stages.get(s).and_then(|st| {
            st.actions
                .iter()
                .find(|a| a.name == exec.stages[s].actions[k].name)
        }) else {
            return;
        };
        let lookup = variables::Scope {
            execution_id: &exec.id,
            pipeline_variables: &exec.variables,
            namespaces: &exec.namespaces,
        };
        let mut resolved = BTreeMap::new();
        let mut resolve_error = None;
        for (key, value) in action.configuration.iter().flatten() {
            match variables::resolve(value, &lookup) {
                Ok(v) => {
                    resolved.insert(key.clone(), v);
                }
                Err(e) => resolve_error = Some(e),
            }
        }
        let bucket = decl
            .artifact_store
            .as_ref()
            .map(|a| a.location.clone())
            .or_else(|| {
                decl.artifact_stores
                    .as_ref()
                    .and_then(|m| m.values().next().map(|a| a.location.clone()))
            })
            .unwrap_or_default();
        let inputs: Vec<ArtifactLocation> = action
            .inputs()
            .iter()
            .filter_map(|a| exec.artifacts.get(&a.name).cloned())
            .collect();
        let prefix: String = decl.name.chars().take(20).collect();
        let outputs: Vec<ArtifactLocation> = action
            .outputs()
            .iter()
            .map(|o| {
                let short: String = o.name.chars().take(10).collect();
                let random: String = (self.new_id)()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(7)
                    .collect();
                ArtifactLocation {
                    name: o.name.clone(),
                    bucket: bucket.clone(),
                    key: format!("{prefix}/{short}/{random}"),
                }
            })
            .collect();
        let override_ = exec
            .source_overrides
            .iter()
            .find(|o| o.action_name == action.name);
        let start = match &resolve_error {
            Some(message) => Start::After {
                seconds: 0.0,
                result: Box::new(ActionResult {
                    error: Some(ErrorDetails {
                        code: "ConfigurationError".to_owned(),
                        message: message.clone(),
                    }),
                    ..ActionResult::default()
                }),
            },
            None => self.runner.start(&ActionStart {
                pipeline: &decl.name,
                stage: &decl.stages[s].name,
                action,
                resolved_configuration: &resolved,
                execution_id: &exec.id,
                source_override: override_,
                now,
            }),
        };
        let action_execution_id = (self.new_id)();
        let token = matches!(start, Start::Approval).then(|| (self.new_id)());
        let job = match start {
            Start::Job { third_party } => Some(Job {
                id: (self.new_id)(),
                nonce: (self.new_id)(),
                status: JobStatus::Queued,
                continuation_token: None,
                client_id: third_party.then(|| (self.new_id)()),
            }),
            _ => None,
        };
        let exec = &mut self.executions[i];
        let run = &mut exec.stages[s].actions[k];
        run.status = Some(ActionStatus::InProgress);
        run.action_execution_id = Some(action_execution_id);
        run.start_time = Some(now);
        run.last_update = Some(now);
        run.resolved_configuration = resolved;
        run.input_artifacts = inputs;
        run.output_artifacts = outputs;
        run.result = None;
        run.job = job;
        run.progress = None;
        run.percent_complete = None;
        run.task = false;
        match start {
            Start::After { seconds, result } => {
                run.due = Some(now + seconds.max(0.0));
                run.pending = Some(*result);
            }
            Start::Approval => {
                run.token = token;
                run.expires = Some(now + APPROVAL_TIMEOUT_SECS);
            }
            Start::Task => run.task = true,
            Start::Hang | Start::Job { .. } => {}
        }
        exec.last_update = now;
        let id = exec.id.clone();
        self.changed.insert(id);
        self.record_latest_action(i, s, k);
    }

    fn finish_action(&mut self, i: usize, s: usize, k: usize, result: ActionResult) {
        let now = self.now;
        let exec = &mut self.executions[i];
        let namespace = self
            .declarations
            .get(&exec.pipeline_version)
            .and_then(|d| d.stages.get(s))
            .and_then(|st| {
                st.actions
                    .iter()
                    .find(|a| a.name == exec.stages[s].actions[k].name)
            })
            .and_then(|a| a.namespace.clone());
        let run = &mut exec.stages[s].actions[k];
        run.due = None;
        run.expires = None;
        run.last_update = Some(now);
        let succeeded = result.error.is_none();
        run.status = Some(if succeeded {
            ActionStatus::Succeeded
        } else {
            ActionStatus::Failed
        });
        if succeeded {
            if let Some(ns) = namespace {
                exec.namespaces.insert(ns, result.output_variables.clone());
            }
            for artifact in &run.output_artifacts {
                exec.artifacts
                    .insert(artifact.name.clone(), artifact.clone());
            }
            if let Some(revision) = &result.revision {
                exec.revisions.insert(run.name.clone(), revision.clone());
            }
        }
        run.result = Some(result);
        exec.last_update = now;
        let id = exec.id.clone();
        self.changed.insert(id);
        self.record_latest_action(i, s, k);
    }
}
