//! Versioned buckets through `aws s3api`: versions, delete markers and reading by version id;
//! bucket tags; CORS rules answering preflights, and presigned PUT URLs with curl; buckets of
//! another account.

use std::process::Command;

use super::{ok, s3, s3api, write};
use crate::common::*;

#[test]
fn versions_and_delete_markers() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(s3(&server, &["mb", "s3://vers"]));
    let status = ok(s3api(
        &server,
        &["get-bucket-versioning", "--bucket", "vers"],
    ));
    assert!(status.get("Status").is_none(), "{status}");
    ok(s3api(
        &server,
        &[
            "put-bucket-versioning",
            "--bucket",
            "vers",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    ));
    let status = ok(s3api(
        &server,
        &["get-bucket-versioning", "--bucket", "vers"],
    ));
    assert_eq!(status["Status"], "Enabled");

    let mut ids = Vec::new();
    for body in ["first", "second"] {
        let local = write(dir.path(), body, body.as_bytes());
        let put = ok(s3api(
            &server,
            &[
                "put-object",
                "--bucket",
                "vers",
                "--key",
                "app.zip",
                "--body",
                &local,
            ],
        ));
        ids.push(put["VersionId"].as_str().expect("a version id").to_owned());
    }
    assert_ne!(ids[0], ids[1]);
    let out = dir.path().join("old");
    let old = ok(s3api(
        &server,
        &[
            "get-object",
            "--bucket",
            "vers",
            "--key",
            "app.zip",
            "--version-id",
            &ids[0],
            &out.display().to_string(),
        ],
    ));
    assert_eq!(old["VersionId"], ids[0].as_str());
    assert_eq!(std::fs::read(&out).expect("read"), b"first");

    let deleted = ok(s3api(
        &server,
        &["delete-object", "--bucket", "vers", "--key", "app.zip"],
    ));
    assert_eq!(deleted["DeleteMarker"], true, "{deleted}");
    let marker = deleted["VersionId"].as_str().expect("marker id").to_owned();
    let gone = s3api(
        &server,
        &["head-object", "--bucket", "vers", "--key", "app.zip"],
    );
    assert!(!gone.ok);
    let listed = ok(s3api(&server, &["list-objects-v2", "--bucket", "vers"]));
    assert!(listed.get("Contents").is_none(), "{listed}");

    let versions = ok(s3api(
        &server,
        &["list-object-versions", "--bucket", "vers"],
    ));
    let version_ids: Vec<&str> = versions["Versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["VersionId"].as_str())
        .collect();
    assert_eq!(
        version_ids,
        [ids[1].as_str(), ids[0].as_str()],
        "{versions}"
    );
    assert_eq!(versions["DeleteMarkers"][0]["VersionId"], marker.as_str());
    assert_eq!(versions["DeleteMarkers"][0]["IsLatest"], true);
    assert_eq!(versions["Versions"][0]["IsLatest"], false);

    // Paging one version at a time walks the same list.
    let first = ok(s3api(
        &server,
        &[
            "list-object-versions",
            "--bucket",
            "vers",
            "--max-keys",
            "1",
            "--no-paginate",
        ],
    ));
    assert_eq!(first["IsTruncated"], true, "{first}");
    assert_eq!(first["NextVersionIdMarker"], marker.as_str());

    // Removing the marker brings the object back; the bucket empties only with every version.
    ok(s3api(
        &server,
        &[
            "delete-object",
            "--bucket",
            "vers",
            "--key",
            "app.zip",
            "--version-id",
            &marker,
        ],
    ));
    let back = ok(s3api(
        &server,
        &["head-object", "--bucket", "vers", "--key", "app.zip"],
    ));
    assert_eq!(back["VersionId"], ids[1].as_str());
    let missing = s3api(
        &server,
        &[
            "get-object",
            "--bucket",
            "vers",
            "--key",
            "app.zip",
            "--version-id",
            "nosuchversion",
            "/dev/null",
        ],
    );
    assert_eq!(missing.error().0, "NoSuchVersion", "{}", missing.stderr);
    ok(s3(&server, &["rm", "s3://vers/app.zip"]));
    let not_empty = s3(&server, &["rb", "s3://vers"]);
    assert!(
        not_empty.stderr.contains("BucketNotEmpty"),
        "{}",
        not_empty.stderr
    );
}

#[test]
fn bucket_tags_cors_and_presigned_uploads() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(s3(&server, &["mb", "s3://web"]));
    let none = s3api(&server, &["get-bucket-tagging", "--bucket", "web"]);
    assert_eq!(none.error().0, "NoSuchTagSet", "{}", none.stderr);
    ok(s3api(
        &server,
        &[
            "put-bucket-tagging",
            "--bucket",
            "web",
            "--tagging",
            "TagSet=[{Key=team,Value=web}]",
        ],
    ));
    let tags = ok(s3api(&server, &["get-bucket-tagging", "--bucket", "web"]));
    assert_eq!(tags["TagSet"][0]["Key"], "team");

    let preflight = |origin: &str, method: &str| -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-i", "-X", "OPTIONS"])
            .args(["-H", &format!("Origin: {origin}")])
            .args(["-H", &format!("Access-Control-Request-Method: {method}")])
            .args(["-H", "Access-Control-Request-Headers: content-type"])
            .arg(format!("{}/web/upload.txt", server.url))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text.to_ascii_lowercase())
    };
    let (status, text) = preflight("http://app.example.com", "PUT");
    assert_eq!(status, 403, "no rules yet: {text}");
    assert!(text.contains("cors is not enabled"), "{text}");

    let rules = json_arg(
        dir.path(),
        "cors.json",
        &serde_json::json!({"CORSRules": [{
            "AllowedOrigins": ["http://*.example.com"],
            "AllowedMethods": ["PUT", "GET"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300
        }]}),
    );
    ok(s3api(
        &server,
        &[
            "put-bucket-cors",
            "--bucket",
            "web",
            "--cors-configuration",
            &rules,
        ],
    ));
    let got = ok(s3api(&server, &["get-bucket-cors", "--bucket", "web"]));
    assert_eq!(got["CORSRules"][0]["MaxAgeSeconds"], 300);
    let (status, text) = preflight("http://app.example.com", "PUT");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("access-control-allow-origin: http://app.example.com"),
        "{text}"
    );
    assert!(text.contains("access-control-max-age: 300"), "{text}");
    assert_eq!(preflight("http://evil.test", "PUT").0, 403);
    assert_eq!(preflight("http://app.example.com", "DELETE").0, 403);

    // A browser app uploads with a presigned PUT URL (boto3 presigns PUT; the CLI only GET).
    let url = presign_put(&server, "web", "upload.txt");
    let put = Command::new("curl")
        .args([
            "-s",
            "-i",
            "-X",
            "PUT",
            "--data-binary",
            "hello from a page",
        ])
        .args([
            "-H",
            "Origin: http://app.example.com",
            "-H",
            "Content-Type:",
        ])
        .arg(&url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&put.stdout).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains("access-control-expose-headers: etag"),
        "{text}"
    );
    let back = dir.path().join("back");
    ok(s3(
        &server,
        &["cp", "s3://web/upload.txt", &back.display().to_string()],
    ));
    assert_eq!(std::fs::read(back).expect("read"), b"hello from a page");

    ok(s3api(&server, &["delete-bucket-cors", "--bucket", "web"]));
    let none = s3api(&server, &["get-bucket-cors", "--bucket", "web"]);
    assert_eq!(none.error().0, "NoSuchCORSConfiguration", "{}", none.stderr);
}

/// A presigned PUT URL from boto3 (SigV4; boto3's default for us-east-1 is still SigV2).
fn presign_put(server: &Server, bucket: &str, key: &str) -> String {
    let script = format!(
        "import boto3\n\
         from botocore.config import Config\n\
         c = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test', config=Config(signature_version='s3v4'))\n\
         print(c.generate_presigned_url('put_object', Params={{'Bucket': '{bucket}', 'Key': '{key}'}}, ExpiresIn=300))",
        server.url
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn buckets_of_another_account_are_not_yours() {
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[other]\naws_access_key_id = OTHERKEY\naws_secret_access_key = othersecret\naccount_id = 222222222222\n",
    )
    .expect("write");
    let server = Server::in_process(&["--credentials-file", &credentials.display().to_string()]);
    ok(s3(&server, &["mb", "s3://mine"]));
    let as_other = |args: &[&str]| {
        Command::new("aws")
            .args([
                "--endpoint-url",
                &server.url,
                "--region",
                "us-east-1",
                "s3api",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "OTHERKEY")
            .env("AWS_SECRET_ACCESS_KEY", "othersecret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("aws")
    };
    let listed = as_other(&["list-objects-v2", "--bucket", "mine"]);
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("AccessDenied"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let taken = as_other(&["create-bucket", "--bucket", "mine"]);
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("BucketAlreadyExists"),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
}

#[test]
fn virtual_hosted_addressing_names_the_bucket_in_the_host() {
    let server = Server::in_process(&[]);
    ok(s3(&server, &["mb", "s3://vhost"]));
    for host in ["vhost.s3.localhost", "vhost.localhost"] {
        let (status, text) =
            super::raw::signed(&server, "PUT", Some(host), "/greeting.txt", host.as_bytes());
        assert_eq!(status, 200, "PUT via {host}: {text}");
        let (status, text) = super::raw::signed(&server, "GET", Some(host), "/greeting.txt", b"");
        assert_eq!((status, text.as_str()), (200, host));
    }
    let listed = ok(s3api(&server, &["list-objects-v2", "--bucket", "vhost"]));
    assert_eq!(
        listed["Contents"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}
