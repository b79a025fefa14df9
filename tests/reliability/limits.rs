//! Limits as AWS enforces them, each with AWS's error: pipelines, custom action types and
//! webhooks per account and region (`LimitExceededException`), tags per resource
//! (`TooManyTagsException`), stages and actions per pipeline, pipeline variables and triggers,
//! page sizes, and the request body size. A refused call changes nothing, and another account
//! or region still has its own full quota.

use serde_json::{json, Value};

use crate::common::{github_v1_source_stage, two_stage, Server};

/// Creates `count` pipelines as fast as one client can, failing on the first refusal.
fn create_pipelines(server: &Server, prefix: &str, count: usize) {
    for i in 0..count {
        let (status, reply) = server.call(
            "CreatePipeline",
            json!({"pipeline": two_stage(&format!("{prefix}-{i}"))}),
        );
        assert_eq!(status, 200, "pipeline {i}: {reply}");
    }
}

fn pipeline_count(server: &Server) -> usize {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"maxResults": 1000});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let (status, reply) = server.call("ListPipelines", body);
        assert_eq!(status, 200, "{reply}");
        count += reply["pipelines"].as_array().map_or(0, Vec::len);
        match reply["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return count,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_holds_at_most_1000_pipelines_per_region() {
    let server = Server::start_with(&["--in-memory", "--action-duration", "1h"]);
    create_pipelines(&server, "p", 1000);

    // The SDK sees the modeled error (retries are off in the test client; real SDKs retry
    // LimitExceededException as throttling before they give up).
    let sdk = server.sdk();
    let refused = sdk
        .create_pipeline()
        .pipeline(crate::sdk_pipeline("one-too-many"))
        .send()
        .await
        .expect_err("the 1001st pipeline is refused");
    let refused = refused.into_service_error();
    assert!(refused.is_limit_exceeded_exception(), "{refused:?}");
    assert_eq!(pipeline_count(&server), 1000);

    let cli = server.aws(&[
        "create-pipeline",
        "--pipeline",
        &two_stage("cli-too-many").to_string(),
    ]);
    assert_eq!(cli.error().0, "LimitExceededException", "{}", cli.stderr);

    // Quotas are per account and region.
    let other = server.sdk_as("111111111111", "us-east-1");
    other
        .create_pipeline()
        .pipeline(crate::sdk_pipeline("elsewhere"))
        .send()
        .await
        .expect("another account has its own quota");
    let other_region = server.sdk_as("test", "eu-west-1");
    other_region
        .create_pipeline()
        .pipeline(crate::sdk_pipeline("elsewhere"))
        .send()
        .await
        .expect("another region has its own quota");

    // Deleting one makes room for one.
    let (status, _) = server.call("DeletePipeline", json!({"name": "p-0"}));
    assert_eq!(status, 200);
    let (status, reply) = server.call("CreatePipeline", json!({"pipeline": two_stage("room")}));
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = server.call("CreatePipeline", json!({"pipeline": two_stage("no-room")}));
    assert_eq!(
        (status, reply["__type"].as_str()),
        (400, Some("LimitExceededException")),
        "full again"
    );
}

fn custom_type(provider: &str) -> Value {
    json!({
        "category": "Build", "provider": provider, "version": "1",
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}
    })
}

#[test]
fn at_most_50_custom_action_types_per_region() {
    let server = Server::start_in_memory();
    for i in 0..50 {
        let (status, reply) =
            server.call("CreateCustomActionType", custom_type(&format!("Worker{i}")));
        assert_eq!(status, 200, "type {i}: {reply}");
    }
    let (status, reply) = server.call("CreateCustomActionType", custom_type("Worker50"));
    assert_eq!(
        (status, reply["__type"].as_str()),
        (400, Some("LimitExceededException")),
        "{reply}"
    );
    let (_, listed) = server.call("ListActionTypes", json!({"actionOwnerFilter": "Custom"}));
    assert_eq!(listed["actionTypes"].as_array().map(Vec::len), Some(50));
}

fn github_pipeline(name: &str) -> Value {
    json!({
        "name": name,
        "roleArn": "arn:aws:iam::123456789012:role/service-role",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [
            github_v1_source_stage(),
            {"name": "Approve", "actions": [{"name": "Approve",
                "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}
        ]
    })
}

fn webhook(name: &str) -> Value {
    json!({"webhook": {
        "name": name,
        "targetPipeline": "hooked",
        "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}],
        "authentication": "UNAUTHENTICATED",
        "authenticationConfiguration": {}
    }})
}

#[test]
fn at_most_300_webhooks_per_region() {
    let server = Server::start_with(&["--in-memory", "--action-duration", "1h"]);
    let (status, reply) = server.call(
        "CreatePipeline",
        json!({"pipeline": github_pipeline("hooked")}),
    );
    assert_eq!(status, 200, "{reply}");
    for i in 0..300 {
        let (status, reply) = server.call("PutWebhook", webhook(&format!("hook-{i}")));
        assert_eq!(status, 200, "webhook {i}: {reply}");
    }
    let (status, reply) = server.call("PutWebhook", webhook("hook-300"));
    assert_eq!(
        (status, reply["__type"].as_str()),
        (400, Some("LimitExceededException")),
        "{reply}"
    );
    // Updating an existing webhook is not a new one.
    let (status, reply) = server.call("PutWebhook", webhook("hook-7"));
    assert_eq!(status, 200, "{reply}");
}

#[test]
fn at_most_50_tags_per_resource() {
    let server = Server::start_in_memory();
    let (_, created) = server.call("CreatePipeline", json!({"pipeline": two_stage("tagged")}));
    let arn = created["pipeline"]["name"]
        .as_str()
        .map(|n| format!("arn:aws:codepipeline:us-east-1:000000000000:{n}"))
        .expect("name");
    let tags = |from: usize, to: usize| -> Value {
        (from..to)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect()
    };
    let (status, _) = server.call(
        "TagResource",
        json!({"resourceArn": arn, "tags": tags(0, 45)}),
    );
    assert_eq!(status, 200);
    let (status, reply) = server.call(
        "TagResource",
        json!({"resourceArn": arn, "tags": tags(45, 51)}),
    );
    assert_eq!(reply["__type"], "TooManyTagsException", "{status} {reply}");
    let (_, listed) = server.call("ListTagsForResource", json!({"resourceArn": arn}));
    assert_eq!(listed["tags"].as_array().map(Vec::len), Some(45));
    // Overwriting existing keys does not count twice.
    let (status, reply) = server.call(
        "TagResource",
        json!({"resourceArn": arn, "tags": tags(40, 50)}),
    );
    assert_eq!(status, 200, "{reply}");
}

/// A pipeline with `stages` stages (Source first) of `actions` parallel approvals each.
fn wide_pipeline(name: &str, stages: usize, actions: usize) -> Value {
    let mut declaration = two_stage(name);
    let approvals: Vec<Value> = (0..actions)
        .map(|i| {
            json!({"name": format!("Approve{i}"),
                "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}})
        })
        .collect();
    let mut all = vec![declaration["stages"][0].clone()];
    for s in 1..stages {
        all.push(json!({"name": format!("Stage{s}"), "actions": approvals}));
    }
    declaration["stages"] = json!(all);
    declaration
}

#[test]
fn stages_and_actions_per_pipeline() {
    let server = Server::start_with(&["--in-memory", "--action-duration", "1h"]);
    let cases = [
        (51, 1, "InvalidStructureException", "Pipeline has 51 stages. There should be a maximum of 50 stages in a pipeline"),
        (2, 51, "InvalidStageDeclarationException", "Pipeline stage 'Stage1' has too many actions. There can only be up to 50 actions in a pipeline stage"),
        (12, 50, "InvalidStructureException", "Pipeline has 551 actions. There can only be up to 500 actions in a pipeline"),
    ];
    for (stages, actions, code, message) in cases {
        let (status, reply) = server.call(
            "CreatePipeline",
            json!({"pipeline": wide_pipeline("wide", stages, actions)}),
        );
        assert_eq!(
            (status, reply["__type"].as_str(), reply["message"].as_str()),
            (400, Some(code), Some(message)),
            "{stages} stages of {actions} actions"
        );
    }
    let (status, reply) = server.call(
        "CreatePipeline",
        json!({"pipeline": wide_pipeline("widest", 11, 49)}),
    );
    assert_eq!(status, 200, "490 actions are allowed: {reply}");
    let (status, _) = server.call("GetPipeline", json!({"name": "wide"}));
    assert_eq!(status, 400, "no refused pipeline was stored");
}

#[test]
fn variables_triggers_and_page_sizes_follow_the_model() {
    let server = Server::start_in_memory();
    let mut declaration = two_stage("v2");
    declaration["pipelineType"] = json!("V2");
    declaration["variables"] = (0..51)
        .map(|i| json!({"name": format!("v{i}"), "defaultValue": "x"}))
        .collect();
    let (status, reply) = server.call("CreatePipeline", json!({"pipeline": declaration}));
    assert_eq!(reply["__type"], "ValidationException", "{status} {reply}");
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.contains("Member must have length less than or equal to 50")),
        "{reply}"
    );

    for (operation, body) in [
        ("ListPipelines", json!({"maxResults": 1001})),
        (
            "ListPipelineExecutions",
            json!({"pipelineName": "v2", "maxResults": 101}),
        ),
        (
            "ListActionExecutions",
            json!({"pipelineName": "v2", "maxResults": 101}),
        ),
        ("ListWebhooks", json!({"MaxResults": 101})),
        (
            "ListTagsForResource",
            json!({"resourceArn": "arn:aws:codepipeline:us-east-1:000000000000:v2", "maxResults": 101}),
        ),
        ("ListPipelines", json!({"maxResults": 0})),
    ] {
        let (status, reply) = server.call(operation, body.clone());
        assert_eq!(
            (status, reply["__type"].as_str()),
            (400, Some("ValidationException")),
            "{operation} {body}: {reply}"
        );
    }
}

#[test]
fn request_bodies_over_8_mib_are_refused_before_they_are_read() {
    let server = Server::start_in_memory();
    let mut declaration = two_stage("huge");
    declaration["stages"][0]["actions"][0]["configuration"]["S3ObjectKey"] =
        json!("k".repeat(9 * 1024 * 1024));
    let (status, reply) = server.call("CreatePipeline", json!({"pipeline": declaration}));
    assert_eq!(
        (status, reply["__type"].as_str()),
        (413, Some("RequestEntityTooLargeException")),
        "{reply}"
    );
    let (status, _) = server.call("GetPipeline", json!({"name": "huge"}));
    assert_eq!(status, 400);
}
