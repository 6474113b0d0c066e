//! Flags, access presets and errors of the safe crate.
#![cfg(not(windows))]

use pss::{CaptureFlags, ContextFlags, ErrorKind, Function, LocalSnapshot, ProcessAccess};
use pss_sys::*;
use pss_tests::model::*;
use pss_tests::*;

/// The combinations the documents call invalid, and bits they do not name, are refused before
/// the OS is called, with a reason (7.1).
#[test]
fn invalid_flag_combinations_are_refused() {
    for flags in [
        CaptureFlags::VA_SPACE_SECTION_INFORMATION,
        CaptureFlags::VA_CLONE | CaptureFlags::CREATE_BREAKAWAY_OPTIONAL,
        CaptureFlags::from_bits_retain(PSS_CAPTURE_RESERVED_00000002),
        CaptureFlags::from_bits_retain(PSS_CAPTURE_RESERVED_00000400),
        CaptureFlags::from_bits_retain(PSS_CAPTURE_RESERVED_00004000),
        CaptureFlags::from_bits_retain(0x0100_0000),
    ] {
        let error = LocalSnapshot::capture_current(flags, ContextFlags::NONE).unwrap_err();
        assert_eq!(
            (error.kind(), error.function()),
            (ErrorKind::InvalidFlags, Function::PssCaptureSnapshot),
            "{flags:?}"
        );
        assert!(error.reason().is_some());
        assert_eq!(error.raw_os_error(), None);
    }
    let ok = CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    drop(LocalSnapshot::capture_current(ok, ContextFlags::NONE).unwrap());
    let ok = CaptureFlags::VA_CLONE
        | CaptureFlags::CREATE_BREAKAWAY
        | CaptureFlags::CREATE_BREAKAWAY_OPTIONAL;
    drop(LocalSnapshot::capture_current(ok, ContextFlags::NONE).unwrap());
    assert_no_leaks();
}

/// `Debug` prints flag names.
#[test]
fn capture_flags_debug_prints_names() {
    let text = format!("{:?}", CaptureFlags::THREADS | CaptureFlags::VA_SPACE);
    assert!(
        text.contains("THREADS") && text.contains("VA_SPACE"),
        "{text}"
    );
}

/// An OS error keeps its function and code, also as `std::io::Error`.
#[test]
fn os_errors_keep_their_code() {
    let process = ProcessSpec::new().spawn();
    let handle =
        pss::open_process(process.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap();
    let error =
        LocalSnapshot::capture(&handle, CaptureFlags::THREADS, ContextFlags::NONE).unwrap_err();
    assert_eq!(
        (error.function(), error.kind(), error.code()),
        (
            Function::PssCaptureSnapshot,
            ErrorKind::AccessDenied,
            Some(5)
        )
    );
    assert!(error.to_string().contains("PssCaptureSnapshot"), "{error}");
    let io: std::io::Error = error.into();
    assert_eq!(io.raw_os_error(), Some(5));
    drop(handle);
    assert_no_leaks();
}

/// `open_process` failures come from `GetLastError`, typed, naming `OpenProcess`.
#[test]
fn open_process_errors_are_typed() {
    let process = ProcessSpec::new()
        .grantable(PROCESS_QUERY_LIMITED_INFORMATION)
        .spawn();
    let error = pss::open_process(process.pid(), ProcessAccess::VM_READ).unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (Function::OpenProcess, ErrorKind::AccessDenied)
    );
    drop(process);
    let error = pss::open_process(0x7FFF_0000, ProcessAccess::VM_READ).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidParameter);
}

/// The presets are exactly the documented rights (3.2, 3.3).
#[test]
fn access_presets_are_the_documented_rights() {
    assert_eq!(
        ProcessAccess::REMOTE_FREE.bits(),
        PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE
    );
    assert_eq!(
        ProcessAccess::DUPLICATE_SOURCE.bits(),
        PROCESS_VM_READ | PROCESS_DUP_HANDLE
    );
    assert_eq!(
        ProcessAccess::DUPLICATE_TARGET.bits(),
        PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE
    );
}

/// `for_capture` grants at least what the model demands for each flag and for all of them, so
/// a handle opened with it captures (the model's demands are its strict reading, 11.1).
#[test]
fn for_capture_opens_enough_for_the_model() {
    let process = ProcessSpec::new().thread(ThreadSpec::new(4)).spawn();
    let all = CaptureFlags::all()
        - CaptureFlags::from_bits_retain(
            PSS_CAPTURE_RESERVED_00000002
                | PSS_CAPTURE_RESERVED_00000400
                | PSS_CAPTURE_RESERVED_00004000,
        )
        - CaptureFlags::CREATE_FORCE_BREAKAWAY;
    let singles = all.iter().filter(|f| {
        *f != CaptureFlags::VA_SPACE_SECTION_INFORMATION
            && *f != CaptureFlags::CREATE_BREAKAWAY_OPTIONAL
    });
    for flags in singles.chain([all]) {
        let needed = capture_access(flags.bits());
        assert_eq!(
            ProcessAccess::for_capture(flags).bits() & needed,
            needed,
            "{flags:?}"
        );
        let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
        let snapshot = LocalSnapshot::capture(&handle, flags, ContextFlags::ALL).unwrap();
        drop((snapshot, handle));
    }
    assert_no_leaks();
}
