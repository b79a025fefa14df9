//! `GET /_local/events`: the bus's recent events (newest first, filtered by `source` and
//! `detail-type`) and EventBridge's recent deliveries with how each went. With `?follow` the
//! answer is a stream instead, one JSON object per line (`{"event": ...}` or
//! `{"delivery": ...}`), the kept ones oldest first and then each new one as it happens, as
//! `tail -f` does; it ends when the server shuts down.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::services::events::activity::Entry;
use crate::state::AppState;

/// Whether an event's envelope has what each given filter asks for.
fn wanted(filter: &HashMap<String, String>, event: &Value) -> bool {
    ["source", "detail-type"].iter().all(|k| {
        filter
            .get(*k)
            .is_none_or(|want| event[*k].as_str() == Some(want.as_str()))
    })
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    Query(filter): Query<HashMap<String, String>>,
) -> Response {
    if filter.contains_key("follow") {
        return follow(&state, filter);
    }
    let (events, deliveries) = state.activity.snapshot(|e| wanted(&filter, e));
    Json(json!({ "events": events, "deliveries": deliveries })).into_response()
}

/// One line of the stream, or `None` when the filter leaves the entry out.
fn line(filter: &HashMap<String, String>, entry: &Entry) -> Option<Vec<u8>> {
    let value = entry.to_json();
    if let Some(event) = value.get("event") {
        if !wanted(filter, event) {
            return None;
        }
    }
    let mut bytes = serde_json::to_vec(&value).ok()?;
    bytes.push(b'\n');
    Some(bytes)
}

fn follow(state: &Arc<AppState>, filter: HashMap<String, String>) -> Response {
    let (history, feed) = state.activity.follow();
    let closing = state.closing.subscribe();
    let kept: Vec<Result<Vec<u8>, std::io::Error>> = history
        .iter()
        .filter_map(|entry| line(&filter, entry))
        .map(Ok)
        .collect();
    let live = futures_util::stream::unfold(
        (feed, closing, filter),
        |(mut feed, mut closing, filter)| async move {
            loop {
                if *closing.borrow() {
                    return None;
                }
                let bytes = tokio::select! {
                    got = feed.recv() => match got {
                        Ok(entry) => match line(&filter, &entry) {
                            Some(bytes) => bytes,
                            None => continue,
                        },
                        // Said in the stream, so a follower knows it missed some.
                        Err(RecvError::Lagged(n)) => format!("{{\"missed\":{n}}}\n").into_bytes(),
                        Err(RecvError::Closed) => return None,
                    },
                    _ = closing.changed() => return None,
                };
                return Some((Ok(bytes), (feed, closing, filter)));
            }
        },
    );
    let stream = futures_util::StreamExt::chain(futures_util::stream::iter(kept), live);
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
