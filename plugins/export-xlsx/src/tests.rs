//! Whole-workbook tests. The archive is read back by a strict little zip
//! reader here (headers, data descriptors, CRCs, inflated sizes), checked
//! against the `zip` crate's reading of it, and by Python's `zipfile` (C
//! zlib) and openpyxl when the machine has them. Set `PORTAL_XLSX_SAMPLE` to
//! a path to keep the sample workbook for opening in Excel or LibreOffice.

use std::io::Read;

use flate2::read::DeflateDecoder;
use portal_plugin_api::formats::{RowBatch, run_export};

use super::*;
use crate::widths::MAX_WIDTH;

fn columns() -> Vec<Column> {
    vec![
        Column::new("name", "Name", ColumnType::Text),
        Column::new("hours", "Hours", ColumnType::Decimal(2)),
        Column::new("total", "Total", ColumnType::Decimal(2)),
        Column::new("week_ending", "Week ending", ColumnType::Date),
        Column::new("approved_at", "Approved at", ColumnType::Datetime),
        Column::new("approved", "Approved", ColumnType::Boolean),
        Column::new("count", "Count", ColumnType::Integer),
    ]
}

const SAMPLE: &[&[Option<&str>]] = &[
    &[
        Some("Ann & <Bo>"),
        Some("850"),
        Some("-12345"),
        Some("2024-02-29"),
        Some("2024-03-01T13:45:30Z"),
        Some("1"),
        Some("42"),
    ],
    &[Some("=1+1"), None, Some("5"), None, None, Some("0"), None],
];

fn export(batches: &[&[&[Option<&str>]]]) -> Vec<Vec<u8>> {
    run_export::<Xlsx>("xlsx", "Timesheets", columns(), batches).expect("export")
}

/// Drives the writer as the SDK does, holding back at most `hold_bytes` of
/// compressed rows before the column widths are written.
fn export_holding(
    hold_bytes: usize,
    columns: Vec<Column>,
    batches: &[&[&[Option<&str>]]],
) -> Vec<Vec<u8>> {
    let count = columns.len();
    let mut writer = Xlsx::open("xlsx", "Timesheets", columns).expect("open");
    writer.hold_bytes = hold_bytes;
    let mut chunks: Vec<Vec<u8>> = batches
        .iter()
        .map(|rows| {
            let batch = RowBatch::from_rows(rows);
            let rows = Rows::decode(&batch, count).expect("valid batch");
            writer.write_rows(rows).expect("write rows")
        })
        .collect();
    chunks.push(writer.finish().expect("finish"));
    chunks
}

/// The rows of `streams_compressed_bytes_as_batches_arrive`, for `columns()`.
fn timesheet_rows(count: usize) -> Vec<[String; 7]> {
    (0..count)
        .map(|n| {
            [
                format!("Worker {n} at site {}", n % 17),
                (n * 25 % 1300).to_string(),
                (n * 1999).to_string(),
                format!("2024-{:02}-{:02}", n % 12 + 1, n % 28 + 1),
                format!("2024-05-{:02}T{:02}:{:02}:00Z", n % 28 + 1, n % 24, n % 60),
                (n % 2).to_string(),
                n.to_string(),
            ]
        })
        .collect()
}

fn as_cells<const N: usize>(rows: &[[String; N]]) -> Vec<Vec<Option<&str>>> {
    rows.iter()
        .map(|row| row.iter().map(|cell| Some(cell.as_str())).collect())
        .collect()
}

/// A portal-user list: long names and emails, wide numbers, a note longer
/// than any column is made.
fn people() -> Vec<Column> {
    vec![
        Column::new("name", "Name", ColumnType::Text),
        Column::new("email", "Email", ColumnType::Text),
        Column::new("rate", "Rate", ColumnType::Decimal(2)),
        Column::new("started", "Started", ColumnType::Date),
        Column::new("last_login", "Last login", ColumnType::Datetime),
        Column::new("active", "Active", ColumnType::Boolean),
        Column::new("logins", "Logins", ColumnType::Integer),
        Column::new("notes", "Notes", ColumnType::Text),
    ]
}

const LONG_NOTE: &str = "Prefers invoices by post; call the site office before 9 am on weekdays, never on Fridays, and copy the regional manager on every change to the rota.";

const PEOPLE: &[&[Option<&str>]] = &[
    &[
        Some("Ann Lee"),
        Some("ann@example.com"),
        Some("12345"),
        Some("2024-02-29"),
        Some("2024-03-01T13:45:30Z"),
        Some("1"),
        Some("42"),
        Some("short"),
    ],
    &[
        Some("Bartholomew Featherstonehaugh-Smythe"),
        Some("bartholomew.featherstonehaugh@consulting.example.co.uk"),
        Some("-123456789012"),
        Some("1899-12-31"),
        None,
        Some("0"),
        Some("-9223372036854775808"),
        Some(LONG_NOTE),
    ],
    &[
        Some("Wu Mei"),
        Some("mei.wu@example.com"),
        Some("5"),
        None,
        Some("1899-12-31T23:59:59Z"),
        None,
        None,
        None,
    ],
];

/// What a spreadsheet shows for a cell, worked out here independently of
/// the plugin's measuring: decimals in `#,##0.00` style, datetimes as
/// `yyyy-mm-dd hh:mm:ss`, booleans as TRUE and FALSE.
fn shown(value: &str, kind: ColumnType) -> String {
    match kind {
        ColumnType::Decimal(scale) => {
            let scale = usize::from(scale);
            let (sign, digits) = match value.strip_prefix('-') {
                Some(digits) => ("-", digits),
                None => ("", value),
            };
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (whole, fraction) = padded.split_at(padded.len() - scale);
            let mut grouped = String::new();
            for (index, digit) in whole.chars().enumerate() {
                if index > 0 && (whole.len() - index) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(digit);
            }
            let point = if scale == 0 { "" } else { "." };
            format!("{sign}{grouped}{point}{fraction}")
        }
        ColumnType::Datetime if !value.starts_with("18") => {
            value.replace('T', " ").trim_end_matches('Z').to_owned()
        }
        ColumnType::Boolean if value == "1" => "TRUE".to_owned(),
        ColumnType::Boolean => "FALSE".to_owned(),
        _ => value.to_owned(),
    }
}

/// The `<col>` widths of a worksheet, in order.
fn column_widths(sheet: &str) -> Vec<f64> {
    sheet
        .split("<col ")
        .skip(1)
        .map(|col| {
            let (_, rest) = col.split_once("width=\"").expect("a width");
            let (width, _) = rest.split_once('"').expect("a quoted width");
            width.parse().expect("a number")
        })
        .collect()
}

/// Checks every column is as wide as the longest header or cell it shows
/// (up to the cap), and returns each column's longest, in characters.
fn assert_columns_fit(sheet: &str, columns: &[Column], rows: &[&[Option<&str>]]) -> Vec<usize> {
    let widths = column_widths(sheet);
    assert_eq!(widths.len(), columns.len(), "one <col> per column");
    let mut longest = Vec::new();
    for (index, (column, width)) in columns.iter().zip(&widths).enumerate() {
        let cells = rows.iter().filter_map(|row| row[index]);
        let chars = cells
            .map(|value| shown(value, column.kind).chars().count())
            .chain([column.label.chars().count()])
            .max()
            .unwrap_or(0);
        let needed = chars.min(usize::from(MAX_WIDTH)) as f64;
        assert!(
            *width >= needed,
            "column {:?} is {width} wide; its longest cell has {chars} characters",
            column.label
        );
        assert!(*width <= f64::from(MAX_WIDTH), "{}: {width}", column.label);
        longest.push(chars);
    }
    longest
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads every entry through the central directory, checking it against
/// the local header, the data descriptor and the CRC.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let end = bytes.len() - 22;
    assert_eq!(u32_at(bytes, end), 0x0605_4b50, "end of central directory");
    let count = u16_at(bytes, end + 10);
    let mut at = u32_at(bytes, end + 16) as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(bytes, at), 0x0201_4b50, "central header");
        let (flags, method) = (u16_at(bytes, at + 8), u16_at(bytes, at + 10));
        let (crc, compressed, size) = (
            u32_at(bytes, at + 16),
            u32_at(bytes, at + 20) as usize,
            u32_at(bytes, at + 24) as usize,
        );
        let name_length = u16_at(bytes, at + 28);
        let local = u32_at(bytes, at + 42) as usize;
        let name = String::from_utf8(bytes[at + 46..at + 46 + name_length].to_vec()).expect("name");
        at += 46 + name_length;

        assert_eq!((flags, method), (8, 8), "{name}: data descriptor, deflate");
        assert_eq!(u32_at(bytes, local), 0x0403_4b50, "{name}: local header");
        assert_eq!(
            &bytes[local + 30..local + 30 + name_length],
            name.as_bytes()
        );
        let data = local + 30 + name_length + u16_at(bytes, local + 28);
        let mut content = Vec::new();
        DeflateDecoder::new(&bytes[data..data + compressed])
            .read_to_end(&mut content)
            .expect("inflate");
        assert_eq!(content.len(), size, "{name}: size");
        assert_eq!(crc32fast::hash(&content), crc, "{name}: CRC");
        let descriptor = data + compressed;
        assert_eq!(
            u32_at(bytes, descriptor),
            0x0807_4b50,
            "{name}: data descriptor"
        );
        assert_eq!(u32_at(bytes, descriptor + 4), crc);
        assert_eq!(u32_at(bytes, descriptor + 8) as usize, compressed);
        assert_eq!(u32_at(bytes, descriptor + 12) as usize, size);
        entries.push((name, content));
    }
    let mut archive =
        ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip crate reads it");
    assert_eq!(archive.len(), entries.len(), "zip crate: entries");
    for (name, content) in &entries {
        let mut read = Vec::new();
        archive
            .by_name(name)
            .expect("zip crate finds the entry")
            .read_to_end(&mut read)
            .expect("zip crate inflates and checks the CRC");
        assert!(read == *content, "zip crate: {name} differs");
    }
    entries
}

fn part(entries: &[(String, Vec<u8>)], name: &str) -> String {
    let (_, content) = entries
        .iter()
        .find(|(entry, _)| entry == name)
        .unwrap_or_else(|| panic!("no part {name}"));
    String::from_utf8(content.clone()).expect("UTF-8 part")
}

#[test]
fn package_holds_the_parts_with_typed_cells() {
    let workbook = export(&[SAMPLE]).concat();
    let entries = unzip(&workbook);
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
        ]
    );
    assert!(part(&entries, "xl/workbook.xml").contains(r#"<sheet name="Timesheets""#));
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    for expected in [
        r#"<c r="A1" s="1" t="inlineStr"><is><t xml:space="preserve">Name</t></is></c>"#,
        r#"<row r="2"><c r="A2" t="inlineStr"><is><t xml:space="preserve">Ann &amp; &lt;Bo&gt;</t></is></c>"#,
        r#"<c r="B2" s="6"><v>8.50</v></c><c r="C2" s="6"><v>-123.45</v></c>"#,
        r#"<c r="D2" s="2"><v>45351</v></c><c r="E2" s="3"><v>45352.5732638889</v></c>"#,
        r#"<c r="F2" t="b"><v>1</v></c><c r="G2"><v>42</v></c></row>"#,
        r#"<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve">=1+1</t></is></c><c r="C3" s="6"><v>0.05</v></c><c r="F3" t="b"><v>0</v></c></row>"#,
    ] {
        assert!(sheet.contains(expected), "sheet lacks {expected}");
    }
    assert!(sheet.ends_with("</row></sheetData></worksheet>"));
}

#[test]
fn columns_fit_their_longest_cell() {
    let workbook = run_export::<Xlsx>("xlsx", "People", people(), &[PEOPLE]).expect("export");
    let entries = unzip(&workbook.concat());
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    let longest = assert_columns_fit(&sheet, &people(), PEOPLE);
    // The email column used to be 10 wide whatever its cells.
    assert_eq!(longest[1], 54);
    assert_eq!(
        column_widths(&sheet)[7],
        f64::from(MAX_WIDTH),
        "long notes hit the cap"
    );
    for expected in [
        r#"<c r="B3" t="inlineStr"><is><t xml:space="preserve">bartholomew.featherstonehaugh@consulting.example.co.uk</t></is></c>"#,
        r#"<c r="C3" s="6"><v>-1234567890.12</v></c>"#,
        r#"<c r="D3" t="inlineStr"><is><t xml:space="preserve">1899-12-31</t></is></c>"#,
        r#"<c r="G3"><v>-9223372036854775808</v></c>"#,
        r#"<c r="E4" t="inlineStr"><is><t xml:space="preserve">1899-12-31T23:59:59Z</t></is></c>"#,
    ] {
        assert!(sheet.contains(expected), "sheet lacks {expected}");
    }
}

#[test]
fn a_table_under_the_hold_limit_comes_out_whole_at_finish() {
    let rows = timesheet_rows(3000);
    let cells = as_cells(&rows);
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(250).collect();
    let chunks = export(&batches);
    // The package parts go out with the first batch; the sheet waits for
    // its column widths, which then fit every row.
    assert!(chunks[0].starts_with(b"PK\x03\x04"));
    assert!(chunks[1..chunks.len() - 1].iter().all(Vec::is_empty));
    let entries = unzip(&chunks.concat());
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    assert_columns_fit(&sheet, &columns(), &row_slices);
    assert_eq!(sheet.matches("<row ").count(), 3001);
}

#[test]
fn streams_compressed_bytes_as_batches_arrive() {
    let rows = timesheet_rows(3000);
    let cells = as_cells(&rows);
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(250).collect();
    // Past the hold limit the head is written and the rows stream.
    let chunks = export_holding(16 * 1024, columns(), &batches);
    let total: usize = chunks.iter().map(Vec::len).sum();
    let nonempty_before_finish = chunks[..chunks.len() - 1]
        .iter()
        .filter(|chunk| !chunk.is_empty())
        .count();
    assert!(
        nonempty_before_finish >= 3,
        "only {nonempty_before_finish} chunks streamed"
    );
    assert!(
        chunks.iter().all(|chunk| chunk.len() < total / 2),
        "one chunk holds most of the file"
    );

    let entries = unzip(&chunks.concat());
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    assert_eq!(sheet.matches("<row ").count(), 3001);
    assert!(sheet.contains(r#"<row r="3001"><c r="A3001" t="inlineStr"><is><t xml:space="preserve">Worker 2999 at site 7</t>"#));
    // The widths fit the rows held back, at least the first batch.
    assert_columns_fit(&sheet, &columns(), batches[0]);
}

#[test]
fn rows_past_the_hold_limit_keep_the_widths_already_written() {
    let rows = timesheet_rows(3000);
    let cells = as_cells(&rows);
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let mut batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(250).collect();
    let long_name = "A worker whose name is longer than any held back";
    let last: &[&[Option<&str>]] = &[&[Some(long_name), None, None, None, None, None, None]];
    batches.push(last);
    let entries = unzip(&export_holding(1, columns(), &batches).concat());
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    let width = column_widths(&sheet)[0];
    assert!((21.0..48.0).contains(&width), "{width}");
    assert!(sheet.contains(long_name));
}

#[test]
fn refuses_rows_past_excels_limit() {
    let mut writer = Xlsx::open("xlsx", "Big", columns()).expect("open");
    writer.last_row = MAX_ROWS - 1;
    let batch = RowBatch::from_rows(SAMPLE);
    let rows = Rows::decode(&batch, 7).expect("valid batch");
    assert!(
        matches!(writer.write_rows(rows), Err(PluginError::Failed(message)) if message.contains("1048575"))
    );
}

#[test]
fn empty_table_is_a_header_only_workbook() {
    let entries = unzip(&export(&[]).concat());
    let sheet = part(&entries, "xl/worksheets/sheet1.xml");
    assert_eq!(sheet.matches("<row ").count(), 1);
    assert_eq!(
        column_widths(&sheet),
        [10.0, 12.0, 12.0, 15.0, 20.0, 11.0, 10.0],
        "header labels and types"
    );
}

/// Inflates both ways the sheet can be spliced (head released at finish,
/// and mid-stream) with Python's `zipfile`, whose zlib shares no code with
/// the plugin's deflate, when `python3` is on the machine.
#[test]
fn python_zipfile_inflates_the_sheet() {
    let Ok(probe) = std::process::Command::new("python3")
        .args(["-c", "import zipfile"])
        .output()
    else {
        eprintln!("python3 is not installed: skipping");
        return;
    };
    assert!(probe.status.success());
    let rows = timesheet_rows(3000);
    let cells = as_cells(&rows);
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(250).collect();
    for (case, hold_bytes) in [("whole", HOLD_BYTES), ("streamed", 1)] {
        let path =
            std::env::temp_dir().join(format!("portal-xlsx-{case}-{}.xlsx", std::process::id()));
        std::fs::write(
            &path,
            export_holding(hold_bytes, columns(), &batches).concat(),
        )
        .expect("write workbook");
        let script = r#"
import sys, zipfile
archive = zipfile.ZipFile(sys.argv[1])
assert archive.testzip() is None
sheet = archive.read("xl/worksheets/sheet1.xml").decode()
assert sheet.count("<row ") == 3001, sheet.count("<row ")
assert sheet.index("<cols>") < sheet.index("<sheetData>") < sheet.index('<row r="2">')
assert sheet.endswith("</row></sheetData></worksheet>")
"#;
        let output = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("run python3");
        let _ = std::fs::remove_file(&path);
        assert!(
            output.status.success(),
            "{case}: zipfile rejected the workbook: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Reads the sample back with openpyxl, the reader most Python tooling
/// uses, when it is installed; the zip checks above run regardless.
#[test]
fn openpyxl_reads_the_cells_back() {
    let has_openpyxl = std::process::Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|output| output.status.success());
    let keep = std::env::var_os("PORTAL_XLSX_SAMPLE");
    if !has_openpyxl && keep.is_none() {
        eprintln!("openpyxl is not installed: skipping the read-back");
        return;
    }
    let path = keep.map_or_else(
        || std::env::temp_dir().join(format!("portal-xlsx-{}.xlsx", std::process::id())),
        std::path::PathBuf::from,
    );
    std::fs::write(&path, export(&[SAMPLE]).concat()).expect("write sample");
    if !has_openpyxl {
        return;
    }
    let script = r##"
import datetime, sys, zipfile, openpyxl
assert zipfile.ZipFile(sys.argv[1]).testzip() is None
sheet = openpyxl.load_workbook(sys.argv[1]).active
assert sheet.title == "Timesheets", sheet.title
rows = list(sheet.iter_rows(values_only=True))
assert rows[0] == ("Name", "Hours", "Total", "Week ending", "Approved at", "Approved", "Count"), rows[0]
assert rows[1] == ("Ann & <Bo>", 8.5, -123.45, datetime.datetime(2024, 2, 29), datetime.datetime(2024, 3, 1, 13, 45, 30), True, 42), rows[1]
assert rows[2] == ("=1+1", None, 0.05, None, None, False, None), rows[2]
assert sheet["A2"].data_type == "s" and sheet["A3"].data_type == "s"
assert sheet["B2"].number_format == "#,##0.00", sheet["B2"].number_format
assert sheet["D2"].number_format == "yyyy-mm-dd" and sheet["E2"].number_format == "yyyy-mm-dd hh:mm:ss"
assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFG"]
assert widths[0] >= len("Ann & <Bo>") and widths[4] >= len("2024-03-01 13:45:30"), widths
print("openpyxl ok")
"##;
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("run python3");
    if std::env::var_os("PORTAL_XLSX_SAMPLE").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    assert!(
        output.status.success(),
        "openpyxl rejected the workbook: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Rough native timing: `cargo test --release --target x86_64-unknown-linux-gnu -p export-xlsx
/// -- --ignored --nocapture times_a_large_export` (`PORTAL_XLSX_ROWS` rows, 10,000 by default; best of five runs).
#[test]
#[ignore = "timing, not a check"]
fn times_a_large_export() {
    let count: usize = std::env::var("PORTAL_XLSX_ROWS")
        .ok()
        .and_then(|rows| rows.parse().ok())
        .unwrap_or(10_000);
    let mut rows = timesheet_rows(count);
    for (n, row) in rows.iter_mut().enumerate() {
        row[0] = format!("worker.{n}@site-{}.example.com", n % 17);
    }
    let cells = as_cells(&rows);
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(1000).collect();
    let mut best = std::time::Duration::MAX;
    let mut bytes = 0;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let chunks = export(&batches);
        best = best.min(started.elapsed());
        bytes = chunks.iter().map(Vec::len).sum();
    }
    eprintln!("{count} rows: {best:.2?} (best of 5), {bytes} bytes");
}
