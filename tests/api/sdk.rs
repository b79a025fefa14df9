//! The AWS SDK for Rust (`aws-sdk-codepipeline`) against the real server: pipeline lifecycle and
//! versions, paginated listing, tags, custom action types and the action-type catalog, modelled
//! errors (code, message, request id), account and region isolation, and concurrent writers. Every
//! reply must deserialise in the SDK exactly as AWS's would, so timestamps, enums and error shapes
//! are checked through the SDK's own types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::sdk_build::{
    action, approval_stage, artifact_details, pipeline, s3_source, s3_source_stage, stage, tag,
    type_id, BUCKET, ROLE_ARN,
};
use crate::common::*;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::operation::create_pipeline::CreatePipelineError;
use aws_sdk_codepipeline::operation::get_action_type::GetActionTypeError;
use aws_sdk_codepipeline::operation::get_pipeline::GetPipelineError;
use aws_sdk_codepipeline::operation::list_tags_for_resource::ListTagsForResourceError;
use aws_sdk_codepipeline::operation::tag_resource::TagResourceError;
use aws_sdk_codepipeline::operation::RequestId;
use aws_sdk_codepipeline::primitives::DateTime;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionConfigurationProperty, ActionConfigurationPropertyType, ActionOwner,
    ActionType, ActionTypeId, ArtifactStoreType, ExecutionMode, OutputArtifact,
    PipelineDeclaration, PipelineSummary, PipelineType, StageDeclaration, Tag,
};
use aws_sdk_codepipeline::Client;

const CUSTOM_PROVIDER: &str = "MyJenkins";

// ---------------------------------------------------------------------------------------------
// Declaration builders
// ---------------------------------------------------------------------------------------------

/// Source from S3, then a manual approval in a stage named `second`.
fn two_stage_pipeline(name: &str, second: &str) -> PipelineDeclaration {
    pipeline(
        name,
        vec![s3_source_stage("b", "k.zip", "Src"), approval_stage(second)],
    )
}

fn pipeline_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:codepipeline:{region}:{account}:{name}")
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// The modelled error of a call that must fail, after checking its code, that the SDK read the
/// request id from the reply, and that the message is not empty.
fn service_error<T: Debug, E>(result: Result<T, SdkError<E>>, code: &str) -> E
where
    E: ProvideErrorMetadata + RequestId + Debug,
{
    let err = match result {
        Err(SdkError::ServiceError(e)) => e.into_err(),
        other => panic!("expected the service error {code}, got {other:?}"),
    };
    assert_eq!(err.meta().code(), Some(code), "{err:?}");
    assert!(
        err.request_id().is_some_and(|id| !id.is_empty()),
        "no request id: {err:?}"
    );
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

fn assert_recent(what: &str, t: Option<&DateTime>) {
    let t = t.unwrap_or_else(|| panic!("{what} missing"));
    let age = now_secs() - t.as_secs_f64();
    assert!((-5.0..120.0).contains(&age), "{what} is {t} ({age} s ago)");
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn expected_tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn tags_of(client: &Client, arn: &str) -> BTreeMap<String, String> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    tag_map(out.tags())
}

/// Every pipeline the caller can see, through the SDK's paginator, `page` at a time.
async fn all_pipelines(client: &Client, page: i32) -> Vec<PipelineSummary> {
    client
        .list_pipelines()
        .max_results(page)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
}

async fn action_types(client: &Client, owner: ActionOwner) -> Vec<ActionType> {
    client
        .list_action_types()
        .action_owner_filter(owner)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
}

/// `(category, provider)` of each listed type.
fn category_providers(types: &[ActionType]) -> BTreeSet<(String, String)> {
    types
        .iter()
        .filter_map(|t| t.id())
        .map(|id| (id.category().as_str().to_owned(), id.provider().to_owned()))
        .collect()
}

fn stage_names(p: &PipelineDeclaration) -> Vec<&str> {
    p.stages().iter().map(StageDeclaration::name).collect()
}

// ---------------------------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pipeline_lifecycle_and_versions() {
    let server = Server::start();
    let client = server.sdk();

    let created = client
        .create_pipeline()
        .pipeline(two_stage_pipeline("lifecycle", "Approve"))
        .send()
        .await
        .unwrap();
    let decl = created.pipeline().expect("pipeline in reply");
    assert_eq!(decl.version(), Some(1));
    assert_eq!(decl.name(), "lifecycle");

    let got = client
        .get_pipeline()
        .name("lifecycle")
        .send()
        .await
        .unwrap();
    let decl = got.pipeline().expect("pipeline");
    assert_eq!(decl.name(), "lifecycle");
    assert_eq!(decl.role_arn(), ROLE_ARN);
    assert_eq!(decl.version(), Some(1));
    assert_eq!(decl.pipeline_type(), Some(&PipelineType::V1));
    assert_eq!(decl.execution_mode(), Some(&ExecutionMode::Superseded));
    let store = decl.artifact_store().expect("artifact store");
    assert_eq!(
        (store.r#type(), store.location()),
        (&ArtifactStoreType::S3, BUCKET)
    );
    assert_eq!(stage_names(decl), ["Source", "Approve"]);
    let source = &decl.stages()[0].actions()[0];
    assert_eq!(source.name(), "Source");
    assert_eq!(source.run_order(), Some(1));
    let id = source.action_type_id().expect("action type id");
    assert_eq!(
        (id.category(), id.owner(), id.provider(), id.version()),
        (&ActionCategory::Source, &ActionOwner::Aws, "S3", "1")
    );
    let config = source.configuration().expect("configuration");
    assert_eq!(config.get("S3Bucket").map(String::as_str), Some("b"));
    assert_eq!(config.get("S3ObjectKey").map(String::as_str), Some("k.zip"));
    let outputs: Vec<&str> = source
        .output_artifacts()
        .iter()
        .map(OutputArtifact::name)
        .collect();
    assert_eq!(outputs, ["Src"]);
    assert!(source.input_artifacts().is_empty());
    assert_eq!(decl.stages()[1].actions()[0].run_order(), Some(1));

    let meta = got.metadata().expect("metadata");
    assert_eq!(
        meta.pipeline_arn(),
        Some(pipeline_arn(ACCOUNT, "us-east-1", "lifecycle").as_str())
    );
    assert_recent("created", meta.created());
    assert_recent("updated", meta.updated());
    let created_at = *meta.created().unwrap();

    let updated = client
        .update_pipeline()
        .pipeline(two_stage_pipeline("lifecycle", "Review"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.pipeline().and_then(|p| p.version()), Some(2));

    let latest = client
        .get_pipeline()
        .name("lifecycle")
        .send()
        .await
        .unwrap();
    assert_eq!(latest.pipeline().unwrap().version(), Some(2));
    assert_eq!(
        stage_names(latest.pipeline().unwrap()),
        ["Source", "Review"]
    );
    let meta = latest.metadata().unwrap();
    assert_eq!(meta.created(), Some(&created_at), "created must not change");
    assert!(meta.updated().unwrap().as_secs_f64() >= created_at.as_secs_f64());

    for (version, second) in [(1, "Approve"), (2, "Review")] {
        let got = client
            .get_pipeline()
            .name("lifecycle")
            .version(version)
            .send()
            .await
            .unwrap();
        let decl = got.pipeline().unwrap();
        assert_eq!(decl.version(), Some(version));
        assert_eq!(stage_names(decl), ["Source", second], "version {version}");
    }

    let err = service_error(
        client
            .get_pipeline()
            .name("lifecycle")
            .version(3)
            .send()
            .await,
        "PipelineVersionNotFoundException",
    );
    assert!(
        matches!(err, GetPipelineError::PipelineVersionNotFoundException(_)),
        "{err:?}"
    );

    client
        .delete_pipeline()
        .name("lifecycle")
        .send()
        .await
        .unwrap();
    let err = service_error(
        client.get_pipeline().name("lifecycle").send().await,
        "PipelineNotFoundException",
    );
    assert!(
        matches!(err, GetPipelineError::PipelineNotFoundException(_)),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some("Account '000000000000' does not have a pipeline with name 'lifecycle'")
    );
    // Deleting what is not there succeeds, as on AWS.
    client
        .delete_pipeline()
        .name("lifecycle")
        .send()
        .await
        .unwrap();
    client
        .delete_pipeline()
        .name("never-existed")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_pipelines_pages_through_every_pipeline_in_name_order() {
    let server = Server::start();
    let client = server.sdk();
    // Created out of order, so the listing order cannot come from creation order.
    let names = [
        "pipe-d", "pipe-a", "pipe-g", "pipe-c", "pipe-f", "pipe-b", "pipe-e",
    ];
    for name in names {
        client
            .create_pipeline()
            .pipeline(two_stage_pipeline(name, "Approve"))
            .send()
            .await
            .unwrap();
    }

    let listed = all_pipelines(&client, 2).await;
    let listed_names: Vec<&str> = listed.iter().filter_map(PipelineSummary::name).collect();
    let mut sorted = names.to_vec();
    sorted.sort_unstable();
    assert_eq!(listed_names, sorted);
    for summary in &listed {
        assert_eq!(summary.version(), Some(1));
        assert_eq!(summary.pipeline_type(), Some(&PipelineType::V1));
        assert_eq!(summary.execution_mode(), Some(&ExecutionMode::Superseded));
        assert_recent("created", summary.created());
        assert_recent("updated", summary.updated());
    }

    let first = client.list_pipelines().max_results(3).send().await.unwrap();
    let first_names: Vec<&str> = first
        .pipelines()
        .iter()
        .filter_map(PipelineSummary::name)
        .collect();
    assert_eq!(first_names, ["pipe-a", "pipe-b", "pipe-c"]);
    let token = first.next_token().expect("a next token after a full page");
    let second = client
        .list_pipelines()
        .max_results(3)
        .next_token(token)
        .send()
        .await
        .unwrap();
    let second_names: Vec<&str> = second
        .pipelines()
        .iter()
        .filter_map(PipelineSummary::name)
        .collect();
    assert_eq!(second_names, ["pipe-d", "pipe-e", "pipe-f"]);
    assert!(second.next_token().is_some());
}

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pipeline_tags() {
    let server = Server::start();
    let client = server.sdk();
    let arn = pipeline_arn(ACCOUNT, "us-east-1", "tagged");

    let created = client
        .create_pipeline()
        .pipeline(two_stage_pipeline("tagged", "Approve"))
        .tags(tag("team", "platform"))
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    let initial = expected_tags(&[("team", "platform"), ("env", "dev")]);
    assert_eq!(tag_map(created.tags()), initial);
    assert_eq!(tags_of(&client, &arn).await, initial);

    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "prod"))
        .tags(tag("owner", "me"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&client, &arn).await,
        expected_tags(&[("team", "platform"), ("env", "prod"), ("owner", "me")])
    );

    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("not-there")
        .send()
        .await
        .unwrap();
    let after_untag = expected_tags(&[("env", "prod"), ("owner", "me")]);
    assert_eq!(tags_of(&client, &arn).await, after_untag);

    let err = service_error(
        client
            .tag_resource()
            .resource_arn(&arn)
            .tags(tag("aws:reserved", "x"))
            .send()
            .await,
        "InvalidTagsException",
    );
    assert!(
        matches!(err, TagResourceError::InvalidTagsException(_)),
        "{err:?}"
    );

    // Two tags already there: 49 more make 51.
    let many: Vec<Tag> = (0..49).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = service_error(
        client
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(many.clone()))
            .send()
            .await,
        "TooManyTagsException",
    );
    assert!(
        matches!(err, TagResourceError::TooManyTagsException(_)),
        "{err:?}"
    );
    assert_eq!(
        tags_of(&client, &arn).await,
        after_untag,
        "a refused request changes nothing"
    );
    // 48 more make exactly 50, the limit.
    client
        .tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(many[..48].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await.len(), 50);

    let missing = pipeline_arn(ACCOUNT, "us-east-1", "no-such-pipeline");
    let err = service_error(
        client
            .list_tags_for_resource()
            .resource_arn(&missing)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert!(
        matches!(err, ListTagsForResourceError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    let err = service_error(
        client
            .tag_resource()
            .resource_arn(&missing)
            .tags(tag("a", "b"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert!(
        matches!(err, TagResourceError::ResourceNotFoundException(_)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Action types
// ---------------------------------------------------------------------------------------------

fn project_name_property() -> ActionConfigurationProperty {
    ActionConfigurationProperty::builder()
        .name("ProjectName")
        .required(true)
        .key(true)
        .secret(false)
        .queryable(true)
        .description("The Jenkins project")
        .r#type(ActionConfigurationPropertyType::String)
        .build()
        .unwrap()
}

/// Checks `t` is the custom type this file creates, as the API shows it.
fn assert_is_my_jenkins(t: &ActionType) {
    let id = t.id().expect("id");
    assert_eq!(
        (id.category(), id.owner(), id.provider(), id.version()),
        (
            &ActionCategory::Build,
            &ActionOwner::Custom,
            CUSTOM_PROVIDER,
            "1"
        )
    );
    let props = t.action_configuration_properties();
    assert_eq!(props.len(), 1);
    let p = &props[0];
    assert_eq!(
        (p.name(), p.required(), p.key(), p.secret(), p.queryable()),
        ("ProjectName", true, true, false, true)
    );
    assert_eq!(p.description(), Some("The Jenkins project"));
    assert_eq!(p.r#type(), Some(&ActionConfigurationPropertyType::String));
    for details in [t.input_artifact_details(), t.output_artifact_details()] {
        let d = details.expect("artifact details");
        assert_eq!((d.minimum_count(), d.maximum_count()), (0, 5));
    }
}

#[tokio::test]
async fn custom_action_types_and_the_catalog() {
    let server = Server::start();
    let client = server.sdk();

    let created = client
        .create_custom_action_type()
        .category(ActionCategory::Build)
        .provider(CUSTOM_PROVIDER)
        .version("1")
        .configuration_properties(project_name_property())
        .input_artifact_details(artifact_details(0, 5))
        .output_artifact_details(artifact_details(0, 5))
        .send()
        .await
        .unwrap();
    assert_is_my_jenkins(created.action_type().expect("action type in reply"));

    let custom = action_types(&client, ActionOwner::Custom).await;
    assert_eq!(custom.len(), 1, "{custom:?}");
    assert_is_my_jenkins(&custom[0]);

    let aws = action_types(&client, ActionOwner::Aws).await;
    assert!(aws
        .iter()
        .all(|t| t.id().map(ActionTypeId::owner) == Some(&ActionOwner::Aws)));
    let listed = category_providers(&aws);
    for (category, provider) in [
        ("Source", "S3"),
        ("Build", "CodeBuild"),
        ("Approval", "Manual"),
    ] {
        assert!(
            listed.contains(&(category.to_owned(), provider.to_owned())),
            "{category}/{provider} missing from {listed:?}"
        );
    }

    let s3 = client
        .get_action_type()
        .category(ActionCategory::Source)
        .owner("AWS")
        .provider("S3")
        .version("1")
        .send()
        .await
        .unwrap();
    let s3 = s3.action_type().expect("action type");
    let id = s3.id().expect("id");
    assert_eq!(
        (id.category(), id.owner(), id.provider(), id.version()),
        (&ActionCategory::Source, "AWS", "S3", "1")
    );
    let input = s3.input_artifact_details().expect("input details");
    let output = s3.output_artifact_details().expect("output details");
    assert_eq!((input.minimum_count(), input.maximum_count()), (0, 0));
    assert_eq!((output.minimum_count(), output.maximum_count()), (1, 1));

    let err = service_error(
        client
            .get_action_type()
            .category(ActionCategory::Build)
            .owner("AWS")
            .provider("NoSuchProvider")
            .version("1")
            .send()
            .await,
        "ActionTypeNotFoundException",
    );
    assert!(
        matches!(err, GetActionTypeError::ActionTypeNotFoundException(_)),
        "{err:?}"
    );

    let build = action(
        "Jenkins",
        type_id(ActionCategory::Build, ActionOwner::Custom, CUSTOM_PROVIDER),
        &[("ProjectName", "my-project")],
        &["Src"],
        &[],
    );
    let with_custom = pipeline(
        "uses-custom",
        vec![
            s3_source_stage("b", "k.zip", "Src"),
            stage("Build", vec![build]),
        ],
    );
    let out = client
        .create_pipeline()
        .pipeline(with_custom)
        .send()
        .await
        .unwrap();
    let stored = &out.pipeline().unwrap().stages()[1].actions()[0];
    assert_eq!(
        stored.action_type_id().map(ActionTypeId::owner),
        Some(&ActionOwner::Custom)
    );

    client
        .delete_custom_action_type()
        .category(ActionCategory::Build)
        .provider(CUSTOM_PROVIDER)
        .version("1")
        .send()
        .await
        .unwrap();
    let custom = action_types(&client, ActionOwner::Custom).await;
    assert!(custom.is_empty(), "{custom:?}");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn modelled_errors_reach_the_sdk() {
    let server = Server::start();
    let client = server.sdk();

    let err = service_error(
        client
            .create_pipeline()
            .pipeline(two_stage_pipeline("bad name!", "Approve"))
            .send()
            .await,
        "ValidationException",
    );
    assert!(
        matches!(err, CreatePipelineError::ValidationException(_)),
        "{err:?}"
    );
    let message = err.message().unwrap();
    assert!(
        message.starts_with("1 validation error detected: Value at 'pipeline.name'"),
        "{message}"
    );

    let err = service_error(
        client
            .create_pipeline()
            .pipeline(pipeline(
                "one-stage",
                vec![s3_source_stage("b", "k.zip", "Src")],
            ))
            .send()
            .await,
        "InvalidStructureException",
    );
    assert!(
        matches!(err, CreatePipelineError::InvalidStructureException(_)),
        "{err:?}"
    );

    let no_key = stage("Source", vec![s3_source(&[("S3Bucket", "b")], "Src")]);
    let err = service_error(
        client
            .create_pipeline()
            .pipeline(pipeline("no-key", vec![no_key, approval_stage("Approve")]))
            .send()
            .await,
        "InvalidActionDeclarationException",
    );
    assert!(
        matches!(
            err,
            CreatePipelineError::InvalidActionDeclarationException(_)
        ),
        "{err:?}"
    );
    assert!(err.message().unwrap().contains("S3ObjectKey"), "{err:?}");

    // None of the refused pipelines exists.
    assert!(all_pipelines(&client, 100).await.is_empty());

    client
        .create_pipeline()
        .pipeline(two_stage_pipeline("taken", "Approve"))
        .send()
        .await
        .unwrap();
    let err = service_error(
        client
            .create_pipeline()
            .pipeline(two_stage_pipeline("taken", "Other"))
            .send()
            .await,
        "PipelineNameInUseException",
    );
    assert!(
        matches!(err, CreatePipelineError::PipelineNameInUseException(_)),
        "{err:?}"
    );
    // The first declaration is untouched.
    let got = client.get_pipeline().name("taken").send().await.unwrap();
    assert_eq!(stage_names(got.pipeline().unwrap()), ["Source", "Approve"]);
    assert_eq!(got.pipeline().unwrap().version(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let server = Server::start();
    let owner = server.sdk_as("111111111111", "us-east-1");
    let other_account = server.sdk_as("222222222222", "us-east-1");
    let other_region = server.sdk_as("111111111111", "eu-west-1");

    owner
        .create_pipeline()
        .pipeline(two_stage_pipeline("isolated", "Approve"))
        .send()
        .await
        .unwrap();
    let got = owner.get_pipeline().name("isolated").send().await.unwrap();
    let arn = pipeline_arn("111111111111", "us-east-1", "isolated");
    assert_eq!(
        got.metadata().and_then(|m| m.pipeline_arn()),
        Some(arn.as_str())
    );
    assert_eq!(
        tags_of(&owner, &arn).await,
        BTreeMap::new(),
        "the owner can read its tags"
    );

    for (who, client, account) in [
        ("another account", &other_account, "222222222222"),
        ("another region", &other_region, "111111111111"),
    ] {
        let err = service_error(
            client.get_pipeline().name("isolated").send().await,
            "PipelineNotFoundException",
        );
        assert_eq!(
            err.message(),
            Some(
                format!("Account '{account}' does not have a pipeline with name 'isolated'")
                    .as_str()
            ),
            "{who}"
        );
        assert!(all_pipelines(client, 100).await.is_empty(), "{who}");
        // AWS answers ResourceNotFoundException or AccessDeniedException here; never the tags.
        let tags = client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        assert!(tags.is_err(), "{who} read the tags: {tags:?}");
    }

    // The same name is free in another account, with that account's ARN.
    other_account
        .create_pipeline()
        .pipeline(two_stage_pipeline("isolated", "Approve"))
        .send()
        .await
        .unwrap();
    let theirs = other_account
        .get_pipeline()
        .name("isolated")
        .send()
        .await
        .unwrap();
    assert_eq!(
        theirs.metadata().and_then(|m| m.pipeline_arn()),
        Some(pipeline_arn("222222222222", "us-east-1", "isolated").as_str())
    );
    assert_eq!(all_pipelines(&owner, 100).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_lose_nothing() {
    let server = Server::start();
    let client = server.sdk();
    client
        .create_pipeline()
        .pipeline(two_stage_pipeline("busy", "Approve"))
        .send()
        .await
        .unwrap();

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .update_pipeline()
                    .pipeline(two_stage_pipeline("busy", &format!("Approve-{i}")))
                    .send()
                    .await
            })
        })
        .collect();
    let mut versions = BTreeSet::new();
    for task in tasks {
        let out = task.await.unwrap().expect("update succeeds");
        versions.insert(out.pipeline().and_then(|p| p.version()).unwrap());
    }
    assert_eq!(
        versions,
        (2..=21).collect(),
        "each update got its own version"
    );

    let latest = client.get_pipeline().name("busy").send().await.unwrap();
    assert_eq!(latest.pipeline().unwrap().version(), Some(21));

    let mut seconds = BTreeSet::new();
    for version in 1..=21 {
        let got = client
            .get_pipeline()
            .name("busy")
            .version(version)
            .send()
            .await
            .unwrap_or_else(|e| panic!("version {version}: {e:?}"));
        let decl = got.pipeline().unwrap();
        assert_eq!(decl.version(), Some(version));
        seconds.insert(stage_names(decl)[1].to_owned());
    }
    // Version 1 plus every one of the 20 updates, each stored exactly once.
    let expected: BTreeSet<String> = std::iter::once("Approve".to_owned())
        .chain((0..20).map(|i| format!("Approve-{i}")))
        .collect();
    assert_eq!(seconds, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_admit_exactly_one() {
    let server = Server::start();
    let client = server.sdk();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .create_pipeline()
                    .pipeline(two_stage_pipeline("contested", &format!("Approve-{i}")))
                    .send()
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(out) => winners.push(out),
            Err(e) => {
                let err = service_error::<(), _>(Err(e), "PipelineNameInUseException");
                assert!(
                    matches!(err, CreatePipelineError::PipelineNameInUseException(_)),
                    "{err:?}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((winners.len(), refused), (1, 19));

    // What is stored is the winner's declaration, at version 1.
    let winner = winners[0].pipeline().unwrap();
    let got = client
        .get_pipeline()
        .name("contested")
        .send()
        .await
        .unwrap();
    let stored = got.pipeline().unwrap();
    assert_eq!(stored.version(), Some(1));
    assert_eq!(stage_names(stored), stage_names(winner));
    assert_eq!(all_pipelines(&client, 100).await.len(), 1);
}
