//! Plugins: WebAssembly components that decide roles, notifications and export formats per
//! agency. This module finds them on disk and reads their manifests.

pub mod manifest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use manifest::{Manifest, World};

/// Plugin ids found in the plugin folders, with the folder of each. The first folder that
/// holds an id wins, so a local build can shadow an installed one.
pub fn catalog(dirs: &[PathBuf]) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut folders: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join(manifest::FILE_NAME).is_file())
            .collect();
        folders.sort();
        for folder in folders {
            if let Some(id) = folder.file_name().and_then(|n| n.to_str()) {
                found.entry(id.to_owned()).or_insert(folder);
            }
        }
    }
    found
}

/// Reads and checks the manifest in a plugin folder.
pub fn read_manifest(folder: &Path) -> anyhow::Result<Manifest> {
    Manifest::read(&folder.join(manifest::FILE_NAME))
}
