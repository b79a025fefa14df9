//! CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline, ListPipelines.

use serde::Deserialize;
use serde_json::{json, Value};

use super::now;
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::action_types::{Catalog, CustomActionType};
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;
use crate::services::codepipeline::domain::tags::{self, Tag};
use crate::services::codepipeline::domain::{arn, declaration_rules, secrets};
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records::{self as records, PipelineRecord};
use crate::services::paging;
use crate::state::AppState;
use crate::store::{decode, Write, FORMAT_VERSION};

/// Pipelines per account and region, as AWS's quota.
pub const MAX_PIPELINES: usize = 1000;
const DEFAULT_PAGE: usize = 100;

#[derive(Deserialize)]
pub struct CreateInput {
    pipeline: PipelineDeclaration,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
pub struct GetInput {
    pub name: String,
    pub version: Option<i64>,
}

#[derive(Deserialize)]
pub struct UpdateInput {
    pipeline: PipelineDeclaration,
}

#[derive(Deserialize)]
pub struct DeleteInput {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    next_token: Option<String>,
    max_results: Option<usize>,
}

/// The declaration as replies show it: secret configuration values masked, as AWS masks them.
fn present(decl: &PipelineDeclaration, catalog: &Catalog) -> Value {
    let mut shown = decl.clone();
    secrets::mask(&mut shown, catalog);
    serde_json::to_value(shown).unwrap_or(Value::Null)
}

/// Normalises and checks a declaration against every structure rule, then puts the stored
/// secrets of `previous` (the pipeline being updated) where the declaration says `****`.
/// Returns the custom action types it checked against too, for the reply.
fn checked(
    state: &AppState,
    ctx: &Context,
    mut decl: PipelineDeclaration,
    previous: Option<&PipelineDeclaration>,
) -> Result<(PipelineDeclaration, Vec<CustomActionType>), AwsError> {
    decl.normalise();
    let custom =
        records::load_custom_action_types(state.store.as_ref(), &ctx.account, &ctx.region)?;
    let catalog = Catalog::new(&custom);
    declaration_rules::check(&decl, &catalog, &ctx.region)?;
    secrets::restore_masked(&mut decl, previous, &catalog)?;
    Ok((decl, custom))
}

fn catalog_view(
    state: &AppState,
    ctx: &Context,
    decl: &PipelineDeclaration,
) -> Result<Value, AwsError> {
    let custom =
        records::load_custom_action_types(state.store.as_ref(), &ctx.account, &ctx.region)?;
    Ok(present(decl, &Catalog::new(&custom)))
}

pub async fn create(
    state: &AppState,
    ctx: &Context,
    input: CreateInput,
) -> Result<Value, AwsError> {
    let (mut decl, custom) = checked(state, ctx, input.pipeline, None)?;
    decl.version = Some(1);
    let tags = tags::merge(&[], &input.tags)?;
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let record = PipelineRecord {
        format_version: FORMAT_VERSION,
        arn: arn::pipeline(region, account, &decl.name),
        declaration: decl,
        created: now(),
        updated: now(),
    };
    let record = state
        .mutate_unsynced(|store| {
            let name = &record.declaration.name;
            if records::load_pipeline(store, account, region, name)?.is_some() {
                return Err(AwsError::new(
                    codes::PIPELINE_NAME_IN_USE,
                    format!("A pipeline with the name '{name}' already exists in account '{account}'"),
                ));
            }
            if !state
                .pipeline_quota
                .admit(store, account, region, MAX_PIPELINES)?
            {
                return Err(AwsError::new(
                    codes::LIMIT_EXCEEDED,
                    format!("The number of pipelines in account '{account}' and region '{region}' has reached the limit of {MAX_PIPELINES}"),
                ));
            }
            let mut writes = records::pipeline_writes(account, region, &record)?;
            writes.push(records::tags_write(account, region, &record.arn, tags.clone())?);
            store.apply(writes)?;
            Ok(record)
        })
        .await?;
    // AWS starts a first execution as soon as a pipeline is created.
    let first = crate::services::codepipeline::service::StartRequest {
        trigger_type: "CreatePipeline",
        ..Default::default()
    };
    let started =
        crate::services::codepipeline::service::start_execution(state, ctx, &record, first).await;
    // One sync for the pipeline and its first execution (often already done by the engine's).
    state.flush().await?;
    started?;
    let mut reply = json!({ "pipeline": present(&record.declaration, &Catalog::new(&custom)) });
    if !tags.is_empty() {
        reply["tags"] = json!(tags);
    }
    Ok(reply)
}

pub async fn get(state: &AppState, ctx: &Context, input: GetInput) -> Result<Value, AwsError> {
    let store = state.store.as_ref();
    let record = records::load_pipeline(store, &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| AwsError::pipeline_not_found(&input.name, &ctx.account))?;
    let decl = match input.version {
        None => record.declaration,
        Some(v) => {
            records::load_pipeline_version(store, &ctx.account, &ctx.region, &input.name, v)?
                .ok_or_else(|| {
                    AwsError::new(
                        codes::PIPELINE_VERSION_NOT_FOUND,
                        format!("Pipeline '{}' does not have a version {v}", input.name),
                    )
                })?
        }
    };
    Ok(json!({
        "pipeline": catalog_view(state, ctx, &decl)?,
        "metadata": { "pipelineArn": record.arn, "created": record.created, "updated": record.updated },
    }))
}

pub async fn update(
    state: &AppState,
    ctx: &Context,
    input: UpdateInput,
) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    // `****` stands for the secrets stored now; two updates racing each other is last-writer-wins,
    // as before.
    let before =
        records::load_pipeline(state.store.as_ref(), account, region, &input.pipeline.name)?
            .ok_or_else(|| AwsError::pipeline_not_found(&input.pipeline.name, account))?;
    let (decl, custom) = checked(state, ctx, input.pipeline, Some(&before.declaration))?;
    let record = state
        .mutate(|store| {
            let current = records::load_pipeline(store, account, region, &decl.name)?
                .ok_or_else(|| AwsError::pipeline_not_found(&decl.name, account))?;
            let mut next = decl;
            next.version = Some(current.declaration.version.unwrap_or(1) + 1);
            let record = PipelineRecord {
                declaration: next,
                updated: now(),
                ..current
            };
            store.apply(records::pipeline_writes(account, region, &record)?)?;
            Ok(record)
        })
        .await?;
    let version = record.declaration.version.unwrap_or(1);
    let key = crate::services::codepipeline::engine::PipelineKey::new(
        account,
        region,
        &record.declaration.name,
    );
    // At this version, so the engine takes it as current without reading the record again.
    state
        .engine
        .with_machine_at(&key, version, |m| {
            m.pipeline_updated(version);
            Ok(())
        })
        .await?;
    Ok(json!({ "pipeline": present(&record.declaration, &Catalog::new(&custom)) }))
}

pub async fn delete(
    state: &AppState,
    ctx: &Context,
    input: DeleteInput,
) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    // Drop the engine's copy first: timers only touch pipelines it holds in memory.
    state
        .engine
        .forget(&crate::services::codepipeline::engine::PipelineKey::new(
            account,
            region,
            &input.name,
        ))
        .await;
    state
        .mutate(|store| {
            let Some(record) = records::load_pipeline(store, account, region, &input.name)? else {
                return Ok(());
            };
            let mut writes = vec![
                Write::delete(Keys::pipeline(account, region, &input.name)),
                Write::delete(Keys::tags(account, region, &record.arn)),
            ];
            let versions = store.scan(
                &Keys::pipeline_versions(account, region, &input.name),
                None,
                usize::MAX,
            )?;
            writes.extend(versions.into_iter().map(|(k, _)| Write::delete(k)));
            writes.extend(records::execution_deletes(
                store,
                account,
                region,
                &input.name,
            )?);
            store.apply(writes).map_err(AwsError::from)
        })
        .await?;
    Ok(json!({}))
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let prefix = Keys::pipelines(&ctx.account, &ctx.region);
    let after = paging::key_after(input.next_token.as_deref(), &prefix)?;
    let limit = input.max_results.unwrap_or(DEFAULT_PAGE);
    // One extra record tells whether another page follows.
    let page = state.store.scan(&prefix, after.as_deref(), limit + 1)?;
    let more = page.len() > limit;
    let mut pipelines = Vec::new();
    let mut last_key = None;
    for (key, bytes) in page.into_iter().take(limit) {
        let r: records::PipelineListing = decode(&bytes)?;
        pipelines.push(json!({
            "name": r.declaration.name,
            "version": r.declaration.version,
            "pipelineType": r.declaration.pipeline_type,
            "executionMode": r.declaration.execution_mode,
            "created": r.created,
            "updated": r.updated,
        }));
        last_key = Some(key);
    }
    let mut reply = json!({ "pipelines": pipelines });
    if let (true, Some(key)) = (more, last_key) {
        reply["nextToken"] = json!(paging::key_token(&key));
    }
    Ok(reply)
}
