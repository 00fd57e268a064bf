//! Email. Every message is rendered from the agency's theme and written to the `outbox` table
//! in the same transaction as the action that caused it, so nothing is lost when the mail
//! server is down or the process dies; the [`worker`] delivers it later through a
//! [`Transport`].

#[cfg(feature = "test-support")]
pub mod smtp_sink;
mod transport;
pub mod worker;

use minijinja::Value;
use sqlx::AnyConnection;

pub use transport::{Delivered, SendError, Transport};

use crate::agency::Agency;
use crate::db::outbox::{self, NewEmail};
use crate::themes::AgencyTheme;

/// Every email template a theme provides (`emails/<name>/{subject.txt,body.txt,body.html}`).
/// `portal theme check` insists on all of them and the snapshot tests render each with both
/// themes. Besides the `agency` global, templates see the notification's variables (hyphens
/// turned into underscores) and the host's `client`, `worksite`, `actor` and `subject` (the
/// person an event is about); the README lists each template's variables.
pub const TEMPLATES: &[&str] = &[
    "invite",
    "welcome",
    "password-reset",
    "lockout",
    "work-request-created",
    "work-request-updated",
    "work-request-comment",
    "work-request-assigned",
    "timesheet-approved",
    "timesheet-rejected",
    "account-activity",
    "staff-invite",
];

/// The templates notification plugins may name. The others are the host's own: they carry
/// passwords or sign-in links, which a plugin must never be able to forge.
pub const NOTIFICATION_TEMPLATES: &[&str] = &[
    "work-request-created",
    "work-request-updated",
    "work-request-comment",
    "work-request-assigned",
    "timesheet-approved",
    "timesheet-rejected",
    "account-activity",
];

/// The files of one email template.
pub const TEMPLATE_FILES: &[&str] = &["subject.txt", "body.txt", "body.html"];

/// What to tell the staff member whose action queued no email because the portal is off.
pub const PORTAL_DISABLED_NOTICE: &str = "No email was sent: the client portal is turned off \
     for this agency. Turn the portal on, then send the email again.";

/// What to tell staff when an invitation or reset was not sent because the portal is off for
/// the person's company (seed: "the invite will not send if the portal is not enabled").
pub const CLIENT_PORTAL_DISABLED_NOTICE: &str = "No email was sent: the portal is turned off \
     for this user's company. Turn it on on the client's page, then send the invitation again.";

/// One email to queue: a theme template set (`emails/<template>/subject.txt`, `body.txt`,
/// `body.html`), one recipient, and the variables the templates see.
#[derive(Debug)]
pub struct Email<'a> {
    pub template: &'a str,
    pub to: &'a str,
    pub vars: Value,
}

/// What became of a queued email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// In the outbox, with this id.
    Yes(i64),
    /// Not sent: the agency's portal is disabled, so its clients get no portal email.
    PortalDisabled,
    /// Not sent: the portal is off for every client of the person it was for.
    ClientPortalDisabled,
}

impl Queued {
    /// The message to show staff when no email went out, so they are not left waiting.
    pub fn notice(self) -> Option<&'static str> {
        match self {
            Self::Yes(_) => None,
            Self::PortalDisabled => Some(PORTAL_DISABLED_NOTICE),
            Self::ClientPortalDisabled => Some(CLIENT_PORTAL_DISABLED_NOTICE),
        }
    }
}

/// An email rendered with an agency's theme, ready for the outbox or a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line: whitespace (including any newline a person typed into a title) is folded.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders the three parts of `template`. Template errors name the file and line.
pub fn render(theme: &AgencyTheme, template: &str, vars: &Value) -> anyhow::Result<Rendered> {
    // A password never goes by email: a person chooses their own through a single-use link.
    if has_password(vars) {
        anyhow::bail!("email \"{template}\" was given a password; no email may carry one");
    }
    let part = |file: &str| {
        theme
            .render(&format!("emails/{template}/{file}"), vars.clone())
            .map_err(|err| anyhow::anyhow!("{}", crate::themes::describe_template_error(&err)))
    };
    let subject = part("subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Rendered {
        subject,
        text: part("body.txt")?,
        html: part("body.html")?,
    })
}

fn has_password(vars: &Value) -> bool {
    vars.get_attr("password")
        .is_ok_and(|value| !value.is_undefined() && !value.is_none())
}

/// Renders `email` with the agency's theme and adds it to the outbox on `conn` (pass the
/// transaction of the action that sends it).
pub async fn enqueue(
    conn: &mut AnyConnection,
    agency: &Agency,
    email: Email<'_>,
) -> anyhow::Result<Queued> {
    let rendered = render(&agency.theme, email.template, &email.vars)?;
    enqueue_rendered(conn, agency, email.template, email.to, &rendered).await
}

/// Adds an email already rendered to the outbox, as [`enqueue`] does.
pub async fn enqueue_rendered(
    conn: &mut AnyConnection,
    agency: &Agency,
    template: &str,
    to: &str,
    rendered: &Rendered,
) -> anyhow::Result<Queued> {
    if !portal_enabled(&mut *conn, agency).await? {
        return Ok(Queued::PortalDisabled);
    }
    let new = NewEmail {
        template,
        recipient: to,
        subject: &rendered.subject,
        body_text: &rendered.text,
        body_html: &rendered.html,
    };
    Ok(Queued::Yes(outbox::enqueue(conn, agency.id, &new).await?))
}

/// Whether the agency's portal is open by the settings in force (an admin's choice on the
/// settings page over its configuration): a closed portal sends no email.
pub async fn portal_enabled(conn: &mut AnyConnection, agency: &Agency) -> sqlx::Result<bool> {
    crate::db::agency_settings::portal_enabled(conn, agency.id, agency.config.portal_enabled).await
}

/// Made-up but realistic variables for `template`, for branding previews, `portal theme
/// check` and the snapshot tests. Links start with `base_url` and carry no real token.
pub fn sample_variables(template: &str, base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut fields: Vec<(&str, String)> = match template {
        "invite" | "staff-invite" => vec![
            ("invite-url", format!("{base}/invite/SAMPLE-TOKEN")),
            ("expires-at", "2025-03-14T17:00:00Z".into()),
        ],
        "welcome" => vec![
            ("invite-url", format!("{base}/invite/SAMPLE-TOKEN")),
            ("expires-at", "2025-03-14T17:00:00Z".into()),
        ],
        "password-reset" => vec![
            ("reset-url", format!("{base}/reset/SAMPLE-TOKEN")),
            ("expires-at", "2025-03-07T18:30:00Z".into()),
        ],
        "lockout" => vec![
            ("locked-until", "2025-03-07T16:45:00Z".into()),
            ("reset-url", format!("{base}/reset/SAMPLE-TOKEN")),
        ],
        "work-request-created" => vec![
            ("work-request-id", "31".into()),
            ("title", "Two forklift drivers for the night shift".into()),
            (
                "details",
                "Both need a valid licence.\nStart at 22:00 at gate 3.".into(),
            ),
            ("needed-by", "2025-03-10".into()),
            ("manage-url", format!("{base}/manage/work-requests/31")),
        ],
        "work-request-updated" => vec![
            ("work-request-id", "31".into()),
            ("title", "Two forklift drivers for the night shift".into()),
            ("status-label", "Scheduled".into()),
            ("scheduled-for", "2025-03-10".into()),
            (
                "message",
                "Two drivers confirmed from 22:00; they will report to gate 3.".into(),
            ),
            ("portal-url", format!("{base}/portal/work-requests/31")),
        ],
        "work-request-assigned" => vec![
            ("work-request-id", "31".into()),
            ("title", "Two forklift drivers for the night shift".into()),
            ("manage-url", format!("{base}/manage/work-requests/31")),
        ],
        "work-request-comment" => vec![
            ("work-request-id", "31".into()),
            ("title", "Two forklift drivers for the night shift".into()),
            ("message", "Can they start at 21:30 instead?".into()),
            ("manage-url", format!("{base}/manage/work-requests/31")),
        ],
        "account-activity" => vec![
            ("event", "portal-user-invited".into()),
            ("expires-at", "2025-03-14T17:00:00Z".into()),
        ],
        "timesheet-approved" | "timesheet-rejected" => vec![
            ("timesheet-id", "1207".into()),
            ("worker-name", "Lee Walker".into()),
            ("week-ending", "2025-03-09".into()),
            ("hours", "3750".into()),
            ("manage-url", format!("{base}/manage/timesheets/1207")),
        ],
        _ => Vec::new(),
    };
    if template == "timesheet-rejected" {
        fields.push((
            "reason",
            "Tuesday shows 12 hours; the site closed at 18:00.".into(),
        ));
    }
    let mut vars: std::collections::BTreeMap<String, Value> = fields
        .iter()
        .map(|(key, value)| (key.replace('-', "_"), Value::from(value.as_str())))
        .collect();
    let person = |name: &str, email: &str| minijinja::context! { name => name, email => email };
    vars.insert(
        "client".into(),
        minijinja::context! { id => "4", name => "Northwind Traders" },
    );
    vars.insert(
        "worksite".into(),
        minijinja::context! { id => "9", name => "Leeds warehouse" },
    );
    let about_an_account =
        !template.starts_with("work-request") && !template.starts_with("timesheet");
    if about_an_account {
        // Account emails: a staff member acted on someone else's account.
        vars.insert("actor".into(), person("Priya Shah", "priya@agency.example"));
        vars.insert(
            "subject".into(),
            person("Laura Chen", "laura@oakridge.example"),
        );
    } else {
        vars.insert(
            "actor".into(),
            person("David Clarke", "david@northwind.example"),
        );
    }
    vars.into()
}

/// Template variables from a notification's key-value pairs: `reset-url` becomes
/// `reset_url`, so templates can name every variable.
pub fn variables<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    pairs
        .into_iter()
        .map(|(key, value)| (key.replace('-', "_"), Value::from(value)))
        .collect::<std::collections::BTreeMap<String, Value>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_keys_become_template_names() {
        let vars = variables([("reset-url", "https://x.example/r"), ("title", "Hi")]);
        assert_eq!(
            vars.get_attr("reset_url").map(|v| v.to_string()).ok(),
            Some("https://x.example/r".into())
        );
        assert!(vars.get_attr("reset-url").is_ok_and(|v| v.is_undefined()));
    }

    #[test]
    fn a_password_is_recognised_so_that_no_email_carries_one() {
        assert!(has_password(&minijinja::context! { password => "x" }));
        assert!(!has_password(&minijinja::context! { login_url => "x" }));
        assert!(!has_password(&minijinja::context! { password => () }));
    }
}
