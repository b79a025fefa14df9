//! CloudWatch Logs through `aws logs`: groups, streams, writing and reading events with the
//! CLI's tokens, filter patterns, and CloudWatch Logs' errors.

use serde_json::Value;

use crate::common::*;

fn logs(server: &Server, args: &[&str]) -> Cli {
    server.aws_of("logs", args)
}

fn ok(cli: Cli) -> Value {
    assert!(cli.ok, "aws logs failed: {}", cli.stderr);
    cli.json
}

fn messages(reply: &Value) -> Vec<String> {
    reply["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn groups_streams_events_and_filters() {
    let server = Server::in_process(&[]);
    ok(logs(
        &server,
        &["create-log-group", "--log-group-name", "/app/web"],
    ));
    let again = logs(
        &server,
        &["create-log-group", "--log-group-name", "/app/web"],
    );
    assert_eq!(
        again.error(),
        (
            "ResourceAlreadyExistsException".to_owned(),
            "The specified log group already exists".to_owned()
        )
    );
    ok(logs(
        &server,
        &[
            "create-log-stream",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
        ],
    ));
    let events = serde_json::json!([
        {"timestamp": 1_700_000_000_000i64, "message": "npm test: 3 passing"},
        {"timestamp": 1_700_000_000_100i64, "message": "ERROR 1 failing"},
        {"timestamp": 1_700_000_000_200i64, "message": "WARN retrying"},
    ]);
    ok(logs(
        &server,
        &[
            "put-log-events",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
            "--log-events",
            &events.to_string(),
        ],
    ));
    let read = ok(logs(
        &server,
        &[
            "get-log-events",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
            "--start-from-head",
        ],
    ));
    assert_eq!(messages(&read).len(), 3, "{read}");
    let forward = read["nextForwardToken"].as_str().expect("forward token");
    assert!(
        forward.starts_with("f/") && forward.len() == 58,
        "{forward}"
    );
    // At the end of the stream the same forward token comes back, as clients expect.
    let more = ok(logs(
        &server,
        &[
            "get-log-events",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
            "--next-token",
            forward,
        ],
    ));
    assert!(messages(&more).is_empty());
    assert_eq!(more["nextForwardToken"], forward);
    let last_two = ok(logs(
        &server,
        &[
            "get-log-events",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
            "--limit",
            "2",
        ],
    ));
    assert_eq!(messages(&last_two), ["ERROR 1 failing", "WARN retrying"]);

    let filtered = ok(logs(
        &server,
        &[
            "filter-log-events",
            "--log-group-name",
            "/app/web",
            "--filter-pattern",
            "?ERROR ?WARN",
        ],
    ));
    assert_eq!(messages(&filtered), ["ERROR 1 failing", "WARN retrying"]);
    assert_eq!(filtered["events"][0]["logStreamName"], "s1");

    let groups = ok(logs(
        &server,
        &["describe-log-groups", "--log-group-name-prefix", "/app"],
    ));
    let group = &groups["logGroups"][0];
    assert_eq!(group["logGroupName"], "/app/web");
    assert!(
        group["arn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":log-group:/app/web:*")),
        "{group}"
    );
    let streams = ok(logs(
        &server,
        &["describe-log-streams", "--log-group-name", "/app/web"],
    ));
    assert_eq!(
        streams["logStreams"][0]["lastEventTimestamp"],
        1_700_000_000_200i64
    );

    ok(logs(
        &server,
        &["delete-log-group", "--log-group-name", "/app/web"],
    ));
    let gone = logs(
        &server,
        &[
            "get-log-events",
            "--log-group-name",
            "/app/web",
            "--log-stream-name",
            "s1",
        ],
    );
    assert_eq!(
        gone.error(),
        (
            "ResourceNotFoundException".to_owned(),
            "The specified log group does not exist.".to_owned()
        )
    );
}
