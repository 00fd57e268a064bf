//! `TestApp`: the real router and state over a scratch database, called in-process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use portal_server::app::{self, AppState};
use portal_server::config::{AgencyConfig, Secret, Settings};
use portal_server::db::Db;
use portal_server::db::testing::TestDatabase;
use tower::ServiceExt;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// An agency configuration written as it would be in `config/agencies/<key>.toml`.
pub fn agency(toml_text: &str) -> AgencyConfig {
    toml::from_str(toml_text).unwrap_or_else(|err| panic!("bad test agency: {err}"))
}

/// Plugins from `dist/plugins` (`cargo xtask plugins`), compiled into one cache shared by the
/// tests of a run, so each test does not compile every plugin again.
pub fn use_built_plugins(settings: &mut Settings) {
    settings.paths.plugins = vec![repo_root().join("dist/plugins")];
    settings.plugins.cache_dir = Some(repo_root().join("target/test-plugin-cache"));
}

#[derive(Debug)]
pub struct TestApp {
    pub state: AppState,
    router: Router,
    _database: TestDatabase,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl TestApp {
    /// The two demo agencies: `acme` (base theme) and `brightfix` (harbor theme).
    pub async fn spawn() -> Self {
        let mut agencies = BTreeMap::new();
        for key in ["acme", "brightfix"] {
            let path = repo_root()
                .join("config/agencies")
                .join(format!("{key}.toml"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            agencies.insert(key.to_owned(), agency(&text));
        }
        Self::with_agencies(agencies).await
    }

    pub async fn with_agencies(agencies: BTreeMap<String, AgencyConfig>) -> Self {
        let database = TestDatabase::create().await.expect("scratch database");
        let mut settings = Settings::default();
        settings.database.url = Secret::new(database.url.clone());
        settings.database.max_connections = 4;
        settings.paths.data = database.dir().join("data");
        settings.paths.themes = vec![repo_root().join("themes")];
        settings.agencies = agencies;
        use_built_plugins(&mut settings);
        let db = Db::connect(&settings.database).await.expect("connect");
        db.migrate().await.expect("migrate");
        let state = AppState::with_db(settings, &repo_root().join("config"), db)
            .await
            .expect("state");
        Self {
            router: app::router(state.clone()),
            state,
            _database: database,
        }
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }
}
