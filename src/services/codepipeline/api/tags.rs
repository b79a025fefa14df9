//! TagResource, UntagResource, ListTagsForResource for pipelines, custom action types and webhooks.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::arn::{self, Resource};
use crate::services::codepipeline::domain::tags::{self, Tag};
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records;
use crate::services::paging;
use crate::state::AppState;
use crate::store::Store;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagInput {
    resource_arn: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    resource_arn: String,
    next_token: Option<String>,
    max_results: Option<usize>,
}

fn not_found(resource_arn: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("The resource with the ARN {resource_arn} does not exist"),
    )
}

/// Checks the ARN names an existing resource of the caller's account and region.
fn existing(store: &dyn Store, ctx: &Context, resource_arn: &str) -> Result<(), AwsError> {
    let parsed = arn::parse(resource_arn)?;
    if parsed.account != ctx.account || parsed.region != ctx.region {
        return Err(not_found(resource_arn));
    }
    let key = match &parsed.resource {
        Resource::Pipeline(name) => Keys::pipeline(&ctx.account, &ctx.region, name),
        Resource::ActionType {
            category,
            provider,
            version,
        } => Keys::custom_action_type(&ctx.account, &ctx.region, category, provider, version),
        Resource::Webhook(name) => Keys::webhook(&ctx.account, &ctx.region, name),
    };
    match store.get(&key)? {
        Some(_) => Ok(()),
        None => Err(not_found(resource_arn)),
    }
}

pub async fn tag(state: &AppState, ctx: &Context, input: TagInput) -> Result<Value, AwsError> {
    tags::check_keys(input.tags.iter().map(|t| t.key.as_str()))?;
    state
        .mutate(|store| {
            existing(store, ctx, &input.resource_arn)?;
            let current =
                records::load_tags(store, &ctx.account, &ctx.region, &input.resource_arn)?;
            let merged = tags::merge(&current, &input.tags)?;
            store.apply(vec![records::tags_write(
                &ctx.account,
                &ctx.region,
                &input.resource_arn,
                merged,
            )?])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn untag(state: &AppState, ctx: &Context, input: UntagInput) -> Result<Value, AwsError> {
    tags::check_keys(input.tag_keys.iter().map(String::as_str))?;
    state
        .mutate(|store| {
            existing(store, ctx, &input.resource_arn)?;
            let current =
                records::load_tags(store, &ctx.account, &ctx.region, &input.resource_arn)?;
            let kept = tags::remove(&current, &input.tag_keys)?;
            store.apply(vec![records::tags_write(
                &ctx.account,
                &ctx.region,
                &input.resource_arn,
                kept,
            )?])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let store = state.store.as_ref();
    existing(store, ctx, &input.resource_arn)?;
    let all = records::load_tags(store, &ctx.account, &ctx.region, &input.resource_arn)?;
    paging::page_of(
        "tags",
        &all,
        input.next_token.as_deref(),
        input.max_results.unwrap_or(50),
    )
}
