//! Engine events as CodePipeline publishes them on EventBridge: the three `detail-type`s, the
//! `aws.codepipeline` source, the pipeline ARN as the resource, and the `detail` fields and
//! state names of the User Guide ("Monitoring CodePipeline events"), which differ from the
//! API's status names (`CANCELED`, `STARTED`, ...).

use std::sync::Arc;

use serde_json::{json, Value};

use super::events::{EngineEvent, EventKind};
use crate::services::bus::{ActionRun, Detail, Event};
use crate::services::codepipeline::domain::arn;
use crate::services::codepipeline::domain::execution::model::{
    ActionResult, ActionStatus, ArtifactLocation, ExecStatus, Execution, StageStatus, Trigger,
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

/// What an action event's detail tells of the run, taken as the event happened: the run may
/// move on before anyone reads the detail.
struct ActionFacts {
    id: Option<String>,
    start: Option<f64>,
    inputs: Vec<ArtifactLocation>,
    outputs: Vec<ArtifactLocation>,
    result: Option<ActionResult>,
}

/// Everything an event's detail is made from, taken from the execution when it happened.
struct Facts {
    happened: EngineEvent,
    start_time: f64,
    version: i64,
    attempt: u32,
    trigger: Option<Trigger>,
    stop_reason: Option<String>,
    stage_retry: Option<f64>,
    action: Option<ActionFacts>,
    declaration: Option<Arc<PipelineDeclaration>>,
}

/// The state an ending action event reports, `None` for STARTED: the run may have moved on
/// within the same step (zero-second actions), so its status is not the event's.
fn action_ended(kind: &EventKind) -> Option<ActionStatus> {
    match kind {
        EventKind::ActionFinished { status, .. } => Some(*status),
        _ => None,
    }
}

/// `input-artifacts`, `output-artifacts`, `execution-result` and `type` of an action event.
fn action_fields(
    detail: &mut Value,
    run: &ActionFacts,
    declared: Option<&PipelineDeclaration>,
    stage: &str,
    action: &str,
) {
    if let Some(declared) = declared
        .and_then(|d| d.stages.iter().find(|s| s.name == stage))
        .and_then(|s| s.actions.iter().find(|a| a.name == action))
    {
        let t = &declared.action_type_id;
        detail["type"] = json!({"owner": t.owner, "category": t.category, "provider": t.provider, "version": t.version});
        if let Some(region) = &declared.region {
            detail["region"] = json!(region);
        }
    }
    // As AWS sends them: inputs when the action starts, outputs when it succeeds.
    if !run.inputs.is_empty() {
        detail["input-artifacts"] = artifacts(&run.inputs);
    }
    if !run.outputs.is_empty() {
        detail["output-artifacts"] = artifacts(&run.outputs);
    }
    if let Some(result) = &run.result {
        let mut r = serde_json::Map::new();
        if let Some(url) = &result.external_execution_url {
            r.insert("external-execution-url".into(), json!(url));
        }
        if let Some(summary) = summary_of(result) {
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

/// `external-execution-summary`: a failure without a summary of its own is summed up by its
/// error's message.
fn summary_of(result: &ActionResult) -> Option<&String> {
    result
        .summary
        .as_ref()
        .or(result.error.as_ref().map(|e| &e.message))
}

/// A time inside `detail`: milliseconds and `Z`, as AWS writes them (the envelope's `time`
/// stops at seconds).
fn detail_time(at: f64) -> String {
    chrono::DateTime::from_timestamp_millis((at * 1000.0) as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Facts {
    fn take(
        happened: &EngineEvent,
        e: &Execution,
        declaration: Option<&Arc<PipelineDeclaration>>,
    ) -> Self {
        let mut facts = Facts {
            happened: happened.clone(),
            start_time: e.start_time,
            version: e.pipeline_version,
            attempt: e.retries + 1,
            trigger: None,
            stop_reason: None,
            stage_retry: None,
            action: None,
            declaration: None,
        };
        let stage_named = |name: &str| e.stages.iter().find(|s| s.name == name);
        match &happened.kind {
            EventKind::ExecutionStarted { .. } => facts.trigger = Some(e.trigger.clone()),
            EventKind::ExecutionStopping => {
                facts.stop_reason = e.stop.as_ref().and_then(|s| s.reason.clone());
            }
            EventKind::StageStarted { stage }
            | EventKind::StageResumed { stage }
            | EventKind::StageStopping { stage }
            | EventKind::StageFinished { stage, .. } => {
                facts.stage_retry = stage_named(stage).and_then(|s| s.last_retry);
            }
            EventKind::ActionStarted { stage, action }
            | EventKind::ActionFinished { stage, action, .. } => {
                let ended = action_ended(&happened.kind);
                facts.declaration = declaration.cloned();
                facts.action = stage_named(stage)
                    .and_then(|s| s.actions.iter().find(|a| &a.name == action))
                    .map(|run| ActionFacts {
                        id: run.action_execution_id.clone(),
                        start: run.start_time,
                        inputs: if ended.is_none() {
                            run.input_artifacts.clone()
                        } else {
                            Vec::new()
                        },
                        outputs: if ended == Some(ActionStatus::Succeeded) {
                            run.output_artifacts.clone()
                        } else {
                            Vec::new()
                        },
                        result: run.result.clone().filter(|_| ended.is_some()),
                    });
            }
            _ => {}
        }
        facts
    }

    /// What an action event's detail says of the run that listeners read, without making it.
    fn action_run(&self) -> Option<ActionRun> {
        let happened = &self.happened;
        if !matches!(
            happened.kind,
            EventKind::ActionStarted { .. } | EventKind::ActionFinished { .. }
        ) {
            return None;
        }
        let first =
            |list: &[ArtifactLocation]| list.first().map(|a| (a.bucket.clone(), a.key.clone()));
        let run = self.action.as_ref();
        let result = run.and_then(|r| r.result.as_ref());
        Some(ActionRun {
            pipeline: happened.pipeline.clone(),
            id: run.and_then(|r| r.id.clone()),
            state: action_ended(&happened.kind).map_or("STARTED", action_state),
            external_execution_id: result.and_then(|r| r.external_execution_id.clone()),
            external_execution_summary: result.and_then(summary_of).cloned(),
            first_input: run.and_then(|r| first(&r.inputs)),
            first_output: run.and_then(|r| first(&r.outputs)),
        })
    }

    fn detail(&self) -> Value {
        let happened = &self.happened;
        // Numbers as AWS's events carry them: `"version": 2.0`.
        let mut detail = json!({
            "pipeline": happened.pipeline,
            "execution-id": happened.execution,
            "start-time": detail_time(self.start_time),
            "version": self.version as f64,
            "pipeline-execution-attempt": f64::from(self.attempt),
        });
        let stage_fields = |detail: &mut Value, stage: &str| {
            detail["stage"] = json!(stage);
            if let Some(at) = self.stage_retry {
                detail["stage-last-retry-attempt-time"] = json!(detail_time(at));
            }
        };
        match &happened.kind {
            EventKind::ExecutionStarted { .. } => {
                detail["state"] = json!("STARTED");
                if let Some(trigger) = &self.trigger {
                    detail["execution-trigger"] = json!({
                        "trigger-type": trigger.trigger_type,
                        "trigger-detail": trigger.trigger_detail,
                    });
                }
            }
            EventKind::ExecutionFinished { status } => {
                detail["state"] = json!(execution_state(*status));
            }
            EventKind::ExecutionResumed => detail["state"] = json!("RESUMED"),
            EventKind::ExecutionStopping => {
                detail["state"] = json!("STOPPING");
                if let Some(reason) = &self.stop_reason {
                    detail["stop-execution-comments"] = json!(reason);
                }
            }
            EventKind::StageStarted { stage } => {
                stage_fields(&mut detail, stage);
                detail["state"] = json!("STARTED");
            }
            EventKind::StageResumed { stage } => {
                stage_fields(&mut detail, stage);
                detail["state"] = json!("RESUMED");
            }
            EventKind::StageStopping { stage } => {
                stage_fields(&mut detail, stage);
                detail["state"] = json!("STOPPING");
            }
            EventKind::StageFinished { stage, status } => {
                stage_fields(&mut detail, stage);
                detail["state"] = json!(stage_state(*status));
            }
            EventKind::ActionStarted { stage, action }
            | EventKind::ActionFinished { stage, action, .. } => {
                detail["stage"] = json!(stage);
                detail["action"] = json!(action);
                detail["region"] = json!(happened.region);
                let ended = action_ended(&happened.kind);
                detail["state"] = json!(ended.map_or("STARTED", action_state));
                if let Some(run) = &self.action {
                    if let Some(id) = &run.id {
                        detail["action-execution-id"] = json!(id);
                    }
                    // The action's own start, as the User Guide's action examples show.
                    if let Some(at) = run.start {
                        detail["start-time"] = json!(detail_time(at));
                    }
                    let declared = self.declaration.as_deref();
                    action_fields(&mut detail, run, declared, stage, action);
                }
            }
        }
        detail
    }
}

fn detail_type(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::ExecutionStarted { .. }
        | EventKind::ExecutionFinished { .. }
        | EventKind::ExecutionResumed
        | EventKind::ExecutionStopping => "CodePipeline Pipeline Execution State Change",
        EventKind::StageStarted { .. }
        | EventKind::StageResumed { .. }
        | EventKind::StageStopping { .. }
        | EventKind::StageFinished { .. } => "CodePipeline Stage Execution State Change",
        EventKind::ActionStarted { .. } | EventKind::ActionFinished { .. } => {
            "CodePipeline Action Execution State Change"
        }
    }
}

/// The EventBridge event of one engine event of execution `e`, at `now`. Its detail is made
/// when first read, from what the execution said at this moment.
pub fn event_of(
    happened: &EngineEvent,
    e: &Execution,
    declaration: Option<&Arc<PipelineDeclaration>>,
    now: f64,
) -> Event {
    let facts = Facts::take(happened, e, declaration);
    let action_run = facts.action_run().map(Arc::new);
    let action_type = match &happened.kind {
        EventKind::ActionStarted { stage, action }
        | EventKind::ActionFinished { stage, action, .. } => declaration
            .and_then(|d| d.stages.iter().find(|s| &s.name == stage))
            .and_then(|s| s.actions.iter().find(|a| &a.name == action))
            .map(|a| {
                let t = &a.action_type_id;
                (t.owner.clone(), t.provider.clone())
            }),
        _ => None,
    };
    let event = Event::new(
        SOURCE,
        detail_type(&happened.kind),
        &happened.account,
        &happened.region,
        vec![arn::pipeline(
            &happened.region,
            &happened.account,
            &happened.pipeline,
        )],
        Detail::lazy(move || facts.detail()),
        now,
    );
    Event {
        action_type,
        action_run,
        ..event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::codepipeline::domain::execution::model::ErrorDetails;

    fn facts(kind: EventKind, action: ActionFacts) -> Facts {
        Facts {
            happened: EngineEvent {
                account: "123456789012".to_owned(),
                region: "us-east-1".to_owned(),
                pipeline: "demo".to_owned(),
                execution: "e-1".to_owned(),
                kind,
            },
            start_time: 1_700_000_000.0,
            version: 1,
            attempt: 1,
            trigger: None,
            stop_reason: None,
            stage_retry: None,
            action: Some(action),
            declaration: None,
        }
    }

    fn location(name: &str) -> ArtifactLocation {
        ArtifactLocation {
            name: name.to_owned(),
            bucket: "artifacts".to_owned(),
            key: format!("demo/{name}/abc"),
        }
    }

    /// Listeners read `action_run` instead of making `detail`; both must tell the same.
    fn agree(f: &Facts) {
        let run = f.action_run().expect("an action event");
        let d = f.detail();
        let s3 = |v: &Value| {
            let at = &v[0]["s3location"];
            at["bucket"]
                .as_str()
                .zip(at["key"].as_str())
                .map(|(b, k)| (b.to_owned(), k.to_owned()))
        };
        assert_eq!(Some(run.pipeline.as_str()), d["pipeline"].as_str());
        assert_eq!(run.id.as_deref(), d["action-execution-id"].as_str());
        assert_eq!(Some(run.state), d["state"].as_str());
        let result = &d["execution-result"];
        assert_eq!(
            run.external_execution_id.as_deref(),
            result["external-execution-id"].as_str()
        );
        assert_eq!(
            run.external_execution_summary.as_deref(),
            result["external-execution-summary"].as_str()
        );
        assert_eq!(run.first_input, s3(&d["input-artifacts"]));
        assert_eq!(run.first_output, s3(&d["output-artifacts"]));
    }

    #[test]
    fn an_action_events_run_says_what_its_detail_says() {
        let action = || ActionFacts {
            id: Some("a-1".to_owned()),
            start: Some(1_700_000_001.0),
            inputs: vec![location("SourceOutput"), location("Other")],
            outputs: vec![location("BuildOutput")],
            result: Some(ActionResult {
                external_execution_id: Some("proj:uuid".to_owned()),
                error: Some(ErrorDetails {
                    code: "JobFailed".to_owned(),
                    message: "red".to_owned(),
                }),
                ..Default::default()
            }),
        };
        let (stage, name) = ("Build".to_owned(), "Build".to_owned());
        let started = EventKind::ActionStarted {
            stage: stage.clone(),
            action: name.clone(),
        };
        let mut as_started = action();
        as_started.outputs.clear();
        as_started.result = None;
        agree(&facts(started, as_started));
        let finished = |status| EventKind::ActionFinished {
            stage: stage.clone(),
            action: name.clone(),
            status,
        };
        let mut failed = action();
        failed.inputs.clear();
        failed.outputs.clear();
        agree(&facts(finished(ActionStatus::Failed), failed));
        let mut succeeded = action();
        succeeded.inputs.clear();
        succeeded.result = Some(ActionResult {
            summary: Some("done".to_owned()),
            external_execution_id: Some("proj:uuid".to_owned()),
            ..Default::default()
        });
        agree(&facts(finished(ActionStatus::Succeeded), succeeded));
    }

    #[test]
    fn other_events_carry_no_action_run() {
        let f = Facts {
            action: None,
            ..facts(
                EventKind::ExecutionStarted {
                    trigger: "x".to_owned(),
                },
                ActionFacts {
                    id: None,
                    start: None,
                    inputs: Vec::new(),
                    outputs: Vec::new(),
                    result: None,
                },
            )
        };
        assert!(f.action_run().is_none());
    }
}
