//! Builders for the declarations the AWS SDK for Rust sends: action type ids, actions, stages
//! and pipelines (V1, with an S3 artifact store and a service role), plus the small pieces of
//! custom action types, tags and webhooks. Each builds with the SDK's own builders, so what a
//! test sends is exactly what a real SDK client would; a test that wants another shape edits the
//! returned value's public fields.

use aws_sdk_codepipeline::types::{
    ActionCategory, ActionConfigurationProperty, ActionDeclaration, ActionOwner, ActionTypeId,
    ArtifactDetails, ArtifactStore, ArtifactStoreType, InputArtifact, OutputArtifact,
    PipelineDeclaration, StageDeclaration, Tag, WebhookAuthConfiguration,
    WebhookAuthenticationType, WebhookDefinition, WebhookFilterRule,
};

/// The service role of every pipeline `pipeline` builds.
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/service-role";
/// The S3 artifact store of every pipeline `pipeline` builds.
pub const BUCKET: &str = "artifact-bucket";

/// `category/owner/provider`, version `1`.
pub fn type_id(category: ActionCategory, owner: ActionOwner, provider: &str) -> ActionTypeId {
    ActionTypeId::builder()
        .category(category)
        .owner(owner)
        .provider(provider)
        .version("1")
        .build()
        .unwrap()
}

/// An action with `config` key/value pairs and artifacts named by `inputs` and `outputs`.
pub fn action(
    name: &str,
    id: ActionTypeId,
    config: &[(&str, &str)],
    inputs: &[&str],
    outputs: &[&str],
) -> ActionDeclaration {
    let mut b = ActionDeclaration::builder().name(name).action_type_id(id);
    for (k, v) in config {
        b = b.configuration(*k, *v);
    }
    for i in inputs {
        b = b.input_artifacts(InputArtifact::builder().name(*i).build().unwrap());
    }
    for o in outputs {
        b = b.output_artifacts(OutputArtifact::builder().name(*o).build().unwrap());
    }
    b.build().unwrap()
}

/// A stage named `name` holding `actions`, in order.
pub fn stage(name: &str, actions: Vec<ActionDeclaration>) -> StageDeclaration {
    StageDeclaration::builder()
        .name(name)
        .set_actions(Some(actions))
        .build()
        .unwrap()
}

/// The S3 source action `Source` with `config`, producing the artifact `output`.
pub fn s3_source(config: &[(&str, &str)], output: &str) -> ActionDeclaration {
    let id = type_id(ActionCategory::Source, ActionOwner::Aws, "S3");
    action("Source", id, config, &[], &[output])
}

/// The stage `Source` whose S3 action `Source` reads `bucket`/`key` into the artifact `output`.
pub fn s3_source_stage(bucket: &str, key: &str, output: &str) -> StageDeclaration {
    let config = [("S3Bucket", bucket), ("S3ObjectKey", key)];
    stage("Source", vec![s3_source(&config, output)])
}

/// A stage named `name` holding one manual approval action, `Approve`.
pub fn approval_stage(name: &str) -> StageDeclaration {
    let id = type_id(ActionCategory::Approval, ActionOwner::Aws, "Manual");
    stage(name, vec![action("Approve", id, &[], &[], &[])])
}

/// The pipeline `name` with `stages`, the role `ROLE_ARN` and the artifact store `BUCKET`.
pub fn pipeline(name: &str, stages: Vec<StageDeclaration>) -> PipelineDeclaration {
    pipeline_with(name, ROLE_ARN, BUCKET, stages)
}

/// The pipeline `name` with `stages`, the role `role_arn` and the S3 artifact store `bucket`.
pub fn pipeline_with(
    name: &str,
    role_arn: &str,
    bucket: &str,
    stages: Vec<StageDeclaration>,
) -> PipelineDeclaration {
    let store = ArtifactStore::builder()
        .r#type(ArtifactStoreType::S3)
        .location(bucket)
        .build()
        .unwrap();
    PipelineDeclaration::builder()
        .name(name)
        .role_arn(role_arn)
        .artifact_store(store)
        .set_stages(Some(stages))
        .build()
        .unwrap()
}

/// A configuration property of a custom action type; never secret.
pub fn property(
    name: &str,
    required: bool,
    key: bool,
    queryable: bool,
) -> ActionConfigurationProperty {
    ActionConfigurationProperty::builder()
        .name(name)
        .required(required)
        .key(key)
        .secret(false)
        .queryable(queryable)
        .build()
        .unwrap()
}

/// How many artifacts an action type takes: from `min` to `max`.
pub fn artifact_details(min: i32, max: i32) -> ArtifactDetails {
    ArtifactDetails::builder()
        .minimum_count(min)
        .maximum_count(max)
        .build()
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// An unauthenticated webhook `name` on the `Source` action of the pipeline `target`, for pushes
/// to the action's branch.
pub fn webhook(name: &str, target: &str) -> WebhookDefinition {
    let filter = WebhookFilterRule::builder()
        .json_path("$.ref")
        .match_equals("refs/heads/{Branch}")
        .build()
        .unwrap();
    WebhookDefinition::builder()
        .name(name)
        .target_pipeline(target)
        .target_action("Source")
        .filters(filter)
        .authentication(WebhookAuthenticationType::Unauthenticated)
        .authentication_configuration(WebhookAuthConfiguration::builder().build())
        .build()
        .unwrap()
}
