//! The one hand-written declaration of this crate: SDK 10.0.26100.2161's additions to
//! `processsnapshot.h`, `PSS_WALK_THREAD_NAME` and `PSS_THREAD_NAME`, which the metadata that
//! the pinned `windows-bindgen` ships (Win32 metadata 63.0.31) predates. Written as the
//! generator writes the rest, from the header (`microsoft/win32metadata`,
//! `generation/WinSDK/RecompiledIdlHeaders/um/ProcessSnapshot.h`), and layout-checked by the
//! same C probe (`layout/probe.c` declares the struct from that header). Remove it when the
//! generator's metadata has them.

use crate::{PCWSTR, PSS_WALK_INFORMATION_CLASS};

/// `PSS_WALK_THREAD_NAME` (4): thread names, as [`PSS_THREAD_NAME`] entries. Declared by the
/// SDK from 10.0.26100.2161; not in Microsoft's pages. ntdll rejects it in every build seen
/// (it knows classes 0–3 only), and kernel32 on Windows 11 24H2 and later may answer it from
/// the names 24H2's ntdll captures; older kernel32 answers `ERROR_INVALID_PARAMETER`.
pub const PSS_WALK_THREAD_NAME: PSS_WALK_INFORMATION_CLASS = 4i32;

/// `PSS_THREAD_NAME`: a thread's name, from a `PSS_WALK_THREAD_NAME` walk. `ThreadName` is
/// "valid for life time of walk marker" (the header's comment); whether `ThreadNameSize`
/// counts bytes or characters the header does not say (ntdll keeps the length in bytes, and
/// the name without a terminator).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PSS_THREAD_NAME {
    pub ThreadNameSize: u16,
    pub ThreadName: PCWSTR,
}
impl Default for PSS_THREAD_NAME {
    fn default() -> Self {
        // SAFETY: an integer and a pointer, both valid when zero.
        unsafe { core::mem::zeroed() }
    }
}
