//! Work requests for the agency's staff: every client's, most urgent first; a request's page
//! with its history (internal notes included), a reply to the client that may move its status
//! (new → acknowledged → scheduled → done, or declined with a reason), internal notes, and
//! the team member it is assigned to.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::{author, page_with_status, refusal};
use crate::auth::{ClientIp, SignedIn, StaffSession};
use crate::db::outbox::Page;
use crate::db::work_requests::{self, Audience, StaffFilter, Status};
use crate::db::{clients, staff_users};
use crate::error::{AppError, AppResult};
use crate::paging::Pager;
use crate::state::AppState;
use crate::work_requests::{self as requests, CHOICES, JobInput, ReplyInput, URGENCIES, label};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    client: Option<i64>,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    assigned: Option<i64>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    size: Option<u32>,
}

/// `GET /{agency}/manage/work-requests`: open requests unless a status (or `all`) is asked for.
pub async fn list(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = StaffFilter {
        client_id: query.client,
        status: Status::parse(&query.status),
        every_status: query.status == "all",
        urgency: URGENCIES
            .iter()
            .find(|(id, _)| *id == query.urgency)
            .map(|(id, _)| (*id).to_owned()),
        assigned_to: query.assigned,
    };
    let page = Page::new(query.page, query.size);
    let pool = &state.db().pool;
    let mut conn = pool.acquire().await?;
    let (rows, total) =
        work_requests::list_for_agency(&mut conn, me.agency.id, &filter, page).await?;
    drop(conn);
    let pager = Pager::new(page, total, rows.len());
    let client_choices = clients::list(pool, me.agency.id).await?;
    let team = staff_users::list(pool, me.agency.id).await?;
    let keep = format!(
        "status={}&client={}&urgency={}&assigned={}&size={}&",
        query.status,
        query.client.map(|c| c.to_string()).unwrap_or_default(),
        filter.urgency.as_deref().unwrap_or(""),
        query.assigned.map(|a| a.to_string()).unwrap_or_default(),
        page.size
    );
    let statuses: Vec<(&str, &str)> = Status::ALL
        .into_iter()
        .map(|s| (s.as_str(), label(s)))
        .collect();
    page_with_status(
        &me,
        StatusCode::OK,
        "manage/work_requests.html",
        "work-requests",
        context! {
            title => "Work requests", requests => Serde(&rows), pager => Serde(pager),
            base_query => keep, page_sizes => Page::SIZES, statuses, urgencies => URGENCIES,
            clients => Serde(&client_choices), team => Serde(&team),
            chosen => context! {
                status => &query.status, client => query.client, urgency => filter.urgency,
                assigned => query.assigned,
            },
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

/// A request's page, with `extra` (the errors and input of a refused form) at `status`.
async fn detail_page(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let request = work_requests::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let updates = work_requests::updates(pool, me.agency.id, id, Audience::Staff).await?;
    let team: Vec<_> = staff_users::list(pool, me.agency.id)
        .await?
        .into_iter()
        .filter(|m| m.status == "active")
        .collect();
    let choices: Vec<(&str, &str)> = CHOICES.iter().map(|(s, l)| (s.as_str(), *l)).collect();
    let status_label = Status::parse(&request.status).map_or("", label);
    page_with_status(
        me,
        status,
        "manage/work_request.html",
        "work-requests",
        context! {
            title => request.title.clone(), request => Serde(&request), updates => Serde(&updates),
            team => Serde(&team), choices, status_label, ..extra
        },
    )
}

/// `GET /{agency}/manage/work-requests/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Path((_, id)): Path<(String, i64)>,
    Query(query): Query<DetailQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("replied") => Some("Your reply is posted; the client was told by email."),
        Some("noted") => Some("The note is saved. Only the agency's staff see it."),
        Some("assigned") => Some("The assignment is saved."),
        Some("job") => {
            Some("The job is created and the client told: it is under Jobs in the portal.")
        }
        _ => None,
    };
    detail_page(&state, &me, id, StatusCode::OK, context! { notice }).await
}

fn back(me: &SignedIn, id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/work-requests/{id}?done={done}",
        me.agency.slug
    ))
    .into_response()
}

/// A refused form shows the page again with its errors (422) or the conflict (409).
async fn refused(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    err: AppError,
    form: minijinja::Value,
) -> AppResult<Response> {
    let (status, extra) = refusal(err, form)?;
    detail_page(state, me, id, status, extra).await
}

/// `POST /{agency}/manage/work-requests/{id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<ReplyInput>,
) -> AppResult<Response> {
    match requests::reply(&state, &me.agency, author(&me, &ip), id, &input).await {
        Ok(_) => Ok(back(&me, id, "replied")),
        Err(err) => refused(&state, &me, id, err, context! { reply => Serde(&input) }).await,
    }
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct NoteInput {
    #[serde(default)]
    note: String,
}

/// `POST /{agency}/manage/work-requests/{id}/note`.
pub async fn note(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<NoteInput>,
) -> AppResult<Response> {
    match requests::note(&state, &me.agency, author(&me, &ip), id, &input.note).await {
        Ok(()) => Ok(back(&me, id, "noted")),
        Err(err) => refused(&state, &me, id, err, context! { note => &input.note }).await,
    }
}

/// `POST /{agency}/manage/work-requests/{id}/job`: the request becomes a scheduled job.
pub async fn job(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<JobInput>,
) -> AppResult<Response> {
    match requests::make_job(&state, &me.agency, author(&me, &ip), id, &input).await {
        Ok(_) => Ok(back(&me, id, "job")),
        Err(err) => refused(&state, &me, id, err, context! { job => Serde(&input) }).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignInput {
    #[serde(default)]
    assigned_to: String,
}

/// `POST /{agency}/manage/work-requests/{id}/assign`: a team member's id, or empty for nobody.
pub async fn assign(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<AssignInput>,
) -> AppResult<Response> {
    let member = match input.assigned_to.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| AppError::BadRequest("Choose a member of the team.".into()))?,
        ),
    };
    match requests::assign(&state, &me.agency, author(&me, &ip), id, member).await {
        Ok(()) => Ok(back(&me, id, "assigned")),
        Err(err) => refused(&state, &me, id, err, context! {}).await,
    }
}
