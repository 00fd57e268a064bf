//! The connections one process holds open, capped at `server.max_connections`.
//!
//! Each open socket costs a file descriptor and buffers, so thousands of idle ones (a client
//! that connects and says nothing, or kept-alive connections nobody reuses) could starve the
//! people using the portal. At the cap, the oldest connection with no request in flight is
//! closed to make room, the way a busy web server reuses its idle keep-alive connections:
//! idle clients lose nothing but a socket they reopen. Only when every connection is in the
//! middle of a request is a newcomer refused, with a plain `503` and `Retry-After`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};

/// File descriptors kept back from the connection cap for the database pool, plugin files,
/// mail and logs.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Every connection this process holds open.
#[derive(Debug)]
pub struct Connections {
    cap: usize,
    /// By age: the first entry is the oldest connection.
    open: Mutex<BTreeMap<u64, Arc<Tracked>>>,
    next_id: AtomicU64,
    stop: watch::Sender<bool>,
    /// Connections not yet closed, counting those evicted but finishing a request.
    alive: AtomicUsize,
    /// Rung when the last connection closes.
    all_closed: Notify,
}

/// What is known of one connection.
#[derive(Debug, Default)]
struct Tracked {
    /// Requests whose response is not yet written in full.
    in_flight: AtomicUsize,
    /// Rung when the connection is closed to make room for a newer one.
    evicted: Notify,
}

/// Why a connection is asked to close before its client hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Room was needed for a newer connection.
    Evicted,
    /// The server is stopping.
    Stopping,
}

impl Connections {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            stop: watch::Sender::new(false),
            alive: AtomicUsize::new(0),
            all_closed: Notify::new(),
        })
    }

    /// Takes a place for one more connection. At the cap the oldest connection with no
    /// request in flight is told to close and its place is taken; `None` when every
    /// connection is busy.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= self.cap {
            let idle = open
                .iter()
                .find(|(_, tracked)| tracked.in_flight.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id)?;
            if let Some(evicted) = open.remove(&idle) {
                evicted.evicted.notify_one();
                crate::metrics::connection_closed_for_room();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracked = Arc::new(Tracked::default());
        open.insert(id, tracked.clone());
        self.alive.fetch_add(1, Ordering::AcqRel);
        crate::metrics::connections_open(open.len());
        Some(Slot {
            id,
            tracked,
            connections: self.clone(),
            stop: self.stop.subscribe(),
        })
    }

    /// Asks every connection to finish the request it is serving and close.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Completes once every connection is closed.
    pub async fn all_closed(&self) {
        loop {
            let closed = self.all_closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.alive.load(Ordering::Acquire) == 0 {
                return;
            }
            closed.await;
        }
    }
}

/// One admitted connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    tracked: Arc<Tracked>,
    connections: Arc<Connections>,
    stop: watch::Receiver<bool>,
}

impl Slot {
    /// A handle that marks this connection's requests in flight.
    pub fn requests(&self) -> Requests {
        Requests(self.tracked.clone())
    }

    /// Whether a request is being served on this connection.
    pub fn serving(&self) -> bool {
        self.tracked.in_flight.load(Ordering::Acquire) > 0
    }

    /// Completes when this connection should close.
    pub async fn closing(&mut self) -> Closing {
        tokio::select! {
            () = self.tracked.evicted.notified() => Closing::Evicted,
            _ = self.stop.wait_for(|stopping| *stopping) => Closing::Stopping,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.remove(&self.id);
        crate::metrics::connections_open(open.len());
        if self.connections.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.connections.all_closed.notify_waiters();
        }
    }
}

/// Marks the requests in flight on one connection.
#[derive(Debug, Clone)]
pub struct Requests(Arc<Tracked>);

impl Requests {
    /// Marks a request in flight until the returned guard is dropped.
    pub fn busy(&self) -> Busy {
        self.0.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(self.0.clone())
    }
}

/// A request in flight on a connection, until its response is written.
#[derive(Debug)]
pub struct Busy(Arc<Tracked>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection that found no room `503` and closes it, giving up on a client that
/// does not read within a second.
pub async fn refuse(mut stream: TcpStream) {
    const BODY: &str = "The portal is busy. Please try again in a few seconds.\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    crate::metrics::connection_refused();
    let written = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        tracing::debug!("a refused connection did not take its answer");
    }
}

/// The cap in force: `configured`, lowered when the process may not open that many files.
/// The soft limit on open files is first raised as far as the hard limit allows.
pub fn cap(configured: usize) -> usize {
    let Some(files) = open_file_limit() else {
        return configured;
    };
    let fits = usize::try_from(files.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
    if fits < configured {
        tracing::warn!(
            configured,
            open_file_limit = files,
            in_force = fits,
            "server.max_connections is above what the open-file limit allows; raise the \
             limit (ulimit -n, LimitNOFILE=) or lower the setting"
        );
        return fits.max(1);
    }
    configured
}

/// The process's limit on open files after raising the soft limit to the hard one.
#[cfg(target_os = "linux")]
fn open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return limit.maximum;
        }
    }
    limit.current
}

#[cfg(not(target_os = "linux"))]
fn open_file_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let connections = Connections::new(2);
        let mut oldest = connections.admit().expect("room");
        let second = connections.admit().expect("room");
        let _second_serving = second.requests().busy();
        let third = connections.admit().expect("room made");
        assert_eq!(oldest.closing().await, Closing::Evicted);
        let _third_serving = third.requests().busy();
        assert!(connections.admit().is_none(), "both left are busy");
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_a_newcomer_is_refused() {
        let connections = Connections::new(1);
        let only = connections.admit().expect("room");
        let busy = only.requests().busy();
        assert!(connections.admit().is_none());
        drop(busy);
        assert!(
            connections.admit().is_some(),
            "idle again, so it makes room"
        );
    }

    #[tokio::test]
    async fn stopping_reaches_every_connection_and_a_closed_one_frees_its_place() {
        let connections = Connections::new(1);
        let mut only = connections.admit().expect("room");
        connections.stop();
        assert_eq!(only.closing().await, Closing::Stopping);
        drop(only);
        connections.all_closed().await;
        assert!(connections.admit().is_some());
    }
}
