//! Which files make up the store: `<data-dir>/store.manifest` names the active sled tree
//! (`store-<N>/`), the frozen one being written out (if any) and the tables (`table-<N>.tbl`),
//! oldest first. It is replaced whole and durably (written beside, synced, renamed over, folder
//! synced), so a crash leaves either the old list or the new one; files it does not name are
//! leftovers of an interrupted step and are removed at open.
//!
//! Data folders from before layers name one plain tree in `store.current`, or keep it in the
//! folder itself; that tree becomes the frozen layer of the first manifest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};

const MANIFEST: &str = "store.manifest";
/// What data folders before layers used to name their one tree.
const POINTER: &str = "store.current";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    pub active: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<u64>,
    /// The frozen tree is from before layers: values without the put/tombstone byte.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frozen_plain: bool,
    #[serde(default)]
    pub tables: Vec<u64>,
    /// Trees numbered from this one on are logs of batches; those before (and all, when
    /// absent: data folders from before logs) hold a record per key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_log: Option<u64>,
    /// The next unused `N`, for trees and tables alike.
    pub next: u64,
}

impl Manifest {
    /// A fresh number for a tree or table.
    pub fn take_next(&mut self) -> u64 {
        let n = self.next;
        self.next += 1;
        n
    }

    pub fn is_log(&self, tree: u64) -> bool {
        self.first_log.is_some_and(|first| tree >= first)
    }
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |e| StoreError(format!("{what}: {e}"))
}

pub(super) fn tree_path(root: &Path, n: u64) -> PathBuf {
    if n == 0 {
        root.to_path_buf()
    } else {
        root.join(format!("store-{n}"))
    }
}

pub(super) fn table_path(root: &Path, n: u64) -> PathBuf {
    root.join(format!("table-{n}.tbl"))
}

/// The files sled keeps in a folder: what a tree in the data folder's root consists of.
fn is_root_tree(root: &Path) -> bool {
    root.join("conf").is_file() && root.join("db").is_file()
}

/// Reads the manifest, or makes the first one (taking in a tree from before layers).
pub(super) fn load(root: &Path) -> StoreResult<Manifest> {
    let path = root.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => {
            return serde_json::from_slice(&bytes)
                .map_err(|e| StoreError(format!("cannot read {}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError(format!("cannot read {}: {e}", path.display()))),
    }
    let pointed = std::fs::read_to_string(root.join(POINTER))
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    let old = pointed.or_else(|| is_root_tree(root).then_some(0));
    let active = old.map_or(1, |n| n + 1);
    let manifest = Manifest {
        active,
        frozen: old,
        frozen_plain: old.is_some(),
        tables: Vec::new(),
        first_log: Some(active),
        next: active + 1,
    };
    save(root, &manifest)?;
    let _ = std::fs::remove_file(root.join(POINTER));
    Ok(manifest)
}

/// Replaces the manifest durably.
pub(super) fn save(root: &Path, manifest: &Manifest) -> StoreResult<()> {
    let temporary = root.join(format!("{MANIFEST}.next"));
    let bytes = serde_json::to_vec(manifest).map_err(|e| StoreError(e.to_string()))?;
    std::fs::write(&temporary, bytes)
        .map_err(io(format!("cannot write {}", temporary.display())))?;
    std::fs::File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot sync {}", temporary.display())))?;
    std::fs::rename(&temporary, root.join(MANIFEST))
        .map_err(io(format!("cannot rename {}", temporary.display())))?;
    sync_folder(root)
}

pub(super) fn sync_folder(root: &Path) -> StoreResult<()> {
    std::fs::File::open(root)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot sync {}", root.display())))
}

/// Removes trees and tables the manifest does not name: what an interrupted step began, and
/// what a finished one replaced.
pub(super) fn remove_unnamed(root: &Path, manifest: &Manifest) {
    let trees = [Some(manifest.active), manifest.frozen];
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let number = |prefix: &str, suffix: &str| {
                name.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix(suffix))
                    .and_then(|n| n.parse::<u64>().ok())
            };
            if let Some(n) = number("store-", "") {
                if !trees.contains(&Some(n)) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            } else if let Some(n) = number("table-", ".tbl") {
                if !manifest.tables.contains(&n) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
    if !trees.contains(&Some(0)) && is_root_tree(root) {
        remove_root_tree(root);
    }
}

fn remove_root_tree(root: &Path) {
    for name in ["conf", "db", "blobs"] {
        let path = root.join(name);
        let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir_all(&path));
    }
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("snap.") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
