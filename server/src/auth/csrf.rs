//! Cross-site request forgery: every state-changing request under `/{agency}` must carry a
//! token only this browser knows — its session's token, or for the sign-in forms (no session
//! yet) the token in the `csrf` cookie. Checked by middleware, so no handler can forget.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::session::RequestSessions;
use super::{cookies, tokens};
use crate::error::AppError;
use crate::state::AppState;

const ANONYMOUS_COOKIE: &str = "csrf";
/// The form field (or `x-csrf-token` header) holding the token.
pub const FIELD: &str = "csrf_token";
/// Forms larger than this are not read for a token (uploads carry it in the header, or in a
/// `multipart/form-data` form's field, read within the server's body limit).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Refuses unsafe requests without a valid token.
pub async fn verify_csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // A signed-in request carries its session's token. The pre-sign-in cookie's token
    // (which a neighbouring site may be able to plant) counts only where no session applies.
    let mut expected = session_tokens(&parts);
    if expected.is_empty() {
        let anonymous_cookie = cookies::name(ANONYMOUS_COOKIE, state.settings().server.tls());
        if let Some(anonymous) = cookies::get(&parts.headers, &anonymous_cookie) {
            expected.push(anonymous.to_owned());
        }
    }
    let header_token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_upload = content_type.starts_with("multipart/form-data");
    let (submitted, body) = match (header_token, is_form) {
        (Some(token), _) => (Some(token), body),
        (None, false) if is_upload => {
            let limit = state.settings().server.max_body_bytes;
            match axum::body::to_bytes(body, limit).await {
                Ok(bytes) => (
                    multipart_token(&content_type, &bytes).await,
                    Body::from(bytes),
                ),
                Err(_) => return AppError::TooLarge.into_response(),
            }
        }
        (None, true) => match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => {
                let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .ok()
                    .and_then(|fields| {
                        fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v)
                    });
                (token, Body::from(bytes))
            }
            // Over the limit (or, when the body came too late, answered 408 further out).
            Err(_) => return AppError::TooLarge.into_response(),
        },
        (None, false) => (None, body),
    };
    let valid = submitted
        .as_deref()
        .is_some_and(|token| expected.iter().any(|e| tokens::same(e, token)));
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "refused a request without a valid CSRF token");
        return AppError::Forbidden.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The `csrf_token` field of a `multipart/form-data` body (the page puts it first; the parts
/// before it are skipped, not kept).
async fn multipart_token(content_type: &str, bytes: &axum::body::Bytes) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = Body::from(bytes.clone()).into_data_stream();
    let mut form = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

/// The tokens of the sessions that apply to a request: the area's session under `/portal`
/// and `/manage`, either elsewhere.
fn session_tokens(parts: &Parts) -> Vec<String> {
    let Some(sessions) = parts.extensions.get::<RequestSessions>() else {
        return Vec::new();
    };
    let (staff, portal) = (sessions.staff.as_ref(), sessions.portal.as_ref());
    let applying = match Area::of(parts.uri.path()) {
        Area::Portal => vec![portal],
        Area::Manage => vec![staff],
        Area::Shared => vec![staff, portal],
    };
    applying
        .into_iter()
        .flatten()
        .map(|session| session.csrf_token().to_owned())
        .collect()
}

/// Which session a path under `/{agency}` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Portal,
    Manage,
    /// Pages of neither area (invitation and reset links).
    Shared,
}

impl Area {
    /// From the path as the agency's router sees it (`/portal/…`), or whole (`/acme/portal/…`).
    fn of(path: &str) -> Self {
        let mut segments = path.trim_start_matches('/').split('/');
        let first = segments.next().unwrap_or_default();
        let second = segments.next().unwrap_or_default();
        match (first, second) {
            ("portal", _) | (_, "portal") => Self::Portal,
            ("manage", _) | (_, "manage") => Self::Manage,
            _ => Self::Shared,
        }
    }
}

/// The token for a form shown before sign-in, from the `csrf` cookie or new. When new, the
/// page must send [`FormToken::cookie`] with it.
#[derive(Debug, Clone)]
pub struct FormToken {
    pub token: String,
    new_cookie: Option<HeaderValue>,
}

impl FormToken {
    /// The `Set-Cookie` value to send when the token was just made.
    pub fn cookie(&self) -> Option<(header::HeaderName, HeaderValue)> {
        self.new_cookie
            .clone()
            .map(|value| (header::SET_COOKIE, value))
    }
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Signed in already (a second sign-in, say): the form carries the session's token,
        // the only one such a request is accepted with.
        if let Some(token) = session_tokens(parts).into_iter().next() {
            return Ok(FormToken {
                token,
                new_cookie: None,
            });
        }
        let tls = state.settings().server.tls();
        let name = cookies::name(ANONYMOUS_COOKIE, tls);
        Ok(match cookies::get(&parts.headers, &name) {
            Some(token) if token.len() == 64 => FormToken {
                token: token.to_owned(),
                new_cookie: None,
            },
            _ => {
                let token = tokens::generate();
                FormToken {
                    new_cookie: Some(cookies::set(&name, &token, tls)),
                    token,
                }
            }
        })
    }
}
