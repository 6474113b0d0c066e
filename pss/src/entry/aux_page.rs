//! `AuxiliaryPageEntry`: `PSS_AUXILIARY_PAGE_ENTRY`, with the page contents borrowed from the
//! marker.

use core::fmt;
use core::marker::PhantomData;

use pss_sys as sys;

use super::{Kept, Part, RawEntry, bytes};
use crate::MemoryRegion;
use crate::time::FileTime;

/// One captured auxiliary page: [`PSS_AUXILIARY_PAGE_ENTRY`], from an
/// [`AuxiliaryPageClass`](crate::AuxiliaryPageClass) walk.
///
/// The documents do not say which capture flag produces auxiliary pages; Windows captures them
/// with [`CaptureFlags::AUXILIARY_PAGES`](crate::CaptureFlags::AUXILIARY_PAGES): on Windows 11
/// one page, the shared user-data page at `0x7FFE0000`, whose first `0xA80` bytes are the
/// capturing process's copy of it and the rest zero. The page contents, when captured, are
/// `PageSize` bytes in this process, in the marker's memory for `'w`;
/// [`into_owned`](Self::into_owned) copies them into the entry.
///
/// [`PSS_AUXILIARY_PAGE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_auxiliary_page_entry
#[doc(alias = "PSS_AUXILIARY_PAGE_ENTRY")]
pub struct AuxiliaryPageEntry<'w> {
    raw: RawEntry<sys::PSS_AUXILIARY_PAGE_ENTRY>,
    /// The contents' copy in an owned entry (see [`Kept`]).
    kept: Kept,
    _marker: PhantomData<&'w [u8]>,
}

impl<'w> AuxiliaryPageEntry<'w> {
    /// The structure, for `PssWalkSnapshot` to fill in place.
    ///
    /// # Safety
    ///
    /// The entry keeps nothing of its own, and what is written is an entry whose pointers
    /// satisfy [`from_raw`](Self::from_raw)'s contract.
    #[inline]
    pub(crate) unsafe fn raw_mut(&mut self) -> &mut sys::PSS_AUXILIARY_PAGE_ENTRY {
        &mut self.raw.0
    }

    /// # Safety
    ///
    /// `raw.PageContents`, unless NULL, points to `PageSize` bytes valid and unchanged for
    /// `'w`.
    #[inline]
    pub(crate) unsafe fn from_raw(raw: sys::PSS_AUXILIARY_PAGE_ENTRY) -> Self {
        AuxiliaryPageEntry {
            raw: RawEntry(raw),
            kept: Kept::default(),
            _marker: PhantomData,
        }
    }

    /// True: the structure has no name pointer (see
    /// [`HandleEntry`](crate::HandleEntry)'s).
    #[inline(always)]
    pub(crate) fn names_aligned(_raw: &sys::PSS_AUXILIARY_PAGE_ENTRY) -> bool {
        true
    }

    /// The entry [`Iterator::next`](crate::Entries) yields: [`from_raw`](Self::from_raw).
    ///
    /// # Safety
    ///
    /// As [`from_raw`](Self::from_raw).
    #[inline(always)]
    pub(crate) unsafe fn yielded(raw: sys::PSS_AUXILIARY_PAGE_ENTRY) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw(raw) }
    }

    /// Nothing to align (no name; never called, as [`names_aligned`](Self::names_aligned) is
    /// true).
    ///
    /// # Safety
    ///
    /// As the other classes' (the walk calls each class's alike); this one does nothing.
    #[inline]
    pub(crate) unsafe fn align_names_at(
        _raw: *mut sys::PSS_AUXILIARY_PAGE_ENTRY,
        _copies: &'w super::Copies,
    ) {
    }

    /// `PageContents` and `PageSize` as a part (a length that does not fit `usize` is no
    /// memory at all: kernel32 never reports one).
    fn contents_part(&self) -> Part {
        let r = &self.raw.0;
        Part {
            ptr: r.PageContents.cast::<u8>().cast_const(),
            len: usize::try_from(r.PageSize).unwrap_or(0),
        }
    }

    /// `Address`: the page's address in the captured process.
    #[doc(alias = "Address")]
    #[inline]
    pub fn address(&self) -> usize {
        self.raw.0.Address.addr()
    }

    /// `BasicInformation`: the region the page belongs to.
    #[doc(alias = "BasicInformation", alias = "MEMORY_BASIC_INFORMATION")]
    #[inline]
    pub fn basic_information(&self) -> MemoryRegion {
        let b = &self.raw.0.BasicInformation;
        MemoryRegion::from_parts(
            b.BaseAddress,
            b.AllocationBase,
            b.AllocationProtect,
            b.RegionSize,
            b.State,
            b.Protect,
            b.Type,
        )
    }

    /// `CaptureTime`: when the page was captured; `None` if not set.
    #[doc(alias = "CaptureTime")]
    #[inline]
    pub fn capture_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.0.CaptureTime)
    }

    /// `PageContents`, `PageSize`: the page's bytes, exactly `PageSize` of them; `None` when
    /// the contents were not captured ("may be NULL").
    #[doc(alias = "PageContents", alias = "PageSize")]
    #[inline]
    pub fn contents(&self) -> Option<&[u8]> {
        let part = self.contents_part();
        // SAFETY: the contents are valid for `'w`, or kept by `self` (see `Kept`), so for as
        // long as `self` is borrowed.
        unsafe { bytes(part.ptr, part.len) }
    }

    /// `PageSize`: the size in bytes of the contents.
    #[doc(alias = "PageSize")]
    #[inline]
    pub fn page_size(&self) -> u32 {
        self.raw.0.PageSize
    }

    /// A copy that keeps its own contents.
    fn copy_parts(&self) -> AuxiliaryPageEntry<'static> {
        let mut raw = self.raw;
        // SAFETY: the contents are valid for their length while `self` is borrowed.
        let (kept, [contents]) = unsafe { Kept::copy([self.contents_part()]) };
        raw.0.PageContents = contents.cast_mut().cast();
        AuxiliaryPageEntry {
            raw,
            kept,
            _marker: PhantomData,
        }
    }

    /// The structure as the OS wrote it. `PageContents` points into the marker's memory (valid
    /// while the entry borrows it) or, in an owned entry, to the entry's own copy (valid while
    /// it lives).
    #[inline]
    pub fn as_raw(&self) -> &sys::PSS_AUXILIARY_PAGE_ENTRY {
        &self.raw.0
    }
}

super::owned_entry!(
    AuxiliaryPageEntry,
    "An owned copy: the contents are copied into the entry, and its raw `PageContents` \
     points to the copy (NULL if there is none). Owned already: no copy.",
    "A borrowed entry copies the structure; an owned one its contents too."
);

impl fmt::Debug for AuxiliaryPageEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuxiliaryPageEntry")
            .field("address", &format_args!("{:#x}", self.address()))
            .field("basic_information", &self.basic_information())
            .field("page_size", &self.page_size())
            .field("contents", &self.contents().map(<[u8]>::len))
            .finish()
    }
}
