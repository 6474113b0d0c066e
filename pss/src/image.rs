//! Finding the main executable of a snapshot: its load address from the PEB, its regions from
//! the VA-space walk.

use crate::{Allocation, Error, ErrorCode, Function, LocalSnapshot, Result, WideStr};

/// Where the PEB keeps `ImageBaseAddress`: after two pointer-sized fields (`0x10` on x64 and
/// arm64, `0x08` on x86). The PEB is this architecture's: a capture across bitness fails.
const PEB_IMAGE_BASE_OFFSET: usize = 2 * size_of::<usize>();

/// The main executable of a captured process, found by
/// [`LocalSnapshot::main_image`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainImage {
    /// Where it is loaded: the PEB's `ImageBaseAddress`, read through the VA clone. Not the
    /// preferred base of its PE header (`VaSpaceEntry::image`'s `image_base`), which ASLR moves
    /// it away from.
    pub base: usize,
    /// The bytes its regions cover (every region whose allocation base is `base`), about its
    /// `SizeOfImage`.
    pub size: usize,
    /// How many regions of the address space it spans (one per protection: headers, code,
    /// data, ...).
    pub regions: usize,
    /// The mapped file's name, an NT path (`\Device\HarddiskVolume3\...`), with
    /// [`CaptureFlags::VA_SPACE_SECTION_INFORMATION`](crate::CaptureFlags::VA_SPACE_SECTION_INFORMATION);
    /// `None` without it.
    pub file_name: Option<WideStr<'static>>,
}

impl<A: Allocation> LocalSnapshot<A> {
    /// The main executable: where it is loaded, how large it is, and its file, read from the
    /// snapshot alone while the process runs on.
    ///
    /// `PSS_PROCESS_INFORMATION` has the PEB's address
    /// ([`peb_base_address`](crate::ProcessInformation::peb_base_address)), the PEB holds the
    /// main image's load address (`ImageBaseAddress`), read through the VA clone, and the
    /// VA-space walk gives its regions. The image name of the process information is no help:
    /// it is a DOS path where region names are NT paths, and it is empty for long paths.
    ///
    /// Needs [`CaptureFlags::VA_CLONE`](crate::CaptureFlags::VA_CLONE) and
    /// [`CaptureFlags::VA_SPACE`](crate::CaptureFlags::VA_SPACE) (and
    /// `VA_SPACE_SECTION_INFORMATION` for the file name); without them,
    /// [`ErrorKind::NotCaptured`](crate::ErrorKind::NotCaptured) naming the flag. A PEB that
    /// cannot be read through the clone is `ReadProcessMemory`'s `ERROR_PARTIAL_COPY`; a load
    /// address no region starts at is [`ErrorCode::NOT_FOUND`] with a reason.
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
    ///
    /// # fn main() -> pss::Result<()> {
    /// # let pid = 1234;
    /// let flags = CaptureFlags::VA_CLONE
    ///     | CaptureFlags::VA_SPACE
    ///     | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    /// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    /// let snapshot = LocalSnapshot::capture(&process, flags)?;
    /// let image = snapshot.main_image()?;
    /// let header: [u8; 2] = snapshot.va_clone()?.read_value(image.base)?;
    /// assert_eq!(&header, b"MZ");
    /// # Ok(()) }
    /// ```
    ///
    /// Kernel32 calls: `PssQuerySnapshot` twice (process and VA-clone information),
    /// `ReadProcessMemory` (and `GetLastError` if it fails), and one VA-space walk
    /// (`PssWalkMarkerCreate`, a `PssWalkSnapshot` per region and one more,
    /// `PssWalkMarkerFree`).
    #[doc(alias = "PEB", alias = "ImageBaseAddress")]
    pub fn main_image(&self) -> Result<MainImage> {
        let peb = self.process_information()?.peb_base_address();
        let clone = self.va_clone()?;
        let base: usize = clone.read_value(peb + PEB_IMAGE_BASE_OFFSET)?;
        let walk = self.va_space()?;
        let mut image = MainImage {
            base,
            size: 0,
            regions: 0,
            file_name: None,
        };
        walk.iter().try_for_each_ref(|entry| {
            let region = entry.region();
            if region.allocation_base == base && region.base_address != 0 {
                image.size += region.region_size;
                image.regions += 1;
                if image.file_name.is_none() {
                    image.file_name = entry.mapped_file_name().map(WideStr::into_owned);
                }
            }
            Result::Ok(())
        })?;
        if image.regions == 0 {
            return Err(
                Error::os(Function::PssWalkSnapshot, ErrorCode::NOT_FOUND.raw()).with_reason(
                    "no region of the address space starts at the PEB's ImageBaseAddress",
                ),
            );
        }
        Ok(image)
    }
}

static_assertions::assert_impl_all!(MainImage: Send, Sync, Clone);
