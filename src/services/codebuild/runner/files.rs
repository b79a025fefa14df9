//! A build's files: input artifacts unzipped into folders (the zip crate refuses entries that
//! would land outside) or, for a `CODEBUILD_CLONE_REF` source, cloned with git, and the output artifact zipped from the files the buildspec's
//! `artifacts` globs select (`**` across folders), under `base-directory`, minus
//! `exclude-paths`, flattened with `discard-paths`. `base-directory` may name the build's
//! variables, as in CodeBuild's multiple-output sample (`$CODEBUILD_SRC_DIR_source2`).

use std::io::{Read as _, Write as _};
use std::path::Path;

use super::buildspec::Artifacts;
use crate::services::artifacts::ArtifactStore;

pub fn unzip_object(
    artifacts: &ArtifactStore,
    bucket: &str,
    key: &str,
    dir: &Path,
) -> Result<(), String> {
    let objects = artifacts.objects();
    let info = objects
        .head(bucket, key)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("s3://{bucket}/{key} does not exist"))?;
    let mut bytes = Vec::new();
    objects
        .open(&info)
        .map_err(|e| e.to_string())?
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if let Some(reference) = clone_reference(&bytes) {
        return clone(&reference, dir);
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    archive.extract(dir).map_err(|e| e.to_string())
}

/// A `CODEBUILD_CLONE_REF` source artifact: the repository's folder and the commit to check out.
struct CloneReference {
    repository: String,
    commit: String,
    branch: String,
}

fn clone_reference(bytes: &[u8]) -> Option<CloneReference> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v.get("codepipelineLocalCloneRef")?;
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    Some(CloneReference {
        repository: text("repository")?,
        commit: text("commitId")?,
        branch: text("branch").unwrap_or_default(),
    })
}

/// A full clone, as CodeBuild makes one for a `CODEBUILD_CLONE_REF` source: the history, with
/// the branch checked out at the commit.
fn clone(r: &CloneReference, dir: &Path) -> Result<(), String> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    if !hex(&r.commit) {
        return Err(format!("{} is not a commit id", r.commit));
    }
    let run = |args: &[&str], at: &Path| -> Result<(), String> {
        let out = std::process::Command::new("git")
            .current_dir(at)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    };
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    let target = dir.display().to_string();
    run(
        &[
            "clone",
            "--quiet",
            "--no-checkout",
            "--",
            &r.repository,
            &target,
        ],
        parent,
    )?;
    let branch_ok = !r.branch.is_empty()
        && !r.branch.starts_with('-')
        && r.branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'));
    if branch_ok {
        run(&["checkout", "--quiet", "-B", &r.branch, &r.commit], dir)
    } else {
        run(&["checkout", "--quiet", &r.commit], dir)
    }
}

fn globs(patterns: &[String]) -> Result<globset::GlobSet, String> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid artifacts pattern {p}: {e}"))?;
        set.add(glob);
    }
    set.build().map_err(|e| e.to_string())
}

/// The selected files as a zip; `env` is the build's environment, for `base-directory`.
pub fn collect_zip(
    src: &Path,
    spec: &Artifacts,
    env: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let base = match &spec.base_directory {
        Some(b) => {
            let lookup = |name: &str| -> Option<String> {
                env.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            src.join(shellexpand::env_with_context_no_errors(b, lookup).as_ref())
        }
        None => src.to_path_buf(),
    };
    if !base.is_dir() {
        return Err(format!(
            "no matching base directory path found for {}",
            spec.base_directory.as_deref().unwrap_or_default()
        ));
    }
    let include = globs(&spec.files)?;
    let exclude = globs(&spec.exclude_paths)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut count = 0;
    for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&base) else {
            continue;
        };
        let name = relative.to_string_lossy().replace('\\', "/");
        if !include.is_match(&name) || exclude.is_match(&name) {
            continue;
        }
        let stored = if spec.discard_paths {
            relative
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or(name)
        } else {
            name
        };
        let bytes = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
        zip.start_file(stored, zip::write::SimpleFileOptions::default())
            .map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "no matching artifact paths found for {}",
            spec.files.join(", ")
        ));
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}
