//! Every kernel32 import of pss-sys links, with the documented C signature.
//!
//! Windows only: elsewhere nothing defines these symbols (the pss-tests model does, for its own
//! test binaries). `cargo xtask ci` builds this test for both `-gnu` targets with mingw-w64 and
//! checks the import table of the result; under Wine or Windows it also runs.
#![cfg(windows)]

use core::ffi::c_void;
use pss_sys::*;

/// Coerces each import to the function-pointer type written from its Microsoft page
/// (the syntax block of each `nf-processsnapshot-*` page), so a binding with another signature does not compile, and
/// returns the addresses so the linker must resolve every one.
fn imports() -> [(&'static str, usize); 20] {
    let capture: unsafe extern "system" fn(HANDLE, PSS_CAPTURE_FLAGS, u32, *mut HPSS) -> u32 =
        PssCaptureSnapshot;
    let duplicate: unsafe extern "system" fn(
        HANDLE,
        HPSS,
        HANDLE,
        *mut HPSS,
        PSS_DUPLICATE_FLAGS,
    ) -> u32 = PssDuplicateSnapshot;
    let free: unsafe extern "system" fn(HANDLE, HPSS) -> u32 = PssFreeSnapshot;
    let query: unsafe extern "system" fn(
        HPSS,
        PSS_QUERY_INFORMATION_CLASS,
        *mut c_void,
        u32,
    ) -> u32 = PssQuerySnapshot;
    let walk: unsafe extern "system" fn(
        HPSS,
        PSS_WALK_INFORMATION_CLASS,
        HPSSWALK,
        *mut c_void,
        u32,
    ) -> u32 = PssWalkSnapshot;
    let marker_create: unsafe extern "system" fn(*const PSS_ALLOCATOR, *mut HPSSWALK) -> u32 =
        PssWalkMarkerCreate;
    let marker_free: unsafe extern "system" fn(HPSSWALK) -> u32 = PssWalkMarkerFree;
    let get_position: unsafe extern "system" fn(HPSSWALK, *mut usize) -> u32 =
        PssWalkMarkerGetPosition;
    let set_position: unsafe extern "system" fn(HPSSWALK, usize) -> u32 = PssWalkMarkerSetPosition;
    let rewind: unsafe extern "system" fn(HPSSWALK) -> u32 = PssWalkMarkerSeekToBeginning;
    let current: unsafe extern "system" fn() -> HANDLE = GetCurrentProcess;
    let process_id: unsafe extern "system" fn(HANDLE) -> u32 = GetProcessId;
    let exit_code: unsafe extern "system" fn(HANDLE, *mut u32) -> BOOL = GetExitCodeProcess;
    let open: unsafe extern "system" fn(PROCESS_ACCESS_RIGHTS, BOOL, u32) -> HANDLE = OpenProcess;
    let close: unsafe extern "system" fn(HANDLE) -> BOOL = CloseHandle;
    let dup_handle: unsafe extern "system" fn(
        HANDLE,
        HANDLE,
        HANDLE,
        *mut HANDLE,
        u32,
        BOOL,
        DUPLICATE_HANDLE_OPTIONS,
    ) -> BOOL = DuplicateHandle;
    let last_error: unsafe extern "system" fn() -> WIN32_ERROR = GetLastError;
    let module: unsafe extern "system" fn(PCWSTR) -> HMODULE = GetModuleHandleW;
    let proc_address: unsafe extern "system" fn(HMODULE, PCSTR) -> FARPROC = GetProcAddress;
    let read_memory: unsafe extern "system" fn(
        HANDLE,
        *const c_void,
        *mut c_void,
        usize,
        *mut usize,
    ) -> BOOL = ReadProcessMemory;
    [
        ("PssCaptureSnapshot", capture as usize),
        ("PssDuplicateSnapshot", duplicate as usize),
        ("PssFreeSnapshot", free as usize),
        ("PssQuerySnapshot", query as usize),
        ("PssWalkSnapshot", walk as usize),
        ("PssWalkMarkerCreate", marker_create as usize),
        ("PssWalkMarkerFree", marker_free as usize),
        ("PssWalkMarkerGetPosition", get_position as usize),
        ("PssWalkMarkerSetPosition", set_position as usize),
        ("PssWalkMarkerSeekToBeginning", rewind as usize),
        ("GetCurrentProcess", current as usize),
        ("GetProcessId", process_id as usize),
        ("GetExitCodeProcess", exit_code as usize),
        ("OpenProcess", open as usize),
        ("CloseHandle", close as usize),
        ("DuplicateHandle", dup_handle as usize),
        ("GetLastError", last_error as usize),
        ("GetModuleHandleW", module as usize),
        ("GetProcAddress", proc_address as usize),
        ("ReadProcessMemory", read_memory as usize),
    ]
}

/// dbghelp's `MiniDumpWriteDump` (feature `dbghelp`), with the signature of its Microsoft page.
#[cfg(feature = "dbghelp")]
#[test]
fn minidump_write_dump_resolves_to_an_address() {
    use pss_sys::minidump::*;
    let write: unsafe extern "system" fn(
        HANDLE,
        u32,
        HANDLE,
        MINIDUMP_TYPE,
        *const MINIDUMP_EXCEPTION_INFORMATION,
        *const MINIDUMP_USER_STREAM_INFORMATION,
        *const MINIDUMP_CALLBACK_INFORMATION,
    ) -> BOOL = MiniDumpWriteDump;
    assert_ne!(write as usize, 0);
}

#[test]
fn every_import_resolves_to_an_address() {
    for (name, address) in imports() {
        assert_ne!(address, 0, "{name} did not resolve");
    }
}
