//! Standard notification rules.
//!
//! Settings (all optional), per agency:
//!
//! - `work-request-recipients`: comma-separated emails of the staff who hear
//!   about new work requests (the "team members" an agency picks); when
//!   unset, the agency admins.
//! - `recruiter-email`: the staff member who hears about timesheet
//!   approvals and rejections; when unset, all staff.
//! - `account-activity-recipients`: comma-separated emails of the staff who
//!   hear when a portal user is invited or created, asks for a password
//!   reset, or is locked out after failed sign-ins; when unset, nobody.
//!
//! A work request the agency updates (a new status, a reply) is told to the
//! client contact who filed it, always: it is their request. A client's
//! comment on a request goes to the team member it is assigned to, else as a
//! new request does; a request assigned to someone is told to them.
//!
//! The account emails themselves (the invitation, the reset link, the
//! lockout notice) are sent by Portal with the change; this plugin only tells
//! the team, never with the event's single-use link. Event kinds not in
//! [`RULES`] send nothing: a newer Portal may raise kinds this plugin
//! predates.

use portal_plugin_api::PluginError;
use portal_plugin_api::notifications::{Event, Notification, NotificationRules, Recipient};

/// Who hears about an event.
#[derive(Debug, Clone, Copy)]
enum Audience {
    /// `work-request-recipients`, else the admins.
    WorkRequestTeam,
    /// `recruiter-email`, else all staff.
    Recruiter,
    /// `account-activity-recipients`, else nobody.
    AccountTeam,
    /// The client contact the event is about.
    ClientContact,
    /// The team member in the event's `assigned-to`, else as `WorkRequestTeam`.
    Assignee,
}

/// One rule: event kind, audience, theme email template, and the event
/// fields the template may show (those an event lacks are left out).
struct Rule {
    kind: &'static str,
    audience: Audience,
    template: &'static str,
    fields: &'static [&'static str],
}

/// Approvals and rejections show the same timesheet; only rejections carry
/// a `reason`.
const TIMESHEET_FIELDS: &[&str] = &[
    "timesheet-id",
    "worker-name",
    "week-ending",
    "hours",
    "manage-url",
    "reason",
];

const RULES: &[Rule] = &[
    Rule {
        kind: "work-request-created",
        audience: Audience::WorkRequestTeam,
        template: "work-request-created",
        fields: &[
            "work-request-id",
            "title",
            "details",
            "needed-by",
            "manage-url",
        ],
    },
    Rule {
        kind: "work-request-updated",
        audience: Audience::ClientContact,
        template: "work-request-updated",
        fields: &[
            "work-request-id",
            "title",
            "status",
            "status-label",
            "scheduled-for",
            "message",
            "portal-url",
        ],
    },
    Rule {
        kind: "work-request-commented",
        audience: Audience::Assignee,
        template: "work-request-comment",
        fields: &["work-request-id", "title", "message", "manage-url"],
    },
    Rule {
        kind: "work-request-assigned",
        audience: Audience::Assignee,
        template: "work-request-assigned",
        fields: &["work-request-id", "title", "manage-url"],
    },
    Rule {
        kind: "timesheet-approved",
        audience: Audience::Recruiter,
        template: "timesheet-approved",
        fields: TIMESHEET_FIELDS,
    },
    Rule {
        kind: "timesheet-rejected",
        audience: Audience::Recruiter,
        template: "timesheet-rejected",
        fields: TIMESHEET_FIELDS,
    },
    Rule {
        kind: "portal-user-invited",
        audience: Audience::AccountTeam,
        template: "account-activity",
        fields: &["expires-at"],
    },
    Rule {
        kind: "portal-user-created",
        audience: Audience::AccountTeam,
        template: "account-activity",
        fields: &[],
    },
    Rule {
        kind: "password-reset",
        audience: Audience::AccountTeam,
        template: "account-activity",
        fields: &["expires-at"],
    },
    Rule {
        kind: "lockout",
        audience: Audience::AccountTeam,
        template: "account-activity",
        fields: &["locked-until"],
    },
];

struct StandardRules;

impl NotificationRules for StandardRules {
    fn on_event(event: Event) -> Result<Vec<Notification>, PluginError> {
        let Some(rule) = RULES.iter().find(|rule| rule.kind == event.kind) else {
            return Ok(Vec::new());
        };
        let team = || match event.setting("work-request-recipients") {
            Some(list) => staff_emails("work-request-recipients", list),
            None => Ok(vec![Recipient::StaffRole("admin".into())]),
        };
        let recipients = match rule.audience {
            Audience::WorkRequestTeam => team()?,
            Audience::Assignee => match event.field("assigned-to") {
                Some(email) => staff_emails("assigned-to", email)?,
                None => team()?,
            },
            Audience::Recruiter => match event.setting("recruiter-email") {
                Some(email) => staff_emails("recruiter-email", email)?,
                None => vec![Recipient::StaffRole("staff".into())],
            },
            Audience::AccountTeam => match event.setting("account-activity-recipients") {
                Some(list) => staff_emails("account-activity-recipients", list)?,
                None => return Ok(Vec::new()),
            },
            Audience::ClientContact => vec![Recipient::ClientContact],
        };
        Ok(vec![
            Notification::new(rule.template, recipients).fields_from(&event, rule.fields),
        ])
    }
}

/// Parses a comma-separated list of staff emails from setting `key`.
/// Blank entries (a trailing comma) are skipped; anything that is not an
/// address is an error naming the setting and the entry's position, so the
/// admin can find it without the log repeating addresses.
fn staff_emails(key: &str, list: &str) -> Result<Vec<Recipient>, PluginError> {
    list.split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, entry)| !entry.is_empty())
        .map(|(index, entry)| {
            if looks_like_email(entry) {
                Ok(Recipient::StaffEmail(entry.to_lowercase()))
            } else {
                Err(PluginError::InvalidSettings(format!(
                    "entry {} of `{key}` is not an email address",
                    index + 1
                )))
            }
        })
        .collect()
}

/// A deliberately loose check (one `@`, something on each side, no spaces):
/// it catches a pasted name or a missing comma, and the host checks the
/// address against its staff list anyway.
fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

portal_plugin_api::export_notification_rules!(StandardRules);

#[cfg(test)]
mod tests {
    use super::*;
    use portal_plugin_api::notifications::{Agency, Person, PersonKind};

    fn event(kind: &str, fields: &[(&str, &str)], settings: &[(&str, &str)]) -> Event {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Event {
            kind: kind.into(),
            agency: Agency {
                slug: "acme".into(),
                display_name: "Acme Staffing".into(),
            },
            client: None,
            worksite: None,
            actor: Person {
                kind: PersonKind::PortalUser,
                id: "12".into(),
                name: "Dana".into(),
                email: "dana@client.example".into(),
            },
            subject: None,
            fields: pairs(fields),
            settings: pairs(settings),
        }
    }

    fn one(event: Event) -> Notification {
        let mut sent = StandardRules::on_event(event).expect("rules apply");
        assert_eq!(sent.len(), 1);
        sent.remove(0)
    }

    #[test]
    fn work_requests_go_to_the_listed_team() {
        let sent = one(event(
            "work-request-created",
            &[("title", "Two forklift drivers"), ("work-request-id", "31")],
            &[(
                "work-request-recipients",
                " Ops@Agency.example, sam@agency.example ,",
            )],
        ));
        assert_eq!(sent.template, "work-request-created");
        assert_eq!(
            sent.recipients,
            [
                Recipient::StaffEmail("ops@agency.example".into()),
                Recipient::StaffEmail("sam@agency.example".into()),
            ]
        );
        assert_eq!(sent.variable("title"), Some("Two forklift drivers"));
        assert_eq!(sent.variable("work-request-id"), Some("31"));
    }

    #[test]
    fn work_requests_fall_back_to_admins() {
        for settings in [&[][..], &[("work-request-recipients", "  ")][..]] {
            let sent = one(event("work-request-created", &[], settings));
            assert_eq!(sent.recipients, [Recipient::StaffRole("admin".into())]);
        }
    }

    #[test]
    fn work_request_updates_go_to_the_client_contact_whatever_the_settings() {
        let sent = one(event(
            "work-request-updated",
            &[
                ("title", "Two forklift drivers"),
                ("status-label", "Scheduled"),
                ("scheduled-for", "2026-12-14"),
                ("message", "Confirmed from 22:00."),
            ],
            &[("work-request-recipients", "ops@agency.example")],
        ));
        assert_eq!(sent.template, "work-request-updated");
        assert_eq!(sent.recipients, [Recipient::ClientContact]);
        assert_eq!(sent.variable("scheduled-for"), Some("2026-12-14"));
        assert_eq!(sent.variable("message"), Some("Confirmed from 22:00."));
    }

    #[test]
    fn a_client_comment_goes_to_the_assignee_else_the_team() {
        let assigned = one(event(
            "work-request-commented",
            &[
                ("message", "Can they start at 07:00?"),
                ("assigned-to", "Sam@Agency.example"),
            ],
            &[("work-request-recipients", "ops@agency.example")],
        ));
        assert_eq!(assigned.template, "work-request-comment");
        assert_eq!(
            assigned.recipients,
            [Recipient::StaffEmail("sam@agency.example".into())]
        );
        assert_eq!(
            assigned.variable("message"),
            Some("Can they start at 07:00?")
        );
        let nobody = one(event("work-request-commented", &[], &[]));
        assert_eq!(nobody.recipients, [Recipient::StaffRole("admin".into())]);
    }

    #[test]
    fn malformed_recipients_name_the_setting() {
        let result = StandardRules::on_event(event(
            "work-request-created",
            &[],
            &[("work-request-recipients", "ops@agency.example, Sam Smith")],
        ));
        match result {
            Err(PluginError::InvalidSettings(message)) => {
                assert!(
                    message.contains("entry 2 of `work-request-recipients`"),
                    "{message}"
                );
            }
            other => panic!("expected invalid settings, got {other:?}"),
        }
    }

    #[test]
    fn timesheet_decisions_go_to_the_recruiter_or_all_staff() {
        let approved = one(event(
            "timesheet-approved",
            &[("hours", "3750"), ("worker-name", "Lee")],
            &[("recruiter-email", "rita@agency.example")],
        ));
        assert_eq!(
            approved.recipients,
            [Recipient::StaffEmail("rita@agency.example".into())]
        );
        assert_eq!(approved.variable("hours"), Some("3750"));
        assert_eq!(approved.variable("worker-name"), Some("Lee"));
        assert_eq!(approved.variable("reason"), None);

        let rejected = one(event(
            "timesheet-rejected",
            &[("reason", "Wrong week")],
            &[],
        ));
        assert_eq!(rejected.template, "timesheet-rejected");
        assert_eq!(rejected.recipients, [Recipient::StaffRole("staff".into())]);
        assert_eq!(rejected.variable("reason"), Some("Wrong week"));
    }

    #[test]
    fn account_events_tell_the_chosen_team_and_never_pass_the_link_on() {
        let kinds = [
            ("portal-user-invited", "invite-url"),
            ("portal-user-created", "login-url"),
            ("password-reset", "reset-url"),
            ("lockout", "reset-url"),
        ];
        for (kind, link) in kinds {
            let fields = [
                (link, "https://portal.example/t/abc"),
                ("expires-at", "soon"),
            ];
            let unset = StandardRules::on_event(event(kind, &fields, &[]));
            assert_eq!(unset, Ok(Vec::new()), "{kind}: nobody unless chosen");
            let chosen = [("account-activity-recipients", "ops@acme.example")];
            let sent = one(event(kind, &fields, &chosen));
            assert_eq!(sent.template, "account-activity", "{kind}");
            assert_eq!(
                sent.recipients,
                [Recipient::StaffEmail("ops@acme.example".into())],
                "{kind}"
            );
            assert_eq!(
                sent.variable(link),
                None,
                "{kind}: the link stays with its owner"
            );
        }
    }

    #[test]
    fn unknown_kinds_send_nothing() {
        let sent = StandardRules::on_event(event("invoice-issued", &[], &[]));
        assert_eq!(sent, Ok(Vec::new()));
    }

    #[test]
    fn email_check_is_loose_but_not_empty() {
        for good in ["a@x", "first.last+tag@sub.example"] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in ["", "@x", "a@", "a b@x", "a@b@c", "name"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
