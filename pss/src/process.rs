//! Opening a process handle with exactly the rights a job needs.

use pss_sys as sys;

use crate::handle::{FromRawHandle, OwnedHandle};
use crate::{Error, Function, ProcessAccess, Result};

/// [`OpenProcess`]`(access, FALSE, pid)`: opens process `pid` with `access` (not inheritable).
///
/// Ask for the least the job needs: [`ProcessAccess::for_capture`],
/// [`ProcessAccess::DUPLICATE_TARGET`], [`ProcessAccess::REMOTE_SNAPSHOT`], ... The error comes
/// from [`GetLastError`], e.g. [`AccessDenied`](crate::ErrorKind::AccessDenied) or
/// [`InvalidParameter`](crate::ErrorKind::InvalidParameter) (no such process). This does not
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
