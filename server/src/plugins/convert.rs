//! Between the generated bindings and the server's plain types, checking on the way in what
//! the contract promises (well-formed unique ids, bounded answers).

use std::collections::BTreeSet;

use super::bindings::{PluginError, formats, notifications, roles};
use super::failure::Cause;
use super::types::{
    AuthorizationRequest, ClientSet, Column, ColumnType, Decision, ExportFormat, Named,
    Notification, NotificationEvent, Permission, Person, PersonKind, Recipient, Role, RoleScope,
};

pub fn reported(error: PluginError) -> Cause {
    let (kind, message) = match error {
        PluginError::InvalidInput(m) => ("invalid input", m),
        PluginError::InvalidSettings(m) => ("invalid settings", m),
        PluginError::Failed(m) => ("failed", m),
    };
    Cause::Reported { kind, message }
}

fn permission_in(p: roles::Permission) -> Permission {
    use roles::Permission as W;
    match p {
        W::ViewTimesheets => Permission::ViewTimesheets,
        W::ApproveTimesheets => Permission::ApproveTimesheets,
        W::ViewReports => Permission::ViewReports,
        W::ViewOnSite => Permission::ViewOnSite,
        W::ViewInvoices => Permission::ViewInvoices,
        W::ViewDocuments => Permission::ViewDocuments,
        W::CreateWorkRequests => Permission::CreateWorkRequests,
        W::ViewWorkRequests => Permission::ViewWorkRequests,
        W::ViewJobs => Permission::ViewJobs,
        W::ViewQuotes => Permission::ViewQuotes,
        W::ViewAssets => Permission::ViewAssets,
        W::ManageClientUsers => Permission::ManageClientUsers,
        W::PortalSettings => Permission::PortalSettings,
    }
}

fn permission_out(p: Permission) -> roles::Permission {
    use roles::Permission as W;
    match p {
        Permission::ViewTimesheets => W::ViewTimesheets,
        Permission::ApproveTimesheets => W::ApproveTimesheets,
        Permission::ViewReports => W::ViewReports,
        Permission::ViewOnSite => W::ViewOnSite,
        Permission::ViewInvoices => W::ViewInvoices,
        Permission::ViewDocuments => W::ViewDocuments,
        Permission::CreateWorkRequests => W::CreateWorkRequests,
        Permission::ViewWorkRequests => W::ViewWorkRequests,
        Permission::ViewJobs => W::ViewJobs,
        Permission::ViewQuotes => W::ViewQuotes,
        Permission::ViewAssets => W::ViewAssets,
        Permission::ManageClientUsers => W::ManageClientUsers,
        Permission::PortalSettings => W::PortalSettings,
    }
}

/// `[a-z0-9-]`, 1 to 64 bytes: the shape of role and format ids.
pub fn id_problem(id: &str) -> Option<String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (!ok).then(|| format!("id \"{}\" is not 1 to 64 of [a-z0-9-]", id.escape_debug()))
}

/// Why a piece of text from a plugin (a role's name, a format's label) cannot be shown: empty,
/// longer than `max` characters, or holding control characters or markup.
fn text_problem(what: &str, text: &str, max: usize) -> Option<String> {
    let shown = text.chars().take(40).collect::<String>();
    if text.trim().is_empty() {
        Some(format!("{what} is empty"))
    } else if text.chars().count() > max {
        Some(format!(
            "{what} \"{}…\" is longer than {max} characters",
            shown.escape_debug()
        ))
    } else if text.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        Some(format!(
            "{what} \"{}\" holds a control character or markup",
            shown.escape_debug()
        ))
    } else {
        None
    }
}

/// The most roles a role set may list; the longest role name and description.
pub const MOST_ROLES: usize = 200;
pub const ROLE_NAME_MAX: usize = 100;
pub const ROLE_DESCRIPTION_MAX: usize = 500;
/// The most formats one export plugin may offer; the longest label.
pub const MOST_FORMATS: usize = 20;
pub const FORMAT_LABEL_MAX: usize = 60;

/// Format ids that only the built-in plugin of the same name may offer, so no plugin can pass
/// itself off as the CSV, Excel or JSON export.
const BUILT_IN_FORMATS: &[(&str, &str)] = &[
    ("csv", "export-csv"),
    ("xlsx", "export-xlsx"),
    ("json", "export-json"),
];

/// A MIME type `type/subtype`, with `; name=value` parameters, of token characters only.
fn mime_problem(mime: &str) -> Option<String> {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let mut parts = mime.split(';');
    let essence = parts.next().unwrap_or_default();
    let well_formed = mime.len() <= 127
        && essence
            .split_once('/')
            .is_some_and(|(kind, sub)| token(kind) && token(sub))
        && parts.all(|p| {
            p.trim()
                .split_once('=')
                .is_some_and(|(name, value)| token(name) && token(value))
        });
    (!well_formed).then(|| {
        format!(
            "MIME type \"{}\" is not type/subtype",
            mime.chars().take(60).collect::<String>().escape_debug()
        )
    })
}

fn dedup(list: Vec<roles::Permission>) -> Vec<Permission> {
    let mut seen = BTreeSet::new();
    list.into_iter()
        .map(permission_in)
        .filter(|p| seen.insert(*p))
        .collect()
}

/// Validates a role catalogue: ids well formed and unique; duplicate permissions dropped;
/// dynamic permissions missing from `permissions` dropped (the contract says they are never
/// granted, so keeping them would only mislead a reader).
pub fn roles_in(list: Vec<roles::Role>) -> Result<Vec<Role>, Cause> {
    if list.len() > MOST_ROLES {
        return Err(Cause::BadAnswer(format!(
            "{} roles listed; a role set may list at most {MOST_ROLES}",
            list.len()
        )));
    }
    let mut ids = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for role in list {
        if let Some(problem) = id_problem(&role.id) {
            return Err(Cause::BadAnswer(format!("role {problem}")));
        }
        let problem = text_problem("name", &role.name, ROLE_NAME_MAX).or_else(|| {
            (!role.description.is_empty())
                .then(|| text_problem("description", &role.description, ROLE_DESCRIPTION_MAX))
                .flatten()
        });
        if let Some(problem) = problem {
            return Err(Cause::BadAnswer(format!("role \"{}\": {problem}", role.id)));
        }
        if !ids.insert(role.id.clone()) {
            return Err(Cause::BadAnswer(format!("role id \"{}\" twice", role.id)));
        }
        let permissions = dedup(role.permissions);
        let dynamic_permissions = dedup(role.dynamic_permissions)
            .into_iter()
            .filter(|p| permissions.contains(p))
            .collect();
        let scope = match role.scope {
            roles::Scope::SingleClient => RoleScope::SingleClient,
            roles::Scope::ManyClients(roles::ClientSet::All) => {
                RoleScope::ManyClients(ClientSet::All)
            }
            roles::Scope::ManyClients(roles::ClientSet::Listed(ids)) => {
                RoleScope::ManyClients(ClientSet::Listed(ids))
            }
        };
        out.push(Role {
            id: role.id,
            name: role.name,
            description: role.description,
            permissions,
            dynamic_permissions,
            scope,
        });
    }
    if out.is_empty() {
        return Err(Cause::BadAnswer("the role set lists no roles".into()));
    }
    Ok(out)
}

pub fn authorization_out(request: &AuthorizationRequest) -> roles::AuthorizationRequest {
    roles::AuthorizationRequest {
        role: request.role.clone(),
        permission: permission_out(request.permission),
        user: roles::PortalUser {
            id: request.user.id.clone(),
            email: request.user.email.clone(),
            worksite_ids: request.user.worksite_ids.clone(),
        },
        client_id: request.client_id.clone(),
        target: roles::Target {
            kind: request.target.kind.clone(),
            id: request.target.id.clone(),
            attributes: request.target.attributes.clone(),
        },
    }
}

pub fn decision_in(decision: roles::Decision, limit: u64) -> Result<Decision, Cause> {
    match decision {
        roles::Decision::Allow => Ok(Decision::Allow),
        roles::Decision::Deny(reason) if reason.len() as u64 > limit => {
            Err(Cause::OutputTooLarge { limit })
        }
        roles::Decision::Deny(reason) => Ok(Decision::Deny(reason)),
    }
}

fn person_out(person: &Person) -> notifications::Person {
    notifications::Person {
        kind: match person.kind {
            PersonKind::Staff => notifications::PersonKind::Staff,
            PersonKind::PortalUser => notifications::PersonKind::PortalUser,
            PersonKind::System => notifications::PersonKind::System,
        },
        id: person.id.clone(),
        name: person.name.clone(),
        email: person.email.clone(),
    }
}

/// The event as one plugin sees it: with the agency and that plugin's settings.
pub fn event_out(
    event: &NotificationEvent,
    agency_slug: &str,
    agency_name: &str,
    settings: &[(String, String)],
) -> notifications::Event {
    let named = |n: &Named| (n.id.clone(), n.name.clone());
    notifications::Event {
        kind: event.kind.clone(),
        agency: notifications::Agency {
            slug: agency_slug.into(),
            display_name: agency_name.into(),
        },
        client: event
            .client
            .as_ref()
            .map(named)
            .map(|(id, name)| notifications::Client { id, name }),
        worksite: event
            .worksite
            .as_ref()
            .map(named)
            .map(|(id, name)| notifications::Worksite { id, name }),
        actor: person_out(&event.actor),
        subject: event.subject.as_ref().map(person_out),
        fields: event.fields.clone(),
        settings: settings.to_vec(),
    }
}

pub fn notifications_in(
    plugin: &str,
    list: Vec<notifications::Notification>,
    limit: u64,
) -> Result<Vec<Notification>, Cause> {
    let size: usize = list
        .iter()
        .map(|n| {
            n.template.len()
                + n.variables
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>()
                + n.recipients
                    .iter()
                    .map(|r| match r {
                        notifications::Recipient::StaffEmail(s)
                        | notifications::Recipient::StaffRole(s)
                        | notifications::Recipient::Email(s) => s.len(),
                        notifications::Recipient::ClientContact => 1,
                    })
                    .sum::<usize>()
        })
        .sum();
    if size as u64 > limit {
        return Err(Cause::OutputTooLarge { limit });
    }
    Ok(list
        .into_iter()
        .map(|n| Notification {
            plugin: plugin.into(),
            recipients: n
                .recipients
                .into_iter()
                .map(|r| match r {
                    notifications::Recipient::StaffEmail(s) => Recipient::StaffEmail(s),
                    notifications::Recipient::StaffRole(s) => Recipient::StaffRole(s),
                    notifications::Recipient::ClientContact => Recipient::ClientContact,
                    notifications::Recipient::Email(s) => Recipient::Email(s),
                })
                .collect(),
            template: n.template,
            variables: dedup_keys(n.variables),
        })
        .collect())
}

/// "When a plugin returns a key twice, the last pair wins."
fn dedup_keys(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

pub fn formats_in(plugin: &str, list: Vec<formats::Format>) -> Result<Vec<ExportFormat>, Cause> {
    if list.len() > MOST_FORMATS {
        return Err(Cause::BadAnswer(format!(
            "{} formats listed; a plugin may offer at most {MOST_FORMATS}",
            list.len()
        )));
    }
    let mut ids = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for format in list {
        if let Some(problem) = id_problem(&format.id) {
            return Err(Cause::BadAnswer(format!("format {problem}")));
        }
        if let Some((_, owner)) = BUILT_IN_FORMATS.iter().find(|(id, _)| *id == format.id)
            && *owner != plugin
        {
            return Err(Cause::BadAnswer(format!(
                "format id \"{}\" belongs to the built-in plugin {owner}",
                format.id
            )));
        }
        let extension_ok = (1..=16).contains(&format.extension.len())
            && format
                .extension
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let problem = text_problem("label", &format.label, FORMAT_LABEL_MAX)
            .or_else(|| mime_problem(&format.mime_type))
            .or_else(|| {
                (!extension_ok).then(|| {
                    format!(
                        "extension \"{}\" is not 1 to 16 of [a-z0-9]",
                        format
                            .extension
                            .chars()
                            .take(40)
                            .collect::<String>()
                            .escape_debug()
                    )
                })
            });
        if let Some(problem) = problem {
            return Err(Cause::BadAnswer(format!(
                "format \"{}\": {problem}",
                format.id
            )));
        }
        if !ids.insert(format.id.clone()) {
            return Err(Cause::BadAnswer(format!(
                "format id \"{}\" twice",
                format.id
            )));
        }
        out.push(ExportFormat {
            id: format.id,
            label: format.label,
            mime_type: format.mime_type,
            extension: format.extension,
            plugin: plugin.into(),
        });
    }
    if out.is_empty() {
        return Err(Cause::BadAnswer("the plugin lists no formats".into()));
    }
    Ok(out)
}

pub fn columns_out(columns: &[Column]) -> Vec<formats::Column> {
    columns
        .iter()
        .map(|c| formats::Column {
            name: c.name.clone(),
            label: c.label.clone(),
            kind: match c.kind {
                ColumnType::Text => formats::ColumnType::Text,
                ColumnType::Integer => formats::ColumnType::Integer,
                ColumnType::Decimal(scale) => formats::ColumnType::Decimal(scale),
                ColumnType::Date => formats::ColumnType::Date,
                ColumnType::Datetime => formats::ColumnType::Datetime,
                ColumnType::Boolean => formats::ColumnType::Boolean,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(id: &str, label: &str, mime: &str, extension: &str) -> formats::Format {
        formats::Format {
            id: id.into(),
            label: label.into(),
            mime_type: mime.into(),
            extension: extension.into(),
        }
    }

    #[test]
    fn export_formats_are_checked_field_by_field() {
        let fine = format(
            "tsv",
            "Tab-separated",
            "text/tab-separated-values; charset=utf-8",
            "tsv",
        );
        assert!(formats_in("export-tsv", vec![fine]).is_ok());
        let refused = [
            (
                format("tsv", "TSV", "text/plain", "\"; filename=\"../../evil.sh"),
                "extension",
            ),
            (
                format("tsv", "TSV", "text/plain\r\nX-Evil: 1", "tsv"),
                "MIME type",
            ),
            (format("tsv", "TSV", "textplain", "tsv"), "MIME type"),
            (format("tsv", "", "text/plain", "tsv"), "label is empty"),
            (format("tsv", "<b>TSV</b>", "text/plain", "tsv"), "markup"),
            (
                format("tsv", &"x".repeat(61), "text/plain", "tsv"),
                "longer than 60",
            ),
            (
                format("csv", "CSV", "text/csv", "csv"),
                "belongs to the built-in plugin export-csv",
            ),
            (
                format("Bad Id", "TSV", "text/plain", "tsv"),
                "is not 1 to 64",
            ),
        ];
        for (candidate, expected) in refused {
            let error = formats_in("export-tsv", vec![candidate.clone()])
                .err()
                .map(|cause| cause.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{candidate:?}: {error}");
        }
        let many = (0..21)
            .map(|n| format(&format!("f{n}"), "F", "text/plain", "txt"))
            .collect();
        assert!(formats_in("export-many", many).is_err());
        assert!(formats_in("export-csv", vec![format("csv", "CSV", "text/csv", "csv")]).is_ok());
    }

    fn role(id: &str, name: &str, description: &str) -> roles::Role {
        roles::Role {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            permissions: vec![roles::Permission::ViewTimesheets],
            dynamic_permissions: vec![],
            scope: roles::Scope::SingleClient,
        }
    }

    #[test]
    fn role_catalogues_are_bounded_and_checked() {
        assert!(roles_in(vec![role("viewer", "Viewer", "Sees timesheets.")]).is_ok());
        for (candidate, expected) in [
            (role("viewer", "   ", ""), "name is empty"),
            (
                role("viewer", "Viewer\r\nInjected", ""),
                "control character",
            ),
            (role("viewer", "Viewer", "a\u{0}b"), "control character"),
            (role("viewer", "Viewer", "<script>x</script>"), "markup"),
            (role("viewer", &"n".repeat(101), ""), "longer than 100"),
            (
                role("viewer", "Viewer", &"d".repeat(501)),
                "longer than 500",
            ),
        ] {
            let error = roles_in(vec![candidate.clone()])
                .err()
                .map(|cause| cause.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{candidate:?}: {error}");
        }
        let many = (0..201).map(|n| role(&format!("r{n}"), "R", "")).collect();
        let error = roles_in(many)
            .err()
            .map(|c| c.to_string())
            .unwrap_or_default();
        assert!(error.contains("at most 200"), "{error}");
    }
}
