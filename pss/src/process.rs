//! Process handles for snapshots: this process's, and opening another with exactly the rights
//! a job needs.

use pss_sys as sys;

use crate::handle::{BorrowedHandle, FromRawHandle, OwnedHandle};
use crate::{Error, Function, ProcessAccess, Result};

/// [`OpenProcess`]`(access, FALSE, pid)`: opens process `pid` with `access` (not inheritable).
///
/// Ask for the least the job needs: [`ProcessAccess::for_capture`],
/// [`ProcessAccess::DUPLICATE_TARGET`], [`ProcessAccess::REMOTE_SNAPSHOT`], ... The error comes
/// from [`GetLastError`], e.g. [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED) or
/// [`ErrorCode::INVALID_PARAMETER`](crate::ErrorCode::INVALID_PARAMETER) (no such process). This does not
/// need the Process Snapshotting API, so it never fails with
/// [`Unavailable`](crate::ErrorKind::Unavailable).
///
/// Kernel32 calls: `OpenProcess`, and `GetLastError` if it fails.
///
/// ```no_run,standalone_crate
/// use pss::ProcessAccess;
///
/// # fn main() -> pss::Result<()> {
/// let child = std::process::Command::new("helper.exe").spawn().expect("spawn");
/// let handle = pss::open_process(child.id(), ProcessAccess::REMOTE_SNAPSHOT)?;
/// # Ok(()) }
/// ```
///
/// # References
///
/// - [`OpenProcess`]
/// - [`GetLastError`]
///
/// [`OpenProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess
/// [`GetLastError`]: https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-getlasterror
#[doc(alias = "OpenProcess")]
pub fn open_process(pid: u32, access: ProcessAccess) -> Result<OwnedHandle> {
    // SAFETY: `OpenProcess` takes plain values; a handle it returns is ours to close.
    let handle = unsafe { sys::OpenProcess(access.bits(), 0, pid) };
    if handle.is_null() {
        // SAFETY: `GetLastError` has no preconditions; it reads this thread's code, which
        // `OpenProcess` set on failure.
        let code = unsafe { sys::GetLastError() };
        return Err(Error::os(Function::OpenProcess, code));
    }
    // SAFETY: a non-null `OpenProcess` result is a new process handle, owned by nothing else,
    // that needs no cleanup but `CloseHandle`.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle) })
}

/// [`GetCurrentProcess`]: this process's pseudo handle, valid for as long as the process runs
/// and never closed (the standard library documents it as a valid [`BorrowedHandle`]).
///
/// Capture this process with it, or duplicate a snapshot into it:
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, LocalSnapshot};
///
/// # fn main() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture(pss::current_process(), CaptureFlags::THREADS)?;
/// println!("{} threads", snapshot.thread_information()?.threads_captured);
/// # Ok(()) }
/// ```
///
/// # Warning
///
/// The value is a constant that means "the calling process" in whatever process uses it: it
/// must not be sent to another process to stand for this one (that process would read it as
/// itself).
///
/// Kernel32 calls: `GetCurrentProcess` (no system call: it returns the constant).
///
/// # References
///
/// - [`GetCurrentProcess`]
/// - [`BorrowedHandle`](https://doc.rust-lang.org/std/os/windows/io/struct.BorrowedHandle.html)
///
/// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
#[doc(alias = "GetCurrentProcess")]
pub fn current_process() -> BorrowedHandle<'static> {
    // SAFETY: `GetCurrentProcess` has no preconditions; its pseudo handle is valid in this
    // process for its whole life and is never closed, so it may be borrowed for `'static`.
    unsafe { BorrowedHandle::borrow_raw(sys::GetCurrentProcess()) }
}
