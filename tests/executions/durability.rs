//! Durability: an acknowledged write survives SIGKILL, SIGTERM drains and exits 0, a restart
//! serves everything again, and a store that cannot open is reported with a non-zero exit.

use crate::common::*;
use serde_json::json;

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(dir.path());
    for i in 0..20 {
        let (status, reply) = server.call(
            "CreatePipeline",
            json!({"pipeline": two_stage(&format!("p{i:02}")), "tags": [{"key": "n", "value": i.to_string()}]}),
        );
        assert_eq!(status, 200, "{reply}");
    }
    let (status, _) = server.call("UpdatePipeline", json!({"pipeline": two_stage("p07")}));
    assert_eq!(status, 200);
    let arn = format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:p03");
    let (status, _) = server.call(
        "TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "extra", "value": "x"}]}),
    );
    assert_eq!(status, 200);
    let (status, _) = server.call("DeletePipeline", json!({"name": "p19"}));
    assert_eq!(status, 200);
    // The last reply has been read; kill at once with no chance to flush.
    server.kill();

    let server = Server::start_in(dir.path());
    let (_, reply) = server.call("ListPipelines", json!({}));
    let names: Vec<&str> = reply["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        (0..19).map(|i| format!("p{i:02}")).collect::<Vec<_>>()
    );
    let (_, reply) = server.call("GetPipeline", json!({"name": "p07"}));
    assert_eq!(reply["pipeline"]["version"], 2);
    let (_, reply) = server.call("GetPipeline", json!({"name": "p07", "version": 1}));
    assert_eq!(reply["pipeline"]["version"], 1);
    let (_, reply) = server.call("ListTagsForResource", json!({"resourceArn": arn}));
    assert_eq!(
        reply["tags"],
        json!([{"key": "n", "value": "3"}, {"key": "extra", "value": "x"}])
    );
}

/// A call that changes only the engine's runtime (no execution) is as durable as any other.
#[test]
fn a_disabled_transition_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(dir.path());
    let (status, reply) = server.call("CreatePipeline", json!({"pipeline": two_stage("held")}));
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = server.call(
        "DisableStageTransition",
        json!({"pipelineName": "held", "stageName": "Approve", "transitionType": "Inbound", "reason": "freeze"}),
    );
    assert_eq!(status, 200, "{reply}");
    server.kill();

    let server = Server::start_in(dir.path());
    let (_, state) = server.call("GetPipelineState", json!({"name": "held"}));
    let approve = &state["stageStates"][1];
    assert_eq!(approve["stageName"], "Approve");
    assert_eq!(
        (
            &approve["inboundTransitionState"]["enabled"],
            &approve["inboundTransitionState"]["disabledReason"]
        ),
        (&json!(false), &json!("freeze")),
        "{state}"
    );
}

#[test]
fn sigterm_exits_zero_and_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(dir.path());
    let (status, _) = server.call("CreatePipeline", json!({"pipeline": two_stage("kept")}));
    assert_eq!(status, 200);
    assert_eq!(server.terminate(), Some(0));
    let server = Server::start_in(dir.path());
    let (status, reply) = server.call("GetPipeline", json!({"name": "kept"}));
    assert_eq!(status, 200, "{reply}");
}

#[test]
fn a_store_that_cannot_open_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codepipeline-local"))
        .args(["--port", "0", "--data-dir", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-a-dir"), "{stderr}");
}
