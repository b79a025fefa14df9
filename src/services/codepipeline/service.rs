//! CodePipeline's shared use-cases, which several handlers (and the webhook and source-event
//! endpoints) need: load a pipeline or an execution with AWS's errors, who the caller is, start
//! an execution, find a declared action. Handlers import them from here, never from each other.

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::execution::model::{
    Execution, SourceRevisionOverride, Trigger,
};
use crate::services::codepipeline::domain::execution::start;
use crate::services::codepipeline::domain::pipeline::ActionDeclaration;
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records::{self as repo, PipelineRecord};
use crate::state::AppState;

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

pub fn execution(
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
                m.runtime.remember_client_token(t, id.clone());
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
