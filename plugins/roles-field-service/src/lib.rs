//! Field-service roles (Klipboard-style portals): clients see their jobs,
//! quotes, assets, documents and invoices, and file work requests.
//!
//! Every rule here fits a static permission list, so no role asks for
//! dynamic checks and the host never calls `authorize`.

use portal_plugin_api::PluginError;
use portal_plugin_api::roles::{Permission, Role, RoleSet};

use Permission::*;

/// What a client's everyday portal user sees.
const CLIENT_USER: &[Permission] = &[
    ViewJobs,
    ViewQuotes,
    ViewAssets,
    ViewDocuments,
    ViewInvoices,
    CreateWorkRequests,
    ViewWorkRequests,
];

struct FieldServiceRoles;

impl RoleSet for FieldServiceRoles {
    fn roles() -> Result<Vec<Role>, PluginError> {
        let client_admin = [CLIENT_USER, &[ManageClientUsers, PortalSettings]].concat();
        Ok(vec![
            Role::new(
                "client-admin",
                "Client admin",
                "Everything in the client's portal, including its users and settings.",
                &client_admin,
            ),
            Role::new(
                "client-user",
                "Client user",
                "Jobs, quotes, assets, documents and invoices; files work requests.",
                CLIENT_USER,
            ),
            Role::new(
                "requester",
                "Requester",
                "Files work requests and follows them; sees nothing else.",
                &[CreateWorkRequests, ViewWorkRequests],
            ),
            Role::new(
                "accounts",
                "Accounts",
                "Invoices and documents, for the client's accounts payable.",
                &[ViewInvoices, ViewDocuments],
            ),
        ])
    }
}

portal_plugin_api::export_role_set!(FieldServiceRoles);

#[cfg(test)]
mod tests {
    use super::*;
    use portal_plugin_api::roles::Scope;

    fn role(id: &str) -> Role {
        let roles = FieldServiceRoles::roles().expect("static catalogue");
        roles
            .into_iter()
            .find(|role| role.id == id)
            .unwrap_or_else(|| panic!("no role {id}"))
    }

    #[test]
    fn catalogue_is_four_static_single_client_roles() {
        let roles = FieldServiceRoles::roles().expect("static catalogue");
        let ids: Vec<&str> = roles.iter().map(|role| role.id.as_str()).collect();
        assert_eq!(
            ids,
            ["client-admin", "client-user", "requester", "accounts"]
        );
        for role in &roles {
            assert_eq!(role.scope, Scope::SingleClient, "{}", role.id);
            assert!(role.dynamic_permissions.is_empty(), "{}", role.id);
        }
    }

    #[test]
    fn only_client_admins_manage_users_and_settings() {
        let admin = role("client-admin");
        assert!(admin.grants(ManageClientUsers) && admin.grants(PortalSettings));
        assert!(
            CLIENT_USER
                .iter()
                .all(|permission| admin.grants(*permission))
        );
        for id in ["client-user", "requester", "accounts"] {
            let role = role(id);
            assert!(
                !role.grants(ManageClientUsers) && !role.grants(PortalSettings),
                "{id}"
            );
        }
    }

    #[test]
    fn narrow_roles_see_only_their_part() {
        assert_eq!(
            role("requester").permissions,
            [CreateWorkRequests, ViewWorkRequests]
        );
        assert_eq!(role("accounts").permissions, [ViewInvoices, ViewDocuments]);
        assert!(!role("client-user").grants(ViewTimesheets));
    }
}
