//! Validation shared by forms and the JSON API: each problem is a message for a person, keyed
//! by the field it belongs to, so pages show it next to the field and the API returns it in
//! its problem object.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each field with its problem, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Every message, in field order.
    pub fn messages(&self) -> Vec<&str> {
        self.0.values().map(String::as_str).collect()
    }

    /// A required text of at most `max` characters.
    pub fn required(&mut self, field: &str, label: &str, value: &str, max: usize) {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, format!("Enter the {label}."));
        } else {
            self.at_most(field, label, value, max);
        }
    }

    /// An optional text of at most `max` characters. A NUL character is refused too:
    /// PostgreSQL cannot store one, and no person types one.
    pub fn at_most(&mut self, field: &str, label: &str, value: &str, max: usize) {
        if value.contains('\0') {
            self.add(
                field,
                format!("The {label} cannot contain a NUL character."),
            );
            return;
        }
        let length = value.trim().chars().count();
        if length > max {
            self.add(
                field,
                format!("The {label} can be at most {max} characters (it has {length})."),
            );
        }
    }

    /// An optional email address.
    pub fn optional_email(&mut self, field: &str, value: &str) {
        if !value.trim().is_empty()
            && let Some(problem) = crate::email::problem(value)
        {
            self.add(field, capitalise(problem));
        }
    }

    /// `Ok` when nothing was found, else the errors as a request error.
    pub fn into_result(self) -> Result<(), crate::error::AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::Invalid(self))
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().collect::<String>() + chars.as_str() + ".")
        .unwrap_or_default()
}

/// An HTML checkbox: present (any value) when ticked, absent otherwise.
pub fn checked(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The ids a bulk action was sent, each once, in order. More than `most` distinct ids is a
/// clear refusal (`400`) before anything is read: a form or a JSON body repeating ids, or
/// naming thousands, costs nothing.
pub fn distinct_ids(ids: &[i64], most: usize) -> Result<Vec<i64>, crate::error::AppError> {
    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
    if distinct.len() > most {
        return Err(crate::error::AppError::BadRequest(format!(
            "At most {most} at once, please: {} were chosen.",
            distinct.len()
        )));
    }
    Ok(distinct.into_iter().collect())
}

/// Most portal users one bulk action (deactivate, resend, delete) takes.
pub const MOST_USERS_AT_ONCE: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_kept_per_field_first_one_wins() {
        let mut errors = FieldErrors::default();
        errors.required("name", "company name", "  ", 10);
        errors.required("name", "company name", "far too long a name", 10);
        errors.at_most("phone", "phone number", "0123456789012", 12);
        errors.optional_email("email", "not-an-email");
        errors.optional_email("other", "");
        assert_eq!(errors.get("name"), Some("Enter the company name."));
        assert_eq!(
            errors.get("phone"),
            Some("The phone number can be at most 12 characters (it has 13).")
        );
        assert_eq!(
            errors.get("email"),
            Some("Enter an email address like name@example.com.")
        );
        assert_eq!(errors.get("other"), None);
        assert!(!checked(&None) && checked(&Some("on".into())) && !checked(&Some("false".into())));
    }
}
