use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that must never reach logs or `Debug` output: database URLs with passwords,
/// SMTP credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown of it: a URL with its password (in the address or a `password=`
    /// parameter) replaced by `***`; anything else not at all.
    pub fn masked(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return "[redacted]".to_owned();
        };
        let (address, query) = match rest.split_once('?') {
            Some((address, query)) => (address, Some(query)),
            None => (rest, None),
        };
        let address = match address.split_once('@') {
            Some((user_info, host)) => match user_info.split_once(':') {
                Some((user, _)) => format!("{user}:***@{host}"),
                None => address.to_owned(),
            },
            None => address.to_owned(),
        };
        let query = query.map(|query| {
            query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        match query {
            Some(query) => format!("{scheme}://{address}?{query}"),
            None => format!("{scheme}://{address}"),
        }
    }
}

/// Serialised masked, so a setting shown to a person never carries it.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn masking_keeps_no_password() {
        for (secret, shown) in [
            (
                "postgres://portal:hunter2@db:5432/portal",
                "postgres://portal:***@db:5432/portal",
            ),
            (
                "postgres://db/portal?user=portal&password=hunter2&sslmode=require",
                "postgres://db/portal?user=portal&password=***&sslmode=require",
            ),
            ("sqlite://data/portal.db", "sqlite://data/portal.db"),
            ("hunter2", "[redacted]"),
        ] {
            assert_eq!(Secret::new(secret).masked(), shown);
        }
    }
}
