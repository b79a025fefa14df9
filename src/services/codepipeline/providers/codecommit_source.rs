//! The real CodeCommit source: the repository `RepositoryName` on this endpoint, at the head
//! of `BranchName` when the action starts (or the commit `sourceRevisions` names), archived as
//! a zip of the commit's tree (`CODE_ZIP`, the default). Its revision is the commit id, its
//! summary the commit message, and its output variables the documented ones (`CommitId`,
//! `CommitMessage`, `AuthorDate`, `CommitterDate`, `BranchName`, `RepositoryName`), all real.
//! CodePipeline reads the repository as it calls CodeCommit in AWS: through CodeCommit's own
//! records and its git folder.

use std::collections::BTreeMap;

use super::{failed, setting, Allowed, TaskJob};
use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::codecommit::records as repositories;
use crate::services::codepipeline::domain::execution::model::{ActionResult, Revision};
use crate::store::ObjectMeta;

fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub async fn run(artifacts: &ArtifactStore, allowed: &Allowed, job: &TaskJob) -> ActionResult {
    let (name, branch) = (setting(job, "RepositoryName"), setting(job, "BranchName"));
    let (account, region) = (job.key.account.as_str(), job.key.region.as_str());
    let repo = match repositories::load(artifacts.store(), account, region, name) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return failed(format!(
                "The action failed because the AWS CodeCommit repository {name} does not exist. Make sure you are using the correct repository name, and then try again."
            ))
        }
        Err(e) => return failed(format!("Could not read repository {name}: {e}")),
    };
    let git = &allowed.repositories;
    let wanted = job.revision.as_deref().unwrap_or(branch);
    let commit = match git.commit(account, region, &repo.id, wanted).await {
        Ok(Some(c)) => c,
        Ok(None) if job.revision.is_some() => {
            return failed(format!(
                "The action failed because the commit {wanted} was not found in the AWS CodeCommit repository {name}."
            ))
        }
        Ok(None) => {
            return failed(format!(
                "The action failed because no branch named {branch} was found in the selected AWS CodeCommit repository {name}. Make sure you are using the correct branch name, and then try again."
            ))
        }
        Err(e) => return failed(format!("Could not read repository {name}: {e}")),
    };
    if setting(job, "OutputArtifactFormat") == "CODEBUILD_CLONE_REF" {
        return failed(
            "OutputArtifactFormat CODEBUILD_CLONE_REF is not supported by codepipeline-local yet: use CODE_ZIP".to_owned(),
        );
    }
    let zip = match git.archive(account, region, &repo.id, &commit.id).await {
        Ok(z) => z,
        Err(e) => return failed(format!("Could not archive commit {}: {e}", commit.id)),
    };
    for out in &job.outputs {
        let at = Placement {
            bucket: &out.bucket,
            key: &out.key,
            account,
            region,
        };
        let meta = ObjectMeta {
            content_type: Some("application/zip".to_owned()),
            ..Default::default()
        };
        if let Err(e) = artifacts.put(&at, &mut zip.as_slice(), meta, job.now) {
            return failed(format!(
                "Could not write the artifact s3://{}/{}: {e}",
                out.bucket, out.key
            ));
        }
    }
    let message = commit.message.trim_end().to_owned();
    let url = format!(
        "https://{region}.console.aws.amazon.com/codesuite/codecommit/repositories/{name}/commit/{}",
        commit.id
    );
    ActionResult {
        summary: Some(message.clone()),
        external_execution_id: Some(commit.id.clone()),
        external_execution_url: Some(url.clone()),
        output_variables: BTreeMap::from([
            ("AuthorDate".to_owned(), iso(commit.author_date.0)),
            ("BranchName".to_owned(), branch.to_owned()),
            ("CommitId".to_owned(), commit.id.clone()),
            ("CommitMessage".to_owned(), message.clone()),
            ("CommitterDate".to_owned(), iso(commit.committer_date.0)),
            ("RepositoryName".to_owned(), name.to_owned()),
        ]),
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
