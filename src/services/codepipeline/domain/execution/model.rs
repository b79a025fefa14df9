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
    pub summary: Option<String>,
    pub external_execution_id: Option<String>,
    pub external_execution_url: Option<String>,
    #[serde(default)]
    pub output_variables: BTreeMap<String, String>,
    /// For source actions: the revision the output artifact holds.
    pub revision: Option<Revision>,
    /// `Some` fails the action.
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
    pub events: Vec<DeployTargetEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision_id: String,
    pub revision_summary: Option<String>,
    pub revision_url: Option<String>,
    pub change_identifier: Option<String>,
    pub created: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRun {
    pub name: String,
    pub run_order: i64,
    pub status: Option<ActionStatus>,
    pub action_execution_id: Option<String>,
    pub start_time: Option<f64>,
    pub last_update: Option<f64>,
    pub updated_by: Option<String>,
    /// When the running action finishes by itself (`None`: it waits for someone, or hangs).
    pub due: Option<f64>,
    /// The outcome applied at `due`.
    pub pending: Option<ActionResult>,
    /// Manual approval: the token to answer with, and when the request expires.
    pub token: Option<String>,
    pub expires: Option<f64>,
    pub result: Option<ActionResult>,
    #[serde(default)]
    pub resolved_configuration: BTreeMap<String, String>,
    #[serde(default)]
    pub input_artifacts: Vec<ArtifactLocation>,
    #[serde(default)]
    pub output_artifacts: Vec<ArtifactLocation>,
    /// Custom and third-party actions: the job a worker does for this run.
    #[serde(default)]
    pub job: Option<Job>,
    /// What a worker reported so far (`executionDetails` of a result with a continuation token).
    #[serde(default)]
    pub progress: Option<ActionResult>,
    #[serde(default)]
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
    pub continuation_token: Option<String>,
    /// Third-party jobs only: the client id workers see and must prove with `clientToken`.
    pub client_id: Option<String>,
}

impl ActionRun {
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
    pub status: Option<StageStatus>,
    pub actions: Vec<ActionRun>,
    /// Earlier attempts of actions that a retry ran again.
    #[serde(default)]
    pub history: Vec<ActionRun>,
    /// Stage conditions checked so far in this stage run.
    #[serde(default)]
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
    pub summary: Option<String>,
    pub error: Option<ErrorDetails>,
    #[serde(default)]
    pub resolved_configuration: BTreeMap<String, String>,
}

/// One condition of a stage (`beforeEntry`, `onSuccess` or `onFailure`), as it was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionRun {
    pub kind: ConditionKind,
    pub status: ConditionStatus,
    pub summary: Option<String>,
    pub last_change: f64,
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
    pub status_summary: Option<String>,
    pub trigger: Trigger,
    pub execution_mode: String,
    /// Pipeline variables (`#{variables.x}`) as resolved at start.
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub source_overrides: Vec<SourceRevisionOverride>,
    pub start_time: f64,
    pub last_update: f64,
    pub position: Position,
    pub stop: Option<StopRequest>,
    pub stages: Vec<StageRun>,
    /// Output variables by action namespace.
    #[serde(default)]
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Artifacts produced so far, by name.
    #[serde(default)]
    pub artifacts: BTreeMap<String, ArtifactLocation>,
    /// Source revisions by source action name.
    #[serde(default)]
    pub revisions: BTreeMap<String, Revision>,
    /// `STANDARD`, or `ROLLBACK` for an execution `RollbackStage` started.
    #[serde(default = "standard")]
    pub execution_type: String,
    /// Rollbacks: the execution whose artifacts the stage runs again.
    #[serde(default)]
    pub rollback_target: Option<String>,
    /// Rollbacks run one stage only: its index.
    #[serde(default)]
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
    pub disabled_reason: Option<String>,
    pub last_changed_by: Option<String>,
    pub last_changed_at: Option<f64>,
}

/// The latest action run of one action, as `GetPipelineState` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestAction {
    pub pipeline_execution_id: String,
    pub run: ActionRun,
    /// Source actions: the revision of the latest successful run.
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
    #[serde(default)]
    pub transitions: BTreeMap<String, TransitionState>,
    /// The execution that last entered each stage, and its stage status.
    #[serde(default)]
    pub stage_latest: BTreeMap<String, (String, StageStatus)>,
    /// Latest run of each action, keyed `STAGE/ACTION`.
    #[serde(default)]
    pub action_latest: BTreeMap<String, LatestAction>,
    /// The execution whose artifacts each stage last succeeded with (a rollback's target for
    /// a rollback), so a rollback to what a stage already runs is refused.
    #[serde(default)]
    pub deployed: BTreeMap<String, String>,
    /// `clientRequestToken` → execution id, for idempotent starts.
    #[serde(default)]
    pub client_tokens: BTreeMap<String, String>,
}

impl PipelineRuntime {
    pub fn transition_enabled(&self, stage: &str) -> bool {
        self.transitions.get(stage).is_none_or(|t| t.enabled)
    }
}
