//! V2 pipeline triggers (`GitPush`, `PullRequest` on a CodeStarSourceConnection source): which
//! source events start a pipeline, with AWS's glob patterns for branches, tags and file paths
//! (`*` within a path segment, `**` across segments, `?` one character), matched by `globset`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pipeline::PipelineDeclaration;

/// A simulated event from a source provider (`POST /_local/source-events`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceEvent {
    /// `push` (default) or `pullRequest`.
    #[serde(default)]
    pub kind: Option<String>,
    pub connection_arn: Option<String>,
    /// `owner/repository`, as the action's `FullRepositoryId`.
    pub repository: String,
    pub branch: Option<String>,
    pub tag: Option<String>,
    #[serde(default)]
    pub file_paths: Vec<String>,
    pub commit_id: Option<String>,
    /// Pull requests: `OPEN`, `UPDATED` or `CLOSED`.
    pub event: Option<String>,
}

impl SourceEvent {
    fn is_pull_request(&self) -> bool {
        self.kind.as_deref() == Some("pullRequest")
    }
}

/// Whether `text` matches the glob `pattern`, as AWS reads trigger globs: `*` and `?` stay
/// within a path segment, `**` crosses them. A pattern that does not parse matches nothing.
pub fn glob(pattern: &str, text: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(text))
}

fn patterns(criteria: Option<&Value>, which: &str) -> Vec<String> {
    criteria
        .and_then(|c| c.get(which))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Includes (none means all) and not excludes.
fn admits(criteria: Option<&Value>, value: &str) -> bool {
    let includes = patterns(criteria, "includes");
    let excludes = patterns(criteria, "excludes");
    (includes.is_empty() || includes.iter().any(|p| glob(p, value)))
        && !excludes.iter().any(|p| glob(p, value))
}

/// A push or pull-request filter: every criterion it names admits the event.
fn filter_matches(filter: &Value, event: &SourceEvent) -> bool {
    let branches = filter.get("branches");
    let tags = filter.get("tags");
    let paths = filter.get("filePaths");
    if let Some(events) = filter.get("events").and_then(Value::as_array) {
        let wanted = event.event.as_deref().unwrap_or("OPEN");
        if !events.iter().any(|e| e.as_str() == Some(wanted)) {
            return false;
        }
    }
    if tags.is_some() && !event.tag.as_deref().is_some_and(|t| admits(tags, t)) {
        return false;
    }
    if branches.is_some() && !event.branch.as_deref().is_some_and(|b| admits(branches, b)) {
        return false;
    }
    paths.is_none() || event.file_paths.iter().any(|f| admits(paths, f))
}

/// The name of the source action this event starts the pipeline with, if it does.
///
/// With triggers, a trigger whose source action reads the event's repository (and connection)
/// must have a matching push or pull-request filter. Without triggers, a push to the branch of a
/// CodeStarSourceConnection source starts it unless `DetectChanges` is false.
pub fn starts(decl: &PipelineDeclaration, event: &SourceEvent) -> Option<String> {
    let sources = decl
        .stages
        .first()
        .map(|s| s.actions.as_slice())
        .unwrap_or_default();
    let reads_repository = |name: &str| {
        sources.iter().find(|a| a.name == name).filter(|a| {
            a.action_type_id.provider == "CodeStarSourceConnection"
                && a.config("FullRepositoryId") == Some(event.repository.as_str())
                && event
                    .connection_arn
                    .as_deref()
                    .is_none_or(|c| a.config("ConnectionArn") == Some(c))
        })
    };
    let triggers = decl.triggers.as_deref().unwrap_or_default();
    if !triggers.is_empty() {
        return triggers.iter().find_map(|t| {
            let git = t.get("gitConfiguration")?;
            let action = reads_repository(git.get("sourceActionName")?.as_str()?)?;
            let key = if event.is_pull_request() {
                "pullRequest"
            } else {
                "push"
            };
            let filters = git.get(key)?.as_array()?;
            filters
                .iter()
                .any(|f| filter_matches(f, event))
                .then(|| action.name.clone())
        });
    }
    if event.is_pull_request() || event.tag.is_some() {
        return None;
    }
    sources.iter().find_map(|a| {
        let on_branch = event
            .branch
            .as_deref()
            .is_some_and(|b| a.config("BranchName") == Some(b));
        let detects = a
            .config("DetectChanges")
            .is_none_or(|d| !d.eq_ignore_ascii_case("false"));
        (reads_repository(&a.name).is_some() && on_branch && detects).then(|| a.name.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs() {
        assert!(glob("main", "main"));
        assert!(glob("release/*", "release/1.2"));
        assert!(!glob("release/*", "release/1/2"));
        assert!(glob("feature/**", "feature/a/b"));
        assert!(glob("src/**/*.rs", "src/a/b/c.rs"));
        assert!(glob("v?.*", "v1.0"));
        assert!(!glob("main", "mainline"));
    }

    fn decl(triggers: Value) -> PipelineDeclaration {
        serde_json::from_value(json!({
            "name": "p", "roleArn": "arn:aws:iam::123456789012:role/r", "pipelineType": "V2",
            "artifactStore": {"type": "S3", "location": "b"}, "triggers": triggers,
            "stages": [
                {"name": "Source", "actions": [{"name": "Src",
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
                    "configuration": {"ConnectionArn": "arn:c", "FullRepositoryId": "me/app", "BranchName": "main"}}]},
                {"name": "Build", "actions": [{"name": "B",
                    "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}}]}
            ]
        }))
        .unwrap()
    }

    fn push(branch: &str, files: &[&str]) -> SourceEvent {
        SourceEvent {
            repository: "me/app".into(),
            branch: Some(branch.into()),
            file_paths: files.iter().map(|f| (*f).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn push_filters_pick_branches_and_paths() {
        let d = decl(
            json!([{"providerType": "CodeStarSourceConnection", "gitConfiguration": {"sourceActionName": "Src",
            "push": [{"branches": {"includes": ["release/*"], "excludes": ["release/old"]},
                      "filePaths": {"includes": ["src/**"]}}]}}]),
        );
        assert_eq!(
            starts(&d, &push("release/1", &["src/main.rs"])).as_deref(),
            Some("Src")
        );
        assert_eq!(starts(&d, &push("release/old", &["src/main.rs"])), None);
        assert_eq!(starts(&d, &push("release/1", &["docs/x.md"])), None);
        assert_eq!(starts(&d, &push("main", &["src/main.rs"])), None);
    }

    #[test]
    fn without_triggers_a_push_to_the_branch_starts() {
        let d = decl(Value::Null);
        assert_eq!(starts(&d, &push("main", &[])).as_deref(), Some("Src"));
        assert_eq!(starts(&d, &push("dev", &[])), None);
        let other = SourceEvent {
            repository: "you/app".into(),
            branch: Some("main".into()),
            ..Default::default()
        };
        assert_eq!(starts(&d, &other), None);
    }

    #[test]
    fn pull_request_filters_check_events() {
        let d = decl(
            json!([{"providerType": "CodeStarSourceConnection", "gitConfiguration": {"sourceActionName": "Src",
            "pullRequest": [{"events": ["OPEN"], "branches": {"includes": ["main"]}}]}}]),
        );
        let pr = |event: &str| SourceEvent {
            kind: Some("pullRequest".into()),
            repository: "me/app".into(),
            branch: Some("main".into()),
            event: Some(event.into()),
            ..Default::default()
        };
        assert!(starts(&d, &pr("OPEN")).is_some());
        assert!(starts(&d, &pr("CLOSED")).is_none());
    }
}
