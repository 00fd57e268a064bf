//! The fixed parts of the OOXML package: the least a workbook needs for
//! Excel and LibreOffice to open it without a repair prompt.

use std::fmt::Write;

use crate::sheet::{STYLE_DECIMAL, escape};
use portal_plugin_api::formats::MAX_SCALE;

const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

pub const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
    r#"<Default Extension="xml" ContentType="application/xml"/>"#,
    r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
    r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
    r#"</Types>"#,
);

pub const PACKAGE_RELATIONSHIPS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    r#"</Relationships>"#,
);

pub const WORKBOOK_RELATIONSHIPS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
    r#"</Relationships>"#,
);

pub const SHEET_END: &str = "</sheetData></worksheet>";

/// The workbook part, naming its one sheet after the export's title.
pub fn workbook(title: &str) -> Vec<u8> {
    let mut xml = format!(
        r#"{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name=""#
    )
    .into_bytes();
    escape(&mut xml, &sheet_name(title));
    xml.extend_from_slice(br#"" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
    xml
}

/// Excel's rules for sheet names: at most 31 characters, none of
/// `[]:*?/\`, not blank, not starting or ending with `'`.
fn sheet_name(title: &str) -> String {
    let kept: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control())
        .take(31)
        .collect();
    let name = kept.trim().trim_matches('\'').trim();
    if name.is_empty() {
        "Sheet1".to_owned()
    } else {
        name.to_owned()
    }
}

/// The style sheet. Its `cellXfs` order is what the `STYLE_*` constants
/// in `sheet` index: default, bold header, date, date and time, then one
/// number format per decimal scale 0 to 18 (so a column's style follows
/// from its type alone, with no per-export table).
pub fn styles() -> String {
    let mut formats = String::from(
        r#"<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>"#,
    );
    let mut decimal_styles = String::new();
    for scale in 0..=MAX_SCALE {
        let id = 166 + u32::from(scale);
        let point = if scale == 0 { "" } else { "." };
        let zeros = "0".repeat(usize::from(scale));
        let _ = write!(
            formats,
            r##"<numFmt numFmtId="{id}" formatCode="#,##0{point}{zeros}"/>"##
        );
        let _ = write!(
            decimal_styles,
            r#"<xf numFmtId="{id}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#
        );
    }
    let format_count = 2 + usize::from(MAX_SCALE) + 1;
    let style_count = usize::from(STYLE_DECIMAL) + usize::from(MAX_SCALE) + 1;
    format!(
        concat!(
            r#"{declaration}<styleSheet xmlns="{ns}">"#,
            r#"<numFmts count="{format_count}">{formats}</numFmts>"#,
            r#"<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>"#,
            r#"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#,
            r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
            r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
            r#"<cellXfs count="{style_count}">"#,
            r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
            r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#,
            r#"<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#,
            r#"<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#,
            r#"{decimal_styles}</cellXfs>"#,
            r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
            r#"</styleSheet>"#,
        ),
        declaration = XML_DECLARATION,
        ns = MAIN_NS,
        format_count = format_count,
        formats = formats,
        style_count = style_count,
        decimal_styles = decimal_styles,
    )
}

/// Everything in the worksheet before the first row: a frozen header pane
/// and the column widths (see `widths`).
pub fn sheet_start(widths: &[u16]) -> Vec<u8> {
    let mut xml = format!(
        concat!(
            r#"{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}"><sheetViews><sheetView workbookViewId="0">"#,
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#,
            r#"</sheetView></sheetViews><cols>"#,
        ),
        XML_DECLARATION = XML_DECLARATION,
        MAIN_NS = MAIN_NS,
    );
    for (index, width) in widths.iter().enumerate() {
        let column = index + 1;
        let _ = write!(
            xml,
            r#"<col min="{column}" max="{column}" width="{width}" customWidth="1"/>"#
        );
    }
    xml.push_str("</cols><sheetData>");
    xml.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_follow_excels_rules() {
        assert_eq!(sheet_name("Timesheets"), "Timesheets");
        assert_eq!(sheet_name("Q1/Q2 [draft]: *all*?"), "Q1Q2 draft all");
        assert_eq!(sheet_name("'quoted'"), "quoted");
        assert_eq!(sheet_name("  "), "Sheet1");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn styles_define_every_decimal_scale() {
        let styles = styles();
        assert!(styles.contains(r##"<numFmt numFmtId="168" formatCode="#,##0.00"/>"##));
        assert!(styles.contains(r##"formatCode="#,##0""##));
        assert_eq!(styles.matches("<xf ").count(), 1 + 23);
        assert!(styles.contains(r#"<cellXfs count="23">"#));
    }
}
