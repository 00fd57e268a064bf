//! Two-factor sign-in: enrolment with an authenticator app (QR code or key), the code step at
//! sign-in, one-time recovery codes, and turning it off again.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::session::{AreaSession, SignedIn, mfa_required};
use super::throttle::{self, Keys, Verdict};
use super::{ClientIp, audit_actor, login, tokens, totp};
use crate::db::audit::{self, Target};
use crate::db::{Timestamp, mfa, sessions};
use crate::error::AppResult;
use crate::state::AppState;

/// Recovery codes issued at enrolment, each good for one sign-in without the app.
const RECOVERY_CODES: usize = 10;

fn render(me: &SignedIn, template: &str, extra: Value) -> AppResult<Response> {
    let base = context! {
        area => me.kind.area(), csrf_token => me.csrf_token(), user => &me.account.name,
        required => mfa_required(&me.settings, me.kind), enabled => me.account.has_mfa(),
    };
    Ok(me
        .agency
        .render(template, context! { ..base, ..extra })?
        .into_response())
}

// ---- the code step at sign-in ----

pub async fn challenge_page(AreaSession(me): AreaSession) -> AppResult<Response> {
    if !me.session.mfa_pending {
        return Ok(
            crate::redirect::to(&format!("/{}/{}", me.agency.slug, me.kind.area())).into_response(),
        );
    }
    render(
        &me,
        "mfa_challenge.html",
        context! { title => "Enter your sign-in code" },
    )
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// A code from the app, or a recovery code: either finishes signing in with a new session.
pub async fn challenge_submit(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    if !me.session.mfa_pending {
        return Ok(
            crate::redirect::to(&format!("/{}/{}", me.agency.slug, me.kind.area())).into_response(),
        );
    }
    let pool = &state.db().pool;
    let security = &state.settings().security;
    let (agency, kind, account) = (&me.agency, me.kind, &me.account);
    let keys = Keys::new(agency.id, kind, &account.email, &ip);
    if throttle::check(pool, &keys, security).await? == Verdict::Locked {
        return render(
            &me,
            "mfa_challenge.html",
            context! { title => "Enter your sign-in code", error => "Too many wrong codes. Please wait 15 minutes." },
        );
    }
    let secret = account.mfa_secret.as_deref().unwrap_or_default();
    let by_app = match totp::verify(
        secret,
        &form.code,
        Timestamp::now().0,
        account.mfa_last_step,
    ) {
        Some(step) => mfa::use_step(pool, kind, agency.id, account.id, step).await?,
        None => false,
    };
    let by_recovery = !by_app
        && mfa::use_recovery_code(
            pool,
            kind,
            agency.id,
            account.id,
            &recovery_hash(&form.code),
        )
        .await?;
    if !(by_app || by_recovery) {
        throttle::failure(pool, &keys, security).await?;
        let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, &ip);
        audit::record(
            pool,
            agency.id,
            actor,
            "sign-in code failed",
            Target::default(),
            "",
        )
        .await?;
        return render(
            &me,
            "mfa_challenge.html",
            context! { title => "Enter your sign-in code", error => "That code is not right, or was already used. Try the current one." },
        );
    }
    throttle::success(pool, &keys).await?;
    sessions::delete(pool, me.session.id).await?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let action = if by_app {
        "signed in with two-factor code"
    } else {
        "signed in with recovery code"
    };
    login::complete_sign_in(&state, agency, kind, account, (&ip, user_agent), action).await
}

// ---- enrolment and turning it off ----

pub async fn settings_page(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
) -> AppResult<Response> {
    if me.account.has_mfa() {
        return render(
            &me,
            "mfa_settings.html",
            context! { title => "Two-factor sign-in" },
        );
    }
    // A new secret each time the page is shown; only a confirmed one is kept.
    let secret = totp::generate_secret();
    mfa::set_pending_secret(
        &state.db().pool,
        me.kind,
        me.agency.id,
        me.account.id,
        &secret,
    )
    .await?;
    enrolment(&me, &secret, None)
}

fn enrolment(me: &SignedIn, secret: &str, error: Option<&str>) -> AppResult<Response> {
    let uri = totp::provisioning_uri(&me.agency.config.display_name, &me.account.email, secret);
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build()
        })
        .unwrap_or_default();
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    render(
        me,
        "mfa_settings.html",
        context! {
            title => "Set up two-factor sign-in",
            // The SVG is made here from the URI, never from user input.
            qr_svg => Value::from_safe_string(qr),
            secret => grouped.join(" "),
            error,
        },
    )
}

pub async fn enable(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let (agency, kind, account) = (&me.agency, me.kind, &me.account);
    let Some(secret) = account
        .mfa_pending_secret
        .as_deref()
        .filter(|_| !account.has_mfa())
    else {
        return Ok(
            crate::redirect::to(&format!("/{}/{}/account/mfa", agency.slug, kind.area()))
                .into_response(),
        );
    };
    let Some(step) = totp::verify(secret, &form.code, Timestamp::now().0, None) else {
        return enrolment(
            &me,
            secret,
            Some("That code is not right. Check the time on your phone and try the current code."),
        );
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    mfa::enable(&mut *tx, kind, agency.id, account.id, secret, step).await?;
    mfa::replace_recovery_codes(&mut tx, kind, agency.id, account.id, &hashes).await?;
    let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, &ip);
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "two-factor sign-in enabled",
        Target::default(),
        "",
    )
    .await?;
    tx.commit().await?;
    render(
        &me,
        "mfa_settings.html",
        context! { title => "Two-factor sign-in", enabled => true, recovery_codes => codes },
    )
}

#[derive(Debug, Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    password: String,
}

pub async fn disable(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<DisableForm>,
) -> AppResult<Response> {
    let (agency, kind, account) = (&me.agency, me.kind, &me.account);
    let verified = throttle::reauthenticate(&state, &me, &ip, &form.password).await?;
    if verified == throttle::Reauthentication::Locked {
        return Ok(super::password::signed_out_for_safety(&me));
    }
    if verified == throttle::Reauthentication::Wrong {
        return render(
            &me,
            "mfa_settings.html",
            context! { title => "Two-factor sign-in", error => "Your password is not right." },
        );
    }
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    mfa::disable(&mut tx, kind, agency.id, account.id).await?;
    let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, &ip);
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "two-factor sign-in disabled",
        Target::default(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(crate::redirect::to(&format!("/{}/{}/account", agency.slug, kind.area())).into_response())
}

/// `xxxx-xxxx-xxxx`: 48 random bits, easy to type from paper.
fn recovery_code() -> String {
    let raw = tokens::generate();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// Recovery codes are compared hashed, ignoring spaces, dashes and case.
fn recovery_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    tokens::hash(&normalized)
}
