//! The bare git repositories behind CodeCommit's, under `<root>/<account>/<region>/<id>.git`
//! (by repository id, so a rename moves nothing and no name ever becomes a path), and what
//! the service asks of them, through git itself: create, read references, describe a commit,
//! archive a tree as a zip. Every git this runs ignores the user's and the system's git
//! configuration, so a developer's `~/.gitconfig` (hooks, signing, aliases) changes nothing.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

/// A reference of a repository: its full name (`refs/heads/main`) and commit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub name: String,
    pub commit: String,
}

/// A commit as CodeCommit describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub id: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// Epoch seconds and the `+hhmm` offset, as git keeps them.
    pub author_date: (i64, String),
    pub committer_name: String,
    pub committer_email: String,
    pub committer_date: (i64, String),
}

/// Where repositories live, shared by the API, the git remote and pipelines' sources.
#[derive(Debug, Clone)]
pub struct Repositories {
    root: PathBuf,
}

/// A git command with this server's isolation from the machine's git configuration.
pub fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn output(mut c: Command) -> Result<Vec<u8>, String> {
    let out = c
        .output()
        .await
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A commit id or reference name git may be given on a command line: never an option.
fn is_revision(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'))
}

impl Repositories {
    pub fn new(root: PathBuf) -> Self {
        Repositories { root }
    }

    /// The folder `git http-backend` serves an account's repositories from.
    pub fn project_root(&self, account: &str, region: &str) -> PathBuf {
        self.root.join(account).join(region)
    }

    pub fn path(&self, account: &str, region: &str, id: &str) -> PathBuf {
        self.project_root(account, region).join(format!("{id}.git"))
    }

    /// Creates an empty bare repository that accepts pushes over HTTP.
    pub async fn create(&self, account: &str, region: &str, id: &str) -> Result<(), String> {
        let dir = self.path(account, region, id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut init = git(&dir);
        init.args(["init", "--bare", "--quiet", "--initial-branch=main", "."]);
        output(init).await?;
        let mut config = git(&dir);
        config.args(["config", "http.receivepack", "true"]);
        output(config).await?;
        Ok(())
    }

    pub fn remove(&self, account: &str, region: &str, id: &str) {
        let _ = std::fs::remove_dir_all(self.path(account, region, id));
    }

    /// Every branch and tag, sorted by name.
    pub async fn references(
        &self,
        account: &str,
        region: &str,
        id: &str,
    ) -> Result<Vec<Reference>, String> {
        let mut c = git(&self.path(account, region, id));
        c.args([
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/heads",
            "refs/tags",
        ]);
        let text = String::from_utf8_lossy(&output(c).await?).into_owned();
        let mut refs: Vec<Reference> = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(commit, name)| Reference {
                name: name.to_owned(),
                commit: commit.to_owned(),
            })
            .collect();
        refs.sort();
        Ok(refs)
    }

    /// The commit a branch, tag or commit id names, if it names one.
    pub async fn resolve(
        &self,
        account: &str,
        region: &str,
        id: &str,
        revision: &str,
    ) -> Result<Option<String>, String> {
        if !is_revision(revision) {
            return Ok(None);
        }
        let mut c = git(&self.path(account, region, id));
        c.args([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{revision}^{{commit}}"),
        ]);
        match output(c).await {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_owned())),
            Err(_) => Ok(None),
        }
    }

    /// The commit `commit` (a full or short id), if the repository has it.
    pub async fn commit(
        &self,
        account: &str,
        region: &str,
        id: &str,
        commit: &str,
    ) -> Result<Option<Commit>, String> {
        let Some(full) = self.resolve(account, region, id, commit).await? else {
            return Ok(None);
        };
        let mut c = git(&self.path(account, region, id));
        // Fields apart by NUL; the message, last, may hold anything else.
        c.args([
            "show",
            "-s",
            "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at %ai%x00%cn%x00%ce%x00%ct %ci%x00%B",
            &full,
        ]);
        let text = String::from_utf8_lossy(&output(c).await?).into_owned();
        let f: Vec<&str> = text.splitn(10, '\0').collect();
        if f.len() < 10 {
            return Err(format!("git describes commit {full} oddly"));
        }
        let date = |s: &str| -> (i64, String) {
            let mut parts = s.split(' ');
            let epoch = parts.next().and_then(|e| e.parse().ok()).unwrap_or(0);
            let zone = parts.next_back().unwrap_or("+0000").to_owned();
            (epoch, zone)
        };
        Ok(Some(Commit {
            id: f[0].to_owned(),
            tree: f[1].to_owned(),
            parents: f[2].split_whitespace().map(str::to_owned).collect(),
            author_name: f[3].to_owned(),
            author_email: f[4].to_owned(),
            author_date: date(f[5]),
            committer_name: f[6].to_owned(),
            committer_email: f[7].to_owned(),
            committer_date: date(f[8]),
            message: f[9].trim_end_matches('\n').to_owned() + "\n",
        }))
    }

    /// The commit's tree as a zip, as CodePipeline's `CODE_ZIP` source artifact holds it.
    pub async fn archive(
        &self,
        account: &str,
        region: &str,
        id: &str,
        commit: &str,
    ) -> Result<Vec<u8>, String> {
        if !is_revision(commit) {
            return Err(format!("{commit} is not a commit id"));
        }
        let mut c = git(&self.path(account, region, id));
        c.args(["archive", "--format=zip", commit]);
        output(c).await
    }

    /// Points the repository's HEAD (what a clone checks out) at `branch`.
    pub async fn set_head(
        &self,
        account: &str,
        region: &str,
        id: &str,
        branch: &str,
    ) -> Result<(), String> {
        let mut c = git(&self.path(account, region, id));
        c.args(["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")]);
        output(c).await.map(|_| ())
    }

    /// Creates, moves or (with `None`) deletes a reference.
    pub async fn update_ref(
        &self,
        account: &str,
        region: &str,
        id: &str,
        name: &str,
        commit: Option<&str>,
    ) -> Result<(), String> {
        let mut c = git(&self.path(account, region, id));
        match commit {
            Some(commit) => c.args(["update-ref", "--end-of-options", name, commit]),
            None => c.args(["update-ref", "-d", "--end-of-options", name]),
        };
        output(c).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::is_revision;

    #[test]
    fn only_plain_revisions_reach_a_git_command_line() {
        assert!(is_revision("main"));
        assert!(is_revision("feature/x-1.2"));
        assert!(is_revision("0123abcd"));
        assert!(!is_revision("--upload-pack=evil"));
        assert!(!is_revision("a b"));
        assert!(!is_revision(""));
        assert!(!is_revision("main~1"));
    }
}
