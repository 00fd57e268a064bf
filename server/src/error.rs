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
    #[error("{0}")]
    BadRequest(String),
    #[error("Some fields need attention.")]
    Invalid(crate::forms::FieldErrors),
    /// The request is understood but the data's current state forbids it (a client that
    /// still has data, the last admin); the message says why.
    #[error("{0}")]
    Conflict(String),
    #[error("The service is not ready yet. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => Self::Unavailable,
            other => Self::Internal(other.into()),
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
