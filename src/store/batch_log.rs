//! The active layer on disk: each drained batch is appended to a sled tree as a few large
//! values under increasing batch numbers, all in one atomic sled batch, and replayed into the
//! memtable (`memtable.rs`) when the store opens. sled keeps them safe (checksums, atomic
//! batches, a torn tail dropped at recovery); the records themselves live in memory until the
//! layer is frozen and written out as a table.
//!
//! A value is a run of changes: kind (1 put, 0 tombstone, 2 removed), key length (u32 LE),
//! key, and for a put the value's length (u32 LE) and the value.

use super::layers::sled_err;
use super::memtable::{Change, Memtable};
use super::table::Entry;
use super::{StoreError, StoreResult};

/// A value of the log grows to about this size before the next begins. sled holds a log's
/// values in memory in its leaves (up to 16 values each), and its cache lets a leaf go only
/// once 64 later reads or writes fall in the same one of its 256 shards, which for an
/// append-only tree is about the last 256 leaves, whatever `cache_capacity` says. With 64 KB
/// values those leaves held ~220 MB at the soak's peak; with 4 KB values the peak RSS fell
/// from 462 to 379 MB, and as many executions started (242k against 234k in 60 s).
const VALUE_BYTES: usize = 4 * 1024;

const PUT: u8 = 1;
const TOMBSTONE: u8 = 0;
const REMOVED: u8 = 2;

fn encode_into(out: &mut Vec<u8>, key: &[u8], change: &Change) {
    let len = |n: usize| (n as u32).to_le_bytes();
    let kind = match change {
        Some(Entry::Put(_)) => PUT,
        Some(Entry::Tombstone) => TOMBSTONE,
        None => REMOVED,
    };
    out.push(kind);
    out.extend_from_slice(&len(key.len()));
    out.extend_from_slice(key);
    if let Some(Entry::Put(value)) = change {
        out.extend_from_slice(&len(value.len()));
        out.extend_from_slice(value);
    }
}

/// Appends `changes` to the log of `memtable` in `db` as one atomic batch. Synced by the
/// store's flush, as every write is.
pub(super) fn append(
    db: &sled::Db,
    memtable: &Memtable,
    changes: &[(&[u8], Change)],
) -> StoreResult<()> {
    let mut batch = sled::Batch::default();
    let mut value = Vec::with_capacity(VALUE_BYTES);
    let mut number = memtable
        .next_batch
        .load(std::sync::atomic::Ordering::SeqCst);
    for (key, change) in changes {
        encode_into(&mut value, key, change);
        if value.len() >= VALUE_BYTES {
            batch.insert(&number.to_be_bytes(), std::mem::take(&mut value));
            number += 1;
        }
    }
    if !value.is_empty() {
        batch.insert(&number.to_be_bytes(), value);
        number += 1;
    }
    db.apply_batch(batch).map_err(sled_err)?;
    memtable
        .next_batch
        .store(number, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// Reads one value of the log back into its changes.
fn decode(mut value: &[u8]) -> StoreResult<Vec<(Vec<u8>, Change)>> {
    let damaged = || StoreError("the store's log is damaged".to_owned());
    let mut take = |n: usize| -> StoreResult<&[u8]> {
        if value.len() < n {
            return Err(damaged());
        }
        let (head, rest) = value.split_at(n);
        value = rest;
        Ok(head)
    };
    let mut changes = Vec::new();
    loop {
        let Ok(kind) = take(1) else {
            return Ok(changes);
        };
        let kind = kind[0];
        let len = |b: &[u8]| b.try_into().map(u32::from_le_bytes).map_err(|_| damaged());
        let key_len = len(take(4)?)? as usize;
        let key = take(key_len)?.to_vec();
        let change = match kind {
            PUT => {
                let value_len = len(take(4)?)? as usize;
                Some(Entry::Put(take(value_len)?.to_vec()))
            }
            TOMBSTONE => Some(Entry::Tombstone),
            REMOVED => None,
            _ => return Err(damaged()),
        };
        changes.push((key, change));
    }
}

/// Replays the log in `db` into a fresh memtable.
pub(super) fn replay(db: &sled::Db) -> StoreResult<Memtable> {
    let memtable = Memtable::default();
    let mut next = 0u64;
    for item in db.iter() {
        let (number, value) = item.map_err(sled_err)?;
        let changes = decode(&value)?;
        memtable.apply(changes.iter().map(|(k, c)| (k.as_slice(), c.clone())))?;
        if let Ok(bytes) = <[u8; 8]>::try_from(number.as_ref()) {
            next = u64::from_be_bytes(bytes) + 1;
        }
    }
    memtable
        .next_batch
        .store(next, std::sync::atomic::Ordering::SeqCst);
    Ok(memtable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_appended_is_replayed_in_order() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let first = Memtable::default();
        let big = vec![7u8; VALUE_BYTES];
        let puts: Vec<(Vec<u8>, Change)> = (0..3)
            .map(|i| (format!("k/{i}").into_bytes(), Some(Entry::Put(big.clone()))))
            .collect();
        let borrowed: Vec<_> = puts
            .iter()
            .map(|(k, c)| (k.as_slice(), c.clone()))
            .collect();
        append(&db, &first, &borrowed).unwrap();
        assert_eq!(db.len(), 3, "one value per full run");
        let later = [
            (b"k/0".as_slice(), Some(Entry::Tombstone)),
            (b"k/1".as_slice(), None),
            (b"k/2".as_slice(), Some(Entry::Put(b"new".to_vec()))),
        ];
        append(&db, &first, &later).unwrap();
        let replayed = replay(&db).unwrap();
        assert_eq!(replayed.get(b"k/0").unwrap(), Some(Entry::Tombstone));
        assert_eq!(replayed.get(b"k/1").unwrap(), None);
        assert_eq!(
            replayed.get(b"k/2").unwrap(),
            Some(Entry::Put(b"new".to_vec()))
        );
        assert_eq!(
            replayed
                .next_batch
                .load(std::sync::atomic::Ordering::SeqCst),
            4
        );
    }

    #[test]
    fn a_damaged_value_is_an_error_not_a_panic() {
        for bad in [
            &[PUT, 9, 0, 0, 0, b'k'][..],
            &[5, 0, 0, 0, 0],
            &[PUT, 1, 0, 0, 0, b'k', 9],
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        assert!(decode(&[]).unwrap().is_empty());
    }
}
