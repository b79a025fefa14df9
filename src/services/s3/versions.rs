//! The listings: ListObjectsV2 and ListObjects (current versions, delete markers hidden) and
//! ListObjectVersions (every version and delete marker), keys in order under a prefix, grouped
//! into common prefixes at the delimiter, a page at a time. The continuation token is the hex of
//! where the page ended (a key, or a common prefix, after which every key under it is skipped).

use s3s::dto::*;
use s3s::{s3_error, S3Result};

use crate::store::Objects;

/// What one page holds.
struct Page {
    contents: Vec<Object>,
    prefixes: Vec<String>,
    /// Where the next page starts after, when there is one.
    next: Option<String>,
}

/// Sorts after every key that starts with `prefix`.
fn past(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn page(
    objects: &Objects,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<String>,
    max_keys: usize,
) -> S3Result<Page> {
    let mut out = Page {
        contents: Vec::new(),
        prefixes: Vec::new(),
        next: None,
    };
    let mut cursor = after;
    loop {
        let batch = objects
            .list(bucket, prefix, cursor.as_deref(), 1000)
            .map_err(super::internal)?;
        if batch.is_empty() {
            return Ok(out);
        }
        for info in &batch {
            if info.delete_marker {
                cursor = Some(info.key.clone());
                continue;
            }
            if out.contents.len() + out.prefixes.len() == max_keys {
                // A full page with more after it.
                out.next = out
                    .contents
                    .last()
                    .and_then(|o| o.key.clone())
                    .into_iter()
                    .chain(out.prefixes.last().cloned())
                    .max();
                return Ok(out);
            }
            let rest = &info.key[prefix.len()..];
            match delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
                Some(end) => {
                    let common = format!("{prefix}{}", &rest[..end]);
                    cursor = Some(past(&common));
                    out.prefixes.push(common);
                    break;
                }
                None => {
                    cursor = Some(info.key.clone());
                    out.contents.push(Object {
                        key: Some(info.key.clone()),
                        size: Some(info.size as i64),
                        e_tag: info.meta.etag.clone().map(ETag::Strong),
                        last_modified: Some(super::timestamp(info.modified)),
                        storage_class: Some(ObjectStorageClass::from_static(
                            ObjectStorageClass::STANDARD,
                        )),
                        ..Default::default()
                    });
                }
            }
        }
    }
}

fn decode_token(token: &str) -> S3Result<String> {
    hex::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

/// A page ends after a common prefix: the next one starts past every key under it.
fn resume_after(end: &str, delimiter: Option<&str>) -> String {
    match delimiter {
        Some(d) if end.ends_with(d) => past(end),
        _ => end.to_owned(),
    }
}

fn common_prefixes(prefixes: Vec<String>) -> Vec<CommonPrefix> {
    prefixes
        .into_iter()
        .map(|prefix| CommonPrefix {
            prefix: Some(prefix),
        })
        .collect()
}

fn max_keys(requested: Option<i32>) -> usize {
    requested.map_or(1000, |m| m.clamp(0, 1000) as usize)
}

pub fn list_v2(objects: &Objects, input: ListObjectsV2Input) -> S3Result<ListObjectsV2Output> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let after = match &input.continuation_token {
        Some(t) => Some(resume_after(&decode_token(t)?, delimiter.as_deref())),
        None => input.start_after.clone(),
    };
    let limit = max_keys(input.max_keys);
    let p = page(
        objects,
        &input.bucket,
        &prefix,
        delimiter.as_deref(),
        after,
        limit,
    )?;
    let count = (p.contents.len() + p.prefixes.len()) as i32;
    Ok(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(prefix),
        delimiter,
        max_keys: Some(limit as i32),
        key_count: Some(count),
        is_truncated: Some(p.next.is_some()),
        next_continuation_token: p.next.map(hex::encode),
        continuation_token: input.continuation_token,
        start_after: input.start_after,
        contents: Some(p.contents),
        common_prefixes: Some(common_prefixes(p.prefixes)),
        encoding_type: input.encoding_type,
        ..Default::default()
    })
}

pub fn list_v1(objects: &Objects, input: ListObjectsInput) -> S3Result<ListObjectsOutput> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let after = input
        .marker
        .as_deref()
        .map(|m| resume_after(m, delimiter.as_deref()));
    let limit = max_keys(input.max_keys);
    let p = page(
        objects,
        &input.bucket,
        &prefix,
        delimiter.as_deref(),
        after,
        limit,
    )?;
    Ok(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(prefix),
        marker: input.marker,
        max_keys: Some(limit as i32),
        is_truncated: Some(p.next.is_some()),
        // S3 names the next marker only when a delimiter is given.
        next_marker: p.next.filter(|_| delimiter.is_some()),
        delimiter,
        contents: Some(p.contents),
        common_prefixes: Some(common_prefixes(p.prefixes)),
        encoding_type: input.encoding_type,
        ..Default::default()
    })
}

/// ListObjectVersions: versions and delete markers by key, newest first; a common prefix
/// stands for every version under it.
pub fn list_versions(
    objects: &Objects,
    input: ListObjectVersionsInput,
) -> S3Result<ListObjectVersionsOutput> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let limit = max_keys(input.max_keys);
    let mut cursor: Option<(String, Option<String>)> = input
        .key_marker
        .clone()
        .filter(|k| !k.is_empty())
        .map(|k| (k, input.version_id_marker.clone().filter(|v| !v.is_empty())));
    let mut versions = Vec::new();
    let mut markers = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut next: Option<(String, Option<String>)> = None;
    'pages: loop {
        let after = cursor.as_ref().map(|(k, v)| (k.as_str(), v.as_deref()));
        let batch = objects
            .list_versions(&input.bucket, &prefix, after, 1000)
            .map_err(super::internal)?;
        if batch.is_empty() {
            break;
        }
        let mut latest_of: Option<String> = cursor.as_ref().map(|(k, _)| k.clone());
        for info in batch {
            let is_latest = latest_of.as_deref() != Some(info.key.as_str());
            latest_of = Some(info.key.clone());
            if versions.len() + markers.len() + prefixes.len() == limit {
                next = cursor.clone();
                break 'pages;
            }
            let rest = &info.key[prefix.len()..];
            if let Some(end) = delimiter
                .as_deref()
                .and_then(|d| rest.find(d).map(|i| i + d.len()))
            {
                let common = format!("{prefix}{}", &rest[..end]);
                cursor = Some((past(&common), None));
                prefixes.push(common);
                continue 'pages;
            }
            cursor = Some((info.key.clone(), Some(info.version().to_owned())));
            let owner = None;
            if info.delete_marker {
                markers.push(DeleteMarkerEntry {
                    is_latest: Some(is_latest),
                    key: Some(info.key.clone()),
                    last_modified: Some(super::timestamp(info.modified)),
                    owner,
                    version_id: Some(info.version().to_owned()),
                });
            } else {
                versions.push(ObjectVersion {
                    e_tag: info.meta.etag.clone().map(ETag::Strong),
                    is_latest: Some(is_latest),
                    key: Some(info.key.clone()),
                    last_modified: Some(super::timestamp(info.modified)),
                    owner,
                    size: Some(info.size as i64),
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    version_id: Some(info.version().to_owned()),
                    ..Default::default()
                });
            }
        }
    }
    Ok(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(prefix),
        delimiter,
        max_keys: Some(limit as i32),
        is_truncated: Some(next.is_some()),
        next_key_marker: next.as_ref().map(|(k, _)| k.clone()),
        next_version_id_marker: next.and_then(|(_, v)| v),
        key_marker: input.key_marker,
        version_id_marker: input.version_id_marker,
        versions: Some(versions),
        delete_markers: Some(markers),
        common_prefixes: Some(common_prefixes(prefixes)),
        encoding_type: input.encoding_type,
        ..Default::default()
    })
}
