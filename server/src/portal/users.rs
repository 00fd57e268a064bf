//! Portal settings: the portal users of the user's own companies (seed 003: a client
//! supervisor manages their company's portal users). Only for roles that grant
//! `manage-client-users` and users without restricted access. The list shows only users who
//! see no client beyond the signed-in user's; invitations give roles and clients within what
//! [`Granter::portal_user`] allows (only Partners add Partners). Every change goes through
//! the manage area's rules and is audited with the portal user as the actor.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use crate::auth::{ClientIp, audit_actor};
use crate::db::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::mail::Queued;
use crate::plugins::{Permission, PluginRequest, Target};
use crate::portal_users::pages::{self as shared, Done, Fields, ListQuery};
use crate::portal_users::{self as rules, Granter, NewUserInput};
use crate::state::AppState;

/// What the signed-in user may grant, or 403 when their role does not manage users or
/// their access is restricted.
async fn granter(state: &AppState, portal: &Portal) -> AppResult<Granter> {
    let granter = portal
        .session
        .role
        .as_ref()
        .and_then(|role| Granter::portal_user(role, &portal.session.client_ids))
        .ok_or(AppError::Forbidden)?;
    if portal.restricted(state).await? {
        return Err(AppError::Forbidden);
    }
    Ok(granter)
}

/// A dynamic `manage-client-users` rule's word on managing a user (`id`, none while being
/// invited) who has or is being given `role`, at `client_id`.
async fn rule_allows(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    client_id: i64,
    id: Option<i64>,
    role: &str,
) -> AppResult<()> {
    let target = Target {
        kind: "portal-user".into(),
        id: id.map(|id| id.to_string()),
        attributes: vec![("role".into(), role.to_owned())],
    };
    portal
        .allows(
            state,
            plugins,
            Permission::ManageClientUsers,
            client_id,
            target,
        )
        .await
}

fn actor<'a>(portal: &'a Portal, ip: &'a str) -> Actor<'a> {
    let account = &portal.session.user.account;
    audit_actor("portal", Some(account.id), &account.email, ip)
}

fn to_list(portal: &Portal, done: &str) -> Response {
    let slug = &portal.session.user.agency.slug;
    crate::redirect::to(&format!("/{slug}/portal/users?done={done}")).into_response()
}

/// `GET /{agency}/portal/users`.
pub async fn list(
    State(state): State<AppState>,
    portal: Portal,
    Query(query): Query<ListQuery>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let granter = granter(&state, &portal).await?;
    let me = &portal.session.user;
    let listing = shared::list_page(&state, me.agency.id, &query, granter.within).await?;
    let extra = context! {
        title => "Portal users", notice => done.notice(), me_id => me.account.id,
        roles => shared::role_labels(&state, &me.agency.slug), ..listing,
    };
    portal
        .render(&state, "portal/users.html", "users", extra)
        .await
}

async fn render_new(
    state: &AppState,
    portal: &Portal,
    granter: &Granter,
    input: &NewUserInput,
    errors: Option<&FieldErrors>,
) -> AppResult<Response> {
    let choices = shared::choices(state, &portal.session.user.agency, granter).await?;
    let extra = context! {
        title => "Invite a portal user", input => Serde(input), errors => errors.map(Serde),
        ..choices,
    };
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    portal
        .render_status(state, status, "portal/user_new.html", "users", extra)
        .await
}

/// `GET /{agency}/portal/users/new`: the invitation form.
pub async fn new_form(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    let granter = granter(&state, &portal).await?;
    render_new(&state, &portal, &granter, &NewUserInput::default(), None).await
}

/// `POST /{agency}/portal/users/new`: invites a user (never a password set by hand).
pub async fn create(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let granter = granter(&state, &portal).await?;
    let input = NewUserInput {
        user: Fields(fields).user(),
        ..NewUserInput::default()
    };
    // The rule is asked about a company the user may grant (else the form's own check
    // answers); an invitation without one is refused by that check.
    let company = input
        .user
        .company
        .or_else(|| input.user.clients.first().copied())
        .filter(|id| portal.session.client_ids.contains(id));
    if let Some(client) = company {
        rule_allows(
            &state,
            &portal,
            &mut plugins,
            client,
            None,
            &input.user.role,
        )
        .await?;
    }
    let agency = &portal.session.user.agency;
    match rules::create(&state, agency, &granter, &input, actor(&portal, &ip)).await {
        Ok(created) => Ok(to_list(
            &portal,
            match created.email {
                Some(Queued::PortalDisabled) => "not-sent",
                Some(Queued::ClientPortalDisabled) => "not-sent-client",
                _ => "invited",
            },
        )),
        Err(AppError::Invalid(errors)) => {
            render_new(&state, &portal, &granter, &input, Some(&errors)).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /{agency}/portal/users/{id}/{action}`: `deactivate` (their sessions end at once),
/// `reactivate` or `resend` (the invitation, rate-limited). A user outside the signed-in
/// user's clients is not found; their own account is not theirs to switch off here.
pub async fn act(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    ClientIp(ip): ClientIp,
    Path((_, id, action)): Path<(String, i64, String)>,
) -> AppResult<Response> {
    let granter = granter(&state, &portal).await?;
    let agency = &portal.session.user.agency;
    let user = rules::find_for(&state, agency, &granter, id).await?;
    let clients = crate::db::portal_users::client_ids(&state.db().pool, agency.id, id).await?;
    let client = clients
        .into_iter()
        .find(|client| portal.session.client_ids.contains(client))
        .ok_or(AppError::NotFound)?;
    rule_allows(
        &state,
        &portal,
        &mut plugins,
        client,
        Some(id),
        &user.role_id,
    )
    .await?;
    if id == portal.session.user.account.id {
        return Err(AppError::BadRequest(
            "You cannot change your own access here.".into(),
        ));
    }
    let actor = actor(&portal, &ip);
    let done = match action.as_str() {
        "deactivate" | "reactivate" => {
            let active = action == "reactivate";
            rules::set_active(&state, agency, id, active, actor).await?;
            if active { "reactivated" } else { "deactivated" }
        }
        "resend" => shared::sent_done(
            rules::resend_invitation(&state, agency, id, actor).await?,
            "resent",
        ),
        _ => return Err(AppError::NotFound),
    };
    Ok(to_list(&portal, done))
}
