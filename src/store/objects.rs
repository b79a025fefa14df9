//! The object store, the second place services meet: bodies by bucket and key (S3 objects,
//! pipeline artifacts, large build logs). Bodies are files under `<data-dir>/objects/`, each
//! written under a temporary name, fsynced and renamed into place before the record that names
//! it (`object/<bucket>/<key>`, through the `Store`) is written and synced, so no record ever
//! names a body a crash lost, and a half-received body leaves nothing a reader can see. With
//! `--in-memory` the bodies stay in memory. Bodies stream in and out: a large upload never has
//! to be held whole.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{decode, encode, Store, StoreError, StoreResult, Write, FORMAT_VERSION};

/// What the store keeps about one object; the body is found by `body`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInfo {
    pub format_version: u32,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The body's own name, never reused: a new version of the object gets a new body.
    pub body: String,
    /// Epoch seconds.
    pub modified: f64,
    /// What the writer said of the body (S3: ETag, content type, user metadata).
    #[serde(default)]
    pub meta: ObjectMeta,
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
}

/// A body being received, chunk by chunk, under a name no record uses yet: `commit` makes it
/// durable and names it; dropped before that, it leaves nothing behind.
pub struct Upload<'a> {
    objects: &'a Objects,
    id: String,
    sink: Sink,
    size: u64,
    committed: bool,
}

enum Sink {
    File(std::fs::File, PathBuf),
    Memory(Vec<u8>),
}

impl Upload<'_> {
    pub fn write(&mut self, chunk: &[u8]) -> StoreResult<()> {
        match &mut self.sink {
            Sink::File(file, _) => file.write_all(chunk).map_err(io("cannot write a body"))?,
            Sink::Memory(bytes) => bytes.extend_from_slice(chunk),
        }
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Makes the body durable, then writes and syncs the record that names it as
    /// `bucket`/`key`; the body it replaces goes once the record is on disk.
    pub fn commit(
        mut self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        now: f64,
    ) -> StoreResult<ObjectInfo> {
        let sink = std::mem::replace(&mut self.sink, Sink::Memory(Vec::new()));
        match sink {
            Sink::File(mut file, partial) => {
                let Bodies::Files(dir) = &self.objects.bodies else {
                    return Err(StoreError("a file body in a memory store".to_owned()));
                };
                (|| {
                    file.flush()?;
                    file.sync_all()?;
                    std::fs::rename(&partial, dir.join(&self.id))?;
                    // The rename is durable only once the folder is.
                    std::fs::File::open(dir)?.sync_all()
                })()
                .map_err(io("cannot write a body"))?;
            }
            Sink::Memory(bytes) => {
                if let Bodies::Memory(map) = &self.objects.bodies {
                    lock(map)?.insert(self.id.clone(), Arc::new(bytes));
                }
            }
        }
        self.committed = true;
        self.objects
            .name(bucket, key, &self.id, self.size, meta, now)
    }
}

impl Drop for Upload<'_> {
    fn drop(&mut self) {
        if let Sink::File(_, partial) = &self.sink {
            let _ = std::fs::remove_file(partial);
        }
        if !self.committed {
            let _ = self.objects.remove_body(&self.id);
        }
    }
}

enum Bodies {
    Files(PathBuf),
    Memory(Mutex<HashMap<String, Arc<Vec<u8>>>>),
}

pub struct Objects {
    store: Arc<dyn Store>,
    bodies: Bodies,
}

fn record_key(bucket: &str, key: &str) -> String {
    format!("object/{bucket}/{key}")
}

fn io(what: &str) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError(format!("{what}: {e}"))
}

impl Objects {
    /// Bodies under `dir` (created when missing); names left by a crash between a body and its
    /// record are removed.
    pub fn on_disk(store: Arc<dyn Store>, dir: PathBuf) -> StoreResult<Self> {
        std::fs::create_dir_all(&dir).map_err(io("cannot create the objects folder"))?;
        let objects = Objects {
            store,
            bodies: Bodies::Files(dir),
        };
        objects.sweep()?;
        Ok(objects)
    }

    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Objects {
            store,
            bodies: Bodies::Memory(Mutex::new(HashMap::new())),
        }
    }

    /// Starts receiving a body.
    pub fn upload(&self) -> StoreResult<Upload<'_>> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let sink = match &self.bodies {
            Bodies::Files(dir) => {
                let partial = dir.join(format!("{id}.partial"));
                let file = std::fs::File::create(&partial).map_err(io("cannot write a body"))?;
                Sink::File(file, partial)
            }
            Bodies::Memory(_) => Sink::Memory(Vec::new()),
        };
        Ok(Upload {
            objects: self,
            id,
            sink,
            size: 0,
            committed: false,
        })
    }

    /// Stores `body` as `bucket`/`key` (replacing what was there) and returns once both the
    /// body and its record are durable.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        now: f64,
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
        upload.commit(bucket, key, ObjectMeta::default(), now)
    }

    /// Writes the record naming body `id` as `bucket`/`key`, then drops the body it replaces.
    fn name(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        size: u64,
        meta: ObjectMeta,
        now: f64,
    ) -> StoreResult<ObjectInfo> {
        let previous = self.head(bucket, key)?;
        let info = ObjectInfo {
            format_version: FORMAT_VERSION,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size,
            body: id.to_owned(),
            modified: now,
            meta,
        };
        self.store
            .apply(vec![Write::put(record_key(bucket, key), encode(&info)?)])?;
        self.store.flush()?;
        if let Some(old) = previous {
            self.remove_body(&old.body)?;
        }
        Ok(info)
    }

    /// Records of `bucket` whose keys start with `prefix`, after `start_after`, in key order.
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

    pub fn head(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        self.store
            .get(&record_key(bucket, key))?
            .map(|bytes| decode(&bytes))
            .transpose()
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
        let reader: Box<dyn Read + Send> = match &self.bodies {
            Bodies::Files(dir) => Box::new(
                std::fs::File::open(dir.join(&info.body)).map_err(io("cannot open a body"))?,
            ),
            Bodies::Memory(map) => {
                let bytes = lock(map)?.get(&info.body).cloned().unwrap_or_default();
                Box::new(std::io::Cursor::new(SharedBytes(bytes)))
            }
        };
        Ok(Some((info, reader)))
    }

    /// Removes the object; whether there was one.
    pub fn delete(&self, bucket: &str, key: &str) -> StoreResult<bool> {
        let Some(info) = self.head(bucket, key)? else {
            return Ok(false);
        };
        self.store
            .apply(vec![Write::delete(record_key(bucket, key))])?;
        self.store.flush()?;
        self.remove_body(&info.body)?;
        Ok(true)
    }

    /// Removes every body (the control plane's reset; the records go with the store's).
    pub fn clear(&self) -> StoreResult<()> {
        match &self.bodies {
            Bodies::Files(dir) => {
                for entry in std::fs::read_dir(dir)
                    .map_err(io("cannot list bodies"))?
                    .flatten()
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            Bodies::Memory(map) => lock(map)?.clear(),
        }
        Ok(())
    }

    fn remove_body(&self, id: &str) -> StoreResult<()> {
        match &self.bodies {
            Bodies::Files(dir) => match std::fs::remove_file(dir.join(id)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(StoreError(format!("cannot remove a body: {e}")))
                }
                _ => Ok(()),
            },
            Bodies::Memory(map) => {
                lock(map)?.remove(id);
                Ok(())
            }
        }
    }

    /// Removes bodies that no record names: partial uploads, and bodies whose record a crash
    /// kept from being written or whose removal it interrupted.
    fn sweep(&self) -> StoreResult<()> {
        let Bodies::Files(dir) = &self.bodies else {
            return Ok(());
        };
        let named: std::collections::HashSet<String> = self
            .store
            .scan("object/", None, usize::MAX)?
            .into_iter()
            .filter_map(|(_, bytes)| decode::<ObjectInfo>(&bytes).ok())
            .map(|info| info.body)
            .collect();
        for entry in std::fs::read_dir(dir)
            .map_err(io("cannot list bodies"))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> StoreResult<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| StoreError("the in-memory bodies were poisoned".to_owned()))
}

/// A shared in-memory body as a reader's buffer, without copying it per reader.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn read_all(objects: &Objects, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let (_, mut reader) = objects.get(bucket, key).unwrap()?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        Some(out)
    }

    fn round_trips(objects: &Objects) {
        let info = objects
            .put("b", "a/k.zip", &mut &b"first"[..], 1.0)
            .unwrap();
        assert_eq!((info.size, info.bucket.as_str()), (5, "b"));
        assert_eq!(read_all(objects, "b", "a/k.zip").unwrap(), b"first");
        objects
            .put("b", "a/k.zip", &mut &b"second!"[..], 2.0)
            .unwrap();
        assert_eq!(read_all(objects, "b", "a/k.zip").unwrap(), b"second!");
        assert_eq!(objects.head("b", "a/k.zip").unwrap().unwrap().size, 7);
        assert!(objects.get("other", "a/k.zip").unwrap().is_none());
        assert!(objects.delete("b", "a/k.zip").unwrap());
        assert!(!objects.delete("b", "a/k.zip").unwrap());
        assert!(read_all(objects, "b", "a/k.zip").is_none());
    }

    #[test]
    fn bodies_round_trip_in_memory() {
        let store: Arc<dyn Store> = Arc::new(SledStore::temporary().unwrap());
        round_trips(&Objects::in_memory(store));
    }

    #[test]
    fn bodies_round_trip_on_disk_and_leave_no_files_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::temporary().unwrap());
        let objects = Objects::on_disk(store.clone(), dir.path().join("objects")).unwrap();
        round_trips(&objects);
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects"))
                .unwrap()
                .count(),
            0
        );

        // A body without a record (a crash before the record) is swept at the next open.
        objects.put("b", "kept", &mut &b"kept"[..], 1.0).unwrap();
        std::fs::write(dir.path().join("objects").join("orphan.partial"), b"half").unwrap();
        std::fs::write(dir.path().join("objects").join("orphan"), b"lost").unwrap();
        let reopened = Objects::on_disk(store, dir.path().join("objects")).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects"))
                .unwrap()
                .count(),
            1
        );
        assert_eq!(read_all(&reopened, "b", "kept").unwrap(), b"kept");
    }

    #[test]
    fn a_body_that_fails_to_arrive_leaves_nothing() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("the client went away"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::temporary().unwrap());
        let objects = Objects::on_disk(store, dir.path().to_path_buf()).unwrap();
        assert!(objects.put("b", "k", &mut Broken, 1.0).is_err());
        assert!(objects.head("b", "k").unwrap().is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
