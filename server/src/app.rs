//! The application: shared state, the router (assembled here and only here), and serving.

mod connections;
mod http;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::agency::Agency;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::error::{AppError, ErrorInfo};
use crate::plugins::Plugins;
use crate::themes::Themes;

/// State shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Configuration as loaded at start.
    settings: Settings,
    /// The database pool (SQLite or PostgreSQL).
    db: Db,
    /// Agencies by slug, each with its theme.
    agencies: BTreeMap<String, Arc<Agency>>,
    /// Every agency's plugins, compiled and checked at start; swapped on reload.
    plugins: Plugins,
}

impl AppState {
    /// Connects, migrates, records the configured agencies and loads their themes.
    pub async fn build(settings: Settings, config_dir: &Path) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database).await?;
        db.migrate().await?;
        Self::with_db(settings, config_dir, db).await
    }

    /// Like [`AppState::build`] with a database that is already connected and migrated.
    pub async fn with_db(settings: Settings, config_dir: &Path, db: Db) -> anyhow::Result<Self> {
        let themes = Themes::load(&settings, config_dir)?;
        // Loading asks each plugin for its catalogue: a guest call, off the runtime's threads.
        let plugins = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || Plugins::load(&settings)).await??
        };
        plugins.keep_failures_in(db.clone());
        let ids = db::agencies::sync_all(&db.pool, config_dir, &settings.agencies).await?;
        let mut agencies = BTreeMap::new();
        for (slug, id) in ids {
            let config = settings
                .agencies
                .values()
                .find(|a| a.slug == slug)
                .cloned()
                .with_context(|| format!("agency \"{slug}\" is not configured"))?;
            let theme = themes
                .for_agency(&slug)
                .cloned()
                .with_context(|| format!("agency \"{slug}\" has no theme"))?;
            let agency = Agency {
                id,
                slug: slug.clone(),
                config,
                theme,
            };
            agencies.insert(slug, Arc::new(agency));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                db,
                agencies,
                plugins,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn agency(&self, slug: &str) -> Option<Arc<Agency>> {
        self.inner.agencies.get(slug).cloned()
    }

    pub fn agencies(&self) -> impl Iterator<Item = &Arc<Agency>> {
        self.inner.agencies.values()
    }

    pub fn plugins(&self) -> &Plugins {
        &self.inner.plugins
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let agency_routes = Router::new()
        .merge(crate::auth::routes())
        .merge(crate::portal::routes())
        .merge(crate::manage::routes())
        .merge(crate::themes::routes())
        // Outermost first: sessions are resolved, then the CSRF check can use them.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::csrf::verify_csrf,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session::load_sessions,
        ));
    let max_body = state.settings().server.max_body_bytes;
    let hsts = state.settings().server.tls();
    Router::new()
        .merge(crate::health::routes())
        .merge(crate::api::routes())
        .route("/{agency}", get(crate::auth::login::start_page))
        .route("/{agency}/", get(crate::auth::login::start_page))
        .nest("/{agency}", agency_routes)
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async {
            AppError::BadRequest("That action is not available here.".into())
        })
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::limit_request_body,
        ))
        .layer(catch_panics())
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // Pages, downloads and API answers are someone's data: no shared computer's browser
        // or proxy keeps them. Theme assets say otherwise for themselves.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), NextRequestId::default()))
        .with_state(state)
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a per-process random prefix and a counter, unique across instances.
#[derive(Debug, Clone)]
struct NextRequestId {
    prefix: Arc<str>,
    counter: Arc<AtomicU64>,
}

impl Default for NextRequestId {
    fn default() -> Self {
        Self {
            prefix: format!("{:08x}", rand::random::<u32>()).into(),
            counter: Arc::default(),
        }
    }
}

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// Scripts and styles from this origin only, no framing, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; form-action 'self'; base-uri 'none'; \
    object-src 'none'; frame-ancestors 'none'";

/// A panic anywhere in a handler or the layers inside this one becomes a logged 500 page
/// (rendered like any error), never a connection dropped without an answer.
fn catch_panics()
-> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    fn answer(panic: Box<dyn std::any::Any + Send>) -> Response {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        AppError::Internal(anyhow::anyhow!("the request panicked: {message}")).into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(answer as fn(_) -> Response)
}

/// Gives error responses their body: the agency's themed error page for pages, a problem
/// object (RFC 9457) for the API and for clients that ask for JSON.
async fn render_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let wants_json = path.starts_with("/api/")
        || request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("application/json"));
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    let mut rendered = if wants_json {
        (
            info.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::json!({
                "type": "about:blank",
                "title": info.status.canonical_reason().unwrap_or("Error"),
                "status": info.status.as_u16(),
                "detail": info.message,
                "errors": info.fields,
            })
            .to_string(),
        )
            .into_response()
    } else {
        error_page(&state, &path, &info)
    };
    *rendered.headers_mut() = merge_headers(response.headers(), rendered.headers());
    rendered
}

fn merge_headers(
    original: &axum::http::HeaderMap,
    rendered: &axum::http::HeaderMap,
) -> axum::http::HeaderMap {
    let mut headers = original.clone();
    headers.remove(header::CONTENT_LENGTH);
    for (name, value) in rendered {
        headers.insert(name, value.clone());
    }
    headers
}

fn error_page(state: &AppState, path: &str, info: &ErrorInfo) -> Response {
    let slug = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let page = state.agency(slug).map(|agency| {
        agency.theme.render(
            "error.html",
            context! { status => info.status.as_u16(), message => &info.message },
        )
    });
    let html = match page {
        Some(Ok(html)) => html,
        Some(Err(err)) => {
            tracing::error!(
                error = crate::themes::describe_template_error(&err),
                "the error page itself failed to render"
            );
            plain_error_page(info)
        }
        None => plain_error_page(info),
    };
    (info.status, Html(html)).into_response()
}

/// For requests outside any agency, or when a theme's error page is broken.
fn plain_error_page(info: &ErrorInfo) -> String {
    let title = info.status.canonical_reason().unwrap_or("Error");
    let message = minijinja::HtmlEscape(&info.message).to_string();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1><p>{message}</p></main>\
         </body></html>"
    )
}

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listen = state.settings().server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let public_url = state.settings().server.public_url.clone();
    tracing::info!(%bound, %public_url, backend = state.db().backend.name(), "portal is serving");
    // One plain line on stdout, so scripts can learn the port when `listen` asked for port 0.
    println!("listening on http://{bound}");
    let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
    let worker = crate::mail::worker::spawn(&state, worker_stop)?;
    let poll = state.settings().plugins.reload_poll_ms;
    if poll > 0 {
        state
            .plugins()
            .watch(state.db().clone(), std::time::Duration::from_millis(poll));
    }
    let header_timeout =
        std::time::Duration::from_secs(state.settings().server.request_header_timeout_seconds);
    let max_connections = connections::cap(state.settings().server.max_connections);
    http::serve(
        listener,
        router(state),
        header_timeout,
        max_connections,
        shutdown_signal(),
    )
    .await;
    // The worker finishes the email it is sending; the rest stays queued for the next start.
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        worker.await.context("the outbox worker panicked")?;
    }
    tracing::info!("portal stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_a_server_error() -> anyhow::Result<()> {
        async fn boom() -> &'static str {
            panic!("a bug in a handler")
        }
        let router: Router = Router::new()
            .route("/boom", get(boom))
            .layer(catch_panics());
        let response = router
            .oneshot(axum::http::Request::get("/boom").body(Body::empty())?)
            .await?;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let info = response.extensions().get::<ErrorInfo>().cloned();
        assert!(
            info.is_some(),
            "rendered as an error page by the layer outside"
        );
        Ok(())
    }
}
