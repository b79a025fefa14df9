//! Which requests are S3's: everything that is not the control plane, a webhook URL, or an
//! awsJson call (an `X-Amz-Target`, a JSON content type, or a signature scoped to another
//! service). S3 requests go to the `s3s` service whole; it answers in S3's XML.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::context::new_request_id;
use super::sigv4::Scope;
use crate::state::AppState;

fn is_s3(request: &Request) -> bool {
    let path = request.uri().path();
    if path.starts_with("/_local") || path.starts_with("/_webhooks") {
        return false;
    }
    let headers = request.headers();
    if headers.contains_key("x-amz-target") {
        return false;
    }
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-amz-json"));
    if json {
        return false;
    }
    // A signature scoped to another service is an awsJson call that lost its target.
    Scope::of_request(headers, request.uri()).is_none_or(|s| s.service == "s3")
}

pub async fn dispatch(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if !is_s3(&request) {
        return next.run(request).await;
    }
    let request_id = new_request_id();
    let request = request.map(s3s::Body::http_body_unsync);
    let mut response = match state.s3.call(request).await {
        Ok(r) => r.map(Body::new),
        Err(e) => {
            tracing::error!(error = ?e, "S3 request failed inside s3s");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
            )
                .into_response()
        }
    };
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    tracing::info!(request_id = %request_id, service = "s3", status = response.status().as_u16(), "request");
    response
}
