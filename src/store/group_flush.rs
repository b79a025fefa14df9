//! Group commit, as a store that wraps the real one. Every batch goes down through the ordered
//! [`WriteQueue`], whose places count the batches; a caller that needs its writes on disk asks
//! for a sync, and one disk sync serves every batch applied before it began. Callers queue on
//! one lock: whoever gets it either finds its writes already covered by the sync before (and
//! returns at once) or syncs for everyone so far. A caller whose writes were covered by someone
//! else's sync (an engine step after an API write) pays nothing.
//!
//! Under load a sync waits until [`GAP`] has passed since the last one began (as databases'
//! `commit_delay` does once enough others are waiting): each sync then serves more writers, and
//! every sync costs sled a batch, a log write and thread hand-offs. A lone writer never waits.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::write_queue::{Slot, WriteQueue};
use super::{Store, StoreError, StoreResult, Write};

pub struct GroupFlush {
    store: Arc<dyn Store>,
    queue: Arc<WriteQueue>,
    /// Every place of the queue below this number is on disk.
    durable: AtomicU64,
    /// Held while one sync runs, so the others wait for it instead of syncing again. Holds when
    /// the last sync began.
    syncing: tokio::sync::Mutex<Option<Instant>>,
    /// Callers waiting for a sync now.
    waiting: AtomicUsize,
}

/// The least time between the starts of two syncs under load. 2-3 ms gave 15-20% more
/// StartPipelineExecution per second at 32 connections than syncing back to back.
const GAP: Duration = Duration::from_millis(2);
/// Callers that must be waiting for a sync before it waits for [`GAP`].
const LOAD: usize = 4;

/// Counts a caller among the waiting while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl GroupFlush {
    pub fn new(store: Arc<dyn Store>) -> Self {
        GroupFlush {
            queue: WriteQueue::new(store.clone()),
            store,
            durable: AtomicU64::new(0),
            syncing: tokio::sync::Mutex::new(None),
            waiting: AtomicUsize::new(0),
        }
    }

    /// A place in the order of writes, for writes still being worked out (see [`WriteQueue`]).
    pub fn reserve(&self) -> StoreResult<Slot> {
        self.queue.reserve()
    }

    /// Blocks until every place taken so far is applied: for a reader that must see them all.
    pub fn settle(&self) -> StoreResult<()> {
        self.queue.settle()
    }

    /// Returns once every batch applied before the call is on disk.
    pub async fn sync(&self) -> StoreResult<()> {
        self.sync_below(self.queue.applied()).await
    }

    /// Returns once the batch in place `number` (and every one before it) is on disk.
    pub async fn sync_through(&self, number: u64) -> StoreResult<()> {
        self.queue.applied_through(number).await?;
        self.sync_below(number + 1).await
    }

    async fn sync_below(&self, needed: u64) -> StoreResult<()> {
        if self.durable.load(Ordering::SeqCst) >= needed {
            return Ok(());
        }
        let _waiting = Waiting::new(&self.waiting);
        let mut last_began = self.syncing.lock().await;
        if self.durable.load(Ordering::SeqCst) >= needed {
            return Ok(());
        }
        if let Some(last) = *last_began {
            if self.waiting.load(Ordering::SeqCst) >= LOAD {
                tokio::time::sleep_until(last + GAP).await;
            }
        }
        *last_began = Some(Instant::now());
        let covered = self.queue.applied();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| StoreError(format!("flush task failed: {e}")))??;
        self.durable.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }
}

impl Store for GroupFlush {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.store.get(key)
    }

    fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.store.scan(prefix, start_after, limit)
    }

    fn count(&self, prefix: &str, limit: usize) -> StoreResult<usize> {
        self.store.count(prefix, limit)
    }

    fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        // In order after every batch whose place was taken before, and readable on return.
        self.queue.apply_now(writes)
    }

    fn flush(&self) -> StoreResult<()> {
        self.store.flush()?;
        Ok(())
    }

    fn clear(&self) -> StoreResult<()> {
        self.store.clear()
    }

    fn describe(&self) -> String {
        self.store.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counting::Counting;

    fn write(i: usize) -> Vec<Write> {
        vec![Write::put(format!("k/{i}"), b"v".to_vec())]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_share_syncs_and_covered_writers_pay_nothing() {
        let real = Arc::new(Counting::new(std::time::Duration::from_millis(5)));
        let group = Arc::new(GroupFlush::new(real.clone()));
        group.sync().await.unwrap();
        assert_eq!(real.syncs(), 0, "nothing written, nothing to sync");

        let writers: Vec<_> = (0..64)
            .map(|i| {
                let g = group.clone();
                tokio::spawn(async move {
                    g.apply(write(i))?;
                    g.sync().await
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap().unwrap();
        }
        let syncs = real.syncs();
        assert!((1..64).contains(&syncs), "{syncs} syncs for 64 writers");

        group.sync().await.unwrap();
        assert_eq!(real.syncs(), syncs, "already durable");
        group.apply(write(99)).unwrap();
        group.sync().await.unwrap();
        assert_eq!(real.syncs(), syncs + 1, "a new write needs a sync");
        assert_eq!(group.count("k/", 1000).unwrap(), 65);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn syncs_under_load_begin_a_gap_apart_and_a_lone_writer_never_waits() {
        let real = Arc::new(Counting::new(Duration::ZERO));
        let group = Arc::new(GroupFlush::new(real.clone()));
        let began = std::time::Instant::now();
        for i in 0..50 {
            group.apply(write(i)).unwrap();
            group.sync().await.unwrap();
        }
        let alone = began.elapsed();
        assert_eq!(real.syncs(), 50);
        assert!(
            alone < GAP * 25,
            "a lone writer waited: {alone:?} for 50 syncs"
        );

        let began = std::time::Instant::now();
        let writers: Vec<_> = (0..32)
            .map(|w| {
                let g = group.clone();
                tokio::spawn(async move {
                    for i in 0..20 {
                        g.apply(write(1000 + w * 100 + i))?;
                        g.sync().await?;
                    }
                    StoreResult::Ok(())
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap().unwrap();
        }
        let syncs = real.syncs() - 50;
        let most = (began.elapsed().as_micros() / GAP.as_micros()) as usize + 9;
        assert!(syncs <= most, "{syncs} syncs in {:?}", began.elapsed());
    }
}
