//! CodeBuild records: projects (`cb-project/ACCOUNT/REGION/NAME`, the project as the API shows
//! it), builds (`cb-build/ACCOUNT/REGION/ID`, the build as BatchGetBuilds shows it), the
//! newest-first build lists (`cb-builds/ACCOUNT/REGION/all/<inverted time><id>` and
//! `.../project/NAME\0<inverted time><id>`) and each project name's next build number
//! (`cb-build/ACCOUNT/REGION/#number/NAME`, kept apart from the project so builds of a deleted
//! and re-created project keep counting, as in AWS).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::pipeline_builds::Simulated;

use crate::store::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRecord {
    pub format_version: u32,
    pub project: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildRecord {
    pub format_version: u32,
    /// The build as BatchGetBuilds shows it (filled in when read for a simulated one).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub build: Value,
    /// Epoch seconds the build started: its place in the lists.
    pub started: f64,
    /// A pipeline's simulated build, stored small (every simulated CodeBuild action makes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated: Option<Simulated>,
}

/// The project a build id (`project:uuid`) names.
pub fn project_of(build_id: &str) -> &str {
    build_id.split_once(':').map_or(build_id, |(p, _)| p)
}

pub fn project_key(account: &str, region: &str, name: &str) -> String {
    format!("cb-project/{account}/{region}/{name}")
}

pub fn projects_prefix(account: &str, region: &str) -> String {
    format!("cb-project/{account}/{region}/")
}

pub fn build_key(account: &str, region: &str, id: &str) -> String {
    format!("cb-build/{account}/{region}/{id}")
}

fn number_key(account: &str, region: &str, project: &str) -> String {
    format!("cb-build/{account}/{region}/#number/{project}")
}

pub fn all_builds_prefix(account: &str, region: &str) -> String {
    format!("cb-builds/{account}/{region}/all/")
}

pub fn project_builds_prefix(account: &str, region: &str, project: &str) -> String {
    format!("cb-builds/{account}/{region}/project/{project}\0")
}

/// Sorts newer builds first.
fn order(started: f64, id: &str) -> String {
    let ms = (started * 1000.0).max(0.0) as u64;
    format!("{:020}{id}", u64::MAX / 2 - ms.min(u64::MAX / 2))
}

pub fn load_project(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<ProjectRecord>> {
    store
        .get(&project_key(account, region, name))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn project_write(account: &str, region: &str, project: Value) -> StoreResult<Write> {
    let name = project["name"].as_str().unwrap_or_default().to_owned();
    let record = ProjectRecord {
        format_version: FORMAT_VERSION,
        project,
    };
    Ok(Write::put(
        project_key(account, region, &name),
        encode(&record)?,
    ))
}

pub fn load_build(
    store: &dyn Store,
    account: &str,
    region: &str,
    id: &str,
) -> StoreResult<Option<BuildRecord>> {
    let Some(bytes) = store.get(&build_key(account, region, id))? else {
        return Ok(None);
    };
    let mut record: BuildRecord = decode(&bytes)?;
    if let (true, Some(simulated)) = (record.build.is_null(), &record.simulated) {
        record.build =
            super::pipeline_builds::render(store, account, region, id, record.started, simulated)?;
    }
    Ok(Some(record))
}

/// Whether a build of that id is recorded.
pub fn has_build(store: &dyn Store, account: &str, region: &str, id: &str) -> StoreResult<bool> {
    Ok(store.get(&build_key(account, region, id))?.is_some())
}

/// The writes that save `build`, listing it when it is new.
pub fn build_writes(
    account: &str,
    region: &str,
    build: Value,
    started: f64,
    is_new: bool,
) -> StoreResult<Vec<Write>> {
    let id = build["id"].as_str().unwrap_or_default().to_owned();
    let project = build["projectName"].as_str().unwrap_or_default().to_owned();
    let record = BuildRecord {
        format_version: FORMAT_VERSION,
        build,
        started,
        simulated: None,
    };
    record_writes(account, region, &id, &project, &record, is_new)
}

/// The writes that save a simulated build (new), in its small form.
pub fn simulated_writes(
    account: &str,
    region: &str,
    id: &str,
    started: f64,
    simulated: Simulated,
) -> StoreResult<Vec<Write>> {
    let project = project_of(id).to_owned();
    let record = BuildRecord {
        format_version: FORMAT_VERSION,
        build: Value::Null,
        started,
        simulated: Some(simulated),
    };
    record_writes(account, region, id, &project, &record, true)
}

fn record_writes(
    account: &str,
    region: &str,
    id: &str,
    project: &str,
    record: &BuildRecord,
    is_new: bool,
) -> StoreResult<Vec<Write>> {
    let mut writes = vec![Write::put(build_key(account, region, id), encode(record)?)];
    if is_new {
        let at = order(record.started, id);
        writes.push(Write::put(
            format!("{}{at}", all_builds_prefix(account, region)),
            id.as_bytes().to_vec(),
        ));
        writes.push(Write::put(
            format!("{}{at}", project_builds_prefix(account, region, project)),
            id.as_bytes().to_vec(),
        ));
    }
    Ok(writes)
}

/// The writes that forget a build and its places in the lists.
pub fn build_deletes(account: &str, region: &str, record: &BuildRecord) -> Vec<Write> {
    let id = record.build["id"].as_str().unwrap_or_default();
    deletes_of(account, region, id, record.started)
}

/// The writes that forget the ended build a pipeline's action ran (`--execution-history`
/// pruned its execution), with its log stream; none when `id` is no such build of `pipeline`.
pub fn pipeline_build_deletes(
    store: &dyn Store,
    account: &str,
    region: &str,
    pipeline: &str,
    id: &str,
) -> StoreResult<Vec<Write>> {
    let Some(bytes) = store.get(&build_key(account, region, id))? else {
        return Ok(Vec::new());
    };
    let record: BuildRecord = decode(&bytes)?;
    let (project, uuid) = id.split_once(':').unwrap_or((id, ""));
    let (group, stream) = match &record.simulated {
        Some(s) if s.pipeline == pipeline => (super::shape::log_group(project), uuid.to_owned()),
        Some(_) => return Ok(Vec::new()),
        None => {
            let b = &record.build;
            let ours = b["initiator"].as_str() == Some(&format!("codepipeline/{pipeline}"));
            if !ours || b["buildComplete"].as_bool() != Some(true) {
                return Ok(Vec::new());
            }
            let logs = &b["logs"];
            (
                logs["groupName"].as_str().unwrap_or_default().to_owned(),
                logs["streamName"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let mut writes = deletes_of(account, region, id, record.started);
    // A real build with CloudWatch logs turned off names no stream.
    if !group.is_empty() && !stream.is_empty() {
        writes.extend(crate::services::logs::records::stream_deletes(
            store, account, region, &group, &stream,
        )?);
    }
    Ok(writes)
}

fn deletes_of(account: &str, region: &str, id: &str, started: f64) -> Vec<Write> {
    let project = project_of(id);
    let at = order(started, id);
    vec![
        Write::delete(build_key(account, region, id)),
        Write::delete(format!("{}{at}", all_builds_prefix(account, region))),
        Write::delete(format!(
            "{}{at}",
            project_builds_prefix(account, region, project)
        )),
    ]
}

/// The project's next build number, and the write that takes it.
pub fn take_build_number(
    store: &dyn Store,
    account: &str,
    region: &str,
    project: &str,
) -> StoreResult<(i64, Write)> {
    let next = next_build_number(store, account, region, project)?;
    Ok((next, build_number_write(account, region, project, next + 1)))
}

/// The number the project's next build gets.
pub fn next_build_number(
    store: &dyn Store,
    account: &str,
    region: &str,
    project: &str,
) -> StoreResult<i64> {
    Ok(store
        .get(&number_key(account, region, project))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(1))
}

/// The write that makes `next` the project's next build number.
pub fn build_number_write(account: &str, region: &str, project: &str, next: i64) -> Write {
    Write::put(
        number_key(account, region, project),
        next.to_string().into_bytes(),
    )
}
