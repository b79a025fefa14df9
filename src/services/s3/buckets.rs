//! Bucket records: one namespace for the whole endpoint, each bucket owned by an account, in a
//! region. `s3-bucket/<name>` in the store.

use serde::{Deserialize, Serialize};

use crate::store::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketRecord {
    pub format_version: u32,
    pub name: String,
    pub account: String,
    pub region: String,
    /// Epoch seconds.
    pub created: f64,
}

const PREFIX: &str = "s3-bucket/";

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

pub fn load(store: &dyn Store, name: &str) -> StoreResult<Option<BucketRecord>> {
    store.get(&key(name))?.map(|b| decode(&b)).transpose()
}

pub fn all(store: &dyn Store) -> StoreResult<Vec<BucketRecord>> {
    store
        .scan(PREFIX, None, usize::MAX)?
        .into_iter()
        .map(|(_, b)| decode(&b))
        .collect()
}

pub fn put(
    store: &dyn Store,
    name: &str,
    account: &str,
    region: &str,
    now: f64,
) -> StoreResult<()> {
    let record = BucketRecord {
        format_version: FORMAT_VERSION,
        name: name.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        created: now,
    };
    store.apply(vec![Write::put(key(name), encode(&record)?)])?;
    store.flush()
}

pub fn delete(store: &dyn Store, name: &str) -> StoreResult<()> {
    store.apply(vec![Write::delete(key(name))])?;
    store.flush()
}
