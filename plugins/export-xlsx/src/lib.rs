//! Excel export: a real `.xlsx` workbook (OOXML), one sheet named after the
//! export's title, with a bold frozen header row of column labels.
//!
//! Cells are typed: integers and decimals are numbers (decimals with a
//! `#,##0.00`-style format of the column's scale), dates and datetimes are
//! serial numbers with a date format, booleans are booleans, text is an
//! inline string. Text never becomes a formula in XLSX (formulas live in
//! their own element), so no injection guard is needed here.
//!
//! Columns are as wide as their widest cell (see `widths`), up to a cap.
//! The widths come first in the sheet, so the sheet's rows are held back,
//! deflated, until the table ends or `HOLD_BYTES` of them are waiting;
//! the widths then fit every row of the table, or for a larger table the
//! rows held back, and the rest of the sheet streams.
//!
//! Memory stays bounded for any number of rows: the package parts are
//! small, the sheet is deflated as each batch arrives, and past the first
//! `HOLD_BYTES` the compressed bytes go straight back to the host (see
//! `zip`). Excel's own limits apply: 1,048,576 rows including the header
//! and 16,384 columns.

mod parts;
mod sheet;
mod widths;
mod zip;

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{Column, ColumnType, ExportFormat, Format, Rows, TableWriter};

use crate::sheet::{STYLE_HEADER, column_letters, push_number, write_cell, write_text_cell};
use crate::widths::Widths;
use crate::zip::ZipStream;

const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
/// Compressed sheet rows held back, at most, before the column widths are
/// written: about 120,000 rows of a typical seven-column table.
const HOLD_BYTES: usize = 8 << 20;

/// The XLSX format; exported as the component's `formats` interface.
#[derive(Debug)]
pub struct Xlsx;

impl ExportFormat for Xlsx {
    type Writer = XlsxWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new(
            "xlsx",
            "Excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )])
    }

    fn open(_format: &str, title: &str, columns: Vec<Column>) -> Result<XlsxWriter, PluginError> {
        if columns.len() > MAX_COLUMNS {
            return Err(PluginError::InvalidInput(format!(
                "an Excel sheet holds at most {MAX_COLUMNS} columns"
            )));
        }
        let letters: Vec<String> = (0..columns.len()).map(column_letters).collect();
        let mut zip = ZipStream::new();
        zip.file("[Content_Types].xml", parts::CONTENT_TYPES.as_bytes())?;
        zip.file("_rels/.rels", parts::PACKAGE_RELATIONSHIPS.as_bytes())?;
        zip.file("xl/workbook.xml", &parts::workbook(title))?;
        zip.file(
            "xl/_rels/workbook.xml.rels",
            parts::WORKBOOK_RELATIONSHIPS.as_bytes(),
        )?;
        zip.file("xl/styles.xml", parts::styles().as_bytes())?;
        zip.begin_held("xl/worksheets/sheet1.xml")?;
        let mut header_row = br#"<row r="1">"#.to_vec();
        for (letters, column) in letters.iter().zip(&columns) {
            let reference = (letters.as_bytes(), b"1".as_slice());
            write_text_cell(
                &mut header_row,
                reference,
                &column.label,
                Some(STYLE_HEADER),
            );
        }
        header_row.extend_from_slice(b"</row>");
        let widths = Widths::new(
            columns
                .iter()
                .map(|column| (column.label.as_str(), column.kind)),
        );
        Ok(XlsxWriter {
            zip,
            letters,
            kinds: columns.into_iter().map(|column| column.kind).collect(),
            last_row: 1,
            xml: Vec::new(),
            head: Some(Head { widths, header_row }),
            hold_bytes: HOLD_BYTES,
        })
    }
}

/// The start of the sheet, until it is written: the header row and the
/// column widths its cells and the rows held back need.
#[derive(Debug)]
struct Head {
    widths: Widths,
    header_row: Vec<u8>,
}

/// One workbook export in progress.
#[derive(Debug)]
pub struct XlsxWriter {
    zip: ZipStream,
    /// Each column's letters (`A`, `B`, … `AA`), for cell references.
    letters: Vec<String>,
    kinds: Vec<ColumnType>,
    /// The sheet row number last written; the header is row 1.
    last_row: u32,
    /// Scratch buffer for one batch's XML, kept to reuse its allocation.
    xml: Vec<u8>,
    /// `None` once the sheet's head is written and the rows stream.
    head: Option<Head>,
    /// Compressed rows to hold back before writing the head: `HOLD_BYTES`.
    hold_bytes: usize,
}

impl XlsxWriter {
    /// Writes the sheet's head, with the widths for the rows so far, before
    /// the rows held back.
    fn release_head(&mut self) -> Result<(), PluginError> {
        if let Some(head) = self.head.take() {
            let mut xml = parts::sheet_start(&head.widths.finish());
            xml.extend_from_slice(&head.header_row);
            self.zip.release(&xml)?;
        }
        Ok(())
    }
}

impl TableWriter for XlsxWriter {
    fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        let mut xml = std::mem::take(&mut self.xml);
        xml.clear();
        let mut number = Vec::with_capacity(8);
        for row in rows {
            if self.last_row == MAX_ROWS {
                return Err(PluginError::Failed(format!(
                    "an Excel sheet holds at most {} data rows; use CSV for more",
                    MAX_ROWS - 1
                )));
            }
            self.last_row += 1;
            number.clear();
            push_number(&mut number, u64::from(self.last_row), 1);
            xml.extend_from_slice(b"<row r=\"");
            xml.extend_from_slice(&number);
            xml.extend_from_slice(b"\">");
            let cells = row.cells().zip(&self.letters).zip(&self.kinds);
            for (column, ((cell, letters), kind)) in cells.enumerate() {
                if let Some(value) = cell {
                    write_cell(&mut xml, (letters.as_bytes(), &number), value, *kind)?;
                    if let Some(head) = self.head.as_mut() {
                        head.widths.fit(column, value, *kind);
                    }
                }
            }
            xml.extend_from_slice(b"</row>");
        }
        self.zip.write(&xml)?;
        self.xml = xml;
        if self.zip.held() >= self.hold_bytes {
            self.release_head()?;
        }
        Ok(self.zip.take())
    }

    fn finish(mut self) -> Result<Vec<u8>, PluginError> {
        self.release_head()?;
        self.zip.write(parts::SHEET_END.as_bytes())?;
        self.zip.end()?;
        self.zip.finish()
    }
}

portal_plugin_api::export_export_format!(Xlsx);

#[cfg(test)]
mod tests;
