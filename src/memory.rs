//! Handing freed memory back to the system once a burst of work is over. mimalloc keeps the
//! pages a thread frees for that thread's reuse and returns them only when that thread next
//! looks: a tokio worker that goes idle right after a burst never looks, and held ~30 MB above
//! what `mi_collect` on every thread leaves. So a release collects on the calling thread, then
//! asks every runtime worker to collect the next time it parks, and wakes them so they do.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Bumped by each release; a worker that has not collected since the last bump does.
static RELEASES: AtomicU64 = AtomicU64::new(0);
/// The runtime whose workers are woken, recorded when it starts.
static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();

thread_local! {
    static COLLECTED_AT: Cell<u64> = const { Cell::new(0) };
}

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
        collect_here();
    }
}

/// Returns what this thread freed now, and what the workers freed as each next parks.
pub fn release_freed() {
    collect_here();
    RELEASES.fetch_add(1, Ordering::Relaxed);
    if let Some(runtime) = RUNTIME.get() {
        // Each task lands on a parked worker, which runs it and parks again.
        for _ in 0..runtime.metrics().num_workers() * 2 {
            drop(runtime.spawn(async {}));
        }
    }
}
