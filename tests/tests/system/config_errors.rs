//! A broken configuration stops the binary with one clear line naming file and key, exit 1.

use portal_tests::Installation;

/// Runs `portal check-config` and returns (exit code, stderr).
fn check(installation: &Installation) -> (Option<i32>, String) {
    let output = installation.portal(&["check-config"]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn edit(installation: &Installation, key: &str, from: &str, to: &str) {
    let path = installation.agency_file(key);
    let text = std::fs::read_to_string(&path).expect("read agency file");
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write agency file");
}

#[tokio::test]
async fn the_shipped_configuration_is_valid() {
    let installation = Installation::new().await;
    let output = installation.portal(&["check-config"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("2 agencies"), "{stdout}");
}

#[tokio::test]
async fn an_invalid_slug_names_file_and_key() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "acme",
        "slug = \"acme\"",
        "slug = \"Acme Staffing\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("agencies/acme.toml: key `slug`"),
        "{stderr}"
    );
    assert!(stderr.contains("not a valid slug"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_theme_names_file_and_key() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "brightfix",
        "theme = \"harbor\"",
        "theme = \"neon\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("agencies/brightfix.toml: key `theme`: unknown theme \"neon\""),
        "{stderr}"
    );
    assert!(stderr.contains("base, harbor"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_plugin_names_file_and_key() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "acme",
        "role_set = \"roles-staffing\"",
        "role_set = \"roles-nope\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr
            .contains("agencies/acme.toml: key `plugins.role_set`: unknown plugin \"roles-nope\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn unparsable_toml_names_the_file_and_line() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "acme",
        "display_name = \"Acme Staffing\"",
        "display_name = \"Acme Staffing",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("agencies/acme.toml"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}

#[tokio::test]
async fn a_duplicate_slug_names_both_agencies() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "brightfix",
        "slug = \"brightfix\"",
        "slug = \"acme\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("key `slug`: slug \"acme\" is already used by agency \"acme\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_bad_colour_or_missing_image_is_a_config_error() {
    let installation = Installation::new().await;
    edit(
        &installation,
        "acme",
        "primary_color = \"#1d4ed8\"",
        "primary_color = \"blue\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("agencies/acme.toml: key `branding.primary_color`"),
        "{stderr}"
    );
    assert!(stderr.contains("not a colour"), "{stderr}");

    let installation = Installation::new().await;
    edit(
        &installation,
        "acme",
        "branding/acme/logo.svg",
        "branding/acme/missing.svg",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("key `branding.logo`: image file"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_slug_changed_after_creation_is_refused() {
    let installation = Installation::new().await;
    let first = installation.portal(&["migrate"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    edit(
        &installation,
        "acme",
        "slug = \"acme\"",
        "slug = \"acme-staffing\"",
    );
    let output = installation.portal(&["migrate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("agencies/acme.toml: key `slug`: changed from \"acme\" to \"acme-staffing\""),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn misuse_of_the_command_line_fails_clearly() {
    let installation = Installation::new().await;
    let output = installation.portal(&["staff", "create", "--agency", "acme"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--email"));

    let output = installation.portal(&[
        "staff", "create", "--agency", "nope", "--email", "a@b.co", "--name", "A",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no agency \"nope\""), "{stderr}");
}

#[tokio::test]
async fn staff_create_prints_a_passphrase_once_and_refuses_duplicates() {
    let installation = Installation::new().await;
    let args = [
        "staff",
        "create",
        "--agency",
        "acme",
        "--email",
        "Ops@Acme.Example",
        "--name",
        "Ops Lead",
        "--role",
        "admin",
    ];
    let output = installation.portal(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("created admin ops@acme.example"),
        "{stdout}"
    );
    let password = stdout
        .lines()
        .find_map(|l| l.rsplit_once(": ").map(|(_, p)| p.to_owned()))
        .unwrap_or_default();
    assert!(
        password.len() >= 12 && password.chars().all(|c| c.is_ascii_alphabetic()),
        "{stdout}"
    );

    let again = installation.portal(&args);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr.contains("already has a staff user with email ops@acme.example"),
        "{stderr}"
    );

    let list = installation.portal(&["staff", "list", "--agency", "acme"]);
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        listing.contains("ops@acme.example") && listing.contains("Ops Lead"),
        "{listing}"
    );
    assert!(!listing.contains(&password));
}

#[tokio::test]
async fn a_theme_whose_parents_loop_or_are_missing_names_file_and_key() {
    let installation = Installation::new().await;
    let themes = installation.database.dir().join("more-themes");
    for (name, parent) in [
        ("loop-a", "loop-b"),
        ("loop-b", "loop-a"),
        ("orphan", "gone"),
    ] {
        let folder = themes.join(name);
        std::fs::create_dir_all(&folder).expect("create theme folder");
        std::fs::write(
            folder.join("theme.toml"),
            format!("name = \"{name}\"\nextends = \"{parent}\"\n"),
        )
        .expect("write theme.toml");
    }
    let shipped = portal_tests::repo_root().join("themes");
    installation.edit_main_config(
        &format!("themes = [\"{}\"]", shipped.display()),
        &format!(
            "themes = [\"{}\", \"{}\"]",
            themes.display(),
            shipped.display()
        ),
    );
    edit(
        &installation,
        "acme",
        "theme = \"base\"",
        "theme = \"loop-a\"",
    );
    edit(
        &installation,
        "brightfix",
        "theme = \"harbor\"",
        "theme = \"orphan\"",
    );
    let (code, stderr) = check(&installation);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "agencies/acme.toml: key `theme`: theme \"loop-a\" extends itself: loop-a → loop-b → loop-a"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("agencies/brightfix.toml: key `theme`: theme \"orphan\" extends \"gone\", which is not installed"),
        "{stderr}"
    );
}
