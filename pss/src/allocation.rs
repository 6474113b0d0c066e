//! Zero-sized markers recording how a snapshot was allocated.

use core::fmt::Debug;

use crate::CaptureFlags;

/// How a [`LocalSnapshot`](crate::LocalSnapshot) was allocated: [`HeapAllocated`] or
/// [`VmAllocated`]. Sealed: no other types.
///
/// The difference matters for one operation: moving a snapshot into another process with
/// `PSS_DUPLICATE_CLOSE_SOURCE` "will only succeed" for a snapshot captured with
/// `PSS_CREATE_USE_VM_ALLOCATIONS`, so [`move_into`](crate::LocalSnapshot::move_into) exists
/// only for [`VmAllocated`] snapshots. The markers are zero-sized: the type costs nothing at run
/// time.
pub trait Allocation: sealed::Sealed + Debug + Send + Sync + Unpin + 'static {
    /// The capture flags this allocation adds.
    #[doc(hidden)]
    const CAPTURE_FLAGS: CaptureFlags;
}

/// Marker: the snapshot may use the process heap (captured without
/// `PSS_CREATE_USE_VM_ALLOCATIONS`, or nothing is known about it).
///
/// This is the conservative default: every operation but
/// [`move_into`](crate::LocalSnapshot::move_into) is available.
#[derive(Debug)]
pub enum HeapAllocated {}

/// Marker: the snapshot was captured with `PSS_CREATE_USE_VM_ALLOCATIONS` ("the facility
/// should not use the process heap for any persistent or transient allocations"). Such a
/// snapshot can be moved into another process and freed from outside its process.
///
/// See [`PSS_CAPTURE_FLAGS`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_capture_flags).
#[doc(alias = "PSS_CREATE_USE_VM_ALLOCATIONS")]
#[derive(Debug)]
pub enum VmAllocated {}

impl Allocation for HeapAllocated {
    const CAPTURE_FLAGS: CaptureFlags = CaptureFlags::empty();
}

impl Allocation for VmAllocated {
    const CAPTURE_FLAGS: CaptureFlags = CaptureFlags::CREATE_USE_VM_ALLOCATIONS;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::HeapAllocated {}
    impl Sealed for super::VmAllocated {}
}
