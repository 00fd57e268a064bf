//! Sign-in and sign-out for both kinds of account: agency staff at `/{agency}/manage/login`,
//! portal users at `/{agency}/portal/login`. One generic error for every failure, the same
//! work (a password hash) whether or not the email exists, throttling per account and
//! address, and a fresh session token at every sign-in.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;

use super::csrf::FormToken;
use super::password::AreaKind;
use super::session::{self, RequestSessions};
use super::throttle::{self, Keys, Verdict};
use super::{ClientIp, audit_actor, cookies, passwords};
use crate::agency::{Agency, CurrentAgency};
use crate::db::accounts::{self, Account, AccountKind};
use crate::db::agency_settings;
use crate::db::audit::{self, Target};
use crate::db::{Timestamp, sessions};
use crate::error::AppResult;
use crate::mail::{self, Email};
use crate::notifications;
use crate::state::AppState;

/// The one message for every failed sign-in: it must not tell which part was wrong.
pub const GENERIC_ERROR: &str =
    "That email and password do not match an account. Check them and try again.";
const LOCKED_ERROR: &str =
    "Too many failed sign-ins. Please wait 15 minutes, or reset your password.";
const PORTAL_CLOSED: &str = "The client portal is not open at the moment.";

/// Told to a portal user, with the right password, whose companies all have the portal off.
const CLIENT_PORTAL_CLOSED: &str = "The portal is turned off for your company. Ask your \
     agency contact to turn it on.";

/// `/{agency}` and `/{agency}/` lead to the client portal's sign-in.
pub async fn start_page(agency: CurrentAgency) -> Response {
    crate::redirect::to(&format!("/{}/portal/login", agency.slug))
}

/// Notices shown on the sign-in page after a redirect (`?done=…`), by key so that no text
/// from the address bar reaches the page.
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "signed-out" => Some("You have signed out."),
        "password-set" => Some("Your password is set. Sign in with it now."),
        "reset-sent" => {
            Some("If an account uses that email, we have sent it a link to reset the password.")
        }
        "locked-out" => Some(
            "Too many wrong passwords: you were signed out. Wait a few minutes, then sign in again.",
        ),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    agency: CurrentAgency,
    AreaKind(kind, _): AreaKind,
    token: FormToken,
    Query(query): Query<LoginQuery>,
) -> AppResult<Response> {
    let notice = notice(query.done.as_deref());
    login_page(
        &state,
        &agency,
        kind,
        &token,
        (notice, None),
        "",
        StatusCode::OK,
    )
    .await
}

/// Whether the agency's portal is open, by the settings in force.
async fn portal_open(state: &AppState, agency: &Agency) -> AppResult<bool> {
    let settings =
        agency_settings::effective(&state.db().pool, agency, &state.settings().security).await?;
    Ok(settings.portal_enabled)
}

async fn login_page(
    state: &AppState,
    agency: &CurrentAgency,
    kind: AccountKind,
    token: &FormToken,
    (notice, error): (Option<&str>, Option<&str>),
    email: &str,
    status: StatusCode,
) -> AppResult<Response> {
    let title = match kind {
        AccountKind::Portal => "Sign in to your client portal",
        AccountKind::Staff => "Staff sign-in",
    };
    let portal_closed = kind == AccountKind::Portal && !portal_open(state, agency).await?;
    let html = agency.render(
        "login.html",
        context! {
            area => kind.area(), title, csrf_token => &token.token, notice, error, email,
            portal_closed,
        },
    )?;
    Ok((
        status,
        token.cookie().into_iter().collect::<HeaderMap>(),
        html,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    agency: CurrentAgency,
    AreaKind(kind, _): AreaKind,
    token: FormToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    if kind == AccountKind::Portal && !portal_open(&state, &agency).await? {
        let status = StatusCode::FORBIDDEN;
        return login_page(
            &state,
            &agency,
            kind,
            &token,
            (None, Some(PORTAL_CLOSED)),
            &form.email,
            status,
        )
        .await;
    }
    let pool = &state.db().pool;
    let security = &state.settings().security;
    let email = form.email.trim();
    let keys = Keys::new(agency.id, kind, email, &ip);
    let wait = match throttle::check(pool, &keys, security).await? {
        Verdict::Locked => {
            passwords::verify_dummy(&form.password).await?;
            return login_page(
                &state,
                &agency,
                kind,
                &token,
                (None, Some(LOCKED_ERROR)),
                email,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Verdict::Allowed(wait) => wait,
    };
    tokio::time::sleep(wait).await;

    let account = accounts::by_email(pool, kind, agency.id, email).await?;
    let verified = match account.as_ref().and_then(|a| a.password_hash.as_deref()) {
        Some(hash) => passwords::verify(&form.password, hash).await?,
        None => {
            passwords::verify_dummy(&form.password).await?;
            false
        }
    };
    let account = match account {
        Some(account) if verified && account.is_active() => account,
        other => {
            crate::metrics::sign_in_failed(kind.area());
            let newly_locked = throttle::failure(pool, &keys, security).await?;
            let actor = audit_actor("anonymous", None, email, &ip);
            let target = other.as_ref().map(|a| Target {
                kind: Some(kind.as_str()),
                id: Some(a.id),
                label: Some(&a.email),
            });
            audit::record(
                pool,
                agency.id,
                actor,
                "sign-in failed",
                target.unwrap_or_default(),
                "",
            )
            .await?;
            if newly_locked && let Some(account) = &other {
                lockout(&state, &agency, kind, account, &ip).await?;
            }
            return login_page(
                &state,
                &agency,
                kind,
                &token,
                (None, Some(GENERIC_ERROR)),
                email,
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
    };

    throttle::success(pool, &keys).await?;
    if kind == AccountKind::Portal
        && crate::db::clients::all_closed(
            &crate::db::clients::of_portal_user(pool, agency.id, account.id).await?,
        )
    {
        return login_page(
            &state,
            &agency,
            kind,
            &token,
            (None, Some(CLIENT_PORTAL_CLOSED)),
            email,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if let Some(hash) = account.password_hash.as_deref()
        && passwords::needs_rehash(hash)
    {
        let fresh = passwords::hash(&form.password).await?;
        accounts::rehash(pool, kind, agency.id, account.id, &fresh).await?;
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if account.has_mfa() {
        // Half signed in: the session only opens the second-factor page.
        let cookie =
            session::start(&state, &agency, kind, &account, (&ip, user_agent), true).await?;
        let next = format!("/{}/{}/login/mfa", agency.slug, kind.area());
        return Ok(([(header::SET_COOKIE, cookie)], crate::redirect::to(&next)).into_response());
    }
    complete_sign_in(
        &state,
        &agency,
        kind,
        &account,
        (&ip, user_agent),
        "signed in",
    )
    .await
}

/// The last step of signing in (after the password, or after the second factor): a fresh
/// session, the sign-in recorded, and on to the area.
pub async fn complete_sign_in(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    account: &Account,
    client: (&str, &str),
    action: &str,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let cookie = session::start(state, agency, kind, account, client, false).await?;
    accounts::record_sign_in(pool, kind, agency.id, account.id).await?;
    let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, client.0);
    audit::record(pool, agency.id, actor, action, Target::default(), "").await?;
    let next = if account.must_change_password {
        format!("/{}/{}/account/password", agency.slug, kind.area())
    } else {
        format!("/{}/{}", agency.slug, kind.area())
    };
    Ok(([(header::SET_COOKIE, cookie)], crate::redirect::to(&next)).into_response())
}

/// The account just reached the lock threshold: audit it and tell its owner by email.
async fn lockout(
    state: &AppState,
    agency: &CurrentAgency,
    kind: AccountKind,
    account: &Account,
    ip: &str,
) -> AppResult<()> {
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let actor = audit_actor("system", None, "throttle", ip);
    let target = Target {
        kind: Some(kind.as_str()),
        id: Some(account.id),
        label: Some(&account.email),
    };
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "account locked",
        target,
        "too many failed sign-ins",
    )
    .await?;
    let reset_url = format!(
        "{}/{}/{}/forgot-password",
        state.settings().server.public_url.trim_end_matches('/'),
        agency.slug,
        kind.area()
    );
    let reset_url_for_event = reset_url.clone();
    let vars = context! {
        name => &account.name,
        minutes => state.settings().security.throttle_lock_minutes,
        reset_url,
    };
    mail::enqueue(
        &mut tx,
        &agency.0,
        Email {
            template: "lockout",
            to: &account.email,
            vars,
        },
    )
    .await?;
    tx.commit().await?;
    let minutes = state.settings().security.throttle_lock_minutes;
    let locked_until = Timestamp::now().plus_seconds(minutes * 60).to_string();
    let event = notifications::account(
        "lockout",
        &actor,
        notifications::subject(kind, account.id, &account.name, &account.email),
        None,
        vec![
            ("locked-until".into(), locked_until),
            ("reset-url".into(), reset_url_for_event),
        ],
    );
    notifications::raise(state, agency, &event).await;
    Ok(())
}

/// Ends the session on the server and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    agency: CurrentAgency,
    AreaKind(kind, _): AreaKind,
    ClientIp(ip): ClientIp,
    Extension(found): Extension<RequestSessions>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    if let Some(signed_in) = found.get(kind) {
        sessions::delete(pool, signed_in.session.id).await?;
        let actor = audit_actor(
            kind.as_str(),
            Some(signed_in.account.id),
            &signed_in.account.email,
            &ip,
        );
        audit::record(pool, agency.id, actor, "signed out", Target::default(), "").await?;
    }
    let tls = state.settings().server.tls();
    let clear = cookies::clear(&session::cookie_name(kind, tls), tls);
    let to = format!("/{}/{}/login?done=signed-out", agency.slug, kind.area());
    Ok(([(header::SET_COOKIE, clear)], crate::redirect::to(&to)).into_response())
}
