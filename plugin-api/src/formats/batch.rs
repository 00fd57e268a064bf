//! The packed row batch: decoding for writers, encoding for tests and hosts.
//!
//! The layout is defined in the WIT (`row-batch`): every cell's bytes in
//! one buffer, a `u32` end offset per cell, and a null bitmap that is empty
//! when nothing is null. Decoding validates the batch once, up front, so
//! that iterating cells afterwards is infallible and copies nothing.

use super::RowBatch;
use crate::PluginError;

/// The validated rows of one batch, borrowing the batch's buffers.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    text: &'a str,
    ends: &'a [u32],
    nulls: &'a [u8],
    columns: usize,
}

impl<'a> Rows<'a> {
    /// Checks `batch` against the WIT's rules for a table of `columns`
    /// columns: whole rows, UTF-8 cells, non-decreasing offsets ending at the
    /// end of the data, a bitmap of the right length, and no bytes in null
    /// cells. Anything else is a host bug, reported as
    /// [`PluginError::InvalidInput`].
    pub fn decode(batch: &'a RowBatch, columns: usize) -> Result<Self, PluginError> {
        if columns == 0 {
            return Err(malformed("a table needs at least one column"));
        }
        let cells = batch.ends.len();
        if !cells.is_multiple_of(columns) {
            return Err(malformed("the cells do not fill whole rows"));
        }
        let text =
            std::str::from_utf8(&batch.data).map_err(|_| malformed("the data is not UTF-8"))?;
        let nulls = &batch.nulls;
        if !nulls.is_empty() && nulls.len() != cells.div_ceil(8) {
            return Err(malformed("the null bitmap has the wrong length"));
        }
        // One pass over the offsets, eight cells (one bitmap byte) at a time.
        let mut start = 0;
        for (group, ends) in batch.ends.chunks(8).enumerate() {
            let null_bits = nulls.get(group).copied().unwrap_or(0);
            for (bit, &end) in ends.iter().enumerate() {
                let end = end as usize;
                if end < start || !text.is_char_boundary(end) {
                    return Err(malformed(
                        "a cell end offset is out of order or splits a character",
                    ));
                }
                if null_bits & (1 << bit) != 0 && end != start {
                    return Err(malformed("a null cell has bytes"));
                }
                start = end;
            }
        }
        if start != text.len() {
            return Err(malformed("the last cell does not end where the data ends"));
        }
        let rows = Self {
            text,
            ends: &batch.ends,
            nulls,
            columns,
        };
        Ok(rows)
    }

    /// The number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len() / self.columns
    }

    /// Whether the batch holds no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of every cell together: a lower bound of a text format's
    /// output, to size its buffer once instead of growing it row by row.
    #[inline]
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// How many cells the batch holds (rows × columns).
    #[inline]
    pub fn cell_count(&self) -> usize {
        self.ends.len()
    }

    /// The rows in order.
    #[inline]
    pub fn iter(&self) -> RowIter<'a> {
        RowIter {
            rows: *self,
            next: 0,
        }
    }

    #[inline]
    fn is_null(&self, cell: usize) -> bool {
        self.nulls
            .get(cell / 8)
            .is_some_and(|byte| byte & (1 << (cell % 8)) != 0)
    }

    #[inline]
    fn range(&self, cell: usize) -> std::ops::Range<usize> {
        let start = cell
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous] as usize);
        start..self.ends[cell] as usize
    }

    #[inline]
    fn cell(&self, cell: usize) -> Option<&'a str> {
        if self.is_null(cell) {
            None
        } else {
            Some(&self.text[self.range(cell)])
        }
    }
}

impl<'a> IntoIterator for Rows<'a> {
    type Item = Row<'a>;
    type IntoIter = RowIter<'a>;

    #[inline]
    fn into_iter(self) -> RowIter<'a> {
        self.iter()
    }
}

/// Iterator over the rows of a batch.
#[derive(Debug, Clone)]
pub struct RowIter<'a> {
    rows: Rows<'a>,
    next: usize,
}

impl<'a> Iterator for RowIter<'a> {
    type Item = Row<'a>;

    #[inline]
    fn next(&mut self) -> Option<Row<'a>> {
        let first = self.next;
        if first >= self.rows.ends.len() {
            return None;
        }
        self.next += self.rows.columns;
        Some(Row {
            rows: self.rows,
            first,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.rows.ends.len() - self.next) / self.rows.columns;
        (left, Some(left))
    }
}

impl ExactSizeIterator for RowIter<'_> {}

/// One row of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    rows: Rows<'a>,
    first: usize,
}

impl<'a> Row<'a> {
    /// The cell in `column` in its canonical text form, `None` for null.
    ///
    /// # Panics
    ///
    /// If `column` is not less than the table's column count.
    #[inline]
    pub fn get(&self, column: usize) -> Option<&'a str> {
        assert!(
            column < self.rows.columns,
            "column {column} is out of range"
        );
        self.rows.cell(self.first + column)
    }

    /// The cells in column order.
    #[inline]
    pub fn cells(&self) -> impl ExactSizeIterator<Item = Option<&'a str>> + use<'a> {
        let Row { rows, first } = *self;
        (first..first + rows.columns).map(move |cell| rows.cell(cell))
    }
}

fn malformed(what: &str) -> PluginError {
    PluginError::InvalidInput(format!("malformed row batch: {what}"))
}

impl RowBatch {
    /// Packs whole rows at once; see [`RowBatchBuilder`] to add them one by
    /// one.
    pub fn from_rows(rows: &[&[Option<&str>]]) -> Self {
        let mut builder = RowBatchBuilder::default();
        for row in rows {
            builder.row(row);
        }
        builder.build()
    }
}

/// Packs cells into a [`RowBatch`], for a plugin's own tests (and for a
/// host written in Rust).
#[derive(Debug, Default)]
pub struct RowBatchBuilder {
    data: Vec<u8>,
    ends: Vec<u32>,
    nulls: Vec<u8>,
    any_null: bool,
}

impl RowBatchBuilder {
    /// Appends the cells of one row, `None` for null, each already in its
    /// column's canonical form.
    ///
    /// # Panics
    ///
    /// If the batch's data grows past 4 GiB, which `u32` offsets cannot
    /// address.
    pub fn row(&mut self, cells: &[Option<&str>]) -> &mut Self {
        for cell in cells {
            let index = self.ends.len();
            if index.is_multiple_of(8) {
                self.nulls.push(0);
            }
            match cell {
                Some(text) => self.data.extend_from_slice(text.as_bytes()),
                None => {
                    self.nulls[index / 8] |= 1 << (index % 8);
                    self.any_null = true;
                }
            }
            let end = u32::try_from(self.data.len()).expect("a row batch holds at most 4 GiB");
            self.ends.push(end);
        }
        self
    }

    /// The finished batch; the bitmap is left empty when no cell is null.
    pub fn build(self) -> RowBatch {
        RowBatch {
            data: self.data,
            ends: self.ends,
            nulls: if self.any_null {
                self.nulls
            } else {
                Vec::new()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(data: &str, ends: &[u32], nulls: &[u8]) -> RowBatch {
        RowBatch {
            data: data.as_bytes().to_vec(),
            ends: ends.to_vec(),
            nulls: nulls.to_vec(),
        }
    }

    #[test]
    fn decodes_the_wit_example() {
        let example = batch("Ann8501Bo0", &[3, 6, 7, 9, 9, 10], &[0x10]);
        let rows = Rows::decode(&example, 3).expect("valid batch");
        let cells: Vec<Vec<Option<&str>>> = rows.iter().map(|row| row.cells().collect()).collect();
        assert_eq!(
            cells,
            vec![
                vec![Some("Ann"), Some("850"), Some("1")],
                vec![Some("Bo"), None, Some("0")],
            ]
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.iter().nth(1).and_then(|row| row.get(2)), Some("0"));
    }

    #[test]
    fn builder_produces_the_wit_example() {
        let mut builder = RowBatchBuilder::default();
        builder
            .row(&[Some("Ann"), Some("850"), Some("1")])
            .row(&[Some("Bo"), None, Some("0")]);
        assert_eq!(
            builder.build(),
            batch("Ann8501Bo0", &[3, 6, 7, 9, 9, 10], &[0x10])
        );
    }

    #[test]
    fn builder_leaves_the_bitmap_empty_without_nulls() {
        let mut builder = RowBatchBuilder::default();
        builder.row(&[Some(""), Some("x")]);
        let built = builder.build();
        assert!(built.nulls.is_empty());
        let rows = Rows::decode(&built, 2).expect("valid batch");
        assert_eq!(rows.iter().next().and_then(|row| row.get(0)), Some(""));
    }

    #[test]
    fn empty_batch_has_no_rows() {
        let empty = batch("", &[], &[]);
        let rows = Rows::decode(&empty, 4).expect("valid batch");
        assert!(rows.is_empty());
        assert_eq!(rows.iter().count(), 0);
    }

    #[test]
    fn rejects_malformed_batches() {
        let cases = [
            (batch("ab", &[1, 2], &[]), 3, "whole rows"),
            (batch("ab", &[2, 1], &[]), 2, "out of order"),
            (batch("ab", &[1, 3], &[]), 2, "out of order"),
            (batch("abc", &[1, 2], &[]), 2, "last cell"),
            (batch("é", &[1, 2], &[]), 2, "splits a character"),
            (batch("ab", &[1, 2], &[0, 0]), 2, "bitmap"),
            (batch("ab", &[1, 2], &[0b01]), 2, "null cell has bytes"),
        ];
        for (bad, columns, expected) in cases {
            match Rows::decode(&bad, columns) {
                Err(PluginError::InvalidInput(message)) => {
                    assert!(
                        message.contains(expected),
                        "{message} should mention {expected}"
                    );
                }
                other => panic!("expected a malformed batch error, got {other:?}"),
            }
        }
        let not_utf8 = RowBatch {
            data: vec![0xff],
            ends: vec![1],
            nulls: vec![],
        };
        assert!(Rows::decode(&not_utf8, 1).is_err());
    }
}
