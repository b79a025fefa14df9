//! Persistence behind a small trait. Keys are text, `KIND/ACCOUNT/REGION/...`, so one prefix scan
//! lists one kind of record of one account and region, and accounts and regions never meet.
//! Values are JSON records that carry a format version (`formatVersion`).

mod batch_log;
mod bodies;
mod compaction;
#[cfg(test)]
mod counting;
mod deflate;
mod group_flush;
mod layers;
mod manifest;
mod memtable;
pub mod objects;
mod pending;
mod records;
mod reply_cache;
mod sled_store;
mod table;
mod write_queue;

pub use bodies::INLINE_MAX;
pub use group_flush::GroupFlush;
pub use objects::{ObjectInfo, ObjectMeta, Objects, Placed, Upload, Versioning};
pub use records::{decode, encode, encode_packed, FORMAT_VERSION};
pub use reply_cache::{Changed, Invalidating, ReplyCache};
pub use sled_store::SledStore;
pub use write_queue::Slot;

/// A storage failure: the store could not read or write. Callers answer `InternalFailure`.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// One write of an atomic batch: `Some` puts the value, `None` deletes the key.
#[derive(Debug, Clone)]
pub struct Write {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

impl Write {
    pub fn put(key: impl Into<String>, value: Vec<u8>) -> Self {
        Write {
            key: key.into(),
            value: Some(value),
        }
    }

    pub fn delete(key: impl Into<String>) -> Self {
        Write {
            key: key.into(),
            value: None,
        }
    }
}

pub trait Store: Send + Sync + 'static {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Records whose key starts with `prefix` and sorts after `start_after` (when given), in key
    /// order, at most `limit` of them: a page costs its own size, not the size of the table.
    fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>>;
    /// How many records have keys starting with `prefix`, counting at most `limit`; reads keys only.
    fn count(&self, prefix: &str, limit: usize) -> StoreResult<usize>;
    /// Applies every write or none.
    fn apply(&self, writes: Vec<Write>) -> StoreResult<()>;
    /// Returns once every write applied so far is on disk. Concurrent callers share one sync.
    fn flush(&self) -> StoreResult<()>;
    /// Removes everything (the control plane's reset).
    fn clear(&self) -> StoreResult<()>;
    /// A short description for the ready line and `/_local/health`.
    fn describe(&self) -> String;
}
