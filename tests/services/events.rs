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

pub(crate) fn wait_runs(server: &Server, name: &str, n: usize) -> Vec<Value> {
    poll(&format!("{n} runs of {name}"), || {
        let list = runs(server, name);
        (list.len() >= n).then_some(list)
    })
}

/// Creates the S3 → CodeBuild → S3 fixture pipeline as `name` and waits for its first run to
/// succeed; returns that run's id.
pub(crate) fn built_pipeline(server: &Server, name: &str) -> String {
    let mut declaration = fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone();
    declaration["name"] = json!(name);
    server.create_pipeline(&declaration);
    let first = wait_runs(server, name, 1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution(name, &first, "Succeeded");
    first
}

/// Makes the next `times` runs of `pipeline`'s Build action fail with "red".
pub(crate) fn fail_build(server: &Server, pipeline: &str, times: u32) {
    server.control(
        "/_local/faults",
        json!({"pipeline": pipeline, "action": "Build", "count": times, "type": "fail", "message": "red"}),
    );
}

/// A run of `pipeline` started with the aws CLI, once it ended `status`; its id.
pub(crate) fn run_until(server: &Server, pipeline: &str, status: &str) -> String {
    let id = server.aws_ok(&["start-pipeline-execution", "--name", pipeline])
        ["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution(pipeline, &id, status);
    id
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
    built_pipeline(&server, "watched");
    // Its CodeBuild action's build announced its end, as CodeBuild does.
    let built = poll("the build's state change", || {
        let got = server.get_json("/_local/events?source=aws.codebuild");
        got["events"]
            .as_array()?
            .iter()
            .find(|e| e["detail"]["build-status"] == "SUCCEEDED")
            .cloned()
    });
    assert_eq!(built["detail-type"], "CodeBuild Build State Change");
    assert_eq!(built["detail"]["project-name"], "my-build-project");
    assert!(
        built["detail"]["build-id"]
            .as_str()
            .is_some_and(|a| a
                .starts_with("arn:aws:codebuild:us-east-1:000000000000:build/my-build-project:")),
        "{built}"
    );
    assert_eq!(built["detail"]["current-phase"], "COMPLETED");

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
    fail_build(&server, "watched", 1);
    run_until(&server, "watched", "Failed");
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

/// A two-stage pipeline `pipeline` past its first run, and a schedule rule `rule` whose
/// target it is.
fn scheduled(server: &Server, pipeline: &str, rule: &str, expression: &str) {
    server.create_pipeline(&two_stage(pipeline));
    wait_runs(server, pipeline, 1);
    events(
        server,
        &[
            "put-rule",
            "--name",
            rule,
            "--schedule-expression",
            expression,
        ],
    );
    target(server, rule, pipeline);
}

#[test]
fn a_schedule_starts_its_pipeline_when_the_engine_clock_reaches_it() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    scheduled(&server, "nightly", "every-hour", "rate(1 hour)");
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
    scheduled(&server, "witness", "witness", "rate(1 minute)");
    server.control("/_local/clock", json!({"advanceSeconds": 120}));
    wait_runs(&server, "witness", 2);
    assert_eq!(
        runs(&server, "nightly").len(),
        3,
        "the disabled schedule fired"
    );

    // A cron schedule: every day at noon UTC; a day later, it has fired.
    scheduled(&server, "daily", "noon", "cron(0 12 * * ? *)");
    server.control("/_local/clock", json!({"advanceSeconds": 86_400}));
    let list = wait_runs(&server, "daily", 2);
    assert_eq!(
        list[0]["trigger"]["triggerDetail"],
        "arn:aws:events:us-east-1:000000000000:rule/noon"
    );
}

/// A tiny HTTP endpoint that keeps every request it gets and answers `status`.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    pub(crate) fn start(status: u16) -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut stream = stream;
                    loop {
                        let mut head = String::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            head.push_str(&line);
                        }
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        kept.lock()
                            .expect("lock")
                            .push((head, String::from_utf8_lossy(&body).into_owned()));
                        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { url, got }
    }

    pub(crate) fn requests(&self) -> Vec<(String, String)> {
        self.got.lock().expect("lock").clone()
    }
}

fn destination(server: &Server, name: &str, url: &str) -> String {
    let auth =
        json!({"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}})
            .to_string();
    let connection = events(
        server,
        &[
            "create-connection",
            "--name",
            name,
            "--authorization-type",
            "API_KEY",
            "--auth-parameters",
            &auth,
        ],
    );
    let shown = events(server, &["describe-connection", "--name", name]);
    assert!(
        !shown.to_string().contains("s3cret"),
        "secrets are not shown: {shown}"
    );
    // As JSON: the CLI fetches an http:// parameter value (its paramfile feature) instead.
    let input = json!({"Name": name, "ConnectionArn": connection["ConnectionArn"],
                       "InvocationEndpoint": url, "HttpMethod": "POST"})
    .to_string();
    let created = events(
        server,
        &["create-api-destination", "--cli-input-json", &input],
    );
    created["ApiDestinationArn"]
        .as_str()
        .expect("arn")
        .to_owned()
}

#[test]
fn a_failure_rule_posts_to_an_api_destination_once() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let receiver = Receiver::start(200);
    let arn = destination(&server, "chat", &receiver.url);
    built_pipeline(&server, "watched");
    let pattern = json!({"source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"state": ["FAILED"]}})
    .to_string();
    events(
        &server,
        &["put-rule", "--name", "notify", "--event-pattern", &pattern],
    );
    let targets = json!([{"Id": "chat", "Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/events",
        "InputTransformer": {"InputPathsMap": {"pipeline": "$.detail.pipeline", "state": "$.detail.state"},
                             "InputTemplate": "{\"text\": \"<pipeline> is <state>\"}"}}])
    .to_string();
    let put = events(
        &server,
        &["put-targets", "--rule", "notify", "--targets", &targets],
    );
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    assert!(receiver.requests().is_empty(), "a success posts nothing");

    fail_build(&server, "watched", 1);
    run_until(&server, "watched", "Failed");
    let requests = poll("the POST", || {
        let r = receiver.requests();
        (!r.is_empty()).then_some(r)
    });
    let deliveries = poll("the delivery record", || {
        let got = server.get_json("/_local/events");
        let list = got["deliveries"].as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(requests.len(), 1, "exactly one POST: {requests:?}");
    let (head, body) = &requests[0];
    assert!(head.starts_with("POST /hook"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-api-key: s3cret"),
        "{head}"
    );
    assert_eq!(body, "{\"text\": \"watched is FAILED\"}");
    assert_eq!(deliveries[0]["status"], "DELIVERED", "{deliveries:?}");
    let seen = server.get_json("/_local/events?source=aws.codepipeline&detail-type=CodePipeline%20Pipeline%20Execution%20State%20Change");
    assert!(
        seen["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["detail"]["state"] == "FAILED"),
        "{seen}"
    );
}

#[test]
fn an_endpoint_that_keeps_failing_is_retried_then_counted() {
    let server = Server::in_process(&[]);
    let receiver = Receiver::start(503);
    let arn = destination(&server, "flaky", &receiver.url);
    let pattern = json!({"source": ["com.example"]}).to_string();
    events(
        &server,
        &[
            "put-rule",
            "--name",
            "to-flaky",
            "--event-pattern",
            &pattern,
        ],
    );
    let targets =
        json!([{"Id": "flaky", "Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/events"}])
            .to_string();
    events(
        &server,
        &["put-targets", "--rule", "to-flaky", "--targets", &targets],
    );
    let entries = json!([{"Source": "com.example", "DetailType": "Ping", "Detail": "{\"n\": 1}"}])
        .to_string();
    events(&server, &["put-events", "--entries", &entries]);
    let failed = poll("the failed delivery", || {
        let got = server.get_json("/_local/events");
        got["deliveries"]
            .as_array()
            .and_then(|l| l.iter().find(|d| d["status"] == "FAILED").cloned())
    });
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("503") && e.contains("3 attempts")),
        "{failed}"
    );
    assert_eq!(receiver.requests().len(), 3);
    let (_, body) = &receiver.requests()[0];
    let sent: Value = serde_json::from_str(body).expect("the whole event");
    assert_eq!(sent["detail-type"], "Ping");
    assert_eq!(sent["detail"]["n"], 1);
}

#[test]
fn custom_buses_keep_their_own_rules_and_resources_take_tags() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    server.create_pipeline(&two_stage("from-bus"));
    wait_runs(&server, "from-bus", 1);
    let bus = events(&server, &["create-event-bus", "--name", "apps"]);
    assert_eq!(
        bus["EventBusArn"],
        "arn:aws:events:us-east-1:000000000000:event-bus/apps"
    );
    let listed = events(&server, &["list-event-buses"]);
    let names: Vec<&str> = listed["EventBuses"]
        .as_array()
        .expect("buses")
        .iter()
        .filter_map(|b| b["Name"].as_str())
        .collect();
    assert_eq!(names, ["default", "apps"]);
    let pattern = json!({"source": ["com.example.apps"]}).to_string();
    let rule = events(
        &server,
        &[
            "put-rule",
            "--name",
            "on-apps",
            "--event-bus-name",
            "apps",
            "--event-pattern",
            &pattern,
        ],
    );
    assert_eq!(
        rule["RuleArn"],
        "arn:aws:events:us-east-1:000000000000:rule/apps/on-apps"
    );
    let targets = json!([{"Id": "p", "Arn": pipeline_arn("from-bus")}]).to_string();
    events(
        &server,
        &[
            "put-targets",
            "--rule",
            "on-apps",
            "--event-bus-name",
            "apps",
            "--targets",
            &targets,
        ],
    );
    // The same event on the default bus reaches no rule of `apps`; on `apps` it does.
    let on = |bus: &str| {
        json!([{"Source": "com.example.apps", "DetailType": "Ping", "Detail": "{}", "EventBusName": bus}]).to_string()
    };
    events(&server, &["put-events", "--entries", &on("default")]);
    events(&server, &["put-events", "--entries", &on("apps")]);
    let list = wait_runs(&server, "from-bus", 2);
    assert_eq!(
        list[0]["trigger"]["triggerDetail"],
        "arn:aws:events:us-east-1:000000000000:rule/apps/on-apps"
    );
    let missing = events(&server, &["put-events", "--entries", &on("nowhere")]);
    assert_eq!(missing["FailedEntryCount"], 1, "{missing}");
    // Tags on rules and buses; the default bus stays.
    let arn = "arn:aws:events:us-east-1:000000000000:rule/apps/on-apps";
    events(
        &server,
        &[
            "tag-resource",
            "--resource-arn",
            arn,
            "--tags",
            "Key=team,Value=web",
            "Key=env,Value=dev",
        ],
    );
    events(
        &server,
        &["untag-resource", "--resource-arn", arn, "--tag-keys", "env"],
    );
    let tags = events(&server, &["list-tags-for-resource", "--resource-arn", arn]);
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "web"}]));
    let refused = server.aws_of("events", &["delete-event-bus", "--name", "default"]);
    assert!(
        refused.stderr.contains("Cannot delete event bus default."),
        "{}",
        refused.stderr
    );
    assert_eq!(
        runs(&server, "from-bus").len(),
        2,
        "the default-bus event started nothing"
    );
}
