//! Event buses and tags: CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses
//! (the `default` bus of every account and region always exists and cannot be deleted), and
//! TagResource, UntagResource, ListTagsForResource on rules and buses. Records:
//! `ev-bus/ACCT/REGION/NAME`; a rule keeps its tags in its own record.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::records::{self, RuleRecord};
use super::rules::DEFAULT_BUS;
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::epoch_now as now;
use crate::state::AppState;
use crate::store::{decode, encode, Store, Write, FORMAT_VERSION};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusRecord {
    pub format_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created: f64,
    #[serde(default)]
    pub tags: Vec<Value>,
}

fn prefix(account: &str, region: &str) -> String {
    format!("ev-bus/{account}/{region}/")
}

fn key(account: &str, region: &str, name: &str) -> String {
    format!("{}{name}", prefix(account, region))
}

pub fn bus_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:event-bus/{name}",
        ctx.region, ctx.account
    )
}

fn load(store: &dyn Store, ctx: &Context, name: &str) -> Result<Option<BusRecord>, AwsError> {
    Ok(store
        .get(&key(&ctx.account, &ctx.region, name))?
        .map(|b| decode(&b))
        .transpose()?)
}

fn missing(name: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Event bus {name} does not exist."),
    )
}

/// Whether the bus exists: the default one always does.
pub fn exists(state: &AppState, ctx: &Context, name: &str) -> Result<bool, AwsError> {
    Ok(name == DEFAULT_BUS || load(state.store.as_ref(), ctx, name)?.is_some())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    name: String,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Value>,
}

pub async fn create(
    state: &AppState,
    ctx: &Context,
    input: CreateInput,
) -> Result<Value, AwsError> {
    if input.name == DEFAULT_BUS {
        return Err(AwsError::new(
            codes::RESOURCE_ALREADY_EXISTS,
            format!("Event bus {DEFAULT_BUS} already exists."),
        ));
    }
    let record = BusRecord {
        format_version: FORMAT_VERSION,
        name: input.name.clone(),
        description: input.description.clone(),
        created: now(),
        tags: input.tags,
    };
    records::create(
        state,
        key(&ctx.account, &ctx.region, &input.name),
        encode(&record)?,
        format!("Event bus {} already exists.", input.name),
    )
    .await?;
    let mut reply = json!({ "EventBusArn": bus_arn(ctx, &input.name) });
    if let Some(d) = input.description {
        reply["Description"] = json!(d);
    }
    Ok(reply)
}

fn shown(ctx: &Context, name: &str, record: Option<&BusRecord>) -> Value {
    let mut v = json!({ "Name": name, "Arn": bus_arn(ctx, name) });
    if let Some(r) = record {
        v["CreationTime"] = json!(r.created);
        v["LastModifiedTime"] = json!(r.created);
        if let Some(d) = &r.description {
            v["Description"] = json!(d);
        }
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    name: Option<String>,
}

pub async fn describe(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    let name = input
        .name
        .as_deref()
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
        .unwrap_or_else(|| DEFAULT_BUS.to_owned());
    if name == DEFAULT_BUS {
        return Ok(shown(ctx, DEFAULT_BUS, None));
    }
    let record = load(state.store.as_ref(), ctx, &name)?.ok_or_else(|| missing(&name))?;
    Ok(shown(ctx, &name, Some(&record)))
}

pub async fn delete(state: &AppState, ctx: &Context, input: NameInput) -> Result<Value, AwsError> {
    let name = input.name.unwrap_or_default();
    if name == DEFAULT_BUS {
        return Err(AwsError::validation("Cannot delete event bus default."));
    }
    state
        .mutate(|store| {
            store.apply(vec![Write::delete(key(&ctx.account, &ctx.region, &name))])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let mut buses = vec![shown(ctx, DEFAULT_BUS, None)];
    for (_, bytes) in state
        .store
        .scan(&prefix(&ctx.account, &ctx.region), None, usize::MAX)?
    {
        let r: BusRecord = decode(&bytes)?;
        buses.push(shown(ctx, &r.name, Some(&r)));
    }
    buses.retain(|b| {
        input
            .name_prefix
            .as_deref()
            .is_none_or(|p| b["Name"].as_str().is_some_and(|n| n.starts_with(p)))
    });
    super::rules::page("EventBuses", &buses, input.next_token, input.limit)
}

/// What a tag operation's ARN names: a rule (bus, name) or a bus.
enum Tagged {
    Rule(String, String),
    Bus(String),
}

fn tagged(ctx: &Context, arn: &str) -> Result<Tagged, AwsError> {
    let base = format!("arn:aws:events:{}:{}:", ctx.region, ctx.account);
    let rest = arn.strip_prefix(&base).unwrap_or_default();
    if let Some(rule) = rest.strip_prefix("rule/") {
        return Ok(match rule.split_once('/') {
            Some((bus, name)) => Tagged::Rule(bus.to_owned(), name.to_owned()),
            None => Tagged::Rule(DEFAULT_BUS.to_owned(), rule.to_owned()),
        });
    }
    if let Some(bus) = rest.strip_prefix("event-bus/") {
        return Ok(Tagged::Bus(bus.to_owned()));
    }
    Err(AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Resource {arn} does not exist."),
    ))
}

/// A read-modify-write of the tags of what `arn` names.
async fn change_tags(
    state: &AppState,
    ctx: &Context,
    arn: &str,
    f: impl FnOnce(&mut Vec<Value>),
) -> Result<Vec<Value>, AwsError> {
    let target = tagged(ctx, arn)?;
    let tags = state
        .mutate(|store| match target {
            Tagged::Rule(bus, name) => {
                let mut rule: RuleRecord =
                    records::load(store, &ctx.account, &ctx.region, &bus, &name)?.ok_or_else(
                        || {
                            AwsError::new(
                                codes::RESOURCE_NOT_FOUND,
                                format!("Rule {name} does not exist on EventBus {bus}."),
                            )
                        },
                    )?;
                f(&mut rule.tags);
                store.apply(vec![records::write(&ctx.account, &ctx.region, &rule)?])?;
                Ok(rule.tags)
            }
            Tagged::Bus(name) => {
                let mut bus = load(store, ctx, &name)?.ok_or_else(|| missing(&name))?;
                f(&mut bus.tags);
                store.apply(vec![Write::put(
                    key(&ctx.account, &ctx.region, &name),
                    encode(&bus)?,
                )])?;
                Ok(bus.tags)
            }
        })
        .await?;
    records::touched();
    Ok(tags)
}

#[derive(Deserialize)]
pub struct TagInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    #[serde(rename = "Tags")]
    tags: Vec<Value>,
}

pub async fn tag(state: &AppState, ctx: &Context, input: TagInput) -> Result<Value, AwsError> {
    change_tags(state, ctx, &input.resource_arn, |tags| {
        for t in &input.tags {
            tags.retain(|x| x["Key"] != t["Key"]);
            tags.push(t.clone());
        }
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct UntagInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    #[serde(rename = "TagKeys")]
    tag_keys: Vec<String>,
}

pub async fn untag(state: &AppState, ctx: &Context, input: UntagInput) -> Result<Value, AwsError> {
    change_tags(state, ctx, &input.resource_arn, |tags| {
        tags.retain(|x| !input.tag_keys.iter().any(|k| x["Key"] == k.as_str()));
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct ListTagsInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
}

pub async fn list_tags(
    state: &AppState,
    ctx: &Context,
    input: ListTagsInput,
) -> Result<Value, AwsError> {
    let tags = match tagged(ctx, &input.resource_arn)? {
        Tagged::Rule(bus, name) => {
            records::load(state.store.as_ref(), &ctx.account, &ctx.region, &bus, &name)?
                .ok_or_else(|| {
                    AwsError::new(
                        codes::RESOURCE_NOT_FOUND,
                        format!("Rule {name} does not exist on EventBus {bus}."),
                    )
                })?
                .tags
        }
        Tagged::Bus(name) if name == DEFAULT_BUS => Vec::new(),
        Tagged::Bus(name) => {
            load(state.store.as_ref(), ctx, &name)?
                .ok_or_else(|| missing(&name))?
                .tags
        }
    };
    Ok(json!({ "Tags": tags }))
}
