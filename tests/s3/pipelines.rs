//! Pipelines with real artifacts: an S3 source reads the uploaded object, a stub build passes it
//! on, an S3 deploy extracts it into the site bucket; a new version starts the pipeline again;
//! a zip-slip archive fails its deploy and writes nothing; every artifact is a real object.

use std::io::Write as _;

use serde_json::{json, Value};

use super::{ok, s3, s3api, write};
use crate::common::*;

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(text.as_bytes()).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

fn pipeline() -> Value {
    json!({
        "name": "site-pipeline",
        "roleArn": "arn:aws:iam::000000000000:role/pipeline",
        "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": "site-pipeline-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Upload",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"S3Bucket": "uploads", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
                "outputArtifacts": [{"name": "SourceOutput"}]
            }]},
            {"name": "Build", "actions": [{
                "name": "Build",
                "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                "configuration": {"ProjectName": "site"},
                "inputArtifacts": [{"name": "SourceOutput"}],
                "outputArtifacts": [{"name": "BuildOutput"}]
            }]},
            {"name": "Deploy", "actions": [{
                "name": "Site",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"BucketName": "site", "Extract": "true", "CacheControl": "max-age=60"},
                "inputArtifacts": [{"name": "BuildOutput"}]
            }]}
        ]
    })
}

fn upload(server: &Server, dir: &std::path::Path, bytes: &[u8]) -> String {
    let local = write(dir, "app.zip", bytes);
    let put = ok(s3api(
        server,
        &[
            "put-object",
            "--bucket",
            "uploads",
            "--key",
            "app.zip",
            "--body",
            &local,
        ],
    ));
    put["VersionId"].as_str().expect("a version id").to_owned()
}

/// The executions, oldest first, once there are `n`.
fn executions(server: &Server, n: usize) -> Vec<Value> {
    poll(&format!("{n} executions"), || {
        let mut list = server.execution_summaries("site-pipeline");
        list.reverse();
        (list.len() >= n).then_some(list)
    })
}

#[test]
fn s3_source_to_s3_deploy_with_real_artifacts() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(s3(&server, &["mb", "s3://uploads"]));
    ok(s3api(
        &server,
        &[
            "put-bucket-versioning",
            "--bucket",
            "uploads",
            "--versioning-configuration",
            "Status=Enabled",
        ],
    ));
    ok(s3(&server, &["mb", "s3://site"]));
    let first = upload(
        &server,
        dir.path(),
        &zip_of(&[("index.html", "<h1>v1</h1>"), ("css/site.css", "h1{}")]),
    );
    server.create_pipeline(&pipeline());
    let run = &executions(&server, 1)[0];
    let id = run["pipelineExecutionId"].as_str().expect("id").to_owned();
    server.wait_for_execution("site-pipeline", &id, "Succeeded");

    // The site bucket holds the zip's files, typed and with the action's Cache-Control.
    let head = ok(s3api(
        &server,
        &["head-object", "--bucket", "site", "--key", "index.html"],
    ));
    assert_eq!(head["ContentType"], "text/html", "{head}");
    assert_eq!(head["CacheControl"], "max-age=60", "{head}");
    let back = dir.path().join("index.back");
    ok(s3(
        &server,
        &["cp", "s3://site/index.html", &back.display().to_string()],
    ));
    assert_eq!(std::fs::read_to_string(&back).expect("read"), "<h1>v1</h1>");
    ok(s3api(
        &server,
        &["head-object", "--bucket", "site", "--key", "css/site.css"],
    ));

    // The source revision is the uploaded version; every artifact is a real object where the
    // action executions say it is, in the artifact bucket created on first use.
    let summary = &server.execution_summaries("site-pipeline")[0];
    assert_eq!(
        summary["sourceRevisions"][0]["revisionId"],
        first.as_str(),
        "{summary}"
    );
    let details = server.action_executions("site-pipeline", &id);
    let source = action_detail(&details, "Upload");
    assert_eq!(
        source["output"]["outputVariables"]["VersionId"],
        first.as_str()
    );
    for detail in &details {
        for artifact in detail["output"]["outputArtifacts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let location = &artifact["s3location"];
            let head = ok(s3api(
                &server,
                &[
                    "head-object",
                    "--bucket",
                    location["bucket"].as_str().expect("bucket"),
                    "--key",
                    location["key"].as_str().expect("key"),
                ],
            ));
            assert!(head["ContentLength"].as_u64().unwrap_or(0) > 0, "{head}");
        }
    }

    // The console's links: the deploy bucket's listing and an artifact's download, unsigned.
    let listing = server.get_json("/_local/s3/site");
    let keys: Vec<&str> = listing["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["key"].as_str())
        .collect();
    assert_eq!(keys, ["css/site.css", "index.html"], "{listing}");
    let artifact = &source["output"]["outputArtifacts"][0]["s3location"];
    let download = server
        .local(
            "GET",
            &format!(
                "/_local/s3/{}/{}",
                artifact["bucket"].as_str().expect("bucket"),
                artifact["key"].as_str().expect("key")
            ),
        )
        .call()
        .expect("download");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut download.into_reader(), &mut bytes).expect("read");
    assert!(
        bytes.starts_with(b"PK"),
        "the source artifact is the uploaded zip"
    );

    // A second version starts the pipeline again, with that version as its revision.
    let second = upload(
        &server,
        dir.path(),
        &zip_of(&[("index.html", "<h1>v2</h1>")]),
    );
    let runs = executions(&server, 2);
    let id2 = runs[1]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        runs[1]["trigger"]["triggerType"], "CloudWatchEvent",
        "{}",
        runs[1]
    );
    server.wait_for_execution("site-pipeline", &id2, "Succeeded");
    let summary = &server.execution_summaries("site-pipeline")[0];
    assert_eq!(summary["sourceRevisions"][0]["revisionId"], second.as_str());
    ok(s3(
        &server,
        &["cp", "s3://site/index.html", &back.display().to_string()],
    ));
    assert_eq!(std::fs::read_to_string(&back).expect("read"), "<h1>v2</h1>");

    // sourceRevisions names the first version: that one is deployed again.
    let started = server.aws_ok(&[
        "start-pipeline-execution",
        "--name",
        "site-pipeline",
        "--source-revisions",
        &format!("actionName=Upload,revisionType=S3_OBJECT_VERSION_ID,revisionValue={first}"),
    ]);
    let id_old = started["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("site-pipeline", &id_old, "Succeeded");
    ok(s3(
        &server,
        &["cp", "s3://site/index.html", &back.display().to_string()],
    ));
    assert_eq!(std::fs::read_to_string(&back).expect("read"), "<h1>v1</h1>");

    // A zip-slip archive fails the deploy and writes nothing.
    upload(
        &server,
        dir.path(),
        &zip_of(&[("fine.html", "ok"), ("../escaped.html", "evil")]),
    );
    let runs = executions(&server, 4);
    let id3 = runs[3]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("site-pipeline", &id3, "Failed");
    let details = server.action_executions("site-pipeline", &id3);
    let deploy = action_detail(&details, "Site");
    let message = deploy["output"]["executionResult"]["externalExecutionSummary"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("../escaped.html"), "{deploy}");
    let fine = s3api(
        &server,
        &["head-object", "--bucket", "site", "--key", "fine.html"],
    );
    assert!(!fine.ok, "nothing of a refused archive is written");
}

#[test]
fn a_missing_source_object_or_unversioned_bucket_fails_the_source() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    ok(s3(&server, &["mb", "s3://uploads"]));
    server.create_pipeline(&pipeline());
    let id = executions(&server, 1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("site-pipeline", &id, "Failed");
    let details = server.action_executions("site-pipeline", &id);
    let source = action_detail(&details, "Upload");
    let summary = source["output"]["executionResult"]["externalExecutionSummary"]
        .as_str()
        .unwrap_or_default();
    assert!(summary.contains("versioning"), "{source}");
}
