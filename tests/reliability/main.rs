//! Reliability and security, one test binary: SigV4 verification, what web pages may do,
//! account and region isolation, crash safety under SIGKILL, hostile input, limits, and what the
//! server logs.

#[path = "../common/mod.rs"]
mod common;

mod browser_policy;
mod crash_safety;
mod hostile;
mod isolation;
mod limits;
mod observability;
mod sigv4;

/// A two-stage pipeline (S3 source, CodeBuild build) built with the SDK's builders.
pub fn sdk_pipeline(name: &str) -> aws_sdk_codepipeline::types::PipelineDeclaration {
    use aws_sdk_codepipeline::types::{ActionCategory, ActionOwner};
    use common::sdk_build::{action, pipeline_with, s3_source_stage, stage, type_id};
    let build = action(
        "Build",
        type_id(ActionCategory::Build, ActionOwner::Aws, "CodeBuild"),
        &[("ProjectName", "app")],
        &["Src"],
        &[],
    );
    pipeline_with(
        name,
        "arn:aws:iam::000000000000:role/pipeline",
        "bucket",
        vec![
            s3_source_stage("bucket", "app.zip", "Src"),
            stage("Build", vec![build]),
        ],
    )
}
