//! CreateProject, UpdateProject, DeleteProject, BatchGetProjects and ListProjects: a project
//! is kept as the API shows it, with the defaults CodeBuild fills in (timeouts, encryption key,
//! cache, badge, logs config) and its `created`/`lastModified` times.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::records;
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::epoch_now as now;
use crate::services::paging;
use crate::state::AppState;
use crate::store::decode;

pub fn project_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:aws:codebuild:{}:{}:project/{name}",
        ctx.region, ctx.account
    )
}

pub fn not_found(ctx: &Context, name: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Project cannot be found: {}", project_arn(ctx, name)),
    )
}

/// The request's members, minus those that are not part of the stored project.
fn members(input: &Value) -> Map<String, Value> {
    let mut m = input.as_object().cloned().unwrap_or_default();
    m.remove("badgeEnabled");
    m
}

pub async fn create(state: &AppState, ctx: &Context, input: Value) -> Result<Value, AwsError> {
    let name = input["name"].as_str().unwrap_or_default().to_owned();
    let at = now();
    let mut project = json!({
        "name": name,
        "arn": project_arn(ctx, &name),
        "secondarySources": [],
        "secondarySourceVersions": [],
        "secondaryArtifacts": [],
        "cache": {"type": "NO_CACHE"},
        "timeoutInMinutes": 60,
        "queuedTimeoutInMinutes": 480,
        "encryptionKey": format!("arn:aws:kms:{}:{}:alias/aws/s3", ctx.region, ctx.account),
        "tags": [],
        "created": at,
        "lastModified": at,
        "badge": {"badgeEnabled": input["badgeEnabled"].as_bool().unwrap_or(false)},
        "logsConfig": {
            "cloudWatchLogs": {"status": "ENABLED"},
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": false},
        },
        "projectVisibility": "PRIVATE",
    });
    if let Some(p) = project.as_object_mut() {
        p.extend(members(&input));
    }
    let reply = project.clone();
    state
        .mutate(|store| {
            if records::load_project(store, &ctx.account, &ctx.region, &name)?.is_some() {
                return Err(AwsError::new(
                    codes::RESOURCE_ALREADY_EXISTS,
                    format!("Project already exists: {}", project_arn(ctx, &name)),
                ));
            }
            store.apply(vec![records::project_write(
                &ctx.account,
                &ctx.region,
                project,
            )?])?;
            Ok(())
        })
        .await?;
    Ok(json!({ "project": reply }))
}

pub async fn update(state: &AppState, ctx: &Context, input: Value) -> Result<Value, AwsError> {
    let name = input["name"].as_str().unwrap_or_default().to_owned();
    let project = state
        .mutate(|store| {
            let mut project = records::load_project(store, &ctx.account, &ctx.region, &name)?
                .ok_or_else(|| not_found(ctx, &name))?
                .project;
            if let Some(p) = project.as_object_mut() {
                p.extend(members(&input));
                p.insert("lastModified".to_owned(), json!(now()));
                if let Some(b) = input["badgeEnabled"].as_bool() {
                    p.insert("badge".to_owned(), json!({"badgeEnabled": b}));
                }
            }
            store.apply(vec![records::project_write(
                &ctx.account,
                &ctx.region,
                project.clone(),
            )?])?;
            Ok(project)
        })
        .await?;
    Ok(json!({ "project": project }))
}

#[derive(Deserialize)]
pub struct NameInput {
    name: String,
}

/// Deleting a project that does not exist succeeds, as in CodeBuild. Its builds stay.
pub async fn delete(state: &AppState, ctx: &Context, input: NameInput) -> Result<Value, AwsError> {
    state
        .mutate(|store| {
            store.apply(vec![crate::store::Write::delete(records::project_key(
                &ctx.account,
                &ctx.region,
                &input.name,
            ))])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct NamesInput {
    names: Vec<String>,
}

pub async fn batch_get(
    state: &AppState,
    ctx: &Context,
    input: NamesInput,
) -> Result<Value, AwsError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in input.names {
        // A name may also be given as the project's ARN.
        let short = name.rsplit("project/").next().unwrap_or(&name).to_owned();
        match records::load_project(state.store.as_ref(), &ctx.account, &ctx.region, &short)? {
            Some(r) => found.push(r.project),
            None => missing.push(name),
        }
    }
    Ok(json!({ "projects": found, "projectsNotFound": missing }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    sort_by: Option<String>,
    sort_order: Option<String>,
    next_token: Option<String>,
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let mut projects: Vec<Value> = state
        .store
        .scan(
            &records::projects_prefix(&ctx.account, &ctx.region),
            None,
            usize::MAX,
        )?
        .iter()
        .map(|(_, b)| decode::<records::ProjectRecord>(b).map(|r| r.project))
        .collect::<Result<_, _>>()?;
    let field = match input.sort_by.as_deref() {
        Some("CREATED_TIME") => "created",
        Some("LAST_MODIFIED_TIME") => "lastModified",
        _ => "name",
    };
    projects.sort_by(|a, b| {
        let (x, y) = (&a[field], &b[field]);
        match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => x.as_str().cmp(&y.as_str()),
        }
    });
    if input.sort_order.as_deref() == Some("DESCENDING") {
        projects.reverse();
    }
    const PAGE: usize = 100;
    let start = paging::offset(input.next_token.as_deref(), Some(projects.len()))?;
    let names: Vec<&Value> = projects
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|p| &p["name"])
        .collect();
    let mut reply = json!({ "projects": names });
    if start + PAGE < projects.len() {
        reply["nextToken"] = json!(paging::offset_token(start + PAGE));
    }
    Ok(reply)
}
