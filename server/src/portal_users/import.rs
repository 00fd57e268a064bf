//! Bulk invite from CSV, shared by the manage area's upload form, the API and
//! `portal users import`: each row is checked like a form (same rules, same messages), then
//! invited — or, in a dry run, only reported. The report says per row what happened and why a
//! row was skipped.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{self as rules, CreateMode, Granter, NewUserInput, PortalUserInput};
use crate::agency::Agency;
use crate::db::audit::Actor;
use crate::db::{clients, portal_users};
use crate::error::{AppError, AppResult};
use crate::feed::import::line_of;
use crate::plugins::RoleScope;
use crate::state::AppState;

/// The columns a file may have; `email` is required, the others may be missing or blank.
pub const COLUMNS: [&str; 5] = ["email", "first_name", "last_name", "company", "role"];

/// Rows accepted in one file.
pub const MAX_ROWS: usize = 10_000;

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// A dry run: the row is fine and would be invited.
    WouldCreate,
    Skipped,
}

/// Why a row was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    InvalidEmail,
    /// The email is already a portal user of the agency, or came earlier in the file.
    DuplicateEmail,
    UnknownCompany,
    MissingCompany,
    UnknownRole,
    /// Any other field problem (too long a name, a role the importer may not give).
    Invalid,
}

impl Fault {
    pub fn label(self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid email",
            Self::DuplicateEmail => "duplicate email",
            Self::UnknownCompany => "unknown company",
            Self::MissingCompany => "no company",
            Self::UnknownRole => "unknown role",
            Self::Invalid => "invalid",
        }
    }
}

/// One row's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub email: String,
    pub outcome: Outcome,
    pub fault: Option<Fault>,
    /// What is wrong, in words, for a skipped row.
    pub reason: String,
    /// The new user, when created.
    pub id: Option<i64>,
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub created: usize,
    pub would_create: usize,
    pub skipped: usize,
    pub rows: Vec<RowReport>,
}

/// A file that cannot be read as a whole (no `email` column, not CSV, too many rows).
fn unreadable(message: impl Into<String>) -> AppError {
    let mut errors = crate::forms::FieldErrors::default();
    errors.add("file", message);
    AppError::Invalid(errors)
}

/// The rows of a file: (line, email, first, last, company, role).
pub type Row = (usize, [String; 5]);

/// Reads a file's rows, blank lines left out, cells trimmed. A file that cannot be read as a
/// whole (no `email` column, not CSV, too many rows) is an error; rows are checked by [`run`].
pub fn read(text: &str) -> AppResult<Vec<Row>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| unreadable(format!("The file is not CSV: {e}.")))?
        .iter()
        .map(|h| h.to_lowercase().replace([' ', '-'], "_"))
        .collect();
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| headers.iter().position(|h| h == c))
        .collect();
    if index[0].is_none() {
        return Err(unreadable(
            "The first line must name the columns, one of them “email” (others: first_name, last_name, company, role).",
        ));
    }
    // Lines counted in the text, not by the reader: it skips blank lines, and a quoted cell
    // may span several.
    let line = |position: Option<&csv::Position>| position.map_or(0, |p| line_of(text, p));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| unreadable(format!("Line {} is not CSV: {e}.", line(e.position()))))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(unreadable(format!(
                "A file may have at most {MAX_ROWS} rows; split it."
            )));
        }
        let cell = |i: usize| {
            index[i]
                .and_then(|at| record.get(at))
                .unwrap_or_default()
                .to_owned()
        };
        rows.push((
            line(record.position()),
            [cell(0), cell(1), cell(2), cell(3), cell(4)],
        ));
    }
    Ok(rows)
}

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The role of rows with a blank role.
    pub default_role: &'a str,
    /// Only check and report; create nothing.
    pub dry_run: bool,
}

/// Checks and (unless a dry run) invites every row of `text`, calling `progress(done,
/// total)` after each.
pub async fn run(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    text: &str,
    options: Options<'_>,
    actor: Actor<'_>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> AppResult<Report> {
    let Options {
        default_role,
        dry_run,
    } = options;
    let rows = read(text)?;
    let pool = &state.db().pool;
    let companies: HashMap<String, i64> = clients::list(pool, agency.id)
        .await?
        .into_iter()
        .map(|c| (c.name.trim().to_lowercase(), c.id))
        .collect();
    let set = state.plugins().agency(&agency.slug);
    let find_role = |text: &str| {
        set.as_ref().and_then(|set| {
            set.roles()
                .iter()
                .find(|r| r.id == text || r.name.eq_ignore_ascii_case(text))
                .cloned()
        })
    };
    let mut seen = HashSet::new();
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let total = rows.len();
    for (done, (line, [email, first, last, company, role])) in rows.into_iter().enumerate() {
        let skip = |fault: Fault, reason: String| RowReport {
            line,
            email: email.clone(),
            outcome: Outcome::Skipped,
            fault: Some(fault),
            reason,
            id: None,
        };
        let normalized = crate::email::normalize(&email);
        let role_text = if role.is_empty() { default_role } else { &role };
        let found_role = find_role(role_text);
        let company_id = companies.get(&company.to_lowercase()).copied();
        let row = if let Some(problem) = crate::email::problem(&email) {
            skip(Fault::InvalidEmail, format!("“{email}”: {problem}."))
        } else if !seen.insert(normalized.clone()) {
            skip(
                Fault::DuplicateEmail,
                "The email came earlier in the file.".into(),
            )
        } else if portal_users::email_taken(pool, agency.id, &email, None).await? {
            skip(
                Fault::DuplicateEmail,
                "Another portal user already signs in with this email.".into(),
            )
        } else if !company.is_empty() && company_id.is_none() {
            skip(
                Fault::UnknownCompany,
                format!("No client is called “{company}”."),
            )
        } else if let Some(found) = found_role {
            let spans = matches!(found.scope, RoleScope::ManyClients(_));
            if !spans && company_id.is_none() {
                skip(
                    Fault::MissingCompany,
                    format!("The {} role needs a company.", found.name),
                )
            } else {
                let input = NewUserInput {
                    user: PortalUserInput {
                        first_name: first.clone(),
                        last_name: last.clone(),
                        email: email.clone(),
                        role: found.id.clone(),
                        company: company_id,
                        all_clients: spans && company_id.is_none(),
                        clients: company_id.into_iter().collect(),
                        restricted_access: false,
                    },
                    mode: CreateMode::Invite,
                    ..NewUserInput::default()
                };
                invite_row(state, agency, granter, &input, dry_run, actor, line).await?
            }
        } else {
            skip(
                Fault::UnknownRole,
                format!("No role is called “{role_text}”."),
            )
        };
        match row.outcome {
            Outcome::Created => report.created += 1,
            Outcome::WouldCreate => report.would_create += 1,
            Outcome::Skipped => report.skipped += 1,
        }
        report.rows.push(row);
        progress(done + 1, total);
    }
    Ok(report)
}

async fn invite_row(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    input: &NewUserInput,
    dry_run: bool,
    actor: Actor<'_>,
    line: usize,
) -> AppResult<RowReport> {
    let outcome = if dry_run {
        rules::check(state, agency, granter, &input.user, false, None)
            .await?
            .map(|_| None)
    } else {
        match rules::create(state, agency, granter, input, actor).await {
            Ok(created) => Ok(Some(created.id)),
            Err(AppError::Invalid(errors)) => Err(errors),
            Err(other) => return Err(other),
        }
    };
    let email = input.user.email.clone();
    Ok(match outcome {
        Ok(id) => RowReport {
            line,
            email,
            outcome: if dry_run {
                Outcome::WouldCreate
            } else {
                Outcome::Created
            },
            fault: None,
            reason: String::new(),
            id,
        },
        Err(errors) => {
            let fault = if errors.get("email").is_some() {
                Fault::DuplicateEmail
            } else {
                Fault::Invalid
            };
            RowReport {
                line,
                email,
                outcome: Outcome::Skipped,
                fault: Some(fault),
                reason: errors.messages().join(" "),
                id: None,
            }
        }
    })
}
