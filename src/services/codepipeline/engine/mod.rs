//! The async driver of the execution state machine, and the only place with timers. It keeps
//! each pipeline's unfinished executions in memory, runs every event through the pure
//! [`Machine`] under one lock, persists what changed (and flushes) before the caller replies,
//! and sleeps until the earliest due action. On start it reloads unfinished executions from
//! the store, so their timers are re-armed from the state itself.

mod announce;
pub mod clock;
pub mod events;
mod history;
mod published;
mod tasks;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex as SyncMutex, Weak};

use tokio::sync::{Mutex, Notify};

use crate::error::{codes, AwsError};
use crate::services::artifacts::ArtifactStore;
use crate::services::bus::Event;
use crate::services::codepipeline::domain::execution::machine::{
    ActionStart, Declarations, Machine,
};
use crate::services::codepipeline::domain::execution::model::{
    Execution, PipelineRuntime, Trigger,
};
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;
use crate::services::codepipeline::domain::providers::{Settings, StubRunner};
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::providers::{self, TaskJob};
use crate::services::codepipeline::records as repo;
use crate::store::{GroupFlush, Store};
use clock::Clock;

/// How many pipelines the engine keeps in memory before it drops the idle ones.
const MAX_RESIDENT_RUNS: usize = 256;

/// One pipeline of one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PipelineKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl PipelineKey {
    pub fn new(account: &str, region: &str, name: &str) -> Self {
        PipelineKey {
            account: account.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// A pipeline's runtime, unfinished executions and the declaration versions they run.
struct Run {
    runtime: PipelineRuntime,
    active: Vec<Execution>,
    /// How each of `active` looked after the last step, to find the next step's events.
    seen: events::Before,
    declarations: Declarations,
    /// The pipeline's current version, as read when the run was loaded and as callers that
    /// read the pipeline since have passed (UpdatePipeline among them): steps do not read the
    /// pipeline record again. `None` while the pipeline has no record.
    current_version: Option<i64>,
    /// The finished executions kept, when `--execution-history` caps them.
    history: Option<history::History>,
}

/// An execution a step changed, as the step left it, with what was stored of it before: its
/// writes and events are worked out from this after the step lets go of the pipeline.
struct ChangedExecution {
    execution: Execution,
    declaration: Option<Arc<PipelineDeclaration>>,
    written: Option<repo::Written>,
    events: Vec<events::EngineEvent>,
}

impl Run {
    fn next_due(&self) -> Option<f64> {
        self.active
            .iter()
            .flat_map(|e| e.stages.iter().flat_map(|s| &s.actions))
            .filter(|a| a.status == Some(crate::services::codepipeline::domain::execution::model::ActionStatus::InProgress))
            .flat_map(|a| [a.due, a.expires])
            .flatten()
            .min_by(f64::total_cmp)
    }
}

/// What steps did, to be made durable and announced once for all of them.
#[derive(Default)]
struct Done {
    /// The last place in the write order the steps filled, if they wrote.
    wrote: Option<u64>,
    changed: bool,
    /// Each step's events for the log, with the EventBridge events the bus carries, in the
    /// order the steps ran.
    announcements: Vec<announce::Ticket>,
    /// Real providers' tasks to start once the step is on disk.
    tasks: Vec<TaskJob>,
    /// What executions the steps pruned left in other services, said once the prune is on
    /// disk.
    pruned: Vec<Event>,
}

impl Done {
    fn absorb(&mut self, other: Done) {
        self.wrote = self.wrote.max(other.wrote);
        self.changed |= other.changed;
        self.announcements.extend(other.announcements);
        self.tasks.extend(other.tasks);
        self.pruned.extend(other.pruned);
    }
}

/// What a timer asks of a machine: whatever time has made due.
fn due_steps(m: &mut Machine) -> Result<(), AwsError> {
    m.tick();
    Ok(())
}

pub struct Engine {
    store: Arc<dyn Store>,
    /// Shared with the API's writes, so engine steps and API calls share disk syncs.
    flusher: Arc<GroupFlush>,
    /// A step takes its place in the write order before it lets go of `runs` and fills it
    /// after, so the next step computes while this one encodes, yet writes land in step order;
    /// a step that must read executions from the store first waits for them (`settled`).
    runs: Mutex<HashMap<PipelineKey, Run>>,
    pub settings: SyncMutex<Settings>,
    pub clock: Clock,
    wake: Notify,
    /// Publishes every execution, stage and action start and finish, in the order steps ran.
    announcer: Arc<announce::Announcer>,
    /// S3's buckets and objects: where artifacts are, and what makes a provider real.
    artifacts: ArtifactStore,
    /// The action executions a real provider's task is running for now.
    running_tasks: SyncMutex<tasks::Running>,
    /// What real providers may do (`--run-builds`, build concurrency).
    allowed: providers::Allowed,
    /// The engine clock when this process started: a task whose action started before it was
    /// interrupted by the restart.
    booted: f64,
    /// Itself, for the tasks it spawns to report back.
    me: Weak<Engine>,
    /// Other services' timers (EventBridge schedules), driven by this loop and its clock.
    timers: SyncMutex<Vec<Arc<dyn Timer>>>,
    /// `--execution-history`: how many finished executions each pipeline keeps (all if unset).
    history_cap: Option<usize>,
}

/// Something due at times of the engine clock, so `/_local/clock` moves it as it moves
/// executions, and this loop stays the only place that waits for time.
pub trait Timer: Send + Sync {
    /// When it is next due, at engine time `now`.
    fn next_due(&self, now: f64) -> Option<f64>;
    /// It is due: do what is due by `now` (quickly; long work goes to a task).
    fn fire(&self, now: f64);
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        flusher: Arc<GroupFlush>,
        settings: Settings,
        bus: crate::services::bus::Bus,
        artifacts: ArtifactStore,
        allowed: providers::Allowed,
        history_cap: Option<usize>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Engine {
            store,
            flusher,
            runs: Mutex::new(HashMap::new()),
            settings: SyncMutex::new(settings),
            booted: Clock::default().now(),
            clock: Clock::default(),
            wake: Notify::new(),
            announcer: announce::Announcer::new(bus),
            artifacts,
            running_tasks: SyncMutex::new(HashMap::new()),
            allowed,
            me: me.clone(),
            timers: SyncMutex::new(Vec::new()),
            history_cap,
        })
    }

    /// Drives `timer` from the engine's clock from now on.
    pub fn add_timer(&self, timer: Arc<dyn Timer>) {
        if let Ok(mut timers) = self.timers.lock() {
            timers.push(timer);
        }
        self.poke();
    }

    /// Loads every pipeline with unfinished executions, then drives timers until the process ends.
    pub fn spawn(self: &Arc<Self>) -> Result<(), AwsError> {
        let mut keys = Vec::new();
        for (key, _) in self.store.scan(&Keys::all_active(), None, usize::MAX)? {
            let parts: Vec<&str> = key.splitn(5, '/').collect();
            if let [_, account, region, name, _] = parts.as_slice() {
                let k = PipelineKey::new(account, region, name);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let engine = self.clone();
        tokio::spawn(async move {
            for key in keys {
                if let Err(e) = engine.tick(&key).await {
                    tracing::error!(pipeline = %key.name, error = %e, "cannot resume executions");
                } else {
                    tracing::info!(pipeline = %key.name, account = %key.account, region = %key.region, "resumed executions");
                }
            }
            engine.run_timers().await;
        });
        Ok(())
    }

    /// Whether pipelines' CodeBuild actions run their builds (`--run-builds`).
    pub fn runs_builds(&self) -> bool {
        self.allowed.run_builds
    }

    /// The artifact store and what real providers may do: what StartBuild's real builds need.
    pub fn build_runner(&self) -> (ArtifactStore, providers::Allowed) {
        (self.artifacts.clone(), self.allowed.clone())
    }

    /// Where builds get their folders.
    pub fn work_root(&self) -> std::path::PathBuf {
        self.allowed.work_root.clone()
    }

    /// Wakes the timer loop: something changed the earliest due time or the clock.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    async fn run_timers(self: Arc<Self>) {
        loop {
            let due: Vec<(PipelineKey, f64)> = {
                let runs = self.runs.lock().await;
                runs.iter()
                    .filter_map(|(k, r)| r.next_due().map(|d| (k.clone(), d)))
                    .collect()
            };
            let now = self.clock.now();
            let timers: Vec<Arc<dyn Timer>> =
                self.timers.lock().map(|t| t.clone()).unwrap_or_default();
            let mut others_due = None::<f64>;
            for timer in &timers {
                if timer.next_due(now).is_some_and(|d| d <= now) {
                    timer.fire(now);
                }
                // Asked again after firing: its next time counts for how long to sleep.
                if let Some(d) = timer.next_due(now).filter(|d| *d > now) {
                    others_due = Some(others_due.map_or(d, |o: f64| o.min(d)));
                }
            }
            let ready: Vec<&PipelineKey> = due
                .iter()
                .filter(|(_, d)| *d <= now)
                .map(|(k, _)| k)
                .collect();
            if !ready.is_empty() {
                // Nobody waits on a timer's step, so every due pipeline steps first and one
                // sync then covers them all; a sync per pipeline made the engine crawl at the
                // disk's pace while many executions were in flight.
                let mut done = Done::default();
                for key in ready {
                    match self.step(key, None, None, due_steps).await {
                        Ok((_, step_done)) => done.absorb(step_done),
                        Err(e) => tracing::error!(pipeline = %key.name, error = %e, "tick failed"),
                    }
                }
                if let Err(e) = self.finish(done).await {
                    tracing::error!(error = %e, "engine sync failed");
                }
                continue;
            }
            let earliest = due
                .iter()
                .map(|(_, d)| *d)
                .chain(others_due)
                .min_by(f64::total_cmp);
            let wait =
                earliest.map(|d| std::time::Duration::from_secs_f64((d - now).clamp(0.0, 3600.0)));
            match wait {
                Some(w) => {
                    tokio::select! {
                        _ = tokio::time::sleep(w) => {}
                        _ = self.wake.notified() => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// Runs `f` on the pipeline's state machine, persists what it changed, and wakes the timers.
    /// `bring` names a finished execution to load back in (for a retry).
    pub async fn with_machine<R>(
        &self,
        key: &PipelineKey,
        bring: Option<&str>,
        f: impl FnOnce(&mut Machine) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        self.run_machine(key, bring, None, f).await
    }

    /// `with_machine` for a caller that read the pipeline at `version` before taking the lock:
    /// that version is loaded even if an update has made another one current since.
    pub async fn with_machine_at<R>(
        &self,
        key: &PipelineKey,
        version: i64,
        f: impl FnOnce(&mut Machine) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        self.run_machine(key, None, Some(version), f).await
    }

    async fn run_machine<R>(
        &self,
        key: &PipelineKey,
        bring: Option<&str>,
        version: Option<i64>,
        f: impl FnOnce(&mut Machine) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        let (result, done) = self.step(key, bring, version, f).await?;
        self.finish(done).await?;
        result
    }

    /// Whatever was written is on disk before the caller replies, runtime-only changes (a
    /// transition) included; the group flush makes a sync with nothing new to write free. Events
    /// are announced only once on disk, so nothing reports a state a restart could lose.
    async fn finish(&self, done: Done) -> Result<(), AwsError> {
        if let Some(place) = done.wrote {
            self.flusher.sync_through(place).await?;
        }
        if done.changed {
            self.poke();
        }
        for ticket in done.announcements {
            ticket.announce();
        }
        for job in done.tasks {
            self.start_task(job);
        }
        for event in done.pruned {
            self.announcer.tell(event);
        }
        Ok(())
    }

    /// Runs a real provider on a blocking thread, then hands its result to the machine.
    fn start_task(&self, job: TaskJob) {
        let Some(engine) = self.me.upgrade() else {
            return;
        };
        let (progress, mut reports) = tokio::sync::mpsc::unbounded_channel();
        let reporter = engine.clone();
        let reported_job = job.clone();
        tokio::spawn(async move {
            while let Some(report) = reports.recv().await {
                let (execution, action) = (
                    &reported_job.execution_id,
                    &reported_job.action_execution_id,
                );
                let reported = reporter
                    .with_machine(&reported_job.key, None, |m| {
                        m.task_progress(execution, action, report);
                        Ok(())
                    })
                    .await;
                if let Err(e) = reported {
                    tracing::warn!(pipeline = %reported_job.key.name, error = %e, "cannot record a provider's progress");
                }
            }
        });
        tokio::spawn(async move {
            let result =
                providers::run_task(&engine.artifacts, &engine.allowed, &job, &progress).await;
            drop(progress);
            let reported = engine
                .with_machine(&job.key, None, |m| {
                    m.task_finished(&job.execution_id, &job.action_execution_id, result);
                    Ok(())
                })
                .await;
            if let Ok(mut running) = engine.running_tasks.lock() {
                running.remove(&job.action_execution_id);
            }
            if let Err(e) = reported {
                tracing::error!(pipeline = %job.key.name, error = %e, "cannot record a provider's result");
            }
        });
    }

    /// Runs `f` on the pipeline's machine and writes what changed, without waiting for the disk:
    /// the outer `Result` is the engine's own failure, the inner one `f`'s answer.
    async fn step<R>(
        &self,
        key: &PipelineKey,
        bring: Option<&str>,
        version: Option<i64>,
        f: impl FnOnce(&mut Machine) -> Result<R, AwsError>,
    ) -> Result<(Result<R, AwsError>, Done), AwsError> {
        let store = self.store.as_ref();
        let (account, region) = (key.account.as_str(), key.region.as_str());
        let mut runs = self.runs.lock().await;
        if !runs.contains_key(key) {
            self.settled()?;
            let active = repo::load_active(store, account, region, &key.name)?;
            let history = match self.history_cap {
                Some(_) => Some(history::History::load(store, account, region, &key.name)?),
                None => None,
            };
            let current_version = repo::load_current_version(store, account, region, &key.name)?;
            let run = Run {
                runtime: repo::load_runtime(store, account, region, &key.name)?,
                seen: events::Before::of(&active),
                active,
                declarations: BTreeMap::new(),
                current_version,
                history,
            };
            runs.insert(key.clone(), run);
        }
        let run = runs
            .get_mut(key)
            .ok_or_else(|| AwsError::internal("pipeline run vanished"))?;
        if let Some(id) = bring {
            if !run.active.iter().any(|e| e.id == id) {
                self.settled()?;
                let e = repo::load_execution(store, account, region, &key.name, id)?.ok_or_else(
                    || {
                        AwsError::new(
                            codes::PIPELINE_EXECUTION_NOT_FOUND,
                            format!(
                                "Pipeline execution {id} was not found in pipeline {}",
                                key.name
                            ),
                        )
                    },
                )?;
                run.seen.remember(&e);
                run.active.push(e);
                run.active.sort_by_key(|e| e.seq);
            }
        }
        // Every version an execution runs, plus the current one for new executions.
        let mut versions: Vec<i64> = run.active.iter().map(|e| e.pipeline_version).collect();
        versions.extend(version);
        if let Some(v) = version {
            run.current_version = Some(run.current_version.map_or(v, |c| c.max(v)));
        }
        versions.extend(run.current_version);
        let current_version = run.current_version.unwrap_or(1);
        for v in versions {
            if let std::collections::btree_map::Entry::Vacant(slot) = run.declarations.entry(v) {
                if let Some(d) = repo::load_pipeline_version(store, account, region, &key.name, v)?
                {
                    slot.insert(Arc::new(d));
                }
            }
        }
        let now = self.clock.now();
        let (result, changed) = {
            let mut settings = self
                .settings
                .lock()
                .map_err(|_| AwsError::internal("settings lock poisoned"))?;
            let artifacts = &self.artifacts;
            let allowed = &self.allowed;
            let is_real =
                move |s: &ActionStart| providers::is_real(artifacts, allowed, account, region, s);
            let mut runner = StubRunner {
                settings: &mut settings,
                account,
                region,
                is_real: &is_real,
            };
            let mut new_id = || uuid::Uuid::new_v4().to_string();
            let mut machine = Machine::new(
                &mut run.runtime,
                &mut run.active,
                &run.declarations,
                &mut runner,
                &mut new_id,
                now,
            );
            let result = f(&mut machine);
            let rollbacks = std::mem::take(&mut machine.rollback_requests);
            let mut changed = std::mem::take(&mut machine.changed);
            // ROLLBACK results: roll each stage back to what it last deployed.
            if !rollbacks.is_empty() {
                self.settled()?;
            }
            for (stage, target_id) in rollbacks {
                let Some(target) =
                    repo::load_execution(store, account, region, &key.name, &target_id)?
                else {
                    continue;
                };
                let trigger = Trigger {
                    trigger_type: "AutomatedRollback".to_owned(),
                    trigger_detail: target_id.clone(),
                };
                let mut m = Machine::new(
                    &mut run.runtime,
                    &mut run.active,
                    &run.declarations,
                    &mut runner,
                    &mut new_id,
                    now,
                );
                match m.rollback(current_version, &stage, &target, trigger) {
                    Ok(id) => {
                        tracing::info!(pipeline = %key.name, stage = %stage, execution = %id, "automated rollback started")
                    }
                    Err(e) => {
                        tracing::warn!(pipeline = %key.name, stage = %stage, error = %e, "automated rollback not started")
                    }
                }
                changed.extend(m.changed);
            }
            (result, changed)
        };
        let mut tasks = Vec::new();
        let wrote = !changed.is_empty() || result.is_ok();
        let mut changed_executions = Vec::new();
        let mut history_writes = Vec::new();
        let mut pruned = Vec::new();
        let runtime = wrote.then(|| run.runtime.clone());
        if wrote {
            for e in run.active.iter().filter(|e| changed.contains(&e.id)) {
                let evs = events::between(key, &run.seen, e);
                // A retried execution finishing again was counted when it first finished.
                let first_finish = e.retries == 0
                    && evs
                        .iter()
                        .any(|ev| matches!(ev.kind, events::EventKind::ExecutionFinished { .. }));
                if first_finish {
                    history_writes.push(match run.history.as_mut() {
                        Some(h) => h.finished(account, region, e),
                        None => history::finished_write(account, region, e),
                    });
                }
                if let Ok(running) = self.running_tasks.lock() {
                    tasks::stop_ended(e, &running);
                }
                changed_executions.push(ChangedExecution {
                    execution: e.clone(),
                    declaration: run.declarations.get(&e.pipeline_version).cloned(),
                    written: run.seen.written(&e.id),
                    events: evs,
                });
                run.seen.remember(e);
            }
            if let (Some(cap), Some(h)) = (self.history_cap, run.history.as_mut()) {
                let active = &run.active;
                let busy = |id: &str| active.iter().any(|e| e.id == id && !e.status.is_finished());
                let (deletes, left) = h.trim(cap, account, region, &key.name, busy);
                history_writes.extend(deletes);
                pruned.extend(left.iter().map(|l| l.event(account, region)));
            }
        }
        // Every running real action has its task: new ones, and after a restart the ones the
        // store says were running.
        if let Ok(mut running) = self.running_tasks.lock() {
            for e in &run.active {
                let decl = run.declarations.get(&e.pipeline_version).map(|d| &**d);
                tasks.extend(tasks::to_start(
                    key,
                    e,
                    decl,
                    &mut running,
                    self.booted,
                    now,
                ));
            }
        }
        run.active.retain(|e| !e.status.is_finished());
        run.seen.keep_only(&run.active);
        // Idle pipelines stay loaded (a busy pipeline is not reloaded for every start) until
        // there are many; then all idle ones go, and are reloaded from the store when next
        // needed. So memory and the timer loop's walk stay bounded by the work in progress.
        if runs.len() > MAX_RESIDENT_RUNS {
            runs.retain(|_, r| !r.active.is_empty());
        }
        let (place, ticket) = match wrote {
            true => (Some(self.flusher.reserve()?), Some(self.announcer.ticket())),
            false => (None, None),
        };
        drop(runs);
        let done = Done {
            wrote: place.as_ref().map(|p| p.number()),
            changed: !changed.is_empty(),
            announcements: Vec::new(),
            tasks,
            pruned,
        };
        if let (Some(place), Some(runtime)) = (place, runtime) {
            let mut writes = vec![repo::runtime_write(account, region, &key.name, &runtime)?];
            for c in &changed_executions {
                let e = &c.execution;
                writes.extend(repo::execution_writes(
                    account,
                    region,
                    e,
                    c.written.as_ref(),
                )?);
                writes.extend(repo::job_writes(
                    account,
                    region,
                    e,
                    c.declaration.as_deref(),
                )?);
                writes.extend(tasks::stub_artifacts(
                    &self.artifacts,
                    key,
                    e,
                    &c.events,
                    now,
                ));
            }
            writes.extend(history_writes);
            place.fill(writes);
        }
        let happened: announce::Happened = changed_executions
            .into_iter()
            .flat_map(|c| {
                let ChangedExecution {
                    execution,
                    declaration,
                    events,
                    ..
                } = c;
                events
                    .into_iter()
                    .map(|ev| {
                        let published =
                            published::event_of(&ev, &execution, declaration.as_ref(), now);
                        (ev, published)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let announcements = ticket
            .map(|mut t| {
                t.set(happened);
                vec![t]
            })
            .unwrap_or_default();
        Ok((
            result,
            Done {
                announcements,
                ..done
            },
        ))
    }

    /// Returns once the writes of every step before are applied, for a step about to read
    /// runtimes or executions from the store rather than from memory.
    fn settled(&self) -> Result<(), AwsError> {
        Ok(self.flusher.settle()?)
    }

    /// Applies whatever time has made due in one pipeline.
    pub async fn tick(&self, key: &PipelineKey) -> Result<(), AwsError> {
        self.with_machine(key, None, due_steps).await
    }

    /// Drops a deleted pipeline's in-memory state.
    pub async fn forget(&self, key: &PipelineKey) {
        self.runs.lock().await.remove(key);
    }

    /// Drops all in-memory state (the control plane's reset).
    pub async fn clear(&self) {
        self.runs.lock().await.clear();
        if let Ok(mut running) = self.running_tasks.lock() {
            running.clear();
        }
        self.poke();
    }
}
