//! The object store, the second place services meet: objects by bucket and key (S3 objects,
//! pipeline artifacts, large build logs). The record `object/<bucket>/<key>` is an object's
//! current version (a delete marker included); with versioning, the versions it displaced are
//! kept at `object-version/<bucket>/<key>\0<version id>`, and version ids sort newest first, so
//! one prefix scan lists a key's versions in S3's order. Bodies are in `bodies`: inline in the
//! record when small, otherwise durable files written before any record names them, so no
//! record ever names a body a crash lost and a half-received body leaves nothing a reader sees.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::bodies::{inline_serde, io, Bodies, Receiving, Stored};
use super::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

/// What the store keeps about one version of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInfo {
    pub format_version: u32,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The name of a body kept apart, never reused; empty when the body is inline.
    pub body: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "inline_serde"
    )]
    pub inline: Option<Vec<u8>>,
    /// Epoch seconds.
    pub modified: f64,
    /// What the writer said of the body (S3: ETag, content type, user metadata).
    #[serde(default)]
    pub meta: ObjectMeta,
    /// `None` is S3's `null` version: written while the bucket was not versioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
}

impl ObjectInfo {
    /// The version id as S3 spells it.
    pub fn version(&self) -> &str {
        self.version_id.as_deref().unwrap_or("null")
    }
}

/// What a writer keeps with a body, beside its size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_metadata: BTreeMap<String, String>,
    /// Other headers stored and returned as sent (`Cache-Control`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A bucket's versioning state, as writes see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// A write replaces the object.
    Off,
    /// A write makes a new version and keeps the one it displaces.
    Enabled,
    /// A write makes the `null` version, replacing an earlier `null` one and keeping the others.
    Suspended,
}

/// A body being received, chunk by chunk, under a name no record uses yet: `commit` makes it
/// durable and names it; dropped before that, it leaves nothing behind.
pub struct Upload<'a> {
    objects: &'a Objects,
    receiving: Receiving,
    committed: bool,
}

impl<'a> Upload<'a> {
    pub fn write(&mut self, chunk: &[u8]) -> StoreResult<()> {
        self.objects.bodies.write(&mut self.receiving, chunk)
    }

    pub fn size(&self) -> u64 {
        self.receiving.size
    }

    /// Makes the body durable, then writes and syncs the record that names it as
    /// `bucket`/`key`, with what that displaces kept or dropped as `versioning` says.
    pub fn commit(
        self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        now: f64,
        versioning: Versioning,
    ) -> StoreResult<ObjectInfo> {
        let objects = self.objects;
        let placed = self.commit_unsynced(bucket, key, meta, now, versioning)?;
        objects.store.flush()?;
        placed.settle()
    }

    /// `commit` without the store's sync: the caller syncs (sharing the sync with other writers,
    /// as `GroupFlush` does), then settles what it placed.
    pub fn commit_unsynced(
        mut self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        now: f64,
        versioning: Versioning,
    ) -> StoreResult<Placed<'a>> {
        let stored = self.objects.bodies.finish(&mut self.receiving)?;
        self.committed = true;
        let (body, inline) = match stored {
            Stored::Inline(bytes) => (String::new(), Some(bytes)),
            Stored::Named(name) => (name, None),
        };
        let info = ObjectInfo {
            format_version: FORMAT_VERSION,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: self.receiving.size,
            body,
            inline,
            modified: now,
            meta,
            version_id: None,
            delete_marker: false,
        };
        let named = info.body.clone();
        let placed = self.objects.place_unsynced(info, versioning);
        if placed.is_err() && !named.is_empty() {
            let _ = self.objects.bodies.remove(&named);
        }
        placed
    }
}

/// A version whose record is written but not yet known durable. Once the caller has synced
/// the store, `settle` drops the bodies of the versions it displaced: never before, so a crash
/// can never leave a durable record naming a removed body.
#[must_use = "settle it once the store is synced"]
pub struct Placed<'a> {
    objects: &'a Objects,
    pub info: ObjectInfo,
    dropped: Vec<ObjectInfo>,
}

impl Placed<'_> {
    pub fn settle(self) -> StoreResult<ObjectInfo> {
        self.objects.drop_bodies(&self.dropped)?;
        Ok(self.info)
    }
}

impl Drop for Upload<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.objects.bodies.abandon(&mut self.receiving);
        }
    }
}

pub struct Objects {
    store: Arc<dyn Store>,
    bodies: Bodies,
    /// Held while a key's records are read and rewritten, so two writers of one key never both
    /// displace the same version.
    naming: Mutex<()>,
    /// The last version id's time, so ids stay unique and ordered within a microsecond.
    last_version: AtomicU64,
}

fn record_key(bucket: &str, key: &str) -> String {
    format!("object/{bucket}/{key}")
}

fn versions_of(bucket: &str) -> String {
    format!("object-version/{bucket}/")
}

fn version_key(bucket: &str, key: &str, version: &str) -> String {
    format!("{}{key}\0{version}", versions_of(bucket))
}

/// Sorts after every record key that starts with `prefix`.
fn past(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

impl Objects {
    /// Bodies under `dir` (created when missing); names left by a crash between a body and its
    /// record are removed.
    /// Bodies on disk under `dir`. Body files a crash left without a record are removed in
    /// the background: the files are listed now, before anything can write one, and only those
    /// are checked against every object record, so start-up never waits for a scan of every
    /// object ever stored and a body written after start-up is never mistaken for an orphan.
    pub fn on_disk(store: Arc<dyn Store>, dir: PathBuf) -> StoreResult<Self> {
        std::fs::create_dir_all(&dir).map_err(io("cannot create the objects folder"))?;
        let objects = Self::with(store.clone(), Bodies::Files(dir.clone()));
        let present = objects.bodies.names()?;
        if !present.is_empty() {
            std::thread::spawn(move || {
                let sweep = || -> StoreResult<()> {
                    let mut named = HashSet::new();
                    for prefix in ["object/", "object-version/"] {
                        for (_, bytes) in store.scan(prefix, None, usize::MAX)? {
                            if let Ok(info) = decode::<ObjectInfo>(&bytes) {
                                named.insert(info.body);
                            }
                        }
                    }
                    Bodies::Files(dir).sweep(&present, &named)
                };
                if let Err(e) = sweep() {
                    tracing::warn!(error = %e, "cannot sweep orphaned object bodies");
                }
            });
        }
        Ok(objects)
    }

    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Self::with(store, Bodies::Memory(Mutex::new(HashMap::new())))
    }

    fn with(store: Arc<dyn Store>, bodies: Bodies) -> Self {
        Objects {
            store,
            bodies,
            naming: Mutex::new(()),
            last_version: AtomicU64::new(0),
        }
    }

    /// Starts receiving a body.
    pub fn upload(&self) -> StoreResult<Upload<'_>> {
        Ok(Upload {
            objects: self,
            receiving: self.bodies.receive(),
            committed: false,
        })
    }

    /// Stores `body` as `bucket`/`key` and returns once both the body and its record are durable.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        meta: ObjectMeta,
        now: f64,
        versioning: Versioning,
    ) -> StoreResult<ObjectInfo> {
        let mut upload = self.upload()?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = body.read(&mut buf).map_err(io("cannot read a body"))?;
            if n == 0 {
                break;
            }
            upload.write(&buf[..n])?;
        }
        upload.commit(bucket, key, meta, now, versioning)
    }

    /// The record of a new small object whose body is kept inline, as a write for the caller's
    /// own batch (the engine's artifacts, made durable with its step). Nothing is replaced:
    /// the caller names a key nobody used.
    pub fn inline_write(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        meta: ObjectMeta,
        now: f64,
    ) -> StoreResult<(ObjectInfo, Write)> {
        let info = ObjectInfo {
            format_version: FORMAT_VERSION,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: bytes.len() as u64,
            body: String::new(),
            inline: Some(bytes),
            modified: now,
            meta,
            version_id: None,
            delete_marker: false,
        };
        let write = Write::put(record_key(bucket, key), encode(&info)?);
        Ok((info, write))
    }

    /// `source`'s body under a new, unused key, without copying a large body (a second name for
    /// it), as a write for the caller's batch.
    pub fn alias_write(
        &self,
        source: &ObjectInfo,
        bucket: &str,
        key: &str,
        now: f64,
    ) -> StoreResult<(ObjectInfo, Write)> {
        let body = if source.body.is_empty() {
            String::new()
        } else {
            self.bodies.link(&source.body)?
        };
        let info = ObjectInfo {
            format_version: FORMAT_VERSION,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body,
            modified: now,
            version_id: None,
            delete_marker: false,
            ..source.clone()
        };
        let write = Write::put(record_key(bucket, key), encode(&info)?);
        Ok((info, write))
    }

    /// A new version id: the inverted time first, so newer versions sort first.
    fn next_version_id(&self) -> String {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or_default();
        let mut last = self.last_version.load(Ordering::Relaxed);
        let stamp = loop {
            let next = micros.max(last + 1);
            match self.last_version.compare_exchange(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{:016x}{}", u64::MAX - stamp, &random[..16])
    }

    /// Makes `info` the current version of its key (a version id is given when `versioning`
    /// is on), keeping or dropping the version it displaces, and syncs.
    fn place(&self, info: ObjectInfo, versioning: Versioning) -> StoreResult<ObjectInfo> {
        let placed = self.place_unsynced(info, versioning)?;
        self.store.flush()?;
        placed.settle()
    }

    fn place_unsynced(
        &self,
        mut info: ObjectInfo,
        versioning: Versioning,
    ) -> StoreResult<Placed<'_>> {
        if versioning == Versioning::Enabled {
            info.version_id = Some(self.next_version_id());
        }
        let (bucket, key) = (info.bucket.clone(), info.key.clone());
        let mut writes = vec![Write::put(record_key(&bucket, &key), encode(&info)?)];
        let mut dropped = Vec::new();
        let _naming = self.naming.lock();
        if let Some(previous) = self.current(&bucket, &key)? {
            match (versioning, &previous.version_id) {
                (Versioning::Enabled, _) | (Versioning::Suspended, Some(_)) => {
                    writes.push(Write::put(
                        version_key(&bucket, &key, previous.version()),
                        encode(&previous)?,
                    ));
                }
                _ => dropped.push(previous),
            }
        }
        if versioning == Versioning::Suspended {
            if let Some(null) = self.archived(&bucket, &key, "null")? {
                writes.push(Write::delete(version_key(&bucket, &key, "null")));
                dropped.push(null);
            }
        }
        self.store.apply(writes)?;
        Ok(Placed {
            objects: self,
            info,
            dropped,
        })
    }

    fn drop_bodies(&self, gone: &[ObjectInfo]) -> StoreResult<()> {
        for info in gone.iter().filter(|i| !i.body.is_empty()) {
            self.bodies.remove(&info.body)?;
        }
        Ok(())
    }

    /// The current version of `key`, a delete marker included.
    pub fn current(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        self.store
            .get(&record_key(bucket, key))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    fn archived(&self, bucket: &str, key: &str, version: &str) -> StoreResult<Option<ObjectInfo>> {
        self.store
            .get(&version_key(bucket, key, version))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// The object as a reader without a version id sees it: none when its current version is a
    /// delete marker.
    pub fn head(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        Ok(self.current(bucket, key)?.filter(|i| !i.delete_marker))
    }

    /// One version of `key` (`null` included), a delete marker included.
    pub fn version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
    ) -> StoreResult<Option<ObjectInfo>> {
        match self.current(bucket, key)? {
            Some(current) if current.version() == version => Ok(Some(current)),
            _ => self.archived(bucket, key, version),
        }
    }

    /// A reader of the body of `info`.
    pub fn open(&self, info: &ObjectInfo) -> StoreResult<Box<dyn Read + Send>> {
        match &info.inline {
            Some(bytes) => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
            None if info.body.is_empty() => Ok(Box::new(std::io::empty())),
            None => self.bodies.open(&info.body),
        }
    }

    /// The object's record and a reader of its body.
    pub fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> StoreResult<Option<(ObjectInfo, Box<dyn Read + Send>)>> {
        let Some(info) = self.head(bucket, key)? else {
            return Ok(None);
        };
        let reader = self.open(&info)?;
        Ok(Some((info, reader)))
    }

    /// Current records of `bucket` whose keys start with `prefix`, after `start_after`, in key
    /// order; delete markers included, so a caller paging through sees where it is.
    pub fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        let after = start_after.map(|k| record_key(bucket, k));
        self.store
            .scan(&record_key(bucket, prefix), after.as_deref(), limit)?
            .into_iter()
            .map(|(_, bytes)| decode(&bytes))
            .collect()
    }

    /// Every version under `prefix`, by key and then newest first, after the version `after`
    /// names (a key alone: after all of that key's versions), at most `limit` of them.
    pub fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, Option<&str>)>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        let archive = versions_of(bucket);
        let (current_after, archive_after) = match after {
            None => (None, None),
            Some((key, None)) => (
                Some(record_key(bucket, key)),
                Some(past(&format!("{archive}{key}\0"))),
            ),
            Some((key, Some(version))) => {
                let is_current = self
                    .current(bucket, key)?
                    .is_some_and(|c| c.version() == version);
                let archive_after = if is_current {
                    format!("{archive}{key}\0")
                } else {
                    version_key(bucket, key, version)
                };
                (Some(record_key(bucket, key)), Some(archive_after))
            }
        };
        let decode_all = |rows: Vec<(String, Vec<u8>)>| -> StoreResult<Vec<ObjectInfo>> {
            rows.into_iter().map(|(_, b)| decode(&b)).collect()
        };
        let current = decode_all(self.store.scan(
            &record_key(bucket, prefix),
            current_after.as_deref(),
            limit,
        )?)?;
        let older = decode_all(self.store.scan(
            &format!("{archive}{prefix}"),
            archive_after.as_deref(),
            limit,
        )?)?;
        // Both lists are sorted and a key's current version comes before its older ones.
        let mut merged = Vec::with_capacity(limit.min(current.len() + older.len()));
        let (mut a, mut b) = (current.into_iter().peekable(), older.into_iter().peekable());
        while merged.len() < limit {
            let take_current = match (a.peek(), b.peek()) {
                (Some(c), Some(o)) => c.key <= o.key,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            merged.extend(if take_current { a.next() } else { b.next() });
        }
        Ok(merged)
    }

    /// Whether `bucket` holds anything: a current record, a delete marker or an older version.
    pub fn any_in(&self, bucket: &str) -> StoreResult<bool> {
        Ok(!self
            .store
            .scan(&record_key(bucket, ""), None, 1)?
            .is_empty()
            || !self.store.scan(&versions_of(bucket), None, 1)?.is_empty())
    }

    /// Deletes the object as S3 does without a version id: removes it when the bucket does not
    /// version, otherwise makes a delete marker its current version and returns the marker.
    pub fn delete(
        &self,
        bucket: &str,
        key: &str,
        versioning: Versioning,
        now: f64,
    ) -> StoreResult<Option<ObjectInfo>> {
        if versioning == Versioning::Off {
            let gone = {
                let _naming = self.naming.lock();
                let gone = self.current(bucket, key)?;
                if gone.is_some() {
                    self.store
                        .apply(vec![Write::delete(record_key(bucket, key))])?;
                }
                gone
            };
            if let Some(gone) = gone {
                self.store.flush()?;
                self.drop_bodies(&[gone])?;
            }
            return Ok(None);
        }
        let marker = ObjectInfo {
            format_version: FORMAT_VERSION,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: 0,
            body: String::new(),
            inline: None,
            modified: now,
            meta: ObjectMeta::default(),
            version_id: None,
            delete_marker: true,
        };
        self.place(marker, versioning).map(Some)
    }

    /// Removes one version for good; when it was the current one, the newest older version
    /// becomes current. Returns what was removed.
    pub fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
    ) -> StoreResult<Option<ObjectInfo>> {
        let gone = {
            let _naming = self.naming.lock();
            let current = self.current(bucket, key)?;
            match current {
                Some(current) if current.version() == version => {
                    self.store.apply(self.uncover_writes(bucket, key)?)?;
                    Some(current)
                }
                _ => {
                    let archived = self.archived(bucket, key, version)?;
                    if archived.is_some() {
                        self.store
                            .apply(vec![Write::delete(version_key(bucket, key, version))])?;
                    }
                    archived
                }
            }
        };
        if let Some(gone) = &gone {
            self.store.flush()?;
            self.drop_bodies(std::slice::from_ref(gone))?;
        }
        Ok(gone)
    }

    /// The writes that remove the current version of `key` and make its newest archived
    /// version, if any, current. The caller holds `naming`.
    fn uncover_writes(&self, bucket: &str, key: &str) -> StoreResult<Vec<Write>> {
        let mut writes = vec![Write::delete(record_key(bucket, key))];
        let newest = self
            .store
            .scan(&format!("{}{key}\0", versions_of(bucket)), None, 1)?;
        if let Some((archived_key, bytes)) = newest.into_iter().next() {
            writes.push(Write::delete(archived_key));
            writes.push(Write::put(record_key(bucket, key), bytes));
        }
        Ok(writes)
    }

    /// Removes the current version of each key for good, in one batch and one sync, as
    /// `delete_version` does one at a time (a newer write at the key is what goes, and an older
    /// version becomes current). Returns how many were removed.
    pub fn remove_current(&self, keys: &[(&str, &str)]) -> StoreResult<usize> {
        let gone = {
            let _naming = self.naming.lock();
            let mut writes = Vec::new();
            let mut gone = Vec::new();
            let mut seen = HashSet::new();
            for &(bucket, key) in keys {
                if !seen.insert((bucket, key)) {
                    continue;
                }
                let Some(current) = self.current(bucket, key)? else {
                    continue;
                };
                writes.extend(self.uncover_writes(bucket, key)?);
                gone.push(current);
            }
            if !writes.is_empty() {
                self.store.apply(writes)?;
            }
            gone
        };
        if !gone.is_empty() {
            self.store.flush()?;
            self.drop_bodies(&gone)?;
        }
        Ok(gone.len())
    }

    /// Removes every body (the control plane's reset; the records go with the store's).
    pub fn clear(&self) -> StoreResult<()> {
        self.bodies.clear()
    }
}

#[cfg(test)]
mod tests;
