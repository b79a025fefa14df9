//! Replies served from the reply cache: the first read of a pipeline renders and keeps its
//! reply, later reads send the same bytes until a write drops them (see `store::ReplyCache`).

use std::future::Future;

use axum::body::Bytes;
use serde_json::Value;

use crate::call::{Context, Reply};
use crate::error::AwsError;
use crate::state::AppState;
use crate::store::ReplyCache;

/// The kept `kind` reply of `pipeline`, or `render`'s, which is then kept. Errors are not kept.
pub async fn cached(
    state: &AppState,
    ctx: &Context,
    kind: &'static str,
    pipeline: &str,
    render: impl Future<Output = Result<Value, AwsError>>,
) -> Result<Reply, AwsError> {
    let scope = ReplyCache::scope(&ctx.account, &ctx.region, pipeline);
    if let Some(hit) = state.replies.get(&scope, kind) {
        return Ok(Reply::Rendered(hit));
    }
    // Taken before `render` reads anything, so a write during the render refuses the reply.
    let ticket = state.replies.ticket();
    let reply = Bytes::from(render.await?.to_string());
    state.replies.keep(ticket, scope, kind, reply.clone());
    Ok(Reply::Rendered(reply))
}
