//! "Your account": change password, and the list of your sessions with a way to end the
//! others (a phone left signed in somewhere). Admins see the same list on a person's page and
//! can end all of their sessions at once.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use super::password::{self, ChangeForm};
use super::session::AreaSession;
use super::{ClientIp, audit_actor};
use crate::agency::Agency;
use crate::db::accounts::AccountKind;
use crate::db::audit::Actor;
use crate::db::audit::{self, Target};
use crate::db::sessions::{self, SessionRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    Query(query): Query<AccountQuery>,
) -> AppResult<Response> {
    let agency = &me.agency;
    let rows = sessions::for_account(&state.db().pool, agency.id, me.kind, me.account.id).await?;
    let list = shown(&rows, Some(me.session.id));
    let notice = match query.done.as_deref() {
        Some("password-changed") => {
            Some("Your password is changed. Your other sessions were signed out.")
        }
        Some("session-ended") => Some("That session is signed out."),
        _ => None,
    };
    Ok(agency
        .render(
            "account.html",
            context! {
                area => me.kind.area(), title => "Your account", csrf_token => me.csrf_token(),
                user => &me.account.name, email => &me.account.email, sessions => list, notice,
            },
        )?
        .into_response())
}

pub async fn password_page(AreaSession(me): AreaSession) -> AppResult<Response> {
    password::change_page(&me, None)
}

pub async fn password_submit(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    password::change_submit(&state, &me, &ip, form).await
}

/// Ends one of the account's own sessions; another account's session id is a 404.
pub async fn end_session(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let agency = &me.agency;
    let pool = &state.db().pool;
    if !sessions::delete_for_account(pool, agency.id, me.kind, me.account.id, id).await? {
        return Err(AppError::NotFound);
    }
    let actor = audit_actor(
        me.kind.as_str(),
        Some(me.account.id),
        &me.account.email,
        &ip,
    );
    let target = Target {
        kind: Some("session"),
        id: Some(id),
        label: None,
    };
    audit::record(pool, agency.id, actor, "session ended", target, "").await?;
    Ok(crate::redirect::to(&format!(
        "/{}/{}/account?done=session-ended",
        agency.slug,
        me.kind.area()
    ))
    .into_response())
}

/// Sessions as the pages list them: the device in words, the address, when it started and
/// when it was last used; `current` marks the one viewing the page.
pub fn shown(rows: &[SessionRow], current: Option<i64>) -> Vec<minijinja::Value> {
    rows.iter()
        .map(|s| {
            context! {
                id => s.id, current => Some(s.id) == current, ip => &s.ip,
                device => device(&s.user_agent), user_agent => &s.user_agent,
                started => s.created_at.to_string(), last_seen => s.last_seen_at.to_string(),
            }
        })
        .collect()
}

/// "Chrome on Android", "Safari on iPhone": enough for a person to recognise their device.
pub fn device(user_agent: &str) -> String {
    const BROWSERS: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 8] = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Macintosh", "macOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| user_agent.contains(marker))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) if user_agent.trim().is_empty() => "Unknown device".to_owned(),
        (None, None) => "Other device".to_owned(),
    }
}

/// Ends every session of one account at an admin's request, audited; how many ended.
pub async fn end_all_sessions(
    state: &AppState,
    agency: &Agency,
    kind: AccountKind,
    target: Target<'_>,
    actor: Actor<'_>,
) -> AppResult<u64> {
    let id = target.id.ok_or(AppError::NotFound)?;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let ended = sessions::delete_all_for_account(&mut *tx, agency.id, kind, id, None).await?;
    let detail = format!("{ended} ended");
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "sessions ended",
        target,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn devices_are_named_as_people_know_them() {
        for (agent, named) in [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0 Safari/537.36 Edg/126.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
                "Firefox on macOS",
            ),
            ("curl/8.5.0", "Other device"),
            ("", "Unknown device"),
        ] {
            assert_eq!(device(agent), named, "{agent}");
        }
    }
}
