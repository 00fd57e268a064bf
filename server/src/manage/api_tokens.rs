//! API tokens for the agency's back-office: admins create (the token is shown once) and
//! revoke them.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::auth::{ClientIp, StaffAdmin, api_tokens, audit_actor};
use crate::db::audit::{self, Target};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn render(
    tokens: &[crate::db::api_tokens::ApiToken],
    me: &crate::auth::SignedIn,
    new_token: Option<&str>,
    error: Option<&str>,
) -> AppResult<Response> {
    Ok(me
        .agency
        .render(
            "manage/api_tokens.html",
            context! {
                area => "manage", title => "API tokens", csrf_token => me.csrf_token(),
                user => &me.account.name, is_admin => true, tokens => Serde(tokens),
                new_token, error,
            },
        )?
        .into_response())
}

pub async fn page(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
) -> AppResult<Response> {
    let list = crate::db::api_tokens::list(&state.db().pool, me.agency.id).await?;
    render(&list, &me, None, None)
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(form): Form<CreateForm>,
) -> AppResult<Response> {
    let (token, error) =
        match api_tokens::create(&state, &me.agency, &form.name, Some(me.account.id)).await {
            Ok(token) => {
                let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
                let target = Target {
                    kind: Some("api token"),
                    id: None,
                    label: Some(form.name.trim()),
                };
                audit::record(
                    &state.db().pool,
                    me.agency.id,
                    actor,
                    "api token created",
                    target,
                    "",
                )
                .await?;
                (Some(token), None)
            }
            Err(AppError::BadRequest(problem)) => (None, Some(problem)),
            Err(other) => return Err(other),
        };
    let list = crate::db::api_tokens::list(&state.db().pool, me.agency.id).await?;
    render(&list, &me, token.as_deref(), error.as_deref())
}

pub async fn revoke(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    if !crate::db::api_tokens::revoke(pool, me.agency.id, id).await? {
        return Err(AppError::NotFound);
    }
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let target = Target {
        kind: Some("api token"),
        id: Some(id),
        label: None,
    };
    audit::record(pool, me.agency.id, actor, "api token revoked", target, "").await?;
    Ok(crate::redirect::to(&format!("/{}/manage/api-tokens", me.agency.slug)).into_response())
}
