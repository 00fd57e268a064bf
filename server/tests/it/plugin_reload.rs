//! Hot reload: a replaced plugin is swapped in while calls are in flight and none fails; a
//! broken replacement is refused and the loaded version keeps serving; `portal plugin reload`
//! (the generation in the database) reaches a running server.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use portal_server::config::Settings;
use portal_server::plugins::{
    AuthorizationRequest, Decision, Permission, Plugins, PortalUserRef, Target,
};

use crate::support::{TestApp, agency, block_on, repo_root, use_built_plugins};

fn limited(hours: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        role: "customer-limited".into(),
        permission: Permission::ApproveTimesheets,
        user: PortalUserRef {
            id: "1".into(),
            email: "l@x.example".into(),
            worksite_ids: vec![],
        },
        client_id: "1".into(),
        target: Target {
            kind: "timesheet".into(),
            id: Some("1".into()),
            attributes: vec![("hours".into(), hours.into())],
        },
    }
}

/// A plugin folder of its own holding a copy of roles-staffing, so the test can replace it.
fn private_copy(dir: &Path) -> Settings {
    let from = repo_root().join("dist/plugins/roles-staffing");
    let to = dir.join("roles-staffing");
    std::fs::create_dir_all(&to).expect("mkdir");
    for file in ["plugin.toml", "plugin.wasm"] {
        std::fs::copy(from.join(file), to.join(file)).expect("copy");
    }
    let mut settings = Settings::default();
    use_built_plugins(&mut settings);
    settings.paths.plugins.insert(0, dir.to_path_buf());
    settings.agencies.insert(
        "acme".into(),
        agency(
            "slug = \"acme\"\ndisplay_name = \"Acme\"\n[plugins]\nrole_set = \"roles-staffing\"\n\
             notifications = []\nexports = []\n",
        ),
    );
    settings
}

fn role_set_version(plugins: &Plugins) -> String {
    plugins
        .agency("acme")
        .map(|set| set.role_set.plugin.version().to_owned())
        .unwrap_or_default()
}

/// Replaces the plugin's manifest with one at another version; the modification time moves
/// on, which is what the reload notices.
fn bump_version(dir: &Path, version: &str) {
    let path = dir.join("roles-staffing/plugin.toml");
    let text = std::fs::read_to_string(&path).expect("manifest");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for line in &mut lines {
        if line.starts_with("version = ") {
            *line = format!("version = \"{version}\"");
        }
    }
    // Some file systems keep whole-second times: make sure the change is visible.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&path, lines.join("\n")).expect("write manifest");
}

#[test]
fn a_replaced_plugin_is_swapped_in_without_failing_calls_in_flight() {
    let dir = tempfile::tempdir().expect("temp");
    let plugins = Plugins::load(&private_copy(dir.path())).expect("loads");
    assert_eq!(role_set_version(&plugins), "0.1.0");
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (plugins, stop, calls) = (plugins.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    // A request spans several calls on the snapshot it started with.
                    let mut request = plugins.for_request("acme").expect("acme");
                    for _ in 0..5 {
                        match block_on(request.try_authorize(&limited("800"))) {
                            Ok(Decision::Allow) => {}
                            other => failures.push(format!("{other:?}")),
                        }
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                }
                failures
            })
        })
        .collect();
    bump_version(dir.path(), "0.2.0");
    let report = plugins.reload(false);
    assert_eq!(
        report.reloaded,
        [("roles-staffing".to_owned(), "0.2.0".to_owned())]
    );
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(role_set_version(&plugins), "0.2.0");
    let before = calls.load(Ordering::Relaxed);
    while calls.load(Ordering::Relaxed) < before + 20 {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        let failures = caller.join().expect("caller");
        assert!(failures.is_empty(), "{failures:?}");
    }
    // Nothing changed since: nothing to reload.
    assert!(plugins.reload(false).reloaded.is_empty());
}

#[test]
fn a_broken_replacement_is_refused_and_the_old_version_keeps_serving() {
    let dir = tempfile::tempdir().expect("temp");
    let plugins = Plugins::load(&private_copy(dir.path())).expect("loads");
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(
        dir.path().join("roles-staffing/plugin.wasm"),
        b"\0asm but not really",
    )
    .expect("break it");
    let report = plugins.reload(false);
    assert!(report.reloaded.is_empty());
    let [(id, error)] = report.refused.as_slice() else {
        panic!("one refusal, got {:?}", report.refused);
    };
    assert_eq!(id, "roles-staffing");
    assert!(error.contains("plugin roles-staffing 0.1.0"), "{error}");
    assert_eq!(role_set_version(&plugins), "0.1.0");
    let mut request = plugins.for_request("acme").expect("acme");
    assert_eq!(
        block_on(request.try_authorize(&limited("100"))),
        Ok(Decision::Allow)
    );
    // Reported once, not on every poll.
    assert!(plugins.reload(false).refused.is_empty());
}

#[tokio::test]
async fn the_reload_generation_reaches_a_running_server() {
    let app = TestApp::spawn().await;
    let before = app.state.plugins().agency("acme").expect("acme");
    let watcher = app
        .state
        .plugins()
        .watch(app.state.db().clone(), Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        Arc::ptr_eq(&before, &app.state.plugins().agency("acme").expect("acme")),
        "nothing changed: nothing reloaded"
    );
    portal_server::db::plugin_reloads::bump(&app.state.db().pool)
        .await
        .expect("bump");
    let mut reloaded = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = app.state.plugins().agency("acme").expect("acme");
        if !Arc::ptr_eq(&before, &now) {
            reloaded = true;
            break;
        }
    }
    watcher.abort();
    assert!(reloaded, "the server reloaded after the generation changed");
}
