//! Execution records: what one pipeline execution, its stages and actions look like, and the
//! per-pipeline runtime (transitions, the latest execution per stage and action). These are
//! stored as they are and read back by the API; the state machine is the only writer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecStatus {
    Cancelled,
    InProgress,
    Stopped,
    Stopping,
    Succeeded,
    Superseded,
    Failed,
}

impl ExecStatus {
    pub fn is_finished(self) -> bool {
        !matches!(self, ExecStatus::InProgress | ExecStatus::Stopping)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageStatus {
    Cancelled,
    InProgress,
    Failed,
    Stopped,
    Stopping,
    Succeeded,
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionStatus {
    InProgress,
    Abandoned,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactLocation {
    pub name: String,
    pub bucket: String,
    pub key: String,
}

/// What a finished action reports (decided when it starts, applied when it is due).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_execution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_execution_url: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_variables: BTreeMap<String, String>,
    /// For source actions: the revision the output artifact holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
    /// `Some` fails the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetails>,
    /// Deploy actions: where they deployed (`ListDeployActionExecutionTargets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<DeployTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployTargetEvent {
    pub name: String,
    pub status: String,
    pub start_time: f64,
    pub end_time: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployTarget {
    pub target_id: String,
    pub target_type: String,
    pub status: String,
    pub start_time: f64,
    pub end_time: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<DeployTargetEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_identifier: Option<String>,
    pub created: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRun {
    pub name: String,
    pub run_order: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_execution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// When the running action finishes by itself (`None`: it waits for someone, or hangs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<f64>,
    /// The outcome applied at `due`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<ActionResult>,
    /// Manual approval: the token to answer with, and when the request expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ActionResult>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resolved_configuration: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_artifacts: Vec<ArtifactLocation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_artifacts: Vec<ArtifactLocation>,
    /// Custom and third-party actions: the job a worker does for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// What a worker reported so far (`executionDetails` of a result with a continuation token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ActionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<i64>,
    /// A real provider's task runs this action (the engine starts it again after a restart).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub task: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    Queued,
    Dispatched,
    InProgress,
    Succeeded,
    Failed,
}

/// A job handed to workers through `PollForJobs` (or `PollForThirdPartyJobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub nonce: String,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// Third-party jobs only: the client id workers see and must prove with `clientToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl ActionRun {
    /// What `GetPipelineState` and approvals need of the latest run, without what only the
    /// execution's own record needs (configuration, artifacts, variables, revisions, the job):
    /// the pipeline's runtime record, which every step rewrites, stays small.
    pub fn latest_copy(&self) -> Self {
        let slim = |r: &ActionResult| ActionResult {
            summary: r.summary.clone(),
            external_execution_id: r.external_execution_id.clone(),
            external_execution_url: r.external_execution_url.clone(),
            error: r.error.clone(),
            ..ActionResult::default()
        };
        ActionRun {
            name: self.name.clone(),
            run_order: self.run_order,
            status: self.status,
            action_execution_id: self.action_execution_id.clone(),
            start_time: self.start_time,
            last_update: self.last_update,
            updated_by: self.updated_by.clone(),
            token: self.token.clone(),
            expires: self.expires,
            result: self.result.as_ref().map(slim),
            progress: self.progress.as_ref().map(slim),
            percent_complete: self.percent_complete,
            ..ActionRun::new(&self.name, self.run_order)
        }
    }

    pub fn new(name: &str, run_order: i64) -> Self {
        ActionRun {
            name: name.to_owned(),
            run_order,
            status: None,
            action_execution_id: None,
            start_time: None,
            last_update: None,
            updated_by: None,
            due: None,
            pending: None,
            token: None,
            expires: None,
            result: None,
            resolved_configuration: BTreeMap::new(),
            input_artifacts: Vec::new(),
            output_artifacts: Vec::new(),
            job: None,
            progress: None,
            percent_complete: None,
            task: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageRun {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StageStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionRun>,
    /// Earlier attempts of actions that a retry ran again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ActionRun>,
    /// Stage conditions checked so far in this stage run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionRun>,
    /// How often an `onFailure` RETRY result retried this stage.
    #[serde(default)]
    pub auto_retries: u32,
    /// When `RetryStageExecution` last retried this stage (its events'
    /// `stage-last-retry-attempt-time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_retry: Option<f64>,
}

impl StageRun {
    /// A stage of a new execution: nothing has run yet.
    pub fn fresh(
        stage: &crate::services::codepipeline::domain::pipeline::StageDeclaration,
    ) -> Self {
        StageRun {
            name: stage.name.clone(),
            status: None,
            actions: stage
                .actions
                .iter()
                .map(|a| ActionRun::new(&a.name, a.run_order()))
                .collect(),
            history: Vec::new(),
            conditions: Vec::new(),
            auto_retries: 0,
            last_retry: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionKind {
    BeforeEntry,
    OnSuccess,
    OnFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionStatus {
    InProgress,
    Failed,
    Errored,
    Succeeded,
    Cancelled,
    Abandoned,
    Overridden,
}

/// One rule of a condition, as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRun {
    pub name: String,
    pub rule_execution_id: String,
    pub status: ActionStatus,
    pub start_time: f64,
    pub last_update: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetails>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resolved_configuration: BTreeMap<String, String>,
}

/// One condition of a stage (`beforeEntry`, `onSuccess` or `onFailure`), as it was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionRun {
    pub kind: ConditionKind,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub last_change: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleRun>,
}

/// Where an unfinished execution is: waiting to enter a stage, or running in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    Waiting(usize),
    Running(usize),
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub trigger_type: String,
    pub trigger_detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    pub abandon: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRevisionOverride {
    pub action_name: String,
    pub revision_type: String,
    pub revision_value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub format_version: u32,
    pub id: String,
    /// Start order within the pipeline: higher is newer.
    pub seq: u64,
    pub pipeline_name: String,
    pub pipeline_version: i64,
    pub status: ExecStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_summary: Option<String>,
    pub trigger: Trigger,
    pub execution_mode: String,
    /// Pipeline variables (`#{variables.x}`) as resolved at start.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_overrides: Vec<SourceRevisionOverride>,
    pub start_time: f64,
    pub last_update: f64,
    pub position: Position,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRun>,
    /// Output variables by action namespace.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Artifacts produced so far, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub artifacts: BTreeMap<String, ArtifactLocation>,
    /// Source revisions by source action name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revisions: BTreeMap<String, Revision>,
    /// `STANDARD`, or `ROLLBACK` for an execution `RollbackStage` started.
    #[serde(default = "standard")]
    pub execution_type: String,
    /// Rollbacks: the execution whose artifacts the stage runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_target: Option<String>,
    /// Rollbacks run one stage only: its index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_stage: Option<usize>,
    /// The pipeline was updated while this ran: its running actions finish, then it ends
    /// `Cancelled` without entering another stage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled_by_update: bool,
    /// How often `RetryStageExecution` has retried this execution: its events'
    /// `pipeline-execution-attempt` is one more.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn standard() -> String {
    super::super::enums::ExecutionType::Standard
        .as_str()
        .to_owned()
}

impl Execution {
    pub fn stage(&self, name: &str) -> Option<&StageRun> {
        self.stages.iter().find(|s| s.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitionState {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_changed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_changed_at: Option<f64>,
}

/// The latest action run of one action, as `GetPipelineState` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestAction {
    pub pipeline_execution_id: String,
    pub run: ActionRun,
    /// Source actions: the revision of the latest successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<Revision>,
}

/// Per-pipeline state that outlives executions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRuntime {
    pub format_version: u32,
    /// The `seq` of the last execution started.
    pub last_seq: u64,
    /// Inbound transition state by stage name; absent means enabled.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transitions: BTreeMap<String, TransitionState>,
    /// The execution that last entered each stage, and its stage status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_latest: BTreeMap<String, (String, StageStatus)>,
    /// Latest run of each action, keyed `STAGE/ACTION`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub action_latest: BTreeMap<String, LatestAction>,
    /// The execution whose artifacts each stage last succeeded with (a rollback's target for
    /// a rollback), so a rollback to what a stage already runs is refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deployed: BTreeMap<String, String>,
    /// `clientRequestToken` → execution id, for idempotent starts: the newest
    /// [`CLIENT_TOKENS_KEPT`] only, since SDKs send a new token with every call and this record
    /// is rewritten by every step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub client_tokens: BTreeMap<String, String>,
    /// The tokens of `client_tokens`, oldest first.
    #[serde(default, skip_serializing_if = "std::collections::VecDeque::is_empty")]
    pub client_token_order: std::collections::VecDeque<String>,
}

/// How many start tokens a pipeline remembers. A token guards against a retried call, which
/// comes within seconds, not after this many other starts.
pub const CLIENT_TOKENS_KEPT: usize = 100;

impl PipelineRuntime {
    /// Remembers that `token` started execution `id`, forgetting the oldest tokens beyond
    /// [`CLIENT_TOKENS_KEPT`].
    pub fn remember_client_token(&mut self, token: String, id: String) {
        if self.client_token_order.len() != self.client_tokens.len() {
            // Written before the order was kept: their age is unknown, so they go first.
            self.client_token_order = self.client_tokens.keys().cloned().collect();
        }
        if self.client_tokens.insert(token.clone(), id).is_none() {
            self.client_token_order.push_back(token);
        }
        while self.client_token_order.len() > CLIENT_TOKENS_KEPT {
            if let Some(oldest) = self.client_token_order.pop_front() {
                self.client_tokens.remove(&oldest);
            }
        }
    }

    pub fn transition_enabled(&self, stage: &str) -> bool {
        self.transitions.get(stage).is_none_or(|t| t.enabled)
    }
}
