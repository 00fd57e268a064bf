//! Excel export: a real `.xlsx` workbook (OOXML), one sheet named after the
//! export's title, with a bold frozen header row of column labels.
//!
//! Cells are typed: integers and decimals are numbers (decimals with a
//! `#,##0.00`-style format of the column's scale), dates and datetimes are
//! serial numbers with a date format, booleans are booleans, text is an
//! inline string. Text never becomes a formula in XLSX (formulas live in
//! their own element), so no injection guard is needed here.
//!
//! Memory stays bounded for any number of rows: the package parts are
//! small, the sheet is deflated as each batch arrives and the compressed
//! bytes go straight back to the host (see `zip`). Excel's own limits
//! apply: 1,048,576 rows including the header and 16,384 columns.

mod parts;
mod sheet;
mod zip;

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{Column, ColumnType, ExportFormat, Format, Rows, TableWriter};

use crate::sheet::{STYLE_HEADER, column_letters, push_number, write_cell, write_text_cell};
use crate::zip::ZipStream;

const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: usize = 16_384;

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
        zip.begin("xl/worksheets/sheet1.xml")?;
        let described: Vec<(&str, ColumnType)> = columns
            .iter()
            .map(|column| (column.label.as_str(), column.kind))
            .collect();
        let mut xml = parts::sheet_start(&described);
        xml.extend_from_slice(br#"<row r="1">"#);
        for (letters, column) in letters.iter().zip(&columns) {
            let reference = (letters.as_bytes(), b"1".as_slice());
            write_text_cell(&mut xml, reference, &column.label, Some(STYLE_HEADER));
        }
        xml.extend_from_slice(b"</row>");
        zip.write(&xml)?;
        Ok(XlsxWriter {
            zip,
            letters,
            kinds: columns.into_iter().map(|column| column.kind).collect(),
            last_row: 1,
            xml: Vec::new(),
        })
    }
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
            for ((cell, letters), kind) in row.cells().zip(&self.letters).zip(&self.kinds) {
                if let Some(value) = cell {
                    write_cell(&mut xml, (letters.as_bytes(), &number), value, *kind)?;
                }
            }
            xml.extend_from_slice(b"</row>");
        }
        self.zip.write(&xml)?;
        self.xml = xml;
        Ok(self.zip.take())
    }

    fn finish(mut self) -> Result<Vec<u8>, PluginError> {
        self.zip.write(parts::SHEET_END.as_bytes())?;
        self.zip.end()?;
        self.zip.finish()
    }
}

portal_plugin_api::export_export_format!(Xlsx);

#[cfg(test)]
mod tests;
