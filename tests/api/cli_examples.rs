//! The aws CLI's own documented examples (`awscli/examples/codepipeline/*.rst`) for job workers
//! (poll-for-jobs, acknowledge-job, get-job-details) and GitHub version 1 webhooks (put-webhook,
//! list-webhooks, deregister-webhook-with-third-party, delete-webhook), run with the real aws CLI.
//!
//! Each test sets up what its example needs, runs the documented command (only ids, ARNs and
//! account numbers that must be ours are adapted), and checks that the reply has every member of
//! the documented output (`assert_shape`) plus the values that are deterministic.
//!
//! Each test starts its own server; stub actions finish at once; every wait is a poll with a
//! deadline.

use crate::common::*;
use serde_json::{json, Value};

/// The pipeline of the job examples (poll-for-jobs.rst output `pipelineContext`).
const JOB_PIPELINE: &str = "MySecondPipeline";
/// The custom action type of the job examples, as `--action-type-id` shorthand.
const JOB_TYPE_ARG: &str = "category=Test,owner=Custom,provider=MyJenkinsProviderName,version=1";
/// The pipeline and region of the webhook examples (put-webhook.rst).
const WEBHOOK_PIPELINE: &str = "pipeline_name";
const WEBHOOK_REGION: &str = "eu-central-1";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `aws codepipeline ARGS` in `region` and returns its JSON output; panics on failure.
fn ok_in(s: &Server, region: &str, args: &[&str]) -> Value {
    let out = s.aws_as("test", region, args);
    assert!(
        out.ok,
        "aws codepipeline {} (in {region}) failed: {}",
        args.join(" "),
        out.stderr
    );
    out.json
}

/// Runs `aws codepipeline ARGS` in `region`, which must fail with the AWS error `code`.
fn assert_error_in(s: &Server, region: &str, args: &[&str], code: &str) {
    let out = s.aws_as("test", region, args);
    assert!(
        !out.ok,
        "aws codepipeline {} should have failed but replied {}",
        args.join(" "),
        out.json
    );
    let (got, message) = out.error();
    assert_eq!(got, code, "aws codepipeline {}: {message}", args.join(" "));
}

/// `file://` path of a fixture under `fixtures/examples/`.
fn example_file(name: &str) -> String {
    format!("file://{}", fixture(&format!("examples/{name}")))
}

/// Creates `declaration` in `region` with `create-pipeline --cli-input-json`.
fn create_pipeline(s: &Server, region: &str, declaration: &Value) {
    let name = declaration["name"].as_str().expect("pipeline name");
    let file = json_arg(
        &s.data_dir,
        &format!("{name}.json"),
        &json!({ "pipeline": declaration }),
    );
    ok_in(s, region, &["create-pipeline", "--cli-input-json", &file]);
}

/// The documented output without the `__type` markers that old CodePipeline replies carried
/// and that are no member of the API's output shapes (the CLI examples still show them).
fn without_type_markers(documented: &Value) -> Value {
    match documented {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(k, _)| k.as_str() != "__type")
                .map(|(k, v)| (k.clone(), without_type_markers(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_type_markers).collect()),
        other => other.clone(),
    }
}

fn non_empty_string(v: &Value, what: &str) -> String {
    v.as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("{what} should be a non-empty string: {v}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Jobs: a custom action type and a pipeline whose Testing stage uses it
// ---------------------------------------------------------------------------------------------

/// The custom action type the job examples poll for: Test / Custom / MyJenkinsProviderName / 1
/// with a queryable `ProjectName` property (poll-for-jobs.rst's `queryParam`).
fn create_job_action_type(s: &Server) {
    s.aws_ok(&[
        "create-custom-action-type",
        "--category",
        "Test",
        "--provider",
        "MyJenkinsProviderName",
        "--action-version",
        "1",
        "--input-artifact-details",
        "minimumCount=0,maximumCount=5",
        "--output-artifact-details",
        "minimumCount=0,maximumCount=5",
        "--configuration-properties",
        "name=ProjectName,required=true,key=true,secret=false,queryable=true",
    ]);
}

/// MySecondPipeline: an S3 source producing `MyAppBuild`, then stage `Testing` with the custom
/// action `MyJenkinsTest-Action` reading it (the names of poll-for-jobs.rst's output).
fn job_pipeline() -> Value {
    json!({
        "name": JOB_PIPELINE,
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/AWS-CodePipeline-Service"),
        "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-11EXAMPLE11"},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "outputArtifacts": [{"name": "MyAppBuild"}],
                "configuration": {"S3Bucket": "my-source-bucket", "S3ObjectKey": "app.zip",
                                  "PollForSourceChanges": "false"}}]},
            {"name": "Testing", "actions": [{"name": "MyJenkinsTest-Action",
                "actionTypeId": {"category": "Test", "owner": "Custom",
                                 "provider": "MyJenkinsProviderName", "version": "1"},
                "inputArtifacts": [{"name": "MyAppBuild"}],
                "configuration": {"ProjectName": "MyJenkinsTestProject"}}]}
        ]
    })
}

/// Sets up the job examples and returns the execution that CreatePipeline started.
fn setup_jobs(s: &Server) -> String {
    create_job_action_type(s);
    create_pipeline(s, "us-east-1", &job_pipeline());
    s.latest_execution(JOB_PIPELINE)
}

/// Runs poll-for-jobs.rst's command until it hands out a job, and returns the whole reply.
fn poll_example_until_job(s: &Server) -> Value {
    let file = example_file("MyActionTypeInfo.json");
    poll("poll-for-jobs to hand out a job", || {
        let reply = s.aws_ok(&["poll-for-jobs", "--cli-input-json", &file]);
        let has_job = reply["jobs"].as_array().is_some_and(|j| !j.is_empty());
        has_job.then_some(reply)
    })
}

/// The job data poll-for-jobs.rst and get-job-details.rst document (the same in both).
fn documented_job_data() -> Value {
    json!({
        "actionConfiguration": {
            "__type": "ActionConfiguration",
            "configuration": {"ProjectName": "MyJenkinsExampleTestProject"}
        },
        "actionTypeId": {
            "__type": "ActionTypeId",
            "category": "Test", "owner": "Custom",
            "provider": "MyJenkinsProviderName", "version": "1"
        },
        "artifactCredentials": {
            "__type": "AWSSessionCredentials",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "sessionToken": "fICCQD6m7oRw0uXOjANBgkqhkiG9w0BAQUFADCBiDELMAkGA1UEBhMCVVMx"
        },
        "inputArtifacts": [{
            "__type": "Artifact",
            "location": {
                "s3Location": {
                    "bucketName": "codepipeline-us-east-1-11EXAMPLE11",
                    "objectKey": "MySecondPipeline/MyAppBuild/EXAMPLE"
                },
                "type": "S3"
            },
            "name": "MyAppBuild"
        }],
        "outputArtifacts": [],
        "pipelineContext": {
            "__type": "PipelineContext",
            "action": {"name": "MyJenkinsTest-Action"},
            "pipelineName": "MySecondPipeline",
            "stage": {"name": "Testing"}
        }
    })
}

/// The deterministic values of a job's `data` for the job examples' pipeline.
fn assert_job_data(data: &Value, execution_id: &str) {
    assert_eq!(
        data["actionTypeId"],
        json!({"category": "Test", "owner": "Custom",
               "provider": "MyJenkinsProviderName", "version": "1"}),
        "{data:#}"
    );
    assert_eq!(
        data["actionConfiguration"]["configuration"],
        json!({"ProjectName": "MyJenkinsTestProject"}),
        "{data:#}"
    );
    let context = &data["pipelineContext"];
    assert_eq!(context["pipelineName"], JOB_PIPELINE, "{data:#}");
    assert_eq!(context["stage"]["name"], "Testing", "{data:#}");
    assert_eq!(
        context["action"]["name"], "MyJenkinsTest-Action",
        "{data:#}"
    );
    assert_eq!(context["pipelineExecutionId"], execution_id, "{data:#}");
    let input = &data["inputArtifacts"][0];
    assert_eq!(input["name"], "MyAppBuild", "{data:#}");
    assert_eq!(input["location"]["type"], "S3", "{data:#}");
    assert_eq!(
        input["location"]["s3Location"]["bucketName"], "codepipeline-us-east-1-11EXAMPLE11",
        "the artifact store of the pipeline holds its artifacts: {data:#}"
    );
    let key = non_empty_string(&input["location"]["s3Location"]["objectKey"], "objectKey");
    assert!(
        key.starts_with("MySecondPipeline/MyAppBuild/"),
        "artifact keys are PIPELINE/ARTIFACT/ID: {key}"
    );
    assert_eq!(data["outputArtifacts"], json!([]), "{data:#}");
    for member in ["accessKeyId", "secretAccessKey", "sessionToken"] {
        non_empty_string(&data["artifactCredentials"][member], member);
    }
}

/// poll-for-jobs.rst: `aws codepipeline poll-for-jobs --cli-input-json file://MyActionTypeInfo.json`
/// with the documented file (fixtures/examples/MyActionTypeInfo.json). The documented output's
/// `ProjectName` (MyJenkinsExampleTestProject) differs from its own `queryParam`
/// (MyJenkinsTestProject); a job only matches a query with the same value, so our action is
/// configured with the `queryParam` value.
#[test]
fn example_poll_for_jobs() {
    let s = Server::fast();
    let execution = setup_jobs(&s);
    let got = poll_example_until_job(&s);
    let documented = json!({"jobs": [{
        "accountId": "111111111111",
        "data": documented_job_data(),
        "id": "ef66c259-64f9-EXAMPLE",
        "nonce": "3"
    }]});
    assert_shape(&without_type_markers(&documented), &got, "poll-for-jobs");
    let jobs = got["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 1, "one action waits for a worker: {got:#}");
    let job = &jobs[0];
    assert_eq!(job["accountId"], ACCOUNT, "{job:#}");
    non_empty_string(&job["id"], "job id");
    non_empty_string(&job["nonce"], "nonce");
    assert_job_data(&job["data"], &execution);

    // A job is handed out once.
    let again = s.aws_ok(&[
        "poll-for-jobs",
        "--cli-input-json",
        &example_file("MyActionTypeInfo.json"),
    ]);
    assert_eq!(again, json!({"jobs": []}));
}

/// poll-for-jobs with a `queryParam` value no action is configured with finds nothing, and the
/// matching job stays available to a query that does match.
#[test]
fn poll_for_jobs_query_param_must_match() {
    let s = Server::fast();
    setup_jobs(&s);
    // Wait until the job is there (a plain poll without queryParam would take it, so look at
    // the action state instead).
    poll("the custom action to be in progress", || {
        let state = &s.aws_ok(&["get-pipeline-state", "--name", JOB_PIPELINE]);
        let testing = state["stageStates"]
            .as_array()?
            .iter()
            .find(|st| st["stageName"] == "Testing")?
            .clone();
        (testing["actionStates"][0]["latestExecution"]["status"] == "InProgress").then_some(())
    });
    let other = s.aws_ok(&[
        "poll-for-jobs",
        "--action-type-id",
        JOB_TYPE_ARG,
        "--query-param",
        "ProjectName=SomeOtherProject",
    ]);
    assert_eq!(other, json!({"jobs": []}));
    let got = poll_example_until_job(&s);
    assert_eq!(got["jobs"].as_array().map(Vec::len), Some(1), "{got:#}");
}

/// acknowledge-job.rst: `aws codepipeline acknowledge-job --job-id f4f4ff82-2d11-EXAMPLE
/// --nonce 3`, with the job id and nonce of a job that poll-for-jobs handed out.
#[test]
fn example_acknowledge_job() {
    let s = Server::fast();
    setup_jobs(&s);
    let job = poll_example_until_job(&s)["jobs"][0].clone();
    let job_id = non_empty_string(&job["id"], "job id");
    let nonce = non_empty_string(&job["nonce"], "nonce");
    let got = s.aws_ok(&["acknowledge-job", "--job-id", &job_id, "--nonce", &nonce]);
    let documented = json!({"status": "InProgress"});
    assert_shape(&documented, &got, "acknowledge-job");
    assert_eq!(got, documented);
}

/// acknowledge-job.rst's literal job id is not a job of ours: AWS checks the id's form first
/// (a UUID), so the documented id is rejected as invalid input.
#[test]
fn acknowledge_job_with_the_documented_id() {
    let s = Server::fast();
    assert_error_in(
        &s,
        "us-east-1",
        &[
            "acknowledge-job",
            "--job-id",
            "f4f4ff82-2d11-EXAMPLE",
            "--nonce",
            "3",
        ],
        "ValidationException",
    );
    assert_error_in(
        &s,
        "us-east-1",
        &[
            "acknowledge-job",
            "--job-id",
            "f4f4ff82-2d11-4000-8000-000000000000",
            "--nonce",
            "3",
        ],
        "JobNotFoundException",
    );
}

/// get-job-details.rst: `aws codepipeline get-job-details --job-id f4f4ff82-2d11-EXAMPLE`, with
/// the id of a job that poll-for-jobs handed out and the worker acknowledged.
#[test]
fn example_get_job_details() {
    let s = Server::fast();
    let execution = setup_jobs(&s);
    let job = poll_example_until_job(&s)["jobs"][0].clone();
    let job_id = non_empty_string(&job["id"], "job id");
    let nonce = non_empty_string(&job["nonce"], "nonce");
    s.aws_ok(&["acknowledge-job", "--job-id", &job_id, "--nonce", &nonce]);
    let got = s.aws_ok(&["get-job-details", "--job-id", &job_id]);
    let documented = json!({"jobDetails": {
        "accountId": "111111111111",
        "data": documented_job_data(),
        "id": "f4f4ff82-2d11-EXAMPLE"
    }});
    assert_shape(&without_type_markers(&documented), &got, "get-job-details");
    let details = &got["jobDetails"];
    assert_eq!(details["id"], job_id.as_str(), "{details:#}");
    assert_eq!(details["accountId"], ACCOUNT, "{details:#}");
    assert_job_data(&details["data"], &execution);
}

// ---------------------------------------------------------------------------------------------
// Webhooks: a pipeline with a GitHub version 1 source action named Source
// ---------------------------------------------------------------------------------------------

/// put-webhook.rst's `pipeline_name`: a GitHub (version 1) source action `Source` that does not
/// poll, then a manual approval. A real token stands where replies show `****`: AWS refuses
/// `****` in a new action.
fn webhook_pipeline() -> Value {
    json!({
        "name": WEBHOOK_PIPELINE,
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/AWS-CodePipeline-Service"),
        "artifactStore": {"type": "S3", "location": "codepipeline-eu-central-1-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source",
                "actionTypeId": {"category": "Source", "owner": "ThirdParty",
                                 "provider": "GitHub", "version": "1"},
                "outputArtifacts": [{"name": "SourceArtifact"}],
                "configuration": {"Owner": "my-github-user", "Repo": "my-repo",
                                  "Branch": "main", "OAuthToken": "ghp_example_token",
                                  "PollForSourceChanges": "false"}}]},
            {"name": "Approve", "actions": [{"name": "Approve",
                "actionTypeId": {"category": "Approval", "owner": "AWS",
                                 "provider": "Manual", "version": "1"}}]}
        ]
    })
}

/// The API reference of PutWebhook and ListWebhooks: "If a secret token was provided, it will
/// be redacted in the response." The CLI examples (older than that note) still show it echoed,
/// so the documented shapes drop `SecretToken`, and the reply must not carry the secret.
fn without_secret(documented: &Value) -> Value {
    let mut v = documented.clone();
    for path in [
        "/webhook/definition/authenticationConfiguration",
        "/webhooks/0/definition/authenticationConfiguration",
    ] {
        if let Some(config) = v.pointer_mut(path).and_then(Value::as_object_mut) {
            config.remove("SecretToken");
        }
    }
    v
}

/// The definition of a reply is the example's, and its secret token is not given back.
fn assert_definition(definition: &Value) {
    let mut rest = definition.clone();
    let config = rest
        .as_object_mut()
        .and_then(|d| d.remove("authenticationConfiguration"))
        .unwrap_or(Value::Null);
    assert_eq!(rest, example_definition(), "{definition:#}");
    assert_ne!(
        config["SecretToken"], "secret",
        "the secret token must be redacted: {definition:#}"
    );
}

fn webhook_arn() -> String {
    format!("arn:aws:codepipeline:{WEBHOOK_REGION}:{ACCOUNT}:webhook:my-webhook")
}

/// The webhook definition of fixtures/examples/webhook_json.json as replies show it: without
/// `authenticationConfiguration`, which `assert_definition` checks on its own.
fn example_definition() -> Value {
    json!({
        "name": "my-webhook",
        "authentication": "GITHUB_HMAC",
        "targetPipeline": WEBHOOK_PIPELINE,
        "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}]
    })
}

/// Creates the pipeline and runs put-webhook.rst's command; returns its reply.
fn put_example_webhook(s: &Server) -> Value {
    create_pipeline(s, WEBHOOK_REGION, &webhook_pipeline());
    ok_in(
        s,
        WEBHOOK_REGION,
        &[
            "put-webhook",
            "--cli-input-json",
            &example_file("webhook_json.json"),
        ],
    )
}

fn list_webhooks(s: &Server) -> Vec<Value> {
    let got = ok_in(s, WEBHOOK_REGION, &["list-webhooks"]);
    got["webhooks"]
        .as_array()
        .unwrap_or_else(|| panic!("list-webhooks has no webhooks list: {got:#}"))
        .clone()
}

/// put-webhook.rst: `aws codepipeline put-webhook --cli-input-json file://webhook_json.json
/// --region "eu-central-1"` (fixtures/examples/webhook_json.json). The documented input names
/// `targetAction` `source_action_name` while its output shows `Source`; the fixture uses
/// `Source`, the pipeline's source action. The documented output's top-level `tags` is no member
/// of PutWebhookOutput (tags belong in `webhook`, and the example's input has none), so the
/// shape is checked on `webhook`, and the tags are checked with a put that passes them.
/// Its `SecretToken` is redacted in replies (see `without_secret`).
#[test]
fn example_put_webhook() {
    let s = Server::fast();
    let got = put_example_webhook(&s);
    let documented = json!({"webhook": {
        "url": "https://webhooks.domain.com/trigger111111111EXAMPLE11111111111111111",
        "definition": {
            "authenticationConfiguration": {"SecretToken": "secret"},
            "name": "my-webhook",
            "authentication": "GITHUB_HMAC",
            "targetPipeline": "pipeline_name",
            "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}]
        },
        "arn": "arn:aws:codepipeline:eu-central-1:123456789012:webhook:my-webhook"
    }});
    assert_shape(&without_secret(&documented), &got, "put-webhook");
    let webhook = &got["webhook"];
    assert_definition(&webhook["definition"]);
    assert_eq!(webhook["arn"], webhook_arn().as_str(), "{got:#}");
    let url = non_empty_string(&webhook["url"], "url");
    assert!(url.starts_with("http"), "the webhook URL: {url}");

    // The documented tags, passed the way the CLI takes them; putting again keeps the URL.
    let tagged = ok_in(
        &s,
        WEBHOOK_REGION,
        &[
            "put-webhook",
            "--cli-input-json",
            &example_file("webhook_json.json"),
            "--tags",
            "key=Project,value=ProjectA",
        ],
    );
    assert_eq!(
        tagged["webhook"]["tags"],
        json!([{"key": "Project", "value": "ProjectA"}]),
        "{tagged:#}"
    );
    assert_eq!(tagged["webhook"]["url"], url.as_str(), "{tagged:#}");
    let tags = ok_in(
        &s,
        WEBHOOK_REGION,
        &["list-tags-for-resource", "--resource-arn", &webhook_arn()],
    );
    assert_eq!(
        tags["tags"],
        json!([{"key": "Project", "value": "ProjectA"}]),
        "{tags:#}"
    );
}

/// put-webhook for an action the pipeline does not have (the documented input's
/// `source_action_name`) is refused.
#[test]
fn put_webhook_with_the_documented_target_action_name() {
    let s = Server::fast();
    create_pipeline(&s, WEBHOOK_REGION, &webhook_pipeline());
    let mut input = fixture_json("examples/webhook_json.json");
    input["webhook"]["targetAction"] = json!("source_action_name");
    let file = json_arg(&s.data_dir, "bad-target.json", &input);
    assert_error_in(
        &s,
        WEBHOOK_REGION,
        &["put-webhook", "--cli-input-json", &file],
        "ValidationException",
    );
    assert_eq!(list_webhooks(&s), Vec::<Value>::new());
}

/// list-webhooks.rst: `aws codepipeline list-webhooks --endpoint-url
/// "https://codepipeline.eu-central-1.amazonaws.com" --region "eu-central-1"` (our endpoint
/// instead). The documented output is not valid JSON: the `definition` member name is missing
/// after `url`; the shape below restores it.
#[test]
fn example_list_webhooks() {
    let s = Server::fast();
    let put = put_example_webhook(&s);
    let got = ok_in(&s, WEBHOOK_REGION, &["list-webhooks"]);
    let documented = json!({"webhooks": [{
        "url": "https://webhooks.domain.com/trigger111111111EXAMPLE11111111111111111",
        "definition": {
            "authenticationConfiguration": {"SecretToken": "Secret"},
            "name": "my-webhook",
            "authentication": "GITHUB_HMAC",
            "targetPipeline": "my-Pipeline",
            "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}]
        },
        "arn": "arn:aws:codepipeline:eu-central-1:123456789012:webhook:my-webhook"
    }]});
    assert_shape(&without_secret(&documented), &got, "list-webhooks");
    let webhooks = got["webhooks"].as_array().expect("webhooks");
    assert_eq!(webhooks.len(), 1, "{got:#}");
    assert_definition(&webhooks[0]["definition"]);
    assert_eq!(webhooks[0]["arn"], webhook_arn().as_str());
    assert_eq!(webhooks[0]["url"], put["webhook"]["url"]);

    // Webhooks are regional: us-east-1 has none.
    let other = &s.aws_ok(&["list-webhooks"]);
    assert_eq!(other["webhooks"], json!([]), "{other:#}");
}

/// register-webhook-with-third-party (no .rst in this awscli) is the step put-webhook.rst and
/// deregister-webhook-with-third-party.rst refer to; AWS then calls GitHub with the action's
/// OAuth token, which no emulator can do, so this is the nearest runnable form: registering the
/// example's webhook succeeds with no output, and an unknown webhook is not found.
#[test]
fn register_webhook_with_third_party() {
    let s = Server::fast();
    put_example_webhook(&s);
    let got = ok_in(
        &s,
        WEBHOOK_REGION,
        &[
            "register-webhook-with-third-party",
            "--webhook-name",
            "my-webhook",
        ],
    );
    assert_eq!(got, Value::Null, "no output documented: {got:#}");
    assert_error_in(
        &s,
        WEBHOOK_REGION,
        &[
            "register-webhook-with-third-party",
            "--webhook-name",
            "no-such-webhook",
        ],
        "WebhookNotFoundException",
    );
}

/// deregister-webhook-with-third-party.rst: `aws codepipeline deregister-webhook-with-third-party
/// --webhook-name my-webhook` ("This command produces no output"), after registering it. Against
/// AWS this calls GitHub; here it only records the state. The webhook itself stays.
#[test]
fn example_deregister_webhook_with_third_party() {
    let s = Server::fast();
    put_example_webhook(&s);
    ok_in(
        &s,
        WEBHOOK_REGION,
        &[
            "register-webhook-with-third-party",
            "--webhook-name",
            "my-webhook",
        ],
    );
    let got = ok_in(
        &s,
        WEBHOOK_REGION,
        &[
            "deregister-webhook-with-third-party",
            "--webhook-name",
            "my-webhook",
        ],
    );
    assert_eq!(got, Value::Null, "documented: no output; got {got:#}");
    assert_eq!(list_webhooks(&s).len(), 1);
    assert_error_in(
        &s,
        WEBHOOK_REGION,
        &[
            "deregister-webhook-with-third-party",
            "--webhook-name",
            "no-such-webhook",
        ],
        "WebhookNotFoundException",
    );
}

/// delete-webhook.rst: `aws codepipeline delete-webhook --name my-webhook` ("This command
/// produces no output"), after deregistering it as the example says to.
#[test]
fn example_delete_webhook() {
    let s = Server::fast();
    put_example_webhook(&s);
    ok_in(
        &s,
        WEBHOOK_REGION,
        &[
            "deregister-webhook-with-third-party",
            "--webhook-name",
            "my-webhook",
        ],
    );
    let got = ok_in(
        &s,
        WEBHOOK_REGION,
        &["delete-webhook", "--name", "my-webhook"],
    );
    assert_eq!(got, Value::Null, "documented: no output; got {got:#}");
    assert_eq!(list_webhooks(&s), Vec::<Value>::new());
    assert_error_in(
        &s,
        WEBHOOK_REGION,
        &[
            "deregister-webhook-with-third-party",
            "--webhook-name",
            "my-webhook",
        ],
        "WebhookNotFoundException",
    );
}
