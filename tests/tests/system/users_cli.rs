//! `portal users import`: the CSV bulk invite from the command line, dry run first.

use portal_tests::Installation;

#[tokio::test]
async fn a_csv_file_is_checked_then_invited_row_by_row() {
    let installation = Installation::with_demo_data().await;
    let file = installation.config.join("users.csv");
    std::fs::write(
        &file,
        "email,first_name,last_name,company,role\n\
         ivy@northwind.example,Ivy,Lane,Northwind Manufacturing,\n\
         david@northwind.example,David,Again,Northwind Manufacturing,\n\
         who@nowhere.example,Who,Ever,Nowhere Ltd,\n\
         broken,No,Email,Northwind Manufacturing,\n",
    )
    .expect("write csv");
    let path = file.to_string_lossy().into_owned();
    let dry = installation.portal(&["users", "import", &path, "--agency", "acme", "--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        out.contains("ivy@northwind.example") && out.contains("would be invited"),
        "{out}"
    );
    assert!(out.contains("skipped (duplicate email)"), "{out}");
    assert!(out.contains("skipped (unknown company)"), "{out}");
    assert!(out.contains("skipped (invalid email)"), "{out}");
    assert!(
        out.contains("dry run: 1 would be invited, 3 skipped"),
        "{out}"
    );

    let done = installation.portal(&["users", "import", &path, "--agency", "acme"]);
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(out.contains("1 invited, 3 skipped"), "{out}");
    let again = installation.portal(&["users", "import", &path, "--agency", "acme"]);
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains("0 invited, 4 skipped"),
        "the first run created ivy: {out}"
    );

    let unknown = installation.portal(&["users", "import", &path, "--agency", "nowhere"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no agency \"nowhere\""));
}
