//! `portal plugin check` and `portal plugin test`: one plugin, outside any server, looked at
//! (manifest, imports, exports, static answers) or run once on a case from a JSON file,
//! reporting what the call used against the limits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::engine::{CallLimits, PluginEngine};
use super::export::ExportSession;
use super::loaded::{self, LoadedPlugin};
use super::registry::Bound;
use super::sandbox;
use super::types::{
    AuthorizationRequest, Column, ColumnType, Named, NotificationEvent, Permission, Person,
    PersonKind, PortalUserRef, RowBatch, SECRET_FIELDS, Target,
};
use super::{convert, manifest};

/// A plugin folder (`plugin.toml` + `plugin.wasm`), or a `.wasm` file with `plugin.toml`
/// beside it.
pub fn folder_of(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if path.extension().is_some_and(|e| e == "wasm") {
        if path.file_name().is_some_and(|n| n != loaded::WASM_FILE) {
            bail!(
                "{}: name the component {} next to its {} (as `portal plugin build` lays it out)",
                path.display(),
                loaded::WASM_FILE,
                manifest::FILE_NAME
            );
        }
        return Ok(parent.to_path_buf());
    }
    bail!("{}: not a plugin folder or a .wasm file", path.display())
}

/// What an author's command runs a plugin with: the server's limits and compiled-plugin cache
/// when a configuration is given, else the defaults and a cache of the author's own.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub max_export_bytes: u64,
    pub export_deadline: Duration,
    pub cache_dir: PathBuf,
}

impl ProbeOptions {
    pub fn from_settings(settings: Option<&crate::config::Settings>) -> Self {
        match settings {
            Some(settings) => {
                let host = super::HostOptions::from_settings(settings);
                Self {
                    max_export_bytes: host.max_export_bytes,
                    export_deadline: host.export_deadline,
                    cache_dir: host
                        .cache_dir
                        .unwrap_or_else(|| settings.paths.data.join("plugin-cache")),
                }
            }
            None => Self {
                max_export_bytes: crate::config::PluginsConfig::default().max_export_bytes,
                export_deadline: Duration::from_secs(
                    crate::config::PluginsConfig::default().export_seconds,
                ),
                cache_dir: user_cache_dir(),
            },
        }
    }
}

/// `$XDG_CACHE_HOME/portal/plugin-cache`, else `~/.cache/portal/plugin-cache`, else under the
/// temporary folder.
fn user_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("portal/plugin-cache")
}

/// Loads one plugin with nothing granted beyond what it declares. The folder must be named
/// after the plugin's id, as the server finds it.
pub fn load(folder: &Path, options: &ProbeOptions) -> anyhow::Result<(PluginEngine, LoadedPlugin)> {
    let engine = PluginEngine::new(16, options.max_export_bytes, options.export_deadline)?;
    let linker = loaded::linker(&engine)?;
    let plugin = LoadedPlugin::load(
        &engine,
        &linker,
        Some(&options.cache_dir),
        folder,
        Arc::default(),
    )?;
    let named = folder
        .canonicalize()
        .ok()
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if named != plugin.manifest.id {
        bail!(
            "{}: the folder is named \"{named}\" but the plugin's id is \"{}\"; servers find \
             a plugin by its folder, so name it after the id (`portal plugin build` lays it \
             out so)",
            folder.display(),
            plugin.manifest.id
        );
    }
    Ok((engine, plugin))
}

/// One case for `portal plugin test`, and the input a failed call in the server is kept
/// with for `portal plugin replay`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "hook", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Case {
    /// `{"hook": "authorize", "role": "…", "permission": "approve-timesheets", "user": {…},
    /// "client-id": "4", "target": {"kind": "timesheet", "id": "7", "attributes": {…}}}`
    Authorize {
        role: String,
        permission: String,
        #[serde(default)]
        user: CaseUser,
        #[serde(rename = "client-id", default)]
        client_id: String,
        target: CaseTarget,
    },
    /// `{"hook": "on-event", "kind": "work-request-created", "fields": {…}, "settings": {…}}`;
    /// optionally the `agency`, `client` and `worksite` (each `[id, name]`), and the `actor`
    /// and `subject` (`{"kind": "portal-user", "id", "name", "email"}`).
    OnEvent {
        kind: String,
        #[serde(default)]
        fields: Vec<(String, String)>,
        #[serde(default)]
        settings: Vec<(String, String)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agency: Option<(String, String)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<(String, String)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worksite: Option<(String, String)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<CasePerson>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<CasePerson>,
    },
    /// `{"hook": "export", "format": "csv", "columns": [["name", "Name", "text"], …],
    /// "rows": [["Ann"], [null]]}`
    Export {
        format: String,
        columns: Vec<(String, String, String)>,
        rows: Vec<Vec<Option<String>>>,
    },
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseUser {
    id: String,
    email: String,
    #[serde(rename = "worksite-ids")]
    worksite_ids: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseTarget {
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    attributes: Vec<(String, String)>,
}

/// Rows of a failed export's batch kept with it.
pub const KEPT_ROWS: usize = 500;

/// A person of an event case.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CasePerson {
    /// `staff`, `portal-user` or `system`.
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

impl CasePerson {
    fn of(person: &Person) -> Self {
        let kind = match person.kind {
            PersonKind::Staff => "staff",
            PersonKind::PortalUser => "portal-user",
            PersonKind::System => "system",
        };
        Self {
            kind: kind.into(),
            id: person.id.clone(),
            name: person.name.clone(),
            email: person.email.clone(),
        }
    }

    fn person(self) -> anyhow::Result<Person> {
        let kind = match self.kind.as_str() {
            "staff" => PersonKind::Staff,
            "portal-user" => PersonKind::PortalUser,
            "system" => PersonKind::System,
            other => bail!("unknown person kind \"{other}\" (staff, portal-user or system)"),
        };
        Ok(Person {
            kind,
            id: self.id,
            name: self.name,
            email: self.email,
        })
    }
}

impl Case {
    /// The case of one `authorize` call.
    pub fn authorize(request: &AuthorizationRequest) -> Self {
        Self::Authorize {
            role: request.role.clone(),
            permission: request.permission.as_str().to_owned(),
            user: CaseUser {
                id: request.user.id.clone(),
                email: request.user.email.clone(),
                worksite_ids: request.user.worksite_ids.clone(),
            },
            client_id: request.client_id.clone(),
            target: CaseTarget {
                kind: request.target.kind.clone(),
                id: request.target.id.clone(),
                attributes: request.target.attributes.clone(),
            },
        }
    }

    /// The case of an export in `format` of a table with `columns`, fed the first
    /// [`KEPT_ROWS`] rows of `batch` (the batch it failed on; none when it failed opening or
    /// finishing).
    pub fn export(format: &str, columns: &[Column], batch: Option<&RowBatch>) -> Self {
        let width = columns.len().max(1);
        let cells: Vec<Option<String>> = batch
            .into_iter()
            .flat_map(RowBatch::iter)
            .take(width * KEPT_ROWS)
            .map(|cell| cell.map(str::to_owned))
            .collect();
        Self::Export {
            format: format.to_owned(),
            columns: columns
                .iter()
                .map(|c| (c.name.clone(), c.label.clone(), column_type_name(c.kind)))
                .collect(),
            rows: cells.chunks(width).map(<[_]>::to_vec).collect(),
        }
    }

    /// The case of one `on-event` call of an agency (`[slug, name]`) with the plugin's
    /// `settings`. The event's single-use links ([`SECRET_FIELDS`]) are kept as
    /// `[redacted]`: a kept failure must not be a way into someone's account.
    pub fn on_event(
        event: &NotificationEvent,
        agency: (&str, &str),
        settings: &[(String, String)],
    ) -> Self {
        let named = |n: &Named| (n.id.clone(), n.name.clone());
        Self::OnEvent {
            kind: event.kind.clone(),
            fields: event
                .fields
                .iter()
                .map(|(key, value)| {
                    let secret = SECRET_FIELDS.contains(&key.as_str());
                    let value = if secret {
                        "[redacted]".into()
                    } else {
                        value.clone()
                    };
                    (key.clone(), value)
                })
                .collect(),
            settings: settings.to_vec(),
            agency: Some((agency.0.to_owned(), agency.1.to_owned())),
            client: event.client.as_ref().map(named),
            worksite: event.worksite.as_ref().map(named),
            actor: Some(CasePerson::of(&event.actor)),
            subject: event.subject.as_ref().map(CasePerson::of),
        }
    }
}

/// What one run did.
#[derive(Debug)]
pub struct Report {
    pub hook: &'static str,
    /// The answer, or the failure, as text.
    pub outcome: Result<String, String>,
    pub time: Duration,
    pub fuel: u64,
    pub peak_memory: usize,
    pub limits: CallLimits,
}

/// A column type as a case spells it (the inverse of [`column_type`]).
fn column_type_name(kind: ColumnType) -> String {
    match kind {
        ColumnType::Text => "text".into(),
        ColumnType::Integer => "integer".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Datetime => "datetime".into(),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Decimal(scale) => format!("decimal({scale})"),
    }
}

fn column_type(text: &str) -> anyhow::Result<ColumnType> {
    Ok(match text {
        "text" => ColumnType::Text,
        "integer" => ColumnType::Integer,
        "date" => ColumnType::Date,
        "datetime" => ColumnType::Datetime,
        "boolean" => ColumnType::Boolean,
        other => match other
            .strip_prefix("decimal(")
            .and_then(|s| s.strip_suffix(')'))
            .and_then(|s| s.parse().ok())
        {
            Some(scale) => ColumnType::Decimal(scale),
            None => bail!("unknown column type \"{other}\""),
        },
    })
}

/// Runs one case against a loaded plugin, in a fresh instance under the real limits.
pub fn run(engine: &PluginEngine, plugin: LoadedPlugin, case: Case) -> anyhow::Result<Report> {
    let plugin = Arc::new(plugin);
    let bound = Bound {
        granted: plugin.manifest.capabilities.clone(),
        plugin: plugin.clone(),
        settings: Vec::new(),
    };
    match case {
        Case::Export {
            format,
            columns,
            rows,
        } => {
            let columns = columns
                .iter()
                .map(|(name, label, kind)| Ok(Column::new(name, label, column_type(kind)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut batch = RowBatch::default();
            for row in &rows {
                if row.len() != columns.len() {
                    bail!(
                        "a row has {} cells for {} columns",
                        row.len(),
                        columns.len()
                    );
                }
                for cell in row {
                    batch.push(cell.as_deref());
                }
            }
            let limits = engine.export_limits();
            let started = Instant::now();
            let mut fuel = 0;
            let mut peak = 0;
            let outcome = (|| {
                let mut session =
                    ExportSession::open(engine, bound, "(test)", &format, "Test", &columns)?;
                fuel += session.last_fuel;
                let mut out = session.write(batch)?;
                fuel += session.last_fuel;
                peak = session.peak_memory();
                out.extend(session.finish()?);
                Ok::<_, super::PluginFailure>(out)
            })();
            Ok(Report {
                hook: "export",
                outcome: outcome
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .map_err(|f| f.to_string()),
                time: started.elapsed(),
                fuel,
                peak_memory: peak,
                limits,
            })
        }
        Case::Authorize {
            role,
            permission,
            user,
            client_id,
            target,
        } => {
            let permission = Permission::parse(&permission)
                .with_context(|| format!("unknown permission \"{permission}\""))?;
            let request = AuthorizationRequest {
                role,
                permission,
                user: PortalUserRef {
                    id: user.id,
                    email: user.email,
                    worksite_ids: user.worksite_ids,
                },
                client_id,
                target: Target {
                    kind: target.kind,
                    id: target.id,
                    attributes: target.attributes,
                },
            };
            hook(engine, &bound, "authorize", |store, instance, limits| {
                let guest = plugin
                    .roles_export
                    .as_ref()
                    .context("the plugin is not a role set")?
                    .load(&mut *store, instance)
                    .map_err(anyhow::Error::from)?;
                sandbox::arm(store, "authorize", limits);
                let answer =
                    guest.call_authorize(&mut *store, &convert::authorization_out(&request));
                Ok(answer.map(|r| {
                    r.map_err(convert::reported)
                        .and_then(|d| convert::decision_in(d, limits.output))
                        .map(|d| format!("{d:?}"))
                        .map_err(|c| c.to_string())
                }))
            })
        }
        Case::OnEvent {
            kind,
            fields,
            settings,
            agency,
            client,
            worksite,
            actor,
            subject,
        } => {
            let named = |(id, name): (String, String)| Named { id, name };
            let actor = match actor {
                Some(actor) => actor.person()?,
                None => Person {
                    kind: PersonKind::PortalUser,
                    id: "1".into(),
                    name: "Test User".into(),
                    email: "test.user@example.com".into(),
                },
            };
            let event = NotificationEvent {
                kind,
                client: client.map(named),
                worksite: worksite.map(named),
                actor,
                subject: subject.map(CasePerson::person).transpose()?,
                fields,
            };
            let (slug, agency_name) =
                agency.unwrap_or_else(|| ("test".into(), "Test Agency".into()));
            hook(engine, &bound, "on-event", |store, instance, limits| {
                let guest = plugin
                    .notifications_export
                    .as_ref()
                    .context("the plugin has no notification rules")?
                    .load(&mut *store, instance)
                    .map_err(anyhow::Error::from)?;
                sandbox::arm(store, "on-event", limits);
                let answer = guest.call_on_event(
                    &mut *store,
                    &convert::event_out(&event, &slug, &agency_name, &settings),
                );
                Ok(answer.map(|r| {
                    r.map_err(convert::reported)
                        .and_then(|list| {
                            convert::notifications_in(plugin.id(), list, limits.output)
                        })
                        .map(|list| format!("{list:#?}"))
                        .map_err(|c| c.to_string())
                }))
            })
        }
    }
}

type HookAnswer = wasmtime::Result<Result<String, String>>;

fn hook(
    engine: &PluginEngine,
    bound: &Bound,
    name: &'static str,
    call: impl FnOnce(
        &mut wasmtime::Store<sandbox::Ctx>,
        &wasmtime::component::Instance,
        CallLimits,
    ) -> anyhow::Result<HookAnswer>,
) -> anyhow::Result<Report> {
    let limits = CallLimits::HOOK;
    let started = Instant::now();
    let (mut store, instance) = bound
        .plugin
        .instantiate(engine, "(test)", &bound.granted, limits)
        .map_err(anyhow::Error::from)?;
    let answer = call(&mut store, &instance, limits)?;
    let time = started.elapsed();
    let outcome = match answer {
        Ok(result) => result,
        Err(error) => Err(sandbox::failure(&store, name, limits, error).to_string()),
    };
    Ok(Report {
        hook: name,
        outcome,
        time,
        fuel: sandbox::fuel_used(&store, limits),
        peak_memory: sandbox::peak_memory(&store),
        limits,
    })
}
