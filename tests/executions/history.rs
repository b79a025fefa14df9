//! `--execution-history N`: a pipeline keeps its newest N finished executions; older ones are
//! gone from `ListPipelineExecutions`, `GetPipelineExecution` and `ListActionExecutions` as if
//! they never existed. A cap set later also covers executions finished before it. What a
//! pruned execution left in other services goes too: its artifacts in S3, and the CodeBuild
//! build its build action ran, with that build's log stream.

use std::path::Path;

use serde_json::json;

use crate::common::*;

/// Runs `n` executions of `name` one after another, each to Succeeded; returns their ids.
fn run(server: &Server, name: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let id = server.aws_ok(&["start-pipeline-execution", "--name", name])
                ["pipelineExecutionId"]
                .as_str()
                .expect("id")
                .to_owned();
            server.wait_for_execution(name, &id, "Succeeded");
            id
        })
        .collect()
}

fn listed(server: &Server, name: &str) -> Vec<String> {
    server
        .execution_summaries(name)
        .iter()
        .map(|s| s["pipelineExecutionId"].as_str().expect("id").to_owned())
        .collect()
}

fn assert_gone(server: &Server, name: &str, id: &str) {
    let got = server.aws(&[
        "get-pipeline-execution",
        "--pipeline-name",
        name,
        "--pipeline-execution-id",
        id,
    ]);
    assert_eq!(
        got.error().0,
        "PipelineExecutionNotFoundException",
        "{}",
        got.stderr
    );
    let filter = json!({"pipelineExecutionId": id}).to_string();
    let actions = server.aws(&[
        "list-action-executions",
        "--pipeline-name",
        name,
        "--filter",
        &filter,
    ]);
    assert_eq!(
        actions.error().0,
        "PipelineExecutionNotFoundException",
        "{}",
        actions.stderr
    );
}

fn start(dir: &Path, cap: Option<&str>) -> Server {
    let mut flags = vec!["--action-duration", "0s"];
    if let Some(n) = cap {
        flags.extend(["--execution-history", n]);
    }
    Server::start_in_with(dir, &flags)
}

/// What an execution left in other services: its build id, and its artifacts' places.
struct Traces {
    build: String,
    artifacts: Vec<(String, String)>,
}

fn traces(server: &Server, name: &str, id: &str) -> Traces {
    let details = server.action_executions(name, id);
    let build = action_detail(&details, "Build")["output"]["executionResult"]
        ["externalExecutionId"]
        .as_str()
        .expect("the build action's build id")
        .to_owned();
    let artifacts: Vec<(String, String)> = details
        .iter()
        .flat_map(|d| {
            d["output"]["outputArtifacts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|a| {
            let at = &a["s3location"];
            (
                at["bucket"].as_str().expect("bucket").to_owned(),
                at["key"].as_str().expect("key").to_owned(),
            )
        })
        .collect();
    assert_eq!(artifacts.len(), 2, "source and build outputs: {details:?}");
    Traces { build, artifacts }
}

/// Which of the traces still exist, asked of S3, CodeBuild and CloudWatch Logs.
fn still_there(server: &Server, t: &Traces) -> Vec<String> {
    let mut found = Vec::new();
    for (bucket, key) in &t.artifacts {
        let head = server.aws_of("s3api", &["head-object", "--bucket", bucket, "--key", key]);
        if head.ok {
            found.push(format!("s3://{bucket}/{key}"));
        }
    }
    let builds = server.aws_of("codebuild", &["batch-get-builds", "--ids", &t.build]);
    assert!(builds.ok, "{}", builds.stderr);
    if builds.json["builds"]
        .as_array()
        .is_some_and(|b| !b.is_empty())
    {
        found.push(format!("build {}", t.build));
    }
    let (project, stream) = t.build.split_once(':').expect("project:uuid");
    let group = format!("/aws/codebuild/{project}");
    let log = server.aws_of(
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            &group,
            "--log-stream-name",
            stream,
        ],
    );
    if log.ok {
        found.push(format!("log stream {stream}"));
    } else {
        assert_eq!(log.error().0, "ResourceNotFoundException", "{}", log.stderr);
    }
    found
}

#[test]
fn execution_history_keeps_the_newest_finished_executions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pipeline = fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone();
    pipeline["name"] = json!("kept");

    let mut server = start(dir.path(), Some("3"));
    server.create_pipeline(&pipeline);
    let first = server.latest_execution("kept");
    server.wait_for_execution("kept", &first, "Succeeded");
    let pruned = traces(&server, "kept", &first);
    assert_eq!(
        still_there(&server, &pruned).len(),
        4,
        "all there before the prune"
    );
    let later = run(&server, "kept", 4);
    assert_eq!(
        listed(&server, "kept"),
        [later[3].as_str(), &later[2], &later[1]]
    );
    for gone in [&first, &later[0]] {
        assert_gone(&server, "kept", gone);
    }
    // The kept ones still show their actions.
    let details = server.action_executions("kept", &later[1]);
    assert_eq!(details.len(), 3, "{details:?}");
    // The pruned one's artifacts, build and log go after the prune; a kept one's stay.
    poll(
        "the pruned execution's artifacts, build and log to go",
        || still_there(&server, &pruned).is_empty().then_some(()),
    );
    let kept = traces(&server, "kept", &later[1]);
    assert_eq!(
        still_there(&server, &kept).len(),
        4,
        "a kept execution's traces stay"
    );

    // Without a cap nothing more is deleted; a cap set again covers what finished meanwhile.
    server.kill();
    let mut server = start(dir.path(), None);
    let uncapped = run(&server, "kept", 2);
    assert_eq!(listed(&server, "kept").len(), 5);
    server.kill();
    let server = start(dir.path(), Some("2"));
    let last = run(&server, "kept", 1);
    assert_eq!(listed(&server, "kept"), [last[0].as_str(), &uncapped[1]]);
    assert_gone(&server, "kept", &later[3]);
    assert_gone(&server, "kept", &uncapped[0]);
}

#[test]
fn the_flag_refuses_zero() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codepipeline-local"))
        .args(["--in-memory", "--execution-history", "0"])
        .output()
        .expect("run the server");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--execution-history"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
