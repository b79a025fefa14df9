//! The [`Store`] on disk: sled for what is new, sorted tables for what has cooled. Writes go
//! to the active tree, a memtable whose batches sled logs atomically (`batch_log.rs`) and
//! makes durable by its flush; the compaction thread (`compaction.rs`) moves a grown tree into
//! a table while writes go on, and reads see through all layers (`layers.rs`). Which files are
//! live is the manifest's to say (`manifest.rs`). Batches wait in memory (`pending.rs`) until a
//! sync drains them into the active tree as one batch. `--in-memory` keeps a keyed temporary
//! sled tree alone (sled bounds what it holds in memory; a memtable is only ever emptied by a
//! freeze, which needs a data folder).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::batch_log;
use super::layers::{sled_err, tagged_put, Form, Layers, Merge, Tree, TOMBSTONE};
use super::manifest::{self, Manifest};
use super::pending::{self, Known, Pending};
use super::table::{Entry, Table};
use super::{Store, StoreError, StoreResult, Write};

pub struct SledStore {
    pub(super) shared: Arc<Shared>,
    description: String,
}

pub(super) struct Shared {
    pub(super) layers: RwLock<Arc<Layers>>,
    /// Counts applied batches, so the compaction thread knows when the store is idle.
    pub(super) writes: AtomicU64,
    /// Counts reads, so the compaction thread knows when nothing at all asks the store (and
    /// memory the readers freed can go back, `crate::memory`).
    pub(super) reads: AtomicU64,
    /// Where the layers are on disk; `None` in memory.
    pub(super) layout: Option<Layout>,
    /// Applied writes not yet in sled; read before every layer.
    pending: Mutex<Pending>,
    /// Held for a whole drain, so drains reach sled in the order they began.
    draining: Mutex<()>,
}

pub(super) struct Layout {
    pub(super) root: PathBuf,
    /// The live files. Held for the whole of a compaction step, so steps never interleave.
    pub(super) manifest: Mutex<Manifest>,
}

pub(super) fn poisoned() -> StoreError {
    StoreError("store lock poisoned".to_owned())
}

/// The page cache sled may keep for a keyed tree (from before logs), read while it is written
/// out. sled caches up to 1 GiB by default; a large cache stays resident after a burst.
const CACHE_BYTES: u64 = 24 * 1024 * 1024;
/// A log is read once, at open: what sled caches of it is only what it just wrote.
const LOG_CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// How often sled's own flusher thread writes and cleans a tree, if it runs one.
#[derive(Clone, Copy)]
enum Flusher {
    /// Every half second, as sled does by default: a keyed tree overwrites its records, and
    /// only this thread reclaims the log space they took.
    Periodic,
    /// None. A log tree is append-only and deleted once written out, so it has nothing to
    /// reclaim, and the store syncs it itself (each group commit, and each compaction look).
    /// Under the soak, a frozen tree's flusher failed cleaning files of its folder, removed a
    /// moment before, and left a write begun; the tree's last flush waited for that write
    /// holding sled's process-wide lock for reads, and every drain (`apply_batch` takes it
    /// for writes) waited behind it: the whole store hung.
    Off,
}

fn open_sled(path: &Path, cache: u64, flusher: Flusher) -> StoreResult<sled::Db> {
    let flush_every_ms = match flusher {
        Flusher::Periodic => Some(500),
        Flusher::Off => None,
    };
    sled::Config::new()
        .path(path)
        .mode(sled::Mode::LowSpace)
        .cache_capacity(cache)
        .flush_every_ms(flush_every_ms)
        .open()
        .map_err(|e| StoreError(format!("cannot open store at {}: {e}", path.display())))
}

/// A keyed tree, from before logs.
pub(super) fn open_tree(path: &Path) -> StoreResult<sled::Db> {
    open_sled(path, CACHE_BYTES, Flusher::Periodic)
}

/// The log tree `n` (new and empty if the folder is), its batches replayed into memory.
pub(super) fn open_log(root: &Path, n: u64) -> StoreResult<Tree> {
    let db = open_sled(&manifest::tree_path(root, n), LOG_CACHE_BYTES, Flusher::Off)?;
    let memtable = batch_log::replay(&db)?;
    Ok(Tree {
        db,
        n,
        form: Form::Log(Arc::new(memtable)),
    })
}

impl Shared {
    fn new(layers: Layers, layout: Option<Layout>) -> Self {
        Shared {
            layers: RwLock::new(Arc::new(layers)),
            writes: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            layout,
            pending: Mutex::default(),
            draining: Mutex::default(),
        }
    }

    fn pending(&self) -> StoreResult<std::sync::MutexGuard<'_, Pending>> {
        self.pending.lock().map_err(|_| poisoned())
    }

    /// Moves every pending write into the active tree, as one logged batch.
    pub(super) fn drain(&self) -> StoreResult<()> {
        let _one_at_a_time = self.draining.lock().map_err(|_| poisoned())?;
        let Some(writes) = self.pending()?.start_drain() else {
            return Ok(());
        };
        let applied = self.apply_to_sled(&writes);
        self.pending()?.end_drain(applied.is_err());
        applied
    }

    fn apply_to_sled(&self, writes: &pending::Writes) -> StoreResult<()> {
        // Applied under the read lock, so a freeze (under the write lock) never leaves a batch
        // half in the tree it freezes.
        let layers = self.layers.read().map_err(|_| poisoned())?;
        let memtable = match &layers.active.form {
            Form::Log(memtable) => memtable,
            Form::Tagged => return apply_keyed(&layers, writes),
            Form::Plain => return Err(StoreError("the active tree is read-only".to_owned())),
        };
        let mut changes = Vec::with_capacity(writes.len());
        for (key, value) in writes.iter() {
            let change = match value {
                Some(v) => Some(Entry::Put(v.clone())),
                None if layers.deeper_holds(key)? => Some(Entry::Tombstone),
                None => None,
            };
            changes.push((key.as_slice(), change));
        }
        batch_log::append(&layers.active.db, memtable, &changes)?;
        memtable.apply(changes)
    }

    /// Every live record `>= from` within the prefix `within`, pending writes included. The
    /// pending ones are taken before the layers, so a write drained meanwhile is found in one
    /// or the other.
    fn records_within(&self, from: &[u8], within: &[u8], keys_only: bool) -> StoreResult<Merge> {
        let pending = self.pending()?.within(from, within, keys_only);
        Ok(self
            .layers()?
            .records_within(pending, from, within, keys_only))
    }

    /// The layers, for one operation.
    pub(super) fn layers(&self) -> StoreResult<Arc<Layers>> {
        self.layers
            .read()
            .map(|l| l.clone())
            .map_err(|_| poisoned())
    }
}

/// Applies `writes` to a keyed active tree as one sled batch: `--in-memory`, whose records
/// would otherwise all stay in a memtable (nothing is ever frozen there), while sled keeps
/// what its cache does not hold in a temporary file.
fn apply_keyed(layers: &Layers, writes: &pending::Writes) -> StoreResult<()> {
    let mut batch = sled::Batch::default();
    for (key, value) in writes.iter() {
        match value {
            Some(v) => batch.insert(key.as_slice(), tagged_put(v)),
            None if layers.deeper_holds(key)? => batch.insert(key.as_slice(), TOMBSTONE),
            None => batch.remove(key.as_slice()),
        }
    }
    layers.active.db.apply_batch(batch).map_err(sled_err)
}

impl SledStore {
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        let manifest = manifest::load(dir)?;
        manifest::remove_unnamed(dir, &manifest);
        let tree = |n: u64, keyed: Form| -> StoreResult<Tree> {
            if manifest.is_log(n) {
                return open_log(dir, n);
            }
            Ok(Tree {
                db: open_tree(&manifest::tree_path(dir, n))?,
                n,
                form: keyed,
            })
        };
        let active = tree(manifest.active, Form::Tagged)?;
        let frozen = match manifest.frozen {
            Some(n) if manifest.frozen_plain => Some(tree(n, Form::Plain)?),
            Some(n) => Some(tree(n, Form::Tagged)?),
            None => None,
        };
        let upgrade = !matches!(active.form, Form::Log(_));
        let mut tables = Vec::new();
        for &n in &manifest.tables {
            tables.push((n, Arc::new(Table::open(&manifest::table_path(dir, n))?)));
        }
        let store = SledStore {
            shared: Arc::new(Shared::new(
                Layers {
                    active,
                    frozen,
                    tables,
                },
                Some(Layout {
                    root: dir.to_path_buf(),
                    manifest: Mutex::new(manifest),
                }),
            )),
            description: format!("sled at {}", dir.display()),
        };
        if upgrade {
            // A keyed active tree (from before logs) is frozen before anything is written,
            // once a frozen one before it is out of the way.
            super::compaction::write_out_frozen(&store.shared)?;
            super::compaction::freeze(&store.shared)?;
        }
        super::compaction::watch(Arc::downgrade(&store.shared));
        Ok(store)
    }

    pub fn temporary() -> StoreResult<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(sled_err)?;
        let active = Tree {
            db,
            n: 0,
            form: Form::Tagged,
        };
        Ok(SledStore {
            shared: Arc::new(Shared::new(
                Layers {
                    active,
                    frozen: None,
                    tables: Vec::new(),
                },
                None,
            )),
            description: "in-memory".to_owned(),
        })
    }
}

impl Store for SledStore {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.shared.reads.fetch_add(1, Ordering::Relaxed);
        // The pending writes first: one drained after this look is in the layers taken after.
        match self.shared.pending()?.get(key.as_bytes()) {
            Known::Value(v) => return Ok(Some(v)),
            Known::Deleted => return Ok(None),
            Known::Unknown => {}
        }
        self.shared.layers()?.get(key.as_bytes())
    }

    fn count(&self, prefix: &str, limit: usize) -> StoreResult<usize> {
        self.shared.reads.fetch_add(1, Ordering::Relaxed);
        let mut n = 0;
        let prefix_bytes = prefix.as_bytes();
        for item in self
            .shared
            .records_within(prefix_bytes, prefix_bytes, true)?
        {
            let (key, _) = item?;
            if !key.starts_with(prefix.as_bytes()) || n >= limit {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.shared.reads.fetch_add(1, Ordering::Relaxed);
        let from = match start_after {
            Some(after) => {
                let mut from = after.as_bytes().to_vec();
                from.push(0);
                from
            }
            None => prefix.as_bytes().to_vec(),
        };
        let mut out = Vec::new();
        for item in self
            .shared
            .records_within(&from, prefix.as_bytes(), false)?
        {
            let (key, entry) = item?;
            if !key.starts_with(prefix.as_bytes()) || out.len() >= limit {
                break;
            }
            if let super::table::Entry::Put(value) = entry {
                out.push((String::from_utf8_lossy(&key).into_owned(), value));
            }
        }
        Ok(out)
    }

    fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        let waiting = self.shared.pending()?.add(writes);
        self.shared.writes.fetch_add(1, Ordering::SeqCst);
        if waiting >= pending::DRAIN_AT {
            self.shared.drain()?;
        }
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        self.shared.drain()?;
        let layers = self.shared.layers()?;
        layers.active.db.flush().map_err(sled_err)?;
        // A batch may have landed in the tree just before it was frozen.
        if let Some(frozen) = &layers.frozen {
            frozen.db.flush().map_err(sled_err)?;
        }
        Ok(())
    }

    fn clear(&self) -> StoreResult<()> {
        // No drain may bring back what was written before.
        let _no_drain = self.shared.draining.lock().map_err(|_| poisoned())?;
        self.shared.pending()?.clear();
        let Some(layout) = &self.shared.layout else {
            let layers = self.shared.layers()?;
            layers.active.clear()?;
            self.shared.writes.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        };
        let mut manifest = layout.manifest.lock().map_err(|_| poisoned())?;
        let mut layers = self.shared.layers.write().map_err(|_| poisoned())?;
        layers.active.clear()?;
        layers.active.db.flush().map_err(sled_err)?;
        let mut emptied = manifest.clone();
        emptied.frozen = None;
        emptied.frozen_plain = false;
        emptied.tables.clear();
        manifest::save(&layout.root, &emptied)?;
        *layers = Arc::new(Layers {
            active: layers.active.clone(),
            frozen: None,
            tables: Vec::new(),
        });
        *manifest = emptied;
        self.shared.writes.fetch_add(1, Ordering::SeqCst);
        manifest::remove_unnamed(&layout.root, &manifest);
        Ok(())
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
impl SledStore {
    /// Opens the store in `dir`. A store just dropped may still be held for a moment by its
    /// compaction thread, in the middle of a look (sled locks its folder), so this tries again.
    pub(super) fn open_when_free(dir: &Path) -> Self {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match SledStore::open(dir) {
                Ok(s) => return s,
                Err(e) if std::time::Instant::now() > deadline => panic!("{e}"),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
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
    fn a_write_stays_readable_while_syncs_drain_it_into_sled() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(SledStore::open(dir.path()).unwrap());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let syncing = {
            let (s, done) = (s.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    s.flush().unwrap();
                }
            })
        };
        for i in 0..2000 {
            let key = format!("k/{i:05}");
            s.apply(vec![Write::put(key.clone(), b"v".to_vec())])
                .unwrap();
            assert_eq!(s.get(&key).unwrap().as_deref(), Some(&b"v"[..]), "{key}");
            if i % 50 == 0 {
                assert_eq!(s.count("k/", usize::MAX).unwrap(), i + 1);
            }
        }
        done.store(true, Ordering::SeqCst);
        syncing.join().unwrap();
        s.flush().unwrap();
        drop(s);
        let s = SledStore::open_when_free(dir.path());
        assert_eq!(s.count("k/", usize::MAX).unwrap(), 2000);
    }

    #[test]
    fn batches_put_and_delete() {
        let s = SledStore::temporary().unwrap();
        s.apply(vec![Write::put("k", b"v".to_vec())]).unwrap();
        s.apply(vec![Write::delete("k"), Write::put("j", b"w".to_vec())])
            .unwrap();
        assert_eq!(s.get("k").unwrap(), None);
        assert_eq!(s.get("j").unwrap(), Some(b"w".to_vec()));
        assert_eq!(s.count("", 10).unwrap(), 1);
    }
}
