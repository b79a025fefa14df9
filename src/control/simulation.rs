//! Control endpoints for tests and labs: stub durations (`/_local/config`), fault injection
//! (`/_local/faults`) and the engine clock (`/_local/clock`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::durations::parse_duration;
use crate::services::codepipeline::domain::providers::{Fault, FaultKind, Selector};
use crate::state::AppState;

/// Control endpoints take JSON whatever the content type, so `curl -d '{...}'` works as typed.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(text)
        .map_err(|e| format!("the body is not the JSON this endpoint takes: {e}"))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// A duration given as seconds (number) or as text (`250ms`, `2m`).
fn seconds(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .ok_or_else(|| format!("{v} is not a duration")),
        Value::String(s) => parse_duration(s),
        _ => Err(format!("{v} is not a duration")),
    }
}

fn settings_json(state: &AppState) -> Value {
    match state.engine.settings.lock() {
        Ok(s) => {
            json!({ "defaultDuration": s.default_duration, "providerDurations": s.provider_durations })
        }
        Err(_) => json!({ "error": "settings unavailable" }),
    }
}

pub async fn get_config(State(state): State<Arc<AppState>>) -> Response {
    Json(settings_json(&state)).into_response()
}

/// `{"defaultDuration": "0s", "providerDurations": {"CodeBuild": "5s"}}`; a provider set to null
/// goes back to the default.
pub async fn set_config(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body: Value = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let default = match body.get("defaultDuration").map(seconds).transpose() {
        Ok(d) => d,
        Err(e) => return bad_request(e),
    };
    let mut providers = Vec::new();
    for (name, v) in body
        .get("providerDurations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match v {
            Value::Null => providers.push((name.clone(), None)),
            other => match seconds(other) {
                Ok(s) => providers.push((name.clone(), Some(s))),
                Err(e) => return bad_request(e),
            },
        }
    }
    if let Ok(mut s) = state.engine.settings.lock() {
        if let Some(d) = default {
            s.default_duration = d;
        }
        for (name, value) in providers {
            match value {
                Some(v) => s.provider_durations.insert(name, v),
                None => s.provider_durations.remove(&name),
            };
        }
    }
    Json(settings_json(&state)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRequest {
    #[serde(flatten)]
    selector: Selector,
    /// How many matching runs to affect (default 1).
    count: Option<u32>,
    /// `fail` (default) or `hang`.
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

pub async fn list_faults(State(state): State<Arc<AppState>>) -> Response {
    let faults = state
        .engine
        .settings
        .lock()
        .map(|s| s.faults.clone())
        .unwrap_or_default();
    Json(json!({ "faults": faults })).into_response()
}

pub async fn add_fault(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: FaultRequest = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let kind = match req.kind.as_deref().unwrap_or("fail") {
        "fail" => FaultKind::Fail {
            message: req.message.unwrap_or_else(|| "Injected failure".to_owned()),
        },
        "hang" => FaultKind::Hang,
        other => return bad_request(format!("fault type '{other}' is not 'fail' or 'hang'")),
    };
    let fault = Fault {
        selector: req.selector,
        remaining: req.count.unwrap_or(1).max(1),
        kind,
    };
    if let Ok(mut s) = state.engine.settings.lock() {
        s.faults.push(fault.clone());
    }
    (StatusCode::CREATED, Json(json!({ "fault": fault }))).into_response()
}

pub async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    if let Ok(mut s) = state.engine.settings.lock() {
        s.faults.clear();
    }
    Json(json!({ "faults": [] })).into_response()
}

pub async fn get_clock(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({ "now": state.engine.clock.now(), "offsetSeconds": state.engine.clock.offset_seconds() })).into_response()
}

/// `{"advance": "7d"}` or `{"advanceSeconds": 604800}`: moves the engine clock forward.
pub async fn advance_clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body: Value = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let amount = body.get("advanceSeconds").or_else(|| body.get("advance"));
    let Some(amount) = amount else {
        return bad_request("give advance (\"90s\", \"2h\") or advanceSeconds (a number)");
    };
    match seconds(amount) {
        Ok(s) => {
            state.engine.clock.advance(s);
            state.engine.poke();
            get_clock(State(state)).await
        }
        Err(e) => bad_request(e),
    }
}
