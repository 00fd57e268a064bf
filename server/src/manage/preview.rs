//! "View as client": a staff member opens the portal as one of its users, read only. The
//! preview lives on the staff member's own session (`sessions.preview_portal_user_id`), so
//! it ends with it; the session layer turns it into a portal sign-in that refuses every
//! request but a read (see `auth::session`). Start and end are audited.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{ClientIp, StaffSession, audit_actor};
use crate::db::accounts::{self, AccountKind};
use crate::db::audit::{self, Target};
use crate::db::sessions;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct StartInput {
    portal_user_id: i64,
}

/// `POST /{agency}/manage/preview`: starts previewing the portal as a portal user of the
/// agency (any other id is not found), then opens the portal.
pub async fn start(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Form(input): Form<StartInput>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let viewed = accounts::by_id(
        pool,
        AccountKind::Portal,
        me.agency.id,
        input.portal_user_id,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    sessions::set_preview(pool, me.agency.id, me.session.id, Some(viewed.id)).await?;
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let target = Target {
        kind: Some("portal_user"),
        id: Some(viewed.id),
        label: Some(&viewed.email),
    };
    audit::record(pool, me.agency.id, actor, "preview started", target, "").await?;
    Ok(crate::redirect::to(&format!("/{}/portal", me.agency.slug)).into_response())
}

/// `POST /{agency}/manage/preview/end`: back to the manage area as oneself.
pub async fn end(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    if let Some(viewed) = me.session.preview_portal_user_id {
        sessions::set_preview(pool, me.agency.id, me.session.id, None).await?;
        let label = accounts::by_id(pool, AccountKind::Portal, me.agency.id, viewed)
            .await?
            .map(|account| account.email);
        let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
        let target = Target {
            kind: Some("portal_user"),
            id: Some(viewed),
            label: label.as_deref(),
        };
        audit::record(pool, me.agency.id, actor, "preview ended", target, "").await?;
    }
    Ok(
        crate::redirect::to(&format!("/{}/manage?done=preview-ended", me.agency.slug))
            .into_response(),
    )
}
