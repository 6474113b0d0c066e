//! The dump file as it is written: a cursor that knows its offset (the format's RVA), writes
//! the format's structures little-endian, and keeps the stream directory.

use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use minidump_common::format as md;
use scroll::ctx::{SizeWith, TryIntoCtx};
use scroll::{Endian, LE, Pwrite};

use super::DumpError;

/// How many bytes the destination is written in at most, and memory is read in: one chunk of
/// the kernel's copy (64 KiB), so one `ReadProcessMemory` and one write per chunk.
pub(super) const CHUNK: usize = 0x1_0000;

/// A dump being written to `W`, from `W`'s position when it started.
pub(super) struct DumpFile<W: Write + Seek> {
    out: BufWriter<W>,
    /// Where the dump starts in `W`: offsets in the dump are relative to it.
    start: u64,
    /// The offset the next byte goes to.
    offset: u64,
    /// Serialisation space for one structure (the largest is a few hundred bytes).
    scratch: Vec<u8>,
    directory: Vec<md::MINIDUMP_DIRECTORY>,
    /// What is being written, for [`DumpError::TooLarge`].
    part: &'static str,
    /// Bytes of thread stacks written so far (and wanted, at a stack refused for its size).
    pub(super) stack_bytes: u64,
}

impl<W: Write + Seek> DumpFile<W> {
    /// Starts a dump at `out`'s position: a header of zeros, which [`finish`](Self::finish)
    /// replaces, so an unfinished dump never reads as one.
    ///
    /// The header is written twice, the second time by seeking back: a destination whose writes
    /// do not go where it seeks (a file opened in append mode) fails here, before the dump is
    /// written, rather than at the header's patch at the end.
    pub(super) fn start(mut out: W) -> Result<Self, DumpError> {
        let start = out.stream_position()?;
        let mut file = Self {
            out: BufWriter::with_capacity(CHUNK, out),
            start,
            offset: 0,
            scratch: Vec::with_capacity(64),
            directory: Vec::new(),
            part: "the header",
            stack_bytes: 0,
        };
        let header = [0u8; 32];
        const _: () = assert!(32 == size_of::<md::MINIDUMP_HEADER>());
        file.bytes(&header)?;
        file.patch(0, &header, "checking that writes go where it seeks")?;
        Ok(file)
    }

    /// The offset the next byte goes to.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Says what is written next (`"the handle data"`), for the error if it does not fit.
    pub(super) fn part(&mut self, part: &'static str) {
        self.part = part;
    }

    /// The offset the next byte goes to, as a 32-bit RVA: what streams, strings and records
    /// are addressed by.
    pub(super) fn rva(&self) -> Result<u32, DumpError> {
        u32::try_from(self.offset).map_err(|_| self.too_large(self.part))
    }

    /// [`DumpError::TooLarge`] at `part`.
    pub(super) fn too_large(&self, part: &'static str) -> DumpError {
        DumpError::TooLarge {
            part,
            stack_bytes: self.stack_bytes,
        }
    }

    /// Writes raw bytes.
    pub(super) fn bytes(&mut self, bytes: &[u8]) -> Result<(), DumpError> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Writes `n` zero bytes.
    pub(super) fn zeros(&mut self, mut n: usize) -> Result<(), DumpError> {
        const ZEROS: [u8; 64] = [0; 64];
        while n > 0 {
            let k = n.min(ZEROS.len());
            self.bytes(&ZEROS[..k])?;
            n -= k;
        }
        Ok(())
    }

    /// Pads with zeros to a multiple of `to` bytes.
    pub(super) fn align(&mut self, to: u64) -> Result<(), DumpError> {
        let pad = (to - self.offset % to) % to;
        self.zeros(pad as usize)
    }

    /// Writes one structure of the format, little-endian, as `minidump-common` lays it out.
    pub(super) fn put<T>(&mut self, value: T) -> Result<(), DumpError>
    where
        T: SizeWith<Endian> + TryIntoCtx<Endian, Error = scroll::Error>,
    {
        let size = T::size_with(&LE);
        self.scratch.clear();
        self.scratch.resize(size, 0);
        self.scratch
            .pwrite_with(value, 0, LE)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.out.write_all(&self.scratch)?;
        self.offset += size as u64;
        Ok(())
    }

    pub(super) fn u32(&mut self, value: u32) -> Result<(), DumpError> {
        self.bytes(&value.to_le_bytes())
    }

    /// A `MINIDUMP_STRING` (its length in bytes, the UTF-16 units, a NUL the length does not
    /// count, as dbghelp writes it), and its RVA. Unpaired surrogates become U+FFFD: readers
    /// reject a string that is not valid UTF-16, and with it the whole stream it belongs to.
    pub(super) fn string(&mut self, units: &[u16]) -> Result<u32, DumpError> {
        self.align(4)?;
        let rva = self.rva()?;
        self.u32((units.len() * 2) as u32)?;
        for unit in char::decode_utf16(units.iter().copied()) {
            let c = unit.unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut pair = [0u16; 2];
            for u in c.encode_utf16(&mut pair) {
                self.bytes(&u.to_le_bytes())?;
            }
        }
        self.bytes(&[0, 0])?;
        Ok(rva)
    }

    /// Records a stream that starts at `rva` and ends here.
    pub(super) fn stream(
        &mut self,
        kind: md::MINIDUMP_STREAM_TYPE,
        rva: u32,
    ) -> Result<(), DumpError> {
        let end = self.rva()?;
        self.directory.push(md::MINIDUMP_DIRECTORY {
            stream_type: kind.into(),
            location: md::MINIDUMP_LOCATION_DESCRIPTOR {
                data_size: end - rva,
                rva,
            },
        });
        Ok(())
    }

    /// Writes the stream directory here, with room for `reserved` more streams (filled in by
    /// [`fill_reserved`](Self::fill_reserved)), and returns its offset.
    pub(super) fn directory(&mut self, reserved: usize) -> Result<u32, DumpError> {
        self.align(4)?;
        let rva = self.rva()?;
        for i in 0..self.directory.len() {
            let entry = self.directory[i].clone();
            self.put(entry)?;
        }
        self.zeros(reserved * md::MINIDUMP_DIRECTORY::size_with(&LE))?;
        self.rva()?;
        Ok(rva)
    }

    /// Fills the next reserved slot of the directory written at `directory` with a stream at
    /// `location`.
    pub(super) fn fill_reserved(
        &mut self,
        directory: u32,
        kind: md::MINIDUMP_STREAM_TYPE,
        location: md::MINIDUMP_LOCATION_DESCRIPTOR,
    ) -> Result<(), DumpError> {
        let entry = md::MINIDUMP_DIRECTORY {
            stream_type: kind.into(),
            location,
        };
        let size = md::MINIDUMP_DIRECTORY::size_with(&LE);
        let at = u64::from(directory) + (self.directory.len() * size) as u64;
        self.directory.push(entry.clone());
        let mut bytes = vec![0u8; size];
        bytes
            .pwrite_with(entry, 0, LE)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.patch(at, &bytes, "filling in the stream directory")
    }

    /// Overwrites bytes already written at `at` (for `step`), and comes back, checking that the
    /// bytes went there: after each seek its answer, after the write the position (which a
    /// destination whose writes ignore seeks, such as a file opened in append mode, reports at
    /// its end).
    pub(super) fn patch(
        &mut self,
        at: u64,
        bytes: &[u8],
        step: &'static str,
    ) -> Result<(), DumpError> {
        let position = |expected: u64, found: u64| {
            if expected == found {
                Ok(())
            } else {
                Err(DumpError::Position {
                    step,
                    expected,
                    found,
                })
            }
        };
        let (to, end) = (self.start + at, self.start + self.offset);
        position(to, self.out.seek(SeekFrom::Start(to))?)?;
        self.out.write_all(bytes)?;
        // Flushes the patch, then asks where the destination is.
        position(to + bytes.len() as u64, self.out.stream_position()?)?;
        position(end, self.out.seek(SeekFrom::Start(end))?)
    }

    /// Writes the header (the signature last of all, so only a whole dump has one), flushes,
    /// and returns the dump's size.
    pub(super) fn finish(
        mut self,
        directory: u32,
        time_date_stamp: u32,
        flags: u64,
    ) -> Result<u64, DumpError> {
        let header = md::MINIDUMP_HEADER {
            signature: md::MINIDUMP_SIGNATURE,
            version: md::MINIDUMP_VERSION,
            stream_count: self.directory.len() as u32,
            stream_directory_rva: directory,
            checksum: 0,
            time_date_stamp,
            flags,
        };
        let mut bytes = vec![0u8; md::MINIDUMP_HEADER::size_with(&LE)];
        bytes
            .pwrite_with(header, 0, LE)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.out.flush()?;
        self.patch(0, &bytes, "filling in the header")?;
        self.out.flush()?;
        Ok(self.offset)
    }
}
