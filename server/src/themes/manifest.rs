//! A theme folder's `theme.toml`, the themes installed, and the chain of parents a theme
//! extends. Read by the configuration check as well as by the theme loader.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

pub const MANIFEST: &str = crate::config::installed::THEME_MANIFEST;
/// The theme every chain ends with; it has a template for every page.
pub const BASE: &str = "base";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeManifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The parent theme this one changes; `base` when absent.
    #[serde(default)]
    pub extends: Option<String>,
}

impl ThemeManifest {
    /// Reads a `theme.toml`'s text; unknown keys are refused so a typo is not ignored.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// Theme names found in the theme folders, with the folder of each (first folder wins).
pub fn catalog(dirs: &[PathBuf]) -> BTreeMap<String, PathBuf> {
    crate::config::installed::catalog(dirs, MANIFEST)
}

pub fn read_manifest(folder: &Path) -> anyhow::Result<ThemeManifest> {
    let path = folder.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    ThemeManifest::parse(&text)
        .with_context(|| format!("{} is not a valid theme manifest", path.display()))
}

/// The folders searched for a theme, nearest first: the theme, its parent, …, `base`.
pub fn chain(
    catalog: &BTreeMap<String, PathBuf>,
    theme: &str,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut chain: Vec<(String, PathBuf)> = Vec::new();
    let mut next = Some(theme.to_owned());
    while let Some(name) = next {
        if chain.iter().any(|(seen, _)| *seen == name) {
            let path: Vec<&str> = chain.iter().map(|(n, _)| n.as_str()).collect();
            bail!(
                "theme \"{theme}\" extends itself: {} → {name}",
                path.join(" → ")
            );
        }
        let folder = catalog.get(&name).with_context(|| match chain.last() {
            Some((child, _)) => format!(
                "theme \"{child}\" extends \"{name}\", which is not installed (found: {})",
                catalog.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            None => format!("theme \"{name}\" is not installed"),
        })?;
        let manifest = read_manifest(folder)?;
        next = match manifest.extends {
            Some(parent) => Some(parent),
            None if name != BASE => Some(BASE.to_owned()),
            None => None,
        };
        chain.push((name, folder.clone()));
    }
    Ok(chain)
}
