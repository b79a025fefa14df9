//! Handing freed memory back to the system once a burst of work is over. mimalloc keeps the
//! pages a thread frees for that thread's reuse and returns them only when that thread next
//! looks: a tokio worker that goes idle right after a burst never looks, and held ~30 MB above
//! what `mi_collect` on every thread leaves. So a release collects on the calling thread, then
//! asks every runtime worker to collect the next time it parks, and wakes them so they do.
//!
//! A page freed after that waits for mimalloc's purge delay, and a purge runs only when some
//! thread allocates or collects: an idle process runs none. Reads after a burst (a listing of
//! every execution) and threads that exit (tokio's blocking threads, [`BLOCKING_KEEP_ALIVE`]
//! after their last task) free pages that way, so the store's compaction thread releases again
//! once nothing has asked the store for a while, and purges for a while after each release.
//!
//! A blocking thread (each group commit's drain and sync runs on one) runs no park hook, so
//! what others freed of its heap (the batches it drained) waits for its exit: at tokio's
//! default of 10 s, a server that had just finished a soak held ~80 MB more for those 10 s.
//!
//! sled frees what it replaced (nodes, and the log values they hold: ~64 KB each) through
//! crossbeam's epochs, when some thread pins the epoch again: after a burst an idle server held
//! ~8 MB of them, pinning ~20 MB of mimalloc's pages for larger blocks. A release flushes them.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// How long an idle blocking thread of the runtime waits for work before it exits (and hands
/// back its heap). Under load the threads stay busy; starting one costs microseconds.
pub const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Bumped by each release; a worker that has not collected since the last bump does.
static RELEASES: AtomicU64 = AtomicU64::new(0);
/// The runtime whose workers are woken, recorded when it starts.
static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();

thread_local! {
    static COLLECTED_AT: Cell<u64> = const { Cell::new(0) };
}

/// Runs what crossbeam's epochs deferred (sled's freed nodes): this thread's own, then what
/// every thread left in the global queue, a few bags a pass.
fn run_deferred() {
    for _ in 0..DEFERRED_PASSES {
        crossbeam_epoch::pin().flush();
    }
}
/// Each pass may advance the epoch once and runs a few bags; garbage waits two epochs.
const DEFERRED_PASSES: usize = 64;

fn collect_here() {
    // SAFETY: mi_collect takes no pointers; it returns this thread's free pages (and any
    // abandoned ones) to the system.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Records the runtime whose workers a release wakes.
pub fn watch_runtime(handle: tokio::runtime::Handle) {
    let _ = RUNTIME.set(handle);
}

/// For the runtime's `on_thread_park`: collects once after each release.
pub fn on_worker_park() {
    let release = RELEASES.load(Ordering::Relaxed);
    if COLLECTED_AT.get() != release {
        COLLECTED_AT.set(release);
        run_deferred();
        collect_here();
    }
}

/// For the runtime's `on_thread_stop`: hands back what the stopping thread freed.
pub fn on_thread_stop() {
    run_deferred();
    collect_here();
}

/// Hands back the free pages inside the system allocator's heaps, which no thread keeps.
pub fn trim_heaps() {
    crate::allocator::trim_system();
}

/// Purges what any thread freed and left for a later purge, at once.
pub fn purge_freed() {
    collect_here();
    crate::allocator::trim_system();
}

/// Returns what this thread freed now, and what the workers freed as each next parks.
pub fn release_freed() {
    run_deferred();
    collect_here();
    crate::allocator::trim_system();
    RELEASES.fetch_add(1, Ordering::Relaxed);
    if let Some(runtime) = RUNTIME.get() {
        // Each task lands on a parked worker, which runs it and parks again.
        for _ in 0..runtime.metrics().num_workers() * 2 {
            drop(runtime.spawn(async {}));
        }
    }
}
