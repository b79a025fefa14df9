//! The object operations: put, get and head (a version too), delete (delete markers when the
//! bucket versions), batch delete and copy. Bodies stream through the object store; each
//! upload is checked (`checksums`) before it becomes visible, and each change is published.

use axum::body::Bytes;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::checksums::Checks;
use super::events::Change;
use super::{blocking, etag, internal, no_such_key, now, timestamp, LocalS3};
use crate::store::{ObjectInfo, ObjectMeta, StoreError, Upload};

/// The largest single PUT S3 takes.
const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

fn too_large() -> s3s::S3Error {
    s3_error!(
        EntityTooLarge,
        "Your proposed upload exceeds the maximum allowed object size."
    )
}

/// The headers S3 stores with an object and returns as they were sent.
const KEPT_HEADERS: [&str; 4] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
];

impl LocalS3 {
    /// Streams a request body into a new upload, checking it on the way (`checksums`).
    pub(super) async fn receive<T>(
        &self,
        req: &S3Request<T>,
        body: Option<StreamingBlob>,
        content_md5: Option<&str>,
    ) -> S3Result<(Upload<'_>, [u8; 16], Checksum)> {
        let declared = req
            .headers
            .get("x-amz-decoded-content-length")
            .or_else(|| req.headers.get("content-length"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_PUT) {
            return Err(too_large());
        }
        let mut checks = Checks::of(req, content_md5);
        let mut upload = self.objects.upload().map_err(internal)?;
        if let Some(mut body) = body {
            use futures_util::StreamExt;
            while let Some(chunk) = body.next().await {
                let chunk: Bytes = chunk.map_err(|e| {
                    s3_error!(
                        IncompleteBody,
                        "The request body was not received whole: {e}"
                    )
                })?;
                if upload.size() + chunk.len() as u64 > MAX_PUT {
                    return Err(too_large());
                }
                checks.update(&chunk);
                upload.write(&chunk).map_err(internal)?;
            }
        }
        let (digest, checksum) = checks.verify()?;
        Ok((upload, digest, checksum))
    }

    /// The object, or the version asked for; a delete marker reads as no object.
    fn read_version(&self, bucket: &str, key: &str, version: Option<&str>) -> S3Result<ObjectInfo> {
        let found = match version {
            None => self.objects.head(bucket, key),
            Some(v) => self.objects.version(bucket, key, v),
        }
        .map_err(internal)?;
        match found {
            Some(info) if info.delete_marker => Err(s3_error!(
                MethodNotAllowed,
                "The specified method is not allowed against this resource."
            )),
            Some(info) => Ok(info),
            None if version.is_some() => Err(s3_error!(
                NoSuchVersion,
                "The specified version does not exist."
            )),
            None => Err(no_such_key()),
        }
    }

    pub(super) async fn put_object_call(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        let mut kept = std::collections::BTreeMap::new();
        for name in KEPT_HEADERS {
            if let Some(v) = req.headers.get(name).and_then(|v| v.to_str().ok()) {
                kept.insert(name.to_owned(), v.to_owned());
            }
        }
        let (upload, digest, checksum) = {
            let body = req.input.body.take();
            let md5 = req.input.content_md5.clone();
            self.receive(&req, body, md5.as_deref()).await?
        };
        let input = req.input;
        let etag = hex::encode(digest);
        let meta = ObjectMeta {
            etag: Some(etag.clone()),
            content_type: input.content_type.clone(),
            user_metadata: input.metadata.unwrap_or_default().into_iter().collect(),
            headers: kept,
        };
        let small = upload.size() <= crate::store::INLINE_MAX as u64;
        let commit =
            || upload.commit_unsynced(&input.bucket, &input.key, meta, now(), bucket.versioning());
        // A small body is only a record to write; a file body is fsynced, off the workers.
        let placed = if small { commit() } else { blocking(commit) }.map_err(internal)?;
        let info = self.durable(placed).await?;
        self.publish(&bucket, &info, Change::Created("PutObject"));
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            size: Some(info.size as i64),
            version_id: info.version_id.clone(),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            ..Default::default()
        }))
    }

    pub(super) fn head_object_call(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.bucket(&req, &req.input.bucket)?;
        let input = &req.input;
        let info = self.read_version(&input.bucket, &input.key, input.version_id.as_deref())?;
        preconditions(&info, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let d = Described::of(&info);
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(info.size as i64),
            content_type: d.content_type,
            e_tag: d.e_tag,
            last_modified: d.last_modified,
            metadata: d.metadata,
            cache_control: d.cache_control,
            content_disposition: d.content_disposition,
            content_encoding: d.content_encoding,
            content_language: d.content_language,
            version_id: info.version_id.clone(),
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    pub(super) fn get_object_call(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.bucket(&req, &req.input.bucket)?;
        let input = req.input;
        let info = self.read_version(&input.bucket, &input.key, input.version_id.as_deref())?;
        preconditions(&info, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let span = match &input.range {
            Some(range) => range.check(info.size)?,
            None => 0..info.size,
        };
        let reader = self.objects.open(&info).map_err(internal)?;
        let body = stream_body(reader, span.start, span.end - span.start);
        let d = Described::of(&info);
        Ok(S3Response::new(GetObjectOutput {
            body: Some(body),
            content_length: Some((span.end - span.start) as i64),
            content_range: input.range.map(|_| {
                format!(
                    "bytes {}-{}/{}",
                    span.start,
                    span.end.saturating_sub(1),
                    info.size
                )
            }),
            content_type: d.content_type,
            e_tag: d.e_tag,
            last_modified: d.last_modified,
            metadata: d.metadata,
            cache_control: d.cache_control,
            content_disposition: d.content_disposition,
            content_encoding: d.content_encoding,
            content_language: d.content_language,
            version_id: info.version_id.clone(),
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    /// Deletes one key or one version; what S3 answers about it.
    fn delete_one(
        &self,
        bucket: &super::buckets::BucketRecord,
        key: &str,
        version: Option<&str>,
    ) -> S3Result<DeletedObject> {
        match version {
            Some(v) => {
                let gone = self
                    .objects
                    .delete_version(&bucket.name, key, v)
                    .map_err(internal)?;
                if let Some(gone) = &gone {
                    self.publish(bucket, gone, Change::Deleted);
                }
                Ok(DeletedObject {
                    key: Some(key.to_owned()),
                    version_id: Some(v.to_owned()),
                    delete_marker: gone.as_ref().map(|g| g.delete_marker).filter(|m| *m),
                    ..Default::default()
                })
            }
            None => {
                let existed = self.objects.head(&bucket.name, key).map_err(internal)?;
                let marker = self
                    .objects
                    .delete(&bucket.name, key, bucket.versioning(), now())
                    .map_err(internal)?;
                if let Some(info) = marker.as_ref().or(existed.as_ref()) {
                    self.publish(bucket, info, Change::Deleted);
                }
                Ok(DeletedObject {
                    key: Some(key.to_owned()),
                    delete_marker: marker.as_ref().map(|_| true),
                    delete_marker_version_id: marker.map(|m| m.version().to_owned()),
                    ..Default::default()
                })
            }
        }
    }

    pub(super) fn delete_object_call(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        let input = &req.input;
        let done = blocking(|| self.delete_one(&bucket, &input.key, input.version_id.as_deref()))?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: done.delete_marker,
            version_id: done.delete_marker_version_id.or(done.version_id),
            ..Default::default()
        }))
    }

    pub(super) fn delete_objects_call(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        let input = req.input;
        if input.delete.objects.len() > 1000 {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        for object in input.delete.objects {
            let done =
                blocking(|| self.delete_one(&bucket, &object.key, object.version_id.as_deref()))?;
            if !quiet {
                deleted.push(done);
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            ..Default::default()
        }))
    }

    pub(super) async fn copy_object_call(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let CopySource::Bucket {
            bucket: from_bucket,
            key: from_key,
            version_id: from_version,
        } = &req.input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Copying from an access point is not implemented"
            ));
        };
        let target = self.bucket(&req, &req.input.bucket)?;
        self.bucket(&req, from_bucket)?;
        let input = &req.input;
        let source = self.read_version(from_bucket, from_key, from_version.as_deref())?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        if !replace && **from_bucket == *input.bucket && **from_key == *input.key {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let meta = if replace {
            ObjectMeta {
                etag: source.meta.etag.clone(),
                content_type: input.content_type.clone(),
                user_metadata: input
                    .metadata
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                headers: Default::default(),
            }
        } else {
            source.meta.clone()
        };
        let objects = &self.objects;
        let placed = blocking(|| -> S3Result<_> {
            let mut reader = objects.open(&source).map_err(internal)?;
            let mut upload = objects.upload().map_err(internal)?;
            copy_into(&mut reader, &mut upload)?;
            upload
                .commit_unsynced(&input.bucket, &input.key, meta, now(), target.versioning())
                .map_err(internal)
        })?;
        let copied = self.durable(placed).await?;
        self.publish(&target, &copied, Change::Created("CopyObject"));
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: etag(&copied),
                last_modified: Some(timestamp(copied.modified)),
                ..Default::default()
            }),
            version_id: copied.version_id.clone(),
            copy_source_version_id: source.version_id.clone(),
            ..Default::default()
        }))
    }
}

/// Copies a stored body into an upload, 64 KiB at a time.
pub(super) fn copy_into(reader: &mut dyn std::io::Read, upload: &mut Upload<'_>) -> S3Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| internal(StoreError(e.to_string())))?;
        if n == 0 {
            return Ok(());
        }
        upload.write(&buf[..n]).map_err(internal)?;
    }
}

/// What GetObject and HeadObject both say of an object.
struct Described {
    content_type: Option<String>,
    e_tag: Option<ETag>,
    last_modified: Option<Timestamp>,
    metadata: Option<Metadata>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
}

impl Described {
    fn of(info: &ObjectInfo) -> Self {
        let header = |name: &str| info.meta.headers.get(name).cloned();
        Described {
            content_type: info.meta.content_type.clone(),
            e_tag: etag(info),
            last_modified: Some(timestamp(info.modified)),
            metadata: Some(info.meta.user_metadata.clone().into_iter().collect()),
            cache_control: header("cache-control"),
            content_disposition: header("content-disposition"),
            content_encoding: header("content-encoding"),
            content_language: header("content-language"),
        }
    }
}

/// S3's conditional request headers against the stored object.
fn preconditions(
    info: &ObjectInfo,
    if_match: Option<&IfMatch>,
    if_none_match: Option<&IfNoneMatch>,
) -> S3Result<()> {
    let current = info.meta.etag.as_deref().unwrap_or_default();
    let names = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == current,
    };
    if if_match.is_some_and(|c| !names(c)) {
        return Err(s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold"
        ));
    }
    if if_none_match.is_some_and(names) {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

/// The body from `start`, `length` bytes of it, read on a blocking thread in 64 KiB chunks, so a
/// large object is never held whole.
fn stream_body(
    mut reader: Box<dyn std::io::Read + Send>,
    start: u64,
    length: u64,
) -> StreamingBlob {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut skip = std::io::Read::take(&mut reader, start);
        if let Err(e) = std::io::copy(&mut skip, &mut std::io::sink()) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = length;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            match reader.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    left -= n as u64;
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    StreamingBlob::wrap::<_, std::io::Error>(stream)
}
