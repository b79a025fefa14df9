//! What each stub provider reports when it succeeds, in the real provider's formats.

use std::collections::BTreeMap;

use crate::services::codepipeline::domain::execution::machine::ActionStart;
use crate::services::codepipeline::domain::execution::model::{
    ActionResult, DeployTarget, DeployTargetEvent, Revision,
};

fn random_hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

fn upper_alnum(n: usize) -> String {
    random_hex(n).to_uppercase()
}

fn console(region: &str, path: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/{path}")
}

fn vars(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn iso(now: f64) -> String {
    chrono::DateTime::from_timestamp_millis((now * 1000.0) as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// A source revision: the override given at start when there is one, else a fresh one.
fn revision(s: &ActionStart, fresh: String, summary: String, url: Option<String>) -> Revision {
    let id = s
        .source_override
        .map(|o| o.revision_value.clone())
        .unwrap_or(fresh);
    Revision {
        revision_id: id,
        revision_summary: Some(summary),
        revision_url: url,
        change_identifier: None,
        created: s.now,
    }
}

pub fn result(s: &ActionStart, account: &str, region: &str) -> ActionResult {
    let c = s.resolved_configuration;
    let get = |k: &str| c.get(k).cloned().unwrap_or_default();
    let id = &s.action.action_type_id;
    let mut r = ActionResult::default();
    match (id.category.as_str(), id.provider.as_str()) {
        ("Source", "S3") => {
            let version = s
                .source_override
                .map(|o| o.revision_value.clone())
                .unwrap_or_else(|| random_hex(32));
            let etag = random_hex(32);
            r.output_variables = vars(&[
                ("BucketName", get("S3Bucket")),
                ("ObjectKey", get("S3ObjectKey")),
                ("ETag", etag),
                ("VersionId", version.clone()),
            ]);
            r.summary = Some(format!("Amazon S3 version id: {version}"));
            r.external_execution_id = Some(version.clone());
            let summary = format!("Amazon S3 version id: {version}");
            r.revision = Some(revision(s, version, summary, None));
        }
        ("Source", "CodeCommit" | "CodeStarSourceConnection" | "GitHub") => {
            let commit = s
                .source_override
                .map(|o| o.revision_value.clone())
                .unwrap_or_else(|| random_hex(40));
            let branch = if id.provider == "GitHub" {
                get("Branch")
            } else {
                get("BranchName")
            };
            let repo = match id.provider.as_str() {
                "CodeCommit" => get("RepositoryName"),
                "GitHub" => format!("{}/{}", get("Owner"), get("Repo")),
                _ => get("FullRepositoryId"),
            };
            let message = "Update from codepipeline-local".to_owned();
            let url = match id.provider.as_str() {
                "CodeCommit" => console(
                    region,
                    &format!("codesuite/codecommit/repositories/{repo}/commit/{commit}"),
                ),
                _ => format!("https://github.com/{repo}/commit/{commit}"),
            };
            // The names the Variables reference lists per provider.
            let mut v = vars(&[
                ("AuthorDate", iso(s.now)),
                ("BranchName", branch),
                ("CommitId", commit.clone()),
                ("CommitMessage", message.clone()),
            ]);
            match id.provider.as_str() {
                "CodeCommit" => {
                    v.insert("CommitterDate".into(), iso(s.now));
                    v.insert("RepositoryName".into(), repo.clone());
                }
                "GitHub" => {
                    v.insert("CommitterDate".into(), iso(s.now));
                    v.insert("RepositoryName".into(), get("Repo"));
                    v.insert("CommitUrl".into(), url.clone());
                }
                _ => {
                    v.insert("ConnectionArn".into(), get("ConnectionArn"));
                    v.insert("FullRepositoryName".into(), repo.clone());
                    // Not in the reference, but in a real list-action-executions output.
                    v.insert("ProviderType".into(), "GitHub".into());
                }
            }
            r.output_variables = v;
            r.summary = Some(message.clone());
            r.external_execution_id = Some(commit.clone());
            r.external_execution_url = Some(url.clone());
            r.revision = Some(revision(s, commit, message, Some(url)));
        }
        ("Source", "ECR") => {
            let digest = format!("sha256:{}", random_hex(64));
            let repo = get("RepositoryName");
            let tag = c
                .get("ImageTag")
                .cloned()
                .unwrap_or_else(|| "latest".to_owned());
            r.output_variables = vars(&[
                ("ImageDigest", digest.clone()),
                ("ImageTag", tag.clone()),
                (
                    "ImageURI",
                    format!("{account}.dkr.ecr.{region}.amazonaws.com/{repo}:{tag}"),
                ),
                ("RegistryId", account.to_owned()),
                ("RepositoryName", repo),
            ]);
            r.summary = Some(format!("Image digest: {digest}"));
            r.revision = Some(revision(s, digest.clone(), digest, None));
        }
        (_, "CodeBuild") => {
            let project = get("ProjectName");
            let build = format!("{project}:{}", uuid::Uuid::new_v4());
            r.external_execution_url = Some(console(
                region,
                &format!(
                    "codesuite/codebuild/{account}/projects/{project}/build/{}/log",
                    build.replace(':', "%3A")
                ),
            ));
            r.external_execution_id = Some(build);
            r.output_variables = exported_variables(c.get("EnvironmentVariables"));
        }
        (_, "CodeDeploy" | "CodeDeployToECS") => {
            let deployment = format!("d-{}", upper_alnum(9));
            r.external_execution_url = Some(console(
                region,
                &format!("codesuite/codedeploy/deployments/{deployment}"),
            ));
            r.summary = Some(format!("Deployment {deployment} succeeded"));
            r.external_execution_id = Some(deployment);
        }
        (_, "CloudFormation") => {
            let stack = get("StackName");
            let arn = format!(
                "arn:aws:cloudformation:{region}:{account}:stack/{stack}/{}",
                uuid::Uuid::new_v4()
            );
            r.external_execution_url = Some(console(
                region,
                &format!("cloudformation/home?region={region}#/stacks/stackinfo?stackId={arn}"),
            ));
            r.summary = Some(format!("Stack {stack} was updated"));
            r.external_execution_id = Some(arn);
        }
        (_, "Lambda") => {
            let function = get("FunctionName");
            if id.category == "Deploy" {
                let version = c
                    .get("PublishedTargetVersion")
                    .cloned()
                    .unwrap_or_else(|| "2".to_owned());
                r.output_variables = vars(&[("FunctionVersion", version)]);
            }
            r.external_execution_id = Some(uuid::Uuid::new_v4().to_string());
            r.external_execution_url = Some(console(
                region,
                &format!("lambda/home?region={region}#/functions/{function}"),
            ));
            r.summary = Some(format!("Invoked Lambda function {function}"));
        }
        (_, "StepFunctions") => {
            let machine = get("StateMachineArn");
            let name = machine.rsplit(':').next().unwrap_or_default().to_owned();
            let execution = format!(
                "arn:aws:states:{region}:{account}:execution:{name}:{}",
                uuid::Uuid::new_v4()
            );
            r.output_variables = vars(&[
                ("StateMachineArn", machine),
                ("ExecutionArn", execution.clone()),
            ]);
            r.external_execution_url = Some(console(
                region,
                &format!("states/home?region={region}#/executions/details/{execution}"),
            ));
            r.external_execution_id = Some(execution);
        }
        (_, "ECS") => {
            r.summary = Some(format!(
                "Service {} in cluster {} was updated",
                get("ServiceName"),
                get("ClusterName")
            ));
            r.external_execution_id = Some(format!("ecs-svc/{}", random_hex(19)));
        }
        (_, "EKS") => {
            r.output_variables = vars(&[("EKSClusterName", get("ClusterName"))]);
        }
        (_, "ECRBuildAndPublish") => {
            r.output_variables = vars(&[
                ("ECRImageDigestId", format!("sha256:{}", random_hex(64))),
                ("ECRRepositoryName", get("ECRRepositoryName")),
            ]);
        }
        (_, "InspectorScan") => {
            // The action reference's values are `medium | high | critical`, lower case.
            r.output_variables = vars(&[("HighestScannedSeverity", "medium".to_owned())]);
        }
        (_, "CloudFormationStackSet" | "CloudFormationStackInstances") => {
            let operation = uuid::Uuid::new_v4().to_string();
            r.output_variables = vars(&[
                (
                    "StackSetId",
                    format!("{}:{}", get("StackSetName"), uuid::Uuid::new_v4()),
                ),
                ("OperationId", operation.clone()),
            ]);
            r.external_execution_id = Some(operation);
        }
        (_, "S3") => {
            r.summary = Some(format!(
                "Deployed to s3://{}/{}",
                get("BucketName"),
                get("ObjectKey")
            ));
        }
        (_, provider) => {
            r.external_execution_id = Some(uuid::Uuid::new_v4().to_string());
            r.summary = Some(format!("{provider} action succeeded"));
        }
    }
    r
}

/// CodeBuild exports the plain-text environment variables of its `EnvironmentVariables` setting.
fn exported_variables(setting: Option<&String>) -> BTreeMap<String, String> {
    let Some(text) = setting else {
        return BTreeMap::new();
    };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return BTreeMap::new();
    };
    items
        .iter()
        .filter(|v| {
            v.get("type")
                .and_then(|t| t.as_str())
                .is_none_or(|t| t == "PLAINTEXT")
        })
        .filter_map(|v| {
            Some((
                v.get("name")?.as_str()?.to_owned(),
                v.get("value")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// The lifecycle events a deployment to one target goes through, spread over the action's time.
fn events(names: &[&str], start: f64, seconds: f64) -> Vec<DeployTargetEvent> {
    let step = seconds / names.len().max(1) as f64;
    names
        .iter()
        .enumerate()
        .map(|(i, name)| DeployTargetEvent {
            name: (*name).to_owned(),
            status: "Succeeded".to_owned(),
            start_time: start + step * i as f64,
            end_time: start + step * (i + 1) as f64,
        })
        .collect()
}

/// Where CodeDeploy, EC2 and ECS deploy actions deploy to: two instances, or the ECS service.
pub fn deploy_targets(s: &ActionStart, seconds: f64) -> Vec<DeployTarget> {
    let id = &s.action.action_type_id;
    if id.category != "Deploy" {
        return Vec::new();
    }
    let (kind, lifecycle): (&str, &[&str]) = match id.provider.as_str() {
        "CodeDeploy" => (
            "Instance",
            &[
                "ApplicationStop",
                "DownloadBundle",
                "BeforeInstall",
                "Install",
                "AfterInstall",
                "ApplicationStart",
                "ValidateService",
            ],
        ),
        "EC2" => ("Instance", &["DownloadBundle", "PreScript", "PostScript"]),
        "ECS" | "CodeDeployToECS" => (
            "ECSService",
            &[
                "RegisterTaskDefinition",
                "UpdateService",
                "WaitForStability",
            ],
        ),
        _ => return Vec::new(),
    };
    let names: Vec<String> = if kind == "ECSService" {
        vec![s
            .resolved_configuration
            .get("ServiceName")
            .cloned()
            .unwrap_or_else(|| "service".to_owned())]
    } else {
        (0..2).map(|_| format!("i-{}", random_hex(17))).collect()
    };
    names
        .into_iter()
        .map(|target_id| DeployTarget {
            target_id,
            target_type: kind.to_owned(),
            status: "Succeeded".to_owned(),
            start_time: s.now,
            end_time: s.now + seconds,
            events: events(lifecycle, s.now, seconds),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::codepipeline::domain::pipeline::ActionDeclaration;

    fn names(category: &str, provider: &str, config: &[(&str, &str)]) -> Vec<String> {
        let action: ActionDeclaration = serde_json::from_value(serde_json::json!({
            "name": "a",
            "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"}
        }))
        .unwrap();
        let resolved: BTreeMap<String, String> = config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let start = ActionStart {
            pipeline: "p",
            stage: "s",
            action: &action,
            resolved_configuration: &resolved,
            execution_id: "e",
            source_override: None,
            now: 0.0,
        };
        result(&start, "000000000000", "us-east-1")
            .output_variables
            .into_keys()
            .collect()
    }

    /// The names of the User Guide's Variables reference, provider by provider.
    #[test]
    fn output_variables_carry_the_documented_names() {
        assert_eq!(
            names("Source", "CodeStarSourceConnection", &[]),
            [
                "AuthorDate",
                "BranchName",
                "CommitId",
                "CommitMessage",
                "ConnectionArn",
                "FullRepositoryName",
                "ProviderType"
            ]
        );
        assert_eq!(
            names("Source", "CodeCommit", &[]),
            [
                "AuthorDate",
                "BranchName",
                "CommitId",
                "CommitMessage",
                "CommitterDate",
                "RepositoryName"
            ]
        );
        assert_eq!(
            names(
                "Source",
                "ECR",
                &[("RepositoryName", "r"), ("ImageTag", "v1")]
            ),
            [
                "ImageDigest",
                "ImageTag",
                "ImageURI",
                "RegistryId",
                "RepositoryName"
            ]
        );
        assert_eq!(names("Deploy", "EKS", &[]), ["EKSClusterName"]);
        assert_eq!(
            names("Build", "ECRBuildAndPublish", &[]),
            ["ECRImageDigestId", "ECRRepositoryName"]
        );
        assert_eq!(
            names("Invoke", "InspectorScan", &[]),
            ["HighestScannedSeverity"]
        );
        assert_eq!(
            names("Deploy", "CloudFormationStackSet", &[]),
            ["OperationId", "StackSetId"]
        );
        assert_eq!(names("Deploy", "Lambda", &[]), ["FunctionVersion"]);
        assert!(names("Invoke", "Lambda", &[]).is_empty());
    }
}
