//! Isolation of accounts and regions. A request acts in the account of its access key id (a
//! 12-digit key is the account id) and in the region of its SigV4 credential scope, and every
//! resource lives in exactly one (account, region). Each test creates one kind of resource as
//! A = (111111111111, us-east-1), then checks that B = (222222222222, us-east-1), another account
//! in the same region, and C = (111111111111, eu-west-1), the same account in another region,
//! can neither see nor change it and are answered with AWS errors; that B and C can create a
//! resource of the same name of their own; and that A's resource comes through untouched.
//! ARNs must carry the owner's account and region. One test per kind: pipelines, executions,
//! jobs (with custom action types), webhooks and tags. Most calls go through the AWS SDK for
//! Rust, and every test makes some through the aws CLI too, since real clients are the point.
//! Actions take no time (`--action-duration 0s`) and every wait is a poll with a deadline.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;

use crate::common::sdk_build::{
    action, approval_stage, artifact_details, pipeline, property, s3_source_stage, stage, tag,
    type_id, webhook,
};
use crate::common::*;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionExecutionFilter, ActionExecutionStatus, ActionOwner, ActionTypeId,
    ApprovalResult, ApprovalStatus, FailureDetails, FailureType, Job, JobStatus,
    PipelineDeclaration, PipelineExecutionStatus, StageDeclaration, StageRetryMode,
};
use aws_sdk_codepipeline::Client;
use serde_json::{json, Value};

/// What AWS may answer for an ARN of a resource the caller does not own: never the resource.
const FOREIGN_ARN: &[&str] = &[
    "ResourceNotFoundException",
    "InvalidArnException",
    "AccessDeniedException",
];

// ---------------------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------------------

/// One caller: an account (its access key id) and a region, with an SDK client signing as it.
struct Who {
    tag: &'static str,
    account: &'static str,
    region: &'static str,
    sdk: Client,
}

impl Who {
    fn label(&self) -> String {
        format!("{} ({}, {})", self.tag, self.account, self.region)
    }
}

/// A fresh server and the three callers A, B (other account) and C (other region).
struct World {
    server: Server,
    // The SDK clients' connections live on this runtime, so each test keeps its own.
    rt: tokio::runtime::Runtime,
    a: Who,
    b: Who,
    c: Who,
}

impl World {
    fn new() -> World {
        let server = Server::start_with(&["--action-duration", "0s"]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let who = |tag, account, region| Who {
            tag,
            account,
            region,
            sdk: server.sdk_as(account, region),
        };
        let a = who("A", "111111111111", "us-east-1");
        let b = who("B", "222222222222", "us-east-1");
        let c = who("C", "111111111111", "eu-west-1");
        World {
            server,
            rt,
            a,
            b,
            c,
        }
    }

    /// Tests are plain `#[test]`s so that `crate::common::poll` can wait on SDK calls.
    fn block<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The callers that must not see A's resources.
    fn others(&self) -> [&Who; 2] {
        [&self.b, &self.c]
    }

    fn aws(&self, who: &Who, args: &[&str]) -> Cli {
        self.server.aws_as(who.account, who.region, args)
    }

    fn aws_ok(&self, who: &Who, args: &[&str]) -> Value {
        let out = self.aws(who, args);
        assert!(
            out.ok,
            "aws codepipeline {} as {} failed: {}",
            args.join(" "),
            who.label(),
            out.stderr
        );
        out.json
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/// Asserts the call was refused the way AWS refuses: a 4xx reply naming an AWS error type, with
/// a message. Returns the error type.
fn refused<T: Debug, E: ProvideErrorMetadata + Debug>(
    what: &str,
    result: Result<T, SdkError<E>>,
) -> String {
    let err = match result {
        Ok(v) => panic!("{what}: succeeded, but must be refused: {v:?}"),
        Err(e) => e,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert!(
        matches!(status, Some(400..=499)),
        "{what}: wanted a 4xx reply, got {status:?}: {err:?}"
    );
    let code = err
        .code()
        .unwrap_or_else(|| panic!("{what}: no AWS error type: {err:?}"))
        .to_owned();
    assert!(
        err.message().is_some_and(|m| !m.is_empty()),
        "{what}: no message: {err:?}"
    );
    code
}

/// `refused`, with the error type one of `codes`.
fn refused_with<T: Debug, E: ProvideErrorMetadata + Debug>(
    what: &str,
    result: Result<T, SdkError<E>>,
    codes: &[&str],
) {
    let code = refused(what, result);
    assert!(
        codes.contains(&code.as_str()),
        "{what}: refused with {code}, wanted one of {codes:?}"
    );
}

/// The aws CLI's view of `refused_with`: a failed command reporting one of `codes`.
fn cli_refused(what: &str, out: &Cli, codes: &[&str]) {
    assert!(
        !out.ok,
        "{what}: succeeded, but must be refused: {}",
        out.json
    );
    let (code, message) = out.error();
    assert!(
        codes.contains(&code.as_str()),
        "{what}: refused with {code:?}, wanted one of {codes:?}: {}",
        out.stderr
    );
    assert!(!message.is_empty(), "{what}: no message: {}", out.stderr);
}

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

/// An S3 source producing `Src`.
fn s3_source() -> StageDeclaration {
    s3_source_stage("source-bucket", "app.zip", "Src")
}

/// An S3 source, then a stage named `second` holding the manual approval `Approve`.
fn approval_pipeline(name: &str, second: &str) -> PipelineDeclaration {
    pipeline(name, vec![s3_source(), approval_stage(second)])
}

// ---------------------------------------------------------------------------------------------
// Reading state
// ---------------------------------------------------------------------------------------------

fn pipeline_names(w: &World, who: &Who) -> Vec<String> {
    let out = w
        .block(who.sdk.list_pipelines().send())
        .expect("ListPipelines");
    out.pipelines()
        .iter()
        .filter_map(|p| p.name().map(str::to_owned))
        .collect()
}

/// `(stage names, version, ARN)` of the pipeline as `who` sees it.
fn pipeline_of(w: &World, who: &Who, name: &str) -> (Vec<String>, Option<i32>, String) {
    let out = w
        .block(who.sdk.get_pipeline().name(name).send())
        .unwrap_or_else(|e| panic!("GetPipeline {name} as {}: {e:?}", who.label()));
    let decl = out.pipeline().expect("pipeline");
    let stages = decl.stages().iter().map(|s| s.name().to_owned()).collect();
    let arn = out
        .metadata()
        .and_then(|m| m.pipeline_arn())
        .expect("pipelineArn")
        .to_owned();
    (stages, decl.version(), arn)
}

/// Stage names from GetPipelineState.
fn state_stages(w: &World, who: &Who, name: &str) -> Vec<String> {
    let out = w
        .block(who.sdk.get_pipeline_state().name(name).send())
        .unwrap_or_else(|e| panic!("GetPipelineState {name} as {}: {e:?}", who.label()));
    out.stage_states()
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect()
}

/// Execution ids of the pipeline, newest first.
fn execution_ids(w: &World, who: &Who, name: &str) -> Vec<String> {
    let out = w
        .block(
            who.sdk
                .list_pipeline_executions()
                .pipeline_name(name)
                .send(),
        )
        .unwrap_or_else(|e| panic!("ListPipelineExecutions {name} as {}: {e:?}", who.label()));
    out.pipeline_execution_summaries()
        .iter()
        .filter_map(|s| s.pipeline_execution_id().map(str::to_owned))
        .collect()
}

/// The execution CreatePipeline started.
fn first_execution(w: &World, who: &Who, name: &str) -> String {
    poll(
        &format!("{name}'s first execution as {}", who.label()),
        || execution_ids(w, who, name).pop(),
    )
}

fn execution_status(w: &World, who: &Who, name: &str, id: &str) -> PipelineExecutionStatus {
    let out = w
        .block(
            who.sdk
                .get_pipeline_execution()
                .pipeline_name(name)
                .pipeline_execution_id(id)
                .send(),
        )
        .unwrap_or_else(|e| panic!("GetPipelineExecution {id} as {}: {e:?}", who.label()));
    out.pipeline_execution()
        .and_then(|e| e.status())
        .cloned()
        .expect("status")
}

fn wait_for(w: &World, who: &Who, name: &str, id: &str, status: PipelineExecutionStatus) {
    let what = format!("{}'s execution {id} to be {status:?}", who.label());
    poll(&what, || {
        (execution_status(w, who, name, id) == status).then_some(())
    });
}

/// The status of `stage`/`action`'s latest run in execution `id`, from GetPipelineState (none
/// until that execution reaches the stage).
fn action_status(
    w: &World,
    who: &Who,
    name: &str,
    id: &str,
    stage: &str,
    action: &str,
) -> Option<(ActionExecutionStatus, Option<String>)> {
    let out = w
        .block(who.sdk.get_pipeline_state().name(name).send())
        .expect("GetPipelineState");
    let stage = out
        .stage_states()
        .iter()
        .find(|s| s.stage_name() == Some(stage))?;
    if stage.latest_execution()?.pipeline_execution_id() != id {
        return None;
    }
    let run = stage
        .action_states()
        .iter()
        .find(|a| a.action_name() == Some(action))?
        .latest_execution()?;
    Some((run.status()?.clone(), run.token().map(str::to_owned)))
}

/// The token of the approval `Approve` waiting in execution `id`.
fn approval_token(w: &World, who: &Who, name: &str, id: &str) -> String {
    poll(
        &format!("an approval waiting in {id} as {}", who.label()),
        || match action_status(w, who, name, id, "Approve", "Approve")? {
            (ActionExecutionStatus::InProgress, token) => token,
            _ => None,
        },
    )
}

fn approval(status: ApprovalStatus) -> ApprovalResult {
    ApprovalResult::builder()
        .summary("isolation test")
        .status(status)
        .build()
        .unwrap()
}

fn tags_of(w: &World, who: &Who, arn: &str) -> BTreeMap<String, String> {
    let out = w
        .block(who.sdk.list_tags_for_resource().resource_arn(arn).send())
        .unwrap_or_else(|e| panic!("ListTagsForResource {arn} as {}: {e:?}", who.label()));
    out.tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------------------------

#[test]
fn pipelines_of_other_accounts_and_regions_are_invisible() {
    let w = World::new();
    let (a, name) = (&w.a, "shared");
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(approval_pipeline(name, "Approve-A"))
            .send(),
    )
    .expect("CreatePipeline as A");
    let (stages, version, arn) = pipeline_of(&w, a, name);
    assert_eq!(arn, "arn:aws:codepipeline:us-east-1:111111111111:shared");
    assert_eq!(stages, ["Source", "Approve-A"]);
    assert_eq!(version, Some(1));

    for who in w.others() {
        let l = who.label();
        let missing = &["PipelineNotFoundException"];
        refused_with(
            &format!("GetPipeline as {l}"),
            w.block(who.sdk.get_pipeline().name(name).send()),
            missing,
        );
        refused_with(
            &format!("GetPipelineState as {l}"),
            w.block(who.sdk.get_pipeline_state().name(name).send()),
            missing,
        );
        let hijack = approval_pipeline(name, &format!("Approve-{}", who.tag));
        refused_with(
            &format!("UpdatePipeline as {l}"),
            w.block(who.sdk.update_pipeline().pipeline(hijack).send()),
            missing,
        );
        assert_eq!(
            pipeline_names(&w, who),
            Vec::<String>::new(),
            "{l} lists A's pipeline"
        );
        // AWS answers success for a name it does not have; what matters is that A's survives.
        let deleted = w.block(who.sdk.delete_pipeline().name(name).send());
        if deleted.is_err() {
            refused(&format!("DeletePipeline as {l}"), deleted);
        }

        let cli = w.aws(who, &["get-pipeline", "--name", name]);
        cli_refused(&format!("aws get-pipeline as {l}"), &cli, missing);
        assert!(
            cli.error().1.contains(who.account),
            "the message names the caller's account: {}",
            cli.stderr
        );
        let cli = w.aws(who, &["get-pipeline-state", "--name", name]);
        cli_refused(&format!("aws get-pipeline-state as {l}"), &cli, missing);
        let listed = w.aws_ok(who, &["list-pipelines"]);
        assert_eq!(listed["pipelines"], json!([]), "{l}");
    }
    // Any other access key is the default account, which owns nothing here either.
    let listed = w.aws_ok(&w.a, &["list-pipelines"]);
    assert_eq!(listed["pipelines"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        w.server.aws(&["list-pipelines"]).json["pipelines"],
        json!([])
    );

    // Nothing B and C tried reached A's pipeline.
    assert_eq!(pipeline_of(&w, a, name), (stages, version, arn.clone()));

    // The same name is free in the other account and in the other region, with their ARNs.
    for (who, expected_arn) in [
        (&w.b, "arn:aws:codepipeline:us-east-1:222222222222:shared"),
        (&w.c, "arn:aws:codepipeline:eu-west-1:111111111111:shared"),
    ] {
        let second = format!("Approve-{}", who.tag);
        let created = w
            .block(
                who.sdk
                    .create_pipeline()
                    .pipeline(approval_pipeline(name, &second))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("CreatePipeline as {}: {e:?}", who.label()));
        assert_eq!(created.pipeline().and_then(|p| p.version()), Some(1));
        let (stages, _, got_arn) = pipeline_of(&w, who, name);
        assert_eq!(got_arn, expected_arn);
        assert_eq!(stages, ["Source", second.as_str()]);
        assert_eq!(pipeline_names(&w, who), [name]);
    }
    let got = w.aws_ok(&w.c, &["get-pipeline", "--name", name]);
    assert_eq!(
        got["metadata"]["pipelineArn"],
        "arn:aws:codepipeline:eu-west-1:111111111111:shared"
    );
    assert_eq!(got["pipeline"]["stages"][1]["name"], "Approve-C");

    // Each update and delete stays with its owner.
    let updated = w
        .block(
            a.sdk
                .update_pipeline()
                .pipeline(approval_pipeline(name, "Approve-A2"))
                .send(),
        )
        .expect("UpdatePipeline as A");
    assert_eq!(updated.pipeline().and_then(|p| p.version()), Some(2));
    for who in w.others() {
        let (stages, version, _) = pipeline_of(&w, who, name);
        let second = format!("Approve-{}", who.tag);
        assert_eq!(
            (stages, version),
            (vec!["Source".to_owned(), second], Some(1))
        );
    }
    w.aws_ok(&w.b, &["delete-pipeline", "--name", name]);
    assert_eq!(pipeline_names(&w, &w.b), Vec::<String>::new());
    assert_eq!(pipeline_names(&w, a), [name]);
    assert_eq!(pipeline_names(&w, &w.c), [name]);
    assert_eq!(state_stages(&w, a, name), ["Source", "Approve-A2"]);
    assert_eq!(state_stages(&w, &w.c, name), ["Source", "Approve-C"]);
    assert_eq!(pipeline_of(&w, a, name).2, arn);
}

// ---------------------------------------------------------------------------------------------
// Executions
// ---------------------------------------------------------------------------------------------

#[test]
fn executions_of_other_accounts_and_regions_cannot_be_seen_or_driven() {
    let w = World::new();
    let (a, name) = (&w.a, "release");
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(approval_pipeline(name, "Approve"))
            .send(),
    )
    .expect("CreatePipeline as A");
    let e1 = first_execution(&w, a, name);
    let t1 = approval_token(&w, a, name, &e1);

    // Without a pipeline of that name, every operation names the pipeline as missing.
    for who in w.others() {
        let l = who.label();
        let missing = &["PipelineNotFoundException"];
        let sdk = &who.sdk;
        refused_with(
            &format!("StartPipelineExecution as {l}"),
            w.block(sdk.start_pipeline_execution().name(name).send()),
            missing,
        );
        refused_with(
            &format!("GetPipelineExecution as {l}"),
            w.block(
                sdk.get_pipeline_execution()
                    .pipeline_name(name)
                    .pipeline_execution_id(&e1)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("ListPipelineExecutions as {l}"),
            w.block(sdk.list_pipeline_executions().pipeline_name(name).send()),
            missing,
        );
        let filter = ActionExecutionFilter::builder()
            .pipeline_execution_id(&e1)
            .build();
        refused_with(
            &format!("ListActionExecutions as {l}"),
            w.block(
                sdk.list_action_executions()
                    .pipeline_name(name)
                    .filter(filter)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("StopPipelineExecution as {l}"),
            w.block(
                sdk.stop_pipeline_execution()
                    .pipeline_name(name)
                    .pipeline_execution_id(&e1)
                    .abandon(true)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("RetryStageExecution as {l}"),
            w.block(
                sdk.retry_stage_execution()
                    .pipeline_name(name)
                    .stage_name("Approve")
                    .pipeline_execution_id(&e1)
                    .retry_mode(StageRetryMode::FailedActions)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("PutApprovalResult as {l}"),
            w.block(
                sdk.put_approval_result()
                    .pipeline_name(name)
                    .stage_name("Approve")
                    .action_name("Approve")
                    .result(approval(ApprovalStatus::Approved))
                    .token(&t1)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("GetPipelineState as {l}"),
            w.block(sdk.get_pipeline_state().name(name).send()),
            missing,
        );
        let cli = w.aws(
            who,
            &[
                "get-pipeline-execution",
                "--pipeline-name",
                name,
                "--pipeline-execution-id",
                &e1,
            ],
        );
        cli_refused(&format!("aws get-pipeline-execution as {l}"), &cli, missing);
    }
    assert_eq!(
        execution_status(&w, a, name, &e1),
        PipelineExecutionStatus::InProgress
    );
    assert_eq!(approval_token(&w, a, name, &e1), t1);
    assert_eq!(execution_ids(&w, a, name), [e1.as_str()]);

    // B and C run pipelines of the same name; A's execution is not part of them.
    let mut theirs = Vec::new();
    for who in w.others() {
        let l = who.label();
        let sdk = &who.sdk;
        w.block(
            sdk.create_pipeline()
                .pipeline(approval_pipeline(name, "Approve"))
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreatePipeline as {l}: {e:?}"));
        let id = first_execution(&w, who, name);
        assert_ne!(id, e1);
        let token = approval_token(&w, who, name, &id);
        assert_ne!(token, t1);

        let gone = &["PipelineExecutionNotFoundException"];
        refused_with(
            &format!("GetPipelineExecution of A's execution as {l}"),
            w.block(
                sdk.get_pipeline_execution()
                    .pipeline_name(name)
                    .pipeline_execution_id(&e1)
                    .send(),
            ),
            gone,
        );
        let filter = ActionExecutionFilter::builder()
            .pipeline_execution_id(&e1)
            .build();
        refused_with(
            &format!("ListActionExecutions of A's execution as {l}"),
            w.block(
                sdk.list_action_executions()
                    .pipeline_name(name)
                    .filter(filter)
                    .send(),
            ),
            gone,
        );
        refused_with(
            &format!("StopPipelineExecution of A's execution as {l}"),
            w.block(
                sdk.stop_pipeline_execution()
                    .pipeline_name(name)
                    .pipeline_execution_id(&e1)
                    .abandon(true)
                    .send(),
            ),
            gone,
        );
        refused_with(
            &format!("PutApprovalResult with A's token as {l}"),
            w.block(
                sdk.put_approval_result()
                    .pipeline_name(name)
                    .stage_name("Approve")
                    .action_name("Approve")
                    .result(approval(ApprovalStatus::Approved))
                    .token(&t1)
                    .send(),
            ),
            &["InvalidApprovalTokenException"],
        );
        assert_eq!(execution_ids(&w, who, name), [id.as_str()], "{l}");
        let listed = w.aws_ok(who, &["list-action-executions", "--pipeline-name", name]);
        let details = listed["actionExecutionDetails"]
            .as_array()
            .expect("details");
        assert!(!details.is_empty(), "{l}: {listed}");
        for d in details {
            assert_eq!(d["pipelineExecutionId"], id.as_str(), "{l}: {d}");
        }
        theirs.push((who, id, token));
    }
    assert_eq!(
        execution_status(&w, a, name, &e1),
        PipelineExecutionStatus::InProgress
    );
    assert_eq!(approval_token(&w, a, name, &e1), t1);
    assert_eq!(execution_ids(&w, a, name), [e1.as_str()]);
    let own = w
        .block(a.sdk.list_action_executions().pipeline_name(name).send())
        .expect("ListActionExecutions as A");
    for d in own.action_execution_details() {
        assert_eq!(d.pipeline_execution_id(), Some(e1.as_str()), "{d:?}");
    }

    // A's rejection fails A's execution only.
    w.block(
        a.sdk
            .put_approval_result()
            .pipeline_name(name)
            .stage_name("Approve")
            .action_name("Approve")
            .result(approval(ApprovalStatus::Rejected))
            .token(&t1)
            .send(),
    )
    .expect("PutApprovalResult as A");
    wait_for(&w, a, name, &e1, PipelineExecutionStatus::Failed);
    for (who, id, _) in &theirs {
        let status = execution_status(&w, who, name, id);
        assert_eq!(
            status,
            PipelineExecutionStatus::InProgress,
            "{}",
            who.label()
        );
    }

    // Only A can retry A's failed stage.
    for who in w.others() {
        refused_with(
            &format!("RetryStageExecution of A's execution as {}", who.label()),
            w.block(
                who.sdk
                    .retry_stage_execution()
                    .pipeline_name(name)
                    .stage_name("Approve")
                    .pipeline_execution_id(&e1)
                    .retry_mode(StageRetryMode::FailedActions)
                    .send(),
            ),
            &["PipelineExecutionNotFoundException"],
        );
    }
    let cli = w.aws(
        &w.b,
        &[
            "retry-stage-execution",
            "--pipeline-name",
            name,
            "--stage-name",
            "Approve",
            "--pipeline-execution-id",
            &e1,
            "--retry-mode",
            "FAILED_ACTIONS",
        ],
    );
    cli_refused(
        "aws retry-stage-execution of A's execution as B",
        &cli,
        &["PipelineExecutionNotFoundException"],
    );
    assert_eq!(
        execution_status(&w, a, name, &e1),
        PipelineExecutionStatus::Failed
    );
    w.block(
        a.sdk
            .retry_stage_execution()
            .pipeline_name(name)
            .stage_name("Approve")
            .pipeline_execution_id(&e1)
            .retry_mode(StageRetryMode::FailedActions)
            .send(),
    )
    .expect("RetryStageExecution as A");
    let t2 = approval_token(&w, a, name, &e1);
    w.block(
        a.sdk
            .put_approval_result()
            .pipeline_name(name)
            .stage_name("Approve")
            .action_name("Approve")
            .result(approval(ApprovalStatus::Approved))
            .token(&t2)
            .send(),
    )
    .expect("PutApprovalResult as A after the retry");
    wait_for(&w, a, name, &e1, PipelineExecutionStatus::Succeeded);

    // B stops its own execution and C approves its own; neither touches anyone else's.
    let (b, b1, _) = &theirs[0];
    let (c, c1, c_token) = &theirs[1];
    w.block(
        b.sdk
            .stop_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_id(b1)
            .abandon(true)
            .send(),
    )
    .expect("StopPipelineExecution as B");
    wait_for(&w, b, name, b1, PipelineExecutionStatus::Stopped);
    assert_eq!(
        execution_status(&w, c, name, c1),
        PipelineExecutionStatus::InProgress
    );
    w.aws_ok(
        c,
        &[
            "put-approval-result",
            "--pipeline-name",
            name,
            "--stage-name",
            "Approve",
            "--action-name",
            "Approve",
            "--result",
            "summary=mine,status=Approved",
            "--token",
            c_token,
        ],
    );
    wait_for(&w, c, name, c1, PipelineExecutionStatus::Succeeded);
    assert_eq!(
        execution_status(&w, b, name, b1),
        PipelineExecutionStatus::Stopped
    );
    assert_eq!(
        execution_status(&w, a, name, &e1),
        PipelineExecutionStatus::Succeeded
    );

    // Client request tokens are remembered per pipeline: the same token starts one execution
    // for each owner, never hands back another owner's.
    let mut started = Vec::new();
    for who in [a, *b] {
        let out = w
            .block(
                who.sdk
                    .start_pipeline_execution()
                    .name(name)
                    .client_request_token("same-token")
                    .send(),
            )
            .unwrap_or_else(|e| panic!("StartPipelineExecution as {}: {e:?}", who.label()));
        started.push(out.pipeline_execution_id().expect("id").to_owned());
    }
    assert_ne!(started[0], started[1]);
    assert_eq!(execution_ids(&w, a, name), [started[0].clone(), e1.clone()]);
    assert_eq!(execution_ids(&w, b, name), [started[1].clone(), b1.clone()]);
    assert_eq!(execution_ids(&w, c, name), [c1.as_str()]);
}

// ---------------------------------------------------------------------------------------------
// Jobs and custom action types
// ---------------------------------------------------------------------------------------------

const WORKER: &str = "IsoWorker";
const WORKER_ARG: &str = "category=Build,owner=Custom,provider=IsoWorker,version=1";

fn worker_type() -> ActionTypeId {
    type_id(ActionCategory::Build, ActionOwner::Custom, WORKER)
}

fn create_worker_type(w: &World, who: &Who) {
    w.block(
        who.sdk
            .create_custom_action_type()
            .category(ActionCategory::Build)
            .provider(WORKER)
            .version("1")
            .configuration_properties(property("Project", true, true, false))
            .input_artifact_details(artifact_details(0, 5))
            .output_artifact_details(artifact_details(0, 5))
            .send(),
    )
    .unwrap_or_else(|e| panic!("CreateCustomActionType as {}: {e:?}", who.label()));
}

/// An S3 source, then the stage `Build` whose action `Build` is an `IsoWorker` job.
fn worker_pipeline(name: &str) -> PipelineDeclaration {
    let build = action(
        "Build",
        worker_type(),
        &[("Project", "alpha")],
        &["Src"],
        &[],
    );
    pipeline(name, vec![s3_source(), stage("Build", vec![build])])
}

fn custom_providers(w: &World, who: &Who) -> Vec<String> {
    let out = w
        .block(
            who.sdk
                .list_action_types()
                .action_owner_filter(ActionOwner::Custom)
                .send(),
        )
        .expect("ListActionTypes");
    out.action_types()
        .iter()
        .filter_map(|t| t.id().map(|id| id.provider().to_owned()))
        .collect()
}

/// PollForJobs for the worker type, which `who` must have.
fn poll_jobs(w: &World, who: &Who) -> Vec<Job> {
    let out = w
        .block(
            who.sdk
                .poll_for_jobs()
                .action_type_id(worker_type())
                .max_batch_size(10)
                .send(),
        )
        .unwrap_or_else(|e| panic!("PollForJobs as {}: {e:?}", who.label()));
    out.jobs().to_vec()
}

/// Polls for a worker job as `who` until one is handed out.
fn take_job(w: &World, who: &Who) -> Job {
    poll(&format!("a job for {}", who.label()), || {
        let jobs = poll_jobs(w, who);
        assert!(
            jobs.len() <= 1,
            "{} got more than its one job: {jobs:?}",
            who.label()
        );
        jobs.into_iter().next()
    })
}

/// Waits until the worker action of execution `id` runs, so its job is queued.
fn wait_for_queued_job(w: &World, who: &Who, name: &str, id: &str) {
    poll(&format!("{}'s job to be queued", who.label()), || {
        let status = action_status(w, who, name, id, "Build", "Build")?.0;
        (status == ActionExecutionStatus::InProgress).then_some(())
    });
}

#[test]
fn jobs_and_custom_action_types_of_other_accounts_and_regions_are_out_of_reach() {
    let w = World::new();
    let (a, name) = (&w.a, "jobs");
    create_worker_type(&w, a);
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(worker_pipeline(name))
            .send(),
    )
    .expect("CreatePipeline as A");
    let e1 = first_execution(&w, a, name);
    wait_for_queued_job(&w, a, name, &e1);
    assert!(custom_providers(&w, a).contains(&WORKER.to_owned()));

    // A's custom type, and so A's queued job, do not exist for B and C.
    for who in w.others() {
        let l = who.label();
        assert!(
            !custom_providers(&w, who).contains(&WORKER.to_owned()),
            "{l} lists A's custom action type"
        );
        // AWS refuses to poll for a type the caller does not have; an empty poll would do too.
        let polled = w.block(
            who.sdk
                .poll_for_jobs()
                .action_type_id(worker_type())
                .max_batch_size(10)
                .send(),
        );
        match polled {
            Ok(out) => assert!(out.jobs().is_empty(), "{l} was handed A's job: {out:?}"),
            Err(e) => {
                refused(&format!("PollForJobs as {l}"), Err::<(), _>(e));
            }
        }
        let type_arn =
            "arn:aws:codepipeline:us-east-1:111111111111:actiontype:Custom/Build/IsoWorker/1";
        refused_with(
            &format!("ListTagsForResource of A's custom type as {l}"),
            w.block(
                who.sdk
                    .list_tags_for_resource()
                    .resource_arn(type_arn)
                    .send(),
            ),
            FOREIGN_ARN,
        );
    }
    let listed = w.aws_ok(
        &w.c,
        &["list-action-types", "--action-owner-filter", "Custom"],
    );
    assert_eq!(listed["actionTypes"], json!([]), "C lists A's custom type");
    let out = w.aws(&w.b, &["poll-for-jobs", "--action-type-id", WORKER_ARG]);
    if out.ok {
        assert_eq!(out.json["jobs"], json!([]), "B was handed A's job");
    } else {
        assert!(!out.error().0.is_empty(), "no AWS error: {}", out.stderr);
    }

    // The same custom type is free to B and C, and gives them none of A's jobs.
    for who in w.others() {
        create_worker_type(&w, who);
        let jobs = poll_jobs(&w, who);
        assert!(
            jobs.is_empty(),
            "{} was handed A's job: {jobs:?}",
            who.label()
        );
    }
    let out = w.aws_ok(&w.b, &["poll-for-jobs", "--action-type-id", WORKER_ARG]);
    assert_eq!(out["jobs"], json!([]), "B was handed A's job");

    // A gets its job, naming A's account and pipeline.
    let job = take_job(&w, a);
    let job_id = job.id().expect("job id").to_owned();
    let nonce = job.nonce().expect("nonce").to_owned();
    assert_eq!(job.account_id(), Some("111111111111"));
    let context = job
        .data()
        .and_then(|d| d.pipeline_context())
        .expect("context");
    assert_eq!(
        context.pipeline_arn(),
        Some("arn:aws:codepipeline:us-east-1:111111111111:jobs")
    );
    assert_eq!(context.pipeline_execution_id(), Some(e1.as_str()));

    // B and C cannot read, acknowledge or finish it, even with its nonce.
    for who in w.others() {
        let l = who.label();
        let missing = &["JobNotFoundException"];
        refused_with(
            &format!("GetJobDetails of A's job as {l}"),
            w.block(who.sdk.get_job_details().job_id(&job_id).send()),
            missing,
        );
        refused_with(
            &format!("AcknowledgeJob of A's job as {l}"),
            w.block(
                who.sdk
                    .acknowledge_job()
                    .job_id(&job_id)
                    .nonce(&nonce)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("PutJobSuccessResult of A's job as {l}"),
            w.block(who.sdk.put_job_success_result().job_id(&job_id).send()),
            missing,
        );
        let failure = FailureDetails::builder()
            .r#type(FailureType::JobFailed)
            .message("not yours")
            .build()
            .unwrap();
        refused_with(
            &format!("PutJobFailureResult of A's job as {l}"),
            w.block(
                who.sdk
                    .put_job_failure_result()
                    .job_id(&job_id)
                    .failure_details(failure)
                    .send(),
            ),
            missing,
        );
    }
    let cli = w.aws(&w.c, &["get-job-details", "--job-id", &job_id]);
    cli_refused("aws get-job-details as C", &cli, &["JobNotFoundException"]);
    let cli = w.aws(
        &w.b,
        &["acknowledge-job", "--job-id", &job_id, "--nonce", &nonce],
    );
    cli_refused("aws acknowledge-job as B", &cli, &["JobNotFoundException"]);
    let cli = w.aws(
        &w.b,
        &[
            "put-job-failure-result",
            "--job-id",
            &job_id,
            "--failure-details",
            "type=JobFailed,message=not-yours",
        ],
    );
    cli_refused(
        "aws put-job-failure-result as B",
        &cli,
        &["JobNotFoundException"],
    );

    // A's job is as it was: still A's to acknowledge and finish.
    let details = w
        .block(a.sdk.get_job_details().job_id(&job_id).send())
        .expect("GetJobDetails as A");
    assert_eq!(
        details.job_details().and_then(|d| d.id()),
        Some(job_id.as_str())
    );
    let (status, _) = action_status(&w, a, name, &e1, "Build", "Build").expect("Build runs");
    assert_eq!(status, ActionExecutionStatus::InProgress);
    let ack = w
        .block(a.sdk.acknowledge_job().job_id(&job_id).nonce(&nonce).send())
        .expect("AcknowledgeJob as A");
    assert_eq!(ack.status(), Some(&JobStatus::InProgress));

    // Same-named pipelines of B and C queue their own jobs, which A cannot reach.
    let mut theirs = Vec::new();
    for who in w.others() {
        let l = who.label();
        w.block(
            who.sdk
                .create_pipeline()
                .pipeline(worker_pipeline(name))
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreatePipeline as {l}: {e:?}"));
        let id = first_execution(&w, who, name);
        let job = take_job(&w, who);
        let their_job = job.id().expect("job id").to_owned();
        assert_ne!(their_job, job_id);
        assert_eq!(job.account_id(), Some(who.account), "{l}");
        let context = job
            .data()
            .and_then(|d| d.pipeline_context())
            .expect("context");
        let expected = format!("arn:aws:codepipeline:{}:{}:jobs", who.region, who.account);
        assert_eq!(context.pipeline_arn(), Some(expected.as_str()), "{l}");
        assert_eq!(context.pipeline_execution_id(), Some(id.as_str()), "{l}");
        refused_with(
            &format!("GetJobDetails of {l}'s job as A"),
            w.block(a.sdk.get_job_details().job_id(&their_job).send()),
            &["JobNotFoundException"],
        );
        theirs.push((who, id, their_job));
    }
    assert_eq!(poll_jobs(&w, a), Vec::<Job>::new());

    // Each result finishes its owner's execution only.
    w.block(a.sdk.put_job_success_result().job_id(&job_id).send())
        .expect("PutJobSuccessResult as A");
    wait_for(&w, a, name, &e1, PipelineExecutionStatus::Succeeded);
    for (who, id, _) in &theirs {
        let status = execution_status(&w, who, name, id);
        assert_eq!(
            status,
            PipelineExecutionStatus::InProgress,
            "{}",
            who.label()
        );
    }
    let (b, b1, b_job) = &theirs[0];
    let (c, c1, _) = &theirs[1];
    w.aws_ok(b, &["put-job-success-result", "--job-id", b_job]);
    wait_for(&w, b, name, b1, PipelineExecutionStatus::Succeeded);
    assert_eq!(
        execution_status(&w, c, name, c1),
        PipelineExecutionStatus::InProgress
    );
    assert!(custom_providers(&w, a).contains(&WORKER.to_owned()));
}

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

/// A V1 GitHub source on `main`, then a CodeBuild stage.
fn github_pipeline(name: &str) -> PipelineDeclaration {
    let source = action(
        "Source",
        type_id(ActionCategory::Source, ActionOwner::ThirdParty, "GitHub"),
        &[
            ("Owner", "me"),
            ("Repo", "app"),
            ("Branch", "main"),
            ("OAuthToken", "ghp_not_a_real_token"),
            ("PollForSourceChanges", "false"),
        ],
        &[],
        &["Src"],
    );
    let build = action(
        "Build",
        type_id(ActionCategory::Build, ActionOwner::Aws, "CodeBuild"),
        &[("ProjectName", "app-build")],
        &["Src"],
        &[],
    );
    pipeline(
        name,
        vec![stage("Source", vec![source]), stage("Build", vec![build])],
    )
}

/// `(name, url, arn)` of every webhook `who` lists.
fn webhooks_of(w: &World, who: &Who) -> Vec<(String, String, String)> {
    let out = w
        .block(who.sdk.list_webhooks().send())
        .unwrap_or_else(|e| panic!("ListWebhooks as {}: {e:?}", who.label()));
    out.webhooks()
        .iter()
        .map(|h| {
            let name = h
                .definition()
                .map(|d| d.name().to_owned())
                .unwrap_or_default();
            (
                name,
                h.url().to_owned(),
                h.arn().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Delivers a GitHub push to `main` to a webhook URL; returns the execution it started.
fn deliver_push(url: &str) -> String {
    let body = json!({
        "ref": "refs/heads/main",
        "after": "0123456789abcdef0123456789abcdef01234567",
        "repository": {"name": "app", "full_name": "me/app"},
    });
    let response = ureq::post(url)
        .set("content-type", "application/json")
        .set("X-GitHub-Event", "push")
        .send_string(&body.to_string())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let reply: Value = response.into_json().expect("json");
    assert_eq!(reply["started"], true, "{reply}");
    reply["pipelineExecutionId"]
        .as_str()
        .expect("pipelineExecutionId")
        .to_owned()
}

#[test]
fn webhooks_of_other_accounts_and_regions_are_out_of_reach() {
    let w = World::new();
    let (a, target, hook) = (&w.a, "gh", "hook");
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(github_pipeline(target))
            .send(),
    )
    .expect("CreatePipeline as A");
    let put = w
        .block(a.sdk.put_webhook().webhook(webhook(hook, target)).send())
        .expect("PutWebhook as A");
    let item = put.webhook().expect("webhook");
    let a_url = item.url().to_owned();
    let a_arn = "arn:aws:codepipeline:us-east-1:111111111111:webhook:hook";
    assert_eq!(item.arn(), Some(a_arn));
    let a_hooks = vec![(hook.to_owned(), a_url.clone(), a_arn.to_owned())];
    assert_eq!(webhooks_of(&w, a), a_hooks);

    for who in w.others() {
        let l = who.label();
        assert_eq!(webhooks_of(&w, who), [], "{l} lists A's webhook");
        // Without a pipeline of that name there is nothing to hook onto.
        refused_with(
            &format!("PutWebhook on A's pipeline as {l}"),
            w.block(who.sdk.put_webhook().webhook(webhook(hook, target)).send()),
            &["PipelineNotFoundException"],
        );
        let missing = &["WebhookNotFoundException"];
        refused_with(
            &format!("RegisterWebhookWithThirdParty as {l}"),
            w.block(
                who.sdk
                    .register_webhook_with_third_party()
                    .webhook_name(hook)
                    .send(),
            ),
            missing,
        );
        refused_with(
            &format!("DeregisterWebhookWithThirdParty as {l}"),
            w.block(
                who.sdk
                    .deregister_webhook_with_third_party()
                    .webhook_name(hook)
                    .send(),
            ),
            missing,
        );
        // AWS answers success for a webhook name it does not have; A's must survive it.
        let deleted = w.block(who.sdk.delete_webhook().name(hook).send());
        if deleted.is_err() {
            refused(&format!("DeleteWebhook as {l}"), deleted);
        }
        refused_with(
            &format!("ListTagsForResource of A's webhook as {l}"),
            w.block(who.sdk.list_tags_for_resource().resource_arn(a_arn).send()),
            FOREIGN_ARN,
        );
    }
    let listed = w.aws_ok(&w.b, &["list-webhooks"]);
    assert_eq!(listed["webhooks"], json!([]), "B lists A's webhook");
    let cli = w.aws(
        &w.c,
        &["register-webhook-with-third-party", "--webhook-name", hook],
    );
    cli_refused(
        "aws register-webhook-with-third-party as C",
        &cli,
        &["WebhookNotFoundException"],
    );
    let cli = w.aws(&w.b, &["delete-webhook", "--name", hook]);
    if !cli.ok {
        assert!(!cli.error().0.is_empty(), "no AWS error: {}", cli.stderr);
    }
    assert_eq!(webhooks_of(&w, a), a_hooks, "B or C changed A's webhook");
    w.block(
        a.sdk
            .register_webhook_with_third_party()
            .webhook_name(hook)
            .send(),
    )
    .expect("RegisterWebhookWithThirdParty as A");

    // B and C hook same-named webhooks onto same-named pipelines of their own.
    let mut urls = vec![a_url.clone()];
    for (who, expected_arn) in [
        (
            &w.b,
            "arn:aws:codepipeline:us-east-1:222222222222:webhook:hook",
        ),
        (
            &w.c,
            "arn:aws:codepipeline:eu-west-1:111111111111:webhook:hook",
        ),
    ] {
        let l = who.label();
        w.block(
            who.sdk
                .create_pipeline()
                .pipeline(github_pipeline(target))
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreatePipeline as {l}: {e:?}"));
        first_execution(&w, who, target);
        let put = w
            .block(who.sdk.put_webhook().webhook(webhook(hook, target)).send())
            .unwrap_or_else(|e| panic!("PutWebhook as {l}: {e:?}"));
        let item = put.webhook().expect("webhook");
        assert_eq!(item.arn(), Some(expected_arn), "{l}");
        assert!(
            !urls.contains(&item.url().to_owned()),
            "{l} got a URL in use"
        );
        urls.push(item.url().to_owned());
        assert_eq!(webhooks_of(&w, who).len(), 1, "{l}");
    }
    let listed = w.aws_ok(&w.c, &["list-webhooks"]);
    assert_eq!(
        listed["webhooks"][0]["arn"],
        "arn:aws:codepipeline:eu-west-1:111111111111:webhook:hook"
    );
    assert_eq!(listed["webhooks"][0]["url"], urls[2].as_str());
    assert_eq!(webhooks_of(&w, a), a_hooks, "B or C changed A's webhook");

    // Each URL starts its owner's pipeline and nobody else's.
    let before: Vec<Vec<String>> = [a, &w.b, &w.c]
        .iter()
        .map(|who| execution_ids(&w, who, target))
        .collect();
    let started = deliver_push(&a_url);
    assert_eq!(execution_ids(&w, a, target)[0], started);
    assert_eq!(execution_ids(&w, &w.b, target), before[1]);
    assert_eq!(execution_ids(&w, &w.c, target), before[2]);
    refused_with(
        "GetPipelineExecution of A's webhook execution as B",
        w.block(
            w.b.sdk
                .get_pipeline_execution()
                .pipeline_name(target)
                .pipeline_execution_id(&started)
                .send(),
        ),
        &["PipelineExecutionNotFoundException"],
    );
    let theirs = deliver_push(&urls[1]);
    assert_eq!(execution_ids(&w, &w.b, target)[0], theirs);
    assert!(!execution_ids(&w, a, target).contains(&theirs));
    assert_eq!(execution_ids(&w, &w.c, target), before[2]);

    // B deleting its own webhook leaves A's and C's, and A's URL still works.
    w.aws_ok(&w.b, &["delete-webhook", "--name", hook]);
    assert_eq!(webhooks_of(&w, &w.b), []);
    assert_eq!(webhooks_of(&w, a), a_hooks);
    assert_eq!(webhooks_of(&w, &w.c).len(), 1);
    let again = deliver_push(&a_url);
    assert_eq!(execution_ids(&w, a, target)[0], again);
}

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

#[test]
fn tags_of_other_accounts_and_regions_cannot_be_read_or_changed() {
    let w = World::new();
    let (a, name) = (&w.a, "tagged");
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(approval_pipeline(name, "Approve"))
            .tags(tag("team", "a"))
            .tags(tag("env", "prod"))
            .send(),
    )
    .expect("CreatePipeline as A");
    let a_arn = "arn:aws:codepipeline:us-east-1:111111111111:tagged";
    let a_tags = map(&[("team", "a"), ("env", "prod")]);
    assert_eq!(tags_of(&w, a, a_arn), a_tags);

    for who in w.others() {
        let l = who.label();
        refused_with(
            &format!("ListTagsForResource of A's pipeline as {l}"),
            w.block(who.sdk.list_tags_for_resource().resource_arn(a_arn).send()),
            FOREIGN_ARN,
        );
        refused_with(
            &format!("TagResource of A's pipeline as {l}"),
            w.block(
                who.sdk
                    .tag_resource()
                    .resource_arn(a_arn)
                    .tags(tag("team", who.tag))
                    .send(),
            ),
            FOREIGN_ARN,
        );
        refused_with(
            &format!("UntagResource of A's pipeline as {l}"),
            w.block(
                who.sdk
                    .untag_resource()
                    .resource_arn(a_arn)
                    .tag_keys("team")
                    .send(),
            ),
            FOREIGN_ARN,
        );
    }
    let cli = w.aws(&w.b, &["list-tags-for-resource", "--resource-arn", a_arn]);
    cli_refused("aws list-tags-for-resource as B", &cli, FOREIGN_ARN);
    let cli = w.aws(
        &w.c,
        &[
            "tag-resource",
            "--resource-arn",
            a_arn,
            "--tags",
            "key=team,value=c",
        ],
    );
    cli_refused("aws tag-resource as C", &cli, FOREIGN_ARN);
    let cli = w.aws(
        &w.b,
        &[
            "untag-resource",
            "--resource-arn",
            a_arn,
            "--tag-keys",
            "team",
        ],
    );
    cli_refused("aws untag-resource as B", &cli, FOREIGN_ARN);
    assert_eq!(tags_of(&w, a, a_arn), a_tags);

    // A's own account but another region in the ARN names a pipeline A does not have here.
    let other_region = "arn:aws:codepipeline:eu-west-1:111111111111:tagged";
    refused_with(
        "ListTagsForResource as A of an eu-west-1 ARN",
        w.block(
            a.sdk
                .list_tags_for_resource()
                .resource_arn(other_region)
                .send(),
        ),
        FOREIGN_ARN,
    );
    refused_with(
        "TagResource as A of an eu-west-1 ARN",
        w.block(
            a.sdk
                .tag_resource()
                .resource_arn(other_region)
                .tags(tag("team", "x"))
                .send(),
        ),
        FOREIGN_ARN,
    );
    let cli = w.aws(
        a,
        &["list-tags-for-resource", "--resource-arn", other_region],
    );
    cli_refused(
        "aws list-tags-for-resource as A of an eu-west-1 ARN",
        &cli,
        FOREIGN_ARN,
    );
    assert_eq!(tags_of(&w, a, a_arn), a_tags);

    // B and C tag same-named pipelines of their own.
    let b_arn = "arn:aws:codepipeline:us-east-1:222222222222:tagged";
    for (who, arn) in [(&w.b, b_arn), (&w.c, other_region)] {
        let l = who.label();
        w.block(
            who.sdk
                .create_pipeline()
                .pipeline(approval_pipeline(name, "Approve"))
                .tags(tag("team", who.tag))
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreatePipeline as {l}: {e:?}"));
        assert_eq!(pipeline_of(&w, who, name).2, arn);
        assert_eq!(tags_of(&w, who, arn), map(&[("team", who.tag)]), "{l}");
        w.block(
            who.sdk
                .tag_resource()
                .resource_arn(arn)
                .tags(tag("env", "prod"))
                .send(),
        )
        .unwrap_or_else(|e| panic!("TagResource as {l}: {e:?}"));
    }
    assert_eq!(tags_of(&w, a, a_arn), a_tags);
    let b_tags = map(&[("team", "B"), ("env", "prod")]);
    let c_tags = map(&[("team", "C"), ("env", "prod")]);
    let listed = w.aws_ok(
        &w.c,
        &["list-tags-for-resource", "--resource-arn", other_region],
    );
    assert_eq!(listed["tags"].as_array().map(Vec::len), Some(2), "{listed}");

    // Now those ARNs name real pipelines, but still not A's.
    refused_with(
        "TagResource as A of C's pipeline",
        w.block(
            a.sdk
                .tag_resource()
                .resource_arn(other_region)
                .tags(tag("team", "a"))
                .send(),
        ),
        FOREIGN_ARN,
    );
    refused_with(
        "ListTagsForResource as A of B's pipeline",
        w.block(a.sdk.list_tags_for_resource().resource_arn(b_arn).send()),
        FOREIGN_ARN,
    );
    refused_with(
        "UntagResource as A of B's pipeline",
        w.block(
            a.sdk
                .untag_resource()
                .resource_arn(b_arn)
                .tag_keys("team")
                .send(),
        ),
        FOREIGN_ARN,
    );
    refused_with(
        "UntagResource as B of C's pipeline",
        w.block(
            w.b.sdk
                .untag_resource()
                .resource_arn(other_region)
                .tag_keys("env")
                .send(),
        ),
        FOREIGN_ARN,
    );
    assert_eq!(tags_of(&w, &w.b, b_arn), b_tags);
    assert_eq!(tags_of(&w, &w.c, other_region), c_tags);

    // A's own untag and delete touch only A's tags.
    w.block(
        a.sdk
            .untag_resource()
            .resource_arn(a_arn)
            .tag_keys("env")
            .send(),
    )
    .expect("UntagResource as A");
    assert_eq!(tags_of(&w, a, a_arn), map(&[("team", "a")]));
    assert_eq!(tags_of(&w, &w.b, b_arn), b_tags);
    assert_eq!(tags_of(&w, &w.c, other_region), c_tags);
    w.block(a.sdk.delete_pipeline().name(name).send())
        .expect("DeletePipeline as A");
    refused_with(
        "ListTagsForResource as A of its deleted pipeline",
        w.block(a.sdk.list_tags_for_resource().resource_arn(a_arn).send()),
        &["ResourceNotFoundException"],
    );
    assert_eq!(tags_of(&w, &w.b, b_arn), b_tags);
    assert_eq!(tags_of(&w, &w.c, other_region), c_tags);
    // A fresh pipeline of that name starts with no tags: nothing comes back from B or C.
    w.block(
        a.sdk
            .create_pipeline()
            .pipeline(approval_pipeline(name, "Approve"))
            .send(),
    )
    .expect("CreatePipeline as A again");
    assert_eq!(tags_of(&w, a, a_arn), BTreeMap::new());
}
