//! The build log on the execution page, in a real browser: the Node.js lab with `--run-builds`,
//! its tests held at a gate file, so the page is seen showing the log of a build still running
//! and then following it to its end without a reload. What the page shows is the log
//! CloudWatch Logs holds. `console-build-log.png` is the README walkthrough's picture.

use serde_json::Value;

use crate::common::{fixture_json, lab_zip, poll, Server};
use crate::webdriver::Browser;
use crate::{console, screenshot};

fn aws_ok(server: &Server, service: &str, args: &[&str]) -> Value {
    let out = server.aws_of(service, args);
    assert!(out.ok, "aws {service} {}: {}", args.join(" "), out.stderr);
    out.json
}

#[test]
fn the_execution_page_shows_a_build_log_while_it_grows() {
    let s = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&s, "s3", &["mb", "s3://lab-source"]);
    aws_ok(
        &s,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "lab-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    aws_ok(&s, "s3", &["mb", "s3://lab-site"]);
    // The lab's tests, held until the gate file exists (so the build is seen running).
    let gate = dir.path().join("gate");
    let tests = std::fs::read_to_string(format!(
        "{}/fixtures/labs/nodejs-app/test.js",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the lab's tests");
    let held = format!(
        "const wait = new Int32Array(new SharedArrayBuffer(4));\nwhile (!require(\"fs\").existsSync({:?})) Atomics.wait(wait, 0, 0, 50);\n{tests}",
        gate.display()
    );
    let app = dir.path().join("app.zip");
    std::fs::write(&app, lab_zip(Some(("test.js", &held)))).expect("write");
    aws_ok(
        &s,
        "s3",
        &["cp", &app.display().to_string(), "s3://lab-source/app.zip"],
    );
    let declaration = fixture_json("pipelines/nodejs-lab.json")["pipeline"].clone();
    s.create_pipeline(&declaration);
    let id = poll("the lab's execution", || {
        s.execution_summaries("lab")
            .first()
            .and_then(|e| e["pipelineExecutionId"].as_str().map(str::to_owned))
    });

    let browser = Browser::start(1400, 1000);
    browser.goto(&console(&s, &format!("#/pipelines/lab/executions/{id}")));
    let running = r#"article[data-action="Build"][data-status="InProgress"] pre.log"#;
    // Read in one go: the page redraws while the build runs.
    let seen = browser.text_with(running, &["Running command npm test"]);
    assert!(
        !seen.contains("2 passing"),
        "the tests are held at the gate"
    );

    std::fs::write(&gate, "go").expect("open the gate");
    let done = r#"article[data-action="Build"][data-status="Succeeded"] pre.log"#;
    let shown = browser.text_with(done, &["2 passing"]);
    s.wait_for_execution("lab", &id, "Succeeded");

    // The page's log is CloudWatch Logs' stream of the build the action names.
    let details = s.action_executions("lab", &id);
    let build = crate::common::action_detail(&details, "Build");
    let build_id = build["output"]["executionResult"]["externalExecutionId"]
        .as_str()
        .expect("build id")
        .to_owned();
    let stream = build_id.split(':').nth(1).expect("uuid").to_owned();
    let log = aws_ok(
        &s,
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            "/aws/codebuild/lab-app",
            "--log-stream-name",
            &stream,
            "--start-from-head",
        ],
    );
    let text = browser.text_with(done, &["2 passing"]);
    for event in log["events"].as_array().expect("events") {
        let line = event["message"].as_str().expect("message");
        assert!(
            text.contains(line.trim_end()),
            "{line:?} not on the page: {shown}"
        );
    }
    browser.script("document.querySelector('article[data-action=\"Build\"]').scrollIntoView()");
    screenshot(&browser, "console-build-log.png");
}
