//! The built-in plugins, loaded by the real host: role catalogues and the dynamic rule,
//! notification recipients, exports read back, the Python twin, the compiled cache.

use std::collections::BTreeMap;

use portal_server::config::Settings;
use portal_server::plugins::{
    AuthorizationRequest, Column, ColumnType, Decision, Named, NotificationEvent, Origin,
    Permission, Person, PersonKind, PluginRequest, Plugins, PortalUserRef, Recipient, RoleScope,
    RowBatch, Target,
};

use crate::support::{TestApp, agency, use_built_plugins};

fn request(
    role: &str,
    hours: &str,
    worksite: Option<&str>,
    user_sites: &[&str],
) -> AuthorizationRequest {
    let mut attributes = vec![("hours".to_owned(), hours.to_owned())];
    if let Some(site) = worksite {
        attributes.push(("worksite-id".into(), site.into()));
    }
    AuthorizationRequest {
        role: role.into(),
        permission: Permission::ApproveTimesheets,
        user: PortalUserRef {
            id: "9".into(),
            email: "lee@northwind.example".into(),
            worksite_ids: user_sites.iter().map(|s| (*s).to_owned()).collect(),
        },
        client_id: "4".into(),
        target: Target {
            kind: "timesheet".into(),
            id: Some("77".into()),
            attributes,
        },
    }
}

fn plugins_of(app: &TestApp, slug: &str) -> PluginRequest {
    app.state
        .plugins()
        .for_request(slug)
        .unwrap_or_else(|| panic!("agency {slug} has plugins"))
}

#[tokio::test]
async fn the_demo_agencies_load_their_catalogues() {
    let app = TestApp::spawn().await;
    let acme = plugins_of(&app, "acme");
    assert_eq!(acme.roles().len(), 11);
    let limited = acme.role("customer-limited").expect("customer-limited");
    assert_eq!(limited.dynamic_permissions, [Permission::ApproveTimesheets]);
    assert_eq!(
        acme.role("partner").map(|r| r.scope.clone()),
        Some(RoleScope::ManyClients(
            portal_server::plugins::ClientSet::All
        ))
    );
    let formats: Vec<&str> = acme.set().formats().map(|f| f.id.as_str()).collect();
    assert_eq!(formats, ["csv", "xlsx", "json"]);

    let brightfix = plugins_of(&app, "brightfix");
    let ids: Vec<&str> = brightfix.roles().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["client-admin", "client-user", "requester", "accounts"]
    );
    assert!(brightfix.role("customer-limited").is_none());
}

#[tokio::test]
async fn customer_limited_approvals_go_to_the_plugin_rule() {
    let app = TestApp::spawn().await;
    let mut plugins = plugins_of(&app, "acme");
    // Static roles are answered from the cached catalogue without an instance.
    assert_eq!(
        plugins
            .authorize(&request("customer-supervisor", "5000", None, &[]))
            .await,
        Decision::Allow
    );
    assert!(
        !plugins
            .authorize(&request("customer-invoices-only", "100", None, &[]))
            .await
            .is_allowed()
    );
    assert_eq!(plugins.instances(), 0);

    assert_eq!(
        plugins
            .try_authorize(&request("customer-limited", "1200", None, &[]))
            .await,
        Ok(Decision::Allow)
    );
    match plugins
        .try_authorize(&request("customer-limited", "1201", None, &[]))
        .await
    {
        Ok(Decision::Deny(reason)) => assert!(reason.contains("12 hours"), "{reason}"),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(
        plugins
            .try_authorize(&request("customer-limited", "800", Some("3"), &["3", "5"]))
            .await,
        Ok(Decision::Allow)
    );
    assert!(matches!(
        plugins.try_authorize(&request("customer-limited", "800", Some("4"), &["3", "5"])).await,
        Ok(Decision::Deny(reason)) if reason.contains("worksites")
    ));
    // Four dynamic calls, one instance: reused within the request.
    assert_eq!(plugins.instances(), 1);
    // A fresh request gets a fresh instance.
    let mut next = plugins_of(&app, "acme");
    assert_eq!(next.instances(), 0);
    next.authorize(&request("customer-limited", "100", None, &[]))
        .await;
    assert_eq!(next.instances(), 1);
}

#[tokio::test]
async fn a_plugin_error_in_authorize_denies() {
    let app = TestApp::spawn().await;
    let mut plugins = plugins_of(&app, "acme");
    let mut bad = request("customer-limited", "8.5", None, &[]);
    let failure = plugins
        .try_authorize(&bad)
        .await
        .expect_err("hours must be a count");
    assert_eq!(failure.plugin, "roles-staffing");
    assert_eq!(failure.hook, "authorize");
    assert!(failure.to_string().contains("invalid input"), "{failure}");
    bad.target.attributes.clear();
    assert_eq!(
        plugins.authorize(&bad).await,
        Decision::Deny(portal_server::plugins::UNAVAILABLE_DENIAL.into())
    );
}

fn event(kind: &str, fields: &[(&str, &str)]) -> NotificationEvent {
    NotificationEvent {
        kind: kind.into(),
        client: Some(Named {
            id: "4".into(),
            name: "Northwind".into(),
        }),
        worksite: None,
        actor: Person {
            kind: PersonKind::PortalUser,
            id: "9".into(),
            name: "Lee".into(),
            email: "lee@northwind.example".into(),
        },
        subject: None,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[tokio::test]
async fn notify_standard_chooses_recipients_from_settings() {
    let app = TestApp::spawn().await;
    let mut plugins = plugins_of(&app, "acme");
    let outcome = plugins
        .notifications(&event(
            "work-request-created",
            &[
                ("work-request-id", "12"),
                ("title", "Two forklift drivers"),
                ("manage-url", "http://x/12"),
            ],
        ))
        .await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let [notification] = outcome.notifications.as_slice() else {
        panic!("one notification, got {:?}", outcome.notifications);
    };
    assert_eq!(notification.plugin, "notify-standard");
    assert_eq!(notification.template, "work-request-created");
    assert_eq!(
        notification.recipients,
        [
            Recipient::StaffEmail("admin@acme-staffing.example".into()),
            Recipient::StaffEmail("recruiter@acme-staffing.example".into()),
        ]
    );
    assert!(
        notification
            .variables
            .contains(&("title".into(), "Two forklift drivers".into()))
    );

    // No recruiter-email setting: all staff hear about timesheet decisions.
    let approved = plugins
        .notifications(&event("timesheet-approved", &[("timesheet-id", "5")]))
        .await;
    assert_eq!(
        approved.notifications[0].recipients,
        [Recipient::StaffRole("staff".into())]
    );
    // Account events: Portal sends the account's own email; the team hears only when an
    // admin chose who (`account-activity-recipients`), which acme has not.
    let invited = plugins
        .notifications(&event(
            "portal-user-invited",
            &[("invite-url", "http://x/i/abc")],
        ))
        .await;
    assert!(invited.notifications.is_empty(), "{invited:?}");
    assert!(
        plugins
            .notifications(&event("kind-from-the-future", &[]))
            .await
            .notifications
            .is_empty()
    );
}

/// With `account-activity-recipients` set, the chosen staff hear of an invitation with the
/// `account-activity` email, without the invitation link; the invitee gets one invitation.
#[tokio::test]
async fn notify_standard_tells_the_chosen_team_of_account_events() {
    let mut agencies = TestApp::demo_agencies();
    if let Some(acme) = agencies.get_mut("acme") {
        acme.plugins
            .settings
            .entry("notify-standard".into())
            .or_default()
            .insert(
                "account-activity-recipients".into(),
                "recruiter@acme-staffing.example".into(),
            );
    }
    let app = TestApp::with_agencies(agencies).await;
    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
        .await
        .expect("seed");
    let mut admin =
        crate::portal_support::signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    let northwind = crate::portal_support::client_id(&app, "acme", "Northwind Manufacturing").await;
    let invited = admin
        .submit(
            "/acme/manage/portal-users/new",
            "/acme/manage/portal-users/new",
            &[
                ("first_name", "Nia"),
                ("last_name", "Cole"),
                ("email", "nia@northwind.example"),
                ("role", "customer-supervisor"),
                ("company", &northwind.to_string()),
                ("mode", "invite"),
            ],
        )
        .await;
    assert_eq!(
        invited.status,
        axum::http::StatusCode::SEE_OTHER,
        "{}",
        invited.body
    );
    let own = app.outbox_for("nia@northwind.example").await;
    assert_eq!(own.len(), 1, "one invitation: {own:?}");
    assert_eq!(own[0].0, "invite");
    let told = app.outbox_for("recruiter@acme-staffing.example").await;
    let [(template, subject, body)] = told.as_slice() else {
        panic!("one email to the chosen team member: {told:?}");
    };
    assert_eq!(template, "account-activity");
    assert_eq!(subject, "Portal invitation sent to Nia Cole");
    assert!(
        body.contains("invited Nia Cole (nia@northwind.example) of Northwind Manufacturing"),
        "{body}"
    );
    assert!(
        !body.contains("token"),
        "the link stays with its owner: {body}"
    );
    assert!(
        app.outbox_for("admin@acme-staffing.example")
            .await
            .is_empty(),
        "only the chosen staff"
    );
}

fn timesheet_columns() -> Vec<Column> {
    vec![
        Column::new("worker", "Worker", ColumnType::Text),
        Column::new("week_ending", "Week ending", ColumnType::Date),
        Column::new("hours", "Hours", ColumnType::Decimal(2)),
        Column::new("approved", "Approved", ColumnType::Boolean),
    ]
}

fn timesheet_rows(rows: &[[Option<&str>; 4]]) -> RowBatch {
    let mut batch = RowBatch::default();
    for row in rows {
        for cell in row {
            batch.push(*cell);
        }
    }
    batch
}

async fn export(plugins: &PluginRequest, format: &str, batches: Vec<RowBatch>) -> Vec<u8> {
    let (_, mut export) = plugins
        .export(format, "Timesheets", timesheet_columns())
        .unwrap_or_else(|| panic!("format {format}"));
    let rows = export.rows.clone();
    drop(export.rows);
    let feeder = tokio::spawn(async move {
        for batch in batches {
            rows.send(batch).await.expect("export running");
        }
    });
    let mut out = Vec::new();
    while let Some(chunk) = export.bytes.next().await {
        out.extend_from_slice(&chunk.expect("export succeeds"));
    }
    feeder.await.expect("feeder");
    out
}

#[tokio::test]
async fn csv_export_is_exact_and_guards_formulas() {
    let app = TestApp::spawn().await;
    let plugins = plugins_of(&app, "acme");
    let out = export(
        &plugins,
        "csv",
        vec![
            timesheet_rows(&[[Some("Ann, Jr."), Some("2024-03-01"), Some("850"), Some("1")]]),
            timesheet_rows(&[[Some("=HYPERLINK(1)"), Some("2024-03-08"), None, Some("0")]]),
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "Worker,Week ending,Hours,Approved\r\n\
         \"Ann, Jr.\",2024-03-01,8.50,true\r\n\
         '=HYPERLINK(1),2024-03-08,,false\r\n"
    );
}

#[tokio::test]
async fn json_export_keys_rows_by_column_name() {
    let app = TestApp::spawn().await;
    let plugins = plugins_of(&app, "acme");
    let out = export(
        &plugins,
        "json",
        vec![timesheet_rows(&[
            [Some("Ann"), Some("2024-03-01"), Some("850"), Some("1")],
            [Some("Bo"), Some("2024-03-01"), None, Some("0")],
        ])],
    )
    .await;
    let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(value[0]["worker"], "Ann");
    // Exact decimals: the number is written as 8.50, not through a float.
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains("\"hours\":8.50"), "{text}");
    assert_eq!(value[0]["approved"], true);
    assert!(value[1]["hours"].is_null());
    assert_eq!(value.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn xlsx_export_opens_back_as_a_workbook() {
    let app = TestApp::spawn().await;
    let plugins = plugins_of(&app, "acme");
    let rows: Vec<RowBatch> = (0..3)
        .map(|batch| {
            let names: Vec<String> = (0..100)
                .map(|i| format!("Worker {}", batch * 100 + i))
                .collect();
            let mut out = RowBatch::default();
            for name in &names {
                for cell in [
                    Some(name.as_str()),
                    Some("2024-03-01"),
                    Some("1234"),
                    Some("1"),
                ] {
                    out.push(cell);
                }
            }
            out
        })
        .collect();
    let out = export(&plugins, "xlsx", rows).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(out)).expect("a zip file");
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    assert!(
        names.contains(&"[Content_Types].xml".to_owned()),
        "{names:?}"
    );
    let sheet_name = names
        .iter()
        .find(|n| n.starts_with("xl/worksheets/") && n.ends_with(".xml"))
        .cloned()
        .expect("a worksheet");
    let mut sheet = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(&sheet_name).expect("sheet"), &mut sheet)
        .expect("sheet is UTF-8");
    assert!(sheet.contains("Worker 0"), "first row");
    assert!(sheet.contains("Worker 299"), "last row");
    assert!(sheet.contains("12.34"), "decimal written as a number");
    let mut workbook = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/workbook.xml").expect("workbook"),
        &mut workbook,
    )
    .expect("UTF-8");
    assert!(
        workbook.contains("Timesheets"),
        "sheet named after the title"
    );
}

fn settings_for(role_sets: &[(&str, &str)]) -> Settings {
    let mut settings = Settings::default();
    use_built_plugins(&mut settings);
    settings.agencies = role_sets
        .iter()
        .map(|(slug, role_set)| {
            (
                (*slug).to_owned(),
                agency(&format!(
                    "slug = \"{slug}\"\ndisplay_name = \"{slug}\"\n[plugins]\nrole_set = \"{role_set}\"\n\
                     notifications = []\nexports = []\n"
                )),
            )
        })
        .collect::<BTreeMap<_, _>>();
    settings
}

#[tokio::test]
async fn the_python_twin_answers_like_the_rust_role_set() {
    let settings = settings_for(&[
        ("rust", "roles-field-service"),
        ("python", "roles-field-service-py"),
    ]);
    let plugins = tokio::task::spawn_blocking(move || Plugins::load(&settings))
        .await
        .expect("join")
        .expect("both load");
    let rust = plugins.for_request("rust").expect("rust");
    let python = plugins.for_request("python").expect("python");
    assert_eq!(rust.roles(), python.roles());
    assert_eq!(python.roles().len(), 4);
    let mut python = python;
    // No dynamic permissions: answered statically, never instantiating CPython.
    let mut asking = request("client-user", "100", None, &[]);
    asking.permission = Permission::ViewJobs;
    assert_eq!(python.authorize(&asking).await, Decision::Allow);
    asking.role = "requester".into();
    assert!(!python.authorize(&asking).await.is_allowed());
    assert_eq!(python.instances(), 0);
}

#[tokio::test]
async fn compiled_plugins_come_from_the_cache_on_the_second_load() {
    let cache = tempfile::tempdir().expect("temp");
    let mut settings = settings_for(&[("one", "roles-staffing")]);
    settings.plugins.cache_dir = Some(cache.path().to_path_buf());
    let first = Plugins::load(&settings).expect("first load");
    assert!(first.loaded().iter().all(|p| p.origin == Origin::Compiled));
    let entries = std::fs::read_dir(cache.path()).expect("cache dir").count();
    assert_eq!(entries, 1, "one compiled entry per plugin");
    let second = Plugins::load(&settings).expect("second load");
    assert!(second.loaded().iter().all(|p| p.origin == Origin::Cache));
    let mut plugins = second.for_request("one").expect("one");
    assert_eq!(
        plugins
            .try_authorize(&request("customer-limited", "100", None, &[]))
            .await,
        Ok(Decision::Allow)
    );
    // A damaged entry is ignored and replaced. (Replaced as the cache does it, by a new
    // file: the entry of a loaded plugin is mapped into memory and must not change in place.)
    drop(plugins);
    drop(second);
    for entry in std::fs::read_dir(cache.path()).expect("cache dir") {
        let path = entry.expect("entry").path();
        std::fs::remove_file(&path).expect("remove");
        std::fs::write(&path, b"not a compiled component").expect("write");
    }
    let third = Plugins::load(&settings).expect("third load");
    assert!(third.loaded().iter().all(|p| p.origin == Origin::Compiled));
}

#[tokio::test]
async fn readyz_lists_the_loaded_plugins_with_counts() {
    let app = TestApp::spawn().await;
    let mut plugins = plugins_of(&app, "acme");
    plugins
        .authorize(&request("customer-limited", "100", None, &[]))
        .await;
    let response = app.get("/readyz").await;
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("JSON");
    let list = body["plugins"].as_array().expect("plugins listed");
    let staffing = list
        .iter()
        .find(|p| p["id"] == "roles-staffing")
        .expect("roles-staffing");
    assert_eq!(staffing["version"], "0.1.0");
    assert!(staffing["calls"].as_u64() >= Some(1));
    assert!(list.iter().any(|p| p["id"] == "roles-field-service"));
}
