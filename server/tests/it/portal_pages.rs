//! Every portal page: what it shows, and that each built-in role reaches exactly the pages
//! its permissions allow.

use axum::http::StatusCode;
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::plugins::Permission;

use crate::portal_support::{client_id, demo_app, id, signed_in};
use crate::support::{TestApp, csrf_token};

/// The dashboard tells a supervisor what waits for them and shows recent invoices.
#[tokio::test]
async fn the_dashboard_shows_what_needs_attention() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let home = david.get("/acme/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("awaiting approval"));
    assert!(home.body.contains("open work request"));
    assert!(home.body.contains("This week") && home.body.contains("Last week"));
    assert!(home.body.contains("Recent invoices") && home.body.contains("Overdue"));
    assert!(
        !home.body.contains("On site now"),
        "David's role has no time clock"
    );
    let mut sam = signed_in(&app, "acme", "sam@fabrikam.example").await;
    let home = sam.get("/acme/portal").await;
    assert!(home.body.contains("On site now") && home.body.contains("clocked in"));
}

#[tokio::test]
async fn timesheets_filter_by_week_worker_worksite_and_status() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let all = david.get("/acme/portal/timesheets").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("Approve selected"));
    let pending = david.get("/acme/portal/timesheets?status=pending").await;
    assert!(pending.body.contains("Pending") && !pending.body.contains("badge-success"));
    let site = id(
        &app,
        "acme",
        "SELECT id FROM worksites WHERE agency_id = $1 AND name = 'Bradford Warehouse'",
    )
    .await;
    let at_site = david
        .get(&format!("/acme/portal/timesheets?worksite={site}"))
        .await;
    assert!(at_site.body.contains("Bradford Warehouse"));
    assert!(
        !at_site
            .body
            .contains("<td data-label=\"Worksite\">Leeds Plant")
    );
    let nobody = david.get("/acme/portal/timesheets?week=1999-01-04").await;
    assert!(nobody.body.contains("No timesheets match."));
}

#[tokio::test]
async fn reports_chart_table_and_export() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    for group in ["week", "worker", "worksite"] {
        let page = david
            .get(&format!("/acme/portal/reports?group={group}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{group}");
        assert!(page.body.contains("<svg class=\"chart\" role=\"img\""));
        assert!(page.body.contains("<title id=\"svg-title\">"));
        assert!(page.body.contains("<desc id=\"svg-desc\">"));
        assert!(page.body.contains("Hours and charges"));
    }
    let worksites = david.get("/acme/portal/reports?group=worksite").await;
    assert!(worksites.body.contains("Leeds Plant"));
    assert!(!worksites.body.contains("Hull Depot"));
    let export = david
        .get("/acme/portal/reports/export?group=worker&format=csv")
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.header("content-disposition").contains(".csv"));
    assert!(
        export.body.starts_with("Worker,Timesheets,Hours,Charges")
            || export.body.contains("Worker")
    );
    let unknown = david
        .get("/acme/portal/reports/export?format=no-such-format")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn on_site_and_the_fire_roll() {
    let app = demo_app().await;
    let mut sam = signed_in(&app, "acme", "sam@fabrikam.example").await;
    let page = sam.get("/acme/portal/on-site").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("York Kitchen"));
    assert!(page.body.contains("clocked in"));
    let clocked_in: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clock_events e JOIN clients c ON c.id = e.client_id \
         WHERE c.name = 'Fabrikam Foods' AND e.kind = 'in' AND NOT EXISTS (SELECT 1 FROM \
         clock_events o WHERE o.worker_id = e.worker_id AND o.client_id = e.client_id AND o.at > e.at)",
    )
    .fetch_one(&app.state.db().pool)
    .await
    .expect("count");
    assert!(clocked_in > 0);
    assert!(
        page.body
            .contains(&format!("<span class=\"badge\">{clocked_in}</span>"))
    );
    let roll = sam.get("/acme/portal/on-site/fire-roll").await;
    assert_eq!(roll.status, StatusCode::OK);
    assert!(roll.body.contains("page-fire-roll") && roll.body.contains("Accounted for"));
}

#[tokio::test]
async fn invoices_documents_and_pdf() {
    let app = demo_app().await;
    let mut tom = signed_in(&app, "acme", "tom@contoso.example").await;
    let list = tom.get("/acme/portal/invoices").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("ACME-1010") && list.body.contains("Paid"));
    let invoice = id(
        &app,
        "acme",
        "SELECT id FROM invoices WHERE agency_id = $1 AND number = 'ACME-1010'",
    )
    .await;
    let detail = tom.get(&format!("/acme/portal/invoices/{invoice}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("Labour (hours)") && detail.body.contains("Download PDF"));
    let pdf = tom
        .get(&format!("/acme/portal/invoices/{invoice}/pdf"))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert!(pdf.body.starts_with("%PDF-"));
    // Tom's role sees invoices only.
    assert_eq!(
        tom.get("/acme/portal/documents").await.status,
        StatusCode::FORBIDDEN
    );
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let documents = david.get("/acme/portal/documents").await;
    assert!(documents.body.contains("Site safety induction"));
    let document = id(
        &app,
        "acme",
        "SELECT d.id FROM documents d JOIN clients c ON c.id = d.client_id WHERE \
         d.agency_id = $1 AND c.name = 'Northwind Manufacturing' AND d.mime_type = 'text/plain'",
    )
    .await;
    let file = david
        .get(&format!("/acme/portal/documents/{document}/download"))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.header("content-disposition")
            .contains("site-safety-induction.txt")
    );
    assert!(file.body.contains("Northwind Manufacturing"));
}

#[tokio::test]
async fn jobs_and_quotes_for_field_service_clients() {
    let app = demo_app().await;
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let jobs = laura.get("/brightfix/portal/jobs").await;
    assert_eq!(jobs.status, StatusCode::OK);
    assert!(jobs.body.contains("Quarterly gutter clearance"));
    let job = id(
        &app,
        "brightfix",
        "SELECT j.id FROM jobs j JOIN clients c ON c.id = j.client_id WHERE j.agency_id = $1 \
         AND c.name = 'Oakridge Property Management' ORDER BY j.id LIMIT 1",
    )
    .await;
    let detail = laura.get(&format!("/brightfix/portal/jobs/{job}")).await;
    assert!(detail.body.contains("Replace fire door closers"));
    let quotes = laura.get("/brightfix/portal/quotes").await;
    assert!(quotes.body.contains("Roof survey and repairs") && quotes.body.contains("1,840.00"));
    let quote = id(
        &app,
        "brightfix",
        "SELECT q.id FROM quotes q JOIN clients c ON c.id = q.client_id WHERE q.agency_id = $1 \
         AND c.name = 'Oakridge Property Management'",
    )
    .await;
    let detail = laura
        .get(&format!("/brightfix/portal/quotes/{quote}"))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    // A requester files work requests and sees nothing else.
    let mut marcus = signed_in(&app, "brightfix", "marcus@oakridge.example").await;
    assert_eq!(
        marcus.get("/brightfix/portal/jobs").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_work_request_is_filed_and_the_team_is_told() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let form = "/acme/portal/work-requests/new";
    let blank = david
        .submit(form, "/acme/portal/work-requests", &[("urgency", "normal")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("Enter the title."));
    let site = id(
        &app,
        "acme",
        "SELECT id FROM worksites WHERE agency_id = $1 AND name = 'Leeds Plant'",
    )
    .await
    .to_string();
    let created = david
        .submit(
            form,
            "/acme/portal/work-requests",
            &[
                ("title", "Forklift drivers for stocktake"),
                ("description", "Three licensed drivers, night shift."),
                ("worksite_id", &site),
                ("needed_by", "2099-01-15"),
                ("workers_needed", "3"),
                ("urgency", "high"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let list = david.get("/acme/portal/work-requests?done=created").await;
    assert!(list.body.contains("Forklift drivers for stocktake"));
    for recipient in [
        "admin@acme-staffing.example",
        "recruiter@acme-staffing.example",
    ] {
        let mail = app.outbox_for(recipient).await;
        let (_, _, body) = mail
            .iter()
            .find(|(template, _, _)| template == "work-request-created")
            .unwrap_or_else(|| panic!("{recipient} is told"));
        assert!(body.contains("Forklift drivers for stocktake") && body.contains("Leeds Plant"));
    }
    let request = id(
        &app,
        "acme",
        "SELECT id FROM work_requests WHERE agency_id = $1 AND title = 'Forklift drivers for stocktake'",
    )
    .await;
    let detail = david
        .get(&format!("/acme/portal/work-requests/{request}"))
        .await;
    assert!(detail.body.contains("Three licensed drivers") && detail.body.contains("2099-01-15"));
    // Updates the agency posted show on the request.
    let contoso = id(
        &app,
        "acme",
        "SELECT r.id FROM work_requests r JOIN clients c ON c.id = r.client_id \
         WHERE r.agency_id = $1 AND c.name = 'Fabrikam Foods'",
    )
    .await;
    let mut sam = signed_in(&app, "acme", "sam@fabrikam.example").await;
    let detail = sam
        .get(&format!("/acme/portal/work-requests/{contoso}"))
        .await;
    assert!(detail.body.contains("Two pickers confirmed"));
}

#[tokio::test]
async fn team_members_the_agency_chose_hear_of_work_requests_instead() {
    let app = demo_app().await;
    let recruiter = id(
        &app,
        "acme",
        "SELECT id FROM staff_users WHERE agency_id = $1 AND email = 'recruiter@acme-staffing.example'",
    )
    .await;
    sqlx::query("INSERT INTO work_request_recipients (agency_id, staff_user_id) VALUES ($1, $2)")
        .bind(app.agency_id("acme"))
        .bind(recruiter)
        .execute(&app.state.db().pool)
        .await
        .expect("choose the recruiter");
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let created = david
        .submit(
            "/acme/portal/work-requests/new",
            "/acme/portal/work-requests",
            &[
                ("title", "Weekend cover"),
                ("description", "Two pickers, Saturday."),
                ("urgency", "normal"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let told = |mail: Vec<(String, String, String)>| {
        mail.iter().any(|(template, _, body)| {
            template == "work-request-created" && body.contains("Weekend cover")
        })
    };
    assert!(told(
        app.outbox_for("recruiter@acme-staffing.example").await
    ));
    assert!(!told(app.outbox_for("admin@acme-staffing.example").await));
}

#[tokio::test]
async fn a_partner_sees_every_client_or_picks_one() {
    let app = demo_app().await;
    let mut helen = signed_in(&app, "acme", "helen@wardpartners.example").await;
    let all = helen.get("/acme/portal/timesheets?status=pending").await;
    assert!(all.body.contains("All your companies"));
    let home = helen.get("/acme/portal").await;
    for name in [
        "Northwind Manufacturing",
        "Contoso Logistics",
        "Fabrikam Foods",
    ] {
        assert!(home.body.contains(name), "{name}");
    }
    let fabrikam = client_id(&app, "acme", "Fabrikam Foods").await.to_string();
    let token = csrf_token(&home.body);
    let picked = helen
        .post(
            "/acme/portal/client",
            &[
                ("client_id", &fabrikam),
                ("back", "/acme/portal"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER);
    let home = helen.get("/acme/portal").await;
    assert!(home.body.contains("Fabrikam Foods"));
    assert!(!home.body.contains("<li>Northwind Manufacturing</li>"));
    let sites = helen.get("/acme/portal/reports?group=worksite").await;
    assert!(sites.body.contains("York Kitchen") && !sites.body.contains("Leeds Plant"));
    let back = helen
        .post(
            "/acme/portal/client",
            &[
                ("client_id", "all"),
                ("back", "https://evil.example/"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(back.header("location"), "/acme/portal");
    let home = helen.get("/acme/portal").await;
    assert!(home.body.contains("<li>Northwind Manufacturing</li>"));
    // A place to go back to that is not a header (a line break) or not this site's.
    for hostile in [
        "/acme/portal\r\nSet-Cookie: stolen=1",
        "/acme/portal/\u{1}",
        "//evil.example/acme/portal",
        "/acme/portal\\..\\..",
        "/acme/portalsomething",
    ] {
        let back = helen
            .post(
                "/acme/portal/client",
                &[
                    ("client_id", "all"),
                    ("back", hostile),
                    ("csrf_token", &token),
                ],
            )
            .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{hostile:?}");
        assert_eq!(back.header("location"), "/acme/portal", "{hostile:?}");
    }
}

/// Pages and the permission each needs.
const PAGES: &[(&str, Permission)] = &[
    ("timesheets", Permission::ViewTimesheets),
    ("reports", Permission::ViewReports),
    ("on-site", Permission::ViewOnSite),
    ("on-site/fire-roll", Permission::ViewOnSite),
    ("invoices", Permission::ViewInvoices),
    ("documents", Permission::ViewDocuments),
    ("jobs", Permission::ViewJobs),
    ("quotes", Permission::ViewQuotes),
    ("work-requests", Permission::ViewWorkRequests),
    ("work-requests/new", Permission::CreateWorkRequests),
];

async fn user_with_role(app: &TestApp, agency: &str, client: i64, role: &str) -> String {
    let email = format!("{role}@roles.example");
    let hash = portal_server::auth::passwords::hash(portal_server::demo::DEMO_PASSWORD)
        .await
        .expect("hash");
    let links = [(client, None)];
    let new = NewPortalUser {
        email: &email,
        first_name: "Role",
        last_name: role,
        role_id: role,
        all_clients: false,
        restricted_access: false,
        status: PortalUserStatus::Active,
        password_hash: Some(&hash),
        must_change_password: false,
        clients: &links,
    };
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    portal_users::create(&mut conn, app.agency_id(agency), &new)
        .await
        .expect("user");
    email
}

#[tokio::test]
async fn every_built_in_role_reaches_exactly_its_pages() {
    let app = demo_app().await;
    for (agency, client) in [
        ("acme", "Northwind Manufacturing"),
        ("brightfix", "Oakridge Property Management"),
    ] {
        let client = client_id(&app, agency, client).await;
        let set = app.state.plugins().agency(agency).expect("plugins");
        let roles = set.roles().to_vec();
        assert!(roles.len() >= 4, "{agency} has its role set");
        for role in roles {
            let email = user_with_role(&app, agency, client, &role.id).await;
            let mut browser = signed_in(&app, agency, &email).await;
            let home = browser.get(&format!("/{agency}/portal")).await;
            assert_eq!(home.status, StatusCode::OK, "{} home", role.id);
            for (page, permission) in PAGES {
                let response = browser.get(&format!("/{agency}/portal/{page}")).await;
                let expected = if role.grants(*permission) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(response.status, expected, "{} on {page}", role.id);
                let linked = home
                    .body
                    .contains(&format!("href=\"/{agency}/portal/{page}\""));
                if !page.contains('/') {
                    assert_eq!(linked, role.grants(*permission), "{} nav {page}", role.id);
                }
            }
        }
    }
}

/// The portal switched off for one client (seed 001: "the invite will not send if the portal is
/// not enabled"): its users are signed out and cannot sign in, a partner of every client no
/// longer sees it, and no invitation goes to a user of it.
#[tokio::test]
async fn a_client_with_the_portal_off_lets_no_one_in_and_sends_no_invitation() {
    let app = demo_app().await;
    let pool = &app.state.db().pool;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let mut helen = signed_in(&app, "acme", "helen@wardpartners.example").await;
    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    sqlx::query("UPDATE clients SET portal_enabled = 0 WHERE id = $1")
        .bind(northwind)
        .execute(pool)
        .await
        .expect("portal off");

    assert_eq!(
        david.get("/acme/portal").await.status,
        StatusCode::SEE_OTHER
    );
    let again = app
        .browser()
        .sign_in(
            "acme",
            "portal",
            "david@northwind.example",
            portal_server::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(
        again.body.contains("turned off for your company"),
        "{}",
        again.body
    );

    let home = helen.get("/acme/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.body.contains("<li>Northwind Manufacturing</li>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("Fabrikam Foods"));

    let api = crate::api_clients::token(&app, "acme").await;
    let (created, user) = crate::api_clients::send(
        &app,
        "POST",
        "/api/v1/acme/portal-users",
        &api,
        Some(serde_json::json!({
            "mode": "invite", "first_name": "Nia", "last_name": "Cole",
            "email": "nia@northwind.example", "role": "customer-supervisor", "company": northwind,
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(user["email_sent"], false);
    assert!(app.outbox_for("nia@northwind.example").await.is_empty());

    // Staff inviting on the page are told why nothing went out.
    let mut admin =
        crate::portal_support::signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    let company = northwind.to_string();
    let invited = admin
        .submit(
            "/acme/manage/portal-users/new",
            "/acme/manage/portal-users/new",
            &[
                ("first_name", "Omar"),
                ("last_name", "Haddad"),
                ("email", "omar@northwind.example"),
                ("role", "customer-supervisor"),
                ("company", &company),
                ("mode", "invite"),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let shown = admin.get(invited.header("location")).await;
    assert!(
        shown
            .body
            .contains("the portal is turned off for this user"),
        "{}",
        shown.body
    );
    assert!(app.outbox_for("omar@northwind.example").await.is_empty());

    // Nor a password reset, asked for by the user or sent by staff.
    app.browser()
        .submit(
            "/acme/portal/forgot-password",
            "/acme/portal/forgot-password",
            &[("email", "david@northwind.example")],
        )
        .await;
    let david_id = crate::portal_support::id(
        &app,
        "acme",
        "SELECT id FROM portal_users WHERE agency_id = $1 AND email = 'david@northwind.example'",
    )
    .await;
    let (sent, _) = crate::api_clients::send(
        &app,
        "POST",
        &format!("/api/v1/acme/portal-users/{david_id}/reset-link"),
        &api,
        None,
    )
    .await;
    assert!(!sent.status.is_success(), "{}", sent.body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let resets = app.outbox_for("david@northwind.example").await;
    assert!(
        resets
            .iter()
            .all(|(template, _, _)| template != "password-reset"),
        "{resets:?}"
    );
}
