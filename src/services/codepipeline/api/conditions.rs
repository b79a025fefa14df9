//! OverrideStageCondition and ListRuleExecutions, and the condition states GetPipelineState
//! shows for a stage.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::AwsError;
use crate::services::codepipeline::domain::execution::model::{
    ConditionKind, ConditionRun, ConditionStatus, Execution, RuleRun,
};
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::{executions_of, pipeline, pipeline_with_stage};
use crate::services::paging;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideInput {
    pipeline_name: String,
    stage_name: String,
    pipeline_execution_id: String,
    condition_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFilter {
    pipeline_execution_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    pipeline_name: String,
    filter: Option<RuleFilter>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

pub async fn override_stage_condition(
    state: &AppState,
    ctx: &Context,
    input: OverrideInput,
) -> Result<Value, AwsError> {
    pipeline_with_stage(state, ctx, &input.pipeline_name, &input.stage_name)?;
    let kind = if input.condition_type == "ON_SUCCESS" {
        ConditionKind::OnSuccess
    } else {
        ConditionKind::BeforeEntry
    };
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    state
        .engine
        .with_machine(&key, None, |m| {
            m.override_condition(&input.stage_name, &input.pipeline_execution_id, kind)
        })
        .await?;
    Ok(json!({}))
}

fn rule_execution(r: &RuleRun) -> Value {
    let mut v = json!({
        "ruleExecutionId": r.rule_execution_id,
        "status": r.status,
        "lastStatusChange": r.last_update,
    });
    if let Some(s) = &r.summary {
        v["summary"] = json!(s);
    }
    if let Some(e) = &r.error {
        v["errorDetails"] = json!({"code": e.code, "message": e.message});
    }
    v
}

/// The overall state of several conditions of one kind: the first that is not a pass decides.
fn overall(runs: &[&ConditionRun]) -> ConditionStatus {
    for status in [
        ConditionStatus::InProgress,
        ConditionStatus::Failed,
        ConditionStatus::Overridden,
    ] {
        if runs.iter().any(|c| c.status == status) {
            return status;
        }
    }
    ConditionStatus::Succeeded
}

/// `beforeEntryConditionState`, `onSuccessConditionState`, `onFailureConditionState` of one
/// stage, from the execution that last entered it.
pub fn condition_states(e: &Execution, stage: &str, into: &mut Value) {
    let Some(run) = e.stage(stage) else { return };
    for (kind, key) in [
        (ConditionKind::BeforeEntry, "beforeEntryConditionState"),
        (ConditionKind::OnSuccess, "onSuccessConditionState"),
        (ConditionKind::OnFailure, "onFailureConditionState"),
    ] {
        let runs: Vec<&ConditionRun> = run.conditions.iter().filter(|c| c.kind == kind).collect();
        if runs.is_empty() {
            continue;
        }
        let states: Vec<Value> = runs
            .iter()
            .map(|c| {
                let mut latest = json!({"status": c.status, "lastStatusChange": c.last_change});
                if let Some(s) = &c.summary {
                    latest["summary"] = json!(s);
                }
                let rules: Vec<Value> = c
                    .rules
                    .iter()
                    .map(|r| json!({"ruleName": r.name, "latestExecution": rule_execution(r)}))
                    .collect();
                json!({"latestExecution": latest, "ruleStates": rules})
            })
            .collect();
        into[key] =
            json!({"latestExecution": {"status": overall(&runs)}, "conditionStates": states});
    }
}

fn rule_detail(
    e: &Execution,
    stage: &str,
    r: &RuleRun,
    decl: Option<&PipelineDeclaration>,
    region: &str,
) -> Value {
    let declared = decl
        .and_then(|d| d.stages.iter().find(|s| s.name == stage))
        .and_then(|s| {
            [&s.before_entry, &s.on_success, &s.on_failure]
                .into_iter()
                .flatten()
                .filter_map(|b| b.get("conditions").and_then(Value::as_array))
                .flatten()
                .filter_map(|c| c.get("rules").and_then(Value::as_array))
                .flatten()
                .find(|rule| rule.get("name").and_then(Value::as_str) == Some(r.name.as_str()))
                .cloned()
        });
    let mut input = json!({"resolvedConfiguration": r.resolved_configuration, "region": region});
    if let Some(d) = &declared {
        for k in ["ruleTypeId", "configuration", "roleArn", "region"] {
            if let Some(v) = d.get(k) {
                input[k] = v.clone();
            }
        }
    }
    let mut result = json!({});
    if let Some(s) = &r.summary {
        result["externalExecutionSummary"] = json!(s);
    }
    if let Some(err) = &r.error {
        result["errorDetails"] = json!({"code": err.code, "message": err.message});
    }
    json!({
        "pipelineExecutionId": e.id,
        "ruleExecutionId": r.rule_execution_id,
        "pipelineVersion": e.pipeline_version,
        "stageName": stage,
        "ruleName": r.name,
        "startTime": r.start_time,
        "lastUpdateTime": r.last_update,
        "status": r.status,
        "input": input,
        "output": {"executionResult": result},
    })
}

pub async fn list_rule_executions(
    state: &AppState,
    ctx: &Context,
    input: ListInput,
) -> Result<Value, AwsError> {
    pipeline(state, ctx, &input.pipeline_name)?;
    let store = state.store.as_ref();
    let (account, region, name) = (
        ctx.account.as_str(),
        ctx.region.as_str(),
        input.pipeline_name.as_str(),
    );
    let only = input.filter.and_then(|f| f.pipeline_execution_id);
    let executions = executions_of(state, ctx, name, only)?;

    let mut details = Vec::new();
    for e in &executions {
        let decl = repo::load_pipeline_version(store, account, region, name, e.pipeline_version)?;
        for stage in &e.stages {
            for r in stage.conditions.iter().flat_map(|c| &c.rules) {
                details.push(rule_detail(e, &stage.name, r, decl.as_ref(), region));
            }
        }
    }
    paging::page_of(
        "ruleExecutionDetails",
        &details,
        input.next_token.as_deref(),
        input.max_results.unwrap_or(100),
    )
}
