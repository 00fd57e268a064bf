//! The user report: the list as filtered and sorted, in any format the agency's export
//! plugins offer, streamed — rows are read from the database a batch at a time while the
//! plugin writes the file.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use crate::agency::Agency;
use crate::db::portal_users::{self, Filter, PortalUser};
use crate::error::{AppError, AppResult};
use crate::plugins::{ByteStream, Column, ColumnType, PluginRequest, RowBatch};
use crate::state::AppState;

/// Rows read and handed to the plugin at a time.
const BATCH_ROWS: i64 = 1000;

fn columns() -> Vec<Column> {
    vec![
        Column::new("first_name", "First name", ColumnType::Text),
        Column::new("last_name", "Last name", ColumnType::Text),
        Column::new("email", "Email", ColumnType::Text),
        Column::new("company", "Company", ColumnType::Text),
        Column::new("role", "Role", ColumnType::Text),
        Column::new("status", "Status", ColumnType::Text),
        Column::new(
            "restricted_access",
            "Restricted access",
            ColumnType::Boolean,
        ),
        Column::new("last_sign_in", "Last sign-in", ColumnType::Datetime),
        Column::new("created", "Created", ColumnType::Datetime),
    ]
}

fn push_row(batch: &mut RowBatch, user: &PortalUser, role: &str) {
    batch.push(Some(&user.first_name));
    batch.push(Some(&user.last_name));
    batch.push(Some(&user.email));
    batch.push(Some(&user.company));
    batch.push(Some(role));
    batch.push(Some(&user.status));
    batch.push(Some(if user.restricted_access { "1" } else { "0" }));
    batch.push(user.last_login_at.map(|t| t.to_string()).as_deref());
    batch.push(Some(&user.created_at.to_string()));
}

/// Starts the export of the users `filter` selects in `format` and returns the download; the
/// rows are fed from a task of their own.
pub fn download(
    state: &AppState,
    plugins: &PluginRequest,
    agency: &Agency,
    filter: Filter,
    format: &str,
) -> AppResult<Response> {
    let (found, export) = plugins
        .export(format, "Portal users", columns())
        .ok_or_else(|| AppError::BadRequest(format!("This portal offers no “{format}” export.")))?;
    let roles: std::collections::HashMap<String, String> = plugins
        .roles()
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let pool = state.db().pool.clone();
    let agency_id = agency.id;
    let rows = export.rows;
    // A database failure must not end the table normally (the file would look whole): the
    // feeder reports it to the response, which ends in an error, and only then lets go of
    // the rows so the export thread stops.
    let (failed, failure) = mpsc::channel::<String>(1);
    tokio::spawn(async move {
        let mut after = None;
        loop {
            let mut users =
                match portal_users::rows(&pool, agency_id, &filter, BATCH_ROWS, after.as_ref())
                    .await
                {
                    Ok(users) => users,
                    Err(err) => {
                        tracing::error!(error = %err, "portal user export failed");
                        if failed.send(err.to_string()).await.is_ok() {
                            failed.closed().await;
                        }
                        return;
                    }
                };
            if users.is_empty() {
                return;
            }
            let mut batch = RowBatch::with_capacity(users.len(), 9, 16);
            for user in &users {
                let role = roles.get(&user.role_id).unwrap_or(&user.role_id);
                push_row(&mut batch, user, role);
            }
            if rows.send(batch).await.is_err() {
                return;
            }
            after = users.pop();
        }
    });
    let file_name = format!("portal-users.{}", found.extension);
    let body = Download {
        bytes: export.bytes,
        failure,
    };
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&found.mime_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::CONTENT_DISPOSITION,
        crate::downloads::attachment(&file_name),
    );
    Ok(response)
}

/// The export's bytes, ended by an error when reading the users failed.
#[derive(Debug)]
struct Download {
    bytes: ByteStream,
    failure: mpsc::Receiver<String>,
}

impl futures_core::Stream for Download {
    type Item = Result<Bytes, axum::BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(Some(reason)) = self.failure.poll_recv(cx) {
            return Poll::Ready(Some(Err(reason.into())));
        }
        Pin::new(&mut self.bytes)
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map_err(axum::BoxError::from)))
    }
}
