//! Behaviour the AWS documentation states, where no captured reply exists: what an update does
//! to executions that are still running.

use serde_json::{json, Value};

use crate::common::*;

fn approval_token(server: &Server, pipeline: &str) -> String {
    poll("the approval to wait for an answer", || {
        let (_, state) = server.call("GetPipelineState", json!({"name": pipeline}));
        state["stageStates"][1]["actionStates"][0]["latestExecution"]["token"]
            .as_str()
            .map(str::to_owned)
    })
}

/// `aws codepipeline put-approval-result` on the Approve action of `pipeline`.
fn answer(server: &Server, pipeline: &str, token: &str, result: &str) -> Cli {
    server.aws(&[
        "put-approval-result",
        "--pipeline-name",
        pipeline,
        "--stage-name",
        "Approve",
        "--action-name",
        "Approve",
        "--token",
        token,
        "--result",
        result,
    ])
}

fn action_status(server: &Server, pipeline: &str, execution: &str, action: &str) -> Option<String> {
    let (_, listed) = server.call(
        "ListActionExecutions",
        json!({"pipelineName": pipeline, "filter": {"pipelineExecutionId": execution}}),
    );
    listed["actionExecutionDetails"]
        .as_array()?
        .iter()
        .find(|d| d["actionName"] == action)
        .and_then(|d| d["status"].as_str())
        .map(str::to_owned)
}

/// The User Guide ("Edit a pipeline"): "CodePipeline gracefully completes all the running actions
/// and then fails the stages and pipeline executions where the running actions were completed";
/// the API reference names that status `Cancelled` ("the pipeline's definition was updated
/// before the pipeline execution could be completed"). An update starts nothing.
#[test]
fn an_update_lets_running_actions_finish_then_cancels_their_executions() {
    let server = Server::start_with(&["--action-duration", "0s"]);
    let decl = two_stage("updated-while-running");
    let created = server.call("CreatePipeline", json!({"pipeline": decl}));
    assert_eq!(created.0, 200, "{}", created.1);
    let first = server.latest_execution("updated-while-running");
    let token = approval_token(&server, "updated-while-running");

    // A second execution (SUPERSEDED) waits before the busy approval stage.
    let (_, started) = server.call(
        "StartPipelineExecution",
        json!({"name": "updated-while-running"}),
    );
    let second = started["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();
    poll("the second execution's source to finish", || {
        (action_status(&server, "updated-while-running", &second, "Source").as_deref()
            == Some("Succeeded"))
        .then_some(())
    });

    let mut next = decl.clone();
    next["stages"]
        .as_array_mut()
        .expect("stages")
        .push(json!({"name": "Later", "actions": [{"name": "Again",
            "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}));
    let input = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(input.path(), json!({"pipeline": next}).to_string()).expect("write input");
    let updated = server.aws(&[
        "update-pipeline",
        "--cli-input-json",
        &format!("file://{}", input.path().display()),
    ]);
    assert!(updated.ok, "{}", updated.stderr);

    // The waiting execution ends at once; the running approval still waits for its answer.
    server.wait_for_execution("updated-while-running", &second, "Cancelled");
    let (_, running) = server.call(
        "GetPipelineExecution",
        json!({"pipelineName": "updated-while-running", "pipelineExecutionId": first}),
    );
    assert_eq!(running["pipelineExecution"]["status"], "InProgress");

    let answered = answer(
        &server,
        "updated-while-running",
        &token,
        "summary=ok,status=Approved",
    );
    assert!(answered.ok, "{}", answered.stderr);
    server.wait_for_execution("updated-while-running", &first, "Cancelled");
    // Answering again: AWS's text (issue 13, capture 13).
    let again = answer(
        &server,
        "updated-while-running",
        &token,
        "summary=again,status=Rejected",
    );
    assert_eq!(
        again.error(),
        (
            "ApprovalAlreadyCompletedException".to_owned(),
            "The approval request that you responded to is already complete or has expired."
                .to_owned()
        )
    );
    assert_eq!(
        action_status(&server, "updated-while-running", &first, "Approve").as_deref(),
        Some("Succeeded"),
        "the running action finished"
    );
    let approve = server.stage_latest("updated-while-running", "Approve");
    assert_eq!(approve["pipelineExecutionId"], first);
    assert_eq!(approve["status"], "Cancelled");
    assert_eq!(
        server.stage_latest("updated-while-running", "Later"),
        Value::Null,
        "a cancelled execution entered the new stage"
    );
    let (_, listed) = server.call(
        "ListPipelineExecutions",
        json!({"pipelineName": "updated-while-running"}),
    );
    let statuses: Vec<&str> = listed["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["Cancelled", "Cancelled"],
        "an update started an execution"
    );
}
