//! What happens to a work request after it is filed. The agency's side, shared by the manage
//! pages and the JSON API: a reply to the client (with or without a new status), an internal
//! note, and the team member it is assigned to. The client's side: a comment from the portal.
//! Each is audited and raised to the notification plugins after the change is committed — a
//! reply as `work-request-updated` (to the client who filed it), a comment as
//! `work-request-commented` (to the assignee, else the team); a note never leaves the agency.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::agency::Agency;
use crate::auth::Author;
use crate::dates::parse_date;
use crate::db::audit::{self, Actor, Target};
use crate::db::jobs::{self, NewJob};
use crate::db::staff_users;
use crate::db::work_requests::{self, NewUpdate, Status, WorkRequestInfo};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::notifications;
use crate::plugins::{Named, NotificationEvent, Person, PersonKind};
use crate::state::AppState;

/// How urgent a client says a request is, with labels.
pub const URGENCIES: [(&str, &str); 4] = [
    ("low", "Low"),
    ("normal", "Normal"),
    ("high", "High"),
    ("urgent", "Urgent"),
];

/// The longest reply or note, in characters.
pub const MAX_MESSAGE: usize = 4000;

/// The statuses staff may move a request to, with their labels.
pub const CHOICES: [(Status, &str); 4] = [
    (Status::Acknowledged, "Acknowledged"),
    (Status::Scheduled, "Scheduled"),
    (Status::Done, "Done"),
    (Status::Declined, "Declined"),
];

/// A status as people read it.
pub fn label(status: Status) -> &'static str {
    match status {
        Status::New => "New",
        _ => CHOICES
            .iter()
            .find(|(s, _)| *s == status)
            .map_or("", |(_, label)| label),
    }
}

/// A reply to the client: a message, a new status, or both.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReplyInput {
    /// Empty: the status stays.
    #[serde(default)]
    pub status: String,
    /// `YYYY-MM-DD`, required for `scheduled`.
    #[serde(default)]
    pub scheduled_for: String,
    #[serde(default)]
    pub message: String,
}

async fn find(state: &AppState, agency: &Agency, id: i64) -> AppResult<WorkRequestInfo> {
    work_requests::get(&state.db().pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Checks a reply against the request as it stands: the status it moves to (if any) and the
/// date it is scheduled for.
fn check_reply(
    request: &WorkRequestInfo,
    input: &ReplyInput,
) -> Result<(Option<Status>, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::default();
    let message = input.message.trim();
    errors.at_most("message", "reply", message, MAX_MESSAGE);
    let status = match input.status.trim() {
        "" => None,
        text => match Status::parse(text).filter(|s| *s != Status::New) {
            Some(status) => Some(status),
            None => {
                errors.add(
                    "status",
                    "Choose acknowledged, scheduled, done or declined.",
                );
                None
            }
        },
    };
    let current = Status::parse(&request.status);
    let scheduled_for = match status {
        Some(Status::Scheduled) => match parse_date(input.scheduled_for.trim()) {
            Some(_) => Some(input.scheduled_for.trim().to_owned()),
            None => {
                errors.add(
                    "scheduled_for",
                    "Enter the date it is scheduled for, like 2026-12-01.",
                );
                None
            }
        },
        _ => None,
    };
    if status == Some(Status::Declined) && message.is_empty() {
        errors.add(
            "message",
            "Say why the request is declined: the client reads this.",
        );
    }
    let moves = status.is_some_and(|s| {
        Some(s) != current || scheduled_for.as_deref() != request.scheduled_for.as_deref()
    });
    if errors.is_empty() && !moves && message.is_empty() {
        errors.add(
            "message",
            "Write a reply or choose a new status for the request.",
        );
    }
    if errors.is_empty() {
        Ok((status.filter(|_| moves), scheduled_for))
    } else {
        Err(errors)
    }
}

/// Replies to the client on request `id` (a message, a new status, or both); audited and told
/// to the client. Returns the request as it now stands.
pub async fn reply(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    input: &ReplyInput,
) -> AppResult<WorkRequestInfo> {
    let request = find(state, agency, id).await?;
    let (status, scheduled_for) = check_reply(&request, input).map_err(AppError::Invalid)?;
    let message = input.message.trim();
    let pool = &state.db().pool;
    let mut tx = crate::db::begin_write(pool).await?;
    let detail = match status {
        Some(status) => format!("{} → {}", request.status, status.as_str()),
        None => "replied".to_owned(),
    };
    log(
        &mut tx,
        agency.id,
        &request,
        &NewUpdate {
            author: author.line(),
            body: message,
            status: status.map(|s| (s, scheduled_for.as_deref())),
            internal: false,
        },
        (author.actor, "work_request.replied", &detail),
    )
    .await?;
    tx.commit().await?;
    let updated = find(state, agency, id).await?;
    let event = updated_event(state, agency, &author, &updated, status, message);
    notifications::raise(state, agency, &event).await;
    Ok(updated)
}

/// Adds a note only the agency's staff see.
pub async fn note(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    body: &str,
) -> AppResult<()> {
    let request = find(state, agency, id).await?;
    let mut errors = FieldErrors::default();
    errors.required("note", "note", body, MAX_MESSAGE);
    errors.into_result()?;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    log(
        &mut tx,
        agency.id,
        &request,
        &NewUpdate {
            author: author.line(),
            body: body.trim(),
            status: None,
            internal: true,
        },
        (author.actor, "work_request.noted", ""),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assigns request `id` to an active team member, or to nobody (`None`); the change is an
/// internal line of its history and audited.
pub async fn assign(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    member: Option<i64>,
) -> AppResult<()> {
    let request = find(state, agency, id).await?;
    let pool = &state.db().pool;
    let name = match member {
        Some(member) => {
            let found = staff_users::get(pool, agency.id, member)
                .await?
                .filter(|m| m.status == "active");
            let Some(found) = found else {
                let mut errors = FieldErrors::default();
                errors.add("assigned_to", "Choose an active member of the team.");
                return Err(AppError::Invalid(errors));
            };
            found.name
        }
        None => String::new(),
    };
    if request.assigned_to == member {
        return Ok(());
    }
    let line = if name.is_empty() {
        "Unassigned.".to_owned()
    } else {
        format!("Assigned to {name}.")
    };
    let assignee_email = match member {
        Some(member) => staff_users::get(pool, agency.id, member)
            .await?
            .map(|m| m.email),
        None => None,
    };
    let mut tx = crate::db::begin_write(pool).await?;
    work_requests::assign(&mut tx, agency.id, id, member).await?;
    log(
        &mut tx,
        agency.id,
        &request,
        &NewUpdate {
            author: author.line(),
            body: &line,
            status: None,
            internal: true,
        },
        (author.actor, "work_request.assigned", &line),
    )
    .await?;
    tx.commit().await?;
    // The assignee hears of it, unless they took it themselves.
    if let Some(email) = assignee_email.filter(|_| member != author.staff_id()) {
        let public = state.settings().server.public_url.trim_end_matches('/');
        let event = NotificationEvent {
            kind: "work-request-assigned".into(),
            client: Some(Named {
                id: request.client_id.to_string(),
                name: request.client_name.clone(),
            }),
            worksite: None,
            actor: author.person(),
            subject: None,
            fields: vec![
                ("work-request-id".into(), request.id.to_string()),
                ("title".into(), request.title.clone()),
                (
                    "manage-url".into(),
                    format!(
                        "{public}/{}/manage/work-requests/{}",
                        agency.slug, request.id
                    ),
                ),
                ("assigned-to".into(), email),
            ],
        };
        notifications::raise(state, agency, &event).await;
    }
    Ok(())
}

/// A job made from a request: its number and the day it is scheduled for.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct JobInput {
    #[serde(default)]
    pub number: String,
    /// `YYYY-MM-DD`
    #[serde(default)]
    pub scheduled_on: String,
}

/// Turns request `id` into a field-service job of its client (the request's title,
/// description and worksite, scheduled for the day given): the client sees the job under
/// Jobs, and the request moves to `scheduled` with a reply saying so (emailed as any reply).
/// Returns the job's id.
pub async fn make_job(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    input: &JobInput,
) -> AppResult<i64> {
    let request = find(state, agency, id).await?;
    let pool = &state.db().pool;
    let mut errors = FieldErrors::default();
    let number = input.number.trim();
    errors.required("number", "job number", number, 50);
    if !number.is_empty() && jobs::number_taken(pool, agency.id, number).await? {
        errors.add("number", "Another job already has this number.");
    }
    let on = input.scheduled_on.trim();
    if parse_date(on).is_none() {
        errors.add("scheduled_on", "Enter the day of the job, like 2026-12-01.");
    }
    errors.into_result()?;
    let message = format!("Job {number} is scheduled for {on}; it is under Jobs in the portal.");
    let mut tx = crate::db::begin_write(pool).await?;
    let job = jobs::create(
        &mut *tx,
        agency.id,
        &NewJob {
            client_id: request.client_id,
            worksite_id: request.worksite_id,
            number,
            title: &request.title,
            description: &request.description,
            status: "scheduled",
            scheduled_on: Some(on),
        },
    )
    .await?;
    log(
        &mut tx,
        agency.id,
        &request,
        &NewUpdate {
            author: author.line(),
            body: &message,
            status: Some((Status::Scheduled, Some(on))),
            internal: false,
        },
        (
            author.actor,
            "work_request.job_created",
            &format!("job {number}, {on}"),
        ),
    )
    .await?;
    tx.commit().await?;
    let updated = find(state, agency, id).await?;
    let event = updated_event(
        state,
        agency,
        &author,
        &updated,
        Some(Status::Scheduled),
        &message,
    );
    notifications::raise(state, agency, &event).await;
    Ok(job)
}

/// A client contact's comment on a request they may see (the portal checked): a line of its
/// history the agency answers; told to the assignee, else as a new request is.
pub async fn comment(
    state: &AppState,
    agency: &Agency,
    commenter: (Actor<'_>, &str),
    request: &WorkRequestInfo,
    message: &str,
) -> AppResult<()> {
    let (actor, name) = commenter;
    let mut errors = FieldErrors::default();
    errors.required("message", "comment", message, MAX_MESSAGE);
    errors.into_result()?;
    let message = message.trim();
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    log(
        &mut tx,
        agency.id,
        request,
        &NewUpdate {
            author: ("portal", actor.id, name),
            body: message,
            status: None,
            internal: false,
        },
        (actor, "work_request.commented", ""),
    )
    .await?;
    tx.commit().await?;
    let public = state.settings().server.public_url.trim_end_matches('/');
    let mut fields = vec![
        ("work-request-id".to_owned(), request.id.to_string()),
        ("title".to_owned(), request.title.clone()),
        ("message".to_owned(), message.to_owned()),
        (
            "manage-url".to_owned(),
            format!(
                "{public}/{}/manage/work-requests/{}",
                agency.slug, request.id
            ),
        ),
    ];
    if let Some(email) = &request.assigned_email {
        fields.push(("assigned-to".into(), email.clone()));
    }
    let event = NotificationEvent {
        kind: "work-request-commented".into(),
        client: Some(Named {
            id: request.client_id.to_string(),
            name: request.client_name.clone(),
        }),
        worksite: request.worksite_id.map(|id| Named {
            id: id.to_string(),
            name: request.worksite_name.clone().unwrap_or_default(),
        }),
        actor: Person {
            kind: PersonKind::PortalUser,
            id: actor.id.map(|id| id.to_string()).unwrap_or_default(),
            name: name.to_owned(),
            email: actor.label.to_lowercase(),
        },
        subject: None,
        fields,
    };
    notifications::raise(state, agency, &event).await;
    Ok(())
}

/// Writes a line of `request`'s history and its audit entry (`actor`, `action`, `detail`), in
/// the caller's transaction.
async fn log(
    conn: &mut AnyConnection,
    agency_id: i64,
    request: &WorkRequestInfo,
    update: &NewUpdate<'_>,
    (actor, action, detail): (Actor<'_>, &str, &str),
) -> sqlx::Result<()> {
    work_requests::add_update(&mut *conn, agency_id, request.id, update).await?;
    audit::record(
        &mut *conn,
        agency_id,
        actor,
        action,
        target(request),
        detail,
    )
    .await
}

fn target(request: &WorkRequestInfo) -> Target<'_> {
    Target {
        kind: Some("work_request"),
        id: Some(request.id),
        label: Some(&request.title),
    }
}

/// The `work-request-updated` event: about the portal user who filed the request (when their
/// account is active), from the staff member who replied.
fn updated_event(
    state: &AppState,
    agency: &Agency,
    author: &Author<'_>,
    request: &WorkRequestInfo,
    status: Option<Status>,
    message: &str,
) -> NotificationEvent {
    let public = state.settings().server.public_url.trim_end_matches('/');
    let mut fields = vec![
        ("work-request-id".to_owned(), request.id.to_string()),
        ("title".to_owned(), request.title.clone()),
        (
            "portal-url".to_owned(),
            format!(
                "{public}/{}/portal/work-requests/{}",
                agency.slug, request.id
            ),
        ),
    ];
    if let Some(status) = status {
        fields.push(("status".into(), status.as_str().into()));
        fields.push(("status-label".into(), label(status).into()));
        if let Some(on) = &request.scheduled_for {
            fields.push(("scheduled-for".into(), on.clone()));
        }
    }
    if !message.is_empty() {
        fields.push(("message".into(), message.to_owned()));
    }
    let subject = match (request.portal_user_id, &request.requested_by_email) {
        (Some(id), Some(email)) if request.requester_status.as_deref() == Some("active") => {
            Some(Person {
                kind: PersonKind::PortalUser,
                id: id.to_string(),
                name: request.requested_by.clone().unwrap_or_default(),
                email: email.to_lowercase(),
            })
        }
        _ => None,
    };
    let actor = author.person();
    NotificationEvent {
        kind: "work-request-updated".into(),
        client: Some(Named {
            id: request.client_id.to_string(),
            name: request.client_name.clone(),
        }),
        worksite: request.worksite_id.map(|id| Named {
            id: id.to_string(),
            name: request.worksite_name.clone().unwrap_or_default(),
        }),
        actor,
        subject,
        fields,
    }
}
