//! Configuration from environment variables: every key the README documents, set through
//! its variable, takes effect; a bad value or a misspelt variable is reported by name.

use std::collections::BTreeSet;
use std::process::Output;

use portal_tests::{Installation, free_port, repo_root};

/// The README's configuration tables, keys as written there (`portal.toml`, then the agency
/// file's, which live under `agencies.<key>.`).
fn documented_keys() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("read README");
    let section = |start: &str, end: &str| -> String {
        let from = readme.find(start).expect("section start");
        let to = from + readme[from..].find(end).expect("section end");
        readme[from..to].to_owned()
    };
    let mut keys = BTreeSet::new();
    for (text, prefix) in [
        (section("### `portal.toml`", "### `agencies/"), ""),
        (
            section("### `agencies/<key>.toml`", "### Settings admins"),
            "agencies.acme.",
        ),
    ] {
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let first_cell = line.split(" | ").next().unwrap_or_default();
            let names: Vec<&str> = first_cell
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|name| !name.is_empty())
                .collect();
            let Some(first) = names.first() else { continue };
            let parent = first.rsplit_once('.').map_or("", |(parent, _)| parent);
            for name in &names {
                // `a.b` / `c` names the sibling `a.c`.
                let key = if name.contains('.') || parent.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{parent}.{name}")
                };
                keys.insert(format!("{prefix}{key}"));
            }
        }
    }
    keys
}

/// One documented key: the variable that sets it, the value given, and how `check-config
/// --show` prints the setting in force.
struct Case {
    documented: &'static str,
    key: String,
    value: String,
    shown: String,
}

fn cases(scratch: &std::path::Path) -> Vec<Case> {
    let root = repo_root();
    let path = |name: &str| scratch.join(name).display().to_string();
    let themes = root.join("themes").display().to_string();
    let plugins = root.join("dist/plugins").display().to_string();
    let text = |value: &str| format!("\"{value}\"");
    let list = |value: &str| format!("[\"{value}\"]");
    let plain = |documented: &'static str, value: &str, shown: String| Case {
        documented,
        key: documented.to_owned(),
        value: value.to_owned(),
        shown,
    };
    let agency = |documented: &'static str, key: &str, value: &str, shown: String| Case {
        documented,
        key: format!("agencies.acme.{key}"),
        value: value.to_owned(),
        shown,
    };
    let mut cases = vec![
        plain("server.listen", "127.0.0.1:18081", text("127.0.0.1:18081")),
        plain(
            "server.public_url",
            "https://portal.example",
            text("https://portal.example"),
        ),
        plain("server.dev_mode", "true", "true".into()),
        plain("server.max_body_bytes", "2048", "2048".into()),
        plain("server.request_header_timeout_seconds", "7", "7".into()),
        plain("server.max_connections", "300", "300".into()),
        plain("server.request_body_timeout_seconds", "9", "9".into()),
        plain(
            "server.client_ip_header",
            "x-forwarded-for",
            text("x-forwarded-for"),
        ),
        plain("server.metrics", "false", "false".into()),
        plain(
            "database.url",
            "postgres://portal:hunter2@db.example/portal",
            text("postgres://portal:***@db.example/portal"),
        ),
        plain("database.max_connections", "3", "3".into()),
        plain("database.acquire_timeout_seconds", "2", "2".into()),
        plain("paths.data", &path("data"), text(&path("data"))),
        plain("paths.themes", &format!("[\"{themes}\"]"), list(&themes)),
        plain("paths.plugins", &format!("[\"{plugins}\"]"), list(&plugins)),
        plain("mail.transport", "smtp", text("smtp")),
        plain(
            "mail.from",
            "Operations <ops@portal.example>",
            text("Operations <ops@portal.example>"),
        ),
        plain("mail.smtp.host", "mail.example", text("mail.example")),
        plain("mail.smtp.port", "2525", "2525".into()),
        plain("mail.smtp.tls", "tls", text("tls")),
        plain("mail.smtp.username", "ops", text("ops")),
        // Digits stay a password (text), and are never shown.
        plain("mail.smtp.password", "987654321", text("[redacted]")),
        plain("mail.smtp.timeout_seconds", "11", "11".into()),
        plain("mail.worker.enabled", "false", "false".into()),
        plain("mail.worker.poll_seconds", "3", "3".into()),
        plain("mail.worker.batch_size", "7", "7".into()),
        plain("mail.worker.max_attempts", "4", "4".into()),
        plain("mail.worker.retry_base_seconds", "5", "5".into()),
        plain("mail.worker.retry_max_seconds", "50", "50".into()),
        plain("mail.worker.lease_seconds", "100", "100".into()),
        plain("log.format", "json", text("json")),
        plain("log.level", "warn", text("warn")),
        plain("security.session_idle_minutes", "31", "31".into()),
        plain("security.session_absolute_hours", "13", "13".into()),
        plain("security.invite_hours", "71", "71".into()),
        plain("security.reset_minutes", "61", "61".into()),
        plain("security.throttle_delay_after", "6", "6".into()),
        plain("security.throttle_lock_after", "21", "21".into()),
        plain("security.throttle_window_minutes", "16", "16".into()),
        plain("security.throttle_lock_minutes", "17", "17".into()),
        plain("security.emails_per_address_per_hour", "4", "4".into()),
        plain(
            "security.contact",
            "[\"mailto:security@portal.example\"]",
            list("mailto:security@portal.example"),
        ),
        plain("plugins.max_instances", "50", "50".into()),
        plain("plugins.max_export_bytes", "1000000", "1000000".into()),
        plain("plugins.export_seconds", "45", "45".into()),
        plain("plugins.reload_poll_ms", "0", "0".into()),
        plain("plugins.cache_dir", &path("cache"), text(&path("cache"))),
        plain("plugins.max_recipients_per_event", "12", "12".into()),
    ];
    cases.extend([
        agency("agencies.acme.slug", "slug", "acme", text("acme")),
        agency(
            "agencies.acme.display_name",
            "display_name",
            "Acme from the environment",
            text("Acme from the environment"),
        ),
        agency("agencies.acme.theme", "theme", "harbor", text("harbor")),
        agency(
            "agencies.acme.portal_enabled",
            "portal_enabled",
            "false",
            "false".into(),
        ),
        agency(
            "agencies.acme.mail_from",
            "mail_from",
            "Acme Ops <ops@acme.example>",
            text("Acme Ops <ops@acme.example>"),
        ),
        agency(
            "agencies.acme.overrides",
            "overrides",
            &path("overrides"),
            text(&path("overrides")),
        ),
        agency(
            "agencies.acme.branding.logo",
            "branding.logo",
            "branding/brightfix/logo.svg",
            text("branding/brightfix/logo.svg"),
        ),
        agency(
            "agencies.acme.branding.wallpaper",
            "branding.wallpaper",
            "branding/brightfix/wallpaper.svg",
            text("branding/brightfix/wallpaper.svg"),
        ),
        agency(
            "agencies.acme.branding.favicon",
            "branding.favicon",
            "branding/brightfix/favicon.svg",
            text("branding/brightfix/favicon.svg"),
        ),
        agency(
            "agencies.acme.branding.primary_color",
            "branding.primary_color",
            "#ABC",
            text("#abc"),
        ),
        agency(
            "agencies.acme.branding.accent_color",
            "branding.accent_color",
            "#123456",
            text("#123456"),
        ),
        agency(
            "agencies.acme.branding.support_email",
            "branding.support_email",
            "help@acme.example",
            text("help@acme.example"),
        ),
        agency(
            "agencies.acme.branding.support_phone",
            "branding.support_phone",
            "0800 000 000",
            text("0800 000 000"),
        ),
        agency(
            "agencies.acme.branding.footer_text",
            "branding.footer_text",
            "Set by the operator",
            text("Set by the operator"),
        ),
        agency(
            "agencies.acme.plugins.role_set",
            "plugins.role_set",
            "roles-field-service",
            text("roles-field-service"),
        ),
        agency(
            "agencies.acme.plugins.notifications",
            "plugins.notifications",
            "[notify-standard]",
            list("notify-standard"),
        ),
        agency(
            "agencies.acme.plugins.exports",
            "plugins.exports",
            "[export-csv]",
            list("export-csv"),
        ),
        agency(
            "agencies.acme.plugins.settings.<plugin-id>.<key>",
            "plugins.settings.notify-standard.work-request-recipients",
            "desk@acme.example",
            text("desk@acme.example"),
        ),
        agency(
            "agencies.acme.plugins.grants.<plugin-id>",
            "plugins.grants.notify-standard",
            "[]",
            "[]".into(),
        ),
        agency(
            "agencies.acme.approval_deadline_days",
            "approval_deadline_days",
            "5",
            "5".into(),
        ),
        agency(
            "agencies.acme.security.password_min_length",
            "security.password_min_length",
            "12",
            "12".into(),
        ),
        agency(
            "agencies.acme.security.require_mfa_staff",
            "security.require_mfa_staff",
            "true",
            "true".into(),
        ),
        agency(
            "agencies.acme.security.require_mfa_portal",
            "security.require_mfa_portal",
            "true",
            "true".into(),
        ),
    ]);
    cases
}

fn variable(key: &str) -> String {
    format!("PORTAL_{}", key.replace('.', "__").to_ascii_uppercase())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn every_documented_key_can_be_set_from_the_environment() {
    let installation = Installation::new().await;
    let scratch = tempfile::tempdir().expect("scratch folder");
    std::fs::create_dir(scratch.path().join("overrides")).expect("overrides folder");
    let cases = cases(scratch.path());

    let documented = documented_keys();
    let tested: BTreeSet<String> = cases.iter().map(|c| c.documented.to_owned()).collect();
    assert_eq!(
        documented.difference(&tested).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keys the README documents without a case here"
    );
    assert_eq!(
        tested.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "cases for keys the README does not document"
    );

    let mut command = installation.portal_command(&["check-config", "--show"]);
    for case in &cases {
        command.env(variable(&case.key), &case.value);
    }
    let output = command.output().expect("run portal");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    for case in &cases {
        let line = format!("{} = {}  # {}", case.key, case.shown, variable(&case.key));
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} not in the settings shown:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("987654321"),
        "{stdout}"
    );
}

#[tokio::test]
async fn serve_listens_and_connects_where_the_environment_says() {
    let installation = Installation::new().await;
    // The file names a database nothing answers on: only the environment's works.
    installation.edit_main_config(
        &format!("url = \"{}\"", installation.database.url),
        "url = \"postgres://nobody@127.0.0.1:1/none\"",
    );
    let secret = tempfile::NamedTempFile::new().expect("secret file");
    std::fs::write(secret.path(), format!("{}\n", installation.database.url)).expect("write");
    let port = free_port();
    let mut command = installation.portal_command(&["serve"]);
    command
        .env("PORTAL_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTAL_DATABASE__URL_FILE", secret.path())
        .env("PORTAL_SERVER__METRICS", "false")
        .env(
            "PORTAL_AGENCIES__ACME__DISPLAY_NAME",
            "Acme from the environment",
        );
    let server = Installation::start(command).await;
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    let page = reqwest::get(server.url("/acme/portal/login"))
        .await
        .expect("sign-in page");
    assert_eq!(page.status(), 200);
    let body = page.text().await.expect("body");
    assert!(body.contains("Acme from the environment"), "{body}");
    let metrics = reqwest::get(server.url("/metrics")).await.expect("metrics");
    assert_eq!(metrics.status(), 404);
}

#[tokio::test]
async fn a_bad_value_or_a_misspelt_variable_is_named() {
    let installation = Installation::new().await;
    for (vars, expected) in [
        (
            vec![("PORTAL_SERVER__LISTEN", "not-an-address")],
            "PORTAL_SERVER__LISTEN: key `server.listen`: ",
        ),
        (
            vec![("PORTAL_DATABASE__URL", "mysql://nope")],
            "PORTAL_DATABASE__URL: key `database.url`: must start with sqlite: or postgres://",
        ),
        (
            vec![("PORTAL_SERVR__LISTEN", "127.0.0.1:1")],
            "PORTAL_SERVR__LISTEN: `servr` is not a configuration section (did you mean \
             PORTAL_SERVER__…?)",
        ),
        (
            vec![("PORTAL_DATABASE__ULR", "sqlite://x.db")],
            "PORTAL_DATABASE__ULR: key `database.ulr`: unknown field: found `ulr`",
        ),
        (
            vec![("PORTAL_MAIL__WORKER__LEASE_SECONDS", "10")],
            "PORTAL_MAIL__WORKER__LEASE_SECONDS: key `mail.worker.lease_seconds`: must be more",
        ),
        (
            vec![("PORTAL_SECURITY__CONTACT", "[\"security@portal.example\"]")],
            "PORTAL_SECURITY__CONTACT: key `security.contact`: \"security@portal.example\" is \
             not a mailto:, https:// or tel: address",
        ),
        (
            vec![("PORTAL_AGENCIES__ACME__THEME", "neon")],
            "PORTAL_AGENCIES__ACME__THEME: key `theme`: unknown theme \"neon\"",
        ),
        (
            vec![("PORTAL_DATABASE__URL_FILE", "/nonexistent/database-url")],
            "PORTAL_DATABASE__URL_FILE: cannot read the file /nonexistent/database-url",
        ),
    ] {
        for command in ["check-config", "serve"] {
            let mut run = installation.portal_command(&[command]);
            for (name, value) in &vars {
                run.env(name, value);
            }
            let output = run.output().expect("run portal");
            let stderr = stderr(&output);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{command} {vars:?}: {stderr}"
            );
            assert!(
                stderr.contains(expected),
                "{command} {vars:?}: {expected:?} not in {stderr}"
            );
        }
    }
}
