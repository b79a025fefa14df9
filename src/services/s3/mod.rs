//! Amazon S3 on the same endpoint: the `s3s` crate speaks the REST protocol (parsing, XML,
//! errors, SigV4, aws-chunked bodies) and calls this service's `S3` implementation, which keeps
//! buckets as records and objects in the object store (`store::objects`), streaming bodies in
//! and out, and publishes `Object Created` and `Object Deleted` on the event bus. Operations not
//! implemented here answer S3's `NotImplemented` naming the operation. The trait methods below
//! only hand over to the file that owns each family of operations.

mod access;
mod bucket_calls;
pub mod buckets;
mod checksums;
pub mod cors;
mod events;
mod multipart;
mod multipart_calls;
mod object_calls;
pub mod pruned;
mod versions;

use std::sync::Arc;
use std::time::SystemTime;

use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

use crate::services::bus::Bus;
use crate::store::{GroupFlush, ObjectInfo, Objects, Placed, Store, StoreError};
use crate::wire::credentials::{Credentials, ANY_ACCOUNT};

pub use access::bucket_of_host;

/// The S3 implementation: the store's bucket records and object bodies, the key pairs that
/// say which account a request acts in, and the bus its events go to.
pub struct LocalS3 {
    store: Arc<dyn Store>,
    /// Uploads share disk syncs with each other and with every other writer.
    flusher: Arc<GroupFlush>,
    objects: Arc<Objects>,
    credentials: Credentials,
    bus: Bus,
}

/// The S3 service the wire hands S3 requests to.
pub fn service(
    store: Arc<dyn Store>,
    flusher: Arc<GroupFlush>,
    objects: Arc<Objects>,
    credentials: Credentials,
    bus: Bus,
) -> S3Service {
    let mut builder = S3ServiceBuilder::new(LocalS3 {
        store,
        flusher,
        objects,
        credentials: credentials.clone(),
        bus,
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

/// Runs blocking file work (fsyncs, large copies) off the async workers where the runtime
/// allows it.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn no_such_key() -> s3s::S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

impl LocalS3 {
    /// Waits until what `placed` wrote is on disk (one sync for every writer waiting), then
    /// lets go of the bodies it displaced.
    async fn durable(&self, placed: Placed<'_>) -> S3Result<ObjectInfo> {
        self.flusher.sync().await.map_err(internal)?;
        placed.settle().map_err(internal)
    }

    fn account<T>(&self, req: &S3Request<T>) -> String {
        match req.credentials.as_ref() {
            Some(c) if c.access_key == crate::wire::credentials::ARTIFACT_ACCESS_KEY => {
                ANY_ACCOUNT.to_owned()
            }
            Some(c) => self.credentials.account_of(&c.access_key),
            None => crate::wire::context::DEFAULT_ACCOUNT.to_owned(),
        }
    }

    /// The bucket, when the caller's account owns it: another account's bucket is
    /// `AccessDenied`, as S3 answers without a bucket policy that grants access.
    fn bucket<T>(&self, req: &S3Request<T>, name: &str) -> S3Result<buckets::BucketRecord> {
        let record = buckets::load(self.store.as_ref(), name)
            .map_err(internal)?
            .ok_or_else(|| s3_error!(NoSuchBucket, "The specified bucket does not exist"))?;
        let account = self.account(req);
        if record.account != account && account != ANY_ACCOUNT {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        Ok(record)
    }
}

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.list_buckets_call(req)
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.create_bucket_call(req)
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(bucket.region),
            ..Default::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
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
        self.delete_bucket_call(req)
    }

    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        self.put_bucket_versioning_call(req)
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: bucket.versioning.map(BucketVersioningStatus::from),
            ..Default::default()
        }))
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        self.put_bucket_tagging_call(req)
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        self.get_bucket_tagging_call(req)
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let mut bucket = self.bucket(&req, &req.input.bucket)?;
        bucket.tags.clear();
        buckets::save(self.store.as_ref(), &bucket).map_err(internal)?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }

    async fn put_bucket_cors(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        self.put_bucket_cors_call(req)
    }

    async fn get_bucket_cors(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        self.get_bucket_cors_call(req)
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        let mut bucket = self.bucket(&req, &req.input.bucket)?;
        bucket.cors.clear();
        buckets::save(self.store.as_ref(), &bucket).map_err(internal)?;
        Ok(S3Response::new(DeleteBucketCorsOutput {}))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.put_object_call(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.head_object_call(req)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.get_object_call(req)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.delete_object_call(req)
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.delete_objects_call(req)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.copy_object_call(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.bucket(&req, &req.input.bucket)?;
        Ok(S3Response::new(versions::list_v2(
            &self.objects,
            req.input,
        )?))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.bucket(&req, &req.input.bucket)?;
        Ok(S3Response::new(versions::list_v1(
            &self.objects,
            req.input,
        )?))
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.bucket(&req, &req.input.bucket)?;
        Ok(S3Response::new(versions::list_versions(
            &self.objects,
            req.input,
        )?))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.create_multipart_upload_call(req)
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.upload_part_call(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_multipart_upload_call(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let record = self.upload_of(&req, &req.input.bucket, &req.input.upload_id)?;
        multipart::finish(self.store.as_ref(), &self.objects, &record).map_err(internal)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.list_parts_call(req)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.list_multipart_uploads_call(req)
    }
}
