//! Tenant and client isolation as a property: for random agencies (each with a random role
//! set), clients, portal users with random built-in roles and client sets, and their
//! timesheets, invoices, documents, jobs, quotes, clock events and work requests — every
//! text marked with a sentinel naming its agency and client — no response to any of a random
//! sequence of requests, across the portal's pages and the API, with ids taken from anywhere
//! (other clients, other agencies), contains a sentinel its requester may not see, or a pay
//! rate — and no portal response ever carries a staff member's internal note on a work
//! request.
//!
//! `PROPTEST_CASES` sets how many worlds are tried (default 8; each a fresh database).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use portal_server::db::accounts::{self, AccountKind};
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::db::work_requests::{self, NewUpdate, NewWorkRequest, Status};
use portal_server::plugins::RoleScope;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::feed_support::{send, send_bytes, token};
use crate::support::{Browser, TestApp, TestResponse, agency};

/// The pay rate every timesheet carries, and the ways it could be written out: cents, an
/// amount, an amount with a thousands separator, and the pay for the 8-hour shifts.
const PAY_RATE_CENTS: i64 = 9_876_543;
const PAY_RATE_WRITTEN: [&str; 6] = [
    "9876543",
    "98765.43",
    "98,765.43",
    "79012344",
    "790123.44",
    "790,123.44",
];

/// The internal note every work request carries: no portal user may ever read it.
const INTERNAL_MARK: &str = "Qx9internalZ";

/// The text marking agency `a`'s client `c`'s rows: `Sx0y1Z` cannot be read inside `Sx0y10Z`.
fn client_mark(a: usize, c: usize) -> String {
    format!("Sx{a}y{c}Z")
}

/// The text marking agency `a`'s portal user `u` (their last name).
fn user_mark(a: usize, u: usize) -> String {
    format!("Ux{a}y{u}Z")
}

#[derive(Debug, Clone)]
struct AgencySpec {
    field_service: bool,
    /// Per client: how many timesheets, invoices, documents, jobs, quotes, work requests.
    clients: Vec<[usize; 6]>,
    /// Per user: a role (an index into the role set's roles), and the clients (indexes) a
    /// role spanning clients gets — all of them when `None`.
    users: Vec<(usize, Option<Vec<usize>>)>,
}

#[derive(Debug, Clone)]
struct RequestSpec {
    /// Index into every portal user of every agency, or an agency's API token when past them.
    who: usize,
    /// Which page or endpoint.
    page: usize,
    /// Picks the id (or external id) used, among those of every agency.
    pick: usize,
    /// Sends the request under another agency's slug.
    other_slug: bool,
    /// Picks the id among the requester's own agency's rows (else among every agency's).
    own_agency: bool,
}

fn agency_spec() -> impl Strategy<Value = AgencySpec> {
    (
        any::<bool>(),
        prop::collection::vec(prop::array::uniform6(0usize..=2), 1..=3),
        prop::collection::vec(
            (
                0usize..16,
                prop::option::of(prop::collection::vec(0usize..3, 1..=3)),
            ),
            1..=3,
        ),
    )
        .prop_map(|(field_service, clients, users)| AgencySpec {
            field_service,
            clients,
            users,
        })
}

fn request_spec() -> impl Strategy<Value = RequestSpec> {
    (
        0usize..64,
        0usize..PAGES,
        any::<usize>(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.75),
    )
        .prop_map(|(who, page, pick, other_slug, own_agency)| RequestSpec {
            who,
            page,
            pick,
            other_slug,
            own_agency,
        })
}

/// A stored row: its id and external id, and its agency's id.
#[derive(Debug, Clone, Default)]
struct Row {
    id: i64,
    external_id: String,
    agency_id: i64,
}

/// A portal user, signed in.
struct User<'a> {
    agency: usize,
    role: String,
    browser: Browser<'a>,
    csrf: String,
    /// Client indexes the user may see.
    clients: BTreeSet<usize>,
    /// Marks the user may meet: their clients' and those of users sharing a client.
    allowed: BTreeSet<String>,
}

/// Everything seeded, for building requests and judging answers.
struct World<'a> {
    slugs: Vec<String>,
    tokens: Vec<String>,
    /// Per kind of row (`timesheets`, `invoices`, …): rows of every agency.
    rows: BTreeMap<&'static str, Vec<Row>>,
    /// Every mark, with its agency.
    marks: Vec<(usize, String)>,
    users: Vec<User<'a>>,
}

#[test]
fn no_response_shows_what_its_requester_may_not_see() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 64,
        ..Config::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let strategy = (
        prop::collection::vec(agency_spec(), 2..=3),
        prop::collection::vec(request_spec(), 60..=80),
    );
    let result = runner.run(&strategy, |(agencies, requests)| {
        runtime.block_on(check_world(&agencies, &requests))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

async fn check_world(specs: &[AgencySpec], requests: &[RequestSpec]) -> Result<(), TestCaseError> {
    let configs = specs
        .iter()
        .enumerate()
        .map(|(a, spec)| {
            let role_set = if spec.field_service {
                "roles-field-service"
            } else {
                "roles-staffing"
            };
            let text = format!(
                "slug = \"agency-{a}\"\ndisplay_name = \"Agency {a}\"\n\
                 [plugins]\nrole_set = \"{role_set}\"\n"
            );
            (format!("agency-{a}"), agency(&text))
        })
        .collect();
    let app = TestApp::with_agencies(configs).await;
    let mut world = seed(&app, specs).await;
    let mut shown_own = 0;
    // Every user opens their dashboard first (it names their clients whatever their role),
    // then the random requests follow.
    let dashboards: Vec<RequestSpec> = (0..world.users.len())
        .map(|who| RequestSpec {
            who,
            page: 0,
            pick: 0,
            other_slug: false,
            own_agency: true,
        })
        .collect();
    for request in dashboards.iter().chain(requests) {
        let (label, response) = send_request(&app, &mut world, request).await;
        let (agency, allowed) = match world.users.get(request.who % (world.users.len() + 1)) {
            Some(user) => (user.agency, Some(&user.allowed)),
            None => (token_agency(&world, request), None),
        };
        let text = readable(&response);
        for (mark_agency, mark) in &world.marks {
            let may = match allowed {
                Some(allowed) => allowed.contains(mark),
                // An agency's token reads all of its own agency's rows.
                None => *mark_agency == agency,
            };
            prop_assert!(
                may || !text.contains(mark.as_str()),
                "{label} ({}) showed {mark}, which its requester may not see",
                response.status
            );
        }
        if allowed.is_some() {
            prop_assert!(
                !text.contains(INTERNAL_MARK),
                "{label} ({}) showed an internal note",
                response.status
            );
            for written in PAY_RATE_WRITTEN {
                prop_assert!(
                    !text.contains(written),
                    "{label} ({}) showed a pay rate ({written})",
                    response.status
                );
            }
            shown_own += usize::from(
                allowed.is_some_and(|own| own.iter().any(|m| text.contains(m.as_str()))),
            );
        }
        prop_assert!(
            !response.status.is_server_error(),
            "{label} answered {}",
            response.status
        );
    }
    // The check above could pass by showing nothing at all: each user's dashboard, at least,
    // must show them their own rows.
    prop_assert!(
        shown_own >= world.users.len(),
        "only {shown_own} pages showed {} users their own rows",
        world.users.len()
    );
    Ok(())
}

/// The body as text, with an XLSX export's parts unpacked.
fn readable(response: &TestResponse) -> String {
    let bytes = response.body.as_bytes();
    if !bytes.starts_with(b"PK") {
        return response.body.clone();
    }
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())) else {
        return response.body.clone();
    };
    let mut text = String::new();
    for index in 0..archive.len() {
        if let Ok(mut file) = archive.by_index(index) {
            let _ = file.read_to_string(&mut text);
        }
    }
    text
}

/// Loads every agency's rows through the API (with its own token), and its portal users.
async fn seed<'a>(app: &'a TestApp, specs: &[AgencySpec]) -> World<'a> {
    let now = time::OffsetDateTime::now_utc();
    let today = now.date();
    let clocked_in = (now - time::Duration::minutes(10))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a time");
    let mut world = World {
        slugs: Vec::new(),
        tokens: Vec::new(),
        rows: BTreeMap::new(),
        marks: Vec::new(),
        users: Vec::new(),
    };
    for (a, spec) in specs.iter().enumerate() {
        let slug = format!("agency-{a}");
        let token = token(app, &slug).await;
        let mut batches: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (c, counts) in spec.clients.iter().enumerate() {
            let mark = client_mark(a, c);
            world.marks.push((a, mark.clone()));
            let [sheets, invoices, _, jobs, quotes, _] = *counts;
            let client = format!("C{c}");
            let site = format!("S{c}");
            let worker = format!("W{c}");
            batches.entry("clients").or_default().push(
                json!({ "external_id": client, "name": format!("Client {mark}"), "notes": mark }),
            );
            batches.entry("worksites").or_default().push(json!({
                "external_id": site, "client": client, "name": format!("Site {mark}"),
                "address": format!("1 {mark} Street"),
            }));
            batches.entry("workers").or_default().push(json!({
                "external_id": worker, "first_name": "Worker", "last_name": mark,
            }));
            batches.entry("clock-events").or_default().push(json!({
                "external_id": format!("E{c}"), "worker": worker, "client": client,
                "worksite": site, "kind": "in", "at": clocked_in,
            }));
            for k in 0..sheets {
                let day = today - time::Duration::days(i64::try_from(k * 3).unwrap_or(0));
                batches.entry("timesheets").or_default().push(json!({
                    "external_id": format!("T{c}-{k}"), "worker": worker, "client": client,
                    "worksite": site, "work_date": day.to_string(), "start_time": "08:00",
                    "end_time": "16:30", "break_minutes": 30, "charge_rate_cents": 2550,
                    "pay_rate_cents": PAY_RATE_CENTS,
                }));
            }
            for k in 0..invoices {
                batches.entry("invoices").or_default().push(json!({
                    "external_id": format!("I{c}-{k}"), "client": client,
                    "number": format!("INV-{mark}-{k}"), "issued_on": today.to_string(),
                    "due_on": today.to_string(),
                    "lines": [{ "description": format!("Labour {mark}"), "quantity_hundredths": 100, "unit_price_cents": 1000 }],
                }));
            }
            for k in 0..jobs {
                batches.entry("jobs").or_default().push(json!({
                    "external_id": format!("J{c}-{k}"), "client": client, "worksite": site,
                    "number": format!("J-{mark}-{k}"), "title": format!("Job {mark}"),
                    "description": mark,
                }));
            }
            for k in 0..quotes {
                batches.entry("quotes").or_default().push(json!({
                    "external_id": format!("Q{c}-{k}"), "client": client,
                    "number": format!("Q-{mark}-{k}"), "title": format!("Quote {mark}"),
                    "total_cents": 5000,
                }));
            }
        }
        // References first: clients, worksites and workers before the rows naming them.
        for kind in [
            "clients",
            "worksites",
            "workers",
            "clock-events",
            "timesheets",
            "invoices",
            "jobs",
            "quotes",
        ] {
            let Some(rows) = batches.remove(kind) else {
                continue;
            };
            let path = format!("/api/v1/{slug}/{kind}/batch");
            let (response, answer) =
                send(app, "POST", &path, &token, Some(json!({ "rows": rows }))).await;
            assert!(
                response.status.is_success() && answer["summary"]["invalid"] == 0,
                "{path}: {}",
                response.body
            );
        }
        for (c, counts) in spec.clients.iter().enumerate() {
            let (mark, client) = (client_mark(a, c), format!("C{c}"));
            for k in 0..counts[2] {
                let path = format!(
                    "/api/v1/{slug}/documents/by-external-id/D{c}-{k}?client={client}\
                     &title=Document%20{mark}&file_name={mark}.pdf"
                );
                let content = format!("%PDF-1.4\n{mark}\n").into_bytes();
                let (response, _) =
                    send_bytes(app, "PUT", &path, &token, "application/pdf", Some(content)).await;
                assert!(response.status.is_success(), "{path}: {}", response.body);
            }
            for k in 0..counts[1] {
                let path = format!("/api/v1/{slug}/invoices/by-external-id/I{c}-{k}/pdf");
                let content = format!("%PDF-1.4\ninvoice {mark}\n").into_bytes();
                let (response, _) =
                    send_bytes(app, "PUT", &path, &token, "application/pdf", Some(content)).await;
                assert!(response.status.is_success(), "{path}: {}", response.body);
            }
        }
        world.slugs.push(slug);
        world.tokens.push(token);
    }
    collect_rows(app, &mut world).await;
    for (a, spec) in specs.iter().enumerate() {
        add_work_requests(app, &world, a, spec).await;
        add_users(app, &mut world, a, spec).await;
    }
    collect_rows(app, &mut world).await;
    world
}

/// Client ids of agency `a`, by index.
async fn client_ids(app: &TestApp, slug: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 ORDER BY external_id")
        .bind(app.agency_id(slug))
        .fetch_all(&app.state.db().pool)
        .await
        .expect("clients")
}

async fn add_work_requests(app: &TestApp, world: &World<'_>, a: usize, spec: &AgencySpec) {
    let slug = &world.slugs[a];
    let ids = client_ids(app, slug).await;
    for (c, counts) in spec.clients.iter().enumerate() {
        for _ in 0..counts[5] {
            let title = format!("Request {}", client_mark(a, c));
            let new = NewWorkRequest {
                client_id: ids[c],
                worksite_id: None,
                portal_user_id: None,
                title: &title,
                description: &title,
                needed_by: None,
                workers_needed: Some(1),
                urgency: "normal",
                status: Status::New,
            };
            let mut conn = app.state.db().pool.acquire().await.expect("connection");
            let id = work_requests::create(&mut *conn, app.agency_id(slug), &new)
                .await
                .expect("work request");
            let note = NewUpdate {
                author: ("staff", None, "Agency staff"),
                body: &format!("Internal {INTERNAL_MARK} {title}"),
                status: None,
                internal: true,
            };
            work_requests::add_update(&mut conn, app.agency_id(slug), id, &note)
                .await
                .expect("internal note");
        }
    }
}

/// Creates the agency's portal users, signs each in, and works out what each may see.
async fn add_users<'a>(app: &'a TestApp, world: &mut World<'a>, a: usize, spec: &AgencySpec) {
    let slug = world.slugs[a].clone();
    let agency = app.agency(&slug);
    let roles = app
        .state
        .plugins()
        .agency(&slug)
        .expect("plugins")
        .roles()
        .to_vec();
    let ids = client_ids(app, &slug).await;
    let all: BTreeSet<usize> = (0..ids.len()).collect();
    let mut made = Vec::new();
    for (u, (role_pick, chosen)) in spec.users.iter().enumerate() {
        let role = &roles[role_pick % roles.len()];
        let (all_clients, clients): (bool, BTreeSet<usize>) = match (&role.scope, chosen) {
            (RoleScope::SingleClient, _) => (false, [u % ids.len()].into()),
            (RoleScope::ManyClients(_), None) => (true, all.clone()),
            (RoleScope::ManyClients(_), Some(list)) => {
                (false, list.iter().map(|c| c % ids.len()).collect())
            }
        };
        let links: Vec<(i64, Option<i64>)> = if all_clients {
            Vec::new()
        } else {
            clients.iter().map(|&c| (ids[c], None)).collect()
        };
        let email = format!("user{u}@agency{a}.example");
        let mark = user_mark(a, u);
        let new = NewPortalUser {
            email: &email,
            first_name: "Portal",
            last_name: &mark,
            role_id: &role.id,
            all_clients,
            restricted_access: false,
            status: PortalUserStatus::Active,
            password_hash: None,
            must_change_password: false,
            clients: &links,
        };
        let mut conn = app.state.db().pool.acquire().await.expect("conn");
        let id = portal_users::create(&mut conn, agency.id, &new)
            .await
            .expect("portal user");
        drop(conn);
        world.marks.push((a, mark.clone()));
        made.push((id, mark, clients, role.id.clone()));
    }
    for (id, _, clients, role) in &made {
        let mut allowed: BTreeSet<String> = clients.iter().map(|&c| client_mark(a, c)).collect();
        // Users sharing a client may see each other's names (an approval's history, who
        // filed a request); a user of none of the same clients, never.
        for (_, other_mark, other_clients, _) in &made {
            if !clients.is_disjoint(other_clients) {
                allowed.insert(other_mark.clone());
            }
        }
        let account = accounts::by_id(&app.state.db().pool, AccountKind::Portal, agency.id, *id)
            .await
            .expect("account")
            .expect("the user exists");
        let cookie = portal_server::auth::session::start(
            &app.state,
            &agency,
            AccountKind::Portal,
            &account,
            ("127.0.0.1", "isolation test"),
            false,
        )
        .await
        .expect("session");
        let pair = cookie
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default();
        let (name, value) = pair.split_once('=').expect("a cookie");
        let mut browser = app.browser();
        browser.set_cookie(name, value);
        let csrf: String = sqlx::query_scalar(
            "SELECT csrf_token FROM sessions WHERE user_kind = 'portal' AND user_id = $1",
        )
        .bind(id)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("csrf");
        world.users.push(User {
            agency: a,
            role: role.clone(),
            browser,
            csrf,
            clients: clients.clone(),
            allowed,
        });
    }
}

/// Rows of every kind, of every agency, for requests to pick ids from.
async fn collect_rows(app: &TestApp, world: &mut World<'_>) {
    for table in [
        "clients",
        "worksites",
        "workers",
        "timesheets",
        "invoices",
        "documents",
        "jobs",
        "quotes",
        "work_requests",
        "portal_users",
    ] {
        let external = if matches!(table, "work_requests" | "portal_users") {
            "''"
        } else {
            "COALESCE(external_id, '')"
        };
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, {external}, agency_id FROM {table} ORDER BY id"
        )))
        .fetch_all(&app.state.db().pool)
        .await
        .expect("rows");
        world.rows.insert(
            table,
            rows.into_iter()
                .map(|(id, external_id, agency_id)| Row {
                    id,
                    external_id,
                    agency_id,
                })
                .collect(),
        );
    }
}

/// The agency whose API token a request that is not a portal user's uses.
fn token_agency(world: &World<'_>, spec: &RequestSpec) -> usize {
    spec.pick % world.slugs.len()
}

/// How many kinds of request [`send_request`] knows.
const PAGES: usize = 28;

/// Sends one request; returns what it was (for messages) and the answer.
async fn send_request(
    app: &TestApp,
    world: &mut World<'_>,
    spec: &RequestSpec,
) -> (String, TestResponse) {
    let who = spec.who % (world.users.len() + 1);
    // Mostly ids of the requester's own agency (where only the client check stands in the
    // way), else of any agency.
    let requester_agency = world
        .users
        .get(who)
        .map_or_else(|| token_agency(world, spec), |user| user.agency);
    let own_id = app.agency_id(&world.slugs[requester_agency]);
    let picks: BTreeMap<&str, Row> = world
        .rows
        .iter()
        .map(|(table, rows)| {
            let candidates: Vec<&Row> = rows
                .iter()
                .filter(|row| !spec.own_agency || row.agency_id == own_id)
                .collect();
            let row = candidates.get(spec.pick % candidates.len().max(1));
            (*table, row.map(|r| (*r).clone()).unwrap_or_default())
        })
        .collect();
    let pick = |table: &str| picks[table].clone();
    if who == world.users.len() {
        // An agency's API token, asking about any agency's rows.
        let a = token_agency(world, spec);
        let slug = if spec.other_slug {
            &world.slugs[(a + 1) % world.slugs.len()]
        } else {
            &world.slugs[a]
        };
        let path = match spec.page % 10 {
            0 => format!("/api/v1/{slug}/timesheets?updated_since=0"),
            1 => format!(
                "/api/v1/{slug}/timesheets/by-external-id/{}",
                pick("timesheets").external_id
            ),
            2 => format!(
                "/api/v1/{slug}/invoices/by-external-id/{}",
                pick("invoices").external_id
            ),
            3 => format!("/api/v1/{slug}/clients/{}", pick("clients").id),
            4 => format!("/api/v1/{slug}/portal-users/{}", pick("portal_users").id),
            6 => format!("/api/v1/{slug}/timesheets/{}", pick("timesheets").id),
            7 => format!("/api/v1/{slug}/work-requests/{}", pick("work_requests").id),
            8 => format!("/api/v1/{slug}/attention"),
            9 => format!("/api/v1/{slug}/on-site"),
            _ => format!("/api/v1/{slug}/clients?q=S"),
        };
        let (response, _) = send(app, "GET", &path, &world.tokens[a], None).await;
        return (format!("token of agency-{a}: GET {path}"), response);
    }
    let timesheet = pick("timesheets");
    let client = pick("clients");
    let user_agency = world.users[who].agency;
    let slug = if spec.other_slug {
        world.slugs[(user_agency + 1) % world.slugs.len()].clone()
    } else {
        world.slugs[user_agency].clone()
    };
    let portal = format!("/{slug}/portal");
    let user = &mut world.users[who];
    let get = |path: String| ("GET", path, Vec::new());
    let (method, path, form): (&str, String, Vec<(&str, String)>) = match spec.page {
        0 => get(portal.clone()),
        1 => get(format!("{portal}/timesheets")),
        2 => get(format!(
            "{portal}/timesheets?worksite={}",
            pick("worksites").id
        )),
        3 => get(format!(
            "{portal}/timesheets?worker={}&status=all",
            pick("workers").id
        )),
        4 => get(format!("{portal}/timesheets/{}", timesheet.id)),
        5 => (
            "POST",
            format!("{portal}/timesheets/{}/approve", timesheet.id),
            vec![],
        ),
        6 => (
            "POST",
            format!("{portal}/timesheets/{}/reject", timesheet.id),
            vec![("reason", "Not ours".to_owned())],
        ),
        7 => (
            "POST",
            format!("{portal}/timesheets/approve"),
            vec![
                ("scope", "selected".to_owned()),
                ("id", timesheet.id.to_string()),
            ],
        ),
        8 => get(format!("{portal}/reports?group=worker")),
        9 => get(format!("{portal}/reports?group=worksite&format=csv")),
        10 => {
            let format = ["csv", "json", "xlsx"][spec.pick % 3];
            get(format!("{portal}/reports/export?format={format}"))
        }
        11 => get(format!("{portal}/on-site")),
        12 => get(format!("{portal}/on-site/fire-roll")),
        13 => get(format!("{portal}/invoices")),
        14 => get(format!("{portal}/invoices/{}", pick("invoices").id)),
        15 => get(format!("{portal}/invoices/{}/pdf", pick("invoices").id)),
        16 => get(format!("{portal}/documents")),
        17 => get(format!(
            "{portal}/documents/{}/download",
            pick("documents").id
        )),
        18 => get(format!("{portal}/jobs/{}", pick("jobs").id)),
        19 => get(format!("{portal}/quotes/{}", pick("quotes").id)),
        20 => get(format!("{portal}/jobs")),
        21 => get(format!(
            "{portal}/work-requests/{}",
            pick("work_requests").id
        )),
        22 => get(format!("{portal}/work-requests")),
        23 => get(format!("{portal}/users")),
        24 => (
            "POST",
            format!("{portal}/users/{}/deactivate", pick("portal_users").id),
            vec![],
        ),
        // A session is no key to the API.
        25 => get(format!("/api/v1/{slug}/timesheets?updated_since=0")),
        26 => get(format!("{portal}/quotes")),
        _ => {
            // The client selector, by form and by a forged cookie, then a list.
            user.browser
                .set_cookie("portal-client", &client.id.to_string());
            let picked = user
                .browser
                .post(
                    &format!("{portal}/client"),
                    &[
                        ("client_id", &client.id.to_string()),
                        ("csrf_token", &user.csrf),
                    ],
                )
                .await;
            assert!(
                picked.status.is_redirection() || picked.status.is_client_error(),
                "picking a client answered {}",
                picked.status
            );
            get(format!("{portal}/timesheets?status=all"))
        }
    };
    let label = format!(
        "portal user {who} of agency-{user_agency} ({}, clients {:?}): {method} {path}",
        user.role, user.clients
    );
    let response = if method == "GET" {
        user.browser.get(&path).await
    } else {
        let mut fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.push(("csrf_token", &user.csrf));
        user.browser.post(&path, &fields).await
    };
    if spec.page == 25 {
        assert_eq!(
            response.status.as_u16(),
            401,
            "the API answered a portal session"
        );
    }
    (label, response)
}
