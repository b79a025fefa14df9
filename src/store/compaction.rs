//! Compaction of the sled tree when the server is idle. sled keeps every overwritten version in
//! its log until its own cleaner catches up, which under steady writes it does not: the log grew
//! by ~20 KB per execution whose live records are ~5 KB, and a restart replays the whole log
//! written since the last open. So once nothing has been written for a while and the tree's
//! folder has grown well past its last compacted size, the live records are copied in key order
//! into a fresh tree beside it, which is then reopened (sled writes its snapshot at open, so a
//! later restart replays only what came after) and switched to by renaming the pointer file.
//!
//! The copy never blocks anyone: reads go on from the old tree, and any write while copying
//! makes the compaction give up (and try again at the next idle spell), so nothing written is
//! ever left behind in the old tree. The switch happens under the tree's write lock, after a
//! last check that no batch landed since the copy began.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::{Duration, Instant};

use super::sled_store::{err, open_tree, point_to, remove_others, tree_path, Shared};
use super::{StoreError, StoreResult};

/// How long nothing must be written before a compaction starts.
const IDLE: Duration = Duration::from_secs(15);
/// How often the watcher looks.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// Compact when the tree is this many times its size after the last compaction, and at
/// least this much bigger; the first time in a process, once it is that big (small stores are
/// left alone).
const GROWTH: u64 = 2;
const AT_LEAST: u64 = 64 * 1024 * 1024;
/// Records copied per batch.
const COPY_BATCH: usize = 4096;

/// Bytes `path` takes on disk: a file's blocks, or a folder's files' blocks.
fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path).map_or(0, |entries| {
            entries.flatten().map(|e| disk_bytes(&e.path())).sum()
        }),
        Ok(m) => m.blocks() * 512,
        Err(_) => 0,
    }
}

/// The tree's own bytes (a tree in the root shares it with objects and repositories).
fn tree_bytes(root: &Path, current: u64) -> u64 {
    if current != 0 {
        return disk_bytes(&tree_path(root, current));
    }
    ["db", "blobs"]
        .iter()
        .map(|name| disk_bytes(&root.join(name)))
        .sum()
}

/// Watches the store for as long as it lives, compacting it when idle and grown.
pub(super) fn watch(shared: Weak<Shared>) {
    let spawned = std::thread::Builder::new()
        .name("store-compaction".to_owned())
        .spawn(move || {
            let mut last_writes = u64::MAX;
            let mut quiet_since = Instant::now();
            let mut compacted_size = None::<u64>;
            loop {
                std::thread::sleep(LOOK_EVERY);
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let Some(layout) = &shared.layout else {
                    return;
                };
                let writes = shared.writes.load(Ordering::SeqCst);
                if writes != last_writes {
                    last_writes = writes;
                    quiet_since = Instant::now();
                    continue;
                }
                if quiet_since.elapsed() < IDLE {
                    continue;
                }
                let current = layout.current.lock().map_or(0, |c| *c);
                let size = tree_bytes(&layout.root, current);
                let due = match compacted_size {
                    None => AT_LEAST,
                    Some(base) => base.saturating_mul(GROWTH).max(base + AT_LEAST),
                };
                if size < due {
                    continue;
                }
                match compact(&shared) {
                    Ok(true) => {
                        let current = layout.current.lock().map_or(0, |c| *c);
                        let after = tree_bytes(&layout.root, current);
                        tracing::info!(
                            before_mb = size / (1024 * 1024),
                            after_mb = after / (1024 * 1024),
                            "compacted the store"
                        );
                        compacted_size = Some(after);
                    }
                    Ok(false) => {
                        tracing::debug!("store compaction gave up: something was written");
                        quiet_since = Instant::now();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot compact the store");
                        // Not again until the store has grown as much once more.
                        compacted_size = Some(size);
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the store's compaction thread");
    }
}

/// Copies the live records into a fresh tree and switches to it. `Ok(false)`: a write came
/// while copying, so nothing changed.
pub(super) fn compact(shared: &Shared) -> StoreResult<bool> {
    let Some(layout) = &shared.layout else {
        return Ok(false);
    };
    let poisoned = || StoreError("store lock poisoned".to_owned());
    let mut current = layout.current.lock().map_err(|_| poisoned())?;
    let began = shared.writes.load(Ordering::SeqCst);
    let old = shared.db.read().map_err(|_| poisoned())?.clone();
    let next = *current + 1;
    let path = tree_path(&layout.root, next);
    let _ = std::fs::remove_dir_all(&path);
    let give_up = |path: &Path| {
        let _ = std::fs::remove_dir_all(path);
        Ok(false)
    };
    {
        let fresh = open_tree(&path)?;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for item in old.iter() {
            let (k, v) = item.map_err(err)?;
            batch.insert(k, v);
            in_batch += 1;
            if in_batch == COPY_BATCH {
                fresh.apply_batch(std::mem::take(&mut batch)).map_err(err)?;
                in_batch = 0;
                if shared.writes.load(Ordering::SeqCst) != began {
                    drop(fresh);
                    return give_up(&path);
                }
            }
        }
        fresh.apply_batch(batch).map_err(err)?;
        fresh.flush().map_err(err)?;
    }
    // Opened again, sled writes its snapshot, so a restart replays only later writes.
    let fresh = open_tree(&path)?;
    let mut db = shared.db.write().map_err(|_| poisoned())?;
    if shared.writes.load(Ordering::SeqCst) != began {
        drop(db);
        drop(fresh);
        return give_up(&path);
    }
    point_to(&layout.root, next)?;
    let replaced = std::mem::replace(&mut *db, fresh);
    drop(db);
    drop(replaced);
    drop(old);
    *current = next;
    drop(current);
    // The old tree's files go once nobody can reach it (a crash here leaves them for the next
    // open to remove).
    remove_others(&layout.root, next);
    release_freed_memory();
    Ok(true)
}

/// The copy read every record of the old tree through the heap; the allocator keeps freed pages
/// a while for reuse, which left the process hundreds of MB above idle after a compaction.
fn release_freed_memory() {
    // SAFETY: mi_collect takes no pointers; it only returns mimalloc's free pages to the system.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

#[cfg(test)]
mod tests {
    use super::super::sled_store::SledStore;
    use super::super::{Store, Write};
    use super::*;

    fn filled(dir: &Path) -> SledStore {
        let s = SledStore::open(dir).unwrap();
        for round in 0..5 {
            let writes = (0..500)
                .map(|i| Write::put(format!("k/{i:04}"), vec![round as u8; 2000]))
                .collect();
            s.apply(writes).unwrap();
        }
        s.apply(vec![Write::delete("k/0007")]).unwrap();
        s.flush().unwrap();
        s
    }

    #[test]
    fn compaction_keeps_every_record_and_switches_trees() {
        let dir = tempfile::tempdir().unwrap();
        let s = filled(dir.path());
        assert!(compact(&s.shared).unwrap());
        assert!(dir.path().join("store-2").is_dir());
        assert!(!dir.path().join("store-1").exists(), "the old tree is gone");
        assert_eq!(s.count("k/", usize::MAX).unwrap(), 499);
        assert_eq!(s.get("k/0001").unwrap(), Some(vec![4u8; 2000]));
        assert_eq!(s.get("k/0007").unwrap(), None);
        // Writes go on in the new tree, and a restart finds everything there.
        s.apply(vec![Write::put("after", b"yes".to_vec())]).unwrap();
        s.flush().unwrap();
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.get("after").unwrap(), Some(b"yes".to_vec()));
        assert_eq!(s.count("k/", usize::MAX).unwrap(), 499);
    }

    #[test]
    fn a_write_while_copying_makes_it_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = filled(dir.path());
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| {
                for i in 0..200 {
                    s.apply(vec![Write::put(format!("w/{i}"), vec![1; 100])])
                        .unwrap();
                }
            });
            // Whether it switched (the copy won the race) or gave up, no write is lost.
            compact(&s.shared).unwrap();
            handle.join().unwrap();
        });
        assert_eq!(s.count("w/", usize::MAX).unwrap(), 200);
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.count("w/", usize::MAX).unwrap(), 200);
        assert_eq!(s.count("k/", usize::MAX).unwrap(), 499);
    }

    #[test]
    fn a_data_folder_from_before_moves_into_its_first_copy() {
        let dir = tempfile::tempdir().unwrap();
        {
            let legacy = open_tree(dir.path()).unwrap();
            legacy.insert("old", b"kept".as_slice()).unwrap();
            legacy.flush().unwrap();
        }
        std::fs::create_dir_all(dir.path().join("objects")).unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.get("old").unwrap(), Some(b"kept".to_vec()));
        assert!(compact(&s.shared).unwrap());
        assert!(!dir.path().join("db").exists() && !dir.path().join("conf").exists());
        assert!(dir.path().join("objects").is_dir(), "other folders stay");
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.get("old").unwrap(), Some(b"kept".to_vec()));
    }

    #[test]
    fn an_interrupted_compaction_leaves_the_store_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        drop(filled(dir.path()));
        // A copy that never got switched to, as a crash would leave it.
        std::fs::create_dir_all(dir.path().join("store-2")).unwrap();
        std::fs::write(dir.path().join("store-2").join("db"), b"half").unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        assert!(!dir.path().join("store-2").exists());
        assert_eq!(s.count("k/", usize::MAX).unwrap(), 499);
    }
}
