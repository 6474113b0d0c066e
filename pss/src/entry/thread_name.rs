//! `ThreadNameEntry`: `PSS_THREAD_NAME`, with the name borrowed from the marker.

use core::fmt;
use core::marker::PhantomData;

use pss_sys as sys;

use super::{Copies, Kept, Part, RawEntry};
use crate::WideStr;

/// One thread's name: [`PSS_THREAD_NAME`], from a [`ThreadNameClass`](crate::ThreadNameClass)
/// walk (`PSS_WALK_THREAD_NAME`, SDK 10.0.26100; see there for which Windows answers it).
///
/// The structure carries no thread id: names come in the order of the
/// [`threads`](crate::LocalSnapshot::threads) walk of the same snapshot, the only way to pair
/// them (the SDK documents nothing more). The name is counted and not terminated; it stays in
/// the marker's memory for `'w`, and [`into_owned`](Self::into_owned) copies it.
///
/// [`PSS_THREAD_NAME`]: https://github.com/microsoft/win32metadata/blob/main/generation/WinSDK/RecompiledIdlHeaders/um/ProcessSnapshot.h
#[doc(alias = "PSS_THREAD_NAME")]
pub struct ThreadNameEntry<'w> {
    raw: RawEntry<sys::PSS_THREAD_NAME>,
    /// The name's copy in an owned entry (see [`Kept`]).
    kept: Kept,
    _marker: PhantomData<&'w [u16]>,
}

impl<'w> ThreadNameEntry<'w> {
    /// # Safety
    ///
    /// `raw.ThreadName`, unless NULL, points to `ThreadNameSize` bytes valid and unchanged for
    /// `'w`.
    #[inline]
    pub(crate) unsafe fn from_raw(raw: sys::PSS_THREAD_NAME) -> Self {
        ThreadNameEntry {
            raw: RawEntry(raw),
            kept: Kept::default(),
            _marker: PhantomData,
        }
    }

    /// The structure, for `PssWalkSnapshot` to fill in place.
    ///
    /// # Safety
    ///
    /// The entry keeps nothing of its own, and what is written is an entry whose pointer
    /// satisfies [`from_raw`](Self::from_raw)'s contract.
    #[inline]
    pub(crate) unsafe fn raw_mut(&mut self) -> &mut sys::PSS_THREAD_NAME {
        &mut self.raw.0
    }

    /// True if the name pointer is aligned for `u16` (or NULL): then
    /// [`yielded`](Self::yielded) may make the entry [`Iterator::next`](crate::Entries)
    /// yields; otherwise [`align_names_at`](Self::align_names_at) first.
    #[inline(always)]
    pub(crate) fn names_aligned(raw: &sys::PSS_THREAD_NAME) -> bool {
        raw.ThreadName.is_aligned()
    }

    /// The entry [`Iterator::next`](crate::Entries) yields for a structure whose name pointer
    /// is aligned (or NULL), which the entry then tells the compiler.
    ///
    /// # Safety
    ///
    /// As [`from_raw`](Self::from_raw), and [`names_aligned`](Self::names_aligned) holds.
    #[inline(always)]
    pub(crate) unsafe fn yielded(raw: sys::PSS_THREAD_NAME) -> Self {
        ThreadNameEntry {
            raw: RawEntry(raw),
            kept: Kept::AlignedNames,
            _marker: PhantomData,
        }
    }

    /// Points a misaligned name pointer of the structure at `raw` (never seen from Windows) to
    /// an aligned copy `copies` keeps (see [`Copies`]), so that [`yielded`](Self::yielded) may
    /// take it. Reads and writes the structure through `raw` only (no reference to it is held
    /// while the copy allocates).
    ///
    /// # Safety
    ///
    /// `raw` points to a structure that satisfies [`from_raw`](Self::from_raw)'s contract for
    /// `'w`, which `copies` outlives, and is valid for reads and writes.
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn align_names_at(raw: *mut sys::PSS_THREAD_NAME, copies: &'w Copies) {
        // SAFETY: readable, and a structure `from_raw` takes (the caller).
        let mut entry = unsafe { Self::from_raw(raw.read()) };
        // SAFETY: as above.
        unsafe { entry.align_name(copies) };
        // SAFETY: writable (the caller).
        unsafe { raw.write(entry.raw.0) };
    }

    /// Points a misaligned name pointer to an aligned copy `copies` keeps.
    ///
    /// # Safety
    ///
    /// As [`align_names_at`](Self::align_names_at).
    unsafe fn align_name(&mut self, copies: &'w Copies) {
        let r = &mut self.raw.0;
        // SAFETY: the name is valid for its length for `'w` (the caller), which `copies`
        // outlives.
        r.ThreadName = unsafe { copies.aligned(true, r.ThreadName, r.ThreadNameSize) };
    }

    fn name_part(&self) -> Part {
        Part {
            ptr: self.raw.0.ThreadName.cast(),
            len: usize::from(self.raw.0.ThreadNameSize),
        }
    }

    /// `ThreadName`, `ThreadNameSize`: the thread's name (`SetThreadDescription`), read as a
    /// byte count of UTF-16 (ntdll keeps it so; an odd count drops its last byte, and one NUL
    /// at the end is dropped if present); `None` for a thread without a name.
    #[doc(alias = "ThreadName", alias = "ThreadNameSize")]
    #[inline]
    pub fn name(&self) -> Option<WideStr<'_>> {
        // SAFETY: the name is valid for `'w`, or kept by `self` (see `Kept`), so for as long
        // as `self` is borrowed. An empty name is no name, as for the other name accessors.
        unsafe {
            WideStr::from_counted(
                self.raw.0.ThreadName,
                self.raw.0.ThreadNameSize,
                self.kept.names_aligned(),
            )
        }
        .filter(|name| !name.is_empty())
    }

    /// A copy that keeps its own name.
    fn copy_parts(&self) -> ThreadNameEntry<'static> {
        let mut raw = self.raw;
        // SAFETY: the name is valid for its length while `self` is borrowed.
        let (kept, [name]) = unsafe { Kept::copy([self.name_part()]) };
        raw.0.ThreadName = name.cast();
        ThreadNameEntry {
            raw,
            kept,
            _marker: PhantomData,
        }
    }

    /// The structure as the OS wrote it. `ThreadName` points into the marker's memory (valid
    /// while the entry borrows it) or, in an owned entry, to the entry's own copy. In the copy a
    /// `for` loop yields, a name pointer the OS wrote misaligned points to an aligned copy the
    /// walk keeps (see [`Entries`](crate::Entries)).
    #[inline]
    pub fn as_raw(&self) -> &sys::PSS_THREAD_NAME {
        &self.raw.0
    }
}

super::owned_entry!(
    ThreadNameEntry,
    "An owned copy: the name is copied into the entry, and its raw `ThreadName` points to the \
     copy (NULL if there is none). Owned already: no copy.",
    "A borrowed entry copies the structure; an owned one its name too."
);

impl fmt::Debug for ThreadNameEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadNameEntry")
            .field("name", &self.name())
            .finish()
    }
}
