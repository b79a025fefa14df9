//! PutEvents: each entry becomes an event on the bus in EventBridge's envelope, with an id per
//! entry; an entry that is not an event is reported in its place (`ErrorCode`,
//! `ErrorMessage`), as EventBridge answers, and the others still go out.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::AwsError;
use crate::services::bus::Event;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    time: Option<Value>,
    source: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    detail_type: Option<String>,
    detail: Option<String>,
    event_bus_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsInput {
    entries: Vec<Entry>,
}

fn refused(code: &str, message: &str) -> Value {
    json!({"ErrorCode": code, "ErrorMessage": message})
}

pub async fn put_events(
    state: &AppState,
    ctx: &Context,
    input: PutEventsInput,
) -> Result<Value, AwsError> {
    let now = crate::services::epoch_now();
    let mut answers = Vec::new();
    let mut failed = 0;
    for entry in input.entries {
        let missing = [
            ("Source", entry.source.is_none()),
            ("DetailType", entry.detail_type.is_none()),
            ("Detail", entry.detail.is_none()),
        ]
        .into_iter()
        .find(|(_, gone)| *gone);
        if let Some((name, _)) = missing {
            failed += 1;
            answers.push(refused(
                "InvalidArgument",
                &format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
            ));
            continue;
        }
        let detail = entry
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .filter(Value::is_object);
        let Some(detail) = detail else {
            failed += 1;
            answers.push(refused("MalformedDetail", "Detail is malformed."));
            continue;
        };
        let named = entry.event_bus_name.as_deref().unwrap_or("default");
        let bus = named.rsplit('/').next().unwrap_or(named).to_owned();
        if !super::buses::exists(state, ctx, &bus)? {
            failed += 1;
            answers.push(refused(
                "InvalidArgument",
                &format!("Event bus {named} does not exist."),
            ));
            continue;
        }
        let at = match &entry.time {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(now),
            Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis() as f64 / 1000.0)
                .unwrap_or(now),
            _ => now,
        };
        let event = Event::new(
            entry.source.as_deref().unwrap_or_default(),
            entry.detail_type.as_deref().unwrap_or_default(),
            &ctx.account,
            &ctx.region,
            entry.resources,
            detail,
            at,
        );
        let mut event = event;
        if bus != "default" {
            event.bus = Some(bus);
        }
        answers.push(json!({ "EventId": event.id }));
        state.bus.publish(event);
    }
    Ok(json!({ "FailedEntryCount": failed, "Entries": answers }))
}
