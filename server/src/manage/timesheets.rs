//! Timesheets for the agency's staff: every client's, filtered (client, worksite, worker,
//! week, status, who decided, overdue), sorted and paged; a timesheet's page with the pay
//! rate, the margin and its full history; deciding one for the client with a note of the
//! evidence, correcting a rejected one, and the pay-period locks.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;
use time::Duration;

use super::{author, page_with_status, refusal};
use crate::auth::{ClientIp, SignedIn, StaffAdmin, StaffSession};
use crate::dates::{iso, monday_of, parse_date, today};
use crate::db::agency_timesheets::{self as sheets, Filter, Sort};
use crate::db::outbox::Page;
use crate::db::timesheets::{self, TimesheetStatus};
use crate::db::{agency_settings, clients};
use crate::error::{AppError, AppResult};
use crate::paging::{Pager, sort_links};
use crate::plugins::{Column, ColumnType, PluginRequest, RowBatch};
use crate::state::AppState;
use crate::timesheets::{self as operations, CorrectionInput, DecisionInput, LockInput};

/// The list's filters as the query string carries them.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub worksite: Option<String>,
    #[serde(default)]
    pub worker: Option<String>,
    /// Any day of the week shown.
    #[serde(default)]
    pub week: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The portal user who decided.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// `1`: pending past the approval deadline.
    #[serde(default)]
    pub overdue: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub size: Option<u32>,
    /// The export format (`…/export` only).
    #[serde(default)]
    pub format: Option<String>,
}

fn id(text: &Option<String>) -> Option<i64> {
    text.as_deref().and_then(|t| t.trim().parse().ok())
}

impl ListQuery {
    fn filter(&self, deadline: &str) -> Filter {
        let week = self.week.as_deref().and_then(parse_date).map(monday_of);
        let overdue = self.overdue.as_deref() == Some("1");
        Filter {
            client_id: id(&self.client),
            worksite_id: id(&self.worksite),
            worker_id: id(&self.worker),
            from: week.map(iso),
            to: week.map(|monday| iso(monday + Duration::days(6))),
            before: overdue.then(|| deadline.to_owned()),
            status: if overdue {
                Some(TimesheetStatus::Pending)
            } else {
                self.status.as_deref().and_then(TimesheetStatus::parse)
            },
            decided_by: id(&self.decided_by),
            sort: self
                .sort
                .as_deref()
                .and_then(Sort::parse)
                .unwrap_or_default(),
            descending: self.dir.as_deref() != Some("asc"),
        }
    }

    /// The filters as a query-string prefix (ending in `&`) for sorting and paging links.
    fn keep(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("client", &self.client),
            ("worksite", &self.worksite),
            ("worker", &self.worker),
            ("week", &self.week),
            ("status", &self.status),
            ("decided_by", &self.decided_by),
            ("overdue", &self.overdue),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        let text = serde_urlencoded::to_string(pairs).unwrap_or_default();
        if text.is_empty() { text } else { text + "&" }
    }
}

/// The first work day not yet overdue, by the agency's approval deadline.
async fn deadline(state: &AppState, me: &SignedIn) -> AppResult<String> {
    let settings =
        agency_settings::effective(&state.db().pool, &me.agency, &state.settings().security)
            .await?;
    Ok(iso(
        today() - Duration::days(settings.approval_deadline_days)
    ))
}

/// `GET /{agency}/manage/timesheets`.
pub async fn list(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let deadline = deadline(&state, &me).await?;
    let filter = query.filter(&deadline);
    let page = Page::new(query.page, query.size);
    let pool = &state.db().pool;
    let mut conn = pool.acquire().await?;
    let sheets::Listing {
        rows,
        total,
        sorted_by_date,
    } = sheets::list(&mut conn, me.agency.id, &filter, page).await?;
    let client_choices = clients::list(&mut *conn, me.agency.id).await?;
    // Worksites and workers to choose from once a client is chosen: a list of every worker
    // of every client would be thousands long.
    let (worksites, workers) = match filter.client_id {
        Some(client) => (
            clients::worksites(&mut *conn, me.agency.id, client).await?,
            timesheets::workers_for_clients(&mut *conn, me.agency.id, &[client]).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    drop(conn);
    let pager = Pager::new(page, total.min(timesheets::COUNT_CAP), rows.len());
    let keep = query.keep();
    let sort_links = sort_links(
        Sort::ALL.into_iter().map(Sort::as_str),
        filter.sort.as_str(),
        filter.descending,
        &keep,
        page.size,
    );
    let paging_query = format!(
        "{keep}sort={}&dir={}&size={}&",
        filter.sort.as_str(),
        if filter.descending { "desc" } else { "asc" },
        page.size
    );
    let margins: Vec<i64> = rows
        .iter()
        .map(sheets::AgencyTimesheet::margin_cents)
        .collect();
    let formats: Vec<(String, String)> = state
        .plugins()
        .agency(&me.agency.slug)
        .map(|set| {
            set.formats()
                .map(|f| (f.id.clone(), f.label.clone()))
                .collect()
        })
        .unwrap_or_default();
    page_with_status(
        &me,
        StatusCode::OK,
        "manage/timesheets.html",
        "timesheets",
        context! {
            title => "Timesheets", timesheets => Serde(&rows), margins,
            more_than_cap => total > timesheets::COUNT_CAP, count_cap => timesheets::COUNT_CAP,
            pager => Serde(pager), base_query => paging_query, page_sizes => Page::SIZES,
            sort_links, query => Serde(&query), deadline,
            clients => Serde(&client_choices), worksites => Serde(&worksites),
            workers => Serde(&workers), overdue => filter.before.is_some(),
            week_start => filter.from, week_end => filter.to, sorted_by_date, formats,
        },
    )
}

/// `GET /{agency}/manage/timesheets/export?format=…&<the list's filters>`: the list, pay and
/// margin included, in one of the agency's export formats — at most
/// [`timesheets::COUNT_CAP`] timesheets, newest first; a larger list is refused with a
/// message to narrow it.
pub async fn export(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    plugins: PluginRequest,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let deadline = deadline(&state, &me).await?;
    let filter = query.filter(&deadline);
    let mut conn = state.db().pool.acquire().await?;
    if sheets::count(&mut conn, me.agency.id, &filter).await? > timesheets::COUNT_CAP {
        return Err(AppError::BadRequest(format!(
            "More than {} timesheets match; choose a client, week or status to export fewer.",
            timesheets::COUNT_CAP
        )));
    }
    let rows =
        sheets::all_matching(&mut conn, me.agency.id, &filter, timesheets::COUNT_CAP).await?;
    drop(conn);
    let money = || ColumnType::Decimal(2);
    let columns = vec![
        Column::new("date", "Date", ColumnType::Date),
        Column::new("client", "Client", ColumnType::Text),
        Column::new("worksite", "Worksite", ColumnType::Text),
        Column::new("worker", "Worker", ColumnType::Text),
        Column::new("start", "Start", ColumnType::Text),
        Column::new("end", "End", ColumnType::Text),
        Column::new("break", "Break (minutes)", ColumnType::Integer),
        Column::new("hours", "Hours", ColumnType::Decimal(2)),
        Column::new("charge_rate", "Charge rate", money()),
        Column::new("charge", "Charge", money()),
        Column::new("pay_rate", "Pay rate", money()),
        Column::new("pay", "Pay", money()),
        Column::new("margin", "Margin", money()),
        Column::new("status", "Status", ColumnType::Text),
        Column::new("decided_by", "Decided by", ColumnType::Text),
        Column::new("reference", "Reference", ColumnType::Text),
    ];
    let width = columns.len();
    let format = query.format.clone().unwrap_or_default();
    let title = format!("Timesheets of {}", me.agency.config.display_name);
    let (found, export) = plugins
        .export(&format, &title, columns)
        .ok_or(AppError::NotFound)?;
    let mut batch = RowBatch::with_capacity(rows.len(), width, 12);
    for t in &rows {
        let decided = t
            .decided_by_staff_name
            .as_ref()
            .map(|name| format!("{name} (for the client)"))
            .or_else(|| t.decided_by_name.clone());
        for cell in [
            Some(t.work_date.clone()),
            Some(t.client_name.clone()),
            t.worksite_name.clone(),
            Some(t.worker_name.clone()),
            Some(t.start_time.clone()),
            Some(t.end_time.clone()),
            Some(t.break_minutes.to_string()),
            Some(((t.minutes_worked * 100 + 30) / 60).to_string()),
            Some(t.charge_rate_cents.to_string()),
            Some(t.charge_amount_cents.to_string()),
            Some(t.pay_rate_cents.to_string()),
            Some(t.pay_amount_cents.to_string()),
            Some(t.margin_cents().to_string()),
            Some(t.status.clone()),
            decided,
            t.external_id.clone(),
        ] {
            batch.push(cell.as_deref());
        }
    }
    let sender = export.rows;
    tokio::spawn(async move {
        // A failed export reports itself on the byte stream; nothing to do here.
        let _ = sender.send(batch).await;
    });
    let file_name = format!("timesheets-{}.{}", iso(today()), found.extension);
    Ok(crate::downloads::download(
        &file_name,
        &found.mime_type,
        axum::body::Body::from_stream(export.bytes),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn detail_page(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let sheet = operations::find(state, &me.agency, id).await?;
    let history = timesheets::history(pool, me.agency.id, id).await?;
    let lock = if sheet.locked {
        sheets::lock_covering(pool, me.agency.id, sheet.client_id, &sheet.work_date).await?
    } else {
        None
    };
    page_with_status(
        me,
        status,
        "manage/timesheet.html",
        "timesheets",
        context! {
            title => format!("Timesheet: {} on {}", sheet.worker_name, sheet.work_date),
            margin_cents => sheet.margin_cents(), sheet => Serde(&sheet),
            history => Serde(&history), lock => lock.map(|l| l.explain()), ..extra
        },
    )
}

/// `GET /{agency}/manage/timesheets/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Path((_, id)): Path<(String, i64)>,
    Query(query): Query<DetailQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("approved") => Some("Approved on the client's behalf; the note is on its record."),
        Some("rejected") => Some("Rejected on the client's behalf; the note is on its record."),
        Some("corrected") => Some("Corrected: it is back with the client, waiting for a decision."),
        _ => None,
    };
    detail_page(&state, &me, id, StatusCode::OK, context! { notice }).await
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

fn back(me: &SignedIn, id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/timesheets/{id}?done={done}",
        me.agency.slug
    ))
    .into_response()
}

/// `POST /{agency}/manage/timesheets/{id}/decide`: approve or reject for the client.
pub async fn decide(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<DecisionInput>,
) -> AppResult<Response> {
    match operations::decide_for_client(&state, &me.agency, author(&me, &ip), id, &input).await {
        Ok(sheet) => Ok(back(&me, id, &sheet.status)),
        Err(err) => refused(&state, &me, id, err, context! { decision => Serde(&input) }).await,
    }
}

/// `POST /{agency}/manage/timesheets/{id}/correct`: new hours for a rejected timesheet.
pub async fn correct(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<CorrectionInput>,
) -> AppResult<Response> {
    match operations::correct(&state, &me.agency, author(&me, &ip), id, &input).await {
        Ok(_) => Ok(back(&me, id, "corrected")),
        Err(err) => {
            refused(
                &state,
                &me,
                id,
                err,
                context! { correction => Serde(&input) },
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LocksQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn locks_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let locks = sheets::locks(pool, me.agency.id).await?;
    let client_choices = clients::list(pool, me.agency.id).await?;
    let last_week = iso(monday_of(today()) - Duration::weeks(1));
    page_with_status(
        me,
        status,
        "manage/timesheet_locks.html",
        "timesheets",
        context! {
            title => "Pay-period locks", locks => Serde(&locks),
            clients => Serde(&client_choices), last_week, ..extra
        },
    )
}

/// `GET /{agency}/manage/timesheets/locks`.
pub async fn locks(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<LocksQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("locked") => Some("The week is locked: its timesheets can no longer change."),
        Some("unlocked") => Some("The week is unlocked."),
        _ => None,
    };
    locks_page(&state, &me, StatusCode::OK, context! { notice }).await
}

/// `POST /{agency}/manage/timesheets/locks`: lock a week once payroll has run.
pub async fn lock(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Form(input): Form<LockInput>,
) -> AppResult<Response> {
    let form = context! { lock_form => Serde(&input) };
    match operations::lock(&state, &me.agency, author(&me, &ip), &input).await {
        Ok(_) => Ok(crate::redirect::to(&format!(
            "/{}/manage/timesheets/locks?done=locked",
            me.agency.slug
        ))
        .into_response()),
        Err(err) => {
            let (status, extra) = refusal(err, form)?;
            locks_page(&state, &me, status, extra).await
        }
    }
}

/// `POST /{agency}/manage/timesheets/locks/{id}/unlock` (admins).
pub async fn unlock(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    operations::unlock(&state, &me.agency, author(&me, &ip), id).await?;
    Ok(crate::redirect::to(&format!(
        "/{}/manage/timesheets/locks?done=unlocked",
        me.agency.slug
    ))
    .into_response())
}
