//! Documents the agency shares with a client from the manage area (the back-office feed shares
//! them too): a title and a file of one of the accepted types — its bytes must look like the
//! type — at most [`MAX_DOCUMENT_BYTES`], stored in the database so that every server process
//! serves it; and withdrawing one. Both audited; the client's portal users with
//! `view-documents` see and download it at once.

use crate::agency::Agency;
use crate::db::audit::{self, Actor, Target};
use crate::db::clients;
use crate::db::documents::{self, NewDocument};
use crate::error::{AppError, AppResult};
use crate::feed::documents::{ACCEPTED, ContentProblem, MAX_DOCUMENT_BYTES, content_problem};
use crate::forms::FieldErrors;
use crate::state::AppState;

/// A file as a browser sent it.
#[derive(Debug, Default)]
pub struct Upload {
    pub title: String,
    pub file_name: String,
    /// The type the browser named; worked out from the name when it named none.
    pub mime_type: String,
    pub content: Vec<u8>,
}

/// The accepted types, as people know them.
const TYPE_NAMES: &str = "PDF, PNG, JPEG, text, CSV, Word (.docx) or Excel (.xlsx)";

/// The type of a file by its name's extension, for browsers that name none.
fn type_of(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    ACCEPTED
        .iter()
        .find(|(_, extensions)| extensions.contains(&extension.as_str()))
        .map(|(mime, _)| *mime)
}

/// Shares `upload` with client `client_id`; returns the document's id. Refusals are field
/// errors on `title` and `file`.
pub async fn share(
    state: &AppState,
    agency: &Agency,
    actor: Actor<'_>,
    client_id: i64,
    upload: &Upload,
) -> AppResult<i64> {
    let pool = &state.db().pool;
    clients::get(pool, agency.id, client_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::default();
    errors.required("title", "title", &upload.title, 200);
    let file_name = upload
        .file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    let mime = match upload.mime_type.as_str() {
        "" | "application/octet-stream" => type_of(file_name),
        named => ACCEPTED
            .iter()
            .find(|(mime, _)| *mime == named)
            .map(|(mime, _)| *mime)
            .or_else(|| type_of(file_name)),
    };
    if file_name.is_empty() && upload.content.is_empty() {
        errors.add("file", "Choose the file to share.");
    } else if file_name.chars().count() > 255 {
        errors.add(
            "file",
            "The file's name is longer than 255 characters; rename it first.",
        );
    } else {
        let problem = match mime {
            None => Some(ContentProblem::UnknownType),
            Some(mime) => content_problem(mime, &upload.content, MAX_DOCUMENT_BYTES),
        };
        let message = match problem {
            None => None,
            Some(ContentProblem::Empty) => Some("The file is empty.".to_owned()),
            Some(ContentProblem::TooLarge) => Some(format!(
                "The file is {:.1} MB; files of at most {} MB are shared.",
                upload.content.len() as f64 / (1024.0 * 1024.0),
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            )),
            Some(ContentProblem::UnknownType) => Some(format!("Share a {TYPE_NAMES} file.")),
            Some(ContentProblem::NotOfItsType) => Some(format!(
                "{file_name} is not the kind of file its name says; share the document itself."
            )),
        };
        if let Some(message) = message {
            errors.add("file", message);
        }
    }
    errors.into_result()?;
    let new = NewDocument {
        client_id,
        title: upload.title.trim(),
        file_name,
        mime_type: mime.unwrap_or_default(),
        content: &upload.content,
    };
    let mut tx = crate::db::begin_write(pool).await?;
    let id = documents::create(&mut *tx, agency.id, &new).await?;
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "document.shared",
        Target {
            kind: Some("document"),
            id: Some(id),
            label: Some(new.title),
        },
        &format!(
            "{file_name}, {} bytes, client {client_id}",
            upload.content.len()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Withdraws document `id` of client `client_id` (404 when it is not that client's); an
/// invoice whose PDF it was keeps no PDF.
pub async fn withdraw(
    state: &AppState,
    agency: &Agency,
    actor: Actor<'_>,
    client_id: i64,
    id: i64,
) -> AppResult<()> {
    let pool = &state.db().pool;
    let document = documents::file_for_clients(pool, agency.id, &[client_id], id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = crate::db::begin_write(pool).await?;
    documents::delete(&mut *tx, agency.id, id).await?;
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "document.withdrawn",
        Target {
            kind: Some("document"),
            id: Some(id),
            label: Some(&document.title),
        },
        &document.file_name,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
