//! The real aws CLI against codepipeline-local: pipeline CRUD with AWS's normalisation and
//! versions, list pagination, tags, custom and AWS-owned action types, every declaration rule
//! the server enforces (a rejected request changes nothing), model validation messages, the CLI's
//! own documented examples, and isolation of accounts and regions.

use crate::common::*;
use serde_json::{json, Value};

const OTHER: &str = "111111111111";
const THIRD: &str = "222222222222";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `aws codepipeline ARGS --cli-input-json file://INPUT` as `access_key` in `region`.
fn aws_input_as(
    server: &Server,
    access_key: &str,
    region: &str,
    args: &[&str],
    input: &Value,
) -> Cli {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), input.to_string()).expect("write input");
    let arg = format!("file://{}", file.path().display());
    let mut all = args.to_vec();
    all.extend(["--cli-input-json", arg.as_str()]);
    server.aws_as(access_key, region, &all)
}

/// Runs `aws codepipeline ARGS --cli-input-json file://INPUT` as the default account.
fn aws_input(server: &Server, args: &[&str], input: &Value) -> Cli {
    aws_input_as(server, "test", "us-east-1", args, input)
}

fn create(server: &Server, decl: &Value) -> Cli {
    aws_input(server, &["create-pipeline"], &json!({ "pipeline": decl }))
}

/// `create-pipeline` with the shared fixture file as it is (declaration and tags).
fn create_from_fixture(server: &Server) -> Cli {
    server.aws(&[
        "create-pipeline",
        "--cli-input-json",
        &fixture_arg("pipelines/s3-build-deploy.json"),
    ])
}

/// `file://PATH` of a fixture, for `--cli-input-json`.
fn fixture_arg(name: &str) -> String {
    format!("file://{}", fixture(name))
}

fn update(server: &Server, decl: &Value) -> Cli {
    aws_input(server, &["update-pipeline"], &json!({ "pipeline": decl }))
}

fn get(server: &Server, name: &str) -> Cli {
    server.aws(&["get-pipeline", "--name", name])
}

/// The reply of a call that must succeed.
fn ok(cli: Cli) -> Value {
    assert!(cli.ok, "the aws CLI failed: {}", cli.stderr);
    cli.json
}

/// Asserts the call failed with AWS error `code` and a message containing `part`.
fn assert_error(cli: &Cli, code: &str, part: &str) {
    assert!(!cli.ok, "expected {code}, got success: {}", cli.json);
    let (actual_code, message) = cli.error();
    assert_eq!(actual_code, code, "stderr: {}", cli.stderr);
    assert!(
        message.contains(part),
        "message {message:?} does not contain {part:?}"
    );
}

/// Names `list-pipelines` shows, in order (the CLI follows every page).
fn names_as(server: &Server, access_key: &str, region: &str) -> Vec<String> {
    let reply = ok(server.aws_as(access_key, region, &["list-pipelines"]));
    reply["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

fn names(server: &Server) -> Vec<String> {
    names_as(server, "test", "us-east-1")
}

fn pipeline_arn(name: &str) -> String {
    format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:{name}")
}

/// The three-stage S3 → CodeBuild → S3 declaration of the shared fixture.
fn base() -> Value {
    fixture_json("pipelines/s3-build-deploy.json")["pipeline"].clone()
}

/// `stages[stage].actions[action]` of a declaration.
fn action(decl: &mut Value, stage: usize, action: usize) -> &mut Value {
    &mut decl["stages"][stage]["actions"][action]
}

fn push_action(decl: &mut Value, stage: usize, new: Value) {
    decl["stages"][stage]["actions"]
        .as_array_mut()
        .expect("actions")
        .push(new);
}

fn approval(name: &str) -> Value {
    json!({"name": name, "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}})
}

/// `decl` as AWS stores it: version 1, runOrder 1, empty artifact lists, V1, SUPERSEDED.
fn normalised(decl: &Value, version: i64) -> Value {
    let mut out = decl.clone();
    for stage in out["stages"].as_array_mut().expect("stages") {
        for action in stage["actions"].as_array_mut().expect("actions") {
            let fields = action.as_object_mut().expect("action");
            fields.entry("runOrder").or_insert(json!(1));
            fields.entry("inputArtifacts").or_insert(json!([]));
            fields.entry("outputArtifacts").or_insert(json!([]));
        }
    }
    let fields = out.as_object_mut().expect("declaration");
    fields.insert("version".into(), json!(version));
    fields.entry("pipelineType").or_insert(json!("V1"));
    fields.entry("executionMode").or_insert(json!("SUPERSEDED"));
    out
}

/// A create that must fail with `code` and a message containing `part`, and leave nothing behind.
fn assert_create_rejected(decl: &Value, code: &str, part: &str) {
    let server = Server::start();
    assert_error(&create(&server, decl), code, part);
    assert!(
        names(&server).is_empty(),
        "a rejected create left a pipeline behind"
    );
}

/// Tags of a resource as sorted `(key, value)` pairs.
fn tags_of(server: &Server, arn: &str) -> Vec<(String, String)> {
    let reply = ok(server.aws(&["list-tags-for-resource", "--resource-arn", arn]));
    pairs(&reply["tags"])
}

fn pairs(tags: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = tags
        .as_array()
        .expect("tag list")
        .iter()
        .map(|t| {
            (
                t["key"].as_str().expect("key").to_owned(),
                t["value"].as_str().expect("value").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn owned_pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.sort();
    out
}

fn tag_list(items: &[(&str, &str)]) -> Value {
    items
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// `n` distinct tags `k00=v0`, `k01=v1`, ...
fn numbered_tags(n: usize) -> Value {
    (0..n)
        .map(|i| json!({"key": format!("k{i:02}"), "value": format!("v{i}")}))
        .collect()
}

fn tag_resource(server: &Server, arn: &str, tags: Value) -> Cli {
    aws_input(
        server,
        &["tag-resource"],
        &json!({"resourceArn": arn, "tags": tags}),
    )
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// Every member the documented output names is in `actual`, recursively, with a value of the
/// same JSON type. The docs' `__type` annotations are not part of the wire format.
fn assert_shape(actual: &Value, documented: &Value, path: &str) {
    match (documented, actual) {
        (Value::Object(doc), Value::Object(act)) => {
            for (key, d) in doc.iter().filter(|(k, _)| *k != "__type") {
                let a = act
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} missing in {actual}"));
                assert_shape(a, d, &format!("{path}.{key}"));
            }
        }
        (Value::Array(doc), Value::Array(act)) => {
            if doc.len() == act.len() {
                doc.iter()
                    .zip(act)
                    .enumerate()
                    .for_each(|(i, (d, a))| assert_shape(a, d, &format!("{path}[{i}]")));
            } else if let Some(d) = doc.first() {
                act.iter()
                    .enumerate()
                    .for_each(|(i, a)| assert_shape(a, d, &format!("{path}[{i}]")));
            }
        }
        (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) => {}
        (Value::Bool(_), Value::Bool(_)) | (Value::Null, Value::Null) => {}
        _ => panic!("{path}: documented {documented}, got {actual}"),
    }
}

/// Every member of `expected` is in `actual` with the same value (lists element by element);
/// `actual` may have more members. `__type` annotations are ignored.
fn assert_subset(actual: &Value, expected: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            for (key, e) in exp.iter().filter(|(k, _)| *k != "__type") {
                let a = act
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} missing in {actual}"));
                assert_subset(a, e, &format!("{path}.{key}"));
            }
        }
        (Value::Array(exp), Value::Array(act)) => {
            assert_eq!(
                exp.len(),
                act.len(),
                "{path}: expected {expected}, got {actual}"
            );
            exp.iter()
                .zip(act)
                .enumerate()
                .for_each(|(i, (e, a))| assert_subset(a, e, &format!("{path}[{i}]")));
        }
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Pipeline lifecycle
// ---------------------------------------------------------------------------------------------

#[test]
fn create_and_get_show_the_declaration_as_aws_normalises_it() {
    let server = Server::start();
    let sent = base();
    let expected = normalised(&sent, 1);
    let reply = ok(create_from_fixture(&server));
    assert_eq!(reply["pipeline"], expected);
    assert_eq!(reply["tags"], json!([{"key": "team", "value": "platform"}]));

    let before = now_secs();
    let got = ok(get(&server, "my-pipeline"));
    assert_eq!(got["pipeline"], expected);
    let metadata = &got["metadata"];
    assert_eq!(
        metadata["pipelineArn"],
        "arn:aws:codepipeline:us-east-1:000000000000:my-pipeline"
    );
    let created = metadata["created"].as_f64().expect("created is a number");
    let updated = metadata["updated"].as_f64().expect("updated is a number");
    assert!(
        created <= updated,
        "created {created} after updated {updated}"
    );
    assert!(
        (before - created).abs() < 300.0,
        "created {created} is not now ({before})"
    );

    let listed = ok(server.aws(&["list-pipelines"]));
    let summaries = listed["pipelines"].as_array().expect("pipelines");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0]["name"], "my-pipeline");
    assert_eq!(summaries[0]["version"], 1);
    assert_eq!(summaries[0]["pipelineType"], "V1");
    assert_eq!(summaries[0]["executionMode"], "SUPERSEDED");
    assert_eq!(summaries[0]["created"].as_f64(), Some(created));
    assert_eq!(summaries[0]["updated"].as_f64(), Some(updated));
}

#[test]
fn update_bumps_the_version_and_keeps_every_version() {
    let server = Server::start();
    let v1 = base();
    ok(create(&server, &v1));
    let created = ok(get(&server, "my-pipeline"))["metadata"]["created"]
        .as_f64()
        .expect("created");

    let mut v2 = base();
    action(&mut v2, 2, 0)["configuration"]["BucketName"] = json!("another-website-bucket");
    let reply = ok(update(&server, &v2));
    assert_eq!(reply["pipeline"], normalised(&v2, 2));

    let latest = ok(get(&server, "my-pipeline"));
    assert_eq!(latest["pipeline"], normalised(&v2, 2));
    assert_eq!(
        latest["metadata"]["created"].as_f64(),
        Some(created),
        "update must not change created"
    );
    assert!(latest["metadata"]["updated"].as_f64().expect("updated") >= created);

    let first = ok(server.aws(&[
        "get-pipeline",
        "--name",
        "my-pipeline",
        "--pipeline-version",
        "1",
    ]));
    assert_eq!(first["pipeline"], normalised(&v1, 1));
    let second = ok(server.aws(&[
        "get-pipeline",
        "--name",
        "my-pipeline",
        "--pipeline-version",
        "2",
    ]));
    assert_eq!(second["pipeline"], normalised(&v2, 2));
    let missing = server.aws(&[
        "get-pipeline",
        "--name",
        "my-pipeline",
        "--pipeline-version",
        "3",
    ]);
    assert_error(&missing, "PipelineVersionNotFoundException", "my-pipeline");

    let listed = ok(server.aws(&["list-pipelines"]));
    assert_eq!(listed["pipelines"][0]["version"], 2);
}

#[test]
fn update_of_a_missing_pipeline_is_not_found() {
    let server = Server::start();
    assert_error(
        &update(&server, &two_stage("ghost")),
        "PipelineNotFoundException",
        "Account '000000000000' does not have a pipeline with name 'ghost'",
    );
    assert!(
        names(&server).is_empty(),
        "update must not create a pipeline"
    );
}

#[test]
fn delete_removes_the_pipeline_and_is_idempotent() {
    let server = Server::start();
    ok(create(&server, &base()));
    let reply = server.aws(&["delete-pipeline", "--name", "my-pipeline"]);
    assert!(reply.ok, "{}", reply.stderr);
    assert_eq!(reply.json, Value::Null, "delete-pipeline prints nothing");

    let gone = get(&server, "my-pipeline");
    assert_error(&gone, "PipelineNotFoundException", "");
    assert_eq!(
        gone.error().1,
        "Account '000000000000' does not have a pipeline with name 'my-pipeline'"
    );
    assert!(names(&server).is_empty());
    let old_versions = server.aws(&[
        "get-pipeline",
        "--name",
        "my-pipeline",
        "--pipeline-version",
        "1",
    ]);
    assert_error(&old_versions, "PipelineNotFoundException", "my-pipeline");
    let tags = server.aws(&[
        "list-tags-for-resource",
        "--resource-arn",
        &pipeline_arn("my-pipeline"),
    ]);
    assert_error(&tags, "ResourceNotFoundException", "");

    let again = server.aws(&["delete-pipeline", "--name", "my-pipeline"]);
    assert!(
        again.ok,
        "deleting a missing pipeline succeeds: {}",
        again.stderr
    );

    // The name is free again and starts over at version 1 with no tags.
    let recreated = ok(create(&server, &base()));
    assert_eq!(recreated["pipeline"]["version"], 1);
    assert!(tags_of(&server, &pipeline_arn("my-pipeline")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 2. list-pipelines pagination
// ---------------------------------------------------------------------------------------------

fn create_numbered(server: &Server, count: usize) -> Vec<String> {
    let names: Vec<String> = (1..=count).map(|i| format!("pipe-{i}")).collect();
    for name in &names {
        ok(create(server, &two_stage(name)));
    }
    names
}

#[test]
fn list_pipelines_pages_with_next_token() {
    let server = Server::start();
    let expected = create_numbered(&server, 5);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["list-pipelines", "--no-paginate", "--max-results", "2"];
        if let Some(t) = &token {
            args.extend(["--next-token", t.as_str()]);
        }
        let page = ok(server.aws(&args));
        pages += 1;
        let items = page["pipelines"].as_array().expect("pipelines");
        assert!(
            items.len() <= 2,
            "page of {} with maxResults 2",
            items.len()
        );
        seen.extend(
            items
                .iter()
                .map(|p| p["name"].as_str().expect("name").to_owned()),
        );
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
}

#[test]
fn list_pipelines_with_the_cli_paginator() {
    let server = Server::start();
    let expected = create_numbered(&server, 5);
    // The CLI follows nextToken by itself, whatever the page size.
    let all = ok(server.aws(&["list-pipelines", "--page-size", "2"]));
    let all_names: Vec<&str> = all["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(all_names, expected);
    assert!(all.get("NextToken").is_none());

    let first = ok(server.aws(&["list-pipelines", "--max-items", "3", "--page-size", "2"]));
    assert_eq!(first["pipelines"].as_array().expect("pipelines").len(), 3);
    let resume = first["NextToken"].as_str().expect("the CLI's NextToken");
    let rest = ok(server.aws(&[
        "list-pipelines",
        "--starting-token",
        resume,
        "--page-size",
        "2",
    ]));
    let rest_names: Vec<&str> = rest["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(rest_names, &expected[3..]);
}

#[test]
fn list_pipelines_rejects_a_bad_token() {
    let server = Server::start();
    create_numbered(&server, 1);
    for token in ["not-a-token", "zz", "00"] {
        let reply = server.aws(&["list-pipelines", "--no-paginate", "--next-token", token]);
        assert_error(&reply, "InvalidNextTokenException", "");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Tags
// ---------------------------------------------------------------------------------------------

#[test]
fn tags_are_created_listed_overwritten_and_removed() {
    let server = Server::start();
    ok(create_from_fixture(&server));
    let arn = pipeline_arn("my-pipeline");
    assert_eq!(tags_of(&server, &arn), owned_pairs(&[("team", "platform")]));

    ok(server.aws(&[
        "tag-resource",
        "--resource-arn",
        &arn,
        "--tags",
        "key=team,value=core",
        "key=env,value=dev",
    ]));
    assert_eq!(
        tags_of(&server, &arn),
        owned_pairs(&[("env", "dev"), ("team", "core")])
    );

    ok(server.aws(&[
        "untag-resource",
        "--resource-arn",
        &arn,
        "--tag-keys",
        "team",
        "not-there",
    ]));
    assert_eq!(tags_of(&server, &arn), owned_pairs(&[("env", "dev")]));
}

#[test]
fn create_pipeline_with_tags_stores_them() {
    let server = Server::start();
    let input =
        json!({"pipeline": two_stage("tagged"), "tags": tag_list(&[("a", "1"), ("b", "")])});
    let reply = ok(aws_input(&server, &["create-pipeline"], &input));
    assert_eq!(pairs(&reply["tags"]), owned_pairs(&[("a", "1"), ("b", "")]));
    assert_eq!(
        tags_of(&server, &pipeline_arn("tagged")),
        owned_pairs(&[("a", "1"), ("b", "")])
    );
}

#[test]
fn reserved_and_too_many_tags_are_rejected_and_change_nothing() {
    let server = Server::start();
    ok(create(&server, &two_stage("p")));
    let arn = pipeline_arn("p");
    ok(tag_resource(&server, &arn, tag_list(&[("keep", "me")])));
    let before = tags_of(&server, &arn);

    assert_error(
        &tag_resource(&server, &arn, tag_list(&[("aws:owner", "x")])),
        "InvalidTagsException",
        "aws:owner",
    );
    assert_error(
        &tag_resource(&server, &arn, tag_list(&[("AWS:Owner", "x")])),
        "InvalidTagsException",
        "",
    );
    let untag = server.aws(&[
        "untag-resource",
        "--resource-arn",
        &arn,
        "--tag-keys",
        "aws:owner",
    ]);
    assert_error(&untag, "InvalidTagsException", "");

    // 50 is the limit: 49 more fit next to "keep", 50 more do not.
    assert_error(
        &tag_resource(&server, &arn, numbered_tags(50)),
        "TooManyTagsException",
        "",
    );
    assert_eq!(
        tags_of(&server, &arn),
        before,
        "a rejected tag-resource changed the tags"
    );
    ok(tag_resource(&server, &arn, numbered_tags(49)));
    assert_eq!(tags_of(&server, &arn).len(), 50);
    // Overwriting an existing key does not count against the limit.
    ok(tag_resource(
        &server,
        &arn,
        tag_list(&[("keep", "changed")]),
    ));

    let too_many = json!({"pipeline": two_stage("q"), "tags": numbered_tags(51)});
    assert_error(
        &aws_input(&server, &["create-pipeline"], &too_many),
        "TooManyTagsException",
        "",
    );
    let reserved = json!({"pipeline": two_stage("q"), "tags": tag_list(&[("aws:x", "y")])});
    assert_error(
        &aws_input(&server, &["create-pipeline"], &reserved),
        "InvalidTagsException",
        "",
    );
    assert_eq!(
        names(&server),
        ["p"],
        "a create rejected for its tags created the pipeline"
    );
}

#[test]
fn tag_operations_check_the_arn() {
    let server = Server::start();
    let unknown = pipeline_arn("no-such-pipeline");
    for reply in [
        server.aws(&["list-tags-for-resource", "--resource-arn", &unknown]),
        tag_resource(&server, &unknown, tag_list(&[("a", "b")])),
        server.aws(&[
            "untag-resource",
            "--resource-arn",
            &unknown,
            "--tag-keys",
            "a",
        ]),
    ] {
        assert_error(&reply, "ResourceNotFoundException", &unknown);
    }

    let s3 = server.aws(&[
        "list-tags-for-resource",
        "--resource-arn",
        "arn:aws:s3:::bucket",
    ]);
    assert_error(&s3, "ValidationException", "");
    assert_eq!(
        s3.error().1,
        r"1 validation error detected: Value 'arn:aws:s3:::bucket' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[\w]+)*:codepipeline:.+:[0-9]{12}:.+"
    );

    let not_a_resource = "arn:aws:codepipeline:us-east-1:000000000000:actiontype:AWS/x";
    let reply = server.aws(&["list-tags-for-resource", "--resource-arn", not_a_resource]);
    assert_error(&reply, "InvalidArnException", not_a_resource);
    assert_error(
        &tag_resource(&server, not_a_resource, tag_list(&[("a", "b")])),
        "InvalidArnException",
        "",
    );
}

#[test]
fn custom_action_types_carry_tags() {
    let server = Server::start();
    let mut input = fixture_json("cli/create-custom-action-type.json");
    input["tags"] = tag_list(&[("owner", "ci")]);
    let reply = ok(aws_input(&server, &["create-custom-action-type"], &input));
    assert_eq!(pairs(&reply["tags"]), owned_pairs(&[("owner", "ci")]));
    let arn = "arn:aws:codepipeline:us-east-1:000000000000:actiontype:Custom/Build/MyJenkinsProviderName/1";
    assert_eq!(tags_of(&server, arn), owned_pairs(&[("owner", "ci")]));
    ok(tag_resource(&server, arn, tag_list(&[("tier", "gold")])));
    assert_eq!(
        tags_of(&server, arn),
        owned_pairs(&[("owner", "ci"), ("tier", "gold")])
    );
    ok(server.aws(&[
        "untag-resource",
        "--resource-arn",
        arn,
        "--tag-keys",
        "owner",
    ]));
    assert_eq!(tags_of(&server, arn), owned_pairs(&[("tier", "gold")]));

    ok(aws_input(
        &server,
        &["delete-custom-action-type"],
        &fixture_json("cli/delete-custom-action-type.json"),
    ));
    assert_error(
        &server.aws(&["list-tags-for-resource", "--resource-arn", arn]),
        "ResourceNotFoundException",
        "",
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Action types
// ---------------------------------------------------------------------------------------------

const JENKINS: &str = "MyJenkinsProviderName";

/// `base()` with its build action replaced by the custom Jenkins type of the CLI's example.
fn with_jenkins_build(configuration: Value) -> Value {
    let mut decl = base();
    let build = action(&mut decl, 1, 0);
    build["actionTypeId"] =
        json!({"category": "Build", "owner": "Custom", "provider": JENKINS, "version": "1"});
    build["configuration"] = configuration;
    build.as_object_mut().expect("action").remove("namespace");
    decl
}

fn custom_types(server: &Server) -> Vec<Value> {
    let reply = ok(server.aws(&["list-action-types", "--action-owner-filter", "Custom"]));
    reply["actionTypes"]
        .as_array()
        .expect("actionTypes")
        .clone()
}

#[test]
fn custom_action_type_lifecycle() {
    let server = Server::start();
    let input = fixture_json("cli/create-custom-action-type.json");
    let created = ok(aws_input(&server, &["create-custom-action-type"], &input));
    let expected = json!({
        "id": {"category": "Build", "owner": "Custom", "provider": JENKINS, "version": "1"},
        "settings": input["settings"],
        "actionConfigurationProperties": input["configurationProperties"],
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    });
    assert_eq!(created["actionType"], expected);
    assert_eq!(custom_types(&server), [expected]);

    // A pipeline can use it, with its required property set.
    let good = with_jenkins_build(json!({"MyJenkinsExampleBuildProject": "app"}));
    let reply = ok(create(&server, &good));
    assert_eq!(
        reply["pipeline"]["stages"][1]["actions"][0]["actionTypeId"]["owner"],
        "Custom"
    );
    // Without it, the declaration is rejected.
    let mut missing = with_jenkins_build(json!({}));
    missing["name"] = json!("missing-property");
    assert_error(
        &create(&server, &missing),
        "InvalidActionDeclarationException",
        "Action configuration for action 'Build' is missing required configuration 'MyJenkinsExampleBuildProject'",
    );
    assert_eq!(names(&server), ["my-pipeline"]);

    ok(aws_input(
        &server,
        &["delete-custom-action-type"],
        &fixture_json("cli/delete-custom-action-type.json"),
    ));
    assert!(custom_types(&server).is_empty());
    let mut after = good.clone();
    after["name"] = json!("after-delete");
    assert_error(
        &create(&server, &after),
        "InvalidActionDeclarationException",
        "is not available in region 'US_EAST_1'",
    );
}

#[test]
fn aws_owned_action_types_are_listed() {
    let server = Server::start();
    let reply = ok(server.aws(&["list-action-types", "--action-owner-filter", "AWS"]));
    let types = reply["actionTypes"].as_array().expect("actionTypes");
    assert!(
        types.iter().all(|t| t["id"]["owner"] == "AWS"),
        "owner filter ignored"
    );
    let find = |category: &str, provider: &str| {
        types
            .iter()
            .find(|t| t["id"]["category"] == category && t["id"]["provider"] == provider)
            .unwrap_or_else(|| panic!("{category}/{provider} not listed"))
    };
    let s3 = find("Source", "S3");
    assert_eq!(
        s3["inputArtifactDetails"],
        json!({"minimumCount": 0, "maximumCount": 0})
    );
    assert_eq!(
        s3["outputArtifactDetails"],
        json!({"minimumCount": 1, "maximumCount": 1})
    );
    let codebuild = find("Build", "CodeBuild");
    let project = codebuild["actionConfigurationProperties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|p| p["name"] == "ProjectName")
        .expect("ProjectName property");
    assert_eq!(project["required"], true);
    find("Approval", "Manual");
}

#[test]
fn get_action_type_returns_a_declaration() {
    let server = Server::start();
    let reply = ok(server.aws(&[
        "get-action-type",
        "--category",
        "Source",
        "--owner",
        "AWS",
        "--provider",
        "S3",
        "--action-version",
        "1",
    ]));
    let declaration = &reply["actionType"];
    assert_eq!(
        declaration["id"],
        json!({"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"})
    );
    assert!(
        declaration["executor"]["type"].is_string(),
        "executor: {}",
        declaration["executor"]
    );
    assert_eq!(
        declaration["inputArtifactDetails"],
        json!({"minimumCount": 0, "maximumCount": 0})
    );
    assert_eq!(
        declaration["outputArtifactDetails"],
        json!({"minimumCount": 1, "maximumCount": 1})
    );
    let properties = declaration["properties"].as_array().expect("properties");
    let bucket = properties
        .iter()
        .find(|p| p["name"] == "S3Bucket")
        .expect("S3Bucket");
    assert_eq!(bucket["optional"], false);

    let unknown = server.aws(&[
        "get-action-type",
        "--category",
        "Source",
        "--owner",
        "AWS",
        "--provider",
        "NoSuchProvider",
        "--action-version",
        "1",
    ]);
    assert_error(&unknown, "ActionTypeNotFoundException", "NoSuchProvider");
}

// ---------------------------------------------------------------------------------------------
// 5. Declaration rules: each rejected create leaves nothing behind
// ---------------------------------------------------------------------------------------------

#[test]
fn one_stage_is_not_a_pipeline() {
    let mut decl = base();
    decl["stages"].as_array_mut().expect("stages").truncate(1);
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Pipeline has only 1 stages. There should be a minimum of 2 stages in a pipeline",
    );
}

#[test]
fn duplicate_pipeline_name_is_in_use() {
    let server = Server::start();
    ok(create(&server, &base()));
    let mut other = base();
    action(&mut other, 2, 0)["configuration"]["BucketName"] = json!("other");
    assert_error(
        &create(&server, &other),
        "PipelineNameInUseException",
        "my-pipeline",
    );
    assert_eq!(names(&server), ["my-pipeline"]);
    let kept = ok(get(&server, "my-pipeline"));
    assert_eq!(
        kept["pipeline"],
        normalised(&base(), 1),
        "the duplicate create changed the pipeline"
    );
}

#[test]
fn first_stage_holds_only_source_actions() {
    let mut decl = base();
    push_action(&mut decl, 0, approval("Approve"));
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Pipeline should start with a stage that only contains source actions",
    );
}

#[test]
fn source_actions_only_in_the_first_stage() {
    let mut decl = base();
    let mut second_source = action(&mut decl, 0, 0).clone();
    second_source["name"] = json!("Source2");
    second_source["outputArtifacts"] = json!([{"name": "Other"}]);
    second_source
        .as_object_mut()
        .expect("action")
        .remove("namespace");
    push_action(&mut decl, 2, second_source);
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Source actions can only be in the first stage of a pipeline",
    );
}

#[test]
fn unknown_action_type_is_not_available() {
    let mut decl = base();
    action(&mut decl, 1, 0)["actionTypeId"]["provider"] = json!("NoSuchProvider");
    assert_create_rejected(
        &decl,
        "InvalidActionDeclarationException",
        "ActionType (Category: 'Build', Provider: 'NoSuchProvider', Owner: 'AWS', Version: '1') in action 'Build' is not available in region 'US_EAST_1'",
    );
}

#[test]
fn artifact_counts_are_bounded_by_the_action_type() {
    let mut too_few = base();
    action(&mut too_few, 1, 0)
        .as_object_mut()
        .expect("action")
        .remove("inputArtifacts");
    assert_create_rejected(
        &too_few,
        "InvalidActionDeclarationException",
        "Action Build declares 0 input artifacts which is less than the minimum count (1)",
    );
    let mut too_many = base();
    action(&mut too_many, 0, 0)["outputArtifacts"] =
        json!([{"name": "SourceOutput"}, {"name": "Extra"}]);
    assert_create_rejected(
        &too_many,
        "InvalidActionDeclarationException",
        "Action Source declares 2 output artifacts which is more than the maximum count (1)",
    );
}

#[test]
fn required_configuration_must_be_present() {
    let mut decl = base();
    action(&mut decl, 1, 0)["configuration"] = json!({});
    assert_create_rejected(
        &decl,
        "InvalidActionDeclarationException",
        "Action configuration for action 'Build' is missing required configuration 'ProjectName'",
    );
}

#[test]
fn input_artifacts_must_be_produced_upstream() {
    let mut decl = base();
    action(&mut decl, 1, 0)["inputArtifacts"] = json!([{"name": "Nowhere"}]);
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Input artifact 'Nowhere' of action 'Build' in stage 'Build' is not the output artifact of an action that runs before it",
    );
}

#[test]
fn output_artifact_names_are_unique() {
    let mut decl = base();
    action(&mut decl, 1, 0)["outputArtifacts"] = json!([{"name": "SourceOutput"}]);
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Output Artifact Bundle name must be unique within the pipeline. SourceOutput has been used more than once.",
    );
}

#[test]
fn stage_names_are_unique() {
    let mut decl = base();
    decl["stages"][2]["name"] = json!("Build");
    assert_create_rejected(
        &decl,
        "InvalidStageDeclarationException",
        "Stage name 'Build' is not unique in the pipeline",
    );
}

#[test]
fn action_names_are_unique_in_a_stage() {
    let mut decl = base();
    push_action(&mut decl, 2, approval("Deploy"));
    assert_create_rejected(
        &decl,
        "InvalidActionDeclarationException",
        "Action name 'Deploy' is not unique in stage 'Deploy'",
    );
}

#[test]
fn blockers_are_rejected() {
    let mut decl = base();
    decl["stages"][1]["blockers"] = json!([{"name": "wait", "type": "Schedule"}]);
    assert_create_rejected(&decl, "InvalidBlockerDeclarationException", "Stage 'Build'");
}

#[test]
fn v2_features_need_pipeline_type_v2() {
    let mut queued = base();
    queued["executionMode"] = json!("QUEUED");
    assert_create_rejected(
        &queued,
        "InvalidStructureException",
        "QUEUED or PARALLEL mode can only be used with V2 pipelines",
    );
    let mut variables = base();
    variables["variables"] = json!([{"name": "env", "defaultValue": "dev"}]);
    assert_create_rejected(
        &variables,
        "InvalidStructureException",
        "Pipeline variable can only be used with V2 pipelines",
    );

    // The same declarations are fine as V2.
    let server = Server::start();
    queued["pipelineType"] = json!("V2");
    let reply = ok(create(&server, &queued));
    assert_eq!(reply["pipeline"]["executionMode"], "QUEUED");
    assert_eq!(reply["pipeline"]["pipelineType"], "V2");
}

#[test]
fn namespaces_are_unique() {
    let mut decl = base();
    action(&mut decl, 1, 0)["namespace"] = json!("SourceVariables");
    assert_create_rejected(
        &decl,
        "InvalidActionDeclarationException",
        "Namespaces must be unique across the pipeline definition. The following occur more than once in the pipeline. StageName=[Build], ActionName=[Build], Namespace=[SourceVariables]",
    );
}

#[test]
fn artifact_store_and_artifact_stores_exclude_each_other() {
    let mut decl = base();
    decl["artifactStores"] = json!({"us-east-1": {"type": "S3", "location": "another-bucket"}});
    assert_create_rejected(
        &decl,
        "InvalidStructureException",
        "Pipeline cannot have both artifactStore and artifactStores",
    );
}

#[test]
fn model_validation_names_the_member() {
    let mut bad_name = base();
    bad_name["name"] = json!("bad name!");
    let server = Server::start();
    let reply = create(&server, &bad_name);
    assert_error(&reply, "ValidationException", "");
    assert_eq!(
        reply.error().1,
        r"1 validation error detected: Value at 'pipeline.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\-_]+"
    );

    let mut late = base();
    action(&mut late, 0, 0)["runOrder"] = json!(1000);
    let reply = create(&server, &late);
    assert_error(&reply, "ValidationException", "");
    assert_eq!(
        reply.error().1,
        "1 validation error detected: Value at 'pipeline.stages.1.member.actions.1.member.runOrder' failed to satisfy constraint: Member must have value less than or equal to 999"
    );
    assert!(names(&server).is_empty());
}

#[test]
fn run_order_zero_is_caught_by_the_cli_and_by_the_server() {
    let server = Server::start();
    let mut decl = base();
    action(&mut decl, 0, 0)["runOrder"] = json!(0);
    // The CLI checks model minimums itself and never sends the request.
    let reply = create(&server, &decl);
    assert!(!reply.ok);
    assert!(
        reply.stderr.contains("valid min value: 1"),
        "{}",
        reply.stderr
    );
    // Sent anyway, the server answers as AWS does.
    let (status, body) = server.call("CreatePipeline", json!({"pipeline": decl}));
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value at 'pipeline.stages.1.member.actions.1.member.runOrder' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert!(names(&server).is_empty());
}

#[test]
fn rejected_update_keeps_version_one() {
    let server = Server::start();
    ok(create(&server, &base()));
    let mut one_stage = base();
    one_stage["stages"]
        .as_array_mut()
        .expect("stages")
        .truncate(1);
    assert_error(
        &update(&server, &one_stage),
        "InvalidStructureException",
        "minimum of 2 stages",
    );
    let mut no_config = base();
    action(&mut no_config, 1, 0)["configuration"] = json!({});
    assert_error(
        &update(&server, &no_config),
        "InvalidActionDeclarationException",
        "'ProjectName'",
    );

    let current = ok(get(&server, "my-pipeline"));
    assert_eq!(current["pipeline"], normalised(&base(), 1));
    let v2 = server.aws(&[
        "get-pipeline",
        "--name",
        "my-pipeline",
        "--pipeline-version",
        "2",
    ]);
    assert_error(&v2, "PipelineVersionNotFoundException", "");
}

// ---------------------------------------------------------------------------------------------
// 6. The aws CLI's own examples (awscli/examples/codepipeline/*.rst), inputs under fixtures/cli/
// ---------------------------------------------------------------------------------------------

/// Creates `MyFirstPipeline` as get-pipeline.rst shows it.
fn create_my_first_pipeline(server: &Server) {
    let documented = fixture_json("cli/get-pipeline.output.json");
    ok(aws_input(
        server,
        &["create-pipeline"],
        &json!({"pipeline": documented["pipeline"]}),
    ));
}

// From create-pipeline.rst: the reply is "the structure of the pipeline".
#[test]
fn example_create_pipeline() {
    let server = Server::start();
    let input = fixture_json("cli/create-pipeline.json");
    let reply = ok(server.aws(&[
        "create-pipeline",
        "--cli-input-json",
        &fixture_arg("cli/create-pipeline.json"),
    ]));
    assert_subset(&reply["pipeline"], &input["pipeline"], "pipeline");
    assert_eq!(names(&server), ["MySecondPipeline"]);
}

// From get-pipeline.rst.
#[test]
fn example_get_pipeline() {
    let server = Server::start();
    create_my_first_pipeline(&server);
    let reply = ok(server.aws(&["get-pipeline", "--name", "MyFirstPipeline"]));
    let documented = fixture_json("cli/get-pipeline.output.json");
    assert_subset(&reply, &documented, "");
    assert_eq!(
        reply["metadata"]["pipelineArn"],
        pipeline_arn("MyFirstPipeline")
    );
}

// From update-pipeline.rst: the documented reply is of the pipeline's third version, so the
// example's file is applied twice to a pipeline created as get-pipeline.rst shows it.
#[test]
fn example_update_pipeline() {
    let server = Server::start();
    create_my_first_pipeline(&server);
    let args = [
        "update-pipeline",
        "--cli-input-json",
        &fixture_arg("cli/update-pipeline.json"),
    ];
    assert_eq!(ok(server.aws(&args))["pipeline"]["version"], 2);
    let reply = ok(server.aws(&args));
    assert_subset(&reply, &fixture_json("cli/update-pipeline.output.json"), "");
}

// From delete-pipeline.rst: no output.
#[test]
fn example_delete_pipeline() {
    let server = Server::start();
    ok(server.aws(&[
        "create-pipeline",
        "--cli-input-json",
        &fixture_arg("cli/create-pipeline.json"),
    ]));
    let reply = server.aws(&["delete-pipeline", "--name", "MySecondPipeline"]);
    assert!(reply.ok, "{}", reply.stderr);
    assert_eq!(reply.json, Value::Null);
    assert!(names(&server).is_empty());
}

// From list-pipelines.rst: MyFirstPipeline at version 1, MySecondPipeline at version 2.
#[test]
fn example_list_pipelines() {
    let server = Server::start();
    create_my_first_pipeline(&server);
    ok(server.aws(&[
        "create-pipeline",
        "--cli-input-json",
        &fixture_arg("cli/create-pipeline.json"),
    ]));
    let mut second = fixture_json("cli/create-pipeline.json")["pipeline"].clone();
    action(&mut second, 1, 0)["configuration"]["DeploymentGroupName"] = json!("AnotherFleet");
    ok(update(&server, &second));

    let reply = ok(server.aws(&["list-pipelines"]));
    let documented = fixture_json("cli/list-pipelines.output.json");
    assert_shape(&reply, &documented, "");
    let summaries = reply["pipelines"].as_array().expect("pipelines");
    let seen: Vec<(&Value, &Value)> = summaries
        .iter()
        .map(|p| (&p["name"], &p["version"]))
        .collect();
    let expected: Vec<(&Value, &Value)> = documented["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .map(|p| (&p["name"], &p["version"]))
        .collect();
    assert_eq!(seen, expected);
    let updated = &summaries[1];
    let (created, updated) = (
        updated["created"].as_f64().expect("created"),
        updated["updated"].as_f64().expect("updated"),
    );
    assert!(
        updated >= created,
        "updated {updated} before created {created}"
    );
}

// From tag-resource.rst, list-tags-for-resource.rst and untag-resource.rst, with the ARN's
// account changed to ours. list-tags-for-resource.rst prints the tags as a map, but the service
// model (and so the CLI) returns a list of {key, value}: the same pairs are expected in that form.
#[test]
fn example_tag_list_untag() {
    let server = Server::start();
    ok(create(&server, &two_stage("MyPipeline")));
    let arn = "arn:aws:codepipeline:us-east-1:000000000000:MyPipeline";
    let tagged = server.aws(&[
        "tag-resource",
        "--resource-arn",
        arn,
        "--tags",
        "key=Project,value=ProjectA",
        "key=IscontainerBased,value=true",
    ]);
    assert!(tagged.ok, "{}", tagged.stderr);
    assert_eq!(tagged.json, Value::Null, "tag-resource produces no output");

    let reply = ok(server.aws(&["list-tags-for-resource", "--resource-arn", arn]));
    let documented = fixture_json("cli/list-tags-for-resource.output.json");
    let mut expected: Vec<(String, String)> = documented["tags"]
        .as_object()
        .expect("documented tags")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("value").to_owned()))
        .collect();
    expected.sort();
    assert_eq!(pairs(&reply["tags"]), expected);

    let untagged = server.aws(&[
        "untag-resource",
        "--resource-arn",
        arn,
        "--tag-keys",
        "Project",
        "IscontainerBased",
    ]);
    assert!(untagged.ok, "{}", untagged.stderr);
    assert_eq!(
        untagged.json,
        Value::Null,
        "untag-resource produces no output"
    );
    assert!(tags_of(&server, arn).is_empty());
}

// From create-custom-action-type.rst, list-action-types.rst and delete-custom-action-type.rst.
// list-action-types.rst shows a Build and a Test type of the same provider; the Test one is the
// create example with its category and property renamed.
#[test]
fn example_custom_action_types() {
    let server = Server::start();
    let build = fixture_json("cli/create-custom-action-type.json");
    let reply = ok(server.aws(&[
        "create-custom-action-type",
        "--cli-input-json",
        &fixture_arg("cli/create-custom-action-type.json"),
    ]));
    assert_eq!(
        reply["actionType"]["id"],
        json!({"category": "Build", "owner": "Custom", "provider": JENKINS, "version": "1"})
    );
    assert_eq!(reply["actionType"]["settings"], build["settings"]);
    let mut test = build.clone();
    test["category"] = json!("Test");
    test["configurationProperties"][0]["name"] = json!("MyJenkinsExampleTestProject");
    ok(aws_input(&server, &["create-custom-action-type"], &test));

    let listed = ok(server.aws(&["list-action-types", "--action-owner-filter", "Custom"]));
    let documented = fixture_json("cli/list-action-types.output.json");
    assert_shape(&listed, &documented, "");
    let ids = |v: &Value| -> Vec<Value> {
        v["actionTypes"]
            .as_array()
            .expect("actionTypes")
            .iter()
            .map(|t| t["id"].clone())
            .collect()
    };
    assert_eq!(ids(&listed), ids(&documented));
    let property_names = |v: &Value| -> Vec<Value> {
        v["actionTypes"]
            .as_array()
            .expect("actionTypes")
            .iter()
            .map(|t| t["actionConfigurationProperties"][0]["name"].clone())
            .collect()
    };
    assert_eq!(property_names(&listed), property_names(&documented));

    let deleted = server.aws(&[
        "delete-custom-action-type",
        "--cli-input-json",
        &fixture_arg("cli/delete-custom-action-type.json"),
    ]);
    assert!(deleted.ok, "{}", deleted.stderr);
    assert_eq!(deleted.json, Value::Null);
    let left: Vec<Value> = custom_types(&server)
        .iter()
        .map(|t| t["id"]["category"].clone())
        .collect();
    assert_eq!(left, [json!("Test")]);
}

// ---------------------------------------------------------------------------------------------
// 7. Accounts and regions
// ---------------------------------------------------------------------------------------------

#[test]
fn accounts_and_regions_are_isolated() {
    let server = Server::start();
    let input =
        json!({"pipeline": two_stage("shared-name"), "tags": tag_list(&[("owner", "one")])});
    ok(aws_input_as(
        &server,
        OTHER,
        "us-east-1",
        &["create-pipeline"],
        &input,
    ));
    let own = ok(server.aws_as(
        OTHER,
        "us-east-1",
        &["get-pipeline", "--name", "shared-name"],
    ));
    let arn = "arn:aws:codepipeline:us-east-1:111111111111:shared-name";
    assert_eq!(own["metadata"]["pipelineArn"], arn);

    let other_account = server.aws_as(
        THIRD,
        "us-east-1",
        &["get-pipeline", "--name", "shared-name"],
    );
    assert_error(
        &other_account,
        "PipelineNotFoundException",
        "Account '222222222222' does not have a pipeline with name 'shared-name'",
    );
    let other_region = server.aws_as(
        OTHER,
        "eu-west-1",
        &["get-pipeline", "--name", "shared-name"],
    );
    assert_error(
        &other_region,
        "PipelineNotFoundException",
        "Account '111111111111' does not have a pipeline with name 'shared-name'",
    );
    assert!(names_as(&server, THIRD, "us-east-1").is_empty());
    assert!(names_as(&server, OTHER, "eu-west-1").is_empty());
    assert!(
        names(&server).is_empty(),
        "the default account sees another account's pipeline"
    );
    let foreign_tags = server.aws_as(
        THIRD,
        "us-east-1",
        &["list-tags-for-resource", "--resource-arn", arn],
    );
    assert_error(&foreign_tags, "ResourceNotFoundException", "");

    // The same name is free elsewhere, and what happens there stays there.
    let mine = ok(aws_input_as(
        &server,
        THIRD,
        "us-east-1",
        &["create-pipeline"],
        &json!({"pipeline": two_stage("shared-name")}),
    ));
    assert_eq!(mine["pipeline"]["version"], 1);
    let theirs = ok(server.aws_as(
        THIRD,
        "us-east-1",
        &["get-pipeline", "--name", "shared-name"],
    ));
    assert_eq!(
        theirs["metadata"]["pipelineArn"],
        "arn:aws:codepipeline:us-east-1:222222222222:shared-name"
    );
    ok(aws_input_as(
        &server,
        OTHER,
        "eu-west-1",
        &["create-pipeline"],
        &json!({"pipeline": two_stage("shared-name")}),
    ));
    let regional = ok(server.aws_as(
        OTHER,
        "eu-west-1",
        &["get-pipeline", "--name", "shared-name"],
    ));
    assert_eq!(
        regional["metadata"]["pipelineArn"],
        "arn:aws:codepipeline:eu-west-1:111111111111:shared-name"
    );
    ok(server.aws_as(
        THIRD,
        "us-east-1",
        &["delete-pipeline", "--name", "shared-name"],
    ));
    ok(server.aws_as(
        OTHER,
        "eu-west-1",
        &["delete-pipeline", "--name", "shared-name"],
    ));

    let still = ok(server.aws_as(
        OTHER,
        "us-east-1",
        &["get-pipeline", "--name", "shared-name"],
    ));
    assert_eq!(still["pipeline"], own["pipeline"]);
    let tags = ok(server.aws_as(
        OTHER,
        "us-east-1",
        &["list-tags-for-resource", "--resource-arn", arn],
    ));
    assert_eq!(pairs(&tags["tags"]), owned_pairs(&[("owner", "one")]));
}
