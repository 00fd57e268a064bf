//! The agency's manage area (`/{agency}/manage/…`), for agency staff.

mod api_tokens;
mod audit;
pub mod branding;
pub mod clients;
pub mod contacts;
mod documents;
mod home;
mod import;
mod on_site;
pub mod outbox;
mod plugins;
pub mod portal_users;
mod preview;
pub mod settings;
pub mod staff;
mod timesheets;
mod work_requests;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;

use crate::auth::{Author, SignedIn};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The signed-in staff member as the author of an action: audited, and named to clients.
pub(crate) fn author<'a>(me: &'a SignedIn, ip: &'a str) -> Author<'a> {
    Author {
        actor: clients::staff_actor(me, ip),
        name: &me.account.name,
    }
}

/// What a refused form shows with its page again: the form's `errors` (422) or the conflict
/// as `problem` (409), over the form's own values; any other error stands.
pub(crate) fn refusal(
    err: AppError,
    form: minijinja::Value,
) -> Result<(StatusCode, minijinja::Value), AppError> {
    match err {
        AppError::Invalid(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { errors => minijinja::value::Serde(errors), ..form },
        )),
        AppError::Conflict(problem) => Ok((StatusCode::CONFLICT, context! { problem, ..form })),
        other => Err(other),
    }
}

/// A manage page at `status`: the layout's values (area, the nav entry `nav` marked current,
/// the form token, who is signed in) with the page's own `extra`.
pub(crate) fn page_with_status(
    me: &SignedIn,
    status: StatusCode,
    template: &str,
    nav: &str,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let base = context! {
        area => "manage", nav, csrf_token => me.csrf_token(), user => &me.account.name,
        is_admin => me.account.role_id == "admin",
    };
    let html = me.agency.render(template, context! { ..base, ..extra })?;
    Ok((status, html).into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage", get(home::page))
        .route("/manage/audit", get(audit::page))
        .route("/manage/work-requests", get(work_requests::list))
        .route("/manage/work-requests/{id}", get(work_requests::detail))
        .route(
            "/manage/work-requests/{id}/reply",
            post(work_requests::reply),
        )
        .route("/manage/work-requests/{id}/note", post(work_requests::note))
        .route("/manage/work-requests/{id}/job", post(work_requests::job))
        .route(
            "/manage/work-requests/{id}/assign",
            post(work_requests::assign),
        )
        .route("/manage/timesheets", get(timesheets::list))
        .route("/manage/timesheets/export", get(timesheets::export))
        .route(
            "/manage/timesheets/locks",
            get(timesheets::locks).post(timesheets::lock),
        )
        .route(
            "/manage/timesheets/locks/{id}/unlock",
            post(timesheets::unlock),
        )
        .route("/manage/timesheets/{id}", get(timesheets::detail))
        .route("/manage/timesheets/{id}/decide", post(timesheets::decide))
        .route("/manage/timesheets/{id}/correct", post(timesheets::correct))
        .route("/manage/on-site", get(on_site::page))
        .route("/manage/on-site/fire-roll", get(on_site::fire_roll))
        .route("/manage/staff", get(staff::list).post(staff::invite))
        .route("/manage/staff/{id}/role", post(staff::change_role))
        .route("/manage/staff/{id}/deactivate", post(staff::deactivate))
        .route("/manage/staff/{id}/reactivate", post(staff::reactivate))
        .route("/manage/staff/{id}/sign-out", post(staff::sign_out))
        .route("/manage/clients", get(clients::list))
        .route(
            "/manage/clients/new",
            get(clients::new_form).post(clients::new_submit),
        )
        .route(
            "/manage/clients/{id}",
            get(clients::show).post(clients::update),
        )
        .route("/manage/clients/{id}/archive", post(clients::archive))
        .route("/manage/clients/{id}/restore", post(clients::restore))
        .route("/manage/clients/{id}/delete", post(clients::delete))
        .route(
            "/manage/clients/{id}/worksites",
            post(clients::add_worksite),
        )
        .route(
            "/manage/clients/{id}/worksites/{worksite}",
            get(clients::worksite_form).post(clients::update_worksite),
        )
        .route(
            "/manage/clients/{id}/worksites/{worksite}/delete",
            post(clients::remove_worksite),
        )
        .route("/manage/clients/{id}/documents", post(documents::add))
        .route(
            "/manage/clients/{id}/documents/{document}",
            get(documents::download),
        )
        .route(
            "/manage/clients/{id}/documents/{document}/withdraw",
            post(documents::remove),
        )
        .route("/manage/clients/{id}/contacts", post(contacts::add))
        .route(
            "/manage/clients/{id}/contacts/{contact}",
            get(contacts::show).post(contacts::update),
        )
        .route(
            "/manage/clients/{id}/contacts/{contact}/delete",
            post(contacts::delete),
        )
        .route(
            "/manage/api-tokens",
            get(api_tokens::page).post(api_tokens::create),
        )
        .route("/manage/api-tokens/{id}/revoke", post(api_tokens::revoke))
        .route("/manage/plugins", get(plugins::page))
        .route("/manage/settings", get(settings::page).post(settings::save))
        .route("/manage/settings/reset", post(settings::reset))
        .route("/manage/preview", post(preview::start))
        .route("/manage/preview/end", post(preview::end))
        .route("/manage/portal-users", get(portal_users::list))
        .route(
            "/manage/portal-users/new",
            get(portal_users::new_form).post(portal_users::create),
        )
        .route(
            "/manage/portal-users/passphrase",
            get(portal_users::passphrase),
        )
        .route("/manage/portal-users/export", get(portal_users::export))
        .route(
            "/manage/portal-users/import",
            get(portal_users::import_form).post(portal_users::import_submit),
        )
        .route("/manage/portal-users/bulk", post(portal_users::bulk))
        .route(
            "/manage/portal-users/bulk/delete",
            post(portal_users::bulk_delete),
        )
        .route(
            "/manage/portal-users/{id}",
            get(portal_users::show).post(portal_users::update),
        )
        .route(
            "/manage/portal-users/{id}/password",
            post(portal_users::set_password),
        )
        .route(
            "/manage/portal-users/{id}/{action}",
            post(portal_users::act),
        )
        .route("/manage/import", get(import::page).post(import::submit))
        .route("/manage/outbox", get(outbox::page))
        .route("/manage/outbox/{id}/resend", post(outbox::resend))
        .route("/manage/branding", get(branding::page))
        .route("/manage/branding/sign-in", get(branding::sign_in))
        .route(
            "/manage/branding/emails/{template}",
            get(branding::email_page),
        )
        .route(
            "/manage/branding/emails/{template}/html",
            get(branding::email_html),
        )
}
