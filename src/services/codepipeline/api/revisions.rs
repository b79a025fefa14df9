//! PutActionRevision: a source action reports a revision; a new one starts an execution that
//! uses it (trigger `PutActionRevision`), a known one changes nothing.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::AwsError;
use crate::services::codepipeline::domain::execution::model::SourceRevisionOverride;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::{
    declared_action, pipeline, start_execution, StartRequest,
};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRevision {
    revision_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionInput {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    action_revision: ActionRevision,
}

/// The override type each source provider takes for a revision id.
fn revision_type(provider: &str) -> &'static str {
    match provider {
        "S3" => "S3_OBJECT_VERSION_ID",
        "ECR" => "IMAGE_DIGEST",
        _ => "COMMIT_ID",
    }
}

pub async fn put_action_revision(
    state: &AppState,
    ctx: &Context,
    input: RevisionInput,
) -> Result<Value, AwsError> {
    let record = pipeline(state, ctx, &input.pipeline_name)?;
    let action = declared_action(&record, &input.stage_name, &input.action_name)?;
    if action.action_type_id.category != "Source" {
        return Err(AwsError::validation(format!(
            "Action {} is not a source action; only source actions take revisions",
            input.action_name
        )));
    }
    let runtime = repo::load_runtime(
        state.store.as_ref(),
        &ctx.account,
        &ctx.region,
        &input.pipeline_name,
    )?;
    let current = runtime
        .action_latest
        .get(&format!("{}/{}", input.stage_name, input.action_name))
        .and_then(|l| l.current_revision.as_ref())
        .map(|r| r.revision_id.clone());
    let revision = input.action_revision.revision_id;
    if current.as_deref() == Some(revision.as_str()) {
        return Ok(json!({ "newRevision": false }));
    }
    let overrides = vec![SourceRevisionOverride {
        action_name: input.action_name.clone(),
        revision_type: revision_type(&action.action_type_id.provider).to_owned(),
        revision_value: revision,
    }];
    let req = StartRequest {
        trigger_type: "PutActionRevision",
        overrides,
        ..StartRequest::default()
    };
    let id = start_execution(state, ctx, &record, req).await?;
    Ok(json!({ "newRevision": true, "pipelineExecutionId": id }))
}
