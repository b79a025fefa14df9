//! Rendered replies of the hottest reads (GetPipeline, GetPipelineState), kept per pipeline and
//! dropped by the writes that could change them. The store decorator `Invalidating` sees every
//! write, so no handler has to remember to invalidate: a reply is served from here only while
//! no record it was made from has been written since.
//!
//! The same decorator announces what each batch changed on a broadcast feed (`Changed`), which
//! the console follows to redraw what it shows.
//!
//! A reply is filed under its pipeline's scope (`ACCOUNT/REGION/NAME`). A write to one of that
//! pipeline's records (declaration, versions, runtime, executions, their order, active marks)
//! drops the scope; a write to action types (whose secrets and URLs replies show) or any kind
//! of record not known here drops everything. A reply rendered while a write happened is not
//! kept, because it may have been made from the records before that write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;

use super::{Store, StoreResult, Write};

/// Beyond this many pipelines with kept replies, the cache starts again empty: a bound on
/// memory, not an eviction policy, since a busy server reads far fewer pipelines than this.
const MAX_SCOPES: usize = 4096;

/// Record kinds that belong to one pipeline, as `KIND/ACCOUNT/REGION/PIPELINE[/...]`.
const PIPELINE_KINDS: &[&str] = &[
    "pipeline",
    "pipeline-version",
    "runtime",
    "execution",
    "execution-order",
    "active",
];

/// Record kinds no cached reply is made from: S3's among them, so uploads neither empty the
/// cache nor wake every listener of the change feed.
const UNRELATED_KINDS: &[&str] = &[
    "tags",
    "webhook",
    "webhook-url",
    "action-execution",
    "job",
    "job-queue",
    "object",
    "object-version",
    "s3-bucket",
    "s3-upload",
    "logs-group",
    "logs-stream",
    "logs-event",
    "cb-project",
    "cb-build",
    "cb-builds",
];

#[derive(Default)]
pub struct ReplyCache {
    /// Scope → (reply kind → rendered reply).
    scopes: RwLock<HashMap<String, HashMap<&'static str, Bytes>>>,
    /// Bumped under the write lock of `scopes` by every invalidation.
    generation: AtomicU64,
}

/// Taken before reading the records a reply is made from; the reply is kept only if no write
/// came in between.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

/// What a batch of writes can change: worked out before the batch goes down (which takes it).
#[derive(Default)]
struct Reach {
    scopes: Vec<String>,
    everything: bool,
}

impl Reach {
    fn everything() -> Self {
        Reach {
            scopes: Vec::new(),
            everything: true,
        }
    }

    fn of(writes: &[Write]) -> Self {
        let mut reach = Reach::default();
        for w in writes {
            let Some((kind, rest)) = w.key.split_once('/') else {
                reach.everything = true;
                continue;
            };
            if UNRELATED_KINDS.contains(&kind) {
                continue;
            }
            if !PIPELINE_KINDS.contains(&kind) {
                reach.everything = true;
                continue;
            }
            // ACCOUNT/REGION/PIPELINE, then whatever follows the pipeline name.
            let end = rest
                .match_indices('/')
                .nth(2)
                .map_or(rest.len(), |(i, _)| i);
            reach.scopes.push(rest[..end].to_owned());
        }
        reach
    }

    fn is_nothing(&self) -> bool {
        !self.everything && self.scopes.is_empty()
    }
}

impl ReplyCache {
    pub fn scope(account: &str, region: &str, pipeline: &str) -> String {
        format!("{account}/{region}/{pipeline}")
    }

    pub fn get(&self, scope: &str, kind: &'static str) -> Option<Bytes> {
        let scopes = self.scopes.read().ok()?;
        scopes.get(scope)?.get(kind).cloned()
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::SeqCst))
    }

    pub fn keep(&self, ticket: Ticket, scope: String, kind: &'static str, reply: Bytes) {
        let Ok(mut scopes) = self.scopes.write() else {
            return;
        };
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        if scopes.len() >= MAX_SCOPES && !scopes.contains_key(&scope) {
            scopes.clear();
        }
        scopes.entry(scope).or_default().insert(kind, reply);
    }

    fn forget(&self, reach: &Reach) {
        if reach.is_nothing() {
            return;
        }
        let mut scopes = match self.scopes.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation.fetch_add(1, Ordering::SeqCst);
        if reach.everything {
            scopes.clear();
        }
        for s in &reach.scopes {
            scopes.remove(s);
        }
    }
}

/// What one batch of writes changed, as announced to listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// The records of one pipeline (`ACCOUNT/REGION/NAME`).
    Pipeline(String),
    /// Anything, as far as anyone can tell (a reset, action types).
    Everything,
}

/// The store every write passes through on its way down, telling the cache and the change feed
/// what changed. Writes are applied first and invalidated after, so a reply kept in between is
/// refused by its ticket.
pub struct Invalidating {
    store: Arc<dyn Store>,
    cache: Arc<ReplyCache>,
    feed: tokio::sync::broadcast::Sender<Changed>,
}

impl Invalidating {
    pub fn new(
        store: Arc<dyn Store>,
        cache: Arc<ReplyCache>,
        feed: tokio::sync::broadcast::Sender<Changed>,
    ) -> Self {
        Invalidating { store, cache, feed }
    }

    fn announce(&self, reach: Reach) {
        if self.feed.receiver_count() == 0 {
            return;
        }
        if reach.everything {
            let _ = self.feed.send(Changed::Everything);
            return;
        }
        let mut scopes = reach.scopes;
        scopes.sort_unstable();
        scopes.dedup();
        for scope in scopes {
            let _ = self.feed.send(Changed::Pipeline(scope));
        }
    }
}

impl Store for Invalidating {
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
        let reach = Reach::of(&writes);
        let result = self.store.apply(writes);
        // Even a failed batch may have been partly seen by a reader; forget either way.
        self.cache.forget(&reach);
        self.announce(reach);
        result
    }

    fn flush(&self) -> StoreResult<()> {
        self.store.flush()
    }

    fn clear(&self) -> StoreResult<()> {
        let result = self.store.clear();
        let reach = Reach::everything();
        self.cache.forget(&reach);
        self.announce(reach);
        result
    }

    fn describe(&self) -> String {
        self.store.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::codepipeline::keys::Keys;
    use crate::store::SledStore;

    fn setup() -> (Arc<ReplyCache>, Invalidating) {
        let cache = Arc::new(ReplyCache::default());
        let store = Invalidating::new(
            Arc::new(SledStore::temporary().expect("temporary store")),
            cache.clone(),
            tokio::sync::broadcast::channel(16).0,
        );
        (cache, store)
    }

    #[test]
    fn each_batch_announces_the_pipelines_it_changed() {
        let (_, store) = setup();
        let mut feed = store.feed.subscribe();
        store
            .apply(vec![
                Write::put(
                    Keys::pipeline("111111111111", "us-east-1", "a"),
                    b"{}".to_vec(),
                ),
                Write::put(
                    Keys::runtime("111111111111", "us-east-1", "a"),
                    b"{}".to_vec(),
                ),
                Write::put("job/111111111111/us-east-1/j", b"{}".to_vec()),
            ])
            .expect("apply");
        store.clear().expect("clear");
        let scope = ReplyCache::scope("111111111111", "us-east-1", "a");
        assert_eq!(feed.try_recv().ok(), Some(Changed::Pipeline(scope)));
        assert_eq!(feed.try_recv().ok(), Some(Changed::Everything));
        assert!(
            feed.try_recv().is_err(),
            "one announcement per pipeline and batch"
        );
    }

    fn keep(cache: &ReplyCache, scope: &str) {
        let t = cache.ticket();
        cache.keep(
            t,
            scope.to_owned(),
            "GetPipeline",
            Bytes::from_static(b"{}"),
        );
    }

    #[test]
    fn a_write_to_a_pipeline_record_drops_only_that_pipeline() {
        let (cache, store) = setup();
        let a = ReplyCache::scope("111111111111", "us-east-1", "a");
        let b = ReplyCache::scope("111111111111", "us-east-1", "b");
        keep(&cache, &a);
        keep(&cache, &b);
        for key in [
            Keys::pipeline("111111111111", "us-east-1", "a"),
            Keys::pipeline_version("111111111111", "us-east-1", "a", 2),
            Keys::runtime("111111111111", "us-east-1", "a"),
            Keys::execution("111111111111", "us-east-1", "a", "e1"),
            Keys::execution_order("111111111111", "us-east-1", "a", 7),
            Keys::active("111111111111", "us-east-1", "a", "e1"),
        ] {
            store
                .apply(vec![Write::put(key.clone(), b"{}".to_vec())])
                .expect("apply");
            assert!(cache.get(&a, "GetPipeline").is_none(), "{key} drops a");
            assert!(cache.get(&b, "GetPipeline").is_some(), "{key} keeps b");
            keep(&cache, &a);
        }
    }

    #[test]
    fn unrelated_writes_keep_and_action_type_writes_drop_everything() {
        let (cache, store) = setup();
        let a = ReplyCache::scope("111111111111", "us-east-1", "a");
        keep(&cache, &a);
        store
            .apply(vec![Write::put(
                "job/111111111111/us-east-1/j",
                b"{}".to_vec(),
            )])
            .expect("apply");
        assert!(cache.get(&a, "GetPipeline").is_some());
        store
            .apply(vec![Write::delete(Keys::custom_action_type(
                "111111111111",
                "us-east-1",
                "Build",
                "P",
                "1",
            ))])
            .expect("apply");
        assert!(cache.get(&a, "GetPipeline").is_none());
        keep(&cache, &a);
        store
            .apply(vec![Write::put("some-new-kind/x", b"{}".to_vec())])
            .expect("apply");
        assert!(
            cache.get(&a, "GetPipeline").is_none(),
            "unknown kinds drop all"
        );
        keep(&cache, &a);
        store.clear().expect("clear");
        assert!(cache.get(&a, "GetPipeline").is_none());
    }

    #[test]
    fn a_reply_rendered_across_a_write_is_not_kept() {
        let (cache, store) = setup();
        let a = ReplyCache::scope("111111111111", "us-east-1", "a");
        let ticket = cache.ticket();
        store
            .apply(vec![Write::put(
                Keys::pipeline("111111111111", "us-east-1", "a"),
                b"{}".to_vec(),
            )])
            .expect("apply");
        cache.keep(ticket, a.clone(), "GetPipeline", Bytes::from_static(b"{}"));
        assert!(cache.get(&a, "GetPipeline").is_none());
    }
}
