//! The one wasmtime engine of a process: its configuration (pooling allocator with explicit
//! limits, epoch interruption, fuel), the limits of each kind of call, and the epoch ticker.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How long one epoch tick is. Deadlines are whole ticks, so a 50 ms deadline fires between
/// 50 and 55 ms after the call starts.
pub const TICK: Duration = Duration::from_millis(5);

const MIB: usize = 1024 * 1024;

/// What one call may use. Hooks (roles, authorize, notifications) answer a request, so they
/// are held short and small; exports stream a whole table and get room to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall-clock time per call into the plugin, enforced by epoch interruption.
    pub deadline: Duration,
    /// Instructions per call (wasmtime fuel): stops a busy loop even when the ticker is
    /// starved of CPU.
    pub fuel: u64,
    /// Linear memory of the instance, all memories together (`StoreLimits`).
    pub memory: usize,
    /// Bytes an answer may hold once lifted into the host (hooks); for exports, the bytes
    /// of the whole output.
    pub output: u64,
}

impl CallLimits {
    /// `roles`, `authorize`, `on-event`: the contract promises 50 ms and 16 MiB.
    pub const HOOK: CallLimits = CallLimits {
        deadline: Duration::from_millis(50),
        fuel: 2_000_000_000,
        memory: 16 * MIB,
        output: MIB as u64,
    };

    /// `open`, `write-batch`, `finish`: 30 s per call and 256 MiB; `output` is replaced by
    /// the operator's `plugins.max_export_bytes`.
    pub const EXPORT: CallLimits = CallLimits {
        deadline: Duration::from_secs(30),
        fuel: 500_000_000_000,
        memory: 256 * MIB,
        output: 1 << 30,
    };

    /// The static answers (`roles()`, `formats()`) asked once per load. A plugin in a
    /// language with a runtime (CPython) may start slowly; this runs once, off the hot path.
    pub const LOAD: CallLimits = CallLimits {
        deadline: Duration::from_secs(2),
        fuel: 20_000_000_000,
        memory: 64 * MIB,
        output: 4 * MIB as u64,
    };

    /// Deadline in epoch ticks, at least one.
    pub fn ticks(&self) -> u64 {
        (self.deadline.as_nanos() / TICK.as_nanos()).max(1) as u64
    }
}

/// The largest memory any store may have: the pool reserves this much per slot.
const MAX_MEMORY: usize = 256 * MIB;

/// Builds the engine. `max_instances` is how many plugin instances may be alive at once in
/// this process (one per plugin per request in flight, plus one per export running); the
/// pool is sized from it, because the default pool holds only a few hundred small components.
pub fn build(max_instances: u32) -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let instances = max_instances.max(8);
    pool.total_component_instances(instances)
        // A Rust component has 3 core instances (the module, the WASI adapter shims); the
        // componentize-py CPython component 38.
        .max_core_instances_per_component(64)
        .total_core_instances(instances.saturating_mul(8))
        .max_memories_per_component(4)
        .total_memories(instances.saturating_mul(2))
        .max_tables_per_component(8)
        .total_tables(instances.saturating_mul(4))
        .table_elements(64 * 1024)
        .max_memory_size(MAX_MEMORY)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(2 << 20)
        .total_stacks(instances)
        // Keeping the first pages of a reused slot mapped makes a fresh instance cheaper;
        // wasmtime zeroes them, so nothing leaks between instances.
        .linear_memory_keep_resident(MIB)
        .table_keep_resident(64 * 1024);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .epoch_interruption(true)
        .consume_fuel(true)
        .wasm_component_model(true);
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// Increments the engine's epoch every [`TICK`] on a thread of its own, until the engine is
/// dropped. Deadlines are counted in these ticks.
pub fn start_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            // A sleep may end late on a loaded machine; the ticks it missed are made up, so a
            // deadline is wall-clock time, never stretched by a starved ticker.
            let started = std::time::Instant::now();
            let mut ticked: u128 = 0;
            loop {
                std::thread::sleep(TICK);
                let Some(engine) = weak.upgrade() else {
                    break;
                };
                let due = started.elapsed().as_nanos() / TICK.as_nanos();
                while ticked < due {
                    engine.increment_epoch();
                    ticked += 1;
                }
            }
        })?;
    Ok(())
}

/// The engine and the process-wide settings plugins run under.
#[derive(Clone)]
pub struct PluginEngine {
    pub engine: Engine,
    /// The output cap of one export, in bytes (`plugins.max_export_bytes`).
    pub max_export_bytes: u64,
    /// The time one export may spend in its plugin (`plugins.export_seconds`).
    pub export_deadline: Duration,
    /// Counts of instantiations, shared so tests and `portal plugin list` can read them.
    pub instantiations: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("max_export_bytes", &self.max_export_bytes)
            .finish_non_exhaustive()
    }
}

impl PluginEngine {
    pub fn new(
        max_instances: u32,
        max_export_bytes: u64,
        export_deadline: Duration,
    ) -> anyhow::Result<Self> {
        let engine = build(max_instances)?;
        start_ticker(&engine)?;
        Ok(Self {
            engine,
            max_export_bytes,
            export_deadline,
            instantiations: Arc::default(),
        })
    }

    /// Limits of an export, with the operator's output cap and deadline (for all of the
    /// export's calls together).
    pub fn export_limits(&self) -> CallLimits {
        CallLimits {
            output: self.max_export_bytes,
            deadline: self.export_deadline,
            ..CallLimits::EXPORT
        }
    }
}
