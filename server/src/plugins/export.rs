//! Exports: a fresh instance under the export limits, fed packed row batches, its output
//! streamed as it comes.
//!
//! [`ExportSession`] is the synchronous core (one exporter resource in one store).
//! [`Export`] runs a session on a blocking thread, off the tokio workers, between two bounded
//! channels: row batches in, byte chunks out. The bounds give back-pressure both ways, so a
//! slow client slows the database reads and a million-row export never sits in memory.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tokio::sync::mpsc;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::bindings::formats;
use super::convert;
use super::engine::{CallLimits, PluginEngine};
use super::failure::{Cause, PluginFailure};
use super::probe::Case;
use super::recorder::Recorder;
use super::registry::Bound;
use super::sandbox::{self, Ctx};
use super::types::{Column, RowBatch};

/// One export in progress, driven synchronously. Dropping it without [`Self::finish`]
/// abandons the export (the client cancelled).
pub struct ExportSession {
    bound: Bound,
    store: Store<Ctx>,
    guest: formats::Guest,
    exporter: Option<ResourceAny>,
    limits: CallLimits,
    written: u64,
    /// Time spent in the plugin so far: all of an export's calls share `limits.deadline`.
    spent: Duration,
    /// Fuel the last call used, for `portal plugin test` and the benchmarks.
    pub last_fuel: u64,
}

impl std::fmt::Debug for ExportSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSession")
            .field("plugin", &self.bound.plugin.id())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl ExportSession {
    /// Instantiates the plugin and opens an exporter for a table.
    pub fn open(
        engine: &PluginEngine,
        bound: Bound,
        agency: &str,
        format: &str,
        title: &str,
        columns: &[Column],
    ) -> Result<Self, PluginFailure> {
        let limits = engine.export_limits();
        let plugin = bound.plugin.clone();
        plugin.counters.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let opened = (|| {
            let (mut store, instance) =
                plugin.instantiate(engine, agency, &bound.granted, limits)?;
            let indices = plugin.formats_export.as_ref().ok_or_else(|| {
                plugin.failure(
                    "open",
                    Cause::BadAnswer("the plugin does not implement export-format".into()),
                )
            })?;
            let guest = indices
                .load(&mut store, &instance)
                .map_err(|e| sandbox::failure(&store, "open", limits, e))?;
            sandbox::arm(&mut store, "open", limits);
            let columns = convert::columns_out(columns);
            let exporter = guest
                .exporter()
                .call_open(&mut store, format, title, &columns)
                .map_err(|e| sandbox::failure(&store, "open", limits, e))?
                .map_err(|e| plugin.failure("open", convert::reported(e)))?;
            let last_fuel = sandbox::fuel_used(&store, limits);
            Ok(Self {
                bound: bound.clone(),
                store,
                guest,
                exporter: Some(exporter),
                limits,
                written: 0,
                spent: started.elapsed(),
                last_fuel,
            })
        })();
        if opened.is_err() {
            plugin.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        opened
    }

    /// Hands the plugin the next rows and returns the bytes it has ready.
    pub fn write(&mut self, batch: RowBatch) -> Result<Vec<u8>, PluginFailure> {
        self.write_back(batch).0
    }

    /// Like [`Self::write`], giving the batch back (to keep with a failure).
    pub fn write_back(&mut self, batch: RowBatch) -> (Result<Vec<u8>, PluginFailure>, RowBatch) {
        let batch = formats::RowBatch {
            data: batch.data,
            ends: batch.ends,
            nulls: batch.nulls,
        };
        let written = self.step("write-batch", |guest, store, exporter| {
            guest.exporter().call_write_batch(store, exporter, &batch)
        });
        let batch = RowBatch {
            data: batch.data,
            ends: batch.ends,
            nulls: batch.nulls,
        };
        (written, batch)
    }

    /// Ends the table and returns the last bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, PluginFailure> {
        let bytes = self.step("finish", |guest, store, exporter| {
            guest.exporter().call_finish(store, exporter)
        })?;
        if let Some(exporter) = self.exporter.take() {
            // The instance is dropped with the store; a failure here changes nothing.
            let _ = exporter.resource_drop(&mut self.store);
        }
        Ok(bytes)
    }

    /// Peak linear memory of the instance so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        sandbox::peak_memory(&self.store)
    }

    fn step(
        &mut self,
        hook: &'static str,
        call: impl FnOnce(
            &formats::Guest,
            &mut Store<Ctx>,
            ResourceAny,
        ) -> wasmtime::Result<Result<Vec<u8>, super::bindings::PluginError>>,
    ) -> Result<Vec<u8>, PluginFailure> {
        let plugin = self.bound.plugin.clone();
        let result = (|| {
            let exporter = self.exporter.ok_or_else(|| {
                plugin.failure(hook, Cause::BadAnswer("the exporter is spent".into()))
            })?;
            // What is left of the export's time, measured from the start of its first call.
            let left = self.limits.deadline.saturating_sub(self.spent);
            if left.is_zero() {
                return Err(plugin.failure(hook, Cause::Timeout(self.limits.deadline)));
            }
            let started = Instant::now();
            sandbox::arm(
                &mut self.store,
                hook,
                CallLimits {
                    deadline: left,
                    ..self.limits
                },
            );
            let outcome = call(&self.guest, &mut self.store, exporter);
            self.spent += started.elapsed();
            self.last_fuel = sandbox::fuel_used(&self.store, self.limits);
            let bytes = outcome
                .map_err(|e| sandbox::failure(&self.store, hook, self.limits, e))?
                .map_err(|e| plugin.failure(hook, convert::reported(e)))?;
            self.written += bytes.len() as u64;
            if self.written > self.limits.output {
                return Err(plugin.failure(
                    hook,
                    Cause::OutputTooLarge {
                        limit: self.limits.output,
                    },
                ));
            }
            Ok(bytes)
        })();
        if result.is_err() {
            // Spent: a failed exporter is never called again.
            self.exporter = None;
            plugin.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

/// Batches queued between the request and the export thread.
const ROWS_IN_FLIGHT: usize = 2;
/// Chunks queued between the export thread and the response.
const CHUNKS_IN_FLIGHT: usize = 4;

/// An export running on a blocking thread. Send batches to [`Self::rows`] and drop it to
/// finish; read [`Self::bytes`] to the end. A failure arrives as the last item of `bytes`, so
/// the client sees a broken download, never a truncated file that looks whole.
#[derive(Debug)]
pub struct Export {
    pub rows: RowSender,
    pub bytes: ByteStream,
}

/// Where rows go. Dropping it ends the table (the plugin's `finish` runs).
#[derive(Debug, Clone)]
pub struct RowSender(mpsc::Sender<RowBatch>);

/// The export stopped (it failed, or the bytes side was dropped): stop sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the export has stopped")]
pub struct ExportStopped;

impl RowSender {
    pub async fn send(&self, batch: RowBatch) -> Result<(), ExportStopped> {
        self.0.send(batch).await.map_err(|_| ExportStopped)
    }
}

/// The export's output, chunk by chunk: a stream for `axum::body::Body::from_stream`.
#[derive(Debug)]
pub struct ByteStream(mpsc::Receiver<Result<Bytes, PluginFailure>>);

impl ByteStream {
    /// The next chunk; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes, PluginFailure>> {
        self.0.recv().await
    }
}

impl futures_core::Stream for ByteStream {
    type Item = Result<Bytes, PluginFailure>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

impl Export {
    /// Starts an export; a failure is kept through `recorder` with the format, the columns
    /// and the batch it failed on.
    pub(super) fn start(
        engine: PluginEngine,
        bound: Bound,
        agency: String,
        format: String,
        title: String,
        columns: Vec<Column>,
        recorder: Option<Recorder>,
    ) -> Self {
        let (rows_tx, mut rows_rx) = mpsc::channel::<RowBatch>(ROWS_IN_FLIGHT);
        let (bytes_tx, bytes_rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let plugin = Arc::clone(&bound.plugin);
        tokio::task::spawn_blocking(move || {
            let send = |chunk: Result<Vec<u8>, PluginFailure>, batch: Option<&RowBatch>| match chunk
            {
                Ok(bytes) if bytes.is_empty() => true,
                Ok(bytes) => bytes_tx.blocking_send(Ok(Bytes::from(bytes))).is_ok(),
                Err(failure) => {
                    tracing::error!(%agency, error = %failure, "export failed");
                    if let Some(recorder) = &recorder {
                        let input = Case::export(&format, &columns, batch);
                        recorder.keep(&agency, &failure, &input);
                    }
                    let _ = bytes_tx.blocking_send(Err(failure));
                    false
                }
            };
            let mut session =
                match ExportSession::open(&engine, bound, &agency, &format, &title, &columns) {
                    Ok(session) => session,
                    Err(failure) => {
                        send(Err(failure), None);
                        return;
                    }
                };
            while let Some(batch) = rows_rx.blocking_recv() {
                let (written, batch) = session.write_back(batch);
                if !send(written, Some(&batch)) {
                    return;
                }
            }
            send(session.finish(), None);
            tracing::debug!(plugin = plugin.id(), %format, "export finished");
        });
        Self {
            rows: RowSender(rows_tx),
            bytes: ByteStream(bytes_rx),
        }
    }
}
