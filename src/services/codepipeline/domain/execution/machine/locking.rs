//! Who may enter a stage: execution modes (SUPERSEDED, QUEUED, PARALLEL) and inbound
//! transitions.

use super::*;
use crate::services::codepipeline::domain::enums::ExecutionMode;

impl Machine<'_> {
    /// SUPERSEDED: of the executions waiting at one stage, only the newest keeps waiting.
    pub(super) fn supersede_waiting(&mut self) -> bool {
        let mut newest: BTreeMap<String, u64> = BTreeMap::new();
        for e in self.waiting(ExecutionMode::Superseded) {
            let (name, seq) = (
                self.stage_name(e, self.waiting_at(e)),
                self.executions[e].seq,
            );
            let slot = newest.entry(name).or_insert(seq);
            *slot = (*slot).max(seq);
        }
        let mut progressed = false;
        for e in self.waiting(ExecutionMode::Superseded) {
            let name = self.stage_name(e, self.waiting_at(e));
            if newest
                .get(&name)
                .is_some_and(|n| *n > self.executions[e].seq)
            {
                let now = self.now;
                let exec = &mut self.executions[e];
                exec.status = ExecStatus::Superseded;
                exec.position = Position::Done;
                exec.last_update = now;
                let id = exec.id.clone();
                self.changed.insert(id);
                progressed = true;
            }
        }
        progressed
    }

    pub(super) fn waiting(&self, mode: ExecutionMode) -> Vec<usize> {
        self.executions
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.status == ExecStatus::InProgress && matches!(e.position, Position::Waiting(_))
            })
            .filter(|(_, e)| ExecutionMode::of(Some(&e.execution_mode)) == mode)
            .map(|(i, _)| i)
            .collect()
    }

    pub(super) fn waiting_at(&self, i: usize) -> usize {
        match self.executions[i].position {
            Position::Waiting(s) | Position::Running(s) => s,
            Position::Done => 0,
        }
    }

    pub(super) fn stage_name(&self, i: usize, s: usize) -> String {
        self.executions[i]
            .stages
            .get(s)
            .map(|st| st.name.clone())
            .unwrap_or_default()
    }

    pub(super) fn stage_busy(&self, name: &str) -> bool {
        self.executions.iter().any(|e| match e.position {
            Position::Running(s) => {
                !e.status.is_finished() && e.stages.get(s).is_some_and(|st| st.name == name)
            }
            _ => false,
        })
    }

    /// Lets waiting executions into their next stage where the mode and transitions allow.
    pub(super) fn enter_stages(&mut self) -> bool {
        let mut candidates: Vec<usize> = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.status == ExecStatus::InProgress && matches!(e.position, Position::Waiting(_))
            })
            .map(|(i, _)| i)
            .collect();
        candidates.sort_by_key(|&i| self.executions[i].seq);
        let mut progressed = false;
        for i in candidates {
            let s = self.waiting_at(i);
            let name = self.stage_name(i, s);
            if !self.runtime.transition_enabled(&name) {
                continue;
            }
            let mode = ExecutionMode::of(Some(&self.executions[i].execution_mode));
            if mode != ExecutionMode::Parallel && self.stage_busy(&name) {
                continue;
            }
            if mode == ExecutionMode::Superseded {
                // Only the newest waiting one may enter; supersede_waiting has removed older ones.
                let newer_waiting = self.executions.iter().any(|e| {
                    e.seq > self.executions[i].seq
                        && e.status == ExecStatus::InProgress
                        && e.position == Position::Waiting(s)
                });
                if newer_waiting {
                    continue;
                }
            }
            self.enter(i, s);
            progressed = true;
        }
        progressed
    }

    pub(super) fn enter(&mut self, i: usize, s: usize) {
        let now = self.now;
        let exec = &mut self.executions[i];
        exec.position = Position::Running(s);
        exec.stages[s].status = Some(StageStatus::InProgress);
        exec.last_update = now;
        let (name, id) = (exec.stages[s].name.clone(), exec.id.clone());
        self.runtime
            .stage_latest
            .insert(name, (id.clone(), StageStatus::InProgress));
        self.changed.insert(id);
    }
}
