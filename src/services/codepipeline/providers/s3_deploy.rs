//! The real Amazon S3 deploy: the input artifact unzipped into `BucketName` (under `ObjectKey`
//! as a prefix when given) with `Extract: true`, or stored whole at `ObjectKey` with `false`.
//! `CacheControl` is each object's `Cache-Control`, `CannedACL` is kept beside it, and each
//! extracted file's `Content-Type` comes from its extension. An archive with an entry that
//! would land outside its prefix (`..`, an absolute path) fails the action and writes nothing.

use std::io::Read;
use std::path::Component;

use s3s::crypto::{Checksum as _, Md5};

use super::{failed, setting, TaskJob};
use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::codepipeline::domain::execution::model::ActionResult;
use crate::store::ObjectMeta;

/// The most an archive may expand to: a zip bomb fails the action instead of filling the disk.
const MAX_EXTRACTED: u64 = 4 * 1024 * 1024 * 1024;

pub fn run(artifacts: &ArtifactStore, job: &TaskJob) -> ActionResult {
    let bucket = setting(job, "BucketName");
    let extract = setting(job, "Extract").eq_ignore_ascii_case("true");
    let object_key = setting(job, "ObjectKey");
    let Some(input) = job.inputs.first() else {
        return failed("The S3 deploy action has no input artifact".to_owned());
    };
    let objects = artifacts.objects();
    let artifact = match objects.head(&input.bucket, &input.key) {
        Ok(Some(a)) => a,
        _ => {
            return failed(format!(
                "Unable to access the artifact with Amazon S3 object key '{}' located in the Amazon S3 artifact bucket '{}'. The object does not exist.",
                input.key, input.bucket
            ))
        }
    };
    let mut headers = std::collections::BTreeMap::new();
    for (setting_name, header) in [
        ("CacheControl", "cache-control"),
        ("CannedACL", "x-amz-acl"),
    ] {
        let value = setting(job, setting_name);
        if !value.is_empty() {
            headers.insert(header.to_owned(), value.to_owned());
        }
    }
    fn place<'a>(job: &'a TaskJob, bucket: &'a str, key: &'a str) -> Placement<'a> {
        Placement {
            bucket,
            key,
            account: &job.key.account,
            region: &job.key.region,
        }
    }
    let read = || -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        objects
            .open(&artifact)
            .and_then(|mut r| {
                r.read_to_end(&mut bytes)
                    .map_err(|e| crate::store::StoreError(e.to_string()))
            })
            .map_err(|e| format!("Could not read the input artifact: {e}"))?;
        Ok(bytes)
    };
    if !extract {
        let meta = ObjectMeta {
            etag: artifact.meta.etag.clone(),
            content_type: artifact.meta.content_type.clone(),
            headers,
            ..Default::default()
        };
        let stored = objects.open(&artifact).and_then(|mut body| {
            artifacts.put(&place(job, bucket, object_key), &mut body, meta, job.now)
        });
        return match stored {
            Ok(_) => deployed(bucket, object_key),
            Err(e) => failed(format!("Could not write s3://{bucket}/{object_key}: {e}")),
        };
    }
    let bytes = match read() {
        Ok(b) => b,
        Err(message) => return failed(message),
    };
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            return failed(format!(
                "The input artifact {} is not a valid zip file, so it cannot be extracted: {e}",
                input.name
            ))
        }
    };
    // Every entry is checked before anything is written.
    let mut entries = Vec::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index(i) else {
            return failed(format!("The input artifact {} is damaged", input.name));
        };
        if entry.is_dir() {
            continue;
        }
        let Some(name) = safe_name(entry.name()) else {
            return failed(format!(
                "The input artifact {} holds the entry '{}', which would be written outside {}; nothing was deployed",
                input.name,
                entry.name(),
                if object_key.is_empty() { format!("s3://{bucket}/") } else { format!("s3://{bucket}/{object_key}") }
            ));
        };
        total += entry.size();
        entries.push((i, name));
    }
    if total > MAX_EXTRACTED {
        return failed(format!(
            "The input artifact {} expands to {total} bytes, more than codepipeline-local extracts",
            input.name
        ));
    }
    let prefix = object_key.trim_matches('/');
    for (i, name) in entries {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let meta = ObjectMeta {
            content_type: mime_guess::from_path(&name)
                .first_raw()
                .map(str::to_owned)
                .or_else(|| Some("binary/octet-stream".to_owned())),
            headers: headers.clone(),
            ..Default::default()
        };
        let written = match archive.by_index(i) {
            Ok(mut entry) => {
                let mut body = Vec::new();
                match (&mut entry).take(MAX_EXTRACTED).read_to_end(&mut body) {
                    Ok(_) => {
                        let meta = ObjectMeta {
                            etag: Some(hex::encode(Md5::checksum(&body))),
                            ..meta
                        };
                        artifacts
                            .put(
                                &place(job, bucket, &key),
                                &mut body.as_slice(),
                                meta,
                                job.now,
                            )
                            .map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = written {
            return failed(format!("Could not write s3://{bucket}/{key}: {e}"));
        }
    }
    deployed(bucket, prefix)
}

/// The key an entry lands at under the prefix, when it stays under it: only plain path
/// segments, no `..`, no root, no drive.
fn safe_name(raw: &str) -> Option<String> {
    let normal = raw.replace('\\', "/");
    let path = std::path::Path::new(&normal);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn deployed(bucket: &str, key: &str) -> ActionResult {
    ActionResult {
        summary: Some(format!("Deployed to s3://{bucket}/{key}")),
        ..ActionResult::default()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn entries_stay_under_their_prefix() {
        assert_eq!(
            safe_name("site/index.html").as_deref(),
            Some("site/index.html")
        );
        assert_eq!(safe_name("./a/./b").as_deref(), Some("a/b"));
        for hostile in ["../x", "a/../../x", "/etc/passwd", "..\\x", "a/.."] {
            assert_eq!(safe_name(hostile), None, "{hostile}");
        }
    }
}
