//! The agency (tenant) a request is for, taken from the first path segment.

use std::sync::Arc;

use axum::response::Html;
use minijinja::Value;

use crate::config::AgencyConfig;
use crate::error::AppResult;
use crate::themes::AgencyTheme;

/// An agency as the running server knows it.
#[derive(Debug)]
pub struct Agency {
    /// Row id in `agencies`; every query of the agency's data filters by it.
    pub id: i64,
    pub slug: String,
    pub config: AgencyConfig,
    pub theme: Arc<AgencyTheme>,
}

impl Agency {
    /// Renders one of the theme's pages. During a portal preview the page also gets
    /// `viewing_as` (who is viewed, by whom), which the layout shows as a banner.
    pub fn render(&self, template: &str, ctx: Value) -> AppResult<Html<String>> {
        let ctx = match current_preview() {
            Some(preview) => {
                minijinja::context! { viewing_as => minijinja::value::Serde(&*preview), ..ctx }
            }
            None => ctx,
        };
        Ok(Html(self.theme.render(template, ctx)?))
    }
}

/// A staff member viewing the portal as one of its users ("view as client"), read only. The
/// portal's layout shows it as a banner with a button that ends it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    pub staff_id: i64,
    pub staff_name: String,
    pub portal_user_id: i64,
    pub portal_user_name: String,
    pub portal_user_email: String,
    /// The staff session's form token, for the "end preview" button.
    pub csrf_token: String,
}

tokio::task_local! {
    /// The preview a portal page is rendered for, so every page built on the theme's layout
    /// shows the banner and disabled forms without its handler knowing.
    pub static PREVIEW: Arc<Preview>;
}

/// The preview of the request being handled, if any (see [`PREVIEW`]).
pub fn current_preview() -> Option<Arc<Preview>> {
    PREVIEW.try_with(Arc::clone).ok()
}

/// Extractor for routes under `/{agency}/…`: unknown slugs are a 404 before any handler runs.
#[derive(Debug, Clone)]
pub struct CurrentAgency(pub Arc<Agency>);

impl std::ops::Deref for CurrentAgency {
    type Target = Agency;

    fn deref(&self) -> &Agency {
        &self.0
    }
}

/// The request's full path. Routes under `/{agency}` are nested, and nesting strips the
/// prefix from the URI a handler sees; the original is kept in an extension.
pub fn full_path<'a>(extensions: &'a axum::http::Extensions, uri: &'a axum::http::Uri) -> &'a str {
    extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(uri.path(), |original| original.0.path())
}

/// The agency slug and the area (`portal`, `manage`, …) a full path starts with.
pub fn path_segments(path: &str) -> (&str, &str) {
    let (slug, area, _) = path_parts(path);
    (slug, area)
}

/// The agency slug, the area and the rest of a full path (`/acme/portal/timesheets/7` →
/// `acme`, `portal`, `timesheets/7`); an API path's slug follows `/api/v1/`. The one place a
/// path is read for its agency.
pub fn path_parts(path: &str) -> (&str, &str, &str) {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut segments = path.trim_start_matches('/').splitn(3, '/');
    let slug = segments.next().unwrap_or_default();
    let area = segments.next().unwrap_or_default();
    (slug, area, segments.next().unwrap_or_default())
}
