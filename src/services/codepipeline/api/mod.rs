//! One module per operation family: each handler reads its typed input, loads records, asks the
//! domain, persists, and shapes the reply. Rules live in `domain`, never here.

mod action_types;
mod approvals;
mod cached;
mod conditions;
mod deploy_targets;
pub mod executions;
mod jobs;
mod pipelines;
mod present;
mod revisions;
mod rollback;
mod tags;
pub mod webhooks;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AwsError;
use crate::state::AppState;
use crate::wire::Context;
pub use cached::Reply;

/// The operations this build implements; every other operation of the model answers
/// `NotImplementedException` naming it.
pub const IMPLEMENTED: &[&str] = &[
    "AcknowledgeJob",
    "AcknowledgeThirdPartyJob",
    "CreateCustomActionType",
    "CreatePipeline",
    "DeleteCustomActionType",
    "DeletePipeline",
    "DeleteWebhook",
    "DeregisterWebhookWithThirdParty",
    "DisableStageTransition",
    "EnableStageTransition",
    "GetActionType",
    "GetJobDetails",
    "GetPipeline",
    "GetPipelineExecution",
    "GetPipelineState",
    "GetThirdPartyJobDetails",
    "ListActionExecutions",
    "ListActionTypes",
    "ListDeployActionExecutionTargets",
    "ListPipelineExecutions",
    "ListPipelines",
    "ListRuleExecutions",
    "ListRuleTypes",
    "ListTagsForResource",
    "ListWebhooks",
    "OverrideStageCondition",
    "PollForJobs",
    "PollForThirdPartyJobs",
    "PutActionRevision",
    "PutApprovalResult",
    "PutJobFailureResult",
    "PutJobSuccessResult",
    "PutThirdPartyJobFailureResult",
    "PutThirdPartyJobSuccessResult",
    "PutWebhook",
    "RegisterWebhookWithThirdParty",
    "RetryStageExecution",
    "RollbackStage",
    "StartPipelineExecution",
    "StopPipelineExecution",
    "TagResource",
    "UntagResource",
    "UpdateActionType",
    "UpdatePipeline",
];

pub async fn dispatch(
    state: &AppState,
    ctx: &Context,
    operation: &str,
    input: Value,
) -> Result<Reply, AwsError> {
    // The two hottest reads are served from the reply cache.
    match operation {
        "GetPipeline" => {
            let input: pipelines::GetInput = parse(input)?;
            if input.version.is_some() {
                return pipelines::get(state, ctx, input).await.map(Reply::Json);
            }
            let name = input.name.clone();
            cached::cached(
                state,
                ctx,
                "GetPipeline",
                &name,
                pipelines::get(state, ctx, input),
            )
            .await
        }
        "GetPipelineState" => {
            let input: executions::StateInput = parse(input)?;
            let name = input.name.clone();
            let render = executions::state_of(state, ctx, input);
            cached::cached(state, ctx, "GetPipelineState", &name, render).await
        }
        // Boxed, so the hot reads above do not carry (and copy) the largest handler's state.
        _ => Box::pin(dispatch_json(state, ctx, operation, input))
            .await
            .map(Reply::Json),
    }
}

async fn dispatch_json(
    state: &AppState,
    ctx: &Context,
    operation: &str,
    input: Value,
) -> Result<Value, AwsError> {
    match operation {
        "CreatePipeline" => pipelines::create(state, ctx, parse(input)?).await,
        "UpdatePipeline" => pipelines::update(state, ctx, parse(input)?).await,
        "DeletePipeline" => pipelines::delete(state, ctx, parse(input)?).await,
        "ListPipelines" => pipelines::list(state, ctx, parse(input)?).await,
        "TagResource" => tags::tag(state, ctx, parse(input)?).await,
        "UntagResource" => tags::untag(state, ctx, parse(input)?).await,
        "ListTagsForResource" => tags::list(state, ctx, parse(input)?).await,
        "CreateCustomActionType" => action_types::create(state, ctx, parse(input)?).await,
        "DeleteCustomActionType" => action_types::delete(state, ctx, parse(input)?).await,
        "ListActionTypes" => action_types::list(state, ctx, parse(input)?).await,
        "GetActionType" => action_types::get(state, ctx, parse(input)?).await,
        "StartPipelineExecution" => executions::start(state, ctx, parse(input)?).await,
        "GetPipelineExecution" => executions::get(state, ctx, parse(input)?).await,
        "ListPipelineExecutions" => executions::list(state, ctx, parse(input)?).await,
        "StopPipelineExecution" => executions::stop(state, ctx, parse(input)?).await,
        "RetryStageExecution" => executions::retry(state, ctx, parse(input)?).await,
        "ListActionExecutions" => executions::list_actions(state, ctx, parse(input)?).await,
        "PutApprovalResult" => approvals::put_approval_result(state, ctx, parse(input)?).await,
        "EnableStageTransition" => approvals::set_transition(state, ctx, parse(input)?, true).await,
        "DisableStageTransition" => {
            approvals::set_transition(state, ctx, parse(input)?, false).await
        }
        "PutActionRevision" => revisions::put_action_revision(state, ctx, parse(input)?).await,
        "ListDeployActionExecutionTargets" => deploy_targets::list(state, ctx, parse(input)?).await,
        "ListRuleTypes" => action_types::list_rule_types(state, ctx, parse(input)?).await,
        "RollbackStage" => rollback::rollback_stage(state, ctx, parse(input)?).await,
        "UpdateActionType" => action_types::update(state, ctx, parse(input)?).await,
        "OverrideStageCondition" => {
            conditions::override_stage_condition(state, ctx, parse(input)?).await
        }
        "ListRuleExecutions" => conditions::list_rule_executions(state, ctx, parse(input)?).await,
        "PutWebhook" => webhooks::put(state, ctx, parse(input)?).await,
        "ListWebhooks" => webhooks::list(state, ctx, parse(input)?).await,
        "DeleteWebhook" => webhooks::delete(state, ctx, parse(input)?).await,
        "RegisterWebhookWithThirdParty" => {
            webhooks::set_registered(state, ctx, parse(input)?, true).await
        }
        "DeregisterWebhookWithThirdParty" => {
            webhooks::set_registered(state, ctx, parse(input)?, false).await
        }
        "PollForJobs" => jobs::poll_for_jobs(state, ctx, parse(input)?).await,
        "PollForThirdPartyJobs" => jobs::poll_for_third_party_jobs(state, ctx, parse(input)?).await,
        "GetJobDetails" | "GetThirdPartyJobDetails" => {
            jobs::get_job_details(state, ctx, parse(input)?).await
        }
        "AcknowledgeJob" | "AcknowledgeThirdPartyJob" => {
            jobs::acknowledge(state, ctx, parse(input)?).await
        }
        "PutJobSuccessResult" | "PutThirdPartyJobSuccessResult" => {
            jobs::put_success(state, ctx, parse(input)?).await
        }
        "PutJobFailureResult" | "PutThirdPartyJobFailureResult" => {
            jobs::put_failure(state, ctx, parse(input)?).await
        }
        other => Err(AwsError::new(
            "NotImplementedException",
            format!("codepipeline-local does not implement {other} yet"),
        )
        .with_status(axum::http::StatusCode::NOT_IMPLEMENTED)),
    }
}

/// Input has already passed model validation, so a failure here is a type the model allows
/// but our typed view does not; it is still the caller's input, so it answers 400.
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| AwsError::serialization(e.to_string()))
}

/// Now, as AWS writes timestamps: epoch seconds with milliseconds.
pub fn now() -> f64 {
    let ms = chrono::Utc::now().timestamp_millis();
    ms as f64 / 1000.0
}

/// Opaque page tokens: the key a page ended on, hex-encoded so a token never looks like a name.
mod page_token {
    use crate::error::AwsError;

    pub fn encode(last: &str) -> String {
        last.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(token: &str) -> Result<String, AwsError> {
        let invalid = || AwsError::new("InvalidNextTokenException", "The next token is not valid");
        if !token.len().is_multiple_of(2) {
            return Err(invalid());
        }
        let bytes: Result<Vec<u8>, _> = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(token.get(i..i + 2).unwrap_or("zz"), 16))
            .collect();
        String::from_utf8(bytes.map_err(|_| invalid())?).map_err(|_| invalid())
    }
}
