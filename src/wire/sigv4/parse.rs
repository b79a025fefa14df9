//! Reading a SigV4 authorization from a request, from the `Authorization` header or a presigned
//! query string, with the `IncompleteSignatureException` messages AWS's front end gives when a
//! piece is missing or malformed.

use std::borrow::Cow;

use axum::http::{HeaderMap, Uri};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::{invalid_signature, ALGORITHM};
use crate::error::{codes, AwsError};

pub const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The longest a presigned request may be valid for (7 days).
const MAX_EXPIRES_SECONDS: u64 = 604_800;

/// Query parameters of a presigned request that are part of the signature, not of the request.
pub const PRESIGN_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// `Credential=AKID/DATE/REGION/SERVICE/aws4_request`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
}

impl Scope {
    fn parse(credential: &str) -> Option<Scope> {
        // AWS ignores trailing slashes when counting the elements.
        let parts: Vec<&str> = credential.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            [key, date, region, service, terminator] => Some(Scope {
                access_key: (*key).to_owned(),
                date: (*date).to_owned(),
                region: (*region).to_owned(),
                service: (*service).to_owned(),
                terminator: (*terminator).to_owned(),
            }),
            _ => None,
        }
    }

    fn parse_or_refuse(credential: &str) -> Result<Scope, AwsError> {
        Scope::parse(credential).ok_or_else(|| {
            incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
            ))
        })
    }

    /// The scope of a request, from its `Authorization` header or its presigned query string;
    /// `None` when it carries neither (or they cannot be read).
    pub fn of_request(headers: &HeaderMap, uri: &Uri) -> Option<Scope> {
        if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            let (_, fields) = split_header(auth);
            return Scope::parse(field(&fields, "Credential")?);
        }
        let query = query_pairs(uri);
        Scope::parse(query_value(&query, "X-Amz-Credential")?)
    }
}

/// A parsed SigV4 authorization, wherever it was carried.
pub struct Authorization<'a> {
    pub scope: Scope,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `X-Amz-Date` (or the HTTP `Date`) as the client sent it, and as a time.
    pub date_text: String,
    pub time: DateTime<Utc>,
    pub security_token: Option<Cow<'a, str>>,
    /// `Some(seconds)` for a presigned query string.
    pub expires: Option<u64>,
}

pub fn incomplete(message: String) -> AwsError {
    AwsError::new(codes::INCOMPLETE_SIGNATURE, message)
}

pub fn read<'a>(headers: &'a HeaderMap, uri: &Uri) -> Result<Authorization<'a>, AwsError> {
    let query = query_pairs(uri);
    let presigned = query_value(&query, "X-Amz-Algorithm").is_some();
    if let Some(value) = headers.get("authorization") {
        if presigned {
            return Err(invalid_signature(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
            ));
        }
        let text = String::from_utf8_lossy(value.as_bytes());
        return read_header(&text, headers);
    }
    if presigned {
        return read_query(&query);
    }
    Err(AwsError::new(
        codes::MISSING_AUTHENTICATION_TOKEN,
        "Missing Authentication Token",
    ))
}

fn read_header<'a>(text: &str, headers: &'a HeaderMap) -> Result<Authorization<'a>, AwsError> {
    let (algorithm, fields) = split_header(text);
    let mut missing = Vec::new();
    for name in ["Credential", "Signature", "SignedHeaders"] {
        if field(&fields, name).is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let date = header_date(headers);
    if date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_owned(),
        );
    }
    let Some((date_text, time)) = date.filter(|_| missing.is_empty()) else {
        return Err(incomplete(format!(
            "{} Authorization={text}",
            missing.join(" ")
        )));
    };
    let time = time?;
    if algorithm != ALGORITHM {
        return Err(unsupported_algorithm(algorithm));
    }
    Ok(Authorization {
        scope: Scope::parse_or_refuse(field(&fields, "Credential").unwrap_or_default())?,
        signed_headers: split_signed_headers(field(&fields, "SignedHeaders").unwrap_or_default()),
        signature: field(&fields, "Signature").unwrap_or_default().to_owned(),
        date_text,
        time,
        security_token: headers
            .get("x-amz-security-token")
            .map(|v| String::from_utf8_lossy(v.as_bytes())),
        expires: None,
    })
}

fn read_query(query: &[(String, String)]) -> Result<Authorization<'static>, AwsError> {
    let mut missing = Vec::new();
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ] {
        if query_value(query, name).is_none() {
            missing.push(format!(
                "AWS query-string parameters must include '{name}'."
            ));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "{} Re-examine the query-string parameters.",
            missing.join(" ")
        )));
    }
    let date_text = query_value(query, "X-Amz-Date")
        .unwrap_or_default()
        .to_owned();
    let time = parse_amz_date(&date_text)?;
    let algorithm = query_value(query, "X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(unsupported_algorithm(algorithm));
    }
    let expires = match query_value(query, "X-Amz-Expires") {
        None => MAX_EXPIRES_SECONDS,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= MAX_EXPIRES_SECONDS)
            .ok_or_else(|| {
                incomplete(format!(
                    "X-Amz-Expires must be a whole number of seconds from 0 to {MAX_EXPIRES_SECONDS}, not '{text}'."
                ))
            })?,
    };
    Ok(Authorization {
        scope: Scope::parse_or_refuse(query_value(query, "X-Amz-Credential").unwrap_or_default())?,
        signed_headers: split_signed_headers(
            query_value(query, "X-Amz-SignedHeaders").unwrap_or_default(),
        ),
        signature: query_value(query, "X-Amz-Signature")
            .unwrap_or_default()
            .to_owned(),
        date_text,
        time,
        security_token: query_value(query, "X-Amz-Security-Token")
            .map(|t| Cow::Owned(t.to_owned())),
        expires: Some(expires),
    })
}

fn unsupported_algorithm(algorithm: &str) -> AwsError {
    incomplete(format!(
        "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
    ))
}

/// `ALGORITHM Credential=..., SignedHeaders=..., Signature=...` as the algorithm and the
/// (name, value) pairs.
fn split_header(text: &str) -> (&str, Vec<(&str, &str)>) {
    let (algorithm, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    let fields = rest
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    (algorithm, fields)
}

fn field<'a>(fields: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

fn split_signed_headers(text: &str) -> Vec<String> {
    text.split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn percent_decode(text: &str) -> String {
    // Form encoding writes spaces as '+'.
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

type RequestTime = (String, Result<DateTime<Utc>, AwsError>);

/// The request time, from `X-Amz-Date` or else the HTTP `Date` header; `None` when neither is
/// there, an error when the one there cannot be read.
fn header_date(headers: &HeaderMap) -> Option<RequestTime> {
    if let Some(value) = headers.get("x-amz-date") {
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let time = parse_amz_date(&text);
        return Some((text, time));
    }
    let text = String::from_utf8_lossy(headers.get("date")?.as_bytes()).into_owned();
    let time = DateTime::parse_from_rfc2822(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| not_iso_8601(&text));
    Some((text, time))
}

fn parse_amz_date(text: &str) -> Result<DateTime<Utc>, AwsError> {
    NaiveDateTime::parse_from_str(text, AMZ_DATE_FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| not_iso_8601(text))
}

fn not_iso_8601(text: &str) -> AwsError {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{text}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}
