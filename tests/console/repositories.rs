//! A CodeCommit source's commit in a real browser: the execution page links the Source action's
//! commit to its files, read through CodeCommit's API; a folder opens, a file shows its text.

use serde_json::json;

use crate::common::{poll, Server};
use crate::webdriver::Browser;
use crate::{console, screenshot};

#[test]
fn a_codecommit_sources_commit_links_to_its_files() {
    let s = Server::in_process(&["--action-duration", "0s"]);
    let created = s.aws_of(
        "codecommit",
        &["create-repository", "--repository-name", "site"],
    );
    assert!(created.ok, "{}", created.stderr);
    let put = |path: &str, text: &str, parent: Option<&str>| {
        let mut args = vec![
            "put-file",
            "--repository-name",
            "site",
            "--branch-name",
            "main",
            "--file-path",
            path,
            "--file-content",
            text,
            "--commit-message",
            "Add the site's pages",
        ];
        if let Some(p) = parent {
            args.extend(["--parent-commit-id", p]);
        }
        let out = s.aws_of("codecommit", &args);
        assert!(out.ok, "{}", out.stderr);
        out.json["commitId"].as_str().expect("commit").to_owned()
    };
    let first = put("index.html", "<h1>Home</h1>", None);
    let commit = put("pages/about.html", "<p>About us</p>", Some(&first));
    let (status, reply) = s.call(
        "CreatePipeline",
        json!({"pipeline": {
            "name": "site", "roleArn": "arn:aws:iam::000000000000:role/pipeline",
            "artifactStore": {"type": "S3", "location": "site-artifacts"},
            "stages": [
                {"name": "Source", "actions": [{"name": "Source",
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"},
                    "configuration": {"RepositoryName": "site", "BranchName": "main", "PollForSourceChanges": "false"},
                    "outputArtifacts": [{"name": "Src"}]}]},
                {"name": "Build", "actions": [{"name": "Build",
                    "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                    "configuration": {"ProjectName": "site"},
                    "inputArtifacts": [{"name": "Src"}]}]}
            ]}}),
    );
    assert_eq!(status, 200, "{reply}");
    let id = s.latest_execution("site");
    s.wait_for_execution("site", &id, "Succeeded");

    let browser = Browser::start(1300, 900);
    browser.goto(&console(&s, &format!("#/pipelines/site/executions/{id}")));
    let link = r#"article[data-action="Source"] a.commit"#;
    // Read in one go: the page redraws live, which would leave an element found earlier stale.
    browser.text_with(link, &[&commit[..8], "Add the site's pages"]);
    browser.click_on(link);
    browser.wait_for_text("#commit-message", "Add the site's pages");
    browser.wait_for(r#"tr[data-path="index.html"]"#);
    browser.click_on(r#"tr[data-path="pages"] a"#);
    browser.click_on(&poll("the about page's row", || {
        browser
            .find(r#"tr[data-path="pages/about.html"] a"#)
            .map(|_| r#"tr[data-path="pages/about.html"] a"#.to_owned())
    }));
    browser.wait_for_text("#file-content", "<p>About us</p>");
    screenshot(&browser, "console-commit-file.png");
}
