//! `plugin.toml`: what a plugin is, which API it targets, which worlds it implements and which
//! capabilities it asks for. Checked before any code is compiled or run.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

pub const FILE_NAME: &str = crate::config::installed::PLUGIN_MANIFEST;

/// The plugin API versions this host can run.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    RoleSet,
    NotificationRules,
    ExportFormat,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RoleSet => "role-set",
            Self::NotificationRules => "notification-rules",
            Self::ExportFormat => "export-format",
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The `portal:plugin` WIT version the component was built against.
    pub api: String,
    #[serde(default)]
    pub description: String,
    pub worlds: Vec<World>,
    /// Capabilities beyond logging; granted per agency in its configuration.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
}

/// What a plugin may ask for beyond logging. Without a grant a plugin still links WASI, but
/// with nothing behind it: no preopened directories, no environment, no sockets, a fixed
/// clock and deterministic random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// The real wall and monotonic clocks.
    Clock,
    /// Real random bytes.
    Random,
    /// Outgoing TCP/UDP and name look-ups (`wasi:sockets`).
    Network,
}

impl Capability {
    pub const ALL: [Capability; 3] = [Self::Clock, Self::Random, Self::Network];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clock => "clock",
            Self::Random => "random",
            Self::Network => "network",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// What a plugin needs to import `import`.
    pub fn needed_by(import: &str) -> ImportRule {
        const ALWAYS: &[&str] = &[
            "portal:plugin/logging@",
            "portal:plugin/types@",
            "wasi:cli/",
            "wasi:io/",
            "wasi:clocks/",
            "wasi:random/",
            "wasi:filesystem/",
        ];
        if ALWAYS.iter().any(|prefix| import.starts_with(prefix)) {
            ImportRule::Allowed
        } else if import.starts_with("wasi:sockets/") {
            ImportRule::Needs(Self::Network)
        } else {
            ImportRule::Refused
        }
    }
}

/// Whether a plugin may import an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportRule {
    /// Every plugin may: its own contract, and WASI linked with nothing granted.
    Allowed,
    /// Only with this capability declared (and granted by the agency).
    Needs(Capability),
    /// Portal provides nothing behind it.
    Refused,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Manifest {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{} is not a valid manifest", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        if crate::config::slug_problem(&manifest.id).is_some() {
            anyhow::bail!(
                "id \"{}\" must be lowercase letters, digits and hyphens",
                manifest.id
            );
        }
        if !SUPPORTED_API_VERSIONS.contains(&manifest.api.as_str()) {
            anyhow::bail!(
                "plugin {} {} targets plugin API {}, but this server supports {}",
                manifest.id,
                manifest.version,
                manifest.api,
                SUPPORTED_API_VERSIONS.join(", ")
            );
        }
        if manifest.version.trim().is_empty() {
            anyhow::bail!("plugin {} has an empty version", manifest.id);
        }
        if manifest.worlds.is_empty() {
            anyhow::bail!("plugin {} declares no worlds", manifest.id);
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        id = "export-csv"
        name = "CSV"
        version = "1.0.0"
        api = "0.1.0"
        worlds = ["export-format"]
    "#;

    #[test]
    fn a_complete_manifest_parses() -> anyhow::Result<()> {
        let manifest = Manifest::parse(GOOD)?;
        assert_eq!(manifest.worlds, vec![World::ExportFormat]);
        assert!(manifest.capabilities.is_empty());
        Ok(())
    }

    #[test]
    fn an_unknown_api_version_is_refused_with_its_name() {
        let err = Manifest::parse(&GOOD.replace("0.1.0", "9.0.0"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("targets plugin API 9.0.0"), "{err}");
        assert!(err.contains("export-csv 1.0.0"), "{err}");
    }

    #[test]
    fn unknown_capabilities_are_refused() {
        let text = format!("{GOOD}capabilities = [\"filesystem\"]");
        assert!(Manifest::parse(&text).is_err());
        let text = format!("{GOOD}capabilities = [\"network\"]");
        assert!(Manifest::parse(&text).is_ok_and(|m| m.capabilities == [Capability::Network]));
    }

    #[test]
    fn imports_map_to_capabilities() {
        assert_eq!(
            Capability::needed_by("wasi:cli/environment@0.2.6"),
            ImportRule::Allowed
        );
        assert_eq!(
            Capability::needed_by("portal:plugin/logging@0.1.0"),
            ImportRule::Allowed
        );
        assert_eq!(
            Capability::needed_by("wasi:sockets/tcp@0.2.6"),
            ImportRule::Needs(Capability::Network)
        );
        assert_eq!(
            Capability::needed_by("wasi:http/outgoing-handler@0.2.6"),
            ImportRule::Refused
        );
    }

    #[test]
    fn unknown_worlds_are_refused() {
        assert!(Manifest::parse(&GOOD.replace("export-format", "file-system")).is_err());
    }
}
