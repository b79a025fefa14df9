//! The shared server state handed to every handler: the store and the one writer lock.

use std::sync::Arc;

use crate::config::Config;
use crate::error::AwsError;
use crate::services::bus::Bus;
use crate::services::codepipeline::domain::providers::Settings;
use crate::services::codepipeline::engine::Engine;
use crate::store::{
    Changed, GroupFlush, Invalidating, Objects, ReplyCache, SledStore, Store, StoreError,
};
use crate::wire::browser::BrowserPolicy;
use crate::wire::credentials::Credentials;

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Every durable reply waits on this; concurrent callers share one disk sync.
    flusher: Arc<GroupFlush>,
    pub engine: Arc<Engine>,
    /// Rendered replies of the hottest reads, dropped by any write that could change them.
    pub replies: Arc<ReplyCache>,
    /// What each write changed, for whoever follows (the console's live updates).
    pub changes: tokio::sync::broadcast::Sender<Changed>,
    /// Turns true when the server begins to shut down, so long-lived streams end.
    pub closing: tokio::sync::watch::Sender<bool>,
    /// Read-modify-write sequences run one at a time, so concurrent updates never lose a write.
    write_lock: tokio::sync::Mutex<()>,
    /// How many more pipelines each account and region may create (CreatePipeline's quota).
    pub pipeline_quota: crate::services::codepipeline::quota::PipelineQuota,
    /// Check every reply against the model (`--check-replies`, for tests).
    pub check_replies: bool,
    /// The access keys accepted and the account each acts in.
    pub credentials: Credentials,
    /// Refuse requests whose SigV4 signature does not check out (`--verify-signatures`).
    pub verify_signatures: bool,
    /// A request body that has not fully arrived within this time is refused.
    pub body_read_timeout: std::time::Duration,
    /// What web pages may do: Host names served, CORS origins, the control token.
    pub browser: BrowserPolicy,
    /// Where every service publishes what happens, as EventBridge events.
    pub bus: Bus,
    /// Object bodies by bucket and key, the other place services meet.
    pub objects: Arc<Objects>,
    /// S3 on the same endpoint (the `s3s` protocol layer over `services::s3`).
    pub s3: s3s::service::S3Service,
    /// The bus's recent events and EventBridge's recent deliveries (`GET /_local/events`).
    pub activity: crate::services::events::activity::Activity,
    /// CodeCommit's git repositories (`<data-dir>/git`, a temporary folder in memory).
    pub repositories: crate::services::codecommit::git::Repositories,
}

impl From<StoreError> for AwsError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        AwsError::internal("The service could not read or write its store")
    }
}

impl AppState {
    /// Opens the store and reads the credentials file; the error says which failed and why.
    pub fn open(config: &Config) -> Result<Arc<Self>, String> {
        let credentials = match &config.credentials_file {
            Some(path) => Credentials::load(path)?,
            None => Credentials::default_pair(),
        };
        Self::open_store(config, credentials).map_err(|e| e.to_string())
    }

    fn open_store(config: &Config, credentials: Credentials) -> Result<Arc<Self>, StoreError> {
        let real: Arc<dyn Store> = if config.in_memory {
            Arc::new(SledStore::temporary()?)
        } else {
            Arc::new(SledStore::open(&config.data_dir)?)
        };
        let replies = Arc::new(ReplyCache::default());
        let changes = tokio::sync::broadcast::channel(1024).0;
        let real: Arc<dyn Store> =
            Arc::new(Invalidating::new(real, replies.clone(), changes.clone()));
        // Every write goes through the group flush, so it knows what each sync covers.
        let flusher = Arc::new(GroupFlush::new(real));
        let store: Arc<dyn Store> = flusher.clone();
        let objects = Arc::new(if config.in_memory {
            Objects::in_memory(store.clone())
        } else {
            Objects::on_disk(store.clone(), config.data_dir.join("objects"))?
        });
        let bus = Bus::default();
        let repositories =
            crate::services::codecommit::git::Repositories::new(Self::git_folder(config));
        let s3 = crate::services::s3::service(
            store.clone(),
            flusher.clone(),
            objects.clone(),
            credentials.clone(),
            bus.clone(),
        );
        let engine = Engine::new(
            store.clone(),
            flusher.clone(),
            Settings::with_default_duration(config.action_duration),
            bus.clone(),
            crate::services::artifacts::ArtifactStore::new(store.clone(), objects.clone()),
            crate::services::codepipeline::providers::Allowed {
                run_builds: config.run_builds,
                builds: Arc::new(tokio::sync::Semaphore::new(
                    config
                        .build_concurrency
                        .unwrap_or_else(|| {
                            std::thread::available_parallelism().map_or(2, |n| n.get())
                        })
                        .max(1),
                )),
                work_root: Self::builds_folder(config),
                repositories: repositories.clone(),
                bus: bus.clone(),
            },
            config
                .execution_history
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        );
        Ok(Arc::new(AppState {
            store,
            flusher,
            engine,
            replies,
            changes,
            closing: tokio::sync::watch::channel(false).0,
            write_lock: tokio::sync::Mutex::new(()),
            pipeline_quota: Default::default(),
            check_replies: config.check_replies,
            body_read_timeout: config.header_read_timeout,
            credentials,
            verify_signatures: config.verify_signatures,
            browser: BrowserPolicy::from_config(config),
            bus,
            objects,
            s3,
            repositories,
            activity: Default::default(),
        }))
    }

    /// Where builds get their folders: under the data folder, so a restart finds what a killed
    /// server left running; a folder of this process's own with `--in-memory`.
    fn builds_folder(config: &Config) -> std::path::PathBuf {
        if config.in_memory {
            std::env::temp_dir()
                .join("codepipeline-local-builds")
                .join(uuid::Uuid::new_v4().simple().to_string())
        } else {
            config.data_dir.join("builds")
        }
    }

    /// Where CodeCommit's repositories live: under the data folder, or this process's own
    /// temporary folder with `--in-memory`.
    fn git_folder(config: &Config) -> std::path::PathBuf {
        if config.in_memory {
            std::env::temp_dir()
                .join("codepipeline-local-git")
                .join(uuid::Uuid::new_v4().simple().to_string())
        } else {
            config.data_dir.join("git")
        }
    }

    /// Starts what runs in the background: the engine (resuming unfinished executions) and
    /// source-change detection.
    pub fn start_background(self: &Arc<Self>) -> Result<(), AwsError> {
        crate::services::codebuild::runner::sweep(&self.engine.work_root(), self.store.as_ref());
        self.engine.spawn()?;
        crate::services::codepipeline::source_changes::spawn(self.clone());
        crate::services::codebuild::listener::spawn(self.clone());
        crate::services::s3::pruned::spawn(self.clone());
        crate::services::events::delivery::spawn(self.clone());
        crate::services::events::scheduler::start(self);
        Ok(())
    }

    /// Runs a read-modify-write under the writer lock, then waits until it is on disk. The flush
    /// happens after the lock is released, so concurrent writers share one disk sync.
    pub async fn mutate<T>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let out = self.mutate_unsynced(f).await?;
        self.flush().await?;
        Ok(out)
    }

    /// The read-modify-write alone, for a request that does more writes and then calls
    /// `flush` once for all of them (CreatePipeline and its first execution share one sync).
    pub async fn mutate_unsynced<T>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let _guard = self.write_lock.lock().await;
        f(self.store.as_ref())
    }

    pub async fn flush(&self) -> Result<(), AwsError> {
        Ok(self.flusher.sync().await?)
    }
}
