//! Test fixture: opens a TCP connection, so the component imports `wasi:sockets` (see
//! ../README.md). Never shipped.

use portal_plugin_api::PluginError;
use portal_plugin_api::roles::{AuthorizationRequest, Decision, Permission, Role, RoleSet};

struct Network;

impl RoleSet for Network {
    fn roles() -> Result<Vec<Role>, PluginError> {
        Ok(vec![
            Role::new(
                "caller",
                "Caller",
                "Every approval phones home.",
                &[Permission::ApproveTimesheets],
            )
            .with_dynamic(&[Permission::ApproveTimesheets]),
        ])
    }

    fn authorize(_: AuthorizationRequest) -> Result<Decision, PluginError> {
        match std::net::TcpStream::connect("192.0.2.1:80") {
            Ok(_) => Ok(Decision::Allow),
            Err(err) => Ok(Decision::Deny(format!("no network: {err}"))),
        }
    }
}

portal_plugin_api::export_role_set!(Network);
