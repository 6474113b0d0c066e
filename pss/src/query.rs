//! Typed queries: one method per `PSS_QUERY_*` class on [`LocalSnapshot`], each exactly one
//! `PssQuerySnapshot` call with the exact size of the class's structure.

use pss_sys as sys;

use crate::calls::PssApi;
use crate::{
    Allocation, CaptureFlags, Error, ErrorCode, ErrorKind, Function, HandleTrace, LocalSnapshot,
    PerformanceCounters, ProcessInformation, Result, ThreadInformation, VaClone,
};

/// What `ERROR_NOT_FOUND` from a query or walk of one information class means.
#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub enum Missing {
    /// One cause only: the snapshot was captured without this flag
    /// ([`ErrorKind::NotCaptured`]).
    Flag(CaptureFlags),
    /// More than one cause is possible: [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND), with the causes as its
    /// [`Error::reason`], one of which is a missing flag ([`Error::missing_flags`]).
    Causes(&'static str, CaptureFlags),
    /// Thread names: missing as threads are, and a class that kernel32 may not know
    /// (`ERROR_INVALID_PARAMETER`, with [`UNKNOWN_THREAD_NAME_CLASS`] as the reason).
    ThreadNames,
}

/// Why a `PSS_WALK_THREAD_NAME` walk gives `ERROR_INVALID_PARAMETER`.
pub(crate) const UNKNOWN_THREAD_NAME_CLASS: &str = "this kernel32 does not know PSS_WALK_THREAD_NAME \
     (declared by SDK 10.0.26100; at most Windows 11 24H2 and later answer it)";

impl Missing {
    /// Turns `ERROR_NOT_FOUND` (and, for thread names, `ERROR_INVALID_PARAMETER`) into what it
    /// means for this class; other errors pass.
    #[cold]
    #[inline(never)]
    pub(crate) fn explain(self, error: Error) -> Error {
        match (self, error.kind()) {
            (Missing::Flag(flags), ErrorKind::Os(ErrorCode::NOT_FOUND)) => {
                Error::not_captured(error.function(), flags)
            }
            (Missing::Causes(reason, flags), ErrorKind::Os(ErrorCode::NOT_FOUND)) => {
                error.with_reason(reason).with_missing_flags(flags)
            }
            (Missing::ThreadNames, ErrorKind::Os(ErrorCode::NOT_FOUND)) => error
                .with_reason(THREADS_MISSING_REASON)
                .with_missing_flags(CaptureFlags::THREADS),
            (Missing::ThreadNames, ErrorKind::Os(ErrorCode::INVALID_PARAMETER)) => {
                error.with_reason(UNKNOWN_THREAD_NAME_CLASS)
            }
            _ => error,
        }
    }
}

/// Threads are missing from snapshots captured without `THREADS`, and from every snapshot of a
/// process that had exited (Windows captures no thread data then; decompiled ntdll).
pub(crate) const THREADS_MISSING: Missing =
    Missing::Causes(THREADS_MISSING_REASON, CaptureFlags::THREADS);

const THREADS_MISSING_REASON: &str = "captured without PSS_CAPTURE_THREADS, or the process had \
     exited before the capture, or no thread could be enumerated (Windows then captures no \
     thread data)";

/// The handle trace is missing without `HANDLE_TRACE`, and also when the process does not have
/// handle tracing enabled (decompiled ntdll; Vanara's tests on Windows).
pub(crate) const TRACE_MISSING: Missing = Missing::Causes(
    "captured without PSS_CAPTURE_HANDLE_TRACE, or handle tracing was not enabled in the process",
    CaptureFlags::HANDLE_TRACE,
);

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
    /// Which capture flag provides this class is not documented; Windows captures it for
    /// every snapshot, even with [`CaptureFlags::NONE`] (a capture fails if it cannot read
    /// it). Should the OS answer `ERROR_NOT_FOUND`, it is reported as [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND)
    /// (there is no flag to name).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
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
    /// [`ErrorCode::INVALID_HANDLE`](ErrorCode::INVALID_HANDLE).
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_VA_CLONE_INFORMATION")]
    #[doc(alias = "PSS_VA_CLONE_INFORMATION")]
    pub fn va_clone(&self) -> Result<VaClone<'_>> {
        // SAFETY: PSS_VA_CLONE_INFORMATION is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_VA_CLONE_INFORMATION) }
            .map_err(|e| Missing::Flag(CaptureFlags::VA_CLONE).explain(e))?;
        // SAFETY: the clone handle belongs to the snapshot and stays open until it is freed,
        // which the borrow of `self` prevents for the result's life.
        unsafe { VaClone::from_raw(raw) }
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_AUXILIARY_PAGES_INFORMATION`: how many auxiliary
    /// pages were captured (`PSS_AUXILIARY_PAGES_INFORMATION.AuxPagesCaptured`).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::AUXILIARY_PAGES`],
    /// the flag Microsoft's pages call reserved and Windows captures them with (see there).
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
            unsafe { self.query(sys::PSS_QUERY_AUXILIARY_PAGES_INFORMATION) }
                .map_err(|e| Missing::Flag(CaptureFlags::AUXILIARY_PAGES).explain(e))?;
        Ok(raw.AuxPagesCaptured)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_VA_SPACE_INFORMATION`: how many address-space
    /// regions were captured (`PSS_VA_SPACE_INFORMATION.RegionCount`).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::VA_SPACE`].
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_VA_SPACE_INFORMATION")]
    #[doc(alias = "PSS_VA_SPACE_INFORMATION", alias = "RegionCount")]
    pub fn region_count(&self) -> Result<u32> {
        // SAFETY: PSS_VA_SPACE_INFORMATION is the structure of this class.
        let raw: sys::PSS_VA_SPACE_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_VA_SPACE_INFORMATION) }
                .map_err(|e| Missing::Flag(CaptureFlags::VA_SPACE).explain(e))?;
        Ok(raw.RegionCount)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_HANDLE_INFORMATION`: how many handles were
    /// captured (`PSS_HANDLE_INFORMATION.HandlesCaptured`).
    ///
    /// Not captured ([`ErrorKind::NotCaptured`]) without [`CaptureFlags::HANDLES`].
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_HANDLE_INFORMATION")]
    #[doc(alias = "PSS_HANDLE_INFORMATION", alias = "HandlesCaptured")]
    pub fn handle_count(&self) -> Result<u32> {
        // SAFETY: PSS_HANDLE_INFORMATION is the structure of this class.
        let raw: sys::PSS_HANDLE_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_HANDLE_INFORMATION) }
                .map_err(|e| Missing::Flag(CaptureFlags::HANDLES).explain(e))?;
        Ok(raw.HandlesCaptured)
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_THREAD_INFORMATION`: how many threads were
    /// captured, terminated ones that still have handles included, and the length of their
    /// context records ([`ThreadInformation`]).
    ///
    /// [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND) when the snapshot holds no thread data, which has two causes
    /// (both in [`Error::reason`]): it was captured without [`CaptureFlags::THREADS`], or the
    /// process had exited before the capture, for which Windows captures no thread data at
    /// all rather than zero threads. [`process_information`](Self::process_information)'s
    /// [`exit_status`](ProcessInformation::exit_status) tells them apart.
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_THREAD_INFORMATION")]
    #[doc(alias = "PSS_THREAD_INFORMATION")]
    pub fn thread_information(&self) -> Result<ThreadInformation> {
        // SAFETY: PSS_THREAD_INFORMATION is the structure of this class.
        let raw: sys::PSS_THREAD_INFORMATION =
            unsafe { self.query(sys::PSS_QUERY_THREAD_INFORMATION) }
                .map_err(|e| THREADS_MISSING.explain(e))?;
        Ok(raw.into())
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_HANDLE_TRACE_INFORMATION`: the handle-trace
    /// section, borrowed from this snapshot, and its size ([`HandleTrace`]).
    ///
    /// [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND) when there is no trace, which has two causes (both in
    /// [`Error::reason`]): the snapshot was captured without [`CaptureFlags::HANDLE_TRACE`],
    /// or the process did not have handle tracing enabled (Windows captures a trace only
    /// then). Success with a NULL section handle (not documented) is reported as
    /// [`ErrorCode::INVALID_HANDLE`](ErrorCode::INVALID_HANDLE).
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
            .map_err(|e| TRACE_MISSING.explain(e))?;
        // SAFETY: the section handle belongs to the snapshot and stays open until it is freed,
        // which the borrow of `self` prevents for the result's life.
        unsafe { HandleTrace::from_raw(raw) }
    }

    /// [`PssQuerySnapshot`] with `PSS_QUERY_PERFORMANCE_COUNTERS`: what the capture cost
    /// ([`PerformanceCounters`]).
    ///
    /// The page says the class needs [`CaptureFlags::CREATE_MEASURE_PERFORMANCE`]; Windows
    /// does not check: without that flag the query succeeds with zeros
    /// ([`PerformanceCounters::is_measured`] is then false). `pss` passes on what Windows
    /// answers and promises no [`ErrorKind::NotCaptured`] here.
    ///
    /// Kernel32 calls: `PssQuerySnapshot`.
    ///
    /// # References
    ///
    /// - [`PssQuerySnapshot`]
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    #[doc(alias = "PssQuerySnapshot", alias = "PSS_QUERY_PERFORMANCE_COUNTERS")]
    #[doc(alias = "PSS_PERFORMANCE_COUNTERS")]
    pub fn performance_counters(&self) -> Result<PerformanceCounters> {
        // SAFETY: PSS_PERFORMANCE_COUNTERS is the structure of this class.
        let raw = unsafe { self.query(sys::PSS_QUERY_PERFORMANCE_COUNTERS) }?;
        Ok(PerformanceCounters::from_raw(raw))
    }
}
