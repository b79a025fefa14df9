//! Sources, rollbacks, stage conditions, deploy targets and third-party action types through
//! the AWS SDK for Rust: PutWebhook and the URL it hands out, ListWebhooks, Register and
//! DeregisterWebhookWithThirdParty, DeleteWebhook; PutActionRevision; RollbackStage;
//! a hanging beforeEntry rule released by OverrideStageCondition, ListRuleExecutions and
//! ListRuleTypes; ListDeployActionExecutionTargets; UpdateActionType and GetActionType.
//!
//! Pipelines are created with raw awsJson requests where the SDK is not the point; every
//! operation under test goes through the SDK, and every wait is a poll with a deadline.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::common::sdk_build::{webhook, ROLE_ARN};
use crate::common::*;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::primitives::DateTime;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionExecutionFilter, ActionRevision, ActionTypeArtifactDetails,
    ActionTypeDeclaration, ActionTypeExecutor, ActionTypeIdentifier, ActionTypeProperty,
    ConditionExecutionStatus, ConditionType, ExecutionType, ExecutorConfiguration, ExecutorType,
    JobWorkerExecutorConfiguration, PipelineExecution, PipelineExecutionStatus,
    RuleExecutionStatus, TriggerType, WebhookAuthenticationType,
};
use aws_sdk_codepipeline::Client;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers: servers, waits, errors
// ---------------------------------------------------------------------------------------------

/// A server whose stub actions finish at once.
fn server() -> Server {
    Server::start_with(&["--action-duration", "0s"])
}

/// Calls `check` until it yields `Some`, sleeping 20 ms between tries, for at most 20 s.
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

/// GetPipelineExecution through the SDK.
async fn execution(client: &Client, pipeline: &str, id: &str) -> PipelineExecution {
    client
        .get_pipeline_execution()
        .pipeline_name(pipeline)
        .pipeline_execution_id(id)
        .send()
        .await
        .expect("GetPipelineExecution")
        .pipeline_execution()
        .expect("pipelineExecution")
        .clone()
}

/// Waits for execution `id` of `pipeline` to reach `want`, and returns it.
async fn wait_status(
    client: &Client,
    pipeline: &str,
    id: &str,
    want: PipelineExecutionStatus,
) -> PipelineExecution {
    let what = format!("execution {id} of {pipeline} to be {want:?}");
    eventually(&what, || async {
        let e = execution(client, pipeline, id).await;
        (e.status() == Some(&want)).then_some(e)
    })
    .await
}

/// The id of the newest execution of `pipeline` (waits until there is one).
async fn latest_execution(client: &Client, pipeline: &str) -> String {
    eventually("an execution to exist", || async {
        let out = client
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .send()
            .await
            .expect("ListPipelineExecutions");
        out.pipeline_execution_summaries()
            .first()?
            .pipeline_execution_id()
            .map(str::to_owned)
    })
    .await
}

/// Asserts that a call failed with the modelled error `code` (with a message).
/// `result` is already `map_err(SdkError::into_service_error)`-ed.
fn assert_service_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, E>,
    code: &str,
) {
    let err = match result {
        Ok(v) => panic!("expected the service error {code}, got {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(code), "{err:?}");
    assert!(
        err.message().is_some_and(|m| !m.is_empty()),
        "no message: {err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers: pipeline declarations
// ---------------------------------------------------------------------------------------------

fn pipeline(name: &str, stages: Value) -> Value {
    json!({
        "name": name,
        "pipelineType": "V2",
        "roleArn": ROLE_ARN,
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": stages,
    })
}

fn s3_source_stage() -> Value {
    json!({"name": "Source", "actions": [{"name": "Source",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "outputArtifacts": [{"name": "Src"}],
        "configuration": {"S3Bucket": "b", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"}}]})
}

fn deploy_stage(provider: &str, configuration: Value) -> Value {
    json!({"name": "Deploy", "actions": [{"name": "Deploy",
        "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": provider, "version": "1"},
        "inputArtifacts": [{"name": "Src"}],
        "configuration": configuration}]})
}

fn s3_deploy_stage() -> Value {
    deploy_stage("S3", json!({"BucketName": "site", "Extract": "true"}))
}

/// A V1 pipeline: a `Source/ThirdParty/GitHub/1` source on branch `main`, then an S3 deploy.
fn github_pipeline(name: &str) -> Value {
    json!({
        "name": name,
        "roleArn": ROLE_ARN,
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [
            github_v1_source_stage(),
            s3_deploy_stage(),
        ],
    })
}

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

/// POSTs a GitHub-like push payload to a webhook URL; returns the HTTP status.
fn post_push(url: &str, body: &str) -> u16 {
    match ureq::post(url)
        .set("content-type", "application/json")
        .send_string(body)
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(e) => panic!("POST {url} failed: {e}"),
    }
}

#[tokio::test]
async fn webhooks_through_the_sdk() {
    let server = server();
    let client = server.sdk();
    server.create_pipeline(&github_pipeline("hooked"));
    let first = latest_execution(&client, "hooked").await;
    wait_status(
        &client,
        "hooked",
        &first,
        PipelineExecutionStatus::Succeeded,
    )
    .await;

    let put = client
        .put_webhook()
        .webhook(webhook("hook", "hooked"))
        .send()
        .await
        .expect("PutWebhook");
    let item = put.webhook().expect("webhook");
    let url = item.url().to_owned();
    assert!(url.starts_with(&server.url), "{url}");
    let arn = item.arn().expect("arn").to_owned();
    assert!(arn.starts_with("arn:aws:codepipeline:us-east-1:"), "{arn}");
    assert!(arn.ends_with(":webhook:hook"), "{arn}");

    let listed = client.list_webhooks().send().await.expect("ListWebhooks");
    let hooks = listed.webhooks();
    assert_eq!(hooks.len(), 1, "{hooks:#?}");
    assert_eq!(hooks[0].url(), url);
    assert_eq!(hooks[0].arn(), Some(arn.as_str()));
    let definition = hooks[0].definition().expect("definition");
    assert_eq!(definition.name(), "hook");
    assert_eq!(definition.target_pipeline(), "hooked");
    assert_eq!(
        definition.authentication(),
        &WebhookAuthenticationType::Unauthenticated
    );
    let auth = definition
        .authentication_configuration()
        .expect("authenticationConfiguration");
    assert_eq!(auth.secret_token(), None, "the secret is never returned");

    assert_eq!(post_push(&url, r#"{"ref":"refs/heads/main"}"#), 200);
    let started = eventually("the webhook to start an execution", || async {
        let id = latest_execution(&client, "hooked").await;
        (id != first).then_some(id)
    })
    .await;
    let run = wait_status(
        &client,
        "hooked",
        &started,
        PipelineExecutionStatus::Succeeded,
    )
    .await;
    let trigger = run.trigger().expect("trigger");
    assert_eq!(trigger.trigger_type(), Some(&TriggerType::Webhook));
    assert_eq!(trigger.trigger_detail(), Some(arn.as_str()));

    client
        .register_webhook_with_third_party()
        .webhook_name("hook")
        .send()
        .await
        .expect("RegisterWebhookWithThirdParty");
    client
        .deregister_webhook_with_third_party()
        .webhook_name("hook")
        .send()
        .await
        .expect("DeregisterWebhookWithThirdParty");
    assert_service_error(
        client
            .register_webhook_with_third_party()
            .webhook_name("nope")
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "WebhookNotFoundException",
    );
    assert_service_error(
        client
            .deregister_webhook_with_third_party()
            .webhook_name("nope")
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "WebhookNotFoundException",
    );

    client
        .delete_webhook()
        .name("hook")
        .send()
        .await
        .expect("DeleteWebhook");
    let listed = client.list_webhooks().send().await.expect("ListWebhooks");
    assert!(listed.webhooks().is_empty(), "{listed:?}");
}

// ---------------------------------------------------------------------------------------------
// PutActionRevision
// ---------------------------------------------------------------------------------------------

fn revision(id: &str) -> ActionRevision {
    ActionRevision::builder()
        .revision_id(id)
        .revision_change_id(format!("change-{id}"))
        .created(DateTime::from_secs(1_700_000_000))
        .build()
        .unwrap()
}

#[tokio::test]
async fn put_action_revision_starts_only_new_revisions() {
    let server = server();
    let client = server.sdk();
    server.create_pipeline(&pipeline(
        "revised",
        json!([s3_source_stage(), s3_deploy_stage()]),
    ));
    let first = latest_execution(&client, "revised").await;
    wait_status(
        &client,
        "revised",
        &first,
        PipelineExecutionStatus::Succeeded,
    )
    .await;

    let put = || {
        client
            .put_action_revision()
            .pipeline_name("revised")
            .stage_name("Source")
            .action_name("Source")
            .action_revision(revision("v-abc123"))
            .send()
    };
    let out = put().await.expect("PutActionRevision");
    assert!(out.new_revision(), "{out:?}");
    let id = out
        .pipeline_execution_id()
        .expect("pipelineExecutionId")
        .to_owned();
    assert_ne!(id, first);
    let run = wait_status(&client, "revised", &id, PipelineExecutionStatus::Succeeded).await;
    assert_eq!(
        run.trigger().and_then(|t| t.trigger_type()),
        Some(&TriggerType::PutActionRevision)
    );

    let again = put().await.expect("PutActionRevision again");
    assert!(!again.new_revision(), "{again:?}");
    assert_eq!(latest_execution(&client, "revised").await, id);
}

// ---------------------------------------------------------------------------------------------
// RollbackStage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rollback_stage_redeploys_an_earlier_execution() {
    let server = server();
    let client = server.sdk();
    server.create_pipeline(&pipeline(
        "rolled",
        json!([s3_source_stage(), s3_deploy_stage()]),
    ));
    let first = latest_execution(&client, "rolled").await;
    wait_status(
        &client,
        "rolled",
        &first,
        PipelineExecutionStatus::Succeeded,
    )
    .await;
    let second = client
        .start_pipeline_execution()
        .name("rolled")
        .send()
        .await
        .expect("StartPipelineExecution")
        .pipeline_execution_id()
        .expect("pipelineExecutionId")
        .to_owned();
    wait_status(
        &client,
        "rolled",
        &second,
        PipelineExecutionStatus::Succeeded,
    )
    .await;

    let out = client
        .rollback_stage()
        .pipeline_name("rolled")
        .stage_name("Deploy")
        .target_pipeline_execution_id(&first)
        .send()
        .await
        .expect("RollbackStage");
    let id = out.pipeline_execution_id().to_owned();
    assert!(id != first && id != second, "a new execution: {id}");
    let run = wait_status(&client, "rolled", &id, PipelineExecutionStatus::Succeeded).await;
    assert_eq!(run.execution_type(), Some(&ExecutionType::Rollback));
    assert_eq!(
        run.rollback_metadata()
            .and_then(|m| m.rollback_target_pipeline_execution_id()),
        Some(first.as_str())
    );
    assert_eq!(
        run.trigger().and_then(|t| t.trigger_type()),
        Some(&TriggerType::ManualRollback)
    );

    assert_service_error(
        client
            .rollback_stage()
            .pipeline_name("rolled")
            .stage_name("Nope")
            .target_pipeline_execution_id(&first)
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "StageNotFoundException",
    );
    assert_service_error(
        client
            .rollback_stage()
            .pipeline_name("rolled")
            .stage_name("Deploy")
            .target_pipeline_execution_id("00000000-0000-4000-8000-000000000000")
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "PipelineExecutionNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------------
// Stage conditions
// ---------------------------------------------------------------------------------------------

/// A V2 pipeline whose Deploy stage waits before entry on the CloudWatchAlarm rule `Alarm`.
fn gated_pipeline(name: &str) -> Value {
    let mut deploy = s3_deploy_stage();
    deploy["beforeEntry"] = json!({"conditions": [{"result": "FAIL", "rules": [{
        "name": "Alarm",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "configuration": {"AlarmName": "errors"}}]}]});
    pipeline(name, json!([s3_source_stage(), deploy]))
}

async fn before_entry_status(client: &Client, pipeline: &str) -> Option<ConditionExecutionStatus> {
    let state = client
        .get_pipeline_state()
        .name(pipeline)
        .send()
        .await
        .expect("GetPipelineState");
    let deploy = state
        .stage_states()
        .iter()
        .find(|s| s.stage_name() == Some("Deploy"))?;
    deploy
        .before_entry_condition_state()?
        .latest_execution()?
        .status()
        .cloned()
}

#[tokio::test]
async fn override_stage_condition_releases_a_hanging_rule() {
    let server = server();
    let client = server.sdk();
    server.control("/_local/faults", json!({"action": "Alarm", "type": "hang"}));
    server.create_pipeline(&gated_pipeline("gated"));
    let id = latest_execution(&client, "gated").await;

    eventually("the beforeEntry condition to be InProgress", || async {
        (before_entry_status(&client, "gated").await == Some(ConditionExecutionStatus::InProgress))
            .then_some(())
    })
    .await;
    assert_eq!(
        execution(&client, "gated", &id).await.status(),
        Some(&PipelineExecutionStatus::InProgress)
    );

    client
        .override_stage_condition()
        .pipeline_name("gated")
        .stage_name("Deploy")
        .pipeline_execution_id(&id)
        .condition_type(ConditionType::BeforeEntry)
        .send()
        .await
        .expect("OverrideStageCondition");
    wait_status(&client, "gated", &id, PipelineExecutionStatus::Succeeded).await;

    let rules = client
        .list_rule_executions()
        .pipeline_name("gated")
        .send()
        .await
        .expect("ListRuleExecutions");
    let details = rules.rule_execution_details();
    assert_eq!(details.len(), 1, "{details:#?}");
    assert_eq!(details[0].rule_name(), Some("Alarm"));
    assert_eq!(details[0].status(), Some(&RuleExecutionStatus::Abandoned));
    assert_eq!(details[0].pipeline_execution_id(), Some(id.as_str()));
}

#[tokio::test]
async fn list_rule_types_names_the_evaluated_rules() {
    let server = server();
    let client = server.sdk();
    let out = client
        .list_rule_types()
        .send()
        .await
        .expect("ListRuleTypes");
    let providers: Vec<&str> = out
        .rule_types()
        .iter()
        .filter_map(|t| t.id())
        .map(|id| id.provider())
        .collect();
    for want in ["VariableCheck", "DeploymentWindow", "CloudWatchAlarm"] {
        assert!(providers.contains(&want), "{want} missing: {providers:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// ListDeployActionExecutionTargets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deploy_targets_of_a_codedeploy_action() {
    let server = server();
    let client = server.sdk();
    let deploy = deploy_stage(
        "CodeDeploy",
        json!({"ApplicationName": "app", "DeploymentGroupName": "app-group"}),
    );
    server.create_pipeline(&pipeline("fleet", json!([s3_source_stage(), deploy])));
    let id = latest_execution(&client, "fleet").await;
    wait_status(&client, "fleet", &id, PipelineExecutionStatus::Succeeded).await;

    let actions = client
        .list_action_executions()
        .pipeline_name("fleet")
        .filter(
            ActionExecutionFilter::builder()
                .pipeline_execution_id(&id)
                .build(),
        )
        .send()
        .await
        .expect("ListActionExecutions");
    let deploy_execution = actions
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some("Deploy"))
        .and_then(|d| d.action_execution_id())
        .expect("the Deploy action execution id")
        .to_owned();

    let out = client
        .list_deploy_action_execution_targets()
        .pipeline_name("fleet")
        .action_execution_id(&deploy_execution)
        .send()
        .await
        .expect("ListDeployActionExecutionTargets");
    let targets = out.targets();
    assert_eq!(targets.len(), 2, "{targets:#?}");
    for t in targets {
        assert_eq!(t.target_type(), Some("Instance"), "{t:?}");
        assert_eq!(t.status(), Some("Succeeded"), "{t:?}");
        assert!(t.start_time().is_some() && t.end_time().is_some(), "{t:?}");
        assert_eq!(t.events().len(), 7, "{t:?}");
        assert_eq!(t.events()[0].name(), Some("ApplicationStop"));
        assert_eq!(t.events()[6].name(), Some("ValidateService"));
    }
}

// ---------------------------------------------------------------------------------------------
// UpdateActionType
// ---------------------------------------------------------------------------------------------

fn artifacts(min: i32, max: i32) -> ActionTypeArtifactDetails {
    ActionTypeArtifactDetails::builder()
        .minimum_count(min)
        .maximum_count(max)
        .build()
}

fn action_type_declaration(owner: &str, provider: &str) -> ActionTypeDeclaration {
    let executor = ActionTypeExecutor::builder()
        .r#type(ExecutorType::JobWorker)
        .configuration(
            ExecutorConfiguration::builder()
                .job_worker_executor_configuration(
                    JobWorkerExecutorConfiguration::builder().build(),
                )
                .build(),
        )
        .build()
        .unwrap();
    let id = ActionTypeIdentifier::builder()
        .category(ActionCategory::Deploy)
        .owner(owner)
        .provider(provider)
        .version("1")
        .build()
        .unwrap();
    let skill = ActionTypeProperty::builder()
        .name("SkillId")
        .optional(false)
        .key(true)
        .no_echo(false)
        .queryable(false)
        .description("The Alexa skill to deploy")
        .build()
        .unwrap();
    ActionTypeDeclaration::builder()
        .description("Deploys an Alexa skill")
        .executor(executor)
        .id(id)
        .input_artifact_details(artifacts(1, 1))
        .output_artifact_details(artifacts(0, 0))
        .properties(skill)
        .build()
}

#[tokio::test]
async fn update_action_type_changes_a_third_party_type() {
    let server = server();
    let client = server.sdk();
    client
        .update_action_type()
        .action_type(action_type_declaration("ThirdParty", "AlexaSkillsKit"))
        .send()
        .await
        .expect("UpdateActionType");

    let out = client
        .get_action_type()
        .category(ActionCategory::Deploy)
        .owner("ThirdParty")
        .provider("AlexaSkillsKit")
        .version("1")
        .send()
        .await
        .expect("GetActionType");
    let declaration = out.action_type().expect("actionType");
    assert_eq!(declaration.description(), Some("Deploys an Alexa skill"));
    let input = declaration.input_artifact_details().expect("input details");
    assert_eq!((input.minimum_count(), input.maximum_count()), (1, 1));
    let output = declaration
        .output_artifact_details()
        .expect("output details");
    assert_eq!((output.minimum_count(), output.maximum_count()), (0, 0));
    let properties = declaration.properties();
    assert_eq!(properties.len(), 1, "{properties:#?}");
    assert_eq!(properties[0].name(), "SkillId");
    assert_eq!(
        declaration.executor().map(|e| e.r#type()),
        Some(&ExecutorType::JobWorker)
    );

    assert_service_error(
        client
            .update_action_type()
            .action_type(action_type_declaration("AWS", "CodeDeploy"))
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "RequestFailedException",
    );
    assert_service_error(
        client
            .update_action_type()
            .action_type(action_type_declaration("ThirdParty", "NoSuchProvider"))
            .send()
            .await
            .map_err(SdkError::into_service_error),
        "ActionTypeNotFoundException",
    );
}
