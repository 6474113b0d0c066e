//! `VaClone`: `PSS_VA_CLONE_INFORMATION`, the clone process borrowed from its snapshot.

use pss_sys as sys;

use crate::handle::{AsHandle, AsRawHandle, BorrowedHandle};
use crate::{Error, Function, Result};

/// The VA clone of a snapshot: [`PSS_VA_CLONE_INFORMATION`], a handle to the process that holds
/// the copy-on-write clone of the captured process's memory (captured with
/// [`CaptureFlags::VA_CLONE`](crate::CaptureFlags::VA_CLONE)).
///
/// # Ownership and lifetime
///
/// The handle belongs to the snapshot: the query returns the same value every time, and freeing
/// the snapshot closes it. It is therefore only *borrowed*, for as long as the snapshot is
/// (`'s`); never close it yourself (tools that did, or that tracked the clone by pid alone,
/// leaked clones or hit reused pids). Microsoft's pages do not say who owns it; Windows' own
/// code shows the snapshot does.
///
/// The clone *process* lives while any handle to it is open, not just this one: every
/// [duplicate](crate::LocalSnapshot::duplicate) of the snapshot, local or in another process,
/// holds its own handle to the same clone, and a handle you duplicate
/// ([`try_clone_to_owned`](https://doc.rust-lang.org/std/os/windows/io/struct.BorrowedHandle.html#method.try_clone_to_owned)
/// on Windows) keeps it alive too. So freeing one snapshot does not end a clone that another
/// copy still refers to, and the copy-on-write memory it costs the target lasts until the last
/// handle closes.
///
/// # Access
///
/// Windows opens the clone with `PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION |
/// PROCESS_VM_READ | PROCESS_VM_OPERATION` (`0x1418`): enough to read its memory and query it,
/// not `PROCESS_TERMINATE`. The clone cannot be ended through this handle; it ends when every
/// handle to it is closed.
///
/// # What the clone holds
///
/// All of the target's private memory and its shareable image and mapped sections as they were
/// at capture time. It does **not** hold anonymous, pagefile-backed shared sections: reading
/// them through the clone fails with `ERROR_PARTIAL_COPY` (ClrMD hit this).
///
/// # Reading its memory
///
/// [`read`](Self::read), [`read_exact`](Self::read_exact), [`read_value`](Self::read_value) and
/// the [`reader`](Self::reader) cursor read the clone with `ReadProcessMemory`. They borrow the
/// snapshot like the handle does, so no read can outlive it:
///
/// ```compile_fail,E0505
/// # use pss::{CaptureFlags, LocalSnapshot};
/// # fn f() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_CLONE)?;
/// let clone = snapshot.va_clone()?;
/// drop(snapshot); // frees the snapshot, and with it this clone handle
/// let first: u8 = clone.read_value(0x1000)?;
/// # Ok(()) }
/// ```
///
/// # Not for `MiniDumpWriteDump`
///
/// A dump written from the clone handle has no threads (the clone process has none). To dump a
/// snapshot, pass the *snapshot* handle ([`LocalSnapshot::as_raw`](crate::LocalSnapshot::as_raw))
/// as the process handle, with the target's process id, and answer `MiniDumpWriteDump`'s
/// `IsProcessSnapshotCallback` with `S_FALSE`.
///
/// [`PSS_VA_CLONE_INFORMATION`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_va_clone_information
#[doc(alias = "PSS_VA_CLONE_INFORMATION", alias = "VaCloneHandle")]
#[derive(Debug, Clone, Copy)]
pub struct VaClone<'s> {
    handle: BorrowedHandle<'s>,
}

impl<'s> VaClone<'s> {
    /// The VA clone of a `PSS_VA_CLONE_INFORMATION` that the snapshot borrowed for `'s` holds.
    ///
    /// # Safety
    ///
    /// `raw.VaCloneHandle`, if non-null, must stay open for `'s`.
    pub(crate) unsafe fn from_raw(raw: sys::PSS_VA_CLONE_INFORMATION) -> Result<Self> {
        if raw.VaCloneHandle.is_null() {
            // Success with a NULL handle is not documented; nothing could be borrowed.
            return Err(Error::os(
                Function::PssQuerySnapshot,
                sys::ERROR_INVALID_HANDLE,
            ));
        }
        // SAFETY: a non-null handle that stays open for `'s` (the caller).
        let handle = unsafe { BorrowedHandle::borrow_raw(raw.VaCloneHandle) };
        Ok(VaClone { handle })
    }

    /// `PSS_VA_CLONE_INFORMATION.VaCloneHandle`: the handle to the clone process, borrowed
    /// from the snapshot.
    #[doc(alias = "VaCloneHandle")]
    pub fn handle(&self) -> BorrowedHandle<'s> {
        self.handle
    }

    /// [`GetProcessId`]`(VaCloneHandle)`: the clone process's pid.
    ///
    /// A separate kernel32 call (not a PSS one), made on each call of this method; a pid alone
    /// is only a name that can be reused once the clone ends, so keep using the
    /// [`handle`](Self::handle) to refer to the process. Fails with the code from
    /// `GetLastError` (e.g. [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED) if the handle
    /// lacks `PROCESS_QUERY_LIMITED_INFORMATION`).
    ///
    /// Kernel32 calls: `GetProcessId`, and `GetLastError` if it fails.
    ///
    /// # References
    ///
    /// - [`GetProcessId`]
    ///
    /// [`GetProcessId`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getprocessid
    #[doc(alias = "GetProcessId")]
    pub fn process_id(&self) -> Result<u32> {
        // SAFETY: the handle is open for `'s`, which outlives `self`.
        let pid = unsafe { sys::GetProcessId(self.handle.as_raw_handle()) };
        if pid == 0 {
            // SAFETY: no preconditions; it reads the code `GetProcessId` left on this thread.
            let code = unsafe { sys::GetLastError() };
            return Err(Error::os(Function::GetProcessId, code));
        }
        Ok(pid)
    }
}

impl AsHandle for VaClone<'_> {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.handle
    }
}
