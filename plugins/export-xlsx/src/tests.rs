//! Whole-workbook tests. The archive is read back by a strict little zip
//! reader here (headers, data descriptors, CRCs, inflated sizes), and by
//! openpyxl when the machine's Python has it. Set `PORTAL_XLSX_SAMPLE` to a
//! path to keep the sample workbook for opening in Excel or LibreOffice.

use std::io::Read;

use flate2::read::DeflateDecoder;
use portal_plugin_api::formats::{RowBatch, run_export};

use super::*;

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
fn streams_compressed_bytes_as_batches_arrive() {
    let rows: Vec<[String; 7]> = (0..3000)
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
        .collect();
    let cells: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| Some(cell.as_str())).collect())
        .collect();
    let row_slices: Vec<&[Option<&str>]> = cells.iter().map(Vec::as_slice).collect();
    let batches: Vec<&[&[Option<&str>]]> = row_slices.chunks(250).collect();
    let chunks = export(&batches);
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
