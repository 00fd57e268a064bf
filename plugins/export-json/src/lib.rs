//! JSON export: an array of objects keyed by column name, one object per
//! line, streamed as the rows arrive.
//!
//! Values are typed: `integer` columns are JSON numbers; `decimal` columns
//! are JSON numbers written with exactly the column's scale (`12345` cents
//! at scale 2 is `123.45`), so the text carries every digit and a consumer
//! that wants exact money parses it as a decimal, not a float; `boolean`
//! columns are `true`/`false`; nulls are `null`; text, dates (`YYYY-MM-DD`)
//! and datetimes (RFC 3339 UTC) are strings. Integers beyond 2^53 lose
//! precision in JavaScript's `JSON.parse`; Portal's ids and cents stay far
//! below that.

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{
    Column, ColumnType, ExportFormat, Format, Rows, TableWriter, check_integer, parse_boolean,
    write_decimal,
};

/// The JSON format; exported as the component's `formats` interface.
#[derive(Debug)]
pub struct Json;

impl ExportFormat for Json {
    type Writer = JsonWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new(
            "json",
            "JSON",
            "application/json",
            "json",
        )])
    }

    fn open(_format: &str, _title: &str, columns: Vec<Column>) -> Result<JsonWriter, PluginError> {
        let keys = columns
            .iter()
            .map(|column| {
                let mut key = Vec::new();
                write_string(&mut key, &column.name);
                key.push(b':');
                key
            })
            .collect();
        Ok(JsonWriter {
            keys,
            kinds: columns.into_iter().map(|column| column.kind).collect(),
            rows_written: false,
        })
    }
}

/// One JSON export in progress.
#[derive(Debug)]
pub struct JsonWriter {
    /// Each column's `"name":`, escaped once at open.
    keys: Vec<Vec<u8>>,
    kinds: Vec<ColumnType>,
    rows_written: bool,
}

impl TableWriter for JsonWriter {
    fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        let mut out = Vec::new();
        for row in rows {
            out.extend_from_slice(if self.rows_written { b",\n{" } else { b"[\n{" });
            self.rows_written = true;
            for (index, cell) in row.cells().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&self.keys[index]);
                match cell {
                    Some(value) => write_value(&mut out, value, self.kinds[index])?,
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
        Ok(out)
    }

    fn finish(self) -> Result<Vec<u8>, PluginError> {
        Ok(if self.rows_written {
            b"\n]\n".to_vec()
        } else {
            b"[]\n".to_vec()
        })
    }
}

fn write_value(out: &mut Vec<u8>, value: &str, kind: ColumnType) -> Result<(), PluginError> {
    match kind {
        ColumnType::Text | ColumnType::Date | ColumnType::Datetime => write_string(out, value),
        ColumnType::Integer => out.extend_from_slice(check_integer(value)?.as_bytes()),
        ColumnType::Decimal(scale) => write_decimal(out, value, scale)?,
        ColumnType::Boolean if parse_boolean(value)? => out.extend_from_slice(b"true"),
        ColumnType::Boolean => out.extend_from_slice(b"false"),
    }
    Ok(())
}

/// Writes `text` as a JSON string (RFC 8259): quotes, backslashes and
/// control characters escaped, everything else copied as UTF-8.
fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escape);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

portal_plugin_api::export_export_format!(Json);

#[cfg(test)]
mod tests {
    use super::*;
    use portal_plugin_api::formats::run_export;

    fn column(name: &str, kind: ColumnType) -> Column {
        Column::new(name, name, kind)
    }

    /// Each call's output of a whole export, so tests check the streaming
    /// as well as the text.
    fn export(columns: Vec<Column>, batches: &[&[&[Option<&str>]]]) -> Vec<String> {
        run_export::<Json>("json", "Test", columns, batches)
            .expect("export")
            .into_iter()
            .map(|chunk| String::from_utf8(chunk).expect("UTF-8"))
            .collect()
    }

    fn string(text: &str) -> String {
        let mut out = Vec::new();
        write_string(&mut out, text);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn escapes_strings() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("say \"hi\" \\o/"), r#""say \"hi\" \\o/""#);
        assert_eq!(string("a\nb\tc\rd"), r#""a\nb\tc\rd""#);
        assert_eq!(string("\u{0}\u{1f}\u{8}\u{c}"), r#""\u0000\u001f\b\f""#);
        assert_eq!(string("naïve ✓ </script>"), "\"naïve ✓ </script>\"");
    }

    #[test]
    fn writes_typed_values_keyed_by_name() {
        let columns = vec![
            column("name", ColumnType::Text),
            column("count", ColumnType::Integer),
            column("total", ColumnType::Decimal(2)),
            column("on", ColumnType::Date),
            column("ok", ColumnType::Boolean),
        ];
        let rows: &[&[Option<&str>]] = &[
            &[
                Some("Ann \"A\""),
                Some("-3"),
                Some("-5"),
                Some("2024-02-29"),
                Some("1"),
            ],
            &[None, None, Some("12345"), None, Some("0")],
        ];
        assert_eq!(
            export(columns, &[rows]).concat(),
            "[\n\
             {\"name\":\"Ann \\\"A\\\"\",\"count\":-3,\"total\":-0.05,\"on\":\"2024-02-29\",\"ok\":true},\n\
             {\"name\":null,\"count\":null,\"total\":123.45,\"on\":null,\"ok\":false}\n\
             ]\n"
        );
    }

    #[test]
    fn streams_rows_across_batches() {
        let columns = vec![column("n", ColumnType::Integer)];
        let chunks = export(columns, &[&[&[Some("1")]], &[], &[&[Some("2")]]]);
        assert_eq!(chunks, ["[\n{\"n\":1}", "", ",\n{\"n\":2}", "\n]\n"]);
    }

    #[test]
    fn empty_table_is_an_empty_array() {
        assert_eq!(
            export(vec![column("n", ColumnType::Integer)], &[]),
            ["[]\n"]
        );
        let with_empty_batch = export(vec![column("n", ColumnType::Integer)], &[&[]]);
        assert_eq!(with_empty_batch.concat(), "[]\n");
    }

    #[test]
    fn rejects_values_that_would_break_the_syntax() {
        for (kind, value) in [
            (ColumnType::Integer, "007"),
            (ColumnType::Integer, "1}"),
            (ColumnType::Decimal(2), "NaN"),
            (ColumnType::Boolean, "true"),
        ] {
            let mut out = Vec::new();
            assert!(write_value(&mut out, value, kind).is_err(), "{value}");
        }
    }
}
