//! `GET /_local/s3/<bucket>[?prefix=...]` lists a bucket and `GET /_local/s3/<bucket>/<key>`
//! downloads an object, without signing: what the console links artifacts and deploy buckets
//! to, so a learner can open what a pipeline wrote. Reads only; the control plane's token and
//! Host rules apply as to every `/_local/` path.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

#[derive(Deserialize)]
pub struct Listing {
    #[serde(default)]
    prefix: String,
}

fn not_found(what: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Path(bucket): Path<String>,
    Query(listing): Query<Listing>,
) -> Response {
    if crate::services::s3::buckets::load(state.store.as_ref(), &bucket)
        .ok()
        .flatten()
        .is_none()
    {
        return not_found(format!("no bucket {bucket}"));
    }
    let found = match state.objects.list(&bucket, &listing.prefix, None, 1000) {
        Ok(f) => f,
        Err(e) => return not_found(e.to_string()),
    };
    let objects: Vec<_> = found
        .into_iter()
        .filter(|o| !o.delete_marker)
        .map(|o| {
            json!({
                "key": o.key,
                "size": o.size,
                "etag": o.meta.etag,
                "versionId": o.version_id,
                "download": format!("/_local/s3/{bucket}/{}", o.key),
            })
        })
        .collect();
    Json(json!({ "bucket": bucket, "prefix": listing.prefix, "objects": objects })).into_response()
}

pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    let found = match state.objects.get(&bucket, &key) {
        Ok(Some(found)) => found,
        _ => return not_found(format!("no object s3://{bucket}/{key}")),
    };
    let (info, reader) = found;
    let name = key.rsplit('/').next().unwrap_or("object").replace('"', "");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match std::io::Read::read(&mut reader, &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let content_type = info
        .meta
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_LENGTH, info.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
