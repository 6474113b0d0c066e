//! The dump as it is written: strictly forward, into any [`Write`]. A cursor that knows its
//! offset (the format's RVA), writes the format's structures little-endian, pads to the offsets
//! the layout planned (and refuses to go back), and asks the caller's progress callback whether
//! to go on.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;

use scroll::ctx::{SizeWith, TryIntoCtx};
use scroll::{Endian, LE, Pwrite};

use super::{DumpError, DumpProgress};

/// How many bytes memory is read in at most: one chunk of the kernel's copy (64 KiB), so one
/// `ReadProcessMemory` and one write per chunk.
pub(super) const CHUNK: usize = 0x1_0000;

/// The buffer in front of the destination, for the small structures; memory chunks are as
/// large as it or larger, and go to the destination directly.
const BUFFER: usize = 0x2000;

/// The progress callback a dump reports to.
pub(super) type Progress<'a> = &'a dyn Fn(DumpProgress) -> ControlFlow<()>;

/// A dump being written to `W`. Offsets are relative to the first byte written: where `W`
/// was when the dump started (a file opened for appending, a socket, a compressor: none is
/// asked where it is).
pub(super) struct DumpFile<'p, W: Write> {
    out: BufWriter<W>,
    /// The offset the next byte goes to.
    offset: u64,
    /// The size the layout planned: what progress reports as the total.
    total: u64,
    progress: Option<Progress<'p>>,
    /// Serialisation space for one structure (the largest is a few hundred bytes).
    scratch: Vec<u8>,
}

impl<'p, W: Write> DumpFile<'p, W> {
    /// A dump of `total` bytes about to be written to `out`.
    pub(super) fn new(out: W, total: u64, progress: Option<Progress<'p>>) -> Self {
        Self {
            out: BufWriter::with_capacity(BUFFER, out),
            offset: 0,
            total,
            progress,
            scratch: Vec::with_capacity(256),
        }
    }

    /// Tells the progress callback where the dump is; [`DumpError::Cancelled`] if it says stop.
    /// Called before each stream and each chunk of memory, never after the last byte: a
    /// cancelled dump always lacks bytes.
    pub(super) fn step(&mut self) -> Result<(), DumpError> {
        if let Some(progress) = self.progress {
            let report = DumpProgress {
                written: self.offset,
                total: self.total,
            };
            if progress(report).is_break() {
                return Err(DumpError::Cancelled);
            }
        }
        Ok(())
    }

    /// Pads with zeros up to `offset`, where the layout put the next object. Writing is forward
    /// only: an offset behind the cursor is a bug in the layout, reported as an error rather
    /// than a dump whose offsets lie.
    pub(super) fn at(&mut self, offset: u64) -> Result<(), DumpError> {
        if offset < self.offset {
            return Err(DumpError::Write(io::Error::other(format!(
                "pss's dump writer laid out an object at {offset:#x} but had already written up \
                 to {:#x} (a bug in pss: please report it)",
                self.offset
            ))));
        }
        self.zeros(offset - self.offset)
    }

    /// Writes raw bytes.
    pub(super) fn bytes(&mut self, bytes: &[u8]) -> Result<(), DumpError> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Writes `n` zero bytes.
    pub(super) fn zeros(&mut self, mut n: u64) -> Result<(), DumpError> {
        const ZEROS: [u8; 512] = [0; 512];
        while n > 0 {
            let k = n.min(ZEROS.len() as u64) as usize;
            self.bytes(&ZEROS[..k])?;
            n -= k as u64;
        }
        Ok(())
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

    pub(super) fn u64(&mut self, value: u64) -> Result<(), DumpError> {
        self.bytes(&value.to_le_bytes())
    }

    /// A `MINIDUMP_STRING` at `offset`: its length in bytes, the UTF-16 units, and a NUL the
    /// length does not count, as dbghelp writes it ([`string_size`] bytes). Unpaired
    /// surrogates become U+FFFD (one unit for one, so the size stays): readers reject a string
    /// that is not valid UTF-16, and with it the whole stream it belongs to.
    pub(super) fn string(&mut self, offset: u64, units: &[u16]) -> Result<(), DumpError> {
        self.at(offset)?;
        self.u32((units.len() * 2) as u32)?;
        for unit in char::decode_utf16(units.iter().copied()) {
            let c = unit.unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut pair = [0u16; 2];
            for u in c.encode_utf16(&mut pair) {
                self.bytes(&u.to_le_bytes())?;
            }
        }
        self.bytes(&[0, 0])
    }

    /// Flushes everything to the destination and returns the dump's size.
    pub(super) fn finish(mut self) -> Result<u64, DumpError> {
        self.out.flush()?;
        Ok(self.offset)
    }

    /// Ends a dump that failed: what is still buffered is dropped, not written (the
    /// destination has received a prefix of the dump, and no more).
    pub(super) fn abandon(self) {
        let (_, _unwritten) = self.out.into_parts();
    }
}

/// The bytes a `MINIDUMP_STRING` of `units` takes: length, units, NUL.
pub(super) fn string_size(units: &[u16]) -> u64 {
    4 + 2 * units.len() as u64 + 2
}

/// Assigns offsets: the next object of `size` bytes aligned to `align` goes where
/// [`place`](Self::place) says. The layout and the writer both walk the same sequence.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cursor {
    pub offset: u64,
}

impl Cursor {
    pub(super) fn at(offset: u64) -> Self {
        Self { offset }
    }

    /// The offset of the next object of `size` bytes aligned to `align`; moves past it.
    pub(super) fn place(&mut self, align: u64, size: u64) -> u64 {
        let at = self.offset.next_multiple_of(align);
        self.offset = at + size;
        at
    }
}

/// An offset as the format's 32-bit RVA; beyond 4 GiB, [`DumpError::TooLarge`] at `part`
/// with the `stack_bytes` the dump plans.
pub(super) fn rva(offset: u64, part: &'static str, stack_bytes: u64) -> Result<u32, DumpError> {
    u32::try_from(offset).map_err(|_| DumpError::TooLarge { part, stack_bytes })
}
