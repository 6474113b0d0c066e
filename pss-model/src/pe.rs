//! PE images in a model process's memory: the headers an image region holds by default, their
//! CodeView record, and how a reader (the model's dbghelp) finds that record again.
//!
//! An image region ([`RegionSpec::image`](super::RegionSpec::image)) starts with the headers a
//! linker writes, all inside its first page: a DOS header (`MZ`, `e_lfanew` = `0x80`), `PE\0\0`,
//! an `IMAGE_FILE_HEADER` for the host's machine ([`PE_MACHINE`]; x86's for the 32-bit images
//! of a WOW64 process, [`RegionSpec::image_x86`](super::RegionSpec::image_x86)) with the region's
//! `TimeDateStamp`, an optional header (PE32+ for 64-bit machines, PE32 for x86) whose
//! `ImageBase`, `SizeOfImage` and `CheckSum` are the region's [`ImageInfo`], one section header
//! (`.text` at RVA `0x1000`), and data directory 6 (debug) pointing at an
//! `IMAGE_DEBUG_DIRECTORY` (RVA [`DEBUG_DIRECTORY_RVA`]) of type CodeView whose record, a PDB 7.0
//! `RSDS` record, is at RVA [`CODEVIEW_RVA`]. Symbol servers and stack walkers identify a module
//! by that record (GUID and age) and by `TimeDateStamp` and `SizeOfImage`.

use super::data::ImageInfo;
use super::le::{LeBuf, u16_at, u32_at};
use std::fmt;

/// `IMAGE_FILE_HEADER.Machine` of the model's images: the host's architecture (x86_64
/// `0x8664`, x86 `0x14C`, aarch64 `0xAA64`), as the model has no bitness of its own.
pub const PE_MACHINE: u16 = if cfg!(target_arch = "x86") {
    0x014C
} else if cfg!(target_arch = "aarch64") {
    0xAA64
} else {
    0x8664
};

/// Where the image's `IMAGE_DEBUG_DIRECTORY` is (an RVA: bytes from the image base).
pub const DEBUG_DIRECTORY_RVA: usize = 0x200;

/// Where the image's CodeView (`RSDS`) record is (an RVA).
pub const CODEVIEW_RVA: usize = 0x220;

/// The longest PDB file name (UTF-8 bytes, without its NUL) whose record still fits in the
/// image's first page.
pub const MAX_PDB_NAME: usize = PAGE - CODEVIEW_RVA - CODEVIEW_FIXED - 1;

const PAGE: usize = 0x1000;
const E_LFANEW: usize = 0x80;
const FILE_HEADER: usize = E_LFANEW + 4;
const OPTIONAL_HEADER: usize = FILE_HEADER + 20;
/// `IMAGE_FILE_MACHINE_I386`: the one machine whose images the model writes as PE32.
const MACHINE_I386: u16 = 0x014C;
const TEXT_RVA: usize = 0x1000;
/// `RSDS`, GUID and age: the record's bytes before the PDB name.
const CODEVIEW_FIXED: usize = 4 + 16 + 4;
const RSDS: u32 = 0x5344_5352;
const IMAGE_DEBUG_TYPE_CODEVIEW: u32 = 2;
const DEBUG_DIRECTORY_SIZE: usize = 28;
const IMAGE_DIRECTORY_ENTRY_DEBUG: usize = 6;
/// A reader's bound on a record's claimed size (real ones are a few hundred bytes).
const MAX_CODEVIEW: usize = 0x1_0000;

/// Where the optional header keeps `NumberOfRvaAndSizes` and the data directories, by magic.
fn directory_offsets(magic: u16) -> Option<(usize, usize)> {
    match magic {
        0x20B => Some((108, 112)),
        0x10B => Some((92, 96)),
        _ => None,
    }
}

/// A GUID as PE debug directories and minidumps store it: `Data1`, `Data2`, `Data3` little-endian,
/// then `Data4`'s eight bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guid {
    /// `Data1`.
    pub data1: u32,
    /// `Data2`.
    pub data2: u16,
    /// `Data3`.
    pub data3: u16,
    /// `Data4`.
    pub data4: [u8; 8],
}

impl Guid {
    /// The 16 bytes as stored.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&self.data1.to_le_bytes());
        bytes[4..6].copy_from_slice(&self.data2.to_le_bytes());
        bytes[6..8].copy_from_slice(&self.data3.to_le_bytes());
        bytes[8..].copy_from_slice(&self.data4);
        bytes
    }

    /// The GUID whose stored bytes are `bytes`.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        let [a, b, c, d, e, f, g, h, data4 @ ..] = bytes;
        Self {
            data1: u32::from_le_bytes([a, b, c, d]),
            data2: u16::from_le_bytes([e, f]),
            data3: u16::from_le_bytes([g, h]),
            data4,
        }
    }
}

/// The registry form, `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` without the braces.
impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.data4;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-",
            self.data1, self.data2, self.data3, d[0], d[1]
        )?;
        d[2..].iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

/// A PDB 7.0 CodeView record (`RSDS`): which PDB holds an image's symbols.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeView {
    /// The PDB's signature.
    pub guid: Guid,
    /// The PDB's age (how often it was rewritten with the same signature).
    pub age: u32,
    /// The PDB's file name, as the linker recorded it (a path or a bare name).
    pub pdb: String,
}

impl CodeView {
    /// The debug identifier symbol servers and Breakpad use: the GUID's 32 hex digits
    /// (uppercase, `Data1`..`Data4` in that order) and the age in lowercase hex, e.g.
    /// `8F3A...21` for age `0x21`. rust-minidump's `Module::debug_identifier()` shows the same
    /// with `.breakpad()`.
    pub fn debug_identifier(&self) -> String {
        let g = self.guid;
        let data4: String = g.data4.iter().map(|b| format!("{b:02X}")).collect();
        format!(
            "{:08X}{:04X}{:04X}{data4}{:x}",
            g.data1, g.data2, g.data3, self.age
        )
    }

    /// The record as the image stores it: `RSDS`, the GUID, the age, the PDB name and a NUL.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(CODEVIEW_FIXED + self.pdb.len() + 1);
        bytes.extend_from_slice(&RSDS.to_le_bytes());
        bytes.extend_from_slice(&self.guid.to_bytes());
        bytes.extend_from_slice(&self.age.to_le_bytes());
        bytes.extend_from_slice(self.pdb.as_bytes());
        bytes.push(0);
        bytes
    }
}

/// The file name of a path (`\Device\HarddiskVolume3\Windows\System32\ntdll.dll` →
/// `ntdll.dll`).
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// The CodeView record an image named `name` (a path or a file name) holds unless its region
/// says otherwise ([`RegionSpec::codeview`](super::RegionSpec::codeview)): a GUID hashed from
/// its file name (case-insensitive, so every process agrees on `KERNEL32.DLL` and
/// `kernel32.dll`), age 1, and the file's stem with `.pdb` (`ntdll.dll` → `ntdll.pdb`), cut to
/// [`MAX_PDB_NAME`] bytes.
pub fn codeview_of(name: &str) -> CodeView {
    let file = file_name(name);
    let lower = file.to_lowercase();
    let first = fnv1a(lower.as_bytes(), 0xCBF2_9CE4_8422_2325);
    let second = fnv1a(lower.as_bytes(), first ^ 0x9E37_79B9_7F4A_7C15);
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&first.to_le_bytes());
    bytes[8..].copy_from_slice(&second.to_le_bytes());
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let mut pdb = format!("{stem}.pdb");
    if pdb.len() > MAX_PDB_NAME {
        let mut end = MAX_PDB_NAME;
        while !pdb.is_char_boundary(end) {
            end -= 1;
        }
        pdb.truncate(end);
    }
    CodeView {
        guid: Guid::from_bytes(bytes),
        age: 1,
        pdb,
    }
}

/// FNV-1a, 64-bit: a fixed, documented hash (std's hashers may change between releases).
fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    bytes.iter().fold(seed, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A lie an image's headers tell ([`RegionSpec::malformed_pe`](super::RegionSpec::malformed_pe)):
/// what a reader of hostile or corrupt memory must survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeFault {
    /// `e_lfanew` points far outside the region (`0x7FFF_FFF0`): there are no NT headers.
    LfanewOutside,
    /// Data directory 6 (debug) points past the end of the region.
    DebugDirectoryOutside,
    /// The CodeView record is cut after 16 bytes (`SizeOfData` 16): signature and part of the
    /// GUID, no age, no name.
    TruncatedCodeView,
}

/// The entry point's RVA the model gives an image of `size` bytes (in its `.text` section; none
/// for an image without one).
pub(crate) fn entry_point_rva(size: usize) -> usize {
    if size > TEXT_RVA { TEXT_RVA + 0x10 } else { 0 }
}

/// The first bytes of an image region of `size` bytes named `name` for `machine`: its headers,
/// debug directory and CodeView record as described in the module docs, with `fault` if any
/// (cut to `size`, so a region smaller than its headers holds them truncated).
pub(crate) fn headers(
    size: usize,
    name: &str,
    info: &ImageInfo,
    codeview: &CodeView,
    fault: Option<PeFault>,
    machine: u16,
) -> Vec<u8> {
    // PE32+ for 64-bit machines, PE32 for x86.
    let pe32_plus = machine != MACHINE_I386;
    let optional_header_size: usize = if pe32_plus { 0xF0 } else { 0xE0 };
    let dll = file_name(name).to_lowercase().ends_with(".dll");
    let mut b = LeBuf::default();
    b.bytes(0, b"MZ");
    let lfanew = match fault {
        Some(PeFault::LfanewOutside) => 0x7FFF_FFF0,
        _ => E_LFANEW as u32,
    };
    b.u32(0x3C, lfanew);
    b.bytes(E_LFANEW, b"PE\0\0");
    let f = FILE_HEADER;
    b.u16(f, machine);
    b.u16(f + 2, 1); // one section
    b.u32(f + 4, info.time_date_stamp);
    b.u16(f + 16, optional_header_size as u16);
    // EXECUTABLE_IMAGE, with LARGE_ADDRESS_AWARE (64-bit) or 32BIT_MACHINE, and DLL.
    let characteristics =
        0x0002 | if pe32_plus { 0x0020 } else { 0x0100 } | if dll { 0x2000 } else { 0 };
    b.u16(f + 18, characteristics);

    let o = OPTIONAL_HEADER;
    let code = size.saturating_sub(TEXT_RVA) as u32;
    b.u16(o, if pe32_plus { 0x20B } else { 0x10B });
    b.u8(o + 2, 14); // linker 14.38
    b.u8(o + 3, 38);
    b.u32(o + 4, code); // SizeOfCode
    b.u32(o + 16, entry_point_rva(size) as u32);
    b.u32(o + 20, TEXT_RVA as u32); // BaseOfCode
    if pe32_plus {
        b.u64(o + 24, info.image_base as u64);
    } else {
        b.u32(o + 28, info.image_base as u32);
    }
    b.u32(o + 32, PAGE as u32); // SectionAlignment
    b.u32(o + 36, 0x200); // FileAlignment
    b.u16(o + 40, 10); // OS 10.0
    b.u16(o + 48, 10); // subsystem 10.0
    b.u32(o + 56, info.size_of_image);
    b.u32(o + 60, 0x400); // SizeOfHeaders
    b.u32(o + 64, info.checksum);
    b.u16(o + 68, 3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
    b.u16(o + 70, 0x8160); // DYNAMIC_BASE, NX_COMPAT, HIGH_ENTROPY_VA, TERMINAL_SERVER_AWARE
    let (count_at, directories) =
        directory_offsets(if pe32_plus { 0x20B } else { 0x10B }).expect("a known magic");
    b.u32(o + count_at, 16);
    let debug = o + directories + 8 * IMAGE_DIRECTORY_ENTRY_DEBUG;
    let debug_rva = match fault {
        Some(PeFault::DebugDirectoryOutside) => u32::try_from(size)
            .unwrap_or(u32::MAX - 0x1000)
            .saturating_add(0x1000),
        _ => DEBUG_DIRECTORY_RVA as u32,
    };
    b.u32(debug, debug_rva);
    b.u32(debug + 4, DEBUG_DIRECTORY_SIZE as u32);

    let s = OPTIONAL_HEADER + optional_header_size;
    b.bytes(s, b".text\0\0\0");
    b.u32(s + 8, code); // VirtualSize
    b.u32(s + 12, TEXT_RVA as u32);
    b.u32(s + 16, code.next_multiple_of(0x200)); // SizeOfRawData
    b.u32(s + 20, 0x400); // PointerToRawData
    b.u32(s + 36, 0x6000_0020); // CODE, EXECUTE, READ

    let mut record = codeview.to_bytes();
    if fault == Some(PeFault::TruncatedCodeView) {
        record.truncate(16);
    }
    let d = DEBUG_DIRECTORY_RVA;
    b.u32(d + 4, info.time_date_stamp);
    b.u32(d + 12, IMAGE_DEBUG_TYPE_CODEVIEW);
    b.u32(d + 16, record.len() as u32); // SizeOfData
    b.u32(d + 20, CODEVIEW_RVA as u32); // AddressOfRawData
    b.u32(d + 24, CODEVIEW_RVA as u32); // PointerToRawData: file offsets equal RVAs here
    b.bytes(CODEVIEW_RVA, &record);

    let mut bytes = b.0;
    bytes.truncate(size);
    bytes
}

/// What a reader finds in an image's headers.
#[derive(Debug)]
pub(crate) struct PeFacts {
    pub(crate) time_date_stamp: u32,
    pub(crate) size_of_image: u32,
    pub(crate) checksum: u32,
    /// The CodeView record's bytes, when the debug directory leads to a whole `RSDS` record.
    pub(crate) codeview: Option<Vec<u8>>,
}

/// Reads an image's headers through `read(rva, len)` (bytes of the image, `None` where they
/// cannot be read), trusting nothing: `None` if there are no NT headers with a known optional
/// header; facts without a CodeView record if the debug directory is absent, outside the image
/// or leads to anything but a whole `RSDS` record with its NUL-terminated name.
pub(crate) fn read_headers(read: &dyn Fn(usize, usize) -> Option<Vec<u8>>) -> Option<PeFacts> {
    let dos = read(0, 0x40)?;
    if !dos.starts_with(b"MZ") {
        return None;
    }
    let lfanew = u32_at(&dos, 0x3C)? as usize;
    let nt = read(lfanew, 24)?;
    if !nt.starts_with(b"PE\0\0") {
        return None;
    }
    let time_date_stamp = u32_at(&nt, 8)?;
    let optional_size = u16_at(&nt, 20)? as usize;
    let optional = read(lfanew.checked_add(24)?, optional_size)?;
    let (count_at, directories) = directory_offsets(u16_at(&optional, 0)?)?;
    let mut facts = PeFacts {
        time_date_stamp,
        size_of_image: u32_at(&optional, 56)?,
        checksum: u32_at(&optional, 64)?,
        codeview: None,
    };
    let count = u32_at(&optional, count_at)? as usize;
    if count > IMAGE_DIRECTORY_ENTRY_DEBUG {
        let at = directories + 8 * IMAGE_DIRECTORY_ENTRY_DEBUG;
        if let (Some(rva), Some(size)) = (u32_at(&optional, at), u32_at(&optional, at + 4)) {
            facts.codeview = codeview_record(read, rva as usize, size as usize);
        }
    }
    Some(facts)
}

/// The first CodeView entry of the debug directory at `rva` (`size` bytes), if whole.
fn codeview_record(
    read: &dyn Fn(usize, usize) -> Option<Vec<u8>>,
    rva: usize,
    size: usize,
) -> Option<Vec<u8>> {
    let entries = size / DEBUG_DIRECTORY_SIZE;
    for i in 0..entries.min(16) {
        let entry = read(
            rva.checked_add(i * DEBUG_DIRECTORY_SIZE)?,
            DEBUG_DIRECTORY_SIZE,
        )?;
        if u32_at(&entry, 12)? != IMAGE_DEBUG_TYPE_CODEVIEW {
            continue;
        }
        let length = u32_at(&entry, 16)? as usize;
        let at = u32_at(&entry, 20)? as usize;
        if !(CODEVIEW_FIXED + 1..=MAX_CODEVIEW).contains(&length) {
            return None;
        }
        let record = read(at, length)?;
        let whole = u32_at(&record, 0)? == RSDS && record[CODEVIEW_FIXED..].contains(&0);
        return whole.then_some(record);
    }
    None
}
