//! Documents shared with a client, by external id. The file is the request body; `client`
//! (external id), `title` and `file_name` come with it, the type from `Content-Type`. Only
//! a few document types are accepted, and the bytes must look like the type they claim.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Upserted, invalid};
use crate::db::records::{self as record, Kind, Param, Record};
use crate::error::AppResult;

/// The largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The accepted types with the file extensions that name them (for browsers that send none).
pub const ACCEPTED: &[(&str, &[&str])] = &[
    ("application/pdf", &["pdf"]),
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("text/plain", &["txt"]),
    ("text/csv", &["csv"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
];

/// Accepted types and how their content starts (`None`: UTF-8 text).
const TYPES: &[(&str, Option<&[u8]>)] = &[
    ("application/pdf", Some(b"%PDF-")),
    ("image/png", Some(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", Some(b"\xff\xd8\xff")),
    ("text/plain", None),
    ("text/csv", None),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some(b"PK\x03\x04"),
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some(b"PK\x03\x04"),
    ),
];

const SHOWN: &[(&str, Kind)] = &[
    ("client_id", Kind::Int),
    ("title", Kind::Text),
    ("file_name", Kind::Text),
    ("mime_type", Kind::Text),
    ("size_bytes", Kind::Int),
    ("created_at", Kind::Time),
];

/// What is wrong with a file's content, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentProblem {
    Empty,
    TooLarge,
    UnknownType,
    /// The bytes do not start as a file of the type claimed.
    NotOfItsType,
}

/// Checks a file's size and that its bytes match its type.
pub fn content_problem(mime_type: &str, content: &[u8], max: usize) -> Option<ContentProblem> {
    if content.is_empty() {
        return Some(ContentProblem::Empty);
    }
    if content.len() > max {
        return Some(ContentProblem::TooLarge);
    }
    let Some((_, magic)) = TYPES.iter().find(|(name, _)| *name == mime_type) else {
        return Some(ContentProblem::UnknownType);
    };
    let looks_right = match magic {
        Some(magic) => content.starts_with(magic),
        None => std::str::from_utf8(content).is_ok(),
    };
    (!looks_right).then_some(ContentProblem::NotOfItsType)
}

/// [`content_problem`] as the API answers it; problems are reported on `field`.
pub fn check_content(mime_type: &str, content: &[u8], max: usize, field: &str) -> AppResult<()> {
    match content_problem(mime_type, content, max) {
        None => Ok(()),
        Some(ContentProblem::Empty) => Err(invalid(field, "The file is empty.")),
        Some(ContentProblem::TooLarge) => Err(invalid(
            field,
            format!(
                "The file is {} bytes; at most {max} bytes are accepted.",
                content.len()
            ),
        )),
        Some(ContentProblem::UnknownType) => {
            let names: Vec<&str> = TYPES.iter().map(|(name, _)| *name).collect();
            Err(invalid(
                "content_type",
                format!("Send one of these types: {}.", names.join(", ")),
            ))
        }
        Some(ContentProblem::NotOfItsType) => Err(invalid(
            field,
            format!("The file's content is not {mime_type}."),
        )),
    }
}

/// Stores or replaces a document; unchanged when the same file and details come again.
pub async fn upsert(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
    details: &Map<String, Value>,
    mime_type: &str,
    content: &[u8],
) -> AppResult<Upserted> {
    let mut fields = Fields::new(details);
    let client = fields
        .reference(conn, agency_id, "client", Reference::Client, true)
        .await?;
    let file_name = fields.required_text("file_name", "file name", 200);
    if file_name.contains(['/', '\\']) {
        fields
            .errors
            .add("file_name", "The file name cannot contain slashes.");
    }
    let mut title = fields.text("title", "title", 200);
    if title.is_empty() {
        title.clone_from(&file_name);
    }
    if let Err(crate::error::AppError::Invalid(problems)) =
        check_content(mime_type, content, MAX_DOCUMENT_BYTES, "file")
    {
        for (field, message) in problems.iter() {
            fields.errors.add(field, message);
        }
    }
    fields.finish()?;
    let record = Record {
        table: "documents",
        created_at: true,
        updated_at: false,
        columns: vec![
            ("client_id", client.into()),
            ("title", title.clone().into()),
            ("file_name", file_name.into()),
            ("mime_type", mime_type.to_owned().into()),
            (
                "size_bytes",
                i64::try_from(content.len()).unwrap_or(i64::MAX).into(),
            ),
            ("content", Param::Bytes(content.to_vec())),
        ],
    };
    let (id, outcome) = record::upsert(conn, agency_id, external_id, &record)
        .await
        .map_err(super::unique_as_invalid)?;
    Ok(Upserted {
        id,
        outcome,
        label: title,
    })
}

/// A document's details (not its bytes).
pub async fn show(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
) -> AppResult<Option<Value>> {
    let row = record::show(conn, agency_id, external_id, "documents", SHOWN).await?;
    Ok(row.map(Value::Object))
}
