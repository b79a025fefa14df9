//! What S3 publishes on the event bus, in the shape S3 sends EventBridge: `Object Created`
//! (reason `PutObject`, `CopyObject`, `CompleteMultipartUpload`) and `Object Deleted`
//! (`Permanently Deleted`, or `Delete Marker Created` in a versioned bucket). Source-change
//! detection of S3 source actions listens for these.

use serde_json::json;

use super::buckets::BucketRecord;
use super::{now, LocalS3};
use crate::services::bus::Event;
use crate::store::ObjectInfo;

pub enum Change {
    /// With the API call that created the object.
    Created(&'static str),
    Deleted,
}

impl LocalS3 {
    pub(super) fn publish(&self, bucket: &BucketRecord, info: &ObjectInfo, change: Change) {
        let mut object = json!({
            "key": info.key,
            "sequencer": format!("{:016X}", (info.modified * 1e6) as u64),
        });
        if let Some(v) = &info.version_id {
            object["version-id"] = json!(v);
        }
        let (detail_type, extra) = match change {
            Change::Created(reason) => {
                object["size"] = json!(info.size);
                if let Some(e) = &info.meta.etag {
                    object["etag"] = json!(e);
                }
                ("Object Created", json!({"reason": reason}))
            }
            Change::Deleted => {
                let kind = if info.delete_marker {
                    "Delete Marker Created"
                } else {
                    "Permanently Deleted"
                };
                (
                    "Object Deleted",
                    json!({"reason": "DeleteObject", "deletion-type": kind}),
                )
            }
        };
        let mut detail = json!({
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": object,
            "request-id": uuid::Uuid::new_v4().simple().to_string(),
            "requester": bucket.account,
            "source-ip-address": "127.0.0.1",
        });
        if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        self.bus.publish(Event::new(
            "aws.s3",
            detail_type,
            &bucket.account,
            &bucket.region,
            vec![format!("arn:aws:s3:::{}", bucket.name)],
            detail,
            now(),
        ));
    }
}
