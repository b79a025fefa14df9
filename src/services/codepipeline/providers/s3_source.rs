//! The real Amazon S3 source: the object at `S3Bucket`/`S3ObjectKey`, the version current at
//! start or the one `sourceRevisions` names, copied as-is into the artifact store. Its revision
//! is the version id, its change identifier the ETag, its summary the object's
//! `codepipeline-artifact-revision-summary` metadata or `Amazon S3 version id: ...` (API
//! reference, ArtifactRevision); its output variables are `ETag` and `VersionId`. AWS wants the
//! bucket versioned and fails the action otherwise.

use std::collections::BTreeMap;

use super::{failed, setting, TaskJob};
use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::codepipeline::domain::execution::model::{ActionResult, Revision};
use crate::store::{ObjectMeta, Versioning};

pub fn run(artifacts: &ArtifactStore, job: &TaskJob) -> ActionResult {
    let (bucket, key) = (setting(job, "S3Bucket"), setting(job, "S3ObjectKey"));
    let Some(record) = artifacts.bucket(bucket) else {
        return failed(format!(
            "The Amazon S3 bucket named {bucket} does not exist. Error: Amazon S3:NoSuchBucket:The specified bucket does not exist"
        ));
    };
    if record.versioning() != Versioning::Enabled {
        return failed(format!(
            "The Amazon S3 bucket named {bucket} does not have versioning enabled. An Amazon S3 source needs a versioned bucket: enable versioning, and then try again."
        ));
    }
    let objects = artifacts.objects();
    let found = match &job.revision {
        Some(version) => objects.version(bucket, key, version),
        None => objects.head(bucket, key),
    };
    let object = match found {
        Ok(Some(o)) if !o.delete_marker => o,
        Ok(_) if job.revision.is_some() => {
            return failed(format!(
                "Could not find version {} of the object with key '{key}' in the Amazon S3 bucket named {bucket}. Error: Amazon S3:NoSuchVersion:The specified version does not exist.",
                job.revision.as_deref().unwrap_or_default()
            ))
        }
        Ok(_) => {
            return failed(format!(
                "Could not find the object with key '{key}' in the Amazon S3 bucket named {bucket}. Error: Amazon S3:NoSuchKey:The specified key does not exist."
            ))
        }
        Err(e) => return failed(format!("Could not read s3://{bucket}/{key}: {e}")),
    };
    for out in &job.outputs {
        let at = Placement {
            bucket: &out.bucket,
            key: &out.key,
            account: &job.key.account,
            region: &job.key.region,
        };
        let copied = objects.open(&object).and_then(|mut body| {
            let meta = ObjectMeta {
                etag: object.meta.etag.clone(),
                content_type: object.meta.content_type.clone(),
                ..Default::default()
            };
            artifacts.put(&at, &mut body, meta, job.now)
        });
        if let Err(e) = copied {
            return failed(format!(
                "Could not write the artifact s3://{}/{}: {e}",
                out.bucket, out.key
            ));
        }
    }
    let version = object.version().to_owned();
    let etag = object.meta.etag.clone().unwrap_or_default();
    let summary = object
        .meta
        .user_metadata
        .get("codepipeline-artifact-revision-summary")
        .cloned()
        .unwrap_or_else(|| format!("Amazon S3 version id: {version}"));
    ActionResult {
        summary: Some(summary.clone()),
        external_execution_id: Some(version.clone()),
        output_variables: BTreeMap::from([
            ("ETag".to_owned(), etag.clone()),
            ("VersionId".to_owned(), version.clone()),
        ]),
        revision: Some(Revision {
            revision_id: version,
            revision_summary: Some(summary),
            revision_url: None,
            change_identifier: Some(etag),
            created: object.modified,
        }),
        ..ActionResult::default()
    }
}
