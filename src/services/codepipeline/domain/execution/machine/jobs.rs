//! Job worker events: a job is dispatched to a poller, acknowledged with its nonce, and
//! ends with a result (a continuation token issues the next job). A real provider's task, the
//! engine's own worker, ends the same way (`task_finished`).

use super::*;

impl Machine<'_> {
    /// Where the running action with job `job_id` is: `(execution, stage, action)` indexes.
    pub(super) fn find_job(&self, job_id: &str) -> Option<(usize, usize, usize)> {
        self.executions.iter().enumerate().find_map(|(i, e)| {
            e.stages.iter().enumerate().find_map(|(s, st)| {
                st.actions
                    .iter()
                    .position(|a| a.job.as_ref().is_some_and(|j| j.id == job_id))
                    .map(|k| (i, s, k))
            })
        })
    }

    pub(super) fn job_mut(&mut self, job_id: &str) -> Result<(usize, &mut ActionRun), AwsError> {
        let (i, s, k) = self.find_job(job_id).ok_or_else(|| job_not_found(job_id))?;
        Ok((i, &mut self.executions[i].stages[s].actions[k]))
    }

    /// A worker took the job from the queue: it is not handed out again.
    pub fn dispatch_job(&mut self, job_id: &str) -> Result<(), AwsError> {
        let (i, run) = self.job_mut(job_id)?;
        if let Some(job) = run.job.as_mut().filter(|j| j.status == JobStatus::Queued) {
            job.status = JobStatus::Dispatched;
            let id = self.executions[i].id.clone();
            self.changed.insert(id);
            self.sync_changed();
        }
        Ok(())
    }

    /// `AcknowledgeJob`: the worker confirms it has the job, proving it with the nonce.
    pub fn acknowledge_job(&mut self, job_id: &str, nonce: &str) -> Result<JobStatus, AwsError> {
        let (i, run) = self.job_mut(job_id)?;
        let job = run.job.as_mut().ok_or_else(|| job_not_found(job_id))?;
        if job.nonce != nonce {
            return Err(AwsError::new(
                codes::INVALID_NONCE,
                format!("The nonce {nonce} is not valid for job {job_id}"),
            ));
        }
        if matches!(job.status, JobStatus::Queued | JobStatus::Dispatched) {
            job.status = JobStatus::InProgress;
        }
        let status = job.status;
        let id = self.executions[i].id.clone();
        self.changed.insert(id);
        self.sync_changed();
        Ok(status)
    }

    /// `PutJobSuccessResult` / `PutJobFailureResult`. A continuation token keeps the action
    /// running and issues a new job that carries the token.
    pub fn job_result(&mut self, job_id: &str, outcome: JobOutcome) -> Result<(), AwsError> {
        let now = self.now;
        let next_job_id = (self.new_id)();
        let next_nonce = (self.new_id)();
        let (i, run) = self.job_mut(job_id)?;
        let job = run.job.as_mut().ok_or_else(|| job_not_found(job_id))?;
        if matches!(job.status, JobStatus::Succeeded | JobStatus::Failed)
            || run.status != Some(ActionStatus::InProgress)
        {
            return Err(AwsError::new(
                codes::INVALID_JOB_STATE,
                format!(
                    "Job {job_id} is in state {:?} and cannot take a result",
                    job.status
                ),
            ));
        }
        run.last_update = Some(now);
        match outcome {
            JobOutcome::Success {
                summary,
                external_execution_id,
                percent_complete,
                output_variables,
                continuation_token,
                revision,
            } => {
                job.status = JobStatus::Succeeded;
                let result = ActionResult {
                    summary,
                    external_execution_id,
                    external_execution_url: None,
                    output_variables,
                    revision,
                    ..ActionResult::default()
                };
                match continuation_token {
                    Some(token) => {
                        let client_id = job.client_id.as_ref().map(|_| next_job_id.clone());
                        run.job = Some(Job {
                            id: next_job_id,
                            nonce: next_nonce,
                            status: JobStatus::Queued,
                            continuation_token: Some(token),
                            client_id,
                        });
                        run.progress = Some(result);
                        run.percent_complete = percent_complete;
                    }
                    None => {
                        run.percent_complete = percent_complete.or(Some(100));
                        run.due = Some(now);
                        run.pending = Some(result);
                    }
                }
            }
            JobOutcome::Failure {
                code,
                message,
                external_execution_id,
            } => {
                job.status = JobStatus::Failed;
                run.due = Some(now);
                run.pending = Some(ActionResult {
                    external_execution_id,
                    summary: Some(message.clone()),
                    error: Some(ErrorDetails { code, message }),
                    ..ActionResult::default()
                });
            }
        }
        let id = self.executions[i].id.clone();
        self.changed.insert(id);
        self.advance();
        Ok(())
    }

    /// The execution's index and the action a real provider's task runs, while it runs.
    fn running_task(
        &mut self,
        execution_id: &str,
        action_execution_id: &str,
    ) -> Option<(usize, &mut ActionRun)> {
        let i = self.executions.iter().position(|e| e.id == execution_id)?;
        let run = self.executions[i]
            .stages
            .iter_mut()
            .flat_map(|s| s.actions.iter_mut())
            .find(|a| a.action_execution_id.as_deref() == Some(action_execution_id))?;
        (run.task && run.status == Some(ActionStatus::InProgress)).then_some((i, run))
    }

    /// A real provider's task reports what is known while it runs (a build's id, as CodeBuild
    /// actions show theirs while in progress). Ignored once the action is no longer running.
    pub fn task_progress(
        &mut self,
        execution_id: &str,
        action_execution_id: &str,
        progress: ActionResult,
    ) {
        let now = self.now;
        let Some((i, run)) = self.running_task(execution_id, action_execution_id) else {
            return;
        };
        run.progress = Some(progress);
        run.last_update = Some(now);
        let id = self.executions[i].id.clone();
        // GetPipelineState reads the latest run of each action, kept apart from the execution.
        self.sync_latest_of(&id);
        self.changed.insert(id);
    }

    /// A real provider's task ended with `result`. An action no longer running (stopped,
    /// abandoned, or its execution cancelled) ignores it.
    pub fn task_finished(
        &mut self,
        execution_id: &str,
        action_execution_id: &str,
        result: ActionResult,
    ) {
        let now = self.now;
        let Some((i, run)) = self.running_task(execution_id, action_execution_id) else {
            return;
        };
        run.due = Some(now);
        run.pending = Some(result);
        run.last_update = Some(now);
        let id = self.executions[i].id.clone();
        self.changed.insert(id);
        self.advance();
    }
}
