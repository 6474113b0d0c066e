//! The dump's own stream, [`DUMP_INFO_STREAM`]: what a reader needs to trust a dump written
//! forward into a stream: the size the complete dump has (a shorter one was cut off), and the
//! memory written as zeros because it could not be read when it was written (a table at the
//! very end of the dump, filled in as the memory is written).

use std::io::Write;

use super::file::DumpFile;
use super::{DumpError, DumpSummary, Omission, Profile};

/// The stream type of the dump information stream `pss` adds to every dump it writes (a user
/// stream, above `LastReservedStream`: "PS", 1).
///
/// Little-endian, 40 bytes:
///
/// | offset | field | |
/// |---:|---|---|
/// | 0 | `u32` size of this header | 40 |
/// | 4 | `u32` version | 1 |
/// | 8 | `u64` dump size | the bytes of the complete dump: a dump that has fewer was cut off (a failed or cancelled write) |
/// | 16 | `u64` unread table offset | from the start of the dump (64-bit: it is the dump's last bytes) |
/// | 24 | `u32` unread table capacity | entries it has room for (32) |
/// | 28 | `u32` size of an unread entry | 16 |
/// | 32 | `u32` profile | 0 small, 1 referenced, 2 plus, 3 full |
/// | 36 | `u32` flags | 1: [`max_bytes`](super::DumpWriter::max_bytes) left something out; 2: a [`Redaction`](super::Redaction) policy was applied |
///
/// The unread table: `u32` count of entries in use, `u32` flags (1: more ranges failed than
/// the table holds, and the last entry spans all of the rest, with any bytes read between
/// them), then `capacity` entries of `u64` address and `u64` size, unused ones zero. Every byte
/// of the memory lists that the plan counted readable but that could not be read when written
/// is zero in the dump and inside an entry; [`DumpInfo::read`] reads both.
pub const DUMP_INFO_STREAM: u32 = 0x5053_0001;

/// The stream's size.
pub(super) const STREAM_SIZE: u64 = 40;
/// Entries the unread table has room for.
const CAPACITY: usize = 32;
/// The unread table's size.
pub(super) const TABLE_SIZE: u64 = 8 + 16 * CAPACITY as u64;

/// The flags of the stream.
pub(super) const FLAG_OVER_BUDGET: u32 = 1;
pub(super) const FLAG_REDACTED: u32 = 2;

/// Memory written as zeros because it could not be read.
#[derive(Debug, Default)]
pub(super) struct Unread {
    entries: Vec<(u64, u64)>,
    overflowed: bool,
    /// Every range, for the summary (adjacent ones joined).
    all: Vec<(usize, usize)>,
}

impl Unread {
    /// Records `size` bytes at `address` written as zeros.
    pub(super) fn add(&mut self, address: usize, size: usize) {
        match self.all.last_mut() {
            Some((a, s)) if *a + *s == address => *s += size,
            _ => self.all.push((address, size)),
        }
        let (address, size) = (address as u64, size as u64);
        let full = self.entries.len() == CAPACITY;
        match self.entries.last_mut() {
            Some((a, s)) if *a + *s == address => *s += size,
            Some((a, s)) if full => {
                *s = (address + size).saturating_sub(*a);
                self.overflowed = true;
            }
            _ => self.entries.push((address, size)),
        }
    }

    /// Names every range in the summary.
    pub(super) fn report(&self, summary: &mut DumpSummary) {
        summary.omissions.extend(
            self.all
                .iter()
                .map(|&(address, size)| Omission::ZeroFilled { address, size }),
        );
    }
}

/// What [`DUMP_INFO_STREAM`] says.
pub(super) struct Info {
    pub dump_size: u64,
    pub table: u64,
    pub profile: Profile,
    pub flags: u32,
}

fn profile_code(profile: Profile) -> u32 {
    match profile {
        Profile::Small => 0,
        Profile::Referenced => 1,
        Profile::Plus => 2,
        Profile::Full => 3,
    }
}

/// Writes the stream at `offset`.
pub(super) fn write_stream<W: Write>(
    file: &mut DumpFile<'_, W>,
    offset: u64,
    info: &Info,
) -> Result<(), DumpError> {
    file.at(offset)?;
    file.u32(STREAM_SIZE as u32)?;
    file.u32(1)?;
    file.u64(info.dump_size)?;
    file.u64(info.table)?;
    file.u32(CAPACITY as u32)?;
    file.u32(16)?;
    file.u32(profile_code(info.profile))?;
    file.u32(info.flags)
}

/// Writes the unread table at `offset`: the dump's last bytes.
pub(super) fn write_table<W: Write>(
    file: &mut DumpFile<'_, W>,
    offset: u64,
    unread: &Unread,
) -> Result<(), DumpError> {
    file.step()?;
    file.at(offset)?;
    file.u32(unread.entries.len() as u32)?;
    file.u32(u32::from(unread.overflowed))?;
    for &(address, size) in &unread.entries {
        file.u64(address)?;
        file.u64(size)?;
    }
    file.zeros(16 * (CAPACITY - unread.entries.len()) as u64)
}

/// What a dump written by `pss` says about itself in its [`DUMP_INFO_STREAM`]: how large the
/// complete dump is, and which memory it holds as zeros because it could not be read when it
/// was written.
///
/// ```no_run,standalone_crate
/// # fn f(bytes: &[u8]) {
/// match pss::DumpInfo::read(bytes) {
///     Some(info) if info.is_complete() => {
///         for (address, size) in &info.unread {
///             eprintln!("{size} bytes at {address:#x} are zeros: they could not be read");
///         }
///     }
///     Some(info) => eprintln!("cut off: {} of {} bytes", bytes.len(), info.dump_size),
///     None => eprintln!("not a dump written by pss"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpInfo {
    /// The bytes of the complete dump.
    pub dump_size: u64,
    /// The bytes read: fewer than `dump_size` means the dump was cut off.
    pub bytes: u64,
    /// The profile it was written with.
    pub profile: Profile,
    /// [`max_bytes`](super::DumpWriter::max_bytes) left something out.
    pub over_budget: bool,
    /// A [`Redaction`](super::Redaction) policy was applied.
    pub redacted: bool,
    /// (address, size) of the memory written as zeros because it could not be read; empty
    /// when the table is beyond the bytes read.
    pub unread: Vec<(u64, u64)>,
}

impl DumpInfo {
    /// Reads the [`DUMP_INFO_STREAM`] of the dump `bytes` (the dump from its first byte; all of
    /// it, to read the unread table at its end). `None` if `bytes` is not a minidump or has no
    /// such stream (not written by `pss`).
    pub fn read(bytes: &[u8]) -> Option<Self> {
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(
                bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
            ))
        };
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
            ))
        };
        if u32_at(0)? != minidump_common::format::MINIDUMP_SIGNATURE {
            return None;
        }
        // Offsets come from the bytes: every sum is checked (32-bit hosts).
        let at = |base: usize, offset: usize| base.checked_add(offset);
        let (count, directory) = (u32_at(8)? as usize, u32_at(12)? as usize);
        let stream = (0..count.min(0x1_0000)).find_map(|i| {
            let entry = at(directory, 12 * i)?;
            (u32_at(entry)? == DUMP_INFO_STREAM).then_some(u32_at(at(entry, 8)?)? as usize)
        })?;
        if u32_at(stream)? < STREAM_SIZE as u32 {
            return None;
        }
        let (dump_size, table) = (u64_at(at(stream, 8)?)?, u64_at(at(stream, 16)?)?);
        let profile = match u32_at(at(stream, 32)?)? {
            0 => Profile::Small,
            1 => Profile::Referenced,
            2 => Profile::Plus,
            _ => Profile::Full,
        };
        let flags = u32_at(at(stream, 36)?)?;
        let mut unread = Vec::new();
        if let Some(table) = usize::try_from(table).ok().filter(|&t| t < bytes.len()) {
            let used = u32_at(table).unwrap_or(0) as usize;
            for i in 0..used.min(CAPACITY) {
                let entry = at(table, 8 + 16 * i);
                let address = entry.and_then(u64_at);
                let size = entry.and_then(|e| at(e, 8)).and_then(u64_at);
                if let (Some(address), Some(size)) = (address, size) {
                    unread.push((address, size));
                }
            }
        }
        Some(Self {
            dump_size,
            bytes: bytes.len() as u64,
            profile,
            over_budget: flags & FLAG_OVER_BUDGET != 0,
            redacted: flags & FLAG_REDACTED != 0,
            unread,
        })
    }

    /// Whether the dump was read whole: as many bytes as the complete dump has. A dump whose
    /// write failed or was cancelled has fewer.
    pub fn is_complete(&self) -> bool {
        self.bytes == self.dump_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_joins_neighbours_and_spans_what_does_not_fit() {
        let mut unread = Unread::default();
        unread.add(0x1000, 0x1000);
        unread.add(0x2000, 0x1000);
        assert_eq!(unread.entries, [(0x1000, 0x2000)]);
        for i in 0..CAPACITY + 4 {
            unread.add(0x10_0000 + 0x2000 * i, 0x1000);
        }
        assert_eq!(unread.entries.len(), CAPACITY);
        assert!(unread.overflowed);
        let last = unread.entries[CAPACITY - 1];
        assert_eq!(
            last.0 + last.1,
            (0x10_0000 + 0x2000 * (CAPACITY + 3) + 0x1000) as u64,
            "the last entry reaches the end of the last range"
        );
        assert_eq!(unread.all.len(), CAPACITY + 5);
    }

    #[test]
    fn reading_the_stream_from_hostile_bytes_never_panics() {
        let mut header = Vec::new();
        header.extend_from_slice(&minidump_common::format::MINIDUMP_SIGNATURE.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        for (count, directory) in [(1u32, u32::MAX), (u32::MAX, 32), (1, 20), (2, 0)] {
            let mut bytes = header.clone();
            bytes.extend_from_slice(&count.to_le_bytes());
            bytes.extend_from_slice(&directory.to_le_bytes());
            bytes.resize(64, 0);
            // An entry of our stream whose offset lies anywhere.
            bytes[32..36].copy_from_slice(&DUMP_INFO_STREAM.to_le_bytes());
            for rva in [u32::MAX, u32::MAX - 8, 44, 0] {
                bytes[40..44].copy_from_slice(&rva.to_le_bytes());
                let _ = DumpInfo::read(&bytes);
            }
        }
        assert_eq!(DumpInfo::read(&[]), None);
        assert_eq!(DumpInfo::read(b"MDMP"), None);
    }
}
