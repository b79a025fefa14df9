//! The `POST /` endpoint of the awsJson protocol, the same for every service: the target header
//! picks the service (by prefix) and operation, then body limit, signature, JSON parsing, model
//! validation, the service's handler in a task of its own (so a bug answers 500, never kills the
//! server), and the reply with `x-amzn-RequestId`. One log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::conformance::check_reply;
use super::normalize::normalize;
use super::registry::{self, ServiceModel};
use super::validate::validate_input;
use crate::call::{Context, Reply};
use crate::error::{codes, AwsError};
use crate::state::AppState;
use crate::wire::body;
use crate::wire::context::new_request_id;
use crate::wire::guard::guarded;
use crate::wire::sigv4;

/// The content type of a request that names no service.
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
    let (prefix, operation) = target.split_once('.').unwrap_or((target.as_str(), ""));
    let service = registry::by_target_prefix(prefix);
    let result = async {
        let body = body::read(body, state.body_read_timeout).await?;
        let service = service.ok_or_else(|| unknown_operation(&target))?;
        authenticate(&state, service, &parts, &body)?;
        run(&state, &ctx, service, &target, operation, &body).await
    }
    .await;
    answer(result, &ctx, service, operation, started)
}

fn unknown_operation(target: &str) -> AwsError {
    let message = if target.is_empty() {
        "Missing X-Amz-Target header".to_owned()
    } else {
        format!("Unknown operation {target}")
    };
    AwsError::new(codes::UNKNOWN_OPERATION, message)
}

/// The console's way in: one operation of a service (`codepipeline`, or `codebuild` and
/// `logs` for build logs) for the account and region the console shows, through the same
/// reading, validation, handlers and replies as `POST /` (the console is guarded like the rest
/// of `/_local/`, so there is no signature to check).
pub async fn call(
    state: &Arc<AppState>,
    ctx: &Context,
    service: &str,
    operation: &str,
    body: Body,
) -> Response {
    let started = Instant::now();
    let service = registry::named(service);
    let result = async {
        let service = service.ok_or_else(|| unknown_operation(operation))?;
        let target = format!("{}.{operation}", service.target_prefix);
        let body = body::read(body, state.body_read_timeout).await?;
        run(state, ctx, service, &target, operation, &body).await
    }
    .await;
    answer(result, ctx, service, operation, started)
}

/// The reply to a request, logged with its outcome and latency.
fn answer(
    result: Result<Reply, AwsError>,
    ctx: &Context,
    service: Option<&ServiceModel>,
    operation: &str,
    started: Instant,
) -> Response {
    let (status, body, error_type) = match result {
        Ok(Reply::Json(value)) => (StatusCode::OK, Body::from(value.to_string()), None),
        Ok(Reply::Rendered(bytes)) => (StatusCode::OK, Body::from(bytes), None),
        Err(e) => (e.status, Body::from(e.body()), Some(e.code)),
    };
    let code = status.as_u16();
    let content_type = service.map_or(CONTENT_TYPE, ServiceModel::content_type);
    tracing::info!(
        request_id = %ctx.request_id,
        service = service.map_or("", |s| s.service),
        operation = %operation,
        account = %ctx.account,
        region = %ctx.region,
        status = code,
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    respond(status, body, content_type, &ctx.request_id, error_type)
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
    service: &ServiceModel,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), AwsError> {
    if !state.verify_signatures {
        return Ok(());
    }
    sigv4::verify(
        &state.credentials,
        service.signing_name,
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
    content_type: &'static str,
    request_id: &str,
    error_type: Option<&'static str>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
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
    service: &ServiceModel,
    target: &str,
    operation: &str,
    body: &[u8],
) -> Result<Reply, AwsError> {
    let model = service.model();
    let Some(op) = model.operation(operation) else {
        return Err(unknown_operation(target));
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
    let handler = crate::services::handler(service.service, &op.name).ok_or_else(|| {
        AwsError::new(
            codes::NOT_IMPLEMENTED,
            format!(
                "codepipeline-local does not implement {} {} yet",
                service.service, op.name
            ),
        )
        .with_status(StatusCode::NOT_IMPLEMENTED)
    })?;
    let reply = guarded(operation, handler(state.clone(), ctx.clone(), input)).await?;
    if state.check_replies {
        let value = match &reply {
            Reply::Json(v) => v.clone(),
            Reply::Rendered(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        };
        let problems = check_reply(model, operation, &value);
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
