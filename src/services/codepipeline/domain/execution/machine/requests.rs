//! Events from API callers: stop, approve, retry, roll back, enable or disable a transition.

use super::*;

impl Machine<'_> {
    /// `RollbackStage`: runs `stage` again with the artifacts, variables and revisions of
    /// `target`, an earlier execution that succeeded there, as a new `ROLLBACK` execution.
    pub fn rollback(
        &mut self,
        version: i64,
        stage: &str,
        target: &Execution,
        trigger: Trigger,
    ) -> Result<String, AwsError> {
        let unable = |why: String| AwsError::new(codes::UNABLE_TO_ROLLBACK_STAGE, why);
        if target.pipeline_version != version {
            return Err(unable(format!(
                "Pipeline execution {} ran pipeline version {}, and the pipeline is now at version {version}",
                target.id, target.pipeline_version
            )));
        }
        let decl = self.declarations.get(&version).ok_or_else(|| {
            AwsError::internal(format!("pipeline version {version} is not loaded"))
        })?;
        let s = decl
            .stages
            .iter()
            .position(|st| st.name == stage)
            .ok_or_else(|| stage_not_found(stage))?;
        if target.stage(stage).and_then(|st| st.status) != Some(StageStatus::Succeeded) {
            return Err(unable(format!(
                "Pipeline execution {} did not succeed in stage {stage}",
                target.id
            )));
        }
        if self.stage_busy(stage) {
            return Err(unable(format!(
                "Stage {stage} is running; roll back once it has finished"
            )));
        }
        // Rolling back to what a healthy stage already runs would change nothing; after a failure
        // in the stage, going back to the last good execution is the point.
        let healthy = self
            .runtime
            .stage_latest
            .get(stage)
            .is_some_and(|(_, status)| *status == StageStatus::Succeeded);
        if healthy && self.runtime.deployed.get(stage) == Some(&target.id) {
            return Err(unable(format!(
                "Stage {stage} already runs pipeline execution {}",
                target.id
            )));
        }
        self.runtime.last_seq += 1;
        let id = (self.new_id)();
        let mut execution = target.clone();
        execution.id = id.clone();
        execution.seq = self.runtime.last_seq;
        execution.status = ExecStatus::InProgress;
        execution.status_summary = None;
        execution.trigger = trigger;
        execution.start_time = self.now;
        execution.last_update = self.now;
        execution.position = Position::Waiting(s);
        execution.stop = None;
        execution.stages = decl.stages.iter().map(StageRun::fresh).collect();
        execution.execution_type = ExecutionType::Rollback.as_str().to_owned();
        execution.rollback_target = Some(target.id.clone());
        execution.only_stage = Some(s);
        self.executions.push(execution);
        self.changed.insert(id.clone());
        self.advance();
        Ok(id)
    }

    pub fn set_transition(&mut self, stage: &str, enabled: bool, reason: Option<String>, by: &str) {
        self.runtime.transitions.insert(
            stage.to_owned(),
            TransitionState {
                enabled,
                disabled_reason: if enabled { None } else { reason },
                last_changed_by: Some(by.to_owned()),
                last_changed_at: Some(self.now),
            },
        );
        self.advance();
    }

    pub fn stop(
        &mut self,
        execution_id: &str,
        abandon: bool,
        reason: Option<String>,
    ) -> Result<(), AwsError> {
        let Some(exec) = self.executions.iter_mut().find(|e| e.id == execution_id) else {
            return Err(AwsError::new(
                codes::PIPELINE_EXECUTION_NOT_STOPPABLE,
                format!(
                    "Pipeline execution {execution_id} has already completed and cannot be stopped"
                ),
            ));
        };
        if exec.status.is_finished() {
            return Err(AwsError::new(
                codes::PIPELINE_EXECUTION_NOT_STOPPABLE,
                format!(
                    "Pipeline execution {execution_id} has already completed and cannot be stopped"
                ),
            ));
        }
        if let Some(previous) = &exec.stop {
            if previous.abandon || !abandon {
                return Err(AwsError::new(
                    codes::DUPLICATED_STOP_REQUEST,
                    format!("A stop request for pipeline execution {execution_id} is already in progress"),
                ));
            }
        }
        exec.stop = Some(StopRequest { abandon, reason });
        exec.status = ExecStatus::Stopping;
        exec.last_update = self.now;
        if let Position::Running(s) = exec.position {
            let now = self.now;
            let stage = &mut exec.stages[s];
            stage.status = Some(StageStatus::Stopping);
            if abandon {
                for a in stage
                    .actions
                    .iter_mut()
                    .filter(|a| a.status == Some(ActionStatus::InProgress))
                {
                    a.status = Some(ActionStatus::Abandoned);
                    a.due = None;
                    a.pending = None;
                    a.expires = None;
                    a.last_update = Some(now);
                }
            }
        }
        self.changed.insert(execution_id.to_owned());
        self.sync_latest_of(execution_id);
        self.advance();
        Ok(())
    }

    /// Answers the approval action `stage`/`action` whose token is `token`.
    pub fn approve(
        &mut self,
        stage: &str,
        action: &str,
        token: &str,
        approved: bool,
        summary: &str,
        by: &str,
    ) -> Result<f64, AwsError> {
        let invalid = || {
            AwsError::new(
                codes::INVALID_APPROVAL_TOKEN,
                format!(
                    "Approval token {token} is not valid for action '{action}' in stage '{stage}'"
                ),
            )
        };
        // AWS's text (issue 13, capture 13).
        let completed = || {
            AwsError::new(
                codes::APPROVAL_ALREADY_COMPLETED,
                "The approval request that you responded to is already complete or has expired.",
            )
        };
        let now = self.now;
        // Several executions can wait at one approval (PARALLEL mode): the token says which.
        let found = self.executions.iter_mut().find_map(|e| {
            let id = e.id.clone();
            e.stages
                .iter_mut()
                .find(|s| s.name == stage)
                .and_then(|s| {
                    s.actions
                        .iter_mut()
                        .find(|a| a.name == action && a.token.as_deref() == Some(token))
                })
                .map(|run| (id, run))
        });
        let Some((execution_id, run)) = found else {
            let answered = self
                .runtime
                .action_latest
                .get(&format!("{stage}/{action}"))
                .is_some_and(|l| l.run.token.as_deref() == Some(token));
            return Err(if answered { completed() } else { invalid() });
        };
        if run.status != Some(ActionStatus::InProgress) || run.pending.is_some() {
            return Err(completed());
        }
        run.updated_by = Some(by.to_owned());
        let result = ActionResult {
            summary: Some(summary.to_owned()),
            error: (!approved).then(|| ErrorDetails {
                code: "Rejected".to_owned(),
                message: summary.to_owned(),
            }),
            ..ActionResult::default()
        };
        run.due = Some(now);
        run.pending = Some(result);
        run.expires = None;
        self.changed.insert(execution_id);
        self.advance();
        Ok(now)
    }

    /// Retries `stage` of a finished execution (which the caller has put in `executions`).
    pub fn retry(
        &mut self,
        execution_id: &str,
        stage: &str,
        all_actions: bool,
    ) -> Result<(), AwsError> {
        let latest = self
            .runtime
            .stage_latest
            .get(stage)
            .map(|(id, _)| id.clone());
        let exec = self
            .executions
            .iter_mut()
            .find(|e| e.id == execution_id)
            .ok_or_else(|| {
                AwsError::new(
                    codes::PIPELINE_EXECUTION_NOT_FOUND,
                    format!("Pipeline execution {execution_id} was not found"),
                )
            })?;
        let s = exec
            .stages
            .iter()
            .position(|st| st.name == stage)
            .ok_or_else(|| stage_not_found(stage))?;
        if latest.as_deref() != Some(execution_id) {
            return Err(AwsError::new(
                codes::NOT_LATEST_PIPELINE_EXECUTION,
                format!("Pipeline execution {execution_id} is not the latest execution of stage '{stage}'"),
            ));
        }
        if !exec.status.is_finished() {
            return Err(AwsError::new(
                codes::STAGE_NOT_RETRYABLE,
                format!("Stage '{stage}' cannot be retried while pipeline execution {execution_id} is in progress"),
            ));
        }
        if !matches!(
            exec.stages[s].status,
            Some(StageStatus::Failed | StageStatus::Stopped)
        ) {
            return Err(AwsError::new(
                codes::STAGE_NOT_RETRYABLE,
                format!("Stage '{stage}' of pipeline execution {execution_id} did not fail and cannot be retried"),
            ));
        }
        let stage_run = &mut exec.stages[s];
        for a in stage_run.actions.iter_mut() {
            let rerun = all_actions
                || matches!(
                    a.status,
                    Some(ActionStatus::Failed | ActionStatus::Abandoned)
                );
            if rerun || a.status.is_none() {
                if a.status.is_some() {
                    // The earlier attempt stays in the action execution history.
                    stage_run.history.push(a.clone());
                }
                *a = ActionRun::new(&a.name, a.run_order);
            }
        }
        exec.stages[s].status = Some(StageStatus::InProgress);
        exec.stages[s].last_retry = Some(self.now);
        exec.retries += 1;
        exec.status = ExecStatus::InProgress;
        exec.status_summary = None;
        exec.stop = None;
        exec.position = Position::Running(s);
        exec.last_update = self.now;
        self.changed.insert(execution_id.to_owned());
        self.sync_latest_of(execution_id);
        self.advance();
        Ok(())
    }
}
