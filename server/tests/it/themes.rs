//! Theme inheritance, development-mode reloading, and render errors becoming the theme's
//! error page.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::StatusCode;
use minijinja::context;

use crate::support::{TestApp, agency, repo_root};

fn fixture_themes() -> std::path::PathBuf {
    repo_root().join("server/tests/fixtures/themes")
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}

fn asset_url(page: &str, slug: &str, suffix: &str) -> String {
    page.split('"')
        .find(|part| part.starts_with(&format!("/{slug}/assets/")) && part.ends_with(suffix))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn three_levels_of_themes_each_override_one_block() {
    let mut agencies = BTreeMap::new();
    agencies.insert(
        "deep".to_owned(),
        agency("slug = \"deep\"\ndisplay_name = \"Deep Staffing\"\ntheme = \"grandchild\"\n"),
    );
    let app = TestApp::with_agencies_adjusted(agencies, |settings| {
        settings.paths.themes = vec![fixture_themes(), repo_root().join("themes")];
    })
    .await;
    let page = app.get("/deep/portal/login").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // grandchild's block, child's block, and base's page around them.
    assert!(
        page.body.contains("page page-login grandchild-login"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Child theme introduction for Deep Staffing.")
    );
    assert!(!page.body.contains("See your timesheets"));
    assert!(page.body.contains(r#"<label for="email">Email</label>"#));
    // Assets follow the same chain: grandchild's theme.css, base's portal.css.
    let theme_css = app
        .get(&asset_url(&page.body, "deep", "css/theme.css"))
        .await;
    assert!(
        theme_css.body.contains("/* grandchild */"),
        "{}",
        theme_css.body
    );
    let portal_css = app
        .get(&asset_url(&page.body, "deep", "css/portal.css"))
        .await;
    assert!(portal_css.body.contains(".login-card"));
    // Emails come from base through the chain.
    let deep = app.agency("deep");
    let vars = portal_server::mail::sample_variables("invite", &deep.theme.agency_url);
    let email = portal_server::mail::render(&deep.theme, "invite", &vars).expect("render");
    assert!(email.subject.contains("Deep Staffing"));
}

/// An app whose `acme` has an override folder, optionally in development mode.
async fn app_with_overrides(overrides: &Path, dev_mode: bool) -> TestApp {
    let mut agencies = TestApp::demo_agencies();
    if let Some(acme) = agencies.get_mut("acme") {
        acme.overrides = Some(overrides.to_path_buf());
    }
    TestApp::with_agencies_adjusted(agencies, |settings| settings.server.dev_mode = dev_mode).await
}

#[tokio::test]
async fn development_mode_reloads_templates_and_assets_without_a_restart() {
    let overrides = tempfile::tempdir().expect("tempdir");
    let login = overrides.path().join("templates/login.html");
    let css = overrides.path().join("static/css/theme.css");
    write(
        &login,
        "{% extends \"@base/login.html\" %}{% block login_intro %}<h1 id=\"login-title\">First version</h1>{% endblock %}",
    );
    write(&css, ":root { --brand-accent: #0f766e; }\n");
    let app = app_with_overrides(overrides.path(), true).await;

    let first = app.get("/acme/portal/login").await;
    assert!(first.body.contains("First version"), "{}", first.body);
    let first_css = asset_url(&first.body, "acme", "css/theme.css");
    assert_eq!(
        app.get(&first_css).await.header("cache-control"),
        "no-cache"
    );

    write(
        &login,
        "{% extends \"@base/login.html\" %}{% block login_intro %}<h1 id=\"login-title\">Second, longer version</h1>{% endblock %}",
    );
    write(&css, ":root { --brand-accent: #b45309; --changed: 1; }\n");
    let second = app.get("/acme/portal/login").await;
    assert!(
        second.body.contains("Second, longer version"),
        "{}",
        second.body
    );
    let second_css = asset_url(&second.body, "acme", "css/theme.css");
    assert_ne!(first_css, second_css, "a changed file gets a new hash");
    let served = app.get(&second_css).await;
    assert!(served.body.contains("#b45309"), "{}", served.body);

    // A file added while running is found too.
    write(
        &overrides.path().join("static/img/new.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    write(
        &login,
        "{% extends \"@base/login.html\" %}{% block login_intro %}<img src=\"{{ asset('img/new.svg') }}\" alt=\"\">{% endblock %}",
    );
    let third = app.get("/acme/portal/login").await;
    let svg = asset_url(&third.body, "acme", "img/new.svg");
    assert_eq!(app.get(&svg).await.header("content-type"), "image/svg+xml");
}

#[tokio::test]
async fn without_development_mode_assets_keep_their_hash() {
    let overrides = tempfile::tempdir().expect("tempdir");
    let css = overrides.path().join("static/css/theme.css");
    write(&css, ":root { --brand-accent: #0f766e; }\n");
    let app = app_with_overrides(overrides.path(), false).await;
    let before = asset_url(
        &app.get("/acme/portal/login").await.body,
        "acme",
        "css/theme.css",
    );
    write(&css, ":root { --brand-accent: #b45309; --changed: 1; }\n");
    let after = asset_url(
        &app.get("/acme/portal/login").await.body,
        "acme",
        "css/theme.css",
    );
    assert_eq!(before, after);
    assert_eq!(
        app.get(&before).await.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn a_broken_template_becomes_the_themed_500_page_not_a_blank() {
    let overrides = tempfile::tempdir().expect("tempdir");
    // Parses (so the server starts) but fails when rendered: an unknown filter on line 3.
    write(
        &overrides.path().join("templates/login.html"),
        "{% extends \"@base/login.html\" %}\n{% block login_intro %}\n<h1>{{ title|no_such_filter }}</h1>\n{% endblock %}\n",
    );
    let app = app_with_overrides(overrides.path(), true).await;
    let response = app.get("/acme/portal/login").await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response.body.contains("Something went wrong"),
        "{}",
        response.body
    );
    assert!(
        response.body.contains("Acme Staffing"),
        "themed: {}",
        response.body
    );
    assert!(
        !response.body.contains("no_such_filter"),
        "no internals: {}",
        response.body
    );
    // What the log line says: the template and the line.
    let err = app
        .agency("acme")
        .theme
        .render("login.html", context! { area => "portal", title => "x" })
        .expect_err("render fails");
    let described = portal_server::themes::describe_template_error(&err);
    assert!(described.starts_with("login.html line 3:"), "{described}");

    // A syntax error written while the server runs is a 500 page as well.
    write(
        &overrides.path().join("templates/login.html"),
        "{% extends \"@base/login.html\" %}\n{% block login_intro %}\n{{ title \n{% endblock %}\n",
    );
    let response = app.get("/acme/portal/login").await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.body.contains("Acme Staffing"), "{}", response.body);
    // Other agencies are unaffected.
    assert_eq!(
        app.get("/brightfix/portal/login").await.status,
        StatusCode::OK
    );
}
