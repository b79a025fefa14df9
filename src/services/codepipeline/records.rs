//! Typed records on top of the key-value store: pipelines (current and numbered versions),
//! tags, custom action types and executions, with their load and write helpers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use super::keys::Keys;
use crate::error::AwsError;
use crate::services::codepipeline::domain::action_types::CustomActionType;
use crate::services::codepipeline::domain::execution::model::{
    ActionStatus, Execution, JobStatus, PipelineRuntime,
};
use crate::services::codepipeline::domain::pipeline::{ActionTypeId, PipelineDeclaration};
use crate::services::codepipeline::domain::tags::Tag;
use crate::store::{decode, encode, encode_packed, Store, Write, FORMAT_VERSION};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRecord {
    pub format_version: u32,
    pub arn: String,
    pub declaration: PipelineDeclaration,
    pub created: f64,
    pub updated: f64,
}

/// What `ListPipelines` shows of a pipeline record. Decoding only these members skips the
/// stages without building them, several times cheaper than the whole record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineListing {
    pub declaration: ListedDeclaration,
    pub created: f64,
    pub updated: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedDeclaration {
    pub name: String,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub pipeline_type: Option<String>,
    #[serde(default)]
    pub execution_mode: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsRecord {
    pub format_version: u32,
    pub tags: Vec<Tag>,
}

pub fn load_pipeline(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<PipelineRecord>, AwsError> {
    Ok(match store.get(&Keys::pipeline(account, region, name))? {
        Some(bytes) => Some(decode(&bytes)?),
        None => None,
    })
}

/// Pipeline records as last decoded, each with the bytes it was decoded from, so that a load
/// reading the same bytes skips decoding the declaration again: StartPipelineExecution loads its
/// pipeline on every call. Checked against the stored bytes, never invalidated, so it is right
/// for any store; shared by the process and emptied when full.
type Decoded = HashMap<String, (Vec<u8>, Arc<PipelineRecord>)>;
const DECODED_KEPT: usize = 256;

fn decoded() -> &'static Mutex<Decoded> {
    static DECODED: OnceLock<Mutex<Decoded>> = OnceLock::new();
    DECODED.get_or_init(Mutex::default)
}

/// `load_pipeline` for readers that only look: the same record is decoded once while it is
/// unchanged.
pub fn load_pipeline_shared(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<Arc<PipelineRecord>>, AwsError> {
    let key = Keys::pipeline(account, region, name);
    let Some(bytes) = store.get(&key)? else {
        return Ok(None);
    };
    if let Ok(kept) = decoded().lock() {
        if let Some((kept_bytes, record)) = kept.get(&key) {
            if *kept_bytes == bytes {
                return Ok(Some(record.clone()));
            }
        }
    }
    let record = Arc::new(decode::<PipelineRecord>(&bytes)?);
    if let Ok(mut kept) = decoded().lock() {
        if kept.len() >= DECODED_KEPT && !kept.contains_key(&key) {
            kept.clear();
        }
        kept.insert(key, (bytes, record.clone()));
    }
    Ok(Some(record))
}

/// The current version of a pipeline's declaration, decoding only the members it needs.
pub fn load_current_version(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<i64>, AwsError> {
    Ok(match store.get(&Keys::pipeline(account, region, name))? {
        Some(bytes) => Some(
            decode::<PipelineListing>(&bytes)?
                .declaration
                .version
                .unwrap_or(1),
        ),
        None => None,
    })
}

/// The writes that store `record` as the current declaration and as its numbered version.
pub fn pipeline_writes(
    account: &str,
    region: &str,
    record: &PipelineRecord,
) -> Result<Vec<Write>, AwsError> {
    let name = &record.declaration.name;
    let version = record.declaration.version.unwrap_or(1);
    Ok(vec![
        Write::put(Keys::pipeline(account, region, name), encode(record)?),
        Write::put(
            Keys::pipeline_version(account, region, name, version),
            encode(&record.declaration)?,
        ),
    ])
}

pub fn load_pipeline_version(
    store: &dyn Store,
    account: &str,
    region: &str,
    name: &str,
    version: i64,
) -> Result<Option<PipelineDeclaration>, AwsError> {
    Ok(
        match store.get(&Keys::pipeline_version(account, region, name, version))? {
            Some(bytes) => Some(decode(&bytes)?),
            None => None,
        },
    )
}

pub fn load_tags(
    store: &dyn Store,
    account: &str,
    region: &str,
    arn: &str,
) -> Result<Vec<Tag>, AwsError> {
    Ok(match store.get(&Keys::tags(account, region, arn))? {
        Some(bytes) => decode::<TagsRecord>(&bytes)?.tags,
        None => Vec::new(),
    })
}

pub fn tags_write(
    account: &str,
    region: &str,
    arn: &str,
    tags: Vec<Tag>,
) -> Result<Write, AwsError> {
    let key = Keys::tags(account, region, arn);
    if tags.is_empty() {
        return Ok(Write::delete(key));
    }
    Ok(Write::put(
        key,
        encode(&TagsRecord {
            format_version: FORMAT_VERSION,
            tags,
        })?,
    ))
}

/// Custom action types and third-party types changed by `UpdateActionType`: the stored part
/// of one account and region's catalog.
pub fn load_custom_action_types(
    store: &dyn Store,
    account: &str,
    region: &str,
) -> Result<Vec<CustomActionType>, AwsError> {
    let mut out = Vec::new();
    for prefix in [
        Keys::custom_action_types(account, region),
        Keys::declared_action_types(account, region),
    ] {
        for (_, bytes) in store.scan(&prefix, None, usize::MAX)? {
            out.push(decode(&bytes)?);
        }
    }
    Ok(out)
}

pub fn load_execution(
    store: &dyn Store,
    account: &str,
    region: &str,
    pipeline: &str,
    id: &str,
) -> Result<Option<Execution>, AwsError> {
    Ok(
        match store.get(&Keys::execution(account, region, pipeline, id))? {
            Some(bytes) => Some(decode(&bytes)?),
            None => None,
        },
    )
}

pub fn load_runtime(
    store: &dyn Store,
    account: &str,
    region: &str,
    pipeline: &str,
) -> Result<PipelineRuntime, AwsError> {
    Ok(
        match store.get(&Keys::runtime(account, region, pipeline))? {
            Some(bytes) => decode(&bytes)?,
            None => PipelineRuntime {
                format_version: FORMAT_VERSION,
                ..PipelineRuntime::default()
            },
        },
    )
}

/// The unfinished executions of a pipeline, oldest first.
pub fn load_active(
    store: &dyn Store,
    account: &str,
    region: &str,
    pipeline: &str,
) -> Result<Vec<Execution>, AwsError> {
    let mut out = Vec::new();
    for (key, _) in store.scan(
        &Keys::actives_of(account, region, pipeline),
        None,
        usize::MAX,
    )? {
        let id = key.rsplit('/').next().unwrap_or_default();
        if let Some(e) = load_execution(store, account, region, pipeline, id)? {
            out.push(e);
        }
    }
    out.sort_by_key(|e| e.seq);
    Ok(out)
}

/// What the store already holds of an execution: whether it was finished, and which action
/// execution ids lead to it. `None` for an execution never written.
pub struct Written {
    pub finished: bool,
    pub action_execution_ids: Vec<String>,
}

/// The writes that store an execution and keep its order, active and action-execution index
/// entries right, writing an index key only when it changes: every step writes the record, and
/// rewriting unchanged keys beside it only fed the store's log.
pub fn execution_writes(
    account: &str,
    region: &str,
    e: &Execution,
    before: Option<&Written>,
) -> Result<Vec<Write>, AwsError> {
    let p = &e.pipeline_name;
    let mut writes = vec![Write::put(
        Keys::execution(account, region, p, &e.id),
        encode_packed(e)?,
    )];
    if before.is_none() {
        writes.push(Write::put(
            Keys::execution_order(account, region, p, e.seq),
            e.id.clone().into_bytes(),
        ));
    }
    let was_finished = before.map(|b| b.finished);
    let active = Keys::active(account, region, p, &e.id);
    match (e.status.is_finished(), was_finished) {
        // An execution that started and finished within one step never had its mark.
        (true, Some(true) | None) | (false, Some(false)) => {}
        (true, Some(false)) => writes.push(Write::delete(active)),
        (false, _) => writes.push(Write::put(active, Vec::new())),
    }
    // Earlier attempts' ids were indexed when they were current.
    let new_ids: Vec<&String> = e
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|run| run.action_execution_id.as_ref())
        .filter(|id| before.is_none_or(|b| !b.action_execution_ids.contains(id)))
        .collect();
    if !new_ids.is_empty() {
        let index = encode(&ActionExecutionIndex {
            pipeline: p.clone(),
            execution_id: e.id.clone(),
        })?;
        for id in new_ids {
            writes.push(Write::put(
                Keys::action_execution(account, region, id),
                index.clone(),
            ));
        }
    }
    Ok(writes)
}

pub fn runtime_write(
    account: &str,
    region: &str,
    pipeline: &str,
    r: &PipelineRuntime,
) -> Result<Write, AwsError> {
    Ok(Write::put(
        Keys::runtime(account, region, pipeline),
        encode_packed(r)?,
    ))
}

/// Every record of a pipeline's executions and runtime, for `DeletePipeline`.
pub fn execution_deletes(
    store: &dyn Store,
    account: &str,
    region: &str,
    pipeline: &str,
) -> Result<Vec<Write>, AwsError> {
    let mut writes = vec![Write::delete(Keys::runtime(account, region, pipeline))];
    // The indexes that lead from action execution and job ids into these executions go too.
    // (Queued-job entries are skipped lazily by pollers once their job is gone.)
    for (_, bytes) in store.scan(
        &Keys::executions(account, region, pipeline),
        None,
        usize::MAX,
    )? {
        let e: Execution = decode(&bytes)?;
        for run in e
            .stages
            .iter()
            .flat_map(|s| s.actions.iter().chain(&s.history))
        {
            if let Some(id) = &run.action_execution_id {
                writes.push(Write::delete(Keys::action_execution(account, region, id)));
            }
            if let Some(job) = &run.job {
                writes.push(Write::delete(Keys::job(account, region, &job.id)));
            }
        }
    }
    for prefix in [
        Keys::executions(account, region, pipeline),
        Keys::execution_orders(account, region, pipeline),
        Keys::actives_of(account, region, pipeline),
        Keys::finished_of(account, region, pipeline),
    ] {
        writes.extend(
            store
                .scan(&prefix, None, usize::MAX)?
                .into_iter()
                .map(|(k, _)| Write::delete(k)),
        );
    }
    Ok(writes)
}

/// Where a job belongs: stored when the job is issued, read by every job operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobIndex {
    pub format_version: u32,
    pub pipeline: String,
    pub execution_id: String,
    pub stage: String,
    pub action: String,
    pub action_type_id: ActionTypeId,
}

pub fn load_job_index(
    store: &dyn Store,
    account: &str,
    region: &str,
    job_id: &str,
) -> Result<Option<JobIndex>, AwsError> {
    Ok(match store.get(&Keys::job(account, region, job_id))? {
        Some(bytes) => Some(decode(&bytes)?),
        None => None,
    })
}

/// The writes that keep each job of `e` findable, and queued exactly while a worker may take it.
pub fn job_writes(
    account: &str,
    region: &str,
    e: &Execution,
    decl: Option<&PipelineDeclaration>,
) -> Result<Vec<Write>, AwsError> {
    let mut writes = Vec::new();
    for stage in &e.stages {
        for run in &stage.actions {
            let Some(job) = &run.job else { continue };
            let Some(action) = decl
                .and_then(|d| d.stages.iter().find(|s| s.name == stage.name))
                .and_then(|s| s.actions.iter().find(|a| a.name == run.name))
            else {
                continue;
            };
            let index = JobIndex {
                format_version: FORMAT_VERSION,
                pipeline: e.pipeline_name.clone(),
                execution_id: e.id.clone(),
                stage: stage.name.clone(),
                action: run.name.clone(),
                action_type_id: action.action_type_id.clone(),
            };
            writes.push(Write::put(
                Keys::job(account, region, &job.id),
                encode(&index)?,
            ));
            let queued = Keys::queued_job(account, region, &action.action_type_id, &job.id);
            let waiting = job.status == JobStatus::Queued
                && run.status == Some(ActionStatus::InProgress)
                && e.stop.is_none()
                && !e.status.is_finished();
            writes.push(if waiting {
                Write::put(queued, Vec::new())
            } else {
                Write::delete(queued)
            });
        }
    }
    Ok(writes)
}

/// Where an action execution id leads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionExecutionIndex {
    pub pipeline: String,
    pub execution_id: String,
}

pub fn load_action_execution_index(
    store: &dyn Store,
    account: &str,
    region: &str,
    action_execution_id: &str,
) -> Result<Option<ActionExecutionIndex>, AwsError> {
    Ok(
        match store.get(&Keys::action_execution(
            account,
            region,
            action_execution_id,
        ))? {
            Some(bytes) => Some(decode(&bytes)?),
            None => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn record(name: &str, version: i64) -> PipelineRecord {
        let declaration = serde_json::from_value(serde_json::json!({
            "name": name, "roleArn": "arn:aws:iam::1:role/r", "version": version, "stages": [],
        }))
        .unwrap();
        PipelineRecord {
            format_version: FORMAT_VERSION,
            arn: format!("arn:aws:codepipeline:r:1:{name}"),
            declaration,
            created: 1.0,
            updated: 1.0,
        }
    }

    #[test]
    fn a_shared_load_decodes_again_only_what_changed() {
        let store = SledStore::temporary().unwrap();
        let name = "shared-load-test";
        assert!(load_pipeline_shared(&store, "1", "r", name)
            .unwrap()
            .is_none());
        store
            .apply(pipeline_writes("1", "r", &record(name, 1)).unwrap())
            .unwrap();
        let first = load_pipeline_shared(&store, "1", "r", name)
            .unwrap()
            .unwrap();
        let again = load_pipeline_shared(&store, "1", "r", name)
            .unwrap()
            .unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "unchanged bytes are not decoded again"
        );
        store
            .apply(pipeline_writes("1", "r", &record(name, 2)).unwrap())
            .unwrap();
        let updated = load_pipeline_shared(&store, "1", "r", name)
            .unwrap()
            .unwrap();
        assert_eq!(updated.declaration.version, Some(2));
        assert_eq!(
            load_current_version(&store, "1", "r", name).unwrap(),
            Some(2)
        );
        store
            .apply(vec![Write::delete(Keys::pipeline("1", "r", name))])
            .unwrap();
        assert!(load_pipeline_shared(&store, "1", "r", name)
            .unwrap()
            .is_none());
    }
}
