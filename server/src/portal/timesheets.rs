//! Timesheets: the list (by week, worker, worksite and status, a page at a time), an
//! entry's detail and approval history, and the decisions — approve one, approve the
//! selected, approve every pending one the filter shows, reject one with a reason. A decided
//! timesheet is locked. The role-set plugin's `authorize` has the last word on each one.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;
use time::Duration;

use super::gate::Gated;
use super::{Portal, hundredths, iso, monday_of, parse_date, parse_id, today};
use crate::db::scope::Page;
use crate::db::timesheets::{self, ClientTimesheet, Filter, TimesheetStatus};
use crate::db::{agency_timesheets, clients};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::notifications as notify;
use crate::plugins::{
    AuthorizationRequest, Decision, Permission, Person, PersonKind, PluginRequest, Target,
};
use crate::state::AppState;
use crate::timesheets::{Decided, decision_event};

/// Most timesheets one "approve all shown" decides at once.
const MOST_AT_ONCE: i64 = 500;

/// The list's filters as the query string (and the bulk form's hidden fields) carry them.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub week: Option<String>,
    #[serde(default)]
    pub worker: Option<String>,
    #[serde(default)]
    pub worksite: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub done: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> Filter {
        let week = self.week.as_deref().and_then(parse_date).map(monday_of);
        Filter {
            from: week.map(iso),
            to: week.map(|monday| iso(monday + Duration::days(6))),
            worker_id: parse_id(&self.worker),
            worksite_id: parse_id(&self.worksite),
            status: self.status.as_deref().and_then(TimesheetStatus::parse),
        }
    }

    /// The filters as a query string prefix, for paging links.
    fn base_query(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("week", &self.week),
            ("worker", &self.worker),
            ("worksite", &self.worksite),
            ("status", &self.status),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        let text = serde_urlencoded::to_string(pairs).unwrap_or_default();
        if text.is_empty() { text } else { text + "&" }
    }
}

impl Gated for ClientTimesheet {
    fn client_id(&self) -> i64 {
        self.client_id
    }

    fn target(&self) -> Target {
        target(self)
    }
}

/// The list page's data, shared with the benchmark.
pub async fn list_page(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    query: &ListQuery,
) -> AppResult<Response> {
    portal.require(Permission::ViewTimesheets)?;
    // One connection for the page's queries: each taken from the pool and handed back
    // would cost a round trip more.
    let mut conn = state.db().pool.acquire().await?;
    let agency_id = portal.agency_id();
    let page = Page::new(query.page);
    // A dynamic rule decides row by row, so the count and the pages must be of the rows it
    // allows: the matches (up to the count cap) are asked about in one trip and paged here.
    let dynamic = portal.is_dynamic(Permission::ViewTimesheets);
    let fetched = if dynamic {
        Page {
            number: 1,
            size: u32::try_from(timesheets::COUNT_CAP + 1).unwrap_or(u32::MAX),
        }
    } else {
        page
    };
    let (rows, total) = timesheets::list_for_clients(
        &mut conn,
        agency_id,
        &portal.scope,
        &query.filter(),
        fetched,
    )
    .await?;
    let workers = timesheets::workers_for_clients(&mut *conn, agency_id, &portal.scope).await?;
    let worksites = clients::worksites_of_clients(&mut *conn, agency_id, &portal.scope).await?;
    drop(conn);
    let (rows, total) = if dynamic {
        let capped = rows.len() as i64 > timesheets::COUNT_CAP;
        let allowed = portal
            .visible(state, plugins, Permission::ViewTimesheets, rows)
            .await?;
        // Past the cap the list says "more than"; the count is then of the rows asked about.
        let total = if capped { total } else { allowed.len() as i64 };
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let rows = allowed
            .into_iter()
            .skip(offset)
            .take(page.size as usize)
            .collect();
        (rows, total)
    } else {
        (rows, total)
    };
    let this_monday = monday_of(today());
    let weeks: Vec<String> = (0..12)
        .map(|n| iso(this_monday - Duration::weeks(n)))
        .collect();
    let more = total > timesheets::COUNT_CAP;
    let total = total.min(timesheets::COUNT_CAP);
    let pages = (total + i64::from(page.size) - 1) / i64::from(page.size);
    let first = page.offset() + 1;
    let pager = context! {
        number => page.number, pages, size => page.size, total,
        first, last => (first + rows.len() as i64 - 1).max(0),
    };
    let notice = match query.done.as_deref() {
        Some("approved") => Some("The timesheets are approved."),
        Some("approved-some") => Some(
            "Some of the timesheets are approved; the others are locked for payroll or need \
             someone whose role allows approving them, and are still pending.",
        ),
        Some("rejected") => Some("The timesheet is rejected; the agency has been told why."),
        _ => None,
    };
    let can_approve = portal.session.may(Permission::ApproveTimesheets);
    portal
        .render(
            state,
            "portal/timesheets.html",
            "timesheets",
            context! {
                title => "Timesheets", rows => Serde(rows), pager, workers => Serde(workers),
                worksites => Serde(worksites), weeks,
                query => Serde(query), base_query => query.base_query(),
                can_approve, notice, more,
            },
        )
        .await
}

pub async fn list(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    list_page(&state, &portal, &mut plugins, &query).await
}

async fn detail_page(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    id: i64,
    status: StatusCode,
    errors: Option<FieldErrors>,
    reason: &str,
) -> AppResult<Response> {
    portal.require(Permission::ViewTimesheets)?;
    let pool = &state.db().pool;
    let found = timesheets::get_for_clients(pool, portal.agency_id(), &portal.scope, id).await?;
    let sheet = portal
        .visible_one(state, plugins, Permission::ViewTimesheets, found)
        .await?;
    let history = timesheets::history(pool, portal.agency_id(), id).await?;
    let can_approve = portal.session.may(Permission::ApproveTimesheets)
        && sheet.status == "pending"
        && !sheet.locked;
    portal
        .render_status(
            state,
            status,
            "portal/timesheet.html",
            "timesheets",
            context! {
                title => format!("Timesheet: {} on {}", sheet.worker_name, sheet.work_date),
                sheet => Serde(sheet), history => Serde(history), can_approve,
                errors => errors.map(Serde),
                reason,
            },
        )
        .await
}

pub async fn detail(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    detail_page(&state, &portal, &mut plugins, id, StatusCode::OK, None, "").await
}

/// What happened to a batch of decisions.
#[derive(Debug, Default)]
pub struct Outcome {
    pub decided: usize,
    /// Timesheets the role's rules kept back, with the reason for the person.
    pub refused: Vec<(i64, String)>,
    /// Timesheets in a week locked for payroll, with the lock explained.
    pub locked: Vec<(i64, String)>,
}

/// Decides timesheets for the portal user: every id must be one of the user's clients'
/// (else 404 and nothing changes), each is put to the role-set plugin, and the decisions,
/// their history and the agency's notifications are written in one transaction.
pub async fn decide(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    ids: &[i64],
    status: TimesheetStatus,
    reason: Option<&str>,
) -> AppResult<Outcome> {
    portal.require(Permission::ApproveTimesheets)?;
    let pool = &state.db().pool;
    let agency = &portal.session.user.agency;
    // Each id once, and no more than one bulk decision takes: a form repeating one id 40,000
    // times is refused before the database sees it.
    let ids = crate::forms::distinct_ids(ids, MOST_AT_ONCE as usize)?;
    let sheets = timesheets::many_for_clients(pool, agency.id, &portal.scope, &ids).await?;
    // A timesheet the role's rules hide cannot be decided either.
    let sheets = portal
        .visible(state, plugins, Permission::ViewTimesheets, sheets)
        .await?;
    if sheets.len() != ids.len() {
        return Err(AppError::NotFound);
    }
    let mut outcome = Outcome::default();
    // A week locked for payroll is decided by nobody: one timesheet is a 409 naming the lock,
    // a batch leaves the locked ones out and says why.
    let locked = agency_timesheets::locked_among(pool, agency.id, &ids).await?;
    let (sheets, held): (Vec<_>, Vec<_>) = sheets
        .into_iter()
        .partition(|sheet| !locked.contains(&sheet.id));
    for sheet in held {
        let lock =
            agency_timesheets::lock_covering(pool, agency.id, sheet.client_id, &sheet.work_date)
                .await?
                .map(|lock| lock.explain())
                .unwrap_or_default();
        if ids.len() == 1 {
            return Err(AppError::Conflict(lock));
        }
        outcome.locked.push((sheet.id, lock));
    }
    let user = portal.user_ref(state).await?;
    let role = portal
        .session
        .role
        .as_ref()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    let account = &portal.session.user.account;
    let actor = Person {
        kind: PersonKind::PortalUser,
        id: account.id.to_string(),
        name: account.name.clone(),
        email: account.email.clone(),
    };
    let mut allowed = Vec::new();
    for sheet in sheets {
        let request = AuthorizationRequest {
            role: role.clone(),
            permission: Permission::ApproveTimesheets,
            user: user.clone(),
            client_id: sheet.client_id.to_string(),
            target: target(&sheet),
        };
        match plugins.authorize(&request).await {
            Decision::Allow => {
                let event = decision_event(state, agency, &decided(&sheet), &actor, status, reason);
                let notifications = notify::ask(plugins, &event).await;
                allowed.push((sheet, event, notifications));
            }
            Decision::Deny(why) => outcome.refused.push((sheet.id, why)),
        }
    }
    let ids: Vec<i64> = allowed.iter().map(|(sheet, _, _)| sheet.id).collect();
    let max_recipients = state.settings().plugins.max_recipients_per_event;
    let mut tx = crate::db::begin_write(pool).await?;
    let mut decided: BTreeSet<i64> = timesheets::decide_many(
        &mut tx,
        agency.id,
        &ids,
        status,
        (account.id, &account.name),
        reason,
    )
    .await?
    .into_iter()
    .collect();
    for (sheet, event, notifications) in &allowed {
        // Once per timesheet, even when its id was sent twice.
        if decided.remove(&sheet.id) {
            notify::queue(&mut tx, agency, event, notifications, max_recipients).await?;
            outcome.decided += 1;
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

/// What `authorize` is told about a timesheet (see `roles.wit`).
fn target(sheet: &ClientTimesheet) -> Target {
    let mut attributes = vec![
        ("hours".into(), hundredths(sheet.minutes_worked).to_string()),
        ("status".into(), sheet.status.clone()),
        ("worker-id".into(), sheet.worker_id.to_string()),
        (
            "week-ending".into(),
            crate::timesheets::week_ending(&sheet.work_date),
        ),
    ];
    if let Some(site) = sheet.worksite_id {
        attributes.push(("worksite-id".into(), site.to_string()));
    }
    Target {
        kind: "timesheet".into(),
        id: Some(sheet.id.to_string()),
        attributes,
    }
}

/// What a decision event says of a portal timesheet.
fn decided(sheet: &ClientTimesheet) -> Decided<'_> {
    Decided {
        id: sheet.id,
        client: (sheet.client_id, &sheet.client_name),
        worksite: sheet
            .worksite_id
            .map(|id| (id, sheet.worksite_name.as_deref().unwrap_or_default())),
        worker_name: &sheet.worker_name,
        work_date: &sheet.work_date,
        minutes_worked: sheet.minutes_worked,
    }
}

fn refused_error(outcome: &Outcome) -> AppError {
    let why = outcome
        .refused
        .first()
        .map(|(_, why)| why.clone())
        .unwrap_or_default();
    AppError::BadRequest(format!("This timesheet cannot be approved here: {why}"))
}

/// Approves one timesheet.
pub async fn approve(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let outcome = decide(
        &state,
        &portal,
        &mut plugins,
        &[id],
        TimesheetStatus::Approved,
        None,
    )
    .await?;
    if !outcome.refused.is_empty() {
        return Err(refused_error(&outcome));
    }
    let slug = &portal.session.user.agency.slug;
    Ok(crate::redirect::to(&format!("/{slug}/portal/timesheets/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

/// Rejects one timesheet; the reason is required and goes to the agency.
pub async fn reject(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
    Form(form): Form<RejectForm>,
) -> AppResult<Response> {
    portal.require(Permission::ApproveTimesheets)?;
    let mut errors = FieldErrors::default();
    errors.required("reason", "reason", &form.reason, 1000);
    if !errors.is_empty() {
        return detail_page(
            &state,
            &portal,
            &mut plugins,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(errors),
            &form.reason,
        )
        .await;
    }
    let outcome = decide(
        &state,
        &portal,
        &mut plugins,
        &[id],
        TimesheetStatus::Rejected,
        Some(form.reason.trim()),
    )
    .await?;
    if !outcome.refused.is_empty() {
        return Err(refused_error(&outcome));
    }
    let slug = &portal.session.user.agency.slug;
    Ok(crate::redirect::to(&format!("/{slug}/portal/timesheets?done=rejected")).into_response())
}

/// Approves the ticked timesheets (`id` fields), or with `scope=shown` every pending one the
/// list's filters match (up to [`MOST_AT_ONCE`]).
pub async fn approve_many(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    portal.require(Permission::ApproveTimesheets)?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let query = ListQuery {
        week: value("week"),
        worker: value("worker"),
        worksite: value("worksite"),
        status: value("status"),
        page: None,
        done: None,
    };
    let ids: Vec<i64> = if value("scope").as_deref() == Some("shown") {
        timesheets::pending_ids(
            &state.db().pool,
            portal.agency_id(),
            &portal.scope,
            &query.filter(),
            MOST_AT_ONCE,
        )
        .await?
    } else {
        let mut ids = Vec::new();
        for (key, value) in &fields {
            if key == "id" {
                ids.push(value.parse().map_err(|_| AppError::NotFound)?);
            }
        }
        ids
    };
    if ids.is_empty() {
        return Err(AppError::BadRequest(
            "Tick the timesheets to approve first.".into(),
        ));
    }
    let outcome = decide(
        &state,
        &portal,
        &mut plugins,
        &ids,
        TimesheetStatus::Approved,
        None,
    )
    .await?;
    let slug = &portal.session.user.agency.slug;
    if outcome.decided == 0 {
        if let Some((_, lock)) = outcome.locked.first() {
            return Err(AppError::Conflict(lock.clone()));
        }
        if !outcome.refused.is_empty() {
            return Err(refused_error(&outcome));
        }
    }
    let done = if outcome.refused.is_empty() && outcome.locked.is_empty() {
        "approved"
    } else {
        "approved-some"
    };
    let back = format!(
        "/{slug}/portal/timesheets?{}done={done}",
        query.base_query()
    );
    Ok(crate::redirect::to(&back).into_response())
}
