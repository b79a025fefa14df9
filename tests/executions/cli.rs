//! Pipeline executions with the real aws CLI: runs through stages and actions, manual approvals,
//! stop and abandon, faults and retries, stage transitions, SUPERSEDED / QUEUED / PARALLEL
//! execution modes, pipeline variables, approval expiry through the engine clock, and the aws
//! CLI's own documented examples for these operations.
//!
//! Each test starts its own server. Stub actions finish at once unless a test sets a provider
//! duration through `/_local/config`; every wait is a poll with a deadline.

use crate::common::*;
use serde_json::{json, Value};

const ARTIFACT_BUCKET: &str = "codepipeline-us-east-1-artifacts";
const FINISHED: [&str; 5] = ["Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"];
/// A well-formed approval token that no approval ever had.
const UNKNOWN_TOKEN: &str = "00000000-0000-4000-8000-000000000000";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// POSTs `body` to a control endpoint and returns its JSON reply.
fn control(s: &Server, path: &str, body: Value) -> Value {
    s.control(path, body)
}

/// Makes the next `count` runs of `action` in `pipeline` fail with `message`.
fn fail_action(s: &Server, pipeline: &str, action: &str, count: u32, message: &str) {
    control(
        s,
        "/_local/faults",
        json!({"pipeline": pipeline, "action": action, "count": count,
               "type": "fail", "message": message}),
    );
}

/// Runs `aws codepipeline ARGS`, which must fail, and returns the AWS error `(code, message)`.
fn fails(s: &Server, args: &[&str]) -> (String, String) {
    let out = s.aws(args);
    assert!(
        !out.ok,
        "aws codepipeline {} should have failed but replied {}",
        args.join(" "),
        out.json
    );
    out.error()
}

/// Asserts that `args` fail with the AWS error `code`.
fn assert_error(s: &Server, args: &[&str], code: &str) -> String {
    let (got, message) = fails(s, args);
    assert_eq!(got, code, "aws codepipeline {}: {message}", args.join(" "));
    message
}

/// Creates the pipeline of a `--cli-input-json` file and returns the id of the execution that
/// CreatePipeline starts.
fn create_from(s: &Server, file: &str, name: &str) -> String {
    s.aws_ok(&["create-pipeline", "--cli-input-json", file]);
    latest_execution(s, name)
}

fn create_fixture(s: &Server, fixture_name: &str, name: &str) -> String {
    create_from(s, &format!("file://{}", fixture(fixture_name)), name)
}

fn create(s: &Server, declaration: &Value) -> String {
    let name = declaration["name"].as_str().expect("pipeline name");
    let file = json_arg(
        &s.data_dir,
        &format!("{name}.json"),
        &json!({ "pipeline": declaration }),
    );
    create_from(s, &file, name)
}

/// The newest execution of `pipeline` (ListPipelineExecutions lists newest first).
fn latest_execution(s: &Server, pipeline: &str) -> String {
    s.execution_summaries(pipeline)
        .first()
        .and_then(|e| e["pipelineExecutionId"].as_str())
        .unwrap_or_else(|| panic!("{pipeline} has no execution"))
        .to_owned()
}

fn start(s: &Server, pipeline: &str) -> String {
    let reply = s.aws_ok(&["start-pipeline-execution", "--name", pipeline]);
    reply["pipelineExecutionId"]
        .as_str()
        .expect("pipelineExecutionId")
        .to_owned()
}

fn execution(s: &Server, pipeline: &str, id: &str) -> Value {
    s.aws_ok(&[
        "get-pipeline-execution",
        "--pipeline-name",
        pipeline,
        "--pipeline-execution-id",
        id,
    ])["pipelineExecution"]
        .clone()
}

fn status(s: &Server, pipeline: &str, id: &str) -> String {
    execution(s, pipeline, id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Polls GetPipelineExecution until the execution has `wanted` status; fails at once if it
/// finishes with another.
fn wait_for_execution(s: &Server, pipeline: &str, id: &str, wanted: &str) -> Value {
    poll(
        &format!("execution {id} of {pipeline} to be {wanted}"),
        || {
            let e = execution(s, pipeline, id);
            let now = e["status"].as_str().unwrap_or_default();
            if now == wanted {
                return Some(e);
            }
            assert!(
                !FINISHED.contains(&now),
                "execution {id} ended {now}, not {wanted}: {e:#}"
            );
            None
        },
    )
}

fn state(s: &Server, pipeline: &str) -> Value {
    s.aws_ok(&["get-pipeline-state", "--name", pipeline])
}

fn stage<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["stageStates"]
        .as_array()
        .and_then(|stages| stages.iter().find(|st| st["stageName"] == name))
        .unwrap_or_else(|| panic!("no stage {name} in {state:#}"))
}

fn action_state<'a>(state: &'a Value, stage_name: &str, action: &str) -> &'a Value {
    stage(state, stage_name)["actionStates"]
        .as_array()
        .and_then(|actions| actions.iter().find(|a| a["actionName"] == action))
        .unwrap_or_else(|| panic!("no action {stage_name}/{action} in {state:#}"))
}

/// Polls GetPipelineState until `stage/action` is running for execution `id` (the stage's latest
/// execution) and returns the state.
fn wait_for_running(s: &Server, pipeline: &str, stage_name: &str, action: &str, id: &str) -> Value {
    poll(&format!("{stage_name}/{action} running for {id}"), || {
        let st = state(s, pipeline);
        let running = stage(&st, stage_name)["latestExecution"]["pipelineExecutionId"] == id
            && action_state(&st, stage_name, action)["latestExecution"]["status"] == "InProgress";
        running.then_some(st)
    })
}

/// Polls GetPipelineState until `stage/action` waits for approval with a token other than
/// `previous`, and returns the token.
fn wait_for_token(
    s: &Server,
    pipeline: &str,
    stage_name: &str,
    action: &str,
    previous: Option<&str>,
) -> String {
    poll(
        &format!("an approval token on {stage_name}/{action}"),
        || {
            let st = state(s, pipeline);
            let latest = &action_state(&st, stage_name, action)["latestExecution"];
            let token = latest["token"].as_str()?;
            (latest["status"] == "InProgress" && Some(token) != previous).then(|| token.to_owned())
        },
    )
}

fn approve(
    s: &Server,
    pipeline: &str,
    stage: &str,
    action: &str,
    token: &str,
    result: &str,
) -> Cli {
    s.aws(&[
        "put-approval-result",
        "--pipeline-name",
        pipeline,
        "--stage-name",
        stage,
        "--action-name",
        action,
        "--result",
        result,
        "--token",
        token,
    ])
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Source (S3) → Approval (manual) → Deploy (S3), in `mode` when given (a V2 pipeline).
fn approval_pipeline(name: &str, mode: Option<&str>) -> Value {
    let mut p = json!({
        "name": name,
        "roleArn": "arn:aws:iam::123456789012:role/AWS-CodePipeline-Service",
        "artifactStore": {"type": "S3", "location": ARTIFACT_BUCKET},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "outputArtifacts": [{"name": "SourceOutput"}],
                "configuration": {"S3Bucket": "my-source-bucket", "S3ObjectKey": "app.zip",
                                  "PollForSourceChanges": "false"}}]},
            {"name": "Approval", "actions": [{"name": "Approve",
                "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]},
            {"name": "Deploy", "actions": [{"name": "Deploy",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                "inputArtifacts": [{"name": "SourceOutput"}],
                "configuration": {"BucketName": "my-website-bucket", "Extract": "true"}}]}
        ]
    });
    if let Some(mode) = mode {
        p["pipelineType"] = json!("V2");
        p["executionMode"] = json!(mode);
    }
    p
}

const PIPELINE: &str = "my-pipeline";
const BUILD_FIXTURE: &str = "pipelines/s3-build-deploy.json";

// ---------------------------------------------------------------------------------------------
// 1. A pipeline runs to the end
// ---------------------------------------------------------------------------------------------

#[test]
fn s3_build_deploy_runs_to_succeeded() {
    let s = Server::fast();
    let first = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    assert!(is_uuid(&first), "execution id {first}");
    wait_for_execution(&s, PIPELINE, &first, "Succeeded");

    let list = s.execution_summaries(PIPELINE);
    assert_eq!(list.len(), 1, "{list:#?}");
    let summary = &list[0];
    assert_eq!(summary["pipelineExecutionId"], first.as_str());
    assert_eq!(summary["status"], "Succeeded");
    assert_eq!(summary["trigger"]["triggerType"], "CreatePipeline");
    assert!(summary["startTime"].is_number() && summary["lastUpdateTime"].is_number());
    let revisions = summary["sourceRevisions"]
        .as_array()
        .expect("sourceRevisions");
    assert_eq!(revisions.len(), 1, "{summary:#}");
    assert_eq!(revisions[0]["actionName"], "Source");
    let revision_id = revisions[0]["revisionId"].as_str().expect("revisionId");
    assert!(!revision_id.is_empty());

    let e = execution(&s, PIPELINE, &first);
    assert_eq!(e["pipelineName"], PIPELINE);
    assert_eq!(e["pipelineVersion"], 1);
    assert_eq!(e["pipelineExecutionId"], first.as_str());
    assert_eq!(e["status"], "Succeeded");
    assert_eq!(e["trigger"]["triggerType"], "CreatePipeline");
    let artifacts = e["artifactRevisions"]
        .as_array()
        .expect("artifactRevisions");
    assert_eq!(artifacts.len(), 1, "{e:#}");
    assert_eq!(artifacts[0]["name"], "SourceOutput");
    assert_eq!(artifacts[0]["revisionId"], revision_id);

    let second = start(&s, PIPELINE);
    assert_ne!(second, first);
    let e = wait_for_execution(&s, PIPELINE, &second, "Succeeded");
    assert_eq!(e["trigger"]["triggerType"], "StartPipelineExecution");
    let list = s.execution_summaries(PIPELINE);
    let ids: Vec<&str> = list
        .iter()
        .filter_map(|e| e["pipelineExecutionId"].as_str())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");

    let st = state(&s, PIPELINE);
    assert_eq!(st["pipelineName"], PIPELINE);
    assert_eq!(st["pipelineVersion"], 1);
    for name in ["Source", "Build", "Deploy"] {
        let latest = &stage(&st, name)["latestExecution"];
        assert_eq!(latest["status"], "Succeeded", "stage {name}: {st:#}");
        assert_eq!(latest["pipelineExecutionId"], second.as_str());
    }
    let build = &action_state(&st, "Build", "Build")["latestExecution"];
    assert_eq!(build["status"], "Succeeded");
    let external = build["externalExecutionId"]
        .as_str()
        .expect("externalExecutionId");
    let build_id = external
        .strip_prefix("my-build-project:")
        .unwrap_or_else(|| panic!("externalExecutionId {external}"));
    assert!(is_uuid(build_id), "externalExecutionId {external}");

    let details = s.action_executions(PIPELINE, &second);
    assert_eq!(details.len(), 3, "{details:#?}");
    for d in &details {
        assert_eq!(d["pipelineExecutionId"], second.as_str());
        assert_eq!(d["status"], "Succeeded");
        assert!(d["input"]["resolvedConfiguration"].is_object(), "{d:#}");
        assert_eq!(
            d["input"]["resolvedConfiguration"],
            d["input"]["configuration"]
        );
    }
    let source = action_detail(&details, "Source");
    let vars = &source["output"]["outputVariables"];
    assert_eq!(vars["BucketName"], "my-source-bucket", "{source:#}");
    assert_eq!(vars["ObjectKey"], "app.zip");
    assert!(
        vars["ETag"].as_str().is_some_and(|t| !t.is_empty()),
        "{vars}"
    );
    let second_revision = &s.execution_summaries(PIPELINE)[0]["sourceRevisions"][0]["revisionId"];
    assert_eq!(&vars["VersionId"], second_revision);
    let source_output = &source["output"]["outputArtifacts"][0];
    assert_eq!(source_output["name"], "SourceOutput");
    let build = action_detail(&details, "Build");
    assert_eq!(build["stageName"], "Build");
    let input = &build["input"]["inputArtifacts"][0];
    assert_eq!(input["name"], "SourceOutput", "{build:#}");
    assert_eq!(input["s3location"]["bucket"], ARTIFACT_BUCKET);
    assert_eq!(input["s3location"], source_output["s3location"]);
    assert_eq!(
        build["output"]["executionResult"]["externalExecutionId"],
        external
    );
    let deploy = action_detail(&details, "Deploy");
    let input = &deploy["input"]["inputArtifacts"][0];
    assert_eq!(input["name"], "BuildOutput", "{deploy:#}");
    assert_eq!(input["s3location"]["bucket"], ARTIFACT_BUCKET);
}

#[test]
fn succeeded_in_stage_filter_and_client_request_token() {
    let s = Server::fast();
    let first = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_execution(&s, PIPELINE, &first, "Succeeded");
    fail_action(&s, PIPELINE, "Deploy", 1, "deploy broke");
    let failed = start(&s, PIPELINE);
    wait_for_execution(&s, PIPELINE, &failed, "Failed");

    let all = s.execution_summaries(PIPELINE);
    assert_eq!(all.len(), 2, "{all:#?}");
    let list = s.aws_ok(&[
        "list-pipeline-executions",
        "--pipeline-name",
        PIPELINE,
        "--filter",
        "succeededInStage={stageName=Deploy}",
    ]);
    let ids: Vec<&str> = list["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .filter_map(|e| e["pipelineExecutionId"].as_str())
        .collect();
    assert_eq!(ids, [first.as_str()], "{list:#}");
    let build = s.aws_ok(&[
        "list-pipeline-executions",
        "--pipeline-name",
        PIPELINE,
        "--filter",
        "succeededInStage={stageName=Build}",
    ]);
    assert_eq!(
        build["pipelineExecutionSummaries"].as_array().map(Vec::len),
        Some(2),
        "{build:#}"
    );

    let with_token = |token: &str| {
        s.aws_ok(&[
            "start-pipeline-execution",
            "--name",
            PIPELINE,
            "--client-request-token",
            token,
        ])["pipelineExecutionId"]
            .as_str()
            .expect("pipelineExecutionId")
            .to_owned()
    };
    let once = with_token("deploy-request-1");
    let again = with_token("deploy-request-1");
    assert_eq!(once, again, "the same client request token starts once");
    wait_for_execution(&s, PIPELINE, &once, "Succeeded");
    let other = with_token("deploy-request-2");
    assert_ne!(other, once);
    wait_for_execution(&s, PIPELINE, &other, "Succeeded");
    assert_eq!(s.execution_summaries(PIPELINE).len(), 4);
}

// ---------------------------------------------------------------------------------------------
// 2. Manual approval
// ---------------------------------------------------------------------------------------------

#[test]
fn manual_approval_approve_reject_and_errors() {
    let s = Server::fast();
    let p = "approvals";
    let first = create(&s, &approval_pipeline(p, None));
    let token = wait_for_token(&s, p, "Approval", "Approve", None);
    assert!(is_uuid(&token), "token {token}");
    let st = state(&s, p);
    assert_eq!(
        stage(&st, "Approval")["latestExecution"]["status"],
        "InProgress"
    );
    assert_eq!(status(&s, p, &first), "InProgress");

    let wrong = approve(
        &s,
        p,
        "Approval",
        "Approve",
        UNKNOWN_TOKEN,
        "summary=ok,status=Approved",
    );
    assert!(!wrong.ok);
    assert_eq!(
        wrong.error().0,
        "InvalidApprovalTokenException",
        "{}",
        wrong.stderr
    );
    let no_stage = approve(
        &s,
        p,
        "Nope",
        "Approve",
        &token,
        "summary=ok,status=Approved",
    );
    assert_eq!(
        no_stage.error().0,
        "StageNotFoundException",
        "{}",
        no_stage.stderr
    );
    let no_action = approve(
        &s,
        p,
        "Approval",
        "Nope",
        &token,
        "summary=ok,status=Approved",
    );
    assert_eq!(
        no_action.error().0,
        "ActionNotFoundException",
        "{}",
        no_action.stderr
    );
    assert_eq!(status(&s, p, &first), "InProgress", "errors change nothing");

    let approved = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token,
        "summary=ok,status=Approved",
    );
    assert!(approved.ok, "{}", approved.stderr);
    assert!(approved.json["approvedAt"].is_number(), "{}", approved.json);
    wait_for_execution(&s, p, &first, "Succeeded");
    let st = state(&s, p);
    let latest = &action_state(&st, "Approval", "Approve")["latestExecution"];
    assert_eq!(latest["status"], "Succeeded", "{st:#}");
    assert_eq!(latest["summary"], "ok");
    assert!(
        latest.get("token").is_none(),
        "no token once answered: {latest}"
    );
    assert_eq!(
        stage(&st, "Deploy")["latestExecution"]["status"],
        "Succeeded"
    );

    let twice = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token,
        "summary=again,status=Approved",
    );
    assert_eq!(
        twice.error().0,
        "ApprovalAlreadyCompletedException",
        "{}",
        twice.stderr
    );

    let second = start(&s, p);
    let token2 = wait_for_token(&s, p, "Approval", "Approve", Some(&token));
    let rejected = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token2,
        "summary=not today,status=Rejected",
    );
    assert!(rejected.ok, "{}", rejected.stderr);
    assert!(rejected.json["approvedAt"].is_number());
    let e = wait_for_execution(&s, p, &second, "Failed");
    assert_eq!(e["statusSummary"], "not today", "{e:#}");
    let st = state(&s, p);
    let approval = stage(&st, "Approval");
    assert_eq!(approval["latestExecution"]["status"], "Failed", "{st:#}");
    assert_eq!(
        approval["latestExecution"]["pipelineExecutionId"],
        second.as_str()
    );
    assert_eq!(
        action_state(&st, "Approval", "Approve")["latestExecution"]["status"],
        "Failed"
    );
    let deploy = &stage(&st, "Deploy")["latestExecution"];
    assert_eq!(
        deploy["pipelineExecutionId"],
        first.as_str(),
        "rejected never deploys"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Stop
// ---------------------------------------------------------------------------------------------

fn stop(s: &Server, id: &str, extra: &[&str]) -> Cli {
    let mut args = vec![
        "stop-pipeline-execution",
        "--pipeline-name",
        PIPELINE,
        "--pipeline-execution-id",
        id,
    ];
    args.extend_from_slice(extra);
    s.aws(&args)
}

#[test]
fn stop_with_abandon_abandons_the_running_action() {
    let s = Server::fast();
    control(
        &s,
        "/_local/faults",
        json!({"pipeline": PIPELINE, "action": "Build", "type": "hang"}),
    );
    let id = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_running(&s, PIPELINE, "Build", "Build", &id);

    let reply = stop(&s, &id, &["--abandon", "--reason", "hung build"]);
    assert!(reply.ok, "{}", reply.stderr);
    assert_eq!(reply.json, json!({ "pipelineExecutionId": id }));
    wait_for_execution(&s, PIPELINE, &id, "Stopped");
    let st = state(&s, PIPELINE);
    assert_eq!(
        action_state(&st, "Build", "Build")["latestExecution"]["status"],
        "Abandoned",
        "{st:#}"
    );
    assert_eq!(stage(&st, "Build")["latestExecution"]["status"], "Stopped");
    assert!(
        stage(&st, "Deploy").get("latestExecution").is_none(),
        "Deploy never ran: {st:#}"
    );
    let summary = &s.execution_summaries(PIPELINE)[0];
    assert_eq!(summary["status"], "Stopped");
    assert_eq!(
        summary["stopTrigger"]["reason"], "hung build",
        "{summary:#}"
    );

    let again = stop(&s, &id, &["--abandon"]);
    assert_eq!(
        again.error().0,
        "PipelineExecutionNotStoppableException",
        "{}",
        again.stderr
    );
}

#[test]
fn stop_then_abandon_a_stopping_execution() {
    let s = Server::fast();
    control(
        &s,
        "/_local/faults",
        json!({"pipeline": PIPELINE, "action": "Build", "type": "hang"}),
    );
    let id = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_running(&s, PIPELINE, "Build", "Build", &id);

    let first = stop(&s, &id, &[]);
    assert!(first.ok, "{}", first.stderr);
    assert_eq!(status(&s, PIPELINE, &id), "Stopping");
    let twice = stop(&s, &id, &[]);
    assert_eq!(
        twice.error().0,
        "DuplicatedStopRequestException",
        "{}",
        twice.stderr
    );
    // AWS lets an execution that is already Stopping be stopped and abandoned.
    let abandon = stop(&s, &id, &["--abandon"]);
    assert!(abandon.ok, "{}", abandon.stderr);
    wait_for_execution(&s, PIPELINE, &id, "Stopped");
    let st = state(&s, PIPELINE);
    assert_eq!(
        action_state(&st, "Build", "Build")["latestExecution"]["status"],
        "Abandoned"
    );
}

#[test]
fn stop_without_abandon_lets_the_running_action_finish() {
    let s = Server::fast();
    // The build takes an hour of engine time, so Stopping lasts until the test moves the clock
    // on: no race with the (slow, about a second per call) aws CLI.
    control(
        &s,
        "/_local/config",
        json!({"providerDurations": {"CodeBuild": "1h"}}),
    );
    let id = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_running(&s, PIPELINE, "Build", "Build", &id);

    let reply = stop(&s, &id, &["--reason", "after the build"]);
    assert!(reply.ok, "{}", reply.stderr);
    assert_eq!(reply.json, json!({ "pipelineExecutionId": id }));
    assert_eq!(status(&s, PIPELINE, &id), "Stopping");
    let st = state(&s, PIPELINE);
    assert_eq!(
        stage(&st, "Build")["latestExecution"]["status"],
        "Stopping",
        "{st:#}"
    );
    assert_eq!(
        action_state(&st, "Build", "Build")["latestExecution"]["status"],
        "InProgress"
    );
    let twice = stop(&s, &id, &["--reason", "again"]);
    assert_eq!(
        twice.error().0,
        "DuplicatedStopRequestException",
        "{}",
        twice.stderr
    );
    assert_eq!(status(&s, PIPELINE, &id), "Stopping");

    control(&s, "/_local/clock", json!({ "advance": "1h" }));
    wait_for_execution(&s, PIPELINE, &id, "Stopped");
    let st = state(&s, PIPELINE);
    assert_eq!(
        action_state(&st, "Build", "Build")["latestExecution"]["status"],
        "Succeeded",
        "{st:#}"
    );
    assert_eq!(stage(&st, "Build")["latestExecution"]["status"], "Stopped");
    assert!(
        stage(&st, "Deploy").get("latestExecution").is_none(),
        "{st:#}"
    );

    let finished = stop(&s, &id, &[]);
    let (code, _) = finished.error();
    assert_eq!(
        code, "PipelineExecutionNotStoppableException",
        "{}",
        finished.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Faults and retries
// ---------------------------------------------------------------------------------------------

fn retry(s: &Server, stage: &str, id: &str) -> Cli {
    s.aws(&[
        "retry-stage-execution",
        "--pipeline-name",
        PIPELINE,
        "--stage-name",
        stage,
        "--pipeline-execution-id",
        id,
        "--retry-mode",
        "FAILED_ACTIONS",
    ])
}

#[test]
fn failed_action_then_retry_failed_actions() {
    let s = Server::fast();
    fail_action(&s, PIPELINE, "Build", 1, "boom");
    let id = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    let e = wait_for_execution(&s, PIPELINE, &id, "Failed");
    assert_eq!(e["statusSummary"], "boom", "{e:#}");
    assert_eq!(s.execution_summaries(PIPELINE)[0]["statusSummary"], "boom");
    let st = state(&s, PIPELINE);
    assert_eq!(
        stage(&st, "Build")["latestExecution"]["status"],
        "Failed",
        "{st:#}"
    );
    let build = &action_state(&st, "Build", "Build")["latestExecution"];
    assert_eq!(build["status"], "Failed");
    assert_eq!(build["errorDetails"]["message"], "boom", "{build:#}");
    assert!(build["errorDetails"]["code"].is_string());
    let failed_run = action_detail(&s.action_executions(PIPELINE, &id), "Build");
    assert_eq!(failed_run["status"], "Failed");
    assert_eq!(
        failed_run["output"]["executionResult"]["errorDetails"]["message"], "boom",
        "{failed_run:#}"
    );

    let reply = retry(&s, "Build", &id);
    assert!(reply.ok, "{}", reply.stderr);
    assert_eq!(reply.json, json!({ "pipelineExecutionId": id }));
    let e = wait_for_execution(&s, PIPELINE, &id, "Succeeded");
    assert!(e.get("statusSummary").is_none(), "{e:#}");
    assert_eq!(
        s.execution_summaries(PIPELINE).len(),
        1,
        "a retry starts no new execution"
    );
    let st = state(&s, PIPELINE);
    for name in ["Build", "Deploy"] {
        let latest = &stage(&st, name)["latestExecution"];
        assert_eq!(latest["status"], "Succeeded", "{st:#}");
        assert_eq!(latest["pipelineExecutionId"], id.as_str());
    }

    let succeeded = retry(&s, "Build", &id);
    assert_eq!(
        succeeded.error().0,
        "StageNotRetryableException",
        "{}",
        succeeded.stderr
    );
    let unknown = retry(&s, "Nope", &id);
    assert_eq!(
        unknown.error().0,
        "StageNotFoundException",
        "{}",
        unknown.stderr
    );

    // An older execution that failed in Build, then a newer one that ran Build.
    fail_action(&s, PIPELINE, "Build", 1, "boom again");
    let older = start(&s, PIPELINE);
    wait_for_execution(&s, PIPELINE, &older, "Failed");
    let newer = start(&s, PIPELINE);
    wait_for_execution(&s, PIPELINE, &newer, "Succeeded");
    let stale = retry(&s, "Build", &older);
    assert_eq!(
        stale.error().0,
        "NotLatestPipelineExecutionException",
        "{}",
        stale.stderr
    );
}

#[test]
fn retried_action_keeps_its_failed_attempt_in_the_history() {
    let s = Server::fast();
    fail_action(&s, PIPELINE, "Build", 1, "boom");
    let id = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_execution(&s, PIPELINE, &id, "Failed");
    let reply = retry(&s, "Build", &id);
    assert!(reply.ok, "{}", reply.stderr);
    wait_for_execution(&s, PIPELINE, &id, "Succeeded");
    // Each attempt is its own action execution, so ListActionExecutions shows both.
    let details = s.action_executions(PIPELINE, &id);
    let builds: Vec<&Value> = details
        .iter()
        .filter(|d| d["actionName"] == "Build")
        .collect();
    let statuses: Vec<&str> = builds.iter().filter_map(|d| d["status"].as_str()).collect();
    assert_eq!(statuses, ["Succeeded", "Failed"], "{details:#?}");
    assert_ne!(
        builds[0]["actionExecutionId"],
        builds[1]["actionExecutionId"]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Stage transitions
// ---------------------------------------------------------------------------------------------

fn transition(s: &Server, command: &str, stage: &str, extra: &[&str]) -> Cli {
    let mut args = vec![
        command,
        "--pipeline-name",
        PIPELINE,
        "--stage-name",
        stage,
        "--transition-type",
        "Inbound",
    ];
    args.extend_from_slice(extra);
    s.aws(&args)
}

#[test]
fn disabled_transition_holds_the_execution_until_enabled() {
    let s = Server::fast();
    let first = create_fixture(&s, BUILD_FIXTURE, PIPELINE);
    wait_for_execution(&s, PIPELINE, &first, "Succeeded");

    let disabled = transition(
        &s,
        "disable-stage-transition",
        "Build",
        &["--reason", "freeze"],
    );
    assert!(disabled.ok, "{}", disabled.stderr);
    assert_eq!(disabled.json, Value::Null, "no output");
    let held = start(&s, PIPELINE);
    let st = poll("the execution to wait before Build", || {
        let st = state(&s, PIPELINE);
        (stage(&st, "Build")["inboundExecution"]["pipelineExecutionId"] == held.as_str())
            .then_some(st)
    });
    let build = stage(&st, "Build");
    let inbound = &build["inboundTransitionState"];
    assert_eq!(inbound["enabled"], false, "{build:#}");
    assert_eq!(inbound["disabledReason"], "freeze");
    assert!(
        inbound["lastChangedBy"]
            .as_str()
            .is_some_and(|by| by.starts_with("arn:aws:iam::")),
        "{inbound}"
    );
    assert!(inbound["lastChangedAt"].is_number());
    assert_eq!(build["inboundExecution"]["status"], "InProgress");
    assert_eq!(
        build["latestExecution"]["pipelineExecutionId"],
        first.as_str()
    );
    assert_eq!(
        stage(&st, "Source")["latestExecution"]["pipelineExecutionId"],
        held.as_str()
    );
    assert_eq!(status(&s, PIPELINE, &held), "InProgress");

    let enabled = transition(&s, "enable-stage-transition", "Build", &[]);
    assert!(enabled.ok, "{}", enabled.stderr);
    wait_for_execution(&s, PIPELINE, &held, "Succeeded");
    let st = state(&s, PIPELINE);
    let build = stage(&st, "Build");
    assert_eq!(
        build["inboundTransitionState"]["enabled"], true,
        "{build:#}"
    );
    assert!(build.get("inboundExecution").is_none(), "{build:#}");
    assert_eq!(
        build["latestExecution"]["pipelineExecutionId"],
        held.as_str()
    );

    let unknown = transition(
        &s,
        "disable-stage-transition",
        "Nope",
        &["--reason", "freeze"],
    );
    assert_eq!(
        unknown.error().0,
        "StageNotFoundException",
        "{}",
        unknown.stderr
    );
    let unknown = transition(&s, "enable-stage-transition", "Nope", &[]);
    assert_eq!(
        unknown.error().0,
        "StageNotFoundException",
        "{}",
        unknown.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Execution modes
// ---------------------------------------------------------------------------------------------

/// Polls until the Approval stage has exactly `ids` waiting before it (in any order).
fn wait_for_inbound(s: &Server, pipeline: &str, ids: &[&str]) -> Value {
    let mut wanted: Vec<&str> = ids.to_vec();
    wanted.sort_unstable();
    poll(&format!("{ids:?} waiting before Approval"), || {
        let st = state(s, pipeline);
        let approval = stage(&st, "Approval");
        let mut waiting: Vec<String> = approval["inboundExecutions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["pipelineExecutionId"].as_str().map(str::to_owned))
            .collect();
        waiting.sort_unstable();
        (waiting == wanted).then_some(st)
    })
}

#[test]
fn superseded_mode_supersedes_the_older_waiting_execution() {
    let s = Server::fast();
    let p = "superseding";
    let first = create(&s, &approval_pipeline(p, None));
    let token = wait_for_token(&s, p, "Approval", "Approve", None);
    let second = start(&s, p);
    wait_for_inbound(&s, p, &[&second]);
    assert_eq!(status(&s, p, &second), "InProgress");

    let third = start(&s, p);
    let e = wait_for_execution(&s, p, &second, "Superseded");
    assert_eq!(e["pipelineExecutionId"], second.as_str());
    let st = wait_for_inbound(&s, p, &[&third]);
    assert_eq!(
        stage(&st, "Approval")["inboundExecution"]["pipelineExecutionId"],
        third.as_str()
    );
    assert_eq!(status(&s, p, &first), "InProgress");
    assert_eq!(status(&s, p, &third), "InProgress");
    let listed = s.execution_summaries(p);
    let superseded = listed
        .iter()
        .find(|e| e["pipelineExecutionId"] == second.as_str());
    assert_eq!(superseded.map(|e| &e["status"]), Some(&json!("Superseded")));

    let approved = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token,
        "summary=ok,status=Approved",
    );
    assert!(approved.ok, "{}", approved.stderr);
    wait_for_execution(&s, p, &first, "Succeeded");
    wait_for_token(&s, p, "Approval", "Approve", Some(&token));
    let in_approval = action_detail(&s.action_executions(p, &third), "Approve");
    assert_eq!(in_approval["status"], "InProgress");
}

#[test]
fn queued_mode_lets_waiting_executions_in_in_order() {
    let s = Server::fast();
    let p = "queued";
    let first = create(&s, &approval_pipeline(p, Some("QUEUED")));
    let token = wait_for_token(&s, p, "Approval", "Approve", None);
    let second = start(&s, p);
    wait_for_inbound(&s, p, &[&second]);
    let third = start(&s, p);
    wait_for_inbound(&s, p, &[&second, &third]);
    for id in [&first, &second, &third] {
        let e = execution(&s, p, id);
        assert_eq!(e["status"], "InProgress", "{e:#}");
        assert_eq!(e["executionMode"], "QUEUED");
    }

    let approved = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token,
        "summary=ok,status=Approved",
    );
    assert!(approved.ok, "{}", approved.stderr);
    wait_for_execution(&s, p, &first, "Succeeded");
    wait_for_token(&s, p, "Approval", "Approve", Some(&token));
    let st = wait_for_inbound(&s, p, &[&third]);
    assert_eq!(
        stage(&st, "Approval")["latestExecution"]["pipelineExecutionId"],
        second.as_str(),
        "the oldest waiting execution enters first: {st:#}"
    );
    let in_approval = action_detail(&s.action_executions(p, &second), "Approve");
    assert_eq!(in_approval["status"], "InProgress");
    assert_eq!(status(&s, p, &third), "InProgress");
    assert!(
        s.execution_summaries(p)
            .iter()
            .all(|e| e["status"] != "Superseded"),
        "QUEUED supersedes nothing"
    );
}

#[test]
fn parallel_mode_runs_executions_side_by_side() {
    let s = Server::fast();
    let p = "parallel";
    let first = create(&s, &approval_pipeline(p, Some("PARALLEL")));
    let token1 = wait_for_token(&s, p, "Approval", "Approve", None);
    let second = start(&s, p);
    let token2 = wait_for_token(&s, p, "Approval", "Approve", Some(&token1));
    assert_ne!(token1, token2);

    let mut approval_runs = Vec::new();
    for id in [&first, &second] {
        let e = execution(&s, p, id);
        assert_eq!(e["status"], "InProgress", "{e:#}");
        assert_eq!(e["executionMode"], "PARALLEL");
        let run = action_detail(&s.action_executions(p, id), "Approve");
        assert_eq!(run["status"], "InProgress", "{run:#}");
        approval_runs.push(run["actionExecutionId"].clone());
    }
    assert_ne!(approval_runs[0], approval_runs[1]);
    let st = state(&s, p);
    assert!(
        stage(&st, "Approval").get("inboundExecution").is_none(),
        "{st:#}"
    );

    // Each pending approval answers to its own token.
    let approved = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token2,
        "summary=ok,status=Approved",
    );
    assert!(approved.ok, "{}", approved.stderr);
    wait_for_execution(&s, p, &second, "Succeeded");
    assert_eq!(status(&s, p, &first), "InProgress");
    let approved = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token1,
        "summary=ok,status=Approved",
    );
    assert!(
        approved.ok,
        "approving the older execution: {}",
        approved.stderr
    );
    wait_for_execution(&s, p, &first, "Succeeded");
}

// ---------------------------------------------------------------------------------------------
// 7. Variables
// ---------------------------------------------------------------------------------------------

/// The CodeBuild `EnvironmentVariables` setting naming these three values.
fn environment_variables(env: &str, etag: &str, execution_id: &str) -> String {
    json!([
        {"name": "DEPLOY_ENV", "value": env, "type": "PLAINTEXT"},
        {"name": "SOURCE_ETAG", "value": etag, "type": "PLAINTEXT"},
        {"name": "EXECUTION_ID", "value": execution_id, "type": "PLAINTEXT"}
    ])
    .to_string()
}

fn variables_pipeline() -> Value {
    let mut p = fixture_json(BUILD_FIXTURE)["pipeline"].clone();
    p["name"] = json!("variables");
    p["pipelineType"] = json!("V2");
    p["variables"] = json!([{"name": "env", "defaultValue": "dev", "description": "target"}]);
    p["stages"][1]["actions"][0]["configuration"] = json!({
        "ProjectName": "my-build-project",
        "EnvironmentVariables": environment_variables(
            "#{variables.env}",
            "#{SourceVariables.ETag}",
            "#{codepipeline.PipelineExecutionId}",
        ),
    });
    p
}

/// The Build action's resolved configuration must name `env`, the source's ETag and `id`.
fn assert_resolved(s: &Server, pipeline: &str, id: &str, env: &str) {
    let details = s.action_executions(pipeline, id);
    let etag = action_detail(&details, "Source")["output"]["outputVariables"]["ETag"]
        .as_str()
        .expect("ETag")
        .to_owned();
    let build = action_detail(&details, "Build");
    let resolved = &build["input"]["resolvedConfiguration"];
    assert_eq!(resolved["ProjectName"], "my-build-project", "{build:#}");
    assert_eq!(
        resolved["EnvironmentVariables"],
        environment_variables(env, &etag, id)
    );
    assert_ne!(resolved, &build["input"]["configuration"]);
}

#[test]
fn variables_resolve_in_action_configuration() {
    let s = Server::fast();
    let p = "variables";
    let first = create(&s, &variables_pipeline());
    let e = wait_for_execution(&s, p, &first, "Succeeded");
    assert_eq!(
        e["variables"],
        json!([{"name": "env", "resolvedValue": "dev"}])
    );
    assert_resolved(&s, p, &first, "dev");

    let reply = s.aws_ok(&[
        "start-pipeline-execution",
        "--name",
        p,
        "--variables",
        "name=env,value=prod",
    ]);
    let id = reply["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let e = wait_for_execution(&s, p, &id, "Succeeded");
    assert_eq!(
        e["variables"],
        json!([{"name": "env", "resolvedValue": "prod"}]),
        "{e:#}"
    );
    assert_resolved(&s, p, &id, "prod");

    let undeclared = &[
        "start-pipeline-execution",
        "--name",
        p,
        "--variables",
        "name=region,value=eu-west-1",
    ];
    assert_error(&s, undeclared, "ValidationException");
    assert_eq!(
        s.execution_summaries(p).len(),
        2,
        "a refused start starts nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Approval expiry
// ---------------------------------------------------------------------------------------------

#[test]
fn unanswered_approval_fails_after_seven_days() {
    let s = Server::fast();
    let p = "expiring";
    let id = create(&s, &approval_pipeline(p, None));
    let token = wait_for_token(&s, p, "Approval", "Approve", None);
    control(&s, "/_local/clock", json!({ "advance": "7d" }));
    wait_for_execution(&s, p, &id, "Failed");
    let st = state(&s, p);
    assert_eq!(
        stage(&st, "Approval")["latestExecution"]["status"],
        "Failed",
        "{st:#}"
    );
    let latest = &action_state(&st, "Approval", "Approve")["latestExecution"];
    assert_eq!(latest["status"], "Failed");
    assert!(latest["errorDetails"]["message"].is_string(), "{latest:#}");
    let late = approve(
        &s,
        p,
        "Approval",
        "Approve",
        &token,
        "summary=late,status=Approved",
    );
    assert!(!late.ok, "an expired approval cannot be answered");
}

// ---------------------------------------------------------------------------------------------
// 9. The aws CLI's documented examples (awscli/examples/codepipeline/*.rst). There is no
//    get-pipeline-execution.rst in the installed aws CLI.
// ---------------------------------------------------------------------------------------------

const MY_FIRST_PIPELINE: &str = "MyFirstPipeline";

/// get-pipeline-state.rst: `aws codepipeline get-pipeline-state --name MyFirstPipeline`.
#[test]
fn example_get_pipeline_state() {
    let s = Server::fast();
    let id = create_fixture(&s, "executions/my-first-pipeline.json", MY_FIRST_PIPELINE);
    wait_for_execution(&s, MY_FIRST_PIPELINE, &id, "Succeeded");
    let got = s.aws_ok(&["get-pipeline-state", "--name", "MyFirstPipeline"]);
    let documented = json!({
        "created": 1446137312.204,
        "pipelineName": "MyFirstPipeline",
        "pipelineVersion": 1,
        "stageStates": [
            {"actionStates": [{"actionName": "Source",
                "entityUrl": "https://console.aws.amazon.com/s3/home?#",
                "latestExecution": {"lastStatusChange": 1446137358.328, "status": "Succeeded"}}],
             "stageName": "Source"},
            {"actionStates": [{"actionName": "CodePipelineDemoFleet",
                "entityUrl": "https://console.aws.amazon.com/codedeploy/home?#/applications/CodePipelineDemoApplication/deployment-groups/CodePipelineDemoFleet",
                "latestExecution": {"externalExecutionId": "d-EXAMPLE",
                    "externalExecutionUrl": "https://console.aws.amazon.com/codedeploy/home?#/deployments/d-EXAMPLE",
                    "lastStatusChange": 1446137493.131, "status": "Succeeded",
                    "summary": "Deployment Succeeded"}}],
             "inboundTransitionState": {"enabled": true},
             "stageName": "Beta"}
        ],
        "updated": 1446137312.204
    });
    assert_eq!(got["pipelineName"], "MyFirstPipeline");
    assert_eq!(got["pipelineVersion"], 1);
    assert_eq!(got["stageStates"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        stage(&got, "Beta")["inboundTransitionState"],
        json!({"enabled": true})
    );
    let fleet = &action_state(&got, "Beta", "CodePipelineDemoFleet")["latestExecution"];
    assert!(
        fleet["externalExecutionId"]
            .as_str()
            .is_some_and(|d| d.starts_with("d-")),
        "CodeDeploy deployment ids look like d-XXXXXXXXX: {fleet}"
    );
    assert_eq!(fleet["status"], "Succeeded");
    assert_shape(&documented, &got, "get-pipeline-state");
}

/// list-pipeline-executions.rst: `aws codepipeline list-pipeline-executions --pipeline-name
/// MyPipeline` after three successful runs.
#[test]
fn example_list_pipeline_executions() {
    let s = Server::fast();
    let first = create_fixture(&s, "executions/my-pipeline.json", "MyPipeline");
    wait_for_execution(&s, "MyPipeline", &first, "Succeeded");
    let mut ids = vec![first];
    for _ in 0..2 {
        let id = start(&s, "MyPipeline");
        wait_for_execution(&s, "MyPipeline", &id, "Succeeded");
        ids.push(id);
    }
    let got = s.aws_ok(&["list-pipeline-executions", "--pipeline-name", "MyPipeline"]);
    let entry = json!({"lastUpdateTime": 1496380678.648,
        "pipelineExecutionId": "7cf7f7cb-3137-539g-j458-d7eu3EXAMPLE",
        "startTime": 1496380258.243, "status": "Succeeded"});
    let documented = json!({ "pipelineExecutionSummaries": [entry, entry, entry] });
    assert_shape(&documented, &got, "list-pipeline-executions");
    let listed: Vec<&str> = got["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .filter_map(|e| e["pipelineExecutionId"].as_str())
        .collect();
    // AWS lists the most recent execution first.
    ids.reverse();
    assert_eq!(listed, ids);
    for e in got["pipelineExecutionSummaries"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(e["status"], "Succeeded");
        assert!(
            e["startTime"].as_f64() <= e["lastUpdateTime"].as_f64(),
            "{e}"
        );
    }
}

/// list-action-executions.rst: `aws codepipeline list-action-executions --pipeline-name
/// myPipeline` on a CodeCommit → CodeDeploy pipeline named as in the example.
#[test]
fn example_list_action_executions() {
    let s = Server::fast();
    let id = create_fixture(&s, "executions/my-codecommit-pipeline.json", "myPipeline");
    wait_for_execution(&s, "myPipeline", &id, "Succeeded");
    let got = s.aws_ok(&["list-action-executions", "--pipeline-name", "myPipeline"]);
    let documented = json!({"actionExecutionDetails": [
        {"pipelineExecutionId": "EXAMPLE0-adfc-488e-bf4c-1111111720d3",
         "actionExecutionId": "EXAMPLE4-2ee8-4853-bd6a-111111158148",
         "pipelineVersion": 12, "stageName": "Deploy", "actionName": "Deploy",
         "startTime": 1598572628.6, "lastUpdateTime": 1598572661.255, "status": "Succeeded",
         "input": {
             "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeploy", "version": "1"},
             "configuration": {"ApplicationName": "my-application", "DeploymentGroupName": "my-deployment-group"},
             "resolvedConfiguration": {"ApplicationName": "my-application", "DeploymentGroupName": "my-deployment-group"},
             "region": "us-east-1",
             "inputArtifacts": [{"name": "SourceArtifact",
                 "s3location": {"bucket": "artifact-bucket", "key": "myPipeline/SourceArti/key"}}],
             "namespace": "DeployVariables"},
         "output": {"outputArtifacts": [],
             "executionResult": {"externalExecutionId": "d-EXAMPLEE5",
                 "externalExecutionSummary": "Deployment Succeeded",
                 "externalExecutionUrl": "https://myaddress.com"},
             "outputVariables": {}}},
        {"pipelineExecutionId": "EXAMPLE0-adfc-488e-bf4c-1111111720d3",
         "actionExecutionId": "EXAMPLE5-abb4-4192-9031-11111113a7b0",
         "pipelineVersion": 12, "stageName": "Source", "actionName": "Source",
         "startTime": 1598572624.387, "lastUpdateTime": 1598572628.16, "status": "Succeeded",
         "input": {
             "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"},
             "configuration": {"BranchName": "production", "PollForSourceChanges": "false", "RepositoryName": "my-repo"},
             "resolvedConfiguration": {"BranchName": "production", "PollForSourceChanges": "false", "RepositoryName": "my-repo"},
             "region": "us-east-1", "inputArtifacts": [], "namespace": "SourceVariables"},
         "output": {
             "outputArtifacts": [{"name": "SourceArtifact",
                 "s3location": {"bucket": "amzn-s3-demo-bucket", "key": "myPipeline/SourceArti/key"}}],
             "executionResult": {"externalExecutionId": "1111111ad99dcd35914c00b7fbea13995EXAMPLE",
                 "externalExecutionSummary": "Edited template.yml",
                 "externalExecutionUrl": "https://myaddress.com"},
             "outputVariables": {"AuthorDate": "2020-05-08T17:45:43Z", "BranchName": "production",
                 "CommitId": "EXAMPLEad99dcd35914c00b7fbea139951111111",
                 "CommitMessage": "Edited template.yml", "CommitterDate": "2020-05-08T17:45:43Z",
                 "RepositoryName": "my-repo"}}}
    ]});
    let details = got["actionExecutionDetails"].as_array().expect("details");
    assert_eq!(details.len(), 2, "{got:#}");
    let deploy = action_detail(details, "Deploy");
    let source = action_detail(details, "Source");
    // Each documented item against ours of the same action; the values that do not vary.
    for doc in documented["actionExecutionDetails"]
        .as_array()
        .expect("doc")
    {
        let name = doc["actionName"].as_str().expect("actionName");
        let detail = action_detail(details, name);
        assert_shape(doc, &detail, &format!("list-action-executions {name}"));
        assert_eq!(detail["pipelineExecutionId"], id.as_str());
        assert_eq!(detail["pipelineVersion"], 1);
        for member in ["stageName", "status"] {
            assert_eq!(detail[member], doc[member]);
        }
        for member in [
            "actionTypeId",
            "configuration",
            "resolvedConfiguration",
            "region",
            "namespace",
        ] {
            assert_eq!(
                detail["input"][member], doc["input"][member],
                "input.{member}"
            );
        }
    }
    assert_eq!(deploy["output"]["outputVariables"], json!({}));
    assert_eq!(source["input"]["inputArtifacts"], json!([]));
    let vars = &source["output"]["outputVariables"];
    assert_eq!(vars["BranchName"], "production");
    assert_eq!(vars["RepositoryName"], "my-repo");
    let commit = vars["CommitId"].as_str().expect("CommitId");
    assert_eq!(commit.len(), 40, "a full commit id: {commit}");
    assert_eq!(
        source["output"]["executionResult"]["externalExecutionId"],
        commit
    );
    let produced = &source["output"]["outputArtifacts"][0]["s3location"];
    assert_eq!(produced["bucket"], "artifact-bucket");
    assert_eq!(
        deploy["input"]["inputArtifacts"][0]["s3location"],
        *produced
    );
    // AWS keys artifacts PIPELINE(20 chars)/ARTIFACT(10 chars)/RANDOM, as the example shows.
    let key = produced["key"].as_str().expect("key");
    assert!(
        key.starts_with("myPipeline/SourceArti/"),
        "artifact key {key}"
    );
    // Newest first, as documented: Deploy started after Source.
    let order: Vec<&str> = details
        .iter()
        .filter_map(|d| d["actionName"].as_str())
        .collect();
    assert_eq!(order, ["Deploy", "Source"]);
}

/// start-pipeline-execution.rst: `aws codepipeline start-pipeline-execution --name
/// MyFirstPipeline` → `{"pipelineExecutionId": ...}`.
#[test]
fn example_start_pipeline_execution() {
    let s = Server::fast();
    let first = create_fixture(&s, "executions/my-first-pipeline.json", MY_FIRST_PIPELINE);
    wait_for_execution(&s, MY_FIRST_PIPELINE, &first, "Succeeded");
    let got = s.aws_ok(&["start-pipeline-execution", "--name", "MyFirstPipeline"]);
    assert_shape(
        &json!({"pipelineExecutionId": "3137f7cb-7cf7-EXAMPLE"}),
        &got,
        "start-pipeline-execution",
    );
    assert_eq!(got.as_object().map(|o| o.len()), Some(1), "{got}");
    let id = got["pipelineExecutionId"].as_str().expect("id");
    assert!(is_uuid(id), "{id}");
    wait_for_execution(&s, MY_FIRST_PIPELINE, id, "Succeeded");
}

/// stop-pipeline-execution.rst: stop after in-progress actions finish, with a reason. The .rst
/// says "This command returns no output", but StopPipelineExecutionOutput carries
/// `pipelineExecutionId`, which the CLI prints.
#[test]
fn example_stop_pipeline_execution() {
    let s = Server::fast();
    // The deployment takes an hour of engine time; the test moves the clock on after the stop.
    control(
        &s,
        "/_local/config",
        json!({"providerDurations": {"CodeDeploy": "1h"}}),
    );
    let id = create_fixture(&s, "executions/my-first-pipeline.json", MY_FIRST_PIPELINE);
    wait_for_running(&s, MY_FIRST_PIPELINE, "Beta", "CodePipelineDemoFleet", &id);
    let reason = "Stopping pipeline after the build action is done";
    let got = s.aws_ok(&[
        "stop-pipeline-execution",
        "--pipeline-name",
        "MyFirstPipeline",
        "--pipeline-execution-id",
        &id,
        "--reason",
        reason,
    ]);
    assert_eq!(got, json!({ "pipelineExecutionId": id }));
    assert_eq!(status(&s, MY_FIRST_PIPELINE, &id), "Stopping");
    control(&s, "/_local/clock", json!({ "advance": "1h" }));
    wait_for_execution(&s, MY_FIRST_PIPELINE, &id, "Stopped");
    let summary = &s.execution_summaries(MY_FIRST_PIPELINE)[0];
    assert_eq!(summary["stopTrigger"]["reason"], reason, "{summary:#}");
    let st = state(&s, MY_FIRST_PIPELINE);
    assert_eq!(
        action_state(&st, "Beta", "CodePipelineDemoFleet")["latestExecution"]["status"],
        "Succeeded",
        "the running deployment finished: {st:#}"
    );
}

/// retry-stage-execution.rst: `--pipeline-name MyPipeline --stage-name Deploy
/// --pipeline-execution-id ID --retry-mode FAILED_ACTIONS` → `{"pipelineExecutionId": ID}`.
#[test]
fn example_retry_stage_execution() {
    let s = Server::fast();
    fail_action(&s, "MyPipeline", "Deploy", 1, "Deployment failed");
    let id = create_fixture(&s, "executions/my-pipeline.json", "MyPipeline");
    wait_for_execution(&s, "MyPipeline", &id, "Failed");
    let got = s.aws_ok(&[
        "retry-stage-execution",
        "--pipeline-name",
        "MyPipeline",
        "--stage-name",
        "Deploy",
        "--pipeline-execution-id",
        &id,
        "--retry-mode",
        "FAILED_ACTIONS",
    ]);
    assert_eq!(got, json!({ "pipelineExecutionId": id }));
    wait_for_execution(&s, "MyPipeline", &id, "Succeeded");
}

/// disable-stage-transition.rst and enable-stage-transition.rst: `--pipeline-name
/// MyFirstPipeline --stage-name Beta --transition-type Inbound`, output "None.".
#[test]
fn example_disable_and_enable_stage_transition() {
    let s = Server::fast();
    let id = create_fixture(&s, "executions/my-first-pipeline.json", MY_FIRST_PIPELINE);
    wait_for_execution(&s, MY_FIRST_PIPELINE, &id, "Succeeded");
    let documented = [
        "disable-stage-transition",
        "--pipeline-name",
        "MyFirstPipeline",
        "--stage-name",
        "Beta",
        "--transition-type",
        "Inbound",
    ];
    // The example omits --reason, which DisableStageTransition requires: the CLI itself refuses.
    let refused = s.aws(&documented);
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("the following arguments are required: --reason"),
        "{}",
        refused.stderr
    );
    let mut with_reason = documented.to_vec();
    with_reason.extend(["--reason", "Holding Beta for review"]);
    assert_eq!(s.aws_ok(&with_reason), Value::Null, "no output");
    let st = state(&s, MY_FIRST_PIPELINE);
    let inbound = &stage(&st, "Beta")["inboundTransitionState"];
    assert_eq!(inbound["enabled"], false, "{inbound}");
    assert_eq!(inbound["disabledReason"], "Holding Beta for review");

    let enable = [
        "enable-stage-transition",
        "--pipeline-name",
        "MyFirstPipeline",
        "--stage-name",
        "Beta",
        "--transition-type",
        "Inbound",
    ];
    assert_eq!(s.aws_ok(&enable), Value::Null, "no output");
    let st = state(&s, MY_FIRST_PIPELINE);
    let inbound = &stage(&st, "Beta")["inboundTransitionState"];
    assert_eq!(inbound["enabled"], true, "{inbound}");
    assert!(inbound.get("disabledReason").is_none(), "{inbound}");
}
