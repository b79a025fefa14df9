//! `--execution-history N`: a pipeline keeps its newest N finished executions; older ones are
//! gone from `ListPipelineExecutions`, `GetPipelineExecution` and `ListActionExecutions` as if
//! they never existed. A cap set later also covers executions finished before it.

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

#[test]
fn execution_history_keeps_the_newest_finished_executions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pipeline = fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone();
    pipeline["name"] = json!("kept");

    let mut server = start(dir.path(), Some("3"));
    server.create_pipeline(&pipeline);
    let first = server.latest_execution("kept");
    server.wait_for_execution("kept", &first, "Succeeded");
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
