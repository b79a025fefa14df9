//! `CodeCommit Repository State Change` on the event bus, as CodeCommit sends it to EventBridge:
//! one event per reference a push (or the API) created, moved or deleted, with
//! `referenceCreated` / `referenceUpdated` / `referenceDeleted`, the commit ids, the reference's
//! type and names, and the repository's name and id.

use serde_json::json;

use super::git::Reference;
use super::records::RepositoryRecord;
use super::repositories::arn;
use crate::call::Context;
use crate::services::bus::Event;
use crate::state::AppState;

/// One reference that changed: its full name, and its commit before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    pub fn created(name: &str, commit: &str) -> Self {
        Change {
            name: name.to_owned(),
            old: None,
            new: Some(commit.to_owned()),
        }
    }

    pub fn deleted(name: &str, commit: &str) -> Self {
        Change {
            name: name.to_owned(),
            old: Some(commit.to_owned()),
            new: None,
        }
    }
}

/// What changed between two listings of a repository's references.
pub fn between(before: &[Reference], after: &[Reference]) -> Vec<Change> {
    let old_of = |name: &str| before.iter().find(|r| r.name == name).map(|r| &r.commit);
    let mut changes: Vec<Change> = after
        .iter()
        .filter(|r| old_of(&r.name) != Some(&r.commit))
        .map(|r| Change {
            name: r.name.clone(),
            old: old_of(&r.name).cloned(),
            new: Some(r.commit.clone()),
        })
        .collect();
    changes.extend(
        before
            .iter()
            .filter(|r| !after.iter().any(|a| a.name == r.name))
            .map(|r| Change::deleted(&r.name, &r.commit)),
    );
    changes
}

pub fn publish(state: &AppState, ctx: &Context, repo: &RepositoryRecord, changes: &[Change]) {
    let at = crate::services::epoch_now();
    for change in changes {
        let (kind, short) = match (
            change.name.strip_prefix("refs/heads/"),
            change.name.strip_prefix("refs/tags/"),
        ) {
            (Some(b), _) => ("branch", b),
            (_, Some(t)) => ("tag", t),
            _ => continue,
        };
        let event = match (&change.old, &change.new) {
            (None, Some(_)) => "referenceCreated",
            (Some(_), Some(_)) => "referenceUpdated",
            (Some(_), None) => "referenceDeleted",
            (None, None) => continue,
        };
        let mut detail = json!({
            "callerUserArn": format!("arn:aws:iam::{}:root", ctx.account),
            "event": event,
            "referenceType": kind,
            "referenceName": short,
            "referenceFullName": change.name,
            "repositoryName": repo.name,
            "repositoryId": repo.id,
        });
        if let Some(c) = &change.new {
            detail["commitId"] = json!(c);
        }
        if let Some(c) = &change.old {
            detail["oldCommitId"] = json!(c);
        }
        state.bus.publish(Event::new(
            "aws.codecommit",
            "CodeCommit Repository State Change",
            &ctx.account,
            &ctx.region,
            vec![arn(ctx, &repo.name)],
            detail,
            at,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, commit: &str) -> Reference {
        Reference {
            name: name.to_owned(),
            commit: commit.to_owned(),
        }
    }

    #[test]
    fn a_push_is_what_its_references_became() {
        let before = [
            r("refs/heads/main", "a"),
            r("refs/heads/old", "b"),
            r("refs/tags/v1", "c"),
        ];
        let after = [
            r("refs/heads/main", "d"),
            r("refs/heads/new", "e"),
            r("refs/tags/v1", "c"),
        ];
        let changes = between(&before, &after);
        assert_eq!(
            changes,
            [
                Change {
                    name: "refs/heads/main".into(),
                    old: Some("a".into()),
                    new: Some("d".into())
                },
                Change::created("refs/heads/new", "e"),
                Change::deleted("refs/heads/old", "b"),
            ]
        );
    }
}
