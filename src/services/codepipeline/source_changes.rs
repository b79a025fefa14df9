//! Source-change detection for Amazon S3 and CodeCommit sources, as the EventBridge rules the
//! AWS console creates do it: an `Object Created` event on the bus for the bucket and key of a
//! pipeline's S3 source action starts that pipeline, once per new version, with that version
//! as the source revision; a `CodeCommit Repository State Change` that creates or moves the
//! branch of a CodeCommit source action starts it with the pushed commit. The trigger is
//! `CloudWatchEvent` when the action sets `PollForSourceChanges` to `false` (the console's
//! choice), `PollForSourceChanges` otherwise. Only pipelines of the account the event belongs
//! to start, as EventBridge rules see only their own account's events.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::call::Context;
use crate::services::bus::Event;
use crate::services::codepipeline::domain::execution::model::SourceRevisionOverride;
use crate::services::codepipeline::records::PipelineRecord;
use crate::services::codepipeline::service::{start_execution, StartRequest};
use crate::state::AppState;
use crate::store::decode;

/// One source action that watches a key or a branch.
#[derive(Debug, Clone)]
struct Watch {
    account: String,
    region: String,
    pipeline: String,
    action: String,
    polls: bool,
}

/// What a source action watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Watched {
    /// An S3 object: bucket and key.
    Object(String, String),
    /// A CodeCommit branch: repository and branch.
    Branch(String, String),
}

/// The S3 and CodeCommit source actions of every pipeline, by what they watch.
type Index = HashMap<Watched, Vec<Watch>>;

fn index(state: &AppState) -> Index {
    let mut index = Index::new();
    let Ok(rows) = state.store.scan("pipeline/", None, usize::MAX) else {
        return index;
    };
    for (key, bytes) in rows {
        // Keys are `pipeline/ACCOUNT/REGION/NAME`.
        let mut parts = key.splitn(4, '/').skip(1);
        let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(record) = decode::<PipelineRecord>(&bytes) else {
            continue;
        };
        let Some(first) = record.declaration.stages.first() else {
            continue;
        };
        for action in &first.actions {
            let id = &action.action_type_id;
            if (id.category.as_str(), id.owner.as_str()) != ("Source", "AWS") {
                continue;
            }
            let config = action.configuration.clone().unwrap_or_default();
            let setting = |k: &str| config.get(k).cloned();
            let watched = match id.provider.as_str() {
                "S3" => setting("S3Bucket")
                    .zip(setting("S3ObjectKey"))
                    .map(|(b, k)| Watched::Object(b, k)),
                "CodeCommit" => setting("RepositoryName")
                    .zip(setting("BranchName"))
                    .map(|(r, b)| Watched::Branch(r, b)),
                _ => None,
            };
            let Some(watched) = watched else {
                continue;
            };
            index.entry(watched).or_default().push(Watch {
                account: account.to_owned(),
                region: region.to_owned(),
                pipeline: record.declaration.name.clone(),
                action: action.name.clone(),
                polls: !config
                    .get("PollForSourceChanges")
                    .is_some_and(|p| p.eq_ignore_ascii_case("false")),
            });
        }
    }
    index
}

/// Listens on the bus for as long as the server runs.
pub fn spawn(state: Arc<AppState>) {
    let mut events = state.bus.subscribe_to(|e| watched_by(e).is_some());
    let mut changes = state.changes.subscribe();
    tokio::spawn(async move {
        let mut watches: Option<Index> = None;
        loop {
            tokio::select! {
                changed = changes.recv() => match changed {
                    Ok(_) | Err(RecvError::Lagged(_)) => watches = None,
                    Err(RecvError::Closed) => return,
                },
                event = events.recv() => {
                    let Some(event) = event else {
                        return;
                    };
                    let Some(watched) = watched_by(&event) else {
                        continue;
                    };
                    let found = watches.get_or_insert_with(|| index(&state));
                    let Some(list) = found.get(&watched) else {
                        continue;
                    };
                    for watch in list.clone() {
                        start(&state, &event, &watch).await;
                    }
                }
            }
        }
    });
}

/// What an event on the bus changed that a source action may watch.
fn watched_by(event: &Event) -> Option<Watched> {
    let d = &event.detail;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.s3", "Object Created") => Some(Watched::Object(
            text(&d["bucket"]["name"])?,
            text(&d["object"]["key"])?,
        )),
        ("aws.codecommit", "CodeCommit Repository State Change")
            if d["referenceType"] == "branch"
                && (d["event"] == "referenceCreated" || d["event"] == "referenceUpdated") =>
        {
            Some(Watched::Branch(
                text(&d["repositoryName"])?,
                text(&d["referenceName"])?,
            ))
        }
        _ => None,
    }
}

/// The source revision an event names, for the action that watches what it changed.
fn revision_of(event: &Event, action: &str) -> Option<SourceRevisionOverride> {
    let d = &event.detail;
    let (kind, value) = if event.source == "aws.codecommit" {
        ("COMMIT_ID", d["commitId"].as_str()?)
    } else {
        ("S3_OBJECT_VERSION_ID", d["object"]["version-id"].as_str()?)
    };
    Some(SourceRevisionOverride {
        action_name: action.to_owned(),
        revision_type: kind.to_owned(),
        revision_value: value.to_owned(),
    })
}

async fn start(state: &AppState, event: &Event, watch: &Watch) {
    if watch.account != event.account {
        return;
    }
    let ctx = Context::new(&watch.account, &watch.region);
    let record =
        match crate::services::codepipeline::service::pipeline(state, &ctx, &watch.pipeline) {
            Ok(r) => r,
            Err(_) => return,
        };
    let kind = if event.source == "aws.codecommit" {
        "codecommit"
    } else {
        "s3"
    };
    let (trigger_type, trigger_detail) = if watch.polls {
        ("PollForSourceChanges", watch.action.clone())
    } else {
        (
            "CloudWatchEvent",
            format!(
                "arn:aws:events:{}:{}:rule/codepipeline-{}-{kind}-source",
                watch.region, watch.account, watch.pipeline
            ),
        )
    };
    let req = StartRequest {
        trigger_type,
        trigger_detail: Some(trigger_detail),
        overrides: revision_of(event, &watch.action).into_iter().collect(),
        ..StartRequest::default()
    };
    match start_execution(state, &ctx, &record, req).await {
        Ok(id) => {
            tracing::info!(pipeline = %watch.pipeline, execution = %id, source = kind, "a source change started the pipeline")
        }
        Err(e) => {
            tracing::warn!(pipeline = %watch.pipeline, error = %e, source = kind, "a source change could not start the pipeline")
        }
    }
}
