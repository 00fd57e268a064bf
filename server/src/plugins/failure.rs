//! Why a plugin call failed, named the way an operator looks for it: plugin, version, hook,
//! cause.

use std::fmt;
use std::time::Duration;

use super::output::printable;
use super::sandbox::Tags;

/// Longest text of a plugin's shown in a failure: the message is one line of a log or page.
const MESSAGE_MAX: usize = 1000;

/// One failed plugin call. Fails that operation only: the caller maps it to an error for the
/// request (or a denial, for `authorize`), and the server carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin} {version}, hook {hook}: {cause}")]
pub struct PluginFailure {
    pub plugin: String,
    pub version: String,
    pub hook: &'static str,
    pub cause: Cause,
}

impl PluginFailure {
    pub(super) fn new(tags: &Tags, hook: &'static str, cause: Cause) -> Self {
        Self {
            plugin: tags.plugin.clone(),
            version: tags.version.clone(),
            hook,
            cause,
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The call ran past its deadline and was interrupted.
    Timeout(Duration),
    /// The call used up its instruction budget.
    Fuel(u64),
    /// The instance asked for more memory than its cap (bytes).
    Memory(usize),
    /// The answer (or an export's output) was bigger than allowed (bytes).
    OutputTooLarge { limit: u64 },
    /// The plugin trapped: a bug in it.
    Trap(String),
    /// The plugin panicked (Rust) or raised an exception it did not catch (Python,
    /// JavaScript), with the message it printed.
    Panicked(String),
    /// The plugin reported an error through the WIT `plugin-error`.
    Reported { kind: &'static str, message: String },
    /// The answer broke the contract (a malformed role id, a duplicate format).
    BadAnswer(String),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(limit) => write!(f, "timed out after {} ms", limit.as_millis()),
            Self::Fuel(limit) => write!(f, "ran out of fuel ({limit} units)"),
            Self::Memory(limit) => {
                write!(f, "went past its memory limit of {} MiB", limit >> 20)
            }
            Self::OutputTooLarge { limit } => {
                write!(f, "output exceeded the limit of {limit} bytes")
            }
            Self::Trap(trap) => write!(f, "trapped: {}", printable(trap, MESSAGE_MAX)),
            Self::Panicked(message) => write!(f, "panicked: {}", printable(message, MESSAGE_MAX)),
            Self::Reported { kind, message } => {
                write!(f, "{kind}: {}", printable(message, MESSAGE_MAX))
            }
            Self::BadAnswer(problem) => write!(
                f,
                "broke the plugin contract: {}",
                printable(problem, MESSAGE_MAX)
            ),
        }
    }
}
