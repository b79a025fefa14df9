//! Who may call S3 here, and which bucket a Host names. s3s checks SigV4 (and decodes
//! aws-chunked bodies) only with a secret to check against, so the key pairs are the server's
//! own (`test`/`test` and `--credentials-file`); `X-Amz-Security-Token` must match a pair's
//! session token when it has one. Virtual-hosted addressing: `<bucket>.localhost` and
//! `<bucket>.s3.localhost`, any port; every other Host is path-style.

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{s3_error, S3Result};

use crate::wire::credentials::Credentials;

pub struct KeyPairs(pub Credentials);

#[async_trait::async_trait]
impl S3Auth for KeyPairs {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.get(access_key) {
            Some(p) => Ok(SecretKey::from(p.secret_access_key.as_str())),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}

#[async_trait::async_trait]
impl S3Access for KeyPairs {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(creds) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let wanted = self
            .0
            .get(&creds.access_key)
            .and_then(|p| p.session_token.clone());
        if let Some(token) = wanted {
            let sent = cx
                .headers()
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(token.as_str()) {
                return Err(s3_error!(
                    InvalidToken,
                    "The provided token is malformed or otherwise invalid."
                ));
            }
        }
        Ok(())
    }
}

/// `<bucket>.s3.localhost[:port]` and `<bucket>.localhost[:port]`; everything else path-style.
pub struct LocalHosts;

impl S3Host for LocalHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        for suffix in [".s3.localhost", ".localhost"] {
            if let Some(bucket) = name.strip_suffix(suffix) {
                if !bucket.is_empty() && bucket != "s3" {
                    return Ok(VirtualHost::new(host).with_bucket(bucket));
                }
            }
        }
        Ok(VirtualHost::new(host))
    }
}
