//! What the engine reports as executions move: an execution or a stage started, resumed (a
//! retry), stopping or finished; an action started or finished. Events are found by comparing each changed execution with how
//! it looked before the machine ran, so the pure state machine does not have to announce
//! anything. They are logged at info level and broadcast to whoever listens (the console).

use std::collections::HashMap;

use serde::Serialize;

use super::PipelineKey;
use crate::services::codepipeline::domain::execution::model::{
    ActionStatus, ExecStatus, Execution, StageStatus,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineEvent {
    pub account: String,
    pub region: String,
    pub pipeline: String,
    pub execution: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum EventKind {
    ExecutionStarted {
        trigger: String,
    },
    ExecutionFinished {
        status: ExecStatus,
    },
    /// `RetryStageExecution` took a finished execution up again.
    ExecutionResumed,
    /// A stop was asked for (`STOPPING`, before `STOPPED`).
    ExecutionStopping,
    StageStarted {
        stage: String,
    },
    /// A failed or stopped stage retried.
    StageResumed {
        stage: String,
    },
    StageStopping {
        stage: String,
    },
    StageFinished {
        stage: String,
        status: StageStatus,
    },
    ActionStarted {
        stage: String,
        action: String,
    },
    ActionFinished {
        stage: String,
        action: String,
        status: ActionStatus,
    },
}

/// How one execution looked: its status, and per stage and action the status and run id (a
/// retried action gets a new action execution id, which makes it a new start).
#[derive(Default)]
struct Look {
    status: Option<ExecStatus>,
    /// Retries so far: one more means RESUMED, even when the retried run ended in the same step.
    retries: u32,
    stages: HashMap<String, (Option<StageStatus>, Option<f64>)>,
    actions: HashMap<(String, String), (Option<ActionStatus>, Option<String>)>,
}

#[derive(Default)]
pub struct Before(HashMap<String, Look>);

/// Kept with a pipeline's unfinished executions and brought up to date for the ones each step
/// changes, so finding a step's events costs what the step changed, not every execution held.
impl Before {
    pub fn of(executions: &[Execution]) -> Self {
        Before(executions.iter().map(|e| (e.id.clone(), look(e))).collect())
    }

    /// Takes `e` as it is now as the "before" of the next step.
    pub fn remember(&mut self, e: &Execution) {
        self.0.insert(e.id.clone(), look(e));
    }

    /// What the store holds of execution `id`, as of the last step that wrote it.
    pub fn written(&self, id: &str) -> Option<crate::services::codepipeline::records::Written> {
        self.0
            .get(id)
            .map(|l| crate::services::codepipeline::records::Written {
                finished: l.status.is_some_and(ExecStatus::is_finished),
                action_execution_ids: l
                    .actions
                    .values()
                    .filter_map(|(_, id)| id.clone())
                    .collect(),
            })
    }

    /// Keeps only the executions still held.
    pub fn keep_only(&mut self, held: &[Execution]) {
        if self.0.len() != held.len() {
            let ids: std::collections::HashSet<&str> = held.iter().map(|e| e.id.as_str()).collect();
            self.0.retain(|id, _| ids.contains(id.as_str()));
        }
    }
}

fn look(e: &Execution) -> Look {
    let mut l = Look {
        status: Some(e.status),
        retries: e.retries,
        ..Look::default()
    };
    for s in &e.stages {
        l.stages.insert(s.name.clone(), (s.status, s.last_retry));
        for a in &s.actions {
            l.actions.insert(
                (s.name.clone(), a.name.clone()),
                (a.status, a.action_execution_id.clone()),
            );
        }
    }
    l
}

/// The events between how `e` looked before and how it looks now, in the order they happened.
pub fn between(key: &PipelineKey, before: &Before, e: &Execution) -> Vec<EngineEvent> {
    let empty = Look::default();
    let old = before.0.get(&e.id).unwrap_or(&empty);
    let mut kinds = Vec::new();
    let stopping =
        |st: Option<ExecStatus>| matches!(st, Some(ExecStatus::Stopping | ExecStatus::Stopped));
    match old.status {
        None => kinds.push(EventKind::ExecutionStarted {
            trigger: e.trigger.trigger_type.clone(),
        }),
        Some(_) if e.retries > old.retries => kinds.push(EventKind::ExecutionResumed),
        _ => {}
    }
    // A stop with nothing left to wait for ends in the same step; it was still asked for.
    if stopping(Some(e.status)) && !stopping(old.status) {
        kinds.push(EventKind::ExecutionStopping);
    }
    for s in &e.stages {
        let (was, was_retried) = old.stages.get(&s.name).copied().unwrap_or_default();
        // A stage can start and finish within one step (zero-duration actions); it still started.
        let ran_through = s.status.is_some_and(|st| {
            !matches!(st, StageStatus::InProgress | StageStatus::Skipped) && was.is_none()
        });
        let resumed = s.last_retry.is_some() && s.last_retry != was_retried;
        if resumed {
            kinds.push(EventKind::StageResumed {
                stage: s.name.clone(),
            });
        } else if (s.status == Some(StageStatus::InProgress)
            && was != Some(StageStatus::InProgress))
            || ran_through
        {
            kinds.push(EventKind::StageStarted {
                stage: s.name.clone(),
            });
        }
        let stage_stopping = |st: Option<StageStatus>| {
            matches!(st, Some(StageStatus::Stopping | StageStatus::Stopped))
        };
        if stage_stopping(s.status) && !stage_stopping(was) {
            kinds.push(EventKind::StageStopping {
                stage: s.name.clone(),
            });
        }
        for a in &s.actions {
            let (was_status, was_id) = old
                .actions
                .get(&(s.name.clone(), a.name.clone()))
                .cloned()
                .unwrap_or_default();
            let rerun = a.action_execution_id.is_some() && a.action_execution_id != was_id;
            let started_here = rerun || was_status.is_none();
            if a.status.is_some()
                && (started_here
                    || (a.status == Some(ActionStatus::InProgress)
                        && was_status != Some(ActionStatus::InProgress)))
            {
                kinds.push(EventKind::ActionStarted {
                    stage: s.name.clone(),
                    action: a.name.clone(),
                });
            }
            if let Some(status) = a.status.filter(|st| *st != ActionStatus::InProgress) {
                if rerun || was_status != Some(status) {
                    kinds.push(EventKind::ActionFinished {
                        stage: s.name.clone(),
                        action: a.name.clone(),
                        status,
                    });
                }
            }
        }
        // A skipped stage never ran: CodePipeline publishes nothing for it.
        let finished = s.status.filter(|st| {
            !matches!(
                st,
                StageStatus::InProgress | StageStatus::Stopping | StageStatus::Skipped
            )
        });
        // A retry that fails again within its step ends as it began, but ended again.
        if let Some(status) = finished.filter(|st| resumed || was != Some(*st)) {
            kinds.push(EventKind::StageFinished {
                stage: s.name.clone(),
                status,
            });
        }
    }
    if e.status.is_finished() && (old.status != Some(e.status) || e.retries > old.retries) {
        kinds.push(EventKind::ExecutionFinished { status: e.status });
    }
    kinds
        .into_iter()
        .map(|kind| EngineEvent {
            account: key.account.clone(),
            region: key.region.clone(),
            pipeline: key.name.clone(),
            execution: e.id.clone(),
            kind,
        })
        .collect()
}

/// One info line per event; the JSON log format gives each field its own key.
pub fn log(event: &EngineEvent) {
    let EngineEvent {
        account,
        region,
        pipeline,
        execution,
        kind,
    } = event;
    match kind {
        EventKind::ExecutionStarted { trigger } => {
            tracing::info!(%account, %region, %pipeline, %execution, %trigger, "execution started")
        }
        EventKind::ExecutionFinished { status } => {
            tracing::info!(%account, %region, %pipeline, %execution, ?status, "execution finished")
        }
        EventKind::ExecutionResumed => {
            tracing::info!(%account, %region, %pipeline, %execution, "execution resumed")
        }
        EventKind::ExecutionStopping => {
            tracing::info!(%account, %region, %pipeline, %execution, "execution stopping")
        }
        EventKind::StageStarted { stage } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, "stage started")
        }
        EventKind::StageResumed { stage } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, "stage resumed")
        }
        EventKind::StageStopping { stage } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, "stage stopping")
        }
        EventKind::StageFinished { stage, status } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, ?status, "stage finished")
        }
        EventKind::ActionStarted { stage, action } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, %action, "action started")
        }
        EventKind::ActionFinished {
            stage,
            action,
            status,
        } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, %action, ?status, "action finished")
        }
    }
}
