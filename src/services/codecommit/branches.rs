//! GetBranch, ListBranches, CreateBranch, DeleteBranch, UpdateDefaultBranch and GetCommit,
//! answered from the repository's git references and objects, so what `git push` changed and
//! what the API changed are one history.

use serde::Deserialize;
use serde_json::{json, Value};

use super::codes;
use super::git::Commit;
use super::repositories::{require, update};
use crate::call::Context;
use crate::error::AwsError;
use crate::state::AppState;

const HEADS: &str = "refs/heads/";

/// Captured from CodeCommit: this one comes without a message.
fn branch_missing() -> AwsError {
    AwsError::new(codes::BRANCH_DOES_NOT_EXIST, "")
}

/// The branch names git allows in `refs/heads/` and CodeCommit's model lets through.
fn check_branch(branch: &str) -> Result<(), AwsError> {
    let bad = branch.is_empty()
        || branch.starts_with('-')
        || branch.starts_with('/')
        || branch.ends_with('/')
        || branch.ends_with(".lock")
        || branch.contains("..")
        || branch.contains("//")
        || branch.contains("@{")
        || branch
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c));
    if bad {
        return Err(AwsError::new(
            codes::INVALID_BRANCH_NAME,
            format!("The branch name {branch} is not valid"),
        ));
    }
    Ok(())
}

async fn head_of(
    state: &AppState,
    ctx: &Context,
    repo_id: &str,
    branch: &str,
) -> Result<Option<String>, AwsError> {
    let refs = state
        .repositories
        .references(&ctx.account, &ctx.region, repo_id)
        .await
        .map_err(AwsError::internal)?;
    let full = format!("{HEADS}{branch}");
    Ok(refs.into_iter().find(|r| r.name == full).map(|r| r.commit))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchInput {
    repository_name: String,
    branch_name: String,
}

pub async fn get(state: &AppState, ctx: &Context, input: BranchInput) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    check_branch(&input.branch_name)?;
    let commit = head_of(state, ctx, &repo.id, &input.branch_name)
        .await?
        .ok_or_else(branch_missing)?;
    Ok(json!({"branch": {"branchName": input.branch_name, "commitId": commit}}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    repository_name: String,
    next_token: Option<String>,
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let names: Vec<String> = state
        .repositories
        .references(&ctx.account, &ctx.region, &repo.id)
        .await
        .map_err(AwsError::internal)?
        .into_iter()
        .filter_map(|r| r.name.strip_prefix(HEADS).map(str::to_owned))
        .collect();
    let names: Vec<Value> = names.into_iter().map(Value::String).collect();
    super::page(
        "branches",
        "nextToken",
        &names,
        input.next_token.as_deref(),
        100,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    repository_name: String,
    branch_name: String,
    commit_id: String,
}

pub async fn create(
    state: &AppState,
    ctx: &Context,
    input: CreateInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    check_branch(&input.branch_name)?;
    if head_of(state, ctx, &repo.id, &input.branch_name)
        .await?
        .is_some()
    {
        return Err(AwsError::new(
            codes::BRANCH_NAME_EXISTS,
            format!("Branch {} already exists", input.branch_name),
        ));
    }
    let commit = state
        .repositories
        .resolve(&ctx.account, &ctx.region, &repo.id, &input.commit_id)
        .await
        .map_err(AwsError::internal)?
        .ok_or_else(|| commit_missing(codes::COMMIT_DOES_NOT_EXIST, &input.commit_id))?;
    state
        .repositories
        .update_ref(
            &ctx.account,
            &ctx.region,
            &repo.id,
            &format!("{HEADS}{}", input.branch_name),
            Some(&commit),
        )
        .await
        .map_err(AwsError::internal)?;
    super::events::publish(
        state,
        ctx,
        &repo,
        &[super::events::Change::created(
            &format!("{HEADS}{}", input.branch_name),
            &commit,
        )],
    );
    Ok(json!({}))
}

/// `Could not retrieve <id>` is CodeCommit's text for a commit it does not have (captured).
fn commit_missing(code: &'static str, commit: &str) -> AwsError {
    AwsError::new(code, format!("Could not retrieve {commit}"))
}

pub async fn delete(
    state: &AppState,
    ctx: &Context,
    input: BranchInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    check_branch(&input.branch_name)?;
    if repo.default_branch.as_deref() == Some(input.branch_name.as_str()) {
        return Err(AwsError::new(
            codes::DEFAULT_BRANCH_CANNOT_BE_DELETED,
            format!("The default branch {} cannot be deleted", input.branch_name),
        ));
    }
    let Some(commit) = head_of(state, ctx, &repo.id, &input.branch_name).await? else {
        return Ok(json!({}));
    };
    let full = format!("{HEADS}{}", input.branch_name);
    state
        .repositories
        .update_ref(&ctx.account, &ctx.region, &repo.id, &full, None)
        .await
        .map_err(AwsError::internal)?;
    super::events::publish(
        state,
        ctx,
        &repo,
        &[super::events::Change::deleted(&full, &commit)],
    );
    Ok(json!({"deletedBranch": {"branchName": input.branch_name, "commitId": commit}}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultInput {
    repository_name: String,
    default_branch_name: String,
}

pub async fn set_default(
    state: &AppState,
    ctx: &Context,
    input: DefaultInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    check_branch(&input.default_branch_name)?;
    if head_of(state, ctx, &repo.id, &input.default_branch_name)
        .await?
        .is_none()
    {
        return Err(branch_missing());
    }
    state
        .repositories
        .set_head(
            &ctx.account,
            &ctx.region,
            &repo.id,
            &input.default_branch_name,
        )
        .await
        .map_err(AwsError::internal)?;
    update(state, ctx, &input.repository_name, |r| {
        r.default_branch = Some(input.default_branch_name.clone());
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// `UserInfo` of a commit's author or committer.
fn person(name: &str, email: &str, date: &(i64, String)) -> Value {
    json!({"name": name, "email": email, "date": format!("{} {}", date.0, date.1)})
}

pub fn commit_json(c: &Commit) -> Value {
    json!({
        "commitId": c.id,
        "treeId": c.tree,
        "parents": c.parents,
        "message": c.message,
        "author": person(&c.author_name, &c.author_email, &c.author_date),
        "committer": person(&c.committer_name, &c.committer_email, &c.committer_date),
        "additionalData": "",
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitInput {
    repository_name: String,
    commit_id: String,
}

pub async fn get_commit(
    state: &AppState,
    ctx: &Context,
    input: CommitInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let commit = state
        .repositories
        .commit(&ctx.account, &ctx.region, &repo.id, &input.commit_id)
        .await
        .map_err(AwsError::internal)?
        .ok_or_else(|| commit_missing(codes::COMMIT_ID_DOES_NOT_EXIST, &input.commit_id))?;
    Ok(json!({ "commit": commit_json(&commit) }))
}
