//! RollbackStage: run a stage again with an earlier successful execution's artifacts.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::execution::model::Trigger;
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::{caller, pipeline_with_stage};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackInput {
    pipeline_name: String,
    stage_name: String,
    target_pipeline_execution_id: String,
}

pub async fn rollback_stage(
    state: &AppState,
    ctx: &Context,
    input: RollbackInput,
) -> Result<Value, AwsError> {
    let record = pipeline_with_stage(state, ctx, &input.pipeline_name, &input.stage_name)?;
    let target = repo::load_execution(
        state.store.as_ref(),
        &ctx.account,
        &ctx.region,
        &input.pipeline_name,
        &input.target_pipeline_execution_id,
    )?
    .ok_or_else(|| {
        AwsError::new(
            codes::PIPELINE_EXECUTION_NOT_FOUND,
            format!(
                "Pipeline Execution with ID {} does not exist in pipeline {}",
                input.target_pipeline_execution_id, input.pipeline_name
            ),
        )
    })?;
    let version = record.declaration.version.unwrap_or(1);
    let trigger = Trigger {
        trigger_type: "ManualRollback".to_owned(),
        trigger_detail: caller(ctx),
    };
    let key = PipelineKey::new(&ctx.account, &ctx.region, &input.pipeline_name);
    let id = state
        .engine
        .with_machine_at(&key, version, |m| {
            m.rollback(version, &input.stage_name, &target, trigger)
        })
        .await?;
    Ok(json!({ "pipelineExecutionId": id }))
}
