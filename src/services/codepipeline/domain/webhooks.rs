//! Webhooks (V1 GitHub source): definition rules, the secret that never leaves the server,
//! the JSONPath filters use (`serde_json_path`), `{Property}` references to the target action's
//! configuration, GitHub HMAC signatures and IP ranges.

use std::collections::BTreeMap;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json_path::JsonPath;

use super::enums::WebhookAuthentication;
use crate::error::{codes, AwsError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub json_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_equals: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthConfig {
    #[serde(
        rename = "AllowedIPRange",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_ip_range: Option<String>,
    #[serde(
        rename = "SecretToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDefinition {
    pub name: String,
    pub target_pipeline: String,
    pub target_action: String,
    pub filters: Vec<Filter>,
    pub authentication: String,
    pub authentication_configuration: AuthConfig,
}

fn auth_error(message: String) -> AwsError {
    AwsError::new(codes::INVALID_WEBHOOK_AUTHENTICATION_PARAMETERS, message)
}

/// Checks authentication parameters and filter patterns, as `PutWebhook` does. The API
/// reference: UNAUTHENTICATED sets no property, GITHUB_HMAC only `SecretToken`, IP only
/// `AllowedIPRange`, a valid CIDR. The texts, Java's `Optional[...]` included, are live AWS's as
/// `cdk-preflight` recorded them; "should be empty" is only a fragment there (tests/fidelity).
pub fn check(def: &WebhookDefinition) -> Result<(), AwsError> {
    let config = &def.authentication_configuration;
    let only = |property: &str| {
        auth_error(format!(
            "Optional['authenticationConfig' should contain only one property: '{property}']"
        ))
    };
    let (token, range) = (
        config.secret_token.as_deref().filter(|t| !t.is_empty()),
        config.allowed_ip_range.as_deref(),
    );
    match WebhookAuthentication::parse(&def.authentication) {
        Some(WebhookAuthentication::Unauthenticated)
            if config.secret_token.is_some() || range.is_some() =>
        {
            return Err(auth_error(
                "Optional['authenticationConfig' should be empty]".to_owned(),
            ));
        }
        Some(WebhookAuthentication::GithubHmac) if token.is_none() || range.is_some() => {
            return Err(only("SecretToken"))
        }
        Some(WebhookAuthentication::Ip) if range.is_none() || config.secret_token.is_some() => {
            return Err(only("AllowedIPRange"))
        }
        Some(WebhookAuthentication::Ip) => {
            let range = config.allowed_ip_range.as_deref().unwrap_or_default();
            if parse_range(range).is_none() {
                return Err(auth_error(format!(
                    "IP authentication requires AllowedIPRange in CIDR notation, not '{range}'"
                )));
            }
        }
        _ => {}
    }
    for f in &def.filters {
        if JsonPath::parse(&f.json_path).is_err() {
            return Err(AwsError::new(
                codes::INVALID_WEBHOOK_FILTER_PATTERN,
                format!("The JsonPath '{}' is not valid", f.json_path),
            ));
        }
    }
    Ok(())
}

/// The definition as every reply shows it: without the secret.
pub fn without_secret(def: &WebhookDefinition) -> WebhookDefinition {
    let mut shown = def.clone();
    shown.authentication_configuration.secret_token = None;
    shown
}

/// The value at `path` (JSONPath, RFC 9535: `$.ref`, `$['key']`, `$.commits[0].id`) in
/// `value`: its first match.
pub fn json_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    JsonPath::parse(path).ok()?.query(value).first()
}

/// `{Property}` references in `matchEquals` replaced with the target action's configuration.
fn expand(pattern: &str, config: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        out.push_str(config.get(&rest[start + 1..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Every filter passes: its path resolves and, when given, equals the expanded `matchEquals`.
/// On a miss, says which filter did not match.
pub fn filters_match(
    def: &WebhookDefinition,
    body: &Value,
    config: &BTreeMap<String, String>,
) -> Result<(), String> {
    for f in &def.filters {
        let found = json_path(body, &f.json_path)
            .ok_or_else(|| format!("{} is not in the payload", f.json_path))?;
        if let Some(pattern) = &f.match_equals {
            let wanted = expand(pattern, config)
                .ok_or_else(|| format!("{pattern} names a property the action does not have"))?;
            let actual = match found {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if actual != wanted {
                return Err(format!("{} is '{actual}', not '{wanted}'", f.json_path));
            }
        }
    }
    Ok(())
}

/// GitHub's signature headers: `X-Hub-Signature-256: sha256=HEX` (preferred) or
/// `X-Hub-Signature: sha1=HEX`, an HMAC of the body with the secret, compared in constant time.
pub fn github_signature_valid(
    secret: &str,
    body: &[u8],
    sha256: Option<&str>,
    sha1: Option<&str>,
) -> bool {
    if let Some(sig) = sha256
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    {
        return Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .map(|mut m| {
                m.update(body);
                m.verify_slice(&sig).is_ok()
            })
            .unwrap_or(false);
    }
    if let Some(sig) = sha1
        .and_then(|s| s.strip_prefix("sha1="))
        .and_then(|h| hex::decode(h).ok())
    {
        return Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
            .map(|mut m| {
                m.update(body);
                m.verify_slice(&sig).is_ok()
            })
            .unwrap_or(false);
    }
    false
}

/// A network from `10.0.0.0/8`, `192.0.2.7` (one address) or `2001:db8::/32`.
fn parse_range(range: &str) -> Option<IpNet> {
    range
        .parse::<IpNet>()
        .ok()
        .or_else(|| range.parse::<IpAddr>().ok().map(IpNet::from))
}

pub fn ip_allowed(range: &str, ip: IpAddr) -> bool {
    parse_range(range).is_some_and(|net| net.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths_and_filters() {
        let body = json!({"ref": "refs/heads/main", "commits": [{"id": "abc"}], "repository": {"name": "app"}});
        assert_eq!(json_path(&body, "$.ref"), Some(&json!("refs/heads/main")));
        assert_eq!(json_path(&body, "$.commits[0].id"), Some(&json!("abc")));
        assert_eq!(
            json_path(&body, "$['repository']['name']"),
            Some(&json!("app"))
        );
        assert!(JsonPath::parse("ref").is_err());
        let def = WebhookDefinition {
            name: "w".into(),
            target_pipeline: "p".into(),
            target_action: "Source".into(),
            filters: vec![Filter {
                json_path: "$.ref".into(),
                match_equals: Some("refs/heads/{Branch}".into()),
            }],
            authentication: "UNAUTHENTICATED".into(),
            authentication_configuration: AuthConfig::default(),
        };
        let main = BTreeMap::from([("Branch".to_owned(), "main".to_owned())]);
        let dev = BTreeMap::from([("Branch".to_owned(), "dev".to_owned())]);
        assert!(filters_match(&def, &body, &main).is_ok());
        assert!(filters_match(&def, &body, &dev).is_err());
    }

    #[test]
    fn github_signatures() {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        m.update(b"{}");
        let hex = hex::encode(m.finalize().into_bytes());
        assert!(github_signature_valid(
            "s3cret",
            b"{}",
            Some(&format!("sha256={hex}")),
            None
        ));
        assert!(!github_signature_valid(
            "other",
            b"{}",
            Some(&format!("sha256={hex}")),
            None
        ));
        assert!(!github_signature_valid("s3cret", b"{}", None, None));
    }

    #[test]
    fn ip_ranges() {
        assert!(ip_allowed("10.0.0.0/8", "10.1.2.3".parse().unwrap()));
        assert!(!ip_allowed("10.0.0.0/8", "11.1.2.3".parse().unwrap()));
        assert!(ip_allowed("127.0.0.1", "127.0.0.1".parse().unwrap()));
        assert!(ip_allowed("::1/128", "::1".parse().unwrap()));
        assert!(parse_range("nonsense").is_none());
    }
}
