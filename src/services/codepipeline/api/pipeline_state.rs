//! GetPipelineState: each stage's latest execution, inbound executions and transition, each
//! action's latest execution and revision, and condition states, rendered once per change and
//! served from the reply cache (`cached`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::present;
use crate::call::Context;
use crate::error::AwsError;
use crate::services::codepipeline::domain::action_types::Catalog;
use crate::services::codepipeline::records as repo;
use crate::services::codepipeline::service::pipeline;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StateInput {
    pub name: String,
}

pub async fn state_of(
    state: &AppState,
    ctx: &Context,
    input: StateInput,
) -> Result<Value, AwsError> {
    let record = pipeline(state, ctx, &input.name)?;
    let store = state.store.as_ref();
    let runtime = repo::load_runtime(store, &ctx.account, &ctx.region, &input.name)?;
    let active = repo::load_active(store, &ctx.account, &ctx.region, &input.name)?;
    let decl = &record.declaration;
    let custom = repo::load_custom_action_types(store, &ctx.account, &ctx.region)?;
    let catalog = Catalog::new(&custom);
    let mut stages = Vec::new();
    let mut executions = std::collections::HashMap::new();
    for (i, stage) in decl.stages.iter().enumerate() {
        let mut s = json!({ "stageName": stage.name });
        if i > 0 {
            s["inboundTransitionState"] = present::transition(runtime.transitions.get(&stage.name));
        }
        let inbound = present::inbound(&stage.name, &active);
        if let Some(first) = inbound.first() {
            s["inboundExecution"] = first.clone();
            s["inboundExecutions"] = json!(inbound);
        }
        let actions: Vec<Value> = stage
            .actions
            .iter()
            .map(|a| {
                let mut v = json!({ "actionName": a.name });
                let config = a.configuration.clone().unwrap_or_default();
                if let Some(url) = catalog
                    .find(&a.action_type_id)
                    .and_then(|t| t.entity_url(&config, &ctx.region))
                {
                    v["entityUrl"] = json!(url);
                }
                if let Some(latest) = runtime
                    .action_latest
                    .get(&format!("{}/{}", stage.name, a.name))
                {
                    v["latestExecution"] = present::action_execution(&latest.run);
                    if let Some(r) = &latest.current_revision {
                        v["currentRevision"] = present::revision(r);
                    }
                }
                v
            })
            .collect();
        s["actionStates"] = json!(actions);
        let has_conditions = stage.before_entry.is_some()
            || stage.on_success.is_some()
            || stage.on_failure.is_some();
        if let Some((id, _)) = runtime
            .stage_latest
            .get(&stage.name)
            .filter(|_| has_conditions)
        {
            // Condition states come from the execution that last entered the stage. Reading a
            // whole execution is the dearest part of this call, so only stages with conditions
            // do it, and each execution is read once.
            if !executions.contains_key(id) {
                let e = repo::load_execution(store, &ctx.account, &ctx.region, &input.name, id)?;
                executions.insert(id.clone(), e);
            }
            if let Some(Some(e)) = executions.get(id) {
                super::conditions::condition_states(e, &stage.name, &mut s);
            }
        }
        if let Some((id, status)) = runtime.stage_latest.get(&stage.name) {
            s["latestExecution"] =
                json!({ "pipelineExecutionId": id, "status": status, "type": "STANDARD" });
        }
        stages.push(s);
    }
    Ok(json!({
        "pipelineName": decl.name,
        "pipelineVersion": decl.version,
        "stageStates": stages,
        "created": record.created,
        "updated": record.updated,
    }))
}
