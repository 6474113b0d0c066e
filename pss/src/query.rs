//! Typed queries: one method per `PSS_QUERY_*` class on [`LocalSnapshot`], each exactly one
//! `PssQuerySnapshot` call with the exact size of the class's structure.

use pss_sys as sys;

use crate::calls::PssApi;
use crate::{
    Allocation, CaptureFlags, Error, ErrorKind, Function, HandleTrace, LocalSnapshot,
    PerformanceCounters, ProcessInformation, Result, ThreadInformation, VaClone,
};

/// [`Error::reason`] for auxiliary pages reported as not captured.
pub(crate) const AUXILIARY_PAGES_FLAG_INFERRED: &str = "the documents name no capture flag for \
    auxiliary pages; PSS_CAPTURE_VA_CLONE is inferred (the pss-tests model captures them with it)";

/// `ERROR_NOT_FOUND` becomes [`ErrorKind::NotCaptured`] naming `flags`; other errors pass.
pub(crate) fn not_captured(
    error: Error,
    flags: CaptureFlags,
    reason: Option<&'static str>,
) -> Error {
    if error.kind() == ErrorKind::NotFound {
        Error::not_captured(error.function(), flags, reason)
    } else {
        error
    }
}

impl<A: Allocation> LocalSnapshot<A> {
    /// One `PssQuerySnapshot` call for `class` into a `T`.
    ///
    /// # Safety
    ///
    /// `T` must be the structure the documents give for `class`.
    unsafe fn query<T: Default>(&self, class: sys::PSS_QUERY_INFORMATION_CLASS) -> Result<T> {
        let api = PssApi::get(Function::PssQuerySnapshot)?;
        let mut out = T::default();
        // SAFETY: the snapshot is live and in this process (`LocalSnapshot`), and not `Sync`,
        // so no other thread uses it meanwhile; the caller vouches for `T`.
        unsafe { api.query(self.raw(), class, &mut out) }?;
        Ok(out)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_PROCESS_INFORMATION`: the process's ids, exit
    /// status, times, memory counters, flags and image name ([`ProcessInformation`]).
    ///
    /// Which capture flag provides this class is not documented; every snapshot the
    /// `pss-tests` model captures has it, even with [`CaptureFlags::NONE`]. Should the OS
    /// answer `ERROR_NOT_FOUND`, it is reported as [`ErrorKind::NotFound`] (there is no flag to
    /// name).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_PROCESS_INFORMATION")]
    #[doc(alias = "PSS_PROCESS_INFORMATION")]
    pub fn process_information(&self) -> Result<ProcessInformation> {
        // SAFETY: PSS_PROCESS_INFORMATION is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_PROCESS_INFORMATION) }?;
        Ok(ProcessInformation::from_raw(raw))
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_VA_CLONE_INFORMATION`: the VA clone process,
    /// borrowed from this snapshot ([`VaClone`]).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::VA_CLONE`]. Success
    /// with a NULL handle (not documented) is reported as
    /// [`InvalidHandle`](ErrorKind::InvalidHandle).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_VA_CLONE_INFORMATION")]
    #[doc(alias = "PSS_VA_CLONE_INFORMATION")]
    pub fn va_clone(&self) -> Result<VaClone<'_>> {
        // SAFETY: PSS_VA_CLONE_INFORMATION is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_VA_CLONE_INFORMATION) }
            .map_err(|e| not_captured(e, CaptureFlags::VA_CLONE, None))?;
        // SAFETY: the clone handle belongs to the snapshot and stays open until it is freed,
        // which the borrow of `self` prevents for the result's life.
        unsafe { VaClone::from_raw(raw) }
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_AUXILIARY_PAGES_INFORMATION`: how many auxiliary
    /// pages were captured (`PSS_AUXILIARY_PAGES_INFORMATION.AuxPagesCaptured`).
    ///
    /// The documents name no capture flag for auxiliary pages. When the OS answers
    /// `ERROR_NOT_FOUND`, `pss` reports [`ErrorKind::NotCaptured`] with
    /// [`CaptureFlags::VA_CLONE`], our inference (the `pss-tests` model captures them with
    /// it), and [`Error::reason`] says it is inferred.
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(
        alias = "PssQuerySnapshot",
        alias = "PSS_QUERY_AUXILIARY_PAGES_INFORMATION"
    )]
    #[doc(alias = "PSS_AUXILIARY_PAGES_INFORMATION", alias = "AuxPagesCaptured")]
    pub fn auxiliary_page_count(&self) -> Result<u32> {
        // SAFETY: PSS_AUXILIARY_PAGES_INFORMATION is the structure of this class.
        let raw: sys::PSS_AUXILIARY_PAGES_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_AUXILIARY_PAGES_INFORMATION) }.map_err(|e| {
                not_captured(
                    e,
                    CaptureFlags::VA_CLONE,
                    Some(AUXILIARY_PAGES_FLAG_INFERRED),
                )
            })?;
        Ok(raw.AuxPagesCaptured)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_VA_SPACE_INFORMATION`: how many address-space
    /// regions were captured (`PSS_VA_SPACE_INFORMATION.RegionCount`).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::VA_SPACE`].
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_VA_SPACE_INFORMATION")]
    #[doc(alias = "PSS_VA_SPACE_INFORMATION", alias = "RegionCount")]
    pub fn region_count(&self) -> Result<u32> {
        // SAFETY: PSS_VA_SPACE_INFORMATION is the structure of this class.
        let raw: sys::PSS_VA_SPACE_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_VA_SPACE_INFORMATION) }
                .map_err(|e| not_captured(e, CaptureFlags::VA_SPACE, None))?;
        Ok(raw.RegionCount)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_HANDLE_INFORMATION`: how many handles were
    /// captured (`PSS_HANDLE_INFORMATION.HandlesCaptured`).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::HANDLES`].
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_HANDLE_INFORMATION")]
    #[doc(alias = "PSS_HANDLE_INFORMATION", alias = "HandlesCaptured")]
    pub fn handle_count(&self) -> Result<u32> {
        // SAFETY: PSS_HANDLE_INFORMATION is the structure of this class.
        let raw: sys::PSS_HANDLE_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_HANDLE_INFORMATION) }
                .map_err(|e| not_captured(e, CaptureFlags::HANDLES, None))?;
        Ok(raw.HandlesCaptured)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_THREAD_INFORMATION`: how many threads were
    /// captured, terminated ones that still have handles included, and the length of their
    /// context records ([`ThreadInformation`]).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::THREADS`].
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_THREAD_INFORMATION")]
    #[doc(alias = "PSS_THREAD_INFORMATION")]
    pub fn thread_information(&self) -> Result<ThreadInformation> {
        // SAFETY: PSS_THREAD_INFORMATION is the structure of this class.
        let raw: sys::PSS_THREAD_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_THREAD_INFORMATION) }
                .map_err(|e| not_captured(e, CaptureFlags::THREADS, None))?;
        Ok(raw.into())
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_HANDLE_TRACE_INFORMATION`: the handle-trace
    /// section, borrowed from this snapshot, and its size ([`HandleTrace`]).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::HANDLE_TRACE`].
    /// Success with a NULL section handle (not documented) is reported as
    /// [`InvalidHandle`](ErrorKind::InvalidHandle).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(
        alias = "PssQuerySnapshot",
        alias = "PSS_QUERY_HANDLE_TRACE_INFORMATION"
    )]
    #[doc(alias = "PSS_HANDLE_TRACE_INFORMATION")]
    pub fn handle_trace(&self) -> Result<HandleTrace<'_>> {
        // SAFETY: PSS_HANDLE_TRACE_INFORMATION is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_HANDLE_TRACE_INFORMATION) }
            .map_err(|e| not_captured(e, CaptureFlags::HANDLE_TRACE, None))?;
        // SAFETY: the section handle belongs to the snapshot and stays open until it is freed,
        // which the borrow of `self` prevents for the result's life.
        unsafe { HandleTrace::from_raw(raw) }
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_PERFORMANCE_COUNTERS`: what the capture cost
    /// ([`PerformanceCounters`]).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without
    /// [`CaptureFlags::CREATE_MEASURE_PERFORMANCE`] (documented).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_PERFORMANCE_COUNTERS")]
    #[doc(alias = "PSS_PERFORMANCE_COUNTERS")]
    pub fn performance_counters(&self) -> Result<PerformanceCounters> {
        // SAFETY: PSS_PERFORMANCE_COUNTERS is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_PERFORMANCE_COUNTERS) }
            .map_err(|e| not_captured(e, CaptureFlags::CREATE_MEASURE_PERFORMANCE, None))?;
        Ok(PerformanceCounters::from_raw(raw))
    }
}
