//! The multipart operations: create, upload a part, complete (the parts joined, in the order the
//! request lists them, into one new body with S3's `-N` ETag), list parts and list uploads.
//! Abort is one line in `mod.rs`. The records and part keys are `multipart`'s.

use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::events::Change;
use super::multipart::{self, UploadRecord};
use super::object_calls::copy_into;
use super::{blocking, etag, internal, now, timestamp, LocalS3};
use crate::store::{ObjectMeta, Versioning};

impl LocalS3 {
    pub(super) fn upload_of<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        id: &str,
    ) -> S3Result<UploadRecord> {
        self.bucket(req, bucket)?;
        multipart::load(self.store.as_ref(), bucket, id)
            .map_err(internal)?
            .ok_or_else(|| {
                s3_error!(
                    NoSuchUpload,
                    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
                )
            })
    }

    pub(super) fn create_multipart_upload_call(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let account = self.account(&req);
        self.bucket(&req, &req.input.bucket)?;
        let input = req.input;
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

    pub(super) async fn upload_part_call(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let record = self.upload_of(&req, &req.input.bucket, &req.input.upload_id)?;
        let number = req.input.part_number;
        if !(1..=10_000).contains(&number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        let body = req.input.body.take();
        let md5 = req.input.content_md5.clone();
        let (upload, digest, checksum) = self.receive(&req, body, md5.as_deref()).await?;
        let etag = hex::encode(digest);
        let meta = ObjectMeta {
            etag: Some(etag.clone()),
            ..Default::default()
        };
        let placed = blocking(|| {
            upload.commit_unsynced(
                multipart::PARTS,
                &multipart::part_key(&record.id, number),
                meta,
                now(),
                Versioning::Off,
            )
        })
        .map_err(internal)?;
        self.durable(placed).await?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            ..Default::default()
        }))
    }

    pub(super) async fn complete_multipart_upload_call(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        let record = self.upload_of(&req, &req.input.bucket, &req.input.upload_id)?;
        let listed = req
            .input
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
        let objects = &self.objects;
        let placed = blocking(|| -> S3Result<_> {
            let mut upload = objects.upload().map_err(internal)?;
            let mut md5s = Md5::new();
            for part in &parts {
                let digest = part
                    .meta
                    .etag
                    .as_deref()
                    .and_then(|e| hex::decode(e).ok())
                    .unwrap_or_default();
                md5s.update(&digest);
                let mut reader = objects.open(part).map_err(internal)?;
                copy_into(&mut reader, &mut upload)?;
            }
            let etag = format!("{}-{}", hex::encode(md5s.finalize()), parts.len());
            let meta = ObjectMeta {
                etag: Some(etag),
                content_type: record.content_type.clone(),
                user_metadata: record.user_metadata.clone(),
                headers: Default::default(),
            };
            upload
                .commit_unsynced(
                    &record.bucket,
                    &record.key,
                    meta,
                    now(),
                    bucket.versioning(),
                )
                .map_err(internal)
        })?;
        let joined = self.durable(placed).await?;
        multipart::finish(self.store.as_ref(), &self.objects, &record).map_err(internal)?;
        self.publish(&bucket, &joined, Change::Created("CompleteMultipartUpload"));
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(record.bucket.clone()),
            key: Some(record.key.clone()),
            e_tag: etag(&joined),
            version_id: joined.version_id.clone(),
            location: Some(format!("/{}/{}", record.bucket, record.key)),
            ..Default::default()
        }))
    }

    pub(super) fn list_parts_call(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let record = self.upload_of(&req, &req.input.bucket, &req.input.upload_id)?;
        let input = req.input;
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

    pub(super) fn list_multipart_uploads_call(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.bucket(&req, &req.input.bucket)?;
        let input = req.input;
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
}
