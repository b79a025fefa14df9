//! `CodeBuild Build State Change` on the event bus, in the shape CodeBuild sends to
//! EventBridge (the build notifications sample): `build-status`, `project-name`, the build's
//! ARN as `build-id`, `current-phase`, and `additional-information` with the build's settings,
//! logs and phases in kebab-case.

use serde_json::{json, Value};

use crate::services::bus::{Bus, Detail, Event};

const DETAIL_TYPE: &str = "CodeBuild Build State Change";

fn phases(build: &Value) -> Vec<Value> {
    build["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let mut v = json!({
                "phase-type": p["phaseType"],
                "phase-context": p["contexts"].as_array().map(|c| c.iter().filter_map(|x| x["message"].as_str()).filter(|m| !m.is_empty()).map(|m| json!(m)).collect::<Vec<_>>()).unwrap_or_default(),
                "start-time": p["startTime"],
            });
            for (ours, theirs) in [
                ("endTime", "end-time"),
                ("durationInSeconds", "duration-in-seconds"),
                ("phaseStatus", "phase-status"),
            ] {
                if !p[ours].is_null() {
                    v[theirs] = p[ours].clone();
                }
            }
            v
        })
        .collect()
}

/// The event for `build` as it is now.
pub fn state_change(build: &Value, account: &str, region: &str) -> Event {
    let arn = build["arn"].as_str().unwrap_or_default().to_owned();
    let at = build["endTime"]
        .as_f64()
        .or_else(|| build["startTime"].as_f64())
        .unwrap_or_default();
    Event::new(
        "aws.codebuild",
        DETAIL_TYPE,
        account,
        region,
        vec![arn.clone()],
        detail_of(build, arn),
        at,
    )
}

/// The event of a build that has ended at `at`, rendered by `render` only when the event's
/// detail is first read (a simulated build's events are mostly read by nobody).
pub fn ended(
    account: &str,
    region: &str,
    arn: String,
    at: f64,
    render: impl Fn() -> Value + Send + Sync + 'static,
) -> Event {
    let build_arn = arn.clone();
    let detail = Detail::lazy(move || detail_of(&render(), build_arn.clone()));
    Event::new(
        "aws.codebuild",
        DETAIL_TYPE,
        account,
        region,
        vec![arn],
        detail,
        at,
    )
}

fn detail_of(build: &Value, arn: String) -> Value {
    let mut detail = json!({
        "build-status": build["buildStatus"],
        "project-name": build["projectName"],
        "build-id": arn,
        "additional-information": {
            "artifact": {"location": build["artifacts"]["location"]},
            "environment": build["environment"],
            "timeout-in-minutes": build["timeoutInMinutes"],
            "build-complete": build["buildComplete"],
            "initiator": build["initiator"],
            "build-start-time": build["startTime"],
            "source": build["source"],
            "source-version": build["sourceVersion"],
            "logs": {
                "group-name": build["logs"]["groupName"],
                "stream-name": build["logs"]["streamName"],
                "deep-link": build["logs"]["deepLink"],
            },
        },
        "current-phase": build["currentPhase"],
        "current-phase-context": "[]",
        "version": "1",
    });
    // Set here, not inside `json!`, which would copy every phase once more.
    detail["additional-information"]["phases"] = Value::Array(phases(build));
    detail
}

pub fn publish(bus: Option<&Bus>, build: &Value, account: &str, region: &str) {
    if let Some(bus) = bus {
        bus.publish(state_change(build, account, region));
    }
}
