//! Events turned into email, the one path for every event the plugins hear of: timesheet
//! decisions and work requests from the portal, and the account events (a portal user invited
//! or created, a password reset asked for, an account locked) from the operations on portal
//! users and from sign-in. The agency's notification-rules plugins say who hears about an
//! event and with which template; this module resolves the recipients and queues the
//! messages. Plugins are always asked after the change is committed, outside any transaction;
//! what they answer costs only its own emails, never the change.
//!
//! The account emails themselves (the invitation, the reset link, the lockout notice) are the
//! host's: they are sent with the change, whatever the plugins do. The events let a plugin tell
//! others (the agency's staff, say) with the templates plugins may use.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;
use sqlx::AnyConnection;

use crate::agency::Agency;
use crate::db::accounts::AccountKind;
use crate::db::audit::Actor;
use crate::db::{agency_settings, staff_users};
use crate::mail;
use crate::plugins::{
    Named, Notification, NotificationEvent, Person, PersonKind, PluginRequest, Recipient,
    SECRET_FIELDS, printable,
};
use crate::state::AppState;

/// Asks the agency's notification plugins about `event`. Plugin failures are logged by the
/// plugin host and send nothing; the portal action itself goes ahead.
pub async fn ask(plugins: &mut PluginRequest, event: &NotificationEvent) -> Vec<Notification> {
    plugins.notifications(event).await.notifications
}

/// Notifies of a work request already saved. The plugin decides whether anyone hears of it
/// and with which template; when the agency has chosen team members on its settings page,
/// they are the staff who do (replacing the staff the plugin named; a client contact it named
/// stays). The plugins are asked first; the emails are queued in a transaction of their own.
pub async fn work_request(
    state: &AppState,
    plugins: &mut PluginRequest,
    agency: &Agency,
    event: &NotificationEvent,
) -> anyhow::Result<usize> {
    let mut notifications = ask(plugins, event).await;
    let chosen = agency_settings::work_request_recipients(&state.db().pool, agency.id).await?;
    if !chosen.is_empty() {
        for notification in &mut notifications {
            notification
                .recipients
                .retain(|r| !matches!(r, Recipient::StaffEmail(_) | Recipient::StaffRole(_)));
            notification.recipients.extend(
                chosen
                    .iter()
                    .map(|member| Recipient::StaffEmail(member.email.clone())),
            );
        }
    }
    send(state, agency, event, &notifications).await
}

/// Raises an event (an account event, a work request the agency updated) after the change
/// that caused it is committed: asks the agency's notification plugins and queues what they
/// answer. Nothing here fails the caller: a plugin that fails sends nothing, and an outbox
/// that cannot be written is logged.
pub async fn raise(state: &AppState, agency: &Agency, event: &NotificationEvent) {
    let Some(mut plugins) = state.plugins().for_request(&agency.slug) else {
        return;
    };
    let notifications = ask(&mut plugins, event).await;
    if let Err(err) = send(state, agency, event, &notifications).await {
        tracing::error!(
            agency = %agency.slug, event = %event.kind,
            "the notifications of an account event could not be queued: {err:#}"
        );
    }
}

/// An account event about the account `subject` of kind `kind`, caused by `actor`.
pub fn account(
    kind: &str,
    actor: &Actor<'_>,
    subject: Person,
    client: Option<Named>,
    fields: Vec<(String, String)>,
) -> NotificationEvent {
    NotificationEvent {
        kind: kind.to_owned(),
        client,
        worksite: None,
        actor: person_of(actor),
        subject: Some(subject),
        fields,
    }
}

/// The person an audit actor is: staff and portal users by their sign-in, anyone else (the
/// API on a back-office system's behalf, the sign-in throttle, an anonymous visitor) Portal.
fn person_of(actor: &Actor<'_>) -> Person {
    let kind = match actor.kind {
        "staff" => PersonKind::Staff,
        "portal" => PersonKind::PortalUser,
        _ => PersonKind::System,
    };
    match (kind, actor.id) {
        (PersonKind::System, _) | (_, None) => Person {
            kind: PersonKind::System,
            id: String::new(),
            name: "Portal".into(),
            email: String::new(),
        },
        (kind, Some(id)) => Person {
            kind,
            id: id.to_string(),
            name: actor.label.to_owned(),
            email: actor.label.to_lowercase(),
        },
    }
}

/// A signed-up account as the subject of an event.
pub fn subject(kind: AccountKind, id: i64, name: &str, email: &str) -> Person {
    Person {
        kind: match kind {
            AccountKind::Staff => PersonKind::Staff,
            AccountKind::Portal => PersonKind::PortalUser,
        },
        id: id.to_string(),
        name: name.trim().to_owned(),
        email: email.to_lowercase(),
    }
}

/// Queues `notifications` of `event` in a transaction of their own, at most
/// `plugins.max_recipients_per_event` recipients; returns how many emails.
async fn send(
    state: &AppState,
    agency: &Agency,
    event: &NotificationEvent,
    notifications: &[Notification],
) -> anyhow::Result<usize> {
    if notifications.is_empty() {
        return Ok(0);
    }
    let max_recipients = state.settings().plugins.max_recipients_per_event;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let queued = queue(&mut tx, agency, event, notifications, max_recipients).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Queues one email per recipient of each notification; returns how many were queued.
/// Staff recipients must be active staff of the agency (a plugin cannot send agency mail to
/// an arbitrary address by calling it staff); the client contact is the event's subject, or
/// its actor when there is none.
///
/// What a plugin asked for is checked before anything is queued, and a notification or
/// recipient that fails a check is dropped and logged with the plugin's name — never the
/// action that raised the event: a template the host keeps for itself (those that carry
/// passwords or sign-in links) or one the theme lacks or cannot render, an address that is
/// not one, a secret of the event (an invitation or reset link) addressed to anyone but the
/// client contact, and recipients past `max_recipients` for the event.
pub async fn queue(
    conn: &mut AnyConnection,
    agency: &Agency,
    event: &NotificationEvent,
    notifications: &[Notification],
    max_recipients: usize,
) -> anyhow::Result<usize> {
    if notifications.is_empty() {
        return Ok(0);
    }
    let staff: Vec<(String, String)> = staff_users::list(&mut *conn, agency.id)
        .await?
        .into_iter()
        .filter(|s| s.status == "active")
        .map(|s| (s.email.to_lowercase(), s.role))
        .collect();
    let contact = event
        .subject
        .as_ref()
        .filter(|p| !p.email.is_empty())
        .or((event.actor.kind == PersonKind::PortalUser).then_some(&event.actor))
        .map(|p| p.email.clone());
    let vars = variables(event);
    let secrets: Vec<&str> = event
        .fields
        .iter()
        .filter(|(key, value)| SECRET_FIELDS.contains(&key.as_str()) && !value.is_empty())
        .map(|(_, value)| value.as_str())
        .collect();
    let mut queued = 0;
    let mut addressed = BTreeSet::new();
    for notification in notifications {
        let plugin = notification.plugin.as_str();
        let template = notification.template.as_str();
        if !mail::NOTIFICATION_TEMPLATES.contains(&template) {
            tracing::error!(
                agency = %agency.slug, plugin, event = %event.kind,
                template = %printable(template, 100),
                "a notification named a template plugins may not use ({}); it was dropped",
                mail::NOTIFICATION_TEMPLATES.join(", ")
            );
            continue;
        }
        let carries_secret = notification
            .variables
            .iter()
            .any(|(_, value)| secrets.iter().any(|secret| value.contains(secret)));
        if carries_secret
            && notification
                .recipients
                .iter()
                .any(|r| *r != Recipient::ClientContact)
        {
            tracing::error!(
                agency = %agency.slug, plugin, event = %event.kind, template,
                "a notification carried the event's single-use link to someone other than \
                 the client contact; it was dropped"
            );
            continue;
        }
        let to = recipients(notification, &staff, contact.as_deref(), agency);
        let mut vars = vars.clone();
        for (key, value) in &notification.variables {
            vars.insert(key.replace('-', "_"), Value::from(value.clone()));
        }
        let rendered = match mail::render(&agency.theme, template, &Value::from(vars)) {
            Ok(rendered) => rendered,
            Err(err) => {
                tracing::error!(
                    agency = %agency.slug, plugin, event = %event.kind, template,
                    "a notification could not be rendered; it was dropped: {err:#}"
                );
                continue;
            }
        };
        for recipient in to {
            if addressed.len() >= max_recipients && !addressed.contains(&recipient) {
                tracing::warn!(
                    agency = %agency.slug, plugin, event = %event.kind, max_recipients,
                    "notifications named more recipients than one event may have; the rest \
                     were dropped"
                );
                break;
            }
            addressed.insert(recipient.clone());
            mail::enqueue_rendered(&mut *conn, agency, template, &recipient, &rendered).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The addresses one notification goes to, each once, lower-cased; those that are not
/// addresses, or not the agency's active staff where the plugin said staff, are left out.
fn recipients(
    notification: &Notification,
    staff: &[(String, String)],
    contact: Option<&str>,
    agency: &Agency,
) -> BTreeSet<String> {
    let plugin = notification.plugin.as_str();
    let mut to = BTreeSet::new();
    for recipient in &notification.recipients {
        match recipient {
            Recipient::StaffEmail(email) => {
                let email = email.to_lowercase();
                if staff.iter().any(|(e, _)| *e == email) {
                    to.insert(email);
                } else {
                    tracing::warn!(agency = %agency.slug, plugin, "a notification named a staff address that is not active staff; skipped");
                }
            }
            Recipient::StaffRole(role) => {
                // `staff` is everyone at the agency; `admin` the admins.
                to.extend(
                    staff
                        .iter()
                        .filter(|(_, r)| role == "staff" || r == role)
                        .map(|(e, _)| e.clone()),
                );
            }
            Recipient::ClientContact => to.extend(contact.map(str::to_lowercase)),
            Recipient::Email(email) => {
                if email.trim() != email || crate::email::problem(email).is_some() {
                    tracing::warn!(
                        agency = %agency.slug, plugin,
                        address = %printable(email, 100),
                        "a notification named something that is not an email address; skipped"
                    );
                } else {
                    to.insert(email.to_lowercase());
                }
            }
        }
    }
    to
}

/// What an email template sees of an event: its kind as `event`, its fields (hyphens turned
/// into underscores) but the secrets, and `client`, `worksite`, `actor` and `subject`.
fn variables(event: &NotificationEvent) -> BTreeMap<String, Value> {
    let mut vars: BTreeMap<String, Value> = event
        .fields
        .iter()
        .filter(|(k, _)| !SECRET_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.replace('-', "_"), Value::from(v.clone())))
        .collect();
    vars.insert("event".into(), Value::from(event.kind.clone()));
    let named = |n: &crate::plugins::Named| {
        Value::from(BTreeMap::from([
            ("id", Value::from(n.id.clone())),
            ("name", Value::from(n.name.clone())),
        ]))
    };
    let person = |p: &crate::plugins::Person| {
        Value::from(BTreeMap::from([
            ("name", Value::from(p.name.clone())),
            ("email", Value::from(p.email.clone())),
        ]))
    };
    if let Some(client) = &event.client {
        vars.insert("client".into(), named(client));
    }
    if let Some(worksite) = &event.worksite {
        vars.insert("worksite".into(), named(worksite));
    }
    vars.insert("actor".into(), person(&event.actor));
    if let Some(subject) = &event.subject {
        vars.insert("subject".into(), person(subject));
    }
    vars
}
