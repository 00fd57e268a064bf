//! Portal users (More > Settings > Portal Users): the list with sorting, filters and paging,
//! creation by invitation or by hand, editing, passwords, deactivation, invitations, deletion
//! one by one or in bulk, the user report export and the CSV bulk invite. Admins only. Every
//! form works without JavaScript; `js/portal-users.js` adds conveniences.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::auth::{ClientIp, SignedIn, StaffAdmin, account, audit_actor, passwords};
use crate::db::accounts::AccountKind;
use crate::db::audit::Actor;
use crate::db::portal_users::{self};
use crate::db::sessions;
use crate::error::{AppError, AppResult};
use crate::portal_users::pages::{
    Done, Fields, FormatQuery, ListQuery, choices, list_page, role_labels, sent_done,
};
use crate::portal_users::{
    self as rules, CreateMode, Granter, NewUserInput, PortalUserInput, Sent, export, import,
};
use crate::state::AppState;

fn actor<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor("staff", Some(me.account.id), &me.account.email, ip)
}

fn page(me: &SignedIn, template: &str, extra: minijinja::Value) -> AppResult<Response> {
    let base = context! {
        area => "manage", nav => "portal-users", csrf_token => me.csrf_token(),
        user => &me.account.name, is_admin => true,
    };
    Ok(me
        .agency
        .render(template, context! { ..base, ..extra })?
        .into_response())
}

fn to_list(me: &SignedIn, done: &str, count: Option<u64>) -> Response {
    let count = count.map(|n| format!("&count={n}")).unwrap_or_default();
    crate::redirect::to(&format!(
        "/{}/manage/portal-users?done={done}{count}",
        me.agency.slug
    ))
    .into_response()
}

fn to_user(me: &SignedIn, id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/portal-users/{id}?done={done}",
        me.agency.slug
    ))
    .into_response()
}

/// `GET /{agency}/manage/portal-users`.
pub async fn list(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<ListQuery>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let listing = list_page(&state, me.agency.id, &query, None).await?;
    let filter = query.filter();
    let formats: Vec<_> = state
        .plugins()
        .agency(&me.agency.slug)
        .map(|set| {
            set.formats()
                .map(|f| context! { id => &f.id, label => &f.label })
                .collect()
        })
        .unwrap_or_default();
    let export_query = serde_urlencoded::to_string([
        ("q", query.q.as_str()),
        ("status", query.status.as_str()),
        ("sort", filter.sort.as_str()),
        ("dir", if filter.descending { "desc" } else { "asc" }),
    ])
    .unwrap_or_default();
    page(
        &me,
        "manage/portal_users.html",
        context! {
            title => "Portal users", notice => done.notice(),
            roles => role_labels(&state, &me.agency.slug), formats, export_query, ..listing,
        },
    )
}

async fn form_choices(state: &AppState, me: &SignedIn) -> AppResult<minijinja::Value> {
    choices(state, &me.agency, &Granter::agency_admin()).await
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    mode: Option<CreateMode>,
}

/// `GET /{agency}/manage/portal-users/new?mode=invite|manual`.
pub async fn new_form(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<NewQuery>,
) -> AppResult<Response> {
    // A partner sees every client unless told otherwise (seed 002): "All clients" starts
    // ticked, and applies only when the role chosen spans clients.
    let input = NewUserInput {
        mode: query.mode.unwrap_or_default(),
        password: passwords::generate_passphrase(),
        user: PortalUserInput {
            all_clients: true,
            ..PortalUserInput::default()
        },
        ..NewUserInput::default()
    };
    render_new(&state, &me, &input, None).await
}

async fn render_new(
    state: &AppState,
    me: &SignedIn,
    input: &NewUserInput,
    errors: Option<&crate::forms::FieldErrors>,
) -> AppResult<Response> {
    let choices = form_choices(state, me).await?;
    let manual = input.mode == CreateMode::Manual;
    page(
        me,
        "manage/portal_user_new.html",
        context! {
            title => if manual { "Create a portal user" } else { "Invite a portal user" },
            manual, input => Serde(input), errors => errors.map(Serde), ..choices,
        },
    )
}

/// `POST /{agency}/manage/portal-users/new`.
pub async fn create(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = Fields(fields).new_user();
    match rules::create(
        &state,
        &me.agency,
        &Granter::agency_admin(),
        &input,
        actor(&me, &ip),
    )
    .await
    {
        Ok(created) => {
            let done = match (created.email, input.mode) {
                (Some(crate::mail::Queued::PortalDisabled), _) => "not-sent",
                (Some(crate::mail::Queued::ClientPortalDisabled), _) => "not-sent-client",
                (_, CreateMode::Invite) => "invited",
                (_, CreateMode::Manual) => "created",
            };
            Ok(to_user(&me, created.id, done))
        }
        Err(AppError::Invalid(errors)) => render_new(&state, &me, &input, Some(&errors)).await,
        Err(other) => Err(other),
    }
}

/// `GET /{agency}/manage/portal-users/passphrase`: a fresh passphrase for the regenerate
/// button (plain text).
pub async fn passphrase(StaffAdmin(_): StaffAdmin) -> String {
    passwords::generate_passphrase()
}

async fn render_edit(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    input: Option<&PortalUserInput>,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let user = rules::find(state, &me.agency, id).await?;
    let links = portal_users::client_ids(&state.db().pool, me.agency.id, id).await?;
    let current = PortalUserInput {
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        role: user.role_id.clone(),
        company: links.first().copied(),
        all_clients: user.all_clients,
        clients: links,
        restricted_access: user.restricted_access,
    };
    let choices = form_choices(state, me).await?;
    let role_name = role_labels(state, &me.agency.slug)
        .get(&user.role_id)
        .cloned()
        .unwrap_or_else(|| user.role_id.clone());
    let sessions =
        sessions::for_account(&state.db().pool, me.agency.id, AccountKind::Portal, id).await?;
    let base = context! {
        title => format!("{} {}", user.first_name, user.last_name).trim().to_owned(),
        portal_user => Serde(&user), role_name, sessions => account::shown(&sessions, None),
        input => Serde(input.unwrap_or(&current)),
        generated => passwords::generate_passphrase(), ..choices,
    };
    page(me, "manage/portal_user.html", context! { ..extra, ..base })
}

/// `GET /{agency}/manage/portal-users/{id}`.
pub async fn show(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Path((_, id)): Path<(String, i64)>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    render_edit(&state, &me, id, None, context! { notice => done.notice() }).await
}

/// `POST /{agency}/manage/portal-users/{id}`.
pub async fn update(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = Fields(fields).user();
    let granter = Granter::agency_admin();
    match rules::change(&state, &me.agency, &granter, id, &input, actor(&me, &ip)).await {
        Ok(()) => Ok(to_user(&me, id, "saved")),
        Err(AppError::Invalid(errors)) => {
            render_edit(
                &state,
                &me,
                id,
                Some(&input),
                context! { errors => Serde(&errors) },
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /{agency}/manage/portal-users/{id}/password`: an admin-chosen password.
pub async fn set_password(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    match rules::set_password(&state, &me.agency, id, &form.password, actor(&me, &ip)).await {
        Ok(()) => Ok(to_user(&me, id, "password")),
        Err(AppError::Invalid(errors)) => {
            let extra = context! { password_errors => Serde(&errors), typed => &form.password };
            render_edit(&state, &me, id, None, extra).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /{agency}/manage/portal-users/{id}/{action}`: `deactivate` (their sessions end at
/// once), `reactivate`, `resend` (the invitation, rate-limited) or `reset-link`.
pub async fn act(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, action)): Path<(String, i64, String)>,
) -> AppResult<Response> {
    let (agency, actor) = (&me.agency, actor(&me, &ip));
    let done = match action.as_str() {
        "deactivate" | "reactivate" => {
            let active = action == "reactivate";
            rules::set_active(&state, agency, id, active, actor).await?;
            if active { "reactivated" } else { "deactivated" }
        }
        "resend" => sent_done(
            rules::resend_invitation(&state, agency, id, actor).await?,
            "resent",
        ),
        "reset-link" => sent_done(
            rules::send_reset_link(&state, agency, id, actor).await?,
            "reset-sent",
        ),
        "sign-out" => {
            rules::sign_out_everywhere(&state, agency, id, actor).await?;
            "signed-out"
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(to_user(&me, id, done))
}

/// `POST /{agency}/manage/portal-users/bulk`: the ticked users and what to do with them.
/// Deleting asks for confirmation first (a page naming how many); deactivating and resending
/// happen at once.
pub async fn bulk(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields(fields);
    let ids = crate::forms::distinct_ids(&fields.ids("ids"), crate::forms::MOST_USERS_AT_ONCE)?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Tick at least one user first.".into()));
    }
    let actor = actor(&me, &ip);
    match fields.text("action").as_str() {
        "delete" => {
            let mut users = Vec::new();
            for &id in &ids {
                if let Some(user) = portal_users::get(&state.db().pool, me.agency.id, id).await? {
                    users.push(user);
                }
            }
            if users.is_empty() {
                return Err(AppError::NotFound);
            }
            page(
                &me,
                "manage/portal_users_delete.html",
                context! { title => "Delete portal users", users => Serde(&users), count => users.len() },
            )
        }
        "deactivate" => {
            let mut count = 0;
            for id in ids {
                match rules::set_active(&state, &me.agency, id, false, actor).await {
                    Ok(()) => count += 1,
                    Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(to_list(&me, "bulk-deactivated", Some(count)))
        }
        "resend" => {
            let mut count = 0;
            for id in ids {
                match rules::resend_invitation(&state, &me.agency, id, actor).await {
                    Ok(Sent::Queued(_)) => count += 1,
                    Ok(_) | Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(to_list(&me, "bulk-resent", Some(count)))
        }
        _ => Err(AppError::BadRequest(
            "Choose what to do with the ticked users.".into(),
        )),
    }
}

/// `POST /{agency}/manage/portal-users/bulk/delete`: the confirmed deletion.
pub async fn bulk_delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields(fields);
    if !fields.ticked("confirm") {
        return Err(AppError::BadRequest("Confirm the deletion first.".into()));
    }
    let ids = crate::forms::distinct_ids(&fields.ids("ids"), crate::forms::MOST_USERS_AT_ONCE)?;
    let deleted = rules::delete(&state, &me.agency, &ids, actor(&me, &ip)).await?;
    Ok(to_list(&me, "deleted", Some(deleted)))
}

/// `GET /{agency}/manage/portal-users/export?format=…`: the list as filtered, as a file.
pub async fn export(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    plugins: crate::plugins::PluginRequest,
    Query(query): Query<ListQuery>,
    Query(format): Query<FormatQuery>,
) -> AppResult<Response> {
    export::download(&state, &plugins, &me.agency, query.filter(), &format.format)
}

/// The import page, with what was pasted and, after a run, its report.
async fn render_import(
    state: &AppState,
    me: &SignedIn,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let choices = form_choices(state, me).await?;
    let base =
        context! { title => "Invite portal users from CSV", columns => import::COLUMNS, ..choices };
    page(
        me,
        "manage/portal_users_import.html",
        context! { ..extra, ..base },
    )
}

/// `GET /{agency}/manage/portal-users/import`.
pub async fn import_form(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
) -> AppResult<Response> {
    render_import(&state, &me, context! { dry_run => true }).await
}

#[derive(Debug, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    dry_run: Option<String>,
}

/// `POST /{agency}/manage/portal-users/import`: the pasted (or, with JavaScript, chosen)
/// file, checked and — unless "dry run" is ticked — invited, with a report per row.
pub async fn import_submit(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(form): Form<ImportForm>,
) -> AppResult<Response> {
    let dry_run = crate::forms::checked(&form.dry_run);
    let options = import::Options {
        default_role: &form.role,
        dry_run,
    };
    let ran = import::run(
        &state,
        &me.agency,
        &Granter::agency_admin(),
        &form.csv,
        options,
        actor(&me, &ip),
        &mut |_, _| {},
    )
    .await;
    let extra = match ran {
        Ok(report) => context! {
            report => Serde(&report), csv => &form.csv, role => &form.role, dry_run,
        },
        Err(AppError::Invalid(errors)) => context! {
            errors => Serde(&errors), csv => &form.csv, role => &form.role, dry_run,
        },
        Err(other) => return Err(other),
    };
    render_import(&state, &me, extra).await
}
