//! Memory regions as `MEMORY_BASIC_INFORMATION` describes them: state, protection, type.

use core::fmt;

use pss_sys as sys;

/// A region of the captured process's address space: [`MEMORY_BASIC_INFORMATION`], the
/// region part of `PSS_VA_SPACE_ENTRY` and `PSS_AUXILIARY_PAGE_ENTRY.BasicInformation`.
///
/// Addresses are in the captured process (plain numbers here, never dereferenced).
///
/// [`MEMORY_BASIC_INFORMATION`]: https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-memory_basic_information
#[doc(alias = "MEMORY_BASIC_INFORMATION")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MemoryRegion {
    /// `BaseAddress`: the first address of the region.
    #[doc(alias = "BaseAddress")]
    pub base_address: usize,
    /// `AllocationBase`: the first address of the allocation the region belongs to (0 for free
    /// regions).
    #[doc(alias = "AllocationBase")]
    pub allocation_base: usize,
    /// `AllocationProtect`: the protection the allocation was made with (empty when the caller
    /// has no access, or for free regions).
    #[doc(alias = "AllocationProtect")]
    pub allocation_protect: MemoryProtection,
    /// `RegionSize`: the size in bytes of the region, whose pages all share the attributes
    /// here.
    #[doc(alias = "RegionSize")]
    pub region_size: usize,
    /// `State`: committed, reserved or free.
    #[doc(alias = "State")]
    pub state: MemoryState,
    /// `Protect`: the pages' current protection (meaningless for free and reserved regions).
    #[doc(alias = "Protect")]
    pub protect: MemoryProtection,
    /// `Type`: image, mapped, private, or none (free regions).
    #[doc(alias = "Type")]
    pub kind: MemoryType,
}

impl MemoryRegion {
    /// The region from the seven `MEMORY_BASIC_INFORMATION` values.
    #[inline]
    pub(crate) fn from_parts(
        base_address: *mut core::ffi::c_void,
        allocation_base: *mut core::ffi::c_void,
        allocation_protect: u32,
        region_size: usize,
        state: u32,
        protect: u32,
        kind: u32,
    ) -> Self {
        MemoryRegion {
            base_address: base_address.addr(),
            allocation_base: allocation_base.addr(),
            allocation_protect: MemoryProtection::from_bits_retain(allocation_protect),
            region_size,
            state: MemoryState::from_raw(state),
            protect: MemoryProtection::from_bits_retain(protect),
            kind: MemoryType::from_raw(kind),
        }
    }

    /// `base_address..base_address + region_size` (saturating at the top of the address space).
    pub fn range(&self) -> core::ops::Range<usize> {
        self.base_address..self.base_address.saturating_add(self.region_size)
    }
}

/// The state of a region's pages: `MEMORY_BASIC_INFORMATION.State`, one of the `MEM_COMMIT`,
/// `MEM_RESERVE`, `MEM_FREE` values of [`VirtualQuery`].
///
/// [`VirtualQuery`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-virtualquery
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[doc(alias = "MEM_COMMIT", alias = "MEM_RESERVE", alias = "MEM_FREE")]
pub enum MemoryState {
    /// `MEM_COMMIT` (0x1000): committed pages, backed by memory or the paging file.
    #[doc(alias = "MEM_COMMIT")]
    Commit,
    /// `MEM_RESERVE` (0x2000): reserved address space, no storage.
    #[doc(alias = "MEM_RESERVE")]
    Reserve,
    /// `MEM_FREE` (0x10000): free address space.
    #[doc(alias = "MEM_FREE")]
    Free,
    /// Any other value, kept as it was.
    Other(u32),
}

impl MemoryState {
    /// The state for a raw `State` value.
    #[inline]
    pub fn from_raw(value: u32) -> Self {
        match value {
            sys::MEM_COMMIT => MemoryState::Commit,
            sys::MEM_RESERVE => MemoryState::Reserve,
            sys::MEM_FREE => MemoryState::Free,
            other => MemoryState::Other(other),
        }
    }

    /// The raw `State` value.
    #[inline]
    pub fn to_raw(self) -> u32 {
        match self {
            MemoryState::Commit => sys::MEM_COMMIT,
            MemoryState::Reserve => sys::MEM_RESERVE,
            MemoryState::Free => sys::MEM_FREE,
            MemoryState::Other(other) => other,
        }
    }
}

/// The kind of storage behind a region: `MEMORY_BASIC_INFORMATION.Type`, one of the
/// `MEM_IMAGE`, `MEM_MAPPED`, `MEM_PRIVATE` values of [`VirtualQuery`], or 0 for free regions.
///
/// [`VirtualQuery`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-virtualquery
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[doc(alias = "MEM_IMAGE", alias = "MEM_MAPPED", alias = "MEM_PRIVATE")]
pub enum MemoryType {
    /// `MEM_IMAGE` (0x1000000): a view of an executable image section.
    #[doc(alias = "MEM_IMAGE")]
    Image,
    /// `MEM_MAPPED` (0x40000): a view of a (data) section. (A VA clone does not clone these:
    /// shared sections are not copied into the clone process.)
    #[doc(alias = "MEM_MAPPED")]
    Mapped,
    /// `MEM_PRIVATE` (0x20000): private memory.
    #[doc(alias = "MEM_PRIVATE")]
    Private,
    /// 0: no storage (a free region).
    None,
    /// Any other value, kept as it was.
    Other(u32),
}

impl MemoryType {
    /// The type for a raw `Type` value.
    #[inline]
    pub fn from_raw(value: u32) -> Self {
        match value {
            sys::MEM_IMAGE => MemoryType::Image,
            sys::MEM_MAPPED => MemoryType::Mapped,
            sys::MEM_PRIVATE => MemoryType::Private,
            0 => MemoryType::None,
            other => MemoryType::Other(other),
        }
    }

    /// The raw `Type` value.
    #[inline]
    pub fn to_raw(self) -> u32 {
        match self {
            MemoryType::Image => sys::MEM_IMAGE,
            MemoryType::Mapped => sys::MEM_MAPPED,
            MemoryType::Private => sys::MEM_PRIVATE,
            MemoryType::None => 0,
            MemoryType::Other(other) => other,
        }
    }
}

bitflags::bitflags! {
    /// Page protection: the [`PAGE_*` memory protection constants], as in
    /// `MEMORY_BASIC_INFORMATION.Protect` and `AllocationProtect`.
    ///
    /// One access value (`NOACCESS` .. `EXECUTE_WRITECOPY`) plus modifiers (`GUARD`,
    /// `NOCACHE`, `WRITECOMBINE`). Bits no constant here names are kept
    /// ([`from_bits_retain`](Self::from_bits_retain)) and shown in hex by `Debug`.
    ///
    /// [`PAGE_*` memory protection constants]: https://learn.microsoft.com/en-us/windows/win32/memory/memory-protection-constants
    #[doc(alias = "PAGE_PROTECTION_FLAGS")]
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MemoryProtection: u32 {
        /// `PAGE_NOACCESS`.
        #[doc(alias = "PAGE_NOACCESS")]
        const NOACCESS = sys::PAGE_NOACCESS;
        /// `PAGE_READONLY`.
        #[doc(alias = "PAGE_READONLY")]
        const READONLY = sys::PAGE_READONLY;
        /// `PAGE_READWRITE`.
        #[doc(alias = "PAGE_READWRITE")]
        const READWRITE = sys::PAGE_READWRITE;
        /// `PAGE_WRITECOPY`.
        #[doc(alias = "PAGE_WRITECOPY")]
        const WRITECOPY = sys::PAGE_WRITECOPY;
        /// `PAGE_EXECUTE`.
        #[doc(alias = "PAGE_EXECUTE")]
        const EXECUTE = sys::PAGE_EXECUTE;
        /// `PAGE_EXECUTE_READ`.
        #[doc(alias = "PAGE_EXECUTE_READ")]
        const EXECUTE_READ = sys::PAGE_EXECUTE_READ;
        /// `PAGE_EXECUTE_READWRITE`.
        #[doc(alias = "PAGE_EXECUTE_READWRITE")]
        const EXECUTE_READWRITE = sys::PAGE_EXECUTE_READWRITE;
        /// `PAGE_EXECUTE_WRITECOPY`.
        #[doc(alias = "PAGE_EXECUTE_WRITECOPY")]
        const EXECUTE_WRITECOPY = sys::PAGE_EXECUTE_WRITECOPY;
        /// `PAGE_GUARD`: a guard page (modifier).
        #[doc(alias = "PAGE_GUARD")]
        const GUARD = sys::PAGE_GUARD;
        /// `PAGE_NOCACHE`: not cached (modifier).
        #[doc(alias = "PAGE_NOCACHE")]
        const NOCACHE = sys::PAGE_NOCACHE;
        /// `PAGE_WRITECOMBINE`: write-combined (modifier).
        #[doc(alias = "PAGE_WRITECOMBINE")]
        const WRITECOMBINE = sys::PAGE_WRITECOMBINE;
    }
}

impl MemoryProtection {
    /// The pages can be read (any `READ`, `WRITE` or `WRITECOPY` access value).
    pub fn is_readable(self) -> bool {
        self.intersects(
            Self::READONLY
                | Self::READWRITE
                | Self::WRITECOPY
                | Self::EXECUTE_READ
                | Self::EXECUTE_READWRITE
                | Self::EXECUTE_WRITECOPY,
        )
    }

    /// The pages can be written (or copied on write).
    pub fn is_writable(self) -> bool {
        self.intersects(
            Self::READWRITE | Self::WRITECOPY | Self::EXECUTE_READWRITE | Self::EXECUTE_WRITECOPY,
        )
    }

    /// The pages can be executed.
    pub fn is_executable(self) -> bool {
        self.intersects(
            Self::EXECUTE | Self::EXECUTE_READ | Self::EXECUTE_READWRITE | Self::EXECUTE_WRITECOPY,
        )
    }
}

/// Flag names, e.g. `MemoryProtection(EXECUTE_READ | GUARD)`; unknown bits in hex.
impl fmt::Debug for MemoryProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryProtection(")?;
        bitflags::parser::to_writer(self, &mut *f)?;
        f.write_str(")")
    }
}

/// `rwx`-style, e.g. `r-x` or `rw-+guard`; `---` for no access.
impl fmt::Display for MemoryProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bit = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            bit(self.is_readable(), 'r'),
            bit(self.is_writable(), 'w'),
            bit(self.is_executable(), 'x')
        )?;
        if self.intersects(Self::WRITECOPY | Self::EXECUTE_WRITECOPY) {
            f.write_str("+copy")?;
        }
        if self.contains(Self::GUARD) {
            f.write_str("+guard")?;
        }
        if self.contains(Self::NOCACHE) {
            f.write_str("+nocache")?;
        }
        if self.contains(Self::WRITECOMBINE) {
            f.write_str("+writecombine")?;
        }
        Ok(())
    }
}
