//! The AWS SDK for Rust against codepipeline-local: create the fixture pipeline's shape in code,
//! read it back, list pipelines. Run the server, then `cargo run --example quickstart`.
//! (`CODEPIPELINE_LOCAL_URL` overrides the default `http://localhost:4566`.)

use aws_sdk_codepipeline::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ArtifactStore, ArtifactStoreType,
    InputArtifact, OutputArtifact, PipelineDeclaration, StageDeclaration,
};
use aws_sdk_codepipeline::Client;

fn action(
    name: &str,
    category: ActionCategory,
    provider: &str,
) -> Result<ActionDeclaration, Box<dyn std::error::Error>> {
    let id = ActionTypeId::builder()
        .category(category)
        .owner(ActionOwner::Aws)
        .provider(provider)
        .version("1")
        .build()?;
    Ok(ActionDeclaration::builder()
        .name(name)
        .action_type_id(id)
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("CODEPIPELINE_LOCAL_URL")
        .unwrap_or_else(|_| "http://localhost:4566".to_owned());
    let config = aws_sdk_codepipeline::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "example"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let client = Client::from_conf(config);

    let mut source = action("Source", ActionCategory::Source, "S3")?;
    source.configuration = Some(
        [
            ("S3Bucket".into(), "my-bucket".into()),
            ("S3ObjectKey".into(), "app.zip".into()),
        ]
        .into(),
    );
    source.output_artifacts = Some(vec![OutputArtifact::builder().name("Src").build()?]);
    let mut build = action("Build", ActionCategory::Build, "CodeBuild")?;
    build.configuration = Some([("ProjectName".into(), "my-project".into())].into());
    build.input_artifacts = Some(vec![InputArtifact::builder().name("Src").build()?]);

    let pipeline = PipelineDeclaration::builder()
        .name("sdk-quickstart")
        .role_arn("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service")
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("my-artifacts")
                .build()?,
        )
        .stages(
            StageDeclaration::builder()
                .name("Source")
                .actions(source)
                .build()?,
        )
        .stages(
            StageDeclaration::builder()
                .name("Build")
                .actions(build)
                .build()?,
        )
        .build()?;
    client.create_pipeline().pipeline(pipeline).send().await?;

    let got = client.get_pipeline().name("sdk-quickstart").send().await?;
    println!(
        "version {:?}, arn {:?}",
        got.pipeline().and_then(|p| p.version()),
        got.metadata().and_then(|m| m.pipeline_arn())
    );
    for p in client.list_pipelines().send().await?.pipelines() {
        println!(
            "{} (v{:?}, created {:?})",
            p.name().unwrap_or_default(),
            p.version(),
            p.created()
        );
    }
    Ok(())
}
