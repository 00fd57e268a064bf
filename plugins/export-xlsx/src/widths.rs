//! Column widths that fit the cells. A workbook cannot ask the reader to
//! fit its columns on opening, so each column's width is worked out here
//! from what its cells show, the way Excel's own autofit measures them.
//!
//! Widths are in Excel's unit: the width of a digit of the default font
//! (Calibri 11, 7 pixels). Text is measured with Calibri's glyph widths
//! (the metrics `rust_xlsxwriter`'s autofit uses) and never as less than
//! one unit per character, so a column is at least as many characters wide
//! as its longest cell, up to [`MAX_WIDTH`]. Numbers and dates are measured
//! as their number formats show them (`#,##0.00` adds group separators).

use portal_plugin_api::formats::ColumnType;

/// The widest a column is made. Longer text is still all in the cell; it
/// is only cut on screen, where a wider column would push the others away.
pub const MAX_WIDTH: u16 = 60;
/// Room beside the text: a cell's margins take about one digit's width.
const PADDING: u16 = 1;
/// Pixels of a digit of Calibri 11, Excel's width unit.
const DIGIT_PIXELS: u32 = 7;

/// The widths a sheet's columns need for the cells measured so far.
#[derive(Debug)]
pub struct Widths {
    /// Per column: the widest content so far, in width units, no padding.
    content: Vec<u16>,
    /// Per column: the least width whatever the cells, for its type (a
    /// date column narrower than its dates shows `#####`).
    least: Vec<u16>,
}

impl Widths {
    /// Widths for the header labels (bold, so a little wider) and types.
    pub fn new<'a>(columns: impl IntoIterator<Item = (&'a str, ColumnType)>) -> Self {
        let (content, least) = columns
            .into_iter()
            .map(|(label, kind)| {
                let bold = (u32::from(text_width(label)) * 11).div_ceil(10);
                let least = match kind {
                    ColumnType::Datetime => 20,
                    ColumnType::Date | ColumnType::Decimal(_) => 12,
                    _ => 10,
                };
                (clamp(bold), least)
            })
            .unzip();
        Self { content, least }
    }

    /// Widens `column` to fit a valid, non-null cell of type `kind`.
    #[inline]
    pub fn fit(&mut self, column: usize, value: &str, kind: ColumnType) {
        let Some(widest) = self.content.get_mut(column) else {
            return;
        };
        if *widest >= MAX_WIDTH {
            return;
        }
        let width = match kind {
            ColumnType::Text => text_width(value),
            ColumnType::Decimal(scale) => clamp(decimal_width(value, scale) as u32),
            // Digits and `-` (General format); `yyyy-mm-dd`, or the date as
            // text before 1900-03-01; `yyyy-mm-dd hh:mm:ss` from its 20
            // characters of text, which is what is shown before 1900.
            ColumnType::Integer | ColumnType::Date | ColumnType::Datetime => {
                clamp(value.len() as u32)
            }
            // TRUE or FALSE.
            ColumnType::Boolean => 5,
        };
        *widest = (*widest).max(width);
    }

    /// The columns' widths, padded and capped.
    pub fn finish(&self) -> Vec<u16> {
        self.content
            .iter()
            .zip(&self.least)
            .map(|(content, least)| (content + PADDING).clamp(*least, MAX_WIDTH))
            .collect()
    }
}

fn clamp(width: u32) -> u16 {
    u16::try_from(width.min(u32::from(MAX_WIDTH))).unwrap_or(MAX_WIDTH)
}

/// Width units `text` takes: its glyphs' pixels over a digit's, and at least
/// one unit per character; at most [`MAX_WIDTH`].
fn text_width(text: &str) -> u16 {
    let limit = u32::from(MAX_WIDTH);
    let (mut characters, mut pixels) = (0u32, 0u32);
    for character in text.chars() {
        characters += 1;
        pixels += glyph_pixels(character);
        if characters >= limit || pixels >= limit * DIGIT_PIXELS {
            return MAX_WIDTH;
        }
    }
    clamp(characters.max(pixels.div_ceil(DIGIT_PIXELS)))
}

/// Characters a canonical `decimal(scale)` cell shows in `#,##0.00` style:
/// sign, whole digits with a separator every three, point and fraction.
fn decimal_width(units: &str, scale: u8) -> usize {
    let (sign, digits) = match units.strip_prefix('-') {
        Some(digits) => (1, digits.len()),
        None => (0, units.len()),
    };
    let scale = usize::from(scale);
    let whole = digits.saturating_sub(scale).max(1);
    let fraction = if scale == 0 { 0 } else { 1 + scale };
    sign + whole + (whole - 1) / 3 + fraction
}

/// A character's width in pixels in Calibri 11, as Excel draws it. East
/// Asian wide characters (from fallback fonts) take two digits' width;
/// anything else not listed is taken as 8 pixels.
fn glyph_pixels(character: char) -> u32 {
    match character {
        ' ' | '\'' => 3,
        ',' | '.' | ':' | ';' | 'I' | '`' | 'i' | 'j' | 'l' => 4,
        '!' | '(' | ')' | '-' | 'J' | '[' | ']' | 'f' | 'r' | 't' | '{' | '}' => 5,
        '"' | '/' | 'L' | '\\' | 'c' | 's' | 'z' => 6,
        '#'
        | '$'
        | '*'
        | '+'
        | '0'..='9'
        | '<'
        | '='
        | '>'
        | '?'
        | 'E'
        | 'F'
        | 'S'
        | 'T'
        | 'Y'
        | 'Z'
        | '^'
        | '_'
        | 'a'
        | 'g'
        | 'k'
        | 'v'
        | 'x'
        | 'y'
        | '|'
        | '~' => 7,
        'B' | 'C' | 'K' | 'P' | 'R' | 'X' | 'b' | 'd' | 'e' | 'h' | 'n' | 'o' | 'p' | 'q' | 'u' => {
            8
        }
        'A' | 'D' | 'G' | 'H' | 'U' | 'V' => 9,
        '&' | 'N' | 'O' | 'Q' => 10,
        '%' | 'w' => 11,
        'M' | 'm' => 12,
        '@' | 'W' => 13,
        '\u{1100}'..='\u{115f}'
        | '\u{2e80}'..='\u{a4cf}'
        | '\u{ac00}'..='\u{d7a3}'
        | '\u{f900}'..='\u{faff}'
        | '\u{fe30}'..='\u{fe4f}'
        | '\u{ff00}'..='\u{ff60}'
        | '\u{ffe0}'..='\u{ffe6}'
        | '\u{1f300}'..='\u{1f64f}'
        | '\u{1f900}'..='\u{1f9ff}'
        | '\u{20000}'..='\u{3fffd}' => 2 * DIGIT_PIXELS,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_at_least_one_unit_a_character() {
        assert_eq!(text_width(""), 0);
        assert_eq!(text_width("0123456789"), 10);
        // Narrow glyphs still get a unit each.
        assert_eq!(text_width("iiiiiiii"), 8);
        // `@`, `m` and `w` are wider than a digit.
        assert_eq!(text_width("mmmmmmm"), 12);
        assert!(text_width("wendy.mcwilliams@example.com") > 28);
        assert_eq!(text_width("東京都"), 6);
        assert_eq!(text_width(&"x".repeat(500)), MAX_WIDTH);
    }

    #[test]
    fn decimals_are_measured_as_formatted() {
        assert_eq!(decimal_width("5", 2), "0.05".len());
        assert_eq!(decimal_width("-5", 2), "-0.05".len());
        assert_eq!(decimal_width("12345", 2), "123.45".len());
        assert_eq!(decimal_width("123456789", 2), "1,234,567.89".len());
        assert_eq!(decimal_width("-1000", 0), "-1,000".len());
        assert_eq!(decimal_width("100", 0), "100".len());
    }

    #[test]
    fn columns_fit_their_widest_cell_within_bounds() {
        let mut widths = Widths::new([
            ("Email", ColumnType::Text),
            ("When", ColumnType::Datetime),
            ("A very long label for a yes or no", ColumnType::Boolean),
            ("Notes", ColumnType::Text),
        ]);
        widths.fit(0, "ann@example.com", ColumnType::Text);
        widths.fit(0, "bartholomew.longname@example.com", ColumnType::Text);
        widths.fit(1, "2024-03-01T13:45:30Z", ColumnType::Datetime);
        widths.fit(2, "1", ColumnType::Boolean);
        widths.fit(3, &"long ".repeat(40), ColumnType::Text);
        widths.fit(9, "no such column", ColumnType::Text);
        let [email, when, flag, notes] = widths.finish()[..] else {
            panic!("four columns");
        };
        assert!(email > 32, "{email}");
        assert_eq!(when, 21);
        // Bold labels are measured a tenth wider.
        assert!(flag > 34, "{flag}");
        assert_eq!(notes, MAX_WIDTH);
        assert_eq!(
            Widths::new([("Hours", ColumnType::Decimal(2))]).finish(),
            [12]
        );
    }
}
