//! SpreadsheetML for the worksheet: cells, rows, and the conversions from
//! canonical cell text to Excel's values.

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{ColumnType, check_integer, parse_boolean, write_decimal};

/// Cell style indexes (`s="…"`), matching the `cellXfs` order in
/// `parts::styles`.
pub const STYLE_HEADER: u8 = 1;
const STYLE_DATE: u8 = 2;
const STYLE_DATETIME: u8 = 3;
/// `decimal(scale)` cells use style `STYLE_DECIMAL + scale`.
pub const STYLE_DECIMAL: u8 = 4;

/// Excel's cell text limit, in characters; longer text makes Excel "repair"
/// the file, so it is cut.
const MAX_TEXT_CHARS: usize = 32_767;
/// Serial number of 1900-03-01. Excel's 1900 date system counts a
/// 1900-02-29 that never was, so serials below this are off by one; those
/// rare dates are written as text instead.
const FIRST_EXACT_SERIAL: i64 = 61;

/// The column letters for a zero-based column index: A … Z, AA … XFD.
pub fn column_letters(index: usize) -> String {
    let mut letters = String::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = ((rest - 1) % 26) as u8;
        letters.insert(0, char::from(b'A' + digit));
        rest = (rest - 1) / 26;
    }
    letters
}

/// Writes one non-null cell. `reference` is the column letters and the row
/// number, already formatted.
pub fn write_cell(
    out: &mut Vec<u8>,
    reference: (&[u8], &[u8]),
    value: &str,
    kind: ColumnType,
) -> Result<(), PluginError> {
    match kind {
        ColumnType::Text => write_text_cell(out, reference, value, None),
        ColumnType::Integer => {
            let digits = check_integer(value)?;
            open_value(out, reference, None, None);
            out.extend_from_slice(digits.as_bytes());
            close_value(out);
        }
        ColumnType::Decimal(scale) => {
            open_value(out, reference, Some(STYLE_DECIMAL + scale), None);
            write_decimal(out, value, scale)?;
            close_value(out);
        }
        ColumnType::Date => {
            let days =
                date_serial(value).ok_or_else(|| invalid("a date cell is not YYYY-MM-DD"))?;
            write_serial(out, reference, value, days, None);
        }
        ColumnType::Datetime => {
            let (days, seconds) = datetime_serial(value)
                .ok_or_else(|| invalid("a datetime cell is not YYYY-MM-DDTHH:MM:SSZ"))?;
            write_serial(out, reference, value, days, Some(seconds));
        }
        ColumnType::Boolean => {
            let bit: &[u8] = if parse_boolean(value)? { b"1" } else { b"0" };
            open_value(out, reference, None, Some("b"));
            out.extend_from_slice(bit);
            close_value(out);
        }
    }
    Ok(())
}

/// Writes a text cell as an inline string (no shared-string table, which
/// would have to be held in memory until the end).
pub fn write_text_cell(
    out: &mut Vec<u8>,
    reference: (&[u8], &[u8]),
    text: &str,
    style: Option<u8>,
) {
    let text = match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) if text.len() > MAX_TEXT_CHARS => &text[..cut],
        _ => text,
    };
    open_cell(out, reference, style, Some("inlineStr"));
    out.extend_from_slice(b"<is><t xml:space=\"preserve\">");
    escape(out, text);
    out.extend_from_slice(b"</t></is></c>");
}

/// A date or datetime as a serial number with a date style, or as text when
/// Excel's serials cannot hold it exactly.
fn write_serial(
    out: &mut Vec<u8>,
    reference: (&[u8], &[u8]),
    text: &str,
    days: i64,
    seconds: Option<u32>,
) {
    if days < FIRST_EXACT_SERIAL {
        write_text_cell(out, reference, text, None);
        return;
    }
    let style = if seconds.is_some() {
        STYLE_DATETIME
    } else {
        STYLE_DATE
    };
    open_value(out, reference, Some(style), None);
    push_number(out, days.unsigned_abs(), 1);
    if let Some(seconds) = seconds {
        // Ten decimals of a day, rounded: within 9 µs, so every reader rounds
        // back to the exact second.
        let fraction = (u64::from(seconds) * 10_000_000_000 + 43_200) / 86_400;
        out.push(b'.');
        push_number(out, fraction, 10);
    }
    close_value(out);
}

/// Writes `<c r="B7" s="…" t="…"><v>`.
fn open_value(out: &mut Vec<u8>, reference: (&[u8], &[u8]), style: Option<u8>, kind: Option<&str>) {
    open_cell(out, reference, style, kind);
    out.extend_from_slice(b"<v>");
}

/// Writes `<c r="B7" s="…" t="…">`.
fn open_cell(
    out: &mut Vec<u8>,
    (column, row): (&[u8], &[u8]),
    style: Option<u8>,
    kind: Option<&str>,
) {
    out.extend_from_slice(b"<c r=\"");
    out.extend_from_slice(column);
    out.extend_from_slice(row);
    out.push(b'"');
    if let Some(style) = style {
        out.extend_from_slice(b" s=\"");
        push_number(out, u64::from(style), 1);
        out.push(b'"');
    }
    if let Some(kind) = kind {
        out.extend_from_slice(b" t=\"");
        out.extend_from_slice(kind.as_bytes());
        out.push(b'"');
    }
    out.push(b'>');
}

fn close_value(out: &mut Vec<u8>) {
    out.extend_from_slice(b"</v></c>");
}

/// Appends `value` in decimal, zero-padded to at least `width` digits (at
/// most 20), without going through `fmt` on this per-cell path.
pub fn push_number(out: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while value > 0 {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend_from_slice(&digits[start.min(digits.len() - width.max(1))..]);
}

/// Escapes text for XML element content and attribute values. Characters
/// XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD; CR is written as a character reference so parsers keep it.
pub fn escape(out: &mut Vec<u8>, text: &str) {
    const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        let (replacement, width): (&[u8], usize) = match bytes[index] {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'>' => (b"&gt;", 1),
            b'"' => (b"&quot;", 1),
            b'\r' => (b"&#13;", 1),
            b'\t' | b'\n' => {
                index += 1;
                continue;
            }
            0x00..=0x1f => (REPLACEMENT, 1),
            0xef if matches!(bytes.get(index + 1..index + 3), Some([0xbf, 0xbe | 0xbf])) => {
                (REPLACEMENT, 3)
            }
            _ => {
                index += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(replacement);
        index += width;
        start = index;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Days since 1899-12-30 (Excel's serial day) for `YYYY-MM-DD`.
fn date_serial(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&bytes[0..4])?;
    let month = digits(&bytes[5..7])?;
    let day = digits(&bytes[8..10])?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if year == 0 || day == 0 || day > month_days {
        return None;
    }
    Some(days_from_civil(year, month, day) - days_from_civil(1899, 12, 30))
}

/// Serial day and seconds into it for `YYYY-MM-DDTHH:MM:SSZ`.
fn datetime_serial(text: &str) -> Option<(i64, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 20 || bytes[10] != b'T' || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    if bytes[19] != b'Z' {
        return None;
    }
    let days = date_serial(&text[..10])?;
    let (hour, minute, second) = (
        digits(&bytes[11..13])?,
        digits(&bytes[14..16])?,
        digits(&bytes[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((days, (hour * 60 + minute) * 60 + second))
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), for years from 1.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn invalid(message: &str) -> PluginError {
    PluginError::InvalidInput(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(value: &str, kind: ColumnType) -> String {
        let mut out = Vec::new();
        write_cell(&mut out, (b"B", b"7"), value, kind).expect("valid cell");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn column_letters_run_like_excel() {
        let letters: Vec<String> = [0, 25, 26, 51, 52, 701, 702, 16_383]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(letters, ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn dates_become_excel_serials() {
        assert_eq!(date_serial("1900-03-01"), Some(61));
        assert_eq!(date_serial("1970-01-01"), Some(25_569));
        assert_eq!(date_serial("2024-02-29"), Some(45_351));
        assert_eq!(date_serial("9999-12-31"), Some(2_958_465));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "0000-01-01",
            "2024/01/01",
        ] {
            assert_eq!(date_serial(bad), None, "{bad}");
        }
        assert_eq!(
            datetime_serial("2024-03-01T13:45:30Z"),
            Some((45_352, 49_530))
        );
        for bad in [
            "2024-03-01T24:00:00Z",
            "2024-03-01T13:45:30",
            "2024-03-01 13:45:30Z",
        ] {
            assert_eq!(datetime_serial(bad), None, "{bad}");
        }
    }

    #[test]
    fn cells_carry_type_and_style() {
        assert_eq!(
            cell("-42", ColumnType::Integer),
            r#"<c r="B7"><v>-42</v></c>"#
        );
        assert_eq!(
            cell("-12345", ColumnType::Decimal(2)),
            r#"<c r="B7" s="6"><v>-123.45</v></c>"#
        );
        assert_eq!(
            cell("2024-02-29", ColumnType::Date),
            r#"<c r="B7" s="2"><v>45351</v></c>"#
        );
        assert_eq!(
            cell("2024-03-01T12:00:00Z", ColumnType::Datetime),
            r#"<c r="B7" s="3"><v>45352.5000000000</v></c>"#
        );
        assert_eq!(
            cell("1", ColumnType::Boolean),
            r#"<c r="B7" t="b"><v>1</v></c>"#
        );
        assert_eq!(
            cell("a < b & \"c\"", ColumnType::Text),
            r#"<c r="B7" t="inlineStr"><is><t xml:space="preserve">a &lt; b &amp; &quot;c&quot;</t></is></c>"#
        );
        // Before 1900-03-01 a serial would be off by a day: keep the text.
        assert!(cell("1899-12-31", ColumnType::Date).contains("inlineStr"));
    }

    #[test]
    fn numbers_are_padded_to_width() {
        let mut out = Vec::new();
        for (value, width) in [(0, 1), (7, 1), (1234, 1), (42, 10), (u64::MAX, 1)] {
            push_number(&mut out, value, width);
            out.push(b' ');
        }
        assert_eq!(out, b"0 7 1234 0000000042 18446744073709551615 ");
    }

    #[test]
    fn escape_drops_what_xml_cannot_hold() {
        let mut out = Vec::new();
        escape(&mut out, "tab\tnl\ncr\rbell\u{7}nonchar\u{fffe}ok✓");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "tab\tnl\ncr&#13;bell\u{fffd}nonchar\u{fffd}ok✓"
        );
    }

    #[test]
    fn long_text_is_cut_to_excels_limit() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let xml = cell(&long, ColumnType::Text);
        assert_eq!(xml.matches('é').count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn rejects_malformed_cells() {
        for (value, kind) in [
            ("4.2", ColumnType::Integer),
            ("2024-02-30", ColumnType::Date),
            ("2024-02-29", ColumnType::Datetime),
            ("true", ColumnType::Boolean),
        ] {
            let mut out = Vec::new();
            assert!(
                write_cell(&mut out, (b"A", b"2"), value, kind).is_err(),
                "{value}"
            );
        }
    }
}
