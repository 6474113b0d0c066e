//! `HandleTrace`: `PSS_HANDLE_TRACE_INFORMATION`, the trace section borrowed from its snapshot.

use pss_sys as sys;

use crate::handle::BorrowedHandle;
use crate::{Error, Function, Result};

/// The handle-trace data of a snapshot: [`PSS_HANDLE_TRACE_INFORMATION`], a section holding the
/// handle tracing table (captured with
/// [`CaptureFlags::HANDLE_TRACE`](crate::CaptureFlags::HANDLE_TRACE)).
///
/// The section handle is borrowed from the snapshot for `'s` and closed by nobody but the
/// snapshot's free: who owns it is not documented, and `pss` treats it like the VA clone
/// handle ([`VaClone`](crate::VaClone)). The section's format is not documented either.
///
/// [`PSS_HANDLE_TRACE_INFORMATION`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_handle_trace_information
#[doc(alias = "PSS_HANDLE_TRACE_INFORMATION")]
#[derive(Debug, Clone, Copy)]
pub struct HandleTrace<'s> {
    section: BorrowedHandle<'s>,
    size: u32,
}

impl<'s> HandleTrace<'s> {
    /// # Safety
    ///
    /// `raw.SectionHandle`, if non-null, must stay open for `'s`.
    pub(crate) unsafe fn from_raw(raw: sys::PSS_HANDLE_TRACE_INFORMATION) -> Result<Self> {
        if raw.SectionHandle.is_null() {
            // Success with a NULL handle is not documented; nothing could be borrowed.
            return Err(Error::os(
                Function::PssQuerySnapshot,
                sys::ERROR_INVALID_HANDLE,
            ));
        }
        // SAFETY: a non-null handle that stays open for `'s` (the caller).
        let section = unsafe { BorrowedHandle::borrow_raw(raw.SectionHandle) };
        Ok(HandleTrace {
            section,
            size: raw.Size,
        })
    }

    /// `PSS_HANDLE_TRACE_INFORMATION.SectionHandle`: the section that holds the trace,
    /// borrowed from the snapshot.
    #[doc(alias = "SectionHandle")]
    pub fn section_handle(&self) -> BorrowedHandle<'s> {
        self.section
    }

    /// `PSS_HANDLE_TRACE_INFORMATION.Size`: the size of the trace data in bytes.
    #[doc(alias = "Size")]
    pub fn size(&self) -> u32 {
        self.size
    }
}
