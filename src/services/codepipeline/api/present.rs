//! Execution records rendered in the reply shapes of the model: `PipelineExecution`,
//! `PipelineExecutionSummary`, `ActionExecution`, `ActionExecutionDetail`, `StageState`.

use serde_json::{json, Map, Value};

use crate::services::codepipeline::domain::execution::model::{
    ActionRun, ActionStatus, ArtifactLocation, ErrorDetails, Execution, Position, Revision,
    TransitionState,
};
use crate::services::codepipeline::domain::pipeline::{ActionDeclaration, PipelineDeclaration};

/// Inserts `value` under `key` unless it is null, as AWS omits absent members.
fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    if !value.is_null() {
        map.insert(key.to_owned(), value);
    }
}

fn error(e: &ErrorDetails) -> Value {
    json!({"code": e.code, "message": e.message})
}

fn artifacts(list: &[ArtifactLocation]) -> Value {
    list.iter()
        .map(|a| json!({"name": a.name, "s3location": {"bucket": a.bucket, "key": a.key}}))
        .collect()
}

fn trigger(e: &Execution) -> Value {
    json!({"triggerType": e.trigger.trigger_type, "triggerDetail": e.trigger.trigger_detail})
}

/// Source revisions, with the name of the artifact each source action produced.
fn artifact_revisions(e: &Execution) -> Value {
    let mut out = Vec::new();
    for run in e
        .stages
        .first()
        .map(|s| s.actions.as_slice())
        .unwrap_or_default()
    {
        let Some(r) = e.revisions.get(&run.name) else {
            continue;
        };
        for a in &run.output_artifacts {
            let mut m = Map::new();
            put(&mut m, "name", json!(a.name));
            put(&mut m, "revisionId", json!(r.revision_id));
            put(
                &mut m,
                "revisionChangeIdentifier",
                json!(r
                    .change_identifier
                    .clone()
                    .unwrap_or_else(|| r.revision_id.clone())),
            );
            put(&mut m, "revisionSummary", json!(r.revision_summary));
            put(&mut m, "created", json!(r.created));
            put(&mut m, "revisionUrl", json!(r.revision_url));
            out.push(Value::Object(m));
        }
    }
    Value::Array(out)
}

pub fn execution(e: &Execution) -> Value {
    let mut m = Map::new();
    put(&mut m, "pipelineName", json!(e.pipeline_name));
    put(&mut m, "pipelineVersion", json!(e.pipeline_version));
    put(&mut m, "pipelineExecutionId", json!(e.id));
    put(&mut m, "status", json!(e.status));
    put(&mut m, "statusSummary", json!(e.status_summary));
    put(&mut m, "artifactRevisions", artifact_revisions(e));
    let vars: Vec<Value> = e
        .variables
        .iter()
        .map(|(k, v)| json!({"name": k, "resolvedValue": v}))
        .collect();
    if !vars.is_empty() {
        put(&mut m, "variables", json!(vars));
    }
    put(&mut m, "trigger", trigger(e));
    put(&mut m, "executionMode", json!(e.execution_mode));
    put(&mut m, "executionType", json!(e.execution_type));
    if let Some(target) = &e.rollback_target {
        put(
            &mut m,
            "rollbackMetadata",
            json!({ "rollbackTargetPipelineExecutionId": target }),
        );
    }
    Value::Object(m)
}

pub fn summary(e: &Execution) -> Value {
    let mut m = Map::new();
    put(&mut m, "pipelineExecutionId", json!(e.id));
    put(&mut m, "status", json!(e.status));
    put(&mut m, "statusSummary", json!(e.status_summary));
    put(&mut m, "startTime", json!(e.start_time));
    put(&mut m, "lastUpdateTime", json!(e.last_update));
    let sources: Vec<Value> = e
        .revisions
        .iter()
        .map(|(action, r)| {
            let mut s = Map::new();
            put(&mut s, "actionName", json!(action));
            put(&mut s, "revisionId", json!(r.revision_id));
            put(&mut s, "revisionSummary", json!(r.revision_summary));
            put(&mut s, "revisionUrl", json!(r.revision_url));
            Value::Object(s)
        })
        .collect();
    put(&mut m, "sourceRevisions", json!(sources));
    put(&mut m, "trigger", trigger(e));
    if let Some(stop) = &e.stop {
        let mut s = Map::new();
        put(&mut s, "reason", json!(stop.reason));
        put(&mut m, "stopTrigger", Value::Object(s));
    }
    put(&mut m, "executionMode", json!(e.execution_mode));
    put(&mut m, "executionType", json!(e.execution_type));
    if let Some(target) = &e.rollback_target {
        put(
            &mut m,
            "rollbackMetadata",
            json!({ "rollbackTargetPipelineExecutionId": target }),
        );
    }
    Value::Object(m)
}

/// The `ActionExecution` of `GetPipelineState`.
pub fn action_execution(run: &ActionRun) -> Value {
    let mut m = Map::new();
    put(&mut m, "actionExecutionId", json!(run.action_execution_id));
    put(&mut m, "status", json!(run.status));
    // A running job worker's interim details show until the action has its result.
    let result = run.result.as_ref().or(run.progress.as_ref());
    put(
        &mut m,
        "summary",
        json!(result.and_then(|r| r.summary.clone())),
    );
    put(&mut m, "lastStatusChange", json!(run.last_update));
    if run.status == Some(ActionStatus::InProgress) {
        put(&mut m, "token", json!(run.token));
    }
    put(&mut m, "lastUpdatedBy", json!(run.updated_by));
    put(
        &mut m,
        "externalExecutionId",
        json!(result.and_then(|r| r.external_execution_id.clone())),
    );
    put(
        &mut m,
        "externalExecutionUrl",
        json!(result.and_then(|r| r.external_execution_url.clone())),
    );
    put(&mut m, "percentComplete", json!(run.percent_complete));
    if let Some(e) = result.and_then(|r| r.error.as_ref()) {
        put(&mut m, "errorDetails", error(e));
    }
    Value::Object(m)
}

pub fn revision(r: &Revision) -> Value {
    json!({
        "revisionId": r.revision_id,
        "revisionChangeId": r.change_identifier.clone().unwrap_or_else(|| r.revision_id.clone()),
        "created": r.created,
    })
}

pub fn transition(t: Option<&TransitionState>) -> Value {
    match t {
        None => json!({"enabled": true}),
        Some(t) => {
            let mut m = Map::new();
            put(&mut m, "enabled", json!(t.enabled));
            put(&mut m, "lastChangedBy", json!(t.last_changed_by));
            put(&mut m, "lastChangedAt", json!(t.last_changed_at));
            put(&mut m, "disabledReason", json!(t.disabled_reason));
            Value::Object(m)
        }
    }
}

/// The `ActionExecutionDetail` of `ListActionExecutions`.
pub fn action_detail(
    e: &Execution,
    stage: &str,
    run: &ActionRun,
    decl: Option<&ActionDeclaration>,
    region: &str,
) -> Value {
    let mut input = Map::new();
    if let Some(d) = decl {
        put(&mut input, "actionTypeId", json!(d.action_type_id));
        put(
            &mut input,
            "configuration",
            json!(d.configuration.clone().unwrap_or_default()),
        );
        put(&mut input, "roleArn", json!(d.role_arn));
        put(&mut input, "namespace", json!(d.namespace));
        put(
            &mut input,
            "region",
            json!(d.region.clone().unwrap_or_else(|| region.to_owned())),
        );
    }
    put(
        &mut input,
        "resolvedConfiguration",
        json!(run.resolved_configuration),
    );
    put(
        &mut input,
        "inputArtifacts",
        artifacts(&run.input_artifacts),
    );
    let mut m = Map::new();
    put(&mut m, "pipelineExecutionId", json!(e.id));
    put(&mut m, "actionExecutionId", json!(run.action_execution_id));
    put(&mut m, "pipelineVersion", json!(e.pipeline_version));
    put(&mut m, "stageName", json!(stage));
    put(&mut m, "actionName", json!(run.name));
    put(&mut m, "startTime", json!(run.start_time));
    put(&mut m, "lastUpdateTime", json!(run.last_update));
    put(&mut m, "updatedBy", json!(run.updated_by));
    put(&mut m, "status", json!(run.status));
    put(&mut m, "input", Value::Object(input));
    if let Some(result) = &run.result {
        let mut r = Map::new();
        put(
            &mut r,
            "externalExecutionId",
            json!(result.external_execution_id),
        );
        put(&mut r, "externalExecutionSummary", json!(result.summary));
        put(
            &mut r,
            "externalExecutionUrl",
            json!(result.external_execution_url),
        );
        if let Some(err) = &result.error {
            put(&mut r, "errorDetails", error(err));
        }
        let mut output = Map::new();
        let produced = if result.error.is_none() {
            run.output_artifacts.as_slice()
        } else {
            &[]
        };
        put(&mut output, "outputArtifacts", artifacts(produced));
        put(&mut output, "executionResult", Value::Object(r));
        put(
            &mut output,
            "outputVariables",
            json!(result.output_variables),
        );
        put(&mut m, "output", Value::Object(output));
    } else if let Some(progress) = run.progress.as_ref().filter(|_| run.task) {
        // A running build's id and link, as CodePipeline shows a CodeBuild action's meanwhile.
        let mut r = Map::new();
        put(
            &mut r,
            "externalExecutionId",
            json!(progress.external_execution_id),
        );
        put(
            &mut r,
            "externalExecutionUrl",
            json!(progress.external_execution_url),
        );
        put(&mut m, "output", json!({"executionResult": r}));
    }
    Value::Object(m)
}

/// Executions waiting to enter `stage` (`inboundExecutions`), newest first.
pub fn inbound(stage: &str, active: &[Execution]) -> Vec<Value> {
    let mut waiting: Vec<&Execution> = active
        .iter()
        .filter(|e| !e.status.is_finished())
        .filter(|e| matches!(e.position, Position::Waiting(s) if e.stages.get(s).is_some_and(|st| st.name == stage)))
        .collect();
    waiting.sort_by_key(|e| std::cmp::Reverse(e.seq));
    waiting
        .iter()
        .map(|e| json!({"pipelineExecutionId": e.id, "status": "InProgress", "type": "STANDARD"}))
        .collect()
}

/// The action declaration of `stage`/`action` in `decl`.
pub fn find_action<'a>(
    decl: &'a PipelineDeclaration,
    stage: &str,
    action: &str,
) -> Option<&'a ActionDeclaration> {
    decl.stages
        .iter()
        .find(|s| s.name == stage)?
        .actions
        .iter()
        .find(|a| a.name == action)
}
