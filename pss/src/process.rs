//! Process handles for snapshots: this process's, and opening another with exactly the rights
//! a job needs.

use pss_sys as sys;

use core::fmt;

use crate::handle::{
    AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, IntoRawHandle, OwnedHandle,
    ProcessHandle, RawHandle,
};
use crate::{Error, Function, ProcessAccess, Result};

/// [`OpenProcess`]`(access, FALSE, pid)`: opens process `pid` with `access` (not inheritable).
///
/// Ask for the least the job needs: [`ProcessAccess::for_capture`],
/// [`ProcessAccess::DUPLICATE_TARGET`], [`ProcessAccess::REMOTE_SNAPSHOT`], ... The result is a
/// [`Process`]: an owned handle that remembers the rights it was granted, so that `pss` can
/// refuse what those rights would make fail or leak silently (a snapshot put into a process
/// through a handle that cannot free it). The error comes from [`GetLastError`], e.g.
/// [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED) or
/// [`ErrorCode::INVALID_PARAMETER`](crate::ErrorCode::INVALID_PARAMETER) (no such process).
/// This does not need the Process Snapshotting API, so it never fails with
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
/// assert_eq!(handle.access(), ProcessAccess::REMOTE_SNAPSHOT);
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
pub fn open_process(pid: u32, access: ProcessAccess) -> Result<Process> {
    // SAFETY: `OpenProcess` takes plain values; a handle it returns is ours to close.
    let handle = unsafe { sys::OpenProcess(access.bits(), 0, pid) };
    if handle.is_null() {
        // SAFETY: `GetLastError` has no preconditions; it reads this thread's code, which
        // `OpenProcess` set on failure.
        let code = unsafe { sys::GetLastError() };
        return Err(Error::os(Function::OpenProcess, code));
    }
    // SAFETY: a non-null `OpenProcess` result is a new process handle, owned by nothing else,
    // that needs no cleanup but `CloseHandle`; `OpenProcess` grants exactly the access asked
    // for, or fails.
    Ok(unsafe { Process::from_owned_handle(OwnedHandle::from_raw_handle(handle), access) })
}

/// A process handle [`open_process`] opened: an [`OwnedHandle`] (closed with `CloseHandle` on
/// drop) together with the access it was granted.
///
/// Use it wherever a process handle goes ([`AsHandle`], [`ProcessHandle`]). Knowing its rights
/// lets `pss` refuse, before calling the OS, a [`RemoteSnapshot`](crate::RemoteSnapshot) that
/// this handle could not free: Windows' remote free reports success without
/// `PROCESS_VM_OPERATION` or `PROCESS_DUP_HANDLE` and leaves the snapshot behind, which no
/// caller could notice afterwards. For any other handle (`OwnedHandle`, `BorrowedHandle`,
/// `Child`) the rights are unknown and the OS checks alone.
///
/// [`into_owned_handle`](Self::into_owned_handle) (or `From`) gives the plain handle;
/// [`from_owned_handle`](Self::from_owned_handle) makes one from a handle whose rights you know.
#[doc(alias = "OpenProcess", alias = "PROCESS_ACCESS_RIGHTS")]
pub struct Process {
    handle: OwnedHandle,
    access: ProcessAccess,
}

impl Process {
    /// Pairs `handle` with the access it was granted.
    ///
    /// # Safety
    ///
    /// `handle` must be a process handle granted exactly `access` (e.g. what `OpenProcess` or
    /// `DuplicateHandle` returned for that access), so that `pss` may rely on it: claiming
    /// rights the handle lacks makes a remote free leak silently, as with a plain handle.
    pub unsafe fn from_owned_handle(handle: OwnedHandle, access: ProcessAccess) -> Self {
        Process { handle, access }
    }

    /// The access the handle was granted.
    pub fn access(&self) -> ProcessAccess {
        self.access
    }

    /// The plain owned handle, forgetting its rights.
    #[must_use = "dropping the handle closes it"]
    pub fn into_owned_handle(self) -> OwnedHandle {
        self.handle
    }
}

impl From<Process> for OwnedHandle {
    fn from(process: Process) -> OwnedHandle {
        process.handle
    }
}

impl AsHandle for Process {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.handle.as_handle()
    }
}

impl AsRawHandle for Process {
    fn as_raw_handle(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }
}

impl IntoRawHandle for Process {
    fn into_raw_handle(self) -> RawHandle {
        self.handle.into_raw_handle()
    }
}

// SAFETY: the handle is an `OwnedHandle` held from construction to drop, never replaced; the
// access is what it was granted (`open_process`, or the caller of `from_owned_handle`).
unsafe impl ProcessHandle for Process {
    fn granted_access(&self) -> Option<ProcessAccess> {
        Some(self.access)
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("handle", &self.handle.as_raw_handle())
            .field("access", &self.access)
            .finish()
    }
}

static_assertions::assert_impl_all!(Process: Send, Sync, ProcessHandle);

/// [`GetExitCodeProcess`]: the exit code of the process `process` refers to, if it has exited;
/// `None` while it runs (`STILL_ACTIVE`, 259: a process that exits with 259 looks running, as
/// the page warns), and when the call fails (the handle lacks
/// `PROCESS_QUERY_LIMITED_INFORMATION`, which every capture needs anyway).
///
/// Called only on a capture's failure path, to tell a target that has exited from the other
/// causes of the same codes ([`Error::target_exit_code`]).
///
/// [`GetExitCodeProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getexitcodeprocess
#[cold]
pub(crate) fn exit_code(process: BorrowedHandle<'_>) -> Option<u32> {
    let mut code = 0u32;
    // SAFETY: `process` is a live handle for the borrow; `code` is a writable u32.
    let ok = unsafe { sys::GetExitCodeProcess(process.as_raw_handle(), &mut code) };
    (ok != 0 && code != sys::STILL_ACTIVE as u32).then_some(code)
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
