//! One table: a situation, the request that produces it, and the exception type and message
//! real AWS answered, each with the public thread it was captured in. Every request goes
//! through the real aws CLI, which prints AWS's code and message as an SDK surfaces them.
//!
//! Who wrote each text is marked: `AWS` texts are captures from live AWS (the thread is linked);
//! `AWS (cdk-preflight)` texts were recorded against live AWS by the `badmintoncryer/cdk-preflight`
//! project's probes (its `rules/codepipeline/*/meta.yaml`), one step removed from a thread;
//! `OURS` marks our own wording where no capture exists, kept here so that a later capture
//! replaces it knowingly.

use serde_json::{json, Value};

use crate::common::*;

/// Who wrote the expected text.
#[derive(Clone, Copy)]
enum Source {
    /// A reply from live AWS, captured in the linked public thread.
    Aws(&'static str),
    /// Recorded from live AWS by cdk-preflight's probes (the rule named).
    CdkPreflight(&'static str),
    /// No capture found: our wording (the exception type is the API reference's).
    Ours,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Aws(thread) => write!(f, "AWS, captured in {thread}"),
            Source::CdkPreflight(rule) => write!(f, "AWS, recorded by cdk-preflight {rule}"),
            Source::Ours => write!(f, "OURS, no capture"),
        }
    }
}

struct Capture {
    situation: &'static str,
    source: Source,
    /// The aws CLI command (`create-pipeline`) and its `--cli-input-json`.
    command: &'static str,
    input: Value,
    code: &'static str,
    message: String,
}

fn capture(
    situation: &'static str,
    source: Source,
    command: &'static str,
    input: Value,
    code: &'static str,
    message: impl Into<String>,
) -> Capture {
    Capture {
        situation,
        source,
        command,
        input,
        code,
        message: message.into(),
    }
}

fn s3_source(name: &str, output: &str) -> Value {
    json!({"name": name,
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "outputArtifacts": [{"name": output}],
        "configuration": {"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip"}})
}

fn codebuild(name: &str, input: &str) -> Value {
    json!({"name": name,
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "inputArtifacts": [{"name": input}],
        "configuration": {"ProjectName": "app"}})
}

fn connection_source(name: &str) -> Value {
    json!({"name": name,
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
        "outputArtifacts": [{"name": "Src"}],
        "configuration": {"ConnectionArn": "arn:aws:codestar-connections:us-east-1:000000000000:connection/abc",
                          "FullRepositoryId": "me/app", "BranchName": "main"}})
}

pub fn github_v1_source(token: &str) -> Value {
    json!({"name": "SourceAction",
        "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"},
        "outputArtifacts": [{"name": "Src"}],
        "configuration": {"Owner": "me", "Repo": "app", "Branch": "main", "OAuthToken": token}})
}

/// A valid declaration: an S3 source and a CodeBuild build.
fn pipeline(name: &str) -> Value {
    json!({
        "name": name,
        "roleArn": "arn:aws:iam::000000000000:role/service-role",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [
            {"name": "Source", "actions": [s3_source("Source", "Src")]},
            {"name": "Build", "actions": [codebuild("Build", "Src")]}
        ]
    })
}

fn with(mut decl: Value, change: impl FnOnce(&mut Value)) -> Value {
    change(&mut decl);
    decl
}

fn create(decl: Value) -> Value {
    json!({ "pipeline": decl })
}

const CONFIG_BOUNDS: &str = "Map value must satisfy constraint: [Member must have length less than or equal to 50000, Member must have length greater than or equal to 1]";

fn table() -> Vec<Capture> {
    use Source::*;
    let long = "x".repeat(50_001);
    vec![
        capture(
            "a configuration value over 50,000 characters (the model says 1,000; live AWS takes 50,000)",
            Aws("https://github.com/aws/aws-cdk/issues/19767"),
            "create-pipeline",
            create(with(pipeline("long-config"), |d| {
                d["stages"][1]["actions"][0]["configuration"]["EnvironmentVariables"] = json!(long.clone());
            })),
            "ValidationException",
            format!("1 validation error detected: Value at 'pipeline.stages.2.member.actions.1.member.configuration' failed to satisfy constraint: {CONFIG_BOUNDS}"),
        ),
        capture(
            "several violations are counted and joined with '; '",
            Aws("https://github.com/hashicorp/terraform-provider-aws/issues/41023"),
            "create-pipeline",
            create(with(pipeline("two-long"), |d| {
                d["stages"][1]["actions"][0]["configuration"]["EnvironmentVariables"] = json!(long.clone());
                d["stages"][1]["actions"]
                    .as_array_mut()
                    .expect("actions")
                    .push(with(codebuild("Build2", "Src"), |a| {
                        a["configuration"]["EnvironmentVariables"] = json!(long.clone());
                    }));
            })),
            "ValidationException",
            format!(
                "2 validation errors detected: Value at 'pipeline.stages.2.member.actions.1.member.configuration' failed to satisfy constraint: {CONFIG_BOUNDS}; \
                 Value at 'pipeline.stages.2.member.actions.2.member.configuration' failed to satisfy constraint: {CONFIG_BOUNDS}"
            ),
        ),
        capture(
            "a namespace that breaks the model's pattern (no value echoed inside a declaration)",
            Aws("https://github.com/awslabs/cloudfront-hosting-toolkit/issues/12"),
            "create-pipeline",
            create(with(pipeline("bad-namespace"), |d| {
                d["stages"][0]["actions"][0]["namespace"] = json!("Source.Vars");
            })),
            "ValidationException",
            r"1 validation error detected: Value at 'pipeline.stages.1.member.actions.1.member.namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9@\-_]+",
        ),
        capture(
            "an unknown configuration key on an AWS-owned type (DeploymentTargets is a StackSet key)",
            // The thread quotes "contains unknown configuration 'DeploymentTargets'"; the text
            // before it is ours, the same as for custom types.
            Aws("https://github.com/hashicorp/terraform-provider-aws/issues/20742"),
            "create-pipeline",
            create(with(pipeline("unknown-key"), |d| {
                d["stages"][1]["actions"][0] = json!({"name": "Deploy",
                    "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CloudFormation", "version": "1"},
                    "inputArtifacts": [{"name": "Src"}],
                    "configuration": {"ActionMode": "CREATE_UPDATE", "StackName": "app", "DeploymentTargets": "123456789012"}});
            })),
            "InvalidActionDeclarationException",
            "Action configuration for action 'Deploy' contains unknown configuration 'DeploymentTargets'",
        ),
        capture(
            "`****` in the secret property of a new action",
            // The thread shows the text, not the type: InvalidActionDeclarationException is ours.
            Aws("https://github.com/alantech/iasql/issues/1594"),
            "create-pipeline",
            create(with(pipeline("masked-secret"), |d| {
                d["stages"][0]["actions"][0] = github_v1_source("****");
            })),
            "InvalidActionDeclarationException",
            "Action configuration for the new action \"SourceAction\" contains an invalid configuration for the secret property \"OAuthToken\". \"****\" may be used in secret properties only when updating an existing action.",
        ),
        capture(
            "triggers on a V1 pipeline (AWS says 'on tag' whatever the filter)",
            Aws("https://github.com/cloudposse/terraform-aws-ecs-codepipeline/issues/145"),
            "create-pipeline",
            create(with(pipeline("v1-triggers"), |d| {
                d["stages"][0]["actions"][0] = connection_source("Source");
                d["triggers"] = json!([{"providerType": "CodeStarSourceConnection",
                    "gitConfiguration": {"sourceActionName": "Source", "push": [{"tags": {"includes": ["v*"]}}]}}]);
            })),
            "InvalidStructureException",
            "Triggers on tag can only be used with V2 pipelines",
        ),
        capture(
            "pipeline variables on a V1 pipeline",
            CdkPreflight("pf-codepipeline-v1-variables"),
            "create-pipeline",
            create(with(pipeline("v1-variables"), |d| {
                d["variables"] = json!([{"name": "env", "defaultValue": "dev"}]);
            })),
            "InvalidStructureException",
            "Pipeline variable can only be used with V2 pipelines",
        ),
        capture(
            "stage conditions on a V1 pipeline",
            CdkPreflight("pf-codepipeline-v1-stage-conditions"),
            "create-pipeline",
            create(with(pipeline("v1-conditions"), |d| {
                d["stages"][1]["beforeEntry"] = json!({"conditions": [{"result": "FAIL",
                    "rules": [{"name": "r", "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
                               "configuration": {"Variable": "#{codepipeline.PipelineExecutionId}", "Value": "x", "Operator": "EQ"}}]}]});
            })),
            "InvalidStageDeclarationException",
            "Stage level conditions can only be used with V2 pipelines.",
        ),
        capture(
            "QUEUED mode on a V1 pipeline",
            CdkPreflight("pf-codepipeline-v1-execution-mode"),
            "create-pipeline",
            create(with(pipeline("v1-queued"), |d| d["executionMode"] = json!("QUEUED"))),
            "InvalidStructureException",
            "QUEUED or PARALLEL mode can only be used with V2 pipelines",
        ),
        capture(
            "a Commands action on a V1 pipeline",
            CdkPreflight("pf-codepipeline-v1-action-provider"),
            "create-pipeline",
            create(with(pipeline("v1-commands"), |d| {
                d["stages"][1]["actions"][0] = json!({"name": "Run",
                    "actionTypeId": {"category": "Compute", "owner": "AWS", "provider": "Commands", "version": "1"},
                    "inputArtifacts": [{"name": "Src"}], "commands": ["echo hi"]});
            })),
            "InvalidActionDeclarationException",
            "Commands Action can only be used with V2 pipelines.",
        ),
        capture(
            "two pipeline variables of one name",
            CdkPreflight("pf-codepipeline-variable-names-unique"),
            "create-pipeline",
            create(with(pipeline("dup-variables"), |d| {
                d["pipelineType"] = json!("V2");
                d["variables"] = json!([{"name": "dup"}, {"name": "dup"}]);
            })),
            "InvalidStructureException",
            "Variable names must be unique. The following variable name is already in use: dup",
        ),
        capture(
            "one push filter with both branches and tags",
            // Quoted in issue 13 from a public thread; no thread in the search index has it.
            Aws("issue 13, capture 5"),
            "create-pipeline",
            create(with(pipeline("bad-filters"), |d| {
                d["pipelineType"] = json!("V2");
                d["stages"][0]["actions"][0] = connection_source("Source");
                d["triggers"] = json!([{"providerType": "CodeStarSourceConnection",
                    "gitConfiguration": {"sourceActionName": "Source",
                        "push": [{"branches": {"includes": ["main"]}, "tags": {"includes": ["v*"]}}]}}]);
            })),
            "InvalidStructureException",
            "The trigger configuration for the source action is not valid. Make sure to choose valid filter combinations.",
        ),
        capture(
            "a trigger whose source action is not a connection action of the pipeline",
            // The thread shows the text; the exception type is ours.
            Aws("https://github.com/aws/aws-cdk/issues/28694"),
            "create-pipeline",
            create(with(pipeline("bad-trigger"), |d| {
                d["pipelineType"] = json!("V2");
                d["triggers"] = json!([{"providerType": "CodeStarSourceConnection",
                    "gitConfiguration": {"sourceActionName": "Source", "push": [{"branches": {"includes": ["main"]}}]}}]);
            })),
            "InvalidStructureException",
            "Triggers for connection must reference a CodeStarSourceConnection action. Note that when you specify a trigger, you cant specify more than one trigger per source action.",
        ),
        capture(
            "an artifact store in a region that does not exist",
            Aws("issue 13, capture 7"),
            "create-pipeline",
            create(with(pipeline("fake-region"), |d| {
                let store = d["artifactStore"].take();
                d.as_object_mut().expect("declaration").remove("artifactStore");
                d["artifactStores"] = json!({"us-east-1": store, "xx-fake-1": {"type": "S3", "location": "other"}});
            })),
            "ValidationException",
            "The region xx-fake-1 specified in 'pipeline.artifactStores' is not a valid AWS Region.",
        ),
        capture(
            "two actions with the same output artifact name",
            Aws("https://github.com/aws-cloudformation/cfn-lint/issues/1688"),
            "create-pipeline",
            create(with(pipeline("dup-output"), |d| {
                d["stages"][1]["actions"][0]["outputArtifacts"] = json!([{"name": "CreateOutput"}]);
                d["stages"][1]["actions"]
                    .as_array_mut()
                    .expect("actions")
                    .push(with(codebuild("Build2", "Src"), |a| {
                        a["outputArtifacts"] = json!([{"name": "CreateOutput"}]);
                    }));
            })),
            "InvalidStructureException",
            "Output Artifact Bundle name must be unique within the pipeline. CreateOutput has been used more than once.",
        ),
        capture(
            "two actions with the same namespace",
            Aws("issue 13, capture 9"),
            "create-pipeline",
            create(with(pipeline("dup-namespace"), |d| {
                d["stages"][0]["actions"][0]["namespace"] = json!("myCodeBuildNameSpace");
                d["stages"][1]["name"] = json!("ConsumeBuildStage");
                d["stages"][1]["actions"][0]["name"] = json!("ConsumeBuildAction");
                d["stages"][1]["actions"][0]["namespace"] = json!("myCodeBuildNameSpace");
            })),
            "InvalidActionDeclarationException",
            "Namespaces must be unique across the pipeline definition. The following occur more than once in the pipeline. StageName=[ConsumeBuildStage], ActionName=[ConsumeBuildAction], Namespace=[myCodeBuildNameSpace]",
        ),
        capture(
            "a first stage with a build action",
            Aws("https://github.com/aws-cloudformation/cfn-lint/issues/1688 (and CloudFormation replies with request ids in the cfn-lint rule E9001's thread)"),
            "create-pipeline",
            create(with(pipeline("build-first"), |d| {
                d["stages"][0]["actions"]
                    .as_array_mut()
                    .expect("actions")
                    .push(codebuild("Early", "Src"));
            })),
            "InvalidStructureException",
            "Pipeline should start with a stage that only contains source actions",
        ),
        capture(
            "an action with fewer input artifacts than its type needs",
            Aws("https://github.com/awsdocs/aws-cloudformation-user-guide/pull/941"),
            "create-pipeline",
            create(with(pipeline("no-input"), |d| {
                d["stages"][1]["actions"][0]["inputArtifacts"] = json!([]);
            })),
            "InvalidActionDeclarationException",
            "Action Build declares 0 input artifacts which is less than the minimum count (1)",
        ),
        capture(
            "an action without a required configuration key",
            CdkPreflight("pf-codepipeline-action-config-required-keys"),
            "create-pipeline",
            create(with(pipeline("missing-key"), |d| {
                d["stages"][1]["actions"][0]["configuration"] = json!({});
            })),
            "InvalidActionDeclarationException",
            "Action configuration for action 'Build' is missing required configuration 'ProjectName'",
        ),
        capture(
            "a Commands action without commands",
            Aws("https://github.com/hashicorp/terraform-provider-aws/issues/42997"),
            "create-pipeline",
            create(with(pipeline("empty-commands"), |d| {
                d["pipelineType"] = json!("V2");
                d["stages"][1]["actions"][0] = json!({"name": "cleanup",
                    "actionTypeId": {"category": "Compute", "owner": "AWS", "provider": "Commands", "version": "1"},
                    "inputArtifacts": [{"name": "Src"}]});
            })),
            "InvalidActionDeclarationException",
            "Action cleanup must have a non-empty commands field",
        ),
        capture(
            "a custom action type that was never created",
            Aws("https://github.com/aws-samples/aws-codepipeline-third-party-git-repositories/issues/3"),
            "create-pipeline",
            create(with(pipeline("no-such-type"), |d| {
                d["stages"][0]["actions"][0] = json!({"name": "Download-Source",
                    "actionTypeId": {"category": "Source", "owner": "Custom", "provider": "CustomSourceForGit", "version": "1"},
                    "outputArtifacts": [{"name": "Src"}]});
            })),
            "InvalidActionDeclarationException",
            "ActionType (Category: 'Source', Provider: 'CustomSourceForGit', Owner: 'Custom', Version: '1') in action 'Download-Source' is not available in region 'US_EAST_1'",
        ),
        capture(
            "StartPipelineExecution of a pipeline that does not exist",
            Aws("https://github.com/aws-samples/aws-serverless-saas-workshop/issues/51"),
            "start-pipeline-execution",
            json!({"name": "serverless-saas-pipeline"}),
            "PipelineNotFoundException",
            format!("Pipeline with name serverless-saas-pipeline does not exist in account {ACCOUNT}."),
        ),
        capture(
            "GetPipeline of a pipeline that does not exist",
            // An AWS SDK smoke test run against live AWS expects this text (moto has it too).
            Aws("aws-sdk-ruby features/codepipeline smoke test: \"does not have a pipeline with name 'fake-pipeline'\""),
            "get-pipeline",
            json!({"name": "fake-pipeline"}),
            "PipelineNotFoundException",
            format!("Account '{ACCOUNT}' does not have a pipeline with name 'fake-pipeline'"),
        ),
        capture(
            "PollForJobs for a custom type never created (owner before provider here)",
            Aws("https://github.com/awslabs/aws-codepipeline-plugin-for-jenkins/issues/14"),
            "poll-for-jobs",
            json!({"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "MyJenkinsProviderName", "version": "1"}}),
            "ActionTypeNotFoundException",
            "ActionType (Category: 'Build', Owner: 'Custom', Provider: 'MyJenkinsProviderName', Version: '1') is not available",
        ),
        capture(
            "PollForJobs for an AWS-owned type",
            Aws("https://github.com/boto/boto3/issues/1100"),
            "poll-for-jobs",
            json!({"actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"}}),
            "ValidationException",
            "ActionType with owner 'AWS' is not supported",
        ),
        capture(
            "PutJobSuccessResult with output variables and a continuation token",
            Ours,
            "put-job-success-result",
            json!({"jobId": "11111111-2222-3333-4444-555555555555", "continuationToken": "more",
                   "outputVariables": {"k": "v"}}),
            "ValidationException",
            "outputVariables can only be included when there is no continuationToken; send them with the result that ends the action",
        ),
        capture(
            "a GITHUB_HMAC webhook that also names an IP range",
            CdkPreflight("pf-codepipeline-webhook-authentication-configuration"),
            "put-webhook",
            webhook("GITHUB_HMAC", json!({"SecretToken": "s", "AllowedIPRange": "10.0.0.0/8"})),
            "InvalidWebhookAuthenticationParametersException",
            "Optional['authenticationConfig' should contain only one property: 'SecretToken']",
        ),
        capture(
            "an IP webhook without its range",
            CdkPreflight("pf-codepipeline-webhook-authentication-configuration"),
            "put-webhook",
            webhook("IP", json!({})),
            "InvalidWebhookAuthenticationParametersException",
            "Optional['authenticationConfig' should contain only one property: 'AllowedIPRange']",
        ),
        capture(
            "an UNAUTHENTICATED webhook with a property",
            // cdk-preflight recorded only "...should be empty"; the rest is the pattern above.
            CdkPreflight("pf-codepipeline-webhook-authentication-configuration (fragment)"),
            "put-webhook",
            webhook("UNAUTHENTICATED", json!({"SecretToken": "s"})),
            "InvalidWebhookAuthenticationParametersException",
            "Optional['authenticationConfig' should be empty]",
        ),
        capture(
            "an IP webhook whose range is not CIDR",
            Ours,
            "put-webhook",
            webhook("IP", json!({"AllowedIPRange": "10.0.0.0/99"})),
            "InvalidWebhookAuthenticationParametersException",
            "IP authentication requires AllowedIPRange in CIDR notation, not '10.0.0.0/99'",
        ),
    ]
}

fn webhook(authentication: &str, configuration: Value) -> Value {
    json!({"webhook": {"name": "hook", "targetPipeline": "anything", "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}],
        "authentication": authentication, "authenticationConfiguration": configuration}})
}

/// `aws codepipeline COMMAND --cli-input-json file://INPUT`.
fn run(server: &Server, command: &str, input: &Value) -> Cli {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), input.to_string()).expect("write input");
    let arg = format!("file://{}", file.path().display());
    server.aws(&[command, "--cli-input-json", &arg])
}

#[test]
fn every_capture_answers_as_aws_did() {
    // No restart and no process of its own needed: the server runs inside this test.
    let server = Server::in_process(&[]);
    let mut differences = Vec::new();
    for c in table() {
        let cli = run(&server, c.command, &c.input);
        let (code, message) = cli.error();
        if cli.ok || code != c.code || message != c.message {
            differences.push(format!(
                "{} [{}]\n    expected {}: {}\n    got      {}: {}",
                c.situation,
                c.source,
                c.code,
                c.message,
                if cli.ok { "success" } else { &code },
                if cli.ok {
                    cli.json.to_string()
                } else {
                    message
                },
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} capture(s) differ:\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
    // Nothing refused was stored.
    let (_, listed) = server.call("ListPipelines", json!({}));
    assert_eq!(
        listed["pipelines"],
        json!([]),
        "a refused request left a pipeline"
    );
}

#[test]
fn what_live_aws_accepts_is_accepted() {
    let server = Server::in_process(&[]);
    let accepted = [
        // 50,000 characters is live AWS's bound, not the model's 1,000.
        with(pipeline("config-50000"), |d| {
            d["stages"][1]["actions"][0]["configuration"]["EnvironmentVariables"] =
                json!("x".repeat(50_000));
        }),
        // Keys the AWS CDK sends for its CloudFormation and CodeBuild actions.
        with(pipeline("cdk-keys"), |d| {
            d["stages"][1]["actions"][0]["configuration"] = json!({"ProjectName": "app",
                "EnvironmentVariables": "[]", "PrimarySource": "Src", "BatchEnabled": "false",
                "CombineArtifacts": "false", "ServiceRoleArnOverride": "arn:aws:iam::000000000000:role/r"});
            d["stages"].as_array_mut().expect("stages").push(json!({"name": "Deploy", "actions": [{"name": "Stack",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CloudFormation", "version": "1"},
                "inputArtifacts": [{"name": "Src"}],
                "configuration": {"ActionMode": "CREATE_UPDATE", "StackName": "app", "Capabilities": "CAPABILITY_IAM",
                    "RoleArn": "arn:aws:iam::000000000000:role/cfn", "TemplatePath": "Src::template.yaml",
                    "OutputFileName": "out.json", "ParameterOverrides": "{}", "TemplateConfiguration": "Src::config.json"}}]}));
        }),
        // A push filter on tags alone, and one on branches with file paths.
        with(pipeline("good-filters"), |d| {
            d["pipelineType"] = json!("V2");
            d["stages"][0]["actions"][0] = connection_source("Source");
            d["triggers"] = json!([{"providerType": "CodeStarSourceConnection",
                "gitConfiguration": {"sourceActionName": "Source", "push": [
                    {"tags": {"includes": ["v*"]}},
                    {"branches": {"includes": ["main"]}, "filePaths": {"includes": ["src/**"]}}]}}]);
        }),
    ];
    for decl in accepted {
        let cli = run(&server, "create-pipeline", &create(decl.clone()));
        assert!(cli.ok, "{} was refused: {}", decl["name"], cli.stderr);
    }
}

#[test]
fn masked_secrets_keep_the_stored_value_on_update_only() {
    let server = Server::start();
    let decl = with(pipeline("github-v1"), |d| {
        d["stages"][0]["actions"][0] = github_v1_source("ghp_real_token");
    });
    let created = run(&server, "create-pipeline", &create(decl.clone()));
    assert!(created.ok, "{}", created.stderr);
    // GetPipeline masks the secret; sending that declaration back is how every tool updates.
    let got = server.aws(&["get-pipeline", "--name", "github-v1"]);
    let mut shown = got.json["pipeline"].clone();
    assert_eq!(
        shown["stages"][0]["actions"][0]["configuration"]["OAuthToken"],
        "****"
    );
    shown["stages"][1]["actions"][0]["configuration"]["ProjectName"] = json!("renamed");
    let updated = run(&server, "update-pipeline", &create(shown.clone()));
    assert!(updated.ok, "{}", updated.stderr);
    assert_eq!(updated.json["pipeline"]["version"], 2);

    // A `****` action that is new in the update has no stored secret to stand for.
    shown["stages"][0]["actions"][0]["name"] = json!("Renamed");
    let refused = run(&server, "update-pipeline", &create(shown));
    assert_eq!(
        refused.error(),
        (
            "InvalidActionDeclarationException".to_owned(),
            "Action configuration for the new action \"Renamed\" contains an invalid configuration for the secret property \"OAuthToken\". \"****\" may be used in secret properties only when updating an existing action.".to_owned()
        )
    );
    let after = server.aws(&["get-pipeline", "--name", "github-v1"]);
    assert_eq!(
        after.json["pipeline"]["version"], 2,
        "a refused update changed the pipeline"
    );
}
