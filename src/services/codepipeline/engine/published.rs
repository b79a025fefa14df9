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
fn action_fields(
    detail: &mut Value,
    run: &ActionRun,
    decl: Option<&PipelineDeclaration>,
    stage: &str,
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
    if !run.input_artifacts.is_empty() {
        detail["input-artifacts"] = artifacts(&run.input_artifacts);
    }
    if run.status == Some(ActionStatus::Succeeded) && !run.output_artifacts.is_empty() {
        detail["output-artifacts"] = artifacts(&run.output_artifacts);
    }
    if let Some(result) = &run.result {
        let mut r = serde_json::Map::new();
        if let Some(url) = &result.external_execution_url {
            r.insert("external-execution-url".into(), json!(url));
        }
        if let Some(summary) = &result.summary {
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

/// The EventBridge event of one engine event of execution `e`, at `now`.
pub fn event_of(
    happened: &EngineEvent,
    e: &Execution,
    decl: Option<&PipelineDeclaration>,
    now: f64,
) -> Event {
    let mut detail = json!({
        "pipeline": happened.pipeline,
        "execution-id": happened.execution,
        "version": e.pipeline_version,
        "pipeline-execution-attempt": 1,
    });
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
        EventKind::StageStarted { stage } => {
            detail["stage"] = json!(stage);
            detail["state"] = json!("STARTED");
            "CodePipeline Stage Execution State Change"
        }
        EventKind::StageFinished { stage, status } => {
            detail["stage"] = json!(stage);
            detail["state"] = json!(stage_state(*status));
            "CodePipeline Stage Execution State Change"
        }
        EventKind::ActionStarted { stage, action }
        | EventKind::ActionFinished { stage, action, .. } => {
            detail["stage"] = json!(stage);
            detail["action"] = json!(action);
            detail["region"] = json!(happened.region);
            let state = match &happened.kind {
                EventKind::ActionFinished { status, .. } => action_state(*status),
                _ => "STARTED",
            };
            detail["state"] = json!(state);
            if let Some(run) = e
                .stages
                .iter()
                .find(|s| &s.name == stage)
                .and_then(|s| s.actions.iter().find(|a| &a.name == action))
            {
                if let Some(id) = &run.action_execution_id {
                    detail["action-execution-id"] = json!(id);
                }
                action_fields(&mut detail, run, decl, stage);
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
