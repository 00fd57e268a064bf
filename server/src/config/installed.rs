//! What is installed: the theme and plugin folders found on the search paths, by the
//! manifest each holds. Read by the configuration check, the theme loader and the plugin host.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The manifest that makes a folder a theme.
pub const THEME_MANIFEST: &str = "theme.toml";
/// The manifest that makes a folder a plugin.
pub const PLUGIN_MANIFEST: &str = "plugin.toml";

/// Folders holding `manifest` directly under any of `dirs`, by folder name. The first
/// directory that holds a name wins, so a local folder can shadow an installed one.
pub fn catalog(dirs: &[PathBuf], manifest: &str) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut folders: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join(manifest).is_file())
            .collect();
        folders.sort();
        for folder in folders {
            if let Some(name) = folder.file_name().and_then(|n| n.to_str()) {
                found.entry(name.to_owned()).or_insert(folder);
            }
        }
    }
    found
}
