//! Multipart uploads: the upload is a record (`s3-upload/<bucket>/<id>`), each part a body in
//! the object store under `~parts` (no bucket can have that name), and completing writes the
//! parts, in the order the request lists them, into one new body whose ETag is S3's: the MD5 of
//! the parts' MD5s, then `-N`.

use serde::{Deserialize, Serialize};

use crate::store::{decode, encode, Objects, Store, StoreResult, Write, FORMAT_VERSION};

/// Where parts live in the object store.
pub const PARTS: &str = "~parts";

/// Every part but the last must be at least this big (S3's rule).
pub const MIN_PART: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRecord {
    pub format_version: u32,
    pub bucket: String,
    pub key: String,
    pub id: String,
    pub account: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub user_metadata: std::collections::BTreeMap<String, String>,
    pub initiated: f64,
}

fn record_key(bucket: &str, id: &str) -> String {
    format!("s3-upload/{bucket}/{id}")
}

pub fn part_key(id: &str, part: i32) -> String {
    format!("{id}/{part:05}")
}

pub fn create(store: &dyn Store, record: &UploadRecord) -> StoreResult<()> {
    store.apply(vec![Write::put(
        record_key(&record.bucket, &record.id),
        encode(record)?,
    )])?;
    store.flush()
}

pub fn load(store: &dyn Store, bucket: &str, id: &str) -> StoreResult<Option<UploadRecord>> {
    store
        .get(&record_key(bucket, id))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn all(store: &dyn Store, bucket: &str) -> StoreResult<Vec<UploadRecord>> {
    store
        .scan(&format!("s3-upload/{bucket}/"), None, usize::MAX)?
        .into_iter()
        .map(|(_, b)| decode(&b))
        .collect()
}

/// Removes the upload and its parts.
pub fn finish(store: &dyn Store, objects: &Objects, record: &UploadRecord) -> StoreResult<()> {
    for part in objects.list(PARTS, &format!("{}/", record.id), None, usize::MAX)? {
        objects.delete(PARTS, &part.key, crate::store::Versioning::Off, 0.0)?;
    }
    store.apply(vec![Write::delete(record_key(&record.bucket, &record.id))])?;
    store.flush()
}

pub fn new_record(bucket: &str, key: &str, account: &str, now: f64) -> UploadRecord {
    UploadRecord {
        format_version: FORMAT_VERSION,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        id: uuid::Uuid::new_v4().simple().to_string(),
        account: account.to_owned(),
        content_type: None,
        user_metadata: Default::default(),
        initiated: now,
    }
}
