//! Failed hook calls, with the input they were given, handed to the database off the request
//! path: a writer task keeps them (`db::plugin_failures`) for the manage area's plugin page and
//! `portal plugin replay`. A burst past the queue is dropped (the log still has each failure).

use tokio::sync::mpsc;

use super::PluginFailure;
use super::probe::Case;
use crate::db::Db;
use crate::db::plugin_failures::{self, NewFailure};

/// Failures waiting for the writer.
const QUEUE: usize = 256;

/// Inputs larger than this are not kept (the failure still is).
const MOST_INPUT_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Recorder(mpsc::Sender<NewFailure>);

impl Recorder {
    /// Starts the writer; it ends when the last recorder is dropped.
    pub fn spawn(db: Db) -> Self {
        let (sender, mut queue) = mpsc::channel::<NewFailure>(QUEUE);
        tokio::spawn(async move {
            while let Some(failure) = queue.recv().await {
                if let Err(err) = plugin_failures::record(&db.pool, &failure).await {
                    tracing::warn!(%err, plugin = %failure.plugin_id, "a plugin failure could not be kept");
                }
            }
        });
        Self(sender)
    }

    /// Keeps `failure` of a call at `agency` made with `input`.
    pub fn keep(&self, agency: &str, failure: &PluginFailure, input: &Case) {
        let input = serde_json::to_string(input)
            .ok()
            .filter(|json| json.len() <= MOST_INPUT_BYTES);
        let new = NewFailure {
            agency: agency.to_owned(),
            plugin_id: failure.plugin.clone(),
            plugin_version: failure.version.clone(),
            hook: failure.hook,
            cause: failure.cause.to_string(),
            input,
        };
        if self.0.try_send(new).is_err() {
            tracing::debug!(
                "plugin failures are arriving faster than they are kept; one was dropped"
            );
        }
    }
}
