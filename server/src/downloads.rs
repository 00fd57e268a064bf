//! File downloads: the `Content-Disposition` and `Content-Type` every download answers with,
//! built from names and types that may come from plugins or people, so they are encoded, never
//! pasted (RFC 6266 with RFC 8187's `filename*` for names beyond ASCII).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A response the browser saves as `file_name`, of type `mime_type` (left out when it is not
/// a valid header value; the export formats' types are checked when their plugin loads).
pub fn download(file_name: &str, mime_type: &str, body: Body) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(mime_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_DISPOSITION, attachment(file_name));
    (headers, body).into_response()
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<the name, percent-encoded>`.
/// The fallback keeps letters, digits, `.`, `-` and `_` (others become `_`); no name can
/// close the quotes, add a parameter or a path.
pub fn attachment(file_name: &str) -> HeaderValue {
    let name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim_start_matches('.');
    let name = if name.is_empty() { "download" } else { name };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_not_pasted() {
        let cases = [
            (
                "timesheets.csv",
                "attachment; filename=\"timesheets.csv\"; filename*=UTF-8''timesheets.csv",
            ),
            (
                "report.\"; filename=\"../../evil.sh",
                "attachment; filename=\"evil.sh\"; filename*=UTF-8''evil.sh",
            ),
            (
                "Relevé été.pdf",
                "attachment; filename=\"Relev___t_.pdf\"; \
                 filename*=UTF-8''Relev%C3%A9%20%C3%A9t%C3%A9.pdf",
            ),
            (
                "a\r\nSet-Cookie: x=1.csv",
                "attachment; filename=\"a__Set-Cookie__x_1.csv\"; \
                 filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.csv",
            ),
            (
                "..",
                "attachment; filename=\"download\"; filename*=UTF-8''download",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(attachment(name).to_str().ok(), Some(expected), "{name:?}");
        }
    }
}
