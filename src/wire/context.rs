//! Who is calling and where: the account (from the access key id) and region (from the SigV4
//! credential scope) every resource is scoped to, plus the request id every reply carries.
//! Only reading happens here; signature verification is `sigv4`, an optional layer.

use axum::http::{HeaderMap, Uri};

use super::credentials::Credentials;
use super::sigv4::Scope;

pub const DEFAULT_ACCOUNT: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";

pub use crate::call::Context;

impl Context {
    /// The account comes from the access key of the credential scope (through the credentials
    /// file, else a 12-digit key id is the account), the region from the scope; a request
    /// without a readable scope acts in the default account and region.
    pub fn for_request(headers: &HeaderMap, uri: &Uri, credentials: &Credentials) -> Self {
        let scope = Scope::of_request(headers, uri);
        let account = match &scope {
            Some(s) => credentials.account_of(&s.access_key),
            None => DEFAULT_ACCOUNT.to_owned(),
        };
        let region = scope
            .as_ref()
            .map(|s| s.region.as_str())
            .filter(|r| is_region_like(r))
            .unwrap_or(DEFAULT_REGION);
        let mut ctx = Context::new(account, region);
        ctx.host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .filter(|h| is_host_like(h))
            .map(str::to_owned);
        ctx
    }
}

/// Hosts are echoed into URLs, so only `name[:port]` made of plain characters is taken.
pub(crate) fn is_host_like(host: &str) -> bool {
    (1..=255).contains(&host.len())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Region names become part of store keys and ARNs, so only plain names are taken from a request.
pub(crate) fn is_region_like(region: &str) -> bool {
    (1..=30).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(auth: &str) -> Context {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        Context::for_request(&h, &Uri::from_static("/"), &Credentials::default_pair())
    }

    #[test]
    fn account_and_region_come_from_the_credential_scope() {
        let c = ctx("AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/codepipeline/aws4_request, SignedHeaders=host, Signature=abc");
        assert_eq!(
            (c.account.as_str(), c.region.as_str()),
            ("123456789012", "eu-west-1")
        );
    }

    #[test]
    fn other_keys_use_the_default_account() {
        let c = ctx("AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/codepipeline/aws4_request, SignedHeaders=host, Signature=abc");
        assert_eq!(
            (c.account.as_str(), c.region.as_str()),
            (DEFAULT_ACCOUNT, "us-west-2")
        );
        let c = Context::for_request(
            &HeaderMap::new(),
            &Uri::from_static("/"),
            &Credentials::default_pair(),
        );
        assert_eq!(
            (c.account.as_str(), c.region.as_str()),
            (DEFAULT_ACCOUNT, DEFAULT_REGION)
        );
    }

    #[test]
    fn hostile_regions_are_ignored() {
        let c = ctx("AWS4-HMAC-SHA256 Credential=test/20260101/../../x/codepipeline/aws4_request");
        assert_eq!(c.region, DEFAULT_REGION);
    }
}
