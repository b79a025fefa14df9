//! The sled implementation of [`Store`]: one tree, atomic batches, flush for durability.
//! `--in-memory` uses sled's temporary mode, so both modes run the same code. On disk the tree
//! lives in `<data-dir>/store-<N>/`, named by `<data-dir>/store.current`, so that compaction
//! (`compaction.rs`) can write a fresh copy beside it and switch to it in one rename. Data
//! folders from before keep their tree in the folder itself until their first compaction.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::{Store, StoreError, StoreResult, Write};

pub struct SledStore {
    pub(super) shared: Arc<Shared>,
    description: String,
}

pub(super) struct Shared {
    pub(super) db: RwLock<sled::Db>,
    /// Counts applied batches: a compaction that saw it move while copying gives up.
    pub(super) writes: AtomicU64,
    /// Where the tree is on disk; `None` in memory.
    pub(super) layout: Option<Layout>,
}

pub(super) struct Layout {
    pub(super) root: PathBuf,
    /// The `N` of `store-<N>`; 0 for a tree in the root itself (a data folder from before).
    pub(super) current: Mutex<u64>,
}

pub(super) fn err(e: sled::Error) -> StoreError {
    StoreError(e.to_string())
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |e| StoreError(format!("{what}: {e}"))
}

/// The page cache sled may keep in memory. Reads are mostly of recent records and replies are
/// cached above the store, so a small cache costs little; a large one stays resident after a
/// burst of writes (after 10,000 executions: 85 MB above idle with 64 MiB, 55 MB with 24 MiB).
const CACHE_BYTES: u64 = 24 * 1024 * 1024;

const POINTER: &str = "store.current";

pub(super) fn open_tree(path: &Path) -> StoreResult<sled::Db> {
    sled::Config::new()
        .path(path)
        .mode(sled::Mode::LowSpace)
        // sled caches up to 1 GiB by default; records are small and reads are mostly recent.
        .cache_capacity(CACHE_BYTES)
        .open()
        .map_err(|e| StoreError(format!("cannot open store at {}: {e}", path.display())))
}

/// The files sled keeps in a folder: what a tree in the data folder's root consists of.
pub(super) fn is_legacy_tree(root: &Path) -> bool {
    root.join("conf").is_file() && root.join("db").is_file()
}

pub(super) fn tree_path(root: &Path, n: u64) -> PathBuf {
    if n == 0 {
        root.to_path_buf()
    } else {
        root.join(format!("store-{n}"))
    }
}

/// Names `store-<n>` as the tree, durably: written beside, synced, renamed over, and the folder
/// synced, so a crash leaves the old name or the new one.
pub(super) fn point_to(root: &Path, n: u64) -> StoreResult<()> {
    let temporary = root.join(format!("{POINTER}.next"));
    std::fs::write(&temporary, n.to_string())
        .map_err(io(format!("cannot write {}", temporary.display())))?;
    std::fs::File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot sync {}", temporary.display())))?;
    std::fs::rename(&temporary, root.join(POINTER))
        .map_err(io(format!("cannot rename {}", temporary.display())))?;
    std::fs::File::open(root)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot sync {}", root.display())))
}

/// Removes what a tree other than `current` left: copies an interrupted compaction began, the
/// tree a finished one replaced, and a tree in the root once a copy has replaced it.
pub(super) fn remove_others(root: &Path, current: u64) {
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("store-")
                .and_then(|n| n.parse::<u64>().ok());
            if n.is_some_and(|n| n != current) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    if current != 0 && is_legacy_tree(root) {
        for name in ["conf", "db", "blobs"] {
            let path = root.join(name);
            let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir_all(&path));
        }
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("snap.") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

impl SledStore {
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        let pointed = std::fs::read_to_string(dir.join(POINTER))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok());
        let current = match pointed {
            Some(n) => n,
            None if is_legacy_tree(dir) => 0,
            None => {
                point_to(dir, 1)?;
                1
            }
        };
        remove_others(dir, current);
        let db = open_tree(&tree_path(dir, current))?;
        let store = SledStore {
            shared: Arc::new(Shared {
                db: RwLock::new(db),
                writes: AtomicU64::new(0),
                layout: Some(Layout {
                    root: dir.to_path_buf(),
                    current: Mutex::new(current),
                }),
            }),
            description: format!("sled at {}", dir.display()),
        };
        super::compaction::watch(Arc::downgrade(&store.shared));
        Ok(store)
    }

    pub fn temporary() -> StoreResult<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(err)?;
        Ok(SledStore {
            shared: Arc::new(Shared {
                db: RwLock::new(db),
                writes: AtomicU64::new(0),
                layout: None,
            }),
            description: "in-memory".to_owned(),
        })
    }

    /// The tree, for one operation (a compaction may replace it between operations).
    fn db(&self) -> StoreResult<sled::Db> {
        self.shared
            .db
            .read()
            .map(|db| db.clone())
            .map_err(|_| StoreError("store lock poisoned".to_owned()))
    }
}

impl Store for SledStore {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .db()?
            .get(key.as_bytes())
            .map_err(err)?
            .map(|v| v.to_vec()))
    }

    fn count(&self, prefix: &str, limit: usize) -> StoreResult<usize> {
        let mut n = 0;
        for key in self.db()?.scan_prefix(prefix.as_bytes()).keys() {
            key.map_err(err)?;
            n += 1;
            if n >= limit {
                break;
            }
        }
        Ok(n)
    }

    fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let db = self.db()?;
        let iter = match start_after {
            Some(after) => {
                let mut from = after.as_bytes().to_vec();
                from.push(0);
                db.range(from..)
            }
            None => db.range(prefix.as_bytes()..),
        };
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(prefix.as_bytes()) || out.len() >= limit {
                break;
            }
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for w in writes {
            match w.value {
                Some(v) => batch.insert(w.key.as_bytes(), v),
                None => batch.remove(w.key.as_bytes()),
            }
        }
        // Applied and counted under the read lock, so a compaction's switch (under the write
        // lock) sees every batch that landed in the tree it copied.
        let db = self
            .shared
            .db
            .read()
            .map_err(|_| StoreError("store lock poisoned".to_owned()))?;
        db.apply_batch(batch).map_err(err)?;
        self.shared.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        self.db()?.flush().map(|_| ()).map_err(err)
    }

    fn clear(&self) -> StoreResult<()> {
        let db = self
            .shared
            .db
            .read()
            .map_err(|_| StoreError("store lock poisoned".to_owned()))?;
        db.clear().map_err(err)?;
        self.shared.writes.fetch_add(1, Ordering::SeqCst);
        db.flush().map(|_| ()).map_err(err)
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pages_within_a_prefix() {
        let s = SledStore::temporary().unwrap();
        s.apply(
            ["a/1", "a/2", "a/3", "b/1"]
                .iter()
                .map(|k| Write::put(*k, b"x".to_vec()))
                .collect(),
        )
        .unwrap();
        let page: Vec<_> = s
            .scan("a/", None, 2)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(page, ["a/1", "a/2"]);
        let page: Vec<_> = s
            .scan("a/", Some("a/2"), 10)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(page, ["a/3"]);
    }

    #[test]
    fn batches_put_and_delete() {
        let s = SledStore::temporary().unwrap();
        s.apply(vec![Write::put("k", b"v".to_vec())]).unwrap();
        s.apply(vec![Write::delete("k"), Write::put("j", b"w".to_vec())])
            .unwrap();
        assert_eq!(s.get("k").unwrap(), None);
        assert_eq!(s.get("j").unwrap(), Some(b"w".to_vec()));
    }
}
