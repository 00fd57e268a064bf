//! The client portal (`/{agency}/portal/…`): what a client's contacts sign in for.
//!
//! Every handler takes a [`Portal`]: the signed-in portal user and the clients its pages
//! show. Every query is scoped by the session's agency and those client ids, and every page
//! checks its permission with [`Portal::require`]; an id from the URL or a form that is not
//! among the user's clients is a 404.

mod documents;
mod field_service;
mod gate;
mod home;
mod invoices;
mod on_site;
pub mod reports;
pub mod timesheets;
mod users;
mod work_requests;

use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::auth::PortalSession;
use crate::auth::cookies;
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::plugins::Permission;
use crate::state::AppState;

pub use crate::dates::{iso, monday_of, parse_date, today};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home::page))
        .route("/portal/client", post(pick_client))
        .route("/portal/timesheets", get(timesheets::list))
        .route("/portal/timesheets/approve", post(timesheets::approve_many))
        .route("/portal/timesheets/{id}", get(timesheets::detail))
        .route("/portal/timesheets/{id}/approve", post(timesheets::approve))
        .route("/portal/timesheets/{id}/reject", post(timesheets::reject))
        .route("/portal/reports", get(reports::page))
        .route("/portal/reports/export", get(reports::export))
        .route("/portal/on-site", get(on_site::page))
        .route("/portal/on-site/fire-roll", get(on_site::fire_roll))
        .route("/portal/invoices", get(invoices::list))
        .route("/portal/invoices/{id}", get(invoices::detail))
        .route("/portal/invoices/{id}/pdf", get(invoices::pdf))
        .route("/portal/documents", get(documents::list))
        .route("/portal/documents/{id}/download", get(documents::download))
        .route("/portal/jobs", get(field_service::jobs))
        .route("/portal/jobs/{id}", get(field_service::job))
        .route("/portal/quotes", get(field_service::quotes))
        .route("/portal/quotes/{id}", get(field_service::quote))
        .route(
            "/portal/work-requests",
            get(work_requests::list).post(work_requests::create),
        )
        .route("/portal/work-requests/new", get(work_requests::new_form))
        .route("/portal/work-requests/{id}", get(work_requests::detail))
        .route(
            "/portal/work-requests/{id}/comment",
            post(work_requests::comment),
        )
        .route("/portal/users", get(users::list))
        .route(
            "/portal/users/new",
            get(users::new_form).post(users::create),
        )
        .route("/portal/users/{id}/{action}", post(users::act))
}

/// The cookie that remembers which of a multi-client user's companies the pages show.
fn client_cookie(tls: bool) -> String {
    cookies::name("portal-client", tls)
}

/// A portal request: the signed-in user and the clients the pages show — the one picked in
/// the client selector, or all of the user's clients.
#[derive(Debug, Clone)]
pub struct Portal {
    pub session: PortalSession,
    /// The client ids every query of this request is limited to: never more than
    /// `session.client_ids`.
    pub scope: Vec<i64>,
    /// The client picked in the selector, when one is.
    pub selected: Option<i64>,
}

impl Portal {
    pub fn agency_id(&self) -> i64 {
        self.session.user.agency.id
    }

    /// Refuses the request unless the role grants `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.session.may(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether an admin restricted the user's access: the clients' portal settings (the
    /// portal users page among them) are hidden from them.
    pub async fn restricted(&self, state: &AppState) -> AppResult<bool> {
        let user = crate::db::portal_users::get(
            &state.db().pool,
            self.agency_id(),
            self.session.user.account.id,
        )
        .await?;
        Ok(user.is_none_or(|u| u.restricted_access))
    }

    /// Whether the portal users page is the user's: their role manages users and their
    /// access is not restricted.
    async fn manages_users(&self, state: &AppState) -> AppResult<bool> {
        Ok(self.session.may(Permission::ManageClientUsers) && !self.restricted(state).await?)
    }

    /// The portal user as the role-set plugin's `authorize` sees them.
    pub async fn user_ref(&self, state: &AppState) -> AppResult<crate::plugins::PortalUserRef> {
        let account = &self.session.user.account;
        let worksites =
            crate::db::portal_users::worksite_ids(&state.db().pool, self.agency_id(), account.id)
                .await?;
        Ok(crate::plugins::PortalUserRef {
            id: account.id.to_string(),
            email: account.email.clone(),
            worksite_ids: worksites.into_iter().map(|id| id.to_string()).collect(),
        })
    }

    /// Renders a portal page with what every page needs: the navigation (`nav`, `may`),
    /// the client selector and the form token.
    pub async fn render(
        &self,
        state: &AppState,
        template: &str,
        nav: &str,
        extra: Value,
    ) -> AppResult<Response> {
        self.render_status(state, StatusCode::OK, template, nav, extra)
            .await
    }

    pub async fn render_status(
        &self,
        state: &AppState,
        status: StatusCode,
        template: &str,
        nav: &str,
        extra: Value,
    ) -> AppResult<Response> {
        let me = &self.session.user;
        let choices: Vec<(i64, String)> = if self.session.client_ids.len() > 1 {
            clients::named(&state.db().pool, me.agency.id, &self.session.client_ids).await?
        } else {
            Vec::new()
        };
        let mut may: BTreeMap<String, bool> = Permission::ALL
            .into_iter()
            .map(|p| (p.as_str().replace('-', "_"), self.session.may(p)))
            .collect();
        may.insert("manage_users".to_owned(), self.manages_users(state).await?);
        let base = context! {
            area => "portal", nav, csrf_token => me.csrf_token(), user => &me.account.name,
            may, client_choices => Serde(choices), selected_client => self.selected,
        };
        let html = me.agency.render(template, context! { ..base, ..extra })?;
        Ok((status, html).into_response())
    }
}

impl FromRequestParts<AppState> for Portal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = PortalSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let tls = state.settings().server.tls();
        let selected = cookies::get(&parts.headers, &client_cookie(tls))
            .and_then(|value| value.parse::<i64>().ok())
            .filter(|id| session.client_ids.contains(id));
        let scope = match selected {
            Some(id) => vec![id],
            None => session.client_ids.to_vec(),
        };
        Ok(Self {
            session,
            scope,
            selected,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct PickClient {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    back: String,
}

/// The client selector: one of the user's clients, or `all`. Remembered in a cookie; a
/// client that is not the user's is refused.
async fn pick_client(
    State(state): State<AppState>,
    portal: Portal,
    Form(form): Form<PickClient>,
) -> AppResult<Response> {
    let tls = state.settings().server.tls();
    let slug = &portal.session.user.agency.slug;
    let cookie = if form.client_id == "all" || form.client_id.is_empty() {
        cookies::clear(&client_cookie(tls), tls)
    } else {
        let id: i64 = form.client_id.parse().map_err(|_| AppError::NotFound)?;
        if !portal.session.client_ids.contains(&id) {
            return Err(AppError::NotFound);
        }
        cookies::set(&client_cookie(tls), &id.to_string(), tls)
    };
    // Only a page of this portal is a place to go back to.
    let prefix = format!("/{slug}/portal");
    let back = crate::redirect::back_within(&form.back, &prefix);
    Ok(([(header::SET_COOKIE, cookie)], crate::redirect::to(back)).into_response())
}

/// An id from a query string; blank or malformed is none.
pub fn parse_id(text: &Option<String>) -> Option<i64> {
    text.as_deref().and_then(|t| t.trim().parse().ok())
}

/// Hours in hundredths, as the `hours` template filter and plugin events count them.
pub fn hundredths(minutes: i64) -> i64 {
    (minutes * 100 + 30) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let sunday = parse_date("2026-11-22").expect("date");
        assert_eq!(iso(monday_of(sunday)), "2026-11-16");
        assert_eq!(iso(monday_of(monday_of(sunday))), "2026-11-16");
        assert_eq!(parse_date("22/11/2026"), None);
    }

    #[test]
    fn hours_round_to_hundredths() {
        assert_eq!(hundredths(480), 800);
        assert_eq!(hundredths(7), 12);
    }
}
