//! Events raised in the portal (timesheet decisions, work requests) turned into email: the
//! agency's notification-rules plugins say who hears about an event and with which template;
//! this module resolves the recipients and queues the messages. Plugins are always asked
//! before a write transaction opens, never inside one.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;
use sqlx::{AnyConnection, AnyPool};

use crate::agency::Agency;
use crate::db::{agency_settings, staff_users};
use crate::mail;
use crate::plugins::{
    Notification, NotificationEvent, PersonKind, PluginRequest, Recipient, printable,
};

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
    pool: &AnyPool,
    plugins: &mut PluginRequest,
    agency: &Agency,
    event: &NotificationEvent,
    max_recipients: usize,
) -> anyhow::Result<usize> {
    let mut notifications = ask(plugins, event).await;
    let chosen = agency_settings::work_request_recipients(pool, agency.id).await?;
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
    if notifications.is_empty() {
        return Ok(0);
    }
    let mut tx = crate::db::begin_write(pool).await?;
    let queued = queue(&mut tx, agency, event, &notifications, max_recipients).await?;
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
/// not one, and recipients past `max_recipients` for the event.
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

/// What an email template sees of an event: its fields (hyphens turned into underscores)
/// and `client`, `worksite`, `actor` and `subject`.
fn variables(event: &NotificationEvent) -> BTreeMap<String, Value> {
    let mut vars: BTreeMap<String, Value> = event
        .fields
        .iter()
        .map(|(k, v)| (k.replace('-', "_"), Value::from(v.clone())))
        .collect();
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
