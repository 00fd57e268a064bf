//! Branding preview for agency admins: the sign-in page and every email, rendered with the
//! agency's current theme and branding and made-up details, before a client sees them.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};

use crate::agency::Agency;
use crate::error::{AppError, AppResult};

/// Email HTML is shown as sent, inline styles and all, in a sandboxed frame of the branding
/// page: styles inline and images from anywhere, no scripts, framed only by this origin.
pub const EMAIL_PREVIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self' data: https: http:; frame-ancestors 'self'; sandbox";

/// `manage/branding.html`: colours, images, contact details, the list of emails, and
/// `email` previewed (subject, frame for HTML, plain text) when one is picked.
pub fn branding_page(agency: &Agency, email: Option<&str>) -> AppResult<Html<String>> {
    let preview = match email {
        Some(template) => Some(render_email(agency, template)?),
        None => None,
    };
    agency.render(
        "manage/branding.html",
        context! {
            nav => "branding",
            theme_name => &agency.theme.name,
            email_templates => Value::from(Serde(crate::mail::TEMPLATES)),
            email => email,
            preview => preview.map(|p| context! { subject => p.subject, text => p.text }),
        },
    )
}

/// The sign-in page exactly as clients get it, marked as a preview.
pub fn sign_in_preview(agency: &Agency) -> AppResult<Html<String>> {
    agency.render(
        "login.html",
        context! { area => "portal", title => "Sign in to your client portal", preview => true },
    )
}

/// The HTML part of one email, to load into the preview frame.
pub fn email_html_preview(agency: &Agency, template: &str) -> AppResult<Response> {
    let rendered = render_email(agency, template)?;
    let mut response = Html(rendered.html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EMAIL_PREVIEW_CSP),
    );
    Ok(response)
}

fn render_email(agency: &Agency, template: &str) -> AppResult<crate::mail::Rendered> {
    if !crate::mail::TEMPLATES.contains(&template) {
        return Err(AppError::NotFound);
    }
    let vars = crate::mail::sample_variables(template, &agency.theme.agency_url);
    crate::mail::render(&agency.theme, template, &vars).map_err(AppError::Internal)
}
