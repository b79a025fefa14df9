//! StartPipelineExecution, GetPipelineExecution, ListPipelineExecutions, StopPipelineExecution,
//! RetryStageExecution, GetPipelineState, ListActionExecutions.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{paging, present};
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::action_types::Catalog;
use crate::services::codepipeline::domain::execution::model::{
    ActionRun, Execution, SourceRevisionOverride, StageStatus, Trigger,
};
use crate::services::codepipeline::domain::execution::start;
use crate::services::codepipeline::domain::pipeline::ActionDeclaration;
use crate::services::codepipeline::engine::PipelineKey;
use crate::state::AppState;
use crate::store::repo::{self, PipelineRecord};
use crate::store::Keys;

const DEFAULT_PAGE: usize = 100;

#[derive(Deserialize)]
pub struct NameValue {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartInput {
    name: String,
    #[serde(default)]
    variables: Vec<NameValue>,
    client_request_token: Option<String>,
    #[serde(default)]
    source_revisions: Vec<SourceRevisionOverride>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionInput {
    pipeline_name: String,
    pipeline_execution_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopInput {
    pipeline_name: String,
    pipeline_execution_id: String,
    #[serde(default)]
    abandon: bool,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryInput {
    pipeline_name: String,
    stage_name: String,
    pipeline_execution_id: String,
    retry_mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SucceededInStage {
    stage_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionsFilter {
    succeeded_in_stage: Option<SucceededInStage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    pipeline_name: String,
    max_results: Option<usize>,
    filter: Option<ExecutionsFilter>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
pub struct StateInput {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionFilter {
    pipeline_execution_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionsInput {
    pipeline_name: String,
    filter: Option<ActionFilter>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// Who the caller is, as AWS records it in triggers and `lastChangedBy`.
pub fn caller(ctx: &Context) -> String {
    format!("arn:aws:iam::{}:root", ctx.account)
}

pub fn pipeline(state: &AppState, ctx: &Context, name: &str) -> Result<PipelineRecord, AwsError> {
    repo::load_pipeline(state.store.as_ref(), &ctx.account, &ctx.region, name)?
        .ok_or_else(|| AwsError::pipeline_not_found(name, &ctx.account))
}

/// The pipeline, provided it has a stage of that name (`StageNotFoundException` otherwise).
pub fn pipeline_with_stage(
    state: &AppState,
    ctx: &Context,
    name: &str,
    stage: &str,
) -> Result<PipelineRecord, AwsError> {
    let record = pipeline(state, ctx, name)?;
    if !record.declaration.stages.iter().any(|s| s.name == stage) {
        return Err(stage_not_found(stage, name));
    }
    Ok(record)
}

fn execution(
    state: &AppState,
    ctx: &Context,
    pipeline: &str,
    id: &str,
) -> Result<Execution, AwsError> {
    repo::load_execution(
        state.store.as_ref(),
        &ctx.account,
        &ctx.region,
        pipeline,
        id,
    )?
    .ok_or_else(|| {
        AwsError::new(
            codes::PIPELINE_EXECUTION_NOT_FOUND,
            format!("Pipeline Execution with ID {id} does not exist in pipeline {pipeline}"),
        )
    })
}

/// What starts an execution, and with what.
#[derive(Default)]
pub struct StartRequest {
    pub trigger_type: &'static str,
    /// Defaults to the caller's ARN.
    pub trigger_detail: Option<String>,
    pub variables: Vec<(String, String)>,
    pub overrides: Vec<SourceRevisionOverride>,
    pub client_token: Option<String>,
}

/// Starts an execution of the pipeline's current version (CreatePipeline, StartPipelineExecution,
/// PutActionRevision and webhooks all start through here).
pub async fn start_execution(
    state: &AppState,
    ctx: &Context,
    record: &PipelineRecord,
    req: StartRequest,
) -> Result<String, AwsError> {
    let StartRequest {
        trigger_type,
        trigger_detail,
        variables,
        overrides,
        client_token,
    } = req;
    let decl = &record.declaration;
    let resolved = start::resolve_variables(decl, &variables)?;
    start::check_source_overrides(decl, &overrides)?;
    let version = decl.version.unwrap_or(1);
    let trigger = Trigger {
        trigger_type: trigger_type.to_owned(),
        trigger_detail: trigger_detail.unwrap_or_else(|| caller(ctx)),
    };
    let key = PipelineKey::new(&ctx.account, &ctx.region, &decl.name);
    state
        .engine
        .with_machine_at(&key, version, |m| {
            if let Some(id) = client_token
                .as_ref()
                .and_then(|t| m.runtime.client_tokens.get(t))
            {
                return Ok(id.clone());
            }
            let id = m.start(version, trigger, resolved, overrides)?;
            if let Some(t) = client_token {
                m.runtime.client_tokens.insert(t, id.clone());
            }
            Ok(id)
        })
        .await
}

/// One execution (when `only` names it) or every execution of the pipeline, newest first:
/// what ListActionExecutions and ListRuleExecutions read.
pub fn executions_of(
    state: &AppState,
    ctx: &Context,
    pipeline: &str,
    only: Option<String>,
) -> Result<Vec<Execution>, AwsError> {
    if let Some(id) = only {
        return Ok(vec![execution(state, ctx, pipeline, &id)?]);
    }
    let store = state.store.as_ref();
    let mut out = Vec::new();
    for (_, id) in store.scan(
        &Keys::execution_orders(&ctx.account, &ctx.region, pipeline),
        None,
        usize::MAX,
    )? {
        if let Some(e) = repo::load_execution(
            store,
            &ctx.account,
            &ctx.region,
            pipeline,
            &String::from_utf8_lossy(&id),
        )? {
            out.push(e);
        }
    }
    Ok(out)
}

pub async fn start(state: &AppState, ctx: &Context, input: StartInput) -> Result<Value, AwsError> {
    let record = repo::load_pipeline(state.store.as_ref(), &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| AwsError::pipeline_not_found_to_start(&input.name, &ctx.account))?;
    let variables: Vec<(String, String)> = input
        .variables
        .into_iter()
        .map(|v| (v.name, v.value))
        .collect();
    let req = StartRequest {
        trigger_type: "StartPipelineExecution",
        variables,
        overrides: input.source_revisions,
        client_token: input.client_request_token,
        ..StartRequest::default()
    };
    let id = start_execution(state, ctx, &record, req).await?;
    Ok(json!({ "pipelineExecutionId": id }))
}

pub async fn get(
    state: &AppState,
    ctx: &Context,
    input: ExecutionInput,
) -> Result<Value, AwsError> {
    pipeline(state, ctx, &input.pipeline_name)?;
    let e = execution(
        state,
        ctx,
        &input.pipeline_name,
        &input.pipeline_execution_id,
    )?;
    Ok(json!({ "pipelineExecution": present::execution(&e) }))
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    pipeline(state, ctx, &input.pipeline_name)?;
    let store = state.store.as_ref();
    let prefix = Keys::execution_orders(&ctx.account, &ctx.region, &input.pipeline_name);
    let mut after = paging::key_after(input.next_token.as_deref(), &prefix)?;
    let limit = input.max_results.unwrap_or(DEFAULT_PAGE);
    let stage = input
        .filter
        .and_then(|f| f.succeeded_in_stage)
        .and_then(|s| s.stage_name);
    let mut summaries = Vec::new();
    let mut next = None;
    let mut last_included: Option<String> = None;
    'pages: loop {
        let page = store.scan(&prefix, after.as_deref(), 100)?;
        if page.is_empty() {
            break;
        }
        for (key, id) in page {
            after = Some(key.clone());
            let id = String::from_utf8_lossy(&id).into_owned();
            let Some(e) =
                repo::load_execution(store, &ctx.account, &ctx.region, &input.pipeline_name, &id)?
            else {
                continue;
            };
            let keep = stage.as_deref().is_none_or(|s| {
                e.stage(s)
                    .is_some_and(|st| st.status == Some(StageStatus::Succeeded))
            });
            if !keep {
                continue;
            }
            if summaries.len() == limit {
                next = last_included.as_deref().map(paging::key_token);
                break 'pages;
            }
            summaries.push(present::summary(&e));
            last_included = Some(key);
        }
    }
    // The token names the last record of this page; the next page's scan starts after it.
    let mut reply = json!({ "pipelineExecutionSummaries": summaries });
    if let Some(token) = next {
        reply["nextToken"] = json!(token);
    }
    Ok(reply)
}

pub async fn stop(state: &AppState, ctx: &Context, input: StopInput) -> Result<Value, AwsError> {
    pipeline(state, ctx, &input.pipeline_name)?;
    execution(
        state,
        ctx,
        &input.pipeline_name,
        &input.pipeline_execution_id,
    )?;
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    let id = input.pipeline_execution_id.clone();
    state
        .engine
        .with_machine(&key, None, |m| m.stop(&id, input.abandon, input.reason))
        .await?;
    Ok(json!({ "pipelineExecutionId": input.pipeline_execution_id }))
}

pub async fn retry(state: &AppState, ctx: &Context, input: RetryInput) -> Result<Value, AwsError> {
    pipeline_with_stage(state, ctx, &input.pipeline_name, &input.stage_name)?;
    execution(
        state,
        ctx,
        &input.pipeline_name,
        &input.pipeline_execution_id,
    )?;
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    let id = input.pipeline_execution_id.clone();
    let all = input.retry_mode == "ALL_ACTIONS";
    state
        .engine
        .with_machine(&key, Some(&id), |m| m.retry(&id, &input.stage_name, all))
        .await?;
    Ok(json!({ "pipelineExecutionId": input.pipeline_execution_id }))
}

/// The declaration of `stage`/`action` in the pipeline's current version, or the AWS error
/// naming what is missing.
pub fn declared_action<'a>(
    record: &'a PipelineRecord,
    stage: &str,
    action: &str,
) -> Result<&'a ActionDeclaration, AwsError> {
    let decl = &record.declaration;
    let found = decl
        .stages
        .iter()
        .find(|s| s.name == stage)
        .ok_or_else(|| stage_not_found(stage, &decl.name))?;
    found
        .actions
        .iter()
        .find(|a| a.name == action)
        .ok_or_else(|| {
            AwsError::new(
                codes::ACTION_NOT_FOUND,
                format!("Action {action} does not exist in stage {stage}"),
            )
        })
}

pub fn stage_not_found(stage: &str, pipeline: &str) -> AwsError {
    AwsError::new(
        codes::STAGE_NOT_FOUND,
        format!("Stage {stage} does not exist in pipeline {pipeline}"),
    )
}

pub async fn state_of(
    state: &AppState,
    ctx: &Context,
    input: StateInput,
) -> Result<Value, AwsError> {
    let record = pipeline(state, ctx, &input.name)?;
    let store = state.store.as_ref();
    let runtime = repo::load_runtime(store, &ctx.account, &ctx.region, &input.name)?;
    let active = repo::load_active(store, &ctx.account, &ctx.region, &input.name)?;
    let decl = &record.declaration;
    let custom = repo::load_custom_action_types(store, &ctx.account, &ctx.region)?;
    let catalog = Catalog::new(&custom);
    let mut stages = Vec::new();
    let mut executions = std::collections::HashMap::new();
    for (i, stage) in decl.stages.iter().enumerate() {
        let mut s = json!({ "stageName": stage.name });
        if i > 0 {
            s["inboundTransitionState"] = present::transition(runtime.transitions.get(&stage.name));
        }
        let inbound = present::inbound(&stage.name, &active);
        if let Some(first) = inbound.first() {
            s["inboundExecution"] = first.clone();
            s["inboundExecutions"] = json!(inbound);
        }
        let actions: Vec<Value> = stage
            .actions
            .iter()
            .map(|a| {
                let mut v = json!({ "actionName": a.name });
                let config = a.configuration.clone().unwrap_or_default();
                if let Some(url) = catalog
                    .find(&a.action_type_id)
                    .and_then(|t| t.entity_url(&config, &ctx.region))
                {
                    v["entityUrl"] = json!(url);
                }
                if let Some(latest) = runtime
                    .action_latest
                    .get(&format!("{}/{}", stage.name, a.name))
                {
                    v["latestExecution"] = present::action_execution(&latest.run);
                    if let Some(r) = &latest.current_revision {
                        v["currentRevision"] = present::revision(r);
                    }
                }
                v
            })
            .collect();
        s["actionStates"] = json!(actions);
        let has_conditions = stage.before_entry.is_some()
            || stage.on_success.is_some()
            || stage.on_failure.is_some();
        if let Some((id, _)) = runtime
            .stage_latest
            .get(&stage.name)
            .filter(|_| has_conditions)
        {
            // Condition states come from the execution that last entered the stage. Reading a
            // whole execution is the dearest part of this call, so only stages with conditions
            // do it, and each execution is read once.
            if !executions.contains_key(id) {
                let e = repo::load_execution(store, &ctx.account, &ctx.region, &input.name, id)?;
                executions.insert(id.clone(), e);
            }
            if let Some(Some(e)) = executions.get(id) {
                super::conditions::condition_states(e, &stage.name, &mut s);
            }
        }
        if let Some((id, status)) = runtime.stage_latest.get(&stage.name) {
            s["latestExecution"] =
                json!({ "pipelineExecutionId": id, "status": status, "type": "STANDARD" });
        }
        stages.push(s);
    }
    Ok(json!({
        "pipelineName": decl.name,
        "pipelineVersion": decl.version,
        "stageStates": stages,
        "created": record.created,
        "updated": record.updated,
    }))
}

pub async fn list_actions(
    state: &AppState,
    ctx: &Context,
    input: ActionsInput,
) -> Result<Value, AwsError> {
    pipeline(state, ctx, &input.pipeline_name)?;
    let store = state.store.as_ref();
    let limit = input.max_results.unwrap_or(DEFAULT_PAGE);
    let start = paging::offset(input.next_token.as_deref(), None)?;
    let only = input.filter.and_then(|f| f.pipeline_execution_id);
    let executions = executions_of(state, ctx, &input.pipeline_name, only)?;
    let mut details = Vec::new();
    'all: for e in &executions {
        let decl = repo::load_pipeline_version(
            store,
            &ctx.account,
            &ctx.region,
            &input.pipeline_name,
            e.pipeline_version,
        )?;
        // Every attempt (retries keep earlier ones), newest first; actions that started at the
        // same moment are listed in reverse pipeline order, as AWS lists them.
        let mut runs: Vec<(usize, &str, &ActionRun)> = e
            .stages
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.history
                    .iter()
                    .chain(s.actions.iter())
                    .filter(|a| a.status.is_some())
                    .map(move |a| (i, s.name.as_str(), a))
            })
            .collect();
        runs.sort_by(|a, b| {
            let newer =
                b.2.start_time
                    .unwrap_or(0.0)
                    .total_cmp(&a.2.start_time.unwrap_or(0.0));
            newer
                .then(b.0.cmp(&a.0))
                .then(b.2.run_order.cmp(&a.2.run_order))
        });
        for (_, stage, run) in runs {
            let action = decl
                .as_ref()
                .and_then(|d| present::find_action(d, stage, &run.name));
            details.push(present::action_detail(e, stage, run, action, &ctx.region));
            if details.len() > start.saturating_add(limit) {
                break 'all;
            }
        }
    }
    let more = details.len() > start.saturating_add(limit);
    let page: Vec<Value> = details.into_iter().skip(start).take(limit).collect();
    let mut reply = json!({ "actionExecutionDetails": page });
    if more {
        reply["nextToken"] = json!(paging::offset_token(start + limit));
    }
    Ok(reply)
}
