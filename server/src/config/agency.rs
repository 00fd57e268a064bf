//! One agency's configuration (`config/agencies/<key>.toml`) and its validation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ConfigError, Loaded, installed};

/// One agency (tenant): who it is, how its portal looks, which plugins shape it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// The agency's portal URL segment (`/{slug}/portal`). Lowercase letters, digits and
    /// hyphens; it can never change once the agency exists.
    pub slug: String,
    pub display_name: String,
    #[serde(default = "default_theme")]
    pub theme: String,
    /// When off, portal users cannot sign in and no portal email is sent.
    #[serde(default = "enabled")]
    pub portal_enabled: bool,
    /// Sender of the agency's email, e.g. `Acme Staffing <portal@acme.example>`.
    #[serde(default)]
    pub mail_from: Option<String>,
    /// A folder of templates that override the theme's for this agency only.
    #[serde(default)]
    pub overrides: Option<PathBuf>,
    #[serde(default)]
    pub branding: Branding,
    #[serde(default)]
    pub plugins: AgencyPlugins,
    #[serde(default)]
    pub security: AgencySecurity,
    /// Days a client has to decide a timesheet, from its work date, before the staff home
    /// counts it overdue (1 to 60).
    #[serde(default = "approval_deadline_days")]
    pub approval_deadline_days: i64,
}

/// Sign-in rules an agency chooses for its own users.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgencySecurity {
    /// Shortest password accepted (at least 8; 15 is recommended).
    pub password_min_length: usize,
    pub require_mfa_staff: bool,
    pub require_mfa_portal: bool,
}

impl Default for AgencySecurity {
    fn default() -> Self {
        Self {
            password_min_length: 8,
            require_mfa_staff: false,
            require_mfa_portal: false,
        }
    }
}

fn default_theme() -> String {
    "base".into()
}

fn enabled() -> bool {
    true
}

fn approval_deadline_days() -> i64 {
    3
}

/// The agency's look beyond its theme. Image paths are relative to the configuration folder.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    pub logo: Option<PathBuf>,
    /// The picture behind the sign-in form.
    pub wallpaper: Option<PathBuf>,
    pub favicon: Option<PathBuf>,
    pub primary_color: Option<Color>,
    pub accent_color: Option<Color>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub footer_text: Option<String>,
}

/// Which plugins shape this agency's portal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgencyPlugins {
    /// The roles portal users can be given.
    pub role_set: String,
    /// Who hears about what.
    pub notifications: Vec<String>,
    /// File formats offered for exports.
    pub exports: Vec<String>,
    /// Settings handed to a plugin, keyed by plugin id.
    pub settings: BTreeMap<String, BTreeMap<String, String>>,
    /// Capabilities (beyond logging) granted to a plugin, keyed by plugin id.
    pub grants: BTreeMap<String, Vec<String>>,
}

impl Default for AgencyPlugins {
    fn default() -> Self {
        Self {
            role_set: "roles-staffing".into(),
            notifications: vec!["notify-standard".into()],
            exports: vec![
                "export-csv".into(),
                "export-xlsx".into(),
                "export-json".into(),
            ],
            settings: BTreeMap::new(),
            grants: BTreeMap::new(),
        }
    }
}

impl AgencyPlugins {
    /// Every plugin id the agency uses, once each.
    pub fn all(&self) -> BTreeSet<&str> {
        std::iter::once(self.role_set.as_str())
            .chain(self.notifications.iter().map(String::as_str))
            .chain(self.exports.iter().map(String::as_str))
            .collect()
    }
}

/// A CSS colour written `#rgb` or `#rrggbb`; anything else is refused at start-up so it
/// cannot break a stylesheet (or smuggle CSS into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text.strip_prefix('#').unwrap_or("");
        if (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(format!(
                "\"{text}\" is not a colour: write it as #rrggbb or #rgb"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Color::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Words a slug may not take because the first path segment is theirs.
const RESERVED_SLUGS: &[&str] = &[
    "api",
    "static",
    "assets",
    "healthz",
    "readyz",
    "metrics",
    "favicon.ico",
    "robots.txt",
];

/// Why a slug is unusable, or `None` when it is fine.
pub fn slug_problem(slug: &str) -> Option<String> {
    let well_formed = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !well_formed {
        Some(format!(
            "\"{slug}\" is not a valid slug: use 1 to 63 lowercase letters, digits and hyphens, \
             not starting or ending with a hyphen"
        ))
    } else if RESERVED_SLUGS.contains(&slug) {
        Some(format!(
            "\"{slug}\" is reserved by the portal; choose another slug"
        ))
    } else {
        None
    }
}

/// Checks what types alone cannot: slug rules, duplicate slugs, themes and plugins that exist,
/// branding images that exist.
pub(super) fn validate(loaded: &Loaded) -> Result<(), ConfigError> {
    let settings = &loaded.settings;
    let themes = crate::themes::manifest::catalog(&settings.paths.themes);
    let plugins = installed::catalog(&settings.paths.plugins, installed::PLUGIN_MANIFEST);
    let mut problems = Vec::new();
    let mut slugs: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, agency) in &settings.agencies {
        let at = |field: &str| {
            let path = format!("agencies.{key}.{field}");
            format!("{}: key `{field}`", loaded.source_of(&path))
        };
        if let Some(problem) = slug_problem(&agency.slug) {
            problems.push(format!("{}: {problem}", at("slug")));
        } else if let Some(other) = slugs.insert(&agency.slug, key) {
            problems.push(format!(
                "{}: slug \"{}\" is already used by agency \"{other}\"",
                at("slug"),
                agency.slug
            ));
        }
        if agency.security.password_min_length < 8 || agency.security.password_min_length > 64 {
            problems.push(format!(
                "{}: must be between 8 and 64",
                at("security.password_min_length")
            ));
        }
        if !(1..=60).contains(&agency.approval_deadline_days) {
            problems.push(format!(
                "{}: must be between 1 and 60",
                at("approval_deadline_days")
            ));
        }
        if agency.display_name.trim().is_empty() {
            problems.push(format!("{}: must not be empty", at("display_name")));
        }
        if !themes.contains_key(&agency.theme) {
            problems.push(format!(
                "{}: unknown theme \"{}\" (found: {})",
                at("theme"),
                agency.theme,
                known(themes.keys())
            ));
        } else if let Err(err) = crate::themes::manifest::chain(&themes, &agency.theme) {
            // A parent that is missing, or a chain that loops, leaves templates unresolvable.
            problems.push(format!("{}: {err:#}", at("theme")));
        }
        if let Some(from) = &agency.mail_from
            && let Err(problem) = crate::email::parse_sender(from)
        {
            problems.push(format!("{}: {problem}", at("mail_from")));
        }
        let field_of = |id: &str| {
            if id == agency.plugins.role_set {
                "plugins.role_set"
            } else if agency.plugins.notifications.iter().any(|n| n == id) {
                "plugins.notifications"
            } else {
                "plugins.exports"
            }
        };
        for id in agency.plugins.all() {
            if !plugins.contains_key(id) {
                problems.push(format!(
                    "{}: unknown plugin \"{id}\" (found: {}; build the built-in plugins with \
                     `cargo xtask plugins`)",
                    at(field_of(id)),
                    known(plugins.keys())
                ));
            }
        }
        let images = [
            ("branding.logo", &agency.branding.logo),
            ("branding.wallpaper", &agency.branding.wallpaper),
            ("branding.favicon", &agency.branding.favicon),
        ];
        for (field, path) in images {
            if let Some(path) = path
                && let Err(problem) = check_image(&loaded.dir, path)
            {
                problems.push(format!("{}: {problem}", at(field)));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Image paths in an agency file are relative to the configuration folder (the parent of
/// `agencies/`); set from the environment, they are relative to the working directory.
/// Kinds of image a browser shows as a logo, wallpaper or favicon.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "avif"];

fn check_image(base: &std::path::Path, path: &std::path::Path) -> Result<(), String> {
    let full = base.join(path);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !IMAGE_EXTENSIONS.contains(&extension.as_str()) {
        return Err(format!(
            "\"{}\" is not an image file ({})",
            path.display(),
            IMAGE_EXTENSIONS.join(", ")
        ));
    }
    if !full.is_file() {
        return Err(format!("image file \"{}\" does not exist", full.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_with_hyphens() {
        assert_eq!(slug_problem("acme-staffing-2"), None);
        assert!(slug_problem("Acme").is_some());
        assert!(slug_problem("acme staffing").is_some());
        assert!(slug_problem("-acme").is_some());
        assert!(slug_problem("").is_some());
        assert!(slug_problem("api").is_some_and(|p| p.contains("reserved")));
    }

    #[test]
    fn colours_must_be_hex() {
        assert_eq!(
            Color::parse("#1D4ED8").map(|c| c.to_string()),
            Ok("#1d4ed8".into())
        );
        assert!(Color::parse("#abc").is_ok());
        assert!(Color::parse("red").is_err());
        assert!(Color::parse("#12345g").is_err());
        assert!(Color::parse("#fff;background:url(x)").is_err());
    }
}
