//! `portal import workers|timesheets FILE --agency SLUG` with real files.

use portal_tests::Installation;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn workers_import_reports_each_faulty_row_and_is_idempotent() {
    let installation = Installation::new().await;
    let file = installation.database.dir().join("workers.csv");
    std::fs::write(
        &file,
        "external_id,first_name,last_name,email\n\
         W1,Ada,Lovelace,ada@example.com\n\
         W2,Grace,Hopper,\n\
         W3,,Turing,not-an-email\n",
    )
    .expect("write csv");
    let path = file.to_string_lossy().into_owned();

    let preview =
        installation.portal(&["import", "workers", &path, "--agency", "acme", "--dry-run"]);
    let stdout = text(&preview.stdout);
    assert_eq!(preview.status.code(), Some(1), "{}", text(&preview.stderr));
    assert!(
        stdout.contains("(dry run, nothing saved): 2 created"),
        "{stdout}"
    );

    let first = installation.portal(&["import", "workers", &path, "--agency", "acme"]);
    let stdout = text(&first.stdout);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert!(
        stdout.contains("line 4 (W3): first_name: Enter the first name."),
        "{stdout}"
    );
    assert!(stdout.contains("line 4 (W3): email: "), "{stdout}");
    assert!(
        stdout.contains("2 created, 0 updated, 0 unchanged, 1 refused"),
        "{stdout}"
    );
    assert!(
        text(&first.stderr).contains("1 row(s)"),
        "{}",
        text(&first.stderr)
    );

    let again = installation.portal(&["import", "workers", &path, "--agency", "acme"]);
    assert!(
        text(&again.stdout).contains("0 created, 0 updated, 2 unchanged, 1 refused"),
        "{}",
        text(&again.stdout)
    );

    let fixed = installation.database.dir().join("fixed.csv");
    std::fs::write(&fixed, "external_id,first_name,last_name\nW1,Ada,King\n").expect("write");
    let fixed_run = installation.portal(&[
        "import",
        "workers",
        &fixed.to_string_lossy(),
        "--agency",
        "acme",
    ]);
    assert!(fixed_run.status.success(), "{}", text(&fixed_run.stderr));
    assert!(
        text(&fixed_run.stdout).contains("0 created, 1 updated"),
        "{}",
        text(&fixed_run.stdout)
    );
}

#[tokio::test]
async fn timesheets_import_refuses_unknown_references_and_bad_files() {
    let installation = Installation::new().await;
    let file = installation.database.dir().join("timesheets.csv");
    std::fs::write(
        &file,
        "external_id,worker,client,work_date,start_time,end_time,charge_rate_cents,pay_rate_cents\n\
         T1,W404,C404,2026-11-02,08:00,16:00,2500,1500\n",
    )
    .expect("write csv");
    let output = installation.portal(&[
        "import",
        "timesheets",
        &file.to_string_lossy(),
        "--agency",
        "acme",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout.contains("line 2 (T1): worker: There is no worker"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 2 (T1): client: There is no client"),
        "{stdout}"
    );

    let bad = installation.database.dir().join("bad.csv");
    std::fs::write(&bad, "external_id,colour\nT1,red\n").expect("write");
    let output = installation.portal(&[
        "import",
        "timesheets",
        &bad.to_string_lossy(),
        "--agency",
        "acme",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("Unknown column(s): colour"),
        "{}",
        text(&output.stderr)
    );

    let output = installation.portal(&[
        "import",
        "timesheets",
        &file.to_string_lossy(),
        "--agency",
        "nope",
    ]);
    assert!(
        text(&output.stderr).contains("no agency with the slug"),
        "{}",
        text(&output.stderr)
    );
}
