//! The console in a real browser (headless Chromium through chromedriver): a learner opens the
//! pipeline list, watches a pipeline run, approves it and sees it reach Succeeded without
//! reloading; stops another; retries a fault-injected failure. Everything the page shows is
//! checked against the API. With `CONSOLE_SCREENSHOTS=DIR` the main pages are saved there as PNG
//! (`docs/` holds the ones the README shows).

mod activity;
mod attack;
mod builds;
#[path = "../common/mod.rs"]
mod common;
mod repositories;
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use common::{fixture, fixture_json, poll, Server};
use serde_json::{json, Value};
use webdriver::Browser;

const WALKTHROUGH: &str = "walkthrough";

fn console(s: &Server, route: &str) -> String {
    format!("{}/_local/console/{route}", s.url)
}

fn screenshot(browser: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("CONSOLE_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        browser.screenshot(&dir.join(name));
    }
}

fn create(s: &Server, name: &str, fixture_file: &str) -> Value {
    let mut body = fixture_json(&format!("pipelines/{fixture_file}"));
    body["pipeline"]["name"] = json!(name);
    let (status, reply) = s.call("CreatePipeline", body);
    assert_eq!(status, 200, "{reply}");
    reply
}

fn stage_status(s: &Server, pipeline: &str, stage: &str) -> Value {
    s.stage_latest(pipeline, stage)["status"].clone()
}

/// Clicks the dialog's button labelled `label`.
fn press(browser: &Browser, label: &str) {
    let button = browser.wait(&format!("the dialog button {label}"), |b| {
        let index = b.script(&format!(
            "return [...document.querySelectorAll('#dialog[open] #dialog-buttons button')]\
             .findIndex(x => x.textContent === {label:?})"
        ));
        let i = index.as_i64().filter(|i| *i >= 0)?;
        Some(format!(
            "#dialog[open] #dialog-buttons button:nth-child({})",
            i + 1
        ))
    });
    browser.click_on(&button);
}

#[test]
fn a_learner_watches_a_run_approves_it_and_sees_it_succeed() {
    let s = Server::start_with(&["--action-duration", "300ms"]);
    let created = s.aws(&[
        "create-pipeline",
        "--cli-input-json",
        &format!("file://{}", fixture("pipelines/approval-walkthrough.json")),
    ]);
    assert!(created.ok, "{}", created.stderr);
    let browser = Browser::start(1400, 900);

    // The list: the pipeline with its latest execution.
    browser.goto(&console(&s, ""));
    browser.text_with(
        r#"tr[data-pipeline="walkthrough"]"#,
        &[WALKTHROUGH, "V1", "SUPERSEDED"],
    );
    browser.wait_for("#live.on");
    screenshot(&browser, "console-list.png");

    // The pipeline, while it runs: the page follows it to the approval without a reload.
    browser.click_on(r#"tr[data-pipeline="walkthrough"] a"#);
    browser.wait_for(r#"section[data-stage="Source"]"#);
    let review = r#"article[data-action="Approve"][data-status="InProgress"] button"#;
    browser.wait_for(review);
    assert_eq!(stage_status(&s, WALKTHROUGH, "Approve"), "InProgress");
    assert_eq!(
        browser.script(
            r#"return document.querySelector('section[data-stage="Build"]').dataset.status"#
        ),
        stage_status(&s, WALKTHROUGH, "Build"),
        "the page shows what the API says"
    );
    screenshot(&browser, "console-pipeline-approval.png");

    // Approve with a comment; the dialog shows the same with the CLI.
    browser.click_on(review);
    let comment = browser.wait_for("#dialog[open] textarea");
    browser.type_text(&comment, "Looks good");
    let cli = browser.text(&browser.wait_for("#dialog-cli"));
    for part in [
        "codepipeline put-approval-result",
        "--pipeline-name walkthrough",
        "--stage-name Approve",
        "Looks good",
        "--token",
    ] {
        assert!(cli.contains(part), "CLI hint lacks {part}: {cli}");
    }
    screenshot(&browser, "console-approve-dialog.png");
    press(&browser, "Approve");

    // Live to the end: Deploy succeeds on the page, and the API agrees.
    browser.wait_for(r#"section[data-stage="Deploy"][data-status="Succeeded"]"#);
    let id = s.latest_execution(WALKTHROUGH);
    s.wait_for_execution(WALKTHROUGH, &id, "Succeeded");
    let (_, state) = s.call("GetPipelineState", json!({ "name": WALKTHROUGH }));
    let approve = &state["stageStates"][2]["actionStates"][0]["latestExecution"];
    assert_eq!(approve["summary"], "Looks good", "{approve}");
    screenshot(&browser, "console-pipeline-succeeded.png");

    // History, the execution's actions, and the declaration.
    browser.goto(&console(&s, "#/pipelines/walkthrough/history"));
    browser.text_with(
        &format!(r#"tr[data-execution="{id}"]"#),
        &["Succeeded", "CreatePipeline"],
    );
    screenshot(&browser, "console-history.png");
    browser.goto(&console(
        &s,
        &format!("#/pipelines/walkthrough/executions/{id}"),
    ));
    browser.text_with(
        r#"#actions article[data-action="Build"]"#,
        &["Succeeded", "CodeBuild", "ProjectName", "Output artifacts"],
    );
    screenshot(&browser, "console-execution.png");
    browser.goto(&console(&s, "#/pipelines/walkthrough/json"));
    let declaration = browser.text_with("#declaration", &[r#""name": "walkthrough""#]);
    let shown: Value = serde_json::from_str(&declaration).expect("JSON shown");
    let (_, got) = s.call("GetPipeline", json!({ "name": WALKTHROUGH }));
    assert_eq!(shown["pipeline"], got["pipeline"]);
}

#[test]
fn stop_an_execution_and_retry_a_failed_stage_from_the_console() {
    let s = Server::start_with(&["--action-duration", "0s"]);
    let browser = Browser::start(1400, 900);

    // Stop: the build takes an hour of engine time, so it is running when the page stops it.
    s.control(
        "/_local/config",
        json!({"providerDurations": {"CodeBuild": "1h"}}),
    );
    create(&s, "stoppable", "s3-build-deploy.json");
    browser.goto(&console(&s, "#/pipelines/stoppable"));
    browser.click_on(r#"section[data-stage="Build"][data-status="InProgress"] button.danger"#);
    browser.click_on(r#"#dialog[open] input[name="abandon"]"#);
    let reason = browser.wait_for("#dialog[open] textarea");
    browser.type_text(&reason, "wrong branch");
    let cli = browser.text(&browser.wait_for("#dialog-cli"));
    assert!(
        cli.contains("stop-pipeline-execution") && cli.contains("--abandon"),
        "{cli}"
    );
    press(&browser, "Stop");
    let id = s.latest_execution("stoppable");
    let stopped = s.wait_for_execution("stoppable", &id, "Stopped");
    assert_eq!(stopped["statusSummary"], "wrong branch", "{stopped}");
    browser.wait("the Build stage to leave InProgress on the page", |b| {
        let shown = b.script(
            r#"return document.querySelector('section[data-stage="Build"]').dataset.status"#,
        );
        (shown != "InProgress" && shown == stage_status(&s, "stoppable", "Build")).then_some(())
    });

    // Retry: the next build fails once; the page shows the error and retries the stage.
    s.control(
        "/_local/config",
        json!({"providerDurations": {"CodeBuild": null}}),
    );
    s.control(
        "/_local/faults",
        json!({"pipeline": "retryable", "action": "Build", "count": 1,
               "type": "fail", "message": "unit tests failed"}),
    );
    create(&s, "retryable", "s3-build-deploy.json");
    browser.goto(&console(&s, "#/pipelines/retryable"));
    browser.wait_for_text(
        r#"section[data-stage="Build"][data-status="Failed"]"#,
        "unit tests failed",
    );
    screenshot(&browser, "console-failed-stage.png");
    browser.click_on(r#"section[data-stage="Build"][data-status="Failed"] > button"#);
    press(&browser, "Retry");
    browser.wait_for(r#"section[data-stage="Deploy"][data-status="Succeeded"]"#);
    let id = s.latest_execution("retryable");
    s.wait_for_execution("retryable", &id, "Succeeded");
}

#[test]
fn transitions_are_disabled_and_enabled_from_the_console() {
    let s = Server::start_with(&["--action-duration", "0s"]);
    create(&s, "gated", "s3-build-deploy.json");
    let id = s.latest_execution("gated");
    s.wait_for_execution("gated", &id, "Succeeded");
    let browser = Browser::start(1400, 900);
    browser.goto(&console(&s, "#/pipelines/gated"));
    let toggle = r#"div[data-transition-into="Deploy"] button"#;
    browser.wait_for_text(toggle, "Disable transition");
    browser.click_on(toggle);
    let reason = browser.wait_for(r#"#dialog[open] input[type="text"]"#);
    browser.script("document.querySelector('#dialog[open] input[type=\"text\"]').value = ''");
    browser.type_text(&reason, "Freeze for the demo");
    press(&browser, "Disable");
    browser.wait_for_text(
        r#"div[data-transition-into="Deploy"]"#,
        "Freeze for the demo",
    );
    let (_, state) = s.call("GetPipelineState", json!({ "name": "gated" }));
    let t = &state["stageStates"][2]["inboundTransitionState"];
    assert_eq!(
        (t["enabled"].clone(), t["disabledReason"].clone()),
        (json!(false), json!("Freeze for the demo"))
    );

    // The CLI enables it again; the open page follows without a reload.
    let enabled = s.aws(&[
        "enable-stage-transition",
        "--pipeline-name",
        "gated",
        "--stage-name",
        "Deploy",
        "--transition-type",
        "Inbound",
    ]);
    assert!(enabled.ok, "{}", enabled.stderr);
    browser.wait_for_text(
        r#"div[data-transition-into="Deploy"] button"#,
        "Disable transition",
    );

    // And so does it when the AWS SDK for Rust disables it.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime
        .block_on(
            s.sdk()
                .disable_stage_transition()
                .pipeline_name("gated")
                .stage_name("Deploy")
                .transition_type(aws_sdk_codepipeline::types::StageTransitionType::Inbound)
                .reason("Paused by the SDK")
                .send(),
        )
        .expect("DisableStageTransition through the SDK");
    browser.wait_for_text(r#"div[data-transition-into="Deploy"]"#, "Paused by the SDK");
}

/// The console's endpoint is the JSON API: same validation, same errors, same replies.
#[test]
fn the_console_speaks_the_json_api_and_streams_changes() {
    let s = Server::start_with(&["--action-duration", "0s"]);
    let post = |op: &str, headers: &[(&str, &str)], body: &str| {
        let mut r = ureq::post(&format!("{}/_local/console/api/{op}", s.url))
            .set("content-type", "application/x-amz-json-1.1");
        for (k, v) in headers {
            r = r.set(k, v);
        }
        match r.send_string(body) {
            Ok(resp) => (
                resp.status(),
                resp.into_json::<Value>().unwrap_or(Value::Null),
            ),
            Err(ureq::Error::Status(code, resp)) => {
                (code, resp.into_json::<Value>().unwrap_or(Value::Null))
            }
            Err(e) => panic!("{e}"),
        }
    };
    let (code, body) = post("GetPipeline", &[], "{not json");
    assert_eq!(
        (code, body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (code, body) = post("GetPipeline", &[], r#"{"name": "bad name!"}"#);
    assert_eq!(
        (code, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    let (code, body) = post("NoSuchOperation", &[], "{}");
    assert_eq!(
        (code, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (code, _) = post("ListPipelines", &[("x-console-account", "12")], "{}");
    assert_eq!(code, 400);
    // Builds and their logs come through their own APIs; no other service is reachable here.
    let (code, body) = post("codebuild/ListProjects", &[], "{}");
    assert_eq!((code, body["projects"].clone()), (200, json!([])), "{body}");
    let (code, body) = post("logs/GetLogEvents", &[], r#"{"logStreamName": "s"}"#);
    assert_eq!(
        (code, body["__type"].as_str()),
        (400, Some("InvalidParameterException")),
        "{body}"
    );
    let (code, body) = post("codecommit/ListRepositories", &[], "{}");
    assert_eq!(
        (code, body["repositories"].clone()),
        (200, json!([])),
        "{body}"
    );
    let (code, _) = post("s3/ListBuckets", &[], "{}");
    assert_eq!(code, 400);

    // Another account sees only its own pipelines, as with its access key.
    create(&s, "mine", "s3-build-deploy.json");
    let (_, listed) = post("ListPipelines", &[], "{}");
    assert_eq!(listed["pipelines"][0]["name"], "mine");
    let (_, other) = post(
        "ListPipelines",
        &[("x-console-account", "111122223333")],
        "{}",
    );
    assert_eq!(other["pipelines"], json!([]));

    // The page, its script and style come from the server, with a policy that allows nothing else.
    let page = ureq::get(&console(&s, "")).call().expect("console page");
    assert!(page
        .header("content-security-policy")
        .is_some_and(|p| p.contains("default-src 'self'")));
    assert!(page.into_string().expect("html").contains("console.js"));
    for asset in ["console.js", "console.css"] {
        let r = ureq::get(&console(&s, asset)).call().expect("asset");
        assert_eq!(r.status(), 200);
    }

    // The live feed: a write by anyone shows up as a change of that pipeline.
    let events = ureq::get(&console(&s, "events"))
        .timeout(Duration::from_secs(20))
        .call()
        .expect("event stream");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(events.into_reader()));
    let first = lines.next().expect("a first line").expect("text");
    assert_eq!(first, "event: hello");
    // Subscribed before the hello was sent, so what follows cannot be missed.
    create(&s, "announced", "s3-build-deploy.json");
    let seen = poll("a changed event for the new pipeline", || {
        let line = lines.next()?.ok()?;
        line.contains("000000000000/us-east-1/announced")
            .then_some(line)
    });
    assert!(seen.starts_with("data:"), "{seen}");
    // CodePipeline's events, as EventBridge delivers them (User Guide, "Monitoring CodePipeline
    // events"): the first execution of the new pipeline starts.
    let started: Value = poll("the execution's STARTED event on the bus", || {
        let line = lines.next()?.ok()?;
        let event: Value = serde_json::from_str(line.strip_prefix("data:")?.trim()).ok()?;
        (event["detail-type"] == "CodePipeline Pipeline Execution State Change"
            && event["detail"]["pipeline"] == "announced")
            .then_some(event)
    });
    assert_eq!(started["source"], "aws.codepipeline");
    assert_eq!(started["version"], "0");
    assert_eq!(
        started["resources"],
        json!(["arn:aws:codepipeline:us-east-1:000000000000:announced"])
    );
    assert_eq!(started["detail"]["state"], "STARTED");
    assert_eq!(
        started["detail"]["version"], 1.0,
        "a decimal, as AWS sends it"
    );
    assert_eq!(
        started["detail"]["execution-trigger"]["trigger-type"],
        "CreatePipeline"
    );
    let action: Value = poll("an action's event on the bus", || {
        let line = lines.next()?.ok()?;
        let event: Value = serde_json::from_str(line.strip_prefix("data:")?.trim()).ok()?;
        (event["detail-type"] == "CodePipeline Action Execution State Change"
            && event["detail"]["action"] == "Build"
            && event["detail"]["state"] == "SUCCEEDED")
            .then_some(event)
    });
    assert_eq!(
        action["detail"]["type"],
        json!({"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"})
    );
    assert_eq!(action["detail"]["stage"], "Build");
    // Inputs are on STARTED only, as AWS sends them; outputs on SUCCEEDED.
    assert!(action["detail"].get("input-artifacts").is_none());
    assert!(action["detail"]["output-artifacts"][0]["s3location"]["key"].is_string());
}
