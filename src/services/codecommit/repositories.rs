//! CreateRepository, GetRepository, BatchGetRepositories, ListRepositories, DeleteRepository,
//! UpdateRepositoryName, UpdateRepositoryDescription and the tag operations. A repository is
//! its record plus a bare git folder; its `cloneUrlHttp` names this server, where
//! `git clone`, `fetch` and `push` reach it (`remote`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::records::{self, RepositoryRecord};
use super::{codes, not_found};
use crate::call::Context;
use crate::error::AwsError;
use crate::services::epoch_now as now;
use crate::state::AppState;
use crate::store::Write;

pub fn arn(ctx: &Context, name: &str) -> String {
    format!("arn:aws:codecommit:{}:{}:{name}", ctx.region, ctx.account)
}

/// The git remote's address as the caller reached this server.
pub fn clone_url(ctx: &Context, name: &str) -> String {
    let host = ctx.host.as_deref().unwrap_or("localhost:4566");
    let path = super::remote::remote_path(&ctx.account, &ctx.region, name);
    format!("http://{host}{path}")
}

/// `RepositoryMetadata` as the API shows it.
pub fn metadata(ctx: &Context, r: &RepositoryRecord) -> Value {
    let mut m = json!({
        "accountId": ctx.account,
        "repositoryId": r.id,
        "repositoryName": r.name,
        "lastModifiedDate": r.modified,
        "creationDate": r.created,
        "cloneUrlHttp": clone_url(ctx, &r.name),
        "cloneUrlSsh": format!("ssh://git-codecommit.{}.amazonaws.com/v1/repos/{}", ctx.region, r.name),
        "Arn": arn(ctx, &r.name),
    });
    if let Some(d) = &r.description {
        m["repositoryDescription"] = json!(d);
    }
    if let Some(b) = &r.default_branch {
        m["defaultBranch"] = json!(b);
    }
    if let Some(k) = &r.kms_key_id {
        m["kmsKeyId"] = json!(k);
    }
    m
}

/// Names the model's pattern lets through but a folder or CodeCommit would not take.
pub fn check_name(name: &str) -> Result<(), AwsError> {
    if name == "." || name == ".." || name.to_ascii_lowercase().ends_with(".git") {
        return Err(AwsError::new(
            codes::INVALID_REPOSITORY_NAME,
            // AWS's text, as Elastic Beanstalk relayed it (2018); CodeCommit also refuses `.git`.
            "Repository names are restricted to alphanumeric characters, plus '.', '_', and '-'",
        ));
    }
    Ok(())
}

pub fn require(state: &AppState, ctx: &Context, name: &str) -> Result<RepositoryRecord, AwsError> {
    check_name(name)?;
    records::load(state.store.as_ref(), &ctx.account, &ctx.region, name)?
        .ok_or_else(|| not_found(name))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    repository_name: String,
    repository_description: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    kms_key_id: Option<String>,
}

pub async fn create(
    state: &AppState,
    ctx: &Context,
    input: CreateInput,
) -> Result<Value, AwsError> {
    let name = input.repository_name;
    check_name(&name)?;
    let at = now();
    let mut record = RepositoryRecord::new(&name, uuid::Uuid::new_v4().to_string(), at);
    record.description = input.repository_description;
    record.tags = input.tags;
    record.kms_key_id = Some(input.kms_key_id.unwrap_or_else(|| {
        format!(
            "arn:aws:kms:{}:{}:alias/aws/codecommit",
            ctx.region, ctx.account
        )
    }));
    if records::load(state.store.as_ref(), &ctx.account, &ctx.region, &name)?.is_some() {
        return Err(name_taken(&name));
    }
    // The folder first: a record never names a repository that is not there.
    state
        .repositories
        .create(&ctx.account, &ctx.region, &record.id)
        .await
        .map_err(AwsError::internal)?;
    let created = state
        .mutate(|store| {
            if records::load(store, &ctx.account, &ctx.region, &name)?.is_some() {
                return Err(name_taken(&name));
            }
            store.apply(vec![records::write(&ctx.account, &ctx.region, &record)?])?;
            Ok(())
        })
        .await;
    if let Err(e) = created {
        state
            .repositories
            .remove(&ctx.account, &ctx.region, &record.id);
        return Err(e);
    }
    Ok(json!({ "repositoryMetadata": metadata(ctx, &record) }))
}

fn name_taken(name: &str) -> AwsError {
    AwsError::new(
        codes::REPOSITORY_NAME_EXISTS,
        format!("Repository named {name} already exists"),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameInput {
    repository_name: String,
}

pub async fn get(state: &AppState, ctx: &Context, input: NameInput) -> Result<Value, AwsError> {
    let record = require(state, ctx, &input.repository_name)?;
    Ok(json!({ "repositoryMetadata": metadata(ctx, &record) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInput {
    repository_names: Vec<String>,
}

pub async fn batch_get(
    state: &AppState,
    ctx: &Context,
    input: BatchInput,
) -> Result<Value, AwsError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &input.repository_names {
        check_name(name)?;
        match records::load(state.store.as_ref(), &ctx.account, &ctx.region, name)? {
            Some(r) => found.push(metadata(ctx, &r)),
            None => missing.push(json!(name)),
        }
    }
    // `errors` is for keys CodeCommit cannot use; a missing name is only "not found".
    Ok(json!({ "repositories": found, "repositoriesNotFound": missing }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    next_token: Option<String>,
    sort_by: Option<String>,
    order: Option<String>,
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let mut all = records::all(state.store.as_ref(), &ctx.account, &ctx.region)?;
    if input.sort_by.as_deref() == Some("lastModifiedDate") {
        all.sort_by(|a, b| a.modified.total_cmp(&b.modified));
    }
    if input.order.as_deref() == Some("descending") {
        all.reverse();
    }
    let items: Vec<Value> = all
        .iter()
        .map(|r| json!({"repositoryName": r.name, "repositoryId": r.id}))
        .collect();
    super::page(
        "repositories",
        "nextToken",
        &items,
        input.next_token.as_deref(),
        1000,
    )
}

pub async fn delete(state: &AppState, ctx: &Context, input: NameInput) -> Result<Value, AwsError> {
    let name = input.repository_name;
    check_name(&name)?;
    // Deleting what is not there succeeds and names nothing, as CodeCommit does.
    let removed = state
        .mutate(|store| {
            let Some(r) = records::load(store, &ctx.account, &ctx.region, &name)? else {
                return Ok(None);
            };
            store.apply(vec![Write::delete(records::key(
                &ctx.account,
                &ctx.region,
                &name,
            ))])?;
            Ok(Some(r))
        })
        .await?;
    match removed {
        Some(r) => {
            state.repositories.remove(&ctx.account, &ctx.region, &r.id);
            Ok(json!({ "repositoryId": r.id }))
        }
        None => Ok(json!({})),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenameInput {
    old_name: String,
    new_name: String,
}

pub async fn rename(
    state: &AppState,
    ctx: &Context,
    input: RenameInput,
) -> Result<Value, AwsError> {
    check_name(&input.old_name)?;
    check_name(&input.new_name)?;
    state
        .mutate(|store| {
            let mut r = records::load(store, &ctx.account, &ctx.region, &input.old_name)?
                .ok_or_else(|| not_found(&input.old_name))?;
            if input.old_name == input.new_name {
                return Ok(());
            }
            if records::load(store, &ctx.account, &ctx.region, &input.new_name)?.is_some() {
                return Err(name_taken(&input.new_name));
            }
            r.name = input.new_name.clone();
            r.modified = now();
            store.apply(vec![
                Write::delete(records::key(&ctx.account, &ctx.region, &input.old_name)),
                records::write(&ctx.account, &ctx.region, &r)?,
            ])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeInput {
    repository_name: String,
    repository_description: Option<String>,
}

pub async fn describe(
    state: &AppState,
    ctx: &Context,
    input: DescribeInput,
) -> Result<Value, AwsError> {
    check_name(&input.repository_name)?;
    update(state, ctx, &input.repository_name, |r| {
        r.description = input.repository_description.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// A read-modify-write of one repository's record.
pub async fn update(
    state: &AppState,
    ctx: &Context,
    name: &str,
    change: impl FnOnce(&mut RepositoryRecord) -> Result<(), AwsError>,
) -> Result<RepositoryRecord, AwsError> {
    state
        .mutate(|store| {
            let mut r = records::load(store, &ctx.account, &ctx.region, name)?
                .ok_or_else(|| not_found(name))?;
            change(&mut r)?;
            r.modified = now();
            store.apply(vec![records::write(&ctx.account, &ctx.region, &r)?])?;
            Ok(r)
        })
        .await
}

/// The repository a tag operation's ARN names, in the caller's account and region.
fn named_by(ctx: &Context, resource_arn: &str) -> Result<String, AwsError> {
    let prefix = format!("arn:aws:codecommit:{}:{}:", ctx.region, ctx.account);
    resource_arn
        .strip_prefix(&prefix)
        .filter(|name| !name.is_empty() && !name.contains(':'))
        .map(str::to_owned)
        .ok_or_else(|| {
            AwsError::new(
                codes::INVALID_RESOURCE_ARN,
                format!("The value for the resource ARN is not valid: {resource_arn}"),
            )
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagInput {
    resource_arn: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

pub async fn tag(state: &AppState, ctx: &Context, input: TagInput) -> Result<Value, AwsError> {
    let name = named_by(ctx, &input.resource_arn)?;
    check_name(&name)?;
    update(state, ctx, &name, |r| {
        r.tags.extend(input.tags.clone());
        if r.tags.len() > 50 {
            return Err(AwsError::new(
                codes::TOO_MANY_TAGS,
                "The maximum number of tags for an AWS CodeCommit resource has been exceeded.",
            ));
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagInput {
    resource_arn: String,
    #[serde(default)]
    tag_keys: Vec<String>,
}

pub async fn untag(state: &AppState, ctx: &Context, input: UntagInput) -> Result<Value, AwsError> {
    let name = named_by(ctx, &input.resource_arn)?;
    check_name(&name)?;
    update(state, ctx, &name, |r| {
        for k in &input.tag_keys {
            r.tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsInput {
    resource_arn: String,
}

pub async fn list_tags(
    state: &AppState,
    ctx: &Context,
    input: ListTagsInput,
) -> Result<Value, AwsError> {
    let name = named_by(ctx, &input.resource_arn)?;
    let r = require(state, ctx, &name)?;
    Ok(json!({ "tags": r.tags }))
}
