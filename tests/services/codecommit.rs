//! CodeCommit with the real `git` client and the aws CLI: a repository made with
//! `create-repository` is cloned from its `cloneUrlHttp`, pushed to and cloned again; the API
//! sees what was pushed (branches, default branch, commits) and git sees what the API did;
//! a push to a repository that does not exist is refused with a message that says what to do.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn aws_ok(server: &Server, args: &[&str]) -> Value {
    let out = server.aws_of("codecommit", args);
    assert!(out.ok, "aws codecommit {}: {}", args.join(" "), out.stderr);
    out.json
}

/// `git ARGS` in `dir`, isolated from the machine's git configuration; its output.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "user.name=Learner",
            "-c",
            "user.email=learner@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("git runs")
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Clones `url` into `dir/name` and returns the clone's folder.
pub fn clone(dir: &Path, url: &str, name: &str) -> std::path::PathBuf {
    git_ok(dir, &["clone", "--quiet", url, name]);
    dir.join(name)
}

/// Writes `files` in the clone, commits them with `message` and pushes `branch`; the commit id.
pub fn commit_and_push(work: &Path, files: &[(&str, &str)], message: &str, branch: &str) -> String {
    for (name, text) in files {
        let path = work.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folders");
        }
        std::fs::write(path, text).expect("write");
    }
    git_ok(work, &["add", "-A"]);
    git_ok(work, &["commit", "--quiet", "-m", message]);
    git_ok(
        work,
        &[
            "push",
            "--quiet",
            "origin",
            &format!("HEAD:refs/heads/{branch}"),
        ],
    );
    git_ok(work, &["rev-parse", "HEAD"])
}

#[test]
fn a_repository_is_a_git_remote_and_the_api_sees_what_was_pushed() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let created = aws_ok(
        &server,
        &[
            "create-repository",
            "--repository-name",
            "MyDemoRepo",
            "--repository-description",
            "the lab's app",
        ],
    );
    let meta = &created["repositoryMetadata"];
    let url = meta["cloneUrlHttp"].as_str().expect("clone url").to_owned();
    assert_eq!(url, format!("{}/v1/repos/MyDemoRepo", server.url));
    assert_eq!(
        meta["Arn"],
        "arn:aws:codecommit:us-east-1:000000000000:MyDemoRepo"
    );
    assert!(meta.get("defaultBranch").is_none(), "{meta}");

    // Clone the empty repository, commit, push: the API sees the branch and the commit.
    let work = clone(dir.path(), &url, "work");
    let first = commit_and_push(&work, &[("README.md", "# app\n")], "Initial commit", "main");
    let branch = aws_ok(
        &server,
        &[
            "get-branch",
            "--repository-name",
            "MyDemoRepo",
            "--branch-name",
            "main",
        ],
    );
    assert_eq!(branch["branch"]["commitId"], first.as_str());
    let repo = aws_ok(
        &server,
        &["get-repository", "--repository-name", "MyDemoRepo"],
    );
    assert_eq!(
        repo["repositoryMetadata"]["defaultBranch"], "main",
        "the first branch pushed"
    );
    let commit = aws_ok(
        &server,
        &[
            "get-commit",
            "--repository-name",
            "MyDemoRepo",
            "--commit-id",
            &first,
        ],
    );
    assert_eq!(commit["commit"]["message"], "Initial commit\n");
    assert_eq!(commit["commit"]["author"]["email"], "learner@example.com");

    // A branch made with the API is there for git; a fresh clone has the pushed file.
    aws_ok(
        &server,
        &[
            "create-branch",
            "--repository-name",
            "MyDemoRepo",
            "--branch-name",
            "feature",
            "--commit-id",
            &first,
        ],
    );
    git_ok(&work, &["fetch", "--quiet", "origin"]);
    assert_eq!(git_ok(&work, &["rev-parse", "origin/feature"]), first);
    let again = clone(dir.path(), &url, "again");
    assert_eq!(
        std::fs::read_to_string(again.join("README.md")).expect("cloned file"),
        "# app\n"
    );
    let second = commit_and_push(&again, &[("src/app.js", "// v2\n")], "Add the app", "main");
    let branches = aws_ok(
        &server,
        &["list-branches", "--repository-name", "MyDemoRepo"],
    );
    assert_eq!(branches["branches"], serde_json::json!(["feature", "main"]));
    let head = aws_ok(
        &server,
        &[
            "get-branch",
            "--repository-name",
            "MyDemoRepo",
            "--branch-name",
            "main",
        ],
    );
    assert_eq!(head["branch"]["commitId"], second.as_str());

    // The default branch cannot go; another can, and git sees it gone.
    let refused = server.aws_of(
        "codecommit",
        &[
            "delete-branch",
            "--repository-name",
            "MyDemoRepo",
            "--branch-name",
            "main",
        ],
    );
    assert!(
        refused
            .stderr
            .contains("DefaultBranchCannotBeDeletedException"),
        "{}",
        refused.stderr
    );
    let deleted = aws_ok(
        &server,
        &[
            "delete-branch",
            "--repository-name",
            "MyDemoRepo",
            "--branch-name",
            "feature",
        ],
    );
    assert_eq!(deleted["deletedBranch"]["commitId"], first.as_str());
    let remote_heads = git_ok(&work, &["ls-remote", "--heads", "origin"]);
    assert!(!remote_heads.contains("feature"), "{remote_heads}");
}

#[test]
fn what_does_not_exist_is_refused_with_a_way_out() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("{}/v1/repos/nowhere", server.url);
    let out = git(dir.path(), &["clone", &url, "nowhere"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("create-repository"), "{said}");

    let missing = server.aws_of(
        "codecommit",
        &["get-repository", "--repository-name", "nowhere"],
    );
    assert!(
        missing.stderr.contains("RepositoryDoesNotExistException")
            && missing.stderr.contains("nowhere does not exist"),
        "{}",
        missing.stderr
    );
    for bad in ["..", "app.git"] {
        let refused = server.aws_of(
            "codecommit",
            &["create-repository", "--repository-name", bad],
        );
        assert!(
            refused.stderr.contains("InvalidRepositoryNameException"),
            "{bad}: {}",
            refused.stderr
        );
        let out = git(
            dir.path(),
            &["ls-remote", &format!("{}/v1/repos/{bad}", server.url)],
        );
        assert!(!out.status.success(), "{bad}");
    }
    aws_ok(
        &server,
        &["create-repository", "--repository-name", "twice"],
    );
    let again = server.aws_of(
        "codecommit",
        &["create-repository", "--repository-name", "twice"],
    );
    assert!(
        again.stderr.contains("RepositoryNameExistsException"),
        "{}",
        again.stderr
    );
    // A repository deleted while cloned: the clone's next fetch is refused.
    let url = format!("{}/v1/repos/twice", server.url);
    let work = clone(dir.path(), &url, "twice");
    commit_and_push(&work, &[("a.txt", "a")], "a", "main");
    let gone = aws_ok(
        &server,
        &["delete-repository", "--repository-name", "twice"],
    );
    assert!(gone["repositoryId"].is_string(), "{gone}");
    assert!(!git(&work, &["fetch", "origin"]).status.success());
    let listed = aws_ok(&server, &["list-repositories"]);
    assert_eq!(listed["repositories"], serde_json::json!([]));
}

fn codecommit_pipeline() -> Value {
    serde_json::json!({
        "name": "from-git",
        "roleArn": "arn:aws:iam::000000000000:role/pipeline",
        "pipelineType": "V2",
        "executionMode": "QUEUED",
        "artifactStore": {"type": "S3", "location": "git-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"},
                "configuration": {"RepositoryName": "app", "BranchName": "main", "PollForSourceChanges": "false"},
                "outputArtifacts": [{"name": "Src"}],
                "namespace": "SourceVariables"
            }]},
            {"name": "Deploy", "actions": [{
                "name": "Site",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"BucketName": "git-site", "Extract": "true", "ObjectKey": "#{SourceVariables.CommitId}"},
                "inputArtifacts": [{"name": "Src"}]
            }]}
        ]
    })
}

fn executions(server: &Server, at_least: usize) -> Vec<Value> {
    poll(&format!("{at_least} executions"), || {
        let list = server.execution_summaries("from-git");
        (list.len() >= at_least).then_some(list)
    })
}

#[test]
fn a_push_starts_the_pipeline_with_the_pushed_commit_and_its_files() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = aws_ok(&server, &["create-repository", "--repository-name", "app"])
        ["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    let out = server.aws_of("s3", &["mb", "s3://git-site"]);
    assert!(out.ok, "{}", out.stderr);
    let work = clone(dir.path(), &url, "work");
    let first = commit_and_push(
        &work,
        &[("index.html", "<h1>v1</h1>")],
        "First page",
        "main",
    );
    server.create_pipeline(&codecommit_pipeline());
    let created = executions(&server, 1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("from-git", &created, "Succeeded");
    let details = server.action_executions("from-git", &created);
    let source = action_detail(&details, "Source");
    let vars = &source["output"]["outputVariables"];
    assert_eq!(vars["CommitId"], first.as_str(), "{source}");
    assert_eq!(vars["CommitMessage"], "First page");
    assert_eq!(vars["BranchName"], "main");
    assert_eq!(vars["RepositoryName"], "app");
    assert!(
        vars["AuthorDate"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z')),
        "{vars}"
    );
    let fetched = dir.path().join("fetched.html");
    let got = server.aws_of(
        "s3",
        &[
            "cp",
            &format!("s3://git-site/{first}/index.html"),
            &fetched.display().to_string(),
        ],
    );
    assert!(got.ok, "the deployed commit's file: {}", got.stderr);
    assert_eq!(
        std::fs::read_to_string(&fetched).expect("read"),
        "<h1>v1</h1>"
    );

    // A push starts the pipeline with that commit, as the console's EventBridge rule does.
    let second = commit_and_push(
        &work,
        &[("index.html", "<h1>v2</h1>")],
        "Second page",
        "main",
    );
    let list = executions(&server, 2);
    let started = &list[0];
    assert_eq!(
        started["trigger"]["triggerType"], "CloudWatchEvent",
        "{started}"
    );
    assert_eq!(
        started["sourceRevisions"][0]["revisionId"],
        second.as_str(),
        "{started}"
    );
    let id = started["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("from-git", &id, "Succeeded");

    // Two quick pushes start two runs; a push to another branch starts none.
    let third = commit_and_push(&work, &[("a.txt", "3")], "Third", "main");
    let fourth = commit_and_push(&work, &[("a.txt", "4")], "Fourth", "main");
    commit_and_push(&work, &[("b.txt", "x")], "Elsewhere", "feature");
    let list = executions(&server, 4);
    let revisions: Vec<&str> = list
        .iter()
        .take(2)
        .filter_map(|e| e["sourceRevisions"][0]["revisionId"].as_str())
        .collect();
    assert_eq!(revisions, [fourth.as_str(), third.as_str()]);
    for e in list.iter().take(2) {
        let id = e["pipelineExecutionId"].as_str().expect("id");
        server.wait_for_execution("from-git", id, "Succeeded");
    }
    assert_eq!(
        server.execution_summaries("from-git").len(),
        4,
        "the feature push started nothing"
    );

    // A source that polls (the setting's default) is started too, and says so.
    let mut polling = codecommit_pipeline();
    polling["name"] = serde_json::json!("polling");
    polling["stages"][0]["actions"][0]["configuration"]
        .as_object_mut()
        .expect("configuration")
        .remove("PollForSourceChanges");
    server.create_pipeline(&polling);
    poll("the polling pipeline's first run", || {
        (server.execution_summaries("polling").len() == 1).then_some(())
    });
    let fifth = commit_and_push(&work, &[("a.txt", "5")], "Fifth", "main");
    let started = poll("a polled run", || {
        let list = server.execution_summaries("polling");
        (list.len() == 2).then(|| list[0].clone())
    });
    assert_eq!(
        started["trigger"]["triggerType"], "PollForSourceChanges",
        "{started}"
    );
    assert_eq!(started["sourceRevisions"][0]["revisionId"], fifth.as_str());
}

#[test]
fn pushed_commits_and_repositories_survive_kill_9() {
    let data = tempfile::tempdir().expect("data dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start_in_with(data.path(), &[]);
    let url = aws_ok(&server, &["create-repository", "--repository-name", "kept"])
        ["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    let work = clone(dir.path(), &url, "work");
    let pushed = commit_and_push(&work, &[("kept.txt", "still here")], "Keep me", "main");
    server.kill();

    let server = Server::start_in_with(data.path(), &[]);
    let url = format!("{}/v1/repos/kept", server.url);
    let branch = aws_ok(
        &server,
        &[
            "get-branch",
            "--repository-name",
            "kept",
            "--branch-name",
            "main",
        ],
    );
    assert_eq!(branch["branch"]["commitId"], pushed.as_str());
    let again = clone(dir.path(), &url, "again");
    assert_eq!(
        std::fs::read_to_string(again.join("kept.txt")).expect("cloned"),
        "still here"
    );
}

fn unb64(value: &Value) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("base64 text"))
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn files_committed_with_the_api_and_with_git_are_one_history() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = aws_ok(&server, &["create-repository", "--repository-name", "docs"])
        ["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    // PutFile into the empty repository makes its first commit; git pulls it.
    let put = aws_ok(
        &server,
        &[
            "put-file",
            "--repository-name",
            "docs",
            "--branch-name",
            "main",
            "--file-path",
            "/guide/intro.md",
            "--file-content",
            "Hello from the API",
            "--commit-message",
            "Add the intro",
            "--name",
            "Api User",
            "--email",
            "api@example.com",
        ],
    );
    let first = put["commitId"].as_str().expect("commit").to_owned();
    let work = clone(dir.path(), &url, "work");
    assert_eq!(
        std::fs::read_to_string(work.join("guide/intro.md")).expect("pulled"),
        "Hello from the API"
    );
    assert_eq!(
        git_ok(&work, &["log", "-1", "--format=%an <%ae> %s"]),
        "Api User <api@example.com> Add the intro"
    );

    // Without the branch's tip as parent, or with the same content, nothing is written.
    let no_parent = server.aws_of(
        "codecommit",
        &[
            "put-file",
            "--repository-name",
            "docs",
            "--branch-name",
            "main",
            "--file-path",
            "x.md",
            "--file-content",
            "x",
        ],
    );
    assert!(
        no_parent.stderr.contains("ParentCommitIdRequiredException"),
        "{}",
        no_parent.stderr
    );
    let same = server.aws_of(
        "codecommit",
        &[
            "put-file",
            "--repository-name",
            "docs",
            "--branch-name",
            "main",
            "--file-path",
            "guide/intro.md",
            "--file-content",
            "Hello from the API",
            "--parent-commit-id",
            &first,
        ],
    );
    assert!(
        same.stderr.contains("SameFileContentException"),
        "{}",
        same.stderr
    );

    // A push; GetFile and GetFolder see it; a stale parent is refused.
    let pushed = commit_and_push(
        &work,
        &[("guide/setup.md", "Install it\n")],
        "Add setup",
        "main",
    );
    let stale = server.aws_of(
        "codecommit",
        &[
            "put-file",
            "--repository-name",
            "docs",
            "--branch-name",
            "main",
            "--file-path",
            "late.md",
            "--file-content",
            "late",
            "--parent-commit-id",
            &first,
        ],
    );
    assert!(
        stale.stderr.contains("ParentCommitIdOutdatedException"),
        "{}",
        stale.stderr
    );
    let file = aws_ok(
        &server,
        &[
            "get-file",
            "--repository-name",
            "docs",
            "--file-path",
            "guide/setup.md",
        ],
    );
    assert_eq!(unb64(&file["fileContent"]), "Install it\n");
    assert_eq!(file["commitId"], pushed.as_str());
    assert_eq!(file["fileMode"], "NORMAL");
    let folder = aws_ok(
        &server,
        &[
            "get-folder",
            "--repository-name",
            "docs",
            "--folder-path",
            "/guide",
        ],
    );
    let names: Vec<&str> = folder["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["absolutePath"].as_str())
        .collect();
    assert_eq!(names, ["guide/intro.md", "guide/setup.md"]);
    let root = aws_ok(
        &server,
        &[
            "get-folder",
            "--repository-name",
            "docs",
            "--folder-path",
            "/",
        ],
    );
    assert_eq!(root["subFolders"][0]["relativePath"], "guide");
    let missing = server.aws_of(
        "codecommit",
        &[
            "get-file",
            "--repository-name",
            "docs",
            "--file-path",
            "nope.md",
        ],
    );
    assert!(
        missing.stderr.contains("FileDoesNotExistException"),
        "{}",
        missing.stderr
    );
    let escape = server.aws_of(
        "codecommit",
        &[
            "get-file",
            "--repository-name",
            "docs",
            "--file-path",
            "../../etc/passwd",
        ],
    );
    assert!(
        escape.stderr.contains("InvalidPathException"),
        "{}",
        escape.stderr
    );

    // CreateCommit: add, update and delete at once; git and GetDifferences agree.
    // The CLI encodes blob members itself, as it does `--file-content`.
    let put_files = serde_json::json!([
        {"filePath": "guide/intro.md", "fileContent": "Hello, updated"},
        {"filePath": "run.sh", "fileContent": "#!/bin/sh\necho hi\n", "fileMode": "EXECUTABLE"}
    ])
    .to_string();
    let delete_files = serde_json::json!([{"filePath": "guide/setup.md"}]).to_string();
    let made = aws_ok(
        &server,
        &[
            "create-commit",
            "--repository-name",
            "docs",
            "--branch-name",
            "main",
            "--parent-commit-id",
            &pushed,
            "--author-name",
            "Api User",
            "--email",
            "api@example.com",
            "--commit-message",
            "Rework",
            "--put-files",
            &put_files,
            "--delete-files",
            &delete_files,
        ],
    );
    assert_eq!(made["filesAdded"][0]["absolutePath"], "run.sh", "{made}");
    assert_eq!(made["filesAdded"][0]["fileMode"], "EXECUTABLE");
    assert_eq!(made["filesUpdated"][0]["absolutePath"], "guide/intro.md");
    assert_eq!(made["filesDeleted"][0]["absolutePath"], "guide/setup.md");
    let third = made["commitId"].as_str().expect("commit");
    git_ok(&work, &["pull", "--quiet", "--ff-only", "origin", "main"]);
    assert_eq!(git_ok(&work, &["rev-parse", "HEAD"]), third);
    assert!(!work.join("guide/setup.md").exists());
    assert_eq!(
        std::fs::read_to_string(work.join("guide/intro.md")).expect("read"),
        "Hello, updated"
    );
    let diff = aws_ok(
        &server,
        &[
            "get-differences",
            "--repository-name",
            "docs",
            "--before-commit-specifier",
            &pushed,
            "--after-commit-specifier",
            third,
        ],
    );
    let mut kinds: Vec<(String, String)> = diff["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            let path = d["afterBlob"]["path"]
                .as_str()
                .or(d["beforeBlob"]["path"].as_str())
                .unwrap_or_default();
            (
                d["changeType"].as_str().unwrap_or_default().to_owned(),
                path.to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("A".to_owned(), "run.sh".to_owned()),
            ("D".to_owned(), "guide/setup.md".to_owned()),
            ("M".to_owned(), "guide/intro.md".to_owned()),
        ]
    );
}

/// A pipeline whose source is `acme/web` behind a connection, with push triggers on branches
/// `release/*` (files under `src/`) and on tags `v*`.
fn connection_pipeline() -> Value {
    serde_json::json!({
        "name": "from-connection",
        "roleArn": "arn:aws:iam::000000000000:role/pipeline",
        "pipelineType": "V2",
        "executionMode": "QUEUED",
        "artifactStore": {"type": "S3", "location": "connection-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Src",
                "namespace": "S",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
                "configuration": {
                    "ConnectionArn": "arn:aws:codeconnections:us-east-1:000000000000:connection/abc",
                    "FullRepositoryId": "acme/web",
                    "BranchName": "release/1"
                },
                "outputArtifacts": [{"name": "Src"}]
            }]},
            {"name": "Deploy", "actions": [{
                "name": "Site",
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                "configuration": {"BucketName": "connection-site", "Extract": "true", "ObjectKey": "#{S.CommitId}"},
                "inputArtifacts": [{"name": "Src"}]
            }]}
        ],
        "triggers": [{"providerType": "CodeStarSourceConnection", "gitConfiguration": {
            "sourceActionName": "Src",
            "push": [
                {"branches": {"includes": ["release/*"]}, "filePaths": {"includes": ["src/**"]}},
                {"tags": {"includes": ["v*"]}}
            ]
        }}]
    })
}

#[test]
fn a_push_to_a_connections_remote_is_its_push_event_for_v2_triggers() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = server.aws_of("s3", &["mb", "s3://connection-site"]);
    assert!(out.ok, "{}", out.stderr);
    let remote = format!("{}/_git/acme/web", server.url);
    // Nothing to clone before the first push creates the repository.
    assert!(!git(dir.path(), &["clone", "--quiet", &remote, "early"])
        .status
        .success());
    let work = dir.path().join("web");
    std::fs::create_dir_all(&work).expect("work");
    git_ok(&work, &["init", "--quiet"]);
    git_ok(&work, &["remote", "add", "origin", &remote]);
    let first = commit_and_push(&work, &[("src/app.js", "v1")], "First", "release/1");
    server.create_pipeline(&connection_pipeline());
    let summaries = |n: usize| {
        poll(&format!("{n} executions"), || {
            let list = server.execution_summaries("from-connection");
            (list.len() >= n).then_some(list)
        })
    };
    let created = summaries(1)[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("from-connection", &created, "Succeeded");
    let details = server.action_executions("from-connection", &created);
    let src = action_detail(&details, "Src");
    assert_eq!(
        src["output"]["outputVariables"]["CommitId"],
        first.as_str(),
        "{src}"
    );
    assert_eq!(
        src["output"]["outputVariables"]["FullRepositoryName"],
        "acme/web"
    );

    // A push changing src/ on a release branch starts a run with the pushed tree.
    let second = commit_and_push(&work, &[("src/app.js", "v2")], "Second", "release/1");
    let list = summaries(2);
    assert_eq!(
        list[0]["trigger"]["triggerType"], "WebhookV2",
        "{}",
        list[0]
    );
    assert_eq!(list[0]["sourceRevisions"][0]["revisionId"], second.as_str());
    let id = list[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("from-connection", &id, "Succeeded");
    let fetched = dir.path().join("app.js");
    let got = server.aws_of(
        "s3",
        &[
            "cp",
            &format!("s3://connection-site/{second}/src/app.js"),
            &fetched.display().to_string(),
        ],
    );
    assert!(got.ok, "{}", got.stderr);
    assert_eq!(std::fs::read_to_string(&fetched).expect("read"), "v2");

    // A push that changes only files outside src/ starts nothing; nor does another branch.
    commit_and_push(&work, &[("README.md", "docs")], "Docs only", "release/1");
    commit_and_push(&work, &[("src/app.js", "v3")], "Elsewhere", "feature");
    // A tag matching v* starts a run with the tagged commit.
    git_ok(&work, &["tag", "v1.0"]);
    git_ok(&work, &["push", "--quiet", "origin", "v1.0"]);
    let tagged = git_ok(&work, &["rev-parse", "HEAD"]);
    let list = summaries(3);
    assert_eq!(
        list[0]["sourceRevisions"][0]["revisionId"],
        tagged.as_str(),
        "{}",
        list[0]
    );
    let id = list[0]["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("from-connection", &id, "Succeeded");
    assert_eq!(
        server.execution_summaries("from-connection").len(),
        3,
        "the docs-only push and the feature branch started nothing"
    );
}

#[test]
fn a_full_clone_source_is_cloned_by_the_build_with_its_history() {
    let server = Server::in_process(&["--action-duration", "0s", "--run-builds"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = aws_ok(
        &server,
        &["create-repository", "--repository-name", "cloned"],
    )["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    let work = clone(dir.path(), &url, "work");
    commit_and_push(&work, &[("a.txt", "1")], "One", "main");
    let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"head=$(git rev-parse HEAD) branch=$(git rev-parse --abbrev-ref HEAD) commits=$(git rev-list --count HEAD)\"\n";
    let pushed = commit_and_push(&work, &[("buildspec.yml", spec)], "Two", "main");
    let mut declaration = codecommit_pipeline();
    declaration["name"] = serde_json::json!("clone-ref");
    let source = &mut declaration["stages"][0]["actions"][0]["configuration"];
    source["RepositoryName"] = serde_json::json!("cloned");
    source["OutputArtifactFormat"] = serde_json::json!("CODEBUILD_CLONE_REF");
    declaration["stages"][1] = serde_json::json!({"name": "Build", "actions": [{
        "name": "Build",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "configuration": {"ProjectName": "cloner"},
        "inputArtifacts": [{"name": "Src"}]
    }]});
    server.create_pipeline(&declaration);
    let id = poll("the run", || {
        server
            .execution_summaries("clone-ref")
            .first()
            .and_then(|e| e["pipelineExecutionId"].as_str().map(str::to_owned))
    });
    server.wait_for_execution("clone-ref", &id, "Succeeded");
    let details = server.action_executions("clone-ref", &id);
    let build_id = action_detail(&details, "Build")["output"]["executionResult"]
        ["externalExecutionId"]
        .as_str()
        .expect("build id")
        .to_owned();
    let stream = build_id.split(':').nth(1).expect("uuid");
    let log = server.aws_of(
        "logs",
        &[
            "get-log-events",
            "--log-group-name",
            "/aws/codebuild/cloner",
            "--log-stream-name",
            stream,
            "--start-from-head",
        ],
    );
    assert!(log.ok, "{}", log.stderr);
    let expected = format!("head={pushed} branch=main commits=2");
    assert!(
        log.json["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["message"] == expected.as_str()),
        "{expected} not in {}",
        log.json
    );
}

#[test]
fn a_push_cut_off_halfway_leaves_the_repository_as_it_was() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = aws_ok(
        &server,
        &["create-repository", "--repository-name", "sturdy"],
    )["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    let work = clone(dir.path(), &url, "work");
    let kept = commit_and_push(&work, &[("a.txt", "kept")], "Kept", "main");
    // A reference update whose pack ends after its header, as a dropped connection leaves it.
    let update = format!("{kept} {} refs/heads/main\0report-status\n", "1".repeat(40));
    let mut body = format!("{:04x}{update}0000", update.len() + 4).into_bytes();
    body.extend_from_slice(b"PACK\0\0\0\x02\0\0\0\x05truncated");
    let answer = ureq::post(&format!("{url}/git-receive-pack"))
        .set("content-type", "application/x-git-receive-pack-request")
        .send_bytes(&body);
    let status = match answer {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("no answer: {e}"),
    };
    assert!(status < 500, "{status}");
    let branch = aws_ok(
        &server,
        &[
            "get-branch",
            "--repository-name",
            "sturdy",
            "--branch-name",
            "main",
        ],
    );
    assert_eq!(branch["branch"]["commitId"], kept.as_str());
    // The next push and a fresh clone work, and the history checks out.
    let next = commit_and_push(&work, &[("b.txt", "next")], "Next", "main");
    let again = clone(dir.path(), &url, "again");
    assert_eq!(git_ok(&again, &["rev-parse", "HEAD"]), next);
    git_ok(&again, &["fsck", "--no-progress"]);

    // Names that are not repository names never reach a folder.
    for path in ["a%2F..%2Fsturdy", "..", "sturdy%00"] {
        let answer = ureq::get(&format!(
            "{}/v1/repos/{path}/info/refs?service=git-upload-pack",
            server.url
        ))
        .call();
        let code = match answer {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{path}: {e}"),
        };
        assert!((400..500).contains(&code), "{path}: {code}");
    }
}

#[test]
fn repository_metadata_tags_and_other_accounts_and_regions() {
    let server = Server::in_process(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    aws_ok(
        &server,
        &[
            "create-repository",
            "--repository-name",
            "old-name",
            "--tags",
            "team=web",
        ],
    );
    aws_ok(
        &server,
        &[
            "update-repository-name",
            "--old-name",
            "old-name",
            "--new-name",
            "new-name",
        ],
    );
    aws_ok(
        &server,
        &[
            "update-repository-description",
            "--repository-name",
            "new-name",
            "--repository-description",
            "renamed",
        ],
    );
    let arn = "arn:aws:codecommit:us-east-1:000000000000:new-name";
    aws_ok(
        &server,
        &["tag-resource", "--resource-arn", arn, "--tags", "stage=dev"],
    );
    aws_ok(
        &server,
        &[
            "untag-resource",
            "--resource-arn",
            arn,
            "--tag-keys",
            "team",
        ],
    );
    let tags = aws_ok(&server, &["list-tags-for-resource", "--resource-arn", arn]);
    assert_eq!(tags["tags"], serde_json::json!({"stage": "dev"}));
    let batch = aws_ok(
        &server,
        &[
            "batch-get-repositories",
            "--repository-names",
            "new-name",
            "old-name",
        ],
    );
    assert_eq!(batch["repositories"][0]["repositoryDescription"], "renamed");
    assert_eq!(
        batch["repositoriesNotFound"],
        serde_json::json!(["old-name"])
    );
    let missing = server.aws_of(
        "codecommit",
        &[
            "list-tags-for-resource",
            "--resource-arn",
            "arn:aws:codecommit:us-east-1:000000000000:gone",
        ],
    );
    assert!(
        missing.stderr.contains("RepositoryDoesNotExistException"),
        "{}",
        missing.stderr
    );

    // The renamed repository keeps its history; the default branch can move.
    let url = format!("{}/v1/repos/new-name", server.url);
    let work = clone(dir.path(), &url, "work");
    commit_and_push(&work, &[("a.txt", "a")], "A", "main");
    let other = commit_and_push(&work, &[("b.txt", "b")], "B", "develop");
    aws_ok(
        &server,
        &[
            "update-default-branch",
            "--repository-name",
            "new-name",
            "--default-branch-name",
            "develop",
        ],
    );
    let fresh = clone(dir.path(), &url, "fresh");
    assert_eq!(
        git_ok(&fresh, &["rev-parse", "HEAD"]),
        other,
        "a clone checks out the default branch"
    );

    // Another account and region: its own repositories, at the remote its clone URL names.
    let elsewhere = server.aws_service(
        "codecommit",
        "111111111111",
        "secret",
        "eu-west-1",
        &["create-repository", "--repository-name", "new-name"],
    );
    assert!(elsewhere.ok, "{}", elsewhere.stderr);
    let url = elsewhere.json["repositoryMetadata"]["cloneUrlHttp"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_eq!(
        url,
        format!("{}/v1/111111111111/eu-west-1/repos/new-name", server.url)
    );
    let theirs = clone(dir.path(), &url, "theirs");
    let pushed = commit_and_push(&theirs, &[("c.txt", "c")], "C", "main");
    let branch = server.aws_service(
        "codecommit",
        "111111111111",
        "secret",
        "eu-west-1",
        &[
            "get-branch",
            "--repository-name",
            "new-name",
            "--branch-name",
            "main",
        ],
    );
    assert_eq!(
        branch.json["branch"]["commitId"],
        pushed.as_str(),
        "{}",
        branch.stderr
    );
    let ours = aws_ok(
        &server,
        &[
            "get-branch",
            "--repository-name",
            "new-name",
            "--branch-name",
            "main",
        ],
    );
    assert_ne!(
        ours["branch"]["commitId"],
        pushed.as_str(),
        "accounts never share a repository"
    );
}
