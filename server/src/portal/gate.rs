//! Dynamic permissions on what a page shows. A role may mark any permission dynamic; then
//! the role-set plugin's `authorize` is asked about every record shown (a list in one trip)
//! or, for a page that is a whole view of a client (report, on-site, settings), about each
//! client in scope. What is not allowed — a deny, an error, a trap, a timeout — is left out:
//! rules fail closed. A static permission costs nothing here.

use super::Portal;
use crate::error::{AppError, AppResult};
use crate::plugins::{AuthorizationRequest, Decision, Permission, PluginRequest, Target};
use crate::state::AppState;

/// A record a dynamic permission is asked about (`roles.wit`, `target`).
pub trait Gated {
    /// The client the record belongs to.
    fn client_id(&self) -> i64;
    fn target(&self) -> Target;
}

/// A target with its `worksite-id` when it belongs to one.
pub fn target(
    kind: &str,
    id: i64,
    worksite: Option<i64>,
    mut attributes: Vec<(String, String)>,
) -> Target {
    if let Some(site) = worksite {
        attributes.push(("worksite-id".into(), site.to_string()));
    }
    Target {
        kind: kind.into(),
        id: Some(id.to_string()),
        attributes,
    }
}

impl Portal {
    /// Whether the role marks `permission` dynamic.
    pub fn is_dynamic(&self, permission: Permission) -> bool {
        self.session
            .role
            .as_ref()
            .is_some_and(|role| role.is_dynamic(permission))
    }

    /// Asks `authorize` about each (client, target) in one trip; the decisions in order.
    async fn ask(
        &self,
        state: &AppState,
        plugins: &mut PluginRequest,
        permission: Permission,
        targets: impl Iterator<Item = (i64, Target)>,
    ) -> AppResult<Vec<Decision>> {
        let user = self.user_ref(state).await?;
        let role = self
            .session
            .role
            .as_ref()
            .map(|r| r.id.clone())
            .unwrap_or_default();
        let requests = targets
            .map(|(client_id, target)| AuthorizationRequest {
                role: role.clone(),
                permission,
                user: user.clone(),
                client_id: client_id.to_string(),
                target,
            })
            .collect();
        Ok(plugins.authorize_all(requests).await)
    }

    /// Of `rows`, those the user may see under `permission` (which the role must grant):
    /// all of them unless the role marks it dynamic, then those `authorize` allows.
    pub async fn visible<T: Gated>(
        &self,
        state: &AppState,
        plugins: &mut PluginRequest,
        permission: Permission,
        rows: Vec<T>,
    ) -> AppResult<Vec<T>> {
        self.require(permission)?;
        if rows.is_empty() || !self.is_dynamic(permission) {
            return Ok(rows);
        }
        let targets = rows.iter().map(|row| (row.client_id(), row.target()));
        let decisions = self.ask(state, plugins, permission, targets).await?;
        Ok(rows
            .into_iter()
            .zip(decisions)
            .filter(|(_, decision)| decision.is_allowed())
            .map(|(row, _)| row)
            .collect())
    }

    /// One record the user opened: a 404 when there is none in scope or the rule does not
    /// allow it, as for another client's record.
    pub async fn visible_one<T: Gated>(
        &self,
        state: &AppState,
        plugins: &mut PluginRequest,
        permission: Permission,
        row: Option<T>,
    ) -> AppResult<T> {
        self.visible(state, plugins, permission, row.into_iter().collect())
            .await?
            .pop()
            .ok_or(AppError::NotFound)
    }

    /// Whether the user may exercise `permission` (which the role must grant) on `target` of
    /// `client_id`: yes unless the role marks it dynamic and `authorize` does not allow it,
    /// in which case the rule's reason is the answer.
    pub async fn allows(
        &self,
        state: &AppState,
        plugins: &mut PluginRequest,
        permission: Permission,
        client_id: i64,
        target: Target,
    ) -> AppResult<()> {
        self.require(permission)?;
        if !self.is_dynamic(permission) {
            return Ok(());
        }
        let asked = std::iter::once((client_id, target));
        match self.ask(state, plugins, permission, asked).await?.pop() {
            Some(Decision::Allow) => Ok(()),
            Some(Decision::Deny(why)) => Err(AppError::Denied(why)),
            None => Err(AppError::Forbidden),
        }
    }

    /// For a page that shows a whole view of each client (`kind` `report`, `on-site` or
    /// `settings`): narrows the scope to the clients `authorize` allows it for; refused with
    /// the rule's reason when it allows none.
    pub async fn narrow(
        &mut self,
        state: &AppState,
        plugins: &mut PluginRequest,
        permission: Permission,
        kind: &str,
    ) -> AppResult<()> {
        self.require(permission)?;
        if !self.is_dynamic(permission) || self.scope.is_empty() {
            return Ok(());
        }
        let targets = self.scope.iter().map(|&client| {
            let page = Target {
                kind: kind.into(),
                id: None,
                attributes: Vec::new(),
            };
            (client, page)
        });
        let decisions = self.ask(state, plugins, permission, targets).await?;
        let mut reason = None;
        let mut allowed = Vec::new();
        for (client, decision) in self.scope.iter().zip(decisions) {
            match decision {
                Decision::Allow => allowed.push(*client),
                Decision::Deny(why) => {
                    reason.get_or_insert(why);
                }
            }
        }
        if allowed.is_empty() {
            return Err(AppError::Denied(reason.unwrap_or_default()));
        }
        self.scope = allowed;
        Ok(())
    }
}
