//! CodePipeline's own events as the User Guide's event reference shows them ("Monitoring
//! CodePipeline events"): `start-time` with milliseconds, numbers as decimals, artifacts where
//! AWS puts them, RESUMED and an attempt count after `RetryStageExecution`, STOPPING with the
//! stop's reason before STOPPED.

use serde_json::{json, Value};

use super::events::{built_pipeline, fail_build, run_until, wait_runs};
use crate::common::*;

/// The CodePipeline events of execution `id` so far, oldest first.
fn events_of(server: &Server, id: &str) -> Vec<Value> {
    let got = server.get_json("/_local/events?source=aws.codepipeline");
    let mut list: Vec<Value> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["detail"]["execution-id"] == id)
        .cloned()
        .collect();
    list.reverse();
    list
}

/// `(detail-type's middle word, stage/action or "", state)` of each event.
fn states(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let kind = e["detail-type"].as_str().unwrap_or_default();
            let kind = kind.split(' ').nth(1).unwrap_or_default().to_owned();
            let d = &e["detail"];
            let place = match (d["stage"].as_str(), d["action"].as_str()) {
                (Some(s), Some(a)) => format!("{s}/{a}"),
                (Some(s), None) => s.to_owned(),
                _ => String::new(),
            };
            (
                kind,
                place,
                d["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], kind: &str, place: &str, state: &str) -> bool {
    list.iter()
        .any(|(k, p, s)| k == kind && p == place && s == state)
}

fn find<'a>(events: &'a [Value], kind: &str, place: &str, state: &str) -> &'a Value {
    let i = states(events)
        .iter()
        .position(|(k, p, s)| k == kind && p == place && s == state)
        .unwrap_or_else(|| panic!("no {kind} {place} {state} in {events:#?}"));
    &events[i]
}

fn is_detail_time(v: &Value) -> bool {
    // 2023-10-26T13:49:39.208Z
    v.as_str().is_some_and(|t| {
        t.len() == 24
            && t.ends_with('Z')
            && t.as_bytes()[19] == b'.'
            && chrono::DateTime::parse_from_rfc3339(t).is_ok()
    })
}

#[test]
fn codepipeline_events_carry_the_documented_fields_through_retry_and_stop() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let first = built_pipeline(&server, "watched");
    let events = poll("the run's last event", || {
        let list = events_of(&server, &first);
        has(&states(&list), "Pipeline", "", "SUCCEEDED").then_some(list)
    });
    for e in &events {
        let d = &e["detail"];
        assert_eq!(d["version"], json!(1.0), "{e}");
        assert!(d["version"].is_f64(), "a decimal, as AWS sends it: {e}");
        assert_eq!(d["pipeline-execution-attempt"], json!(1.0), "{e}");
        assert!(is_detail_time(&d["start-time"]), "{e}");
        assert_eq!(
            d["execution-trigger"].is_object(),
            d["state"] == "STARTED"
                && e["detail-type"] == "CodePipeline Pipeline Execution State Change",
            "{e}"
        );
    }
    let started = find(&events, "Action", "Build/Build", "STARTED");
    assert_eq!(
        started["detail"]["input-artifacts"][0]["name"], "SourceOutput",
        "{started}"
    );
    assert!(started["detail"]["input-artifacts"][0]["s3location"]["key"].is_string());
    assert!(
        started["detail"].get("output-artifacts").is_none(),
        "{started}"
    );
    let done = find(&events, "Action", "Build/Build", "SUCCEEDED");
    let d = &done["detail"];
    assert!(
        d.get("input-artifacts").is_none(),
        "inputs only on STARTED: {done}"
    );
    assert_eq!(d["output-artifacts"][0]["name"], "BuildOutput", "{done}");
    assert_eq!(
        d["type"],
        json!({"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"})
    );
    assert_eq!(d["region"], "us-east-1");
    assert!(d["action-execution-id"].is_string());
    assert!(
        d["execution-result"]["external-execution-id"].is_string(),
        "{done}"
    );
    assert!(is_detail_time(&d["start-time"]));
    assert_eq!(
        states(&events)
            .iter()
            .filter(|(k, _, _)| k == "Stage")
            .count(),
        6,
        "three stages, each STARTED and SUCCEEDED: {:?}",
        states(&events)
    );

    // A failure, then RetryStageExecution: RESUMED, attempt 2, the retry's time on the stage.
    fail_build(&server, "watched", 2);
    let id = run_until(&server, "watched", "Failed");
    let failed = poll("the FAILED action event", || {
        let list = events_of(&server, &id);
        has(&states(&list), "Pipeline", "", "FAILED").then_some(list)
    });
    let action = find(&failed, "Action", "Build/Build", "FAILED");
    assert_eq!(
        action["detail"]["execution-result"]["external-execution-summary"], "red",
        "{action}"
    );
    assert!(
        action["detail"]["execution-result"]["error-code"].is_string(),
        "{action}"
    );
    let retry = || {
        server.aws_ok(&[
            "retry-stage-execution",
            "--pipeline-name",
            "watched",
            "--stage-name",
            "Build",
            "--pipeline-execution-id",
            &id,
            "--retry-mode",
            "FAILED_ACTIONS",
        ])
    };
    // The first retry fails again within its step: it still resumed, and failed once more.
    retry();
    let again = poll("the retry's FAILED", || {
        let list = events_of(&server, &id);
        let s = states(&list);
        let failed = |place: &str| {
            s.iter()
                .filter(|(k, p, st)| {
                    (k == "Pipeline" || k == "Stage") && p == place && st == "FAILED"
                })
                .count()
        };
        (failed("") == 2 && failed("Build") == 2).then_some(list)
    });
    let resumed = find(&again, "Pipeline", "", "RESUMED");
    assert_eq!(resumed["detail"]["pipeline-execution-attempt"], json!(2.0));
    assert_eq!(
        again
            .last()
            .map(|e| &e["detail"]["pipeline-execution-attempt"]),
        Some(&json!(2.0))
    );
    retry();
    server.wait_for_execution("watched", &id, "Succeeded");
    let after = poll("the retried run's SUCCEEDED", || {
        let list = events_of(&server, &id);
        let s = states(&list);
        (s.iter()
            .filter(|(k, p, st)| k == "Pipeline" && p.is_empty() && st == "SUCCEEDED")
            .count()
            == 1)
            .then_some(list)
    });
    let stage = find(&after, "Stage", "Build", "RESUMED");
    assert!(
        stage["detail"]["pipeline-execution-attempt"] == json!(2.0),
        "{stage}"
    );
    assert!(
        is_detail_time(&stage["detail"]["stage-last-retry-attempt-time"]),
        "{stage}"
    );
    let deploy = find(&after, "Stage", "Deploy", "SUCCEEDED");
    assert!(
        deploy["detail"]
            .get("stage-last-retry-attempt-time")
            .is_none(),
        "only the retried stage: {deploy}"
    );
    let ended = find(&after, "Pipeline", "", "SUCCEEDED");
    assert_eq!(ended["detail"]["pipeline-execution-attempt"], json!(3.0));

    // A stop: STOPPING with the reason, then STOPPED; the running action ABANDONED.
    server.create_pipeline(&two_stage("held"));
    let held = wait_runs(&server, "held", 1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    poll("the approval waiting", || {
        let list = events_of(&server, &held);
        has(&states(&list), "Action", "Approve/Approve", "STARTED").then_some(())
    });
    server.aws_ok(&[
        "stop-pipeline-execution",
        "--pipeline-name",
        "held",
        "--pipeline-execution-id",
        &held,
        "--abandon",
        "--reason",
        "Stopping the pipeline for an update",
    ]);
    let stopped = poll("STOPPED", || {
        let list = events_of(&server, &held);
        has(&states(&list), "Pipeline", "", "STOPPED").then_some(list)
    });
    let order = states(&stopped);
    let at = |kind: &str, place: &str, state: &str| {
        order
            .iter()
            .position(|(k, p, s)| k == kind && p == place && s == state)
            .unwrap_or_else(|| panic!("no {kind} {place} {state}: {order:?}"))
    };
    assert!(
        at("Pipeline", "", "STOPPING") < at("Pipeline", "", "STOPPED"),
        "{order:?}"
    );
    assert!(
        at("Stage", "Approve", "STOPPING") < at("Stage", "Approve", "STOPPED"),
        "{order:?}"
    );
    assert!(
        at("Action", "Approve/Approve", "ABANDONED") < at("Pipeline", "", "STOPPED"),
        "{order:?}"
    );
    let stopping = find(&stopped, "Pipeline", "", "STOPPING");
    assert_eq!(
        stopping["detail"]["stop-execution-comments"],
        "Stopping the pipeline for an update"
    );
}
