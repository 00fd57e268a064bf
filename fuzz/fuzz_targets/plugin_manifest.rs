//! `plugin.toml` through `Manifest::parse`, as the host reads it before compiling a plugin.
//!
//! Checks beyond "no panic": an accepted manifest keeps the promises `parse` makes (a valid
//! slug as id, a supported API version, a version, at least one world), and writing it back
//! as TOML reads as the same manifest.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_server::config::slug_problem;
use portal_server::plugins::manifest::{Capability, Manifest, SUPPORTED_API_VERSIONS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = Manifest::parse(text) else {
        return;
    };
    assert_eq!(slug_problem(&manifest.id), None);
    assert!(SUPPORTED_API_VERSIONS.contains(&manifest.api.as_str()));
    assert!(!manifest.version.trim().is_empty());
    assert!(!manifest.worlds.is_empty());
    for capability in &manifest.capabilities {
        assert_eq!(Capability::parse(capability.as_str()), Some(*capability));
    }

    let again = match Manifest::parse(&written(&manifest)) {
        Ok(again) => again,
        Err(err) => panic!("{manifest:?} written back is refused: {err:#}"),
    };
    assert_eq!(
        (&again.id, &again.name, &again.version, &again.api),
        (
            &manifest.id,
            &manifest.name,
            &manifest.version,
            &manifest.api
        )
    );
    assert_eq!(again.description, manifest.description);
    assert_eq!(again.worlds, manifest.worlds);
    assert_eq!(again.capabilities, manifest.capabilities);
});

/// The manifest as a `plugin.toml` would hold it.
fn written(manifest: &Manifest) -> String {
    let mut table = toml::Table::new();
    for (key, value) in [
        ("id", &manifest.id),
        ("name", &manifest.name),
        ("version", &manifest.version),
        ("api", &manifest.api),
        ("description", &manifest.description),
    ] {
        table.insert(key.into(), toml::Value::String(value.clone()));
    }
    let worlds = manifest.worlds.iter().map(|w| w.to_string().into());
    table.insert("worlds".into(), toml::Value::Array(worlds.collect()));
    let capabilities = manifest.capabilities.iter().map(|c| c.as_str().into());
    table.insert(
        "capabilities".into(),
        toml::Value::Array(capabilities.collect()),
    );
    toml::to_string(&table).unwrap_or_default()
}
