//! The input of a target that covers several parsers: the first byte picks the parser, the
//! rest is the text.

/// The picking byte and the text; `None` for an empty input or one that is not UTF-8 (every
/// caller reads text).
pub fn choice_and_text(data: &[u8]) -> Option<(u8, &str)> {
    let (&choice, rest) = data.split_first()?;
    Some((choice, std::str::from_utf8(rest).ok()?))
}
