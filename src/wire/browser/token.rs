//! The optional control token, the way Jupyter guards its local web UI: with `--control-token`
//! every control-plane request carries it, in a header or in the cookie the console gets when
//! it is first opened with `?token=`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::value;

pub const TOKEN_HEADER: &str = "x-codepipeline-local-token";

pub enum Outcome {
    Granted,
    /// The right token in the query: set the cookie (named for this port) and drop the token
    /// from the address bar.
    GrantedFromQuery(String),
    Refused(String),
}

/// A fresh random token (122 random bits).
pub fn fresh() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Cookies ignore ports, so two servers on one machine each get a cookie of their own.
fn cookie_name(port: &str) -> String {
    format!("codepipeline-local-token-{port}")
}

fn port_of(request: &Request) -> String {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("80")
        .to_owned()
}

fn matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

pub fn check(expected: &str, request: &Request) -> Outcome {
    let headers = request.headers();
    let port = port_of(request);
    if let Some(given) = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        return if matches(expected, given) {
            Outcome::Granted
        } else {
            Outcome::Refused(format!(
                "The {TOKEN_HEADER} header does not carry the server's control token (--control-token)"
            ))
        };
    }
    let name = cookie_name(&port);
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(k, v)| k == name && matches(expected, v));
    if from_cookie {
        return Outcome::Granted;
    }
    let from_query = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k == "token" && matches(expected, v));
    if from_query && request.method() == axum::http::Method::GET {
        return Outcome::GrantedFromQuery(port);
    }
    Outcome::Refused(format!(
        "This server requires its control token (--control-token): open the console with the URL \
         the server printed at start (…/_local/console/?token=…), or send the {TOKEN_HEADER} header"
    ))
}

pub fn set_cookie_and_redirect(token: &str, port: &str, path: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let cookie = format!(
        "{}={token}; Path=/_local; HttpOnly; SameSite=Strict",
        cookie_name(port)
    );
    let headers = response.headers_mut();
    if let Some(v) = value(&cookie) {
        headers.insert(header::SET_COOKIE, v);
    }
    // The path came from the request line; only plain paths are echoed back.
    let location = if path.bytes().all(|b| b.is_ascii_graphic()) {
        path
    } else {
        "/_local/console/"
    };
    if let Some(v) = value(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
