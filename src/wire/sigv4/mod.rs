//! AWS Signature Version 4: reading who signed a request and, with `--verify-signatures`,
//! checking the signature. The signature is recomputed with the `aws-sigv4` crate over exactly
//! the headers the client signed and the body it sent, and compared in constant time. Checks
//! run in the order AWS's front end runs them, each failure with AWS's error and message.

mod canonical;
mod parse;

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings,
};
use aws_sigv4::sign::v4::SigningParams;
use axum::http::{HeaderMap, Method, Uri};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

pub use parse::Scope;
use parse::{Authorization, AMZ_DATE_FORMAT, PRESIGN_PARAMS};

use super::context::is_region_like;
use super::credentials::{Credentials, Principal};
use crate::error::{codes, AwsError};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The signing name of CodePipeline, the service most requests are for.
pub const SERVICE: &str = "codepipeline";
const TERMINATOR: &str = "aws4_request";
/// How far the request time may be from the server's clock, either way.
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

pub fn invalid_signature(message: impl Into<String>) -> AwsError {
    AwsError::new(codes::INVALID_SIGNATURE, message)
}

fn invalid_token() -> AwsError {
    AwsError::new(
        codes::UNRECOGNIZED_CLIENT,
        "The security token included in the request is invalid.",
    )
}

/// Checks a request's signature against the accepted credentials and returns who signed it.
pub fn verify<'c>(
    credentials: &'c Credentials,
    service: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<&'c Principal, AwsError> {
    let auth = parse::read(headers, uri)?;
    check_time(&auth, now)?;
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(invalid_signature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    check_scope(&auth, service)?;
    let principal = credentials
        .get(&auth.scope.access_key)
        .ok_or_else(invalid_token)?;
    let computed = signature_of(&auth, principal, method, uri, headers, body);
    let matches = computed
        .as_deref()
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(auth.signature.as_bytes())));
    if !matches {
        return Err(mismatch(
            &auth, principal, computed, method, uri, headers, body,
        ));
    }
    if principal.session_token.as_deref() != auth.security_token.as_deref() {
        return Err(invalid_token());
    }
    Ok(principal)
}

/// AWS's mismatch message, followed by the canonical request and string-to-sign it expected.
fn mismatch(
    auth: &Authorization<'_>,
    principal: &Principal,
    computed: Option<String>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> AwsError {
    let expected = canonical::expected(
        auth,
        &principal.secret_access_key,
        method,
        uri,
        headers,
        body,
    );
    if computed.as_deref() != Some(expected.signature.as_str()) {
        tracing::debug!("the written-out canonical request differs from aws-sigv4's; not shown");
        return invalid_signature(MISMATCH);
    }
    invalid_signature(format!(
        "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
        expected.canonical_request, expected.string_to_sign
    ))
}

fn check_time(auth: &Authorization<'_>, now: SystemTime) -> Result<(), AwsError> {
    let now: DateTime<Utc> = now.into();
    let stamp = |t: DateTime<Utc>| t.format(AMZ_DATE_FORMAT).to_string();
    let request = stamp(auth.time);
    // A presigned request is good for its X-Amz-Expires, but never longer than the skew window.
    let (window, unit) = match auth.expires {
        Some(seconds) if seconds < MAX_SKEW.as_secs() => (seconds, format!("{seconds} sec.")),
        _ => (
            MAX_SKEW.as_secs(),
            format!("{} min.", MAX_SKEW.as_secs() / 60),
        ),
    };
    let window = chrono::Duration::seconds(window as i64);
    if auth.time < now - window {
        return Err(invalid_signature(format!(
            "Signature expired: {request} is now earlier than {} ({} - {unit})",
            stamp(now - window),
            stamp(now)
        )));
    }
    let skew = chrono::Duration::seconds(MAX_SKEW.as_secs() as i64);
    if auth.time > now + skew {
        return Err(invalid_signature(format!(
            "Signature not yet current: {request} is still later than {} ({} + 5 min.)",
            stamp(now + skew),
            stamp(now)
        )));
    }
    Ok(())
}

/// Every scope problem, in AWS's order, each sentence ending in ". ".
fn check_scope(auth: &Authorization<'_>, service: &str) -> Result<(), AwsError> {
    let scope = &auth.scope;
    let mut problems = String::new();
    // Any region-shaped name is accepted, so labs can use made-up regions.
    if !is_region_like(&scope.region) {
        problems.push_str(&format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        ));
    }
    if scope.service != service {
        problems.push_str(&format!(
            "Credential should be scoped to correct service: '{service}'. "
        ));
    }
    if scope.terminator != TERMINATOR {
        problems.push_str(&format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
            scope.terminator
        ));
    }
    let day = auth.time.format("%Y%m%d").to_string();
    if scope.date != day {
        problems.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{}'.",
            scope.date, auth.date_text
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid_signature(problems))
    }
}

/// The signature the client should have sent, computed by aws-sigv4 over the headers it says it
/// signed and the body as received. `None` when the request cannot be signed at all (a signed
/// header that is not text, say), which can only mean it was not signed right.
fn signature_of(
    auth: &Authorization<'_>,
    principal: &Principal,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<String> {
    let signed: HashSet<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    let mut pairs = Vec::new();
    for (name, value) in headers {
        if signed.contains(name.as_str()) {
            pairs.push((name.as_str(), value.to_str().ok()?));
        }
    }
    // aws-sigv4 adds these itself; a client that did not sign them must not have them added.
    let excluded: Vec<Cow<'static, str>> = [
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ]
    .into_iter()
    .filter(|h| !signed.contains(h))
    .map(Cow::Borrowed)
    .collect();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(excluded);
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    if let Some(seconds) = auth.expires {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(seconds));
    } else if !signed.contains("x-amz-security-token") {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    // Relative request targets have no authority, which aws-sigv4 needs when `host` is unsigned.
    let target = format!(
        "http://localhost{}",
        without_presign_params(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
    );
    // Only S3 honours UNSIGNED-PAYLOAD; CodePipeline hashes the body it received.
    let request = SignableRequest::new(
        method.as_str(),
        target,
        pairs.into_iter(),
        SignableBody::Bytes(body),
    )
    .ok()?;
    let identity = aws_credential_types::Credentials::new(
        auth.scope.access_key.clone(),
        principal.secret_access_key.clone(),
        auth.security_token.as_deref().map(str::to_owned),
        None,
        "codepipeline-local",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(&auth.scope.region)
        .name(&auth.scope.service)
        .time(auth.time.into())
        .settings(settings)
        .build()
        .ok()?;
    let output = sign(request, &params.into()).ok()?;
    Some(output.signature().to_owned())
}

/// The path and query without the presigning parameters, which aws-sigv4 adds back itself.
fn without_presign_params(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !PRESIGN_PARAMS.contains(&name)
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}
