//! CSV uploads: the data feed's workers and timesheets imports and the portal-user bulk
//! invite. The first byte picks the parser, the rest is the file.
//!
//! Checks beyond "no panic": every row names a line of the file, in order, and (in a file
//! without quoting, where a row is one line) that line holds the row's key cell; feed rows
//! carry only the kind's columns and unique external ids; neither parser accepts more rows
//! than its limit.

#![no_main]

mod input;

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use portal_server::feed::MAX_BATCH_ROWS;
use portal_server::feed::import::{self, ImportKind};
use portal_server::portal_users::import as invites;

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = input::choice_and_text(data) else {
        return;
    };
    match mode % 3 {
        0 => feed_file(ImportKind::Workers, text),
        1 => feed_file(ImportKind::Timesheets, text),
        _ => invite_file(text),
    }
});

fn feed_file(kind: ImportKind, text: &str) {
    let Ok(parsed) = import::parse(kind, text) else {
        return;
    };
    assert!(parsed.len() <= MAX_BATCH_ROWS);
    let mut ids = HashSet::new();
    let mut previous = 0;
    for (line, external_id, values) in &parsed.rows {
        assert!(
            *line > previous,
            "rows out of order: line {line} after {previous}"
        );
        previous = *line;
        assert_line(text, *line, external_id);
        assert!(
            external_id.is_empty() || ids.insert(external_id.clone()),
            "external id {external_id:?} accepted twice"
        );
        for name in values.keys() {
            assert!(
                name != "external_id" && kind.columns().contains(&name.as_str()),
                "column {name:?} is not a {} column",
                kind.as_str()
            );
        }
    }
    for fault in &parsed.faults {
        assert_line(text, fault.row, "");
    }
}

fn invite_file(text: &str) {
    let Ok(rows) = invites::read(text) else {
        return;
    };
    assert!(rows.len() <= invites::MAX_ROWS);
    let mut previous = 0;
    for (line, [email, ..]) in &rows {
        assert!(
            *line > previous,
            "rows out of order: line {line} after {previous}"
        );
        previous = *line;
        assert_line(text, *line, email);
    }
}

/// `line` (1-based) is a data line of `text` and, when no cell can span lines, holds `cell`.
fn assert_line(text: &str, line: usize, cell: &str) {
    // Records end at `\r\n`, `\n` or a lone `\r`, and so do lines.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        (2..=lines.len()).contains(&line),
        "line {line} of a {}-line file",
        lines.len()
    );
    if !text.contains('"') {
        assert!(
            lines[line - 1].contains(cell),
            "{cell:?} is reported on line {line}, which is {:?}",
            lines[line - 1]
        );
    }
}
