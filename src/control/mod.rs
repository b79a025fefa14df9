//! The `/_local/` control plane: health (also at `/_localstack/health` for tools that probe it)
//! and reset; engine controls (durations, faults, clock) in `engine`; the console in `console`.

mod console;
mod engine;
mod source_events;
mod webhook_trigger;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::services::codepipeline::api::IMPLEMENTED;
use crate::state::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_local/health", get(health))
        .route("/_localstack/health", get(localstack_health))
        .route("/_local/reset", post(reset))
        .route("/_webhooks/trigger", post(webhook_trigger::trigger))
        .route("/_local/source-events", post(source_events::post))
        .route(
            "/_local/config",
            get(engine::get_config).post(engine::set_config),
        )
        .route(
            "/_local/faults",
            get(engine::list_faults)
                .post(engine::add_fault)
                .delete(engine::clear_faults),
        )
        .route(
            "/_local/clock",
            get(engine::get_clock).post(engine::advance_clock),
        )
        .merge(console::routes())
}

/// Answers without touching the service model, so a health probe right after start does not
/// wait for the model to be parsed (a unit test keeps `IMPLEMENTED` equal to the model's list).
async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let missing: [&str; 0] = [];
    Json(json!({
        "status": "running",
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store.describe(),
        "operations": { "implemented": IMPLEMENTED, "notImplemented": missing },
    }))
}

async fn localstack_health() -> impl IntoResponse {
    Json(
        json!({ "services": { "codepipeline": "running" }, "edition": "codepipeline-local", "version": env!("CARGO_PKG_VERSION") }),
    )
}

async fn reset(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    state.engine.clear().await;
    match state.store.clear() {
        Ok(()) => (StatusCode::OK, Json(json!({ "reset": true }))),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "reset": false, "error": e.to_string() })),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::model::Model;

    #[test]
    fn every_model_operation_is_implemented() {
        let model: Vec<&str> = Model::get().operations.keys().map(String::as_str).collect();
        let mut implemented = IMPLEMENTED.to_vec();
        implemented.sort_unstable();
        assert_eq!(implemented, model);
    }
}
