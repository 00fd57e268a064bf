//! Serving: the accept loop, the connection cap, the background workers, a graceful stop.

mod connections;
pub(crate) mod http;

use anyhow::Context;

use crate::router::router;
use crate::state::AppState;

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listen = state.settings().server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let public_url = state.settings().server.public_url.clone();
    tracing::info!(%bound, %public_url, backend = state.db().backend.name(), "portal is serving");
    // One plain line on stdout, so scripts can learn the port when `listen` asked for port 0.
    println!("listening on http://{bound}");
    let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
    let worker = crate::mail::worker::spawn(&state, worker_stop)?;
    let poll = state.settings().plugins.reload_poll_ms;
    if poll > 0 {
        state
            .plugins()
            .watch(state.db().clone(), std::time::Duration::from_millis(poll));
    }
    let header_timeout =
        std::time::Duration::from_secs(state.settings().server.request_header_timeout_seconds);
    let max_connections = connections::cap(state.settings().server.max_connections);
    http::serve(
        listener,
        router(state),
        header_timeout,
        max_connections,
        shutdown_signal(),
    )
    .await;
    // The worker finishes the email it is sending; the rest stays queued for the next start.
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        worker.await.context("the outbox worker panicked")?;
    }
    tracing::info!("portal stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
