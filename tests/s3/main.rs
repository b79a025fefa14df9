//! S3 on the endpoint, driven by the real aws CLI (`aws s3` and `aws s3api`) and curl: buckets,
//! objects from empty to a 20 MiB multipart upload, folder sync, ranges, presigned URLs, and
//! S3's errors; versions, bucket settings and CORS (`versions.rs`), and boto3 with its default
//! checksums (`boto.rs`); pipelines whose artifacts are real objects (`pipelines.rs`); the Rust SDK, durability and
//! hostile requests (`sdk.rs`).

#[path = "../common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

mod boto;
mod pipelines;
mod raw;
mod sdk;
mod versions;

fn s3(server: &Server, args: &[&str]) -> Cli {
    server.aws_of("s3", args)
}

fn s3api(server: &Server, args: &[&str]) -> Cli {
    server.aws_of("s3api", args)
}

fn ok(cli: Cli) -> Value {
    assert!(cli.ok, "the aws CLI failed: {}", cli.stderr);
    cli.json
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dir");
    }
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

#[test]
fn objects_of_every_size_round_trip_through_the_cli() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(s3(&server, &["mb", "s3://site"]));
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    for (name, bytes) in [("empty", vec![]), ("one", vec![7u8]), ("big.bin", big)] {
        let local = write(dir.path(), name, &bytes);
        ok(s3(&server, &["cp", &local, &format!("s3://site/{name}")]));
        let back = dir.path().join(format!("{name}.back"));
        ok(s3(
            &server,
            &[
                "cp",
                &format!("s3://site/{name}"),
                &back.display().to_string(),
            ],
        ));
        assert_eq!(std::fs::read(&back).expect("read"), bytes, "{name}");
    }
    // The 20 MiB upload went in parts: S3's multipart ETag is the MD5 of the parts' MD5s, `-N`.
    let head = ok(s3api(
        &server,
        &["head-object", "--bucket", "site", "--key", "big.bin"],
    ));
    assert_eq!(head["ContentLength"], 20 * 1024 * 1024);
    assert!(
        head["ETag"].as_str().is_some_and(|e| e.ends_with("-3\"")),
        "{head}"
    );
    let one = ok(s3api(
        &server,
        &["head-object", "--bucket", "site", "--key", "one"],
    ));
    assert_eq!(
        one["ETag"], "\"89e74e640b8c46257a29de0616794d5d\"",
        "MD5 of the byte 7"
    );

    // Ranges.
    let out = dir.path().join("range");
    let got = ok(s3api(
        &server,
        &[
            "get-object",
            "--bucket",
            "site",
            "--key",
            "big.bin",
            "--range",
            "bytes=251-253",
            &out.display().to_string(),
        ],
    ));
    assert_eq!(got["ContentRange"], "bytes 251-253/20971520");
    assert_eq!(std::fs::read(&out).expect("read"), [0u8, 1, 2]);

    // A presigned URL works with curl.
    let url = s3(&server, &["presign", "s3://site/one"]);
    assert!(url.ok, "{}", url.stderr);
    let curl = Command::new("curl")
        .args(["-s", "-f", url.stdout.trim()])
        .output()
        .expect("curl");
    assert!(curl.status.success());
    assert_eq!(curl.stdout, [7u8]);
}

#[test]
fn sync_listing_and_deletes() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [("x", "1"), ("a/y", "2"), ("a/b/z", "3")] {
        write(&dir.path().join("site"), name, text.as_bytes());
    }
    ok(s3(&server, &["mb", "s3://synced"]));
    ok(s3(
        &server,
        &[
            "sync",
            &dir.path().join("site").display().to_string(),
            "s3://synced/web/",
        ],
    ));
    let listed = ok(s3api(
        &server,
        &[
            "list-objects-v2",
            "--bucket",
            "synced",
            "--prefix",
            "web/",
            "--delimiter",
            "/",
            "--no-paginate",
        ],
    ));
    assert_eq!(listed["KeyCount"], 2, "{listed}");
    assert_eq!(listed["Contents"][0]["Key"], "web/x");
    assert_eq!(listed["CommonPrefixes"][0]["Prefix"], "web/a/");
    // Pages of one key follow each other with continuation tokens.
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut args = vec![
            "list-objects-v2",
            "--bucket",
            "synced",
            "--max-keys",
            "1",
            "--no-paginate",
        ];
        if let Some(t) = &token {
            args.extend(["--continuation-token", t.as_str()]);
        }
        let page = ok(s3api(&server, &args));
        keys.extend(
            page["Contents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["Key"].as_str().map(str::to_owned)),
        );
        match page["NextContinuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(keys, ["web/a/b/z", "web/a/y", "web/x"]);

    let refused = s3(&server, &["rb", "s3://synced"]);
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("BucketNotEmpty"),
        "{}",
        refused.stderr
    );
    ok(s3(&server, &["rm", "s3://synced", "--recursive"]));
    ok(s3(&server, &["rb", "s3://synced"]));
    let buckets = ok(s3api(&server, &["list-buckets"]));
    assert_eq!(buckets["Buckets"], serde_json::json!([]));
}

#[test]
fn s3_errors_are_s3s() {
    let server = Server::in_process(&[]);
    let missing = s3api(
        &server,
        &["get-object", "--bucket", "nope", "--key", "k", "/dev/null"],
    );
    assert_eq!(missing.error().0, "NoSuchBucket", "{}", missing.stderr);
    ok(s3(&server, &["mb", "s3://here"]));
    let no_key = s3api(
        &server,
        &["get-object", "--bucket", "here", "--key", "k", "/dev/null"],
    );
    assert_eq!(no_key.error().0, "NoSuchKey", "{}", no_key.stderr);
    let bad_name = s3api(&server, &["create-bucket", "--bucket", "Bad_Name"]);
    assert!(!bad_name.ok);
    // Owned buckets: outside us-east-1 a second create is BucketAlreadyOwnedByYou.
    ok(s3api(
        &server,
        &[
            "create-bucket",
            "--bucket",
            "euro",
            "--create-bucket-configuration",
            "LocationConstraint=eu-west-1",
        ],
    ));
    let again = s3api(
        &server,
        &[
            "create-bucket",
            "--bucket",
            "euro",
            "--create-bucket-configuration",
            "LocationConstraint=eu-west-1",
        ],
    );
    assert_eq!(
        again.error().0,
        "BucketAlreadyOwnedByYou",
        "{}",
        again.stderr
    );
    let location = ok(s3api(&server, &["get-bucket-location", "--bucket", "euro"]));
    assert_eq!(location["LocationConstraint"], "eu-west-1");
}

#[test]
fn copies_moves_and_batch_deletes() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(s3(&server, &["mb", "s3://source"]));
    ok(s3(&server, &["mb", "s3://target"]));
    let local = write(dir.path(), "page.html", b"<h1>hi</h1>");
    ok(s3(
        &server,
        &[
            "cp",
            &local,
            "s3://source/page.html",
            "--content-type",
            "text/html",
        ],
    ));
    ok(s3(
        &server,
        &["cp", "s3://source/page.html", "s3://target/copy.html"],
    ));
    let head = ok(s3api(
        &server,
        &["head-object", "--bucket", "target", "--key", "copy.html"],
    ));
    assert_eq!(head["ContentType"], "text/html");
    assert_eq!(head["ContentLength"], 11);
    ok(s3(
        &server,
        &["mv", "s3://source/page.html", "s3://target/moved.html"],
    ));
    let gone = s3api(
        &server,
        &["head-object", "--bucket", "source", "--key", "page.html"],
    );
    assert!(!gone.ok);
    let self_copy = s3api(
        &server,
        &[
            "copy-object",
            "--bucket",
            "target",
            "--key",
            "copy.html",
            "--copy-source",
            "target/copy.html",
        ],
    );
    assert_eq!(
        self_copy.error().0,
        "InvalidRequest",
        "{}",
        self_copy.stderr
    );
    let deleted = ok(s3api(
        &server,
        &[
            "delete-objects",
            "--bucket",
            "target",
            "--delete",
            "Objects=[{Key=copy.html},{Key=moved.html},{Key=never.html}]",
        ],
    ));
    assert_eq!(
        deleted["Deleted"].as_array().map(Vec::len),
        Some(3),
        "{deleted}"
    );
    let left = ok(s3api(
        &server,
        &["list-objects-v2", "--bucket", "target", "--no-paginate"],
    ));
    assert_eq!(left["KeyCount"], 0, "{left}");
}
