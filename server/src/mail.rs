//! Email. Every message is rendered from the agency's theme and written to the `outbox` table
//! in the same transaction as the action that caused it, so nothing is lost when the mail
//! server is down or the process dies; a worker delivers it later.

use minijinja::Value;
use sqlx::AnyConnection;

use crate::agency::Agency;
use crate::db::outbox::{self, NewEmail};

/// One email to queue: a theme template set (`emails/<template>/subject.txt`, `body.txt`,
/// `body.html`), one recipient, and the variables the templates see.
#[derive(Debug)]
pub struct Email<'a> {
    pub template: &'a str,
    pub to: &'a str,
    pub vars: Value,
}

/// What became of a queued email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// In the outbox, with this id.
    Yes(i64),
    /// Not sent: the agency's portal is disabled, so its clients get no portal email.
    PortalDisabled,
}

/// Renders `email` with the agency's theme and adds it to the outbox on `conn` (pass the
/// transaction of the action that sends it).
pub async fn enqueue(
    conn: &mut AnyConnection,
    agency: &Agency,
    email: Email<'_>,
) -> anyhow::Result<Queued> {
    if !agency.config.portal_enabled {
        return Ok(Queued::PortalDisabled);
    }
    let dir = format!("emails/{}", email.template);
    let subject = agency
        .theme
        .render(&format!("{dir}/subject.txt"), email.vars.clone())?;
    let body_text = agency
        .theme
        .render(&format!("{dir}/body.txt"), email.vars.clone())?;
    let body_html = agency
        .theme
        .render(&format!("{dir}/body.html"), email.vars)?;
    let new = NewEmail {
        template: email.template,
        recipient: email.to,
        subject: subject.trim(),
        body_text: &body_text,
        body_html: &body_html,
    };
    Ok(Queued::Yes(outbox::enqueue(conn, agency.id, &new).await?))
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
    use super::mask;

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask("david@northwind.example"), "d***@northwind.example");
        assert_eq!(mask("nonsense"), "***");
    }
}
