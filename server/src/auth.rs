//! Identity: passwords, sessions, CSRF, throttling and the sign-in pages of both kinds of
//! account — agency staff (`/{agency}/manage/…`) and portal users (`/{agency}/portal/…`).

pub mod account;
pub mod api_tokens;
pub mod cookies;
pub mod csrf;
pub mod login;
pub mod mfa;
pub mod password;
pub mod passwords;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod totp;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};

pub use session::{AreaSession, PortalSession, SignedIn, StaffAdmin, StaffSession};

use crate::db::audit::Actor;
use crate::state::AppState;

/// Routes under `/{agency}`, for both areas.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for area in ["portal", "manage"] {
        router = router
            .route(
                &format!("/{area}/login"),
                get(login::page).post(login::sign_in),
            )
            .route(&format!("/{area}/logout"), post(login::sign_out))
            .route(
                &format!("/{area}/forgot-password"),
                get(password::forgot_page).post(password::forgot_submit),
            )
            .route(
                &format!("/{area}/set-password"),
                get(password::set_page).post(password::set_submit),
            )
            .route(&format!("/{area}/account"), get(account::page))
            .route(
                &format!("/{area}/account/password"),
                get(account::password_page).post(account::password_submit),
            )
            .route(
                &format!("/{area}/account/sessions/{{id}}/end"),
                post(account::end_session),
            )
            .route(
                &format!("/{area}/login/mfa"),
                get(mfa::challenge_page).post(mfa::challenge_submit),
            )
            .route(
                &format!("/{area}/account/mfa"),
                get(mfa::settings_page).post(mfa::enable),
            )
            .route(&format!("/{area}/account/mfa/disable"), post(mfa::disable));
    }
    router
}

/// The client's address, for throttling and the audit log.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings()
            .server
            .client_ip_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|first| first.trim().to_owned())
            .filter(|first| first.parse::<std::net::IpAddr>().is_ok());
        let ip = forwarded.unwrap_or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned())
        });
        Ok(ClientIp(ip))
    }
}

/// Who acts on the agency's side: the audit actor (a staff member, or an API token) and the
/// name a client sees on what they did.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub actor: Actor<'a>,
    pub name: &'a str,
}

impl Author<'_> {
    /// The staff member's id; `None` for an API token.
    pub fn staff_id(&self) -> Option<i64> {
        self.actor.id.filter(|_| self.actor.kind == "staff")
    }

    /// The author as an event names its actor: the staff member (their sign-in email), or
    /// the system for an API token.
    pub fn person(&self) -> crate::plugins::Person {
        use crate::plugins::{Person, PersonKind};
        match self.staff_id() {
            Some(id) => Person {
                kind: PersonKind::Staff,
                id: id.to_string(),
                name: self.name.to_owned(),
                email: self.actor.label.to_lowercase(),
            },
            None => Person {
                kind: PersonKind::System,
                id: String::new(),
                name: self.name.to_owned(),
                email: String::new(),
            },
        }
    }

    /// `(kind, id, name)` as a history line records its author: `staff`, or `system` for
    /// an API token.
    pub fn line(&self) -> (&str, Option<i64>, &str) {
        match self.staff_id() {
            Some(id) => ("staff", Some(id), self.name),
            None => ("system", None, self.name),
        }
    }
}

/// An audit actor, in one line at call sites.
pub fn audit_actor<'a>(kind: &'a str, id: Option<i64>, label: &'a str, ip: &'a str) -> Actor<'a> {
    Actor {
        kind,
        id,
        label,
        ip,
    }
}
