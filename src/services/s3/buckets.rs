//! Bucket records: one namespace for the whole endpoint, each bucket owned by an account, in a
//! region, with its versioning state, tags and CORS rules. `s3-bucket/<name>` in the store.

use serde::{Deserialize, Serialize};

use crate::store::{decode, encode, Store, StoreResult, Versioning, Write, FORMAT_VERSION};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketRecord {
    pub format_version: u32,
    pub name: String,
    pub account: String,
    pub region: String,
    /// Epoch seconds.
    pub created: f64,
    /// `Enabled` or `Suspended`; never set is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors: Vec<CorsRule>,
}

/// One CORS rule, as PutBucketCors gave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorsRule {
    #[serde(default)]
    pub id: Option<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default)]
    pub max_age_seconds: Option<i32>,
}

impl BucketRecord {
    pub fn new(name: &str, account: &str, region: &str, now: f64) -> Self {
        BucketRecord {
            format_version: FORMAT_VERSION,
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            created: now,
            versioning: None,
            tags: Vec::new(),
            cors: Vec::new(),
        }
    }

    /// What a write to this bucket does with the version it displaces.
    pub fn versioning(&self) -> Versioning {
        match self.versioning.as_deref() {
            Some("Enabled") => Versioning::Enabled,
            Some(_) => Versioning::Suspended,
            None => Versioning::Off,
        }
    }
}

const PREFIX: &str = "s3-bucket/";

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

pub fn load(store: &dyn Store, name: &str) -> StoreResult<Option<BucketRecord>> {
    store.get(&key(name))?.map(|b| decode(&b)).transpose()
}

/// Whether the bucket exists, without decoding its record.
pub fn exists(store: &dyn Store, name: &str) -> StoreResult<bool> {
    Ok(store.get(&key(name))?.is_some())
}

pub fn all(store: &dyn Store) -> StoreResult<Vec<BucketRecord>> {
    store
        .scan(PREFIX, None, usize::MAX)?
        .into_iter()
        .map(|(_, b)| decode(&b))
        .collect()
}

pub fn save(store: &dyn Store, record: &BucketRecord) -> StoreResult<()> {
    store.apply(vec![write(record)?])?;
    store.flush()
}

/// The write that saves `record`, for a caller's own batch.
pub fn write(record: &BucketRecord) -> StoreResult<Write> {
    Ok(Write::put(key(&record.name), encode(record)?))
}

pub fn delete(store: &dyn Store, name: &str) -> StoreResult<()> {
    store.apply(vec![Write::delete(key(name))])?;
    store.flush()
}
