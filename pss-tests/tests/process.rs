//! The kernel32 functions around PSS that the safe crate uses: GetCurrentProcess,
//! GetProcessId, OpenProcess, CloseHandle, DuplicateHandle, GetLastError, GetModuleHandleW,
//! GetProcAddress.

use pss_sys::*;
use pss_tests::*;

const PSS_FUNCTIONS: [&std::ffi::CStr; 10] = [
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

fn kernel32() -> HMODULE {
    let name: Vec<u16> = "KERNEL32.DLL\0".encode_utf16().collect();
    // SAFETY: NUL-terminated name.
    unsafe { GetModuleHandleW(name.as_ptr()) }
}

/// `GetCurrentProcess` returns the pseudo handle `(HANDLE)-1`, and `GetProcessId` reads its pid.
#[test]
fn get_current_process_is_the_pseudo_handle() {
    assert_eq!(current_process().addr(), usize::MAX);
    // SAFETY: the pseudo handle is always valid.
    assert_ne!(unsafe { GetProcessId(current_process()) }, 0);
}

/// kernel32 exports all ten PSS functions (1: Windows 8.1 and later).
#[test]
fn kernel32_exports_every_pss_function() {
    require_pss!();
    let module = kernel32();
    assert!(!module.is_null());
    for name in PSS_FUNCTIONS {
        // SAFETY: a valid module handle and a NUL-terminated name.
        let found = unsafe { GetProcAddress(module, name.as_ptr().cast()) };
        assert!(found.is_some(), "{name:?}");
    }
}

/// An unknown export is NULL, with a reason in the last-error value.
#[test]
fn unknown_export_is_null() {
    // SAFETY: a valid module handle and a NUL-terminated name.
    let found = unsafe { GetProcAddress(kernel32(), c"PssNoSuchFunction".as_ptr().cast()) };
    assert!(found.is_none());
    assert_eq!(last_error(), 127); // ERROR_PROC_NOT_FOUND
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    /// `OpenProcess` grants what was asked, `GetProcessId` needs query rights.
    #[test]
    fn open_process_grants_the_requested_rights() {
        let target = ProcessSpec::new().spawn();
        let query = open_process(target.pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
        // SAFETY: a handle this test owns.
        assert_eq!(unsafe { GetProcessId(query) }, target.pid());
        let no_query = open_process(target.pid(), PROCESS_VM_READ).unwrap();
        // SAFETY: as above.
        assert_eq!(unsafe { GetProcessId(no_query) }, 0);
        assert_eq!(last_error(), ERROR_ACCESS_DENIED);
        close_handle(query);
        close_handle(no_query);
        assert_no_leaks();
    }

    /// Rights the target does not grant are `ERROR_ACCESS_DENIED`; a pid that does not exist
    /// is `ERROR_INVALID_PARAMETER`.
    #[test]
    fn open_process_refuses_what_is_not_grantable() {
        let target = ProcessSpec::new()
            .grantable(PROCESS_QUERY_LIMITED_INFORMATION)
            .spawn();
        assert_eq!(
            open_process(target.pid(), PROCESS_VM_READ),
            Err(ERROR_ACCESS_DENIED)
        );
        assert!(
            open_process(target.pid(), PROCESS_QUERY_LIMITED_INFORMATION)
                .map(close_handle)
                .is_ok()
        );
        drop(target);
        assert_eq!(
            open_process(0xFFFF_0000, PROCESS_QUERY_LIMITED_INFORMATION),
            Err(ERROR_INVALID_PARAMETER)
        );
        assert_no_leaks();
    }

    /// `DuplicateHandle` gives a second, independently closed handle; closing the pseudo handle
    /// does nothing.
    #[test]
    fn duplicate_handle_gives_an_independent_handle() {
        let target = ProcessSpec::new().spawn();
        let first = open_process(
            target.pid(),
            PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ,
        )
        .unwrap();
        let mut second = std::ptr::null_mut();
        // SAFETY: valid handles and out-pointer.
        let ok = unsafe {
            DuplicateHandle(
                current_process(),
                first,
                current_process(),
                &mut second,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        assert_ne!(ok, 0);
        assert_eq!(live().handles, 2);
        close_handle(first);
        // SAFETY: `second` is a handle this test owns.
        assert_eq!(unsafe { GetProcessId(second) }, target.pid());
        close_handle(second);
        close_handle(current_process());
        assert_no_leaks();
    }

    /// Closing a handle that was never issued fails with `ERROR_INVALID_HANDLE`.
    #[test]
    fn close_of_an_unknown_handle_is_invalid_handle() {
        // SAFETY: the model answers for values it never issued.
        let closed = unsafe { CloseHandle(std::ptr::without_provenance_mut(0x7770)) };
        assert_eq!(closed, 0);
        assert_eq!(last_error(), ERROR_INVALID_HANDLE);
    }
}
