//! What a module's entry needs from its PE image in the target's memory: `SizeOfImage`,
//! `CheckSum` and `TimeDateStamp` from the headers, and the CodeView record (PDB name, GUID,
//! age) the debug directory points at. Everything is read through the VA clone and checked
//! before use: the target's memory may hold anything.
//!
//! Layouts: [PE Format](https://learn.microsoft.com/en-us/windows/win32/debug/pe-format).

use crate::VaClone;

/// What the headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Headers {
    pub time_date_stamp: u32,
    pub checksum: u32,
    pub size_of_image: u32,
    /// The debug directory: its RVA and size (0 when there is none).
    pub debug_directory: (u32, u32),
}

/// The bytes of the headers read at once: the first page, where the linker puts them.
pub(super) const HEADER_BYTES: usize = 0x1000;

/// `IMAGE_DEBUG_TYPE_CODEVIEW`.
const DEBUG_TYPE_CODEVIEW: u32 = 2;
/// `IMAGE_DEBUG_DIRECTORY`'s size.
const DEBUG_DIRECTORY_ENTRY: usize = 28;
/// The debug directory entries looked at, at most (linkers write a handful).
const MAX_DEBUG_ENTRIES: usize = 32;
/// The largest CodeView record taken: a PDB 7.0 record with a path of `MAX_PATH` bytes is
/// 284; UTF-8 paths and long paths need more, but nothing sane needs 4 KiB.
const MAX_CODEVIEW: usize = 0x1000;
/// "RSDS" (PDB 7.0) and "NB10" (PDB 2.0), and the sizes of their fixed parts.
const RSDS: &[u8; 4] = b"RSDS";
const RSDS_FIXED: usize = 24;
const NB10: &[u8; 4] = b"NB10";
const NB10_FIXED: usize = 16;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Parses the DOS, PE and optional headers in `page` (the image's first bytes).
pub(super) fn headers(page: &[u8]) -> Result<Headers, &'static str> {
    if page.get(..2) != Some(b"MZ") {
        return Err("no DOS header (MZ)");
    }
    let pe = u32_at(page, 0x3C).ok_or("truncated DOS header")? as usize;
    if page.get(pe..pe.saturating_add(4)) != Some(b"PE\0\0") {
        return Err("no PE signature where e_lfanew points");
    }
    let file_header = pe + 4;
    let time_date_stamp = u32_at(page, file_header + 4).ok_or("truncated file header")?;
    let optional = file_header + 20;
    let magic = u16_at(page, optional).ok_or("truncated optional header")?;
    // PE32 (0x10B) or PE32+ (0x20B): the data directories start at 96 or 112.
    let (count_at, directories_at) = match magic {
        0x10B => (optional + 92, optional + 96),
        0x20B => (optional + 108, optional + 112),
        _ => return Err("unknown optional header magic"),
    };
    let size_of_image = u32_at(page, optional + 56).ok_or("truncated optional header")?;
    let checksum = u32_at(page, optional + 64).ok_or("truncated optional header")?;
    let count = u32_at(page, count_at).ok_or("truncated optional header")?;
    let debug_directory = if count > 6 {
        let at = directories_at + 6 * 8;
        (
            u32_at(page, at).ok_or("truncated data directories")?,
            u32_at(page, at + 4).ok_or("truncated data directories")?,
        )
    } else {
        (0, 0)
    };
    Ok(Headers {
        time_date_stamp,
        checksum,
        size_of_image,
        debug_directory,
    })
}

/// The address of `len` bytes at `rva` in an image mapped at `base` whose regions cover
/// `extent` bytes, or `None` when they do not lie wholly inside it. The RVAs come from the
/// target's headers, which may lie (an RVA beyond the image, a `SizeOfImage` of 4 GiB), so
/// they are checked against the extent of the image's regions in the snapshot, and every sum
/// is checked: a lie leads nowhere outside the image, and overflows nothing on 32-bit hosts.
pub(super) fn inside(base: usize, extent: usize, rva: u32, len: usize) -> Option<usize> {
    let rva = usize::try_from(rva).ok()?;
    let end = rva.checked_add(len)?;
    if end > extent {
        return None;
    }
    base.checked_add(rva)
}

/// The CodeView record of the image at `base`, whose regions cover `extent` bytes, read through
/// `clone`: its bytes, ready for the dump (a PDB 7.0 "RSDS" or 2.0 "NB10" record whose fixed
/// part is whole and whose name ends in a NUL), `Ok(None)` when the image has none, or what was
/// wrong. Every RVA must lie inside the image's regions (see [`inside`]).
pub(super) fn codeview(
    clone: &VaClone<'_>,
    base: usize,
    headers: &Headers,
    extent: usize,
) -> Result<Option<Vec<u8>>, &'static str> {
    let (rva, size) = headers.debug_directory;
    if rva == 0 || size == 0 {
        return Ok(None);
    }
    let entries = (size as usize / DEBUG_DIRECTORY_ENTRY).min(MAX_DEBUG_ENTRIES);
    let mut directory = [0u8; MAX_DEBUG_ENTRIES * DEBUG_DIRECTORY_ENTRY];
    let directory = &mut directory[..entries * DEBUG_DIRECTORY_ENTRY];
    let at = inside(base, extent, rva, directory.len())
        .ok_or("the debug directory lies outside the image")?;
    clone
        .read_exact(at, directory)
        .map_err(|_| "the debug directory cannot be read")?;
    let Some(entry) = directory
        .chunks_exact(DEBUG_DIRECTORY_ENTRY)
        .find(|e| u32_at(e, 12) == Some(DEBUG_TYPE_CODEVIEW))
    else {
        return Ok(None);
    };
    let (size, address) = (
        u32_at(entry, 16).unwrap_or(0) as usize,
        u32_at(entry, 20).unwrap_or(0),
    );
    if address == 0 || size > MAX_CODEVIEW {
        return Err("the CodeView record is missing or too large");
    }
    let at =
        inside(base, extent, address, size).ok_or("the CodeView record lies outside the image")?;
    let mut record = vec![0u8; size];
    clone
        .read_exact(at, &mut record)
        .map_err(|_| "the CodeView record cannot be read")?;
    let fixed = match record.get(..4) {
        Some(s) if s == RSDS => RSDS_FIXED,
        Some(s) if s == NB10 => NB10_FIXED,
        _ => return Err("the CodeView record has an unknown signature"),
    };
    // A whole fixed part and a NUL-terminated name after it, else readers misread it.
    let Some(nul) = record.iter().skip(fixed).position(|&b| b == 0) else {
        return Err("the CodeView record is truncated");
    };
    record.truncate(fixed + nul + 1);
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(magic: u16) -> Vec<u8> {
        let mut page = vec![0u8; 0x400];
        page[..2].copy_from_slice(b"MZ");
        page[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        page[0x80..0x84].copy_from_slice(b"PE\0\0");
        page[0x88..0x8C].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        let optional = 0x98;
        page[optional..optional + 2].copy_from_slice(&magic.to_le_bytes());
        page[optional + 56..optional + 60].copy_from_slice(&0x5000u32.to_le_bytes());
        page[optional + 64..optional + 68].copy_from_slice(&0xABCDu32.to_le_bytes());
        let (count, dirs) = if magic == 0x10B { (92, 96) } else { (108, 112) };
        page[optional + count..optional + count + 4].copy_from_slice(&16u32.to_le_bytes());
        let debug = optional + dirs + 48;
        page[debug..debug + 4].copy_from_slice(&0x200u32.to_le_bytes());
        page[debug + 4..debug + 8].copy_from_slice(&28u32.to_le_bytes());
        page
    }

    #[test]
    fn pe32_and_pe32_plus_headers_parse() {
        for magic in [0x10B, 0x20B] {
            assert_eq!(
                headers(&image(magic)),
                Ok(Headers {
                    time_date_stamp: 0x1234_5678,
                    checksum: 0xABCD,
                    size_of_image: 0x5000,
                    debug_directory: (0x200, 28),
                })
            );
        }
    }

    /// Issue 21's numbers: an image at 0x6000_0000 whose headers claim `SizeOfImage =
    /// 0xFFFF_FFFF` and a debug directory at RVA 0xA000_0000. Checked against the image's
    /// regions (0x1_0000 bytes), the RVA is outside; the sum that overflowed on 32-bit hosts is
    /// never made unchecked.
    #[test]
    fn rvas_are_checked_against_the_image_regions_with_checked_arithmetic() {
        let base = 0x6000_0000;
        assert_eq!(inside(base, 0x1_0000, 0xA000_0000, 28), None);
        assert_eq!(inside(base, 0x1_0000, 0x200, 28), Some(0x6000_0200));
        assert_eq!(inside(base, 0x1_0000, 0xFFE4, 28), Some(0x6000_FFE4));
        assert_eq!(
            inside(base, 0x1_0000, 0xFFE5, 28),
            None,
            "one byte past the end"
        );
        assert_eq!(inside(base, 0x1_0000, 0, usize::MAX), None);
        // Even an extent as large as the lie: the sum must not wrap (on 32-bit it would).
        let wraps = base.checked_add(0xA000_0000).is_none();
        assert_eq!(
            inside(base, usize::MAX, 0xA000_0000, 28).is_none(),
            wraps,
            "an address only where base + rva exists"
        );
        assert_eq!(inside(usize::MAX, usize::MAX, 1, 0), None);
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        assert!(headers(&[]).is_err());
        assert!(headers(b"MZ").is_err());
        let mut lying = image(0x20B);
        lying[0x3C..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(headers(&lying).is_err());
        let mut odd = image(0x20B);
        odd[0x98] = 0x77;
        assert_eq!(headers(&odd), Err("unknown optional header magic"));
        let full = image(0x20B);
        for len in 0..full.len() {
            let _ = headers(&full[..len]);
        }
    }
}
