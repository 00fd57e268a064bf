//! Plugins: WebAssembly components that decide roles, notifications and export formats per
//! agency.
//!
//! This folder is the plugin host, and the only place that names a wasmtime type. The rest of
//! the server sees plain Rust types ([`Role`], [`Decision`], [`Notification`],
//! [`ExportFormat`], …) through three doors:
//!
//! - [`Plugins`] (in `AppState`): loaded at start for every agency, swapped on reload;
//! - [`PluginRequest`]: one request's plugins, an axum extractor, with the cached static
//!   answers (`role`, `roles`) and the hooks (`authorize`, `notifications`, `export`);
//! - [`Export`]: a running export, rows in, bytes out.

mod bindings;
mod cache;
mod convert;
mod engine;
mod export;
mod failure;
mod loaded;
pub mod manifest;
mod output;
pub mod probe;
mod recorder;
mod registry;
mod request;
mod sandbox;
mod types;
mod watch;

pub use cache::Origin;
pub use engine::CallLimits;
pub use export::{ByteStream, Export, ExportSession, ExportStopped, RowSender};
pub use failure::{Cause, PluginFailure};
pub use loaded::{Counters, LoadedPlugin, WASM_FILE};
pub use output::printable;
pub use registry::{AgencySet, Bound, HostOptions, Plugins, ReloadReport};
pub use request::{EventOutcome, PluginRequest, UNAVAILABLE_DENIAL};
pub use types::*;

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
