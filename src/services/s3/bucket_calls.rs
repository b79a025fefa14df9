//! The bucket operations: list, create, delete, and the settings a bucket keeps (versioning,
//! tags, CORS rules). s3s has already refused names S3 refuses (`InvalidBucketName`).

use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::buckets::{self, BucketRecord, CorsRule};
use super::{internal, now, timestamp, LocalS3};

impl LocalS3 {
    pub(super) fn list_buckets_call(
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

    pub(super) fn create_bucket_call(
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
            let record = BucketRecord::new(&name, &account, &region, now());
            buckets::save(self.store.as_ref(), &record).map_err(internal)?;
        }
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    pub(super) fn delete_bucket_call(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = &req.input.bucket;
        self.bucket(&req, name)?;
        // Older versions and delete markers count: S3 wants a versioned bucket emptied of all.
        if self.objects.any_in(name).map_err(internal)? {
            return Err(s3_error!(
                BucketNotEmpty,
                "The bucket you tried to delete is not empty"
            ));
        }
        buckets::delete(self.store.as_ref(), name).map_err(internal)?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    pub(super) fn put_bucket_versioning_call(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let mut bucket = self.bucket(&req, &req.input.bucket)?;
        let status = req
            .input
            .versioning_configuration
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned());
        match status.as_deref() {
            Some("Enabled" | "Suspended") => bucket.versioning = status,
            // S3 leaves the state alone when the configuration names none.
            None => {}
            Some(_) => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ))
            }
        }
        buckets::save(self.store.as_ref(), &bucket).map_err(internal)?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    pub(super) fn put_bucket_tagging_call(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let mut bucket = self.bucket(&req, &req.input.bucket)?;
        let mut tags = Vec::new();
        for tag in &req.input.tagging.tag_set {
            let (Some(key), Some(value)) = (&tag.key, &tag.value) else {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ));
            };
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                return Err(s3_error!(
                    InvalidTag,
                    "The TagKey you have provided is invalid"
                ));
            }
            if tags.iter().any(|(k, _)| k == key) {
                return Err(s3_error!(
                    InvalidTag,
                    "Cannot provide multiple Tags with the same key"
                ));
            }
            tags.push((key.clone(), value.clone()));
        }
        if tags.len() > 50 {
            return Err(s3_error!(
                InvalidTag,
                "Bucket tag count cannot be greater than 50"
            ));
        }
        bucket.tags = tags;
        buckets::save(self.store.as_ref(), &bucket).map_err(internal)?;
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    pub(super) fn get_bucket_tagging_call(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        if bucket.tags.is_empty() {
            return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
        }
        let tag_set = bucket
            .tags
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect();
        Ok(S3Response::new(GetBucketTaggingOutput { tag_set }))
    }

    pub(super) fn put_bucket_cors_call(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        let mut bucket = self.bucket(&req, &req.input.bucket)?;
        let rules = &req.input.cors_configuration.cors_rules;
        if rules.is_empty() || rules.len() > 100 {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let mut kept = Vec::new();
        for rule in rules {
            for method in &rule.allowed_methods {
                if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&method.as_str()) {
                    return Err(s3_error!(
                        InvalidRequest,
                        "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                    ));
                }
            }
            kept.push(CorsRule {
                id: rule.id.clone(),
                allowed_methods: rule.allowed_methods.clone(),
                allowed_origins: rule.allowed_origins.clone(),
                allowed_headers: rule.allowed_headers.clone().unwrap_or_default(),
                expose_headers: rule.expose_headers.clone().unwrap_or_default(),
                max_age_seconds: rule.max_age_seconds,
            });
        }
        bucket.cors = kept;
        buckets::save(self.store.as_ref(), &bucket).map_err(internal)?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    pub(super) fn get_bucket_cors_call(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let bucket = self.bucket(&req, &req.input.bucket)?;
        if bucket.cors.is_empty() {
            return Err(s3_error!(
                NoSuchCORSConfiguration,
                "The CORS configuration does not exist"
            ));
        }
        let rules = bucket
            .cors
            .into_iter()
            .map(|r| CORSRule {
                id: r.id,
                allowed_methods: r.allowed_methods,
                allowed_origins: r.allowed_origins,
                allowed_headers: Some(r.allowed_headers).filter(|h| !h.is_empty()),
                expose_headers: Some(r.expose_headers).filter(|h| !h.is_empty()),
                max_age_seconds: r.max_age_seconds,
            })
            .collect();
        Ok(S3Response::new(GetBucketCorsOutput {
            cors_rules: Some(rules),
        }))
    }
}
