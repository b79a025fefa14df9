//! PutWebhook, ListWebhooks, DeleteWebhook, RegisterWebhookWithThirdParty,
//! DeregisterWebhookWithThirdParty. The webhook's URL is served by `control::webhook_trigger`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::arn;
use crate::services::codepipeline::domain::tags::{self, Tag};
use crate::services::codepipeline::domain::webhooks::{self, WebhookDefinition};
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records;
use crate::services::codepipeline::service::pipeline;
use crate::services::paging;
use crate::state::AppState;
use crate::store::{decode, encode, Store, Write, FORMAT_VERSION};

/// Webhooks per account and region, as AWS's quota.
pub const MAX_WEBHOOKS: usize = 300;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRecord {
    pub format_version: u32,
    pub definition: WebhookDefinition,
    pub arn: String,
    /// The random part of the URL; the URL index maps it back to this record.
    pub url_id: String,
    /// `scheme://host:port` the URL was handed out with.
    pub base_url: String,
    pub last_triggered: Option<f64>,
    #[serde(default)]
    pub registered: bool,
}

/// Where a webhook URL leads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUrlIndex {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl WebhookRecord {
    pub fn url(&self) -> String {
        format!("{}/_webhooks/trigger?t={}&v=1", self.base_url, self.url_id)
    }
}

#[derive(Deserialize)]
pub struct PutInput {
    webhook: WebhookDefinition,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
pub struct ListInput {
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
    #[serde(rename = "MaxResults")]
    max_results: Option<usize>,
}

#[derive(Deserialize)]
pub struct NameInput {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThirdPartyInput {
    webhook_name: Option<String>,
}

pub fn load(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<WebhookRecord>, AwsError> {
    Ok(match store.get(&Keys::webhook(account, region, name))? {
        Some(bytes) => Some(decode(&bytes)?),
        None => None,
    })
}

/// A webhook as `ListWebhookItem`: never with its secret.
fn item(record: &WebhookRecord, tags: &[Tag]) -> Value {
    let mut v = json!({
        "definition": webhooks::without_secret(&record.definition),
        "url": record.url(),
        "arn": record.arn,
    });
    if let Some(t) = record.last_triggered {
        v["lastTriggered"] = json!(t);
    }
    if !tags.is_empty() {
        v["tags"] = json!(tags);
    }
    v
}

pub async fn put(state: &AppState, ctx: &Context, input: PutInput) -> Result<Value, AwsError> {
    let def = input.webhook;
    webhooks::check(&def)?;
    let target = pipeline(state, ctx, &def.target_pipeline)?;
    let has_action = target
        .declaration
        .stages
        .first()
        .into_iter()
        .flat_map(|s| &s.actions)
        .any(|a| a.name == def.target_action);
    if !has_action {
        // AWS's text, captured through CloudFormation (boltops-tools/pipedream#7).
        return Err(AwsError::validation(format!(
            "Action with name {} was not found in the first stage of the pipeline",
            def.target_action
        )));
    }
    let new_tags = tags::merge(&[], &input.tags)?;
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let base_url = format!(
        "http://{}",
        ctx.host
            .clone()
            .unwrap_or_else(|| "localhost:4566".to_owned())
    );
    let (record, tags) = state
        .mutate(|store| {
            let existing = load(store, account, region, &def.name)?;
            if existing.is_none() && store.count(&Keys::webhooks(account, region), MAX_WEBHOOKS)? >= MAX_WEBHOOKS {
                return Err(AwsError::new(
                    codes::LIMIT_EXCEEDED,
                    format!("The number of webhooks in region '{region}' has reached the limit of {MAX_WEBHOOKS}"),
                ));
            }
            // Putting a webhook again updates it and keeps its URL.
            let record = match existing {
                Some(old) => WebhookRecord { definition: def.clone(), ..old },
                None => WebhookRecord {
                    format_version: FORMAT_VERSION,
                    definition: def.clone(),
                    arn: arn::webhook(region, account, &def.name),
                    url_id: uuid::Uuid::new_v4().simple().to_string(),
                    base_url,
                    last_triggered: None,
                    registered: false,
                },
            };
            let current = records::load_tags(store, account, region, &record.arn)?;
            let tags = tags::merge(&current, &new_tags)?;
            let index = WebhookUrlIndex { account: account.to_owned(), region: region.to_owned(), name: def.name.clone() };
            store.apply(vec![
                Write::put(Keys::webhook(account, region, &def.name), encode(&record)?),
                Write::put(Keys::webhook_url(&record.url_id), encode(&index)?),
                records::tags_write(account, region, &record.arn, tags.clone())?,
            ])?;
            Ok((record, tags))
        })
        .await?;
    Ok(json!({ "webhook": item(&record, &tags) }))
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let store = state.store.as_ref();
    let prefix = Keys::webhooks(&ctx.account, &ctx.region);
    let after = paging::key_after(input.next_token.as_deref(), &prefix)?;
    let limit = input.max_results.unwrap_or(100);
    let page = store.scan(&prefix, after.as_deref(), limit + 1)?;
    let more = page.len() > limit;
    let mut items = Vec::new();
    let mut last = None;
    for (key, bytes) in page.into_iter().take(limit) {
        let record: WebhookRecord = decode(&bytes)?;
        let tags = records::load_tags(store, &ctx.account, &ctx.region, &record.arn)?;
        items.push(item(&record, &tags));
        last = Some(key);
    }
    let mut reply = json!({ "webhooks": items });
    if let (true, Some(key)) = (more, last) {
        reply["NextToken"] = json!(paging::key_token(&key));
    }
    Ok(reply)
}

pub async fn delete(state: &AppState, ctx: &Context, input: NameInput) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    state
        .mutate(|store| {
            let Some(record) = load(store, account, region, &input.name)? else {
                return Ok(());
            };
            store.apply(vec![
                Write::delete(Keys::webhook(account, region, &input.name)),
                Write::delete(Keys::webhook_url(&record.url_id)),
                Write::delete(Keys::tags(account, region, &record.arn)),
            ])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

/// Registering tells GitHub about the webhook on AWS; here it only records that it was asked.
pub async fn set_registered(
    state: &AppState,
    ctx: &Context,
    input: ThirdPartyInput,
    registered: bool,
) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let name = input.webhook_name.unwrap_or_default();
    state
        .mutate(|store| {
            let mut record = load(store, account, region, &name)?.ok_or_else(|| {
                AwsError::new(
                    codes::WEBHOOK_NOT_FOUND,
                    format!("The webhook {name} was not found"),
                )
            })?;
            record.registered = registered;
            store.apply(vec![Write::put(
                Keys::webhook(account, region, &name),
                encode(&record)?,
            )])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}
