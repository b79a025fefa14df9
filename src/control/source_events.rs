//! `POST /_local/source-events`: a simulated push or pull request on a repository behind a
//! CodeStarSourceConnection. Every pipeline (any account or region) whose triggers match starts,
//! with the pushed commit as its source revision and trigger type `WebhookV2`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::call::Context;
use crate::services::codepipeline::domain::execution::model::SourceRevisionOverride;
use crate::services::codepipeline::domain::triggers::{self, SourceEvent};
use crate::services::codepipeline::records::PipelineRecord;
use crate::services::codepipeline::service::{start_execution, StartRequest};
use crate::state::AppState;
use crate::store::decode;

pub async fn post(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let event: SourceEvent = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            let message = format!(
                "expected {{\"repository\": \"owner/repo\", \"branch\": \"main\", ...}}: {e}"
            );
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response();
        }
    };
    let commit = event
        .commit_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    match start_matching(&state, &event, &commit).await {
        Ok((started, errors)) => {
            Json(json!({ "commitId": commit, "started": started, "errors": errors }))
                .into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// Starts every pipeline (any account or region) whose triggers match `event`, with `commit`
/// as its source revision: what a push or pull request on a connection's repository does.
pub async fn start_matching(
    state: &AppState,
    event: &SourceEvent,
    commit: &str,
) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>), crate::store::StoreError> {
    let pipelines = state.store.scan("pipeline/", None, usize::MAX)?;
    let mut started = Vec::new();
    let mut errors = Vec::new();
    for (key, bytes) in pipelines {
        let Ok(record) = decode::<PipelineRecord>(&bytes) else {
            continue;
        };
        let Some(action) = triggers::starts(&record.declaration, event) else {
            continue;
        };
        // Keys are `pipeline/ACCOUNT/REGION/NAME`.
        let mut parts = key.splitn(4, '/').skip(1);
        let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
            continue;
        };
        let ctx = Context::new(account, region);
        let req = StartRequest {
            trigger_type: "WebhookV2",
            trigger_detail: Some(
                event
                    .connection_arn
                    .clone()
                    .unwrap_or_else(|| event.repository.clone()),
            ),
            overrides: vec![SourceRevisionOverride {
                action_name: action,
                revision_type: "COMMIT_ID".to_owned(),
                revision_value: commit.to_owned(),
            }],
            ..StartRequest::default()
        };
        match start_execution(state, &ctx, &record, req).await {
            Ok(id) => started.push(json!({
                "account": account, "region": region, "pipeline": record.declaration.name, "pipelineExecutionId": id,
            })),
            Err(e) => errors.push(json!({ "pipeline": record.declaration.name, "error": e.message })),
        }
    }
    Ok((started, errors))
}
