//! Hostile entries ([`ProcessSpec::hostile`](super::ProcessSpec::hostile)): after a walk step
//! writes an ordinary entry, the entry is rewritten into one of a fixed cycle of legal-looking
//! but hostile shapes, chosen by its index. Every buffer a hostile entry points to is its own
//! allocation of exactly the length the entry gives it (one byte more for a misaligned one,
//! which starts one byte in), so a read past a length is a read past an allocation, which Miri
//! reports. Pointers no flag vouches for point to no memory at all.
//!
//! | class | index mod | shape |
//! |---|---|---|
//! | handles | 0 | `TypeName` of an odd byte count (11: five units and a half) |
//! | | 1 | `HAVE_NAME` with a NULL `ObjectName` and a length of 10 |
//! | | 2 | `TypeName` and `ObjectName` of length 0 (pointers to one byte) |
//! | | 3 | `ObjectName` of 32,767 units, no NUL |
//! | | 4 | `ObjectName` with unpaired surrogates and two counted NULs |
//! | | 5 | `TypeName` without its NUL, misaligned by one byte |
//! | | 6 | every `HAVE_*` flag and unknown bits, `ObjectType` 77, no names |
//! | | 7 | no flags, but name pointers to unmapped addresses (one misaligned) with lengths |
//! | threads | 0 | an 8-byte context record |
//! | | 1 | a whole `CONTEXT`, misaligned by 8 |
//! | | 2 | a NULL `ContextRecord` with a `CONTEXT`'s size |
//! | | 3 | a non-NULL `ContextRecord` of size 0 |
//! | | 4 | unknown flag bits, terminated but `STILL_ACTIVE`, every time at its maximum |
//! | | 5 | a record whose `ContextFlags` claim every register |
//! | regions | 0 | size 0 at the top of the address space |
//! | | 1 | a NULL `MappedFileName` with a length of 20 |
//! | | 2 | a `MappedFileName` of 5 bytes, misaligned by one byte |
//! | | 3 | `MEM_IMAGE` without image values; unknown state, type and protection bits |
//! | auxiliary pages | 0 | NULL `PageContents` with a `PageSize` of 4096 |
//! | | 1 | non-NULL `PageContents` with a `PageSize` of 0 |
//! | | 2 | a region of size 0 with unknown state and type |

use super::walk::Marker;
use pss_sys::*;
use std::ffi::c_void;

/// An address with no memory behind it, for pointers no flag vouches for.
const UNMAPPED: usize = 0x10;

fn units(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

fn bytes_of(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

impl Marker {
    /// A marker-owned buffer holding exactly `bytes`, starting `misalign` bytes into its
    /// allocation (never NULL: an empty buffer is a one-byte allocation).
    fn exact(&mut self, bytes: &[u8], misalign: usize) -> Result<*mut u8, u32> {
        let block = self.alloc(bytes.len() + misalign)?;
        // SAFETY: the block has `bytes.len() + misalign` bytes (at least one).
        unsafe {
            let start = block.add(misalign);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
            Ok(start)
        }
    }

    /// Rewrites the entry the step just wrote into `buffer` into its hostile shape.
    pub(crate) fn make_hostile(
        &mut self,
        class: PSS_WALK_INFORMATION_CLASS,
        buffer: *mut c_void,
        index: usize,
    ) -> Result<(), u32> {
        // SAFETY: `buffer` holds the entry structure of `class` that this step wrote (the
        // caller checked its length and alignment), and nothing else refers to it.
        unsafe {
            match class {
                PSS_WALK_HANDLES => self.hostile_handle(&mut *buffer.cast(), index),
                PSS_WALK_THREADS => self.hostile_thread(&mut *buffer.cast(), index),
                PSS_WALK_VA_SPACE => self.hostile_region(&mut *buffer.cast(), index),
                PSS_WALK_THREAD_NAME => self.hostile_thread_name(&mut *buffer.cast(), index),
                _ => self.hostile_page(&mut *buffer.cast(), index),
            }
        }
    }

    fn hostile_handle(&mut self, e: &mut PSS_HANDLE_ENTRY, index: usize) -> Result<(), u32> {
        match index % 8 {
            0 => {
                let mut name = bytes_of(&units("Event"));
                name.push(b'!');
                e.TypeName = self.exact(&name, 0)?.cast();
                e.TypeNameLength = name.len() as u16;
                e.Flags |= PSS_HANDLE_HAVE_TYPE;
            }
            1 => {
                e.ObjectName = std::ptr::null();
                e.ObjectNameLength = 10;
                e.Flags |= PSS_HANDLE_HAVE_NAME;
            }
            2 => {
                e.TypeName = self.exact(&[], 0)?.cast();
                e.TypeNameLength = 0;
                e.ObjectName = self.exact(&[], 0)?.cast();
                e.ObjectNameLength = 0;
                e.Flags |= PSS_HANDLE_HAVE_TYPE | PSS_HANDLE_HAVE_NAME;
            }
            3 => {
                let name = [b'A', 0].repeat(32_767);
                e.ObjectName = self.exact(&name, 0)?.cast();
                e.ObjectNameLength = name.len() as u16;
                e.Flags |= PSS_HANDLE_HAVE_NAME;
            }
            4 => {
                let name = bytes_of(&[0x41, 0xD800, 0x42, 0xDC00, 0, 0]);
                e.ObjectName = self.exact(&name, 0)?.cast();
                e.ObjectNameLength = name.len() as u16;
                e.Flags |= PSS_HANDLE_HAVE_NAME;
            }
            5 => {
                let name = bytes_of(&units("Key"));
                e.TypeName = self.exact(&name, 1)?.cast();
                e.TypeNameLength = name.len() as u16;
                e.Flags |= PSS_HANDLE_HAVE_TYPE;
            }
            6 => {
                e.Flags = PSS_HANDLE_HAVE_TYPE
                    | PSS_HANDLE_HAVE_NAME
                    | PSS_HANDLE_HAVE_BASIC_INFORMATION
                    | PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION
                    | 0xF0;
                e.ObjectType = 77;
                e.TypeName = std::ptr::null();
                e.TypeNameLength = 0;
                e.ObjectName = std::ptr::null();
                e.ObjectNameLength = 0;
            }
            _ => {
                e.Flags = 0;
                e.TypeName = std::ptr::without_provenance(UNMAPPED + 1);
                e.TypeNameLength = 12;
                e.ObjectName = std::ptr::without_provenance(UNMAPPED);
                e.ObjectNameLength = 40;
            }
        }
        Ok(())
    }

    fn hostile_thread(&mut self, e: &mut PSS_THREAD_ENTRY, index: usize) -> Result<(), u32> {
        let context = size_of::<CONTEXT>();
        match index % 6 {
            0 => {
                e.ContextRecord = self.exact(&[0x5A; 8], 0)?.cast();
                e.SizeOfContextRecord = 8;
            }
            1 => {
                let record = super::data::context_record(context, !0, [1, 2, 3]);
                e.ContextRecord = self.exact(&record, 8)?.cast();
                e.SizeOfContextRecord = context as u16;
            }
            2 => {
                e.ContextRecord = std::ptr::null_mut();
                e.SizeOfContextRecord = context as u16;
            }
            3 => {
                e.ContextRecord = self.exact(&[], 0)?.cast();
                e.SizeOfContextRecord = 0;
            }
            4 => {
                e.Flags = PSS_THREAD_FLAGS_TERMINATED | 0xF0;
                e.ExitStatus = STILL_ACTIVE as u32;
                let max = FILETIME {
                    dwLowDateTime: u32::MAX,
                    dwHighDateTime: u32::MAX,
                };
                (
                    e.CreateTime,
                    e.ExitTime,
                    e.KernelTime,
                    e.UserTime,
                    e.CaptureTime,
                ) = (max, max, max, max, max);
            }
            _ => {
                let record = super::data::context_record(context, !0, [4, 5, 6]);
                e.ContextRecord = self.exact(&record, 0)?.cast();
                e.SizeOfContextRecord = context as u16;
            }
        }
        Ok(())
    }

    fn hostile_region(&mut self, e: &mut PSS_VA_SPACE_ENTRY, index: usize) -> Result<(), u32> {
        match index % 4 {
            0 => {
                e.BaseAddress = std::ptr::without_provenance_mut(usize::MAX - 0xFFF);
                e.RegionSize = 0;
            }
            1 => {
                e.MappedFileName = std::ptr::null();
                e.MappedFileNameLength = 20;
            }
            2 => {
                let name = [b'C', 0, b':', 0, b'\\'];
                e.MappedFileName = self.exact(&name, 1)?.cast();
                e.MappedFileNameLength = name.len() as u16;
            }
            _ => {
                e.Type = MEM_IMAGE;
                e.TimeDateStamp = 0;
                e.SizeOfImage = 0;
                e.ImageBase = std::ptr::null_mut();
                e.CheckSum = 0;
                e.State = 0x7777;
                e.Protect = 0xF000_0000;
                e.AllocationProtect = 0x0F00_0000;
                e.MappedFileName = std::ptr::null();
                e.MappedFileNameLength = 0;
            }
        }
        Ok(())
    }

    fn hostile_thread_name(&mut self, e: &mut PSS_THREAD_NAME, index: usize) -> Result<(), u32> {
        match index % 4 {
            // A NULL name that claims bytes.
            0 => {
                e.ThreadName = std::ptr::null();
                e.ThreadNameSize = 12;
            }
            // An odd byte count, in memory of exactly that size.
            1 => {
                let name = [b'w', 0, b'x'];
                e.ThreadName = self.exact(&name, 0)?.cast();
                e.ThreadNameSize = name.len() as u16;
            }
            // An unpaired surrogate, misaligned by one byte.
            2 => {
                let name = [0x00, 0xD8, b'a', 0];
                e.ThreadName = self.exact(&name, 1)?.cast();
                e.ThreadNameSize = name.len() as u16;
            }
            // The longest a name can claim, with a NUL counted at its end.
            _ => {
                let mut name = vec![b'n'; 0xFFFE];
                name[0xFFFC..].fill(0);
                for unit in name.chunks_mut(2).take(0x7FFE) {
                    unit[1] = 0;
                }
                e.ThreadName = self.exact(&name, 0)?.cast();
                e.ThreadNameSize = name.len() as u16;
            }
        }
        Ok(())
    }

    fn hostile_page(&mut self, e: &mut PSS_AUXILIARY_PAGE_ENTRY, index: usize) -> Result<(), u32> {
        match index % 3 {
            0 => {
                e.PageContents = std::ptr::null_mut();
                e.PageSize = 4096;
            }
            1 => {
                e.PageContents = self.exact(&[], 0)?.cast();
                e.PageSize = 0;
            }
            _ => {
                e.BasicInformation.RegionSize = 0;
                e.BasicInformation.State = 0x7777;
                e.BasicInformation.Type = 0x8888;
            }
        }
        Ok(())
    }
}
