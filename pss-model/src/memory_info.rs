//! What `ZwQueryVirtualMemory(MemoryBasicInformation)` answers for an address of a model
//! process: the one answer both the VA-space walk and the auxiliary page's
//! `BasicInformation` are made of (decompiled 24H2 ntdll `PsspCaptureAuxiliaryPages` queries
//! the page in the target into its record, `Heap + 8`, as `PsspCaptureVaSpaceInformation`
//! queries every region).

use super::data::{RegionSpec, addr};
use pss_sys::*;

/// Where user space ends: a query past every region finds free memory up to here.
const USER_SPACE_END: usize = addr(0x7FFF_FFFF_0000, 0x7FFF_0000);

/// The memory information of `region`, as a query at its base answers.
pub(crate) fn of_region(region: &RegionSpec) -> MEMORY_BASIC_INFORMATION {
    let base = std::ptr::without_provenance_mut(region.base);
    let free = region.state == MEM_FREE;
    MEMORY_BASIC_INFORMATION {
        BaseAddress: base,
        AllocationBase: if free {
            std::ptr::null_mut()
        } else {
            std::ptr::without_provenance_mut(region.allocation_base.unwrap_or(region.base))
        },
        AllocationProtect: if free { 0 } else { region.protect },
        #[cfg(not(target_arch = "x86"))]
        PartitionId: 0,
        RegionSize: region.size,
        State: region.state,
        Protect: region.protect,
        Type: region.kind,
    }
}

/// The memory information at `address` in a process whose regions are `regions`: its region's,
/// or, where no region holds it, free memory from its page up to the next region.
pub(crate) fn at(regions: &[RegionSpec], address: usize) -> MEMORY_BASIC_INFORMATION {
    if let Some(region) = regions.iter().find(|r| r.contains(address)) {
        return of_region(region);
    }
    let page = address & !0xFFF;
    let end = regions
        .iter()
        .map(|r| r.base)
        .filter(|&base| base > page)
        .min()
        .unwrap_or(USER_SPACE_END.max(page + 0x1000));
    MEMORY_BASIC_INFORMATION {
        BaseAddress: std::ptr::without_provenance_mut(page),
        AllocationBase: std::ptr::null_mut(),
        AllocationProtect: 0,
        #[cfg(not(target_arch = "x86"))]
        PartitionId: 0,
        RegionSize: end - page,
        State: MEM_FREE,
        Protect: PAGE_NOACCESS,
        Type: 0,
    }
}
