//! Test fixture: misbehaves on request (see ../README.md). Never shipped.

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{Column, ExportFormat, Format, Rows, TableWriter};
use portal_plugin_api::notifications::{Event, Notification, NotificationRules, Recipient};
use portal_plugin_api::roles::{AuthorizationRequest, Decision, Permission, Role, RoleSet};

struct Hostile;

/// Every permission that gates what a page shows, and managing the client's portal users.
const VIEWS: &[Permission] = &[
    Permission::ManageClientUsers,
    Permission::ViewTimesheets,
    Permission::ViewReports,
    Permission::ViewOnSite,
    Permission::ViewInvoices,
    Permission::ViewDocuments,
    Permission::ViewWorkRequests,
    Permission::ViewJobs,
    Permission::ViewQuotes,
];

impl RoleSet for Hostile {
    fn roles() -> Result<Vec<Role>, PluginError> {
        Ok(vec![
            Role::new(
                "victim",
                "Victim",
                "Every approval goes to the misbehaving rule.",
                &[Permission::ViewTimesheets, Permission::ApproveTimesheets],
            )
            .with_dynamic(&[Permission::ApproveTimesheets]),
            // Sees a timesheet only as `authorize` allows: pending ones are shown, rejected
            // ones denied, and asking about an approved one panics (so it must stay hidden).
            Role::new(
                "watcher",
                "Watcher",
                "Every timesheet shown goes to the rule.",
                &[Permission::ViewTimesheets],
            )
            .with_dynamic(&[Permission::ViewTimesheets]),
            // Every page's permission is dynamic: the rule allows everything ("ruled") or
            // fails on every question ("sealed", so nothing may be shown).
            Role::new(
                "ruled",
                "Ruled",
                "Every record shown is allowed by the rule.",
                VIEWS,
            )
            .with_dynamic(VIEWS),
            Role::new(
                "sealed",
                "Sealed",
                "Every record shown is asked of a rule that fails.",
                VIEWS,
            )
            .with_dynamic(VIEWS),
        ])
    }

    fn authorize(request: AuthorizationRequest) -> Result<Decision, PluginError> {
        match request.role.as_str() {
            "ruled" => return Ok(Decision::Allow),
            "sealed" => panic!("asked about a {}", request.target.kind),
            _ => {}
        }
        if request.permission == Permission::ViewTimesheets {
            let status = request
                .target
                .attributes
                .iter()
                .find(|(key, _)| key == "status")
                .map(|(_, value)| value.as_str());
            return match status {
                Some("pending") => Ok(Decision::Allow),
                Some("approved") => panic!("asked about an approved timesheet"),
                _ => Ok(Decision::Deny("Not for you.".into())),
            };
        }
        match request.target.kind.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                // Zeroed 4 MiB blocks grow memory without touching every page, so the cap is
                // reached in a few steps, long before the call's deadline even on a busy machine.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0; 4 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("asked to trap"),
            "print" => {
                // Far past the output budget, then an ordinary answer.
                println!("{}", "x".repeat(40_000));
                for line in 0..200 {
                    eprintln!("stderr line {line}");
                }
                Ok(Decision::Allow)
            }
            "oversize" => Ok(Decision::Deny("x".repeat(4 << 20))),
            _ => Ok(Decision::Allow),
        }
    }
}

/// Misbehaves in `on-event` as the event's `title` field says (a work request's title).
impl NotificationRules for Hostile {
    fn on_event(event: Event) -> Result<Vec<Notification>, PluginError> {
        let admins = || vec![Recipient::StaffRole("admin".into())];
        // A work request misbehaves by its title; an account event by the name before the @
        // of the account it is about (`panic@…`, `leak@…`).
        let cue = match event.field("title") {
            Some(title) => title.to_owned(),
            None => event
                .subject
                .as_ref()
                .and_then(|s| s.email.split('@').next())
                .unwrap_or_default()
                .to_owned(),
        };
        match cue.as_str() {
            "panic" => panic!("asked to panic\r\nInjected-Header: yes"),
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0; 4 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "print" => {
                eprintln!("{}", "x".repeat(40_000));
                for line in 0..200 {
                    eprintln!("stderr line {line}");
                }
                Ok(Vec::new())
            }
            "error" => Err(PluginError::Failed("asked to fail\r\nInjected: yes".into())),
            "unknown-template" => Ok(vec![Notification::new("no-such-template", admins())]),
            "many-recipients" => Ok(vec![Notification::new(
                "work-request-created",
                (0..10_000)
                    .map(|i| Recipient::Email(format!("someone{i}@elsewhere.example")))
                    .collect(),
            )]),
            "bad-addresses" => Ok(vec![Notification::new(
                "work-request-created",
                vec![
                    Recipient::Email(String::new()),
                    Recipient::Email("not-an-address".into()),
                    Recipient::Email("a@b.example\r\nBcc: victim@elsewhere.example".into()),
                ],
            )]),
            // The event's single-use link, once to the staff (dropped) and once to the
            // account's own contact (sent).
            "leak" => {
                let link = event
                    .field("invite-url")
                    .or(event.field("reset-url"))
                    .unwrap_or_default();
                Ok(vec![
                    Notification::new("account-activity", admins()).var("link", link),
                    Notification::new("account-activity", vec![Recipient::ClientContact])
                        .var("link", link),
                ])
            }
            "reserved-template" => Ok(vec![
                Notification::new(
                    "password-reset",
                    vec![Recipient::Email("victim@elsewhere.example".into())],
                )
                .var("reset-url", "https://phish.example/reset"),
            ]),
            _ => Ok(Vec::new()),
        }
    }
}

/// Writes a mebibyte per batch, whatever the rows: the output cap must stop it.
#[derive(Debug)]
pub struct Flood;

impl ExportFormat for Flood {
    type Writer = FloodWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new(
            "flood",
            "Flood",
            "application/octet-stream",
            "bin",
        )])
    }

    fn open(_: &str, _: &str, _: Vec<Column>) -> Result<FloodWriter, PluginError> {
        Ok(FloodWriter)
    }
}

/// The flood in progress.
#[derive(Debug)]
pub struct FloodWriter;

impl TableWriter for FloodWriter {
    fn write_rows(&mut self, _: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        Ok(vec![b'x'; 1 << 20])
    }

    fn finish(self) -> Result<Vec<u8>, PluginError> {
        Ok(Vec::new())
    }
}

portal_plugin_api::export_role_set!(Hostile);
portal_plugin_api::export_notification_rules!(Hostile);
portal_plugin_api::export_export_format!(Flood);
