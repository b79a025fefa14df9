//! One module per operation family: each handler reads its typed input, loads records, asks the
//! domain, persists, and shapes the reply. Rules live in `domain`, never here.

mod action_types;
mod approvals;
mod cached;
mod conditions;
mod deploy_targets;
pub mod executions;
mod jobs;

mod pipeline_state;
mod pipelines;
mod present;
mod revisions;
mod rollback;
mod tags;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::call::{Context, Handler, HandlerFuture, Reply};
use crate::state::AppState;

use crate::json_op;

/// CodePipeline's operations and their handlers: every operation of the model has one.
pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HashMap::from([
            ("GetPipeline", get_pipeline as Handler),
            ("GetPipelineState", get_pipeline_state as Handler),
            ("CreatePipeline", json_op!(pipelines::create)),
            ("UpdatePipeline", json_op!(pipelines::update)),
            ("DeletePipeline", json_op!(pipelines::delete)),
            ("ListPipelines", json_op!(pipelines::list)),
            ("TagResource", json_op!(tags::tag)),
            ("UntagResource", json_op!(tags::untag)),
            ("ListTagsForResource", json_op!(tags::list)),
            ("CreateCustomActionType", json_op!(action_types::create)),
            ("DeleteCustomActionType", json_op!(action_types::delete)),
            ("ListActionTypes", json_op!(action_types::list)),
            ("GetActionType", json_op!(action_types::get)),
            ("UpdateActionType", json_op!(action_types::update)),
            ("ListRuleTypes", json_op!(action_types::list_rule_types)),
            ("StartPipelineExecution", json_op!(executions::start)),
            ("GetPipelineExecution", json_op!(executions::get)),
            ("ListPipelineExecutions", json_op!(executions::list)),
            ("StopPipelineExecution", json_op!(executions::stop)),
            ("RetryStageExecution", json_op!(executions::retry)),
            ("ListActionExecutions", json_op!(executions::list_actions)),
            (
                "PutApprovalResult",
                json_op!(approvals::put_approval_result),
            ),
            (
                "EnableStageTransition",
                json_op!(approvals::set_transition, true),
            ),
            (
                "DisableStageTransition",
                json_op!(approvals::set_transition, false),
            ),
            (
                "PutActionRevision",
                json_op!(revisions::put_action_revision),
            ),
            (
                "ListDeployActionExecutionTargets",
                json_op!(deploy_targets::list),
            ),
            ("RollbackStage", json_op!(rollback::rollback_stage)),
            (
                "OverrideStageCondition",
                json_op!(conditions::override_stage_condition),
            ),
            (
                "ListRuleExecutions",
                json_op!(conditions::list_rule_executions),
            ),
            ("PutWebhook", json_op!(webhooks::put)),
            ("ListWebhooks", json_op!(webhooks::list)),
            ("DeleteWebhook", json_op!(webhooks::delete)),
            (
                "RegisterWebhookWithThirdParty",
                json_op!(webhooks::set_registered, true),
            ),
            (
                "DeregisterWebhookWithThirdParty",
                json_op!(webhooks::set_registered, false),
            ),
            ("PollForJobs", json_op!(jobs::poll_for_jobs)),
            (
                "PollForThirdPartyJobs",
                json_op!(jobs::poll_for_third_party_jobs),
            ),
            ("GetJobDetails", json_op!(jobs::get_job_details)),
            ("GetThirdPartyJobDetails", json_op!(jobs::get_job_details)),
            ("AcknowledgeJob", json_op!(jobs::acknowledge)),
            ("AcknowledgeThirdPartyJob", json_op!(jobs::acknowledge)),
            ("PutJobSuccessResult", json_op!(jobs::put_success)),
            ("PutThirdPartyJobSuccessResult", json_op!(jobs::put_success)),
            ("PutJobFailureResult", json_op!(jobs::put_failure)),
            ("PutThirdPartyJobFailureResult", json_op!(jobs::put_failure)),
        ])
    })
}

/// The two hottest reads are served from the reply cache.
fn get_pipeline(state: Arc<AppState>, ctx: Context, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let input: pipelines::GetInput = parse(input)?;
        if input.version.is_some() {
            return pipelines::get(&state, &ctx, input).await.map(Reply::Json);
        }
        let name = input.name.clone();
        let render = pipelines::get(&state, &ctx, input);
        cached::cached(&state, &ctx, "GetPipeline", &name, render).await
    })
}

fn get_pipeline_state(state: Arc<AppState>, ctx: Context, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let input: pipeline_state::StateInput = parse(input)?;
        let name = input.name.clone();
        let render = pipeline_state::state_of(&state, &ctx, input);
        cached::cached(&state, &ctx, "GetPipelineState", &name, render).await
    })
}

/// Input has already passed model validation, so a failure here is a type the model allows
/// but our typed view does not; it is still the caller's input, so it answers 400.
use crate::call::parse;

/// Now, as AWS writes timestamps: epoch seconds with milliseconds.
pub fn now() -> f64 {
    let ms = chrono::Utc::now().timestamp_millis();
    ms as f64 / 1000.0
}
