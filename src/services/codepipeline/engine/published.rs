//! Engine events as CodePipeline publishes them on EventBridge: the three `detail-type`s, the
//! `aws.codepipeline` source, the pipeline ARN as the resource, and the `detail` fields and
//! state names of the User Guide ("Monitoring CodePipeline events"), which differ from the
//! API's status names (`CANCELED`, `STARTED`, ...).

use serde_json::{json, Value};

use super::events::{EngineEvent, EventKind};
use crate::services::bus::Event;
use crate::services::codepipeline::domain::arn;
use crate::services::codepipeline::domain::execution::model::{
    ActionRun, ActionStatus, ArtifactLocation, ExecStatus, Execution, StageStatus,
};
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;

const SOURCE: &str = "aws.codepipeline";

fn execution_state(status: ExecStatus) -> &'static str {
    match status {
        ExecStatus::Cancelled => "CANCELED",
        ExecStatus::InProgress => "STARTED",
        ExecStatus::Stopped => "STOPPED",
        ExecStatus::Stopping => "STOPPING",
        ExecStatus::Succeeded => "SUCCEEDED",
        ExecStatus::Superseded => "SUPERSEDED",
        ExecStatus::Failed => "FAILED",
    }
}

fn stage_state(status: StageStatus) -> &'static str {
    match status {
        StageStatus::Cancelled => "CANCELED",
        // Skipped stages are not published (engine::events); they never ran.
        StageStatus::InProgress | StageStatus::Skipped => "STARTED",
        StageStatus::Failed => "FAILED",
        StageStatus::Stopped => "STOPPED",
        StageStatus::Stopping => "STOPPING",
        StageStatus::Succeeded => "SUCCEEDED",
    }
}

fn action_state(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::InProgress => "STARTED",
        ActionStatus::Abandoned => "ABANDONED",
        ActionStatus::Succeeded => "SUCCEEDED",
        ActionStatus::Failed => "FAILED",
    }
}

fn artifacts(list: &[ArtifactLocation]) -> Value {
    list.iter()
        .map(|a| json!({"name": a.name, "s3location": {"bucket": a.bucket, "key": a.key}}))
        .collect()
}

/// `input-artifacts`, `output-artifacts`, `execution-result` and `type` of an action event.
/// `ended` is the state an ending event reports, `None` for STARTED: the run may have moved on
/// within the same step (zero-second actions), so its status is not the event's.
fn action_fields(
    detail: &mut Value,
    run: &ActionRun,
    decl: Option<&PipelineDeclaration>,
    stage: &str,
    ended: Option<ActionStatus>,
) {
    if let Some(declared) = decl
        .and_then(|d| d.stages.iter().find(|s| s.name == stage))
        .and_then(|s| s.actions.iter().find(|a| a.name == run.name))
    {
        let t = &declared.action_type_id;
        detail["type"] = json!({"owner": t.owner, "category": t.category, "provider": t.provider, "version": t.version});
        if let Some(region) = &declared.region {
            detail["region"] = json!(region);
        }
    }
    // As AWS sends them: inputs when the action starts, outputs when it succeeds.
    if ended.is_none() && !run.input_artifacts.is_empty() {
        detail["input-artifacts"] = artifacts(&run.input_artifacts);
    }
    if ended == Some(ActionStatus::Succeeded) && !run.output_artifacts.is_empty() {
        detail["output-artifacts"] = artifacts(&run.output_artifacts);
    }
    if let Some(result) = run.result.as_ref().filter(|_| ended.is_some()) {
        let mut r = serde_json::Map::new();
        if let Some(url) = &result.external_execution_url {
            r.insert("external-execution-url".into(), json!(url));
        }
        // A failure without a summary of its own is summed up by its error's message.
        if let Some(summary) = result
            .summary
            .as_ref()
            .or(result.error.as_ref().map(|e| &e.message))
        {
            r.insert("external-execution-summary".into(), json!(summary));
        }
        if let Some(id) = &result.external_execution_id {
            r.insert("external-execution-id".into(), json!(id));
        }
        if let Some(error) = &result.error {
            r.insert("error-code".into(), json!(error.code));
        }
        if !r.is_empty() {
            detail["execution-result"] = Value::Object(r);
        }
    }
}

/// A time inside `detail`: milliseconds and `Z`, as AWS writes them (the envelope's `time`
/// stops at seconds).
fn detail_time(at: f64) -> String {
    chrono::DateTime::from_timestamp_millis((at * 1000.0) as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The EventBridge event of one engine event of execution `e`, at `now`.
pub fn event_of(
    happened: &EngineEvent,
    e: &Execution,
    decl: Option<&PipelineDeclaration>,
    now: f64,
) -> Event {
    // Numbers as AWS's events carry them: `"version": 2.0`.
    let mut detail = json!({
        "pipeline": happened.pipeline,
        "execution-id": happened.execution,
        "start-time": detail_time(e.start_time),
        "version": e.pipeline_version as f64,
        "pipeline-execution-attempt": f64::from(e.retries + 1),
    });
    let stage_fields = |detail: &mut Value, stage: &str| {
        detail["stage"] = json!(stage);
        let retried = e
            .stages
            .iter()
            .find(|s| s.name == stage)
            .and_then(|s| s.last_retry);
        if let Some(at) = retried {
            detail["stage-last-retry-attempt-time"] = json!(detail_time(at));
        }
    };
    let detail_type = match &happened.kind {
        EventKind::ExecutionStarted { .. } => {
            detail["state"] = json!("STARTED");
            detail["execution-trigger"] = json!({
                "trigger-type": e.trigger.trigger_type,
                "trigger-detail": e.trigger.trigger_detail,
            });
            "CodePipeline Pipeline Execution State Change"
        }
        EventKind::ExecutionFinished { status } => {
            detail["state"] = json!(execution_state(*status));
            "CodePipeline Pipeline Execution State Change"
        }
        EventKind::ExecutionResumed => {
            detail["state"] = json!("RESUMED");
            "CodePipeline Pipeline Execution State Change"
        }
        EventKind::ExecutionStopping => {
            detail["state"] = json!("STOPPING");
            if let Some(reason) = e.stop.as_ref().and_then(|s| s.reason.as_ref()) {
                detail["stop-execution-comments"] = json!(reason);
            }
            "CodePipeline Pipeline Execution State Change"
        }
        EventKind::StageStarted { stage } => {
            stage_fields(&mut detail, stage);
            detail["state"] = json!("STARTED");
            "CodePipeline Stage Execution State Change"
        }
        EventKind::StageResumed { stage } => {
            stage_fields(&mut detail, stage);
            detail["state"] = json!("RESUMED");
            "CodePipeline Stage Execution State Change"
        }
        EventKind::StageStopping { stage } => {
            stage_fields(&mut detail, stage);
            detail["state"] = json!("STOPPING");
            "CodePipeline Stage Execution State Change"
        }
        EventKind::StageFinished { stage, status } => {
            stage_fields(&mut detail, stage);
            detail["state"] = json!(stage_state(*status));
            "CodePipeline Stage Execution State Change"
        }
        EventKind::ActionStarted { stage, action }
        | EventKind::ActionFinished { stage, action, .. } => {
            detail["stage"] = json!(stage);
            detail["action"] = json!(action);
            detail["region"] = json!(happened.region);
            let ended = match &happened.kind {
                EventKind::ActionFinished { status, .. } => Some(*status),
                _ => None,
            };
            detail["state"] = json!(ended.map_or("STARTED", action_state));
            if let Some(run) = e
                .stages
                .iter()
                .find(|s| &s.name == stage)
                .and_then(|s| s.actions.iter().find(|a| &a.name == action))
            {
                if let Some(id) = &run.action_execution_id {
                    detail["action-execution-id"] = json!(id);
                }
                // The action's own start, as the User Guide's action examples show.
                if let Some(at) = run.start_time {
                    detail["start-time"] = json!(detail_time(at));
                }
                action_fields(&mut detail, run, decl, stage, ended);
            }
            "CodePipeline Action Execution State Change"
        }
    };
    Event::new(
        SOURCE,
        detail_type,
        &happened.account,
        &happened.region,
        vec![arn::pipeline(
            &happened.region,
            &happened.account,
            &happened.pipeline,
        )],
        detail,
        now,
    )
}
