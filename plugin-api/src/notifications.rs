//! The `notification-rules` world: who hears about what.

use crate::PluginError;
use crate::bindings::notification_rules::exports::portal::plugin::notifications as wit;

pub use wit::{Agency, Client, Event, Notification, Person, PersonKind, Recipient, Worksite};

/// Notification rules, exported with
/// [`export_notification_rules!`](crate::export_notification_rules).
pub trait NotificationRules {
    /// The notifications to send for `event`; an empty list sends nothing.
    ///
    /// Answer event kinds you do not know with `Ok(vec![])`: newer hosts
    /// raise kinds older plugins have never heard of.
    fn on_event(event: Event) -> Result<Vec<Notification>, PluginError>;
}

impl<T: NotificationRules> wit::Guest for T {
    fn on_event(event: Event) -> Result<Vec<Notification>, PluginError> {
        <T as NotificationRules>::on_event(event)
    }
}

impl Event {
    /// One event field (see the WIT for the fields of each kind).
    pub fn field(&self, key: &str) -> Option<&str> {
        crate::lookup(&self.fields, key)
    }

    /// One of this plugin's settings for the agency, with surrounding
    /// whitespace removed; `None` when it is unset or blank, because an
    /// agency config that says `recruiter-email = ""` means "not set".
    pub fn setting(&self, key: &str) -> Option<&str> {
        crate::lookup(&self.settings, key)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

impl Notification {
    /// A notification without variables; add them with
    /// [`Notification::var`].
    pub fn new(template: &str, recipients: Vec<Recipient>) -> Self {
        Self {
            recipients,
            template: template.to_owned(),
            variables: Vec::new(),
        }
    }

    /// Adds a template variable.
    #[must_use]
    pub fn var(mut self, key: &str, value: &str) -> Self {
        self.variables.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Copies the event fields named in `keys` into the variables, leaving
    /// out those the event does not carry.
    #[must_use]
    pub fn fields_from(self, event: &Event, keys: &[&str]) -> Self {
        keys.iter()
            .fold(self, |notification, key| match event.field(key) {
                Some(value) => notification.var(key, value),
                None => notification,
            })
    }

    /// The value of one variable.
    pub fn variable(&self, key: &str) -> Option<&str> {
        crate::lookup(&self.variables, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(fields: &[(&str, &str)], settings: &[(&str, &str)]) -> Event {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Event {
            kind: "timesheet-rejected".into(),
            agency: Agency {
                slug: "acme".into(),
                display_name: "Acme".into(),
            },
            client: None,
            worksite: None,
            actor: Person {
                kind: PersonKind::System,
                id: String::new(),
                name: "Portal".into(),
                email: String::new(),
            },
            subject: None,
            fields: pairs(fields),
            settings: pairs(settings),
        }
    }

    #[test]
    fn blank_settings_count_as_unset() {
        let event = event(&[], &[("a", "  x@y.example "), ("b", "   ")]);
        assert_eq!(event.setting("a"), Some("x@y.example"));
        assert_eq!(event.setting("b"), None);
        assert_eq!(event.setting("c"), None);
    }

    #[test]
    fn fields_from_copies_only_present_fields() {
        let event = event(&[("reason", "Wrong week"), ("hours", "800")], &[]);
        let notification = Notification::new("timesheet-rejected", vec![Recipient::ClientContact])
            .fields_from(&event, &["reason", "manage-url"]);
        assert_eq!(
            notification.variables,
            vec![("reason".into(), "Wrong week".into())]
        );
        assert_eq!(notification.variable("reason"), Some("Wrong week"));
    }
}
