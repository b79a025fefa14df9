//! Real providers: an AWS-owned action is real when what it names exists on this endpoint (an
//! S3 source whose bucket exists, an S3 deploy whose target bucket exists), and a stub
//! otherwise, so every pipeline that worked with stubs keeps working. A real provider runs as a
//! task the engine owns (`engine::tasks`), off the state machine, and does its I/O against the
//! artifact store; its result goes back to the machine as the action's outcome.

mod codebuild;
mod git_source;
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
    /// The execution's first source revision (what a build resolves its source version to).
    pub source_revision: Option<String>,
    /// Set when the action is no longer running: the task stops (a build kills its commands).
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A Commands action's `commands`, `outputVariables` and output artifact `files`.
    pub commands: Vec<String>,
    pub output_variables: Vec<String>,
    pub output_files: Vec<String>,
    /// The action was running when the server stopped: this task starts again after a restart.
    pub resumed: bool,
    pub now: f64,
}

/// What the engine lets real providers do.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// `--run-builds`: CodeBuild actions run their buildspecs here.
    pub run_builds: bool,
    /// At most this many builds at once; the rest wait.
    pub builds: std::sync::Arc<tokio::sync::Semaphore>,
    /// Where builds get their folders (`<data-dir>/builds`, or a temporary one in memory).
    pub work_root: std::path::PathBuf,
    /// CodeCommit's repositories, which a CodeCommit source reads.
    pub repositories: crate::services::codecommit::git::Repositories,
    /// The event bus, where real builds publish their state changes as CodeBuild does.
    pub bus: crate::services::bus::Bus,
}

/// Whether the action starting has a real provider here, in the pipeline's account and region.
pub fn is_real(
    artifacts: &ArtifactStore,
    allowed: &Allowed,
    account: &str,
    region: &str,
    s: &ActionStart,
) -> bool {
    let id = &s.action.action_type_id;
    if id.owner != "AWS" {
        return false;
    }
    let names = |k: &str| {
        s.resolved_configuration
            .get(k)
            .is_some_and(|b| artifacts.has_bucket(b))
    };
    match (id.category.as_str(), id.provider.as_str()) {
        ("Source", "S3") => names("S3Bucket"),
        ("Deploy", "S3") => names("BucketName"),
        ("Source", "CodeCommit") => {
            s.resolved_configuration
                .get("RepositoryName")
                .is_some_and(|name| {
                    crate::services::codecommit::records::load(
                        artifacts.store(),
                        account,
                        region,
                        name,
                    )
                    .is_ok_and(|r| r.is_some())
                })
        }
        ("Source", "CodeStarSourceConnection") => s
            .resolved_configuration
            .get("FullRepositoryId")
            .is_some_and(|full| allowed.repositories.connection(full).is_some()),
        ("Build" | "Test", "CodeBuild") | ("Compute", "Commands") => allowed.run_builds,
        _ => false,
    }
}

/// Where a task reports what is known before it ends (the action shows it while running).
pub type Progress = tokio::sync::mpsc::UnboundedSender<ActionResult>;

/// Runs the provider to its end: builds in the runner, the rest on a blocking thread.
pub async fn run_task(
    artifacts: &ArtifactStore,
    allowed: &Allowed,
    job: &TaskJob,
    progress: &Progress,
) -> ActionResult {
    if job.provider == "CodeBuild" || job.provider == "Commands" {
        // A build's commands died with the server; running them again could repeat their
        // effects, so the action fails and says why (a retry runs the build again).
        if job.resumed {
            return failed(
                "Build terminated with state: FAILED. The build was running when codepipeline-local stopped, and builds do not survive a restart: retry the stage to run it again".to_owned(),
            );
        }
        return codebuild::run(artifacts, allowed, job, progress).await;
    }
    if job.provider == "CodeCommit" || job.provider == "CodeStarSourceConnection" {
        return git_source::run(artifacts, allowed, job).await;
    }
    let (store, work) = (artifacts.clone(), job.clone());
    tokio::task::spawn_blocking(move || run(&store, &work))
        .await
        .unwrap_or_else(|e| failed(format!("The {} provider's task failed: {e}", job.provider)))
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
