//! The artifact store, the second place services meet: S3's buckets and objects as pipelines
//! use them. Output artifacts are real zip objects at the keys CodePipeline reports; the
//! artifact bucket is created on first use when missing, as the AWS console creates its
//! default bucket; a stub action's output is its primary input passed through, or a small zip
//! that names what produced it.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use crate::services::s3::buckets::{self, BucketRecord};
use crate::store::{ObjectInfo, ObjectMeta, Objects, Store, StoreError, StoreResult, Write};

/// A cheap-clone handle on S3's buckets and objects.
#[derive(Clone)]
pub struct ArtifactStore {
    store: Arc<dyn Store>,
    objects: Arc<Objects>,
}

/// Where one artifact is, and who wrote it.
pub struct Placement<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

impl ArtifactStore {
    pub fn new(store: Arc<dyn Store>, objects: Arc<Objects>) -> Self {
        ArtifactStore { store, objects }
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// The store the records of other services live in (a build's record and logs).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The bucket, when it exists on this endpoint (a read failure counts as absent: the action
    /// then keeps its stub).
    pub fn bucket(&self, name: &str) -> Option<BucketRecord> {
        buckets::load(self.store.as_ref(), name).ok().flatten()
    }

    /// Whether the bucket exists on this endpoint (a read failure counts as absent).
    pub fn has_bucket(&self, name: &str) -> bool {
        buckets::exists(self.store.as_ref(), name).unwrap_or(false)
    }

    /// The writes that create the artifact bucket when it is missing.
    fn bucket_writes(&self, at: &Placement, now: f64) -> StoreResult<Vec<Write>> {
        if at.bucket.is_empty() || self.has_bucket(at.bucket) {
            return Ok(Vec::new());
        }
        let record = BucketRecord::new(at.bucket, at.account, at.region, now);
        Ok(vec![buckets::write(&record)?])
    }

    /// The writes that make a stub action's output artifact: the primary input passed through
    /// when there is one to pass, else a zip naming `producer`.
    pub fn stub_writes(
        &self,
        at: &Placement,
        input: Option<(&str, &str)>,
        producer: &str,
        now: f64,
    ) -> StoreResult<Vec<Write>> {
        let mut writes = self.bucket_writes(at, now)?;
        if self.objects.head(at.bucket, at.key)?.is_some() {
            return Ok(writes);
        }
        let passed = match input {
            Some((bucket, key)) => self.objects.head(bucket, key)?,
            None => None,
        };
        let (_, write) = match passed {
            Some(source) => self.objects.alias_write(&source, at.bucket, at.key, now)?,
            None => {
                let meta = ObjectMeta {
                    content_type: Some("application/zip".to_owned()),
                    ..Default::default()
                };
                let zip = stub_zip(producer)?;
                self.objects
                    .inline_write(at.bucket, at.key, zip, meta, now)?
            }
        };
        writes.push(write);
        Ok(writes)
    }

    /// Stores `body` as an artifact (a real provider's output), creating the bucket when missing.
    pub fn put(
        &self,
        at: &Placement,
        body: &mut dyn std::io::Read,
        meta: ObjectMeta,
        now: f64,
    ) -> StoreResult<ObjectInfo> {
        let writes = self.bucket_writes(at, now)?;
        if !writes.is_empty() {
            self.store.apply(writes)?;
        }
        let versioning = self
            .bucket(at.bucket)
            .map(|b| b.versioning())
            .unwrap_or(crate::store::Versioning::Off);
        self.objects
            .put(at.bucket, at.key, body, meta, now, versioning)
    }
}

/// The zip a stub action leaves when it has no input to pass through. Every run of an action
/// leaves the same bytes (entries carry no time), so each producer's zip is made once.
fn stub_zip(producer: &str) -> StoreResult<Vec<u8>> {
    static MADE: Mutex<Option<HashMap<String, Vec<u8>>>> = Mutex::new(None);
    /// A bound on memory, not an eviction policy: producers are actions' names.
    const KEPT: usize = 1024;
    if let Ok(made) = MADE.lock() {
        if let Some(zip) = made.as_ref().and_then(|m| m.get(producer)) {
            return Ok(zip.clone());
        }
    }
    let text = format!(
        "This artifact was produced by {producer} on codepipeline-local, which simulated the \
         action (its provider names nothing that exists on this endpoint).\n"
    );
    let zip = zip_of(&[("codepipeline-local-artifact.txt", text.as_bytes())])?;
    if let Ok(mut made) = MADE.lock() {
        let made = made.get_or_insert_with(HashMap::new);
        if made.len() >= KEPT {
            made.clear();
        }
        made.insert(producer.to_owned(), zip.clone());
    }
    Ok(zip)
}

/// A zip archive of `(name, bytes)` entries, stored uncompressed: these are a few hundred
/// bytes, and a deflate compressor's state costs far more to set up than it would save.
pub fn zip_of(entries: &[(&str, &[u8])]) -> StoreResult<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| StoreError(format!("cannot write a zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        zip.start_file(*name, options).map_err(|e| fail(&e))?;
        zip.write_all(bytes).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}
