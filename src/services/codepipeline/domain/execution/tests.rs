//! The state machine driven with a fake clock and a scripted runner: run orders, failure,
//! superseding, queueing, parallel mode, transitions, stop, retry, approvals, variables.

use std::collections::BTreeMap;

use serde_json::json;

use super::machine::{ActionRunner, ActionStart, Machine, Start, APPROVAL_TIMEOUT_SECS};
use super::model::*;
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;

/// Every action succeeds after 1 s unless scripted; approvals wait.
#[derive(Default)]
struct Script {
    by_action: BTreeMap<String, Start>,
    /// Actions that fail the first time they run only.
    fail_once: BTreeMap<String, String>,
    /// Rule outcomes that replace evaluation, by rule name.
    rules: BTreeMap<String, super::rule_eval::RuleOutcome>,
}

impl ActionRunner for Script {
    fn rule(
        &mut self,
        _p: &str,
        _s: &str,
        rule: &str,
        _provider: &str,
    ) -> Option<super::rule_eval::RuleOutcome> {
        self.rules.get(rule).cloned()
    }

    fn start(&mut self, s: &ActionStart) -> Start {
        if let Some(message) = self.fail_once.remove(&s.action.name) {
            return fail(&message, 1.0);
        }
        if let Some(start) = self.by_action.get(&s.action.name) {
            return start.clone();
        }
        if s.action.action_type_id.category == "Approval" {
            return Start::Approval;
        }
        let mut result = ActionResult {
            summary: Some(format!("ran {}", s.action.name)),
            ..Default::default()
        };
        result.output_variables.insert(
            "Config".into(),
            s.resolved_configuration
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        );
        Start::After {
            seconds: 1.0,
            result: Box::new(result),
        }
    }
}

fn fail(message: &str, seconds: f64) -> Start {
    Start::After {
        seconds,
        result: Box::new(ActionResult {
            error: Some(ErrorDetails {
                code: "JobFailed".into(),
                message: message.into(),
            }),
            ..Default::default()
        }),
    }
}

fn ok_after(seconds: f64) -> Start {
    Start::After {
        seconds,
        result: Box::default(),
    }
}

struct World {
    runtime: PipelineRuntime,
    executions: Vec<Execution>,
    decls: super::machine::Declarations,
    script: Script,
    counter: u64,
    now: f64,
    /// Rollbacks ROLLBACK results asked for, across calls.
    rollbacks: Vec<(String, String)>,
}

fn action(name: &str, category: &str, provider: &str, run_order: i64) -> serde_json::Value {
    json!({"name": name, "runOrder": run_order,
           "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"}})
}

/// Source → Build → Approve → Deploy in `mode`.
fn four_stages(mode: &str) -> PipelineDeclaration {
    let mut source = action("Source", "Source", "S3", 1);
    source["outputArtifacts"] = json!([{"name": "Src"}]);
    source["namespace"] = json!("SourceVars");
    source["configuration"] = json!({"S3Bucket": "b", "S3ObjectKey": "k"});
    let mut build = action("Build", "Build", "CodeBuild", 1);
    build["inputArtifacts"] = json!([{"name": "Src"}]);
    build["configuration"] =
        json!({"ProjectName": "p-#{SourceVars.Config}-#{codepipeline.PipelineExecutionId}"});
    let v = json!({"name": "p", "roleArn": "arn:aws:iam::123456789012:role/r", "pipelineType": "V2",
    "executionMode": mode, "artifactStore": {"type": "S3", "location": "bucket"},
    "stages": [
        {"name": "Source", "actions": [source]},
        {"name": "Build", "actions": [build]},
        {"name": "Approve", "actions": [action("Approve", "Approval", "Manual", 1)]},
        {"name": "Deploy", "actions": [action("Deploy", "Deploy", "S3", 1)]},
    ]});
    serde_json::from_value(v).unwrap()
}

impl World {
    fn new(decl: PipelineDeclaration) -> World {
        World {
            runtime: PipelineRuntime::default(),
            executions: Vec::new(),
            decls: BTreeMap::from([(1, std::sync::Arc::new(decl))]),
            script: Script::default(),
            counter: 0,
            now: 0.0,
            rollbacks: Vec::new(),
        }
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R {
        let World {
            runtime,
            executions,
            decls,
            script,
            counter,
            now,
            rollbacks,
        } = self;
        let mut ids = || {
            *counter += 1;
            format!("id{counter}")
        };
        let mut machine = Machine::new(runtime, executions, decls, script, &mut ids, *now);
        let out = f(&mut machine);
        rollbacks.append(&mut machine.rollback_requests);
        out
    }

    fn start(&mut self) -> String {
        let trigger = Trigger {
            trigger_type: "StartPipelineExecution".into(),
            trigger_detail: "test".into(),
        };
        self.with(|m| m.start(1, trigger, BTreeMap::new(), Vec::new()))
            .unwrap()
    }

    /// Advances the fake clock to `t`, firing every due time on the way in order.
    fn at(&mut self, t: f64) {
        while let Some(due) = self.with(|m| m.next_due()).filter(|d| *d <= t) {
            self.now = due.max(self.now);
            self.with(|m| m.tick());
        }
        self.now = t;
        self.with(|m| m.tick());
    }

    fn exec(&self, id: &str) -> &Execution {
        self.executions.iter().find(|e| e.id == id).unwrap()
    }

    fn status(&self, id: &str) -> ExecStatus {
        self.exec(id).status
    }

    fn stage(&self, id: &str, stage: &str) -> Option<StageStatus> {
        self.exec(id).stage(stage).unwrap().status
    }

    fn action(&self, id: &str, stage: &str, action: &str) -> &ActionRun {
        self.exec(id)
            .stage(stage)
            .unwrap()
            .actions
            .iter()
            .find(|a| a.name == action)
            .unwrap()
    }

    fn token(&self, stage: &str, action: &str) -> String {
        self.runtime.action_latest[&format!("{stage}/{action}")]
            .run
            .token
            .clone()
            .unwrap()
    }

    fn approve(&mut self, approved: bool) -> Result<f64, crate::error::AwsError> {
        let token = self.token("Approve", "Approve");
        self.with(|m| {
            m.approve(
                "Approve",
                "Approve",
                &token,
                approved,
                "looks good",
                "tester",
            )
        })
    }
}

#[test]
fn stages_run_in_order_and_succeed() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e = w.start();
    assert_eq!(w.stage(&e, "Source"), Some(StageStatus::InProgress));
    assert_eq!(w.stage(&e, "Build"), None);
    w.at(1.0);
    assert_eq!(w.stage(&e, "Source"), Some(StageStatus::Succeeded));
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::InProgress));
    w.at(2.0);
    assert_eq!(w.stage(&e, "Approve"), Some(StageStatus::InProgress));
    assert_eq!(w.with(|m| m.next_due()), Some(2.0 + APPROVAL_TIMEOUT_SECS));
    w.approve(true).unwrap();
    w.at(3.0);
    assert_eq!(w.status(&e), ExecStatus::Succeeded);
    assert_eq!(
        w.runtime.stage_latest["Deploy"],
        (e.clone(), StageStatus::Succeeded)
    );
}

#[test]
fn variables_resolve_from_upstream_namespaces() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e = w.start();
    w.at(1.0);
    let build = w.action(&e, "Build", "Build");
    assert_eq!(
        build.resolved_configuration["ProjectName"],
        format!("p-b,k-{e}")
    );
    assert_eq!(build.input_artifacts[0].name, "Src");
    assert_eq!(build.input_artifacts[0].bucket, "bucket");
    assert!(build.input_artifacts[0].key.starts_with("p/Src/"));
}

#[test]
fn same_run_order_runs_in_parallel_and_a_failure_waits_for_siblings() {
    let mut decl = four_stages("SUPERSEDED");
    let mut second = decl.stages[1].actions[0].clone();
    second.name = "Lint".into();
    second.output_artifacts = Some(vec![]);
    let mut third = second.clone();
    third.name = "Package".into();
    third.run_order = Some(2);
    decl.stages[1].actions.extend([second, third]);
    let mut w = World::new(decl);
    w.script
        .by_action
        .insert("Lint".into(), fail("lint failed", 0.5));
    w.script.by_action.insert("Build".into(), ok_after(2.0));
    let e = w.start();
    w.at(1.0);
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::InProgress)
    );
    assert_eq!(
        w.action(&e, "Build", "Lint").status,
        Some(ActionStatus::InProgress)
    );
    assert_eq!(w.action(&e, "Build", "Package").status, None);
    w.at(1.5);
    assert_eq!(
        w.action(&e, "Build", "Lint").status,
        Some(ActionStatus::Failed)
    );
    assert_eq!(
        w.stage(&e, "Build"),
        Some(StageStatus::InProgress),
        "sibling still running"
    );
    w.at(3.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Failed));
    assert_eq!(
        w.action(&e, "Build", "Package").status,
        None,
        "later run order never starts"
    );
    assert_eq!(w.status(&e), ExecStatus::Failed);
    assert_eq!(w.exec(&e).status_summary.as_deref(), Some("lint failed"));
}

#[test]
fn superseded_mode_keeps_only_the_newest_waiting_execution() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e1 = w.start();
    w.at(2.0); // e1 waits for approval
    let e2 = w.start();
    assert_eq!(w.stage(&e2, "Source"), Some(StageStatus::InProgress));
    w.at(4.0); // e2 done with Build, waits before Approve
    assert_eq!(w.exec(&e2).position, Position::Waiting(2));
    let e3 = w.start();
    w.at(6.0);
    assert_eq!(w.status(&e2), ExecStatus::Superseded);
    assert_eq!(w.exec(&e3).position, Position::Waiting(2));
    w.approve(true).unwrap();
    w.at(7.0);
    assert_eq!(w.status(&e1), ExecStatus::Succeeded);
    assert_eq!(w.stage(&e3, "Approve"), Some(StageStatus::InProgress));
}

#[test]
fn queued_mode_lets_the_oldest_in_and_supersedes_none() {
    let mut w = World::new(four_stages("QUEUED"));
    let e1 = w.start();
    w.at(2.0);
    let e2 = w.start();
    w.at(3.0);
    let e3 = w.start();
    w.at(6.0);
    assert_eq!(w.exec(&e2).position, Position::Waiting(2));
    assert_eq!(w.exec(&e3).position, Position::Waiting(2));
    w.approve(true).unwrap();
    w.at(7.0);
    assert_eq!(w.status(&e1), ExecStatus::Succeeded);
    assert_eq!(w.stage(&e2, "Approve"), Some(StageStatus::InProgress));
    assert_eq!(w.exec(&e3).position, Position::Waiting(2));
    assert_eq!(w.status(&e3), ExecStatus::InProgress);
}

#[test]
fn parallel_mode_never_waits() {
    let mut w = World::new(four_stages("PARALLEL"));
    let e1 = w.start();
    let e2 = w.start();
    assert_eq!(w.stage(&e1, "Source"), Some(StageStatus::InProgress));
    assert_eq!(w.stage(&e2, "Source"), Some(StageStatus::InProgress));
    w.at(2.0);
    assert_eq!(w.stage(&e1, "Approve"), Some(StageStatus::InProgress));
    assert_eq!(w.stage(&e2, "Approve"), Some(StageStatus::InProgress));
}

#[test]
fn a_disabled_transition_holds_executions_until_enabled() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.with(|m| m.set_transition("Build", false, Some("freeze".into()), "tester"));
    let e = w.start();
    w.at(5.0);
    assert_eq!(w.exec(&e).position, Position::Waiting(1));
    assert_eq!(
        w.runtime.transitions["Build"].disabled_reason.as_deref(),
        Some("freeze")
    );
    w.with(|m| m.set_transition("Build", true, None, "tester"));
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::InProgress));
}

#[test]
fn stop_and_wait_lets_running_actions_finish() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e = w.start();
    w.with(|m| m.stop(&e, false, Some("enough".into())))
        .unwrap();
    assert_eq!(w.status(&e), ExecStatus::Stopping);
    assert_eq!(w.stage(&e, "Source"), Some(StageStatus::Stopping));
    let again = w.with(|m| m.stop(&e, false, None)).unwrap_err();
    assert_eq!(again.code, "DuplicatedStopRequestException");
    w.at(1.0);
    assert_eq!(
        w.action(&e, "Source", "Source").status,
        Some(ActionStatus::Succeeded)
    );
    assert_eq!(w.stage(&e, "Source"), Some(StageStatus::Stopped));
    assert_eq!(w.status(&e), ExecStatus::Stopped);
    assert_eq!(w.stage(&e, "Build"), None);
    let finished = w.with(|m| m.stop(&e, true, None)).unwrap_err();
    assert_eq!(finished.code, "PipelineExecutionNotStoppableException");
}

#[test]
fn an_update_cancels_older_executions_once_their_running_actions_finish() {
    let mut w = World::new(four_stages("QUEUED"));
    let running = w.start();
    let waiting = w.start();
    assert_eq!(
        w.stage(&waiting, "Source"),
        None,
        "QUEUED: the second waits"
    );
    let mut next = (*w.decls[&1]).clone();
    next.version = Some(2);
    w.decls.insert(2, std::sync::Arc::new(next));
    w.with(|m| m.pipeline_updated(2));
    assert_eq!(w.status(&waiting), ExecStatus::Cancelled);
    assert_eq!(w.status(&running), ExecStatus::InProgress);
    w.at(1.0);
    assert_eq!(
        w.action(&running, "Source", "Source").status,
        Some(ActionStatus::Succeeded)
    );
    assert_eq!(w.stage(&running, "Source"), Some(StageStatus::Cancelled));
    assert_eq!(w.status(&running), ExecStatus::Cancelled);
    assert_eq!(w.stage(&running, "Build"), None);
    // Executions of the new version are untouched by the update they follow.
    w.with(|m| m.pipeline_updated(2));
    assert_eq!(w.with(|m| m.next_due()), None);
}

#[test]
fn stop_and_abandon_ends_at_once() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.script.by_action.insert("Build".into(), Start::Hang);
    let e = w.start();
    w.at(1.0);
    w.with(|m| m.stop(&e, true, None)).unwrap();
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::Abandoned)
    );
    assert_eq!(w.status(&e), ExecStatus::Stopped);
    assert_eq!(w.with(|m| m.next_due()), None);
}

#[test]
fn retry_resumes_the_same_execution() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.script
        .by_action
        .insert("Build".into(), fail("compile error", 1.0));
    let e = w.start();
    w.at(2.0);
    assert_eq!(w.status(&e), ExecStatus::Failed);
    let err = w.with(|m| m.retry(&e, "Source", false)).unwrap_err();
    assert_eq!(err.code, "StageNotRetryableException");
    w.script.by_action.clear();
    w.with(|m| m.retry(&e, "Build", false)).unwrap();
    assert_eq!(w.status(&e), ExecStatus::InProgress);
    w.at(3.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Succeeded));
    w.approve(true).unwrap();
    w.at(4.0);
    assert_eq!(w.status(&e), ExecStatus::Succeeded);
}

#[test]
fn retry_of_an_older_execution_is_refused() {
    let mut w = World::new(four_stages("PARALLEL"));
    w.script.by_action.insert("Build".into(), fail("boom", 1.0));
    let e1 = w.start();
    let e2 = w.start();
    w.at(2.0);
    assert_eq!(w.status(&e1), ExecStatus::Failed);
    let err = w.with(|m| m.retry(&e1, "Build", true)).unwrap_err();
    assert_eq!(err.code, "NotLatestPipelineExecutionException");
    assert!(w.with(|m| m.retry(&e2, "Build", true)).is_ok());
}

#[test]
fn approvals_reject_and_refuse_bad_tokens() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e = w.start();
    w.at(2.0);
    let wrong = w
        .with(|m| m.approve("Approve", "Approve", "not-the-token", true, "x", "t"))
        .unwrap_err();
    assert_eq!(wrong.code, "InvalidApprovalTokenException");
    let token = w.token("Approve", "Approve");
    w.approve(false).unwrap();
    assert_eq!(w.status(&e), ExecStatus::Failed);
    assert_eq!(
        w.action(&e, "Approve", "Approve")
            .result
            .as_ref()
            .unwrap()
            .summary
            .as_deref(),
        Some("looks good")
    );
    let twice = w
        .with(|m| m.approve("Approve", "Approve", &token, true, "x", "t"))
        .unwrap_err();
    assert_eq!(twice.code, "ApprovalAlreadyCompletedException");
}

#[test]
fn unanswered_approvals_expire_after_seven_days() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    let e = w.start();
    w.at(2.0);
    w.at(2.0 + APPROVAL_TIMEOUT_SECS - 1.0);
    assert_eq!(w.status(&e), ExecStatus::InProgress);
    w.at(2.0 + APPROVAL_TIMEOUT_SECS);
    assert_eq!(w.status(&e), ExecStatus::Failed);
    assert_eq!(
        w.action(&e, "Approve", "Approve").status,
        Some(ActionStatus::Failed)
    );
}

fn job_of(w: &World, e: &str) -> Job {
    w.action(e, "Build", "Build").job.clone().unwrap()
}

#[test]
fn a_job_runs_through_acknowledge_continuation_and_success() {
    use super::machine::JobOutcome;
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.script
        .by_action
        .insert("Build".into(), Start::Job { third_party: false });
    let e = w.start();
    w.at(1.0);
    let job = job_of(&w, &e);
    assert_eq!(job.status, JobStatus::Queued);
    let bad = w.with(|m| m.acknowledge_job(&job.id, "wrong")).unwrap_err();
    assert_eq!(bad.code, "InvalidNonceException");
    assert_eq!(
        w.with(|m| m.acknowledge_job(&job.id, &job.nonce)).unwrap(),
        JobStatus::InProgress
    );
    let progress = JobOutcome::Success {
        summary: Some("half way".into()),
        external_execution_id: Some("ext-1".into()),
        percent_complete: Some(50),
        output_variables: BTreeMap::new(),
        continuation_token: Some("step-2".into()),
        revision: None,
    };
    w.with(|m| m.job_result(&job.id, progress)).unwrap();
    let next = job_of(&w, &e);
    assert_ne!(next.id, job.id);
    assert_eq!(next.continuation_token.as_deref(), Some("step-2"));
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::InProgress)
    );
    let stale = JobOutcome::Failure {
        code: "JobFailed".into(),
        message: "late".into(),
        external_execution_id: None,
    };
    assert_eq!(
        w.with(|m| m.job_result(&job.id, stale)).unwrap_err().code,
        "JobNotFoundException"
    );
    let done = JobOutcome::Success {
        summary: Some("built".into()),
        external_execution_id: Some("ext-2".into()),
        percent_complete: None,
        output_variables: BTreeMap::from([("Version".into(), "7".into())]),
        continuation_token: None,
        revision: None,
    };
    w.with(|m| m.job_result(&next.id, done)).unwrap();
    let run = w.action(&e, "Build", "Build");
    assert_eq!(run.status, Some(ActionStatus::Succeeded));
    assert_eq!(
        run.result.as_ref().unwrap().output_variables["Version"],
        "7"
    );
    assert_eq!(w.stage(&e, "Approve"), Some(StageStatus::InProgress));
}

#[test]
fn a_job_failure_fails_the_action() {
    use super::machine::JobOutcome;
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.script
        .by_action
        .insert("Build".into(), Start::Job { third_party: true });
    let e = w.start();
    w.at(1.0);
    let job = job_of(&w, &e);
    assert!(job.client_id.is_some());
    let failure = JobOutcome::Failure {
        code: "JobFailed".into(),
        message: "worker said no".into(),
        external_execution_id: None,
    };
    w.with(|m| m.job_result(&job.id, failure)).unwrap();
    assert_eq!(w.status(&e), ExecStatus::Failed);
    assert_eq!(w.exec(&e).status_summary.as_deref(), Some("worker said no"));
    let again = JobOutcome::Failure {
        code: "JobFailed".into(),
        message: "x".into(),
        external_execution_id: None,
    };
    assert_eq!(
        w.with(|m| m.job_result(&job.id, again)).unwrap_err().code,
        "InvalidJobStateException"
    );
}

#[test]
fn rollback_runs_one_stage_again_with_an_earlier_executions_artifacts() {
    let mut w = World::new(four_stages("PARALLEL"));
    w.script.by_action.insert(
        "Approve".into(),
        Start::After {
            seconds: 1.0,
            result: Box::default(),
        },
    );
    let e1 = w.start();
    w.at(4.0);
    assert_eq!(w.status(&e1), ExecStatus::Succeeded);
    let e2 = w.start();
    w.at(8.0);
    assert_eq!(w.status(&e2), ExecStatus::Succeeded);
    let target = w.exec(&e1).clone();
    let trigger = Trigger {
        trigger_type: "ManualRollback".into(),
        trigger_detail: "t".into(),
    };
    let r = w
        .with(|m| m.rollback(1, "Deploy", &target, trigger.clone()))
        .unwrap();
    let rollback = w.exec(&r);
    assert_eq!(rollback.execution_type, "ROLLBACK");
    assert_eq!(rollback.rollback_target.as_deref(), Some(e1.as_str()));
    assert_eq!(rollback.artifacts, target.artifacts);
    assert_eq!(
        w.stage(&r, "Source"),
        None,
        "only the rolled-back stage runs"
    );
    w.at(9.0);
    assert_eq!(w.status(&r), ExecStatus::Succeeded);
    assert_eq!(w.stage(&r, "Deploy"), Some(StageStatus::Succeeded));
    // Deploy now runs e1's artifacts again: rolling back to it once more has nothing to do.
    let again = w
        .with(|m| m.rollback(1, "Deploy", &target, trigger.clone()))
        .unwrap_err();
    assert_eq!(again.code, "UnableToRollbackStageException");
    let mut other_version = target.clone();
    other_version.pipeline_version = 2;
    let err = w
        .with(|m| m.rollback(1, "Deploy", &other_version, trigger))
        .unwrap_err();
    assert_eq!(err.code, "UnableToRollbackStageException");
}

/// `four_stages` with `block` (a `beforeEntry`/`onSuccess`/`onFailure` JSON) on the Build stage.
fn with_condition(key: &str, block: serde_json::Value) -> PipelineDeclaration {
    let mut d = four_stages("SUPERSEDED");
    let v = Some(block);
    match key {
        "beforeEntry" => d.stages[1].before_entry = v,
        "onSuccess" => d.stages[1].on_success = v,
        _ => d.stages[1].on_failure = v,
    }
    d
}

fn variable_rule(name: &str, value: &str) -> serde_json::Value {
    json!({"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
           "configuration": {"Variable": "#{SourceVars.Config}", "Value": value, "Operator": "EQ"}})
}

#[test]
fn before_entry_conditions_gate_fail_or_skip_the_stage() {
    let pass =
        json!({"conditions": [{"result": "FAIL", "rules": [variable_rule("Check", "b,k")]}]});
    let mut w = World::new(with_condition("beforeEntry", pass));
    let e = w.start();
    w.at(1.0);
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::InProgress)
    );
    let runs = &w.exec(&e).stage("Build").unwrap().conditions;
    assert_eq!(
        (runs.len(), runs[0].status),
        (1, ConditionStatus::Succeeded)
    );

    let fail =
        json!({"conditions": [{"result": "FAIL", "rules": [variable_rule("Check", "other")]}]});
    let mut w = World::new(with_condition("beforeEntry", fail));
    let e = w.start();
    w.at(1.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Failed));
    assert_eq!(w.status(&e), ExecStatus::Failed);
    assert!(w
        .exec(&e)
        .status_summary
        .as_deref()
        .unwrap()
        .contains("Variable check failed"));
    assert_eq!(w.action(&e, "Build", "Build").status, None);

    let skip =
        json!({"conditions": [{"result": "SKIP", "rules": [variable_rule("Check", "other")]}]});
    let mut w = World::new(with_condition("beforeEntry", skip));
    let e = w.start();
    w.at(1.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Skipped));
    assert_eq!(w.stage(&e, "Approve"), Some(StageStatus::InProgress));
}

#[test]
fn a_hanging_rule_waits_until_the_condition_is_overridden() {
    use super::model::ConditionKind;
    let block = json!({"conditions": [{"result": "FAIL", "rules": [variable_rule("Alarm", "x")]}]});
    let mut w = World::new(with_condition("beforeEntry", block));
    w.script
        .rules
        .insert("Alarm".into(), super::rule_eval::RuleOutcome::Hang);
    let e = w.start();
    w.at(5.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::InProgress));
    assert_eq!(w.action(&e, "Build", "Build").status, None);
    let wrong = w
        .with(|m| m.override_condition("Build", &e, ConditionKind::OnSuccess))
        .unwrap_err();
    assert_eq!(wrong.code, "ConditionNotOverridableException");
    w.with(|m| m.override_condition("Build", &e, ConditionKind::BeforeEntry))
        .unwrap();
    assert_eq!(
        w.exec(&e).stage("Build").unwrap().conditions[0].status,
        ConditionStatus::Overridden
    );
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::InProgress)
    );
}

#[test]
fn on_failure_retry_retries_once_and_rollback_asks_for_the_last_deployment() {
    let retry = json!({"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}});
    let mut w = World::new(with_condition("onFailure", retry));
    w.script.fail_once.insert("Build".into(), "flaky".into());
    let e = w.start();
    w.at(3.0);
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Succeeded));
    let stage = w.exec(&e).stage("Build").unwrap();
    assert_eq!((stage.auto_retries, stage.history.len()), (1, 1));

    let rollback = json!({"result": "ROLLBACK"});
    let mut w = World::new(with_condition("onFailure", rollback));
    let first = w.start();
    w.at(2.0);
    assert_eq!(w.stage(&first, "Build"), Some(StageStatus::Succeeded));
    w.script
        .by_action
        .insert("Build".into(), fail("broken", 1.0));
    let second = w.start();
    w.at(10.0);
    assert_eq!(w.status(&second), ExecStatus::Failed);
    assert_eq!(w.rollbacks, vec![("Build".to_owned(), first)]);
}

#[test]
fn on_success_conditions_can_fail_a_succeeded_stage() {
    let block =
        json!({"conditions": [{"result": "FAIL", "rules": [variable_rule("Check", "nope")]}]});
    let mut w = World::new(with_condition("onSuccess", block));
    let e = w.start();
    w.at(2.0);
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::Succeeded)
    );
    assert_eq!(w.stage(&e, "Build"), Some(StageStatus::Failed));
    assert_eq!(w.status(&e), ExecStatus::Failed);
}

#[test]
fn a_real_providers_task_ends_the_action_with_its_result_once() {
    let mut w = World::new(four_stages("SUPERSEDED"));
    w.script.by_action.insert("Build".into(), Start::Task);
    let e = w.start();
    w.at(1.0);
    let run = w.action(&e, "Build", "Build");
    assert_eq!(run.status, Some(ActionStatus::InProgress));
    assert!(run.task, "the engine starts a task for it");
    assert_eq!(run.due, None, "only the task ends it");
    let id = run.action_execution_id.clone().unwrap();
    // A result for another action execution changes nothing.
    w.with(|m| m.task_finished(&e, "someone-else", ActionResult::default()));
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::InProgress)
    );
    // What the task reports while it runs shows at once, and the action keeps running.
    let building = ActionResult {
        external_execution_id: Some("app:1234".into()),
        ..ActionResult::default()
    };
    w.with(|m| m.task_progress(&e, &id, building.clone()));
    let run = w.action(&e, "Build", "Build");
    assert_eq!(run.status, Some(ActionStatus::InProgress));
    assert_eq!(run.progress, Some(building.clone()));
    let latest = &w.runtime.action_latest["Build/Build"].run;
    assert_eq!(
        latest.progress,
        Some(building.clone()),
        "GetPipelineState shows it"
    );
    let failed = ActionResult {
        error: Some(ErrorDetails {
            code: "JobFailed".into(),
            message: "entry outside its prefix".into(),
        }),
        ..ActionResult::default()
    };
    w.with(|m| m.task_finished(&e, &id, failed.clone()));
    w.at(1.0);
    assert_eq!(
        w.action(&e, "Build", "Build").status,
        Some(ActionStatus::Failed)
    );
    assert_eq!(w.status(&e), ExecStatus::Failed);
    // A late second report of the same task is ignored, and so is late progress.
    w.with(|m| m.task_finished(&e, &id, ActionResult::default()));
    assert_eq!(w.status(&e), ExecStatus::Failed);
    w.with(|m| m.task_progress(&e, &id, building.clone()));
    assert_eq!(w.action(&e, "Build", "Build").result, Some(failed.clone()));
}

#[test]
fn start_tokens_are_kept_for_the_newest_starts_only() {
    let mut runtime = PipelineRuntime::default();
    // As a record written before the order was kept would read.
    runtime.client_tokens.insert("legacy".into(), "old".into());
    for i in 0..CLIENT_TOKENS_KEPT + 50 {
        runtime.remember_client_token(format!("t{i}"), format!("e{i}"));
    }
    runtime.remember_client_token("t149".into(), "e149".into());
    assert_eq!(runtime.client_tokens.len(), CLIENT_TOKENS_KEPT);
    assert_eq!(runtime.client_token_order.len(), CLIENT_TOKENS_KEPT);
    assert!(!runtime.client_tokens.contains_key("legacy"));
    assert!(!runtime.client_tokens.contains_key("t49"));
    assert_eq!(runtime.client_tokens["t50"], "e50");
    assert_eq!(runtime.client_tokens["t149"], "e149");
}
