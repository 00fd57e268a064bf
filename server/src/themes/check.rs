//! `portal theme check DIR`: finds what would break a theme before an agency uses it — a
//! missing parent, a loop of parents, a template that does not parse or render, a page or
//! email that no theme in the chain provides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::context;

use super::{AgencyTheme, REQUIRED_TEMPLATES, chain, read_manifest};
use crate::config::{AgencyConfig, AgencyPlugins, AgencySecurity, Branding, Color};

/// A theme that passed: its name, its chain (nearest first) and how many of its own
/// templates were parsed.
#[derive(Debug)]
pub struct CheckedTheme {
    pub name: String,
    pub chain: Vec<String>,
    pub parsed: usize,
}

/// Every template file a theme needs, through its chain: the pages and each email's parts.
pub fn required_templates() -> Vec<String> {
    let pages = REQUIRED_TEMPLATES.iter().map(|t| (*t).to_owned());
    let emails = crate::mail::TEMPLATES.iter().flat_map(|template| {
        crate::mail::TEMPLATE_FILES
            .iter()
            .map(move |file| format!("emails/{template}/{file}"))
    });
    pages.chain(emails).collect()
}

/// Checks the theme in `dir`; its parents are looked up beside it and in `theme_dirs`.
/// Problems come back one per line, each naming the template file and line.
pub fn check_folder(dir: &Path, theme_dirs: &[PathBuf]) -> Result<CheckedTheme, Vec<String>> {
    let manifest = read_manifest(dir).map_err(|err| vec![format!("{err:#}")])?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&manifest.name)
        .to_owned();
    let mut search: Vec<PathBuf> = dir.parent().map(Path::to_path_buf).into_iter().collect();
    search.extend(theme_dirs.iter().cloned());
    let mut catalog: BTreeMap<String, PathBuf> = super::catalog(&search);
    // The folder being checked wins over an installed theme of the same name.
    catalog.insert(name.clone(), dir.to_path_buf());
    let folders = chain(&catalog, &name).map_err(|err| {
        vec![format!(
            "{}: key `extends`: {err:#}",
            dir.join(super::MANIFEST).display()
        )]
    })?;

    let agency = sample_agency(&name);
    let theme = AgencyTheme::build(
        "theme-check",
        &agency,
        &catalog,
        Path::new("."),
        false,
        "https://portal.example",
    )
    .map_err(|err| vec![format!("{err:#}")])?;

    let mut problems = Vec::new();
    let own = own_templates(dir);
    for template in &own {
        if let Err(err) = theme.env.get_template(template) {
            problems.push(located(dir, &err));
        }
    }
    for template in required_templates() {
        if let Err(err) = render_sample(&theme, &template) {
            problems.push(located(dir, &err));
        }
    }
    if problems.is_empty() {
        Ok(CheckedTheme {
            name,
            chain: folders.into_iter().map(|(n, _)| n).collect(),
            parsed: own.len(),
        })
    } else {
        problems.dedup();
        Err(problems)
    }
}

/// An agency with every branding field set, so templates meet each `if agency.…` branch.
fn sample_agency(theme: &str) -> AgencyConfig {
    AgencyConfig {
        slug: "theme-check".into(),
        display_name: "Sample Agency".into(),
        theme: theme.to_owned(),
        portal_enabled: true,
        mail_from: None,
        overrides: None,
        branding: Branding {
            primary_color: Color::parse("#1d4ed8").ok(),
            accent_color: Color::parse("#0f766e").ok(),
            support_email: Some("help@agency.example".into()),
            support_phone: Some("0113 496 0000".into()),
            footer_text: Some("Sample Agency Ltd".into()),
            ..Branding::default()
        },
        plugins: AgencyPlugins::default(),
        security: AgencySecurity::default(),
        approval_deadline_days: 3,
    }
}

fn render_sample(theme: &AgencyTheme, template: &str) -> Result<(), minijinja::Error> {
    let ctx = match template {
        "login.html" => context! { area => "portal", title => "Sign in" },
        "error.html" => context! { status => 404, message => "Not here." },
        _ => match template
            .strip_prefix("emails/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((email, _)) => crate::mail::sample_variables(email, "https://portal.example"),
            None => context! { title => "Sample" },
        },
    };
    theme.render(template, ctx).map(|_| ())
}

/// Template names (as the loader knows them) of the files in `templates/` and `emails/`.
fn own_templates(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for (folder, prefix) in [("templates", ""), ("emails", "emails/")] {
        let root = dir.join(folder);
        let Ok(files) = super::assets::files_under(&root) else {
            continue;
        };
        for file in files {
            let is_template = file
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "html" | "txt" | "xml" | "svg"));
            if let (true, Ok(relative)) = (is_template, file.strip_prefix(&root)) {
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                names.push(format!("{prefix}{relative}"));
            }
        }
    }
    names.sort();
    names
}

/// `themes/harbor/templates/login.html line 3: syntax error: …` for this theme's own files;
/// a template inherited from a parent keeps its loader name.
fn located(dir: &Path, err: &minijinja::Error) -> String {
    let described = super::describe_template_error(err);
    match err.name() {
        Some(name) if !name.starts_with('@') => {
            let folder = if name.starts_with("emails/") {
                dir.to_path_buf()
            } else {
                dir.join("templates")
            };
            let file = folder.join(name);
            if file.is_file() {
                return format!("{}{}", file.display(), &described[name.len()..]);
            }
            described
        }
        _ => described,
    }
}
