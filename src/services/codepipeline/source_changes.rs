//! Source-change detection for Amazon S3 sources, as the EventBridge rule the AWS console
//! creates does it: an `Object Created` event on the bus for the bucket and key of a pipeline's
//! S3 source action starts that pipeline, once per new version, with that version as the source
//! revision. The trigger is `CloudWatchEvent` when the action sets `PollForSourceChanges` to
//! `false` (the console's choice), `PollForSourceChanges` otherwise. Only pipelines of the
//! bucket owner's account start, as EventBridge rules see only their own account's events.

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

/// One S3 source action that watches a key.
#[derive(Debug, Clone)]
struct Watch {
    account: String,
    region: String,
    pipeline: String,
    action: String,
    polls: bool,
}

/// The S3 source actions of every pipeline, by `(bucket, key)`.
type Index = HashMap<(String, String), Vec<Watch>>;

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
            if (
                id.category.as_str(),
                id.owner.as_str(),
                id.provider.as_str(),
            ) != ("Source", "AWS", "S3")
            {
                continue;
            }
            let config = action.configuration.clone().unwrap_or_default();
            let (Some(bucket), Some(object)) = (config.get("S3Bucket"), config.get("S3ObjectKey"))
            else {
                continue;
            };
            index
                .entry((bucket.clone(), object.clone()))
                .or_default()
                .push(Watch {
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
    let mut events = state.bus.subscribe();
    let mut changes = state.changes.subscribe();
    tokio::spawn(async move {
        let mut watches: Option<Index> = None;
        loop {
            tokio::select! {
                changed = changes.recv() => match changed {
                    Ok(_) | Err(RecvError::Lagged(_)) => watches = None,
                    Err(RecvError::Closed) => return,
                },
                event = events.recv() => match event {
                    Ok(event) => {
                        if event.source != "aws.s3" || event.detail_type != "Object Created" {
                            continue;
                        }
                        let found = watches.get_or_insert_with(|| index(&state));
                        let bucket = event.detail["bucket"]["name"].as_str().unwrap_or_default();
                        let key = event.detail["object"]["key"].as_str().unwrap_or_default();
                        let Some(list) = found.get(&(bucket.to_owned(), key.to_owned())) else {
                            continue;
                        };
                        for watch in list.clone() {
                            start(&state, &event, &watch).await;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "source-change detection fell behind the event bus");
                    }
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
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
    let version = event.detail["object"]["version-id"].as_str();
    let bucket = event.detail["bucket"]["name"].as_str().unwrap_or_default();
    let key = event.detail["object"]["key"].as_str().unwrap_or_default();
    let (trigger_type, trigger_detail) = if watch.polls {
        ("PollForSourceChanges", watch.action.clone())
    } else {
        (
            "CloudWatchEvent",
            format!(
                "arn:aws:events:{}:{}:rule/codepipeline-{}-s3-source",
                watch.region, watch.account, watch.pipeline
            ),
        )
    };
    let req = StartRequest {
        trigger_type,
        trigger_detail: Some(trigger_detail),
        overrides: version
            .map(|v| SourceRevisionOverride {
                action_name: watch.action.clone(),
                revision_type: "S3_OBJECT_VERSION_ID".to_owned(),
                revision_value: v.to_owned(),
            })
            .into_iter()
            .collect(),
        ..StartRequest::default()
    };
    match start_execution(state, &ctx, &record, req).await {
        Ok(id) => {
            tracing::info!(pipeline = %watch.pipeline, execution = %id, bucket, key, "S3 source change started the pipeline")
        }
        Err(e) => {
            tracing::warn!(pipeline = %watch.pipeline, error = %e, "S3 source change could not start the pipeline")
        }
    }
}
