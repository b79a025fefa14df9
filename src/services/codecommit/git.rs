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

/// The space of the repositories standing for connections' (GitHub, GitLab, Bitbucket) ones,
/// pushed to at `/_git/<owner>/<repo>`, apart from every account's CodeCommit repositories.
pub const CONNECTIONS: &str = "_connections";

fn is_name(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 100
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `owner` and `repo` of a connection's repository (a `.git` suffix names the same one), if
/// both are names that can be folders.
pub fn connection_names(owner: &str, repo: &str) -> Option<(String, String)> {
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (is_name(owner) && is_name(repo)).then(|| (owner.to_owned(), repo.to_owned()))
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

/// Runs `c`, feeding it `input`; its output, or what git said went wrong.
async fn output_with(mut c: Command, input: &[u8]) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncWriteExt as _;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .await
            .map_err(|e| format!("cannot feed git: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
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

    /// The connection repository `owner/repo` (a `FullRepositoryId`), if it has been pushed to.
    pub fn connection(&self, full_id: &str) -> Option<(String, String)> {
        let (owner, repo) = full_id.split_once('/')?;
        let (owner, repo) = connection_names(owner, repo)?;
        self.path(CONNECTIONS, &owner, &repo)
            .is_dir()
            .then_some((owner, repo))
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

/// One entry of a tree: its mode (`100644`), kind (`blob`, `tree`, `commit`), object and path.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub mode: String,
    pub kind: String,
    pub id: String,
    pub path: String,
}

/// One change of a new commit.
#[derive(Debug, Clone)]
pub enum Edit {
    Put {
        path: String,
        mode: String,
        content: Vec<u8>,
    },
    Delete {
        path: String,
    },
    Mode {
        path: String,
        mode: String,
    },
}

/// Who makes a new commit, and why.
#[derive(Debug, Clone)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub message: String,
}

/// One changed path between two commits (`git diff-tree --raw`).
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    pub status: char,
    pub old_mode: String,
    pub new_mode: String,
    pub old_id: String,
    pub new_id: String,
    pub path: String,
}

const NO_OBJECT: &str = "0000000000000000000000000000000000000000";

impl Repositories {
    /// The entries of `path` in `commit`'s tree: the folder's children, or the one file.
    pub async fn entries(
        &self,
        account: &str,
        region: &str,
        id: &str,
        commit: &str,
        path: &str,
        folder: bool,
    ) -> Result<Vec<Entry>, String> {
        if !is_revision(commit) {
            return Err(format!("{commit} is not a commit id"));
        }
        let mut c = git(&self.path(account, region, id));
        let spec = if folder && !path.is_empty() {
            format!("{commit}:{path}")
        } else {
            commit.to_owned()
        };
        c.args(["ls-tree", "-z", "--full-tree", &spec]);
        if !folder {
            c.args(["--", path]);
        }
        let raw = output(c).await.unwrap_or_default();
        Ok(String::from_utf8_lossy(&raw)
            .split('\0')
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                let mut m = meta.split(' ');
                Some(Entry {
                    mode: m.next()?.to_owned(),
                    kind: m.next()?.to_owned(),
                    id: m.next()?.to_owned(),
                    path: path.to_owned(),
                })
            })
            .collect())
    }

    pub async fn blob(
        &self,
        account: &str,
        region: &str,
        id: &str,
        blob: &str,
    ) -> Result<Vec<u8>, String> {
        if !is_revision(blob) {
            return Err(format!("{blob} is not an object id"));
        }
        let mut c = git(&self.path(account, region, id));
        c.args(["cat-file", "blob", blob]);
        output(c).await
    }

    /// A new commit of `edits` on `parent` (none: the first commit): its id, tree, and the
    /// blob each put wrote. Built in an index of its own, so nothing else is touched.
    pub async fn write_commit(
        &self,
        account: &str,
        region: &str,
        id: &str,
        parent: Option<&str>,
        edits: &[Edit],
        by: &Signature,
    ) -> Result<(String, String, Vec<String>), String> {
        let dir = self.path(account, region, id);
        let index = dir.join(format!("index-{}", uuid::Uuid::new_v4().simple()));
        let _scratch = Scratch(index.clone());
        let with_index = |args: &[&str]| {
            let mut c = git(&dir);
            c.env("GIT_INDEX_FILE", &index).args(args);
            c
        };
        match parent {
            Some(p) => output(with_index(&["read-tree", p])).await?,
            None => output(with_index(&["read-tree", "--empty"])).await?,
        };
        // Every change as an `--index-info` line (a zero mode removes the path): the form
        // that works without a work tree.
        let mut blobs = Vec::new();
        let mut lines = String::new();
        for edit in edits {
            match edit {
                Edit::Put {
                    path,
                    mode,
                    content,
                } => {
                    let blob =
                        output_with(with_index(&["hash-object", "-w", "--stdin"]), content).await?;
                    let blob = String::from_utf8_lossy(&blob).trim().to_owned();
                    lines += &format!("{mode} {blob}\t{path}\n");
                    blobs.push(blob);
                }
                Edit::Delete { path } => lines += &format!("0 {NO_OBJECT}\t{path}\n"),
                Edit::Mode { path, mode } => {
                    let Some(p) = parent else {
                        return Err(format!("{path} does not exist"));
                    };
                    let mut c = git(&dir);
                    c.args(["rev-parse", "--verify", "--quiet", &format!("{p}:{path}")]);
                    let blob = output(c)
                        .await
                        .map_err(|_| format!("{path} does not exist"))?;
                    let blob = String::from_utf8_lossy(&blob).trim().to_owned();
                    lines += &format!("{mode} {blob}\t{path}\n");
                }
            }
        }
        output_with(
            with_index(&["update-index", "--index-info"]),
            lines.as_bytes(),
        )
        .await?;
        let tree = output(with_index(&["write-tree"])).await?;
        let tree = String::from_utf8_lossy(&tree).trim().to_owned();
        let mut commit = git(&dir);
        commit
            .env("GIT_AUTHOR_NAME", &by.name)
            .env("GIT_AUTHOR_EMAIL", &by.email)
            .env("GIT_COMMITTER_NAME", &by.name)
            .env("GIT_COMMITTER_EMAIL", &by.email)
            .args(["commit-tree", &tree]);
        if let Some(p) = parent {
            commit.args(["-p", p]);
        }
        let made = output_with(commit, by.message.as_bytes()).await?;
        Ok((
            String::from_utf8_lossy(&made).trim().to_owned(),
            tree,
            blobs,
        ))
    }

    /// Moves `name` to `new` only if it is still at `old` (none: only if it does not exist),
    /// so two writers never lose each other's commits.
    pub async fn compare_and_set(
        &self,
        account: &str,
        region: &str,
        id: &str,
        name: &str,
        new: &str,
        old: Option<&str>,
    ) -> Result<(), String> {
        let mut c = git(&self.path(account, region, id));
        c.args([
            "update-ref",
            "--end-of-options",
            name,
            new,
            old.unwrap_or(NO_OBJECT),
        ]);
        output(c).await.map(|_| ())
    }

    /// What differs between two commits (`before` none: everything `after` has).
    pub async fn differences(
        &self,
        account: &str,
        region: &str,
        id: &str,
        before: Option<&str>,
        after: &str,
    ) -> Result<Vec<Changed>, String> {
        let mut c = git(&self.path(account, region, id));
        c.args(["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id"]);
        match before {
            Some(b) => c.args([b, after]),
            None => c.args(["--root", after]),
        };
        let raw = output(c).await?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let mut fields = text.split('\0');
        let mut out = Vec::new();
        while let Some(meta) = fields.next() {
            let Some(meta) = meta.strip_prefix(':') else {
                continue;
            };
            let Some(path) = fields.next() else { break };
            let m: Vec<&str> = meta.split(' ').collect();
            if m.len() < 5 {
                continue;
            }
            out.push(Changed {
                old_mode: m[0].to_owned(),
                new_mode: m[1].to_owned(),
                old_id: m[2].to_owned(),
                new_id: m[3].to_owned(),
                status: m[4].chars().next().unwrap_or('M'),
                path: path.to_owned(),
            });
        }
        Ok(out)
    }
}

/// A file that goes when its work is done, however that ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
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
