//! The store's layers and how a read sees through them. New writes go to the *active* tree; a
//! full tree is *frozen* (read-only) while it is written out as a table, and tables hold
//! everything older (see `compaction.rs`). A read looks at the active tree first, then the
//! frozen one, then tables from newest to oldest; the first layer that knows a key decides, and
//! a tombstone there means deleted. A scan merges the layers' sorted streams the same way.
//!
//! A tree is a sled log of batches whose records are read from memory (`memtable.rs`). Data
//! folders from before hold keyed trees: a record per sled key, its value carrying one
//! trailing byte (1 for a value, 0 for a tombstone), or, before layers, no byte and no
//! tombstones. Those are only ever read, as the frozen layer, except the keyed temporary tree
//! of `--in-memory`.

use std::sync::Arc;

use super::memtable::Memtable;
use super::table::{Entry, Table};
use super::{StoreError, StoreResult};

pub(super) fn sled_err(e: sled::Error) -> StoreError {
    StoreError(e.to_string())
}

/// A sled tree and what it holds.
#[derive(Clone)]
pub(super) struct Tree {
    pub db: sled::Db,
    /// The `N` of `store-<N>`; 0 for a tree in the data folder's root (from before).
    pub n: u64,
    pub form: Form,
}

#[derive(Clone)]
pub(super) enum Form {
    /// A log of batches; the records are in the memtable.
    Log(Arc<Memtable>),
    /// A record per key, values with the trailing put/tombstone byte.
    Tagged,
    /// A record per key, from before layers.
    Plain,
}

impl Tree {
    pub fn is_empty(&self) -> bool {
        match &self.form {
            Form::Log(memtable) => memtable.is_empty(),
            _ => self.db.is_empty(),
        }
    }

    /// The entry a stored value stands for; with `keys_only`, a put's value is left behind
    /// (counting needs to know only what is live, and values can be kilobytes).
    fn entry(&self, value: &[u8], keys_only: bool) -> Entry {
        let put = |v: &[u8]| Entry::Put(if keys_only { Vec::new() } else { v.to_vec() });
        if matches!(self.form, Form::Plain) {
            return put(value);
        }
        match value.split_last() {
            Some((1, v)) => put(v),
            _ => Entry::Tombstone,
        }
    }

    /// Empties the tree (the store is being cleared).
    pub fn clear(&self) -> StoreResult<()> {
        self.db.clear().map_err(sled_err)?;
        if let Form::Log(memtable) = &self.form {
            memtable.clear()?;
        }
        Ok(())
    }

    pub fn get(&self, key: &[u8]) -> StoreResult<Option<Entry>> {
        if let Form::Log(memtable) = &self.form {
            return memtable.get(key);
        }
        Ok(self
            .db
            .get(key)
            .map_err(sled_err)?
            .map(|v| self.entry(&v, false)))
    }

    /// The records with keys `>= from`; a memtable stops at the end of `within` (a sled
    /// tree's stream is cut there by the reader).
    pub fn iter_from(&self, from: &[u8], within: &[u8], keys_only: bool) -> Stream {
        if let Form::Log(memtable) = &self.form {
            return Box::new(memtable.iter_from(from, within, keys_only));
        }
        let tree = self.clone();
        Box::new(self.db.range(from.to_vec()..).map(move |item| {
            let (k, v) = item.map_err(sled_err)?;
            Ok((k.to_vec(), tree.entry(&v, keys_only)))
        }))
    }
}

/// A value as a keyed tree stores it: a copy with the put byte, made in one allocation.
pub(super) fn tagged_put(value: &[u8]) -> Vec<u8> {
    let mut tagged = Vec::with_capacity(value.len() + 1);
    tagged.extend_from_slice(value);
    tagged.push(1);
    tagged
}

pub(super) const TOMBSTONE: &[u8] = &[0];

/// One consistent view of the store: readers take an `Arc` of it for one operation, so a
/// compaction replacing layers never changes what a read in flight sees.
pub(super) struct Layers {
    pub active: Tree,
    pub frozen: Option<Tree>,
    /// Oldest first, with the `N` of `table-<N>.tbl`.
    pub tables: Vec<(u64, Arc<Table>)>,
}

pub(super) type Stream = Box<dyn Iterator<Item = StoreResult<(Vec<u8>, Entry)>>>;

impl Layers {
    /// Whether a layer beneath the active tree holds a live value of `key`, which a delete must
    /// then hide with a tombstone. Most deleted keys were written since the last freeze (an
    /// execution's active mark, say): those are simply removed, so scans do not wade through
    /// their tombstones. Tables answer most misses from their Bloom filters.
    pub fn deeper_holds(&self, key: &[u8]) -> StoreResult<bool> {
        if let Some(frozen) = &self.frozen {
            if let Some(entry) = frozen.get(key)? {
                return Ok(matches!(entry, Entry::Put(_)));
            }
        }
        for (_, table) in self.tables.iter().rev() {
            if let Some(entry) = table.get(key)? {
                return Ok(matches!(entry, Entry::Put(_)));
            }
        }
        Ok(false)
    }

    pub fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let mut found = self.active.get(key)?;
        if found.is_none() {
            if let Some(frozen) = &self.frozen {
                found = frozen.get(key)?;
            }
        }
        for (_, table) in self.tables.iter().rev() {
            if found.is_some() {
                break;
            }
            found = table.get(key)?;
        }
        Ok(match found {
            Some(Entry::Put(v)) => Some(v),
            _ => None,
        })
    }

    /// Every live record with key `>= from` that starts with `within`, in key order. Each layer's
    /// stream ends at the prefix's end: else a merge would walk every tombstone beyond it (the
    /// deleted `active/` marks that follow `action-type/`, say) before it knew it was done.
    /// With `keys_only`, the sled layers' values are left empty. `pending` (writes not yet in
    /// sled, already cut to the same range) lies above every layer.
    pub fn records_within(
        &self,
        pending: Vec<(Vec<u8>, Entry)>,
        from: &[u8],
        within: &[u8],
        keys_only: bool,
    ) -> Merge {
        let bounded = |stream: Stream| -> Stream {
            let within = within.to_vec();
            Box::new(stream.take_while(move |item| {
                item.as_ref()
                    .map_or(true, |(key, _)| key.starts_with(&within))
            }))
        };
        let mut streams: Vec<Stream> = Vec::new();
        if !pending.is_empty() {
            streams.push(Box::new(pending.into_iter().map(Ok)));
        }
        streams.push(bounded(self.active.iter_from(from, within, keys_only)));
        if let Some(frozen) = &self.frozen {
            streams.push(bounded(frozen.iter_from(from, within, keys_only)));
        }
        for (_, table) in self.tables.iter().rev() {
            streams.push(bounded(Box::new(table.iter_from(from))));
        }
        Merge::new(streams, false)
    }
}

/// Merges sorted streams given in priority order: for a key in several, the first stream's
/// entry wins. Tombstones are dropped unless `keep_tombstones` (a table that is not the
/// deepest must keep them, to go on hiding what lies deeper).
pub(super) struct Merge {
    streams: Vec<Stream>,
    heads: Vec<Option<(Vec<u8>, Entry)>>,
    keep_tombstones: bool,
    failed: bool,
}

impl Merge {
    pub fn new(streams: Vec<Stream>, keep_tombstones: bool) -> Self {
        let heads = streams.iter().map(|_| None).collect();
        let mut merge = Merge {
            streams,
            heads,
            keep_tombstones,
            failed: false,
        };
        for i in 0..merge.streams.len() {
            if let Err(e) = merge.advance(i) {
                merge.failed = true;
                tracing::warn!(error = %e, "store read failed");
            }
        }
        merge
    }

    fn advance(&mut self, i: usize) -> StoreResult<()> {
        self.heads[i] = self.streams[i].next().transpose()?;
        Ok(())
    }
}

impl Iterator for Merge {
    type Item = StoreResult<(Vec<u8>, Entry)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            self.failed = false;
            self.heads.iter_mut().for_each(|h| *h = None);
            return Some(Err(StoreError(
                "a store layer could not be read".to_owned(),
            )));
        }
        loop {
            let smallest = self.heads.iter().flatten().map(|(k, _)| k).min()?.clone();
            let mut winner = None;
            for i in 0..self.heads.len() {
                if self.heads[i].as_ref().is_some_and(|(k, _)| *k == smallest) {
                    let head = self.heads[i].take();
                    if winner.is_none() {
                        winner = head;
                    }
                    if let Err(e) = self.advance(i) {
                        self.heads.iter_mut().for_each(|h| *h = None);
                        return Some(Err(e));
                    }
                }
            }
            match winner {
                Some((_, Entry::Tombstone)) if !self.keep_tombstones => continue,
                Some(found) => return Some(Ok(found)),
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(items: &[(&str, Option<&str>)]) -> Stream {
        let items: Vec<_> = items
            .iter()
            .map(|(k, v)| {
                let entry = v.map_or(Entry::Tombstone, |v| Entry::Put(v.as_bytes().to_vec()));
                Ok((k.as_bytes().to_vec(), entry))
            })
            .collect();
        Box::new(items.into_iter())
    }

    fn keys(m: Merge) -> Vec<(String, Option<String>)> {
        m.map(|r| {
            let (k, e) = r.unwrap();
            let v = match e {
                Entry::Put(v) => Some(String::from_utf8(v).unwrap()),
                Entry::Tombstone => None,
            };
            (String::from_utf8(k).unwrap(), v)
        })
        .collect()
    }

    #[test]
    fn the_first_layer_that_knows_a_key_decides() {
        let top = stream(&[("a", Some("new")), ("c", None), ("e", Some("e"))]);
        let deep = stream(&[("a", Some("old")), ("b", Some("b")), ("c", Some("gone"))]);
        let merged = keys(Merge::new(vec![top, deep], false));
        let want = [("a", "new"), ("b", "b"), ("e", "e")];
        assert_eq!(
            merged,
            want.map(|(k, v)| (k.to_owned(), Some(v.to_owned())))
        );
        let top = stream(&[("c", None)]);
        let deep = stream(&[("c", Some("gone"))]);
        assert_eq!(
            keys(Merge::new(vec![top, deep], true)),
            [("c".to_owned(), None)]
        );
    }

    #[test]
    fn a_failing_layer_ends_the_read_with_an_error() {
        let bad: Stream = Box::new(vec![Err(StoreError("disk".to_owned()))].into_iter());
        let mut m = Merge::new(vec![stream(&[("a", Some("x"))]), bad], false);
        assert!(m.next().unwrap().is_err());
        assert!(m.next().is_none());
    }
}
