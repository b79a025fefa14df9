//! What a web browser may do to this server. It runs beside the developer's browser, so a page
//! of any other origin must not change its state (CSRF) or read it through a rebound DNS name.
//! One middleware in front of every route applies, in order:
//!
//! 1. the **Host check** (`hosts`): while listening on loopback, or when `--allowed-hosts` is
//!    given, only loopback names, those hosts and their S3 virtual-host forms are served;
//! 2. **CORS** (`origins`): preflights from `--cors-allowed-origins` are approved and replies to
//!    them carry `Access-Control-Allow-Origin`; other origins get no approval;
//! 3. on the control plane (`/_local/`, the console), the **control token** (`token`) when one is
//!    set, then for state-changing requests the **origin** (same origin or an allowed one) and a
//!    JSON **content type**, which no cross-origin page can send without a preflight.
//!
//! A preflight naming an S3 bucket from an origin the flags do not allow is left to the bucket's
//! CORS rules (`services::s3::cors`), as S3 answers it.
//!
//! Webhook URLs (`/_webhooks/`) are for callers outside the browser and check their own
//! signatures, so only the Host check applies to them.

pub mod hosts;
mod origins;
mod token;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::Config;
use crate::state::AppState;

pub use token::TOKEN_HEADER;

/// The policy the flags set, fixed at start.
#[derive(Debug, Clone, Default)]
pub struct BrowserPolicy {
    hosts: hosts::Hosts,
    origins: origins::Origins,
    token: Option<String>,
}

impl BrowserPolicy {
    /// `--control-token auto` (and `--verify-signatures` without a token) makes a fresh token.
    pub fn from_config(config: &Config) -> Self {
        let token = match config.control_token.as_deref() {
            Some("auto") => Some(token::fresh()),
            Some(t) => Some(t.to_owned()),
            None if config.verify_signatures => Some(token::fresh()),
            None => None,
        };
        BrowserPolicy {
            hosts: hosts::Hosts::new(&config.host, &config.allowed_hosts),
            origins: origins::Origins::new(&config.cors_allowed_origins),
            token,
        }
    }

    /// The token the console URL must carry, if one is required.
    pub fn control_token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

fn is_control_plane(path: &str) -> bool {
    path.starts_with("/_local/") || path == "/_local"
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A refusal the browser's page (or the developer reading the console) can understand.
fn refuse(status: StatusCode, message: String) -> Response {
    tracing::warn!(status = status.as_u16(), %message, "browser policy refused a request");
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "__type": "AccessDeniedException", "message": message }).to_string(),
    )
        .into_response()
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let policy = &state.browser;
    let headers = request.headers();
    let host = header_text(headers, "host")
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    if let Some(host) = host.as_deref() {
        if !policy.hosts.admits(host) {
            return refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "Host '{}' is not served: codepipeline-local answers loopback names only while it listens on loopback; \
                     name other hosts with --allowed-hosts",
                    hosts::without_port(host)
                ),
            );
        }
    }
    let path = request.uri().path().to_owned();
    let control = is_control_plane(&path);
    let origin = header_text(headers, "origin").map(str::to_owned);
    let same_origin = origin
        .as_deref()
        .zip(host.as_deref())
        .is_some_and(|(o, h)| origins::is_same_origin(o, h));
    let allowed_origin = origin
        .as_deref()
        .filter(|o| !same_origin && policy.origins.admits(o))
        .map(str::to_owned);

    if request.method() == Method::OPTIONS && headers.contains_key("access-control-request-method")
    {
        // A preflight naming a bucket is the bucket's own CORS rules to answer, as in S3.
        let names_bucket = !control
            && !path.starts_with("/_webhooks")
            && crate::wire::s3::bucket_of(&request).is_some();
        if allowed_origin.is_none() && names_bucket {
            return next.run(request).await;
        }
        return match &allowed_origin {
            Some(o) => origins::preflight(o, headers, control),
            None => refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "Cross-origin requests from '{}' are not allowed; allow an origin with --cors-allowed-origins",
                    origin.as_deref().unwrap_or("an unnamed origin")
                ),
            ),
        };
    }

    if control {
        if let Some(expected) = policy.token.as_deref() {
            if path != "/_local/health" {
                match token::check(expected, &request) {
                    token::Outcome::Granted => {}
                    token::Outcome::GrantedFromQuery(port) => {
                        return token::set_cookie_and_redirect(expected, &port, &path);
                    }
                    token::Outcome::Refused(message) => {
                        return refuse(StatusCode::UNAUTHORIZED, message)
                    }
                }
            }
        }
        if changes_state(request.method()) {
            let cross_site = header_text(headers, "sec-fetch-site")
                .is_some_and(|s| !matches!(s, "same-origin" | "none"));
            let foreign = match origin.as_deref() {
                Some(_) => !same_origin && allowed_origin.is_none(),
                None => cross_site,
            };
            if foreign {
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "A page from '{}' may not change this server's state; allow its origin with --cors-allowed-origins",
                        origin.as_deref().unwrap_or("another site")
                    ),
                );
            }
            if has_body(headers) && !is_json(header_text(headers, "content-type")) {
                return refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "The control plane takes JSON bodies only: send Content-Type: application/json"
                        .to_owned(),
                );
            }
        }
    }

    let mut response = next.run(request).await;
    if let Some(o) = allowed_origin {
        origins::decorate(&mut response, &o);
    }
    response
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || header_text(headers, "content-length")
            .and_then(|l| l.trim().parse::<u64>().ok())
            .is_some_and(|l| l > 0)
}

/// JSON media types, none of which is CORS-safelisted: a page of another origin cannot send
/// them without a preflight.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || media.starts_with("application/x-amz-json-")
}

/// Header values this module writes are ASCII it chose or checked.
fn value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_only() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/x-amz-json-1.1")));
        for other in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            assert!(!is_json(Some(other)), "{other}");
        }
        assert!(!is_json(None));
    }
}
