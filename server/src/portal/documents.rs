//! Documents the agency shared with the client: the list and each file's download.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use super::gate::{self, Gated};
use crate::db::documents::{self, DocumentFile, DocumentInfo};
use crate::error::AppResult;
use crate::plugins::{Permission, PluginRequest, Target};
use crate::state::AppState;

/// A document as `authorize` is asked about it, listed or downloaded.
macro_rules! gated_document {
    ($($row:ty),*) => {$(
        impl Gated for $row {
            fn client_id(&self) -> i64 {
                self.client_id
            }

            fn target(&self) -> Target {
                let attributes = vec![("title".into(), self.title.clone())];
                gate::target("document", self.id, None, attributes)
            }
        }
    )*};
}

gated_document!(DocumentInfo, DocumentFile);

pub async fn list(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    portal.require(Permission::ViewDocuments)?;
    let rows =
        documents::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    let rows = portal
        .visible(&state, &mut plugins, Permission::ViewDocuments, rows)
        .await?;
    portal
        .render(
            &state,
            "portal/documents.html",
            "documents",
            context! { title => "Documents", documents => Serde(rows) },
        )
        .await
}

pub async fn download(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewDocuments)?;
    let found =
        documents::file_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id)
            .await?;
    let file = portal
        .visible_one(&state, &mut plugins, Permission::ViewDocuments, found)
        .await?;
    Ok(crate::downloads::download(
        &file.file_name,
        &file.mime_type,
        Body::from(file.content),
    ))
}
