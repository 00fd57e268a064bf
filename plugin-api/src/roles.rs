//! The `role-set` world: the roles an agency offers and its dynamic rules.

use crate::PluginError;
use crate::bindings::role_set::exports::portal::plugin::roles as wit;

pub use wit::{
    AuthorizationRequest, ClientSet, Decision, Permission, PortalUser, Role, Scope, Target,
};

/// A role set, exported with [`export_role_set!`](crate::export_role_set).
///
/// The host calls [`RoleSet::roles`] once per plugin load and caches the
/// answer, so building the list may allocate freely; [`RoleSet::authorize`]
/// is on the request path and should answer from the request alone.
pub trait RoleSet {
    /// The catalogue of roles, in the order the manage pages offer them.
    fn roles() -> Result<Vec<Role>, PluginError>;

    /// Decides one exercise of a permission a role lists in
    /// [`Role::dynamic_permissions`].
    ///
    /// The default allows: a role-set without dynamic rules never lists a
    /// dynamic permission, so the host never calls this, and allowing keeps
    /// the static grant as the answer if it does.
    fn authorize(request: AuthorizationRequest) -> Result<Decision, PluginError> {
        let _ = request;
        Ok(Decision::Allow)
    }
}

impl<T: RoleSet> wit::Guest for T {
    fn roles() -> Result<Vec<Role>, PluginError> {
        <T as RoleSet>::roles()
    }

    fn authorize(request: AuthorizationRequest) -> Result<Decision, PluginError> {
        <T as RoleSet>::authorize(request)
    }
}

impl Role {
    /// A single-client role without dynamic rules, the common case; chain
    /// [`Role::spanning`] and [`Role::with_dynamic`] for the others.
    pub fn new(id: &str, name: &str, description: &str, permissions: &[Permission]) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            permissions: permissions.to_vec(),
            dynamic_permissions: Vec::new(),
            scope: Scope::SingleClient,
        }
    }

    /// Makes this a many-client ("Partner") role over `clients`.
    #[must_use]
    pub fn spanning(mut self, clients: ClientSet) -> Self {
        self.scope = Scope::ManyClients(clients);
        self
    }

    /// Asks the host to confirm these permissions with
    /// [`RoleSet::authorize`] for each target.
    #[must_use]
    pub fn with_dynamic(mut self, permissions: &[Permission]) -> Self {
        self.dynamic_permissions = permissions.to_vec();
        self
    }

    /// Whether the role's static list includes `permission`.
    pub fn grants(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

impl Target {
    /// The value of one attribute; `None` means the host did not say.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        crate::lookup(&self.attributes, key)
    }
}

impl PortalUser {
    /// Whether the user is tied to particular worksites at this client.
    pub fn has_worksites(&self) -> bool {
        !self.worksite_ids.is_empty()
    }

    /// Whether `worksite_id` is one of the user's worksites.
    pub fn works_at(&self, worksite_id: &str) -> bool {
        self.worksite_ids.iter().any(|id| id == worksite_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_builder_sets_scope_and_dynamic_permissions() {
        let role = Role::new(
            "partner",
            "Partner",
            "All clients.",
            &[Permission::ViewInvoices],
        )
        .spanning(ClientSet::All)
        .with_dynamic(&[Permission::ViewInvoices]);
        assert_eq!(role.scope, Scope::ManyClients(ClientSet::All));
        assert_eq!(role.dynamic_permissions, vec![Permission::ViewInvoices]);
        assert!(role.grants(Permission::ViewInvoices));
        assert!(!role.grants(Permission::ViewTimesheets));
    }

    #[test]
    fn portal_user_worksites() {
        let user = PortalUser {
            id: "7".into(),
            email: "a@b.example".into(),
            worksite_ids: vec!["3".into()],
        };
        assert!(user.has_worksites());
        assert!(user.works_at("3"));
        assert!(!user.works_at("4"));
    }
}
