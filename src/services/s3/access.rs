//! Who may call S3 here, and which bucket a Host names. s3s checks SigV4 (and decodes
//! aws-chunked bodies) only with a secret to check against, so the key pairs are the server's
//! own (`test`/`test` and `--credentials-file`) plus the artifact key pair job workers get;
//! `X-Amz-Security-Token` must match a pair's session token when it has one. Virtual-hosted
//! addressing: `<bucket>.localhost` and `<bucket>.s3.localhost`, any port; every other Host is
//! path-style.

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{s3_error, S3Result};

use crate::wire::credentials::{
    Credentials, ARTIFACT_ACCESS_KEY, ARTIFACT_SECRET_KEY, ARTIFACT_SESSION_PREFIX,
};

pub struct KeyPairs(pub Credentials);

#[async_trait::async_trait]
impl S3Auth for KeyPairs {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == ARTIFACT_ACCESS_KEY {
            return Ok(SecretKey::from(ARTIFACT_SECRET_KEY));
        }
        match self.0.get(access_key) {
            Some(p) => Ok(SecretKey::from(p.secret_access_key.as_str())),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}

fn invalid_token() -> s3s::S3Error {
    s3_error!(
        InvalidToken,
        "The provided token is malformed or otherwise invalid."
    )
}

#[async_trait::async_trait]
impl S3Access for KeyPairs {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(creds) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let sent = cx
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                // Presigned URLs carry the token in the query.
                cx.uri()
                    .query()
                    .and_then(|q| url_query(q, "X-Amz-Security-Token"))
            });
        if creds.access_key == ARTIFACT_ACCESS_KEY {
            return match sent {
                Some(t) if t.starts_with(ARTIFACT_SESSION_PREFIX) => Ok(()),
                _ => Err(invalid_token()),
            };
        }
        let wanted = self
            .0
            .get(&creds.access_key)
            .and_then(|p| p.session_token.clone());
        match wanted {
            Some(token) if sent.as_deref() != Some(token.as_str()) => Err(invalid_token()),
            _ => Ok(()),
        }
    }
}

fn url_query(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// The bucket a virtual host names: `<bucket>.s3.localhost[:port]`, `<bucket>.localhost[:port]`.
pub fn bucket_of_host(host: &str) -> Option<&str> {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    [".s3.localhost", ".localhost"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .filter(|b| !b.is_empty() && *b != "s3")
}

/// Virtual hosts as [`bucket_of_host`] reads them; everything else path-style.
pub struct LocalHosts;

impl S3Host for LocalHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match bucket_of_host(host) {
            Some(bucket) => VirtualHost::new(host).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}
