//! What a plugin writes to its standard output and error: kept in memory for the call (up to
//! a budget, the rest dropped), written to the server's log with the plugin's name after the
//! call, and read for the message of a panic or an uncaught exception when the call traps.
//!
//! Writing never waits and never fails, so a guest that prints (Rust's panic handler does,
//! Python prints its traceback) cannot disturb the host.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes of output kept per call; past them output is dropped (and the log says so).
pub const OUTPUT_BYTES_PER_CALL: usize = 16 * 1024;

/// The output of one store's calls, shared by its stdout and stderr streams.
#[derive(Debug, Clone, Default)]
pub struct GuestOutput {
    captured: Arc<Mutex<Captured>>,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
}

/// What one call wrote: its text (lossy UTF-8) and how many bytes past the budget were dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub dropped: usize,
}

impl GuestOutput {
    /// Takes what was written since the last take.
    pub fn take(&self) -> Written {
        let mut captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        let written = Written {
            text: String::from_utf8_lossy(&captured.bytes).into_owned(),
            dropped: captured.dropped,
        };
        captured.bytes.clear();
        captured.dropped = 0;
        written
    }

    /// The message of a panic (Rust) or an uncaught exception (Python's last traceback line,
    /// JavaScript's `Error: …`) in what was written, if there is one.
    pub fn crash_message(&self) -> Option<String> {
        let captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        crash_message(&String::from_utf8_lossy(&captured.bytes))
    }

    fn write(&self, bytes: &[u8]) {
        let mut captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        let room = OUTPUT_BYTES_PER_CALL.saturating_sub(captured.bytes.len());
        let kept = bytes.len().min(room);
        captured.bytes.extend_from_slice(&bytes[..kept]);
        captured.dropped += bytes.len() - kept;
    }
}

/// Longest crash message kept: enough for a sentence, never a page.
const CRASH_MESSAGE_MAX: usize = 300;

fn crash_message(text: &str) -> Option<String> {
    let message = if let Some(at) = text.find("panicked at ") {
        // `thread '…' panicked at src/lib.rs:10:5:\nthe message\nnote: run with …`
        let after = &text[at..];
        let body = after.split_once(":\n").map_or("", |(_, body)| body);
        let body = body.split("\nnote: ").next().unwrap_or_default();
        body.trim().to_owned()
    } else if let Some(at) = text.find("memory allocation of ") {
        text[at..].lines().next().unwrap_or_default().to_owned()
    } else if text.contains("Traceback (most recent call last)") {
        text.lines()
            .rev()
            .find(|line| !line.trim().is_empty() && !line.starts_with(' '))
            .unwrap_or_default()
            .trim()
            .to_owned()
    } else {
        text.lines()
            .find(|line| line.contains("Error: ") || line.starts_with("Uncaught "))?
            .trim()
            .to_owned()
    };
    (!message.is_empty()).then(|| printable(&message, CRASH_MESSAGE_MAX))
}

/// Text safe for one log line or one line of a page: control characters (line breaks
/// included) become spaces, and it is cut at `max` bytes on a character boundary.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASI 0.3 guests use this, and the host links WASI 0.2 alone.
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        GuestOutput::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_messages_are_found_in_what_guests_print() {
        let rust = "\nthread '<unnamed>' panicked at src/lib.rs:12:9:\nno such \
                    timesheet: 7\nnote: run with `RUST_BACKTRACE=1` environment variable\n";
        assert_eq!(crash_message(rust).as_deref(), Some("no such timesheet: 7"));
        let oom = "memory allocation of 33554432 bytes failed\n";
        assert_eq!(
            crash_message(oom).as_deref(),
            Some("memory allocation of 33554432 bytes failed")
        );
        let python = "Traceback (most recent call last):\n  File \"app.py\", line 3, in \
                      authorize\n    raise ValueError(\"bad hours\")\nValueError: bad hours\n";
        assert_eq!(
            crash_message(python).as_deref(),
            Some("ValueError: bad hours")
        );
        let javascript = "Uncaught TypeError: x is undefined\n";
        assert_eq!(
            crash_message(javascript).as_deref(),
            Some("Uncaught TypeError: x is undefined")
        );
        assert_eq!(crash_message("just a log line\n"), None);
    }

    #[test]
    fn messages_lose_line_breaks_and_length() {
        let rust = "thread 'x' panicked at a.rs:1:1:\nline one\r\nInjected: yes\n";
        assert_eq!(
            crash_message(rust).as_deref(),
            Some("line one  Injected: yes")
        );
        let long = "é".repeat(400);
        let cut = printable(&long, 11);
        assert_eq!(cut, "ééééé…");
    }

    #[test]
    fn output_past_the_budget_is_dropped_and_counted() {
        let output = GuestOutput::default();
        output.write(&vec![b'a'; OUTPUT_BYTES_PER_CALL - 1]);
        output.write(b"bcd");
        let written = output.take();
        assert_eq!(written.text.len(), OUTPUT_BYTES_PER_CALL);
        assert_eq!(written.dropped, 2);
        assert_eq!(output.take(), Written::default());
    }
}
