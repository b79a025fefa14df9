//! Real builds (`--run-builds`): a pipeline's S3 source holds an app and its buildspec, the
//! CodeBuild action runs it on this machine and the S3 deploy publishes what it produced; a
//! failing command fails the Build stage in its phase; stopping an execution kills what the
//! build started.

use std::io::Write as _;

use serde_json::{json, Value};

use crate::common::*;

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(text.as_bytes()).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

fn aws_ok(server: &Server, service: &str, args: &[&str]) -> Value {
    let out = server.aws_of(service, args);
    assert!(out.ok, "aws {service} {}: {}", args.join(" "), out.stderr);
    out.json
}

const GOOD: &str = "version: 0.2
env:
  variables:
    GREETING: hello
  exported-variables:
    - BUILT_BY
phases:
  build:
    commands:
      - echo \"$GREETING from $CODEBUILD_BUILD_ID in $CODEBUILD_SRC_DIR\"
      - mkdir -p out && echo \"$GREETING\" > out/greeting.txt
      - export BUILT_BY=codepipeline-local
  post_build:
    commands:
      - echo \"succeeding=$CODEBUILD_BUILD_SUCCEEDING\"
artifacts:
  files:
    - 'out/**/*'
  discard-paths: yes
";

const FAILING: &str = "version: 0.2
phases:
  build:
    commands:
      - echo running the tests
      - test -f there-is-no-such-file
    finally:
      - echo cleaning up
  post_build:
    commands:
      - echo \"succeeding=$CODEBUILD_BUILD_SUCCEEDING\"
";

fn pipeline() -> Value {
    json!({
        "name": "built",
        "roleArn": "arn:aws:iam::000000000000:role/pipeline",
        "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": "built-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"S3Bucket": "app-source", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
                "outputArtifacts": [{"name": "Src"}]
            }]},
            {"name": "Build", "actions": [{
                "name": "Build",
                "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                "configuration": {"ProjectName": "app"},
                "namespace": "BuildVariables",
                "inputArtifacts": [{"name": "Src"}],
                "outputArtifacts": [{"name": "Out"}]
            }]},
            {"name": "Deploy", "actions": [{
                "name": "Site",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"BucketName": "app-site", "Extract": "true", "ObjectKey": "#{BuildVariables.BUILT_BY}"},
                "inputArtifacts": [{"name": "Out"}]
            }]}
        ]
    })
}

fn upload(server: &Server, dir: &std::path::Path, buildspec: &str) {
    let path = dir.join("app.zip");
    std::fs::write(
        &path,
        zip_of(&[("buildspec.yml", buildspec), ("README", "the app")]),
    )
    .expect("write");
    aws_ok(
        server,
        "s3",
        &["cp", &path.display().to_string(), "s3://app-source/app.zip"],
    );
}

fn newest_execution(server: &Server, count: usize) -> String {
    poll(&format!("{count} executions"), || {
        let list = server.execution_summaries("built");
        (list.len() >= count).then(|| list[0]["pipelineExecutionId"].as_str().map(str::to_owned))?
    })
}

fn setup(server: &Server, dir: &std::path::Path) {
    aws_ok(server, "s3", &["mb", "s3://app-source"]);
    aws_ok(
        server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "app-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    aws_ok(server, "s3", &["mb", "s3://app-site"]);
    upload(server, dir, GOOD);
    server.create_pipeline(&pipeline());
}

#[test]
fn a_buildspec_runs_and_its_artifact_is_deployed_and_a_failing_one_fails_its_phase() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    setup(&server, dir.path());
    let first = newest_execution(&server, 1);
    server.wait_for_execution("built", &first, "Succeeded");
    // The deploy's prefix came from the build's exported variable.
    let out = dir.path().join("greeting.txt");
    aws_ok(
        &server,
        "s3",
        &[
            "cp",
            "s3://app-site/codepipeline-local/greeting.txt",
            &out.display().to_string(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "hello\n");

    let details = server.action_executions("built", &first);
    let build_action = action_detail(&details, "Build");
    assert_eq!(
        build_action["output"]["outputVariables"]["BUILT_BY"], "codepipeline-local",
        "{build_action}"
    );
    let build_id = build_action["output"]["executionResult"]["externalExecutionId"]
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
    assert_eq!(build["initiator"], "codepipeline/built");
    let stream = build["logs"]["streamName"].as_str().expect("stream");
    let log = aws_ok(
        &server,
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            "/aws/codebuild/app",
            "--log-stream-name",
            stream,
            "--start-from-head",
        ],
    );
    let text: Vec<&str> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        text.iter()
            .any(|l| l.starts_with(&format!("hello from {build_id} in "))),
        "{text:?}"
    );
    assert!(text.contains(&"succeeding=1"), "{text:?}");

    // A failing command fails the stage in BUILD; POST_BUILD still runs, told the build failed.
    upload(&server, dir.path(), FAILING);
    let second = newest_execution(&server, 2);
    server.wait_for_execution("built", &second, "Failed");
    let details = server.action_executions("built", &second);
    let failed = action_detail(&details, "Build");
    let message = failed["output"]["executionResult"]["externalExecutionSummary"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, Message: Error while executing command: test -f there-is-no-such-file. Reason: exit status 1"),
        "{message}"
    );
    assert!(
        message.contains("succeeding=0"),
        "the log's last lines: {message}"
    );
    assert!(message.contains("cleaning up"), "finally ran: {message}");
    let failed_id = failed["output"]["executionResult"]["externalExecutionId"]
        .as_str()
        .expect("build id");
    let builds = aws_ok(
        &server,
        "codebuild",
        &["batch-get-builds", "--ids", failed_id],
    );
    let phases = builds["builds"][0]["phases"].as_array().expect("phases");
    let status_of = |kind: &str| {
        phases
            .iter()
            .find(|p| p["phaseType"] == kind)
            .map(|p| p["phaseStatus"].clone())
    };
    assert_eq!(status_of("BUILD"), Some(json!("FAILED")), "{phases:?}");
    assert_eq!(
        status_of("POST_BUILD"),
        Some(json!("SUCCEEDED")),
        "{phases:?}"
    );
    assert_eq!(status_of("UPLOAD_ARTIFACTS"), None, "{phases:?}");
}

#[test]
fn stopping_the_execution_kills_what_the_build_started() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let pid_file = dir.path().join("sleeper.pid");
    let sleeper = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300 & echo $! > {}\n      - sleep 300\n",
        pid_file.display()
    );
    aws_ok(&server, "s3", &["mb", "s3://app-source"]);
    aws_ok(
        &server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "app-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    upload(&server, dir.path(), &sleeper);
    server.create_pipeline(&pipeline());
    let id = newest_execution(&server, 1);
    let pid: i32 = poll("the build to start its sleeper", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
    });
    // While it runs, the action names its build (state and action executions), as in AWS.
    let running_build = poll("the running action to name its build", || {
        let state = server.aws_ok(&["get-pipeline-state", "--name", "built"]);
        let latest = &state["stageStates"][1]["actionStates"][0]["latestExecution"];
        (latest["status"] == "InProgress")
            .then(|| latest["externalExecutionId"].as_str().map(str::to_owned))?
    });
    assert!(running_build.starts_with("app:"), "{running_build}");
    let details = server.action_executions("built", &id);
    assert_eq!(
        action_detail(&details, "Build")["output"]["executionResult"]["externalExecutionId"],
        running_build.as_str()
    );
    let build = aws_ok(
        &server,
        "codebuild",
        &["batch-get-builds", "--ids", &running_build],
    );
    assert_eq!(build["builds"][0]["buildStatus"], "IN_PROGRESS");
    server.aws_ok(&[
        "stop-pipeline-execution",
        "--pipeline-name",
        "built",
        "--pipeline-execution-id",
        &id,
        "--abandon",
    ]);
    server.wait_for_execution("built", &id, "Stopped");
    poll("the sleeper to be killed", || {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        (!alive).then_some(())
    });
}

#[test]
fn a_build_running_when_the_server_is_killed_fails_after_the_restart_and_leaves_nothing_running() {
    let data = tempfile::tempdir().expect("data dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let pid_file = dir.path().join("sleeper.pid");
    let sleeper = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300 & echo $! > {}\n      - sleep 300\n",
        pid_file.display()
    );
    let flags = ["--action-duration", "0s", "--run-builds"];
    let mut server = Server::start_in_with(data.path(), &flags);
    aws_ok(&server, "s3", &["mb", "s3://app-source"]);
    aws_ok(
        &server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "app-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    upload(&server, dir.path(), &sleeper);
    server.create_pipeline(&pipeline());
    let id = newest_execution(&server, 1);
    let pid: i32 = poll("the build to start its sleeper", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
    });
    server.kill();
    let server = Server::start_in_with(data.path(), &flags);
    server.wait_for_execution("built", &id, "Failed");
    let details = server.action_executions("built", &id);
    let build = action_detail(&details, "Build");
    let message = build["output"]["executionResult"]["externalExecutionSummary"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("builds do not survive a restart"),
        "{build}"
    );
    poll("the orphaned sleeper to be killed", || {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "));
        (!alive).then_some(())
    });
}

#[test]
fn start_build_runs_a_projects_buildspec_and_stop_build_kills_it() {
    let server = Server::in_process(&["--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&server, "s3", &["mb", "s3://outputs"]);
    let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"built $CODEBUILD_BUILD_NUMBER with $TARGET\" > report.txt\nartifacts:\n  files:\n    - report.txt\n";
    let source = json!({"type": "NO_SOURCE", "buildspec": spec}).to_string();
    aws_ok(
        &server,
        "codebuild",
        &[
            "create-project",
            "--name",
            "tool",
            "--source",
            &source,
            "--artifacts",
            "type=S3,location=outputs,name=report.zip,packaging=ZIP",
            "--environment",
            "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL",
            "--service-role",
            "arn:aws:iam::000000000000:role/codebuild",
        ],
    );
    let started = aws_ok(
        &server,
        "codebuild",
        &[
            "start-build",
            "--project-name",
            "tool",
            "--environment-variables-override",
            "name=TARGET,value=prod,type=PLAINTEXT",
        ],
    );
    assert_eq!(started["build"]["buildStatus"], "IN_PROGRESS");
    let id = started["build"]["id"].as_str().expect("id").to_owned();
    poll("the build to succeed", || {
        let got = aws_ok(&server, "codebuild", &["batch-get-builds", "--ids", &id]);
        (got["builds"][0]["buildStatus"] == "SUCCEEDED").then_some(())
    });
    let zip_path = dir.path().join("report.zip");
    aws_ok(
        &server,
        "s3",
        &[
            "cp",
            "s3://outputs/report.zip",
            &zip_path.display().to_string(),
        ],
    );
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip_path).expect("open")).expect("zip");
    let mut report = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("report.txt").expect("report"),
        &mut report,
    )
    .expect("read");
    assert_eq!(report, "built 1 with prod\n");

    let pid_file = dir.path().join("tool.pid");
    let sleeper = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300 & echo $! > {}\n      - sleep 300\n",
        pid_file.display()
    );
    let started = aws_ok(
        &server,
        "codebuild",
        &[
            "start-build",
            "--project-name",
            "tool",
            "--buildspec-override",
            &sleeper,
        ],
    );
    let id = started["build"]["id"].as_str().expect("id").to_owned();
    let pid: i32 = poll("the sleeper to start", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
    });
    aws_ok(&server, "codebuild", &["stop-build", "--id", &id]);
    poll("the build to be stopped", || {
        let got = aws_ok(&server, "codebuild", &["batch-get-builds", "--ids", &id]);
        (got["builds"][0]["buildStatus"] == "STOPPED").then_some(())
    });
    poll("the sleeper to be killed", || {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "));
        (!alive).then_some(())
    });
}

#[test]
fn a_commands_action_runs_its_commands_with_output_variables_and_files() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&server, "s3", &["mb", "s3://app-source"]);
    aws_ok(
        &server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "app-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    aws_ok(&server, "s3", &["mb", "s3://app-site"]);
    upload(&server, dir.path(), GOOD);
    let mut declaration = pipeline();
    declaration["stages"][2]["actions"][0]["configuration"]["ObjectKey"] = json!("#{Pkg.PACKAGED}");
    declaration["stages"][1]["actions"] = json!([{
        "name": "Package",
        "actionTypeId": {"category": "Compute", "owner": "AWS", "provider": "Commands", "version": "1"},
        "commands": ["mkdir -p dist", "cat README > dist/readme.txt", "export PACKAGED=yes"],
        "outputVariables": ["PACKAGED"],
        "namespace": "Pkg",
        "inputArtifacts": [{"name": "Src"}],
        "outputArtifacts": [{"name": "Out", "files": ["dist/**/*"]}]
    }]);
    server.create_pipeline(&declaration);
    let id = newest_execution(&server, 1);
    server.wait_for_execution("built", &id, "Succeeded");
    let details = server.action_executions("built", &id);
    let package = action_detail(&details, "Package");
    assert_eq!(
        package["output"]["outputVariables"]["PACKAGED"], "yes",
        "{package}"
    );
    let out = dir.path().join("readme.txt");
    aws_ok(
        &server,
        "s3",
        &[
            "cp",
            "s3://app-site/yes/dist/readme.txt",
            &out.display().to_string(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "the app");
}

fn upload_zip(server: &Server, dir: &std::path::Path, key: &str, entries: &[(&str, &str)]) {
    let path = dir.join(key);
    std::fs::write(&path, zip_of(entries)).expect("write");
    aws_ok(
        server,
        "s3",
        &[
            "cp",
            &path.display().to_string(),
            &format!("s3://app-source/{key}"),
        ],
    );
}

fn fetch_text(server: &Server, dir: &std::path::Path, url: &str) -> String {
    let out = dir.join("fetched");
    aws_ok(server, "s3", &["cp", url, &out.display().to_string()]);
    std::fs::read_to_string(&out).expect("read")
}

#[test]
fn primary_source_picks_the_buildspec_and_secondary_artifacts_fill_the_outputs_by_name() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(&server, "s3", &["mb", "s3://app-source"]);
    aws_ok(
        &server,
        "s3api",
        &[
            "put-bucket-versioning",
            "--bucket",
            "app-source",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    );
    aws_ok(&server, "s3", &["mb", "s3://app-site"]);
    let spec = "version: 0.2
phases:
  build:
    commands:
      - mkdir -p site
      - cp index.html site/
      - test -f \"$CODEBUILD_SRC_DIR_Extra/guide.txt\"
artifacts:
  files:
    - '**/*'
  secondary-artifacts:
    Web:
      base-directory: site
      files:
        - '**/*'
    Docs:
      base-directory: $CODEBUILD_SRC_DIR_Extra
      files:
        - guide.txt
";
    upload_zip(
        &server,
        dir.path(),
        "app.zip",
        &[("buildspec.yml", spec), ("index.html", "<h1>site</h1>")],
    );
    // The extra input's own buildspec fails: running it would mean PrimarySource was ignored.
    upload_zip(
        &server,
        dir.path(),
        "extra.zip",
        &[
            (
                "buildspec.yml",
                "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 7\n",
            ),
            ("guide.txt", "the guide"),
        ],
    );
    let source = |name: &str, key: &str, out: &str| {
        json!({
            "name": name,
            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
            "configuration": {"S3Bucket": "app-source", "S3ObjectKey": key, "PollForSourceChanges": "false"},
            "outputArtifacts": [{"name": out}]
        })
    };
    let deploy = |name: &str, input: &str| {
        json!({
            "name": name,
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
            "configuration": {"BucketName": "app-site", "Extract": "true", "ObjectKey": name.to_lowercase()},
            "inputArtifacts": [{"name": input}]
        })
    };
    server.create_pipeline(&json!({
        "name": "built",
        "roleArn": "arn:aws:iam::000000000000:role/pipeline",
        "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": "built-artifacts"},
        "stages": [
            {"name": "Source", "actions": [source("App", "app.zip", "Src"), source("Guide", "extra.zip", "Extra")]},
            {"name": "Build", "actions": [{
                "name": "Build",
                "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                "configuration": {"ProjectName": "app", "PrimarySource": "Src"},
                "inputArtifacts": [{"name": "Extra"}, {"name": "Src"}],
                "outputArtifacts": [{"name": "Web"}, {"name": "Docs"}]
            }]},
            {"name": "Deploy", "actions": [deploy("Site", "Web"), deploy("Manual", "Docs")]}
        ]
    }));
    let id = newest_execution(&server, 1);
    server.wait_for_execution("built", &id, "Succeeded");
    assert_eq!(
        fetch_text(&server, dir.path(), "s3://app-site/site/index.html"),
        "<h1>site</h1>"
    );
    assert_eq!(
        fetch_text(&server, dir.path(), "s3://app-site/manual/guide.txt"),
        "the guide"
    );
    let listed = aws_ok(
        &server,
        "s3api",
        &[
            "list-objects-v2",
            "--bucket",
            "app-site",
            "--prefix",
            "site/",
        ],
    );
    let keys: Vec<&str> = listed["Contents"]
        .as_array()
        .expect("contents")
        .iter()
        .filter_map(|o| o["Key"].as_str())
        .collect();
    assert_eq!(
        keys,
        ["site/index.html"],
        "Web holds only its base directory"
    );
}

#[test]
fn on_failure_continue_runs_the_next_phase_and_the_build_still_fails() {
    let server = Server::in_process(&["--run-builds"]);
    let spec = "version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands:
      - echo an optional check
      - test -f optional-file
  build:
    commands:
      - echo the build ran anyway
";
    let source = json!({"type": "NO_SOURCE", "buildspec": spec}).to_string();
    aws_ok(
        &server,
        "codebuild",
        &[
            "create-project",
            "--name",
            "lenient",
            "--source",
            &source,
            "--artifacts",
            "type=NO_ARTIFACTS",
            "--environment",
            "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL",
            "--service-role",
            "arn:aws:iam::000000000000:role/codebuild",
        ],
    );
    let started = aws_ok(
        &server,
        "codebuild",
        &["start-build", "--project-name", "lenient"],
    );
    let id = started["build"]["id"].as_str().expect("id").to_owned();
    let build = poll("the build to end", || {
        let got = aws_ok(&server, "codebuild", &["batch-get-builds", "--ids", &id]);
        let build = got["builds"][0].clone();
        (build["buildComplete"] == true).then_some(build)
    });
    assert_eq!(build["buildStatus"], "FAILED", "{build}");
    let status_of = |phase: &str| {
        build["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .find(|p| p["phaseType"] == phase)
            .map(|p| p["phaseStatus"].clone())
    };
    assert_eq!(status_of("PRE_BUILD"), Some(json!("FAILED")), "{build}");
    assert_eq!(status_of("BUILD"), Some(json!("SUCCEEDED")), "{build}");
    let stream = build["logs"]["streamName"].as_str().expect("stream");
    let log = aws_ok(
        &server,
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            "/aws/codebuild/lenient",
            "--log-stream-name",
            stream,
            "--start-from-head",
        ],
    );
    assert!(
        log["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["message"] == "the build ran anyway"),
        "{log}"
    );
}

#[test]
fn builds_past_the_concurrency_limit_wait_queued_and_record_the_phases_they_ran() {
    let server = Server::in_process(&["--run-builds", "--build-concurrency", "1"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let gate = dir.path().join("gate");
    let spec = format!(
        "version: 0.2\nphases:\n  install:\n    commands:\n      - echo installing\n  build:\n    commands:\n      - while [ ! -f {} ]; do sleep 0.05; done\n",
        gate.display()
    );
    let source = json!({"type": "NO_SOURCE", "buildspec": spec}).to_string();
    aws_ok(
        &server,
        "codebuild",
        &[
            "create-project",
            "--name",
            "one-at-a-time",
            "--source",
            &source,
            "--artifacts",
            "type=NO_ARTIFACTS",
            "--environment",
            "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL",
            "--service-role",
            "arn:aws:iam::000000000000:role/codebuild",
        ],
    );
    let start = || {
        aws_ok(
            &server,
            "codebuild",
            &["start-build", "--project-name", "one-at-a-time"],
        )["build"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let build_of = |id: &str| {
        aws_ok(&server, "codebuild", &["batch-get-builds", "--ids", id])["builds"][0].clone()
    };
    let first = start();
    poll("the first build to reach BUILD", || {
        (build_of(&first)["currentPhase"] == "BUILD").then_some(())
    });
    let second = start();
    let waiting = build_of(&second);
    assert_eq!(waiting["buildStatus"], "IN_PROGRESS", "{waiting}");
    assert_eq!(waiting["currentPhase"], "QUEUED", "{waiting}");

    std::fs::write(&gate, "go").expect("open the gate");
    for id in [&first, &second] {
        let build = poll("the build to end", || {
            let b = build_of(id);
            (b["buildComplete"] == true).then_some(b)
        });
        assert_eq!(build["buildStatus"], "SUCCEEDED", "{build}");
        let phases: Vec<(String, String)> = build["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .map(|p| {
                (
                    p["phaseType"].as_str().unwrap_or_default().to_owned(),
                    p["phaseStatus"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = [
            "SUBMITTED",
            "QUEUED",
            "PROVISIONING",
            "DOWNLOAD_SOURCE",
            "INSTALL",
            "PRE_BUILD",
            "BUILD",
            "POST_BUILD",
            "UPLOAD_ARTIFACTS",
            "FINALIZING",
        ]
        .iter()
        .map(|p| (p.to_string(), "SUCCEEDED".to_owned()))
        .chain([("COMPLETED".to_owned(), String::new())])
        .collect();
        assert_eq!(phases, expected, "{build}");
    }
}
