//! The real CodeBuild and Commands actions (`--run-builds`): the build runs in CodeBuild's
//! runner with the action's inputs (`PrimarySource` first), outputs and
//! `EnvironmentVariables`, and its end becomes the action's: the build id, its exported
//! variables as output variables, and on failure CodePipeline's message naming the phase, with
//! the log's last lines. A Commands action is a build of its `commands`, exporting its
//! `outputVariables` and packing its output artifact's `files`.

use super::{setting, Allowed, Progress, TaskJob};
use crate::services::artifacts::ArtifactStore;
use crate::services::codebuild::runner::buildspec::{Artifacts, Buildspec, Phase, PHASES};
use crate::services::codebuild::runner::{self, BuildRequest, Input};
use crate::services::codepipeline::domain::execution::model::{ActionResult, ErrorDetails};

pub async fn run(
    artifacts: &ArtifactStore,
    allowed: &Allowed,
    job: &TaskJob,
    progress: &Progress,
) -> ActionResult {
    if job.provider == "Commands" {
        let spec = Buildspec {
            variables: Vec::new(),
            exported: job.output_variables.clone(),
            phases: PHASES
                .iter()
                .map(|p| {
                    let commands = if *p == "build" {
                        job.commands.clone()
                    } else {
                        Vec::new()
                    };
                    (
                        p.to_string(),
                        Phase {
                            commands,
                            ..Phase::default()
                        },
                    )
                })
                .collect(),
            artifacts: (!job.output_files.is_empty()).then(|| Artifacts {
                files: job.output_files.clone(),
                ..Artifacts::default()
            }),
        };
        let project = format!("codepipeline-commands-{}", job.key.name);
        return build(artifacts, allowed, job, progress, project, Some(spec)).await;
    }
    let project = setting(job, "ProjectName").to_owned();
    build(artifacts, allowed, job, progress, project, None).await
}

fn build_url(job: &TaskJob, project: &str, id: &str) -> String {
    format!(
        "https://console.aws.amazon.com/codesuite/codebuild/{}/projects/{project}/build/{}/log?region={}",
        job.key.account,
        id.replace(':', "%3A"),
        job.key.region
    )
}

async fn build(
    artifacts: &ArtifactStore,
    allowed: &Allowed,
    job: &TaskJob,
    progress: &Progress,
    project: String,
    spec: Option<Buildspec>,
) -> ActionResult {
    let as_input =
        |a: &crate::services::codepipeline::domain::execution::model::ArtifactLocation| Input {
            name: a.name.clone(),
            bucket: a.bucket.clone(),
            key: a.key.clone(),
        };
    let mut inputs: Vec<Input> = job.inputs.iter().map(as_input).collect();
    let primary = setting(job, "PrimarySource");
    if let Some(i) = inputs.iter().position(|a| a.name == primary) {
        let p = inputs.remove(i);
        inputs.insert(0, p);
    }
    let variables: Vec<(String, String)> =
        serde_json::from_str::<Vec<serde_json::Value>>(setting(job, "EnvironmentVariables"))
            .unwrap_or_default()
            .iter()
            .filter(|v| v["type"].as_str().is_none_or(|t| t == "PLAINTEXT"))
            .filter_map(|v| {
                Some((
                    v["name"].as_str()?.to_owned(),
                    v["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
    let request = BuildRequest {
        account: job.key.account.clone(),
        region: job.key.region.clone(),
        project: project.clone(),
        initiator: format!("codepipeline/{}", job.key.name),
        source_version: inputs
            .first()
            .map(|a| format!("arn:aws:s3:::{}/{}", a.bucket, a.key)),
        inputs,
        outputs: job.outputs.iter().map(as_input).collect(),
        variables,
        buildspec_override: None,
        spec,
        timeout: None,
        resolved_source_version: job.source_revision.clone(),
        stop: job.stop.clone(),
        work_root: allowed.work_root.clone(),
        bus: Some(allowed.bus.clone()),
    };
    // The build's id shows on the action while it runs, as CodePipeline shows CodeBuild's.
    let outcome = match runner::prepare(artifacts, request) {
        Ok(prepared) => {
            let id = prepared.id().to_owned();
            let _ = progress.send(ActionResult {
                external_execution_id: Some(id.clone()),
                external_execution_url: Some(build_url(job, &project, &id)),
                ..ActionResult::default()
            });
            // Recorded QUEUED and named on the action before it waits for its turn.
            let _permit = allowed.builds.acquire().await;
            runner::run_prepared(artifacts, prepared).await
        }
        Err(outcome) => *outcome,
    };
    let url = build_url(job, &project, &outcome.id);
    let mut result = ActionResult {
        external_execution_id: Some(outcome.id.clone()),
        external_execution_url: Some(url),
        output_variables: outcome.exported.iter().cloned().collect(),
        ..ActionResult::default()
    };
    if outcome.status != "SUCCEEDED" {
        let mut message = format!(
            "Build terminated with state: {}. Phase: {}, Code: COMMAND_EXECUTION_ERROR, Message: {}",
            outcome.status,
            outcome.phase.as_deref().unwrap_or("BUILD"),
            outcome.message.as_deref().unwrap_or("")
        );
        if !outcome.last_lines.is_empty() {
            message += "\nLast lines of the build log:\n";
            message += &outcome.last_lines.join("\n");
        }
        let message: String = message.chars().take(4000).collect();
        result.summary = Some(message.clone());
        result.error = Some(ErrorDetails {
            code: "JobFailed".to_owned(),
            message,
        });
    }
    result
}
