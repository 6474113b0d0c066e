//! What `PssWalkSnapshot` returns, one type per walk class. Each is the raw entry structure,
//! held by value, plus a lifetime: its variable-length parts (strings, context records, page
//! contents) stay where kernel32 put them, in the walk marker's memory, and the accessors read
//! them there, only when asked. `into_owned` copies them into the entry's own allocation
//! ([`Kept`]) and points the structure at the copies.

use core::cell::RefCell;
use std::collections::BTreeMap;

mod aux_page;
mod handle;
mod region;
mod thread;
mod thread_name;

pub use aux_page::AuxiliaryPageEntry;
pub use handle::{
    EventObject, HandleBasicInformation, HandleEntry, HandleFlags, MutantObject, ObjectType,
    ProcessObject, SectionObject, SemaphoreObject, ThreadObject, TypeSpecific,
};
pub use region::{ImageInformation, VaSpaceEntry};
pub use thread::{ThreadEntry, ThreadFlags};
pub use thread_name::ThreadNameEntry;

/// A raw entry structure, held by value.
///
/// Its pointer fields are either addresses in the captured process (never dereferenced by
/// `pss`) or point to memory that never changes while the entry may read it: the walk
/// marker's read-only view for `'w`, or the entry's own [`Kept`] copies. Reading that memory
/// from several threads at once is fine, so the structure is plain data that any thread may
/// hold and read.
#[derive(Clone, Copy)]
pub(crate) struct RawEntry<T>(pub(crate) T);

/// Implements `Send` and `Sync` for `RawEntry` of exactly the five PSS entry structures, which
/// are plain data (see above); no other `T` gets them by accident.
macro_rules! plain_data_entries {
    ($($entry:ty),+) => {$(
        // SAFETY: see above: what the pointers reach is immutable while readable.
        unsafe impl Send for RawEntry<$entry> {}
        // SAFETY: as above; shared access only copies or reads the plain fields and that
        // immutable memory.
        unsafe impl Sync for RawEntry<$entry> {}
    )+};
}

plain_data_entries!(
    pss_sys::PSS_THREAD_ENTRY,
    pss_sys::PSS_HANDLE_ENTRY,
    pss_sys::PSS_VA_SPACE_ENTRY,
    pss_sys::PSS_AUXILIARY_PAGE_ENTRY,
    pss_sys::PSS_THREAD_NAME
);

/// What an entry keeps of its own, which says where its pointers point.
///
/// A borrowed entry keeps nothing (no allocation); its pointers point into the walk marker's
/// memory (or, for a misaligned name in a `for` loop's copy, to the walk's [`Copies`]). So an
/// entry with nothing kept has pointers that are NULL or valid for its `'w`, and an owned entry
/// has pointers that are NULL or valid while it lives.
#[derive(Default)]
pub(crate) enum Kept {
    /// Nothing: a borrowed entry, its pointers as kernel32 wrote them.
    #[default]
    Nothing,
    /// Nothing, and every name pointer (`u16` units) is aligned or NULL: the copy a `for` loop
    /// yields ([`Iterator::next`](crate::Entries)), whose misaligned names, if any, were first
    /// pointed to the walk's aligned [`Copies`]. Its name accessors need not test alignment,
    /// and, this variant being a constant there, the compiler drops their copying path from
    /// the loop.
    AlignedNames,
    /// The copies an owned entry keeps of its variable-length parts: one allocation, each part
    /// at a 16-byte boundary (a `CONTEXT` needs that alignment), which the entry's raw pointers
    /// point into. A `Vec`, not a `Box`: pointers into a `Vec`'s buffer stay valid when the
    /// `Vec` moves.
    Copies(Vec<Chunk>),
}

/// The unit of [`Kept`]'s allocation, for its alignment.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub(crate) struct Chunk([u8; 16]);

/// One part of an entry to copy: `len` bytes at `ptr`, or nothing for NULL.
pub(crate) struct Part {
    pub(crate) ptr: *const u8,
    pub(crate) len: usize,
}

impl Kept {
    /// True if nothing is kept: the entry borrows whatever its pointers point to.
    #[inline]
    pub(crate) fn is_borrowed(&self) -> bool {
        !matches!(self, Kept::Copies(_))
    }

    /// True if every name pointer of the entry is known to be aligned for `u16` (or NULL): a
    /// `for` loop's copy, or an owned entry (its copies are at 16-byte boundaries).
    #[inline]
    pub(crate) fn names_aligned(&self) -> bool {
        !matches!(self, Kept::Nothing)
    }

    /// What a copy of the structure of a borrowed entry keeps: nothing, and what this entry
    /// knows of its names.
    #[inline]
    pub(crate) fn borrowed_copy(&self) -> Kept {
        match self {
            Kept::AlignedNames => Kept::AlignedNames,
            Kept::Nothing | Kept::Copies(_) => Kept::Nothing,
        }
    }

    /// The start of the one allocation of an owned entry; NULL if there is none.
    fn start(&self) -> *const u8 {
        match self {
            Kept::Copies(chunks) if !chunks.is_empty() => chunks.as_ptr().cast(),
            _ => core::ptr::null(),
        }
    }

    /// Copies `parts` into one new allocation and returns it with each part's new address:
    /// NULL for a part that is NULL or empty (nothing to point to), or longer than any slice.
    ///
    /// # Safety
    ///
    /// Each part with a non-NULL pointer and a non-zero length points to `len` readable bytes.
    pub(crate) unsafe fn copy<const N: usize>(parts: [Part; N]) -> (Kept, [*const u8; N]) {
        let chunks = |len: usize| len.div_ceil(size_of::<Chunk>());
        let present =
            |part: &Part| !part.ptr.is_null() && part.len > 0 && part.len <= isize::MAX as usize;
        let total = parts
            .iter()
            .filter(|part| present(part))
            .map(|part| chunks(part.len))
            .sum();
        let mut chunks_kept = vec![Chunk([0; 16]); total];
        let mut offsets = [None; N];
        let mut next = 0;
        for (i, part) in parts.iter().enumerate() {
            if present(part) {
                let start = chunks_kept.as_mut_ptr().wrapping_add(next).cast::<u8>();
                // SAFETY: `part.len` readable bytes at `part.ptr` (the caller); `start` has
                // `chunks(part.len) * 16 >= part.len` writable bytes of the new allocation,
                // which no part overlaps.
                unsafe { core::ptr::copy_nonoverlapping(part.ptr, start, part.len) };
                offsets[i] = Some(next);
                next += chunks(part.len);
            }
        }
        // Addresses taken after the last write, from the buffer that the entry will own.
        let base = chunks_kept.as_ptr();
        let addresses =
            offsets.map(|offset| offset.map_or(core::ptr::null(), |o| base.wrapping_add(o).cast()));
        (Kept::Copies(chunks_kept), addresses)
    }
}

/// Aligned copies of misaligned names, kept by a walk for its whole life: where a `for` loop
/// ([`Iterator::next`](crate::Entries)) meets a name pointer that is not 2-byte aligned (never
/// seen from Windows, not excluded by the documents), the entry it yields points to a copy
/// here instead, so that every name it yields is aligned and its accessors borrow (and the
/// compiler, told so, drops their copying path from the loop). One copy per address and
/// length: the marker's memory does not change while the walk lives.
///
/// Each copy is a [`Kept`], whose buffer does not move when the map rebalances; nothing is
/// removed until the walk is dropped, after every entry borrowing it.
///
/// Allocated on the first copy, and dropped out of line: a walk that never copies pays one
/// test when it is dropped.
///
/// `pub` (in this private module, never re-exported) only because the sealed `WalkClass`
/// trait names it.
#[derive(Default)]
pub struct Copies(RefCell<Option<Box<CopyMap>>>);

/// The copies, by the address and byte length of the name copied.
type CopyMap = BTreeMap<(usize, usize), Kept>;

impl Drop for Copies {
    #[inline]
    fn drop(&mut self) {
        if let Some(copies) = self.0.get_mut().take() {
            drop_copies(copies);
        }
    }
}

/// Frees the copies (out of line: see [`Copies`]).
#[cold]
#[inline(never)]
fn drop_copies(copies: Box<CopyMap>) {
    drop(copies);
}

impl Copies {
    /// `name` itself if it is aligned for `u16` (NULL included); otherwise, for a name an
    /// accessor reads (`read`: its flag is set), the address of an aligned copy of its `bytes`
    /// bytes kept by `self` (NULL if it is empty), and NULL for one no accessor reads.
    ///
    /// # Safety
    ///
    /// If `read`, a non-NULL `name` points to `bytes` readable bytes that stay valid and
    /// unchanged while `self` lives.
    pub(crate) unsafe fn aligned(&self, read: bool, name: *const u16, bytes: u16) -> *const u16 {
        if name.is_aligned() {
            return name;
        }
        if !read {
            return core::ptr::null();
        }
        let part = Part {
            ptr: name.cast(),
            len: usize::from(bytes),
        };
        let mut copies = self.0.borrow_mut();
        let copies = copies.get_or_insert_with(Box::default);
        let kept = copies
            .entry((part.ptr.addr(), part.len))
            .or_insert_with(|| {
                // SAFETY: `bytes` readable bytes at `name` (the caller).
                unsafe { Kept::copy([part]) }.0
            });
        // One part, at the start of a buffer that never moves; none for an empty name.
        kept.start().cast()
    }
}

/// `into_owned` and `Clone` for an entry type with the fields `raw`, `kept` and `_marker` and a
/// `copy_parts(&self)` that copies its parts into a new owned entry: an entry that keeps its
/// parts already is moved or copied again; a borrowed one has them copied.
macro_rules! owned_entry {
    ($entry:ident, $into_owned:literal, $clone:literal) => {
        impl $entry<'_> {
            #[doc = $into_owned]
            #[must_use]
            pub fn into_owned(self) -> $entry<'static> {
                if self.kept.is_borrowed() {
                    self.copy_parts()
                } else {
                    $entry {
                        raw: self.raw,
                        kept: self.kept,
                        _marker: PhantomData,
                    }
                }
            }
        }

        #[doc = $clone]
        impl Clone for $entry<'_> {
            fn clone(&self) -> Self {
                if self.kept.is_borrowed() {
                    $entry {
                        raw: self.raw,
                        kept: self.kept.borrowed_copy(),
                        _marker: PhantomData,
                    }
                } else {
                    self.copy_parts()
                }
            }
        }
    };
}
pub(crate) use owned_entry;

/// `len` bytes at `ptr`, borrowed for `'a`; `None` for NULL or an empty record.
///
/// # Safety
///
/// Unless NULL, `ptr` must point to `len` readable bytes that stay valid and unchanged for
/// `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    // No valid slice is longer than `isize::MAX` bytes (reachable only through a kernel32 bug,
    // e.g. a `PageSize` above 2 GiB on 32-bit).
    if ptr.is_null() || len == 0 || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-null and `len` readable bytes valid for `'a` (the caller); `u8` needs no
    // alignment and has no invalid values.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six bytes, `"AB"` and a NUL, starting one byte into an aligned buffer.
    fn misaligned_name(buffer: &mut [u16; 4]) -> *const u16 {
        let bytes = buffer.as_mut_ptr().cast::<u8>();
        for (i, b) in [b'A', 0, b'B', 0, 0, 0].into_iter().enumerate() {
            // SAFETY: bytes 1..7 of the 8-byte buffer.
            unsafe { bytes.add(1 + i).write(b) };
        }
        bytes.wrapping_add(1).cast::<u16>().cast_const()
    }

    #[test]
    fn misaligned_names_are_copied_once_and_aligned() {
        let mut buffer = [0u16; 4];
        let name = misaligned_name(&mut buffer);
        assert!(!name.is_aligned());
        let copies = Copies::default();
        // SAFETY: six readable bytes at `name`, unchanged while `copies` lives.
        let copy = unsafe { copies.aligned(true, name, 6) };
        assert!(copy.is_aligned() && !copy.is_null());
        // SAFETY: the copy holds the six bytes, aligned, while `copies` lives.
        let units = unsafe { core::slice::from_raw_parts(copy, 3) };
        assert_eq!(units, [0x41, 0x42, 0]);
        // SAFETY: as above.
        let again = unsafe { copies.aligned(true, name, 6) };
        assert_eq!(again, copy, "one copy per name");
        // SAFETY: as above; four of the six bytes.
        let shorter = unsafe { copies.aligned(true, name, 4) };
        assert!(
            shorter.is_aligned() && shorter != copy,
            "another length, another copy"
        );
        // SAFETY: not read.
        let unread = unsafe { copies.aligned(false, name, 6) };
        assert!(unread.is_null(), "not read: NULL");
        // SAFETY: empty: nothing is read.
        let empty = unsafe { copies.aligned(true, name, 0) };
        assert!(empty.is_null(), "empty: NULL");
        let aligned = buffer.as_ptr();
        // SAFETY: aligned: returned as it is, nothing read.
        let same = unsafe { copies.aligned(true, aligned, 8) };
        assert_eq!(same, aligned);
        // SAFETY: NULL: returned as it is.
        let null = unsafe { copies.aligned(true, core::ptr::null(), 8) };
        assert!(null.is_null());
    }
}
