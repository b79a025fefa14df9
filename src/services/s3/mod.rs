//! Amazon S3 on the same endpoint: the `s3s` crate speaks the REST protocol (parsing, XML,
//! errors, SigV4, aws-chunked bodies) and calls this service's `S3` implementation, which keeps
//! buckets as records and objects in the object store (`store::objects`), streaming bodies in
//! and out. Operations not implemented here answer S3's `NotImplemented` naming the operation.

mod access;
mod buckets;
mod listing;
mod multipart;

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use s3s::crypto::{Checksum, Md5};
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

use crate::store::{ObjectInfo, ObjectMeta, Objects, Store, StoreError, Upload};
use crate::wire::credentials::Credentials;

/// The S3 implementation: the store's bucket records and object bodies, and the key pairs that
/// say which account a request acts in.
pub struct LocalS3 {
    store: Arc<dyn Store>,
    objects: Arc<Objects>,
    credentials: Credentials,
}

/// The S3 service the wire hands S3 requests to.
pub fn service(
    store: Arc<dyn Store>,
    objects: Arc<Objects>,
    credentials: Credentials,
) -> S3Service {
    let mut builder = S3ServiceBuilder::new(LocalS3 {
        store,
        objects,
        credentials: credentials.clone(),
    });
    builder.set_auth(access::KeyPairs(credentials.clone()));
    builder.set_access(access::KeyPairs(credentials));
    builder.set_host(access::LocalHosts);
    builder.build()
}

fn internal(e: StoreError) -> s3s::S3Error {
    tracing::error!(error = %e, "store failure");
    s3_error!(
        InternalError,
        "We encountered an internal error. Please try again."
    )
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn timestamp(epoch: f64) -> Timestamp {
    Timestamp::from(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(epoch.max(0.0)))
}

fn etag(info: &ObjectInfo) -> Option<ETag> {
    info.meta.etag.clone().map(ETag::Strong)
}

impl LocalS3 {
    /// Streams a request body into a new upload; its MD5 too, checked against `Content-MD5`.
    async fn receive(
        &self,
        body: Option<StreamingBlob>,
        content_md5: Option<&str>,
    ) -> S3Result<(Upload<'_>, [u8; 16])> {
        let mut upload = self.objects.upload().map_err(internal)?;
        let mut md5 = Md5::new();
        if let Some(mut body) = body {
            use futures_util::StreamExt;
            while let Some(chunk) = body.next().await {
                let chunk: Bytes = chunk.map_err(|e| {
                    s3_error!(
                        IncompleteBody,
                        "The request body was not received whole: {e}"
                    )
                })?;
                md5.update(&chunk);
                upload.write(&chunk).map_err(internal)?;
            }
        }
        let digest = md5.finalize();
        if let Some(sent) = content_md5 {
            let ours = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
            if sent != ours {
                return Err(s3_error!(
                    BadDigest,
                    "The Content-MD5 you specified did not match what we received."
                ));
            }
        }
        Ok((upload, digest))
    }

    fn upload_of(&self, bucket: &str, id: &str) -> S3Result<multipart::UploadRecord> {
        self.bucket(bucket)?;
        multipart::load(self.store.as_ref(), bucket, id)
            .map_err(internal)?
            .ok_or_else(|| {
                s3_error!(
                    NoSuchUpload,
                    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
                )
            })
    }

    fn account<T>(&self, req: &S3Request<T>) -> String {
        req.credentials
            .as_ref()
            .map(|c| self.credentials.account_of(&c.access_key))
            .unwrap_or_else(|| crate::wire::context::DEFAULT_ACCOUNT.to_owned())
    }

    fn bucket(&self, name: &str) -> S3Result<buckets::BucketRecord> {
        buckets::load(self.store.as_ref(), name)
            .map_err(internal)?
            .ok_or_else(|| s3_error!(NoSuchBucket, "The specified bucket does not exist"))
    }

    fn object(&self, bucket: &str, key: &str) -> S3Result<ObjectInfo> {
        self.bucket(bucket)?;
        self.objects
            .head(bucket, key)
            .map_err(internal)?
            .ok_or_else(|| s3_error!(NoSuchKey, "The specified key does not exist."))
    }
}

/// What GetObject and HeadObject both say of an object: content type, ETag, last modified,
/// user metadata.
fn described(
    info: &ObjectInfo,
) -> (
    Option<String>,
    Option<ETag>,
    Option<Timestamp>,
    Option<Metadata>,
) {
    (
        info.meta.content_type.clone(),
        etag(info),
        Some(timestamp(info.modified)),
        Some(info.meta.user_metadata.clone().into_iter().collect()),
    )
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

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let account = self.account(&req);
        let owned: Vec<Bucket> = buckets::all(self.store.as_ref())
            .map_err(internal)?
            .into_iter()
            .filter(|b| b.account == account)
            .map(|b| Bucket {
                name: Some(b.name),
                creation_date: Some(timestamp(b.created)),
                bucket_region: Some(b.region),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(owned),
            owner: Some(Owner {
                id: Some(account.clone()),
                display_name: Some(account),
            }),
            ..Default::default()
        }))
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let account = self.account(&req);
        let name = req.input.bucket.clone();
        let region = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_owned())
            .or_else(|| req.region.as_ref().map(|r| r.as_str().to_owned()))
            .unwrap_or_else(|| "us-east-1".to_owned());
        if let Some(existing) = buckets::load(self.store.as_ref(), &name).map_err(internal)? {
            if existing.account != account {
                return Err(s3_error!(
                    BucketAlreadyExists,
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
                ));
            }
            // us-east-1 answers 200 to its owner, every other region 409 (S3 API reference).
            if existing.region != "us-east-1" {
                return Err(s3_error!(
                    BucketAlreadyOwnedByYou,
                    "Your previous request to create the named bucket succeeded and you already own it."
                ));
            }
        } else {
            buckets::put(self.store.as_ref(), &name, &account, &region, now()).map_err(internal)?;
        }
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = self.bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(bucket.region),
            ..Default::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let bucket = self.bucket(&req.input.bucket)?;
        // us-east-1 is the empty constraint, as S3 answers it.
        let location_constraint =
            (bucket.region != "us-east-1").then(|| BucketLocationConstraint::from(bucket.region));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint,
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = &req.input.bucket;
        self.bucket(name)?;
        let any = self.objects.list(name, "", None, 1).map_err(internal)?;
        if !any.is_empty() {
            return Err(s3_error!(
                BucketNotEmpty,
                "The bucket you tried to delete is not empty"
            ));
        }
        buckets::delete(self.store.as_ref(), name).map_err(internal)?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.bucket(&input.bucket)?;
        let (upload, digest) = self
            .receive(input.body, input.content_md5.as_deref())
            .await?;
        let etag = hex::encode(digest);
        let meta = ObjectMeta {
            etag: Some(etag.clone()),
            content_type: input.content_type.clone(),
            user_metadata: input.metadata.unwrap_or_default().into_iter().collect(),
        };
        let info = upload
            .commit(&input.bucket, &input.key, meta, now())
            .map_err(internal)?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            size: Some(info.size as i64),
            ..Default::default()
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let info = self.object(&req.input.bucket, &req.input.key)?;
        preconditions(
            &info,
            req.input.if_match.as_ref(),
            req.input.if_none_match.as_ref(),
        )?;
        let (content_type, e_tag, last_modified, metadata) = described(&info);
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(info.size as i64),
            content_type,
            e_tag,
            last_modified,
            metadata,
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let info = self.object(&input.bucket, &input.key)?;
        preconditions(&info, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let span = match &input.range {
            Some(range) => range.check(info.size)?,
            None => 0..info.size,
        };
        let Some((_, reader)) = self
            .objects
            .get(&input.bucket, &input.key)
            .map_err(internal)?
        else {
            return Err(s3_error!(NoSuchKey, "The specified key does not exist."));
        };
        let body = stream_body(reader, span.start, span.end - span.start);
        let (content_type, e_tag, last_modified, metadata) = described(&info);
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
            content_type,
            e_tag,
            last_modified,
            metadata,
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.bucket(&req.input.bucket)?;
        self.objects
            .delete(&req.input.bucket, &req.input.key)
            .map_err(internal)?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let account = self.account(&req);
        let input = req.input;
        self.bucket(&input.bucket)?;
        let mut record = multipart::new_record(&input.bucket, &input.key, &account, now());
        record.content_type = input.content_type;
        record.user_metadata = input.metadata.unwrap_or_default().into_iter().collect();
        multipart::create(self.store.as_ref(), &record).map_err(internal)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(record.id),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let record = self.upload_of(&input.bucket, &input.upload_id)?;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        let (upload, digest) = self
            .receive(input.body, input.content_md5.as_deref())
            .await?;
        let etag = hex::encode(digest);
        let meta = ObjectMeta {
            etag: Some(etag.clone()),
            ..Default::default()
        };
        upload
            .commit(
                multipart::PARTS,
                &multipart::part_key(&record.id, input.part_number),
                meta,
                now(),
            )
            .map_err(internal)?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let record = self.upload_of(&input.bucket, &input.upload_id)?;
        let listed = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if listed.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let invalid_part = || {
            s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            )
        };
        let mut parts = Vec::new();
        let mut previous = 0;
        for (i, p) in listed.iter().enumerate() {
            let number = p.part_number.unwrap_or_default();
            if number <= previous {
                return Err(s3_error!(
                    InvalidPartOrder,
                    "The list of parts was not in ascending order. The parts list must be specified in order by part number."
                ));
            }
            previous = number;
            let info = self
                .objects
                .head(multipart::PARTS, &multipart::part_key(&record.id, number))
                .map_err(internal)?
                .ok_or_else(invalid_part)?;
            let wanted = p.e_tag.as_ref().map(|e| e.value().to_owned());
            if wanted.is_some() && wanted != info.meta.etag {
                return Err(invalid_part());
            }
            if i + 1 < listed.len() && info.size < multipart::MIN_PART {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size."
                ));
            }
            parts.push(info);
        }
        // The parts are on disk already: copying them is blocking file work, done in place.
        let objects = &self.objects;
        let joined = tokio::task::block_in_place(|| -> S3Result<ObjectInfo> {
            let mut upload = objects.upload().map_err(internal)?;
            let mut md5s = Md5::new();
            let mut buf = vec![0u8; 64 * 1024];
            for part in &parts {
                let digest = part
                    .meta
                    .etag
                    .as_deref()
                    .and_then(|e| hex::decode(e).ok())
                    .unwrap_or_default();
                md5s.update(&digest);
                let Some((_, mut reader)) =
                    objects.get(multipart::PARTS, &part.key).map_err(internal)?
                else {
                    return Err(invalid_part());
                };
                loop {
                    let n = std::io::Read::read(&mut reader, &mut buf)
                        .map_err(|e| internal(StoreError(e.to_string())))?;
                    if n == 0 {
                        break;
                    }
                    upload.write(&buf[..n]).map_err(internal)?;
                }
            }
            let etag = format!("{}-{}", hex::encode(md5s.finalize()), parts.len());
            let meta = ObjectMeta {
                etag: Some(etag),
                content_type: record.content_type.clone(),
                user_metadata: record.user_metadata.clone(),
            };
            upload
                .commit(&record.bucket, &record.key, meta, now())
                .map_err(internal)
        })?;
        multipart::finish(self.store.as_ref(), &self.objects, &record).map_err(internal)?;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(record.bucket.clone()),
            key: Some(record.key.clone()),
            e_tag: etag(&joined),
            location: Some(format!("/{}/{}", record.bucket, record.key)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let record = self.upload_of(&req.input.bucket, &req.input.upload_id)?;
        multipart::finish(self.store.as_ref(), &self.objects, &record).map_err(internal)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let record = self.upload_of(&input.bucket, &input.upload_id)?;
        let max = input.max_parts.map_or(1000, |m| m.clamp(0, 1000) as usize);
        let after = input
            .part_number_marker
            .map(|m| multipart::part_key(&record.id, m));
        let mut found = self
            .objects
            .list(
                multipart::PARTS,
                &format!("{}/", record.id),
                after.as_deref(),
                max + 1,
            )
            .map_err(internal)?;
        let truncated = found.len() > max;
        found.truncate(max);
        let number = |key: &str| key.rsplit('/').next().and_then(|n| n.parse::<i32>().ok());
        let next = found
            .last()
            .and_then(|p| number(&p.key))
            .filter(|_| truncated);
        let parts = found
            .iter()
            .map(|p| Part {
                part_number: number(&p.key),
                size: Some(p.size as i64),
                e_tag: etag(p),
                last_modified: Some(timestamp(p.modified)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(record.bucket),
            key: Some(record.key),
            upload_id: Some(record.id),
            max_parts: Some(max as i32),
            is_truncated: Some(truncated),
            next_part_number_marker: next,
            part_number_marker: input.part_number_marker,
            parts: Some(parts),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        self.bucket(&input.bucket)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let uploads = multipart::all(self.store.as_ref(), &input.bucket)
            .map_err(internal)?
            .into_iter()
            .filter(|u| u.key.starts_with(&prefix))
            .map(|u| MultipartUpload {
                key: Some(u.key),
                upload_id: Some(u.id),
                initiated: Some(timestamp(u.initiated)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            is_truncated: Some(false),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        self.bucket(&input.bucket)?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        for object in input.delete.objects {
            self.objects
                .delete(&input.bucket, &object.key)
                .map_err(internal)?;
            if !quiet {
                deleted.push(DeletedObject {
                    key: Some(object.key),
                    ..Default::default()
                });
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let CopySource::Bucket {
            bucket: from_bucket,
            key: from_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Copying from an access point is not implemented"
            ));
        };
        self.bucket(&input.bucket)?;
        let source = self.object(from_bucket, from_key)?;
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
            }
        } else {
            source.meta.clone()
        };
        let objects = &self.objects;
        let copied = tokio::task::block_in_place(|| -> S3Result<ObjectInfo> {
            let Some((_, mut reader)) = objects.get(from_bucket, from_key).map_err(internal)?
            else {
                return Err(s3_error!(NoSuchKey, "The specified key does not exist."));
            };
            let mut upload = objects.upload().map_err(internal)?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = std::io::Read::read(&mut reader, &mut buf)
                    .map_err(|e| internal(StoreError(e.to_string())))?;
                if n == 0 {
                    break;
                }
                upload.write(&buf[..n]).map_err(internal)?;
            }
            upload
                .commit(&input.bucket, &input.key, meta, now())
                .map_err(internal)
        })?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: etag(&copied),
                last_modified: Some(timestamp(copied.modified)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.bucket(&req.input.bucket)?;
        let out = listing::list_v2(&self.objects, req.input)?;
        Ok(S3Response::new(out))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.bucket(&req.input.bucket)?;
        let out = listing::list_v1(&self.objects, req.input)?;
        Ok(S3Response::new(out))
    }
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
