//! The console at `/_local/console/`: a small static page (HTML, CSS and plain JavaScript built
//! into the binary, nothing fetched from elsewhere) that draws pipelines as the AWS console does
//! and follows them live. It owns no rules and no state: every read and every button goes
//! through `/_local/console/api/{Operation}`, which is the JSON API's own path (validation,
//! handlers, errors), so the page can only show and do what the API shows and does; builds'
//! records and logs, and repositories' commits and files, come the same way from CodeBuild's,
//! CloudWatch Logs' and CodeCommit's APIs (`/_local/console/api/{codebuild,logs,codecommit}/
//! {Operation}`). Live updates come from `live`.

mod live;

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::call::Context;
use crate::state::AppState;
use crate::wire::context::{is_host_like, is_region_like, DEFAULT_ACCOUNT, DEFAULT_REGION};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/console.js");
const STYLE: &str = include_str!("assets/console.css");

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_local/console",
            get(|| async { Redirect::permanent("/_local/console/") }),
        )
        .route("/_local/console/", get(|| asset(INDEX, "text/html")))
        .route(
            "/_local/console/console.js",
            get(|| asset(SCRIPT, "text/javascript")),
        )
        .route(
            "/_local/console/console.css",
            get(|| asset(STYLE, "text/css")),
        )
        .route("/_local/console/api/{operation}", post(pipeline_api))
        .route(
            "/_local/console/api/{service}/{operation}",
            post(service_api),
        )
        .route("/_local/console/events", get(live::events))
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Everything the page needs comes from this server; nothing else may run in it.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        ),
    );
    response
}

async fn pipeline_api(
    State(state): State<Arc<AppState>>,
    Path(operation): Path<String>,
    request: Request,
) -> Response {
    api(&state, "codepipeline", &operation, request).await
}

/// The services whose records the console shows besides CodePipeline's.
const SHOWN_SERVICES: [&str; 3] = ["codebuild", "codecommit", "logs"];

async fn service_api(
    State(state): State<Arc<AppState>>,
    Path((service, operation)): Path<(String, String)>,
    request: Request,
) -> Response {
    if !SHOWN_SERVICES.contains(&service.as_str()) {
        return bad_scope(
            "the console reads only codebuild, codecommit and logs besides codepipeline",
        );
    }
    api(&state, &service, &operation, request).await
}

/// Runs one operation in the account and region the page chose (`x-console-account`,
/// `x-console-region`; the defaults otherwise).
async fn api(state: &Arc<AppState>, service: &str, operation: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let chosen = |name: &str, default: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    };
    let account = chosen("x-console-account", DEFAULT_ACCOUNT);
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return bad_scope("the account must be 12 digits");
    }
    let region = chosen("x-console-region", DEFAULT_REGION);
    if !is_region_like(&region) {
        return bad_scope("the region must look like us-east-1");
    }
    let mut ctx = Context::new(account, region);
    ctx.host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_host_like(h))
        .map(str::to_owned);
    crate::wire::json::http::call(state, &ctx, service, operation, body).await
}

fn bad_scope(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "__type": "ValidationException", "message": message })),
    )
        .into_response()
}
