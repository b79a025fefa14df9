//! The engine's own workers: real providers' tasks and stub actions' artifacts. After each
//! step, every running action the machine handed to a real provider (`Start::Task`) and that
//! no task runs yet gets one (so a restart starts them again from the stored state), and every
//! stub action that just succeeded gets its output artifacts written in the step's own batch.
//! (Simulated CodeBuild actions' builds are CodeBuild's to record, from the event bus.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::codepipeline::domain::execution::model::{ActionRun, ActionStatus, Execution};
use crate::services::codepipeline::domain::pipeline::{ActionDeclaration, PipelineDeclaration};
use crate::services::codepipeline::providers::TaskJob;
use crate::store::Write;

use super::events::{EngineEvent, EventKind};
use super::PipelineKey;

fn run_of<'a>(e: &'a Execution, stage: &str, action: &str) -> Option<&'a ActionRun> {
    e.stages
        .iter()
        .find(|s| s.name == stage)
        .and_then(|s| s.actions.iter().find(|a| a.name == action))
}

fn declared_action<'a>(
    decl: Option<&'a PipelineDeclaration>,
    stage: &str,
    action: &str,
) -> Option<&'a ActionDeclaration> {
    decl.and_then(|d| d.stages.iter().find(|s| s.name == stage))
        .and_then(|s| s.actions.iter().find(|a| a.name == action))
}

/// The action executions a real provider's task runs now, each with the flag that stops it.
pub type Running = HashMap<String, Arc<AtomicBool>>;

/// Asks the tasks of `e`'s actions that are no longer running (stopped, abandoned, its
/// execution cancelled) to stop.
pub fn stop_ended(e: &Execution, running: &Running) {
    for run in e.stages.iter().flat_map(|s| &s.actions) {
        let Some(id) = run.action_execution_id.as_ref() else {
            continue;
        };
        if run.task && run.status != Some(ActionStatus::InProgress) {
            if let Some(flag) = running.get(id) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Tasks to start for `e`'s running real actions that `running` does not already hold.
pub fn to_start(
    key: &PipelineKey,
    e: &Execution,
    decl: Option<&PipelineDeclaration>,
    running: &mut Running,
    booted: f64,
    now: f64,
) -> Vec<TaskJob> {
    let mut jobs = Vec::new();
    for stage in &e.stages {
        for run in &stage.actions {
            let Some(id) = run.action_execution_id.as_ref() else {
                continue;
            };
            if !run.task || run.status != Some(ActionStatus::InProgress) || running.contains_key(id)
            {
                continue;
            }
            let declared = declared_action(decl, &stage.name, &run.name);
            let Some(action) = declared else { continue };
            let stop = Arc::new(AtomicBool::new(false));
            running.insert(id.clone(), stop.clone());
            jobs.push(TaskJob {
                key: key.clone(),
                execution_id: e.id.clone(),
                action_execution_id: id.clone(),
                category: action.action_type_id.category.clone(),
                provider: action.action_type_id.provider.clone(),
                configuration: run.resolved_configuration.clone(),
                inputs: run.input_artifacts.clone(),
                outputs: run.output_artifacts.clone(),
                revision: e
                    .source_overrides
                    .iter()
                    .find(|o| o.action_name == run.name)
                    .map(|o| o.revision_value.clone()),
                source_revision: e.revisions.values().next().map(|r| r.revision_id.clone()),
                stop,
                resumed: run.start_time.is_some_and(|t| t < booted),
                commands: action.commands.clone().unwrap_or_default(),
                output_variables: action.output_variables.clone().unwrap_or_default(),
                output_files: action
                    .outputs()
                    .first()
                    .and_then(|o| o.files.clone())
                    .unwrap_or_default(),
                now,
            });
        }
    }
    jobs
}

/// The writes of the output artifacts of the stub actions `happened` reports succeeded.
pub fn stub_artifacts(
    artifacts: &ArtifactStore,
    key: &PipelineKey,
    e: &Execution,
    happened: &[EngineEvent],
    now: f64,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for event in happened {
        let EventKind::ActionFinished {
            stage,
            action,
            status: ActionStatus::Succeeded,
        } = &event.kind
        else {
            continue;
        };
        let run = run_of(e, stage, action);
        let Some(run) = run.filter(|r| !r.task) else {
            continue;
        };
        let producer = format!(
            "action {action} of stage {stage} in pipeline {} (execution {})",
            key.name, e.id
        );
        let input = run
            .input_artifacts
            .first()
            .map(|a| (a.bucket.as_str(), a.key.as_str()));
        for out in &run.output_artifacts {
            let at = Placement {
                bucket: &out.bucket,
                key: &out.key,
                account: &key.account,
                region: &key.region,
            };
            match artifacts.stub_writes(&at, input, &producer, now) {
                Ok(w) => writes.extend(w),
                Err(err) => {
                    tracing::warn!(pipeline = %key.name, artifact = %out.name, error = %err, "cannot write a stub artifact")
                }
            }
        }
    }
    writes
}
