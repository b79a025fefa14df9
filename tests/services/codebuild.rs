//! CodeBuild through `aws codebuild`: projects, simulated builds with their phases and logs,
//! the builds a pipeline's CodeBuild actions make, and CodeBuild's errors.

use serde_json::{json, Value};

use crate::common::*;

fn codebuild(server: &Server, args: &[&str]) -> Cli {
    server.aws_of("codebuild", args)
}

fn ok(cli: Cli) -> Value {
    assert!(cli.ok, "aws codebuild failed: {}", cli.stderr);
    cli.json
}

/// `aws logs get-log-events` of one stream, from its start.
fn log_events(server: &Server, group: &str, stream: &str) -> Cli {
    server.aws_of(
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            group,
            "--log-stream-name",
            stream,
            "--start-from-head",
        ],
    )
}

fn create_project(server: &Server, name: &str) -> Value {
    ok(codebuild(
        server,
        &[
            "create-project",
            "--name",
            name,
            "--source",
            "type=NO_SOURCE,buildspec=version: 0.2",
            "--artifacts",
            "type=NO_ARTIFACTS",
            "--environment",
            "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL",
            "--service-role",
            "arn:aws:iam::000000000000:role/codebuild",
        ],
    ))
}

#[test]
fn projects_and_simulated_builds() {
    let server = Server::in_process(&[]);
    let created = create_project(&server, "web");
    let project = &created["project"];
    assert_eq!(
        project["arn"],
        "arn:aws:codebuild:us-east-1:000000000000:project/web"
    );
    assert_eq!(project["timeoutInMinutes"], 60);
    assert_eq!(project["queuedTimeoutInMinutes"], 480);
    let again = codebuild(
        &server,
        &[
            "create-project",
            "--name",
            "web",
            "--source",
            "type=NO_SOURCE,buildspec=x",
            "--artifacts",
            "type=NO_ARTIFACTS",
            "--environment",
            "type=LINUX_CONTAINER,image=i,computeType=BUILD_GENERAL1_SMALL",
            "--service-role",
            "r",
        ],
    );
    assert_eq!(
        again.error(),
        (
            "ResourceAlreadyExistsException".to_owned(),
            "Project already exists: arn:aws:codebuild:us-east-1:000000000000:project/web"
                .to_owned()
        )
    );
    let got = ok(codebuild(
        &server,
        &["batch-get-projects", "--names", "web", "nope"],
    ));
    assert_eq!(got["projects"][0]["name"], "web");
    assert_eq!(got["projectsNotFound"], json!(["nope"]));
    let updated = ok(codebuild(
        &server,
        &[
            "update-project",
            "--name",
            "web",
            "--description",
            "the site",
        ],
    ));
    assert_eq!(updated["project"]["description"], "the site");
    assert_eq!(
        ok(codebuild(&server, &["list-projects"]))["projects"],
        json!(["web"])
    );

    let started = ok(codebuild(
        &server,
        &["start-build", "--project-name", "web"],
    ));
    let build = &started["build"];
    assert_eq!(build["buildStatus"], "SUCCEEDED", "{build}");
    assert_eq!(build["buildNumber"], 1);
    let phases: Vec<&str> = build["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p["phaseType"].as_str())
        .collect();
    assert_eq!(
        phases,
        [
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
            "COMPLETED"
        ]
    );
    let id = build["id"].as_str().expect("id").to_owned();
    let fetched = ok(codebuild(
        &server,
        &["batch-get-builds", "--ids", &id, "web:nope"],
    ));
    assert_eq!(fetched["builds"][0]["id"], id.as_str());
    assert_eq!(fetched["buildsNotFound"], json!(["web:nope"]));
    let stream = build["logs"]["streamName"].as_str().expect("stream");
    let log = log_events(&server, "/aws/codebuild/web", stream);
    assert!(log.ok, "{}", log.stderr);
    assert!(log.stdout.contains("simulated"), "{}", log.stdout);

    let retried = ok(codebuild(&server, &["retry-build", "--id", &id]));
    assert_eq!(retried["build"]["buildNumber"], 2);
    let listed = ok(codebuild(
        &server,
        &["list-builds-for-project", "--project-name", "web"],
    ));
    assert_eq!(listed["ids"][1], id.as_str(), "newest first: {listed}");
    assert_eq!(
        ok(codebuild(&server, &["list-builds"]))["ids"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let stopped = ok(codebuild(&server, &["stop-build", "--id", &id]));
    assert_eq!(
        stopped["build"]["buildStatus"], "SUCCEEDED",
        "a finished build stays as it was"
    );
    let deleted = ok(codebuild(&server, &["batch-delete-builds", "--ids", &id]));
    assert_eq!(deleted["buildsDeleted"], json!([id]));

    let missing = codebuild(&server, &["start-build", "--project-name", "nope"]);
    assert_eq!(
        missing.error(),
        (
            "ResourceNotFoundException".to_owned(),
            "Project cannot be found: arn:aws:codebuild:us-east-1:000000000000:project/nope"
                .to_owned()
        )
    );
    let bad_id = codebuild(&server, &["stop-build", "--id", "no-colon"]);
    assert_eq!(bad_id.error().0, "InvalidInputException");
    ok(codebuild(&server, &["delete-project", "--name", "web"]));
    ok(codebuild(&server, &["delete-project", "--name", "web"]));
}

#[test]
fn a_pipelines_codebuild_action_is_a_build() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let declaration = fixture_json("pipelines/approval-walkthrough.json")["pipeline"].clone();
    server.create_pipeline(&declaration);
    let id = server.latest_execution("walkthrough");
    let build_id = poll("the Build action to succeed", || {
        let details = server.action_executions("walkthrough", &id);
        details
            .iter()
            .find(|d| d["actionName"] == "Build" && d["status"] == "Succeeded")
            .and_then(|d| {
                d["output"]["executionResult"]["externalExecutionId"]
                    .as_str()
                    .map(str::to_owned)
            })
    });
    let got = ok(codebuild(
        &server,
        &["batch-get-builds", "--ids", &build_id],
    ));
    let build = &got["builds"][0];
    assert_eq!(build["buildStatus"], "SUCCEEDED", "{build}");
    assert_eq!(build["initiator"], "codepipeline/walkthrough");
    assert_eq!(build["source"]["type"], "CODEPIPELINE");
    assert!(
        build["sourceVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("arn:aws:s3:::")),
        "{build}"
    );
    let project = build["projectName"].as_str().expect("project");
    let listed = ok(codebuild(
        &server,
        &["list-builds-for-project", "--project-name", project],
    ));
    assert_eq!(listed["ids"], json!([build_id]));
}

#[test]
fn builds_recorded_together_take_consecutive_numbers() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let mut declaration = fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone();
    declaration["pipelineType"] = json!("V2");
    declaration["executionMode"] = json!("PARALLEL");
    server.create_pipeline(&declaration);
    let name = declaration["name"].as_str().expect("name").to_owned();
    // Runs that finish in the same moment are recorded in one batch.
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = server.url.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                let body = json!({ "name": name }).to_string();
                ureq::post(&url)
                    .set(
                        "x-amz-target",
                        "CodePipeline_20150709.StartPipelineExecution",
                    )
                    .set("content-type", "application/x-amz-json-1.1")
                    .send_string(&body)
                    .expect("start")
            })
        })
        .collect();
    for s in starts {
        s.join().expect("thread");
    }
    let listed = poll("seven builds", || {
        let listed = ok(codebuild(
            &server,
            &[
                "list-builds-for-project",
                "--project-name",
                "my-build-project",
            ],
        ));
        (listed["ids"].as_array().map_or(0, Vec::len) == 7).then_some(listed)
    });
    let ids: Vec<&str> = listed["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut args = vec!["batch-get-builds", "--ids"];
    args.extend(ids.iter().copied());
    let got = ok(codebuild(&server, &args));
    let mut numbers: Vec<i64> = got["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .filter_map(|b| b["buildNumber"].as_i64())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=7).collect::<Vec<i64>>());

    // The project's log group is made by the first build and kept; each build logs to a
    // stream of its own.
    let groups = server.aws_of(
        "logs",
        &[
            "describe-log-groups",
            "--log-group-name-prefix",
            "/aws/codebuild/my-build-project",
        ],
    );
    assert!(groups.ok, "{}", groups.stderr);
    let groups = groups.json["logGroups"].as_array().expect("groups").clone();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let mut logged = Vec::new();
    for build in got["builds"].as_array().expect("builds") {
        let stream = build["logs"]["streamName"].as_str().expect("stream");
        let events = log_events(&server, "/aws/codebuild/my-build-project", stream);
        assert!(events.ok, "{}", events.stderr);
        assert_eq!(events.json["events"].as_array().map(Vec::len), Some(1));
        logged.extend(events.json["events"][0]["timestamp"].as_i64());
    }
    // Made when the first build ended, not again by a later batch.
    assert_eq!(
        groups[0]["creationTime"].as_i64(),
        logged.iter().min().copied()
    );
}
