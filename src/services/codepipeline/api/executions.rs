//! StartPipelineExecution, GetPipelineExecution, ListPipelineExecutions, StopPipelineExecution,
//! RetryStageExecution, ListActionExecutions.

use serde::Deserialize;
use serde_json::{json, Value};

use super::present;
use crate::call::Context;
use crate::error::AwsError;
use crate::services::codepipeline::domain::enums::StageRetryMode;
use crate::services::codepipeline::domain::execution::model::{
    ActionRun, SourceRevisionOverride, StageStatus,
};
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::{
    execution, executions_of, pipeline, pipeline_with_stage, start_execution, StartRequest,
};
use crate::services::paging;
use crate::state::AppState;

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

pub async fn start(state: &AppState, ctx: &Context, input: StartInput) -> Result<Value, AwsError> {
    let record =
        repo::load_pipeline_shared(state.store.as_ref(), &ctx.account, &ctx.region, &input.name)?
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
    let all = StageRetryMode::parse(&input.retry_mode) == Some(StageRetryMode::AllActions);
    state
        .engine
        .with_machine(&key, Some(&id), |m| m.retry(&id, &input.stage_name, all))
        .await?;
    Ok(json!({ "pipelineExecutionId": input.pipeline_execution_id }))
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
