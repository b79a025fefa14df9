//! The classic CodePipeline lab, offline: `fixtures/labs/nodejs-app` (a Node.js app and its
//! buildspec: `npm install`, `npm test`, `zip -r app.zip *`) uploaded to a versioned bucket; S3
//! source → CodeBuild → S3 deploy succeeds and deploys the build's `app.zip`; a failing test
//! fails the Build stage in its BUILD phase; a fixed upload succeeds again. The CodeCommit lab
//! does the same with `git push` to a CodeCommit repository. Needs node, npm, zip and git on the
//! machine (scripts/test-all installs them).

use std::io::Read as _;

use serde_json::{json, Value};

use crate::common::*;

fn aws_ok(server: &Server, service: &str, args: &[&str]) -> Value {
    let out = server.aws_of(service, args);
    assert!(out.ok, "aws {service} {}: {}", args.join(" "), out.stderr);
    out.json
}

fn upload(server: &Server, dir: &std::path::Path, bytes: Vec<u8>) {
    let path = dir.join("app.zip");
    std::fs::write(&path, bytes).expect("write");
    aws_ok(
        server,
        "s3",
        &["cp", &path.display().to_string(), "s3://lab-source/app.zip"],
    );
}

fn executions(server: &Server, n: usize) -> String {
    poll(&format!("{n} executions"), || {
        let list = server.execution_summaries("lab");
        (list.len() >= n).then(|| list[0]["pipelineExecutionId"].as_str().map(str::to_owned))?
    })
}

#[test]
fn the_nodejs_lab_builds_tests_and_deploys() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&server, "s3", &["mb", "s3://lab-source"]);
    aws_ok(
        &server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "lab-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    aws_ok(&server, "s3", &["mb", "s3://lab-site"]);
    upload(&server, dir.path(), lab_zip(None));
    let declaration = fixture_json("pipelines/nodejs-lab.json")["pipeline"].clone();
    server.create_pipeline(&declaration);
    let first = executions(&server, 1);
    server.wait_for_execution("lab", &first, "Succeeded");

    // The deployed object is the build's artifact: a zip holding app.zip.
    let deployed = dir.path().join("deployed.zip");
    aws_ok(
        &server,
        "s3",
        &[
            "cp",
            "s3://lab-site/app.zip",
            &deployed.display().to_string(),
        ],
    );
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&deployed).expect("open")).expect("zip");
    let mut inner = Vec::new();
    archive
        .by_name("app.zip")
        .expect("app.zip in the artifact")
        .read_to_end(&mut inner)
        .expect("read");
    let app = zip::ZipArchive::new(std::io::Cursor::new(inner)).expect("app.zip");
    assert!(
        app.file_names().any(|n| n == "app.js"),
        "{:?}",
        app.file_names().collect::<Vec<_>>()
    );

    let details = server.action_executions("lab", &first);
    let build_id = action_detail(&details, "Build")["output"]["executionResult"]
        ["externalExecutionId"]
        .as_str()
        .expect("build id")
        .to_owned();
    let builds = aws_ok(
        &server,
        "codebuild",
        &["batch-get-builds", "--ids", &build_id],
    );
    let build = &builds["builds"][0];
    assert_eq!(build["buildStatus"], "SUCCEEDED", "{build}");
    let phases: Vec<(&str, &str)> = build["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| Some((p["phaseType"].as_str()?, p["phaseStatus"].as_str()?)))
        .collect();
    assert!(phases.contains(&("BUILD", "SUCCEEDED")), "{phases:?}");
    let log = aws_ok(
        &server,
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            build["logs"]["groupName"].as_str().expect("group"),
            "--log-stream-name",
            build["logs"]["streamName"].as_str().expect("stream"),
            "--start-from-head",
        ],
    );
    assert!(log.to_string().contains("2 passing"), "{log}");

    // A failing test fails the Build stage in BUILD.
    let broken = "const assert = require('assert');\nassert.strictEqual(require('./app').greet('x'), 'Hi, x!');\n";
    upload(&server, dir.path(), lab_zip(Some(("test.js", broken))));
    let second = executions(&server, 2);
    server.wait_for_execution("lab", &second, "Failed");
    let state = server.aws_ok(&["get-pipeline-state", "--name", "lab"]);
    let build_stage = state["stageStates"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stageName"] == "Build")
        .cloned()
        .unwrap_or(json!(null));
    assert_eq!(
        build_stage["latestExecution"]["status"], "Failed",
        "{build_stage}"
    );
    let message = build_stage["actionStates"][0]["latestExecution"]["errorDetails"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("Phase: BUILD"), "{message}");
    assert!(message.contains("npm test"), "{message}");

    // The fix succeeds again.
    upload(&server, dir.path(), lab_zip(None));
    let third = executions(&server, 3);
    server.wait_for_execution("lab", &third, "Succeeded");
}

/// The CodeCommit lab: create a repository, push the app with git, and the pipeline that
/// watches its `main` branch builds, tests and deploys it; a pushed fix after a failing test
/// succeeds again.
#[test]
fn the_codecommit_lab_builds_what_git_pushed() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&server, "s3", &["mb", "s3://lab-site"]);
    let url = aws_ok(
        &server,
        "codecommit",
        &["create-repository", "--repository-name", "lab-app"],
    )["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("clone url")
        .to_owned();
    let work = dir.path().join("lab-app");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args([
                "-c",
                "user.name=Learner",
                "-c",
                "user.email=learner@example.com",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::create_dir_all(&work).expect("work");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(lab_zip(None))).expect("zip");
    archive.extract(&work).expect("the app");
    git(&["init", "--quiet", "--initial-branch=main"]);
    git(&["add", "-A"]);
    git(&["commit", "--quiet", "-m", "The lab app"]);
    git(&["remote", "add", "origin", &url]);
    git(&["push", "--quiet", "origin", "main"]);
    let declaration = fixture_json("pipelines/codecommit-lab.json")["pipeline"].clone();
    server.create_pipeline(&declaration);
    let runs = |n: usize| {
        poll(&format!("{n} runs"), || {
            let list = server.execution_summaries("codecommit-lab");
            (list.len() >= n).then(|| list[0]["pipelineExecutionId"].as_str().map(str::to_owned))?
        })
    };
    let first = runs(1);
    server.wait_for_execution("codecommit-lab", &first, "Succeeded");

    // A failing test pushed with git fails the Build stage; the pushed fix succeeds.
    std::fs::write(
        work.join("test.js"),
        "require('assert').strictEqual(require('./app').greet('x'), 'Hi, x!');\n",
    )
    .expect("break a test");
    git(&["commit", "--quiet", "-am", "Break a test"]);
    git(&["push", "--quiet", "origin", "main"]);
    let second = runs(2);
    server.wait_for_execution("codecommit-lab", &second, "Failed");
    git(&["revert", "--no-edit", "HEAD"]);
    git(&["push", "--quiet", "origin", "main"]);
    let third = runs(3);
    server.wait_for_execution("codecommit-lab", &third, "Succeeded");
    let details = server.action_executions("codecommit-lab", &third);
    let source = action_detail(&details, "Source");
    assert!(
        source["output"]["outputVariables"]["CommitMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("Revert")),
        "{source}"
    );
}
