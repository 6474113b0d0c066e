//! `ThreadInformation`: `PSS_THREAD_INFORMATION`.

use pss_sys as sys;

/// How many threads a snapshot holds, and how long their context records are:
/// [`PSS_THREAD_INFORMATION`].
///
/// The count includes threads that have terminated but whose thread objects are still
/// referenced by open handles (so they still exist); walk entries flag them with
/// [`ThreadFlags::TERMINATED`](crate::ThreadFlags::TERMINATED).
///
/// [`PSS_THREAD_INFORMATION`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_thread_information
#[doc(alias = "PSS_THREAD_INFORMATION")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ThreadInformation {
    /// `ThreadsCaptured`: the number of threads captured, terminated ones included.
    #[doc(alias = "ThreadsCaptured")]
    pub threads_captured: u32,
    /// `ContextLength`: the length in bytes of each captured `CONTEXT` record, 0 when no
    /// contexts were captured. It can exceed `size_of::<CONTEXT>()` (extended contexts carry an
    /// XSAVE area) and depends on the architecture; read it, never assume it.
    #[doc(alias = "ContextLength")]
    pub context_length: u32,
}

impl From<sys::PSS_THREAD_INFORMATION> for ThreadInformation {
    fn from(raw: sys::PSS_THREAD_INFORMATION) -> Self {
        ThreadInformation {
            threads_captured: raw.ThreadsCaptured,
            context_length: raw.ContextLength,
        }
    }
}
