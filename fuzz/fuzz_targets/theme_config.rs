//! Theme and agency configuration: a `theme.toml` through `ThemeManifest::parse`, or an
//! `agencies/<key>.toml` through figment into `AgencyConfig`, as start-up reads them. The
//! first byte picks which.
//!
//! Checks beyond "no panic": a theme manifest written back as TOML reads the same; an
//! accepted agency's colours are `#rgb`/`#rrggbb` in lower case and parse to themselves (they
//! go into a stylesheet as they are), and its plugin list names the role set.

#![no_main]

mod input;

use figment::Figment;
use figment::providers::{Format, Toml};
use libfuzzer_sys::fuzz_target;
use portal_server::config::{AgencyConfig, Color};
use portal_server::themes::ThemeManifest;

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = input::choice_and_text(data) else {
        return;
    };
    if mode % 2 == 0 {
        theme(text);
    } else {
        agency(text);
    }
});

fn theme(text: &str) {
    let Ok(manifest) = ThemeManifest::parse(text) else {
        return;
    };
    let mut table = toml::Table::new();
    table.insert("name".into(), manifest.name.clone().into());
    table.insert("description".into(), manifest.description.clone().into());
    if let Some(parent) = &manifest.extends {
        table.insert("extends".into(), parent.clone().into());
    }
    let written = toml::to_string(&table).unwrap_or_default();
    let again = match ThemeManifest::parse(&written) {
        Ok(again) => again,
        Err(err) => panic!("{manifest:?} written back is refused: {err}"),
    };
    assert_eq!(
        (again.name, again.description, again.extends),
        (manifest.name, manifest.description, manifest.extends)
    );
}

fn agency(text: &str) {
    let Ok(agency) = Figment::from(Toml::string(text)).extract::<AgencyConfig>() else {
        return;
    };
    let branding = &agency.branding;
    for color in [&branding.primary_color, &branding.accent_color]
        .into_iter()
        .flatten()
    {
        let text = color.as_str();
        assert!(
            matches!(text.len(), 4 | 7)
                && text.starts_with('#')
                && text[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "colour {text:?} accepted"
        );
        assert_eq!(Color::parse(text).as_ref(), Ok(color));
    }
    assert!(
        agency
            .plugins
            .all()
            .contains(agency.plugins.role_set.as_str())
    );
}
