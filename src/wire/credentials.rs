//! Who may call and which account each caller acts in: the access key pairs the server accepts
//! (`test`/`test` always, plus the profiles of `--credentials-file`), read from the
//! `~/.aws/credentials` INI format. A profile may name its account with `account_id` (or the
//! SDKs' `aws_account_id`); otherwise a 12-digit access key id is the account, and any other key
//! is the default account.

use std::collections::HashMap;
use std::path::Path;

use super::context::DEFAULT_ACCOUNT;

/// The temporary key pair CodePipeline hands job workers as `artifactCredentials`; S3 accepts it
/// for any bucket, with a session token that starts with [`ARTIFACT_SESSION_PREFIX`].
pub const ARTIFACT_ACCESS_KEY: &str = "ASIACODEPIPELINELOCAL";
pub const ARTIFACT_SECRET_KEY: &str = "codepipeline-local-temporary-secret";
pub const ARTIFACT_SESSION_PREFIX: &str = "codepipeline-local-session-";
/// The account of a request signed with the artifact key pair: the owner of any bucket.
pub const ANY_ACCOUNT: &str = "*";

/// One accepted access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub secret_access_key: String,
    /// When set, requests with this key must carry this `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    pub account: String,
}

#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_access_key: HashMap<String, Principal>,
}

impl Credentials {
    /// The pair every emulator accepts: `test`/`test`, in the default account.
    pub fn default_pair() -> Self {
        let mut c = Credentials::default();
        c.by_access_key.insert(
            "test".to_owned(),
            Principal {
                secret_access_key: "test".to_owned(),
                session_token: None,
                account: DEFAULT_ACCOUNT.to_owned(),
            },
        );
        c
    }

    /// `test`/`test` plus every profile of a credentials file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read credentials file {}: {e}", path.display()))?;
        let mut c = Credentials::default_pair();
        for (profile, entries) in
            parse_ini(&text).map_err(|e| format!("credentials file {}: {e}", path.display()))?
        {
            let (Some(key), Some(secret)) = (
                entries.get("aws_access_key_id"),
                entries.get("aws_secret_access_key"),
            ) else {
                // Profiles that only configure (region, output, roles) have no keys to accept.
                continue;
            };
            let account = match entries
                .get("account_id")
                .or_else(|| entries.get("aws_account_id"))
            {
                Some(a) if is_account_id(a) => a.clone(),
                Some(a) => {
                    return Err(format!(
                        "credentials file {}: profile [{profile}] names account '{a}', which is not 12 digits",
                        path.display()
                    ))
                }
                None => account_of_key(key),
            };
            c.by_access_key.insert(
                key.clone(),
                Principal {
                    secret_access_key: secret.clone(),
                    session_token: entries.get("aws_session_token").cloned(),
                    account,
                },
            );
        }
        Ok(c)
    }

    pub fn get(&self, access_key: &str) -> Option<&Principal> {
        self.by_access_key.get(access_key)
    }

    /// The account a request signed with this key acts in, whether or not signatures are checked.
    pub fn account_of(&self, access_key: &str) -> String {
        match self.get(access_key) {
            Some(p) => p.account.clone(),
            None => account_of_key(access_key),
        }
    }

    pub fn len(&self) -> usize {
        self.by_access_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_access_key.is_empty()
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Without a file entry, a 12-digit key id names the account; anything else is the default.
fn account_of_key(access_key: &str) -> String {
    if is_account_id(access_key) {
        access_key.to_owned()
    } else {
        DEFAULT_ACCOUNT.to_owned()
    }
}

type Profiles = Vec<(String, HashMap<String, String>)>;

/// The INI dialect of `~/.aws/credentials`: `[profile]` headers (also `[profile name]` as in
/// `~/.aws/config`), `key = value` lines, `#` and `;` comments.
fn parse_ini(text: &str) -> Result<Profiles, String> {
    let mut profiles: Profiles = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let name = header
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: unclosed profile header", number + 1))?
                .trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            profiles.push((name.to_owned(), HashMap::new()));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected `key = value`", number + 1));
        };
        let Some((_, entries)) = profiles.last_mut() else {
            return Err(format!(
                "line {}: `{}` comes before any [profile] header",
                number + 1,
                key.trim()
            ));
        };
        entries.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Credentials, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("credentials");
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Credentials::load(&path)
    }

    #[test]
    fn profiles_become_principals_with_their_accounts() {
        let c = load(
            "# comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n\
             [profile team]\naws_access_key_id=AKIATEAM\naws_secret_access_key=s2\naccount_id = 222222222222\n\
             [ci]\naws_access_key_id = 333333333333\naws_secret_access_key = s3\naws_session_token = tok\n\
             [config-only]\nregion = eu-west-1\n",
        )
        .unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c.account_of("AKIADEFAULT"), DEFAULT_ACCOUNT);
        assert_eq!(c.account_of("AKIATEAM"), "222222222222");
        assert_eq!(c.account_of("333333333333"), "333333333333");
        assert_eq!(
            c.get("333333333333").unwrap().session_token.as_deref(),
            Some("tok")
        );
        assert_eq!(c.get("test").unwrap().secret_access_key, "test");
        assert_eq!(c.account_of("444444444444"), "444444444444");
    }

    #[test]
    fn broken_files_say_where() {
        assert!(load("aws_access_key_id = x\n")
            .unwrap_err()
            .contains("line 1"));
        assert!(load("[a\n").unwrap_err().contains("unclosed"));
        assert!(load("[a]\nnonsense\n").unwrap_err().contains("line 2"));
        assert!(
            load("[a]\naws_access_key_id=k\naws_secret_access_key=s\naccount_id=12\n")
                .unwrap_err()
                .contains("12 digits")
        );
        assert!(Credentials::load(Path::new("/nonexistent/credentials"))
            .unwrap_err()
            .contains("cannot read"));
    }
}
