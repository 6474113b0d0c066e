//! `AuxiliaryPageEntry`: `PSS_AUXILIARY_PAGE_ENTRY`, with the page contents borrowed from the
//! marker.

use core::fmt;
use std::borrow::Cow;
use std::time::SystemTime;

use pss_sys as sys;

use super::{RawEntry, bytes, owned};
use crate::MemoryRegion;
use crate::time;

/// One captured auxiliary page: [`PSS_AUXILIARY_PAGE_ENTRY`], from an
/// [`AuxiliaryPageClass`](crate::AuxiliaryPageClass) walk.
///
/// The documents do not say which capture flag produces auxiliary pages (the `pss-tests`
/// model: [`CaptureFlags::VA_CLONE`](crate::CaptureFlags::VA_CLONE)). The page contents, when
/// captured, are `PageSize` bytes in this process borrowed from the marker for `'w`;
/// [`into_owned`](Self::into_owned) copies them.
///
/// [`PSS_AUXILIARY_PAGE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_auxiliary_page_entry
#[doc(alias = "PSS_AUXILIARY_PAGE_ENTRY")]
#[derive(Clone)]
pub struct AuxiliaryPageEntry<'w> {
    raw: RawEntry<sys::PSS_AUXILIARY_PAGE_ENTRY>,
    contents: Option<Cow<'w, [u8]>>,
}

impl<'w> AuxiliaryPageEntry<'w> {
    /// # Safety
    ///
    /// `raw.PageContents`, unless NULL, points to `PageSize` bytes valid and unchanged for
    /// `'w`.
    pub(crate) unsafe fn from_raw(raw: sys::PSS_AUXILIARY_PAGE_ENTRY) -> Self {
        // SAFETY: forwarded from the caller; a length that does not fit `usize` is no memory
        // at all (kernel32 never reports one) and gives `None`.
        let contents = usize::try_from(raw.PageSize)
            .ok()
            .and_then(|len| unsafe { bytes(raw.PageContents.cast::<u8>().cast_const(), len) });
        AuxiliaryPageEntry {
            raw: RawEntry(raw),
            contents,
        }
    }

    /// `Address`: the page's address in the captured process.
    #[doc(alias = "Address")]
    pub fn address(&self) -> usize {
        self.raw.0.Address.addr()
    }

    /// `BasicInformation`: the region the page belongs to.
    #[doc(alias = "BasicInformation", alias = "MEMORY_BASIC_INFORMATION")]
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
    pub fn capture_time(&self) -> Option<SystemTime> {
        time::system_time(self.raw.0.CaptureTime)
    }

    /// `PageContents`, `PageSize`: the page's bytes, exactly `PageSize` of them; `None` when
    /// the contents were not captured ("may be NULL").
    #[doc(alias = "PageContents", alias = "PageSize")]
    pub fn contents(&self) -> Option<&[u8]> {
        self.contents.as_deref()
    }

    /// `PageSize`: the size in bytes of the contents.
    #[doc(alias = "PageSize")]
    pub fn page_size(&self) -> u32 {
        self.raw.0.PageSize
    }

    /// An owned copy: the contents are copied, the raw `PageContents` set to NULL.
    pub fn into_owned(self) -> AuxiliaryPageEntry<'static> {
        let mut raw = self.raw;
        raw.0.PageContents = core::ptr::null_mut();
        AuxiliaryPageEntry {
            raw,
            contents: self.contents.map(owned),
        }
    }

    /// The structure as the OS wrote it. `PageContents` is valid only while the entry borrows
    /// the marker (NULL in an owned entry).
    pub fn as_raw(&self) -> &sys::PSS_AUXILIARY_PAGE_ENTRY {
        &self.raw.0
    }
}

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
