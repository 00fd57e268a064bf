//! Reading cells in their canonical text forms (see the WIT `column-type`).
//!
//! Exporters mostly copy canonical text through; these are the pieces every
//! format needs and none should write again.

use super::scan::all_digits;
use crate::PluginError;

/// Checks a canonical `integer` cell (an optional `-`, then ASCII digits
/// without leading zeros) and hands it back. Formats copy integers into the
/// output as they are (JSON numbers, XLSX values, CSV fields), so checking
/// first means a host bug cannot break the file's syntax.
#[inline]
pub fn check_integer(text: &str) -> Result<&str, PluginError> {
    if is_integer(text) {
        Ok(text)
    } else {
        Err(PluginError::InvalidInput(
            "an integer cell is not in canonical form".to_owned(),
        ))
    }
}

/// Reads a canonical `boolean` cell: `1` or `0`.
#[inline]
pub fn parse_boolean(text: &str) -> Result<bool, PluginError> {
    match text.as_bytes() {
        b"1" => Ok(true),
        b"0" => Ok(false),
        _ => Err(PluginError::InvalidInput(
            "a boolean cell is not 0 or 1".to_owned(),
        )),
    }
}

/// The sign and digits of a canonical integer, `None` if `text` is not one.
#[inline]
fn integer_parts(text: &str) -> Option<(bool, &[u8])> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', digits @ ..] => (true, digits),
        digits => (false, digits),
    };
    let canonical = match digits {
        [b'0'] => !negative,
        [b'0', ..] => false,
        _ => all_digits(digits),
    };
    canonical.then_some((negative, digits))
}

fn is_integer(text: &str) -> bool {
    integer_parts(text).is_some()
}

/// Appends a canonical `decimal(scale)` cell as a plain decimal number:
/// `12345` at scale 2 is `123.45`, `-5` is `-0.05`, and scale 0 adds no
/// point. Working on the digits keeps every value exact, with no float in
/// between.
#[inline]
pub fn write_decimal(out: &mut Vec<u8>, units: &str, scale: u8) -> Result<(), PluginError> {
    let Some((negative, digits)) = integer_parts(units) else {
        return Err(PluginError::InvalidInput(
            "a decimal cell is not an integer count of units".to_owned(),
        ));
    };
    let scale = usize::from(scale);
    if negative {
        out.push(b'-');
    }
    if scale == 0 {
        out.extend_from_slice(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + scale - digits.len(), b'0');
        out.extend_from_slice(digits);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(units: &str, scale: u8) -> String {
        let mut out = Vec::new();
        write_decimal(&mut out, units, scale).expect("canonical decimal");
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn integers_are_canonical() {
        for good in ["0", "7", "-7", "42", "-9223372036854775808"] {
            assert!(is_integer(good), "{good}");
        }
        for bad in ["", "-", "-0", "007", "+1", "1.5", " 1", "1e3", "٣"] {
            assert!(!is_integer(bad), "{bad}");
        }
    }

    #[test]
    fn checks_hand_back_canonical_cells() {
        assert_eq!(check_integer("-42"), Ok("-42"));
        assert!(matches!(
            check_integer("4 2"),
            Err(PluginError::InvalidInput(_))
        ));
        assert_eq!(parse_boolean("1"), Ok(true));
        assert_eq!(parse_boolean("0"), Ok(false));
        assert!(parse_boolean("true").is_err());
    }

    #[test]
    fn decimals_keep_every_digit() {
        assert_eq!(decimal("12345", 2), "123.45");
        assert_eq!(decimal("-12345", 2), "-123.45");
        assert_eq!(decimal("5", 2), "0.05");
        assert_eq!(decimal("-5", 2), "-0.05");
        assert_eq!(decimal("0", 2), "0.00");
        assert_eq!(decimal("100", 2), "1.00");
        assert_eq!(decimal("42", 0), "42");
        assert_eq!(decimal("9223372036854775807", 18), "9.223372036854775807");
        assert_eq!(decimal("1", 18), "0.000000000000000001");
    }

    #[test]
    fn decimals_reject_non_canonical_cells() {
        let mut out = Vec::new();
        assert!(write_decimal(&mut out, "1.50", 2).is_err());
        assert!(write_decimal(&mut out, "", 2).is_err());
        assert!(out.is_empty());
    }
}
