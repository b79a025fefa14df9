//! `aws-sdk-s3` (with its default request checksums) round trips, explicit multipart uploads
//! and conditional reads; after `kill -9` every acknowledged upload is still there; hostile
//! requests get S3's errors and change nothing.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::{ok, s3, s3api};
use crate::common::*;

fn client(server: &Server) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(&server.url)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

async fn get(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let object = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {key}: {e:?}"));
    object
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

/// Uploads `body` in parts of 5 MiB; the ETag S3 answers.
async fn multipart(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) -> String {
    let upload = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("CreateMultipartUpload");
    let id = upload.upload_id().expect("upload id");
    let mut parts = Vec::new();
    for (i, chunk) in body.chunks(5 * 1024 * 1024).enumerate() {
        let number = i as i32 + 1;
        let part = c
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .expect("UploadPart");
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(part.e_tag().unwrap_or_default())
                .build(),
        );
    }
    let done = c
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    done.e_tag().unwrap_or_default().to_owned()
}

#[test]
fn the_rust_sdk_round_trips_objects_and_multipart_uploads() {
    let server = Server::in_process(&[]);
    runtime().block_on(async {
        let c = client(&server);
        c.create_bucket()
            .bucket("rusty")
            .send()
            .await
            .expect("CreateBucket");
        let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        for (key, body) in [("empty", vec![]), ("one", vec![1u8]), ("big", big.clone())] {
            c.put_object()
                .bucket("rusty")
                .key(key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
            assert_eq!(get(&c, "rusty", key).await, body, "{key}");
        }
        let etag = multipart(&c, "rusty", "parts", &big).await;
        assert!(etag.ends_with("-3\""), "{etag}");
        assert_eq!(get(&c, "rusty", "parts").await, big);

        let head = c
            .head_object()
            .bucket("rusty")
            .key("one")
            .send()
            .await
            .expect("HeadObject");
        let unchanged = c
            .get_object()
            .bucket("rusty")
            .key("one")
            .if_none_match(head.e_tag().unwrap_or_default())
            .send()
            .await;
        assert!(
            unchanged.is_err(),
            "If-None-Match of the current ETag is 304"
        );
        let listed = c
            .list_objects_v2()
            .bucket("rusty")
            .send()
            .await
            .expect("ListObjectsV2");
        assert_eq!(listed.key_count(), Some(4));
    });
}

#[test]
fn acknowledged_uploads_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start_in(dir.path());
    let big: Vec<u8> = (0..11 * 1024 * 1024u32).map(|i| (i % 241) as u8).collect();
    let versions = runtime().block_on(async {
        let c = client(&server);
        c.create_bucket()
            .bucket("kept")
            .send()
            .await
            .expect("CreateBucket");
        c.put_bucket_versioning()
            .bucket("kept")
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .expect("PutBucketVersioning");
        let mut versions = Vec::new();
        for body in [&b"small"[..], &vec![9u8; 200 * 1024]] {
            let put = c
                .put_object()
                .bucket("kept")
                .key("k")
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .expect("PutObject");
            versions.push(put.version_id().unwrap_or_default().to_owned());
        }
        multipart(&c, "kept", "big", &big).await;
        versions
    });
    server.kill();
    let server = Server::start_in(dir.path());
    runtime().block_on(async {
        let c = client(&server);
        assert_eq!(get(&c, "kept", "k").await, vec![9u8; 200 * 1024]);
        assert_eq!(get(&c, "kept", "big").await, big);
        let old = c
            .get_object()
            .bucket("kept")
            .key("k")
            .version_id(&versions[0])
            .send()
            .await
            .expect("the first version");
        let bytes = old.body.collect().await.expect("body").into_bytes();
        assert_eq!(&bytes[..], b"small");
    });
}

#[test]
fn hostile_requests_get_s3_errors_and_change_nothing() {
    let server = Server::in_process(&[]);
    ok(s3(&server, &["mb", "s3://calm"]));
    let long_key = "k".repeat(1025);
    let dir = tempfile::tempdir().expect("temp dir");
    let local = super::write(dir.path(), "body", b"x");
    let too_long = s3api(
        &server,
        &[
            "put-object",
            "--bucket",
            "calm",
            "--key",
            &long_key,
            "--body",
            &local,
        ],
    );
    assert_eq!(too_long.error().0, "KeyTooLongError", "{}", too_long.stderr);

    // Malformed and hostile XML bodies, sent with a valid signature by curl's SigV4.
    for (body, code) in [
        ("<Tagging><TagSet><Tag>", "MalformedXML"),
        ("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><Tagging><TagSet><Tag><Key>&b;</Key><Value>v</Value></Tag></TagSet></Tagging>", "MalformedXML"),
    ] {
        let (status, text) =
            super::raw::signed(&server, "PUT", None, "/calm?tagging", body.as_bytes());
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(&format!("<Code>{code}</Code>")), "{body}: {text}");
    }
    // A body declared over S3's 5 GiB single-PUT limit is refused before it is read.
    let huge = std::process::Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-X",
            "PUT",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
        ])
        .args([
            "--user",
            "test:test",
            "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
        ])
        .args(["-H", "Content-Length: 5368709121", "--data-binary", "x"])
        .arg(format!("{}/calm/huge", server.url))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&huge.stdout);
    assert!(text.contains("<Code>EntityTooLarge</Code>"), "{text}");

    let tags = s3api(&server, &["get-bucket-tagging", "--bucket", "calm"]);
    assert_eq!(tags.error().0, "NoSuchTagSet", "{}", tags.stderr);
    let listed = ok(s3api(&server, &["list-objects-v2", "--bucket", "calm"]));
    assert!(listed.get("Contents").is_none(), "{listed}");
}
