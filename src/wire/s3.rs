//! Which requests are S3's: everything that is not the control plane, a webhook URL, or an
//! awsJson call (an `X-Amz-Target`, a JSON content type, or a signature scoped to another
//! service). S3 requests go to the `s3s` service whole; it answers in S3's XML. CORS is answered
//! here from the bucket's rules (`services::s3::cors`): s3s does not route `OPTIONS`.

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
    if path.starts_with("/_local")
        || path.starts_with("/_webhooks")
        || path.starts_with("/_git/")
        || crate::services::codecommit::remote::is_git_path(path)
    {
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
    let (bucket, origin, preflight) = cors_of(&state, &request, &request_id);
    if let Some(answer) = preflight {
        return answer;
    }
    let method = request.method().as_str().to_owned();
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
    if let (Some(bucket), Some(origin)) = (&bucket, &origin) {
        for (name, value) in
            crate::services::s3::cors::actual(state.store.as_ref(), bucket, origin, &method)
        {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    tracing::info!(request_id = %request_id, service = "s3", status = response.status().as_u16(), "request");
    response
}

/// The bucket and origin of a request, and the answer when it is a CORS preflight.
fn cors_of(
    state: &AppState,
    request: &Request,
    request_id: &str,
) -> (Option<String>, Option<String>, Option<Response>) {
    let bucket = bucket_of(request);
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let origin = header("origin");
    let mut answer = None;
    if request.method() == axum::http::Method::OPTIONS {
        if let (Some(bucket), Some(origin), Some(method)) =
            (&bucket, &origin, header("access-control-request-method"))
        {
            let requested = header("access-control-request-headers").unwrap_or_default();
            answer = crate::services::s3::cors::preflight(
                state.store.as_ref(),
                bucket,
                origin,
                &method,
                &requested,
            )
            .map(|a| preflight_response(a, request_id));
        }
    }
    (bucket, origin, answer)
}

/// The bucket a request names: its virtual host, else the first path segment.
pub fn bucket_of(request: &Request) -> Option<String> {
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(bucket) = crate::services::s3::bucket_of_host(host) {
        return Some(bucket.to_owned());
    }
    request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|b| !b.is_empty())
        .map(|b| {
            percent_encoding::percent_decode_str(b)
                .decode_utf8_lossy()
                .into_owned()
        })
}

fn preflight_response(
    answer: Result<Vec<(&'static str, String)>, crate::services::s3::cors::Refused>,
    request_id: &str,
) -> Response {
    let mut response = match answer {
        Ok(headers) => {
            let mut r = StatusCode::OK.into_response();
            for (name, value) in headers {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    r.headers_mut().insert(name, v);
                }
            }
            r
        }
        Err(refused) => (
            StatusCode::FORBIDDEN,
            [("content-type", "application/xml")],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessForbidden</Code><Message>{}</Message><Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType><RequestId>{request_id}</RequestId></Error>",
                refused.message
            ),
        )
            .into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    response
}
