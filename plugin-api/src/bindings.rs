//! Bindings generated from `wit/v0.1.0`, one module per world.
//!
//! Each world gets its own `generate!` so that a plugin's component exports
//! only the interfaces it implements: with `pub_export_macro`, the full
//! description of a world (its exports) is emitted where the export macro is
//! invoked, in the plugin, and this crate only carries import descriptions.
//! The shared `types` and `logging` interfaces are generated once, in
//! `shared`, and the worlds point at them through `with`, so a
//! `PluginError` is one Rust type whichever world it travels through.

pub mod shared {
    wit_bindgen::generate!({
        path: "wit/v0.1.0",
        inline: "
            package portal:sdk;
            world shared {
                import portal:plugin/types@0.1.0;
                import portal:plugin/logging@0.1.0;
            }
        ",
        world: "portal:sdk/shared",
        generate_all,
        generate_unused_types: true,
        additional_derives: [PartialEq, Eq],
    });
}

/// Generates one world's bindings in module `$module`. The export macro is
/// always invoked with `with_types_in` (see the crate's `export_*!`
/// macros), so it needs no default bindings path.
macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wit_bindgen::generate!({
                path: "wit/v0.1.0",
                world: $world,
                with: {
                    "portal:plugin/types@0.1.0": crate::bindings::shared::portal::plugin::types,
                    "portal:plugin/logging@0.1.0": crate::bindings::shared::portal::plugin::logging,
                },
                additional_derives: [PartialEq, Eq],
                pub_export_macro: true,
                export_macro_name: "export_world",
            });
        }
    };
}

world!(role_set, "portal:plugin/role-set@0.1.0");
world!(notification_rules, "portal:plugin/notification-rules@0.1.0");
world!(export_format, "portal:plugin/export-format@0.1.0");
