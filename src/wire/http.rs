//! The `POST /` endpoint of the awsJson1.1 protocol: target header, body limit, JSON parsing,
//! model validation, dispatch in a task of its own (so a bug answers 500, never kills the
//! server), and the reply with `x-amzn-RequestId`. One log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::body;
use super::conformance::check_reply;
use super::context::{new_request_id, Context};
use super::guard::guarded;
use super::model::{Model, TARGET_PREFIX};
use super::normalize::normalize;
use super::sigv4;
use super::validate::validate_input;
use crate::error::AwsError;
use crate::services::codepipeline::api::{self, Reply};
use crate::state::AppState;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let ctx = Context::for_request(&parts.headers, &parts.uri, &state.credentials);
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|t| t.strip_prefix('.'))
        .unwrap_or_default()
        .to_owned();
    let result = async {
        let body = body::read(body, state.body_read_timeout).await?;
        authenticate(&state, &parts, &body)?;
        run(&state, &ctx, &target, &operation, &body).await
    }
    .await;
    answer(result, &ctx, &operation, started)
}

/// The console's way in: one operation for the account and region the console shows, through
/// the same reading, validation, handlers and replies as `POST /` (the console is trusted like
/// the rest of `/_local/`, so there is no signature to check).
pub async fn call(state: &Arc<AppState>, ctx: &Context, operation: &str, body: Body) -> Response {
    let started = Instant::now();
    let target = format!("{TARGET_PREFIX}.{operation}");
    let result = async {
        let body = body::read(body, state.body_read_timeout).await?;
        run(state, ctx, &target, operation, &body).await
    }
    .await;
    answer(result, ctx, operation, started)
}

/// The reply to a request, logged with its outcome and latency.
fn answer(
    result: Result<Reply, AwsError>,
    ctx: &Context,
    operation: &str,
    started: Instant,
) -> Response {
    let (status, body, error_type) = match result {
        Ok(Reply::Json(value)) => (StatusCode::OK, Body::from(value.to_string()), None),
        Ok(Reply::Rendered(bytes)) => (StatusCode::OK, Body::from(bytes), None),
        Err(e) => (e.status, Body::from(e.body()), Some(e.code)),
    };
    let code = status.as_u16();
    tracing::info!(
        request_id = %ctx.request_id,
        operation = %operation,
        account = %ctx.account,
        region = %ctx.region,
        status = code,
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    respond(status, body, &ctx.request_id, error_type)
}

/// Any other method on the protocol path. AWS's front end cannot route it to an operation, so
/// it answers 403 in XML, as it does for every JSON service: "Missing Authentication Token"
/// without credentials, otherwise that it cannot tell which operation to authorize.
pub async fn not_routable(request: Request) -> Response {
    let request_id = new_request_id();
    let (code, message) = if request.headers().contains_key("authorization") {
        (
            "AccessDeniedException",
            "Unable to determine service/operation name to be authorized",
        )
    } else {
        (
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    };
    tracing::info!(request_id = %request_id, method = %request.method(), status = 403, "request not routable");
    let mut response = (
        StatusCode::FORBIDDEN,
        format!("<{code}>\n  <Message>{message}</Message>\n</{code}>\n"),
    )
        .into_response();
    response.headers_mut().remove("content-type");
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

/// With `--verify-signatures`, refuses what AWS would refuse. The account was already taken
/// from the same access key, so a request that passes acts where its key says.
fn authenticate(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), AwsError> {
    if !state.verify_signatures {
        return Ok(());
    }
    sigv4::verify(
        &state.credentials,
        &parts.method,
        &parts.uri,
        &parts.headers,
        body,
        std::time::SystemTime::now(),
    )
    .map(|_| ())
}

/// The reply with AWS's headers; errors also name their type in `x-amzn-ErrorType`, as AWS's
/// front end does.
fn respond(
    status: StatusCode,
    body: Body,
    request_id: &str,
    error_type: Option<&'static str>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(code) = error_type {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    response
}

async fn run(
    state: &Arc<AppState>,
    ctx: &Context,
    target: &str,
    operation: &str,
    body: &[u8],
) -> Result<Reply, AwsError> {
    let model = Model::get();
    let Some(op) = model.operation(operation) else {
        let message = if target.is_empty() {
            "Missing X-Amz-Target header".to_owned()
        } else {
            format!("Unknown operation {target}")
        };
        return Err(AwsError::new("UnknownOperationException", message));
    };
    let mut input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| AwsError::serialization("Request body is not valid UTF-8"))?;
        serde_json::from_str(text)
            .map_err(|e| AwsError::serialization(format!("Request body is not valid JSON: {e}")))?
    };
    if !input.is_object() {
        return Err(AwsError::serialization(
            "Request body must be a JSON object",
        ));
    }
    if let Some(shape) = &op.input {
        validate_input(model, shape, &input)?;
        normalize(model, shape, &mut input);
    }
    let (task_state, task_ctx, name) = (state.clone(), ctx.clone(), op.name.clone());
    let reply = guarded(operation, async move {
        api::dispatch(&task_state, &task_ctx, &name, input).await
    })
    .await?;
    if state.check_replies {
        let value = match &reply {
            Reply::Json(v) => v.clone(),
            Reply::Rendered(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        };
        let problems = check_reply(operation, &value);
        if !problems.is_empty() {
            tracing::error!(operation = %operation, ?problems, "reply does not conform to the model");
            return Err(AwsError::internal(format!(
                "reply does not conform to the model: {}",
                problems.join("; ")
            )));
        }
    }
    Ok(reply)
}
