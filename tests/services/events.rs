//! EventBridge with the aws CLI: rules whose patterns match what PutEvents sends, what S3
//! publishes and what the engine publishes start pipelines (trigger `CloudWatchEvent` with the
//! rule's ARN); disabled rules start nothing; TestEventPattern and pattern errors.

use serde_json::{json, Value};

use crate::common::*;

fn events(server: &Server, args: &[&str]) -> Value {
    let out = server.aws_of("events", args);
    assert!(out.ok, "aws events {}: {}", args.join(" "), out.stderr);
    out.json
}

fn pipeline_arn(name: &str) -> String {
    format!("arn:aws:codepipeline:us-east-1:000000000000:{name}")
}

fn runs(server: &Server, name: &str) -> Vec<Value> {
    server.execution_summaries(name)
}

fn wait_runs(server: &Server, name: &str, n: usize) -> Vec<Value> {
    poll(&format!("{n} runs of {name}"), || {
        let list = runs(server, name);
        (list.len() >= n).then_some(list)
    })
}

fn target(server: &Server, rule: &str, pipeline: &str) {
    let targets = json!([{"Id": "pipeline", "Arn": pipeline_arn(pipeline),
                          "RoleArn": "arn:aws:iam::000000000000:role/events"}])
    .to_string();
    let put = events(
        server,
        &["put-targets", "--rule", rule, "--targets", &targets],
    );
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
}

#[test]
fn rules_start_pipelines_from_custom_s3_and_pipeline_events() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    for name in ["on-custom", "on-failure", "on-upload"] {
        server.create_pipeline(&two_stage(name));
        wait_runs(&server, name, 1);
    }
    let mut watched = fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone();
    watched["name"] = json!("watched");
    server.create_pipeline(&watched);
    let first = wait_runs(&server, "watched", 1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("watched", &first, "Succeeded");

    // A custom event through a pattern.
    let pattern =
        json!({"source": ["com.example.deploys"], "detail": {"env": ["prod"]}}).to_string();
    let created = events(
        &server,
        &[
            "put-rule",
            "--name",
            "deploy-prod",
            "--event-pattern",
            &pattern,
        ],
    );
    assert_eq!(
        created["RuleArn"],
        "arn:aws:events:us-east-1:000000000000:rule/deploy-prod"
    );
    target(&server, "deploy-prod", "on-custom");
    let entries = json!([
        {"Source": "com.example.deploys", "DetailType": "Deploy requested", "Detail": "{\"env\": \"dev\"}"},
        {"Source": "com.example.deploys", "DetailType": "Deploy requested", "Detail": "{\"env\": \"prod\"}"},
        {"Source": "com.example.deploys", "DetailType": "Deploy requested", "Detail": "not json"}
    ])
    .to_string();
    let put = events(&server, &["put-events", "--entries", &entries]);
    assert_eq!(put["FailedEntryCount"], 1, "{put}");
    assert_eq!(put["Entries"][2]["ErrorCode"], "MalformedDetail");
    let list = wait_runs(&server, "on-custom", 2);
    assert_eq!(
        list[0]["trigger"]["triggerType"], "CloudWatchEvent",
        "{}",
        list[0]
    );
    assert_eq!(
        list[0]["trigger"]["triggerDetail"],
        "arn:aws:events:us-east-1:000000000000:rule/deploy-prod"
    );

    // The engine's own events leave it: a failed run of `watched` starts `on-failure`.
    let failure = json!({"source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": ["watched"], "state": ["FAILED"]}})
    .to_string();
    events(
        &server,
        &[
            "put-rule",
            "--name",
            "failures",
            "--event-pattern",
            &failure,
        ],
    );
    target(&server, "failures", "on-failure");
    server.control(
        "/_local/faults",
        json!({"pipeline": "watched", "action": "Build", "count": 1, "type": "fail", "message": "red"}),
    );
    let id = server.aws_ok(&["start-pipeline-execution", "--name", "watched"])
        ["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("watched", &id, "Failed");
    let list = wait_runs(&server, "on-failure", 2);
    assert_eq!(list[0]["trigger"]["triggerType"], "CloudWatchEvent");

    // An S3 upload, through the rule the console would make for it.
    let out = server.aws_of("s3", &["mb", "s3://drops"]);
    assert!(out.ok, "{}", out.stderr);
    let uploads = json!({"source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["drops"]}, "object": {"key": [{"suffix": ".zip"}]}}})
    .to_string();
    events(
        &server,
        &["put-rule", "--name", "uploads", "--event-pattern", &uploads],
    );
    target(&server, "uploads", "on-upload");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("app.zip");
    std::fs::write(&file, b"zip").expect("write");
    let out = server.aws_of(
        "s3",
        &["cp", &file.display().to_string(), "s3://drops/app.zip"],
    );
    assert!(out.ok, "{}", out.stderr);
    wait_runs(&server, "on-upload", 2);

    // A disabled rule starts nothing: the next event, to an enabled rule, is delivered after it.
    events(&server, &["disable-rule", "--name", "deploy-prod"]);
    let described = events(&server, &["describe-rule", "--name", "deploy-prod"]);
    assert_eq!(described["State"], "DISABLED");
    let put = events(&server, &["put-events", "--entries", &json!([
        {"Source": "com.example.deploys", "DetailType": "Deploy requested", "Detail": "{\"env\": \"prod\"}"}
    ]).to_string()]);
    assert_eq!(put["FailedEntryCount"], 0);
    let out = server.aws_of(
        "s3",
        &["cp", &file.display().to_string(), "s3://drops/again.zip"],
    );
    assert!(out.ok, "{}", out.stderr);
    wait_runs(&server, "on-upload", 3);
    assert_eq!(
        runs(&server, "on-custom").len(),
        2,
        "the disabled rule started nothing"
    );

    // Rules and targets read back; a rule with targets cannot be deleted.
    let listed = events(&server, &["list-rules"]);
    assert_eq!(listed["Rules"].as_array().map(Vec::len), Some(3));
    let by_target = events(
        &server,
        &[
            "list-rule-names-by-target",
            "--target-arn",
            &pipeline_arn("on-upload"),
        ],
    );
    assert_eq!(by_target["RuleNames"], json!(["uploads"]));
    let refused = server.aws_of("events", &["delete-rule", "--name", "uploads"]);
    assert!(
        refused
            .stderr
            .contains("Rule can't be deleted since it has targets."),
        "{}",
        refused.stderr
    );
    events(
        &server,
        &["remove-targets", "--rule", "uploads", "--ids", "pipeline"],
    );
    events(&server, &["delete-rule", "--name", "uploads"]);
    let gone = server.aws_of("events", &["describe-rule", "--name", "uploads"]);
    assert!(
        gone.stderr
            .contains("Rule uploads does not exist on EventBus default."),
        "{}",
        gone.stderr
    );
}

#[test]
fn test_event_pattern_and_what_patterns_refuse() {
    let server = Server::in_process(&[]);
    let event = json!({"id": "1", "account": "000000000000", "source": "aws.codepipeline",
        "time": "2026-12-03T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "detail": {"pipeline": "p", "state": "FAILED"}})
    .to_string();
    let yes = json!({"detail": {"state": ["FAILED", "STOPPED"]}}).to_string();
    let no = json!({"detail": {"state": [{"anything-but": "FAILED"}]}}).to_string();
    let got = events(
        &server,
        &[
            "test-event-pattern",
            "--event-pattern",
            &yes,
            "--event",
            &event,
        ],
    );
    assert_eq!(got["Result"], true);
    let got = events(
        &server,
        &[
            "test-event-pattern",
            "--event-pattern",
            &no,
            "--event",
            &event,
        ],
    );
    assert_eq!(got["Result"], false);
    for bad in [
        "{\"source\": \"aws.s3\"}",
        "not json",
        "{\"a\": [{\"numeric\": [\">\", \"x\"]}]}",
    ] {
        let out = server.aws_of(
            "events",
            &["put-rule", "--name", "bad", "--event-pattern", bad],
        );
        assert!(
            out.stderr.contains("InvalidEventPatternException")
                && out.stderr.contains("Event pattern is not valid. Reason:"),
            "{bad}: {}",
            out.stderr
        );
    }
    let out = server.aws_of("events", &["put-rule", "--name", "nothing"]);
    assert!(
        out.stderr.contains("EventPattern or ScheduleExpression"),
        "{}",
        out.stderr
    );
    let out = server.aws_of(
        "events",
        &[
            "put-rule",
            "--name",
            "bad-rate",
            "--schedule-expression",
            "rate(1 minutes)",
        ],
    );
    assert!(
        out.stderr.contains("ScheduleExpression is not valid"),
        "{}",
        out.stderr
    );
    let ok = events(
        &server,
        &[
            "put-rule",
            "--name",
            "nightly",
            "--schedule-expression",
            "cron(0 2 * * ? *)",
        ],
    );
    assert!(ok["RuleArn"].is_string());
}

#[test]
fn a_schedule_starts_its_pipeline_when_the_engine_clock_reaches_it() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    server.create_pipeline(&two_stage("nightly"));
    wait_runs(&server, "nightly", 1);
    events(
        &server,
        &[
            "put-rule",
            "--name",
            "every-hour",
            "--schedule-expression",
            "rate(1 hour)",
        ],
    );
    target(&server, "every-hour", "nightly");
    server.control("/_local/clock", json!({"advanceSeconds": 600}));
    assert_eq!(runs(&server, "nightly").len(), 1, "not due yet");
    server.control("/_local/clock", json!({"advanceSeconds": 3600}));
    let list = wait_runs(&server, "nightly", 2);
    assert_eq!(
        list[0]["trigger"]["triggerType"], "CloudWatchEvent",
        "{}",
        list[0]
    );
    assert_eq!(
        list[0]["trigger"]["triggerDetail"],
        "arn:aws:events:us-east-1:000000000000:rule/every-hour"
    );
    // A day later it has fired once more, not once per missed hour.
    server.control("/_local/clock", json!({"advanceSeconds": 86_400}));
    wait_runs(&server, "nightly", 3);
    events(&server, &["disable-rule", "--name", "every-hour"]);
    server.control("/_local/clock", json!({"advanceSeconds": 86_400}));
    // Fired schedules go out before the next rule write is seen; an enabled one proves the turn.
    server.create_pipeline(&two_stage("witness"));
    wait_runs(&server, "witness", 1);
    events(
        &server,
        &[
            "put-rule",
            "--name",
            "witness",
            "--schedule-expression",
            "rate(1 minute)",
        ],
    );
    target(&server, "witness", "witness");
    server.control("/_local/clock", json!({"advanceSeconds": 120}));
    wait_runs(&server, "witness", 2);
    assert_eq!(
        runs(&server, "nightly").len(),
        3,
        "the disabled schedule fired"
    );
}
