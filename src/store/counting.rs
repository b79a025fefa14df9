//! A test double: a temporary sled store that counts the batches and syncs reaching it, each
//! sync taking as long as asked, for tests of what wraps a store (group commit, write queue).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{SledStore, Store, StoreResult, Write};

pub struct Counting {
    inner: SledStore,
    pub batches: AtomicUsize,
    pub syncs: AtomicUsize,
    sync_takes: Duration,
}

impl Counting {
    pub fn new(sync_takes: Duration) -> Self {
        Counting {
            inner: SledStore::temporary().expect("a temporary store"),
            batches: AtomicUsize::new(0),
            syncs: AtomicUsize::new(0),
            sync_takes,
        }
    }

    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }

    pub fn syncs(&self) -> usize {
        self.syncs.load(Ordering::SeqCst)
    }
}

impl Store for Counting {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.inner.scan(prefix, after, limit)
    }
    fn count(&self, prefix: &str, limit: usize) -> StoreResult<usize> {
        self.inner.count(prefix, limit)
    }
    fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(writes)
    }
    fn flush(&self) -> StoreResult<()> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.sync_takes);
        self.inner.flush()
    }
    fn clear(&self) -> StoreResult<()> {
        self.inner.clear()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}
