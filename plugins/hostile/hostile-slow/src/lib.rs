//! Test fixture: an export format whose every call takes 400 ms of real time, read from the
//! clock the agency grants (see ../README.md). Never shipped.

use std::time::{Duration, Instant};

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{Column, ExportFormat, Format, Rows, TableWriter};

/// Real time each call takes.
const PER_CALL: Duration = Duration::from_millis(400);

fn take_time() {
    let started = Instant::now();
    while started.elapsed() < PER_CALL {
        std::hint::spin_loop();
    }
}

struct Slow;

impl ExportFormat for Slow {
    type Writer = SlowWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new("slow", "Slow", "text/plain", "txt")])
    }

    fn open(_: &str, _: &str, _: Vec<Column>) -> Result<SlowWriter, PluginError> {
        Ok(SlowWriter)
    }
}

/// An export in progress.
#[derive(Debug)]
pub struct SlowWriter;

impl TableWriter for SlowWriter {
    fn write_rows(&mut self, _: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        take_time();
        Ok(b"row\n".to_vec())
    }

    fn finish(self) -> Result<Vec<u8>, PluginError> {
        Ok(Vec::new())
    }
}

portal_plugin_api::export_export_format!(Slow);
