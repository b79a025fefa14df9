//! Writes that are applied (every read sees them) but not yet in sled. sled 0.34 writes and
//! syncs a log buffer of its own for every batch it is given (`pin_log` rolls the buffer
//! before and after), so a batch costs a disk write, a thread hand-off and about 0.4 ms of CPU
//! however small it is. Under load the write queue hands over about one batch per request
//! while replies share a disk sync among ten or more, so batches are gathered here and reach
//! sled as one batch when a sync asks for them (or when [`DRAIN_AT`] writes wait), which is
//! the moment they must be on disk anyway. What is here was never acknowledged, so a crash
//! that loses it loses nothing a caller was told is stored.
//!
//! A drain first moves the open writes aside (still readable), applies them to sled, then
//! forgets them, so a read never falls between the two.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::table::Entry;
use super::Write;

/// Writes that wait beyond this many are drained at once, so memory stays bounded when
/// nobody syncs (in memory, or between syncs under heavy load).
pub(super) const DRAIN_AT: usize = 8192;

/// Key to value, or `None` for a delete.
pub(super) type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

#[derive(Default)]
pub(super) struct Pending {
    open: Writes,
    /// Being applied to sled by a drain.
    draining: Option<Arc<Writes>>,
}

/// What the pending writes say about a key.
pub(super) enum Known {
    Value(Vec<u8>),
    Deleted,
    Unknown,
}

impl Pending {
    /// Adds a batch; later writes to a key replace earlier ones. Returns how many wait.
    pub fn add(&mut self, writes: Vec<Write>) -> usize {
        for w in writes {
            self.open.insert(w.key.into_bytes(), w.value);
        }
        self.open.len()
    }

    pub fn get(&self, key: &[u8]) -> Known {
        let found = self
            .open
            .get(key)
            .or_else(|| self.draining.as_ref().and_then(|d| d.get(key)));
        match found {
            Some(Some(value)) => Known::Value(value.clone()),
            Some(None) => Known::Deleted,
            None => Known::Unknown,
        }
    }

    /// The pending entries with keys `>= from` that start with `within`, in key order (the
    /// open writes win over those being drained).
    pub fn within(&self, from: &[u8], within: &[u8], keys_only: bool) -> Vec<(Vec<u8>, Entry)> {
        let mut merged: BTreeMap<&[u8], &Option<Vec<u8>>> = BTreeMap::new();
        let layers = self.draining.iter().map(|d| d.as_ref()).chain([&self.open]);
        for layer in layers {
            let range = layer
                .range::<[u8], _>((std::ops::Bound::Included(from), std::ops::Bound::Unbounded))
                .take_while(|(key, _)| key.starts_with(within));
            for (key, value) in range {
                merged.insert(key, value);
            }
        }
        merged
            .into_iter()
            .map(|(key, value)| {
                let entry = match value {
                    Some(_) if keys_only => Entry::Put(Vec::new()),
                    Some(v) => Entry::Put(v.clone()),
                    None => Entry::Tombstone,
                };
                (key.to_vec(), entry)
            })
            .collect()
    }

    /// Moves the open writes aside for a drain; `None` when there are none. Only one drain
    /// may run at a time.
    pub fn start_drain(&mut self) -> Option<Arc<Writes>> {
        if self.open.is_empty() {
            return None;
        }
        let taken = Arc::new(std::mem::take(&mut self.open));
        self.draining = Some(taken.clone());
        Some(taken)
    }

    /// Ends a drain. When it failed, its writes wait again beneath any newer ones.
    pub fn end_drain(&mut self, failed: bool) {
        let Some(drained) = self.draining.take() else {
            return;
        };
        if failed {
            let drained = Arc::try_unwrap(drained).unwrap_or_else(|shared| (*shared).clone());
            for (key, value) in drained {
                self.open.entry(key).or_insert(value);
            }
        }
    }

    /// Forgets every pending write (the store is being cleared).
    pub fn clear(&mut self) {
        self.open.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(k: &str, v: &str) -> Write {
        Write::put(k, v.as_bytes().to_vec())
    }

    #[test]
    fn reads_see_open_then_draining_writes() {
        let mut p = Pending::default();
        p.add(vec![put("a/1", "old"), put("a/2", "x")]);
        let drained = p.start_drain().unwrap();
        assert_eq!(drained.len(), 2);
        p.add(vec![
            put("a/1", "new"),
            Write::delete("a/2"),
            put("b/1", "y"),
        ]);
        assert!(matches!(p.get(b"a/1"), Known::Value(v) if v == b"new"));
        assert!(matches!(p.get(b"a/2"), Known::Deleted));
        assert!(matches!(p.get(b"a/3"), Known::Unknown));
        let listed: Vec<_> = p.within(b"a/", b"a/", false).into_iter().collect();
        assert_eq!(listed.len(), 2);
        assert!(matches!(&listed[0], (k, Entry::Put(v)) if k == b"a/1" && v == b"new"));
        assert!(matches!(&listed[1], (k, Entry::Tombstone) if k == b"a/2"));
        p.end_drain(false);
        assert!(matches!(p.get(b"a/2"), Known::Deleted));
        assert!(p.start_drain().is_some_and(|d| d.len() == 3));
    }

    #[test]
    fn a_failed_drain_keeps_its_writes_beneath_newer_ones() {
        let mut p = Pending::default();
        p.add(vec![put("k", "old"), put("j", "kept")]);
        p.start_drain().unwrap();
        p.add(vec![put("k", "new")]);
        p.end_drain(true);
        assert!(matches!(p.get(b"k"), Known::Value(v) if v == b"new"));
        assert!(matches!(p.get(b"j"), Known::Value(v) if v == b"kept"));
    }
}
