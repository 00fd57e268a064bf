//! Work requests: the client asks the agency for people or work (title, description,
//! worksite, needed by, number of workers, urgency), follows its status and updates; filing
//! one tells the agency's chosen team members by email.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::gate::{self, Gated};
use super::{Portal, parse_date, today};
use crate::auth::{ClientIp, audit_actor};
use crate::db::clients::{self, Worksite};
use crate::db::work_requests::{self, Audience, NewWorkRequest, Status, WorkRequestInfo};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::notifications as notify;
use crate::plugins::{
    AuthorizationRequest, Decision, Named, NotificationEvent, Permission, Person, PersonKind,
    PluginRequest, Target,
};
use crate::state::AppState;
use crate::work_requests::URGENCIES;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RequestInput {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub worksite_id: String,
    #[serde(default)]
    pub needed_by: String,
    #[serde(default)]
    pub workers_needed: String,
    #[serde(default)]
    pub urgency: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    done: Option<String>,
}

impl Gated for WorkRequestInfo {
    fn client_id(&self) -> i64 {
        self.client_id
    }

    fn target(&self) -> Target {
        let attributes = self
            .needed_by
            .iter()
            .map(|date| ("needed-by".to_owned(), date.clone()))
            .collect();
        gate::target("work-request", self.id, self.worksite_id, attributes)
    }
}

pub async fn list(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    portal.require(Permission::ViewWorkRequests)?;
    let rows = work_requests::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope)
        .await?;
    let rows = portal
        .visible(&state, &mut plugins, Permission::ViewWorkRequests, rows)
        .await?;
    let notice = (query.done.as_deref() == Some("created"))
        .then_some("Your request is sent. The agency has been told.");
    portal
        .render(
            &state,
            "portal/work_requests.html",
            "work-requests",
            context! {
                title => "Work requests", requests => Serde(rows), notice,
                can_create => portal.session.may(Permission::CreateWorkRequests),
            },
        )
        .await
}

/// A request the user may see (by client and by the role's rules), or 404.
async fn visible(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    id: i64,
) -> AppResult<WorkRequestInfo> {
    portal.require(Permission::ViewWorkRequests)?;
    let pool = &state.db().pool;
    let found = work_requests::get_for_clients(pool, portal.agency_id(), &portal.scope, id).await?;
    portal
        .visible_one(state, plugins, Permission::ViewWorkRequests, found)
        .await
}

async fn detail_page(
    state: &AppState,
    portal: &Portal,
    request: WorkRequestInfo,
    status: StatusCode,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let updates =
        work_requests::updates(pool, portal.agency_id(), request.id, Audience::Client).await?;
    portal
        .render_status(
            state,
            status,
            "portal/work_request.html",
            "work-requests",
            context! {
                title => request.title.clone(), request => Serde(request),
                updates => Serde(updates), ..extra
            },
        )
        .await
}

pub async fn detail(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let request = visible(&state, &portal, &mut plugins, id).await?;
    let notice = (query.done.as_deref() == Some("commented"))
        .then_some("Your comment is sent to the agency.");
    detail_page(
        &state,
        &portal,
        request,
        StatusCode::OK,
        context! { notice },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    message: String,
}

/// `POST /{agency}/portal/work-requests/{id}/comment`: the client's comment for the agency.
pub async fn comment(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(form): Form<CommentForm>,
) -> AppResult<Response> {
    let request = visible(&state, &portal, &mut plugins, id).await?;
    let account = &portal.session.user.account;
    let actor = audit_actor("portal", Some(account.id), &account.email, &ip);
    let agency = &portal.session.user.agency;
    match crate::work_requests::comment(
        &state,
        agency,
        (actor, &account.name),
        &request,
        &form.message,
    )
    .await
    {
        Ok(()) => Ok(crate::redirect::to(&format!(
            "/{}/portal/work-requests/{id}?done=commented",
            agency.slug
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            let extra = context! { errors => Serde(errors), message => &form.message };
            detail_page(
                &state,
                &portal,
                request,
                StatusCode::UNPROCESSABLE_ENTITY,
                extra,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn worksites(state: &AppState, portal: &Portal) -> AppResult<Vec<Worksite>> {
    Ok(clients::worksites_of_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?)
}

async fn form_page(
    state: &AppState,
    portal: &Portal,
    status: StatusCode,
    input: &RequestInput,
    errors: Option<&FieldErrors>,
) -> AppResult<Response> {
    let worksites = worksites(state, portal).await?;
    let clients = clients::named(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    portal
        .render_status(
            state,
            status,
            "portal/work_request_form.html",
            "work-requests",
            context! {
                title => "New work request", input => Serde(input),
                errors => errors.map(Serde), worksites => Serde(worksites),
                clients => Serde(clients), urgencies => Serde(URGENCIES),
            },
        )
        .await
}

pub async fn new_form(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    portal.require(Permission::CreateWorkRequests)?;
    let input = RequestInput {
        urgency: "normal".into(),
        ..RequestInput::default()
    };
    form_page(&state, &portal, StatusCode::OK, &input, None).await
}

/// A checked request: which client and worksite it is for.
struct Checked {
    client: (i64, String),
    worksite: Option<Worksite>,
    workers_needed: Option<i64>,
}

async fn check(
    state: &AppState,
    portal: &Portal,
    input: &RequestInput,
) -> AppResult<Result<Checked, FieldErrors>> {
    let mut errors = FieldErrors::default();
    errors.required("title", "title", &input.title, 200);
    errors.required("description", "description", &input.description, 4000);
    let needed_by = input.needed_by.trim();
    if !needed_by.is_empty() {
        match parse_date(needed_by) {
            Some(date) if date < today() => {
                errors.add("needed_by", "Choose today or a later date.")
            }
            Some(_) => {}
            None => errors.add("needed_by", "Enter a date like 2026-12-01."),
        }
    }
    let workers_needed = match input.workers_needed.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => Some(n),
            _ => {
                errors.add("workers_needed", "Enter a number of workers from 1 to 500.");
                None
            }
        },
    };
    if !URGENCIES.iter().any(|(id, _)| *id == input.urgency) {
        errors.add("urgency", "Choose how urgent the request is.");
    }
    // A worksite or client that is not the user's is a 404: someone edited the form.
    let sites = worksites(state, portal).await?;
    let worksite = match input.worksite_id.trim() {
        "" => None,
        text => {
            let id: i64 = text.parse().map_err(|_| AppError::NotFound)?;
            Some(
                sites
                    .into_iter()
                    .find(|s| s.id == id)
                    .ok_or(AppError::NotFound)?,
            )
        }
    };
    let client_id = match (&worksite, input.client_id.trim()) {
        (Some(site), _) => Some(site.client_id),
        (None, "") if portal.scope.len() == 1 => portal.scope.first().copied(),
        (None, "") => None,
        (None, text) => Some(text.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let client = match client_id {
        Some(id) if portal.scope.contains(&id) => {
            let client = clients::get(&state.db().pool, portal.agency_id(), id)
                .await?
                .ok_or(AppError::NotFound)?;
            Some((client.id, client.name))
        }
        Some(_) => return Err(AppError::NotFound),
        None => {
            errors.add("client_id", "Choose the company the request is for.");
            None
        }
    };
    match client {
        Some(client) if errors.is_empty() => Ok(Ok(Checked {
            client,
            worksite,
            workers_needed,
        })),
        _ => Ok(Err(errors)),
    }
}

pub async fn create(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Form(input): Form<RequestInput>,
) -> AppResult<Response> {
    portal.require(Permission::CreateWorkRequests)?;
    let checked = match check(&state, &portal, &input).await? {
        Ok(checked) => checked,
        Err(errors) => {
            return form_page(
                &state,
                &portal,
                StatusCode::UNPROCESSABLE_ENTITY,
                &input,
                Some(&errors),
            )
            .await;
        }
    };
    let needed_by = Some(input.needed_by.trim()).filter(|s| !s.is_empty());
    let mut attributes = Vec::new();
    if let Some(date) = needed_by {
        attributes.push(("needed-by".to_owned(), date.to_owned()));
    }
    if let Some(site) = &checked.worksite {
        attributes.push(("worksite-id".to_owned(), site.id.to_string()));
    }
    let request = AuthorizationRequest {
        role: portal
            .session
            .role
            .as_ref()
            .map(|r| r.id.clone())
            .unwrap_or_default(),
        permission: Permission::CreateWorkRequests,
        user: portal.user_ref(&state).await?,
        client_id: checked.client.0.to_string(),
        target: Target {
            kind: "work-request".into(),
            id: None,
            attributes,
        },
    };
    if let Decision::Deny(why) = plugins.authorize(&request).await {
        return Err(AppError::BadRequest(why));
    }
    let agency = &portal.session.user.agency;
    let account = &portal.session.user.account;
    let new = NewWorkRequest {
        client_id: checked.client.0,
        worksite_id: checked.worksite.as_ref().map(|s| s.id),
        portal_user_id: Some(account.id),
        title: input.title.trim(),
        description: input.description.trim(),
        needed_by,
        workers_needed: checked.workers_needed,
        urgency: &input.urgency,
        status: Status::New,
    };
    let pool = &state.db().pool;
    let mut tx = crate::db::begin_write(pool).await?;
    let id = work_requests::create(&mut *tx, agency.id, &new).await?;
    tx.commit().await?;
    // The request is saved. Who hears of it is asked of the plugins afterwards, outside any
    // transaction, so a slow or failing plugin holds no lock and costs only the emails.
    let public = state.settings().server.public_url.trim_end_matches('/');
    let mut fields = vec![
        ("work-request-id".to_owned(), id.to_string()),
        ("title".to_owned(), new.title.to_owned()),
        ("details".to_owned(), details(&new)),
        (
            "manage-url".to_owned(),
            format!("{public}/{}/manage/work-requests/{id}", agency.slug),
        ),
    ];
    if let Some(date) = needed_by {
        fields.push(("needed-by".into(), date.to_owned()));
    }
    let event = NotificationEvent {
        kind: "work-request-created".into(),
        client: Some(Named {
            id: checked.client.0.to_string(),
            name: checked.client.1.clone(),
        }),
        worksite: checked.worksite.as_ref().map(|s| Named {
            id: s.id.to_string(),
            name: s.name.clone(),
        }),
        actor: Person {
            kind: PersonKind::PortalUser,
            id: account.id.to_string(),
            name: account.name.clone(),
            email: account.email.clone(),
        },
        subject: None,
        fields,
    };
    if let Err(err) = notify::work_request(&state, &mut plugins, agency, &event).await {
        tracing::error!(
            agency = %agency.slug, work_request = id,
            "the work request is saved, but its notifications could not be queued: {err:#}"
        );
    }
    Ok(crate::redirect::to(&format!(
        "/{}/portal/work-requests?done=created",
        agency.slug
    ))
    .into_response())
}

/// The request's description with its particulars, as the agency's email shows it.
fn details(new: &NewWorkRequest<'_>) -> String {
    let mut text = new.description.to_owned();
    if let Some(n) = new.workers_needed {
        text.push_str(&format!("\nWorkers needed: {n}"));
    }
    text.push_str(&format!("\nUrgency: {}", new.urgency));
    text
}
