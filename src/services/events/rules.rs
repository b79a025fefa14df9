//! PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, PutTargets,
//! RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget and TestEventPattern, on the default
//! event bus of each account and region. A rule's pattern is checked by the same parser the
//! delivery uses, so what PutRule accepts is what matches.

use serde::Deserialize;
use serde_json::{json, Value};

use super::pattern::Pattern;
use super::records::{self, RuleRecord};
use super::schedule::Schedule;
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::paging;
use crate::state::AppState;

pub const DEFAULT_BUS: &str = "default";

pub fn rule_arn(ctx: &Context, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{}:{}:rule/{name}", ctx.region, ctx.account)
    } else {
        format!(
            "arn:aws:events:{}:{}:rule/{bus}/{name}",
            ctx.region, ctx.account
        )
    }
}

/// The bus a request names (by name or ARN), which must exist.
fn bus_of(state: &AppState, ctx: &Context, name: Option<&str>) -> Result<String, AwsError> {
    let bus = name
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
        .unwrap_or_else(|| DEFAULT_BUS.to_owned());
    if !super::buses::exists(state, ctx, &bus)? {
        return Err(AwsError::new(
            codes::RESOURCE_NOT_FOUND,
            format!("Event bus {bus} does not exist."),
        ));
    }
    Ok(bus)
}

fn rule_missing(name: &str, bus: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Rule {name} does not exist on EventBus {bus}."),
    )
}

pub fn invalid_pattern(reason: &str) -> AwsError {
    AwsError::new(
        "InvalidEventPatternException",
        format!("Event pattern is not valid. Reason: {reason}"),
    )
}

fn require(state: &AppState, ctx: &Context, bus: &str, name: &str) -> Result<RuleRecord, AwsError> {
    records::load(state.store.as_ref(), &ctx.account, &ctx.region, bus, name)?
        .ok_or_else(|| rule_missing(name, bus))
}

/// A read-modify-write of one rule, the rules' generation bumped once it is applied.
async fn change(
    state: &AppState,
    ctx: &Context,
    bus: &str,
    name: &str,
    f: impl FnOnce(&mut RuleRecord) -> Result<(), AwsError>,
) -> Result<RuleRecord, AwsError> {
    let rule = state
        .mutate(|store| {
            let mut rule = records::load(store, &ctx.account, &ctx.region, bus, name)?
                .ok_or_else(|| rule_missing(name, bus))?;
            f(&mut rule)?;
            store.apply(vec![records::write(&ctx.account, &ctx.region, &rule)?])?;
            Ok(rule)
        })
        .await?;
    records::touched();
    state.engine.poke();
    Ok(rule)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRuleInput {
    name: String,
    schedule_expression: Option<String>,
    event_pattern: Option<String>,
    state: Option<String>,
    description: Option<String>,
    role_arn: Option<String>,
    #[serde(default)]
    tags: Vec<Value>,
    event_bus_name: Option<String>,
}

pub async fn put_rule(
    state: &AppState,
    ctx: &Context,
    input: PutRuleInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    if input.event_pattern.is_none() && input.schedule_expression.is_none() {
        return Err(AwsError::validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    if let Some(p) = &input.event_pattern {
        Pattern::parse(p).map_err(|reason| invalid_pattern(&reason))?;
    }
    if let Some(s) = &input.schedule_expression {
        Schedule::parse(s)
            .map_err(|_| AwsError::validation("Parameter ScheduleExpression is not valid."))?;
    }
    let name = input.name.clone();
    state
        .mutate(|store| {
            let mut rule = records::load(store, &ctx.account, &ctx.region, &bus, &name)?
                .unwrap_or_else(|| RuleRecord::new(&name, &bus));
            rule.event_pattern = input.event_pattern.clone();
            rule.schedule_expression = input.schedule_expression.clone();
            rule.state = input.state.clone().unwrap_or_else(|| "ENABLED".to_owned());
            rule.description = input.description.clone();
            rule.role_arn = input.role_arn.clone();
            if !input.tags.is_empty() {
                rule.tags = input.tags.clone();
            }
            store.apply(vec![records::write(&ctx.account, &ctx.region, &rule)?])?;
            Ok(())
        })
        .await?;
    records::touched();
    // Schedules are the engine's timers: it looks again for the next one due.
    state.engine.poke();
    Ok(json!({ "RuleArn": rule_arn(ctx, &bus, &name) }))
}

fn describe(ctx: &Context, rule: &RuleRecord) -> Value {
    let mut v = json!({
        "Name": rule.name,
        "Arn": rule_arn(ctx, &rule.bus, &rule.name),
        "State": rule.state,
        "EventBusName": rule.bus,
        "CreatedBy": ctx.account,
    });
    for (k, field) in [
        ("EventPattern", &rule.event_pattern),
        ("ScheduleExpression", &rule.schedule_expression),
        ("Description", &rule.description),
        ("RoleArn", &rule.role_arn),
    ] {
        if let Some(x) = field {
            v[k] = json!(x);
        }
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    name: String,
    event_bus_name: Option<String>,
}

pub async fn describe_rule(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let rule = require(state, ctx, &bus, &input.name)?;
    Ok(describe(ctx, &rule))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn list_rules(
    state: &AppState,
    ctx: &Context,
    input: ListInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let rules: Vec<Value> = records::all(state.store.as_ref(), &ctx.account, &ctx.region, &bus)?
        .iter()
        .filter(|r| {
            input
                .name_prefix
                .as_deref()
                .is_none_or(|p| r.name.starts_with(p))
        })
        .map(|r| {
            let mut v = describe(ctx, r);
            // `Rule` in a listing has no `CreatedBy`.
            if let Some(m) = v.as_object_mut() {
                m.remove("CreatedBy");
            }
            v
        })
        .collect();
    page("Rules", &rules, input.next_token, input.limit)
}

/// A page of an EventBridge list: `NextToken`, `Limit` (100 unless given).
pub(super) fn page(
    member: &str,
    items: &[Value],
    token: Option<String>,
    limit: Option<usize>,
) -> Result<Value, AwsError> {
    let limit = limit.unwrap_or(100).max(1);
    paging::page_named(member, "NextToken", items, token.as_deref(), limit)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    name: String,
    event_bus_name: Option<String>,
    #[serde(default)]
    force: bool,
}

pub async fn delete_rule(
    state: &AppState,
    ctx: &Context,
    input: DeleteInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let _ = input.force;
    state
        .mutate(|store| {
            let Some(rule) = records::load(store, &ctx.account, &ctx.region, &bus, &input.name)?
            else {
                return Ok(());
            };
            if !rule.targets.is_empty() {
                return Err(AwsError::validation(
                    "Rule can't be deleted since it has targets.",
                ));
            }
            store.apply(vec![records::delete(
                &ctx.account,
                &ctx.region,
                &bus,
                &input.name,
            )])?;
            Ok(())
        })
        .await?;
    records::touched();
    Ok(json!({}))
}

pub async fn enable_rule(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    set_state(state, ctx, input, "ENABLED").await
}

pub async fn disable_rule(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    set_state(state, ctx, input, "DISABLED").await
}

async fn set_state(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
    to: &str,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    change(state, ctx, &bus, &input.name, |r| {
        r.state = to.to_owned();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutTargetsInput {
    rule: String,
    event_bus_name: Option<String>,
    targets: Vec<Value>,
}

/// The most targets a rule may have.
const MAX_TARGETS: usize = 5;

pub async fn put_targets(
    state: &AppState,
    ctx: &Context,
    input: PutTargetsInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let mut failed = Vec::new();
    change(state, ctx, &bus, &input.rule, |r| {
        for target in &input.targets {
            let id = target["Id"].as_str().unwrap_or_default();
            if let Some(path) = target["InputPath"].as_str() {
                if serde_json_path::JsonPath::parse(path).is_err() {
                    failed.push(json!({"TargetId": id, "ErrorCode": "ValidationException", "ErrorMessage": format!("InputPath {path} is not valid.")}));
                    continue;
                }
            }
            let arn = target["Arn"].as_str().unwrap_or_default();
            if !super::delivery::delivered_here(arn) {
                tracing::info!(rule = %input.rule, target = arn, "target kept; {}", super::delivery::NOT_DELIVERED);
            }
            r.targets.retain(|t| t["Id"] != target["Id"]);
            r.targets.push(target.clone());
        }
        if r.targets.len() > MAX_TARGETS {
            return Err(AwsError::new(
                codes::LIMIT_EXCEEDED,
                "The requested resource exceeds the maximum number allowed.",
            ));
        }
        Ok(())
    })
    .await?;
    Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTargetsInput {
    rule: String,
    event_bus_name: Option<String>,
    ids: Vec<String>,
}

pub async fn remove_targets(
    state: &AppState,
    ctx: &Context,
    input: RemoveTargetsInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    change(state, ctx, &bus, &input.rule, |r| {
        r.targets
            .retain(|t| !input.ids.iter().any(|id| t["Id"] == id.as_str()));
        Ok(())
    })
    .await?;
    Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTargetsInput {
    rule: String,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

/// The member of ours in `ListTargetsByRule`'s targets (the reply checker allows it).
pub const LOCAL_NOTE: &str = crate::wire::json::conformance::LOCAL_NOTE;

pub async fn list_targets(
    state: &AppState,
    ctx: &Context,
    input: ListTargetsInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let rule = require(state, ctx, &bus, &input.rule)?;
    // A target nothing here delivers to says so in one member of ours, which the SDKs and the
    // CLI skip as they skip any member their model lacks; raw replies and `--debug` show it.
    let targets: Vec<Value> = rule
        .targets
        .iter()
        .map(|t| {
            let mut t = t.clone();
            let arn = t["Arn"].as_str().unwrap_or_default();
            if !super::delivery::delivered_here(arn) {
                if let Some(o) = t.as_object_mut() {
                    o.insert(LOCAL_NOTE.to_owned(), json!(super::delivery::NOT_DELIVERED));
                }
            }
            t
        })
        .collect();
    page("Targets", &targets, input.next_token, input.limit)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ByTargetInput {
    target_arn: String,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn rules_by_target(
    state: &AppState,
    ctx: &Context,
    input: ByTargetInput,
) -> Result<Value, AwsError> {
    let bus = bus_of(state, ctx, input.event_bus_name.as_deref())?;
    let names: Vec<Value> = records::all(state.store.as_ref(), &ctx.account, &ctx.region, &bus)?
        .into_iter()
        .filter(|r| {
            r.targets
                .iter()
                .any(|t| t["Arn"] == input.target_arn.as_str())
        })
        .map(|r| json!(r.name))
        .collect();
    page("RuleNames", &names, input.next_token, input.limit)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestInput {
    event_pattern: String,
    event: String,
}

pub async fn test_pattern(
    _state: &AppState,
    _ctx: &Context,
    input: TestInput,
) -> Result<Value, AwsError> {
    let pattern =
        Pattern::parse(&input.event_pattern).map_err(|reason| invalid_pattern(&reason))?;
    let event: Value = serde_json::from_str(&input.event)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| AwsError::validation("Parameter Event is not valid."))?;
    // AWS wants the envelope a real event has.
    for field in ["id", "account", "source", "time", "region", "detail-type"] {
        if event.get(field).is_none() {
            return Err(AwsError::validation(format!(
                "Parameter Event is not valid. Reason: Provided Event must have the following fields: id, account, source, time, region, detail-type; {field} is missing."
            )));
        }
    }
    Ok(json!({ "Result": pattern.matches(&event) }))
}
