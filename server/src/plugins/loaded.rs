//! One plugin, loaded: manifest read and checked, component compiled (or read from the cache),
//! exports and imports checked against the manifest, pre-instantiated, and its static answers
//! (`roles()`, `formats()`) asked once and kept.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre, Linker};

use super::bindings::{self, formats, notifications, roles};
use super::cache::{self, Origin};
use super::convert;
use super::engine::{CallLimits, PluginEngine};
use super::failure::{Cause, PluginFailure};
use super::manifest::{self, Capability, ImportRule, Manifest, World};
use super::sandbox::{self, Ctx, Tags};
use super::types::{ExportFormat, Role};

/// The component file in a plugin folder, next to `plugin.toml`.
pub const WASM_FILE: &str = "plugin.wasm";

/// Calls and failures of one plugin id since the process started (across reloads).
#[derive(Debug, Default)]
pub struct Counters {
    pub calls: AtomicU64,
    pub errors: AtomicU64,
    /// How long hook calls took, instantiation included (`/metrics`).
    pub durations: crate::metrics::Histogram,
}

impl Counters {
    pub fn read(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

/// What identifies the files a plugin was loaded from, to notice a replaced plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    wasm_len: u64,
    manifest_modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(folder: &Path) -> Option<Self> {
        let wasm = std::fs::metadata(folder.join(WASM_FILE)).ok()?;
        let manifest = std::fs::metadata(folder.join(manifest::FILE_NAME)).ok()?;
        Some(Self {
            modified: wasm.modified().ok(),
            wasm_len: wasm.len(),
            manifest_modified: manifest.modified().ok(),
        })
    }
}

/// A plugin ready to instantiate.
pub struct LoadedPlugin {
    pub manifest: Manifest,
    pub folder: PathBuf,
    pub stamp: Option<Stamp>,
    /// Size of the component file in bytes.
    pub size: u64,
    /// Every import of the component, by name.
    pub imports: Vec<String>,
    /// The interfaces it exports that the host knows.
    pub exports: Vec<&'static str>,
    pub origin: Origin,
    pub load_time: Duration,
    pub(super) pre: InstancePre<Ctx>,
    pub(super) roles_export: Option<roles::GuestIndices>,
    pub(super) notifications_export: Option<notifications::GuestIndices>,
    pub(super) formats_export: Option<formats::GuestIndices>,
    /// `roles()`, asked once at load.
    pub roles: Vec<Role>,
    /// `formats()`, asked once at load.
    pub formats: Vec<ExportFormat>,
    pub counters: Arc<Counters>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

/// The linker every plugin is instantiated against: the contract's imports (logging, types)
/// and WASI with nothing behind it unless a store's context grants it.
pub fn linker(engine: &PluginEngine) -> anyhow::Result<Linker<Ctx>> {
    let mut linker = Linker::new(&engine.engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    bindings::Plugin::add_to_linker::<Ctx, wasmtime::component::HasSelf<Ctx>>(&mut linker, |ctx| {
        ctx
    })
    .map_err(anyhow::Error::from)?;
    Ok(linker)
}

fn interface_of(world: World) -> &'static str {
    match world {
        World::RoleSet => bindings::ROLES_EXPORT,
        World::NotificationRules => bindings::NOTIFICATIONS_EXPORT,
        World::ExportFormat => bindings::FORMATS_EXPORT,
    }
}

/// What a component imports and exports, by name.
pub fn interface_names(engine: &PluginEngine, component: &Component) -> (Vec<String>, Vec<String>) {
    let ty = component.component_type();
    let imports = ty
        .imports(&engine.engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let exports = ty
        .exports(&engine.engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    (imports, exports)
}

/// Checks exports against the declared worlds (both ways; unknown exports are ignored) and
/// imports against what the declared capabilities allow.
pub fn check_interfaces(
    manifest: &Manifest,
    imports: &[String],
    exports: &[String],
) -> anyhow::Result<Vec<&'static str>> {
    let mut known = Vec::new();
    for world in [
        World::RoleSet,
        World::NotificationRules,
        World::ExportFormat,
    ] {
        let interface = interface_of(world);
        let exported = exports.iter().any(|e| e == interface);
        let declared = manifest.worlds.contains(&world);
        match (declared, exported) {
            (true, false) => {
                bail!("declares world {world} but the component does not export {interface}")
            }
            (false, true) => {
                bail!("exports {interface} but the manifest does not declare world {world}")
            }
            (true, true) => known.push(interface),
            (false, false) => {}
        }
    }
    for import in imports {
        match Capability::needed_by(import) {
            ImportRule::Allowed => {}
            ImportRule::Needs(capability) if manifest.capabilities.contains(&capability) => {}
            ImportRule::Needs(capability) => bail!(
                "imports {import}, which needs capability \"{capability}\" that the manifest \
                 does not declare"
            ),
            ImportRule::Refused => {
                bail!("imports {import}, which Portal does not provide to plugins")
            }
        }
    }
    Ok(known)
}

impl LoadedPlugin {
    /// Loads the plugin in `folder`. Every error names the plugin (and version, once known).
    pub fn load(
        engine: &PluginEngine,
        linker: &Linker<Ctx>,
        cache_dir: Option<&Path>,
        folder: &Path,
        counters: Arc<Counters>,
    ) -> anyhow::Result<Self> {
        let manifest = super::read_manifest(folder)?;
        let named = format!("plugin {} {}", manifest.id, manifest.version);
        let stamp = Stamp::of(folder);
        let wasm_path = folder.join(WASM_FILE);
        let wasm = std::fs::read(&wasm_path)
            .with_context(|| format!("{named}: cannot read {}", wasm_path.display()))?;
        let (component, origin, load_time) =
            cache::component(&engine.engine, cache_dir, &manifest.id, &wasm).with_context(
                || format!("{named}: {} is not a valid component", wasm_path.display()),
            )?;
        let (imports, exports) = interface_names(engine, &component);
        let exports =
            check_interfaces(&manifest, &imports, &exports).with_context(|| named.clone())?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{named}: cannot be linked"))?;
        let has = |world| manifest.worlds.contains(&world);
        let mismatch = |e: wasmtime::Error| {
            anyhow::Error::from(e)
                .context(format!("{named}: an export does not match the contract"))
        };
        let roles_export = has(World::RoleSet)
            .then(|| roles::GuestIndices::new(&pre).map_err(mismatch))
            .transpose()?;
        let notifications_export = has(World::NotificationRules)
            .then(|| notifications::GuestIndices::new(&pre).map_err(mismatch))
            .transpose()?;
        let formats_export = has(World::ExportFormat)
            .then(|| formats::GuestIndices::new(&pre).map_err(mismatch))
            .transpose()?;
        let mut plugin = Self {
            size: wasm.len() as u64,
            manifest,
            folder: folder.to_path_buf(),
            stamp,
            imports,
            exports,
            origin,
            load_time,
            pre,
            roles_export,
            notifications_export,
            formats_export,
            roles: Vec::new(),
            formats: Vec::new(),
            counters,
        };
        plugin
            .ask_static_answers(engine)
            .map_err(anyhow::Error::from)?;
        Ok(plugin)
    }

    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn version(&self) -> &str {
        &self.manifest.version
    }

    pub fn tags(&self, agency: &str) -> Tags {
        Tags {
            agency: agency.into(),
            plugin: self.manifest.id.clone(),
            version: self.manifest.version.clone(),
        }
    }

    /// Runs `roles()` and `formats()` in a throwaway instance, once per load. The answers
    /// may depend on nothing but the plugin, so nothing is granted.
    fn ask_static_answers(&mut self, engine: &PluginEngine) -> Result<(), PluginFailure> {
        if self.roles_export.is_none() && self.formats_export.is_none() {
            return Ok(());
        }
        let limits = CallLimits::LOAD;
        let mut store = sandbox::new_store(engine, self.tags("(load)"), &[], limits);
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| sandbox::failure(&store, "instantiate", limits, e))?;
        if let Some(indices) = &self.roles_export {
            let guest = indices
                .load(&mut store, &instance)
                .map_err(|e| sandbox::failure(&store, "roles", limits, e))?;
            sandbox::arm(&mut store, "roles", limits);
            let answer = guest
                .call_roles(&mut store)
                .map_err(|e| sandbox::failure(&store, "roles", limits, e))?;
            self.roles = answer
                .map_err(convert::reported)
                .and_then(convert::roles_in)
                .map_err(|cause| self.failure("roles", cause))?;
        }
        if let Some(indices) = &self.formats_export {
            let guest = indices
                .load(&mut store, &instance)
                .map_err(|e| sandbox::failure(&store, "formats", limits, e))?;
            sandbox::arm(&mut store, "formats", limits);
            let answer = guest
                .call_formats(&mut store)
                .map_err(|e| sandbox::failure(&store, "formats", limits, e))?;
            let id = self.manifest.id.clone();
            self.formats = answer
                .map_err(convert::reported)
                .and_then(|list| convert::formats_in(&id, list))
                .map_err(|cause| self.failure("formats", cause))?;
        }
        Ok(())
    }

    pub fn failure(&self, hook: &'static str, cause: Cause) -> PluginFailure {
        PluginFailure {
            plugin: self.manifest.id.clone(),
            version: self.manifest.version.clone(),
            hook,
            cause,
        }
    }

    /// The capabilities this plugin gets for an agency: those it declares that the agency
    /// grants. A declared capability the agency does not grant is an error.
    pub fn grants_for(&self, granted: &[String]) -> anyhow::Result<Vec<Capability>> {
        let granted: BTreeSet<&str> = granted.iter().map(String::as_str).collect();
        for name in &granted {
            if Capability::parse(name).is_none() {
                bail!(
                    "grants unknown capability \"{name}\" (known: {})",
                    Capability::ALL.map(Capability::as_str).join(", ")
                );
            }
        }
        let mut out = Vec::new();
        for capability in &self.manifest.capabilities {
            if !granted.contains(capability.as_str()) {
                bail!(
                    "plugin {} {} asks for capability \"{capability}\", which the agency does \
                     not grant (add it to plugins.grants.{})",
                    self.manifest.id,
                    self.manifest.version,
                    self.manifest.id
                );
            }
            out.push(*capability);
        }
        Ok(out)
    }

    /// A fresh instance in a fresh store.
    pub(super) fn instantiate(
        &self,
        engine: &PluginEngine,
        agency: &str,
        granted: &[Capability],
        limits: CallLimits,
    ) -> Result<(Store<Ctx>, wasmtime::component::Instance), PluginFailure> {
        let mut store = sandbox::new_store(engine, self.tags(agency), granted, limits);
        match self.pre.instantiate(&mut store) {
            Ok(instance) => Ok((store, instance)),
            Err(err) => Err(sandbox::failure(&store, "instantiate", limits, err)),
        }
    }
}
