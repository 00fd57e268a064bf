//! Who is signed in. A middleware resolves the session cookies once per request (checking
//! agency, expiry and account status) and the extractors below hand handlers what they may
//! use: a handler that asks for [`StaffSession`], [`StaffAdmin`] or [`PortalSession`] cannot
//! run without one, and the agency always comes from the session, never from the request.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{cookies, tokens};
use crate::agency::Agency;
use crate::agency::{PREVIEW, Preview};
use crate::db::accounts::{self, Account, AccountKind};
use crate::db::agency_settings::{self, AgencySettings};
use crate::db::sessions::{self, NewSession, SessionRow};
use crate::db::{Timestamp, clients};
use crate::error::{AppError, ErrorInfo};
use crate::plugins::{Permission, Role};
use crate::state::AppState;

/// Sessions are touched at most this often, to spare the database a write per request.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A signed-in account and its session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionRow,
    pub account: Account,
    pub kind: AccountKind,
    pub agency: Arc<Agency>,
    /// The agency's settings in force (saved by its admins over its configuration), read
    /// once per request.
    pub settings: AgencySettings,
    /// Set when a staff member previews the portal as this portal user: `session` is then
    /// the staff member's, and nothing may change.
    pub preview: Option<Arc<Preview>>,
}

impl SignedIn {
    pub fn csrf_token(&self) -> &str {
        &self.session.csrf_token
    }
}

/// The sessions a request carries, resolved by [`load_sessions`].
#[derive(Debug, Clone, Default)]
pub struct RequestSessions {
    pub staff: Option<Arc<SignedIn>>,
    pub portal: Option<Arc<SignedIn>>,
}

impl RequestSessions {
    pub fn get(&self, kind: AccountKind) -> Option<&Arc<SignedIn>> {
        match kind {
            AccountKind::Staff => self.staff.as_ref(),
            AccountKind::Portal => self.portal.as_ref(),
        }
    }
}

/// The cookie that carries a session of this kind of account.
pub fn cookie_name(kind: AccountKind, tls: bool) -> String {
    cookies::name(kind.area(), tls)
}

/// Middleware for `/{agency}/…`: resolves both session cookies for the agency in the path.
pub async fn load_sessions(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = crate::agency::full_path(request.extensions(), request.uri());
    let (slug, area, rest) = crate::agency::path_parts(path);
    let (slug, rest) = (slug.to_owned(), rest.to_owned());
    let in_portal = area == "portal";
    let mut found = RequestSessions::default();
    let mut preview = None;
    if let Some(agency) = state.agency(&slug) {
        for kind in [AccountKind::Staff, AccountKind::Portal] {
            match resolve(&state, &agency, request.headers(), kind).await {
                Ok(Some(signed_in)) => match kind {
                    AccountKind::Staff => found.staff = Some(Arc::new(signed_in)),
                    AccountKind::Portal => found.portal = Some(Arc::new(signed_in)),
                },
                Ok(None) => {}
                Err(err) => return AppError::from(err).into_response(),
            }
        }
        // A staff member previewing the portal sees it as the portal user, in place of any
        // portal session the browser also has; the preview never writes.
        if in_portal && let Some(staff) = found.staff.as_ref().filter(|s| !s.session.mfa_pending) {
            match previewed(&state, staff).await {
                Ok(Some(viewed)) => {
                    if let Err(message) = preview_allows(request.method(), &rest) {
                        return read_only(message);
                    }
                    preview.clone_from(&viewed.preview);
                    found.portal = Some(Arc::new(viewed));
                }
                Ok(None) => {}
                Err(err) => return AppError::from(err).into_response(),
            }
        }
    }
    request.extensions_mut().insert(found);
    match preview {
        Some(preview) => PREVIEW.scope(preview, next.run(request)).await,
        None => next.run(request).await,
    }
}

/// The portal user a staff session is previewing, as a read-only portal sign-in.
async fn previewed(state: &AppState, staff: &SignedIn) -> Result<Option<SignedIn>, sqlx::Error> {
    let Some(portal_user_id) = staff.session.preview_portal_user_id else {
        return Ok(None);
    };
    let pool = &state.db().pool;
    let agency = &staff.agency;
    let Some(account) =
        accounts::by_id(pool, AccountKind::Portal, agency.id, portal_user_id).await?
    else {
        sessions::set_preview(pool, agency.id, staff.session.id, None).await?;
        return Ok(None);
    };
    let preview = Preview {
        staff_id: staff.account.id,
        staff_name: staff.account.name.clone(),
        portal_user_id: account.id,
        portal_user_name: account.name.clone(),
        portal_user_email: account.email.clone(),
        csrf_token: staff.session.csrf_token.clone(),
    };
    Ok(Some(SignedIn {
        session: staff.session.clone(),
        account,
        kind: AccountKind::Portal,
        agency: agency.clone(),
        settings: staff.settings.clone(),
        preview: Some(Arc::new(preview)),
    }))
}

/// What a preview may open: portal pages, read only. Every other method is refused before
/// any handler runs, and so are the pages of the user's own account (their sessions,
/// password and two-factor set-up are theirs alone).
fn preview_allows(method: &Method, rest: &str) -> Result<(), &'static str> {
    let page = rest.split('/').next().unwrap_or_default();
    let message = if method != Method::GET && method != Method::HEAD {
        "This is a read-only preview of the portal: nothing can be changed. End the preview to act as yourself."
    } else if matches!(
        page,
        "account" | "login" | "logout" | "set-password" | "forgot-password"
    ) {
        "The portal user's own account pages are not part of the preview."
    } else {
        return Ok(());
    };
    Err(message)
}

/// A 403 with `message`, rendered as the theme's error page by the error layer.
fn read_only(message: &str) -> Response {
    let info = ErrorInfo {
        status: StatusCode::FORBIDDEN,
        message: message.to_owned(),
        fields: None,
    };
    let mut response = (info.status, info.message.clone()).into_response();
    response.extensions_mut().insert(info);
    response
}

async fn resolve(
    state: &AppState,
    agency: &Arc<Agency>,
    headers: &HeaderMap,
    kind: AccountKind,
) -> Result<Option<SignedIn>, sqlx::Error> {
    let tls = state.settings().server.tls();
    let Some(token) = cookies::get(headers, &cookie_name(kind, tls)) else {
        return Ok(None);
    };
    // One connection for the session's few queries.
    let mut conn = state.db().pool.acquire().await?;
    let Some(found) = sessions::by_token_hash(&mut *conn, &tokens::hash(token)).await? else {
        return Ok(None);
    };
    let session = found.session;
    // A cookie from another agency or for the other area is no session here.
    if session.agency_id != agency.id || session.user_kind != kind.as_str() {
        return Ok(None);
    }
    let now = Timestamp::now();
    let settings = agency_settings::in_force(agency, &state.settings().security, &found.settings);
    let idle = settings.session_idle_minutes * 60;
    // `expires_at` was fixed at sign-in; a shorter absolute time-out saved since applies too.
    let absolute = settings.session_absolute_hours * 3600;
    if now >= session.expires_at
        || now.0 - session.created_at.0 >= absolute
        || now.0 - session.last_seen_at.0 >= idle
    {
        sessions::delete(&mut *conn, session.id).await?;
        return Ok(None);
    }
    let Some(account) = accounts::by_id(&mut *conn, kind, agency.id, session.user_id).await? else {
        sessions::delete(&mut *conn, session.id).await?;
        return Ok(None);
    };
    if !account.is_active() {
        sessions::delete(&mut *conn, session.id).await?;
        return Ok(None);
    }
    if now.0 - session.last_seen_at.0 >= TOUCH_EVERY_SECONDS {
        sessions::touch(&mut *conn, session.id, now).await?;
    }
    Ok(Some(SignedIn {
        session,
        account,
        kind,
        agency: agency.clone(),
        settings,
        preview: None,
    }))
}

/// Starts a session for an account that just proved who it is; returns the cookie to set.
/// A new token every time: a session id planted before sign-in is worthless after it.
/// With `mfa_pending`, the session only allows the second-factor page until it is passed.
pub async fn start(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    account: &Account,
    client: (&str, &str),
    mfa_pending: bool,
) -> Result<header::HeaderValue, sqlx::Error> {
    let (ip, user_agent) = client;
    let token = tokens::generate();
    let csrf = tokens::generate();
    let settings =
        agency_settings::effective(&state.db().pool, agency, &state.settings().security).await?;
    let absolute = settings.session_absolute_hours * 3600;
    let user_agent: String = user_agent.chars().take(200).collect();
    let new = NewSession {
        token_hash: &tokens::hash(&token),
        agency_id: agency.id,
        kind,
        user_id: account.id,
        csrf_token: &csrf,
        expires_at: Timestamp::now().plus_seconds(absolute),
        ip,
        user_agent: &user_agent,
        mfa_pending,
    };
    sessions::create(&state.db().pool, &new).await?;
    let tls = state.settings().server.tls();
    Ok(cookies::set(&cookie_name(kind, tls), &token, tls))
}

/// Why a request needing a session did not get one.
#[derive(Debug)]
pub enum Rejection {
    /// Not signed in (or the session ended): to this page.
    Redirect(String),
    Forbidden,
    Failed(AppError),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect(to) => crate::redirect::to(&to).into_response(),
            Self::Forbidden => AppError::Forbidden.into_response(),
            Self::Failed(err) => err.into_response(),
        }
    }
}

/// Where a request without the right session is sent: the area's sign-in page.
fn sign_in_redirect(parts: &Parts, kind: AccountKind) -> Rejection {
    let (slug, _) =
        crate::agency::path_segments(crate::agency::full_path(&parts.extensions, &parts.uri));
    Rejection::Redirect(format!("/{slug}/{}/login", kind.area()))
}

fn signed_in(parts: &Parts, kind: AccountKind) -> Result<Arc<SignedIn>, Rejection> {
    let found = parts
        .extensions
        .get::<RequestSessions>()
        .and_then(|sessions| sessions.get(kind))
        .cloned()
        .ok_or_else(|| sign_in_redirect(parts, kind))?;
    // Steps that come before anything else, each allowing only its own page (and sign-out):
    // the second factor, then replacing an admin-set password, then enrolling in two-factor
    // sign-in where the agency requires it.
    let path = crate::agency::full_path(&parts.extensions, &parts.uri);
    let due = if found.preview.is_some() {
        None
    } else if found.session.mfa_pending {
        Some("login/mfa")
    } else if found.account.must_change_password {
        Some("account/password")
    } else if mfa_required(&found.settings, kind) && !found.account.has_mfa() {
        Some("account/mfa")
    } else {
        None
    };
    match due {
        Some(step) if !path.ends_with(&format!("/{step}")) && !path.ends_with("/logout") => Err(
            Rejection::Redirect(format!("/{}/{}/{step}", found.agency.slug, kind.area())),
        ),
        _ => Ok(found),
    }
}

/// Whether the agency requires two-factor sign-in of this kind of account.
pub fn mfa_required(settings: &AgencySettings, kind: AccountKind) -> bool {
    match kind {
        AccountKind::Staff => settings.require_mfa_staff,
        AccountKind::Portal => settings.require_mfa_portal,
    }
}

/// A signed-in agency staff member (admin or staff).
#[derive(Debug, Clone)]
pub struct StaffSession(pub Arc<SignedIn>);

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Rejection> {
        signed_in(parts, AccountKind::Staff).map(StaffSession)
    }
}

/// A signed-in agency admin: only admins manage users and settings.
#[derive(Debug, Clone)]
pub struct StaffAdmin(pub Arc<SignedIn>);

impl FromRequestParts<AppState> for StaffAdmin {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejection> {
        let StaffSession(staff) = StaffSession::from_request_parts(parts, state).await?;
        if staff.account.role_id == "admin" {
            Ok(StaffAdmin(staff))
        } else {
            Err(Rejection::Forbidden)
        }
    }
}

/// A signed-in portal user with the clients they may see and their role from the agency's
/// role-set plugin. Every client-side query filters by `agency.id` and `client_ids`; every
/// page checks the role's permissions.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub user: Arc<SignedIn>,
    pub client_ids: Arc<[i64]>,
    /// `None` when the role-set no longer offers the user's role: such a user may do nothing
    /// until an admin gives them a current role.
    pub role: Option<Role>,
    /// Set when a staff member is previewing the portal as this user: every request is a
    /// read (anything else was refused before the handler ran).
    pub preview: Option<Arc<Preview>>,
}

impl PortalSession {
    /// Whether the user's role grants `permission` (dynamic rules are checked per target).
    pub fn may(&self, permission: Permission) -> bool {
        self.role
            .as_ref()
            .is_some_and(|role| role.grants(permission))
    }
}

impl FromRequestParts<AppState> for PortalSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejection> {
        let user = signed_in(parts, AccountKind::Portal)?;
        if user.preview.is_none() && !user.settings.portal_enabled {
            return Err(sign_in_redirect(parts, AccountKind::Portal));
        }
        let belongs = clients::of_portal_user(&state.db().pool, user.agency.id, user.account.id)
            .await
            .map_err(|err| Rejection::Failed(err.into()))?;
        // A client whose portal was turned off is out of sight at once; a user with no client
        // left is signed out. Staff viewing as the client still see it.
        if user.preview.is_none() && clients::all_closed(&belongs) {
            return Err(sign_in_redirect(parts, AccountKind::Portal));
        }
        let client_ids: Vec<i64> = belongs
            .into_iter()
            .filter(|(_, open)| *open || user.preview.is_some())
            .map(|(id, _)| id)
            .collect();
        let role = state
            .plugins()
            .agency(&user.agency.slug)
            .and_then(|set| set.role(&user.account.role_id).cloned());
        if role.is_none() {
            tracing::warn!(role = %user.account.role_id, "portal user has a role the role set does not offer");
        }
        Ok(PortalSession {
            preview: user.preview.clone(),
            user,
            client_ids: client_ids.into(),
            role,
        })
    }
}

/// The signed-in account of the area in the path (`/{agency}/portal/…` or
/// `/{agency}/manage/…`), for pages both kinds of account share (account, password).
#[derive(Debug, Clone)]
pub struct AreaSession(pub Arc<SignedIn>);

impl FromRequestParts<AppState> for AreaSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejection> {
        let super::password::AreaKind(kind, _) =
            super::password::AreaKind::from_request_parts(parts, state)
                .await
                .map_err(Rejection::Failed)?;
        signed_in(parts, kind).map(AreaSession)
    }
}
