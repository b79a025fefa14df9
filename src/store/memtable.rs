//! The newest layer's records in memory, in key order. A sled tree holds them too, but only as
//! a log of the batches that made them (`batch_log.rs`): sled writes one large value far more
//! cheaply than the same bytes as hundreds of keys (splitting and relinking its nodes was a
//! seventh of the server's CPU under StartPipelineExecution load), and reads of what is new
//! come from here without touching sled at all. The log is read only when the store opens.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::sled_store::poisoned;
use super::table::Entry;
use super::StoreResult;

/// What a write does to the layer: the entry it leaves, or `None` when it removes the key
/// outright (written and deleted since the last freeze, with nothing deeper to hide).
pub(super) type Change = Option<Entry>;

/// Bytes a record costs beyond its key and value (the map's node, the vectors' headers).
const OVERHEAD: u64 = 48;

fn cost(key: &[u8], entry: &Entry) -> u64 {
    let value = match entry {
        Entry::Put(v) => v.len(),
        Entry::Tombstone => 0,
    };
    (key.len() + value) as u64 + OVERHEAD
}

#[derive(Default)]
pub(super) struct Memtable {
    records: RwLock<BTreeMap<Vec<u8>, Entry>>,
    /// About what the records take in memory, for the freeze under load.
    bytes: AtomicU64,
    /// The next batch number of the log.
    pub(super) next_batch: AtomicU64,
}

/// How many records an iterator copies out per look, so a long scan never holds the lock
/// while its reader works. The first look takes few: most scans want a page or a count.
const FIRST_CHUNK: usize = 16;
const CHUNK: usize = 128;

impl Memtable {
    pub fn get(&self, key: &[u8]) -> StoreResult<Option<Entry>> {
        let records = self.records.read().map_err(|_| poisoned())?;
        Ok(records.get(key).cloned())
    }

    pub fn apply<'a>(
        &self,
        changes: impl IntoIterator<Item = (&'a [u8], Change)>,
    ) -> StoreResult<()> {
        let mut records = self.records.write().map_err(|_| poisoned())?;
        let (mut added, mut freed) = (0u64, 0u64);
        for (key, change) in changes {
            let old = match change {
                Some(entry) => {
                    added += cost(key, &entry);
                    records.insert(key.to_vec(), entry)
                }
                None => records.remove(key),
            };
            if let Some(old) = old {
                freed += cost(key, &old);
            }
        }
        let now = self.bytes.load(Ordering::SeqCst) + added;
        self.bytes
            .store(now.saturating_sub(freed), Ordering::SeqCst);
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    pub fn is_empty(&self) -> bool {
        self.records.read().map_or(true, |r| r.is_empty())
    }

    pub fn clear(&self) -> StoreResult<()> {
        self.records.write().map_err(|_| poisoned())?.clear();
        self.bytes.store(0, Ordering::SeqCst);
        Ok(())
    }

    /// The records with keys `>= from` that start with `within`, in key order; with
    /// `keys_only`, values are left empty. Like sled's iterators it is not a snapshot: a record
    /// written meanwhile beyond the iterator's place is seen.
    pub fn iter_from(
        self: &Arc<Self>,
        from: &[u8],
        within: &[u8],
        keys_only: bool,
    ) -> impl Iterator<Item = StoreResult<(Vec<u8>, Entry)>> {
        Chunks {
            table: self.clone(),
            after: Bound::Included(from.to_vec()),
            within: within.to_vec(),
            keys_only,
            ready: Vec::new(),
            chunk: FIRST_CHUNK,
            done: false,
        }
    }
}

struct Chunks {
    table: Arc<Memtable>,
    after: Bound<Vec<u8>>,
    within: Vec<u8>,
    keys_only: bool,
    /// Copied out, in reverse order, so `pop` yields the next.
    ready: Vec<(Vec<u8>, Entry)>,
    chunk: usize,
    done: bool,
}

impl Chunks {
    fn refill(&mut self) -> StoreResult<()> {
        let records = self.table.records.read().map_err(|_| poisoned())?;
        let range = records.range::<Vec<u8>, _>((self.after.clone(), Bound::Unbounded));
        self.ready = range
            .take_while(|(k, _)| k.starts_with(&self.within))
            .take(self.chunk)
            .map(|(k, e)| {
                let entry = match e {
                    Entry::Put(_) if self.keys_only => Entry::Put(Vec::new()),
                    other => other.clone(),
                };
                (k.clone(), entry)
            })
            .collect();
        self.done = self.ready.len() < self.chunk;
        self.chunk = CHUNK;
        if let Some((last, _)) = self.ready.last() {
            self.after = Bound::Excluded(last.clone());
        }
        self.ready.reverse();
        Ok(())
    }
}

impl Iterator for Chunks {
    type Item = StoreResult<(Vec<u8>, Entry)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty() {
            if self.done {
                return None;
            }
            if let Err(e) = self.refill() {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.ready.pop().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(v: &str) -> Change {
        Some(Entry::Put(v.as_bytes().to_vec()))
    }

    #[test]
    fn iterates_in_key_order_across_chunks_and_counts_its_bytes() {
        let t = Arc::new(Memtable::default());
        let keys: Vec<String> = (0..(CHUNK * 2 + 5)).map(|i| format!("k/{i:04}")).collect();
        t.apply(keys.iter().rev().map(|k| (k.as_bytes(), put("v"))))
            .unwrap();
        let seen: Vec<String> = t
            .iter_from(b"k/0003", b"k/", false)
            .map(|r| String::from_utf8(r.unwrap().0).unwrap())
            .collect();
        assert_eq!(seen, keys[3..]);
        assert_eq!(t.iter_from(b"k/0003", b"k/00", false).count(), 97);
        let before = t.bytes();
        t.apply([
            (b"k/0000".as_slice(), None),
            (b"k/0001".as_slice(), Some(Entry::Tombstone)),
        ])
        .unwrap();
        assert_eq!(
            t.bytes(),
            before - cost(b"k/0000", &Entry::Put(b"v".to_vec())) - 1
        );
        assert_eq!(t.get(b"k/0000").unwrap(), None);
        assert_eq!(t.get(b"k/0001").unwrap(), Some(Entry::Tombstone));
        let keys_only = t.iter_from(b"", b"", true).next().unwrap().unwrap();
        assert_eq!(keys_only, (b"k/0001".to_vec(), Entry::Tombstone));
        t.clear().unwrap();
        assert!(t.is_empty() && t.bytes() == 0);
    }
}
