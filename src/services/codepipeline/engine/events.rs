//! What the engine reports as executions move: an execution started or finished, a stage or an
//! action started or finished. Events are found by comparing each changed execution with how
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
    StageStarted {
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
    stages: HashMap<String, Option<StageStatus>>,
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
        ..Look::default()
    };
    for s in &e.stages {
        l.stages.insert(s.name.clone(), s.status);
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
    if old.status.is_none() {
        kinds.push(EventKind::ExecutionStarted {
            trigger: e.trigger.trigger_type.clone(),
        });
    }
    for s in &e.stages {
        let was = old.stages.get(&s.name).copied().flatten();
        // A stage can start and finish within one step (zero-duration actions); it still started.
        let ran_through = s.status.is_some_and(|st| {
            !matches!(st, StageStatus::InProgress | StageStatus::Skipped) && was.is_none()
        });
        if (s.status == Some(StageStatus::InProgress) && was != Some(StageStatus::InProgress))
            || ran_through
        {
            kinds.push(EventKind::StageStarted {
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
        let finished = s
            .status
            .filter(|st| !matches!(st, StageStatus::InProgress | StageStatus::Stopping));
        if let Some(status) = finished.filter(|st| was != Some(*st)) {
            kinds.push(EventKind::StageFinished {
                stage: s.name.clone(),
                status,
            });
        }
    }
    if e.status.is_finished() && old.status != Some(e.status) {
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
        EventKind::StageStarted { stage } => {
            tracing::info!(%account, %region, %pipeline, %execution, %stage, "stage started")
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
