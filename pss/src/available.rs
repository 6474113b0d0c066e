//! Is the Process Snapshotting API there? Probed once per process.

use core::ffi::CStr;
use std::sync::OnceLock;

use pss_sys as sys;

use crate::handle::BorrowedHandle;

/// The PSS functions the probe looks up, in the order it looks them up.
const FUNCTIONS: [&CStr; 10] = [
    c"PssCaptureSnapshot",
    c"PssDuplicateSnapshot",
    c"PssFreeSnapshot",
    c"PssQuerySnapshot",
    c"PssWalkSnapshot",
    c"PssWalkMarkerCreate",
    c"PssWalkMarkerFree",
    c"PssWalkMarkerGetPosition",
    c"PssWalkMarkerSetPosition",
    c"PssWalkMarkerSeekToBeginning",
];

/// `"kernel32.dll"` as a NUL-terminated UTF-16 string.
const KERNEL32: [u16; 13] = {
    let ascii = b"kernel32.dll\0";
    let mut wide = [0; 13];
    let mut i = 0;
    while i < ascii.len() {
        wide[i] = ascii[i] as u16;
        i += 1;
    }
    wide
};

/// The probe's result: `None` if PSS is missing, else this process's pseudo handle.
static PROBE: OnceLock<Option<CurrentProcess>> = OnceLock::new();

/// `GetCurrentProcess()`'s pseudo handle: a constant, valid in this process for its whole life
/// with all access, never closed. Fetched once by the probe and reused, so no later operation
/// pays a kernel32 call for it.
#[derive(Clone, Copy)]
struct CurrentProcess(sys::HANDLE);

// SAFETY: the pseudo handle is a process-wide constant, not a pointer to anything; any thread
// may use it.
unsafe impl Send for CurrentProcess {}
// SAFETY: as above.
unsafe impl Sync for CurrentProcess {}

/// [`GetModuleHandleW`] and [`GetProcAddress`], once: whether kernel32 exports the Process
/// Snapshotting functions (Windows 8.1 and later).
///
/// Every `pss` function that would call a PSS function checks this first and returns
/// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) instead, so a program running
/// where the functions are missing gets an error, not a call into a missing import (Wine, for
/// one, has no PSS and aborts on such a call).
///
/// The probe runs once per process, on the first call of this function or of any `pss`
/// function that needs PSS (and on the first drop of a snapshot made with `from_raw` if nothing
/// probed before). It costs at most 12 kernel32 calls: [`GetModuleHandleW`]`("kernel32.dll")`,
/// then [`GetProcAddress`] for each of the ten PSS functions (`PssCaptureSnapshot`,
/// `PssDuplicateSnapshot`, `PssFreeSnapshot`, `PssQuerySnapshot`, `PssWalkSnapshot`,
/// `PssWalkMarkerCreate`, `PssWalkMarkerFree`, `PssWalkMarkerGetPosition`,
/// `PssWalkMarkerSetPosition`, `PssWalkMarkerSeekToBeginning`, in that order), stopping at the
/// first one missing, and, when all are there, [`GetCurrentProcess`] once: its pseudo handle is
/// a constant valid for the life of the process, so every later local free or duplicate reuses
/// it instead of calling again. All ten functions are required, so that no later `pss`
/// function can reach a missing one. Concurrent first calls wait for one probe. Later calls
/// make no kernel32 call.
///
/// This cannot help a program that imports the PSS functions statically and runs on Windows
/// before 8.1: the Windows loader refuses to start it. `pss` links them statically (through
/// `pss-sys`), as the documentation's `kernel32.lib` prescribes.
///
/// # References
///
/// - [`GetModuleHandleW`]
/// - [`GetProcAddress`]
/// - [`GetCurrentProcess`]
///
/// [`GetModuleHandleW`]: https://learn.microsoft.com/en-us/windows/win32/api/libloaderapi/nf-libloaderapi-getmodulehandlew
/// [`GetProcAddress`]: https://learn.microsoft.com/en-us/windows/win32/api/libloaderapi/nf-libloaderapi-getprocaddress
/// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
#[doc(alias = "GetProcAddress", alias = "GetModuleHandleW")]
pub fn is_available() -> bool {
    PROBE.get_or_init(probe).is_some()
}

/// This process's pseudo handle if PSS is available (probing first if needed).
pub(crate) fn current_process_if_available() -> Option<BorrowedHandle<'static>> {
    let current = (*PROBE.get_or_init(probe))?;
    // SAFETY: the pseudo handle is valid in this process forever and needs no closing.
    Some(unsafe { BorrowedHandle::borrow_raw(current.0) })
}

fn probe() -> Option<CurrentProcess> {
    if !exports_pss() {
        return None;
    }
    // SAFETY: `GetCurrentProcess` has no preconditions.
    Some(CurrentProcess(unsafe { sys::GetCurrentProcess() }))
}

fn exports_pss() -> bool {
    // SAFETY: `KERNEL32` is a NUL-terminated UTF-16 string that outlives the call. kernel32 is
    // loaded in every Win32 process and never unloaded, so the module handle needs no release.
    let kernel32 = unsafe { sys::GetModuleHandleW(KERNEL32.as_ptr()) };
    if kernel32.is_null() {
        return false;
    }
    FUNCTIONS.iter().all(|name| {
        // SAFETY: `kernel32` is a loaded module; `name` is a NUL-terminated ASCII string that
        // outlives the call. The returned address is only tested, never called.
        let address = unsafe { sys::GetProcAddress(kernel32, name.as_ptr().cast()) };
        address.is_some()
    })
}
