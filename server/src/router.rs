//! The router: every route of the server, assembled here and only here, with the layers
//! every answer passes through (request ids, security headers, error pages, panics).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

use crate::app::http;
use crate::error::{AppError, ErrorInfo};
use crate::state::AppState;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let agency_routes = Router::new()
        .merge(crate::auth::routes())
        .merge(crate::portal::routes())
        .merge(crate::manage::routes())
        .merge(crate::themes::routes::routes())
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
    let (slug, ..) = crate::agency::path_parts(path);
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
