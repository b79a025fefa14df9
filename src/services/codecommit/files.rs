//! GetFile, GetFolder, PutFile, CreateCommit and GetDifferences: files read from and commits
//! written into the repository's git objects, so `git pull` sees what PutFile committed and
//! GetFile sees what `git push` sent. A commit moves its branch only if the branch is still
//! where the caller said (`parentCommitId`), and publishes the reference change as a push does.
//! Messages are the API reference's sentences where no capture of AWS's text was found.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use super::codes;
use super::events::{self, Change};
use super::git::{Edit, Entry, Signature};
use super::records::RepositoryRecord;
use super::repositories::{require, update};
use crate::call::Context;
use crate::error::AwsError;
use crate::state::AppState;

const HEADS: &str = "refs/heads/";

fn internal(e: String) -> AwsError {
    AwsError::internal(e)
}

fn invalid_path(path: &str) -> AwsError {
    AwsError::new(
        codes::INVALID_PATH,
        format!("The specified path {path} is not valid."),
    )
}

/// A path as git keeps it: no leading `/`, no `.`, `..` or empty parts, no `.git`.
fn clean_path(path: &str, folder: bool) -> Result<String, AwsError> {
    let trimmed = path.trim_start_matches('/').trim_end_matches('/');
    if trimmed.is_empty() {
        return if folder {
            Ok(String::new())
        } else {
            Err(invalid_path(path))
        };
    }
    let bad = trimmed.split('/').any(|part| {
        part.is_empty() || part == "." || part == ".." || part.eq_ignore_ascii_case(".git")
    }) || trimmed.contains('\0');
    if bad {
        return Err(invalid_path(path));
    }
    Ok(trimmed.to_owned())
}

fn mode_name(mode: &str) -> &'static str {
    match mode {
        "100755" => "EXECUTABLE",
        "120000" => "SYMLINK",
        _ => "NORMAL",
    }
}

fn git_mode(name: Option<&str>) -> Result<String, AwsError> {
    match name.unwrap_or("NORMAL") {
        "NORMAL" => Ok("100644".to_owned()),
        "EXECUTABLE" => Ok("100755".to_owned()),
        "SYMLINK" => Ok("120000".to_owned()),
        other => Err(AwsError::new(
            codes::INVALID_FILE_MODE,
            format!("The file mode {other} is not valid."),
        )),
    }
}

/// The commit a specifier (commit id, branch, tag) names; the default branch when none.
async fn commit_of(
    state: &AppState,
    ctx: &Context,
    repo: &RepositoryRecord,
    specifier: Option<&str>,
) -> Result<String, AwsError> {
    let wanted = specifier
        .map(str::to_owned)
        .or_else(|| repo.default_branch.clone())
        .ok_or_else(|| {
            AwsError::new(
                codes::COMMIT_DOES_NOT_EXIST,
                "The repository has no commits yet.",
            )
        })?;
    state
        .repositories
        .resolve(&ctx.account, &ctx.region, &repo.id, &wanted)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            AwsError::new(
                codes::COMMIT_DOES_NOT_EXIST,
                format!("Could not retrieve {wanted}"),
            )
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFileInput {
    repository_name: String,
    commit_specifier: Option<String>,
    file_path: String,
}

pub async fn get_file(
    state: &AppState,
    ctx: &Context,
    input: GetFileInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let path = clean_path(&input.file_path, false)?;
    let commit = commit_of(state, ctx, &repo, input.commit_specifier.as_deref()).await?;
    let git = &state.repositories;
    let entry = git
        .entries(&ctx.account, &ctx.region, &repo.id, &commit, &path, false)
        .await
        .map_err(internal)?
        .into_iter()
        .find(|e| e.kind == "blob" && e.path == path)
        .ok_or_else(|| {
            AwsError::new(
                codes::FILE_DOES_NOT_EXIST,
                "The specified file does not exist. Verify that you have used the correct file name, full path, and extension.",
            )
        })?;
    let content = git
        .blob(&ctx.account, &ctx.region, &repo.id, &entry.id)
        .await
        .map_err(internal)?;
    Ok(json!({
        "commitId": commit,
        "blobId": entry.id,
        "filePath": path,
        "fileMode": mode_name(&entry.mode),
        "fileSize": content.len(),
        "fileContent": base64::engine::general_purpose::STANDARD.encode(&content),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFolderInput {
    repository_name: String,
    commit_specifier: Option<String>,
    folder_path: String,
}

pub async fn get_folder(
    state: &AppState,
    ctx: &Context,
    input: GetFolderInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let folder = clean_path(&input.folder_path, true)?;
    let commit = commit_of(state, ctx, &repo, input.commit_specifier.as_deref()).await?;
    let git = &state.repositories;
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    // The folder's own tree id is its entry in its parent (the commit's tree for the root).
    let tree_id = if folder.is_empty() {
        git.commit(account, region, &repo.id, &commit)
            .await
            .map_err(internal)?
            .map(|c| c.tree)
    } else {
        git.entries(account, region, &repo.id, &commit, &folder, false)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|e| e.kind == "tree" && e.path == folder)
            .map(|e| e.id)
    };
    let Some(tree_id) = tree_id else {
        return Err(AwsError::new(
            codes::FOLDER_DOES_NOT_EXIST,
            "The specified folder does not exist. Either the folder name is not correct, or you did not enter the full path to the folder.",
        ));
    };
    let entries = git
        .entries(account, region, &repo.id, &commit, &folder, true)
        .await
        .map_err(internal)?;
    let absolute = |e: &Entry| {
        if folder.is_empty() {
            e.path.clone()
        } else {
            format!("{folder}/{}", e.path)
        }
    };
    let of_kind = |pick: &dyn Fn(&Entry) -> bool, show: &dyn Fn(&Entry) -> Value| -> Vec<Value> {
        entries.iter().filter(|e| pick(e)).map(show).collect()
    };
    Ok(json!({
        "commitId": commit,
        "folderPath": if folder.is_empty() { "/".to_owned() } else { folder.clone() },
        "treeId": tree_id,
        "subFolders": of_kind(&|e| e.kind == "tree", &|e| json!({"treeId": e.id, "absolutePath": absolute(e), "relativePath": e.path})),
        "files": of_kind(&|e| e.kind == "blob" && e.mode != "120000", &|e| json!({"blobId": e.id, "absolutePath": absolute(e), "relativePath": e.path, "fileMode": mode_name(&e.mode)})),
        "symbolicLinks": of_kind(&|e| e.kind == "blob" && e.mode == "120000", &|e| json!({"blobId": e.id, "absolutePath": absolute(e), "relativePath": e.path, "fileMode": "SYMLINK"})),
        "subModules": of_kind(&|e| e.kind == "commit", &|e| json!({"commitId": e.id, "absolutePath": absolute(e), "relativePath": e.path})),
    }))
}

fn decode(content: &str) -> Result<Vec<u8>, AwsError> {
    base64::engine::general_purpose::STANDARD
        .decode(content)
        .map_err(|e| AwsError::serialization(format!("fileContent is not base64: {e}")))
}

/// Where the branch is now, checked against what the caller believes (`parentCommitId`).
async fn check_parent(
    state: &AppState,
    ctx: &Context,
    repo: &RepositoryRecord,
    branch: &str,
    parent: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let head = state
        .repositories
        .resolve(
            &ctx.account,
            &ctx.region,
            &repo.id,
            &format!("{HEADS}{branch}"),
        )
        .await
        .map_err(internal)?;
    let any_commit = !state
        .repositories
        .references(&ctx.account, &ctx.region, &repo.id)
        .await
        .map_err(internal)?
        .is_empty();
    match (&head, parent) {
        (Some(head), Some(p)) => {
            let named = state
                .repositories
                .resolve(&ctx.account, &ctx.region, &repo.id, p)
                .await
                .map_err(internal)?
                .ok_or_else(|| {
                    AwsError::new(
                        codes::PARENT_COMMIT_DOES_NOT_EXIST,
                        "The parent commit ID is not valid because it does not exist. The specified parent commit ID does not exist in the specified branch of the repository.",
                    )
                })?;
            if &named != head {
                return Err(AwsError::new(
                    codes::PARENT_COMMIT_ID_OUTDATED,
                    "The file could not be added because the provided parent commit ID is not the current tip of the specified branch. To view the full commit ID of the current head of the branch, use GetBranch.",
                ));
            }
            Ok(Some(named))
        }
        (Some(_), None) => Err(AwsError::new(
            codes::PARENT_COMMIT_ID_REQUIRED,
            "A parent commit ID is required. To view the full commit ID of a branch in a repository, use GetBranch or a Git command (for example, git pull or git log).",
        )),
        // A new branch: from the parent given, else an empty history (only in an empty repository).
        (None, Some(p)) => state
            .repositories
            .resolve(&ctx.account, &ctx.region, &repo.id, p)
            .await
            .map_err(internal)?
            .map(Some)
            .ok_or_else(|| {
                AwsError::new(
                    codes::PARENT_COMMIT_DOES_NOT_EXIST,
                    "The parent commit ID is not valid because it does not exist. The specified parent commit ID does not exist in the specified branch of the repository.",
                )
            }),
        (None, None) if any_commit => Err(AwsError::new(
            codes::PARENT_COMMIT_ID_REQUIRED,
            "A parent commit ID is required. To view the full commit ID of a branch in a repository, use GetBranch or a Git command (for example, git pull or git log).",
        )),
        (None, None) => Ok(None),
    }
}

/// Writes the commit and moves the branch to it if nobody moved it meanwhile; then what a
/// push would do: the default branch of an empty repository, and the reference event.
async fn commit_to_branch(
    state: &AppState,
    ctx: &Context,
    repo: &RepositoryRecord,
    branch: &str,
    parent: Option<&str>,
    edits: &[Edit],
    by: &Signature,
) -> Result<(String, String, Vec<String>), AwsError> {
    let git = &state.repositories;
    let (commit, tree, blobs) = git
        .write_commit(&ctx.account, &ctx.region, &repo.id, parent, edits, by)
        .await
        .map_err(internal)?;
    let name = format!("{HEADS}{branch}");
    git.compare_and_set(&ctx.account, &ctx.region, &repo.id, &name, &commit, parent)
        .await
        .map_err(|_| {
            AwsError::new(
                codes::PARENT_COMMIT_ID_OUTDATED,
                "The file could not be added because the provided parent commit ID is not the current tip of the specified branch. To view the full commit ID of the current head of the branch, use GetBranch.",
            )
        })?;
    let mut repo = repo.clone();
    if repo.default_branch.is_none() {
        let _ = git
            .set_head(&ctx.account, &ctx.region, &repo.id, branch)
            .await;
        repo = update(state, ctx, &repo.name, |r| {
            r.default_branch = Some(branch.to_owned());
            Ok(())
        })
        .await?;
    }
    let change = match parent {
        Some(p) => Change {
            name,
            old: Some(p.to_owned()),
            new: Some(commit.clone()),
        },
        None => Change::created(&name, &commit),
    };
    events::publish(state, ctx, &repo, &[change]);
    Ok((commit, tree, blobs))
}

fn signature(name: Option<String>, email: Option<String>, message: Option<String>) -> Signature {
    let name = name.unwrap_or_else(|| "codepipeline-local".to_owned());
    Signature {
        email: email.unwrap_or_else(|| format!("{name}@codepipeline.local")),
        name,
        message: message.unwrap_or_default(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutFileInput {
    repository_name: String,
    branch_name: String,
    file_content: String,
    file_path: String,
    file_mode: Option<String>,
    parent_commit_id: Option<String>,
    commit_message: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

pub async fn put_file(
    state: &AppState,
    ctx: &Context,
    input: PutFileInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let path = clean_path(&input.file_path, false)?;
    let content = decode(&input.file_content)?;
    if content.is_empty() {
        // AWS's text, captured (aws-tools-for-powershell#54).
        return Err(AwsError::new(
            codes::FILE_CONTENT_REQUIRED,
            "The file is empty. Empty files cannot be added to a repository.",
        ));
    }
    let mode = git_mode(input.file_mode.as_deref())?;
    let parent = check_parent(
        state,
        ctx,
        &repo,
        &input.branch_name,
        input.parent_commit_id.as_deref(),
    )
    .await?;
    if let Some(p) = &parent {
        let git = &state.repositories;
        let same = git
            .entries(&ctx.account, &ctx.region, &repo.id, p, &path, false)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|e| e.path == path && e.kind == "blob");
        if let Some(existing) = same {
            let old = git
                .blob(&ctx.account, &ctx.region, &repo.id, &existing.id)
                .await
                .map_err(internal)?;
            if old == content && existing.mode == mode {
                return Err(AwsError::new(
                    codes::SAME_FILE_CONTENT,
                    "The file was not added or updated because the content of the file is exactly the same as the content of that file in the repository and branch that you specified.",
                ));
            }
        }
    }
    let by = signature(
        input.name,
        input.email,
        input
            .commit_message
            .or_else(|| Some(format!("Added {path}"))),
    );
    let edit = Edit::Put {
        path,
        mode,
        content,
    };
    let (commit, tree, blobs) = commit_to_branch(
        state,
        ctx,
        &repo,
        &input.branch_name,
        parent.as_deref(),
        &[edit],
        &by,
    )
    .await?;
    Ok(json!({
        "commitId": commit,
        "blobId": blobs.first().cloned().unwrap_or_default(),
        "treeId": tree,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutEntry {
    file_path: String,
    file_mode: Option<String>,
    file_content: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathEntry {
    file_path: String,
    file_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCommitInput {
    repository_name: String,
    branch_name: String,
    parent_commit_id: Option<String>,
    author_name: Option<String>,
    email: Option<String>,
    commit_message: Option<String>,
    #[serde(default)]
    put_files: Vec<PutEntry>,
    #[serde(default)]
    delete_files: Vec<PathEntry>,
    #[serde(default)]
    set_file_modes: Vec<PathEntry>,
}

pub async fn create_commit(
    state: &AppState,
    ctx: &Context,
    input: CreateCommitInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    if input.put_files.is_empty()
        && input.delete_files.is_empty()
        && input.set_file_modes.is_empty()
    {
        return Err(AwsError::new(
            codes::FILE_ENTRY_REQUIRED,
            "The commit cannot be created because no files have been specified as added, updated, or changed (PutFile or DeleteFile) for the commit.",
        ));
    }
    let parent = check_parent(
        state,
        ctx,
        &repo,
        &input.branch_name,
        input.parent_commit_id.as_deref(),
    )
    .await?;
    let git = &state.repositories;
    let exists = |path: String| {
        let parent = parent.clone();
        let repo_id = repo.id.clone();
        async move {
            match parent {
                Some(p) => git
                    .entries(&ctx.account, &ctx.region, &repo_id, &p, &path, false)
                    .await
                    .map(|list| list.into_iter().find(|e| e.path == path)),
                None => Ok(None),
            }
        }
    };
    let mut edits = Vec::new();
    // Each put in request order, and whether it adds a file (else it updates one).
    let mut puts: Vec<(bool, String, String)> = Vec::new();
    let mut deleted = Vec::new();
    for put in &input.put_files {
        let path = clean_path(&put.file_path, false)?;
        let content = decode(put.file_content.as_deref().ok_or_else(|| {
            AwsError::new(
                codes::SOURCE_FILE_OR_CONTENT_REQUIRED,
                "The commit cannot be created because no source files or file content have been specified for the commit.",
            )
        })?)?;
        let mode = git_mode(put.file_mode.as_deref())?;
        let was = exists(path.clone()).await.map_err(internal)?;
        puts.push((was.is_none(), path.clone(), mode.clone()));
        edits.push(Edit::Put {
            path,
            mode,
            content,
        });
    }
    for del in &input.delete_files {
        let path = clean_path(&del.file_path, false)?;
        let Some(was) = exists(path.clone()).await.map_err(internal)? else {
            return Err(AwsError::new(
                codes::FILE_DOES_NOT_EXIST,
                "The specified file does not exist. Verify that you have used the correct file name, full path, and extension.",
            ));
        };
        deleted.push(
            json!({"absolutePath": path, "blobId": was.id, "fileMode": mode_name(&was.mode)}),
        );
        edits.push(Edit::Delete { path });
    }
    for set in &input.set_file_modes {
        let path = clean_path(&set.file_path, false)?;
        let mode = git_mode(set.file_mode.as_deref())?;
        edits.push(Edit::Mode { path, mode });
    }
    let by = signature(input.author_name, input.email, input.commit_message);
    let (commit, tree, blobs) = commit_to_branch(
        state,
        ctx,
        &repo,
        &input.branch_name,
        parent.as_deref(),
        &edits,
        &by,
    )
    .await?;
    // The blob ids come back in the order of the puts.
    let (mut added, mut updated) = (Vec::new(), Vec::new());
    for ((is_new, path, mode), blob) in puts.into_iter().zip(blobs) {
        let file = json!({"absolutePath": path, "blobId": blob, "fileMode": mode_name(&mode)});
        if is_new {
            added.push(file);
        } else {
            updated.push(file);
        }
    }
    Ok(json!({
        "commitId": commit,
        "treeId": tree,
        "filesAdded": added,
        "filesUpdated": updated,
        "filesDeleted": deleted,
    }))
}

#[derive(Deserialize)]
pub struct DifferencesInput {
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "beforeCommitSpecifier")]
    before: Option<String>,
    #[serde(rename = "afterCommitSpecifier")]
    after: String,
    #[serde(rename = "beforePath")]
    before_path: Option<String>,
    #[serde(rename = "afterPath")]
    after_path: Option<String>,
    #[serde(rename = "MaxResults")]
    max_results: Option<usize>,
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
}

pub async fn get_differences(
    state: &AppState,
    ctx: &Context,
    input: DifferencesInput,
) -> Result<Value, AwsError> {
    let repo = require(state, ctx, &input.repository_name)?;
    let after = commit_of(state, ctx, &repo, Some(&input.after)).await?;
    let before = match &input.before {
        Some(b) => Some(commit_of(state, ctx, &repo, Some(b)).await?),
        None => None,
    };
    let under = |p: &Option<String>| -> Result<Option<String>, AwsError> {
        p.as_deref()
            .map(|p| clean_path(p, true))
            .transpose()
            .map(|o| o.filter(|p| !p.is_empty()))
    };
    let (before_path, after_path) = (under(&input.before_path)?, under(&input.after_path)?);
    let inside = |path: &str, folder: &Option<String>| {
        folder
            .as_deref()
            .is_none_or(|f| path == f || path.starts_with(&format!("{f}/")))
    };
    let changed = state
        .repositories
        .differences(
            &ctx.account,
            &ctx.region,
            &repo.id,
            before.as_deref(),
            &after,
        )
        .await
        .map_err(internal)?;
    let blob = |id: &str, path: &str, mode: &str| json!({"blobId": id, "path": path, "mode": mode});
    let differences: Vec<Value> = changed
        .iter()
        .filter(|c| inside(&c.path, &before_path) || inside(&c.path, &after_path))
        .map(|c| {
            let mut d = json!({"changeType": c.status.to_string()});
            if c.status != 'A' {
                d["beforeBlob"] = blob(&c.old_id, &c.path, &c.old_mode);
            }
            if c.status != 'D' {
                d["afterBlob"] = blob(&c.new_id, &c.path, &c.new_mode);
            }
            d
        })
        .collect();
    super::page(
        "differences",
        "NextToken",
        &differences,
        input.next_token.as_deref(),
        input.max_results.unwrap_or(100).max(1),
    )
}
