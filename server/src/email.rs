//! Email addresses: checked as logins, compared normalised, masked in logs, and parsed as the
//! sender of the portal's mail.

use lettre::message::Mailbox;

/// Why an address cannot be an email login, or `None` when it looks deliverable.
pub fn problem(email: &str) -> Option<&'static str> {
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

/// Emails are compared and stored trimmed and lower-cased.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Parses a sender such as `Acme Staffing <portal@acme.example>`.
pub fn parse_sender(text: &str) -> Result<Mailbox, String> {
    text.parse::<Mailbox>().map_err(|err| {
        format!(
            "\"{text}\" is not a sender address ({err}); write it as Name <address@example.com>"
        )
    })
}

/// `d***@northwind.example`: enough to tell recipients apart in logs, not to harvest them.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(problem("david@acmemanufacturing.co.uk"), None);
        assert_eq!(problem(" David@Example.com "), None);
        assert!(problem("david").is_some());
        assert!(problem("@example.com").is_some());
        assert!(problem("david@localhost").is_some());
        assert!(problem("da vid@example.com").is_some());
        assert!(problem("david@exa_mple.com").is_some());
    }

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask("david@northwind.example"), "d***@northwind.example");
        assert_eq!(mask("nonsense"), "***");
    }

    #[test]
    fn senders_must_be_addresses() {
        assert!(parse_sender("Acme Staffing <portal@acme.example>").is_ok());
        assert!(parse_sender("portal@acme.example").is_ok());
        assert!(parse_sender("Acme Staffing").is_err());
    }
}
