//! Pages, errors, assets and health over the real router.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::support::{TestApp, agency};

#[tokio::test]
async fn each_agency_gets_its_own_themed_sign_in_page() {
    let app = TestApp::spawn().await;
    let acme = app.get("/acme/portal/login").await;
    assert_eq!(acme.status, StatusCode::OK);
    assert!(acme.body.contains("Acme Staffing"), "{}", acme.body);
    assert!(acme.body.contains("/acme/assets/"), "{}", acme.body);
    assert!(acme.body.contains(r#"<label for="email">Email</label>"#));
    let brightfix = app.get("/brightfix/portal/login").await;
    assert_eq!(brightfix.status, StatusCode::OK);
    assert!(brightfix.body.contains("BrightFix Facilities"));
    // harbor overrides only the intro block of base's sign-in page
    assert!(brightfix.body.contains("Track jobs, quotes, invoices"));
    assert!(!acme.body.contains("Track jobs, quotes, invoices"));
    let staff = app.get("/acme/manage/login").await;
    assert!(staff.body.contains("Staff sign-in"));
    assert!(staff.body.contains(r#"action="/acme/manage/login""#));
}

#[tokio::test]
async fn agency_root_leads_to_the_portal_sign_in() {
    let app = TestApp::spawn().await;
    let response = app.get("/acme/").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/acme/portal/login");
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    for path in ["/acme/portal/login", "/nowhere", "/healthz"] {
        let response = app.get(path).await;
        let csp = response.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(response.header("x-content-type-options"), "nosniff");
        assert_eq!(response.header("referrer-policy"), "same-origin", "{path}");
        assert!(!response.header("x-request-id").is_empty(), "{path}");
        assert_eq!(
            response.header("strict-transport-security"),
            "",
            "{path}: no HSTS over plain HTTP"
        );
    }
    let over_tls = TestApp::spawn_with(|settings| {
        settings.server.public_url = "https://portal.example".into();
    })
    .await;
    for path in ["/acme/portal/login", "/nowhere", "/healthz"] {
        let response = over_tls.get(path).await;
        assert_eq!(
            response.header("strict-transport-security"),
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    assert_ne!(first.header("x-request-id"), second.header("x-request-id"));
}

#[tokio::test]
async fn unknown_pages_get_the_agency_themed_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/acme/no-such-page").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        response.body.contains("Page not found"),
        "{}",
        response.body
    );
    assert!(response.body.contains("Acme Staffing"), "{}", response.body);
    let outside = app.get("/no-such-agency/portal/login").await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    assert!(!outside.body.contains("Acme"));
}

#[tokio::test]
async fn api_errors_are_problem_objects() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&response.body).expect("json");
    assert_eq!(problem["status"], 404);
}

#[tokio::test]
async fn wrong_methods_are_refused_with_a_page_not_a_blank() {
    let app = TestApp::spawn().await;
    let response = app
        .request(
            Request::delete("/acme/portal/login")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.body.contains("not available here"),
        "{}",
        response.body
    );
}

fn asset_url(page: &str, suffix: &str) -> String {
    page.split('"')
        .find(|part| part.starts_with("/acme/assets/") && part.ends_with(suffix))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn hashed_assets_are_cached_for_good_and_others_are_not() {
    let app = TestApp::spawn().await;
    let page = app.get("/acme/portal/login").await.body;
    let css = asset_url(&page, "css/portal.css");
    assert!(!css.is_empty(), "{page}");
    let response = app.get(&css).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(
        response.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(response.body.contains(".login-card"));

    let stale = app.get("/acme/assets/000000000000/css/portal.css").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.header("cache-control"), "no-cache");

    let logo = app.get(&asset_url(&page, "branding/logo")).await;
    assert_eq!(logo.header("content-type"), "image/svg+xml");

    let branding = app.get(&asset_url(&page, "branding.css")).await;
    assert!(
        branding.body.contains("--brand-primary: #1d4ed8;"),
        "{}",
        branding.body
    );
}

#[tokio::test]
async fn asset_paths_cannot_climb_out_of_the_theme() {
    let app = TestApp::spawn().await;
    for path in [
        "/acme/assets/x/../../../Cargo.toml",
        "/acme/assets/x/%2e%2e/%2e%2e/Cargo.toml",
        "/acme/assets/x/..%2f..%2fconfig%2fportal.toml",
        "/acme/assets/x/theme.toml",
        "/acme/assets/x/templates/layout.html",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!response.body.contains("[workspace]"), "{path}");
    }
}

/// RFC 9116: the installation's contacts, an expiry in the future (under a year), and the
/// canonical address; no file while no contact is configured.
#[tokio::test]
async fn security_txt_names_the_configured_contacts() {
    let absent = TestApp::spawn().await;
    let none = absent.get("/.well-known/security.txt").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let app = TestApp::spawn_with(|settings| {
        settings.security.contact = vec![
            "mailto:security@portal.example".into(),
            "https://portal.example/report".into(),
        ];
    })
    .await;
    let served = app.get("/.well-known/security.txt").await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.header("content-type").starts_with("text/plain"));
    let lines: Vec<&str> = served.body.lines().collect();
    assert_eq!(
        &lines[..2],
        [
            "Contact: mailto:security@portal.example",
            "Contact: https://portal.example/report"
        ]
    );
    let expires = lines
        .iter()
        .find_map(|line| line.strip_prefix("Expires: "))
        .expect("Expires");
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .expect("RFC 3339");
    let now = time::OffsetDateTime::now_utc();
    assert!(expires > now && expires < now + time::Duration::days(365));
    assert!(
        lines.iter().any(|line| line.starts_with("Canonical: http")
            && line.ends_with("/.well-known/security.txt"))
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&ready.body).expect("json");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["agencies"], 2);
    app.state.db().pool.close().await;
    let closed = app.get("/readyz").await;
    assert_eq!(closed.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn agency_names_cannot_inject_markup() {
    let mut agencies = std::collections::BTreeMap::new();
    agencies.insert(
        "evil".to_owned(),
        agency("slug = \"evil\"\ndisplay_name = \"<script>alert(1)</script> & Co\"\n"),
    );
    let app = TestApp::with_agencies(agencies).await;
    let page = app.get("/evil/portal/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; Co"),
        "{}",
        page.body
    );
}

/// What a signed-in person sees (pages, lists, downloads) is never kept by a browser cache or
/// a proxy; only the theme's hashed assets are cached, for good.
#[tokio::test]
async fn signed_in_pages_and_downloads_are_not_stored() {
    let app = crate::portal_support::demo_app().await;
    let mut david = crate::portal_support::signed_in(&app, "acme", "david@northwind.example").await;
    let mut admin =
        crate::portal_support::signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    for (browser, paths) in [
        (
            &mut david,
            [
                "/acme/portal",
                "/acme/portal/timesheets",
                "/acme/portal/reports/export?group=worker&format=csv",
                "/acme/portal/no-such-page",
            ],
        ),
        (
            &mut admin,
            [
                "/acme/manage",
                "/acme/manage/portal-users",
                "/acme/manage/portal-users/export?format=csv",
                "/acme/manage/login",
            ],
        ),
    ] {
        for path in paths {
            let response = browser.get(path).await;
            assert_eq!(response.header("cache-control"), "no-store", "{path}");
        }
    }
    let page = david.get("/acme/portal").await;
    let asset = page
        .body
        .split('"')
        .find(|s| s.starts_with("/acme/assets/") && s.ends_with(".css"))
        .expect("a stylesheet")
        .to_owned();
    let response = david.get(&asset).await;
    assert_eq!(response.status, StatusCode::OK, "{asset}");
    assert!(
        response.header("cache-control").contains("immutable"),
        "{asset}: {}",
        response.header("cache-control")
    );
}
