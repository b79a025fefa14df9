//! Running pipelines through the AWS SDK for Rust: executions that move through stages over
//! time, manual approvals, output variables flowing into later configuration, paginated
//! execution lists, stop (abandon and stop-and-wait), fault injection and stage retry, executions
//! that survive a SIGKILL restart, concurrent approvals and idempotent starts, and account
//! isolation. Every reply is read through the SDK's own types, so timestamps must be epoch
//! numbers and enums must be the model's values.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::sdk_build::{action, approval_stage, pipeline, s3_source_stage, stage, type_id};
use crate::common::*;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::operation::get_pipeline_execution::GetPipelineExecutionError;
use aws_sdk_codepipeline::operation::put_approval_result::PutApprovalResultError;
use aws_sdk_codepipeline::operation::retry_stage_execution::RetryStageExecutionError;
use aws_sdk_codepipeline::operation::stop_pipeline_execution::StopPipelineExecutionError;
use aws_sdk_codepipeline::primitives::DateTime;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionExecutionDetail, ActionExecutionFilter, ActionExecutionStatus,
    ActionOwner, ApprovalResult, ApprovalStatus, ExecutionMode, PipelineDeclaration,
    PipelineExecution, PipelineExecutionStatus, PipelineType, StageDeclaration,
    StageExecutionStatus, StageRetryMode, StageState, TriggerType,
};
use aws_sdk_codepipeline::Client;
use serde_json::{json, Value};

const REGION: &str = "us-east-1";

// ---------------------------------------------------------------------------------------------
// Servers and control endpoints
// ---------------------------------------------------------------------------------------------

/// POSTs `body` to the control endpoint `path` (`/_local/faults`, `/_local/config`, ...).
fn control(server: &Server, path: &str, body: Value) -> Value {
    server.control(path, body)
}

/// A server with a data folder of its own whose stub actions take `duration`.
fn start_server(duration: &str) -> Server {
    Server::start_with(&["--action-duration", duration])
}

/// A server on `dir` (for restarts) whose stub actions take `duration` from the first moment.
fn start_server_in(dir: &Path, duration: &str) -> Server {
    Server::start_in_with(dir, &["--action-duration", duration])
}

/// Makes the next `count` runs of `action` in `pipeline` fail (`"fail"`) or hang (`"hang"`).
fn inject_fault(server: &Server, pipeline: &str, action: &str, kind: &str, count: u32) {
    control(
        server,
        "/_local/faults",
        json!({ "pipeline": pipeline, "action": action, "type": kind, "count": count,
                "message": "Injected build failure" }),
    );
}

// ---------------------------------------------------------------------------------------------
// Declaration builders
// ---------------------------------------------------------------------------------------------

/// The stage every pipeline here starts with: an S3 source producing `Src`.
fn source_stage() -> StageDeclaration {
    s3_source_stage("b", "k.zip", "Src")
}

/// A CodeBuild stage named `Build` whose action `Build` exports `VERSION=1.2.3` into the
/// namespace `BuildVariables`.
fn build_stage() -> StageDeclaration {
    let env = r#"[{"name":"VERSION","value":"1.2.3","type":"PLAINTEXT"}]"#;
    let config = [("ProjectName", "proj"), ("EnvironmentVariables", env)];
    let mut build = action(
        "Build",
        type_id(ActionCategory::Build, ActionOwner::Aws, "CodeBuild"),
        &config,
        &["Src"],
        &["BuildOut"],
    );
    build.namespace = Some("BuildVariables".to_owned());
    stage("Build", vec![build])
}

fn code_deploy_stage() -> StageDeclaration {
    let config = [
        ("ApplicationName", "app-#{BuildVariables.VERSION}"),
        ("DeploymentGroupName", "dg"),
    ];
    let id = type_id(ActionCategory::Deploy, ActionOwner::Aws, "CodeDeploy");
    stage(
        "Deploy",
        vec![action("Deploy", id, &config, &["BuildOut"], &[])],
    )
}

fn s3_deploy_stage() -> StageDeclaration {
    let config = [("BucketName", "deploy-bucket"), ("Extract", "true")];
    let id = type_id(ActionCategory::Deploy, ActionOwner::Aws, "S3");
    stage(
        "Deploy",
        vec![action("Deploy", id, &config, &["BuildOut"], &[])],
    )
}

/// Source(S3) → Build(CodeBuild) → Approval(Manual) → Deploy(CodeDeploy).
fn four_stage(name: &str) -> PipelineDeclaration {
    pipeline(
        name,
        vec![
            source_stage(),
            build_stage(),
            approval_stage("Approval"),
            code_deploy_stage(),
        ],
    )
}

/// Source(S3) → Build(CodeBuild) → Deploy(S3): no approval, so it runs to the end by itself.
fn three_stage(name: &str) -> PipelineDeclaration {
    pipeline(name, vec![source_stage(), build_stage(), s3_deploy_stage()])
}

/// Source(S3) → Approval(Manual).
fn source_then_approval(name: &str) -> PipelineDeclaration {
    pipeline(name, vec![source_stage(), approval_stage("Approval")])
}

/// A V2 pipeline in PARALLEL mode: Source(S3) → Build(CodeBuild).
fn parallel_v2(name: &str) -> PipelineDeclaration {
    let mut p = pipeline(name, vec![source_stage(), build_stage()]);
    p.pipeline_type = Some(PipelineType::V2);
    p.execution_mode = Some(ExecutionMode::Parallel);
    p
}

// ---------------------------------------------------------------------------------------------
// Calls and checks
// ---------------------------------------------------------------------------------------------

async fn create(client: &Client, decl: PipelineDeclaration) {
    let name = decl.name().to_owned();
    client
        .create_pipeline()
        .pipeline(decl)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

async fn start(client: &Client, name: &str) -> String {
    client
        .start_pipeline_execution()
        .name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("start {name}: {e:?}"))
        .pipeline_execution_id()
        .expect("an execution id")
        .to_owned()
}

async fn execution(client: &Client, name: &str, id: &str) -> PipelineExecution {
    client
        .get_pipeline_execution()
        .pipeline_name(name)
        .pipeline_execution_id(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get execution {id}: {e:?}"))
        .pipeline_execution()
        .expect("pipelineExecution")
        .clone()
}

async fn status(client: &Client, name: &str, id: &str) -> PipelineExecutionStatus {
    execution(client, name, id)
        .await
        .status()
        .expect("status")
        .clone()
}

async fn stages(client: &Client, name: &str) -> Vec<StageState> {
    client
        .get_pipeline_state()
        .name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get state of {name}: {e:?}"))
        .stage_states()
        .to_vec()
}

async fn action_details(client: &Client, name: &str, id: &str) -> Vec<ActionExecutionDetail> {
    let filter = ActionExecutionFilter::builder()
        .pipeline_execution_id(id)
        .build();
    client
        .list_action_executions()
        .pipeline_name(name)
        .filter(filter)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list action executions: {e:?}"))
        .action_execution_details()
        .to_vec()
}

fn detail<'a>(details: &'a [ActionExecutionDetail], stage: &str) -> &'a ActionExecutionDetail {
    details
        .iter()
        .find(|d| d.stage_name() == Some(stage))
        .unwrap_or_else(|| panic!("no action execution in stage {stage}: {details:#?}"))
}

async fn approve(
    client: &Client,
    name: &str,
    token: &str,
) -> Result<
    aws_sdk_codepipeline::operation::put_approval_result::PutApprovalResultOutput,
    SdkError<PutApprovalResultError>,
> {
    let result = ApprovalResult::builder()
        .summary("looks good")
        .status(ApprovalStatus::Approved)
        .build()
        .unwrap();
    client
        .put_approval_result()
        .pipeline_name(name)
        .stage_name("Approval")
        .action_name("Approve")
        .result(result)
        .token(token)
        .send()
        .await
}

/// The modelled error (already `into_service_error()`-ed) of a call that must fail, after
/// checking its code and that it has a message.
fn service_error<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, E>, code: &str) -> E {
    let err = match result {
        Ok(v) => panic!("expected the service error {code}, got {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(code), "{err:?}");
    assert!(
        err.message().is_some_and(|m| !m.is_empty()),
        "no message: {err:?}"
    );
    err
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `t` is present and within the last two minutes (so the reply carried epoch seconds).
fn assert_recent(what: &str, t: Option<&DateTime>) {
    let t = t.unwrap_or_else(|| panic!("{what} missing"));
    let age = now_secs() - t.as_secs_f64();
    assert!((-5.0..120.0).contains(&age), "{what} is {t} ({age} s ago)");
}

/// Awaits `check` until it returns `Some`, for at most 20 s, without blocking the runtime.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 20 s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until execution `id` of `name` has status `want`; a timeout names the last status seen.
async fn wait_status(client: &Client, name: &str, id: &str, want: PipelineExecutionStatus) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = status(client, name, id).await;
        if seen == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 20 s waiting for execution {id} of {name} to be {want:?}; it is {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The status of the latest execution of stage `index`, if it has one.
fn stage_status(states: &[StageState], index: usize) -> Option<StageExecutionStatus> {
    states
        .get(index)
        .and_then(|s| s.latest_execution())
        .map(|e| e.status().clone())
}

/// Waits until stage `index` runs execution `id` with status `want`.
async fn wait_stage(
    client: &Client,
    name: &str,
    index: usize,
    id: &str,
    want: StageExecutionStatus,
) {
    let what = format!("stage {index} of {name} to be {want:?} for {id}");
    eventually(&what, || {
        let want = want.clone();
        async move {
            let states = stages(client, name).await;
            let latest = states.get(index)?.latest_execution()?;
            (latest.pipeline_execution_id() == id && *latest.status() == want).then_some(())
        }
    })
    .await;
}

/// Waits for the approval token of the `Approval` stage (stage `index`) for execution `id`.
async fn approval_token(client: &Client, name: &str, index: usize, id: &str) -> String {
    let what = format!("the approval token of {id} in {name}");
    eventually(&what, || async move {
        let states = stages(client, name).await;
        let stage = states.get(index)?;
        if stage.latest_execution()?.pipeline_execution_id() != id {
            return None;
        }
        let token = stage.action_states()[0].latest_execution()?.token()?;
        Some(token.to_owned())
    })
    .await
}

/// Every execution id of `name`, newest first, through the SDK's paginator.
async fn all_execution_ids(client: &Client, name: &str, page: i32) -> Vec<String> {
    let summaries: Vec<_> = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .max_results(page)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    summaries
        .iter()
        .map(|s| s.pipeline_execution_id().unwrap().to_owned())
        .collect()
}

/// The id of the only execution of `name` (the one CreatePipeline started).
async fn first_execution(client: &Client, name: &str) -> String {
    let ids = all_execution_ids(client, name, 100).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

// ---------------------------------------------------------------------------------------------
// 1. A full run: build variables, approval, deploy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_four_stage_run_resolves_variables_and_waits_for_approval() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "four";
    create(&client, four_stage(name)).await;

    // CreatePipeline's own execution holds the Approval stage; approve it out of the way.
    let first = first_execution(&client, name).await;
    let token = approval_token(&client, name, 2, &first).await;
    approve(&client, name, &token).await.unwrap();
    wait_status(&client, name, &first, PipelineExecutionStatus::Succeeded).await;
    let e = execution(&client, name, &first).await;
    assert_eq!(
        e.trigger().and_then(|t| t.trigger_type()),
        Some(&TriggerType::CreatePipeline)
    );

    let id = start(&client, name).await;
    assert_ne!(id, first);
    let token = approval_token(&client, name, 2, &id).await;
    assert_eq!(
        status(&client, name, &id).await,
        PipelineExecutionStatus::InProgress,
        "waiting for approval"
    );
    let approved = approve(&client, name, &token).await.unwrap();
    assert_recent("approvedAt", approved.approved_at());
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;

    let e = execution(&client, name, &id).await;
    assert_eq!(e.pipeline_name(), Some(name));
    assert_eq!(e.pipeline_execution_id(), Some(id.as_str()));
    assert_eq!(e.pipeline_version(), Some(1));
    let trigger = e.trigger().expect("trigger");
    assert_eq!(
        trigger.trigger_type(),
        Some(&TriggerType::StartPipelineExecution)
    );
    let revisions = e.artifact_revisions();
    assert_eq!(revisions.len(), 1, "{revisions:?}");
    assert_eq!(revisions[0].name(), Some("Src"));
    assert!(revisions[0].revision_id().is_some_and(|r| !r.is_empty()));
    assert_recent("artifactRevisions[0].created", revisions[0].created());

    let states = stages(&client, name).await;
    for i in 0..4 {
        assert_eq!(
            stage_status(&states, i),
            Some(StageExecutionStatus::Succeeded),
            "stage {i}"
        );
        assert_eq!(
            states[i]
                .latest_execution()
                .unwrap()
                .pipeline_execution_id(),
            id
        );
    }

    let details = action_details(&client, name, &id).await;
    assert_eq!(details.len(), 4, "{details:#?}");
    for d in &details {
        assert_eq!(d.pipeline_execution_id(), Some(id.as_str()));
        assert_eq!(d.pipeline_version(), Some(1));
        assert_eq!(d.status(), Some(&ActionExecutionStatus::Succeeded), "{d:?}");
        assert_recent("startTime", d.start_time());
        assert_recent("lastUpdateTime", d.last_update_time());
    }
    let deploy = detail(&details, "Deploy");
    let resolved = deploy.input().and_then(|i| i.resolved_configuration());
    assert_eq!(
        resolved
            .and_then(|c| c.get("ApplicationName"))
            .map(String::as_str),
        Some("app-1.2.3"),
        "{deploy:#?}"
    );
    assert_eq!(
        deploy
            .input()
            .and_then(|i| i.configuration())
            .and_then(|c| c.get("ApplicationName"))
            .map(String::as_str),
        Some("app-#{BuildVariables.VERSION}"),
        "configuration keeps the unresolved value"
    );
    let deployment = deploy
        .output()
        .and_then(|o| o.execution_result())
        .and_then(|r| r.external_execution_id())
        .expect("a CodeDeploy deployment id");
    let suffix = deployment.strip_prefix("d-").unwrap_or("");
    assert!(
        suffix.len() == 9
            && suffix
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "not a CodeDeploy deployment id: {deployment}"
    );
    let build = detail(&details, "Build");
    assert_eq!(
        build
            .output()
            .and_then(|o| o.output_variables())
            .and_then(|v| v.get("VERSION"))
            .map(String::as_str),
        Some("1.2.3"),
        "{build:#?}"
    );
    let approval = detail(&details, "Approval");
    assert_eq!(
        approval.updated_by(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );

    let summaries = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .send()
        .await
        .unwrap();
    let summary = &summaries.pipeline_execution_summaries()[0];
    assert_eq!(summary.pipeline_execution_id(), Some(id.as_str()));
    assert_eq!(summary.status(), Some(&PipelineExecutionStatus::Succeeded));
    assert_recent("startTime", summary.start_time());
    assert_recent("lastUpdateTime", summary.last_update_time());
    assert!(summary.start_time().unwrap() <= summary.last_update_time().unwrap());
}

// ---------------------------------------------------------------------------------------------
// 2. Listing executions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_pipeline_executions_pages_newest_first() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "parallel";
    create(&client, parallel_v2(name)).await;
    let mut started = vec![first_execution(&client, name).await];
    for _ in 0..4 {
        started.push(start(&client, name).await);
    }
    started.reverse();
    for id in &started {
        wait_status(&client, name, id, PipelineExecutionStatus::Succeeded).await;
    }

    for page in [1, 2, 100] {
        let ids = all_execution_ids(&client, name, page).await;
        assert_eq!(ids, started, "newest first, each once (pages of {page})");
    }
    let unique: BTreeSet<&String> = started.iter().collect();
    assert_eq!(unique.len(), 5);

    // Pages of two: 2 + 2 + 1, each but the last with a token.
    let pages: Vec<_> = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p.pipeline_execution_summaries().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert!(pages[0].next_token().is_some() && pages[1].next_token().is_some());
    assert_eq!(pages[2].next_token(), None);
    for p in &pages {
        for s in p.pipeline_execution_summaries() {
            assert_eq!(s.execution_mode(), Some(&ExecutionMode::Parallel));
            assert_recent("startTime", s.start_time());
            assert_recent("lastUpdateTime", s.last_update_time());
        }
    }

    // By hand: the token of page one gives exactly page two.
    let one = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .max_results(2)
        .send()
        .await
        .unwrap();
    let two = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .max_results(2)
        .next_token(one.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = two
        .pipeline_execution_summaries()
        .iter()
        .map(|s| s.pipeline_execution_id().unwrap())
        .collect();
    assert_eq!(ids, [started[2].as_str(), started[3].as_str()]);
}

// ---------------------------------------------------------------------------------------------
// 3. Stopping
// ---------------------------------------------------------------------------------------------

async fn stop(
    client: &Client,
    name: &str,
    id: &str,
    abandon: bool,
) -> Result<
    aws_sdk_codepipeline::operation::stop_pipeline_execution::StopPipelineExecutionOutput,
    SdkError<StopPipelineExecutionError>,
> {
    client
        .stop_pipeline_execution()
        .pipeline_name(name)
        .pipeline_execution_id(id)
        .abandon(abandon)
        .reason("testing stop")
        .send()
        .await
}

#[tokio::test]
async fn stop_abandons_or_waits_and_refuses_what_it_cannot_stop() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "stoppable";
    inject_fault(&server, name, "Build", "hang", 1);
    create(&client, three_stage(name)).await;
    let id = first_execution(&client, name).await;
    wait_stage(&client, name, 1, &id, StageExecutionStatus::InProgress).await;

    // Abandon: the hanging action is abandoned at once and the execution stops.
    let out = stop(&client, name, &id, true).await.unwrap();
    assert_eq!(out.pipeline_execution_id(), Some(id.as_str()));
    wait_status(&client, name, &id, PipelineExecutionStatus::Stopped).await;
    let states = stages(&client, name).await;
    assert_eq!(
        stage_status(&states, 1),
        Some(StageExecutionStatus::Stopped)
    );
    let build = states[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(build.status(), Some(&ActionExecutionStatus::Abandoned));
    assert_eq!(stage_status(&states, 2), None, "Deploy never ran");
    let e = execution(&client, name, &id).await;
    assert_eq!(e.status_summary(), Some("testing stop"));

    // A finished execution cannot be stopped, in either mode.
    for abandon in [false, true] {
        let err = service_error(
            stop(&client, name, &id, abandon)
                .await
                .map_err(SdkError::into_service_error),
            "PipelineExecutionNotStoppableException",
        );
        assert!(
            matches!(
                err,
                StopPipelineExecutionError::PipelineExecutionNotStoppableException(_)
            ),
            "{err:?}"
        );
    }

    // Stop and wait: the build (a few seconds long) finishes, then the execution stops; a second
    // stop-and-wait meanwhile is a duplicate.
    control(
        &server,
        "/_local/config",
        json!({ "providerDurations": { "CodeBuild": "3s" } }),
    );
    let id = start(&client, name).await;
    wait_stage(&client, name, 1, &id, StageExecutionStatus::InProgress).await;
    stop(&client, name, &id, false).await.unwrap();
    assert_eq!(
        status(&client, name, &id).await,
        PipelineExecutionStatus::Stopping
    );
    let err = service_error(
        stop(&client, name, &id, false)
            .await
            .map_err(SdkError::into_service_error),
        "DuplicatedStopRequestException",
    );
    assert!(
        matches!(
            err,
            StopPipelineExecutionError::DuplicatedStopRequestException(_)
        ),
        "{err:?}"
    );
    wait_status(&client, name, &id, PipelineExecutionStatus::Stopped).await;
    let states = stages(&client, name).await;
    assert_eq!(
        stage_status(&states, 1),
        Some(StageExecutionStatus::Stopped)
    );
    let build = states[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(
        build.status(),
        Some(&ActionExecutionStatus::Succeeded),
        "stop-and-wait lets the running action finish"
    );
    let summary = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let summary = &summary.pipeline_execution_summaries()[0];
    assert_eq!(summary.pipeline_execution_id(), Some(id.as_str()));
    assert_eq!(
        summary.stop_trigger().and_then(|t| t.reason()),
        Some("testing stop")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Faults and retry
// ---------------------------------------------------------------------------------------------

async fn retry(
    client: &Client,
    name: &str,
    stage: &str,
    id: &str,
) -> Result<
    aws_sdk_codepipeline::operation::retry_stage_execution::RetryStageExecutionOutput,
    SdkError<RetryStageExecutionError>,
> {
    client
        .retry_stage_execution()
        .pipeline_name(name)
        .stage_name(stage)
        .pipeline_execution_id(id)
        .retry_mode(StageRetryMode::FailedActions)
        .send()
        .await
}

#[tokio::test]
async fn a_failed_stage_retried_succeeds_and_a_succeeded_one_cannot_be_retried() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "flaky";
    inject_fault(&server, name, "Build", "fail", 1);
    create(&client, three_stage(name)).await;
    let id = first_execution(&client, name).await;
    wait_status(&client, name, &id, PipelineExecutionStatus::Failed).await;

    let states = stages(&client, name).await;
    assert_eq!(
        stage_status(&states, 0),
        Some(StageExecutionStatus::Succeeded)
    );
    assert_eq!(stage_status(&states, 1), Some(StageExecutionStatus::Failed));
    let build = states[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(build.status(), Some(&ActionExecutionStatus::Failed));
    assert_eq!(
        build.error_details().and_then(|d| d.message()),
        Some("Injected build failure")
    );
    let failed_run = build.action_execution_id().unwrap().to_owned();

    let out = retry(&client, name, "Build", &id).await.unwrap();
    assert_eq!(out.pipeline_execution_id(), Some(id.as_str()));
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;
    let states = stages(&client, name).await;
    for i in 0..3 {
        assert_eq!(
            stage_status(&states, i),
            Some(StageExecutionStatus::Succeeded),
            "stage {i}"
        );
    }
    let build = states[1].action_states()[0].latest_execution().unwrap();
    assert_ne!(build.action_execution_id(), Some(failed_run.as_str()));
    assert_eq!(
        all_execution_ids(&client, name, 100).await,
        [id.as_str()],
        "a retry is not a new execution"
    );

    for stage in ["Build", "Source"] {
        let err = service_error(
            retry(&client, name, stage, &id)
                .await
                .map_err(SdkError::into_service_error),
            "StageNotRetryableException",
        );
        assert!(
            matches!(err, RetryStageExecutionError::StageNotRetryableException(_)),
            "{err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Restarts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_running_execution_finishes_after_a_sigkill_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server_in(dir.path(), "2s");
    let client = server.sdk();
    let name = "restart";
    create(&client, three_stage(name)).await;
    let id = first_execution(&client, name).await;
    wait_stage(&client, name, 1, &id, StageExecutionStatus::InProgress).await;
    server.kill();

    let server = start_server_in(dir.path(), "2s");
    let client = server.sdk();
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;
    let states = stages(&client, name).await;
    for i in 0..3 {
        assert_eq!(
            stage_status(&states, i),
            Some(StageExecutionStatus::Succeeded),
            "stage {i}"
        );
        assert_eq!(
            states[i]
                .latest_execution()
                .unwrap()
                .pipeline_execution_id(),
            id
        );
    }
    assert_eq!(all_execution_ids(&client, name, 100).await, [id.as_str()]);
}

#[tokio::test]
async fn a_pending_approval_survives_a_sigkill_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server_in(dir.path(), "0s");
    let client = server.sdk();
    let name = "approve-later";
    create(&client, source_then_approval(name)).await;
    let id = first_execution(&client, name).await;
    let before = approval_token(&client, name, 1, &id).await;
    server.kill();

    let server = start_server_in(dir.path(), "0s");
    let client = server.sdk();
    assert_eq!(
        status(&client, name, &id).await,
        PipelineExecutionStatus::InProgress
    );
    let token = approval_token(&client, name, 1, &id).await;
    assert_eq!(token, before, "the token is durable");
    let approved = approve(&client, name, &token).await.unwrap();
    assert_recent("approvedAt", approved.approved_at());
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;
}

// ---------------------------------------------------------------------------------------------
// 6. Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_of_one_token_admit_exactly_one() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "contested";
    create(&client, source_then_approval(name)).await;
    let id = first_execution(&client, name).await;
    let token = approval_token(&client, name, 1, &id).await;

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (client, token) = (client.clone(), token.clone());
            tokio::spawn(async move { approve(&client, name, &token).await })
        })
        .collect();
    let mut approved = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(out) => {
                assert_recent("approvedAt", out.approved_at());
                approved += 1;
            }
            Err(e) => {
                let err = service_error::<(), _>(
                    Err(e.into_service_error()),
                    "ApprovalAlreadyCompletedException",
                );
                assert!(
                    matches!(
                        err,
                        PutApprovalResultError::ApprovalAlreadyCompletedException(_)
                    ),
                    "{err:?}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((approved, refused), (1, 9));
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_with_one_client_token_start_one_execution() {
    let server = start_server("0s");
    let client = server.sdk();
    let name = "idempotent";
    create(&client, three_stage(name)).await;
    let first = first_execution(&client, name).await;

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .start_pipeline_execution()
                    .name(name)
                    .client_request_token("same-token-0001")
                    .send()
                    .await
                    .expect("start succeeds")
                    .pipeline_execution_id()
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids.into_iter().next().unwrap();
    assert_ne!(id, first);
    let listed = all_execution_ids(&client, name, 100).await;
    assert_eq!(listed, [id.clone(), first], "one new execution");
    wait_status(&client, name, &id, PipelineExecutionStatus::Succeeded).await;
}

// ---------------------------------------------------------------------------------------------
// 7. Accounts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn executions_are_invisible_to_other_accounts() {
    let server = start_server("0s");
    let alice = server.sdk_as("111111111111", REGION);
    let bob = server.sdk_as("222222222222", REGION);
    let name = "private";
    create(&alice, three_stage(name)).await;
    let id = start(&alice, name).await;
    wait_status(&alice, name, &id, PipelineExecutionStatus::Succeeded).await;

    let err = service_error(
        bob.get_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_id(&id)
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "PipelineNotFoundException",
    );
    assert!(
        matches!(err, GetPipelineExecutionError::PipelineNotFoundException(_)),
        "{err:?}"
    );
    let listed = bob
        .list_pipeline_executions()
        .pipeline_name(name)
        .send()
        .await
        .map_err(SdkError::into_service_error);
    service_error(listed, "PipelineNotFoundException");
    let state = bob
        .get_pipeline_state()
        .name(name)
        .send()
        .await
        .map_err(SdkError::into_service_error);
    service_error(state, "PipelineNotFoundException");

    // Bob's own pipeline of the same name does not hold Alice's execution.
    create(&bob, three_stage(name)).await;
    let err = service_error(
        bob.get_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_id(&id)
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "PipelineExecutionNotFoundException",
    );
    assert!(
        matches!(
            err,
            GetPipelineExecutionError::PipelineExecutionNotFoundException(_)
        ),
        "{err:?}"
    );
    let bobs = all_execution_ids(&bob, name, 100).await;
    assert_eq!(bobs.len(), 1);
    assert!(!bobs.contains(&id));
    assert_eq!(all_execution_ids(&alice, name, 100).await.len(), 2);
}
