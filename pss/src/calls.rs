//! The one gateway to kernel32's PSS functions.
//!
//! Every call of a `Pss*` function in this crate goes through [`PssApi`], which can only be
//! obtained after [`is_available`](crate::is_available) said yes: no code path can reach a
//! missing import.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use pss_sys as sys;

use crate::available::current_process_if_available;
use crate::handle::{AsRawHandle, BorrowedHandle};
use crate::{CaptureFlags, ContextFlags, Error, Function, Result};

/// A snapshot handle (`HPSS`) known to be non-null.
pub(crate) type RawSnapshot = NonNull<c_void>;

/// Proof that kernel32 exports the PSS functions; only [`PssApi::get`] makes one. It carries
/// this process's pseudo handle, fetched once by the probe.
#[derive(Clone, Copy)]
pub(crate) struct PssApi {
    current_process: BorrowedHandle<'static>,
}

impl PssApi {
    /// Probes (once per process) and fails with `Unavailable`, naming `function`, if PSS is
    /// missing.
    pub(crate) fn get(function: Function) -> Result<PssApi> {
        match current_process_if_available() {
            Some(current_process) => Ok(PssApi { current_process }),
            None => Err(Error::unavailable(function)),
        }
    }

    /// `GetCurrentProcess()`, as the probe fetched it: the pseudo handle through which local
    /// snapshots are freed and duplicated. No kernel32 call.
    pub(crate) fn current_process(self) -> BorrowedHandle<'static> {
        self.current_process
    }

    /// `PssCaptureSnapshot`. The new snapshot lives in this process whatever `process` is.
    pub(crate) fn capture(
        self,
        process: BorrowedHandle<'_>,
        flags: CaptureFlags,
        context: ContextFlags,
    ) -> Result<RawSnapshot> {
        let mut snapshot = ptr::null_mut();
        // SAFETY: the function exists (`self`); `process` is a handle borrowed for the call;
        // `snapshot` is a valid place for the one `HPSS` written.
        let code = unsafe {
            sys::PssCaptureSnapshot(
                process.as_raw_handle(),
                flags.bits(),
                context.bits(),
                &mut snapshot,
            )
        };
        created(Function::PssCaptureSnapshot, code, snapshot)
    }

    /// `PssDuplicateSnapshot`: a new snapshot in `target`'s process.
    ///
    /// # Safety
    ///
    /// `snapshot` must be live, in the context of `source`'s process, and not in use by another
    /// thread. With `PSS_DUPLICATE_CLOSE_SOURCE` the call frees `snapshot` whatever it returns:
    /// the caller must already have given up ownership of it.
    pub(crate) unsafe fn duplicate(
        self,
        source: BorrowedHandle<'_>,
        snapshot: RawSnapshot,
        target: BorrowedHandle<'_>,
        flags: sys::PSS_DUPLICATE_FLAGS,
    ) -> Result<RawSnapshot> {
        let mut duplicate = ptr::null_mut();
        // SAFETY: the function exists (`self`); the caller guarantees `snapshot` is live in
        // `source`'s context and unshared; both process handles are borrowed for the call;
        // `duplicate` is a valid place for the one `HPSS` written.
        let code = unsafe {
            sys::PssDuplicateSnapshot(
                source.as_raw_handle(),
                snapshot.as_ptr(),
                target.as_raw_handle(),
                &mut duplicate,
                flags,
            )
        };
        created(Function::PssDuplicateSnapshot, code, duplicate)
    }

    /// `PssFreeSnapshot(process, snapshot)`.
    ///
    /// # Safety
    ///
    /// `snapshot` must be live, in the context of `process`'s process, owned by the caller, and
    /// never used again, whatever this returns (after a failed free the documentation does not
    /// say whether the snapshot still exists; a second free could be a double free, which is
    /// undefined behaviour, so `pss` never retries).
    pub(crate) unsafe fn free(
        self,
        process: BorrowedHandle<'_>,
        snapshot: RawSnapshot,
    ) -> Result<()> {
        // SAFETY: the function exists (`self`); the caller hands over `snapshot`, live in
        // `process`'s context, for its one free.
        let code = unsafe { sys::PssFreeSnapshot(process.as_raw_handle(), snapshot.as_ptr()) };
        match code {
            sys::ERROR_SUCCESS => Ok(()),
            code => Err(Error::os(Function::PssFreeSnapshot, code)),
        }
    }
}

/// The `HPSS` a creating call wrote, trusted only after `ERROR_SUCCESS` (what the call writes on
/// failure is not documented). A null handle reported as success is not documented either:
/// there is nothing to free, and it is reported as `ERROR_INVALID_HANDLE`.
fn created(function: Function, code: u32, snapshot: sys::HPSS) -> Result<RawSnapshot> {
    if code != sys::ERROR_SUCCESS {
        return Err(Error::os(function, code));
    }
    NonNull::new(snapshot).ok_or(Error::os(function, sys::ERROR_INVALID_HANDLE))
}
