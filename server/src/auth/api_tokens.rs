//! API tokens: `Authorization: Bearer portal_…` on `/api/v1/{agency}/…`. The token names
//! its agency by being stored for it; a token of agency A is refused at agency B.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::tokens;
use crate::agency::Agency;
use crate::db::Timestamp;
use crate::db::api_tokens::{self, ApiToken};
use crate::error::AppError;
use crate::state::AppState;

/// Every token starts with this, so leaked tokens are easy to recognise in logs and scanners.
pub const PREFIX: &str = "portal_";

/// A new token (shown once) and what to store: its hash and a short prefix for lists.
pub fn generate() -> (String, String, String) {
    let token = format!("{PREFIX}{}", tokens::generate());
    let shown_prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let hash = tokens::hash(&token);
    (token, hash, shown_prefix)
}

/// Creates a token for an agency; returns the token itself, which is never shown again.
pub async fn create(
    state: &AppState,
    agency: &Agency,
    name: &str,
    created_by: Option<i64>,
) -> Result<String, AppError> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Give the token a name of 1 to 100 characters.".into(),
        ));
    }
    let (token, hash, prefix) = generate();
    api_tokens::create(
        &state.db().pool,
        agency.id,
        name,
        &hash,
        &prefix,
        created_by,
    )
    .await?;
    Ok(token)
}

/// A request from the agency's back-office, authenticated by an API token. The agency comes
/// from the token, checked against the agency in the path.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub agency: Arc<Agency>,
    pub token: ApiToken,
}

impl ApiClient {
    /// How the audit log names what this token did.
    pub fn actor(&self) -> crate::db::audit::Actor<'_> {
        super::audit_actor("api", Some(self.token.id), &self.token.name, "")
    }
}

impl FromRequestParts<AppState> for ApiClient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let unauthorized = || AppError::Unauthorized;
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let token = api_tokens::active_by_hash(&state.db().pool, &tokens::hash(bearer.trim()))
            .await?
            .ok_or_else(unauthorized)?;
        let path = crate::agency::full_path(&parts.extensions, &parts.uri);
        let (slug, ..) = crate::agency::path_parts(path);
        let agency = state
            .agency(slug)
            .filter(|agency| agency.id == token.agency_id)
            .ok_or(AppError::Forbidden)?;
        let now = Timestamp::now();
        if token.last_used_at.is_none_or(|last| now.0 - last.0 >= 60) {
            api_tokens::touch(&state.db().pool, token.id, now).await?;
        }
        Ok(ApiClient { agency, token })
    }
}
