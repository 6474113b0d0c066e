//! The safe API makes no more kernel32 calls than the shortest raw sequence for the same job,
//! and exactly the same PSS calls (the one-time probe aside, counted in `safe_probe.rs`).
#![cfg(not(windows))]

use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
use pss_sys::*;
use pss_tests::model::*;
use pss_tests::*;
use std::collections::BTreeMap;

/// Counts the calls `job` makes on this thread.
fn count(job: impl FnOnce()) -> BTreeMap<&'static str, u64> {
    pss::is_available(); // The probe, once per process, is outside every count.
    reset_calls();
    job();
    let counted = calls().into_iter().map(|(f, n)| (f.name(), n)).collect();
    reset_calls();
    counted
}

/// Every function: safe <= raw; every PSS function: safe == raw.
#[track_caller]
fn assert_no_more_calls(safe: BTreeMap<&'static str, u64>, raw: BTreeMap<&'static str, u64>) {
    for (function, &n) in &safe {
        let r = raw.get(function).copied().unwrap_or(0);
        assert!(
            n <= r,
            "{function}: safe {n} > raw {r} (safe {safe:?}, raw {raw:?})"
        );
    }
    for (function, &r) in raw.iter().filter(|(f, _)| f.starts_with("Pss")) {
        assert_eq!(
            safe.get(function).copied().unwrap_or(0),
            r,
            "{function} (safe {safe:?}, raw {raw:?})"
        );
    }
}

#[test]
fn capture_and_free_this_process() {
    let safe = count(|| drop(LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap()));
    let raw = count(|| free_local(capture_current(PSS_CAPTURE_THREADS)));
    assert_eq!(
        safe,
        BTreeMap::from([("PssCaptureSnapshot", 1), ("PssFreeSnapshot", 1)])
    );
    assert_no_more_calls(safe, raw);
    assert_no_leaks();
}

#[test]
fn duplicate_locally_and_free_both() {
    let safe = count(|| {
        let a = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
        let b = a.duplicate().unwrap();
        a.close().unwrap();
        b.close().unwrap();
    });
    let raw = count(|| {
        let me = current_process();
        let (_, a) = capture(me, PSS_CAPTURE_NONE, 0);
        let (_, b) = duplicate(me, a, me, PSS_DUPLICATE_NONE);
        free(me, a);
        free(me, b);
    });
    assert_no_more_calls(safe, raw);
    assert_no_leaks();
}

#[test]
fn duplicate_into_another_process_and_free_there() {
    let process = ProcessSpec::new().spawn();
    let handle = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    let safe = count(|| {
        let local = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
        local.duplicate_into(&handle).unwrap().close().unwrap();
    });
    let raw_handle = pss::handle::AsRawHandle::as_raw_handle(&handle);
    let raw = count(|| {
        let me = current_process();
        let (_, local) = capture(me, PSS_CAPTURE_NONE, 0);
        let (_, remote) = duplicate(me, local, raw_handle, PSS_DUPLICATE_NONE);
        free(raw_handle, remote);
        free(me, local);
    });
    assert_no_more_calls(safe, raw);
    drop(handle);
    assert_no_leaks();
}

#[test]
fn move_into_another_process_and_back() {
    let process = ProcessSpec::new().spawn();
    let handle = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    let safe = count(|| {
        let local = LocalSnapshot::capture_current_vm(CaptureFlags::NONE).unwrap();
        let remote = local.move_into(&handle).unwrap();
        drop(remote.duplicate_to_local().unwrap());
        drop(remote);
    });
    let raw_handle = pss::handle::AsRawHandle::as_raw_handle(&handle);
    let raw = count(|| {
        let me = current_process();
        let (_, local) = capture(me, PSS_CAPTURE_NONE | PSS_CREATE_USE_VM_ALLOCATIONS, 0);
        let (_, remote) = duplicate(me, local, raw_handle, PSS_DUPLICATE_CLOSE_SOURCE);
        let (_, back) = duplicate(raw_handle, remote, me, PSS_DUPLICATE_NONE);
        free(me, back);
        free(raw_handle, remote);
    });
    assert_no_more_calls(safe, raw);
    drop(handle);
    assert_no_leaks();
}

/// Flags the documents call invalid are refused without any kernel32 call.
#[test]
fn invalid_flags_make_no_call() {
    let safe = count(|| {
        let error =
            LocalSnapshot::capture_current(CaptureFlags::VA_SPACE_SECTION_INFORMATION).unwrap_err();
        assert_eq!(error.kind(), pss::ErrorKind::InvalidFlags);
    });
    assert!(safe.is_empty(), "{safe:?}");
}

/// `open_process` is one `OpenProcess` (and `GetLastError` only on failure).
#[test]
fn open_process_is_one_call() {
    let process = ProcessSpec::new()
        .grantable(PROCESS_QUERY_LIMITED_INFORMATION)
        .spawn();
    let ok = count(|| {
        drop(pss::open_process(process.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap())
    });
    assert_eq!(ok, BTreeMap::from([("CloseHandle", 1), ("OpenProcess", 1)]));
    let denied = count(|| {
        pss::open_process(process.pid(), ProcessAccess::VM_READ).unwrap_err();
    });
    assert_eq!(
        denied,
        BTreeMap::from([("GetLastError", 1), ("OpenProcess", 1)])
    );
}
