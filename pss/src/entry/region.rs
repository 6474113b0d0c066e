//! `VaSpaceEntry`: `PSS_VA_SPACE_ENTRY`, a region with its image values and mapped file name.

use core::fmt;
use core::marker::PhantomData;

use pss_sys as sys;

use super::{Copies, Kept, Part, RawEntry};
use crate::{MemoryRegion, MemoryType, WideStr};

/// The PE header values of an image region: `TimeDateStamp`, `SizeOfImage`, `ImageBase` and
/// `CheckSum` of [`PSS_VA_SPACE_ENTRY`].
///
/// [`PSS_VA_SPACE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_va_space_entry
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(
    alias = "TimeDateStamp",
    alias = "SizeOfImage",
    alias = "ImageBase",
    alias = "CheckSum"
)]
pub struct ImageInformation {
    /// `TimeDateStamp`: the low 32 bits of the image's link time, in seconds since 1970 (a C
    /// `time_t`); often a hash in reproducible builds.
    #[doc(alias = "TimeDateStamp")]
    pub time_date_stamp: u32,
    /// `SizeOfImage`: the image's size in memory, headers included.
    #[doc(alias = "SizeOfImage")]
    pub size_of_image: u32,
    /// `ImageBase`: the image's preferred load address.
    #[doc(alias = "ImageBase")]
    pub image_base: usize,
    /// `CheckSum`: the image file checksum.
    #[doc(alias = "CheckSum")]
    pub checksum: u32,
}

/// One captured address-space region: [`PSS_VA_SPACE_ENTRY`], from a
/// [`VaSpaceClass`](crate::VaSpaceClass) walk.
///
/// [`region`](Self::region) is the `MEMORY_BASIC_INFORMATION` part. With
/// [`CaptureFlags::VA_SPACE_SECTION_INFORMATION`](crate::CaptureFlags::VA_SPACE_SECTION_INFORMATION),
/// image regions also carry their PE header values ([`image`](Self::image); every region of one
/// image module carries the module's values, and they are zero when the process handle lacked
/// `PROCESS_VM_READ`) and image and mapped regions the path of the file behind them
/// ([`mapped_file_name`](Self::mapped_file_name)), which "may be in NT namespace"; Windows
/// counts a terminating NUL in its length, which `pss` drops. It stays in the marker's memory
/// for `'w` and is decoded only when asked for; [`into_owned`](Self::into_owned) copies it into
/// the entry.
///
/// [`PSS_VA_SPACE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_va_space_entry
#[doc(alias = "PSS_VA_SPACE_ENTRY")]
pub struct VaSpaceEntry<'w> {
    raw: RawEntry<sys::PSS_VA_SPACE_ENTRY>,
    /// The file name's copy in an owned entry (see [`Kept`]).
    kept: Kept,
    _marker: PhantomData<&'w [u16]>,
}

impl<'w> VaSpaceEntry<'w> {
    /// # Safety
    ///
    /// `raw.MappedFileName`, unless NULL, points to `MappedFileNameLength` bytes valid and
    /// unchanged for `'w`.
    /// The structure, for `PssWalkSnapshot` to fill in place.
    ///
    /// # Safety
    ///
    /// The entry keeps nothing of its own, and what is written is an entry whose pointers
    /// satisfy [`from_raw`](Self::from_raw)'s contract.
    #[inline]
    pub(crate) unsafe fn raw_mut(&mut self) -> &mut sys::PSS_VA_SPACE_ENTRY {
        &mut self.raw.0
    }

    #[inline]
    pub(crate) unsafe fn from_raw(raw: sys::PSS_VA_SPACE_ENTRY) -> Self {
        VaSpaceEntry {
            raw: RawEntry(raw),
            kept: Kept::default(),
            _marker: PhantomData,
        }
    }

    /// True if the name pointer is aligned for `u16` (or NULL): then
    /// [`yielded`](Self::yielded) may make the entry [`Iterator::next`](crate::Entries)
    /// yields; otherwise [`align_names_at`](Self::align_names_at) first.
    #[inline(always)]
    pub(crate) fn names_aligned(raw: &sys::PSS_VA_SPACE_ENTRY) -> bool {
        raw.MappedFileName.is_aligned()
    }

    /// The entry [`Iterator::next`](crate::Entries) yields for a structure whose name pointer
    /// is aligned (or NULL), which the entry then tells the compiler.
    ///
    /// # Safety
    ///
    /// As [`from_raw`](Self::from_raw), and [`names_aligned`](Self::names_aligned) holds.
    #[inline(always)]
    pub(crate) unsafe fn yielded(raw: sys::PSS_VA_SPACE_ENTRY) -> Self {
        VaSpaceEntry {
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
    pub(crate) unsafe fn align_names_at(raw: *mut sys::PSS_VA_SPACE_ENTRY, copies: &'w Copies) {
        // SAFETY: readable, and a structure `from_raw` takes (the caller).
        let mut entry = unsafe { Self::from_raw(raw.read()) };
        // SAFETY: as above.
        unsafe { entry.align_name(copies) };
        // SAFETY: writable (the caller).
        unsafe { raw.write(entry.raw.0) };
    }

    /// Points a misaligned file name pointer to an aligned copy `copies` keeps.
    ///
    /// # Safety
    ///
    /// As [`align_names_at`](Self::align_names_at).
    unsafe fn align_name(&mut self, copies: &'w Copies) {
        let r = &mut self.raw.0;
        // SAFETY: the name is valid for its length for `'w` (the caller), which `copies`
        // outlives.
        r.MappedFileName =
            unsafe { copies.aligned(true, r.MappedFileName, r.MappedFileNameLength) };
    }

    /// `BaseAddress` .. `Type`: the region, as `MEMORY_BASIC_INFORMATION` describes it.
    #[doc(alias = "MEMORY_BASIC_INFORMATION")]
    #[inline]
    pub fn region(&self) -> MemoryRegion {
        let r = &self.raw.0;
        MemoryRegion::from_parts(
            r.BaseAddress,
            r.AllocationBase,
            r.AllocationProtect,
            r.RegionSize,
            r.State,
            r.Protect,
            r.Type,
        )
    }

    /// `TimeDateStamp`, `SizeOfImage`, `ImageBase`, `CheckSum`: the PE header values, for a
    /// `MEM_IMAGE` region captured with section information.
    ///
    /// `None` for other regions, and when all four are zero: the documents fill them only "if
    /// section information was captured and the region is an executable image", and give no
    /// flag that says whether it was, so all-zero is read as "not captured".
    #[doc(alias = "TimeDateStamp", alias = "SizeOfImage", alias = "ImageBase")]
    #[doc(alias = "CheckSum")]
    #[inline]
    pub fn image(&self) -> Option<ImageInformation> {
        let r = &self.raw.0;
        let image = ImageInformation {
            time_date_stamp: r.TimeDateStamp,
            size_of_image: r.SizeOfImage,
            image_base: r.ImageBase.addr(),
            checksum: r.CheckSum,
        };
        let captured = image.time_date_stamp != 0
            || image.size_of_image != 0
            || image.image_base != 0
            || image.checksum != 0;
        (MemoryType::from_raw(r.Type) == MemoryType::Image && captured).then_some(image)
    }

    /// `MappedFileName`, `MappedFileNameLength`: the path of the file backing the region, with
    /// section information; `None` when there is none (NULL or empty). Possibly an NT path
    /// (`\Device\HarddiskVolume3\...`), returned as it is.
    #[doc(alias = "MappedFileName", alias = "MappedFileNameLength")]
    #[inline]
    pub fn mapped_file_name(&self) -> Option<WideStr<'_>> {
        let r = &self.raw.0;
        // SAFETY: the name is valid for `'w`, or kept by `self` (see `Kept`), so for as long
        // as `self` is borrowed. An empty name is no name.
        unsafe {
            WideStr::from_counted(
                r.MappedFileName,
                r.MappedFileNameLength,
                self.kept.names_aligned(),
            )
        }
        .filter(|name| !name.is_empty())
    }

    /// A copy that keeps its own file name.
    fn copy_parts(&self) -> VaSpaceEntry<'static> {
        let mut raw = self.raw;
        let r = &mut raw.0;
        let part = Part {
            ptr: r.MappedFileName.cast(),
            len: usize::from(r.MappedFileNameLength),
        };
        // SAFETY: the name is valid for its length while `self` is borrowed.
        let (kept, [name]) = unsafe { Kept::copy([part]) };
        r.MappedFileName = name.cast();
        if name.is_null() {
            r.MappedFileNameLength = 0;
        }
        VaSpaceEntry {
            raw,
            kept,
            _marker: PhantomData,
        }
    }

    /// The structure as the OS wrote it. `MappedFileName` points into the marker's memory
    /// (valid while the entry borrows it) or, in an owned entry, to the entry's own copy
    /// (valid while it lives). In the copy a `for` loop yields, a name pointer the OS wrote
    /// misaligned (never seen from Windows) points to an aligned copy the walk keeps (see
    /// [`Entries`](crate::Entries)).
    #[inline]
    pub fn as_raw(&self) -> &sys::PSS_VA_SPACE_ENTRY {
        &self.raw.0
    }
}

super::owned_entry!(
    VaSpaceEntry,
    "An owned copy: the file name is copied into the entry, and its raw `MappedFileName` \
     points to the copy (NULL, with length 0, if there is none). Owned already: no copy.",
    "A borrowed entry copies the structure; an owned one its file name too."
);

impl fmt::Debug for VaSpaceEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaSpaceEntry")
            .field("region", &self.region())
            .field("image", &self.image())
            .field("mapped_file_name", &self.mapped_file_name())
            .finish()
    }
}
