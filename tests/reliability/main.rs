//! Reliability and security, one test binary: SigV4 verification, account and region
//! isolation, crash safety under SIGKILL, hostile input, limits, and what the server logs.

#[path = "../common/mod.rs"]
mod common;

mod isolation;
mod limits;
mod observability;
mod sigv4;

/// A two-stage pipeline (S3 source, CodeBuild build) built with the SDK's builders.
pub fn sdk_pipeline(name: &str) -> aws_sdk_codepipeline::types::PipelineDeclaration {
    use aws_sdk_codepipeline::types::*;
    let action = |name: &str,
                  category,
                  provider: &str,
                  config: &[(&str, &str)],
                  out: Option<&str>,
                  input: Option<&str>| {
        let mut b = ActionDeclaration::builder().name(name).action_type_id(
            ActionTypeId::builder()
                .category(category)
                .owner(ActionOwner::Aws)
                .provider(provider)
                .version("1")
                .build()
                .expect("type id"),
        );
        for (k, v) in config {
            b = b.configuration(*k, *v);
        }
        if let Some(o) = out {
            b = b.output_artifacts(OutputArtifact::builder().name(o).build().expect("out"));
        }
        if let Some(i) = input {
            b = b.input_artifacts(InputArtifact::builder().name(i).build().expect("in"));
        }
        b.build().expect("action")
    };
    PipelineDeclaration::builder()
        .name(name)
        .role_arn("arn:aws:iam::000000000000:role/pipeline")
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("bucket")
                .build()
                .expect("store"),
        )
        .stages(
            StageDeclaration::builder()
                .name("Source")
                .actions(action(
                    "Source",
                    ActionCategory::Source,
                    "S3",
                    &[("S3Bucket", "bucket"), ("S3ObjectKey", "app.zip")],
                    Some("Src"),
                    None,
                ))
                .build()
                .expect("stage"),
        )
        .stages(
            StageDeclaration::builder()
                .name("Build")
                .actions(action(
                    "Build",
                    ActionCategory::Build,
                    "CodeBuild",
                    &[("ProjectName", "app")],
                    None,
                    Some("Src"),
                ))
                .build()
                .expect("stage"),
        )
        .build()
        .expect("pipeline")
}
