//! Host bindings generated from the plugin contract (`plugin-api/wit/v0.1.0`).
//!
//! One host world includes the three plugin worlds so that the shared interfaces (`types`,
//! `logging`) are generated once. A plugin exports only the interfaces of the worlds it
//! implements, so the host never instantiates this world as a whole: it looks each exported
//! interface up on its own through the generated `GuestIndices` (see `loaded.rs`).
//!
//! Nothing generated here leaves `server/src/plugins/`.

wasmtime::component::bindgen!({
    path: "../plugin-api/wit/v0.1.0",
    inline: "
        package portal:host;

        world plugin {
            include portal:plugin/role-set@0.1.0;
            include portal:plugin/notification-rules@0.1.0;
            include portal:plugin/export-format@0.1.0;
        }
    ",
    world: "portal:host/plugin",
});

pub use exports::portal::plugin::{formats, notifications, roles};
pub use portal::plugin::logging;
pub use portal::plugin::types::PluginError;

/// The exported interface names the host knows, by world.
pub const ROLES_EXPORT: &str = "portal:plugin/roles@0.1.0";
pub const NOTIFICATIONS_EXPORT: &str = "portal:plugin/notifications@0.1.0";
pub const FORMATS_EXPORT: &str = "portal:plugin/formats@0.1.0";
