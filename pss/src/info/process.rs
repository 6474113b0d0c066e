//! `ProcessInformation`: `PSS_PROCESS_INFORMATION`, with typed flags and memory counters.

use core::fmt;
use std::time::Duration;

use pss_sys as sys;

use crate::time::{self, FileTime};
use crate::{ExitStatus, WideStr};

bitflags::bitflags! {
    /// Flags about a process: [`PSS_PROCESS_FLAGS`].
    ///
    /// Bits no flag here names are kept ([`from_bits_retain`](Self::from_bits_retain)) and
    /// shown in hex by `Debug`.
    ///
    /// [`PSS_PROCESS_FLAGS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_process_flags
    #[doc(alias = "PSS_PROCESS_FLAGS")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ProcessFlags: u32 {
        /// `PSS_PROCESS_FLAGS_PROTECTED`: a protected process.
        #[doc(alias = "PSS_PROCESS_FLAGS_PROTECTED")]
        const PROTECTED = sys::PSS_PROCESS_FLAGS_PROTECTED as u32;
        /// `PSS_PROCESS_FLAGS_WOW64`: a 32-bit process on 64-bit Windows. A 64-bit capture
        /// of it holds its native view (64-bit PEB, TEBs and contexts of the WOW64 layer);
        /// [`LocalSnapshot::wow64`](crate::LocalSnapshot::wow64) reads its 32-bit view. (A
        /// 32-bit process capturing a 64-bit one fails in practice.)
        #[doc(alias = "PSS_PROCESS_FLAGS_WOW64")]
        const WOW64 = sys::PSS_PROCESS_FLAGS_WOW64 as u32;
        /// `PSS_PROCESS_FLAGS_RESERVED_03`: reserved.
        #[doc(alias = "PSS_PROCESS_FLAGS_RESERVED_03")]
        const RESERVED_03 = sys::PSS_PROCESS_FLAGS_RESERVED_03 as u32;
        /// `PSS_PROCESS_FLAGS_RESERVED_04`: "undefined".
        #[doc(alias = "PSS_PROCESS_FLAGS_RESERVED_04")]
        const RESERVED_04 = sys::PSS_PROCESS_FLAGS_RESERVED_04 as u32;
        /// `PSS_PROCESS_FLAGS_FROZEN`: the process is frozen (e.g. a debugger broke in, or a
        /// Store app was suspended by lifetime management).
        #[doc(alias = "PSS_PROCESS_FLAGS_FROZEN")]
        const FROZEN = sys::PSS_PROCESS_FLAGS_FROZEN as u32;
    }
}

/// Memory counters of a process, as [`GetProcessMemoryInfo`] reports them: the memory part of
/// `PSS_PROCESS_INFORMATION` (sizes in bytes).
///
/// [`GetProcessMemoryInfo`]: https://learn.microsoft.com/en-us/windows/win32/api/psapi/nf-psapi-getprocessmemoryinfo
#[doc(alias = "PROCESS_MEMORY_COUNTERS_EX")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct MemoryCounters {
    /// `PeakVirtualSize`.
    #[doc(alias = "PeakVirtualSize")]
    pub peak_virtual_size: usize,
    /// `VirtualSize`.
    #[doc(alias = "VirtualSize")]
    pub virtual_size: usize,
    /// `PageFaultCount`: a count, not bytes.
    #[doc(alias = "PageFaultCount")]
    pub page_fault_count: u32,
    /// `PeakWorkingSetSize`.
    #[doc(alias = "PeakWorkingSetSize")]
    pub peak_working_set_size: usize,
    /// `WorkingSetSize`.
    #[doc(alias = "WorkingSetSize")]
    pub working_set_size: usize,
    /// `QuotaPeakPagedPoolUsage`.
    #[doc(alias = "QuotaPeakPagedPoolUsage")]
    pub quota_peak_paged_pool_usage: usize,
    /// `QuotaPagedPoolUsage`.
    #[doc(alias = "QuotaPagedPoolUsage")]
    pub quota_paged_pool_usage: usize,
    /// `QuotaPeakNonPagedPoolUsage`.
    #[doc(alias = "QuotaPeakNonPagedPoolUsage")]
    pub quota_peak_non_paged_pool_usage: usize,
    /// `QuotaNonPagedPoolUsage`.
    #[doc(alias = "QuotaNonPagedPoolUsage")]
    pub quota_non_paged_pool_usage: usize,
    /// `PagefileUsage`.
    #[doc(alias = "PagefileUsage")]
    pub pagefile_usage: usize,
    /// `PeakPagefileUsage`.
    #[doc(alias = "PeakPagefileUsage")]
    pub peak_pagefile_usage: usize,
    /// `PrivateUsage`.
    #[doc(alias = "PrivateUsage")]
    pub private_usage: usize,
}

/// Information about the captured process: [`PSS_PROCESS_INFORMATION`], from
/// [`LocalSnapshot::process_information`](crate::LocalSnapshot::process_information).
///
/// Owns the structure as the OS wrote it ([`as_raw`](Self::as_raw)); the accessors type it.
/// The PEB's address, a reserved field of the pages, is [`peb_base_address`](Self::peb_base_address);
/// `ExecuteFlags` is only in the raw structure.
///
/// [`PSS_PROCESS_INFORMATION`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_process_information
#[doc(alias = "PSS_PROCESS_INFORMATION")]
#[derive(Clone, Copy)]
pub struct ProcessInformation {
    raw: sys::PSS_PROCESS_INFORMATION,
}

// SAFETY: the structure is plain integers and one pointer, `PebBaseAddress`, an address in the
// captured process that `pss` never dereferences (it is only handed out as a number or in the
// raw structure): sending or sharing a copy of it is sending or sharing numbers.
unsafe impl Send for ProcessInformation {}
// SAFETY: as above; shared access only reads the fields.
unsafe impl Sync for ProcessInformation {}

impl ProcessInformation {
    pub(crate) fn from_raw(raw: sys::PSS_PROCESS_INFORMATION) -> Self {
        ProcessInformation { raw }
    }

    /// `ProcessId`: the process ID.
    #[doc(alias = "ProcessId")]
    pub fn process_id(&self) -> u32 {
        self.raw.ProcessId
    }

    /// `PebBaseAddress` ("reserved" in the pages): where the process's PEB is, an address in
    /// the captured process (and in its VA clone), never in this one. Debuggers find a process
    /// through it; [`LocalSnapshot::main_image`](crate::LocalSnapshot::main_image) reads the
    /// main executable's load address from it. For a WOW64 process it is the native (64-bit)
    /// PEB.
    #[doc(alias = "PebBaseAddress", alias = "PEB")]
    pub fn peb_base_address(&self) -> usize {
        self.raw.PebBaseAddress.addr()
    }

    /// `ParentProcessId`: the parent's process ID (a pid only: the parent may have exited and
    /// the pid been reused).
    #[doc(alias = "ParentProcessId")]
    pub fn parent_process_id(&self) -> u32 {
        self.raw.ParentProcessId
    }

    /// `ExitStatus` and `ExitTime`: running, or exited with a code. A status of
    /// `STILL_ACTIVE` (259) counts as exited only when `ExitTime` is set (see [`ExitStatus`]).
    #[doc(alias = "ExitStatus", alias = "STILL_ACTIVE")]
    pub fn exit_status(&self) -> ExitStatus {
        ExitStatus::decide(self.raw.ExitStatus, time::ticks(self.raw.ExitTime) != 0)
    }

    /// `ExitStatus` as the OS wrote it: `STILL_ACTIVE` (259) for a running process, and for one
    /// that exited with 259. Prefer [`exit_status`](Self::exit_status).
    #[doc(alias = "ExitStatus")]
    pub fn exit_status_raw(&self) -> u32 {
        self.raw.ExitStatus
    }

    /// `AffinityMask`: the processors the process may run on.
    #[doc(alias = "AffinityMask")]
    pub fn affinity_mask(&self) -> usize {
        self.raw.AffinityMask
    }

    /// `BasePriority`: the base priority level.
    #[doc(alias = "BasePriority")]
    pub fn base_priority(&self) -> i32 {
        self.raw.BasePriority
    }

    /// `PriorityClass`: the priority class (e.g. `NORMAL_PRIORITY_CLASS`, 0x20).
    #[doc(alias = "PriorityClass")]
    pub fn priority_class(&self) -> u32 {
        self.raw.PriorityClass
    }

    /// `Flags`: protected, WOW64, frozen.
    #[doc(alias = "Flags")]
    pub fn flags(&self) -> ProcessFlags {
        ProcessFlags::from_bits_retain(self.raw.Flags as u32)
    }

    /// `CreateTime`: when the process was created; `None` if not set.
    #[doc(alias = "CreateTime")]
    pub fn create_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.CreateTime)
    }

    /// `ExitTime`: when the process exited; `None` if it had not.
    #[doc(alias = "ExitTime")]
    pub fn exit_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.ExitTime)
    }

    /// `KernelTime`: time spent in kernel mode.
    #[doc(alias = "KernelTime")]
    pub fn kernel_time(&self) -> Duration {
        time::duration(self.raw.KernelTime)
    }

    /// `UserTime`: time spent in user mode.
    #[doc(alias = "UserTime")]
    pub fn user_time(&self) -> Duration {
        time::duration(self.raw.UserTime)
    }

    /// `PeakVirtualSize` .. `PrivateUsage`: the memory counters.
    #[doc(
        alias = "WorkingSetSize",
        alias = "PrivateUsage",
        alias = "PagefileUsage",
        alias = "VirtualSize"
    )]
    pub fn memory(&self) -> MemoryCounters {
        let r = &self.raw;
        MemoryCounters {
            peak_virtual_size: r.PeakVirtualSize,
            virtual_size: r.VirtualSize,
            page_fault_count: r.PageFaultCount,
            peak_working_set_size: r.PeakWorkingSetSize,
            working_set_size: r.WorkingSetSize,
            quota_peak_paged_pool_usage: r.QuotaPeakPagedPoolUsage,
            quota_paged_pool_usage: r.QuotaPagedPoolUsage,
            quota_peak_non_paged_pool_usage: r.QuotaPeakNonPagedPoolUsage,
            quota_non_paged_pool_usage: r.QuotaNonPagedPoolUsage,
            pagefile_usage: r.PagefileUsage,
            peak_pagefile_usage: r.PeakPagefileUsage,
            private_usage: r.PrivateUsage,
        }
    }

    /// `ImageFileName`: the full path of the executable, up to the first NUL, or all
    /// `MAX_PATH` (260) units when it fills the buffer without one ("if the path exceeds the
    /// allocated buffer size, it is truncated"; whether a terminator is kept then is not
    /// documented).
    ///
    /// `None` when it is empty, which happens: Windows reads the name through a buffer much
    /// smaller than `MAX_PATH`, and long paths (from about 128 characters) come back empty
    /// rather than truncated. (As every name accessor of `pss`, an empty name is `None`.)
    #[doc(alias = "ImageFileName")]
    pub fn image_file_name(&self) -> Option<WideStr<'_>> {
        Some(WideStr::until_nul(&self.raw.ImageFileName)).filter(|name| !name.is_empty())
    }

    /// True if the name fills the whole `MAX_PATH` buffer, i.e. it was probably truncated.
    #[doc(alias = "ImageFileName")]
    pub fn image_file_name_fills_buffer(&self) -> bool {
        !self.raw.ImageFileName.contains(&0)
    }

    /// The structure as the OS wrote it.
    pub fn as_raw(&self) -> &sys::PSS_PROCESS_INFORMATION {
        &self.raw
    }
}

impl fmt::Debug for ProcessInformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessInformation")
            .field("process_id", &self.process_id())
            .field("parent_process_id", &self.parent_process_id())
            .field("exit_status", &self.exit_status())
            .field("flags", &self.flags())
            .field("image_file_name", &self.image_file_name())
            .field("create_time", &self.create_time())
            .field("kernel_time", &self.kernel_time())
            .field("user_time", &self.user_time())
            .field("memory", &self.memory())
            .finish_non_exhaustive()
    }
}
