//! CSV import of workers and timesheets for agency staff: paste (or, with JavaScript, pick)
//! a file, preview it as a dry run with every row's result, then import. The rows go through
//! the same checks as the API's batch endpoint and `portal import`.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::auth::{ClientIp, SignedIn, StaffSession, audit_actor};
use crate::error::AppResult;
use crate::feed::import::{self, ImportKind};
use crate::forms::checked;
use crate::state::AppState;

fn render(me: &SignedIn, extra: minijinja::Value) -> AppResult<Response> {
    let base = context! {
        area => "manage", nav => "import", title => "Import", csrf_token => me.csrf_token(),
        user => &me.account.name, is_admin => me.account.role_id == "admin",
        workers_columns => Serde(ImportKind::Workers.columns()),
        timesheets_columns => Serde(ImportKind::Timesheets.columns()),
    };
    Ok(me
        .agency
        .render("manage/import.html", context! { ..base, ..extra })?
        .into_response())
}

pub async fn page(StaffSession(me): StaffSession) -> AppResult<Response> {
    render(&me, context! { kind => "timesheets", dry_run => true })
}

#[derive(Debug, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    csv: String,
    #[serde(default)]
    dry_run: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<ImportForm>,
) -> AppResult<Response> {
    let dry_run = checked(&form.dry_run);
    let typed = context! { kind => &form.kind, csv => &form.csv, dry_run };
    let Some(kind) = ImportKind::parse(&form.kind) else {
        return render(
            &me,
            context! { error => "Choose what the file holds: workers or timesheets.", ..typed },
        );
    };
    let parsed = match import::parse(kind, &form.csv) {
        Ok(parsed) if parsed.is_empty() => {
            return render(&me, context! { error => "The file has no rows.", ..typed });
        }
        Ok(parsed) => parsed,
        Err(problem) => return render(&me, context! { error => problem, ..typed }),
    };
    let actor = audit_actor(
        me.kind.as_str(),
        Some(me.account.id),
        &me.account.email,
        &ip,
    );
    let (results, summary) = import::run(
        &state.db().pool,
        me.agency.id,
        actor,
        kind,
        parsed,
        dry_run,
        || {},
    )
    .await?;
    // After a real import the form starts empty again; a preview keeps the text to import.
    let csv = if dry_run { form.csv.as_str() } else { "" };
    render(
        &me,
        context! {
            kind => kind.as_str(), csv, dry_run, done => true, previewed => dry_run,
            summary => Serde(&summary), results => Serde(&results),
        },
    )
}
