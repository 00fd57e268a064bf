//! The `logging` host import, usable from native tests too.

pub use crate::bindings::shared::portal::plugin::logging::Level;

/// Writes one line to Portal's log, tagged by the host with the agency, the
/// plugin and the hook. See the WIT `logging` interface for the budget.
///
/// Outside a component (a plugin's native unit tests) there is no host to
/// import from, so the line goes to stderr instead of trapping.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::shared::portal::plugin::logging::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}
