//! The pay rate never reaches a portal user: every pay rate is set to a sentinel, then every
//! page, download, export and email a portal user can reach is scanned for it.

use axum::http::StatusCode;

use crate::portal_support::{demo_app, pending_of, signed_in};
use crate::support::{Browser, TestApp};

const SENTINEL_CENTS: i64 = 987_654;
const SENTINEL_FORMS: &[&str] = &["987654", "9876.54", "9,876.54", "9876,54", "9.876,54"];

fn assert_clean(what: &str, text: &str) {
    for form in SENTINEL_FORMS {
        assert!(!text.contains(form), "{what} shows the pay rate ({form})");
    }
}

/// Every link to a portal page in a page, once.
fn links(agency: &str, html: &str) -> Vec<String> {
    let prefix = format!("href=\"/{agency}/portal/");
    let mut found: Vec<String> = html
        .split(&prefix)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|path| format!("/{agency}/portal/{}", path.replace("&amp;", "&")))
        .filter(|path| !path.ends_with("/logout"))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Visits every portal page reachable from the home page, two links deep.
async fn crawl(browser: &mut Browser<'_>, agency: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec![format!("/{agency}/portal")];
    for _depth in 0..3 {
        let mut next = Vec::new();
        for path in queue {
            if !seen.insert(path.clone()) {
                continue;
            }
            let response = browser.get(&path).await;
            assert_clean(&path, &response.body);
            for (name, value) in &response.headers {
                assert_clean(
                    &format!("{path} header {name}"),
                    value.to_str().unwrap_or(""),
                );
            }
            if response.status == StatusCode::OK {
                next.extend(links(agency, &response.body));
            }
        }
        queue = next;
    }
    seen.len()
}

async fn seed_sentinel(app: &TestApp) {
    sqlx::query("UPDATE timesheets SET pay_rate_cents = $1")
        .bind(SENTINEL_CENTS)
        .execute(&app.state.db().pool)
        .await
        .expect("sentinel");
}

#[tokio::test]
async fn no_page_export_or_email_carries_a_pay_rate() {
    let app = demo_app().await;
    seed_sentinel(&app).await;
    for (agency, email) in [
        ("acme", "david@northwind.example"),
        ("acme", "sam@fabrikam.example"),
        ("acme", "helen@wardpartners.example"),
        ("acme", "tom@contoso.example"),
        ("brightfix", "laura@oakridge.example"),
    ] {
        let mut browser = signed_in(&app, agency, email).await;
        let pages = crawl(&mut browser, agency).await;
        assert!(pages > 3, "{email} reached {pages} pages");
    }
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let formats: Vec<String> = app
        .state
        .plugins()
        .agency("acme")
        .expect("plugins")
        .formats()
        .map(|f| f.id.clone())
        .collect();
    assert!(!formats.is_empty());
    for format in &formats {
        for group in ["week", "worker", "worksite"] {
            let export = david
                .get(&format!(
                    "/acme/portal/reports/export?group={group}&format={format}"
                ))
                .await;
            assert_eq!(export.status, StatusCode::OK, "{format}");
            assert_clean(&format!("{format} export"), &export.body);
        }
    }
    // Decisions and a work request send email; none carries the pay rate.
    let pending = pending_of(&app, "acme", "Northwind Manufacturing").await;
    let page = format!("/acme/portal/timesheets/{}", pending[0]);
    david.submit(&page, &format!("{page}/approve"), &[]).await;
    let page = format!("/acme/portal/timesheets/{}", pending[1]);
    david
        .submit(
            &page,
            &format!("{page}/reject"),
            &[("reason", "Wrong site")],
        )
        .await;
    david
        .submit(
            "/acme/portal/work-requests/new",
            "/acme/portal/work-requests",
            &[
                ("title", "Cover"),
                ("description", "One picker"),
                ("urgency", "low"),
            ],
        )
        .await;
    let mail: Vec<(String, String, String)> =
        sqlx::query_as("SELECT subject, body_text, body_html FROM outbox")
            .fetch_all(&app.state.db().pool)
            .await
            .expect("outbox");
    assert!(mail.len() >= 3);
    for (subject, text, html) in mail {
        assert_clean("an email", &format!("{subject}\n{text}\n{html}"));
    }
}
