//! The `/_local/` control plane: health (also at `/_localstack/health` for tools that probe it)
//! and reset; what the simulation may be told (stub durations, faults, the clock) in
//! `simulation`; the console in `console`; unsigned reads of S3 objects for the console in
//! `objects`; simulated connection events (`source_events`) and the git remotes that stand for
//! connections' repositories (`git_connections`); the bus's recent events and EventBridge's
//! deliveries, listed or followed (`recent_events`).

mod console;
pub mod git_connections;
mod objects;
mod recent_events;
mod simulation;
mod source_events;
mod webhook_trigger;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;
use crate::wire::json::registry;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_local/health", get(health))
        .route("/_localstack/health", get(localstack_health))
        .route("/_local/reset", post(reset))
        .route("/_webhooks/trigger", post(webhook_trigger::trigger))
        .route("/_local/source-events", post(source_events::post))
        .route("/_local/events", get(recent_events::get))
        .merge(git_connections::routes())
        .route(
            "/_local/config",
            get(simulation::get_config).post(simulation::set_config),
        )
        .route(
            "/_local/faults",
            get(simulation::list_faults)
                .post(simulation::add_fault)
                .delete(simulation::clear_faults),
        )
        .route(
            "/_local/clock",
            get(simulation::get_clock).post(simulation::advance_clock),
        )
        .route("/_local/s3/{bucket}", get(objects::list))
        .route("/_local/s3/{bucket}/{*key}", get(objects::download))
        .merge(console::routes())
}

/// Every service of the endpoint with the operations it implements and those its model has
/// beyond them. `operations` is CodePipeline's, as before the companion services came.
async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let mut services = serde_json::Map::new();
    for service in registry::all() {
        let implemented = crate::services::implemented(service.service);
        let missing: Vec<&str> = service
            .operation_names()
            .iter()
            .map(String::as_str)
            .filter(|op| !implemented.contains(op))
            .collect();
        services.insert(
            service.service.to_owned(),
            json!({ "implemented": implemented, "notImplemented": missing }),
        );
    }
    Json(json!({
        "status": "running",
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store.describe(),
        "operations": services.get("codepipeline").cloned().unwrap_or_default(),
        "services": services,
    }))
}

async fn localstack_health() -> impl IntoResponse {
    Json(
        json!({ "services": registry::all().iter().map(|s| (s.service.to_owned(), json!("running"))).collect::<serde_json::Map<_, _>>(),
                "edition": "codepipeline-local", "version": env!("CARGO_PKG_VERSION") }),
    )
}

async fn reset(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    state.engine.clear().await;
    match state.store.clear().and_then(|()| state.objects.clear()) {
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

    #[test]
    fn every_codepipeline_operation_is_implemented() {
        let model: Vec<&str> = registry::codepipeline()
            .operations
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(crate::services::implemented("codepipeline"), model);
    }

    /// Every operation of every model reaches its service: a handler, or the service's own
    /// `NotImplementedException`, never `UnknownOperationException`.
    #[test]
    fn every_table_names_only_operations_of_its_model() {
        for service in registry::all() {
            for op in crate::services::implemented(service.service) {
                assert!(
                    service.model().operation(op).is_some(),
                    "{} {op} is not in the model",
                    service.service
                );
            }
        }
    }
}
