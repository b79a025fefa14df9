//! The builds of pipelines' simulated CodeBuild actions, recorded from the event bus, where
//! services meet: every `CodePipeline Action Execution State Change` of an AWS CodeBuild action
//! that ends with an external execution id (`project:uuid`) becomes that build, with its
//! phases, initiator (`codepipeline/<pipeline>`), source version (the input artifact) and a
//! one-line log saying it was simulated. Builds that really ran (`--run-builds`) recorded
//! themselves already and are left alone. Recording off the engine's path keeps a pipeline's
//! step as cheap as before; the bus is best effort, so a listener that falls behind says so.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::pipeline_builds::{self, ActionBuild, Ending};
use super::records;
use crate::services::bus::Event;
use crate::state::AppState;
use crate::store::Write;

fn epoch(time: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .unwrap_or_default()
}

fn is_codebuild_action(event: &Event) -> bool {
    event.source == "aws.codepipeline"
        && event.detail_type == "CodePipeline Action Execution State Change"
        && event.detail["type"]["provider"] == "CodeBuild"
        && event.detail["type"]["owner"] == "AWS"
}

fn s3_arn(artifacts: &Value) -> Option<String> {
    let location = &artifacts.as_array()?.first()?["s3location"];
    Some(format!(
        "arn:aws:s3:::{}/{}",
        location["bucket"].as_str()?,
        location["key"].as_str()?
    ))
}

/// The writes that record the build an action's end names; none when it recorded itself.
fn writes_for(state: &AppState, event: &Event, started: Option<f64>) -> Vec<Write> {
    let d = &event.detail;
    let Some(build_id) = d["execution-result"]["external-execution-id"].as_str() else {
        return Vec::new();
    };
    let store = state.store.as_ref();
    if records::load_build(store, &event.account, &event.region, build_id)
        .ok()
        .flatten()
        .is_some()
    {
        return Vec::new();
    }
    let at = epoch(&event.time);
    let build = ActionBuild {
        account: &event.account,
        region: &event.region,
        pipeline: d["pipeline"].as_str().unwrap_or_default(),
        build_id,
        source_version: s3_arn(&d["input-artifacts"]),
        resolved_source_version: None,
        artifacts_location: s3_arn(&d["output-artifacts"]),
        environment_variables: None,
        started_at: started.unwrap_or(at).min(at),
    };
    let ending = Ending {
        succeeded: d["state"] == "SUCCEEDED",
        message: d["execution-result"]["external-execution-summary"].as_str(),
        exported: Vec::new(),
        at,
    };
    pipeline_builds::writes(store, build, true, Some(ending)).unwrap_or_else(|e| {
        tracing::warn!(build = build_id, error = %e, "cannot record a pipeline's build");
        Vec::new()
    })
}

/// Listens for as long as the server runs. Writes of events that arrive together share one
/// batch and one disk sync.
pub fn spawn(state: Arc<AppState>) {
    let mut events = state.bus.subscribe();
    tokio::spawn(async move {
        // When each running CodeBuild action started, by action execution id.
        let mut started: HashMap<String, f64> = HashMap::new();
        loop {
            let first = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "CodeBuild fell behind the event bus: some simulated builds are not recorded");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let mut batch = vec![first];
            while let Ok(more) = events.try_recv() {
                batch.push(more);
                if batch.len() >= 256 {
                    break;
                }
            }
            let ours: Vec<Arc<Event>> = batch
                .into_iter()
                .filter(|e| is_codebuild_action(e))
                .collect();
            if ours.is_empty() {
                continue;
            }
            let wrote = state
                .mutate_unsynced(|store| {
                    let mut wrote = false;
                    for event in &ours {
                        let id = event.detail["action-execution-id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        if event.detail["state"] == "STARTED" {
                            started.insert(id, epoch(&event.time));
                            continue;
                        }
                        let at = started.remove(&id);
                        // Applied one build at a time: the next one reads this one's number.
                        let w = writes_for(&state, event, at);
                        if !w.is_empty() {
                            store.apply(w)?;
                            wrote = true;
                        }
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
            }
        }
    });
}
