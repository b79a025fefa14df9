//! Origins: which pages may call the server from a browser. The server's own origin always may
//! (the console); `--cors-allowed-origins` names the others, for browser apps that use the AWS
//! SDK for JavaScript against the emulator, as LocalStack users do.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::value;

/// Request headers a preflight may ask for: what the AWS SDKs for JavaScript send (SigV4,
/// awsJson, S3), and the console's own.
const ALLOWED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "content-md5",
    "x-amz-target",
    "x-amz-date",
    "x-amz-user-agent",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-checksum-crc32",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-api-version",
    "x-console-account",
    "x-console-region",
    super::TOKEN_HEADER,
];

/// Reply headers a page may read: the request id and error type every AWS SDK looks at.
const EXPOSED_HEADERS: &str =
    "x-amzn-requestid, x-amzn-errortype, x-amz-request-id, x-amz-id-2, x-amz-version-id, etag";

#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// `scheme://host[:port]`, lower case, without a trailing slash.
    allowed: Vec<String>,
}

impl Origins {
    pub fn new(list: &[String]) -> Self {
        Origins {
            allowed: list
                .iter()
                .map(|o| normalise(o))
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }

    pub fn admits(&self, origin: &str) -> bool {
        let origin = normalise(origin);
        self.allowed.contains(&origin)
    }
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The server's own origin: `http://` and the Host the request was sent to.
pub fn is_same_origin(origin: &str, host: &str) -> bool {
    normalise(origin) == format!("http://{}", host.to_ascii_lowercase())
}

fn permitted(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name.starts_with("amz-sdk-") || ALLOWED_HEADERS.contains(&name.as_str())
}

/// The approval of a preflight from an allowed origin, for the headers it asks for when every
/// one of them is permitted.
pub fn preflight(origin: &str, headers: &HeaderMap, control_plane: bool) -> Response {
    let requested = headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let asked: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    if let Some(bad) = asked.iter().find(|h| !permitted(h)) {
        return super::refuse(
            StatusCode::FORBIDDEN,
            format!("The header '{bad}' may not be sent from another origin"),
        );
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let methods = if control_plane {
        "GET, POST, DELETE"
    } else {
        "GET, HEAD, PUT, POST, DELETE"
    };
    let out = response.headers_mut();
    decorate_headers(out, origin);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    if let Some(v) = value(&asked.join(", ")).filter(|_| !asked.is_empty()) {
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

/// Marks a reply as readable by the allowed `origin`.
pub fn decorate(response: &mut Response, origin: &str) {
    decorate_headers(response.headers_mut(), origin);
}

fn decorate_headers(out: &mut HeaderMap, origin: &str) {
    if let Some(v) = value(origin) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    out.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    out.append(header::VARY, HeaderValue::from_static("Origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_case_or_trailing_slash() {
        let origins = Origins::new(&["https://App.Example/".to_owned()]);
        assert!(origins.admits("https://app.example"));
        assert!(!origins.admits("https://app.example:8443"));
        assert!(!origins.admits("null"));
        assert!(is_same_origin("http://localhost:4566", "LOCALHOST:4566"));
        assert!(!is_same_origin("http://localhost:3000", "localhost:4566"));
    }

    #[test]
    fn sdk_headers_are_permitted_and_others_not() {
        for h in [
            "X-Amz-Target",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "content-type",
        ] {
            assert!(permitted(h), "{h}");
        }
        assert!(!permitted("x-evil"));
    }
}
