//! The real git sources: a CodeCommit source whose repository `RepositoryName` exists on this
//! endpoint, and a CodeStarSourceConnection source whose `FullRepositoryId` has been pushed to
//! this server's `/_git/` remote. Either archives the head of `BranchName` when the action
//! starts (or the commit `sourceRevisions` names) as a zip of the commit's tree (`CODE_ZIP`,
//! the default), or as a reference a real CodeBuild build clones (`CODEBUILD_CLONE_REF`). Its revision is the commit id, its summary the commit message, and its output
//! variables the documented ones, all real: `CommitId`, `CommitMessage`, `AuthorDate`,
//! `BranchName`, plus `CommitterDate` and `RepositoryName` for CodeCommit, `ConnectionArn` and
//! `FullRepositoryName` for connections. CodePipeline reads the repository as it calls
//! CodeCommit in AWS: through CodeCommit's records and its git folder.

use std::collections::BTreeMap;

use super::{failed, setting, Allowed, TaskJob};
use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::codecommit::git::CONNECTIONS;
use crate::services::codecommit::records as repositories;
use crate::services::codepipeline::domain::execution::model::{ActionResult, Revision};
use crate::store::ObjectMeta;

fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Where a source's repository is, for `Repositories`: its space, sub-space and id.
struct Located {
    space: String,
    sub: String,
    id: String,
    /// How the action names it, for messages.
    shown: String,
}

fn locate(artifacts: &ArtifactStore, allowed: &Allowed, job: &TaskJob) -> Result<Located, String> {
    let (account, region) = (job.key.account.as_str(), job.key.region.as_str());
    if job.provider == "CodeCommit" {
        let name = setting(job, "RepositoryName");
        return match repositories::load(artifacts.store(), account, region, name) {
            Ok(Some(r)) => Ok(Located {
                space: account.to_owned(),
                sub: region.to_owned(),
                id: r.id,
                shown: name.to_owned(),
            }),
            Ok(None) => Err(format!(
                "The action failed because the AWS CodeCommit repository {name} does not exist. Make sure you are using the correct repository name, and then try again."
            )),
            Err(e) => Err(format!("Could not read repository {name}: {e}")),
        };
    }
    let full = setting(job, "FullRepositoryId");
    allowed
        .repositories
        .connection(full)
        .map(|(owner, repo)| Located {
            space: CONNECTIONS.to_owned(),
            sub: owner,
            id: repo,
            shown: full.to_owned(),
        })
        .ok_or_else(|| format!("The repository {full} does not exist on this connection's remote"))
}

pub async fn run(artifacts: &ArtifactStore, allowed: &Allowed, job: &TaskJob) -> ActionResult {
    let branch = setting(job, "BranchName");
    let (account, region) = (job.key.account.as_str(), job.key.region.as_str());
    let at = match locate(artifacts, allowed, job) {
        Ok(l) => l,
        Err(message) => return failed(message),
    };
    let name = at.shown.as_str();
    let git = &allowed.repositories;
    let wanted = job.revision.as_deref().unwrap_or(branch);
    let commit = match git.commit(&at.space, &at.sub, &at.id, wanted).await {
        Ok(Some(c)) => c,
        Ok(None) if job.revision.is_some() => {
            return failed(format!(
                "The action failed because the commit {wanted} was not found in the repository {name}."
            ))
        }
        Ok(None) => {
            return failed(format!(
                "The action failed because no branch named {branch} was found in the selected AWS CodeCommit repository {name}. Make sure you are using the correct branch name, and then try again."
            ))
        }
        Err(e) => return failed(format!("Could not read repository {name}: {e}")),
    };
    // Full clone: a reference a downstream CodeBuild action clones (AWS's layout of this file
    // is not published; ours names the repository's folder, which the build runner reads).
    let (body, content_type) = if setting(job, "OutputArtifactFormat") == "CODEBUILD_CLONE_REF" {
        let reference = serde_json::json!({
            "codepipelineLocalCloneRef": 1,
            "repository": git.path(&at.space, &at.sub, &at.id),
            "repositoryName": name,
            "branch": branch,
            "commitId": commit.id,
        });
        (reference.to_string().into_bytes(), "application/json")
    } else {
        match git.archive(&at.space, &at.sub, &at.id, &commit.id).await {
            Ok(z) => (z, "application/zip"),
            Err(e) => return failed(format!("Could not archive commit {}: {e}", commit.id)),
        }
    };
    for out in &job.outputs {
        let place = Placement {
            bucket: &out.bucket,
            key: &out.key,
            account,
            region,
        };
        let meta = ObjectMeta {
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        if let Err(e) = artifacts.put(&place, &mut body.as_slice(), meta, job.now) {
            return failed(format!(
                "Could not write the artifact s3://{}/{}: {e}",
                out.bucket, out.key
            ));
        }
    }
    let message = commit.message.trim_end().to_owned();
    let mut variables = BTreeMap::from([
        ("AuthorDate".to_owned(), iso(commit.author_date.0)),
        ("BranchName".to_owned(), branch.to_owned()),
        ("CommitId".to_owned(), commit.id.clone()),
        ("CommitMessage".to_owned(), message.clone()),
    ]);
    let url = if job.provider == "CodeCommit" {
        variables.insert("CommitterDate".to_owned(), iso(commit.committer_date.0));
        variables.insert("RepositoryName".to_owned(), name.to_owned());
        format!(
            "https://{region}.console.aws.amazon.com/codesuite/codecommit/repositories/{name}/commit/{}",
            commit.id
        )
    } else {
        variables.insert(
            "ConnectionArn".to_owned(),
            setting(job, "ConnectionArn").to_owned(),
        );
        variables.insert("FullRepositoryName".to_owned(), name.to_owned());
        format!("https://github.com/{name}/commit/{}", commit.id)
    };
    ActionResult {
        summary: Some(message.clone()),
        external_execution_id: Some(commit.id.clone()),
        external_execution_url: Some(url.clone()),
        output_variables: variables,
        revision: Some(Revision {
            revision_id: commit.id.clone(),
            revision_summary: Some(message),
            revision_url: Some(url),
            change_identifier: Some(commit.id),
            created: commit.committer_date.0 as f64,
        }),
        ..ActionResult::default()
    }
}
