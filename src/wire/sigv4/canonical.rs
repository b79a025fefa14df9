//! The canonical request and string-to-sign the server expected, written out for the
//! `InvalidSignatureException` message as AWS writes them ("The Canonical String for this
//! request should have been ..."), so a user can diff them against their client's. The
//! signature itself is decided by `aws-sigv4`; this text is only shown when signing it gives
//! the very signature `aws-sigv4` computed, so the message never disagrees with the check.

use axum::http::{HeaderMap, Method, Uri};
use sha2::{Digest, Sha256};

use super::parse::{query_pairs, Authorization, AMZ_DATE_FORMAT};
use super::ALGORITHM;

pub struct Expected {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

pub fn expected(
    auth: &Authorization<'_>,
    secret: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Expected {
    let mut query: Vec<(String, String)> = query_pairs(uri)
        .into_iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (encode(&k, true), encode(&v, true)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut names: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let canonical_headers: String = names
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(*name)
                .iter()
                .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{}\n{}",
        method.as_str(),
        encode(uri.path(), false),
        query.join("&"),
        names.join(";"),
        hex::encode(Sha256::digest(body)),
    );
    let time = auth.time.format(AMZ_DATE_FORMAT).to_string();
    let scope = &auth.scope;
    let string_to_sign = format!(
        "{ALGORITHM}\n{time}\n{}/{}/{}/{}\n{}",
        scope.date,
        scope.region,
        scope.service,
        scope.terminator,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret,
        auth.time.into(),
        &scope.region,
        &scope.service,
    );
    let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    Expected {
        canonical_request,
        string_to_sign,
        signature,
    }
}

/// Header values are trimmed and runs of spaces become one, as SigV4 canonicalises them.
fn collapse_spaces(value: &str) -> String {
    value
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// RFC 3986 encoding as SigV4 uses it; a path keeps its slashes, and since it arrives already
/// encoded, its `%` signs are encoded again (AWS's double encoding for non-S3 services).
fn encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
