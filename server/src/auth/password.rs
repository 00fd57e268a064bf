//! Passwords people set themselves: "forgot password" (both areas), the page behind an
//! invitation or reset link, and changing a password while signed in (also the forced change
//! after an admin chose the password).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use super::csrf::FormToken;
use super::session::SignedIn;
use super::throttle;
use super::throttle::Reauthentication;
use super::{ClientIp, audit_actor, passwords, tokens};
use crate::agency::{Agency, CurrentAgency};
use crate::db::accounts::{self, Account, AccountKind};
use crate::db::agency_settings;
use crate::db::audit::{self, Target};
use crate::db::tokens::Purpose;
use crate::db::{self, Timestamp};
use crate::error::AppResult;
use crate::mail::{self, Email, Queued};
use crate::notifications;
use crate::state::AppState;

/// Checks a new password pair; the problem, in words, when refused. The password must not
/// contain the account's email or name, the agency's name, or (for portal users) the names
/// of their companies.
async fn new_password_problem(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    account: &Account,
    password: &str,
    confirm: &str,
) -> AppResult<Option<String>> {
    if password != confirm {
        return Ok(Some("The two passwords are not the same.".into()));
    }
    let mut words = vec![
        account.email.clone(),
        account.name.clone(),
        agency.config.display_name.clone(),
    ];
    if kind == AccountKind::Portal {
        let pool = &state.db().pool;
        let visible = db::clients::visible_to(pool, agency.id, account.id).await?;
        let named = db::clients::named(pool, agency.id, &visible).await?;
        words.extend(named.into_iter().map(|(_, name)| name));
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let min = min_length(state, agency).await?;
    Ok(passwords::policy_problem(password, min, &words))
}

/// The shortest password the agency accepts, by the settings in force.
pub async fn min_length(state: &AppState, agency: &Agency) -> AppResult<usize> {
    let settings =
        agency_settings::effective(&state.db().pool, agency, &state.settings().security).await?;
    Ok(settings.password_min_length())
}

// ---- forgot password ----

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot_page(
    agency: CurrentAgency,
    token: FormToken,
    area: AreaKind,
) -> AppResult<Response> {
    let html = agency.render(
        "forgot_password.html",
        context! { area => area.0.area(), csrf_token => &token.token, title => "Reset your password" },
    )?;
    Ok((token.cookie().into_iter().collect::<HeaderMap>(), html).into_response())
}

/// Answers the same whatever the email, at once; the work happens in the background so the
/// response time does not tell either.
pub async fn forgot_submit(
    State(state): State<AppState>,
    agency: CurrentAgency,
    area: AreaKind,
    ClientIp(ip): ClientIp,
    Form(form): Form<ForgotForm>,
) -> Response {
    let kind = area.0;
    let email = form.email.trim().to_owned();
    let agency = agency.0.clone();
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(err) = reset_asked(&task_state, &agency, kind, &email, &ip).await {
            tracing::error!(error = format!("{err:#}"), "password reset email failed");
        }
    });
    crate::redirect::to(&format!(
        "/{}/{}/login?done=reset-sent",
        state_slug(&area),
        kind.area()
    ))
}

fn state_slug(area: &AreaKind) -> &str {
    &area.1
}

async fn reset_asked(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    email: &str,
    ip: &str,
) -> anyhow::Result<()> {
    let pool = &state.db().pool;
    let Some(account) = accounts::by_email(pool, kind, agency.id, email).await? else {
        return Ok(());
    };
    // A portal user whose companies all have the portal off gets no portal email (and the
    // page says the same as for any address).
    let closed = kind == AccountKind::Portal
        && db::clients::all_closed(
            &db::clients::of_portal_user(pool, agency.id, account.id).await?,
        );
    if account.status == "deactivated"
        || closed
        || !throttle::allow_email(pool, agency.id, email, &state.settings().security).await?
    {
        return Ok(());
    }
    let mut tx = crate::db::begin_write(pool).await?;
    let (_, link) = send_reset(state, &mut tx, agency, kind, &account).await?;
    let actor = audit_actor("anonymous", None, &account.email, ip);
    let target = Target {
        kind: Some(kind.as_str()),
        id: Some(account.id),
        label: Some(&account.email),
    };
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "password reset requested",
        target,
        "",
    )
    .await?;
    tx.commit().await?;
    if let Some(link) = link {
        // The user who asked is the event's subject; who asked cannot be known past that.
        let subject = notifications::subject(kind, account.id, &account.name, &account.email);
        let fields = link.fields("reset-url");
        let fields = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let event = notifications::account("password-reset", &actor, subject, None, fields);
        notifications::raise(state, agency, &event).await;
    }
    Ok(())
}

/// A single-use link just issued: where it leads and until when.
#[derive(Debug)]
pub struct Issued {
    pub url: String,
    pub expires_at: String,
}

impl Issued {
    /// The link as an event's fields, under `key` with `expires-at`.
    pub fn fields(self, key: &str) -> Vec<(&str, String)> {
        vec![(key, self.url), ("expires-at", self.expires_at)]
    }
}

/// Issues a password reset link for `account` (valid `security.reset_minutes`) and queues
/// the email that carries it; the link comes back when the email was queued.
pub async fn send_reset(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    agency: &Agency,
    kind: AccountKind,
    account: &Account,
) -> AppResult<(Queued, Option<Issued>)> {
    let minutes = state.settings().security.reset_minutes;
    let url = issue_link(
        state,
        conn,
        agency,
        kind,
        account,
        Purpose::Reset,
        minutes * 60,
    )
    .await?;
    let expires_at = Timestamp::now().plus_seconds(minutes * 60).to_string();
    let vars = context! {
        name => account.name.trim(), reset_url => &url, minutes, expires_at => &expires_at,
    };
    let queued = mail::enqueue(
        conn,
        agency,
        Email {
            template: "password-reset",
            to: &account.email,
            vars,
        },
    )
    .await?;
    let issued = matches!(queued, Queued::Yes(_)).then_some(Issued { url, expires_at });
    Ok((queued, issued))
}

/// Creates a single-use link for an account and returns its full URL. Used for resets here
/// and for invitations by the manage area.
pub async fn issue_link(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    agency: &Agency,
    kind: AccountKind,
    account: &Account,
    purpose: Purpose,
    lifetime_seconds: i64,
) -> anyhow::Result<String> {
    let token = tokens::generate();
    let expires = Timestamp::now().plus_seconds(lifetime_seconds);
    db::tokens::create(
        conn,
        agency.id,
        purpose,
        kind,
        account.id,
        &tokens::hash(&token),
        expires,
    )
    .await?;
    Ok(format!(
        "{}/{}/{}/set-password?token={token}",
        state.settings().server.public_url.trim_end_matches('/'),
        agency.slug,
        kind.area()
    ))
}

// ---- set password from a link ----

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct SetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The account behind a link, if the link is for this agency and area, unused and unexpired.
async fn valid_link(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    token: &str,
) -> AppResult<Option<(db::tokens::TokenRow, Account)>> {
    let pool = &state.db().pool;
    let Some(row) = db::tokens::by_hash(pool, agency.id, &tokens::hash(token)).await? else {
        return Ok(None);
    };
    if row.used_at.is_some() || row.expires_at <= Timestamp::now() || row.user_kind != kind.as_str()
    {
        return Ok(None);
    }
    let account = accounts::by_id(pool, kind, agency.id, row.user_id).await?;
    Ok(account
        .filter(|a| a.status != "deactivated")
        .map(|a| (row, a)))
}

fn link_expired(agency: &Agency, kind: AccountKind) -> AppResult<Response> {
    Ok(agency
        .render(
            "message.html",
            context! {
                title => "This link no longer works",
                message => "The link has expired or was already used. You can ask for a new one.",
                link_url => format!("/{}/{}/forgot-password", agency.slug, kind.area()),
                link_text => "Send me a new link",
            },
        )?
        .into_response())
}

pub async fn set_page(
    State(state): State<AppState>,
    agency: CurrentAgency,
    area: AreaKind,
    token: FormToken,
    Query(query): Query<LinkQuery>,
) -> AppResult<Response> {
    let kind = area.0;
    let Some((_, account)) = valid_link(&state, &agency, kind, &query.token).await? else {
        return link_expired(&agency, kind);
    };
    let min = min_length(&state, &agency).await?;
    set_form(&agency, kind, &token, &query.token, &account, None, min)
}

fn set_form(
    agency: &Agency,
    kind: AccountKind,
    csrf: &FormToken,
    link: &str,
    account: &Account,
    error: Option<String>,
    min_length: usize,
) -> AppResult<Response> {
    let html = agency.render(
        "set_password.html",
        context! {
            area => kind.area(), title => "Choose your password", csrf_token => &csrf.token,
            link_token => link, email => &account.email, error, min_length,
        },
    )?;
    Ok((csrf.cookie().into_iter().collect::<HeaderMap>(), html).into_response())
}

pub async fn set_submit(
    State(state): State<AppState>,
    agency: CurrentAgency,
    area: AreaKind,
    csrf: FormToken,
    ClientIp(ip): ClientIp,
    Form(form): Form<SetForm>,
) -> AppResult<Response> {
    let kind = area.0;
    let Some((link, account)) = valid_link(&state, &agency, kind, &form.token).await? else {
        return link_expired(&agency, kind);
    };
    if let Some(problem) = new_password_problem(
        &state,
        &agency,
        kind,
        &account,
        &form.password,
        &form.confirm,
    )
    .await?
    {
        let min = min_length(&state, &agency).await?;
        return set_form(
            &agency,
            kind,
            &csrf,
            &form.token,
            &account,
            Some(problem),
            min,
        );
    }
    let hash = passwords::hash(&form.password).await?;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    if !db::tokens::consume(&mut *tx, link.id).await? {
        return link_expired(&agency, kind);
    }
    accounts::set_password(&mut *tx, kind, agency.id, account.id, &hash, false).await?;
    accounts::revoke_access(&mut tx, agency.id, kind, account.id, None).await?;
    let action = if link.purpose == Purpose::Invite.as_str() {
        "invitation accepted"
    } else {
        "password reset"
    };
    let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, &ip);
    audit::record(&mut *tx, agency.id, actor, action, Target::default(), "").await?;
    tx.commit().await?;
    Ok(crate::redirect::to(&format!(
        "/{}/{}/login?done=password-set",
        agency.slug,
        kind.area()
    ))
    .into_response())
}

// ---- change password while signed in ----

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub fn change_page(signed_in: &SignedIn, error: Option<String>) -> AppResult<Response> {
    let agency = &signed_in.agency;
    Ok(agency
        .render(
            "change_password.html",
            context! {
                area => signed_in.kind.area(), title => "Change your password",
                csrf_token => signed_in.csrf_token(), user => &signed_in.account.name,
                forced => signed_in.account.must_change_password, error,
                min_length => signed_in.settings.password_min_length,
            },
        )?
        .into_response())
}

/// Where a person goes when too many wrong passwords ended their session: the sign-in page,
/// which says why.
pub fn signed_out_for_safety(signed_in: &SignedIn) -> Response {
    crate::redirect::to(&format!(
        "/{}/{}/login?done=locked-out",
        signed_in.agency.slug,
        signed_in.kind.area()
    ))
}

/// Verifies the current password, stores the new one, and ends every other session.
pub async fn change_submit(
    state: &AppState,
    signed_in: &SignedIn,
    ip: &str,
    form: ChangeForm,
) -> AppResult<Response> {
    let account = &signed_in.account;
    let agency = &signed_in.agency;
    match super::throttle::reauthenticate(state, signed_in, ip, &form.current).await? {
        Reauthentication::Confirmed => {}
        Reauthentication::Wrong => {
            return change_page(
                signed_in,
                Some("Your current password is not right.".into()),
            );
        }
        Reauthentication::Locked => return Ok(signed_out_for_safety(signed_in)),
    }
    if form.password == form.current {
        return change_page(
            signed_in,
            Some("Choose a password different from the current one.".into()),
        );
    }
    if let Some(problem) = new_password_problem(
        state,
        agency,
        signed_in.kind,
        account,
        &form.password,
        &form.confirm,
    )
    .await?
    {
        return change_page(signed_in, Some(problem));
    }
    let hash = passwords::hash(&form.password).await?;
    let kind = signed_in.kind;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    accounts::set_password(&mut *tx, kind, agency.id, account.id, &hash, false).await?;
    accounts::revoke_access(
        &mut tx,
        agency.id,
        kind,
        account.id,
        Some(signed_in.session.id),
    )
    .await?;
    let actor = audit_actor(kind.as_str(), Some(account.id), &account.email, ip);
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "password changed",
        Target::default(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(crate::redirect::to(&format!(
        "/{}/{}/account?done=password-changed",
        agency.slug,
        kind.area()
    ))
    .into_response())
}

/// Which area a route belongs to (`portal` or `manage`), with the agency slug: the routes are
/// shared, the kind of account is not.
#[derive(Debug, Clone)]
pub struct AreaKind(pub AccountKind, pub String);

impl axum::extract::FromRequestParts<AppState> for AreaKind {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = crate::agency::full_path(&parts.extensions, &parts.uri);
        let (slug, area) = crate::agency::path_segments(path);
        match area {
            "portal" => Ok(AreaKind(AccountKind::Portal, slug.to_owned())),
            "manage" => Ok(AreaKind(AccountKind::Staff, slug.to_owned())),
            _ => Err(crate::error::AppError::NotFound),
        }
    }
}
