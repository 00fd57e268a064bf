//! The one error type of request handlers. 4xx errors carry a message for the person; 5xx
//! errors are logged in detail and the person sees a generic page. The body is rendered later,
//! by [`crate::app::render_errors`], as the agency's themed page or a JSON problem object.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("The page you asked for does not exist.")]
    NotFound,
    #[error("Sign in or send a valid API token.")]
    Unauthorized,
    #[error("You do not have access to this page.")]
    Forbidden,
    /// The role's rules refuse this, with the reason they give.
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Some fields need attention.")]
    Invalid(crate::forms::FieldErrors),
    /// The request is understood but the data's current state forbids it (a client that
    /// still has data, the last admin); the message says why.
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than `server.max_body_bytes` (or a form than the forms'
    /// own limit).
    #[error("The request is too large.")]
    TooLarge,
    /// The request body did not arrive within `server.request_body_timeout_seconds`.
    #[error("The request took too long to arrive.")]
    TimedOut,
    /// The database cannot be reached right now (down, restarting, every connection busy).
    #[error("The service is not ready yet. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal(anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Denied(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A database that cannot be reached is a 503 the client may retry, not a fault of ours: it
/// is logged as a warning and answered without waiting further.
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable
        } else if crate::db::is_unstorable_text(&err) {
            Self::BadRequest("The request holds a NUL character, which cannot be stored.".into())
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast_ref::<sqlx::Error>() {
            Some(db) if crate::db::is_unavailable(db) => {
                tracing::warn!(error = format!("{err:#}"), "database unavailable");
                Self::Unavailable
            }
            _ => Self::Internal(err),
        }
    }
}

impl From<minijinja::Error> for AppError {
    fn from(err: minijinja::Error) -> Self {
        Self::Internal(anyhow::anyhow!(
            "template error: {}",
            crate::themes::describe_template_error(&err)
        ))
    }
}

/// What the error-rendering layer needs to build the body: the status and the public message.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
    /// Problems per field, for API clients.
    pub fields: Option<crate::forms::FieldErrors>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(err) = &self {
            tracing::error!(error = format!("{err:#}"), "request failed");
        }
        let message = self.to_string();
        let fields = match self {
            Self::Invalid(fields) => Some(fields),
            _ => None,
        };
        let info = ErrorInfo {
            status,
            message,
            fields,
        };
        let mut response = (status, info.message.clone()).into_response();
        response.extensions_mut().insert(info);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
