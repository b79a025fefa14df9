//! The stored records the handlers read and write, and their load/save helpers.

use serde::{Deserialize, Serialize};

use crate::domain::action_types::CustomActionType;
use crate::domain::pipeline::PipelineDeclaration;
use crate::domain::tags::Tag;
use crate::error::AwsError;
use crate::store::{decode, encode, Keys, Store, Write, FORMAT_VERSION};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRecord {
    pub format_version: u32,
    pub arn: String,
    pub declaration: PipelineDeclaration,
    pub created: f64,
    pub updated: f64,
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

pub fn load_custom_action_types(
    store: &dyn Store,
    account: &str,
    region: &str,
) -> Result<Vec<CustomActionType>, AwsError> {
    store
        .scan(
            &Keys::custom_action_types(account, region),
            None,
            usize::MAX,
        )?
        .into_iter()
        .map(|(_, bytes)| decode(&bytes).map_err(AwsError::from))
        .collect()
}
