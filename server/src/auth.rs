//! Identity: passwords and the sign-in pages of both kinds of account.

pub mod login;
pub mod passwords;

use axum::Router;

use crate::app::AppState;

/// Routes under `/{agency}`.
pub fn routes() -> Router<AppState> {
    login::routes()
}

/// Why an address cannot be an email login, or `None` when it looks deliverable.
pub fn email_problem(email: &str) -> Option<&'static str> {
    let email = email.trim();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Some("enter an email address like name@example.com");
    };
    if email.len() > 254 || local.is_empty() || local.len() > 64 {
        return Some("enter an email address like name@example.com");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("an email address cannot contain spaces");
    }
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Some("the part after @ must be a domain like example.com");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::email_problem;

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(email_problem("david@acmemanufacturing.co.uk"), None);
        assert_eq!(email_problem(" David@Example.com "), None);
        assert!(email_problem("david").is_some());
        assert!(email_problem("@example.com").is_some());
        assert!(email_problem("david@localhost").is_some());
        assert!(email_problem("da vid@example.com").is_some());
        assert!(email_problem("david@exa_mple.com").is_some());
    }
}
