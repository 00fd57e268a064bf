//! A client's shared documents from its page in the manage area: upload one (a
//! `multipart/form-data` form; the CSRF middleware reads its token field), download, withdraw.

use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::clients::{detail_with_status, staff_actor};
use crate::auth::{ClientIp, SignedIn, StaffSession};
use crate::db::documents;
use crate::documents::{Upload, share, withdraw};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn back(me: &SignedIn, client_id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/clients/{client_id}?done={done}#documents",
        me.agency.slug
    ))
    .into_response()
}

/// Reads the form's title and file.
async fn upload(mut form: Multipart) -> AppResult<Upload> {
    let refused =
        |_| AppError::BadRequest("The upload could not be read; send the form again.".into());
    let mut upload = Upload::default();
    while let Some(field) = form.next_field().await.map_err(refused)? {
        match field.name() {
            Some("title") => upload.title = field.text().await.map_err(refused)?,
            Some("file") => {
                upload.file_name = field.file_name().unwrap_or_default().to_owned();
                upload.mime_type = field.content_type().unwrap_or_default().to_owned();
                upload.content = field.bytes().await.map_err(refused)?.to_vec();
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /{agency}/manage/clients/{id}/documents`: any member of the team shares a file.
pub async fn add(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    form: Multipart,
) -> AppResult<Response> {
    let upload = upload(form).await?;
    match share(&state, &me.agency, staff_actor(&me, &ip), id, &upload).await {
        Ok(_) => Ok(back(&me, id, "document-shared")),
        Err(AppError::Invalid(errors)) => {
            let extra = context! {
                document_errors => minijinja::value::Serde(&errors), document_title => &upload.title,
            };
            detail_with_status(&state, &me, id, StatusCode::UNPROCESSABLE_ENTITY, extra).await
        }
        Err(other) => Err(other),
    }
}

/// `GET /{agency}/manage/clients/{id}/documents/{document}`: the file, as the client gets it.
pub async fn download(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Path((_, id, document)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    let file = documents::file_for_clients(&state.db().pool, me.agency.id, &[id], document)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::downloads::download(
        &file.file_name,
        &file.mime_type,
        Body::from(file.content),
    ))
}

/// `POST /{agency}/manage/clients/{id}/documents/{document}/withdraw`.
pub async fn remove(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    ClientIp(ip): ClientIp,
    Path((_, id, document)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    withdraw(&state, &me.agency, staff_actor(&me, &ip), id, document).await?;
    Ok(back(&me, id, "document-withdrawn"))
}
