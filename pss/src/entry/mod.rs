//! What `PssWalkSnapshot` returns, one type per walk class. Each is the raw entry structure,
//! held by value, plus a lifetime: its variable-length parts (strings, context records, page
//! contents) stay where kernel32 put them, in the walk marker's memory, and the accessors read
//! them there, only when asked. `into_owned` copies them into the entry's own allocation
//! ([`Kept`]) and points the structure at the copies.

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

/// The copies an owned entry keeps of its variable-length parts: one allocation, each part at a
/// 16-byte boundary (a `CONTEXT` needs that alignment), which the entry's raw pointers point
/// into. A `Vec`, not a `Box`: pointers into a `Vec`'s buffer stay valid when the `Vec` moves.
///
/// A borrowed entry keeps nothing (an empty `Vec`, no allocation); its pointers point into the
/// walk marker's memory. So an entry with nothing kept has pointers that are NULL or valid for
/// its `'w`, and an owned entry has pointers that are NULL or valid while it lives.
#[derive(Default)]
pub(crate) struct Kept(Vec<Chunk>);

/// The unit of [`Kept`]'s allocation, for its alignment.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Chunk([u8; 16]);

/// One part of an entry to copy: `len` bytes at `ptr`, or nothing for NULL.
pub(crate) struct Part {
    pub(crate) ptr: *const u8,
    pub(crate) len: usize,
}

impl Kept {
    /// True if nothing is kept: the entry borrows whatever its pointers point to.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
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
        let mut kept = Kept(vec![Chunk([0; 16]); total]);
        let mut offsets = [None; N];
        let mut next = 0;
        for (i, part) in parts.iter().enumerate() {
            if present(part) {
                let start = kept.0.as_mut_ptr().wrapping_add(next).cast::<u8>();
                // SAFETY: `part.len` readable bytes at `part.ptr` (the caller); `start` has
                // `chunks(part.len) * 16 >= part.len` writable bytes of the new allocation,
                // which no part overlaps.
                unsafe { core::ptr::copy_nonoverlapping(part.ptr, start, part.len) };
                offsets[i] = Some(next);
                next += chunks(part.len);
            }
        }
        // Addresses taken after the last write, from the buffer that the entry will own.
        let base = kept.0.as_ptr();
        let addresses =
            offsets.map(|offset| offset.map_or(core::ptr::null(), |o| base.wrapping_add(o).cast()));
        (kept, addresses)
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
                if self.kept.is_empty() {
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
                if self.kept.is_empty() {
                    $entry {
                        raw: self.raw,
                        kept: Kept::default(),
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
