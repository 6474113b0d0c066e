//! `VaSpaceEntry`: `PSS_VA_SPACE_ENTRY`, a region with its image values and mapped file name.

use core::fmt;

use pss_sys as sys;

use super::RawEntry;
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
/// counts a terminating NUL in its length, which `pss` drops. It is borrowed from the marker for
/// `'w` ([`into_owned`](Self::into_owned) copies it).
///
/// [`PSS_VA_SPACE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_va_space_entry
#[doc(alias = "PSS_VA_SPACE_ENTRY")]
#[derive(Clone)]
pub struct VaSpaceEntry<'w> {
    raw: RawEntry<sys::PSS_VA_SPACE_ENTRY>,
    mapped_file_name: Option<WideStr<'w>>,
}

impl<'w> VaSpaceEntry<'w> {
    /// # Safety
    ///
    /// `raw.MappedFileName`, unless NULL, points to `MappedFileNameLength` bytes valid and
    /// unchanged for `'w`.
    pub(crate) unsafe fn from_raw(raw: sys::PSS_VA_SPACE_ENTRY) -> Self {
        // SAFETY: forwarded from the caller.
        let name = unsafe { WideStr::from_counted(raw.MappedFileName, raw.MappedFileNameLength) };
        VaSpaceEntry {
            raw: RawEntry(raw),
            mapped_file_name: name.filter(|name| !name.is_empty()),
        }
    }

    /// `BaseAddress` .. `Type`: the region, as `MEMORY_BASIC_INFORMATION` describes it.
    #[doc(alias = "MEMORY_BASIC_INFORMATION")]
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
    pub fn mapped_file_name(&self) -> Option<&WideStr<'w>> {
        self.mapped_file_name.as_ref()
    }

    /// An owned copy: the file name is copied, the raw `MappedFileName` set to NULL (and its
    /// length to 0).
    pub fn into_owned(self) -> VaSpaceEntry<'static> {
        let mut raw = self.raw;
        raw.0.MappedFileName = core::ptr::null();
        raw.0.MappedFileNameLength = 0;
        VaSpaceEntry {
            raw,
            mapped_file_name: self.mapped_file_name.map(WideStr::into_owned),
        }
    }

    /// The structure as the OS wrote it. `MappedFileName` is valid only while the entry
    /// borrows the marker (NULL in an owned entry).
    pub fn as_raw(&self) -> &sys::PSS_VA_SPACE_ENTRY {
        &self.raw.0
    }
}

impl fmt::Debug for VaSpaceEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaSpaceEntry")
            .field("region", &self.region())
            .field("image", &self.image())
            .field("mapped_file_name", &self.mapped_file_name())
            .finish()
    }
}
