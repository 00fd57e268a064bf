//! `/healthz` (the process answers) and `/readyz` (it can serve: database reachable, every
//! agency's theme and plugins loaded) for load balancers and orchestrators. `/readyz` also
//! lists the loaded plugins with their call and error counts (`portal plugin list --server`).
//! `/metrics` is the Prometheus text: this process's counters, the plugins', the outbox.
//! `/.well-known/security.txt` (RFC 9116) says where to report a vulnerability.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/security.txt", get(security_txt))
}

/// The installation's security contacts (`security.contact`), valid for 90 days from now so
/// the file never states a stale expiry; 404 when none is configured.
async fn security_txt(State(state): State<AppState>) -> Result<Response, AppError> {
    let settings = state.settings();
    let contacts = &settings.security.contact;
    if contacts.is_empty() {
        return Err(AppError::NotFound);
    }
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|err| AppError::Internal(err.into()))?;
    let mut text = String::new();
    for contact in contacts {
        text.push_str(&format!("Contact: {contact}\n"));
    }
    text.push_str(&format!(
        "Expires: {expires}\nPreferred-Languages: en\nCanonical: {}/.well-known/security.txt\n",
        settings.server.public_url.trim_end_matches('/')
    ));
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.db().ping().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => {
            tracing::warn!(%err, "readiness: database unreachable");
            "unreachable".to_owned()
        }
    };
    let agencies = state.agencies().count();
    let plugins: Vec<_> = state
        .plugins()
        .loaded()
        .iter()
        .map(|plugin| {
            let (calls, errors) = plugin.counters.read();
            json!({
                "id": plugin.id(),
                "version": plugin.version(),
                "calls": calls,
                "errors": errors,
            })
        })
        .collect();
    let ready = database == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "database": database,
        "backend": state.db().backend.name(),
        "agencies": agencies,
        "themes": "loaded",
        "plugins": plugins,
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics`.
async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    if !state.settings().server.metrics {
        return Err(AppError::NotFound);
    }
    let mut out = String::new();
    crate::metrics::render(&mut out);
    render_plugins(&mut out, &state);
    render_outbox(&mut out, &state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

fn render_plugins(out: &mut String, state: &AppState) {
    let loaded = state.plugins().loaded();
    out.push_str("# HELP portal_plugin_calls_total Calls into a plugin, by plugin.\n");
    out.push_str("# TYPE portal_plugin_calls_total counter\n");
    for plugin in loaded.iter() {
        let (calls, _) = plugin.counters.read();
        let _ = writeln!(
            out,
            "portal_plugin_calls_total{{plugin=\"{}\"}} {calls}",
            crate::metrics::escape(plugin.id())
        );
    }
    out.push_str(
        "# HELP portal_plugin_errors_total Plugin calls that failed (error, trap, limit), by plugin.\n",
    );
    out.push_str("# TYPE portal_plugin_errors_total counter\n");
    for plugin in loaded.iter() {
        let (_, errors) = plugin.counters.read();
        let _ = writeln!(
            out,
            "portal_plugin_errors_total{{plugin=\"{}\"}} {errors}",
            crate::metrics::escape(plugin.id())
        );
    }
    out.push_str(
        "# HELP portal_plugin_call_duration_seconds Time of a hook call, instantiation included.\n",
    );
    out.push_str("# TYPE portal_plugin_call_duration_seconds histogram\n");
    for plugin in loaded.iter() {
        let labels = format!("plugin=\"{}\"", crate::metrics::escape(plugin.id()));
        plugin
            .counters
            .durations
            .render(out, "portal_plugin_call_duration_seconds", &labels);
    }
}

async fn render_outbox(out: &mut String, state: &AppState) -> Result<(), AppError> {
    let depth = crate::db::outbox::depth(&state.db().pool).await?;
    out.push_str("# HELP portal_outbox_emails Emails in the outbox, by status (all agencies).\n");
    out.push_str("# TYPE portal_outbox_emails gauge\n");
    for (status, count) in depth {
        let _ = writeln!(
            out,
            "portal_outbox_emails{{status=\"{}\"}} {count}",
            crate::metrics::escape(&status)
        );
    }
    Ok(())
}
