//! A bucket's CORS rules answering browsers, as S3 does: a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered from the first rule that allows the origin,
//! method and every requested header, or refused with 403; an actual request from an allowed
//! origin gets the `Access-Control-*` headers of the rule that allows it. Origins and headers
//! may hold one `*` wildcard each, matched by `globset`.

use super::buckets::{self, CorsRule};
use crate::store::Store;

fn matches(pattern: &str, value: &str, ignore_case: bool) -> bool {
    globset::GlobBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .literal_separator(false)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(value))
}

fn allows(rule: &CorsRule, origin: &str, method: &str, headers: &[String]) -> bool {
    rule.allowed_origins
        .iter()
        .any(|o| matches(o, origin, false))
        && rule.allowed_methods.iter().any(|m| m == method)
        && headers
            .iter()
            .all(|h| rule.allowed_headers.iter().any(|a| matches(a, h, true)))
}

/// A refusal: S3's status and XML body.
pub struct Refused {
    pub message: &'static str,
}

/// The headers of a preflight answer, or why it is refused. `None`: no such bucket (the
/// request goes on to S3, which says so).
pub fn preflight(
    store: &dyn Store,
    bucket: &str,
    origin: &str,
    method: &str,
    requested_headers: &str,
) -> Option<Result<Vec<(&'static str, String)>, Refused>> {
    let record = buckets::load(store, bucket).ok().flatten()?;
    if record.cors.is_empty() {
        return Some(Err(Refused {
            message: "CORS is not enabled for this bucket.",
        }));
    }
    let headers: Vec<String> = requested_headers
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let Some(rule) = record
        .cors
        .iter()
        .find(|r| allows(r, origin, method, &headers))
    else {
        return Some(Err(Refused {
            message: "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        }));
    };
    let mut out = answer(rule, origin);
    out.push((
        "access-control-allow-methods",
        rule.allowed_methods.join(", "),
    ));
    if !headers.is_empty() {
        out.push(("access-control-allow-headers", headers.join(", ")));
    }
    if let Some(age) = rule.max_age_seconds {
        out.push(("access-control-max-age", age.to_string()));
    }
    Some(Ok(out))
}

/// The headers an actual request from `origin` gets, when a rule allows it.
pub fn actual(
    store: &dyn Store,
    bucket: &str,
    origin: &str,
    method: &str,
) -> Vec<(&'static str, String)> {
    let Some(record) = buckets::load(store, bucket).ok().flatten() else {
        return Vec::new();
    };
    let method = if method == "HEAD" { "GET" } else { method };
    record
        .cors
        .iter()
        .find(|r| allows(r, origin, method, &[]))
        .map(|rule| {
            let mut out = answer(rule, origin);
            if !rule.expose_headers.is_empty() {
                out.push((
                    "access-control-expose-headers",
                    rule.expose_headers.join(", "),
                ));
            }
            out
        })
        .unwrap_or_default()
}

fn answer(rule: &CorsRule, origin: &str) -> Vec<(&'static str, String)> {
    let any = rule.allowed_origins.iter().any(|o| o == "*");
    let mut out = vec![
        (
            "access-control-allow-origin",
            if any {
                "*".to_owned()
            } else {
                origin.to_owned()
            },
        ),
        (
            "vary",
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_owned(),
        ),
    ];
    if !any {
        out.push(("access-control-allow-credentials", "true".to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> CorsRule {
        CorsRule {
            allowed_methods: vec!["PUT".into(), "GET".into()],
            allowed_origins: vec!["http://*.example.com".into()],
            allowed_headers: vec!["content-*".into(), "x-amz-*".into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_rule_allows_its_origins_methods_and_headers_only() {
        let r = rule();
        assert!(allows(
            &r,
            "http://app.example.com",
            "PUT",
            &["content-type".into()]
        ));
        assert!(!allows(&r, "http://evil.test", "PUT", &[]));
        assert!(!allows(&r, "http://app.example.com", "DELETE", &[]));
        assert!(!allows(
            &r,
            "http://app.example.com",
            "PUT",
            &["authorization".into()]
        ));
        assert_eq!(
            answer(&r, "http://a.example.com")[0].1,
            "http://a.example.com"
        );
    }
}
