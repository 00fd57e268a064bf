//! Every GET page of the portal and the manage area, with random query strings (dates at the
//! calendar's edges, huge and negative numbers, invalid UTF-8, control characters, very long
//! values): none answers with a server error.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::portal_support::{demo_app, id, signed_in, signed_in_staff};

/// GET routes with `{id}`-style segments filled by the test (`ID`: a real row's id).
const PORTAL_PAGES: &[&str] = &[
    "/acme/portal",
    "/acme/portal/timesheets",
    "/acme/portal/timesheets/ID",
    "/acme/portal/reports",
    "/acme/portal/reports/export",
    "/acme/portal/on-site",
    "/acme/portal/on-site/fire-roll",
    "/acme/portal/invoices",
    "/acme/portal/invoices/ID",
    "/acme/portal/invoices/ID/pdf",
    "/acme/portal/documents",
    "/acme/portal/documents/ID/download",
    "/acme/portal/jobs",
    "/acme/portal/jobs/ID",
    "/acme/portal/quotes",
    "/acme/portal/quotes/ID",
    "/acme/portal/work-requests",
    "/acme/portal/work-requests/new",
    "/acme/portal/work-requests/ID",
    "/acme/portal/users",
    "/acme/portal/users/new",
    "/acme/portal/account",
    "/acme/portal/account/password",
    "/acme/portal/account/mfa",
    "/acme/portal/login",
    "/acme/portal/forgot-password",
    "/acme/portal/set-password",
    "/acme/portal/login/mfa",
];

const MANAGE_PAGES: &[&str] = &[
    "/acme/manage",
    "/acme/manage/audit",
    "/acme/manage/staff",
    "/acme/manage/clients",
    "/acme/manage/clients/new",
    "/acme/manage/clients/ID",
    "/acme/manage/clients/ID/worksites/ID",
    "/acme/manage/clients/ID/contacts/ID",
    "/acme/manage/api-tokens",
    "/acme/manage/settings",
    "/acme/manage/portal-users",
    "/acme/manage/portal-users/new",
    "/acme/manage/portal-users/passphrase",
    "/acme/manage/portal-users/export",
    "/acme/manage/portal-users/import",
    "/acme/manage/portal-users/ID",
    "/acme/manage/import",
    "/acme/manage/outbox",
    "/acme/manage/branding",
    "/acme/manage/branding/sign-in",
    "/acme/manage/branding/emails/invite",
    "/acme/manage/branding/emails/invite/html",
    "/acme/manage/account",
];

/// Query parameter names the pages read, and a few they do not.
const NAMES: &[&str] = &[
    "from",
    "to",
    "group",
    "week",
    "status",
    "worker",
    "worksite",
    "client",
    "client_id",
    "page",
    "size",
    "sort",
    "dir",
    "q",
    "back",
    "done",
    "format",
    "updated_since",
    "after",
    "before",
    "role",
    "token",
    "template",
    "next",
    "resent",
    "x",
];

/// A value as it goes into the query string: text to percent-encode, or bytes already
/// encoded (invalid UTF-8, NUL, line breaks).
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Encoded(&'static str),
}

/// Values at the edges: of the calendar, of integers, of encodings.
const EDGES: &[&str] = &[
    "9999-12-31",
    "9999-12-01",
    "-0001-01-01",
    "0000-00-00",
    "2026-02-30",
    "+10000-01-01",
    "1900-01-01",
    "2999-12-31",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "-1",
    "0",
    "1e308",
    "NaN",
    "all",
    "desc",
    "csv",
    "",
];

/// Values already percent-encoded: invalid UTF-8, NUL, a line break, an overlong slash, a
/// right-to-left override.
const ENCODED: &[&str] = &[
    "%FF%FE",
    "%00",
    "%0D%0ALocation:%20x",
    "%C0%AF",
    "%E2%80%AE",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(EDGES).prop_map(|s| Value::Text(s.to_owned())),
        prop::sample::select(ENCODED).prop_map(Value::Encoded),
        any::<i64>().prop_map(|n| Value::Text(n.to_string())),
        "\\PC{0,40}".prop_map(Value::Text),
        // Up to six of these stay under the 64 KiB a request target may have in the harness.
        (1usize..8_000).prop_map(|n| Value::Text("x".repeat(n))),
    ]
}

fn query(params: &[(&str, Value)]) -> String {
    params
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Text(text) => serde_urlencoded::to_string([("", text)])
                    .map(|s| s.trim_start_matches('=').to_owned())
                    .unwrap_or_default(),
                Value::Encoded(raw) => (*raw).to_owned(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The signed-in browsers (a partner of every client, an agency admin) and ids to fill in.
struct Visitors<'a> {
    browsers: [tokio::sync::Mutex<crate::support::Browser<'a>>; 2],
    ids: Vec<i64>,
}

async fn visitors(app: &crate::support::TestApp) -> Visitors<'_> {
    Visitors {
        browsers: [
            tokio::sync::Mutex::new(signed_in(app, "acme", "helen@wardpartners.example").await),
            tokio::sync::Mutex::new(
                signed_in_staff(app, "acme", "admin@acme-staffing.example").await,
            ),
        ],
        ids: known_ids(app).await,
    }
}

fn pages() -> Vec<(usize, &'static str)> {
    PORTAL_PAGES
        .iter()
        .map(|p| (0, *p))
        .chain(MANAGE_PAGES.iter().map(|p| (1, *p)))
        .collect()
}

/// Every page with every parameter set to each edge value at once, and the reports with each
/// grouping: the sweep that finds what the random search may miss.
#[tokio::test]
async fn every_page_takes_edge_values_in_every_parameter() {
    let app = demo_app().await;
    let visitors = visitors(&app).await;
    let mut failures = Vec::new();
    for (browser, page) in pages() {
        let ids = if page.contains("ID") {
            &visitors.ids[..]
        } else {
            &visitors.ids[..1]
        };
        for id in ids {
            let page = page.replace("ID", &id.to_string());
            let values = EDGES
                .iter()
                .map(|v| Value::Text((*v).to_owned()))
                .chain(ENCODED.iter().map(|v| Value::Encoded(v)));
            for value in values {
                for group in ["worker", "worksite", "week", "month"] {
                    let mut params: Vec<(&str, Value)> =
                        NAMES.iter().map(|name| (*name, value.clone())).collect();
                    params.retain(|(name, _)| *name != "group");
                    params.push(("group", Value::Text(group.to_owned())));
                    let path = format!("{page}?{}", query(&params));
                    let status = visitors.browsers[browser]
                        .lock()
                        .await
                        .get(&path)
                        .await
                        .status;
                    if status.is_server_error() {
                        failures.push(format!("{status} for {path}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_query_string_makes_a_server_error() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(demo_app());
    let visitors = runtime.block_on(visitors(&app));
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let strategy = (
        prop::sample::select(pages()),
        prop::sample::select(visitors.ids.clone()),
        prop::collection::vec((prop::sample::select(NAMES), value()), 1..6),
    );
    let result = runner.run(&strategy, |((browser, page), id, params)| {
        let path = format!("{}?{}", page.replace("ID", &id.to_string()), query(&params));
        let status = runtime.block_on(async {
            let mut browser = visitors.browsers[browser].lock().await;
            browser.get(&path).await.status
        });
        if status.is_server_error() {
            return Err(TestCaseError::fail(format!("{status} for {path}")));
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Ids that exist (a timesheet, a client, an invoice of acme's) and ids that do not.
async fn known_ids(app: &crate::support::TestApp) -> Vec<i64> {
    let mut ids = vec![0, -1, i64::MAX, 999_999];
    for sql in [
        "SELECT MIN(id) FROM timesheets WHERE agency_id = $1",
        "SELECT MIN(id) FROM clients WHERE agency_id = $1",
        "SELECT MIN(id) FROM invoices WHERE agency_id = $1",
    ] {
        ids.push(id(app, "acme", sql).await);
    }
    ids
}
