//! Real providers: an AWS-owned action is real when what it names exists on this endpoint (an
//! S3 source whose bucket exists, an S3 deploy whose target bucket exists), and a stub
//! otherwise, so every pipeline that worked with stubs keeps working. A real provider runs as a
//! task the engine owns (`engine::tasks`), off the state machine, and does its I/O against the
//! artifact store; its result goes back to the machine as the action's outcome.

mod s3_deploy;
mod s3_source;

use std::collections::BTreeMap;

use crate::services::artifacts::ArtifactStore;
use crate::services::codepipeline::domain::execution::machine::ActionStart;
use crate::services::codepipeline::domain::execution::model::{
    ActionResult, ArtifactLocation, ErrorDetails,
};
use crate::services::codepipeline::engine::PipelineKey;

/// Everything a real provider's task needs, copied out of the execution when it starts.
#[derive(Debug, Clone)]
pub struct TaskJob {
    pub key: PipelineKey,
    pub execution_id: String,
    pub action_execution_id: String,
    pub category: String,
    pub provider: String,
    pub configuration: BTreeMap<String, String>,
    pub inputs: Vec<ArtifactLocation>,
    pub outputs: Vec<ArtifactLocation>,
    /// The source revision `sourceRevisions` named at start, if any.
    pub revision: Option<String>,
    pub now: f64,
}

/// Whether the action starting has a real provider here.
pub fn is_real(artifacts: &ArtifactStore, s: &ActionStart) -> bool {
    let id = &s.action.action_type_id;
    if id.owner != "AWS" {
        return false;
    }
    let names = |k: &str| {
        s.resolved_configuration
            .get(k)
            .is_some_and(|b| artifacts.bucket(b).is_some())
    };
    match (id.category.as_str(), id.provider.as_str()) {
        ("Source", "S3") => names("S3Bucket"),
        ("Deploy", "S3") => names("BucketName"),
        _ => false,
    }
}

/// Runs the provider: blocking file work, on a blocking thread.
pub fn run(artifacts: &ArtifactStore, job: &TaskJob) -> ActionResult {
    match (job.category.as_str(), job.provider.as_str()) {
        ("Source", "S3") => s3_source::run(artifacts, job),
        ("Deploy", "S3") => s3_deploy::run(artifacts, job),
        (category, provider) => failed(format!(
            "codepipeline-local has no real {category} provider {provider}"
        )),
    }
}

/// An action that failed with `message`.
pub fn failure(message: String) -> ActionResult {
    failed(message)
}

fn failed(message: String) -> ActionResult {
    ActionResult {
        summary: Some(message.clone()),
        error: Some(ErrorDetails {
            code: "JobFailed".to_owned(),
            message,
        }),
        ..ActionResult::default()
    }
}

fn setting<'a>(job: &'a TaskJob, name: &str) -> &'a str {
    job.configuration.get(name).map_or("", String::as_str)
}
