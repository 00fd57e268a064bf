//! Static assets of an agency's theme chain, addressed by content hash so browsers may cache
//! them forever: `/{agency}/assets/{hash}/{path}`. Requests are looked up in the index, never
//! joined onto a folder, so no path can climb out of a theme.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::config::AgencyConfig;

#[derive(Debug, Clone)]
pub struct Asset {
    pub source: AssetSource,
    pub content_type: &'static str,
}

#[derive(Debug, Clone)]
pub enum AssetSource {
    File(PathBuf),
    /// Made from configuration at start, such as the agency's colour stylesheet.
    Generated(Arc<[u8]>),
}

impl Asset {
    pub async fn bytes(&self) -> std::io::Result<Vec<u8>> {
        match &self.source {
            AssetSource::File(path) => tokio::fs::read(path).await,
            AssetSource::Generated(bytes) => Ok(bytes.to_vec()),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    asset: Asset,
    hash: String,
}

#[derive(Debug, Clone)]
pub struct AssetIndex {
    slug: String,
    entries: Arc<BTreeMap<String, Entry>>,
    /// In development mode, where to look for files afresh on every use, so an edited or a
    /// new file is served (under its new hash) without a restart.
    live: Option<Arc<LiveSources>>,
}

#[derive(Debug)]
struct LiveSources {
    /// `static/` of every folder, nearest first.
    roots: Vec<PathBuf>,
    /// `branding/logo` and the like, to their files.
    branding: BTreeMap<String, PathBuf>,
}

impl LiveSources {
    fn find(&self, path: &str) -> Option<PathBuf> {
        if let Some(file) = self.branding.get(path) {
            return Some(file.clone());
        }
        // Only plain names: no `..`, no absolute paths, no empty segments.
        if path.is_empty()
            || !Path::new(path)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        self.roots
            .iter()
            .map(|root| root.join(path))
            .find(|file| file.is_file())
    }
}

impl AssetIndex {
    /// Indexes `static/` of every folder, nearest first, plus the agency's branding images
    /// under `branding/logo`, `branding/wallpaper` and `branding/favicon`.
    pub fn build(
        slug: &str,
        folders: &[(String, PathBuf)],
        agency: &AgencyConfig,
        config_dir: &Path,
        dev_mode: bool,
    ) -> anyhow::Result<Self> {
        let mut entries = BTreeMap::new();
        let mut live = LiveSources {
            roots: folders.iter().map(|(_, f)| f.join("static")).collect(),
            branding: BTreeMap::new(),
        };
        for (_, folder) in folders {
            let root = folder.join("static");
            for file in files_under(&root)? {
                let Ok(relative) = file.strip_prefix(&root) else {
                    continue;
                };
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                // Nearer folders were indexed first and win.
                if let std::collections::btree_map::Entry::Vacant(slot) = entries.entry(key) {
                    slot.insert(entry(file)?);
                }
            }
        }
        let branding = [
            ("logo", &agency.branding.logo),
            ("wallpaper", &agency.branding.wallpaper),
            ("favicon", &agency.branding.favicon),
        ];
        for (name, path) in branding {
            if let Some(path) = path {
                let file = config_dir.join(path);
                entries.insert(format!("branding/{name}"), entry(file.clone())?);
                live.branding.insert(format!("branding/{name}"), file);
            }
        }
        let css = branding_css(agency);
        entries.insert(
            "branding.css".to_owned(),
            Entry {
                hash: short_hash(css.as_bytes()),
                asset: Asset {
                    source: AssetSource::Generated(css.into_bytes().into()),
                    content_type: "text/css; charset=utf-8",
                },
            },
        );
        Ok(Self {
            slug: slug.to_owned(),
            entries: Arc::new(entries),
            live: dev_mode.then(|| Arc::new(live)),
        })
    }

    /// The entry as it is now: from the index, or in development mode from the files.
    fn current(&self, path: &str) -> Option<Entry> {
        // Generated assets (the branding stylesheet) come from configuration, which does not
        // reload, and win over a theme file of the same name as they do at start.
        if let Some(entry) = self.entries.get(path)
            && matches!(entry.asset.source, AssetSource::Generated(_))
        {
            return Some(entry.clone());
        }
        let fresh = self
            .live
            .as_ref()
            .and_then(|live| live.find(path))
            .and_then(|file| entry(file).ok());
        fresh.or_else(|| self.entries.get(path).cloned())
    }

    /// The hashed URL of an asset, or `None` when no theme in the chain has it.
    pub fn url(&self, path: &str) -> Option<String> {
        let entry = self.current(path)?;
        Some(format!("/{}/assets/{}/{path}", self.slug, entry.hash))
    }

    pub fn branding_url(&self, name: &str) -> Option<String> {
        self.url(&format!("branding/{name}"))
    }

    /// The asset behind a request, and whether the requested hash is the current one (only
    /// then may the response be cached for good).
    pub fn lookup(&self, hash: &str, path: &str) -> Option<(Asset, bool)> {
        let entry = self.current(path)?;
        let current = entry.hash == hash;
        Some((entry.asset, current))
    }
}

fn entry(file: PathBuf) -> anyhow::Result<Entry> {
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(Entry {
        hash: short_hash(&bytes),
        asset: Asset {
            content_type: content_type(&file),
            source: AssetSource::File(file),
        },
    })
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// The agency's colours as CSS custom properties, served as a file because the content
/// security policy allows no inline styles. Colours were validated as hex at start-up.
fn branding_css(agency: &AgencyConfig) -> String {
    let mut css = String::from(":root {\n");
    if let Some(color) = &agency.branding.primary_color {
        css.push_str(&format!("  --brand-primary: {color};\n"));
    }
    if let Some(color) = &agency.branding.accent_color {
        css.push_str(&format!("  --brand-accent: {color};\n"));
    }
    css.push_str("}\n");
    css
}

pub(super) fn files_under(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", dir.display())),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// The `Content-Type` for a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
