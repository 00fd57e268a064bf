//! Staffing roles: the WebCenter-style catalogue of client-contact roles,
//! plus Partner roles spanning several clients.
//!
//! One rule does not fit a static list: a Customer Limited contact may
//! approve a timesheet only up to 12 hours, and only at their own worksites
//! when staff tied them to some. Longer or foreign timesheets stay with a
//! full supervisor. That role lists `approve-timesheets` as dynamic, so the
//! host asks [`RoleSet::authorize`] for each timesheet.

use portal_plugin_api::PluginError;
use portal_plugin_api::roles::{
    AuthorizationRequest, ClientSet, Decision, Permission, Role, RoleSet,
};

use Permission::*;

/// A full customer supervisor's view of their client.
const SUPERVISOR: &[Permission] = &[
    ViewTimesheets,
    ApproveTimesheets,
    ViewReports,
    ViewInvoices,
    ViewDocuments,
    CreateWorkRequests,
    ViewWorkRequests,
];

/// The longest timesheet a Customer Limited contact may approve, in
/// hundredths of an hour (the unit of the `hours` attribute).
const LIMITED_MAX_HOURS: u32 = 1200;

struct StaffingRoles;

impl RoleSet for StaffingRoles {
    fn roles() -> Result<Vec<Role>, PluginError> {
        let with_clock = [SUPERVISOR, &[ViewOnSite]].concat();
        let partner = [SUPERVISOR, &[ViewOnSite, ManageClientUsers]].concat();
        let partner_with_settings = [partner.as_slice(), &[PortalSettings]].concat();
        Ok(vec![
            Role::new(
                "customer-supervisor",
                "Customer Supervisor",
                "The default for a client contact: timesheets, reports, invoices, documents and work requests.",
                SUPERVISOR,
            ),
            Role::new(
                "customer-supervisor-timeclock",
                "Customer Supervisor with TimeClock",
                "A supervisor at a client with time clocks, who also sees who is on site.",
                &with_clock,
            ),
            Role::new(
                "customer-supervisor-no-timeclock",
                "Customer Supervisor without TimeClock",
                "A supervisor at a client with time clocks who approves time without seeing the clock.",
                SUPERVISOR,
            ),
            Role::new(
                "customer-limited",
                "Customer Limited",
                "Sees and approves timesheets of up to 12 hours, at their own worksites only.",
                &[ViewTimesheets, ApproveTimesheets],
            )
            .with_dynamic(&[ApproveTimesheets]),
            Role::new(
                "customer-time-only",
                "Customer – Time Only",
                "Home and timecards only: sees and approves timesheets.",
                &[ViewTimesheets, ApproveTimesheets],
            ),
            Role::new(
                "customer-invoices-only",
                "Customer – Invoices Only",
                "Sees the client's invoices and nothing else, for accounts payable.",
                &[ViewInvoices],
            ),
            Role::new(
                "customer-timeclock-orders",
                "Customer Timeclock/Orders",
                "Watches who is on site and files and follows job orders.",
                &[ViewOnSite, CreateWorkRequests, ViewWorkRequests],
            ),
            Role::new(
                "education-admin",
                "Education Admin",
                "A school or district administrator who reviews requests and approves time.",
                &[ViewWorkRequests, ViewTimesheets, ApproveTimesheets, ViewReports],
            ),
            Role::new(
                "educator",
                "Educator",
                "An educator who submits and follows orders.",
                &[CreateWorkRequests, ViewWorkRequests],
            ),
            Role::new(
                "partner",
                "Partner",
                "Spans several clients (all of them unless staff narrow it), manages their portal users and settings.",
                &partner_with_settings,
            )
            .spanning(ClientSet::All),
            Role::new(
                "partner-restricted",
                "Partner (restricted)",
                "A Partner without access to the clients' portal settings.",
                &partner,
            )
            .spanning(ClientSet::All),
        ])
    }

    fn authorize(request: AuthorizationRequest) -> Result<Decision, PluginError> {
        match (request.role.as_str(), request.permission) {
            ("customer-limited", ApproveTimesheets) => limited_approval(&request),
            (role, permission) => Err(PluginError::InvalidInput(format!(
                "role `{role}` has no dynamic rule for {permission:?}"
            ))),
        }
    }
}

/// The Customer Limited rule. A missing attribute denies: the host promises
/// both for timesheets, so their absence means we cannot tell.
fn limited_approval(request: &AuthorizationRequest) -> Result<Decision, PluginError> {
    let target = &request.target;
    let hours: u32 = target
        .attribute("hours")
        .ok_or_else(|| PluginError::InvalidInput("a timesheet came without `hours`".into()))?
        .parse()
        .map_err(|_| PluginError::InvalidInput("a timesheet's `hours` is not a count".into()))?;
    if hours > LIMITED_MAX_HOURS {
        return Ok(Decision::Deny(
            "Timesheets over 12 hours need a supervisor's approval.".into(),
        ));
    }
    let user = &request.user;
    let at_own_worksite = target
        .attribute("worksite-id")
        .is_some_and(|worksite| user.works_at(worksite));
    if user.has_worksites() && !at_own_worksite {
        return Ok(Decision::Deny(
            "You can approve timesheets only at your own worksites.".into(),
        ));
    }
    Ok(Decision::Allow)
}

portal_plugin_api::export_role_set!(StaffingRoles);

#[cfg(test)]
mod tests {
    use super::*;
    use portal_plugin_api::roles::{PortalUser, Scope, Target};

    fn roles() -> Vec<Role> {
        StaffingRoles::roles().expect("static catalogue")
    }

    fn role(id: &str) -> Role {
        roles()
            .into_iter()
            .find(|role| role.id == id)
            .unwrap_or_else(|| panic!("no role {id}"))
    }

    fn approve(hours: &str, worksite: Option<&str>, user_worksites: &[&str]) -> Decision {
        let mut attributes = vec![("hours".to_string(), hours.to_string())];
        if let Some(worksite) = worksite {
            attributes.push(("worksite-id".into(), worksite.into()));
        }
        let request = AuthorizationRequest {
            role: "customer-limited".into(),
            permission: ApproveTimesheets,
            user: PortalUser {
                id: "9".into(),
                email: "lee@client.example".into(),
                worksite_ids: user_worksites.iter().map(|id| id.to_string()).collect(),
            },
            client_id: "4".into(),
            target: Target {
                kind: "timesheet".into(),
                id: Some("77".into()),
                attributes,
            },
        };
        StaffingRoles::authorize(request).expect("a decision")
    }

    #[test]
    fn catalogue_ids_are_unique_and_well_formed() {
        let roles = roles();
        assert_eq!(roles.len(), 11);
        let mut ids: Vec<&str> = roles.iter().map(|role| role.id.as_str()).collect();
        assert!(ids.iter().all(|id| {
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 11);
    }

    #[test]
    fn only_partners_span_clients_and_manage_users() {
        for role in roles() {
            let partner = role.id.starts_with("partner");
            assert_eq!(role.scope != Scope::SingleClient, partner, "{}", role.id);
            assert_eq!(role.grants(ManageClientUsers), partner, "{}", role.id);
        }
        assert_eq!(role("partner").scope, Scope::ManyClients(ClientSet::All));
        assert!(role("partner").grants(PortalSettings));
        assert!(!role("partner-restricted").grants(PortalSettings));
    }

    #[test]
    fn narrow_roles_grant_only_their_part() {
        assert_eq!(role("customer-invoices-only").permissions, [ViewInvoices]);
        assert_eq!(
            role("customer-time-only").permissions,
            [ViewTimesheets, ApproveTimesheets]
        );
        assert!(role("customer-supervisor-timeclock").grants(ViewOnSite));
        assert!(!role("customer-supervisor-no-timeclock").grants(ViewOnSite));
        assert!(!role("educator").grants(ApproveTimesheets));
        assert!(role("education-admin").grants(ApproveTimesheets));
    }

    #[test]
    fn only_customer_limited_has_a_dynamic_rule() {
        for role in roles() {
            let expected: &[Permission] = if role.id == "customer-limited" {
                &[ApproveTimesheets]
            } else {
                &[]
            };
            assert_eq!(role.dynamic_permissions, expected, "{}", role.id);
        }
    }

    #[test]
    fn limited_approves_up_to_twelve_hours() {
        assert_eq!(approve("1200", None, &[]), Decision::Allow);
        assert_eq!(approve("0", Some("3"), &[]), Decision::Allow);
        assert!(
            matches!(approve("1201", None, &[]), Decision::Deny(reason) if reason.contains("12 hours"))
        );
    }

    #[test]
    fn limited_approves_only_at_own_worksites() {
        assert_eq!(approve("800", Some("3"), &["3", "5"]), Decision::Allow);
        assert!(
            matches!(approve("800", Some("4"), &["3", "5"]), Decision::Deny(reason) if reason.contains("worksites"))
        );
        assert!(matches!(approve("800", None, &["3"]), Decision::Deny(_)));
    }

    #[test]
    fn unknown_rules_and_bad_attributes_are_errors() {
        let mut request = AuthorizationRequest {
            role: "partner".into(),
            permission: ApproveTimesheets,
            user: PortalUser {
                id: "1".into(),
                email: "p@x.example".into(),
                worksite_ids: vec![],
            },
            client_id: "4".into(),
            target: Target {
                kind: "timesheet".into(),
                id: None,
                attributes: vec![("hours".into(), "8.5".into())],
            },
        };
        assert!(StaffingRoles::authorize(request.clone()).is_err());
        request.role = "customer-limited".into();
        assert!(matches!(
            StaffingRoles::authorize(request),
            Err(PluginError::InvalidInput(_))
        ));
    }
}
