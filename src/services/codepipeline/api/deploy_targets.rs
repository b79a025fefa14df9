//! ListDeployActionExecutionTargets: where a deploy action execution deployed.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::records as repo;
use crate::services::paging;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TargetFilter {
    name: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetsInput {
    pipeline_name: Option<String>,
    action_execution_id: String,
    #[serde(default)]
    filters: Vec<TargetFilter>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

pub async fn list(state: &AppState, ctx: &Context, input: TargetsInput) -> Result<Value, AwsError> {
    let store = state.store.as_ref();
    if let Some(name) = &input.pipeline_name {
        crate::services::codepipeline::service::pipeline(state, ctx, name)?;
    }
    let not_found = || {
        AwsError::new(
            codes::ACTION_EXECUTION_NOT_FOUND,
            format!(
                "Action execution {} was not found",
                input.action_execution_id
            ),
        )
    };
    let index = repo::load_action_execution_index(
        store,
        &ctx.account,
        &ctx.region,
        &input.action_execution_id,
    )?
    .filter(|i| {
        input
            .pipeline_name
            .as_ref()
            .is_none_or(|p| p == &i.pipeline)
    })
    .ok_or_else(not_found)?;
    let e = repo::load_execution(
        store,
        &ctx.account,
        &ctx.region,
        &index.pipeline,
        &index.execution_id,
    )?
    .ok_or_else(not_found)?;
    let run = e
        .stages
        .iter()
        .flat_map(|s| s.actions.iter().chain(&s.history))
        .find(|a| a.action_execution_id.as_deref() == Some(input.action_execution_id.as_str()))
        .ok_or_else(not_found)?;
    let statuses: Vec<&String> = input
        .filters
        .iter()
        .filter(|f| f.name.as_deref() == Some("TARGET_STATUS"))
        .flat_map(|f| &f.values)
        .collect();
    let targets: Vec<Value> = run
        .result
        .iter()
        .flat_map(|r| &r.targets)
        .filter(|t| statuses.is_empty() || statuses.contains(&&t.status))
        .map(|t| {
            json!({
                "targetId": t.target_id,
                "targetType": t.target_type,
                "status": t.status,
                "startTime": t.start_time,
                "endTime": t.end_time,
                "events": t.events.iter().map(|ev| json!({
                    "name": ev.name, "status": ev.status, "startTime": ev.start_time, "endTime": ev.end_time,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    paging::page_of(
        "targets",
        &targets,
        input.next_token.as_deref(),
        input.max_results.unwrap_or(100),
    )
}
