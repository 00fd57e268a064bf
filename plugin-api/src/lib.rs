//! Guest SDK for Portal plugins.
//!
//! Portal lets each agency choose its roles, its notification rules and its
//! export formats through WebAssembly components. The contract is the WIT
//! package `portal:plugin@0.1.0` in `wit/v0.1.0/`; this crate wraps the
//! bindings `wit-bindgen` generates from it so that a Rust plugin is a trait
//! implementation and one macro call:
//!
//! | world                | trait                                   | macro                          |
//! |----------------------|-----------------------------------------|--------------------------------|
//! | `role-set`           | [`roles::RoleSet`]                      | [`export_role_set!`]           |
//! | `notification-rules` | [`notifications::NotificationRules`]    | [`export_notification_rules!`] |
//! | `export-format`      | [`formats::ExportFormat`]               | [`export_export_format!`]      |
//!
//! A plugin that plays several parts calls several macros; its component
//! then exports each of those interfaces and nothing else, which is how the
//! host tells which worlds it implements.
//!
//! ```no_run
//! use portal_plugin_api::roles::{Permission, Role, RoleSet};
//! use portal_plugin_api::PluginError;
//!
//! struct Roles;
//!
//! impl RoleSet for Roles {
//!     fn roles() -> Result<Vec<Role>, PluginError> {
//!         Ok(vec![Role::new("requester", "Requester", "Files work requests.", &[
//!             Permission::CreateWorkRequests,
//!             Permission::ViewWorkRequests,
//!         ])])
//!     }
//! }
//!
//! portal_plugin_api::export_role_set!(Roles);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the component. `README.md` is the
//! author's guide.

#[doc(hidden)]
pub mod bindings;
pub mod formats;
mod log;
pub mod notifications;
pub mod roles;

pub use bindings::shared::portal::plugin::types::{KeyValues, PluginError};
pub use log::{Level, log};

/// Looks a key up in a [`KeyValues`] list; the last pair wins, as the WIT
/// defines for duplicate keys.
pub fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Exports a [`roles::RoleSet`] implementation as the component's
/// `portal:plugin/roles@0.1.0` interface.
///
/// Call it once, at the root of the plugin crate, with the name of the type
/// (an identifier, not a path).
#[macro_export]
macro_rules! export_role_set {
    ($ty:ident) => {
        $crate::bindings::role_set::export_world!($ty with_types_in $crate::bindings::role_set);
    };
}

/// Exports a [`notifications::NotificationRules`] implementation as the
/// component's `portal:plugin/notifications@0.1.0` interface.
///
/// Call it once, at the root of the plugin crate, with the name of the type
/// (an identifier, not a path).
#[macro_export]
macro_rules! export_notification_rules {
    ($ty:ident) => {
        $crate::bindings::notification_rules::export_world!(
            $ty with_types_in $crate::bindings::notification_rules
        );
    };
}

/// Exports a [`formats::ExportFormat`] implementation as the component's
/// `portal:plugin/formats@0.1.0` interface.
///
/// Call it once, at the root of the plugin crate, with the name of the type
/// (an identifier, not a path).
///
/// The export exists only in the WebAssembly build. Natively the crate is an
/// ordinary library, so tests and benchmarks can run the very same writer
/// outside the sandbox, several formats in one binary.
#[macro_export]
macro_rules! export_export_format {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export_format::export_world!(
            $ty with_types_in $crate::bindings::export_format
        );
    };
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn lookup_prefers_the_last_pair() {
        let pairs = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "3".to_string()),
        ];
        assert_eq!(lookup(&pairs, "a"), Some("3"));
        assert_eq!(lookup(&pairs, "b"), Some("2"));
        assert_eq!(lookup(&pairs, "c"), None);
    }
}
