//! Where object bodies live. A body of at most [`INLINE_MAX`] bytes is kept inside the record
//! that names it, so a small object costs one record write and no file of its own. A larger one
//! is a file under `<data-dir>/objects/` (in memory with `--in-memory`), received under a
//! temporary name and fsynced and renamed into place before any record names it.

use std::collections::HashMap;
use std::io::{Read, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{StoreError, StoreResult};

/// The largest body kept inside its record.
pub const INLINE_MAX: usize = 64 * 1024;

/// A body as its record names it.
pub enum Stored {
    Inline(Vec<u8>),
    /// The name of a body kept apart.
    Named(String),
}

pub(super) enum Bodies {
    Files(PathBuf),
    Memory(Mutex<HashMap<String, Arc<Vec<u8>>>>),
}

pub(super) fn io(what: &str) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError(format!("{what}: {e}"))
}

fn lock<T>(m: &Mutex<T>) -> StoreResult<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| StoreError("the in-memory bodies were poisoned".to_owned()))
}

/// A body being received: in memory while it is small, spilled to a partial file once it is not.
pub(super) struct Receiving {
    pub id: String,
    buffer: Vec<u8>,
    file: Option<(std::fs::File, PathBuf)>,
    pub size: u64,
}

impl Bodies {
    pub fn receive(&self) -> Receiving {
        Receiving {
            id: uuid::Uuid::new_v4().simple().to_string(),
            buffer: Vec::new(),
            file: None,
            size: 0,
        }
    }

    pub fn write(&self, r: &mut Receiving, chunk: &[u8]) -> StoreResult<()> {
        r.size += chunk.len() as u64;
        match (&mut r.file, self) {
            (Some((file, _)), _) => file.write_all(chunk).map_err(io("cannot write a body")),
            (None, Bodies::Files(dir)) if r.buffer.len() + chunk.len() > INLINE_MAX => {
                let partial = dir.join(format!("{}.partial", r.id));
                let mut file =
                    std::fs::File::create(&partial).map_err(io("cannot write a body"))?;
                file.write_all(&r.buffer)
                    .and_then(|()| file.write_all(chunk))
                    .map_err(io("cannot write a body"))?;
                r.buffer = Vec::new();
                r.file = Some((file, partial));
                Ok(())
            }
            (None, _) => {
                r.buffer.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    /// Makes the received body durable (a file) or hands it over to be kept inline.
    pub fn finish(&self, r: &mut Receiving) -> StoreResult<Stored> {
        if let Some((mut file, partial)) = r.file.take() {
            let Bodies::Files(dir) = self else {
                return Err(StoreError("a file body in a memory store".to_owned()));
            };
            (|| {
                file.flush()?;
                file.sync_all()?;
                std::fs::rename(&partial, dir.join(&r.id))?;
                // The rename is durable only once the folder is.
                std::fs::File::open(dir)?.sync_all()
            })()
            .map_err(io("cannot write a body"))?;
            return Ok(Stored::Named(r.id.clone()));
        }
        let bytes = std::mem::take(&mut r.buffer);
        match self {
            Bodies::Memory(map) if bytes.len() > INLINE_MAX => {
                lock(map)?.insert(r.id.clone(), Arc::new(bytes));
                Ok(Stored::Named(r.id.clone()))
            }
            _ => Ok(Stored::Inline(bytes)),
        }
    }

    /// Drops what a receive that never finished left.
    pub fn abandon(&self, r: &mut Receiving) {
        if let Some((_, partial)) = r.file.take() {
            let _ = std::fs::remove_file(partial);
        }
    }

    pub fn open(&self, name: &str) -> StoreResult<Box<dyn Read + Send>> {
        Ok(match self {
            Bodies::Files(dir) => {
                Box::new(std::fs::File::open(dir.join(name)).map_err(io("cannot open a body"))?)
            }
            Bodies::Memory(map) => {
                let bytes = lock(map)?.get(name).cloned().unwrap_or_default();
                Box::new(std::io::Cursor::new(SharedBytes(bytes)))
            }
        })
    }

    /// A second, durable name for the body `name`, without copying it: removing either name
    /// leaves the other.
    pub fn link(&self, name: &str) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match self {
            Bodies::Files(dir) => {
                std::fs::hard_link(dir.join(name), dir.join(&id))
                    .and_then(|()| std::fs::File::open(dir)?.sync_all())
                    .map_err(io("cannot link a body"))?;
            }
            Bodies::Memory(map) => {
                let mut map = lock(map)?;
                let bytes = map.get(name).cloned().unwrap_or_default();
                map.insert(id.clone(), bytes);
            }
        }
        Ok(id)
    }

    pub fn remove(&self, name: &str) -> StoreResult<()> {
        match self {
            Bodies::Files(dir) => match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(StoreError(format!("cannot remove a body: {e}")))
                }
                _ => Ok(()),
            },
            Bodies::Memory(map) => {
                lock(map)?.remove(name);
                Ok(())
            }
        }
    }

    /// Removes every body (the control plane's reset).
    pub fn clear(&self) -> StoreResult<()> {
        match self {
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

    /// The body files there are now.
    pub fn names(&self) -> StoreResult<Vec<String>> {
        let Bodies::Files(dir) = self else {
            return Ok(Vec::new());
        };
        Ok(std::fs::read_dir(dir)
            .map_err(io("cannot list bodies"))?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect())
    }

    /// Removes the files of `present` that `named` does not hold: partial uploads, and bodies
    /// whose record a crash kept from being written or whose removal it interrupted.
    pub fn sweep(
        &self,
        present: &[String],
        named: &std::collections::HashSet<String>,
    ) -> StoreResult<()> {
        let Bodies::Files(dir) = self else {
            return Ok(());
        };
        for name in present.iter().filter(|n| !named.contains(*n)) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        Ok(())
    }
}

/// A shared in-memory body as a reader's buffer, without copying it per reader.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Inline bodies in JSON records as base64 text.
pub mod inline_serde {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}
