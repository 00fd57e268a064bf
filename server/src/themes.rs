//! Themes: minijinja templates and static assets in a folder with a `theme.toml`. Template and
//! asset lookup walks the agency's override folder, its theme, the theme's parents, and `base`.

mod assets;
pub mod check;
pub mod manifest;
pub mod routes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};

pub use assets::{Asset, AssetIndex, content_type};
pub use manifest::{BASE, MANIFEST, ThemeManifest, catalog, chain, read_manifest};

use crate::config::AgencyConfig;

/// One agency's rendering environment: templates resolved through its chain, branding as
/// globals, assets indexed by content hash.
#[derive(Debug)]
pub struct AgencyTheme {
    pub name: String,
    env: Environment<'static>,
    pub assets: AssetIndex,
    /// Templates reload on change and assets are never cached for good.
    pub dev_mode: bool,
    /// `server.public_url` and the agency's slug: where links in emails start.
    pub agency_url: String,
}

impl AgencyTheme {
    pub fn build(
        slug: &str,
        agency: &AgencyConfig,
        catalog: &BTreeMap<String, PathBuf>,
        config_dir: &Path,
        dev_mode: bool,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        let mut folders: Vec<(String, PathBuf)> = Vec::new();
        if let Some(overrides) = &agency.overrides {
            folders.push(("overrides".into(), config_dir.join(overrides)));
        }
        folders.extend(chain(catalog, &agency.theme)?);
        let assets = AssetIndex::build(slug, &folders, agency, config_dir, dev_mode)?;
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|name| {
            if [".html", ".htm", ".svg", ".xml"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let lookup = folders.clone();
        env.set_loader(move |name| load_template(&lookup, name));
        env.set_auto_reload(dev_mode);
        env.add_global("agency", agency_globals(slug, agency, &assets, public_url));
        env.add_filter("hours", format_hours);
        env.add_filter("datetime", format_datetime);
        env.add_filter("money", format_money);
        env.add_filter("minutes_as_hours", format_minutes);
        let asset_urls = assets.clone();
        env.add_function(
            "asset",
            move |path: &str| -> Result<Value, minijinja::Error> {
                // Asset URLs are built here from hashes and theme file names, never from input.
                asset_urls
                    .url(path)
                    .map(Value::from_safe_string)
                    .ok_or_else(|| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("no asset \"{path}\" in this theme"),
                        )
                    })
            },
        );
        Ok(Self {
            name: agency.theme.clone(),
            env,
            assets,
            dev_mode,
            agency_url: format!("{}/{slug}", public_url.trim_end_matches('/')),
        })
    }

    /// Renders a template; errors name the template and line.
    pub fn render(&self, template: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(template)?.render(ctx)
    }

    /// Loads every page template once so a broken theme is found at start, not by a visitor.
    pub fn check(&self, templates: &[String]) -> anyhow::Result<()> {
        for name in templates {
            self.env
                .get_template(name)
                .map_err(|e| anyhow::anyhow!("{}", describe_template_error(&e)))?;
        }
        Ok(())
    }
}

/// `3750` (hundredths of an hour, as events carry hours) → `37.50`. Anything else is shown
/// as it came.
/// Cents as an amount: `123456` → `1,234.56`.
fn format_money(value: Value) -> String {
    let text = value.to_string();
    let Ok(cents) = text.trim().parse::<i64>() else {
        return text;
    };
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (n, digit) in units.chars().enumerate() {
        if n > 0 && (units.len() - n) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

/// Minutes as hours with two decimals: `450` → `7.50`.
fn format_minutes(value: Value) -> String {
    let text = value.to_string();
    match text.trim().parse::<i64>() {
        Ok(minutes) => format_hours(Value::from((minutes * 100 + 30).div_euclid(60))),
        Err(_) => text,
    }
}

fn format_hours(value: Value) -> String {
    let text = value.to_string();
    match text.trim().parse::<i64>() {
        Ok(hundredths) => {
            let sign = if hundredths < 0 { "-" } else { "" };
            let abs = hundredths.unsigned_abs();
            format!("{sign}{}.{:02}", abs / 100, abs % 100)
        }
        Err(_) => text,
    }
}

/// `2025-03-07T16:30:00Z` → `7 March 2025, 16:30 UTC`: events carry RFC 3339 instants, and
/// people read dates. Anything that is not an instant is shown as it came.
fn format_datetime(value: Value) -> String {
    use time::format_description::well_known::Rfc3339;
    let text = value.to_string();
    let Ok(at) = time::OffsetDateTime::parse(text.trim(), &Rfc3339) else {
        return text;
    };
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        at.day(),
        at.month(),
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// `login.html line 12: undefined value` — what an operator needs to find the fault.
pub fn describe_template_error(err: &minijinja::Error) -> String {
    let mut text = match (err.name(), err.line()) {
        (Some(name), Some(line)) => format!("{name} line {line}: {}", err.kind()),
        (Some(name), None) => format!("{name}: {}", err.kind()),
        _ => err.kind().to_string(),
    };
    if let Some(detail) = err.detail() {
        text.push_str(": ");
        text.push_str(detail);
    }
    text
}

/// Pages every theme chain must provide (through `base` at least); with the email templates
/// they make [`check::required_templates`].
pub const REQUIRED_TEMPLATES: &[&str] = &["layout.html", "login.html", "error.html"];

/// `name` is `page.html` (from `templates/`), `emails/...` (from `emails/`), or
/// `@theme/page.html` for one theme's own copy, so a child template can extend the parent's
/// template of the same name and override a single block.
fn load_template(
    folders: &[(String, PathBuf)],
    name: &str,
) -> Result<Option<minijinja::TemplateSource>, minijinja::Error> {
    let (search, relative): (&[(String, PathBuf)], &str) = match name.strip_prefix('@') {
        Some(rest) => {
            let (theme, path) = rest.split_once('/').unwrap_or((rest, ""));
            match folders.iter().position(|(n, _)| n == theme) {
                Some(at) => (&folders[at..], path),
                None => return Ok(None),
            }
        }
        None => (folders, name),
    };
    if relative
        .split('/')
        .any(|part| part == ".." || part.is_empty())
    {
        return Ok(None);
    }
    let sub = if relative.starts_with("emails/") {
        PathBuf::from(relative)
    } else {
        Path::new("templates").join(relative)
    };
    let candidates: Vec<PathBuf> = search.iter().map(|(_, folder)| folder.join(&sub)).collect();
    let Some(found) = candidates.iter().position(|path| path.is_file()) else {
        return Ok(None);
    };
    let path = candidates[found].clone();
    let stamp = file_stamp(&path);
    let source = std::fs::read_to_string(&path).map_err(|err| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "cannot read template",
        )
        .with_source(err)
    })?;
    // Out of date once the file changes or a nearer folder gains a template of that name.
    let nearer: Vec<PathBuf> = candidates[..found].to_vec();
    Ok(Some(
        minijinja::TemplateSource::new(source).with_uptodate_check(move || {
            file_stamp(&path) == stamp && !nearer.iter().any(|p| p.is_file())
        }),
    ))
}

fn file_stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// What every template knows about the agency. Emails are read away from the portal, so
/// they get absolute addresses (`url`, `logo_absolute_url`) built on `server.public_url`.
fn agency_globals(
    slug: &str,
    agency: &AgencyConfig,
    assets: &AssetIndex,
    public_url: &str,
) -> Value {
    let branding = &agency.branding;
    let url = format!("{}/{slug}", public_url.trim_end_matches('/'));
    let absolute = |path: String| {
        Value::from_safe_string(format!("{}{path}", public_url.trim_end_matches('/')))
    };
    context! {
        slug => slug,
        // Built from configuration (the public URL, a validated slug), never from input.
        url => Value::from_safe_string(url.clone()),
        portal_login_url => Value::from_safe_string(format!("{url}/portal/login")),
        logo_absolute_url => assets.branding_url("logo").map(absolute),
        name => &agency.display_name,
        // As configured. Admins may override it on the settings page: pages that depend on
        // the value in force get `portal_enabled` (or `portal_closed`) from their handler.
        portal_enabled => agency.portal_enabled,
        primary_color => branding.primary_color.as_ref().map(|c| c.to_string()),
        accent_color => branding.accent_color.as_ref().map(|c| c.to_string()),
        logo_url => assets.branding_url("logo").map(Value::from_safe_string),
        wallpaper_url => assets.branding_url("wallpaper").map(Value::from_safe_string),
        favicon_url => assets.branding_url("favicon").map(Value::from_safe_string),
        support_email => &branding.support_email,
        support_phone => &branding.support_phone,
        footer_text => &branding.footer_text,
    }
}

/// Every agency's theme, built at start.
#[derive(Debug, Default)]
pub struct Themes {
    by_agency: BTreeMap<String, Arc<AgencyTheme>>,
}

impl Themes {
    pub fn load(settings: &crate::config::Settings, config_dir: &Path) -> anyhow::Result<Self> {
        let catalog = catalog(&settings.paths.themes);
        let mut by_agency = BTreeMap::new();
        for agency in settings.agencies.values() {
            let theme = AgencyTheme::build(
                &agency.slug,
                agency,
                &catalog,
                config_dir,
                settings.server.dev_mode,
                &settings.server.public_url,
            )
            .with_context(|| format!("agency \"{}\": theme \"{}\"", agency.slug, agency.theme))?;
            theme.check(&check::required_templates()).with_context(|| {
                format!("agency \"{}\": theme \"{}\"", agency.slug, agency.theme)
            })?;
            by_agency.insert(agency.slug.clone(), Arc::new(theme));
        }
        Ok(Self { by_agency })
    }

    pub fn for_agency(&self, slug: &str) -> Option<&Arc<AgencyTheme>> {
        self.by_agency.get(slug)
    }

    pub fn len(&self) -> usize {
        self.by_agency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_agency.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_cents() {
        assert_eq!(format_money(Value::from(123_456_789)), "1,234,567.89");
        assert_eq!(format_money(Value::from(2450)), "24.50");
        assert_eq!(format_money(Value::from(-5)), "-0.05");
        assert_eq!(format_money(Value::from("n/a")), "n/a");
    }

    #[test]
    fn minutes_show_as_hours() {
        assert_eq!(format_minutes(Value::from(450)), "7.50");
        assert_eq!(format_minutes(Value::from(7)), "0.12");
    }
}
