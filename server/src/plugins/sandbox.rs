//! What a plugin instance runs in: its store data (WASI with nothing granted unless the agency
//! grants it, the logging budget, the memory limiter), and how a call's failure is told apart
//! (deadline, fuel, memory, trap).

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::logging;
use super::engine::{CallLimits, PluginEngine};
use super::failure::{Cause, PluginFailure};
use super::manifest::Capability;
use super::output::GuestOutput;

/// Who a store runs for; every log line and failure carries it.
#[derive(Debug, Clone)]
pub struct Tags {
    pub agency: String,
    pub plugin: String,
    pub version: String,
}

/// Lines and bytes of log a plugin may write per call; past them lines are dropped.
const LOG_LINES_PER_CALL: u32 = 64;
const LOG_BYTES_PER_CALL: usize = 16 * 1024;
const LOG_LINE_MAX: usize = 1024;

/// The data of one plugin store.
pub struct Ctx {
    wasi: WasiCtx,
    /// What the guest writes to stdout and stderr.
    output: GuestOutput,
    table: ResourceTable,
    limiter: Limiter,
    pub tags: Tags,
    /// The hook being run, for log lines.
    pub hook: &'static str,
    log_lines: u32,
    log_bytes: usize,
    log_dropped: bool,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("tags", &self.tags)
            .field("hook", &self.hook)
            .finish_non_exhaustive()
    }
}

/// `StoreLimits` enforces the memory cap; this wrapper also remembers the peak and whether a
/// growth was refused, so a trap that follows can be reported as what it is.
struct Limiter {
    limits: StoreLimits,
    peak: usize,
    refused: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak = self.peak.max(desired);
        } else {
            self.refused = true;
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl super::bindings::portal::plugin::types::Host for Ctx {}

impl logging::Host for Ctx {
    fn log(&mut self, level: logging::Level, message: String) {
        if self.log_lines >= LOG_LINES_PER_CALL || self.log_bytes >= LOG_BYTES_PER_CALL {
            if !self.log_dropped {
                self.log_dropped = true;
                tracing::warn!(
                    agency = %self.tags.agency, plugin = %self.tags.plugin,
                    version = %self.tags.version, hook = self.hook,
                    "plugin log budget spent: further lines of this call are dropped"
                );
            }
            return;
        }
        self.log_lines += 1;
        self.log_bytes += message.len();
        let message = truncate(&message, LOG_LINE_MAX);
        let Tags {
            agency,
            plugin,
            version,
        } = &self.tags;
        let hook = self.hook;
        match level {
            logging::Level::Trace => {
                tracing::trace!(%agency, %plugin, %version, hook, "{message}")
            }
            logging::Level::Debug => {
                tracing::debug!(%agency, %plugin, %version, hook, "{message}")
            }
            logging::Level::Info => tracing::info!(%agency, %plugin, %version, hook, "{message}"),
            logging::Level::Warn => tracing::warn!(%agency, %plugin, %version, hook, "{message}"),
            logging::Level::Error => {
                tracing::error!(%agency, %plugin, %version, hook, "{message}")
            }
        }
    }
}

impl Ctx {
    /// Writes what the guest printed since the last call to the log, a line at a time under
    /// the call's log budget.
    fn log_output(&mut self) {
        let written = self.output.take();
        for line in written.text.lines().filter(|l| !l.trim().is_empty()) {
            logging::Host::log(self, logging::Level::Info, format!("output: {line}"));
        }
        if written.dropped > 0 {
            tracing::warn!(
                agency = %self.tags.agency, plugin = %self.tags.plugin,
                version = %self.tags.version, hook = self.hook,
                dropped = written.dropped,
                "plugin output past its budget was dropped"
            );
        }
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        self.log_output();
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The fixed instant a plugin without the `clock` capability sees: 2000-01-01T00:00:00Z.
const FIXED_WALL_CLOCK: Duration = Duration::from_secs(946_684_800);

struct FixedWallClock;

impl wasmtime_wasi::HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        FIXED_WALL_CLOCK
    }
}

struct FixedMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// The bytes a plugin without the `random` capability reads as "random": the same every run,
/// so a plugin cannot tell requests apart by them.
const DETERMINISTIC_BYTES: [u8; 8] = [0x9e, 0x37, 0x79, 0xb9, 0x7f, 0x4a, 0x7c, 0x15];

/// WASI as a plugin sees it: no files, no environment, no arguments, stdout and stderr into
/// the plugin's log, and a fixed clock, deterministic random bytes and no network unless
/// granted.
fn wasi(granted: &[Capability], output: &GuestOutput) -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(output.clone()).stderr(output.clone());
    if !granted.contains(&Capability::Clock) {
        builder
            .wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock);
    }
    if !granted.contains(&Capability::Random) {
        builder
            .secure_random(wasmtime_wasi::Deterministic::new(
                DETERMINISTIC_BYTES.to_vec(),
            ))
            .insecure_random(wasmtime_wasi::Deterministic::new(
                DETERMINISTIC_BYTES.to_vec(),
            ))
            .insecure_random_seed(0);
    }
    if granted.contains(&Capability::Network) {
        builder.inherit_network().allow_ip_name_lookup(true);
    } else {
        builder
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
    }
    builder.build()
}

/// A fresh store for one request (or one export) with the limits of that kind of call.
pub fn new_store(
    engine: &PluginEngine,
    tags: Tags,
    granted: &[Capability],
    limits: CallLimits,
) -> Store<Ctx> {
    let output = GuestOutput::default();
    let ctx = Ctx {
        wasi: wasi(granted, &output),
        output,
        table: ResourceTable::new(),
        limiter: Limiter {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory)
                .instances(64)
                .tables(64)
                .memories(8)
                .build(),
            peak: 0,
            refused: false,
        },
        tags,
        hook: "instantiate",
        log_lines: 0,
        log_bytes: 0,
        log_dropped: false,
    };
    let mut store = Store::new(&engine.engine, ctx);
    store.limiter(|ctx| &mut ctx.limiter);
    arm(&mut store, "instantiate", limits);
    store
}

/// Sets the deadline and fuel for the next call, and resets the per-call log budget. Both
/// are per store and must be set before every call (and before instantiating: the start
/// functions run then).
pub fn arm(store: &mut Store<Ctx>, hook: &'static str, limits: CallLimits) {
    store.set_epoch_deadline(limits.ticks());
    // Fuel is on for every store of the engine, so this cannot fail.
    let _ = store.set_fuel(limits.fuel);
    let ctx = store.data_mut();
    ctx.log_output();
    ctx.hook = hook;
    ctx.log_lines = 0;
    ctx.log_bytes = 0;
    ctx.log_dropped = false;
    ctx.limiter.refused = false;
}

/// Peak linear memory the store reached, in bytes.
pub fn peak_memory(store: &Store<Ctx>) -> usize {
    store.data().limiter.peak
}

/// Fuel consumed since the last [`arm`].
pub fn fuel_used(store: &Store<Ctx>, limits: CallLimits) -> u64 {
    limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0))
}

/// Turns an error out of wasmtime into a failure that says what happened.
/// What a guest that aborted without printing why is said to have done.
const SILENT_ABORT: &str = "stopped on an error it did not report (an uncaught exception or a \
     panic whose message could not be printed; answer with plugin-error to say why)";

pub fn failure(
    store: &Store<Ctx>,
    hook: &'static str,
    limits: CallLimits,
    error: wasmtime::Error,
) -> PluginFailure {
    let ctx = store.data();
    let trap = error.downcast_ref::<wasmtime::Trap>();
    // A panic or an uncaught exception prints its message, then traps.
    let crash = ctx.output.crash_message();
    let cause = match (trap, crash) {
        _ if ctx.limiter.refused => Cause::Memory(limits.memory),
        (Some(wasmtime::Trap::Interrupt), _) => Cause::Timeout(limits.deadline),
        (Some(wasmtime::Trap::OutOfFuel), _) => Cause::Fuel(limits.fuel),
        (_, Some(message)) if message.starts_with("memory allocation of ") => {
            Cause::Memory(limits.memory)
        }
        (_, Some(message)) => Cause::Panicked(message),
        // Where a language aborts on an uncaught error without being able to print it (a
        // Python component built with componentize-py's `--stub-wasi`), all that is left is
        // the `unreachable` it stops at.
        (Some(wasmtime::Trap::UnreachableCodeReached), None) => {
            Cause::Panicked(SILENT_ABORT.into())
        }
        (Some(trap), None) => Cause::Trap(trap.to_string()),
        (None, None) => Cause::Trap(format!("{error:#}")),
    };
    PluginFailure::new(&ctx.tags, hook, cause)
}
