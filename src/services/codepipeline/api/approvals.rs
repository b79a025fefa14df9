//! PutApprovalResult, EnableStageTransition, DisableStageTransition.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::AwsError;
use crate::services::codepipeline::domain::enums::ApprovalStatus;
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::service::{caller, declared_action, pipeline, stage_not_found};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ApprovalResult {
    summary: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalInput {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    result: ApprovalResult,
    token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitionInput {
    pipeline_name: String,
    stage_name: String,
    transition_type: String,
    reason: Option<String>,
}

pub async fn put_approval_result(
    state: &AppState,
    ctx: &Context,
    input: ApprovalInput,
) -> Result<Value, AwsError> {
    let record = pipeline(state, ctx, &input.pipeline_name)?;
    declared_action(&record, &input.stage_name, &input.action_name)?;
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    let by = caller(ctx);
    let approved = ApprovalStatus::parse(&input.result.status) == Some(ApprovalStatus::Approved);
    let at = state
        .engine
        .with_machine(&key, None, |m| {
            m.approve(
                &input.stage_name,
                &input.action_name,
                &input.token,
                approved,
                &input.result.summary,
                &by,
            )
        })
        .await?;
    Ok(json!({ "approvedAt": at }))
}

/// `Outbound` of a stage is the inbound transition of the stage after it.
fn target_stage(
    state: &AppState,
    ctx: &Context,
    input: &TransitionInput,
) -> Result<String, AwsError> {
    let record = pipeline(state, ctx, &input.pipeline_name)?;
    let stages = &record.declaration.stages;
    let i = stages
        .iter()
        .position(|s| s.name == input.stage_name)
        .ok_or_else(|| stage_not_found(&input.stage_name, &input.pipeline_name))?;
    if input.transition_type == "Inbound" {
        return Ok(input.stage_name.clone());
    }
    stages.get(i + 1).map(|s| s.name.clone()).ok_or_else(|| {
        AwsError::validation(format!(
            "Stage {} is the last stage and has no outbound transition",
            input.stage_name
        ))
    })
}

pub async fn set_transition(
    state: &AppState,
    ctx: &Context,
    input: TransitionInput,
    enabled: bool,
) -> Result<Value, AwsError> {
    let stage = target_stage(state, ctx, &input)?;
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    let by = caller(ctx);
    state
        .engine
        .with_machine(&key, None, |m| {
            m.set_transition(&stage, enabled, input.reason, &by);
            Ok(())
        })
        .await?;
    Ok(json!({}))
}
