//! `GET /_local/events?follow`: the kept events and deliveries first, then each new one on its
//! own line as it happens, filtered by source like the list.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// Reads lines of the stream until one satisfies `want`, for at most 20 s.
fn read_until(lines: &mut impl BufRead, what: &str, want: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) => panic!("the stream ended before {what}: {seen:?}"),
            Ok(_) => {}
            Err(e) => panic!("reading the stream before {what}: {e}; seen {seen:?}"),
        }
        let value: Value = serde_json::from_str(&line).expect("each line is JSON");
        let done = want(&value);
        seen.push(value);
        if done {
            return seen;
        }
    }
    panic!("timed out waiting for {what}: {seen:?}")
}

#[test]
fn following_events_gives_the_kept_ones_then_each_new_one() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let put = |detail_type: &str| {
        let entries = json!([{"Source": "lab.app", "DetailType": detail_type, "Detail": "{}"}]);
        let out = server.aws_of("events", &["put-events", "--entries", &entries.to_string()]);
        assert!(out.ok, "{}", out.stderr);
    };
    put("Before");
    server.create_pipeline(&two_stage("followed"));

    let agent = ureq::AgentBuilder::new()
        .timeout_read(Duration::from_secs(20))
        .build();
    let response = agent
        .get(&format!(
            "{}/_local/events?follow&source=lab.app",
            server.url
        ))
        .call()
        .expect("the stream");
    assert_eq!(
        response.header("content-type"),
        Some("application/x-ndjson")
    );
    let mut lines = BufReader::new(response.into_reader());
    let kept = read_until(&mut lines, "the kept event", |v| {
        v["event"]["detail-type"] == "Before"
    });
    assert_eq!(
        kept.len(),
        1,
        "the filter leaves out other sources: {kept:?}"
    );

    let rule = server.aws_of(
        "events",
        &[
            "put-rule",
            "--name",
            "to-nowhere",
            "--event-pattern",
            r#"{"source": ["lab.app"]}"#,
        ],
    );
    assert!(rule.ok, "{}", rule.stderr);
    let targets = json!([{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:jobs"}]);
    let out = server.aws_of(
        "events",
        &[
            "put-targets",
            "--rule",
            "to-nowhere",
            "--targets",
            &targets.to_string(),
        ],
    );
    assert!(out.ok, "{}", out.stderr);
    // ListTargetsByRule keeps the target as put; a member of ours, which clients skip, says
    // nothing here delivers to it.
    let (status, listed, _) = server.call_raw(
        Some("AWSEvents.ListTargetsByRule"),
        br#"{"Rule": "to-nowhere"}"#,
        None,
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed["Targets"][0]["Arn"],
        "arn:aws:sqs:us-east-1:000000000000:jobs"
    );
    assert!(
        listed["Targets"][0]["CodePipelineLocalNote"]
            .as_str()
            .is_some_and(|n| n.contains("pipelines and API destinations only")),
        "{listed}"
    );
    let cli = server.aws_of("events", &["list-targets-by-rule", "--rule", "to-nowhere"]);
    assert!(cli.ok, "the CLI reads the reply: {}", cli.stderr);
    assert_eq!(cli.json["Targets"][0]["Id"], "q");
    put("After");
    let seen = read_until(&mut lines, "the new event's delivery", |v| {
        v["delivery"]["rule"] == "to-nowhere"
    });
    assert_eq!(seen[0]["event"]["detail-type"], "After", "{seen:?}");
    assert_eq!(seen[0]["event"]["source"], "lab.app");
    let delivery = &seen[seen.len() - 1]["delivery"];
    assert_eq!(delivery["status"], "NOT_DELIVERED", "{delivery}");
    assert_eq!(delivery["eventId"], seen[0]["event"]["id"]);
    assert!(
        seen.iter()
            .all(|v| v.get("event").is_none_or(|e| e["source"] == "lab.app")),
        "only lab.app events: {seen:?}"
    );
}
