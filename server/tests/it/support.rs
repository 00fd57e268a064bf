//! `TestApp`: the real router and state over a scratch database, called in-process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use portal_server::auth::passwords;
use portal_server::config::{AgencyConfig, Secret, Settings};
use portal_server::db::Db;
use portal_server::db::clients::{self, NewClient};
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::db::staff_users::{self, NewStaffUser, StaffRole};
use portal_server::db::testing::TestDatabase;
use portal_server::state::AppState;
use tower::ServiceExt;

/// Runs a future to its end on a runtime of this thread's own (plugin calls go to its
/// blocking pool), for tests that drive plugins from plain threads.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

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
        Self::spawn_with(|_| {}).await
    }

    pub fn agency(&self, slug: &str) -> std::sync::Arc<portal_server::agency::Agency> {
        self.state.agency(slug).expect("agency exists")
    }

    /// The demo agencies' configuration files, by key, to adjust before spawning.
    pub fn demo_agencies() -> BTreeMap<String, AgencyConfig> {
        ["acme", "brightfix"]
            .into_iter()
            .map(|key| {
                let path = repo_root()
                    .join("config/agencies")
                    .join(format!("{key}.toml"));
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                (key.to_owned(), agency(&text))
            })
            .collect()
    }

    /// The demo agencies, with settings changed by `adjust` first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            agencies: Self::demo_agencies(),
            ..Settings::default()
        };
        adjust(&mut settings);
        Self::with_settings(settings, |_| {}).await
    }

    pub async fn with_agencies(agencies: BTreeMap<String, AgencyConfig>) -> Self {
        Self::with_agencies_adjusted(agencies, |_| {}).await
    }

    /// Like [`TestApp::with_agencies`], with settings changed by `adjust` after the scratch
    /// database and paths are filled in (so it may point `paths.themes` elsewhere).
    pub async fn with_agencies_adjusted(
        agencies: BTreeMap<String, AgencyConfig>,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let settings = Settings {
            agencies,
            ..Settings::default()
        };
        Self::with_settings(settings, adjust).await
    }

    async fn with_settings(mut settings: Settings, adjust: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::create().await.expect("scratch database");
        settings.database.url = Secret::new(database.url.clone());
        settings.database.max_connections = 4;
        settings.paths.data = database.dir().join("data");
        settings.paths.themes = vec![repo_root().join("themes")];
        use_built_plugins(&mut settings);
        adjust(&mut settings);
        let db = Db::connect(&settings.database).await.expect("connect");
        db.migrate().await.expect("migrate");
        let state = AppState::with_db(settings, &repo_root().join("config"), db)
            .await
            .expect("state");
        Self {
            router: portal_server::router::router(state.clone()),
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

/// A browser's view of the app: keeps cookies between requests and finds form tokens.
#[derive(Debug)]
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl TestApp {
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
        }
    }
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, response: &TestResponse) {
        for value in response.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        let request = Request::get(path)
            .header("cookie", self.cookie_header())
            .body(Body::empty())
            .expect("request");
        let response = self.app.request(request).await;
        self.remember(&response);
        response
    }

    /// Posts a form as is (no token added).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let request = Request::post(path)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let response = self.app.request(request).await;
        self.remember(&response);
        response
    }

    /// Posts a `multipart/form-data` form as a browser sends a file upload: `(name, value)`
    /// text fields, then `(name, file name, type, bytes)` files.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> TestResponse {
        const BOUNDARY: &str = "----portal-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, file_name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                     filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = Request::post(path)
            .header("cookie", self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .expect("request");
        let response = self.app.request(request).await;
        self.remember(&response);
        response
    }

    /// Opens `page`, takes its form token, and posts `fields` with it to `action`.
    pub async fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let shown = self.get(page).await;
        let token = csrf_token(&shown.body);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all).await
    }

    /// Signs in at `/{agency}/{area}/login`.
    pub async fn sign_in(
        &mut self,
        agency: &str,
        area: &str,
        email: &str,
        password: &str,
    ) -> TestResponse {
        let login = format!("/{agency}/{area}/login");
        self.submit(&login, &login, &[("email", email), ("password", password)])
            .await
    }
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_token(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// Accounts and clients made directly in the database, as the manage area would.
impl TestApp {
    pub fn agency_id(&self, slug: &str) -> i64 {
        self.state.agency(slug).map(|a| a.id).expect("agency")
    }

    pub async fn staff(&self, slug: &str, email: &str, password: &str, role: StaffRole) -> i64 {
        let hash = passwords::hash(password).await.expect("hash");
        let new = NewStaffUser {
            email,
            name: "Sam Staff",
            role,
            password_hash: &hash,
            must_change_password: false,
        };
        staff_users::create(&self.state.db().pool, self.agency_id(slug), &new)
            .await
            .expect("staff")
    }

    pub async fn client(&self, slug: &str, name: &str) -> i64 {
        let new = NewClient {
            name,
            ..NewClient::default()
        };
        clients::create(&self.state.db().pool, self.agency_id(slug), &new)
            .await
            .expect("client")
    }

    /// An active portal user of one client (or invited, without a password, when `password`
    /// is `None`).
    pub async fn portal_user(
        &self,
        slug: &str,
        email: &str,
        password: Option<&str>,
        client: i64,
        must_change: bool,
    ) -> i64 {
        let hash = match password {
            Some(p) => Some(passwords::hash(p).await.expect("hash")),
            None => None,
        };
        let links = [(client, None)];
        let new = NewPortalUser {
            email,
            first_name: "Pat",
            last_name: "Client",
            role_id: "customer-supervisor",
            all_clients: false,
            restricted_access: false,
            status: if password.is_some() {
                PortalUserStatus::Active
            } else {
                PortalUserStatus::Invited
            },
            password_hash: hash.as_deref(),
            must_change_password: must_change,
            clients: &links,
        };
        let mut conn = self.state.db().pool.acquire().await.expect("conn");
        portal_users::create(&mut conn, self.agency_id(slug), &new)
            .await
            .expect("portal user")
    }

    /// acme's client Northwind and David (david@northwind.example), its active contact with
    /// `password`; David's id.
    pub async fn david(&self, password: &str) -> i64 {
        let client = self.client("acme", "Northwind").await;
        self.portal_user(
            "acme",
            "david@northwind.example",
            Some(password),
            client,
            false,
        )
        .await
    }

    /// Outbox rows for a recipient, newest first: (template, subject, text body).
    pub async fn outbox_for(&self, recipient: &str) -> Vec<(String, String, String)> {
        sqlx::query_as(
            "SELECT template, subject, body_text FROM outbox WHERE recipient = $1 ORDER BY id DESC",
        )
        .bind(recipient)
        .fetch_all(&self.state.db().pool)
        .await
        .expect("outbox")
    }

    /// Audit actions recorded for an agency, oldest first.
    pub async fn audit_actions(&self, slug: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT action FROM audit_log WHERE agency_id = $1 ORDER BY id")
            .bind(self.agency_id(slug))
            .fetch_all(&self.state.db().pool)
            .await
            .expect("audit")
    }
}
