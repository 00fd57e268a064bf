//! CSV export: RFC 4180 (UTF-8, CRLF line ends, fields quoted when they
//! hold `"`, `,`, CR or LF, quotes doubled), a header row of column labels,
//! decimals written exactly (`12345` cents at scale 2 is `123.45`), booleans
//! as `true`/`false`, nulls as empty fields.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a
//! formula, and a client's own data ("=HYPERLINK(…)" typed into a work
//! request) must not run on a manager's machine. Text cells and labels
//! starting with one of those, or with a tab or CR, get a leading `'`,
//! which spreadsheets treat as "this is text". Numeric columns are never
//! touched: `-5` stays a number.
//!
//! No byte-order mark: machine consumers choke on it, and people who want
//! Excel-native files have the XLSX format.

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{
    Column, ColumnType, ExportFormat, Format, Rows, TableWriter, check_integer, contains_any,
    parse_boolean, write_decimal,
};

/// The CSV format; exported as the component's `formats` interface.
#[derive(Debug)]
pub struct Csv;

impl ExportFormat for Csv {
    type Writer = CsvWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new(
            "csv",
            "CSV",
            "text/csv; charset=utf-8",
            "csv",
        )])
    }

    fn open(_format: &str, _title: &str, columns: Vec<Column>) -> Result<CsvWriter, PluginError> {
        let mut header = Vec::new();
        for (index, column) in columns.iter().enumerate() {
            if index > 0 {
                header.push(b',');
            }
            write_text(&mut header, &column.label, true);
        }
        header.extend_from_slice(b"\r\n");
        Ok(CsvWriter {
            kinds: columns.into_iter().map(|column| column.kind).collect(),
            pending: header,
        })
    }
}

/// One CSV export in progress.
#[derive(Debug)]
pub struct CsvWriter {
    kinds: Vec<ColumnType>,
    /// The header row, until the first call hands it out.
    pending: Vec<u8>,
}

impl TableWriter for CsvWriter {
    fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        let mut out = std::mem::take(&mut self.pending);
        // The cells, a separator or line end after each, and a little for quoting and
        // decimal points: growing the buffer instead costs a copy of it each time.
        out.reserve(rows.text_len() + rows.cell_count() * 2 + rows.len() * 2);
        for row in rows {
            for (index, (cell, kind)) in row.cells().zip(&self.kinds).enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                if let Some(value) = cell {
                    write_cell(&mut out, value, *kind)?;
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        Ok(out)
    }

    fn finish(self) -> Result<Vec<u8>, PluginError> {
        Ok(self.pending)
    }
}

fn write_cell(out: &mut Vec<u8>, value: &str, kind: ColumnType) -> Result<(), PluginError> {
    match kind {
        ColumnType::Text => write_text(out, value, true),
        ColumnType::Integer => out.extend_from_slice(check_integer(value)?.as_bytes()),
        ColumnType::Decimal(scale) => write_decimal(out, value, scale)?,
        // Canonical dates never need quoting, but quoting a malformed one
        // keeps the file's structure whole.
        ColumnType::Date | ColumnType::Datetime => write_text(out, value, false),
        ColumnType::Boolean if parse_boolean(value)? => out.extend_from_slice(b"true"),
        ColumnType::Boolean => out.extend_from_slice(b"false"),
    }
    Ok(())
}

/// Writes one text field, quoted only when RFC 4180 requires it, with the
/// formula guard when `guard` is set.
///
/// Every character that matters here is ASCII, and in UTF-8 an ASCII byte
/// is always a whole character, so the checks look at bytes rather than
/// decoding characters.
fn write_text(out: &mut Vec<u8>, text: &str, guard: bool) {
    let bytes = text.as_bytes();
    let guarded = guard
        && matches!(
            bytes.first(),
            Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
        );
    let quoted = contains_any(bytes, *b"\",\r\n");
    if quoted {
        out.push(b'"');
    }
    if guarded {
        out.push(b'\'');
    }
    if quoted && contains_any(bytes, [b'"']) {
        for (index, piece) in bytes.split(|&byte| byte == b'"').enumerate() {
            if index > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(piece);
        }
    } else {
        out.extend_from_slice(bytes);
    }
    if quoted {
        out.push(b'"');
    }
}

portal_plugin_api::export_export_format!(Csv);

#[cfg(test)]
mod tests {
    use super::*;
    use portal_plugin_api::formats::run_export;

    fn column(name: &str, kind: ColumnType) -> Column {
        Column::new(name, &name.to_uppercase(), kind)
    }

    /// Each call's output of a whole export, so tests check the streaming
    /// as well as the text.
    fn export(columns: Vec<Column>, batches: &[&[&[Option<&str>]]]) -> Vec<String> {
        run_export::<Csv>("csv", "Test", columns, batches)
            .expect("export")
            .into_iter()
            .map(|chunk| String::from_utf8(chunk).expect("UTF-8"))
            .collect()
    }

    fn field(text: &str) -> String {
        let mut out = Vec::new();
        write_text(&mut out, text, true);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn quotes_only_when_rfc_4180_requires() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(field("naïve café"), "naïve café");
    }

    #[test]
    fn guards_against_formula_injection() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        assert_eq!(field("\rx"), "\"'\rx\"");
        assert_eq!(field("a=b"), "a=b");
    }

    #[test]
    fn writes_header_typed_cells_and_crlf() {
        let columns = vec![
            column("name", ColumnType::Text),
            column("count", ColumnType::Integer),
            column("total", ColumnType::Decimal(2)),
            column("on", ColumnType::Date),
            column("at", ColumnType::Datetime),
            column("ok", ColumnType::Boolean),
        ];
        let rows: &[&[Option<&str>]] = &[
            &[
                Some("Ann, Jr."),
                Some("-3"),
                Some("-12345"),
                Some("2024-02-29"),
                Some("2024-02-29T23:59:59Z"),
                Some("1"),
            ],
            &[Some("-Bo"), None, Some("5"), None, None, Some("0")],
        ];
        let output = export(columns, &[rows]).concat();
        assert_eq!(
            output,
            "NAME,COUNT,TOTAL,ON,AT,OK\r\n\
             \"Ann, Jr.\",-3,-123.45,2024-02-29,2024-02-29T23:59:59Z,true\r\n\
             '-Bo,,0.05,,,false\r\n"
        );
    }

    #[test]
    fn streams_each_batch_as_it_comes() {
        let columns = vec![column("n", ColumnType::Integer)];
        let chunks = export(
            columns,
            &[&[&[Some("1")]], &[], &[&[Some("2")], &[Some("3")]]],
        );
        assert_eq!(chunks, ["N\r\n1\r\n", "", "2\r\n3\r\n", ""]);
    }

    #[test]
    fn header_alone_when_there_are_no_rows() {
        let chunks = export(vec![column("n", ColumnType::Integer)], &[]);
        assert_eq!(chunks, ["N\r\n"]);
    }

    #[test]
    fn rejects_non_canonical_numbers_and_booleans() {
        for (kind, value) in [
            (ColumnType::Integer, "1,000"),
            (ColumnType::Decimal(2), "1.50"),
            (ColumnType::Boolean, "yes"),
        ] {
            let mut out = Vec::new();
            assert!(
                matches!(
                    write_cell(&mut out, value, kind),
                    Err(PluginError::InvalidInput(_))
                ),
                "{value}"
            );
        }
    }
}
