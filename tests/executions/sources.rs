//! Source-side ways of starting a pipeline, with the real aws CLI for the CodePipeline API and
//! plain HTTP for webhook URLs and control endpoints:
//!
//! - webhooks for a V1 GitHub source (PutWebhook, ListWebhooks, DeleteWebhook, Register and
//!   DeregisterWebhookWithThirdParty), and calls to the URL PutWebhook hands out, authenticated
//!   by GitHub HMAC signature, IP range, or not at all;
//! - PutActionRevision;
//! - V2 pipeline triggers, fed simulated pushes and pull requests through
//!   `POST /_local/source-events`;
//! - ListDeployActionExecutionTargets for a CodeDeploy deploy action.
//!
//! Each test starts its own server whose stub actions finish at once; every wait is a poll with
//! a deadline.

use crate::common::*;
use hmac::Mac;
use serde_json::{json, Value};

const SECRET: &str = "s3cret-token";
const CONNECTION: &str =
    "arn:aws:codestar-connections:us-east-1:000000000000:connection/11111111-2222-3333-4444-555555555555";
/// A well-formed action execution id that no action execution ever had.
const UNKNOWN_ACTION_EXECUTION: &str = "00000000-0000-4000-8000-000000000000";

// ---------------------------------------------------------------------------------------------
// Helpers: the aws CLI
// ---------------------------------------------------------------------------------------------

/// Asserts that `out` failed with the AWS error `code`; returns the message.
fn assert_cli_error(out: &Cli, what: &str, code: &str) -> String {
    assert!(
        !out.ok,
        "{what} should have failed with {code} but replied {}",
        out.json
    );
    let (got, message) = out.error();
    assert_eq!(got, code, "{what}: {}", out.stderr);
    message
}

/// Asserts that `aws codepipeline ARGS` fails with the AWS error `code`.
fn assert_error(s: &Server, args: &[&str], code: &str) -> String {
    assert_cli_error(
        &s.aws(args),
        &format!("aws codepipeline {}", args.join(" ")),
        code,
    )
}

/// Creates the pipeline `declaration` and waits for the execution creation starts to succeed;
/// returns that execution's id.
fn create(s: &Server, declaration: &Value) -> String {
    let name = declaration["name"].as_str().expect("pipeline name");
    let file = json_arg(
        &s.data_dir,
        &format!("pipeline-{name}.json"),
        &json!({ "pipeline": declaration }),
    );
    s.aws_ok(&["create-pipeline", "--cli-input-json", &file]);
    let id = s.latest_execution(name);
    s.wait_for_execution(name, &id, "Succeeded");
    id
}

fn summary(s: &Server, pipeline: &str, id: &str) -> Value {
    s.execution_summaries(pipeline)
        .into_iter()
        .find(|e| e["pipelineExecutionId"] == id)
        .unwrap_or_else(|| panic!("no execution {id} of {pipeline}"))
}

/// GetPipelineExecution through the aws CLI.
fn execution(s: &Server, pipeline: &str, id: &str) -> Value {
    s.aws_ok(&[
        "get-pipeline-execution",
        "--pipeline-name",
        pipeline,
        "--pipeline-execution-id",
        id,
    ])["pipelineExecution"]
        .clone()
}

/// Waits for execution `id` to succeed and returns it as the aws CLI shows it.
fn succeeded(s: &Server, pipeline: &str, id: &str) -> Value {
    s.wait_for_execution(pipeline, id, "Succeeded");
    execution(s, pipeline, id)
}

/// A timestamp as the aws CLI prints it: epoch seconds, or ISO 8601 text with a timestamp format.
fn is_timestamp(v: &Value) -> bool {
    v.is_number() || v.is_string()
}

fn is_hex(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

// ---------------------------------------------------------------------------------------------
// Helpers: pipelines
// ---------------------------------------------------------------------------------------------

fn pipeline(name: &str, stages: Value) -> Value {
    json!({
        "name": name,
        "roleArn": "arn:aws:iam::000000000000:role/service-role",
        "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-artifacts"},
        "stages": stages,
    })
}

fn codebuild_stage(configuration: Value) -> Value {
    json!({"name": "Build", "actions": [{"name": "Build",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "inputArtifacts": [{"name": "Src"}],
        "configuration": configuration}]})
}

/// A `Source/ThirdParty/GitHub/1` source on branch `main` followed by a CodeBuild stage.
fn github_pipeline(name: &str) -> Value {
    pipeline(
        name,
        json!([
            github_v1_source_stage(),
            codebuild_stage(json!({"ProjectName": "app-build"})),
        ]),
    )
}

/// A CodeBuild configuration whose one environment variable is `value`.
fn build_env(value: &str) -> Value {
    let vars = json!([{"name": "COMMIT", "value": value, "type": "PLAINTEXT"}]);
    json!({"ProjectName": "app-build", "EnvironmentVariables": vars.to_string()})
}

/// A V2 pipeline with a CodeStarSourceConnection source `Src` (namespace `S`) on `repository`
/// and branch `main`, a CodeBuild stage that reads `#{S.CommitId}`, and `triggers` (if any).
fn v2_pipeline(
    name: &str,
    repository: &str,
    extra_config: Value,
    triggers: Option<Value>,
) -> Value {
    let mut configuration = json!({"ConnectionArn": CONNECTION, "FullRepositoryId": repository,
                                   "BranchName": "main"});
    if let (Some(c), Some(extra)) = (configuration.as_object_mut(), extra_config.as_object()) {
        c.extend(extra.clone());
    }
    let mut p = pipeline(
        name,
        json!([
            {"name": "Source", "actions": [{"name": "Src", "namespace": "S",
                "actionTypeId": {"category": "Source", "owner": "AWS",
                                 "provider": "CodeStarSourceConnection", "version": "1"},
                "outputArtifacts": [{"name": "Src"}],
                "configuration": configuration}]},
            codebuild_stage(build_env("#{S.CommitId}")),
        ]),
    );
    p["pipelineType"] = json!("V2");
    if let Some(t) = triggers {
        p["triggers"] = t;
    }
    p
}

/// Push: branches `release/*` but not `release/old`, files under `src/`; pull request: OPEN on main.
fn release_triggers() -> Value {
    json!([{"providerType": "CodeStarSourceConnection", "gitConfiguration": {
        "sourceActionName": "Src",
        "push": [{"branches": {"includes": ["release/*"], "excludes": ["release/old"]},
                  "filePaths": {"includes": ["src/**"]}}],
        "pullRequest": [{"events": ["OPEN"], "branches": {"includes": ["main"]}}]}}])
}

// ---------------------------------------------------------------------------------------------
// Helpers: webhooks
// ---------------------------------------------------------------------------------------------

/// A webhook definition on the `Source` action of `pipeline` whose one filter asks for a push to
/// the action's own branch.
fn webhook(name: &str, pipeline: &str, authentication: &str, configuration: Value) -> Value {
    json!({
        "name": name,
        "targetPipeline": pipeline,
        "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}],
        "authentication": authentication,
        "authenticationConfiguration": configuration,
    })
}

fn hmac_webhook(name: &str, pipeline: &str) -> Value {
    webhook(
        name,
        pipeline,
        "GITHUB_HMAC",
        json!({"SecretToken": SECRET}),
    )
}

/// `aws codepipeline put-webhook --cli-input-json` (the shorthand syntax breaks on `{Branch}`),
/// with `extra` arguments after it.
fn put_webhook_cli(s: &Server, definition: &Value, extra: &[&str]) -> Cli {
    let name = definition["name"].as_str().unwrap_or("unnamed");
    let file = json_arg(
        &s.data_dir,
        &format!("webhook-{name}.json"),
        &json!({ "webhook": definition }),
    );
    let mut args = vec!["put-webhook", "--cli-input-json", &file];
    args.extend_from_slice(extra);
    s.aws(&args)
}

/// PutWebhook that must succeed: the `webhook` member of its reply.
fn put_webhook(s: &Server, definition: &Value) -> Value {
    let out = put_webhook_cli(s, definition, &[]);
    assert!(out.ok, "put-webhook failed: {}", out.stderr);
    out.json["webhook"].clone()
}

fn url_of(webhook: &Value) -> String {
    webhook["url"].as_str().expect("webhook url").to_owned()
}

fn list_webhooks(s: &Server) -> Vec<Value> {
    s.aws_ok(&["list-webhooks"])["webhooks"]
        .as_array()
        .expect("webhooks")
        .clone()
}

fn listed_webhook(s: &Server, name: &str) -> Option<Value> {
    list_webhooks(s)
        .into_iter()
        .find(|w| w["definition"]["name"] == name)
}

/// A GitHub push event body for `branch`.
fn push_body(branch: &str) -> String {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "after": "0123456789abcdef0123456789abcdef01234567",
        "repository": {"name": "app", "full_name": "me/app"},
    })
    .to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// GitHub's `X-Hub-Signature-256` value for `body`.
fn sign_sha256(secret: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// GitHub's older `X-Hub-Signature` value for `body`.
fn sign_sha1(secret: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    format!("sha1={}", hex(&mac.finalize().into_bytes()))
}

/// POSTs `body` to `url` with `headers`: `(status, JSON reply)`.
fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = ureq::post(url).set("content-type", "application/json");
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = match request.send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {url} failed: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A GitHub push delivery to a webhook URL, signed with `secret`.
fn deliver_signed(url: &str, secret: &str, branch: &str) -> (u16, Value) {
    let body = push_body(branch);
    let signature = sign_sha256(secret, &body);
    post(
        url,
        &body,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
    )
}

/// A push delivery with no signature.
fn deliver(url: &str, branch: &str) -> (u16, Value) {
    post(url, &push_body(branch), &[("X-GitHub-Event", "push")])
}

/// The id of the execution a webhook call says it started.
fn started_id(status: u16, reply: &Value) -> String {
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["started"], true, "{reply}");
    reply["pipelineExecutionId"]
        .as_str()
        .expect("pipelineExecutionId")
        .to_owned()
}

/// A pipeline with a V1 GitHub source whose first execution has finished.
fn github_server(name: &str) -> Server {
    let s = Server::fast();
    create(&s, &github_pipeline(name));
    s
}

// ---------------------------------------------------------------------------------------------
// Helpers: control endpoints
// ---------------------------------------------------------------------------------------------

/// `POST /_local/source-events` with a raw body: `(status, JSON reply)`.
fn source_event_raw(s: &Server, body: &str) -> (u16, Value) {
    post(&format!("{}/_local/source-events", s.url), body, &[])
}

/// A source event that must be accepted; returns the pipelines it started as
/// `(pipeline, execution id)`.
fn source_event(s: &Server, event: Value) -> Vec<(String, String)> {
    let (status, reply) = source_event_raw(s, &event.to_string());
    assert_eq!(status, 200, "source event {event}: {reply}");
    assert_eq!(reply["errors"], json!([]), "{reply}");
    reply["started"]
        .as_array()
        .expect("started")
        .iter()
        .map(|p| {
            (
                p["pipeline"].as_str().expect("pipeline").to_owned(),
                p["pipelineExecutionId"]
                    .as_str()
                    .expect("pipelineExecutionId")
                    .to_owned(),
            )
        })
        .collect()
}

fn push_event(repository: &str, branch: &str, files: &[&str], commit: &str) -> Value {
    json!({"repository": repository, "branch": branch, "filePaths": files,
           "commitId": commit, "kind": "push", "connectionArn": CONNECTION})
}

fn pull_request_event(branch: &str, event: &str, commit: &str) -> Value {
    json!({"repository": "me/app", "branch": branch, "kind": "pullRequest", "event": event,
           "commitId": commit, "connectionArn": CONNECTION})
}

// ---------------------------------------------------------------------------------------------
// Webhooks (V1 GitHub source)
// ---------------------------------------------------------------------------------------------

#[test]
fn put_webhook_returns_url_arn_and_definition_without_secret() {
    let s = github_server("gh");
    let w = put_webhook(&s, &hmac_webhook("gh-hook", "gh"));

    let url = url_of(&w);
    let prefix = format!("{}/_webhooks/trigger?t=", s.url);
    assert!(
        url.starts_with(&prefix) && url.ends_with("&v=1"),
        "url {url} should look like {prefix}ID&v=1"
    );
    assert_eq!(
        w["arn"],
        format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webhook:gh-hook")
    );
    let def = &w["definition"];
    assert_eq!(def["name"], "gh-hook");
    assert_eq!(def["targetPipeline"], "gh");
    assert_eq!(def["targetAction"], "Source");
    assert_eq!(def["authentication"], "GITHUB_HMAC");
    assert_eq!(
        def["filters"],
        json!([{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}])
    );
    assert!(
        def["authenticationConfiguration"]
            .get("SecretToken")
            .is_none(),
        "PutWebhook must not return the secret: {w:#}"
    );

    let listed = listed_webhook(&s, "gh-hook").expect("list-webhooks shows the webhook");
    assert_eq!(listed["url"], url.as_str());
    assert_eq!(listed["arn"], w["arn"]);
    assert!(
        listed["definition"]["authenticationConfiguration"]
            .get("SecretToken")
            .is_none(),
        "ListWebhooks must not return the secret: {listed:#}"
    );
    assert!(
        listed.get("lastTriggered").is_none(),
        "never triggered yet: {listed:#}"
    );
}

#[test]
fn signed_push_to_the_branch_starts_the_pipeline() {
    let s = github_server("gh");
    let w = put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    let before = s.execution_summaries("gh").len();

    let (status, reply) = deliver_signed(&url_of(&w), SECRET, "main");
    let id = started_id(status, &reply);
    let e = succeeded(&s, "gh", &id);
    assert_eq!(e["trigger"]["triggerType"], "Webhook", "{e:#}");
    assert_eq!(e["trigger"]["triggerDetail"], w["arn"], "{e:#}");
    assert_eq!(s.execution_summaries("gh").len(), before + 1);
    let listed = summary(&s, "gh", &id);
    assert_eq!(listed["trigger"]["triggerType"], "Webhook");

    let hook = listed_webhook(&s, "gh-hook").expect("webhook listed");
    assert!(
        is_timestamp(&hook["lastTriggered"]),
        "lastTriggered is set after a trigger: {hook:#}"
    );
    assert!(hook["definition"]["authenticationConfiguration"]
        .get("SecretToken")
        .is_none());

    // GitHub's older SHA-1 signature header works too.
    let body = push_body("main");
    let sha1 = sign_sha1(SECRET, &body);
    let (status, reply) = post(&url_of(&w), &body, &[("X-Hub-Signature", &sha1)]);
    let second = started_id(status, &reply);
    s.wait_for_execution("gh", &second, "Succeeded");
}

#[test]
fn bad_signature_or_another_branch_starts_nothing() {
    let s = github_server("gh");
    let w = put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    let url = url_of(&w);
    let before = s.execution_summaries("gh").len();

    let (status, reply) = deliver_signed(&url, "not-the-secret", "main");
    assert_eq!(status, 401, "wrong secret: {reply}");
    let (status, reply) = deliver(&url, "main");
    assert_eq!(status, 401, "no signature: {reply}");
    let body = push_body("main");
    let signed_other_body = sign_sha256(SECRET, &push_body("dev"));
    let (status, reply) = post(&url, &body, &[("X-Hub-Signature-256", &signed_other_body)]);
    assert_eq!(status, 401, "signature of another body: {reply}");
    assert_eq!(
        s.execution_summaries("gh").len(),
        before,
        "a 401 starts nothing"
    );

    let (status, reply) = deliver_signed(&url, SECRET, "dev");
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["started"], false, "{reply}");
    assert!(reply["reason"].is_string(), "{reply}");
    assert!(reply.get("pipelineExecutionId").is_none(), "{reply}");
    assert_eq!(
        s.execution_summaries("gh").len(),
        before,
        "a mismatch starts nothing"
    );
    let hook = listed_webhook(&s, "gh-hook").expect("webhook listed");
    assert!(hook.get("lastTriggered").is_none(), "{hook:#}");
}

#[test]
fn get_pipeline_masks_the_oauth_token() {
    let s = github_server("gh");
    let p = &s.aws_ok(&["get-pipeline", "--name", "gh"]);
    let config = &p["pipeline"]["stages"][0]["actions"][0]["configuration"];
    assert_eq!(config["OAuthToken"], "****", "{config:#}");
    assert_eq!(config["Branch"], "main");
    assert_eq!(config["Owner"], "me");
    assert_eq!(config["Repo"], "app");
    assert_eq!(config["PollForSourceChanges"], "false");
}

#[test]
fn putting_a_webhook_again_keeps_its_url_and_updates_its_filters() {
    let s = github_server("gh");
    let first = put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    let mut changed = hmac_webhook("gh-hook", "gh");
    changed["filters"] = json!([
        {"jsonPath": "$.ref", "matchEquals": "refs/heads/release"},
        {"jsonPath": "$.repository.name", "matchEquals": "{Repo}"},
    ]);
    let second = put_webhook(&s, &changed);
    assert_eq!(second["url"], first["url"]);
    assert_eq!(second["arn"], first["arn"]);
    assert_eq!(second["definition"]["filters"], changed["filters"]);

    let hooks = list_webhooks(&s);
    assert_eq!(hooks.len(), 1, "{hooks:#?}");
    assert_eq!(hooks[0]["definition"]["filters"], changed["filters"]);

    // The new filters apply: main no longer matches, release does.
    let url = url_of(&second);
    let (status, reply) = deliver_signed(&url, SECRET, "main");
    assert_eq!((status, &reply["started"]), (200, &json!(false)), "{reply}");
    let (status, reply) = deliver_signed(&url, SECRET, "release");
    let id = started_id(status, &reply);
    s.wait_for_execution("gh", &id, "Succeeded");
}

#[test]
fn register_and_deregister_with_third_party() {
    let s = github_server("gh");
    put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    s.aws_ok(&[
        "register-webhook-with-third-party",
        "--webhook-name",
        "gh-hook",
    ]);
    s.aws_ok(&[
        "deregister-webhook-with-third-party",
        "--webhook-name",
        "gh-hook",
    ]);
    assert_error(
        &s,
        &[
            "register-webhook-with-third-party",
            "--webhook-name",
            "nope",
        ],
        "WebhookNotFoundException",
    );
    assert_error(
        &s,
        &[
            "deregister-webhook-with-third-party",
            "--webhook-name",
            "nope",
        ],
        "WebhookNotFoundException",
    );
}

#[test]
fn deleted_webhook_url_answers_404() {
    let s = github_server("gh");
    let w = put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    let url = url_of(&w);
    s.aws_ok(&["delete-webhook", "--name", "gh-hook"]);
    assert!(listed_webhook(&s, "gh-hook").is_none());
    let before = s.execution_summaries("gh").len();
    let (status, reply) = deliver_signed(&url, SECRET, "main");
    assert_eq!(status, 404, "{reply}");
    assert_eq!(s.execution_summaries("gh").len(), before);
    // Deleting a webhook that is gone succeeds.
    s.aws_ok(&["delete-webhook", "--name", "gh-hook"]);
}

#[test]
fn put_webhook_rejects_bad_definitions() {
    let s = github_server("gh");
    let cases = [
        (
            "no secret",
            webhook("w1", "gh", "GITHUB_HMAC", json!({})),
            "InvalidWebhookAuthenticationParametersException",
        ),
        (
            "bad IP range",
            webhook("w2", "gh", "IP", json!({"AllowedIPRange": "not-a-range"})),
            "InvalidWebhookAuthenticationParametersException",
        ),
        (
            "jsonPath without $",
            {
                let mut w = hmac_webhook("w3", "gh");
                w["filters"] = json!([{"jsonPath": "ref", "matchEquals": "refs/heads/main"}]);
                w
            },
            "InvalidWebhookFilterPatternException",
        ),
        (
            "unknown pipeline",
            hmac_webhook("w4", "no-such-pipeline"),
            "PipelineNotFoundException",
        ),
    ];
    for (what, definition, code) in cases {
        assert_cli_error(&put_webhook_cli(&s, &definition, &[]), what, code);
    }
    assert!(list_webhooks(&s).is_empty(), "no webhook was created");
}

#[test]
fn ip_webhooks_check_the_callers_address() {
    let s = github_server("gh");
    let local = put_webhook(
        &s,
        &webhook(
            "local",
            "gh",
            "IP",
            json!({"AllowedIPRange": "127.0.0.0/8"}),
        ),
    );
    let private = put_webhook(
        &s,
        &webhook(
            "private",
            "gh",
            "IP",
            json!({"AllowedIPRange": "10.0.0.0/8"}),
        ),
    );
    let before = s.execution_summaries("gh").len();

    let (status, reply) = deliver(&url_of(&private), "main");
    assert_eq!(status, 401, "{reply}");
    assert_eq!(s.execution_summaries("gh").len(), before);

    let (status, reply) = deliver(&url_of(&local), "main");
    let id = started_id(status, &reply);
    let e = succeeded(&s, "gh", &id);
    assert_eq!(e["trigger"]["triggerDetail"], local["arn"]);
}

#[test]
fn unauthenticated_webhooks_accept_any_call() {
    let s = github_server("gh");
    let w = put_webhook(&s, &webhook("open", "gh", "UNAUTHENTICATED", json!({})));
    let (status, reply) = post(
        &url_of(&w),
        &push_body("main"),
        &[("X-Hub-Signature-256", "sha256=00")],
    );
    let id = started_id(status, &reply);
    let e = succeeded(&s, "gh", &id);
    assert_eq!(e["trigger"]["triggerType"], "Webhook");
    assert_eq!(e["trigger"]["triggerDetail"], w["arn"]);
}

#[test]
fn webhook_tags() {
    let s = github_server("gh");
    let out = put_webhook_cli(
        &s,
        &hmac_webhook("gh-hook", "gh"),
        &["--tags", "key=team,value=ci", "key=env,value=dev"],
    );
    assert!(out.ok, "put-webhook --tags failed: {}", out.stderr);
    let arn = out.json["webhook"]["arn"].as_str().expect("arn").to_owned();
    let tags = &s.aws_ok(&["list-tags-for-resource", "--resource-arn", &arn])["tags"].clone();
    let mut pairs: Vec<(String, String)> = tags
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap_or_default().to_owned(),
                t["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("env".to_owned(), "dev".to_owned()),
            ("team".to_owned(), "ci".to_owned())
        ]
    );
}

#[test]
fn webhooks_belong_to_their_account() {
    let s = github_server("gh");
    put_webhook(&s, &hmac_webhook("gh-hook", "gh"));
    assert!(listed_webhook(&s, "gh-hook").is_some());
    let other = s.aws_as("111111111111", "us-east-1", &["list-webhooks"]);
    assert!(other.ok, "{}", other.stderr);
    assert_eq!(other.json["webhooks"], json!([]), "{}", other.json);
}

// ---------------------------------------------------------------------------------------------
// PutActionRevision
// ---------------------------------------------------------------------------------------------

fn put_action_revision(s: &Server, pipeline: &str, stage: &str, action: &str, id: &str) -> Cli {
    let revision = format!("revisionId={id},revisionChangeId={id},created=2024-01-01T00:00:00Z");
    s.aws(&[
        "put-action-revision",
        "--pipeline-name",
        pipeline,
        "--stage-name",
        stage,
        "--action-name",
        action,
        "--action-revision",
        &revision,
    ])
}

/// The `currentRevision.revisionId` GetPipelineState shows for the first action of the first stage.
fn current_revision(s: &Server, pipeline: &str) -> String {
    let state = s.aws_ok(&["get-pipeline-state", "--name", pipeline]);
    state["stageStates"][0]["actionStates"][0]["currentRevision"]["revisionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no currentRevision in {state:#}"))
        .to_owned()
}

#[test]
fn put_action_revision_with_the_current_revision_is_not_new() {
    let s = github_server("gh");
    let current = current_revision(&s, "gh");
    let before = s.execution_summaries("gh").len();
    let out = put_action_revision(&s, "gh", "Source", "Source", &current);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.json["newRevision"], false, "{}", out.json);
    assert_eq!(s.execution_summaries("gh").len(), before, "nothing started");
}

#[test]
fn put_action_revision_with_a_new_revision_starts_an_execution() {
    let s = github_server("gh");
    let revision = "feedfacecafebeef0123456789abcdef01234567";
    let out = put_action_revision(&s, "gh", "Source", "Source", revision);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.json["newRevision"], true, "{}", out.json);
    let id = out.json["pipelineExecutionId"]
        .as_str()
        .expect("pipelineExecutionId")
        .to_owned();
    let e = succeeded(&s, "gh", &id);
    assert_eq!(e["trigger"]["triggerType"], "PutActionRevision", "{e:#}");
    let listed = summary(&s, "gh", &id);
    assert_eq!(
        listed["sourceRevisions"][0]["revisionId"], revision,
        "{listed:#}"
    );
    assert_eq!(current_revision(&s, "gh"), revision);

    // The same revision again is not new.
    let again = put_action_revision(&s, "gh", "Source", "Source", revision);
    assert!(again.ok, "{}", again.stderr);
    assert_eq!(again.json["newRevision"], false, "{}", again.json);
}

#[test]
fn put_action_revision_errors() {
    let s = github_server("gh");
    let cases = [
        ("gh", "Nope", "Source", "StageNotFoundException"),
        ("gh", "Source", "Nope", "ActionNotFoundException"),
        ("gh", "Build", "Build", "ValidationException"),
        (
            "no-such-pipeline",
            "Source",
            "Source",
            "PipelineNotFoundException",
        ),
    ];
    for (pipeline, stage, action, code) in cases {
        let out = put_action_revision(&s, pipeline, stage, action, "abc123");
        assert_cli_error(
            &out,
            &format!("put-action-revision {pipeline}/{stage}/{action}"),
            code,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// V2 triggers through /_local/source-events
// ---------------------------------------------------------------------------------------------

/// A server with the V2 pipeline `app` (triggers on me/app) and `other` (same triggers, on
/// me/other), both with their first execution finished.
fn triggers_server() -> Server {
    let s = Server::fast();
    create(
        &s,
        &v2_pipeline("app", "me/app", json!({}), Some(release_triggers())),
    );
    create(
        &s,
        &v2_pipeline("other", "me/other", json!({}), Some(release_triggers())),
    );
    s
}

#[test]
fn a_matching_push_starts_exactly_that_pipeline() {
    let s = triggers_server();
    let other_before = s.execution_summaries("other").len();
    let commit = "1111111111111111111111111111111111111111";
    let started = source_event(&s, push_event("me/app", "release/2", &["src/x"], commit));
    assert_eq!(started.len(), 1, "{started:?}");
    let (pipeline, id) = &started[0];
    assert_eq!(pipeline, "app");

    let e = succeeded(&s, "app", id);
    assert_eq!(e["trigger"]["triggerType"], "WebhookV2", "{e:#}");
    assert_eq!(e["artifactRevisions"][0]["revisionId"], commit, "{e:#}");
    let listed = summary(&s, "app", id);
    assert_eq!(listed["sourceRevisions"][0]["revisionId"], commit);
    assert_eq!(listed["sourceRevisions"][0]["actionName"], "Src");

    let details = s.action_executions("app", id);
    let source = action_detail(&details, "Src");
    assert_eq!(source["output"]["outputVariables"]["CommitId"], commit);
    let build = action_detail(&details, "Build");
    assert_eq!(
        build["input"]["resolvedConfiguration"]["EnvironmentVariables"],
        build_env(commit)["EnvironmentVariables"],
        "{build:#}"
    );
    assert_eq!(s.execution_summaries("other").len(), other_before);
}

#[test]
fn non_matching_pushes_start_nothing() {
    let s = triggers_server();
    let before = (
        s.execution_summaries("app").len(),
        s.execution_summaries("other").len(),
    );
    let commit = "2222222222222222222222222222222222222222";
    let misses = [
        (
            "excluded branch",
            push_event("me/app", "release/old", &["src/x"], commit),
        ),
        (
            "branch not included",
            push_event("me/app", "main", &["src/x"], commit),
        ),
        (
            "path not included",
            push_event("me/app", "release/2", &["docs/readme.md"], commit),
        ),
        (
            "other repository",
            push_event("you/app", "release/2", &["src/x"], commit),
        ),
        (
            "other connection",
            json!({"repository": "me/app", "branch": "release/2", "filePaths": ["src/x"],
                   "kind": "push", "connectionArn":
                   "arn:aws:codestar-connections:us-east-1:000000000000:connection/99999999-9999-9999-9999-999999999999"}),
        ),
    ];
    for (what, event) in misses {
        let started = source_event(&s, event);
        assert!(started.is_empty(), "{what} started {started:?}");
    }
    assert_eq!(
        (
            s.execution_summaries("app").len(),
            s.execution_summaries("other").len()
        ),
        before
    );
}

#[test]
fn a_pull_request_opened_on_main_starts_the_pipeline() {
    let s = triggers_server();
    let before = s.execution_summaries("app").len();
    let closed = source_event(&s, pull_request_event("main", "CLOSED", "3333"));
    assert!(closed.is_empty(), "CLOSED started {closed:?}");
    let elsewhere = source_event(&s, pull_request_event("dev", "OPEN", "3333"));
    assert!(elsewhere.is_empty(), "OPEN on dev started {elsewhere:?}");
    assert_eq!(s.execution_summaries("app").len(), before);

    let commit = "4444444444444444444444444444444444444444";
    let started = source_event(&s, pull_request_event("main", "OPEN", commit));
    assert_eq!(
        started.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["app"]
    );
    let e = succeeded(&s, "app", &started[0].1);
    assert_eq!(e["trigger"]["triggerType"], "WebhookV2");
    assert_eq!(e["artifactRevisions"][0]["revisionId"], commit);
}

#[test]
fn a_pipeline_without_triggers_starts_on_a_push_to_its_branch() {
    let s = Server::fast();
    create(&s, &v2_pipeline("detects", "me/app", json!({}), None));
    create(
        &s,
        &v2_pipeline("ignores", "me/app", json!({"DetectChanges": "false"}), None),
    );
    let before = s.execution_summaries("ignores").len();

    let dev = source_event(&s, push_event("me/app", "dev", &["src/x"], "5555"));
    assert!(dev.is_empty(), "a push to dev started {dev:?}");

    let commit = "6666666666666666666666666666666666666666";
    let started = source_event(&s, push_event("me/app", "main", &[], commit));
    assert_eq!(
        started.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["detects"]
    );
    let e = succeeded(&s, "detects", &started[0].1);
    assert_eq!(e["trigger"]["triggerType"], "WebhookV2");
    assert_eq!(e["artifactRevisions"][0]["revisionId"], commit);
    assert_eq!(s.execution_summaries("ignores").len(), before);
}

#[test]
fn a_bad_source_event_is_400() {
    let s = Server::fast();
    for body in [
        "not json",
        "{}",
        r#"{"branch": "main"}"#,
        r#"{"repository": 7}"#,
    ] {
        let (status, reply) = source_event_raw(&s, body);
        assert_eq!(status, 400, "{body}: {reply}");
    }
}

// ---------------------------------------------------------------------------------------------
// ListDeployActionExecutionTargets
// ---------------------------------------------------------------------------------------------

fn codedeploy_pipeline(name: &str) -> Value {
    pipeline(
        name,
        json!([
            {"name": "Source", "actions": [{"name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "outputArtifacts": [{"name": "Src"}],
                "configuration": {"S3Bucket": "app-bucket", "S3ObjectKey": "app.zip",
                                  "PollForSourceChanges": "false"}}]},
            {"name": "Deploy", "actions": [{"name": "Deploy",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeploy", "version": "1"},
                "inputArtifacts": [{"name": "Src"}],
                "configuration": {"ApplicationName": "app", "DeploymentGroupName": "app-group"}}]},
        ]),
    )
}

fn deploy_targets(s: &Server, pipeline: &str, action_execution: &str, extra: &[&str]) -> Cli {
    let mut args = vec![
        "list-deploy-action-execution-targets",
        "--pipeline-name",
        pipeline,
        "--action-execution-id",
        action_execution,
    ];
    args.extend_from_slice(extra);
    s.aws(&args)
}

#[test]
fn deploy_action_execution_targets() {
    let s = Server::fast();
    let id = create(&s, &codedeploy_pipeline("deploy"));
    let details = s.action_executions("deploy", &id);
    let deploy = action_detail(&details, "Deploy");
    let deploy_id = deploy["actionExecutionId"]
        .as_str()
        .expect("actionExecutionId")
        .to_owned();

    let out = deploy_targets(&s, "deploy", &deploy_id, &[]);
    assert!(out.ok, "{}", out.stderr);
    let targets = out.json["targets"].as_array().expect("targets").clone();
    assert_eq!(targets.len(), 2, "{targets:#?}");
    let lifecycle = [
        "ApplicationStop",
        "DownloadBundle",
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ];
    for t in &targets {
        assert_eq!(t["targetType"], "Instance", "{t:#}");
        assert_eq!(t["status"], "Succeeded", "{t:#}");
        let target_id = t["targetId"].as_str().expect("targetId");
        let digits = target_id.strip_prefix("i-").unwrap_or_default();
        assert!(
            digits.len() == 17 && is_hex(digits),
            "targetId {target_id} should be i- and 17 hex digits"
        );
        assert!(
            is_timestamp(&t["startTime"]) && is_timestamp(&t["endTime"]),
            "{t:#}"
        );
        let events = t["events"].as_array().expect("events");
        let names: Vec<&str> = events.iter().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(names, lifecycle, "{t:#}");
        assert!(events.iter().all(|e| e["status"] == "Succeeded"), "{t:#}");
    }
    assert_ne!(targets[0]["targetId"], targets[1]["targetId"]);

    let succeeded_only = deploy_targets(
        &s,
        "deploy",
        &deploy_id,
        &["--filters", "name=TARGET_STATUS,values=Succeeded"],
    );
    assert!(succeeded_only.ok, "{}", succeeded_only.stderr);
    assert_eq!(succeeded_only.json["targets"], json!(targets));
    let failed = deploy_targets(
        &s,
        "deploy",
        &deploy_id,
        &["--filters", "name=TARGET_STATUS,values=Failed"],
    );
    assert!(failed.ok, "{}", failed.stderr);
    assert_eq!(failed.json["targets"], json!([]), "{}", failed.json);
}

#[test]
fn deploy_targets_of_unknown_and_non_deploy_actions() {
    let s = Server::fast();
    let id = create(&s, &codedeploy_pipeline("deploy"));
    assert_cli_error(
        &deploy_targets(&s, "deploy", UNKNOWN_ACTION_EXECUTION, &[]),
        "list-deploy-action-execution-targets for an unknown id",
        "ActionExecutionNotFoundException",
    );

    let details = s.action_executions("deploy", &id);
    let source_id = action_detail(&details, "Source")["actionExecutionId"]
        .as_str()
        .expect("actionExecutionId")
        .to_owned();
    let out = deploy_targets(&s, "deploy", &source_id, &[]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.json["targets"], json!([]), "{}", out.json);
}
