//! The compiled-plugin cache: `<paths.data>/plugin-cache/`. Compiling a component takes tens
//! of milliseconds (seconds for one that embeds CPython); loading its compiled form takes a
//! fraction of one. Entries are keyed by the component's content hash and the engine's
//! compatibility hash (wasmtime version and every setting that changes generated code), so a
//! changed plugin, a new wasmtime or a new engine configuration never reads a stale entry.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component came to be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read back from the cache.
    Cache,
    /// Compiled now (and written to the cache when there is one).
    Compiled,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cache => "cache",
            Self::Compiled => "compiled",
        }
    }
}

/// Feeds `Hash` output into SHA-256, so the key does not depend on the standard library's
/// unstable default hasher.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The cache key of a component for this engine, in hex.
pub fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    wasm.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(hasher.0.finalize())
}

/// Compiles a component, or loads it from the cache in `dir` when it was compiled before.
/// Returns how it was obtained and how long that took.
pub fn component(
    engine: &Engine,
    dir: Option<&Path>,
    id: &str,
    wasm: &[u8],
) -> anyhow::Result<(Component, Origin, Duration)> {
    let started = Instant::now();
    let path = dir.map(|dir| dir.join(format!("{id}-{}.cwasm", &key(engine, wasm)[..32])));
    if let Some(path) = &path
        && path.is_file()
    {
        match deserialize(engine, path) {
            Ok(component) => return Ok((component, Origin::Cache, started.elapsed())),
            // A truncated or foreign file: compile again and replace it.
            Err(err) => tracing::warn!(
                plugin = id, path = %path.display(), error = %err,
                "ignoring an unusable compiled-plugin cache entry"
            ),
        }
    }
    let component = Component::new(engine, wasm).map_err(anyhow::Error::from)?;
    if let Some(path) = &path
        && let Err(err) = store(&component, path)
    {
        // The cache is an optimisation: a read-only data folder costs start-up time only.
        tracing::warn!(plugin = id, path = %path.display(), error = %format!("{err:#}"),
            "cannot write the compiled-plugin cache");
    }
    Ok((component, Origin::Compiled, started.elapsed()))
}

/// Writes the compiled form through a temporary file and a rename, so a reader never sees
/// half an entry (several servers may share a data folder). Never rewrite an entry in place:
/// loaded plugins have their entry mapped into memory, and truncating the file under them
/// kills the process with SIGBUS. A rename leaves their mapping on the old file.
fn store(component: &Component, path: &PathBuf) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// Loads a compiled component from the cache.
///
/// This is the one `unsafe` call of the server. `Component::deserialize_file` maps native code
/// from the file and runs it, so the file must be one `Component::serialize` wrote for a
/// compatible engine. Here it is: only [`store`] writes into the cache folder, the name
/// carries the hash of the component and of the engine's compatibility settings, and wasmtime
/// itself refuses files from another version or configuration (checked in its header). Whoever
/// can write to the data folder can already replace the server, so the cache adds no new trust.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: see above: the file was written by `store` from `Component::serialize`.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}
