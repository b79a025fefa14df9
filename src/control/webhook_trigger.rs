//! The URL `PutWebhook` hands out: `POST /_webhooks/trigger?t=ID&v=1`. A call that passes the
//! webhook's authentication (GitHub HMAC, IP range, or none) and every filter starts the
//! target pipeline, with the webhook's ARN as the trigger detail.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::api::webhooks::{self as api, WebhookUrlIndex};
use crate::services::codepipeline::domain::enums::WebhookAuthentication;
use crate::services::codepipeline::domain::webhooks;
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::{start_execution, StartRequest};
use crate::state::AppState;
use crate::store::{decode, encode, Write};
use crate::wire::body::MAX_BODY_BYTES;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// The `t` parameter of the query string: the webhook's URL id.
fn url_id(query: Option<&str>) -> String {
    query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("t="))
        .unwrap_or_default()
        .to_owned()
}

pub async fn trigger(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let id = url_id(request.uri().query());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let headers = request.headers().clone();
    let Ok(body) = to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"message": "payload too large"}),
        );
    };
    match run(&state, &id, peer, &headers, &body).await {
        Ok(response) => response,
        Err(e) => reply(e.status, json!({"message": e.message})),
    }
}

async fn run(
    state: &AppState,
    url_id: &str,
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Response, AwsError> {
    let store = state.store.as_ref();
    let not_found = || {
        AwsError::new(codes::WEBHOOK_NOT_FOUND, "No webhook has this URL")
            .with_status(StatusCode::NOT_FOUND)
    };
    let index: WebhookUrlIndex = match store.get(&Keys::webhook_url(url_id))? {
        Some(bytes) => decode(&bytes)?,
        None => return Err(not_found()),
    };
    let record =
        api::load(store, &index.account, &index.region, &index.name)?.ok_or_else(not_found)?;
    let def = &record.definition;
    let denied = |why: &str| {
        AwsError::new(codes::WEBHOOK_ACCESS_DENIED, why.to_owned())
            .with_status(StatusCode::UNAUTHORIZED)
    };
    match WebhookAuthentication::parse(&def.authentication) {
        Some(WebhookAuthentication::GithubHmac) => {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let secret = def
                .authentication_configuration
                .secret_token
                .as_deref()
                .unwrap_or_default();
            if !webhooks::github_signature_valid(
                secret,
                body,
                header("x-hub-signature-256"),
                header("x-hub-signature"),
            ) {
                return Err(denied(
                    "The payload signature does not match the webhook's secret",
                ));
            }
        }
        Some(WebhookAuthentication::Ip) => {
            let range = def
                .authentication_configuration
                .allowed_ip_range
                .as_deref()
                .unwrap_or_default();
            if !peer.is_some_and(|ip| webhooks::ip_allowed(range, ip)) {
                return Err(denied(
                    "The caller's address is outside the webhook's AllowedIPRange",
                ));
            }
        }
        _ => {}
    }
    let payload: Value = serde_json::from_slice(body).map_err(|e| {
        AwsError::new(
            codes::WEBHOOK_INVALID_PAYLOAD,
            format!("The payload is not JSON: {e}"),
        )
    })?;
    let ctx = Context::new(&index.account, &index.region);
    let pipeline = repo::load_pipeline(store, &ctx.account, &ctx.region, &def.target_pipeline)?
        .ok_or_else(|| AwsError::pipeline_not_found(&def.target_pipeline, &ctx.account))?;
    let config = pipeline
        .declaration
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.name == def.target_action)
        .and_then(|a| a.configuration.clone())
        .unwrap_or_default();
    if let Err(reason) = webhooks::filters_match(def, &payload, &config) {
        return Ok(reply(
            StatusCode::OK,
            json!({"started": false, "reason": reason}),
        ));
    }
    let req = StartRequest {
        trigger_type: "Webhook",
        trigger_detail: Some(record.arn.clone()),
        ..StartRequest::default()
    };
    let id = start_execution(state, &ctx, &pipeline, req).await?;
    // Only lastTriggered changes, on the webhook as it is now: a PutWebhook or DeleteWebhook
    // that ran meanwhile is neither undone nor resurrected.
    let now = state.engine.clock.now();
    let url_id = record.url_id.clone();
    state
        .mutate(|s| {
            let Some(mut current) = api::load(s, &index.account, &index.region, &index.name)?
            else {
                return Ok(());
            };
            if current.url_id != url_id {
                return Ok(());
            }
            current.last_triggered = Some(now);
            let key = Keys::webhook(&index.account, &index.region, &index.name);
            s.apply(vec![Write::put(key, encode(&current)?)])?;
            Ok(())
        })
        .await?;
    Ok(reply(
        StatusCode::OK,
        json!({"started": true, "pipelineExecutionId": id}),
    ))
}
