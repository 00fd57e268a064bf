//! Branding preview for agency admins: the sign-in page and every email, rendered with the
//! agency's current theme and branding and made-up details, before a client sees them.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};

use crate::agency::Agency;
use crate::auth::{SignedIn, StaffAdmin};
use crate::error::{AppError, AppResult};

/// Email HTML is shown as sent, inline styles and all, in a sandboxed frame of the branding
/// page: styles inline and images from anywhere, no scripts, framed only by this origin.
pub const EMAIL_PREVIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self' data: https: http:; frame-ancestors 'self'; sandbox";

/// `GET /{agency}/manage/branding`: colours, images, contact details and the emails.
pub async fn page(StaffAdmin(me): StaffAdmin) -> AppResult<Response> {
    branding_page(&me, None).map(IntoResponse::into_response)
}

/// `GET /{agency}/manage/branding/emails/{template}`: the same page with one email shown.
pub async fn email_page(
    StaffAdmin(me): StaffAdmin,
    Path((_, template)): Path<(String, String)>,
) -> AppResult<Response> {
    branding_page(&me, Some(&template)).map(IntoResponse::into_response)
}

/// `GET /{agency}/manage/branding/sign-in`: the sign-in page exactly as clients get it,
/// marked as a preview.
pub async fn sign_in(StaffAdmin(me): StaffAdmin) -> AppResult<Response> {
    me.agency
        .render(
            "login.html",
            context! { area => "portal", title => "Sign in to your client portal", preview => true },
        )
        .map(IntoResponse::into_response)
}

/// `GET /{agency}/manage/branding/emails/{template}/html`: the HTML part of one email, for
/// the preview frame, under [`EMAIL_PREVIEW_CSP`].
pub async fn email_html(
    StaffAdmin(me): StaffAdmin,
    Path((_, template)): Path<(String, String)>,
) -> AppResult<Response> {
    let rendered = render_email(&me.agency, &template)?;
    let mut response = Html(rendered.html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EMAIL_PREVIEW_CSP),
    );
    Ok(response)
}

fn branding_page(me: &SignedIn, email: Option<&str>) -> AppResult<Html<String>> {
    let agency = &me.agency;
    let preview = match email {
        Some(template) => Some(render_email(agency, template)?),
        None => None,
    };
    agency.render(
        "manage/branding.html",
        context! {
            area => "manage", title => "Branding", nav => "branding",
            csrf_token => me.csrf_token(), user => &me.account.name, is_admin => true,
            theme_name => &agency.theme.name,
            email_templates => Value::from(Serde(crate::mail::TEMPLATES)),
            email => email,
            preview => preview.map(|p| context! { subject => p.subject, text => p.text }),
        },
    )
}

fn render_email(agency: &Agency, template: &str) -> AppResult<crate::mail::Rendered> {
    if !crate::mail::TEMPLATES.contains(&template) {
        return Err(AppError::NotFound);
    }
    let vars = crate::mail::sample_variables(template, &agency.theme.agency_url);
    crate::mail::render(&agency.theme, template, &vars).map_err(AppError::Internal)
}
