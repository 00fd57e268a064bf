//! Hostile plugins (`plugins/hostile/`, built by `cargo xtask plugins` into
//! `target/plugins/hostile/`): each misbehaviour fails its own call with the right cause while
//! other requests keep being served; plugins that ask for too much are refused at load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portal_server::config::Settings;
use portal_server::plugins::{
    AuthorizationRequest, Cause, Column, ColumnType, Decision, Permission, PluginFailure,
    PluginRequest, Plugins, PortalUserRef, RowBatch, Target, UNAVAILABLE_DENIAL,
};

use crate::support::{agency, block_on, repo_root, use_built_plugins};

fn hostile_dir() -> PathBuf {
    repo_root().join("target/plugins/hostile")
}

fn settings(plugin_dirs: Vec<PathBuf>, plugins_toml: &str) -> Settings {
    let mut settings = Settings::default();
    use_built_plugins(&mut settings);
    settings.paths.plugins.extend(plugin_dirs);
    settings.agencies.insert(
        "evil".into(),
        agency(&format!(
            "slug = \"evil\"\ndisplay_name = \"Evil\"\n[plugins]\n{plugins_toml}"
        )),
    );
    settings
}

fn hostile_settings() -> Settings {
    settings(
        vec![hostile_dir()],
        "role_set = \"hostile\"\nnotifications = []\nexports = [\"export-csv\", \"hostile\"]\n",
    )
}

fn ask(kind: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        role: "victim".into(),
        permission: Permission::ApproveTimesheets,
        user: PortalUserRef {
            id: "1".into(),
            email: "v@x.example".into(),
            worksite_ids: vec![],
        },
        client_id: "1".into(),
        target: Target {
            kind: kind.into(),
            id: None,
            attributes: vec![],
        },
    }
}

fn load(settings: Settings) -> anyhow::Result<Plugins> {
    Plugins::load(&settings)
}

/// Keeps other requests running on other threads while `f` runs; returns how many of them
/// succeeded and how many failed.
fn with_bystanders(plugins: &Plugins, f: impl FnOnce()) -> (u64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (plugins, stop, ok, failed) =
                (plugins.clone(), stop.clone(), ok.clone(), failed.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut request = plugins.for_request("evil").expect("evil");
                    match block_on(request.try_authorize(&ask("fine"))) {
                        Ok(Decision::Allow) => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    f();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("bystander");
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

#[test]
fn each_misbehaviour_fails_its_own_call_with_its_cause() {
    let plugins = load(hostile_settings()).expect("hostile loads");
    let (ok, failed) = with_bystanders(&plugins, || {
        let mut request = plugins.for_request("evil").expect("evil");

        let started = Instant::now();
        let failure = block_on(request.try_authorize(&ask("loop"))).expect_err("stopped");
        assert_eq!(
            failure.cause,
            Cause::Timeout(Duration::from_millis(50)),
            "{failure}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            failure.to_string(),
            "plugin hostile 0.0.1, hook authorize: timed out after 50 ms"
        );

        let failure = block_on(request.try_authorize(&ask("alloc"))).expect_err("capped");
        assert_eq!(failure.cause, Cause::Memory(16 << 20), "{failure}");

        // A panic prints its message and traps: the failure says what the guest said.
        let failure = block_on(request.try_authorize(&ask("trap"))).expect_err("trapped");
        assert_eq!(
            failure.to_string(),
            "plugin hostile 0.0.1, hook authorize: panicked: asked to trap"
        );

        // Output far past its budget is cut, not a failure.
        assert_eq!(
            block_on(request.try_authorize(&ask("print"))),
            Ok(Decision::Allow)
        );

        let failure = block_on(request.try_authorize(&ask("oversize"))).expect_err("too big");
        assert!(
            matches!(failure.cause, Cause::OutputTooLarge { .. }),
            "{failure}"
        );

        // The same request goes on with a fresh instance, and a failure denies.
        assert_eq!(
            block_on(request.try_authorize(&ask("fine"))),
            Ok(Decision::Allow)
        );
        assert_eq!(
            block_on(request.authorize(&ask("trap"))),
            Decision::Deny(UNAVAILABLE_DENIAL.into())
        );
    });
    assert_eq!(failed, 0, "bystanders failed");
    assert!(ok > 0, "bystanders ran");
    let hostile = plugins
        .loaded()
        .into_iter()
        .find(|p| p.id() == "hostile")
        .expect("hostile");
    let (calls, errors) = hostile.counters.read();
    assert_eq!(errors, 5);
    assert!(calls >= ok + 6);
}

#[tokio::test]
async fn an_export_past_the_output_cap_fails_instead_of_truncating() {
    let mut settings = hostile_settings();
    settings.plugins.max_export_bytes = 3 << 20;
    let plugins = tokio::task::spawn_blocking(move || load(settings))
        .await
        .expect("join")
        .expect("loads");
    let request = plugins.for_request("evil").expect("evil");
    let (chunks, failure) = export_one_cell_batches(&request, "flood", 10).await;
    let received: usize = chunks.iter().sum();
    let failure = failure.expect("the export failed");
    assert!(
        matches!(failure.cause, Cause::OutputTooLarge { limit } if limit == 3 << 20),
        "{failure}"
    );
    assert!(received <= 3 << 20);
    // The other formats of the agency still work.
    assert!(request.set().format("csv").is_some());
}

/// Exports `batches` one-cell batches in `format`: the sizes of the chunks that came out, and
/// the failure that ended the download, if one did.
async fn export_one_cell_batches(
    request: &PluginRequest,
    format: &str,
    batches: usize,
) -> (Vec<usize>, Option<PluginFailure>) {
    let (_, mut export) = request
        .export(
            format,
            format,
            vec![Column::new("a", "A", ColumnType::Text)],
        )
        .expect("the format");
    let rows = export.rows.clone();
    drop(export.rows);
    tokio::spawn(async move {
        for _ in 0..batches {
            let mut batch = RowBatch::default();
            batch.push(Some("x"));
            if rows.send(batch).await.is_err() {
                break;
            }
        }
    });
    let mut chunks = Vec::new();
    let mut failure = None;
    while let Some(chunk) = export.bytes.next().await {
        match chunk {
            Ok(bytes) => chunks.push(bytes.len()),
            Err(err) => failure = Some(err),
        }
    }
    (chunks, failure)
}

fn copy_plugin(from: &Path, to: &Path, edit: impl Fn(String) -> String) {
    std::fs::create_dir_all(to).expect("mkdir");
    std::fs::copy(from.join("plugin.wasm"), to.join("plugin.wasm")).expect("copy wasm");
    let manifest = std::fs::read_to_string(from.join("plugin.toml")).expect("manifest");
    std::fs::write(to.join("plugin.toml"), edit(manifest)).expect("write manifest");
}

fn load_error(settings: Settings) -> String {
    format!("{:#}", load(settings).expect_err("refused"))
}

#[test]
fn a_capability_the_agency_does_not_grant_is_refused_at_load() {
    let toml = "role_set = \"hostile-network\"\nnotifications = []\nexports = []\n";
    let error = load_error(settings(vec![hostile_dir()], toml));
    assert!(error.contains("agency \"evil\""), "{error}");
    assert!(error.contains("hostile-network 0.0.1"), "{error}");
    assert!(error.contains("capability \"network\""), "{error}");
    let granted = format!("{toml}[plugins.grants]\nhostile-network = [\"network\"]\n");
    assert!(load(settings(vec![hostile_dir()], &granted)).is_ok());
}

#[test]
fn an_import_the_manifest_does_not_declare_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    copy_plugin(
        &hostile_dir().join("hostile-network"),
        &dir.path().join("sneaky"),
        |m| {
            m.replace("hostile-network", "sneaky")
                .replace("capabilities = [\"network\"]", "capabilities = []")
        },
    );
    let error = load_error(settings(
        vec![dir.path().to_path_buf()],
        "role_set = \"sneaky\"\nnotifications = []\nexports = []\n",
    ));
    assert!(error.contains("plugin sneaky 0.0.1"), "{error}");
    assert!(error.contains("imports wasi:sockets/"), "{error}");
    assert!(error.contains("does not declare"), "{error}");
}

#[test]
fn an_unknown_api_version_is_refused_before_compiling() {
    let dir = tempfile::tempdir().expect("temp");
    let built = repo_root().join("dist/plugins/roles-staffing");
    copy_plugin(&built, &dir.path().join("roles-future"), |m| {
        m.replace("id = \"roles-staffing\"", "id = \"roles-future\"")
            .replace("api = \"0.1.0\"", "api = \"9.9.9\"")
    });
    let error = load_error(settings(
        vec![dir.path().to_path_buf()],
        "role_set = \"roles-future\"\nnotifications = []\nexports = []\n",
    ));
    assert!(
        error.contains("roles-future 0.1.0 targets plugin API 9.9.9"),
        "{error}"
    );
    assert!(error.contains("supports 0.1.0"), "{error}");
}

#[test]
fn a_world_the_component_does_not_export_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let built = repo_root().join("dist/plugins/export-csv");
    copy_plugin(&built, &dir.path().join("fake-roles"), |m| {
        m.replace("id = \"export-csv\"", "id = \"fake-roles\"")
            .replace("[\"export-format\"]", "[\"role-set\"]")
    });
    let error = load_error(settings(
        vec![dir.path().to_path_buf()],
        "role_set = \"fake-roles\"\nnotifications = []\nexports = []\n",
    ));
    assert!(
        error.contains(
            "declares world role-set but the component does not export portal:plugin/roles@0.1.0"
        ),
        "{error}"
    );
}

/// `plugins.export_seconds` holds for an export's calls together, on the wall clock: a format
/// that takes 400 ms a batch (by the clock its agency grants it) gets two batches of a one-
/// second export, not a second for each, and the download fails with the deadline named.
#[tokio::test]
async fn an_export_gets_its_deadline_once_for_all_its_calls() {
    let mut settings = settings(
        vec![hostile_dir()],
        "role_set = \"roles-staffing\"\nnotifications = []\nexports = [\"hostile-slow\"]\n\
         [plugins.grants]\nhostile-slow = [\"clock\"]\n",
    );
    settings.plugins.export_seconds = 1;
    let plugins = tokio::task::spawn_blocking(move || load(settings))
        .await
        .expect("join")
        .expect("loads");
    let request = plugins.for_request("evil").expect("evil");
    let (chunks, failure) = export_one_cell_batches(&request, "slow", 5).await;
    let batches = chunks.len();
    let failure = failure.expect("the export ran out of time");
    assert_eq!(
        failure.to_string(),
        "plugin hostile-slow 0.0.1, hook write-batch: timed out after 1000 ms"
    );
    assert_eq!(
        batches, 2,
        "two 400 ms batches fit in one second, the third does not"
    );
}

/// The same misbehaviours in a second language: a Python guest (componentize-py) that raises,
/// reports an error, spins or allocates without bound fails that one call with its cause,
/// named, and the next call of the request gets a fresh instance.
#[tokio::test]
async fn a_python_guest_fails_each_call_with_its_cause() {
    let settings = settings(
        vec![hostile_dir()],
        "role_set = \"hostile-py\"\nnotifications = []\nexports = [\"export-csv\"]\n",
    );
    let plugins = tokio::task::spawn_blocking(move || load(settings))
        .await
        .expect("join")
        .expect("loads");
    let mut request = plugins.for_request("evil").expect("evil");
    let mut cause = async |kind: &str| {
        request
            .try_authorize(&ask(kind))
            .await
            .expect_err(kind)
            .to_string()
    };
    for (kind, said) in [
        (
            "raise",
            "plugin hostile-py 0.0.1, hook authorize: panicked: stopped on an error it did not \
             report",
        ),
        (
            "error",
            "plugin hostile-py 0.0.1, hook authorize: failed: asked to fail",
        ),
        (
            "loop",
            "plugin hostile-py 0.0.1, hook authorize: timed out after 50 ms",
        ),
        (
            "alloc",
            "plugin hostile-py 0.0.1, hook authorize: went past its memory limit of 16 MiB",
        ),
    ] {
        let failure = cause(kind).await;
        assert!(failure.starts_with(said), "{kind}: {failure}");
    }
    assert_eq!(
        request.try_authorize(&ask("fine")).await,
        Ok(Decision::Allow)
    );
}
