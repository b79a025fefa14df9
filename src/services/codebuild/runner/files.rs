//! A build's files: input artifacts unzipped into folders (the zip crate refuses entries that
//! would land outside), and the output artifact zipped from the files the buildspec's
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
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    archive.extract(dir).map_err(|e| e.to_string())
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
