//! The plugins of every agency, loaded, and swapped atomically on reload.
//!
//! A request takes a snapshot of its agency's plugins when it starts ([`Plugins::agency`]) and
//! keeps it to the end, so a reload never changes a plugin under a request in flight: the old
//! version lives until its last request drops it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use wasmtime::component::Linker;

use super::engine::PluginEngine;
use super::loaded::{Counters, LoadedPlugin, Stamp};
use super::manifest::{Capability, World};
use super::sandbox::Ctx;
use super::types::{ExportFormat, Role};
use crate::config::{AgencyPlugins, Settings};

/// A plugin as one agency uses it: with the capabilities the agency grants and its settings.
#[derive(Debug, Clone)]
pub struct Bound {
    pub plugin: Arc<LoadedPlugin>,
    pub granted: Vec<Capability>,
    pub settings: Vec<(String, String)>,
}

/// One agency's plugins, as of one load or reload.
#[derive(Debug)]
pub struct AgencySet {
    pub slug: String,
    pub display_name: String,
    pub role_set: Bound,
    pub notifications: Vec<Bound>,
    pub exports: Vec<Bound>,
    roles: HashMap<String, usize>,
    /// Format id → (index into `exports`, index into that plugin's formats).
    formats: HashMap<String, (usize, usize)>,
}

impl AgencySet {
    /// The agency's role catalogue, in the plugin's order.
    pub fn roles(&self) -> &[Role] {
        &self.role_set.plugin.roles
    }

    /// One role by id: a hash look-up in the answer cached at load.
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles
            .get(id)
            .and_then(|&i| self.role_set.plugin.roles.get(i))
    }

    /// Every export format the agency offers, in configuration order.
    pub fn formats(&self) -> impl Iterator<Item = &ExportFormat> {
        self.exports.iter().flat_map(|b| b.plugin.formats.iter())
    }

    pub fn format(&self, id: &str) -> Option<(&Bound, &ExportFormat)> {
        let &(plugin, format) = self.formats.get(id)?;
        let bound = self.exports.get(plugin)?;
        Some((bound, bound.plugin.formats.get(format)?))
    }

    /// Every plugin of the agency, once each.
    pub fn all(&self) -> Vec<&Bound> {
        let mut out: Vec<&Bound> = Vec::new();
        for bound in std::iter::once(&self.role_set)
            .chain(&self.notifications)
            .chain(&self.exports)
        {
            if !out.iter().any(|b| b.plugin.id() == bound.plugin.id()) {
                out.push(bound);
            }
        }
        out
    }
}

/// Everything loaded at one moment.
#[derive(Debug, Default)]
struct Snapshot {
    plugins: BTreeMap<String, Arc<LoadedPlugin>>,
    agencies: BTreeMap<String, Arc<AgencySet>>,
}

/// One agency's plugin configuration, kept to rebuild its set on reload.
#[derive(Debug, Clone)]
struct AgencyEntry {
    slug: String,
    display_name: String,
    plugins: AgencyPlugins,
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// `(id, version)` of each plugin swapped in.
    pub reloaded: Vec<(String, String)>,
    /// `(id, error)` of each new version refused; the old one keeps serving.
    pub refused: Vec<(String, String)>,
}

/// The plugin registry of a process. Cheap to clone.
#[derive(Clone)]
pub struct Plugins {
    inner: Arc<Inner>,
}

struct Inner {
    engine: PluginEngine,
    linker: Linker<Ctx>,
    dirs: Vec<PathBuf>,
    cache_dir: Option<PathBuf>,
    agencies: Vec<AgencyEntry>,
    current: ArcSwap<Snapshot>,
    counters: Mutex<BTreeMap<String, Arc<Counters>>>,
    /// Held while reloading, so two reloads never race; also remembers files refused, so a
    /// broken plugin is reported once rather than on every poll.
    reloading: Mutex<BTreeMap<String, Option<Stamp>>>,
    /// Where failed calls are kept with their input, once the server has a database.
    recorder: std::sync::OnceLock<super::recorder::Recorder>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let snapshot = self.inner.current.load();
        f.debug_struct("Plugins")
            .field("plugins", &snapshot.plugins.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Settings of the plugin host, from `[plugins]` in `portal.toml`.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub dirs: Vec<PathBuf>,
    /// `None` disables the compiled cache (the CLI's one-off commands use it all the same).
    pub cache_dir: Option<PathBuf>,
    pub max_instances: u32,
    pub max_export_bytes: u64,
    /// Time one export may spend in its plugin (`plugins.export_seconds`).
    pub export_deadline: std::time::Duration,
}

impl HostOptions {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            dirs: settings.paths.plugins.clone(),
            cache_dir: Some(
                settings
                    .plugins
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| settings.paths.data.join("plugin-cache")),
            ),
            max_instances: settings.plugins.max_instances,
            max_export_bytes: settings.plugins.max_export_bytes,
            export_deadline: std::time::Duration::from_secs(settings.plugins.export_seconds),
        }
    }
}

impl Plugins {
    /// Loads every plugin the configured agencies use. A plugin that fails to load, or that
    /// an agency cannot use as configured, is an error naming the agency, plugin and cause.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        let agencies = settings
            .agencies
            .values()
            .map(|a| AgencyEntry {
                slug: a.slug.clone(),
                display_name: a.display_name.clone(),
                plugins: a.plugins.clone(),
            })
            .collect();
        Self::with_options(HostOptions::from_settings(settings), agencies)
    }

    fn with_options(options: HostOptions, agencies: Vec<AgencyEntry>) -> anyhow::Result<Self> {
        let engine = PluginEngine::new(
            options.max_instances,
            options.max_export_bytes,
            options.export_deadline,
        )?;
        let linker = super::loaded::linker(&engine)?;
        let plugins = Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                dirs: options.dirs,
                cache_dir: options.cache_dir,
                agencies,
                current: ArcSwap::default(),
                counters: Mutex::default(),
                reloading: Mutex::default(),
                recorder: std::sync::OnceLock::new(),
            }),
        };
        let catalog = super::catalog(&plugins.inner.dirs);
        let mut loaded = BTreeMap::new();
        for agency in &plugins.inner.agencies {
            for id in agency.plugins.all() {
                if loaded.contains_key(id) {
                    continue;
                }
                let plugin = plugins
                    .load_one(&catalog, id)
                    .with_context(|| format!("agency \"{}\"", agency.slug))?;
                loaded.insert(id.to_owned(), Arc::new(plugin));
            }
        }
        let snapshot = plugins.assemble(loaded)?;
        plugins.inner.current.store(Arc::new(snapshot));
        Ok(plugins)
    }

    pub fn engine(&self) -> &PluginEngine {
        &self.inner.engine
    }

    fn counters(&self, id: &str) -> Arc<Counters> {
        let mut counters = self
            .inner
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counters.entry(id.to_owned()).or_default().clone()
    }

    fn load_one(
        &self,
        catalog: &BTreeMap<String, PathBuf>,
        id: &str,
    ) -> anyhow::Result<LoadedPlugin> {
        let folder = catalog.get(id).with_context(|| {
            format!(
                "plugin \"{id}\" is not in the plugin folders ({})",
                self.inner
                    .dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        self.load_folder(folder)
    }

    fn load_folder(&self, folder: &Path) -> anyhow::Result<LoadedPlugin> {
        let id = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let plugin = LoadedPlugin::load(
            &self.inner.engine,
            &self.inner.linker,
            self.inner.cache_dir.as_deref(),
            folder,
            self.counters(id),
        )?;
        if plugin.id() != id {
            bail!(
                "plugin {} {}: its folder is named \"{id}\"; the folder name must be the id",
                plugin.id(),
                plugin.version()
            );
        }
        tracing::info!(
            plugin = plugin.id(),
            version = plugin.version(),
            from = plugin.origin.as_str(),
            ms = plugin.load_time.as_secs_f64() * 1000.0,
            "plugin loaded"
        );
        Ok(plugin)
    }

    /// Builds every agency's set from loaded plugins, checking each agency's use of them.
    fn assemble(&self, plugins: BTreeMap<String, Arc<LoadedPlugin>>) -> anyhow::Result<Snapshot> {
        let mut agencies = BTreeMap::new();
        for entry in &self.inner.agencies {
            let set = agency_set(entry, &plugins)
                .with_context(|| format!("agency \"{}\"", entry.slug))?;
            agencies.insert(entry.slug.clone(), Arc::new(set));
        }
        Ok(Snapshot { plugins, agencies })
    }

    /// The agency's plugins as of now; keep the `Arc` for the whole request.
    pub fn agency(&self, slug: &str) -> Option<Arc<AgencySet>> {
        self.inner.current.load().agencies.get(slug).cloned()
    }

    /// The per-request handle for an agency's plugins: a snapshot of its plugins now, and
    /// instances created on first use and kept for this request only.
    pub fn for_request(&self, slug: &str) -> Option<super::PluginRequest> {
        self.agency(slug).map(|set| {
            super::PluginRequest::new(self.inner.engine.clone(), set)
                .keeping_failures(self.inner.recorder.get().cloned())
        })
    }

    /// From now on, every failed hook call of a request is kept in `db` with its input (for
    /// the manage area's plugin page and `portal plugin replay`).
    pub fn keep_failures_in(&self, db: crate::db::Db) {
        let _ = self
            .inner
            .recorder
            .set(super::recorder::Recorder::spawn(db));
    }

    /// Every loaded plugin with its call and error counts.
    pub fn loaded(&self) -> Vec<Arc<LoadedPlugin>> {
        self.inner
            .current
            .load()
            .plugins
            .values()
            .cloned()
            .collect()
    }

    /// Reloads the plugins whose files changed since they were loaded (or all of them).
    /// A new version that fails to load, or that an agency cannot use, is refused and the
    /// old one keeps serving. Blocking: compiles.
    pub fn reload(&self, all: bool) -> ReloadReport {
        let mut refused_stamps = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.inner.current.load_full();
        let mut report = ReloadReport::default();
        let mut next = current.plugins.clone();
        for (id, old) in &current.plugins {
            let stamp = Stamp::of(&old.folder);
            let changed = stamp != old.stamp;
            if !all && (!changed || refused_stamps.get(id) == Some(&stamp)) {
                continue;
            }
            match self.load_folder(&old.folder) {
                Ok(plugin) => {
                    let mut trial = next.clone();
                    trial.insert(id.clone(), Arc::new(plugin));
                    match self.assemble(trial.clone()) {
                        Ok(_) => {
                            refused_stamps.remove(id);
                            report
                                .reloaded
                                .push((id.clone(), trial[id].version().to_owned()));
                            next = trial;
                        }
                        Err(err) => {
                            refused_stamps.insert(id.clone(), stamp);
                            report.refused.push((id.clone(), format!("{err:#}")));
                        }
                    }
                }
                Err(err) => {
                    refused_stamps.insert(id.clone(), stamp);
                    report.refused.push((id.clone(), format!("{err:#}")));
                }
            }
        }
        if !report.reloaded.is_empty() {
            match self.assemble(next) {
                Ok(snapshot) => self.inner.current.store(Arc::new(snapshot)),
                // Each plugin was checked above with the others; this cannot differ, but if
                // it did the old set keeps serving.
                Err(err) => report.refused.push(("(all)".into(), format!("{err:#}"))),
            }
        }
        for (id, version) in &report.reloaded {
            tracing::info!(plugin = %id, %version, "plugin reloaded");
        }
        for (id, error) in &report.refused {
            tracing::error!(plugin = %id, %error, "new plugin version refused; the loaded one keeps serving");
        }
        report
    }
}

fn agency_set(
    entry: &AgencyEntry,
    plugins: &BTreeMap<String, Arc<LoadedPlugin>>,
) -> anyhow::Result<AgencySet> {
    let config = &entry.plugins;
    let bind = |id: &str, world: World| -> anyhow::Result<Bound> {
        let plugin = plugins
            .get(id)
            .with_context(|| format!("plugin \"{id}\" is not loaded"))?;
        if !plugin.manifest.worlds.contains(&world) {
            bail!(
                "plugin {} {} is configured as {world} but does not implement it (worlds: {})",
                plugin.id(),
                plugin.version(),
                plugin
                    .manifest
                    .worlds
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let granted = plugin.grants_for(config.grants.get(id).map_or(&[][..], Vec::as_slice))?;
        let settings = config
            .settings
            .get(id)
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Bound {
            plugin: plugin.clone(),
            granted,
            settings,
        })
    };
    let role_set = bind(&config.role_set, World::RoleSet)?;
    let notifications = config
        .notifications
        .iter()
        .map(|id| bind(id, World::NotificationRules))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let exports = config
        .exports
        .iter()
        .map(|id| bind(id, World::ExportFormat))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let roles = role_set
        .plugin
        .roles
        .iter()
        .enumerate()
        .map(|(i, role)| (role.id.clone(), i))
        .collect();
    let mut formats = HashMap::new();
    for (p, bound) in exports.iter().enumerate() {
        for (f, format) in bound.plugin.formats.iter().enumerate() {
            if let Some((other, _)) = formats.insert(format.id.clone(), (p, f)) {
                bail!(
                    "format \"{}\" is offered by both {} and {}",
                    format.id,
                    exports[other].plugin.id(),
                    bound.plugin.id()
                );
            }
        }
    }
    Ok(AgencySet {
        slug: entry.slug.clone(),
        display_name: entry.display_name.clone(),
        role_set,
        notifications,
        exports,
        roles,
        formats,
    })
}
