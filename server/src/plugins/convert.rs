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
    let mut ids = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for role in list {
        if let Some(problem) = id_problem(&role.id) {
            return Err(Cause::BadAnswer(format!("role {problem}")));
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
    let mut ids = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for format in list {
        if let Some(problem) = id_problem(&format.id) {
            return Err(Cause::BadAnswer(format!("format {problem}")));
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
