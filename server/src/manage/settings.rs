//! The agency's settings page (`/{agency}/manage/settings`, admins only). Values an admin
//! decides at run time are stored in `agency_settings` and edited here; values that describe
//! the installation (slug, theme, plugins, sender, branding) stay in configuration and are
//! shown read-only with the file they come from. Precedence: a value saved here, then the
//! agency's file, then `portal.toml`, then the built-in default.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use crate::agency::Agency;
use crate::agency_settings::{
    ABSOLUTE_HOURS_RANGE, APPROVAL_DEADLINE_RANGE, IDLE_MINUTES_RANGE, PASSWORD_MIN_RANGE,
    SettingsInput, apply, current,
};
use crate::auth::{ClientIp, SignedIn, StaffAdmin, audit_actor};
use crate::db::agency_settings::{self, AgencySettings, Stored};
use crate::db::audit::{self, Target};
use crate::db::staff_users;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::state::AppState;

/// The settings form as typed: numbers stay text so a wrong entry is shown back as it was.
#[derive(Debug, Clone, Default, Serialize)]
struct FormValues {
    portal_enabled: bool,
    password_min_length: String,
    require_mfa_staff: bool,
    require_mfa_portal: bool,
    session_idle_minutes: String,
    session_absolute_hours: String,
    approval_deadline_days: String,
    work_request_recipients: Vec<i64>,
}

impl FormValues {
    fn from_input(input: &SettingsInput) -> Self {
        let v = &input.values;
        Self {
            portal_enabled: v.portal_enabled,
            password_min_length: v.password_min_length.to_string(),
            require_mfa_staff: v.require_mfa_staff,
            require_mfa_portal: v.require_mfa_portal,
            session_idle_minutes: v.session_idle_minutes.to_string(),
            session_absolute_hours: v.session_absolute_hours.to_string(),
            approval_deadline_days: v.approval_deadline_days.to_string(),
            work_request_recipients: input.work_request_recipients.clone(),
        }
    }

    /// Reads the posted pairs (checkboxes are present when ticked; recipients repeat).
    fn parse(pairs: &[(String, String)]) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "portal_enabled" => form.portal_enabled = true,
                "require_mfa_staff" => form.require_mfa_staff = true,
                "require_mfa_portal" => form.require_mfa_portal = true,
                "password_min_length" => form.password_min_length.clone_from(value),
                "session_idle_minutes" => form.session_idle_minutes.clone_from(value),
                "session_absolute_hours" => form.session_absolute_hours.clone_from(value),
                "approval_deadline_days" => form.approval_deadline_days.clone_from(value),
                "work_request_recipients" => {
                    if let Ok(id) = value.trim().parse() {
                        form.work_request_recipients.push(id);
                    }
                }
                _ => {}
            }
        }
        form
    }

    /// The typed input, or the fields that are not whole numbers.
    fn to_input(&self) -> Result<SettingsInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut number = |field: &str, text: &str| {
            text.trim().parse::<i64>().unwrap_or_else(|_| {
                errors.add(field, "Enter a whole number.");
                0
            })
        };
        let values = AgencySettings {
            portal_enabled: self.portal_enabled,
            password_min_length: number("password_min_length", &self.password_min_length),
            require_mfa_staff: self.require_mfa_staff,
            require_mfa_portal: self.require_mfa_portal,
            session_idle_minutes: number("session_idle_minutes", &self.session_idle_minutes),
            session_absolute_hours: number("session_absolute_hours", &self.session_absolute_hours),
            approval_deadline_days: number("approval_deadline_days", &self.approval_deadline_days),
        };
        if errors.is_empty() {
            Ok(SettingsInput {
                values,
                work_request_recipients: self.work_request_recipients.clone(),
            })
        } else {
            Err(errors)
        }
    }
}

/// Where each editable value comes from now, in words, for the page.
fn sources(state: &AppState, agency: &Agency, stored: &Stored) -> minijinja::Value {
    let file = config_file(state, agency);
    let saved = stored
        .updated_at
        .map(|at| format!("Saved on this page ({at})"));
    let from = |set: bool, fallback: String| match (&saved, set) {
        (Some(saved), true) => saved.clone(),
        _ => fallback,
    };
    let agency_key = |key: &str| format!("Configuration: {file}, key `{key}` (or its default)");
    let server_key =
        |key: &str| format!("Configuration: portal.toml, key `{key}` (or its default)");
    context! {
        portal_enabled => from(stored.portal_enabled.is_some(), agency_key("portal_enabled")),
        password_min_length => from(stored.password_min_length.is_some(), agency_key("security.password_min_length")),
        require_mfa_staff => from(stored.require_mfa_staff.is_some(), agency_key("security.require_mfa_staff")),
        require_mfa_portal => from(stored.require_mfa_portal.is_some(), agency_key("security.require_mfa_portal")),
        session_idle_minutes => from(stored.session_idle_minutes.is_some(), server_key("security.session_idle_minutes")),
        session_absolute_hours => from(stored.session_absolute_hours.is_some(), server_key("security.session_absolute_hours")),
        approval_deadline_days => from(stored.approval_deadline_days.is_some(), agency_key("approval_deadline_days")),
    }
}

/// The agency's configuration file, as the operator knows it.
fn config_file(state: &AppState, agency: &Agency) -> String {
    state
        .settings()
        .agencies
        .iter()
        .find(|(_, config)| config.slug == agency.slug)
        .map_or_else(
            || "config/agencies/*.toml".to_owned(),
            |(key, _)| format!("config/agencies/{key}.toml"),
        )
}

/// Values that belong to configuration, read-only here: `(label, value, source)`.
fn configured(state: &AppState, agency: &Agency) -> Vec<(String, String, String)> {
    let file = config_file(state, agency);
    let c = &agency.config;
    let from = |key: &str| format!("{file}, key `{key}`");
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    let mail_from = c.mail_from.clone().map_or_else(
        || {
            (
                state.settings().mail.from.clone(),
                "portal.toml, key `mail.from`".to_owned(),
            )
        },
        |from_agency| (from_agency, from("mail_from")),
    );
    vec![
        (
            "Portal address (slug)".into(),
            format!("/{}/portal", agency.slug),
            from("slug"),
        ),
        (
            "Display name".into(),
            c.display_name.clone(),
            from("display_name"),
        ),
        ("Theme".into(), c.theme.clone(), from("theme")),
        ("Email sender".into(), mail_from.0, mail_from.1),
        (
            "Role set plugin".into(),
            c.plugins.role_set.clone(),
            from("plugins.role_set"),
        ),
        (
            "Notification plugins".into(),
            list(&c.plugins.notifications),
            from("plugins.notifications"),
        ),
        (
            "Export plugins".into(),
            list(&c.plugins.exports),
            from("plugins.exports"),
        ),
        (
            "Branding".into(),
            "logo, wallpaper, colours and support contact — see Branding".into(),
            from("branding"),
        ),
    ]
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn render(
    state: &AppState,
    me: &SignedIn,
    form: &FormValues,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let team = staff_users::list(pool, me.agency.id).await?;
    let stored = agency_settings::stored(pool, me.agency.id).await?;
    let base = context! {
        area => "manage", title => "Settings", nav => "settings", csrf_token => me.csrf_token(),
        user => &me.account.name, is_admin => true, form => Serde(form), team => Serde(&team),
        sources => sources(state, &me.agency, &stored), configured => configured(state, &me.agency),
        saved_here => stored.updated_at.is_some(),
        ranges => context! {
            password => PASSWORD_MIN_RANGE, idle => IDLE_MINUTES_RANGE, absolute => ABSOLUTE_HOURS_RANGE,
            deadline => APPROVAL_DEADLINE_RANGE,
        },
    };
    Ok(me
        .agency
        .render("manage/settings.html", context! { ..extra, ..base })?
        .into_response())
}

/// `GET /{agency}/manage/settings`.
pub async fn page(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("saved") => Some("Settings saved. They apply from the next request."),
        Some("reset") => Some("Saved settings removed: the configuration applies again."),
        _ => None,
    };
    let input = current(&state, &me.agency).await?;
    render(
        &state,
        &me,
        &FormValues::from_input(&input),
        context! { notice },
    )
    .await
}

/// `POST /{agency}/manage/settings`.
pub async fn save(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = FormValues::parse(&pairs);
    let refused = |errors: FieldErrors| {
        let form = form.clone();
        let state = state.clone();
        let me = me.clone();
        async move { render(&state, &me, &form, context! { errors => Serde(&errors) }).await }
    };
    let input = match form.to_input() {
        Ok(input) => input,
        Err(errors) => return refused(errors).await,
    };
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    match apply(&state, &me.agency, &input, actor, Some(me.account.id)).await {
        Ok(()) => Ok(crate::redirect::to(&format!(
            "/{}/manage/settings?done=saved",
            me.agency.slug
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => refused(errors).await,
        Err(other) => Err(other),
    }
}

/// `POST /{agency}/manage/settings/reset`: forgets the saved values (not the recipients).
pub async fn reset(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let mut tx = crate::db::begin_write(pool).await?;
    if agency_settings::reset(&mut *tx, me.agency.id).await? {
        let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
        let target = Target {
            kind: Some("agency"),
            id: Some(me.agency.id),
            label: Some(&me.agency.slug),
        };
        audit::record(&mut *tx, me.agency.id, actor, "settings reset", target, "").await?;
    }
    tx.commit().await?;
    Ok(
        crate::redirect::to(&format!("/{}/manage/settings?done=reset", me.agency.slug))
            .into_response(),
    )
}
