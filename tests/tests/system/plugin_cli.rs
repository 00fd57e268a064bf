//! `portal plugin …` as an operator or plugin author runs it.

use portal_tests::{Installation, repo_root};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn check_describes_a_built_plugin() {
    let installation = Installation::new().await;
    let folder = repo_root().join("dist/plugins/roles-staffing");
    let output = installation.portal(&["plugin", "check", &folder.to_string_lossy()]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("plugin       roles-staffing 0.1.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("exports      portal:plugin/roles@0.1.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "role         customer-limited (Customer Limited), dynamic: approve-timesheets"
        ),
        "{stdout}"
    );
    // Every component imports the shared types; a plugin that never logs does not import logging.
    assert!(
        stdout.contains("imports      portal:plugin/types@0.1.0"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}

#[tokio::test]
async fn check_refuses_an_unknown_api_version_in_one_line() {
    let installation = Installation::new().await;
    let folder = installation.database.dir().join("roles-future");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let built = repo_root().join("dist/plugins/roles-staffing");
    std::fs::copy(built.join("plugin.wasm"), folder.join("plugin.wasm")).expect("copy");
    let manifest = std::fs::read_to_string(built.join("plugin.toml")).expect("manifest");
    std::fs::write(
        folder.join("plugin.toml"),
        manifest.replace("api = \"0.1.0\"", "api = \"9.9.9\""),
    )
    .expect("write");
    let output = installation.portal(&[
        "plugin",
        "check",
        &folder.join("plugin.wasm").to_string_lossy(),
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("roles-staffing 0.1.0 targets plugin API 9.9.9"),
        "{stderr}"
    );
}

#[tokio::test]
async fn test_runs_one_hook_and_reports_its_cost() {
    let installation = Installation::new().await;
    let case = installation.database.dir().join("case.json");
    std::fs::write(
        &case,
        r#"{"hook": "authorize", "role": "customer-limited", "permission": "approve-timesheets",
            "target": {"kind": "timesheet", "attributes": [["hours", "1300"]]}}"#,
    )
    .expect("write case");
    let folder = repo_root().join("dist/plugins/roles-staffing");
    let output = installation.portal(&[
        "plugin",
        "test",
        &folder.to_string_lossy(),
        "--input",
        &case.to_string_lossy(),
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("result   ok"), "{stdout}");
    assert!(stdout.contains("12 hours"), "{stdout}");
    assert!(stdout.contains("(deadline 50 ms)"), "{stdout}");
    assert!(stdout.contains("fuel     "), "{stdout}");
    assert!(stdout.contains("(limit 16 MiB)"), "{stdout}");
}

#[tokio::test]
async fn list_and_reload_reach_a_running_server() {
    let installation = Installation::new().await;
    let server = installation.serve().await;
    let output = installation.portal(&["plugin", "list", "--server", &server.base]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let staffing = stdout
        .lines()
        .find(|l| l.starts_with("acme") && l.contains("roles-staffing"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(staffing.contains("0.1.0"), "{staffing}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("brightfix") && l.contains("export-xlsx")),
        "{stdout}"
    );

    let output = installation.portal(&["plugin", "reload"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("reload 1 requested"), "{stdout}");
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz");
    assert!(ready.status().is_success());
    server.terminate();
}

#[tokio::test]
async fn new_scaffolds_a_plugin_crate() {
    let installation = Installation::new().await;
    let parent = installation.database.dir();
    let output = std::process::Command::new(portal_tests::portal_bin())
        .current_dir(parent)
        .args(["--config", &installation.config.to_string_lossy()])
        .args([
            "plugin",
            "new",
            "my-formats",
            "--world",
            "export-format",
            "--api",
        ])
        .arg(repo_root().join("plugin-api"))
        .output()
        .expect("run portal");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let manifest =
        std::fs::read_to_string(parent.join("my-formats/plugin.toml")).expect("manifest");
    assert!(
        manifest.contains("worlds = [\"export-format\"]"),
        "{manifest}"
    );
    let source = std::fs::read_to_string(parent.join("my-formats/src/lib.rs")).expect("source");
    assert!(source.contains("export_export_format!(Tsv)"), "{source}");
    let cargo = std::fs::read_to_string(parent.join("my-formats/Cargo.toml")).expect("Cargo.toml");
    assert!(cargo.contains("portal-plugin-api"), "{cargo}");
    let again = std::process::Command::new(portal_tests::portal_bin())
        .current_dir(parent)
        .args(["--config", &installation.config.to_string_lossy()])
        .args(["plugin", "new", "my-formats", "--world", "export-format"])
        .output()
        .expect("run portal");
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists"));
}

/// A plugin author needs no server: `plugin check` runs from an empty folder without any
/// configuration, and refuses a folder not named after the plugin's id (the server would
/// never find it there).
#[tokio::test]
async fn authoring_commands_need_no_configuration_and_check_the_folder_name() {
    let empty = tempfile::tempdir().expect("empty folder");
    let built = repo_root().join("dist/plugins/roles-staffing");
    let author = |args: &[&str]| {
        std::process::Command::new(portal_tests::portal_bin())
            .current_dir(empty.path())
            .env_remove("PORTAL_CONFIG_DIR")
            .env("XDG_CACHE_HOME", empty.path().join("cache"))
            .args(args)
            .output()
            .expect("run portal")
    };
    let output = author(&["plugin", "check", &built.to_string_lossy()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        empty.path().join("cache/portal/plugin-cache").is_dir(),
        "compiled once into the author's cache"
    );

    let renamed = empty.path().join("my-roles");
    std::fs::create_dir_all(&renamed).expect("mkdir");
    for file in ["plugin.toml", "plugin.wasm"] {
        std::fs::copy(built.join(file), renamed.join(file)).expect("copy");
    }
    let output = author(&["plugin", "check", &renamed.to_string_lossy()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("the folder is named \"my-roles\" but the plugin's id is \"roles-staffing\""),
        "{stderr}"
    );
}

/// `plugin test` is the server's sandbox: a guest that panics fails with its message in one
/// line (exit 1, no backtrace), and what a guest prints shows as its log, cut at the budget.
#[tokio::test]
async fn test_names_a_panic_and_shows_what_the_plugin_printed() {
    let dir = tempfile::tempdir().expect("folder");
    let hostile = repo_root().join("target/plugins/hostile/hostile");
    let run = |kind: &str| {
        let case = dir.path().join(format!("{kind}.json"));
        std::fs::write(
            &case,
            format!(
                r#"{{"hook": "authorize", "role": "victim", "permission": "approve-timesheets",
                    "target": {{"kind": "{kind}"}}}}"#
            ),
        )
        .expect("write case");
        std::process::Command::new(portal_tests::portal_bin())
            .current_dir(dir.path())
            .env_remove("PORTAL_CONFIG_DIR")
            .env_remove("RUST_LOG")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .args(["plugin", "test", &hostile.to_string_lossy(), "--input"])
            .arg(&case)
            .output()
            .expect("run portal")
    };
    let trapped = run("trap");
    let stdout = text(&trapped.stdout);
    assert_eq!(trapped.status.code(), Some(1), "{}", text(&trapped.stderr));
    assert!(
        stdout.contains(
            "result   FAILED: plugin hostile 0.0.1, hook authorize: panicked: asked to trap"
        ),
        "{stdout}"
    );
    // The guest's own words are in its log; the host does not panic.
    let stderr = text(&trapped.stderr);
    assert!(stderr.contains("output: asked to trap"), "{stderr}");
    assert!(!stderr.contains("thread 'main'"), "{stderr}");

    let printed = run("print");
    let stderr = text(&printed.stderr);
    assert!(printed.status.success(), "{stderr}");
    assert!(
        stderr.contains("output: stderr line 0") || stderr.contains("output: xxxx"),
        "{stderr}"
    );
    assert!(
        stderr.contains("plugin output past its budget was dropped"),
        "{stderr}"
    );
}

/// A hook call that fails in the server is kept with its input: an admin sees it on the
/// Plugins page with the command that replays it, and `plugin replay` runs that same call
/// here against the installed build or another one, reporting it like `plugin test`.
#[tokio::test]
async fn a_failure_in_the_server_is_seen_by_admins_and_replayed_here() {
    let installation = Installation::with_demo_data().await;
    let dist = repo_root().join("dist/plugins").display().to_string();
    let hostile = repo_root().join("target/plugins/hostile");
    installation.edit_main_config(
        &format!("plugins = [\"{dist}\"]"),
        &format!("plugins = [\"{dist}\", \"{}\"]", hostile.display()),
    );
    let acme = installation.agency_file("acme");
    let text_of_acme = std::fs::read_to_string(&acme).expect("acme.toml");
    std::fs::write(
        &acme,
        text_of_acme.replace("role_set = \"roles-staffing\"", "role_set = \"hostile\""),
    )
    .expect("write acme.toml");
    let pool = installation.pool().await;
    sqlx::query(
        "UPDATE portal_users SET role_id = 'sealed' WHERE email = 'david@northwind.example'",
    )
    .execute(&pool)
    .await
    .expect("role");
    let server = installation.serve().await;

    // Every invoice David would see is put to a rule that panics: none is shown.
    let david = portal_tests::browser();
    portal_tests::sign_in(
        &david,
        &server.url("/acme/portal/login"),
        "david@northwind.example",
        "lantern-harbour-orbit",
    )
    .await
    .expect("sign in");
    let invoices = david
        .get(server.url("/acme/portal/invoices"))
        .send()
        .await
        .expect("invoices");
    assert_eq!(invoices.status(), reqwest::StatusCode::OK);
    let mut kept = None;
    for _ in 0..100 {
        kept = sqlx::query_scalar::<_, i64>(
            "SELECT MAX(id) FROM plugin_failures WHERE plugin_id = 'hostile'",
        )
        .fetch_one(&pool)
        .await
        .ok();
        if kept.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kept = kept.expect("the failure is kept");

    let admin = portal_tests::browser();
    portal_tests::sign_in(
        &admin,
        &server.url("/acme/manage/login"),
        "admin@acme-staffing.example",
        "lantern-harbour-orbit",
    )
    .await
    .expect("sign in");
    let page = admin
        .get(server.url("/acme/manage/plugins"))
        .send()
        .await
        .expect("plugins page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("panicked: asked about a invoice"), "{page}");
    let command = format!("portal plugin replay --agency acme --plugin hostile --id {kept}");
    assert!(page.contains(&command), "{page}");

    let id = kept.to_string();
    let installed = installation.portal(&[
        "plugin", "replay", "--agency", "acme", "--plugin", "hostile", "--id", &id,
    ]);
    let fresh_build = installation.portal(&[
        "plugin",
        "replay",
        "--agency",
        "acme",
        "--plugin",
        "hostile",
        "--last",
        "--build",
        &hostile.join("hostile").to_string_lossy(),
    ]);
    // The page was read while the rest of that list's failures were still being kept, so the
    // newest (`--last`) may be a later one than `kept`.
    for (replayed, which) in [
        (installed, format!("failure  {kept} at ")),
        (fresh_build, "failure  ".into()),
    ] {
        let stdout = text(&replayed.stdout);
        assert_eq!(
            replayed.status.code(),
            Some(1),
            "{}",
            text(&replayed.stderr)
        );
        assert!(stdout.starts_with(&which), "{stdout}");
        assert!(
            stdout.contains(
                "result   FAILED: plugin hostile 0.0.1, hook authorize: panicked: asked about a \
                 invoice"
            ),
            "{stdout}"
        );
        assert!(stdout.contains("fuel     "), "{stdout}");
    }
    let unknown = installation.portal(&[
        "plugin", "replay", "--agency", "acme", "--plugin", "hostile", "--id", "999999",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no failure 999999 of plugin \"hostile\" at acme"),
        "{}",
        text(&unknown.stderr)
    );
    server.terminate();
}
