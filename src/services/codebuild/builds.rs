//! StartBuild, RetryBuild, StopBuild, BatchGetBuilds, ListBuilds, ListBuildsForProject and
//! BatchDeleteBuilds. Without `--run-builds` a build is simulated: it is recorded, succeeds at
//! once and leaves a short log saying so in CloudWatch Logs.

use serde::Deserialize;
use serde_json::{json, Value};

use super::projects::not_found;
use super::records;
use super::runner;
use super::shape::{self, NewBuild};
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::epoch_now as now;
use crate::services::logs::records as logs;
use crate::services::paging;
use crate::state::AppState;
use crate::store::{Store, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

fn invalid_id() -> AwsError {
    AwsError::new(codes::INVALID_INPUT, "Invalid build ID provided")
}

fn missing(id: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Build {id} does not exist"),
    )
}

/// A build id or ARN, as its id (`project:uuid`).
fn id_of(given: &str) -> Result<String, AwsError> {
    let id = given.rsplit(":build/").next().unwrap_or(given);
    match id.split_once(':') {
        Some((project, uuid)) if !project.is_empty() && !uuid.is_empty() => Ok(id.to_owned()),
        _ => Err(invalid_id()),
    }
}

/// Records a simulated build of `project` that succeeds at once, with its log; the writes.
fn simulate(
    store: &dyn Store,
    ctx: &Context,
    project: &Value,
    source_version: Option<String>,
    environment_variables: Vec<Value>,
) -> Result<(Value, Vec<Write>), AwsError> {
    let name = project["name"].as_str().unwrap_or_default();
    let (number, number_write) =
        records::take_build_number(store, &ctx.account, &ctx.region, name)?;
    let start = now();
    let mut build = shape::started(NewBuild {
        account: &ctx.account,
        region: &ctx.region,
        project: name,
        settings: Some(project),
        uuid: uuid::Uuid::new_v4().to_string(),
        number,
        initiator: "codepipeline-local".to_owned(),
        source: project["source"].clone(),
        source_version: source_version
            .or_else(|| project["sourceVersion"].as_str().map(str::to_owned)),
        resolved_source_version: None,
        artifacts_location: None,
        environment_variables,
        start,
    });
    let end = now();
    shape::finish(&mut build, "SUCCEEDED", end, None, &[]);
    let mut writes = vec![number_write];
    let stream = build["logs"]["streamName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    writes.extend(logs::append(
        store,
        &ctx.account,
        &ctx.region,
        &shape::log_group(name),
        &stream,
        &shape::simulated_log(build["id"].as_str().unwrap_or_default(), "SUCCEEDED", end),
        (end * 1000.0) as i64,
    )?);
    writes.extend(records::build_writes(
        &ctx.account,
        &ctx.region,
        build.clone(),
        start,
        true,
    )?);
    Ok((build, writes))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartInput {
    project_name: String,
    source_version: Option<String>,
    #[serde(default)]
    environment_variables_override: Vec<Value>,
    buildspec_override: Option<String>,
    timeout_in_minutes_override: Option<u64>,
}

/// `bucket/key` of an S3 location as CodeBuild projects write it.
fn s3_location(location: &str, name: &str) -> Option<runner::Input> {
    let (bucket, key) = location
        .trim_start_matches("arn:aws:s3:::")
        .split_once('/')?;
    Some(runner::Input {
        name: name.to_owned(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

/// With `--run-builds`, StartBuild runs the project's buildspec: the build is recorded as
/// started and answered at once, and runs on.
fn start_real(
    state: &AppState,
    ctx: &Context,
    project: &Value,
    input: &StartInput,
) -> Result<Value, AwsError> {
    let source = &project["source"];
    let inputs: Vec<runner::Input> = match source["type"].as_str() {
        Some("S3") => source["location"]
            .as_str()
            .and_then(|l| s3_location(l, "source"))
            .into_iter()
            .collect(),
        Some("NO_SOURCE") | None => Vec::new(),
        Some(other) => {
            return Err(AwsError::new(
                codes::INVALID_INPUT,
                format!(
                    "codepipeline-local runs StartBuild for S3 and NO_SOURCE sources, not {other}"
                ),
            ))
        }
    };
    let artifacts = &project["artifacts"];
    let outputs: Vec<runner::Input> = match artifacts["type"].as_str() {
        Some("S3") => {
            let name = artifacts["name"].as_str().unwrap_or("artifact.zip");
            let path = artifacts["path"].as_str().unwrap_or_default();
            let key = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{}/{name}", path.trim_matches('/'))
            };
            artifacts["location"]
                .as_str()
                .map(|bucket| runner::Input {
                    name: "primary".to_owned(),
                    bucket: bucket.to_owned(),
                    key,
                })
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    };
    let (store, allowed) = state.engine.build_runner();
    let request = runner::BuildRequest {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        project: project["name"].as_str().unwrap_or_default().to_owned(),
        initiator: "codepipeline-local".to_owned(),
        source_version: input.source_version.clone(),
        inputs,
        outputs,
        variables: input
            .environment_variables_override
            .iter()
            .filter_map(|v| {
                Some((
                    v["name"].as_str()?.to_owned(),
                    v["value"].as_str()?.to_owned(),
                ))
            })
            .collect(),
        buildspec_override: input.buildspec_override.clone(),
        spec: None,
        timeout: input
            .timeout_in_minutes_override
            .map(|m| Duration::from_secs(m.saturating_mul(60))),
        resolved_source_version: None,
        stop: Arc::new(AtomicBool::new(false)),
        work_root: allowed.work_root.clone(),
        bus: Some(state.bus.clone()),
    };
    let prepared = runner::prepare(&store, request)
        .map_err(|o| AwsError::internal(o.message.unwrap_or_default()))?;
    let build = prepared.build().clone();
    tokio::spawn(async move {
        let _permit = allowed.builds.acquire().await;
        runner::run_prepared(&store, prepared).await;
    });
    Ok(build)
}

pub async fn start(state: &AppState, ctx: &Context, input: StartInput) -> Result<Value, AwsError> {
    if state.engine.build_runner().1.run_builds {
        let project = records::load_project(
            state.store.as_ref(),
            &ctx.account,
            &ctx.region,
            &input.project_name,
        )?
        .ok_or_else(|| not_found(ctx, &input.project_name))?
        .project;
        let build = start_real(state, ctx, &project, &input)?;
        return Ok(json!({ "build": build }));
    }
    let build = state
        .mutate(|store| {
            let project =
                records::load_project(store, &ctx.account, &ctx.region, &input.project_name)?
                    .ok_or_else(|| not_found(ctx, &input.project_name))?
                    .project;
            let (build, writes) = simulate(
                store,
                ctx,
                &project,
                input.source_version.clone(),
                input.environment_variables_override.clone(),
            )?;
            store.apply(writes)?;
            Ok(build)
        })
        .await?;
    super::events::publish(Some(&state.bus), &build, &ctx.account, &ctx.region);
    Ok(json!({ "build": build }))
}

#[derive(Deserialize)]
pub struct IdInput {
    id: String,
}

pub async fn retry(state: &AppState, ctx: &Context, input: IdInput) -> Result<Value, AwsError> {
    let id = id_of(&input.id)?;
    let build = state
        .mutate(|store| {
            let old = records::load_build(store, &ctx.account, &ctx.region, &id)?
                .ok_or_else(|| missing(&id))?
                .build;
            let name = old["projectName"].as_str().unwrap_or_default().to_owned();
            let project = records::load_project(store, &ctx.account, &ctx.region, &name)?
                .ok_or_else(|| not_found(ctx, &name))?
                .project;
            let (build, writes) = simulate(
                store,
                ctx,
                &project,
                old["sourceVersion"].as_str().map(str::to_owned),
                Vec::new(),
            )?;
            store.apply(writes)?;
            Ok(build)
        })
        .await?;
    super::events::publish(Some(&state.bus), &build, &ctx.account, &ctx.region);
    Ok(json!({ "build": build }))
}

/// A running build ends `STOPPED` (a real one is told to stop and its commands are killed); a
/// finished one is answered as it is.
pub async fn stop(state: &AppState, ctx: &Context, input: IdInput) -> Result<Value, AwsError> {
    let id = id_of(&input.id)?;
    if runner::stop(&id) {
        let record = records::load_build(state.store.as_ref(), &ctx.account, &ctx.region, &id)?
            .ok_or_else(|| missing(&id))?;
        let mut build = record.build;
        build["buildStatus"] = json!("STOPPED");
        return Ok(json!({ "build": build }));
    }
    let build = state
        .mutate(|store| {
            let record = records::load_build(store, &ctx.account, &ctx.region, &id)?
                .ok_or_else(|| missing(&id))?;
            let mut build = record.build;
            if build["buildComplete"].as_bool() == Some(true) {
                return Ok(build);
            }
            shape::finish(&mut build, "STOPPED", now(), None, &[]);
            store.apply(records::build_writes(
                &ctx.account,
                &ctx.region,
                build.clone(),
                record.started,
                false,
            )?)?;
            Ok(build)
        })
        .await?;
    Ok(json!({ "build": build }))
}

#[derive(Deserialize)]
pub struct IdsInput {
    ids: Vec<String>,
}

pub async fn batch_get(
    state: &AppState,
    ctx: &Context,
    input: IdsInput,
) -> Result<Value, AwsError> {
    if input.ids.is_empty() {
        return Err(AwsError::new(
            codes::INVALID_INPUT,
            "The input build ID list cannot be empty.",
        ));
    }
    let mut found = Vec::new();
    let mut not_found = Vec::new();
    for given in input.ids {
        let record = match id_of(&given) {
            Ok(id) => records::load_build(state.store.as_ref(), &ctx.account, &ctx.region, &id)?,
            Err(_) => None,
        };
        match record {
            Some(r) => found.push(r.build),
            None => not_found.push(given),
        }
    }
    Ok(json!({ "builds": found, "buildsNotFound": not_found }))
}

pub async fn batch_delete(
    state: &AppState,
    ctx: &Context,
    input: IdsInput,
) -> Result<Value, AwsError> {
    let (deleted, not_deleted) = state
        .mutate(|store| {
            let mut deleted = Vec::new();
            let mut not_deleted = Vec::new();
            let mut writes = Vec::new();
            for given in &input.ids {
                let record = match id_of(given) {
                    Ok(id) => records::load_build(store, &ctx.account, &ctx.region, &id)?,
                    Err(_) => None,
                };
                match record {
                    Some(r) if r.build["buildComplete"].as_bool() == Some(true) => {
                        writes.extend(records::build_deletes(&ctx.account, &ctx.region, &r));
                        deleted.push(json!(given));
                    }
                    Some(_) => {
                        not_deleted.push(json!({"id": given, "statusCode": "BUILD_IN_PROGRESS"}))
                    }
                    None => not_deleted.push(json!({"id": given, "statusCode": "BUILD_NOT_FOUND"})),
                }
            }
            store.apply(writes)?;
            Ok((deleted, not_deleted))
        })
        .await?;
    Ok(json!({ "buildsDeleted": deleted, "buildsNotDeleted": not_deleted }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    sort_order: Option<String>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListForProjectInput {
    project_name: String,
    sort_order: Option<String>,
    next_token: Option<String>,
}

/// A page of 100 build ids under `prefix`, newest first unless `ASCENDING`.
fn page(
    state: &AppState,
    prefix: &str,
    order: Option<&str>,
    token: Option<&str>,
) -> Result<Value, AwsError> {
    let mut ids: Vec<String> = state
        .store
        .scan(prefix, None, usize::MAX)?
        .into_iter()
        .filter_map(|(_, v)| String::from_utf8(v).ok())
        .collect();
    if order == Some("ASCENDING") {
        ids.reverse();
    }
    const PAGE: usize = 100;
    let start = paging::offset(token, Some(ids.len()))?;
    let mut reply = json!({ "ids": ids.iter().skip(start).take(PAGE).collect::<Vec<_>>() });
    if start + PAGE < ids.len() {
        reply["nextToken"] = json!(paging::offset_token(start + PAGE));
    }
    Ok(reply)
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    page(
        state,
        &records::all_builds_prefix(&ctx.account, &ctx.region),
        input.sort_order.as_deref(),
        input.next_token.as_deref(),
    )
}

pub async fn list_for_project(
    state: &AppState,
    ctx: &Context,
    input: ListForProjectInput,
) -> Result<Value, AwsError> {
    let known = records::load_project(
        state.store.as_ref(),
        &ctx.account,
        &ctx.region,
        &input.project_name,
    )?;
    let has_builds = !state
        .store
        .scan(
            &records::project_builds_prefix(&ctx.account, &ctx.region, &input.project_name),
            None,
            1,
        )?
        .is_empty();
    if known.is_none() && !has_builds {
        return Err(not_found(ctx, &input.project_name));
    }
    page(
        state,
        &records::project_builds_prefix(&ctx.account, &ctx.region, &input.project_name),
        input.sort_order.as_deref(),
        input.next_token.as_deref(),
    )
}
