//! `VaClone`: `PSS_VA_CLONE_INFORMATION`, the clone process borrowed from its snapshot.

use pss_sys as sys;

use crate::handle::{AsHandle, AsRawHandle, BorrowedHandle};
use crate::{Error, Function, Result};

/// The VA clone of a snapshot: [`PSS_VA_CLONE_INFORMATION`], a handle to the process that holds
/// the copy-on-write clone of the captured process's memory (captured with
/// [`CaptureFlags::VA_CLONE`](crate::CaptureFlags::VA_CLONE)).
///
/// # Ownership
///
/// The clone belongs to the snapshot: freeing the snapshot ends it. The handle is therefore
/// only *borrowed*, for as long as the snapshot is (`'s`), and nobody but the snapshot's free
/// closes it. Tools that closed it themselves, or tracked the clone by pid alone, leaked
/// clones or hit reused pids (`PITFALLS.md` 3). Who owns the handle is not documented: this
/// is our reading, and the `pss-tests` model treats closing it as misuse.
///
/// Use [`handle`](Self::handle) wherever a process handle is needed (e.g. to read the clone's
/// memory, or `MiniDumpWriteDump`). If it must outlive the snapshot, duplicate it (on Windows,
/// `BorrowedHandle::try_clone_to_owned`); the clone process still ends with the snapshot.
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
    /// `GetLastError` (e.g. [`AccessDenied`](crate::ErrorKind::AccessDenied) if the handle
    /// lacks `PROCESS_QUERY_LIMITED_INFORMATION`).
    ///
    /// Kernel32 calls: `GetProcessId`, and `GetLastError` if it fails.
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
