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
    crate::config::installed::catalog(dirs, manifest::FILE_NAME)
}

/// Reads and checks the manifest in a plugin folder.
pub fn read_manifest(folder: &Path) -> anyhow::Result<Manifest> {
    Manifest::read(&folder.join(manifest::FILE_NAME))
}
