//! Configuration from environment variables: `PORTAL_<SECTION>__<KEY>[__<KEY>…]`, and
//! `…_FILE` for a value kept in a file (as container platforms hand secrets over).
//!
//! A variable is configuration when it has `__` in its name after the prefix; others
//! (`PORTAL_CONFIG_DIR`, the test suite's) are not. A configuration variable that names no
//! section, repeats itself as `…` and `…_FILE`, or whose file cannot be read is a problem
//! reported with the variable's name — never silently ignored.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

/// The name figment gives this provider's values; errors about them name the variable.
pub(super) const PROVIDER_NAME: &str = "environment variable";

const PREFIX: &str = "PORTAL_";
const FILE_SUFFIX: &str = "_file";

/// The top-level sections an environment variable may set.
pub(super) const SECTIONS: &[&str] = &[
    "server", "database", "paths", "mail", "log", "security", "plugins", "agencies",
];

/// The configuration the environment sets, and what was wrong with it.
#[derive(Debug, Default)]
pub(super) struct Environment {
    values: Dict,
    /// Dotted key (`server.listen`) → the variable that set it (`PORTAL_SERVER__LISTEN`).
    variables: Arc<BTreeMap<String, String>>,
    pub problems: Vec<String>,
}

impl Environment {
    /// Reads the `PORTAL_…` configuration variables among `vars`.
    pub fn read(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let mut values = Dict::new();
        let mut variables = BTreeMap::new();
        let mut problems = Vec::new();
        let mut vars: Vec<(String, OsString)> = vars
            .into_iter()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value)))
            .filter(|(name, _)| name.starts_with(PREFIX))
            .collect();
        vars.sort();
        for (name, value) in vars {
            match entry(&name, value) {
                Ok(None) => {}
                Ok(Some((key, value))) => {
                    if let Some(earlier) = variables.get(&key) {
                        problems.push(format!(
                            "{name}: sets `{key}`, which {earlier} sets too; keep one of them"
                        ));
                        continue;
                    }
                    insert(&mut values, &key, value);
                    variables.insert(key, name);
                }
                Err(problem) => problems.push(format!("{name}: {problem}")),
            }
        }
        Self {
            values,
            variables: Arc::new(variables),
            problems,
        }
    }

    #[cfg(test)]
    fn variable_of(&self, key: &str) -> Option<&str> {
        self.variables.get(key).map(String::as_str)
    }
}

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        let variables = Arc::clone(&self.variables);
        Metadata::named(PROVIDER_NAME).interpolater(move |_, keys| {
            let key = keys.join(".");
            variables
                .get(&key)
                .cloned()
                .unwrap_or_else(|| variable_name(keys))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Map::from([(Profile::Default, self.values.clone())]))
    }
}

/// `["server", "listen"]` → `PORTAL_SERVER__LISTEN`.
pub(super) fn variable_name(keys: &[&str]) -> String {
    format!("{PREFIX}{}", keys.join("__").to_ascii_uppercase())
}

/// One variable as (dotted key, value); `None` when it is not configuration.
fn entry(name: &str, value: OsString) -> Result<Option<(String, Value)>, String> {
    let rest = &name[PREFIX.len()..];
    if !rest.contains("__") {
        let lower = rest.to_ascii_lowercase();
        return if SECTIONS.contains(&lower.as_str()) {
            Err(format!(
                "a whole section cannot be set at once; set one key per variable, such as \
                 {PREFIX}{rest}__{}",
                example_key(&lower).to_ascii_uppercase()
            ))
        } else {
            Ok(None)
        };
    }
    let mut keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    if keys.iter().any(String::is_empty) {
        return Err("a name part between `__` is empty".into());
    }
    let section = keys[0].as_str();
    if !SECTIONS.contains(&section) {
        let hint = closest(section, SECTIONS)
            .map(|s| format!(" (did you mean {PREFIX}{}__…?)", s.to_ascii_uppercase()))
            .unwrap_or_default();
        return Err(format!(
            "`{section}` is not a configuration section{hint}; the sections are {}",
            SECTIONS.join(", ")
        ));
    }
    let text = value
        .into_string()
        .map_err(|_| "the value is not valid UTF-8".to_owned())?;
    let last = keys.len() - 1;
    let value = match keys[last].strip_suffix(FILE_SUFFIX) {
        Some(key) if keys.len() > 1 && !key.is_empty() => {
            keys[last] = key.to_owned();
            let contents = std::fs::read_to_string(&text)
                .map_err(|err| format!("cannot read the file {text}: {err}"))?;
            // Files written by hand or by `echo` end with a line break the value has not.
            Value::from(contents.trim_end_matches(['\r', '\n']).to_owned())
        }
        _ => parse(&text),
    };
    Ok(Some((keys.join("."), value)))
}

/// Lists and tables are written as in TOML (`[themes, /srv/themes]`); everything else is
/// kept as text and read as the key's type when the configuration is extracted, so a
/// password of digits stays a password and `8080` still reads as a port.
fn parse(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        text.parse()
            .unwrap_or_else(|_| Value::from(text.to_owned()))
    } else {
        Value::from(text.to_owned())
    }
}

fn insert(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_owned(), value);
        }
        Some((head, tail)) => {
            let entry = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, tail, value);
            }
        }
    }
}

fn example_key(section: &str) -> &'static str {
    match section {
        "server" => "listen",
        "database" => "url",
        "paths" => "data",
        "mail" => "transport",
        "log" => "level",
        "security" => "session_idle_minutes",
        "plugins" => "max_instances",
        _ => "<key>__…",
    }
}

/// The candidate at most two edits away from `word`, for a "did you mean".
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(word, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Environment {
        Environment::read(
            vars.iter()
                .map(|(name, value)| (OsString::from(name), OsString::from(value))),
        )
    }

    #[test]
    fn nested_keys_are_lower_case_and_dotted() {
        let env = read(&[
            ("PORTAL_SERVER__LISTEN", "0.0.0.0:9000"),
            ("PORTAL_MAIL__SMTP__HOST", "smtp.example"),
            ("PORTAL_CONFIG_DIR", "/etc/portal"),
            ("PORTAL_TEST_DATABASE", "postgres"),
            ("HOME", "/root"),
        ]);
        assert!(env.problems.is_empty(), "{:?}", env.problems);
        assert_eq!(
            env.variable_of("server.listen"),
            Some("PORTAL_SERVER__LISTEN")
        );
        assert_eq!(
            env.variable_of("mail.smtp.host"),
            Some("PORTAL_MAIL__SMTP__HOST")
        );
        assert_eq!(env.variables.len(), 2);
    }

    #[test]
    fn a_misspelt_section_or_a_whole_section_is_a_problem() {
        let env = read(&[("PORTAL_SERVR__LISTEN", "x"), ("PORTAL_DATABASE", "x")]);
        let problems = env.problems.join("\n");
        assert!(
            problems.contains("PORTAL_SERVR__LISTEN: `servr` is not a configuration section (did you mean PORTAL_SERVER__…?)"),
            "{problems}"
        );
        assert!(
            problems.contains("PORTAL_DATABASE: a whole section cannot be set"),
            "{problems}"
        );
    }

    #[test]
    fn a_file_variable_reads_the_file_without_its_line_break() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("url");
        std::fs::write(&path, "postgres://portal:s3cret@db/portal\n")?;
        let path = path.display().to_string();
        let env = read(&[("PORTAL_DATABASE__URL_FILE", &path)]);
        assert!(env.problems.is_empty(), "{:?}", env.problems);
        assert_eq!(
            env.variable_of("database.url"),
            Some("PORTAL_DATABASE__URL_FILE")
        );
        let data = env.data()?;
        let url = data[&Profile::Default]["database"]
            .find_ref("url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        assert_eq!(url.as_deref(), Some("postgres://portal:s3cret@db/portal"));

        let both = read(&[
            ("PORTAL_DATABASE__URL", "sqlite://x.db"),
            ("PORTAL_DATABASE__URL_FILE", &path),
        ]);
        assert!(
            both.problems
                .join("\n")
                .contains("which PORTAL_DATABASE__URL sets too"),
            "{:?}",
            both.problems
        );
        let missing = read(&[("PORTAL_MAIL__SMTP__PASSWORD_FILE", "/nonexistent/pw")]);
        assert!(
            missing
                .problems
                .join("\n")
                .contains("PORTAL_MAIL__SMTP__PASSWORD_FILE: cannot read the file /nonexistent/pw"),
            "{:?}",
            missing.problems
        );
        Ok(())
    }

    #[test]
    fn lists_are_written_as_in_toml() -> anyhow::Result<()> {
        let env = read(&[("PORTAL_PATHS__THEMES", "[themes, \"/srv/themes\"]")]);
        let data = env.data()?;
        let themes = data[&Profile::Default]["paths"]
            .find_ref("themes")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect::<Vec<_>>());
        assert_eq!(themes, Some(vec!["themes", "/srv/themes"]));
        Ok(())
    }

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("servr", "server"), 1);
        assert_eq!(edit_distance("databse", "database"), 1);
        assert_eq!(edit_distance("mail", "mail"), 0);
        assert_eq!(closest("zzzzzz", SECTIONS), None);
    }
}
