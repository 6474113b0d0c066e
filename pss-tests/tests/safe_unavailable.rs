//! Where kernel32 has no PSS, every `pss` entry point returns `Unavailable` and never calls a
//! missing import (the model aborts the process if one is called, as Wine does). Its own
//! binary: the switch is process-wide and the probe result is cached.
#![cfg(not(windows))]

use pss::{CaptureFlags, ErrorKind, Function, LocalSnapshot, ProcessAccess};
use pss_tests::model::*;

fn absent() {
    set_pss_absent();
    assert!(!pss::is_available());
}

#[track_caller]
fn assert_unavailable(error: pss::Error, function: Function) {
    assert_eq!(
        (error.kind(), error.function()),
        (ErrorKind::Unavailable, function)
    );
    assert_eq!(error.raw_os_error(), None);
}

/// Capture, of this process or another, is refused.
#[test]
fn capture_is_unavailable() {
    absent();
    reset_calls();
    assert_unavailable(
        LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap_err(),
        Function::PssCaptureSnapshot,
    );
    assert_unavailable(
        LocalSnapshot::capture_current_vm(CaptureFlags::NONE).unwrap_err(),
        Function::PssCaptureSnapshot,
    );
    let process = ProcessSpec::new().spawn();
    let handle = pss::open_process(
        process.pid(),
        ProcessAccess::for_capture(CaptureFlags::THREADS),
    )
    .unwrap();
    assert_unavailable(
        LocalSnapshot::capture(&handle, CaptureFlags::THREADS).unwrap_err(),
        Function::PssCaptureSnapshot,
    );
    drop(handle);
    assert!(
        calls().keys().all(|f| !f.name().starts_with("Pss")),
        "{:?}",
        calls()
    );
}

/// Snapshots obtained from raw values are neither duplicated nor freed: duplicate, move and
/// close are refused, and drop leaks rather than calling a missing function.
#[test]
fn snapshots_from_raw_values_are_never_passed_to_missing_functions() {
    absent();
    let process = ProcessSpec::new().spawn();
    let handle = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    let raw = std::ptr::without_provenance_mut(0x5550);
    // SAFETY: never passed to kernel32 while PSS is absent, which is what this test checks.
    let local = unsafe { LocalSnapshot::from_raw(raw) };
    assert_unavailable(
        local.duplicate().unwrap_err(),
        Function::PssDuplicateSnapshot,
    );
    assert_unavailable(
        local.duplicate_into(&handle).unwrap_err(),
        Function::PssDuplicateSnapshot,
    );
    assert_unavailable(local.close().unwrap_err(), Function::PssFreeSnapshot);
    // SAFETY: as above.
    let vm = unsafe { LocalSnapshot::from_raw_vm(raw) };
    assert_unavailable(
        vm.move_into(&handle).unwrap_err(),
        Function::PssDuplicateSnapshot,
    );
    // SAFETY: as above.
    let remote = unsafe { pss::RemoteSnapshot::from_raw_parts(&handle, raw) };
    assert_unavailable(
        remote.duplicate_to_local().unwrap_err(),
        Function::PssDuplicateSnapshot,
    );
    drop(remote);
    // SAFETY: as above.
    drop(unsafe { LocalSnapshot::from_raw(raw) });
}
