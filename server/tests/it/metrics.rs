//! `/metrics`: requests per route pattern, failed sign-ins, plugins and the outbox, in the
//! Prometheus text format; and off when the operator turns it off.

use axum::http::StatusCode;

use crate::support::TestApp;

/// The value of the sample line starting with `series ` (labels included), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn counts_requests_by_route_pattern_and_failed_sign_ins() {
    let app = TestApp::spawn().await;
    let before = app.get("/metrics").await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(
        before
            .header("content-type")
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        before.header("content-type")
    );
    let failures = r#"portal_sign_in_failures_total{area="portal"}"#;
    let failed_before = sample(&before.body, failures).expect("failure counter");

    let mut browser = app.browser();
    let failed = browser
        .sign_in(
            "acme",
            "portal",
            "nobody@northwind.example",
            "wrong password",
        )
        .await;
    assert_ne!(failed.status, StatusCode::SEE_OTHER);
    // Two agencies, one route pattern: ids and slugs never become labels.
    app.get("/brightfix/portal/login").await;

    let after = app.get("/metrics").await.body;
    let login_gets =
        r#"portal_http_requests_total{route="/{agency}/portal/login",method="GET",status="200"}"#;
    assert!(
        sample(&after, login_gets).is_some_and(|n| n >= 2.0),
        "{after}"
    );
    assert!(!after.contains("route=\"/acme/"), "{after}");
    assert!(
        after.contains(
            r#"portal_http_request_duration_seconds_bucket{route="/{agency}/portal/login",method="POST",le="+Inf"}"#
        ),
        "{after}"
    );
    assert!(
        sample(&after, failures).is_some_and(|n| n >= failed_before + 1.0),
        "{after}"
    );
    assert!(
        after.contains("# TYPE portal_outbox_emails gauge"),
        "{after}"
    );
    assert!(
        after.contains("# TYPE portal_plugin_calls_total counter"),
        "{after}"
    );
}

#[tokio::test]
async fn is_not_served_when_turned_off() {
    let app = TestApp::spawn_with(|settings| settings.server.metrics = false).await;
    assert_eq!(app.get("/metrics").await.status, StatusCode::NOT_FOUND);
}
