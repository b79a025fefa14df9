//! The builds of pipelines' simulated CodeBuild actions, recorded from the event bus, where
//! services meet: every `CodePipeline Action Execution State Change` of an AWS CodeBuild action
//! that ends with an external execution id (`project:uuid`) becomes that build, with its
//! phases, initiator (`codepipeline/<pipeline>`), source version (the input artifact) and a
//! one-line log saying it was simulated. Builds that really ran (`--run-builds`) recorded
//! themselves already and are left alone. Recording off the engine's path keeps a pipeline's
//! step as cheap as before; the events that arrive together are written in one batch (sled
//! serialises batches, so each one delays the engine's); every one of
//! those events reaches it, however far behind the engine it falls. When `--execution-history`
//! prunes an execution, the builds its actions ran are forgotten here too, with their logs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::pipeline_builds::{self, ActionBuild, Simulated};
use super::records;
use super::shape;
use crate::services::bus::Event;
use crate::services::leftovers::{is_leftovers, Leftovers};
use crate::services::logs::records as logs;
use crate::state::AppState;
use crate::store::{Store, StoreResult, Write};

/// The most events recorded in one batch.
const BATCH_MAX: usize = 4096;

fn epoch(time: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .unwrap_or_default()
}

fn is_codebuild_action(event: &Event) -> bool {
    event.source == "aws.codepipeline"
        && event.detail_type == "CodePipeline Action Execution State Change"
        && event
            .action_type
            .as_ref()
            .is_some_and(|(owner, provider)| owner == "AWS" && provider == "CodeBuild")
}

fn s3_arn(location: &Option<(String, String)>) -> Option<String> {
    let (bucket, key) = location.as_ref()?;
    Some(format!("arn:aws:s3:::{bucket}/{key}"))
}

/// What a batch knows per account, region and project: the build numbers it takes (written
/// once at its end), and which log groups exist (each read once, then written by the batch's
/// first build if missing).
#[derive(Default)]
struct Known {
    next: HashMap<(String, String, String), i64>,
    log_groups: HashSet<(String, String, String)>,
}

impl Known {
    fn take_number(
        &mut self,
        store: &dyn Store,
        account: &str,
        region: &str,
        project: &str,
    ) -> i64 {
        let key = (account.to_owned(), region.to_owned(), project.to_owned());
        let next = match self.next.get(&key) {
            Some(n) => *n,
            None => records::next_build_number(store, account, region, project).unwrap_or(1),
        };
        self.next.insert(key, next + 1);
        next
    }

    /// Whether the project's log group exists, or is written by an earlier build of the batch.
    fn log_group_exists(
        &mut self,
        store: &dyn Store,
        account: &str,
        region: &str,
        project: &str,
    ) -> StoreResult<bool> {
        let key = (account.to_owned(), region.to_owned(), project.to_owned());
        if self.log_groups.contains(&key) {
            return Ok(true);
        }
        let group = shape::log_group(project);
        logs::load_group(store, account, region, &group).map(|g| g.is_some())
    }

    /// Notes that the batch's writes hold the project's log group.
    fn wrote_log_group(&mut self, account: &str, region: &str, project: &str) {
        let key = (account.to_owned(), region.to_owned(), project.to_owned());
        self.log_groups.insert(key);
    }

    fn writes(self) -> Vec<Write> {
        self.next
            .into_iter()
            .map(|((account, region, project), next)| {
                records::build_number_write(&account, &region, &project, next)
            })
            .collect()
    }
}

/// A build this listener recorded, as stored: what its CodeBuild event is rendered from.
struct Recorded {
    event: Arc<Event>,
    build_id: String,
    started: f64,
    simulated: Simulated,
}

/// The writes that record the build an action's end names; none when it recorded itself.
fn writes_for(
    state: &AppState,
    event: &Arc<Event>,
    started: Option<&Started>,
    known: &mut Known,
) -> Option<(Vec<Write>, Recorded)> {
    let run = event.action_run.as_deref()?;
    let build_id = run.external_execution_id.as_deref()?;
    let store = state.store.as_ref();
    // Without --run-builds no pipeline's build runs, so none recorded itself: the check would
    // only miss, through every layer of the store.
    if state.engine.runs_builds()
        && records::has_build(store, &event.account, &event.region, build_id).unwrap_or(true)
    {
        return None;
    }
    let (project, _) = build_id.split_once(':')?;
    let at = epoch(&event.time);
    let started_at = started.map_or(at, |s| s.at).min(at);
    let build = ActionBuild {
        account: &event.account,
        region: &event.region,
        pipeline: &run.pipeline,
        build_id,
        number: known.take_number(store, &event.account, &event.region, project),
        source_version: started.and_then(|s| s.source_version.clone()),
        artifacts_location: s3_arn(&run.first_output),
        started_at,
        ended_at: at,
        succeeded: run.state == "SUCCEEDED",
        message: run.external_execution_summary.as_deref(),
    };
    let recorded = known
        .log_group_exists(store, &event.account, &event.region, project)
        .and_then(|exists| pipeline_builds::writes(build, exists));
    match recorded {
        Ok((writes, simulated)) => {
            known.wrote_log_group(&event.account, &event.region, project);
            let recorded = Recorded {
                event: event.clone(),
                build_id: build_id.to_owned(),
                started: started_at,
                simulated,
            };
            Some((writes, recorded))
        }
        Err(e) => {
            tracing::warn!(build = build_id, error = %e, "cannot record a pipeline's build");
            None
        }
    }
}

/// Announces each recorded build's end, as CodeBuild does, rendered from what was written;
/// each project's settings are read once.
fn announce(state: &AppState, recorded: &[Recorded]) {
    let mut settings: HashMap<(&str, &str, &str), Option<Arc<Value>>> = HashMap::new();
    for r in recorded {
        let (account, region) = (r.event.account.as_str(), r.event.region.as_str());
        let project = records::project_of(&r.build_id);
        let project_settings = settings
            .entry((account, region, project))
            .or_insert_with(|| {
                records::load_project(state.store.as_ref(), account, region, project)
                    .ok()
                    .flatten()
                    .map(|p| Arc::new(p.project))
            })
            .clone();
        let arn = format!("arn:aws:codebuild:{region}:{account}:build/{}", r.build_id);
        let (owner, place) = (account.to_owned(), region.to_owned());
        let (id, started, simulated) = (r.build_id.clone(), r.started, r.simulated.clone());
        let render = move || {
            let settings = project_settings.as_deref();
            pipeline_builds::render_with(settings, &owner, &place, &id, started, &simulated)
        };
        let event = super::events::ended(account, region, arn, r.simulated.ended, render);
        state.bus.publish(event);
    }
}

/// What an action's STARTED event told that its end does not: when, and its input (AWS sends
/// `input-artifacts` on STARTED only).
struct Started {
    at: f64,
    source_version: Option<String>,
}

/// Forgets the builds pruned executions ran (`--execution-history`), with their logs.
async fn forget(state: &AppState, pruned: Vec<(String, String, Leftovers)>) {
    let forgot = state
        .mutate_unsynced(|store| {
            let mut writes = Vec::new();
            for (account, region, left) in &pruned {
                for id in left.external_ids.iter().filter(|id| id.contains(':')) {
                    writes.extend(records::pipeline_build_deletes(
                        store,
                        account,
                        region,
                        &left.pipeline,
                        id,
                    )?);
                }
            }
            let wrote = !writes.is_empty();
            if wrote {
                store.apply(writes)?;
            }
            Ok(wrote)
        })
        .await;
    let synced = match forgot {
        Ok(true) => state.flush().await,
        Ok(false) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = synced {
        tracing::warn!(error = %e, "cannot forget pruned executions' builds");
    }
}

fn is_taken(event: &Event) -> bool {
    is_codebuild_action(event) || is_leftovers(event)
}

/// Listens for as long as the server runs. Writes of events that arrive together share one
/// batch and one disk sync.
pub fn spawn(state: Arc<AppState>) {
    let mut events = state.bus.subscribe_to(is_taken);
    tokio::spawn(async move {
        // When each running CodeBuild action started, by action execution id.
        let mut started: HashMap<String, Started> = HashMap::new();
        loop {
            let Some(first) = events.recv().await else {
                return;
            };
            // Others publishing in the same moment join this batch: one write for all of them.
            // A listener behind the engine takes bigger batches, which cost less per build.
            tokio::task::yield_now().await;
            let mut batch = vec![first];
            while let Ok(more) = events.try_recv() {
                batch.push(more);
                if batch.len() >= BATCH_MAX {
                    break;
                }
            }
            let mut ended = Vec::new();
            let mut pruned = Vec::new();
            for event in batch {
                if let Some(left) = Leftovers::of(&event) {
                    pruned.push((event.account.clone(), event.region.clone(), left));
                    continue;
                }
                // Engine events carry what their detail says of the run; no other kind is
                // taken, and reading `detail` would make it.
                let Some(run) = event.action_run.clone() else {
                    continue;
                };
                let id = run.id.clone().unwrap_or_default();
                if run.state == "STARTED" {
                    let source_version = s3_arn(&run.first_input);
                    let at = epoch(&event.time);
                    started.insert(id, Started { at, source_version });
                } else {
                    let at = started.remove(&id);
                    ended.push((event, at));
                }
            }
            if !ended.is_empty() {
                record(&state, ended).await;
            }
            // After the builds of this batch: a prune can follow its build's end closely.
            if !pruned.is_empty() {
                forget(&state, pruned).await;
            }
        }
    });
}

/// Records the builds the ended actions name, in one batch and one sync, then announces them.
async fn record(state: &AppState, ended: Vec<(Arc<Event>, Option<Started>)>) {
    let mut recorded = Vec::new();
    let wrote = state
        .mutate_unsynced(|store| {
            let mut known = Known::default();
            let mut writes = Vec::new();
            for (event, at) in &ended {
                if let Some((w, r)) = writes_for(state, event, at.as_ref(), &mut known) {
                    writes.extend(w);
                    recorded.push(r);
                }
            }
            writes.extend(known.writes());
            let wrote = !writes.is_empty();
            if wrote {
                store.apply(writes)?;
            }
            Ok(wrote)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot record a pipeline's build");
            false
        });
    if wrote {
        if let Err(e) = state.flush().await {
            tracing::warn!(error = %e, "cannot sync recorded builds");
        }
        announce(state, &recorded);
    }
}
