//! The structures of a WOW64 process's two views, read from the target's memory (the VA clone):
//! the 64-bit PEB and TEB fields that lead to the 32-bit view, and the 32-bit TEB, PEB, loader
//! data and PE headers. Offsets are Windows' (the public symbols of ntdll, as System Informer's
//! `phnt` headers carry them; see the model's table of choices for the evidence), the same on
//! x64 and arm64 for the 64-bit structures.
//!
//! Everything here trusts nothing it reads: every pointer is checked for 0 and for fitting its
//! width, every sum is checked, lists are bounded and their loops detected, lengths are bounded
//! by their 16-bit fields. Reads go through [`Memory`], so the same code runs over a test's
//! bytes.

use crate::{Error, ErrorCode, Function, Result, VaClone};

/// Where a WOW64 process's memory is read from: the VA clone, or a test's bytes.
pub(crate) trait Memory {
    /// Fills `buf` from `address` on, or fails (as [`VaClone::read_exact`]).
    fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()>;
}

impl Memory for VaClone<'_> {
    fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        let address = usize::try_from(address).map_err(|_| {
            invalid("an address in the target's memory is above this build's address space")
        })?;
        VaClone::read_exact(self, address, buf)
    }
}

/// Target memory that does not hold what it should: `ERROR_NOT_FOUND` (the information is not
/// in the snapshot) from the step that read it, with `reason` naming what and why.
pub(crate) fn invalid(reason: &'static str) -> Error {
    Error::os(Function::ReadProcessMemory, ErrorCode::NOT_FOUND.raw()).with_reason(reason)
}

/// `N` bytes at `address`.
pub(crate) fn read_array<const N: usize>(memory: &dyn Memory, address: u64) -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    memory.read_exact(address, &mut bytes)?;
    Ok(bytes)
}

/// The little-endian integers of a buffer read from the target; every offset here is a constant
/// inside the buffer it reads (checked by the tests), so a miss reads as 0 rather than panic.
pub(crate) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The most entries a loader list is followed for: a process has a few hundred modules at most,
/// and the list is the target's data.
pub(crate) const MAX_MODULES: usize = 4096;

/// A walk along a circular list of the target's (a `LIST_ENTRY`'s `Flink`s), from its head
/// until it comes back, bounded by [`MAX_MODULES`] and with Brent's cycle detection: a list that
/// loops without coming back to its head is found within three times the steps it takes to
/// enter the loop and go round it, with no memory but a few words.
#[derive(Debug, Clone)]
pub(crate) struct ListWalk {
    head: u64,
    next: u64,
    steps: usize,
    /// Brent's saved node, and the steps since it was saved, and the step count at which it
    /// is saved again.
    saved: u64,
    since: usize,
    power: usize,
    done: bool,
}

impl ListWalk {
    /// A walk of the list whose head is at `head`, whose first link is `first`.
    pub(crate) fn new(head: u64, first: u64) -> Self {
        ListWalk {
            head,
            next: first,
            steps: 0,
            saved: 0,
            since: 0,
            power: 1,
            done: false,
        }
    }

    /// The next node's address; `None` back at the head (or after an error). The caller reads
    /// the node and gives its `Flink` to [`follow`](Self::follow).
    pub(crate) fn next_node(&mut self) -> Option<Result<u64>> {
        if self.done {
            return None;
        }
        let node = self.next;
        if node == self.head {
            self.done = true;
            return None;
        }
        let failure = if node == 0 {
            Some("a loader list link is NULL: the list is broken (or was being changed)")
        } else if node == self.saved {
            Some("the loader list loops without coming back to its head: hostile or corrupt memory")
        } else if self.steps >= MAX_MODULES {
            Some("the loader list has more than 4096 entries: hostile or corrupt memory")
        } else {
            None
        };
        if let Some(reason) = failure {
            self.done = true;
            return Some(Err(invalid(reason)));
        }
        self.steps += 1;
        self.since += 1;
        if self.since == self.power {
            self.saved = node;
            self.power = self.power.saturating_mul(2);
            self.since = 0;
        }
        Some(Ok(node))
    }

    /// The `Flink` of the node [`next_node`](Self::next_node) gave.
    pub(crate) fn follow(&mut self, flink: u64) {
        self.next = flink;
    }

    /// Ends the walk (after a failed read of a node).
    pub(crate) fn stop(&mut self) {
        self.done = true;
    }
}

// TEB64 (x64 and arm64): what leads from it to the 32-bit view.
pub(crate) const TEB64_EXCEPTION_LIST: usize = 0x0;
pub(crate) const TEB64_SELF: usize = 0x30;
/// `TlsSlots[WOW64_TLS_CPURESERVED]`: `TlsSlots` at `0x1480`, slot 1.
pub(crate) const TEB64_CPU_AREA: usize = 0x1488;
pub(crate) const TEB64_WOW_TEB_OFFSET: usize = 0x180C;
/// The TEB64 bytes read: up to and including `WowTebOffset`.
const TEB64_BYTES: usize = TEB64_WOW_TEB_OFFSET + 4;

/// What a thread's 64-bit TEB says about its 32-bit side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Teb64 {
    /// The 32-bit TEB's address.
    pub(crate) teb32: u32,
    /// `TlsSlots[1]`: the CPU area (0 if none).
    pub(crate) cpu_area: u64,
}

/// Reads the 64-bit TEB at `teb64`: checks `NtTib.Self`, finds the 32-bit TEB through
/// `WowTebOffset` (Windows 10 and later) checked against `NtTib.ExceptionList` (which holds it
/// on every version), and takes the CPU area pointer.
pub(crate) fn read_teb64(memory: &dyn Memory, teb64: u64) -> Result<Teb64> {
    let bytes: [u8; TEB64_BYTES] = read_array(memory, teb64)?;
    if u64_at(&bytes, TEB64_SELF) != teb64 {
        return Err(invalid(
            "the thread's TEB does not point at itself (NtTib.Self): not a 64-bit TEB, or hostile memory",
        ));
    }
    let exception_list = u64_at(&bytes, TEB64_EXCEPTION_LIST);
    let offset = i32::from_le_bytes(
        bytes[TEB64_WOW_TEB_OFFSET..TEB64_WOW_TEB_OFFSET + 4]
            .try_into()
            .unwrap_or_default(),
    );
    // Before Windows 10, WowTebOffset is 0 (or 1); ExceptionList has the 32-bit TEB always.
    let teb32 = if offset > 1 {
        let at = teb64.checked_add_signed(i64::from(offset)).ok_or_else(|| {
            invalid("the TEB's WowTebOffset leads outside the address space: hostile memory")
        })?;
        if exception_list != at {
            return Err(invalid(
                "the 64-bit TEB's WowTebOffset and NtTib.ExceptionList name different 32-bit TEBs: hostile or corrupt memory",
            ));
        }
        at
    } else {
        exception_list
    };
    let teb32 = u32::try_from(teb32)
        .ok()
        .filter(|&t| t != 0)
        .ok_or_else(|| {
            invalid(
                "the 64-bit TEB names no 32-bit TEB below 4 GiB (NtTib.ExceptionList, WowTebOffset): not a WOW64 thread",
            )
        })?;
    Ok(Teb64 {
        teb32,
        cpu_area: u64_at(&bytes, TEB64_CPU_AREA),
    })
}

/// A WOW64 thread's 32-bit [`TEB`]: the `NT_TIB32` and the fields after it that dumps and
/// debuggers read. Read by [`Wow64View::teb`](super::Wow64View::teb).
///
/// [`TEB`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-teb
#[doc(alias = "TEB32", alias = "TEB", alias = "NT_TIB32")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Teb32 {
    /// Its address (its 64-bit TEB + `WowTebOffset`, `0x2000`): what a 32-bit dump gives as the
    /// thread's TEB.
    pub address: u32,
    /// `NtTib.ExceptionList`: the head of the thread's SEH chain (`0xFFFFFFFF` when empty).
    #[doc(alias = "ExceptionList")]
    pub exception_list: u32,
    /// `NtTib.StackBase`: the end (highest address) of the thread's x86 stack.
    #[doc(alias = "StackBase")]
    pub stack_base: u32,
    /// `NtTib.StackLimit`: the lowest committed address of its x86 stack.
    #[doc(alias = "StackLimit")]
    pub stack_limit: u32,
    /// `ClientId.UniqueProcess`.
    pub process_id: u32,
    /// `ClientId.UniqueThread`.
    pub thread_id: u32,
    /// `ProcessEnvironmentBlock`: the 32-bit PEB.
    #[doc(alias = "ProcessEnvironmentBlock")]
    pub peb: u32,
    /// `LastErrorValue`: what the x86 code's `GetLastError()` returns.
    #[doc(alias = "LastErrorValue", alias = "GetLastError")]
    pub last_error: u32,
}

const TEB32_STACK_BASE: usize = 0x04;
const TEB32_STACK_LIMIT: usize = 0x08;
const TEB32_SELF: usize = 0x18;
const TEB32_PROCESS_ID: usize = 0x20;
const TEB32_THREAD_ID: usize = 0x24;
const TEB32_PEB: usize = 0x30;
const TEB32_LAST_ERROR: usize = 0x34;
const TEB32_BYTES: usize = TEB32_LAST_ERROR + 4;

/// Reads the 32-bit TEB at `address`, which must point at itself (`NtTib.Self`).
pub(crate) fn read_teb32(memory: &dyn Memory, address: u32) -> Result<Teb32> {
    let bytes: [u8; TEB32_BYTES] = read_array(memory, address.into())?;
    if u32_at(&bytes, TEB32_SELF) != address {
        return Err(invalid(
            "the 32-bit TEB does not point at itself (NtTib.Self): hostile or corrupt memory",
        ));
    }
    Ok(Teb32 {
        address,
        exception_list: u32_at(&bytes, 0),
        stack_base: u32_at(&bytes, TEB32_STACK_BASE),
        stack_limit: u32_at(&bytes, TEB32_STACK_LIMIT),
        process_id: u32_at(&bytes, TEB32_PROCESS_ID),
        thread_id: u32_at(&bytes, TEB32_THREAD_ID),
        peb: u32_at(&bytes, TEB32_PEB),
        last_error: u32_at(&bytes, TEB32_LAST_ERROR),
    })
}

/// A WOW64 process's 32-bit [`PEB`]: where the x86 code's main image and loader data are, and
/// the Windows version it reports. Read by [`LocalSnapshot::wow64`](crate::LocalSnapshot::wow64)
/// ([`Wow64View::peb`](super::Wow64View::peb)).
///
/// [`PEB`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-peb
#[doc(alias = "PEB32", alias = "PEB")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Peb32 {
    /// Its address: the 64-bit PEB's + `0x1000`.
    pub address: u32,
    /// `ImageBaseAddress`: the main executable's load address (the 64-bit PEB's too).
    #[doc(alias = "ImageBaseAddress")]
    pub image_base_address: u32,
    /// `Ldr`: the 32-bit `PEB_LDR_DATA`.
    #[doc(alias = "Ldr", alias = "PEB_LDR_DATA")]
    pub ldr: u32,
    /// `NumberOfProcessors`.
    pub number_of_processors: u32,
    /// `OSMajorVersion`.
    pub os_major_version: u32,
    /// `OSMinorVersion`.
    pub os_minor_version: u32,
    /// `OSBuildNumber`.
    pub os_build_number: u16,
    /// `OSPlatformId` (2: `VER_PLATFORM_WIN32_NT`).
    pub os_platform_id: u32,
}

const PEB32_IMAGE_BASE: usize = 0x08;
const PEB32_LDR: usize = 0x0C;
const PEB32_NUMBER_OF_PROCESSORS: usize = 0x64;
const PEB32_OS_MAJOR: usize = 0xA4;
const PEB32_OS_MINOR: usize = 0xA8;
const PEB32_OS_BUILD: usize = 0xAC;
const PEB32_OS_PLATFORM: usize = 0xB0;
const PEB32_BYTES: usize = PEB32_OS_PLATFORM + 4;

/// The 32-bit PEB is one page after the 64-bit one.
pub(crate) const PEB32_OFFSET: u64 = 0x1000;

// PEB (64-bit)
const PEB64_IMAGE_BASE: usize = 0x10;
const PEB64_LDR: usize = 0x18;

/// Reads the 64-bit PEB at `peb64` (its `ImageBaseAddress` and `Ldr`) and the 32-bit PEB one
/// page after it, which must name the same main image.
pub(crate) fn read_pebs(memory: &dyn Memory, peb64: u64) -> Result<(Peb32, u64)> {
    let peb: [u8; PEB64_LDR + 8] = read_array(memory, peb64)?;
    let image64 = u64_at(&peb, PEB64_IMAGE_BASE);
    let ldr64 = u64_at(&peb, PEB64_LDR);
    let address = peb64
        .checked_add(PEB32_OFFSET)
        .and_then(|a| u32::try_from(a).ok())
        .ok_or_else(|| {
            invalid(
                "the 64-bit PEB is not below 4 GiB, where a WOW64 process keeps it with its 32-bit PEB one page after",
            )
        })?;
    let bytes: [u8; PEB32_BYTES] = read_array(memory, address.into())?;
    let peb32 = Peb32 {
        address,
        image_base_address: u32_at(&bytes, PEB32_IMAGE_BASE),
        ldr: u32_at(&bytes, PEB32_LDR),
        number_of_processors: u32_at(&bytes, PEB32_NUMBER_OF_PROCESSORS),
        os_major_version: u32_at(&bytes, PEB32_OS_MAJOR),
        os_minor_version: u32_at(&bytes, PEB32_OS_MINOR),
        os_build_number: u16_at(&bytes, PEB32_OS_BUILD),
        os_platform_id: u32_at(&bytes, PEB32_OS_PLATFORM),
    };
    if u64::from(peb32.image_base_address) != image64 || image64 == 0 {
        return Err(invalid(
            "no 32-bit PEB one page after the 64-bit PEB: its ImageBaseAddress is not the 64-bit PEB's (not a WOW64 process, or corrupt memory)",
        ));
    }
    Ok((peb32, ldr64))
}

/// A `UNICODE_STRING32`: a counted UTF-16 string in the target's 32-bit memory. Read its text
/// with [`Wow64View::string`](super::Wow64View::string).
#[doc(alias = "UNICODE_STRING32", alias = "UNICODE_STRING")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct UnicodeString32 {
    /// `Length`: bytes of text, without a terminator.
    pub length: u16,
    /// `MaximumLength`: bytes of the buffer.
    pub maximum_length: u16,
    /// `Buffer`: where the text is.
    pub buffer: u32,
}

impl UnicodeString32 {
    fn at(bytes: &[u8], at: usize) -> Self {
        UnicodeString32 {
            length: u16_at(bytes, at),
            maximum_length: u16_at(bytes, at + 2),
            buffer: u32_at(bytes, at + 4),
        }
    }
}

/// Reads the text of `string`: at most 32,767 UTF-16 units (its length is 16 bits), refused when
/// its lengths lie (odd, or longer than its buffer), its buffer is NULL with a length, or the
/// text would run past 4 GiB.
pub(crate) fn read_string(memory: &dyn Memory, string: &UnicodeString32) -> Result<Vec<u16>> {
    let length = usize::from(string.length);
    if length == 0 {
        return Ok(Vec::new());
    }
    if length % 2 != 0 || string.length > string.maximum_length {
        return Err(invalid(
            "a UNICODE_STRING32's Length is odd or longer than its MaximumLength: hostile or corrupt memory",
        ));
    }
    if string.buffer == 0 || u64::from(string.buffer) + u64::from(string.length) > 1 << 32 {
        return Err(invalid(
            "a UNICODE_STRING32's Buffer is NULL or its text runs past 4 GiB: hostile or corrupt memory",
        ));
    }
    let mut bytes = vec![0u8; length];
    memory.read_exact(string.buffer.into(), &mut bytes)?;
    Ok(bytes
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .collect())
}

/// One module of a WOW64 process's 32-bit loader list (a 32-bit [`LDR_DATA_TABLE_ENTRY`]), from
/// [`Wow64View::modules`](super::Wow64View::modules).
///
/// [`LDR_DATA_TABLE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-peb_ldr_data
#[doc(alias = "LDR_DATA_TABLE_ENTRY32", alias = "LDR_DATA_TABLE_ENTRY")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Module32 {
    /// The entry's address.
    pub entry: u32,
    /// `DllBase`: where the image is loaded.
    #[doc(alias = "DllBase")]
    pub base: u32,
    /// `EntryPoint`.
    #[doc(alias = "EntryPoint")]
    pub entry_point: u32,
    /// `SizeOfImage`.
    #[doc(alias = "SizeOfImage")]
    pub size_of_image: u32,
    /// `FullDllName`: the DOS path (`C:\Windows\SysWOW64\kernel32.dll`).
    #[doc(alias = "FullDllName")]
    pub full_name: UnicodeString32,
    /// `BaseDllName`: the file name.
    #[doc(alias = "BaseDllName")]
    pub base_name: UnicodeString32,
}

const LDR32_LOAD_ORDER: u64 = 0x0C;
const ENTRY32_DLL_BASE: usize = 0x18;
const ENTRY32_ENTRY_POINT: usize = 0x1C;
const ENTRY32_SIZE_OF_IMAGE: usize = 0x20;
const ENTRY32_FULL_NAME: usize = 0x24;
const ENTRY32_BASE_NAME: usize = 0x2C;
const ENTRY32_BYTES: usize = ENTRY32_BASE_NAME + 8;

/// The 32-bit loader's modules in load order ([`Wow64View::modules`](super::Wow64View::modules)):
/// each entry read as the walk reaches it (one `ReadProcessMemory`, no allocation), the list
/// followed from `PEB_LDR_DATA32.InLoadOrderModuleList` until it comes back to its head, at
/// most 4,096 entries, a list that loops elsewhere or breaks ending in an error.
pub struct Modules32<'v> {
    memory: &'v dyn Memory,
    walk: ListWalk,
    /// The first read (of the list head) failed: reported once.
    failed: Option<Error>,
}

impl<'v> Modules32<'v> {
    pub(crate) fn new(memory: &'v dyn Memory, ldr: u32) -> Self {
        let head = u64::from(ldr) + LDR32_LOAD_ORDER;
        let mut walk = ListWalk::new(head, 0);
        let failed = if ldr == 0 {
            walk.stop();
            Some(invalid(
                "the 32-bit PEB has no loader data (Ldr is NULL): the process has not initialised its loader yet",
            ))
        } else {
            match read_array::<4>(memory, head) {
                Ok(flink) => {
                    walk.follow(u32::from_le_bytes(flink).into());
                    None
                }
                Err(e) => {
                    walk.stop();
                    Some(e)
                }
            }
        };
        Modules32 {
            memory,
            walk,
            failed,
        }
    }
}

impl Iterator for Modules32<'_> {
    type Item = Result<Module32>;

    fn next(&mut self) -> Option<Result<Module32>> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        let node = match self.walk.next_node()? {
            Ok(node) => node,
            Err(e) => return Some(Err(e)),
        };
        // InLoadOrderLinks is the entry's first field: the link is the entry.
        let bytes: [u8; ENTRY32_BYTES] = match read_array(self.memory, node) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.walk.stop();
                return Some(Err(e));
            }
        };
        self.walk.follow(u32_at(&bytes, 0).into());
        Some(Ok(Module32 {
            entry: node as u32,
            base: u32_at(&bytes, ENTRY32_DLL_BASE),
            entry_point: u32_at(&bytes, ENTRY32_ENTRY_POINT),
            size_of_image: u32_at(&bytes, ENTRY32_SIZE_OF_IMAGE),
            full_name: UnicodeString32::at(&bytes, ENTRY32_FULL_NAME),
            base_name: UnicodeString32::at(&bytes, ENTRY32_BASE_NAME),
        }))
    }
}

impl core::iter::FusedIterator for Modules32<'_> {}

impl core::fmt::Debug for Modules32<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Modules32")
            .field("walk", &self.walk)
            .finish_non_exhaustive()
    }
}

/// The PE headers ([`IMAGE_NT_HEADERS32`]) of an x86 image in a WOW64 process ([`Wow64View::image`](super::Wow64View::image)):
/// what a module list and a symbol server identify it by.
///
/// [`IMAGE_NT_HEADERS32`]: https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-image_nt_headers32
#[doc(alias = "IMAGE_NT_HEADERS32", alias = "IMAGE_FILE_HEADER")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Image32 {
    /// Where it is loaded.
    pub base: u32,
    /// `IMAGE_FILE_HEADER.Machine`: `0x14C` (`IMAGE_FILE_MACHINE_I386`), or `0x3A64` for the
    /// hybrid (CHPE) x86 images of Windows 10 on ARM64, which Windows treats as x86.
    #[doc(alias = "Machine")]
    pub machine: u16,
    /// `IMAGE_FILE_HEADER.TimeDateStamp`.
    #[doc(alias = "TimeDateStamp")]
    pub time_date_stamp: u32,
    /// `IMAGE_OPTIONAL_HEADER32.SizeOfImage`.
    #[doc(alias = "SizeOfImage")]
    pub size_of_image: u32,
    /// `IMAGE_OPTIONAL_HEADER32.CheckSum`.
    #[doc(alias = "CheckSum")]
    pub checksum: u32,
}

/// `IMAGE_DOS_HEADER.e_lfanew` beyond this is refused (linkers put the NT headers in the first
/// page; the bound keeps a hostile value from sending the read anywhere).
const MAX_LFANEW: u32 = 0x1000;

/// Reads the PE32 headers of the image at `base`.
pub(crate) fn read_image(memory: &dyn Memory, base: u32) -> Result<Image32> {
    let dos: [u8; 0x40] = read_array(memory, base.into())?;
    let lfanew = u32_at(&dos, 0x3C);
    if &dos[..2] != b"MZ" || lfanew > MAX_LFANEW {
        return Err(invalid(
            "no DOS header (MZ, e_lfanew within the first page) at the image's base: not an image, or hostile memory",
        ));
    }
    // Signature, IMAGE_FILE_HEADER (20 bytes), the optional header up to CheckSum.
    let nt: [u8; 24 + 68] = read_array(memory, u64::from(base) + u64::from(lfanew))?;
    if &nt[..4] != b"PE\0\0" || u16_at(&nt, 24) != 0x10B {
        return Err(invalid(
            "no PE32 headers (PE\\0\\0, optional header magic 0x10B) at the image's e_lfanew: not a 32-bit image",
        ));
    }
    Ok(Image32 {
        base,
        machine: u16_at(&nt, 4),
        time_date_stamp: u32_at(&nt, 8),
        size_of_image: u32_at(&nt, 24 + 56),
        checksum: u32_at(&nt, 24 + 64),
    })
}

// The 64-bit loader data: PEB_LDR_DATA and LDR_DATA_TABLE_ENTRY (x64 and arm64).
const LDR64_LOAD_ORDER: u64 = 0x10;
const ENTRY64_BASE_NAME: usize = 0x58;
const ENTRY64_BYTES: usize = ENTRY64_BASE_NAME + 16;

/// Which WOW64 CPU runs a WOW64 process's x86 code, found by its DLL in the 64-bit loader list:
/// what decides whether a thread's 32-bit registers can be read from the snapshot.
#[doc(alias = "wow64cpu.dll", alias = "xtajit.dll")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Wow64Cpu {
    /// `wow64cpu.dll`: x86 code runs on an x64 processor, which switches between 32- and 64-bit
    /// code; a thread's x86 registers are in its native context or its CPU area (see
    /// [`Wow64View::context`](super::Wow64View::context)).
    X64,
    /// `xtajit.dll`: x86 code is emulated on an ARM64 processor (Windows on Arm); its registers
    /// live in the emulator while it runs, in a form no public source documents.
    Arm64Emulator,
    /// Neither was found: the 64-bit loader list could not be read, or the process had not
    /// loaded its WOW64 CPU yet.
    Unknown,
}

/// Finds the WOW64 CPU DLL in the 64-bit loader list at `ldr64` (reading only names as short as
/// the ones it looks for, into a fixed buffer).
pub(crate) fn find_cpu(memory: &dyn Memory, ldr64: u64) -> Wow64Cpu {
    const NAMES: [(&[u8], Wow64Cpu); 2] = [
        (b"wow64cpu.dll", Wow64Cpu::X64),
        (b"xtajit.dll", Wow64Cpu::Arm64Emulator),
    ];
    let Some(head) = ldr64.checked_add(LDR64_LOAD_ORDER).filter(|_| ldr64 != 0) else {
        return Wow64Cpu::Unknown;
    };
    let Ok(first) = read_array::<8>(memory, head) else {
        return Wow64Cpu::Unknown;
    };
    let mut walk = ListWalk::new(head, u64::from_le_bytes(first));
    while let Some(Ok(node)) = walk.next_node() {
        let Ok(entry) = read_array::<ENTRY64_BYTES>(memory, node) else {
            return Wow64Cpu::Unknown;
        };
        walk.follow(u64_at(&entry, 0));
        let length = usize::from(u16_at(&entry, ENTRY64_BASE_NAME));
        let buffer = u64_at(&entry, ENTRY64_BASE_NAME + 8);
        for (name, cpu) in NAMES {
            if length != 2 * name.len() {
                continue;
            }
            let mut units = [0u8; 24];
            let units = &mut units[..length];
            if memory.read_exact(buffer, units).is_err() {
                continue;
            }
            let matches = units
                .chunks_exact(2)
                .zip(name)
                .all(|(u, &c)| u[1] == 0 && u[0].eq_ignore_ascii_case(&c));
            if matches {
                return cpu;
            }
        }
    }
    Wow64Cpu::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory of a test: bytes at `base`, nothing elsewhere.
    struct Bytes {
        base: u64,
        bytes: Vec<u8>,
    }

    impl Memory for Bytes {
        fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
            let start = address
                .checked_sub(self.base)
                .and_then(|s| usize::try_from(s).ok());
            let bytes = start
                .and_then(|s| self.bytes.get(s..s.checked_add(buf.len())?))
                .ok_or_else(|| Error::read_failed(crate::sys::ERROR_PARTIAL_COPY, 0))?;
            buf.copy_from_slice(bytes);
            Ok(())
        }
    }

    impl Bytes {
        fn new(base: u64, len: usize) -> Self {
            Bytes {
                base,
                bytes: vec![0; len],
            }
        }
        fn put(&mut self, address: u64, value: &[u8]) {
            let at = (address - self.base) as usize;
            self.bytes[at..at + value.len()].copy_from_slice(value);
        }
    }

    /// A 32-bit loader list at `0x1000` of `links` (entry addresses, each entry's `Flink` the
    /// next one's, the last's given).
    fn list(entries: &[u64], last: u64) -> Bytes {
        let mut m = Bytes::new(0x1000, 0x1000);
        let head = 0x1000 + LDR32_LOAD_ORDER;
        m.put(head, &(entries[0] as u32).to_le_bytes());
        for (i, &entry) in entries.iter().enumerate() {
            let next = entries.get(i + 1).copied().unwrap_or(last);
            m.put(entry, &(next as u32).to_le_bytes());
            m.put(
                entry + ENTRY32_DLL_BASE as u64,
                &(0x40_0000 * (i as u32 + 1)).to_le_bytes(),
            );
        }
        m
    }

    #[test]
    fn a_list_that_comes_back_to_its_head_ends() {
        let head = 0x1000 + LDR32_LOAD_ORDER;
        let m = list(&[0x1100, 0x1200, 0x1300], head);
        let bases: Vec<u32> = Modules32::new(&m, 0x1000)
            .map(|m| m.unwrap().base)
            .collect();
        assert_eq!(bases, [0x40_0000, 0x80_0000, 0xC0_0000]);
    }

    #[test]
    fn loops_breaks_and_long_lists_end_in_an_error() {
        // Back to the second entry, to itself, to NULL, out of the memory.
        for (last, good) in [(0x1200, 3), (0x1300, 3), (0, 3), (0x9000, 3)] {
            let m = list(&[0x1100, 0x1200, 0x1300], last);
            let results: Vec<_> = Modules32::new(&m, 0x1000).collect();
            assert!(
                results.len() <= good + 2 * 2 + 1,
                "{last:#x}: {}",
                results.len()
            );
            assert!(results[..good].iter().all(Result::is_ok), "{last:#x}");
            assert!(results.last().unwrap().is_err(), "{last:#x}");
        }
        // A list longer than the bound: every step a new node, never the head.
        let mut walk = ListWalk::new(0, 1);
        let mut count = 0;
        while let Some(Ok(node)) = walk.next_node() {
            walk.follow(node + 1);
            count += 1;
        }
        assert_eq!(count, MAX_MODULES);
        // Brent's detection finds a loop of any length entered at any point.
        for entry in 0..20u64 {
            for length in 1..20u64 {
                let mut walk = ListWalk::new(u64::MAX, 1);
                let mut steps = 0;
                while let Some(Ok(node)) = walk.next_node() {
                    let next = node + 1;
                    walk.follow(if next > entry + length {
                        entry + 1
                    } else {
                        next
                    });
                    steps += 1;
                }
                // Saved at steps 1, 2, 4, ...: once at a power of two past the entry and at
                // least the loop's length, the loop is found one round later.
                assert!(
                    steps <= 3 * (entry + length) as usize + 2,
                    "{entry} {length}"
                );
            }
        }
    }

    #[test]
    fn strings_that_lie_are_refused() {
        let mut m = Bytes::new(0x1000, 0x100);
        m.put(0x1000, &[b'a', 0, b'b', 0]);
        let string = |length, maximum_length, buffer| UnicodeString32 {
            length,
            maximum_length,
            buffer,
        };
        assert_eq!(read_string(&m, &string(4, 6, 0x1000)).unwrap(), [97, 98]);
        assert!(read_string(&m, &string(0, 0, 0)).unwrap().is_empty());
        for lie in [
            string(3, 6, 0x1000),
            string(8, 6, 0x1000),
            string(4, 6, 0),
            string(4, 6, u32::MAX - 1),
        ] {
            let error = read_string(&m, &lie).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::NOT_FOUND), "{lie:?}");
        }
        // Past the memory that holds it: the read's error.
        let error = read_string(&m, &string(0x200, 0x200, 0x1000)).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::PARTIAL_COPY));
    }

    #[test]
    fn tebs_are_found_through_both_fields_and_checked() {
        let teb64 = 0x10_0000u64;
        let mut m = Bytes::new(teb64, 0x3000);
        m.put(teb64 + TEB64_SELF as u64, &teb64.to_le_bytes());
        m.put(teb64, &(teb64 + 0x2000).to_le_bytes());
        m.put(
            teb64 + TEB64_WOW_TEB_OFFSET as u64,
            &0x2000i32.to_le_bytes(),
        );
        m.put(teb64 + TEB64_CPU_AREA as u64, &0x12_3450u64.to_le_bytes());
        let teb32 = (teb64 + 0x2000) as u32;
        m.put(teb64 + 0x2000 + TEB32_SELF as u64, &teb32.to_le_bytes());
        m.put(
            teb64 + 0x2000 + TEB32_LAST_ERROR as u64,
            &5u32.to_le_bytes(),
        );
        let teb = read_teb64(&m, teb64).unwrap();
        assert_eq!((teb.teb32, teb.cpu_area), (teb32, 0x12_3450));
        assert_eq!(read_teb32(&m, teb32).unwrap().last_error, 5);
        // A negative offset (a TEB32's) leads nowhere: ExceptionList alone is not enough then.
        m.put(
            teb64 + TEB64_WOW_TEB_OFFSET as u64,
            &(-0x2000i32).to_le_bytes(),
        );
        assert_eq!(read_teb64(&m, teb64).unwrap().teb32, teb32);
        m.put(teb64 + TEB64_WOW_TEB_OFFSET as u64, &i32::MAX.to_le_bytes());
        assert!(read_teb64(&m, teb64).is_err());
        assert!(read_teb64(&m, u64::MAX - 8).is_err());
        assert!(read_teb32(&m, teb32 + 4).is_err());
    }

    #[test]
    fn images_need_pe32_headers_within_the_first_page() {
        let mut m = Bytes::new(0x40_0000, 0x2000);
        m.put(0x40_0000, b"MZ");
        m.put(0x40_003C, &0x80u32.to_le_bytes());
        m.put(0x40_0080, b"PE\0\0");
        m.put(0x40_0084, &0x14Cu16.to_le_bytes());
        m.put(0x40_0098, &0x10Bu16.to_le_bytes());
        m.put(0x40_0098 + 56, &0x6_0000u32.to_le_bytes());
        let image = read_image(&m, 0x40_0000).unwrap();
        assert_eq!((image.machine, image.size_of_image), (0x14C, 0x6_0000));
        m.put(0x40_0098, &0x20Bu16.to_le_bytes());
        assert!(
            read_image(&m, 0x40_0000).is_err(),
            "PE32+ is not an x86 image"
        );
        m.put(0x40_003C, &0x7FFF_FFF0u32.to_le_bytes());
        assert!(read_image(&m, 0x40_0000).is_err(), "e_lfanew far away");
        assert!(read_image(&m, u32::MAX).is_err());
    }
}
