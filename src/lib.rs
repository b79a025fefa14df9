//! codepipeline-local: an offline emulator of AWS CodePipeline. `app` builds the router so tests
//! can run the server in-process; `main.rs` adds flags, logging and signals.

pub mod allocator;
pub mod call;
pub mod config;
pub mod control;
pub mod durations;
pub mod error;
pub mod memory;
pub mod services;
pub mod state;
pub mod store;
pub mod wire;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::Router;

pub use config::Config;
pub use state::AppState;

/// The whole HTTP surface: the AWS protocol at `POST /` and the control plane under `/_local/`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/",
            post(wire::json::http::handle).fallback(wire::json::http::not_routable),
        )
        .merge(control::routes())
        .merge(services::codecommit::remote::routes())
        // The protocol handler enforces its own limit so it can answer with an AWS error.
        .layer(DefaultBodyLimit::disable())
        // S3 requests never reach the routes: s3s answers them.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wire::s3::dispatch,
        ))
        // Before every route: what a web page of another origin or name may do.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wire::browser::guard,
        ))
        .with_state(state)
}
