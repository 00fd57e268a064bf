//! A zip archive written strictly front to back, so it can be streamed.
//!
//! Each entry is deflated as its data arrives and flagged (general purpose
//! bit 3) as having its CRC and sizes in a data descriptor after the data,
//! because they are unknown when the local header goes out. The central
//! directory, which readers use to find everything, comes last. Only the
//! directory (a few dozen bytes per entry) and the compressor's window stay
//! in memory, however large an entry grows.
//!
//! An entry may also start before its first bytes are known (a worksheet's
//! column widths come before its rows but depend on them): its data is
//! compressed as it arrives but held back until [`ZipStream::release`] puts
//! the head in front. The head is deflated on its own and sync-flushed, so
//! it ends on a byte boundary inside a non-final block, and the held
//! deflate stream follows as further blocks of the same stream; neither
//! side refers back into the other, and the CRCs are combined.
//!
//! Sizes and offsets are the classic 32-bit ones: Zip64 would confuse some
//! spreadsheet readers, and an archive past 4 GiB fails cleanly instead.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;
use portal_plugin_api::PluginError;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
/// Zip 2.0: deflate and data descriptors.
const VERSION: u16 = 20;
/// General purpose bit 3: CRC and sizes follow the data.
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const METHOD_DEFLATE: u16 = 8;
/// 1980-01-01 00:00, the earliest DOS date. Plugins have no clock, and a
/// fixed stamp makes the output reproducible.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// A finished entry, as the central directory needs it.
#[derive(Debug)]
struct Entry {
    name: &'static str,
    offset: u32,
    crc: u32,
    compressed: u32,
    size: u32,
}

/// The entry being written.
#[derive(Debug)]
struct Open {
    name: &'static str,
    offset: u32,
    encoder: DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    size: u64,
    compressed: u64,
    /// The compressed data so far, while the entry's head is not known.
    held: Option<Vec<u8>>,
}

/// The archive being written. Bytes accumulate in `ready` until the caller
/// takes them.
#[derive(Debug)]
pub struct ZipStream {
    ready: Vec<u8>,
    /// Bytes produced so far, taken or not: the next entry's offset.
    written: u64,
    entries: Vec<Entry>,
    open: Option<Open>,
}

impl ZipStream {
    pub fn new() -> Self {
        Self {
            ready: Vec::new(),
            written: 0,
            entries: Vec::new(),
            open: None,
        }
    }

    /// Writes a whole small entry.
    pub fn file(&mut self, name: &'static str, data: &[u8]) -> Result<(), PluginError> {
        self.begin(name)?;
        self.write(data)?;
        self.end()
    }

    /// Starts an entry; the previous one must have ended.
    pub fn begin(&mut self, name: &'static str) -> Result<(), PluginError> {
        debug_assert!(self.open.is_none(), "zip entries do not nest");
        let offset = fits_u32(self.written)?;
        let mut header = Vec::with_capacity(30 + name.len());
        put32(&mut header, LOCAL_HEADER);
        put16(&mut header, VERSION);
        put16(&mut header, FLAG_DATA_DESCRIPTOR);
        put16(&mut header, METHOD_DEFLATE);
        put16(&mut header, DOS_TIME);
        put16(&mut header, DOS_DATE);
        // CRC, compressed and uncompressed size: in the data descriptor.
        header.extend_from_slice(&[0; 12]);
        put16(&mut header, name_length(name)?);
        put16(&mut header, 0); // extra field length
        header.extend_from_slice(name.as_bytes());
        self.emit(&header);
        self.open = Some(Open {
            name,
            offset,
            encoder: DeflateEncoder::new(Vec::new(), Compression::fast()),
            crc: crc32fast::Hasher::new(),
            size: 0,
            compressed: 0,
            held: None,
        });
        Ok(())
    }

    /// Starts an entry whose head is not known yet: its data is held back
    /// until [`Self::release`] writes the head before it.
    pub fn begin_held(&mut self, name: &'static str) -> Result<(), PluginError> {
        self.begin(name)?;
        if let Some(open) = self.open.as_mut() {
            open.held = Some(Vec::new());
        }
        Ok(())
    }

    /// Compressed bytes held back in the open entry.
    pub fn held(&self) -> usize {
        self.open
            .as_ref()
            .and_then(|open| open.held.as_ref())
            .map_or(0, Vec::len)
    }

    /// Writes `head` as the start of the entry begun with
    /// [`Self::begin_held`], then the data held back behind it; later data
    /// is no longer held.
    pub fn release(&mut self, head: &[u8]) -> Result<(), PluginError> {
        let open = self.open.as_mut().ok_or_else(no_open_entry)?;
        let held = open
            .held
            .take()
            .ok_or_else(|| PluginError::Failed("the zip entry holds nothing back".into()))?;
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(head).map_err(deflate_failed)?;
        // A sync flush, not `finish`: the blocks stay open for the held ones.
        encoder.flush().map_err(deflate_failed)?;
        let compressed_head = std::mem::take(encoder.get_mut());
        let mut crc = crc32fast::Hasher::new();
        crc.update(head);
        crc.combine(&open.crc);
        open.crc = crc;
        open.size += head.len() as u64;
        open.compressed += compressed_head.len() as u64;
        // In place, rather than a second copy of what may be megabytes.
        let mut data = held;
        data.splice(0..0, compressed_head);
        self.written += data.len() as u64;
        if self.ready.is_empty() {
            self.ready = data;
        } else {
            self.ready.extend_from_slice(&data);
        }
        Ok(())
    }

    /// Adds data to the open entry, making whatever compressed bytes the
    /// encoder has released ready.
    pub fn write(&mut self, data: &[u8]) -> Result<(), PluginError> {
        let open = self.open.as_mut().ok_or_else(no_open_entry)?;
        open.encoder.write_all(data).map_err(deflate_failed)?;
        open.crc.update(data);
        open.size += data.len() as u64;
        let released = std::mem::take(open.encoder.get_mut());
        open.compressed += released.len() as u64;
        match open.held.as_mut() {
            Some(held) => held.extend_from_slice(&released),
            None => self.emit(&released),
        }
        Ok(())
    }

    /// Ends the open entry with its data descriptor.
    pub fn end(&mut self) -> Result<(), PluginError> {
        if self.open.as_ref().is_some_and(|open| open.held.is_some()) {
            return Err(PluginError::Failed(
                "a zip entry ended before its head was written".into(),
            ));
        }
        let open = self.open.take().ok_or_else(no_open_entry)?;
        let rest = open.encoder.finish().map_err(deflate_failed)?;
        self.emit(&rest);
        let entry = Entry {
            name: open.name,
            offset: open.offset,
            crc: open.crc.finalize(),
            compressed: fits_u32(open.compressed + rest.len() as u64)?,
            size: fits_u32(open.size)?,
        };
        let mut descriptor = Vec::with_capacity(16);
        put32(&mut descriptor, DATA_DESCRIPTOR);
        put32(&mut descriptor, entry.crc);
        put32(&mut descriptor, entry.compressed);
        put32(&mut descriptor, entry.size);
        self.emit(&descriptor);
        self.entries.push(entry);
        Ok(())
    }

    /// The bytes produced since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.ready)
    }

    /// Writes the central directory and returns the last bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, PluginError> {
        if self.open.is_some() {
            self.end()?;
        }
        let directory_offset = fits_u32(self.written)?;
        let mut directory = Vec::new();
        for entry in &self.entries {
            put32(&mut directory, CENTRAL_HEADER);
            put16(&mut directory, VERSION); // made by
            put16(&mut directory, VERSION); // needed to extract
            put16(&mut directory, FLAG_DATA_DESCRIPTOR);
            put16(&mut directory, METHOD_DEFLATE);
            put16(&mut directory, DOS_TIME);
            put16(&mut directory, DOS_DATE);
            put32(&mut directory, entry.crc);
            put32(&mut directory, entry.compressed);
            put32(&mut directory, entry.size);
            put16(&mut directory, name_length(entry.name)?);
            // Extra field, comment, disk number, internal and external
            // attributes: all empty.
            directory.extend_from_slice(&[0; 12]);
            put32(&mut directory, entry.offset);
            directory.extend_from_slice(entry.name.as_bytes());
        }
        let count = u16::try_from(self.entries.len())
            .map_err(|_| PluginError::Failed("too many zip entries".into()))?;
        let directory_size = fits_u32(directory.len() as u64)?;
        put32(&mut directory, END_OF_CENTRAL_DIRECTORY);
        put16(&mut directory, 0); // this disk
        put16(&mut directory, 0); // disk with the directory
        put16(&mut directory, count);
        put16(&mut directory, count);
        put32(&mut directory, directory_size);
        put32(&mut directory, directory_offset);
        put16(&mut directory, 0); // comment length
        self.emit(&directory);
        Ok(self.ready)
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.ready.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
    }
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn fits_u32(value: u64) -> Result<u32, PluginError> {
    u32::try_from(value).map_err(|_| {
        PluginError::Failed("the workbook would exceed 4 GiB; export fewer rows or use CSV".into())
    })
}

fn name_length(name: &str) -> Result<u16, PluginError> {
    u16::try_from(name.len()).map_err(|_| PluginError::Failed("zip entry name too long".into()))
}

fn no_open_entry() -> PluginError {
    PluginError::Failed("no zip entry is open".into())
}

fn deflate_failed(error: std::io::Error) -> PluginError {
    PluginError::Failed(format!("compression failed: {error}"))
}
