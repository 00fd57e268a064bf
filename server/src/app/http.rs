//! How the server speaks HTTP to clients: the accept loop, and the time limits on what a
//! client sends. `axum::serve` has neither a deadline for the request head nor one for the
//! body, so a client trickling bytes (or sending none) could hold a connection for ever; here
//! the head must arrive within `server.request_header_timeout_seconds` (hyper closes the
//! connection otherwise) and the body within `server.request_body_timeout_seconds` (408).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::AppState;
use super::connections::{self, Closing, Connections, Slot};
use crate::error::{AppError, ErrorInfo};

/// Serves `router` on every connection `listener` accepts until `stop` completes, then stops
/// accepting and waits for the requests in flight. At most `max_connections` are held open
/// (see [`connections`](super::connections)).
///
/// HTTP/1.1 only: TLS and HTTP/2 belong to the load balancer or proxy in front.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    max_connections: usize,
    stop: impl Future<Output = ()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connections = Connections::new(max_connections);
    let mut stop = pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // pause briefly rather than spin, and go on serving the others.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(slot) = connections.admit() else {
            tracing::warn!(%remote, "refused a connection: every connection is serving a request");
            tokio::spawn(connections::refuse(stream));
            continue;
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        tokio::spawn(serve_connection(
            builder.clone(),
            stream,
            remote,
            router.clone(),
            slot,
        ));
    }
    drop(listener);
    connections.stop();
    connections.all_closed().await;
}

/// Serves one connection until its client hangs up or is too slow with a request head, or
/// until it is asked to close: at once when idle, after the request in flight otherwise.
async fn serve_connection(
    builder: hyper::server::conn::http1::Builder,
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    mut slot: Slot,
) {
    let requests = slot.requests();
    let service = tower::service_fn(move |request: Request<Incoming>| {
        let busy = requests.busy();
        let router = router.clone();
        async move {
            let response = router.oneshot(with_remote(request, remote)).await;
            // The request stays in flight until its body is written.
            response.map(|response| {
                response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &busy;
                        frame
                    }))
                })
            })
        }
    });
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut connection = pin!(connection);
    let finished = tokio::select! {
        finished = connection.as_mut() => finished,
        closing = slot.closing() => {
            if closing == Closing::Evicted && !slot.serving() {
                tracing::debug!(%remote, "closed an idle connection to make room");
                return;
            }
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    // A client that hangs up, or is too slow with its request head, ends here.
    if let Err(err) = finished {
        tracing::debug!(%err, %remote, "connection closed");
    }
}

/// The peer's address for [`ConnectInfo`], as `into_make_service_with_connect_info` gives it.
fn with_remote(request: Request<Incoming>, remote: SocketAddr) -> Request {
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(ConnectInfo(remote));
    request
}

/// Middleware: the request body must arrive within `server.request_body_timeout_seconds` of
/// the first read; a late one fails the read and the request is answered 408. A body over
/// `server.max_body_bytes` is answered 413. Both come back as [`AppError`]s, so they are
/// rendered like every other error (themed page or problem object).
pub async fn limit_request_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let timeout = Duration::from_secs(state.settings().server.request_body_timeout_seconds);
    let timed_out = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let body = Body::new(DeadlineBody {
        inner: body,
        timeout,
        deadline: None,
        timed_out: timed_out.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if timed_out.load(Ordering::Relaxed) {
        tracing::warn!(path, "refused a request whose body did not arrive in time");
        return AppError::TimedOut.into_response();
    }
    // axum's body limit answers 413 in plain text; give it the usual error rendering.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response.extensions().get::<ErrorInfo>().is_none()
    {
        return AppError::TooLarge.into_response();
    }
    response
}

/// A request body that fails once its deadline passes, counted from the first read.
struct DeadlineBody {
    inner: Body,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set when the deadline passed, for [`limit_request_body`] to answer 408.
    timed_out: Arc<AtomicBool>,
}

/// The error a late body fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let timeout = this.timeout;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
