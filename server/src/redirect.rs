//! Every redirect the server answers goes through here: the target must be a path on this
//! site, so no redirect can lead elsewhere, and one that is not a valid header (a line break
//! from a query string, say) is a clear error instead of a panic.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// `303 See Other` to `path`, a path on this site (`/acme/portal?done=saved`). Anything else
/// is answered `400` and logged.
pub fn to(path: &str) -> Response {
    match local(path) {
        Some(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        None => {
            tracing::warn!(target_path = %path.escape_debug(), "refused to redirect outside the site");
            AppError::BadRequest("That page address is not one of this site's.".into())
                .into_response()
        }
    }
}

/// The place a request asked to go back to (`back=`, `next=`) when it is a path on this site
/// under `prefix`, else `prefix` itself.
pub fn back_within<'a>(candidate: &'a str, prefix: &'a str) -> &'a str {
    let under = candidate == prefix
        || candidate
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['/', '?', '#']));
    if under && local(candidate).is_some() {
        candidate
    } else {
        prefix
    }
}

/// The header value for a path on this site: it starts with one `/` (not `//` or `/\`, which
/// browsers read as another host), and has no control characters, spaces or backslashes.
fn local(path: &str) -> Option<HeaderValue> {
    let rest = path.strip_prefix('/')?;
    if rest.starts_with(['/', '\\'])
        || path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    HeaderValue::from_str(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for path in [
            "/acme/portal",
            "/acme/portal/timesheets?week=2026-11-02&done=approved",
        ] {
            assert_eq!(to(path).status(), StatusCode::SEE_OTHER, "{path}");
        }
        for path in [
            "",
            "acme/portal",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/acme/portal\r\nSet-Cookie: x=1",
            "/acme/portal\n",
            "/acme/portal x",
            "/acme/\u{7f}",
        ] {
            assert_eq!(to(path).status(), StatusCode::BAD_REQUEST, "{path:?}");
        }
    }

    #[test]
    fn going_back_stays_under_the_prefix() {
        let prefix = "/acme/portal";
        for (candidate, expected) in [
            (
                "/acme/portal/timesheets?page=2",
                "/acme/portal/timesheets?page=2",
            ),
            ("/acme/portal", "/acme/portal"),
            ("/acme/portalx", prefix),
            ("/acme/manage", prefix),
            ("/acme/portal/\r\nx", prefix),
            ("/acme/portal//evil", "/acme/portal//evil"),
            ("//evil.example/acme/portal", prefix),
            ("", prefix),
        ] {
            assert_eq!(back_within(candidate, prefix), expected, "{candidate:?}");
        }
    }
}
