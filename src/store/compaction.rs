//! Moving records out of sled into tables, in one background thread. sled keeps every
//! overwritten version in its log until its cleaner catches up, which under steady writes it
//! does not, and it stores even write-once records in about twice their size; a restart
//! replays the log written since its last snapshot. So sled only ever holds what is new:
//!
//! 1. **Freeze**: once the active tree's records pass [`FREEZE_AT`] or its folder
//!    [`FREEZE_LOG_AT`] (under load), writes have stopped for [`SETTLE`] with at least
//!    [`SETTLE_AT`] of records in it, or the store has been idle for [`IDLE`] with anything
//!    written since the last freeze, a fresh tree becomes the active one and the old one is
//!    frozen. Writes go on at once.
//! 2. **Write out**: the frozen tree's records are written in key order as a table and the
//!    frozen tree is deleted. A delete there stays a tombstone unless no table lies beneath.
//! 3. **Merge**: tables are merged so their sizes halve from oldest to newest (a table at
//!    least half the size of the one before it is merged into it), which bounds their number
//!    to a logarithm of the store's size and rewrites each record a few times in all. When
//!    idle, all tables become one, and tombstones go.
//!
//! Each step writes its new files, syncs them, and then names them in the manifest under the
//! layers' write lock, so a crash at any point leaves the store as before or as after it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::layers::{sled_err, Form, Layers, Merge};
use super::manifest::{self, table_path, tree_path};
use super::sled_store::{open_log, poisoned, Shared};
use super::table::{Packing, Table, TableWriter};
use super::StoreResult;

/// How long nothing must be written before the store is compacted completely.
const IDLE: Duration = Duration::from_secs(15);
/// How long nothing must be written before a burst's active tree is written out, so the
/// records it holds in memory (in the memtable, and again in sled's leaves) go at once rather
/// than at [`IDLE`]: right after the soak the server held ~80 MB more for those seconds.
const SETTLE: Duration = Duration::from_secs(2);
/// The active tree's records in memory worth writing out at [`SETTLE`]; a few writes now and
/// then wait for [`IDLE`], so they do not leave a small table each.
const SETTLE_AT: u64 = 4 * 1024 * 1024;
/// How often the thread looks.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long nothing may ask the store before what its callers freed is handed back.
const RELEASE_AFTER: Duration = Duration::from_secs(5);
/// Looks after a release that purge what threads free late: tokio's idle blocking threads
/// exit a second after their last task, and mimalloc delays each purge by a second.
const PURGE_LOOKS: u32 = 30;
/// The active tree's records in memory that freeze it under load. Small enough that a restart
/// replays little and memory stays modest; large enough that tables are few.
pub(super) const FREEZE_AT: u64 = 24 * 1024 * 1024;
/// The active tree's log on disk that freezes it whatever its records take (sled's log of a
/// tree that overwrites few keys is about their size).
const FREEZE_LOG_AT: u64 = 4 * FREEZE_AT;

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

/// Lowers this thread's CPU priority: under load, a merge rewriting a table of hundreds of
/// megabytes took the CPU that replies needed (p99 of StartPipelineExecution from 50 to 400 ms
/// in the soak's last runs); what it puts off, it does once the load eases. Linux gives each
/// thread its own nice value.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes no pointers; `who` 0 is the calling thread on Linux.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
    }
}

/// The compaction thread's nice value.
#[cfg(target_os = "linux")]
const NICE: libc::c_int = 10;

/// Watches the store for as long as it lives.
pub(super) fn watch(shared: Weak<Shared>) {
    let spawned = std::thread::Builder::new()
        .name("store-compaction".to_owned())
        .spawn(move || {
            yield_to_requests();
            let mut seen_writes = u64::MAX;
            let mut quiet_since = Instant::now();
            let mut tidy = false;
            let mut seen_reads = u64::MAX;
            let mut unasked_since = Instant::now();
            let mut released = false;
            let mut purges_left = 0;
            let mut settled = false;
            loop {
                std::thread::sleep(LOOK_EVERY);
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let writes = shared.writes.load(Ordering::SeqCst);
                if writes != seen_writes {
                    seen_writes = writes;
                    quiet_since = Instant::now();
                    tidy = false;
                    released = false;
                    settled = false;
                }
                let reads = shared.reads.load(Ordering::Relaxed);
                if reads != seen_reads {
                    seen_reads = reads;
                    unasked_since = Instant::now();
                    released = false;
                }
                let idle = quiet_since.elapsed() >= IDLE;
                let was_tidy = tidy;
                if let Err(e) = step(&shared, idle, &mut tidy) {
                    tracing::warn!(error = %e, "cannot compact the store");
                    // Not again until something is written.
                    tidy = true;
                }
                let mut wrote_out = false;
                if !settled && quiet_since.elapsed() >= SETTLE {
                    settled = true;
                    match write_out_settled(&shared) {
                        Ok(done) => wrote_out = done,
                        Err(e) => tracing::warn!(error = %e, "cannot write out the store"),
                    }
                }
                // Reads allocate too (a listing reads table blocks): once nothing has asked the
                // store for a while, what they freed goes back, compacted or not.
                let unasked = quiet_since.max(unasked_since).elapsed() >= RELEASE_AFTER;
                if (unasked && !released) || (tidy && !was_tidy) || wrote_out {
                    released = unasked;
                    crate::memory::release_freed();
                    purges_left = PURGE_LOOKS;
                } else if purges_left > 0 {
                    purges_left -= 1;
                    crate::memory::purge_freed();
                } else if !unasked {
                    // Under load, the free pages inside the system allocator's heaps (blocks
                    // from 16 KiB: log values, table blocks) go back every look.
                    crate::memory::trim_heaps();
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the store's compaction thread");
    }
}

/// One look: finishes a frozen tree, freezes a grown one, and merges tables as due. `tidy`
/// is set once an idle store is as compact as it gets, so idle looks cost nothing more.
fn step(shared: &Shared, idle: bool, tidy: &mut bool) -> StoreResult<()> {
    let Some(layout) = &shared.layout else {
        return Ok(());
    };
    // Writes nobody synced reach the disk within a look (a log tree has no flusher of its own).
    shared.drain()?;
    let layers = shared.layers()?;
    layers.active.db.flush().map_err(sled_err)?;
    if layers.frozen.is_some() {
        write_out_frozen(shared)?;
    } else {
        let in_memory = match &layers.active.form {
            Form::Log(memtable) => memtable.bytes(),
            Form::Tagged | Form::Plain => u64::MAX,
        };
        let grown = in_memory >= FREEZE_AT
            || disk_bytes(&tree_path(&layout.root, layers.active.n)) >= FREEZE_LOG_AT;
        if grown || (idle && !*tidy && !layers.active.is_empty()) {
            freeze(shared)?;
            write_out_frozen(shared)?;
        }
    }
    loop {
        let layers = shared.layers()?;
        let Some(from) = due_merge(&layers, idle) else {
            break;
        };
        // Under load merged tables stay raw; when idle, all become one deflated table.
        let packing = if idle {
            Packing::Deflated
        } else {
            Packing::Raw
        };
        merge_tables(shared, from, packing)?;
    }
    if idle && !*tidy {
        *tidy = true;
        let layers = shared.layers()?;
        tracing::info!(
            tables = layers.tables.len(),
            records = layers.tables.iter().map(|(_, t)| t.entries()).sum::<u64>(),
            "compacted the store while idle"
        );
    }
    Ok(())
}

/// Where a merge of the newest tables should start, if one is due: all of them when idle
/// (one table too, if it is raw); under load, while the newest is at least half the size of
/// the one before it.
fn due_merge(layers: &Layers, idle: bool) -> Option<usize> {
    let n = layers.tables.len();
    if idle && (n >= 2 || layers.tables.iter().any(|(_, t)| t.is_raw())) {
        return Some(0);
    }
    if idle || n < 2 {
        return None;
    }
    let size = |i: usize| layers.tables[i].1.bytes();
    (size(n - 1) * 2 >= size(n - 2)).then_some(n - 2)
}

/// Makes a fresh tree the active one and the active one frozen, with every write applied
/// before.
pub(super) fn freeze(shared: &Shared) -> StoreResult<()> {
    let Some(layout) = &shared.layout else {
        return Ok(());
    };
    shared.drain()?;
    let mut manifest = layout.manifest.lock().map_err(|_| poisoned())?;
    let mut next = manifest.clone();
    let n = next.take_next();
    next.first_log.get_or_insert(n);
    let fresh = open_log(&layout.root, n)?;
    let mut layers = shared.layers.write().map_err(|_| poisoned())?;
    if layers.frozen.is_some() {
        return Ok(());
    }
    next.frozen = Some(layers.active.n);
    next.frozen_plain = false;
    next.active = n;
    manifest::save(&layout.root, &next)?;
    let frozen = layers.active.clone();
    *layers = Arc::new(Layers {
        active: fresh,
        frozen: Some(frozen.clone()),
        tables: layers.tables.clone(),
    });
    drop(layers);
    *manifest = next;
    drop(manifest);
    frozen.db.flush().map_err(sled_err)?;
    Ok(())
}

/// Writes the frozen tree as the newest table and lets the tree go. The table is raw: under
/// load it is merged again soon, and when idle the merge of every table that follows (raw
/// ones included) deflates it.
pub(super) fn write_out_frozen(shared: &Shared) -> StoreResult<()> {
    let Some(layout) = &shared.layout else {
        return Ok(());
    };
    let mut manifest = layout.manifest.lock().map_err(|_| poisoned())?;
    let layers = shared.layers()?;
    let Some(frozen) = &layers.frozen else {
        return Ok(());
    };
    frozen.db.flush().map_err(sled_err)?;
    let mut next = manifest.clone();
    let n = next.take_next();
    let keep_tombstones = !layers.tables.is_empty();
    let records = Merge::new(vec![frozen.iter_from(b"", b"", false)], keep_tombstones);
    let table = write_table(&layout.root, n, records, Packing::Raw)?;
    next.frozen = None;
    next.frozen_plain = false;
    next.tables.push(n);
    let mut live = shared.layers.write().map_err(|_| poisoned())?;
    manifest::save(&layout.root, &next)?;
    let mut tables = live.tables.clone();
    tables.push((n, table));
    *live = Arc::new(Layers {
        active: live.active.clone(),
        frozen: None,
        tables,
    });
    drop(live);
    *manifest = next;
    // Closed before its folder goes, so sled never looks for a file that is gone. (A reader
    // may still hold it for a moment: it was synced at the freeze, and nothing writes to it
    // since, a log tree having no flusher to clean it.)
    drop(layers);
    manifest::remove_unnamed(&layout.root, &manifest);
    Ok(())
}

/// Writes out the active tree once a burst of writes is over, if it holds enough to matter;
/// whether it did.
fn write_out_settled(shared: &Shared) -> StoreResult<bool> {
    let layers = shared.layers()?;
    let holds = match &layers.active.form {
        Form::Log(memtable) => memtable.bytes(),
        Form::Tagged | Form::Plain => 0,
    };
    if layers.frozen.is_some() || holds < SETTLE_AT {
        return Ok(false);
    }
    drop(layers);
    freeze(shared)?;
    write_out_frozen(shared)?;
    Ok(true)
}

/// Merges the tables from index `from` to the newest into one.
pub(super) fn merge_tables(shared: &Shared, from: usize, packing: Packing) -> StoreResult<()> {
    let Some(layout) = &shared.layout else {
        return Ok(());
    };
    let mut manifest = layout.manifest.lock().map_err(|_| poisoned())?;
    let layers = shared.layers()?;
    if from >= layers.tables.len() {
        return Ok(());
    }
    let merged = &layers.tables[from..];
    let streams = merged
        .iter()
        .rev()
        .map(|(_, t)| Box::new(t.iter_from(b"")) as _)
        .collect();
    // Tombstones only hide older tables: with the oldest merged in, they have nothing to hide.
    let records = Merge::new(streams, from > 0);
    let mut next = manifest.clone();
    let n = next.take_next();
    let table = write_table(&layout.root, n, records, packing)?;
    let mut live = shared.layers.write().map_err(|_| poisoned())?;
    let mut tables = live.tables[..from].to_vec();
    tables.push((n, table));
    tables.extend(live.tables[layers.tables.len()..].iter().cloned());
    next.tables = tables.iter().map(|(n, _)| *n).collect();
    manifest::save(&layout.root, &next)?;
    *live = Arc::new(Layers {
        active: live.active.clone(),
        frozen: live.frozen.clone(),
        tables,
    });
    drop(live);
    *manifest = next;
    manifest::remove_unnamed(&layout.root, &manifest);
    Ok(())
}

fn write_table(root: &Path, n: u64, records: Merge, packing: Packing) -> StoreResult<Arc<Table>> {
    let path = table_path(root, n);
    let mut writer = TableWriter::create(&path, packing)?;
    for item in records {
        let (key, entry) = item?;
        writer.add(&key, &entry)?;
    }
    writer.finish()?;
    manifest::sync_folder(root)?;
    Ok(Arc::new(Table::open(&path)?))
}

#[cfg(test)]
mod tests;
