//! The `export-format` world: file formats for table exports, streamed.

mod batch;
mod cell;
mod scan;

use std::cell::RefCell;
use std::fmt;

use crate::PluginError;
use crate::bindings::export_format::exports::portal::plugin::formats as wit;

pub use batch::{Row, RowBatchBuilder, RowIter, Rows};
pub use cell::{check_integer, parse_boolean, write_decimal};
pub use scan::contains_any;
pub use wit::{Column, ColumnType, Format, RowBatch};

/// The largest `decimal` scale the WIT allows; the SDK rejects larger ones
/// at `open` so that no writer has to.
pub const MAX_SCALE: u8 = 18;

/// An export-format plugin, exported with
/// [`export_export_format!`](crate::export_export_format).
pub trait ExportFormat: 'static {
    /// The writer for one export in progress.
    type Writer: TableWriter;

    /// The formats this plugin writes; cached by the host per plugin load.
    fn formats() -> Result<Vec<Format>, PluginError>;

    /// Starts an export in the format `format`. The SDK has already checked
    /// that `format` is an id [`ExportFormat::formats`] lists, that there is
    /// at least one column, and that every decimal scale is at most
    /// [`MAX_SCALE`], so a single-format plugin can ignore `format`.
    fn open(format: &str, title: &str, columns: Vec<Column>) -> Result<Self::Writer, PluginError>;
}

/// One export in progress.
///
/// The SDK decodes and validates each packed batch before calling
/// [`TableWriter::write_rows`], and retires the writer after `finish` or
/// after any error, answering later calls itself, so a writer only ever
/// sees well-formed rows in order.
pub trait TableWriter {
    /// Takes the next rows and returns the output bytes ready now. Return
    /// them as soon as they exist rather than accumulating: the host streams
    /// them to the client, and what the writer keeps counts against the
    /// instance's memory cap.
    fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError>;

    /// Ends the table and returns the remaining bytes.
    fn finish(self) -> Result<Vec<u8>, PluginError>;
}

impl<T: ExportFormat> wit::Guest for T {
    type Exporter = ExporterResource<T>;

    fn formats() -> Result<Vec<Format>, PluginError> {
        <T as ExportFormat>::formats()
    }
}

/// The `exporter` resource as the component exports it: the plugin's writer
/// plus what the SDK needs to decode batches and to retire the writer.
///
/// Resource methods take `&self`, so the writer sits in a `RefCell`; it is
/// `None` once the export finished or failed.
#[doc(hidden)]
pub struct ExporterResource<T: ExportFormat> {
    writer: RefCell<Option<T::Writer>>,
    columns: usize,
}

impl<T: ExportFormat> fmt::Debug for ExporterResource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExporterResource")
            .field("columns", &self.columns)
            .field("open", &self.writer.borrow().is_some())
            .finish()
    }
}

impl<T: ExportFormat> ExporterResource<T> {
    /// Everything `open` does except registering the resource with the
    /// host, so that [`run_export`] follows the same path.
    fn start(format: &str, title: &str, columns: Vec<Column>) -> Result<Self, PluginError> {
        if !T::formats()?.iter().any(|offered| offered.id == format) {
            return Err(PluginError::InvalidInput(format!(
                "this plugin does not write format `{format}`"
            )));
        }
        check_columns(&columns)?;
        let count = columns.len();
        let writer = T::open(format, title, columns)?;
        Ok(Self {
            writer: RefCell::new(Some(writer)),
            columns: count,
        })
    }
}

impl<T: ExportFormat> wit::GuestExporter for ExporterResource<T> {
    fn open(
        format: String,
        title: String,
        columns: Vec<Column>,
    ) -> Result<wit::Exporter, PluginError> {
        Self::start(&format, &title, columns).map(wit::Exporter::new)
    }

    fn write_batch(&self, batch: RowBatch) -> Result<Vec<u8>, PluginError> {
        let mut slot = self.writer.borrow_mut();
        let writer = slot.as_mut().ok_or_else(spent)?;
        let written = Rows::decode(&batch, self.columns).and_then(|rows| writer.write_rows(rows));
        if written.is_err() {
            *slot = None;
        }
        written
    }

    fn finish(&self) -> Result<Vec<u8>, PluginError> {
        let writer = self.writer.borrow_mut().take().ok_or_else(spent)?;
        writer.finish()
    }
}

/// Runs a whole export the way the host drives the component (`open`, a
/// `write-batch` per batch, `finish`), natively, and returns each call's
/// output: for a plugin's unit tests, which can then check both the bytes
/// and how they were streamed. Each batch is a list of rows, each row its
/// cells in canonical form, `None` for null.
pub fn run_export<T: ExportFormat>(
    format: &str,
    title: &str,
    columns: Vec<Column>,
    batches: &[&[&[Option<&str>]]],
) -> Result<Vec<Vec<u8>>, PluginError> {
    use wit::GuestExporter;
    let exporter = ExporterResource::<T>::start(format, title, columns)?;
    let mut chunks = batches
        .iter()
        .map(|rows| exporter.write_batch(RowBatch::from_rows(rows)))
        .collect::<Result<Vec<_>, _>>()?;
    chunks.push(exporter.finish()?);
    Ok(chunks)
}

impl Format {
    /// A format description; see the WIT `format` record for each field.
    pub fn new(id: &str, label: &str, mime_type: &str, extension: &str) -> Self {
        Self {
            id: id.to_owned(),
            label: label.to_owned(),
            mime_type: mime_type.to_owned(),
            extension: extension.to_owned(),
        }
    }
}

impl Column {
    /// A column; see the WIT `column` record for each field.
    pub fn new(name: &str, label: &str, kind: ColumnType) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
        }
    }
}

fn spent() -> PluginError {
    PluginError::InvalidInput("this export already finished or failed".to_owned())
}

fn check_columns(columns: &[Column]) -> Result<(), PluginError> {
    if columns.is_empty() {
        return Err(PluginError::InvalidInput(
            "an export needs at least one column".to_owned(),
        ));
    }
    match columns
        .iter()
        .find(|column| matches!(column.kind, ColumnType::Decimal(scale) if scale > MAX_SCALE))
    {
        Some(column) => Err(PluginError::InvalidInput(format!(
            "column `{}` has a decimal scale above {MAX_SCALE}",
            column.name
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes each cell followed by a space, and fails on a cell `fail`.
    struct Spaced(Vec<u8>);

    impl TableWriter for Spaced {
        fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError> {
            let mut out = Vec::new();
            for cell in rows.iter().flat_map(|row| row.cells()) {
                match cell {
                    Some("fail") => return Err(PluginError::Failed("asked to".into())),
                    Some(text) => out.extend_from_slice(text.as_bytes()),
                    None => out.push(b'-'),
                }
                out.push(b' ');
            }
            Ok(out)
        }

        fn finish(self) -> Result<Vec<u8>, PluginError> {
            Ok(self.0)
        }
    }

    struct SpacedFormat;

    impl ExportFormat for SpacedFormat {
        type Writer = Spaced;

        fn formats() -> Result<Vec<Format>, PluginError> {
            Ok(vec![Format::new("spaced", "Spaced", "text/plain", "txt")])
        }

        fn open(_: &str, _: &str, _: Vec<Column>) -> Result<Spaced, PluginError> {
            Ok(Spaced(b"end".to_vec()))
        }
    }

    fn exporter() -> ExporterResource<SpacedFormat> {
        ExporterResource::start("spaced", "Test", vec![column(ColumnType::Text); 2])
            .expect("valid open")
    }

    fn batch(rows: &[&[Option<&str>]]) -> RowBatch {
        RowBatch::from_rows(rows)
    }

    #[test]
    fn exporter_streams_batches_then_retires_after_finish() {
        use wit::GuestExporter;
        let exporter = exporter();
        let first = exporter.write_batch(batch(&[&[Some("a"), None]]));
        assert_eq!(first, Ok(b"a - ".to_vec()));
        assert_eq!(exporter.finish(), Ok(b"end".to_vec()));
        assert_eq!(exporter.finish(), Err(spent()));
        assert_eq!(exporter.write_batch(batch(&[])), Err(spent()));
    }

    #[test]
    fn exporter_retires_after_a_failed_or_malformed_batch() {
        use wit::GuestExporter;
        let failing = exporter();
        let failed = failing.write_batch(batch(&[&[Some("fail"), None]]));
        assert!(matches!(failed, Err(PluginError::Failed(_))));
        assert_eq!(failing.finish(), Err(spent()));

        let malformed = exporter();
        let three_cells = batch(&[&[Some("a"), Some("b"), Some("c")]]);
        assert!(matches!(
            malformed.write_batch(three_cells),
            Err(PluginError::InvalidInput(_))
        ));
        assert_eq!(malformed.write_batch(batch(&[])), Err(spent()));
    }

    #[test]
    fn run_export_drives_open_batches_and_finish() {
        let chunks = run_export::<SpacedFormat>(
            "spaced",
            "Test",
            vec![column(ColumnType::Integer)],
            &[&[&[Some("1")], &[None]], &[]],
        );
        assert_eq!(
            chunks,
            Ok(vec![b"1 - ".to_vec(), Vec::new(), b"end".to_vec()])
        );
    }

    #[test]
    fn open_rejects_formats_the_plugin_does_not_list() {
        let chunks = run_export::<SpacedFormat>("csv", "T", vec![column(ColumnType::Text)], &[]);
        assert!(
            matches!(chunks, Err(PluginError::InvalidInput(message)) if message.contains("`csv`"))
        );
    }

    fn column(kind: ColumnType) -> Column {
        Column::new("amount", "Amount", kind)
    }

    #[test]
    fn open_rejects_no_columns_and_oversized_scales() {
        assert!(check_columns(&[]).is_err());
        assert!(check_columns(&[column(ColumnType::Decimal(MAX_SCALE))]).is_ok());
        assert!(matches!(
            check_columns(&[column(ColumnType::Decimal(MAX_SCALE + 1))]),
            Err(PluginError::InvalidInput(message)) if message.contains("amount")
        ));
    }
}
