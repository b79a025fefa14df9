//! CodeCommit's records: a repository's metadata at `cc-repo/ACCOUNT/REGION/NAME` (its id
//! names its git folder; its default branch is the first one pushed, as in CodeCommit) and
//! its tags. The history itself is git's, in the repository's folder.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryRecord {
    pub format_version: u32,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    pub created: f64,
    pub modified: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl RepositoryRecord {
    pub fn new(name: &str, id: String, at: f64) -> Self {
        RepositoryRecord {
            format_version: FORMAT_VERSION,
            id,
            name: name.to_owned(),
            description: None,
            default_branch: None,
            created: at,
            modified: at,
            kms_key_id: None,
            tags: BTreeMap::new(),
        }
    }
}

pub fn prefix(account: &str, region: &str) -> String {
    format!("cc-repo/{account}/{region}/")
}

pub fn key(account: &str, region: &str, name: &str) -> String {
    format!("{}{name}", prefix(account, region))
}

pub fn load(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<RepositoryRecord>> {
    store
        .get(&key(account, region, name))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn write(account: &str, region: &str, record: &RepositoryRecord) -> StoreResult<Write> {
    Ok(Write::put(
        key(account, region, &record.name),
        encode(record)?,
    ))
}

/// Every repository of the account and region, by name.
pub fn all(store: &dyn Store, account: &str, region: &str) -> StoreResult<Vec<RepositoryRecord>> {
    store
        .scan(&prefix(account, region), None, usize::MAX)?
        .into_iter()
        .map(|(_, bytes)| decode(&bytes))
        .collect()
}
