//! `pss::LocalSnapshot` and `pss::RemoteSnapshot`: each is freed exactly once, through the
//! process that holds it, and each documented failure comes back typed. Runs against the model
//! and against real kernel32 (remote snapshots then live in a child process the test spawns);
//! the model's accounting is checked through `expect`, and tests that need a model process to
//! hand over a snapshot it captured itself are model-only.

use pss::handle::{AsRawHandle, OwnedHandle};
use pss::{
    CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, Process, ProcessAccess,
    RemoteSnapshot,
};
use pss_tests::*;

fn target() -> (TestProcess, Process) {
    let process = TestProcess::spawn();
    let handle = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    (process, handle)
}

fn threads_captured(snapshot: &LocalSnapshot) -> u32 {
    snapshot.thread_information().unwrap().threads_captured
}

/// Dropping a local snapshot frees it once, through this process (the model aborts a free
/// through any other) (2.1, 3.3).
#[test]
fn drop_frees_exactly_once_through_this_process() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    expect::live_snapshots(1);
    expect::calls(Call::PssFreeSnapshot, 1, || drop(snapshot));
    assert_no_leaks();
}

/// `close` frees and reports success.
#[test]
fn close_frees_and_reports_success() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    snapshot.close().unwrap();
    assert_no_leaks();
}

/// A remote snapshot the other process captured itself on its heap cannot be freed from here:
/// `close` reports `ERROR_NOT_SUPPORTED` (documented, 3.3).
#[cfg(not(windows))]
#[test]
fn remote_close_reports_not_supported() {
    let (process, handle) = target();
    let raw = process
        .model()
        .own_snapshot(pss_sys::PSS_CAPTURE_THREADS, false);
    // SAFETY: `raw` lives in `process`'s context and is handed to us (the model's own_snapshot).
    let remote = unsafe { RemoteSnapshot::from_raw_parts(handle, raw) };
    let error = remote.close().unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::PssFreeSnapshot,
            ErrorKind::Os(ErrorCode::NOT_SUPPORTED)
        )
    );
    drop(process); // Its exit releases the snapshot `pss` had to give up on.
    assert_no_leaks();
}

/// A VM-allocated remote snapshot received as raw parts is freed by `close` through its process.
#[cfg(not(windows))]
#[test]
fn remote_close_frees_a_vm_allocated_snapshot() {
    let (process, handle) = target();
    let raw = process
        .model()
        .own_snapshot(pss_sys::PSS_CAPTURE_THREADS, true);
    // SAFETY: as above.
    let remote = unsafe { RemoteSnapshot::from_raw_parts(handle, raw) };
    expect::snapshots_in(process.pid(), 1);
    remote.close().unwrap();
    expect::snapshots_in(process.pid(), 0);
    assert_no_leaks();
}

/// A missing right on the process handle is a typed `AccessDenied`, and the failed free is
/// reported, not retried (model choice for the code).
#[test]
fn remote_close_without_rights_is_access_denied() {
    require_pss!();
    let process = TestProcess::spawn();
    let full = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    let weak = pss::open_process(process.pid(), ProcessAccess::DUPLICATE_TARGET).unwrap();
    let local = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let (_, raw) = local.duplicate_into(&full).unwrap().into_raw_parts();
    // SAFETY: `raw` lives in the process `weak` refers to, and only this value owns it now.
    let remote = unsafe { RemoteSnapshot::from_raw_parts(&weak, raw) };
    let error = remote.close().unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::PssFreeSnapshot,
            ErrorKind::Os(ErrorCode::ACCESS_DENIED)
        )
    );
    // A failed free frees nothing: free it properly, through the handle with the rights.
    assert_eq!(free(full.as_raw_handle(), raw), 0);
    drop((local, weak, full));
    assert_no_leaks();
}

/// `duplicate` gives a second, independently owned local snapshot that stays readable after
/// the original is freed.
#[test]
fn duplicate_gives_an_independent_local_snapshot() {
    require_pss!();
    let original = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let copy = original.duplicate().unwrap();
    assert_ne!(copy.as_raw(), original.as_raw());
    expect::live_snapshots(2);
    let threads = threads_captured(&original);
    drop(original);
    assert_eq!(threads_captured(&copy), threads);
    drop(copy);
    assert_no_leaks();
}

/// `into_raw` gives up ownership and `from_raw` takes it back: freed once in all.
#[test]
fn raw_round_trip_keeps_one_owner() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let raw = snapshot.into_raw();
    expect::live_snapshots(1);
    // SAFETY: `raw` came from `into_raw` and has no other owner.
    drop(unsafe { LocalSnapshot::from_raw(raw) });
    assert_no_leaks();
}

/// A snapshot duplicated into another process lives there and is freed through the handle the
/// `RemoteSnapshot` holds (2.1, 3.2, 3.3).
#[test]
fn duplicate_into_lives_in_the_target_and_frees_through_it() {
    require_pss!();
    let (process, handle) = target();
    let local = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let remote = local.duplicate_into(&handle).unwrap();
    expect::snapshots_in(process.pid(), 1);
    assert_eq!(remote.process().as_raw_handle(), handle.as_raw_handle());
    remote.close().unwrap();
    expect::snapshots_in(process.pid(), 0);
    drop(local);
    drop(handle);
    assert_no_leaks();
}

/// A remote snapshot duplicates back into this process as a local one, readable here.
#[test]
fn remote_snapshot_duplicates_back_to_local() {
    require_pss!();
    let (_process, handle) = target();
    let local = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let threads = threads_captured(&local);
    let remote = local.duplicate_into(handle).unwrap();
    drop(local);
    let back = remote.duplicate_to_local().unwrap();
    assert_eq!(threads_captured(&back), threads);
    drop(back);
    drop(remote);
    assert_no_leaks();
}

/// `move_into` moves a VM-allocated snapshot: the local one is consumed, the remote one is the
/// only snapshot left, and it can be read back (2.1).
#[test]
fn move_into_moves_the_snapshot() {
    require_pss!();
    let (process, handle) = target();
    let local = LocalSnapshot::capture_current_vm(CaptureFlags::THREADS).unwrap();
    let remote = local.move_into(handle).unwrap();
    expect::live_snapshots(1);
    expect::snapshots_in(process.pid(), 1);
    assert!(threads_captured(&remote.duplicate_to_local().unwrap()) >= 1);
    remote.close().unwrap();
    assert_no_leaks();
}

/// `move_into` consumes the snapshot even when the duplication fails: the OS freed it, and
/// `pss` does not free it again (the model would abort a double free) (2.1). The handle's rights
/// are unknown (a plain `OwnedHandle`), so the OS checks them.
#[test]
fn move_into_consumes_the_source_even_on_failure() {
    require_pss!();
    let process = TestProcess::spawn();
    let handle: OwnedHandle = pss::open_process(
        process.pid(),
        ProcessAccess::REMOTE_SNAPSHOT - ProcessAccess::VM_WRITE,
    )
    .unwrap()
    .into();
    let local = LocalSnapshot::capture_current_vm(CaptureFlags::NONE).unwrap();
    let error =
        expect::calls(Call::PssDuplicateSnapshot, 1, || local.move_into(handle)).unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::PssDuplicateSnapshot,
            ErrorKind::Os(ErrorCode::ACCESS_DENIED)
        )
    );
    expect::live_snapshots(0);
    assert_no_leaks();
}

/// Missing target rights on a handle of unknown rights give a typed `ACCESS_DENIED` from the
/// OS, naming `PssDuplicateSnapshot`; a snapshot with a section needs `PROCESS_DUP_HANDLE` too.
#[test]
fn duplicate_into_without_rights_is_access_denied() {
    require_pss!();
    let process = TestProcess::spawn();
    let local = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    for missing in [
        ProcessAccess::VM_OPERATION,
        ProcessAccess::VM_WRITE,
        ProcessAccess::DUP_HANDLE,
    ] {
        let handle: OwnedHandle =
            pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT - missing)
                .unwrap()
                .into();
        let error = local.duplicate_into(handle).unwrap_err();
        assert_eq!(
            (error.function(), error.kind()),
            (
                Function::PssDuplicateSnapshot,
                ErrorKind::Os(ErrorCode::ACCESS_DENIED)
            ),
            "without {missing:?}"
        );
    }
    drop(local);
    assert_no_leaks();
}

/// A `Process` knows its rights: `duplicate_into` and `move_into` refuse, without calling the
/// OS, to put a snapshot into a process through a handle that could not free it there
/// (Windows' remote free would report success and leak it: WINDOWS-EVIDENCE Second audit).
/// `move_into` then frees the snapshot here. A plain handle with the same rights is the OS's
/// to check, and the free leaks as Windows does (the model records it).
#[test]
fn a_handle_that_could_not_free_the_snapshot_is_refused() {
    require_pss!();
    let process = TestProcess::spawn();
    let local = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    for missing in [
        ProcessAccess::VM_READ,
        ProcessAccess::VM_OPERATION,
        ProcessAccess::DUP_HANDLE,
    ] {
        let handle =
            pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT - missing).unwrap();
        let error = expect::calls(Call::PssDuplicateSnapshot, 0, || {
            local.duplicate_into(&handle)
        })
        .unwrap_err();
        assert_eq!(
            (error.function(), error.kind(), error.code()),
            (
                Function::PssDuplicateSnapshot,
                ErrorKind::InsufficientAccess(missing),
                None
            ),
            "without {missing:?}"
        );
        assert!(error.to_string().contains("not called"), "{error}");
        let vm = LocalSnapshot::capture_current_vm(CaptureFlags::THREADS).unwrap();
        let error = expect::calls(Call::PssFreeSnapshot, 1, || vm.move_into(&handle)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InsufficientAccess(missing));
        expect::live_snapshots(1);
    }
    drop(local);
    assert_no_leaks();
}

/// `ProcessAccess::DUPLICATE_TARGET` is what making the copy needs, not what freeing it needs:
/// a `Process` opened with it alone is refused by `duplicate_into`, naming `PROCESS_VM_READ`
/// (the copy could not be freed through it); with `REMOTE_SNAPSHOT` the copy is made and freed.
#[test]
fn duplicate_target_alone_cannot_free_the_copy() {
    require_pss!();
    let process = TestProcess::spawn();
    let local = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let making = pss::open_process(process.pid(), ProcessAccess::DUPLICATE_TARGET).unwrap();
    let error = expect::calls(Call::PssDuplicateSnapshot, 0, || {
        local.duplicate_into(&making)
    })
    .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::InsufficientAccess(ProcessAccess::VM_READ)
    );
    let target = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    local.duplicate_into(&target).unwrap().close().unwrap();
    drop((local, making, target));
    assert_no_leaks();
}

/// A snapshot of process information alone (`CaptureFlags::NONE`) holds no kernel handle:
/// Windows duplicates it into a process and frees it there without `PROCESS_DUP_HANDLE`, and
/// leaves nothing behind, so `pss` asks for that right only for snapshots with parts. The
/// same handle is refused a snapshot with threads (its sections need the right).
#[test]
fn a_snapshot_of_process_information_needs_no_dup_handle() {
    require_pss!();
    let process = TestProcess::spawn();
    let rights = ProcessAccess::REMOTE_SNAPSHOT - ProcessAccess::DUP_HANDLE;
    let target = pss::open_process(process.pid(), rights).unwrap();
    let local = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let remote = expect::calls(Call::PssDuplicateSnapshot, 1, || {
        local.duplicate_into(&target)
    })
    .unwrap();
    expect::snapshots_in(process.pid(), 1);
    // Freed whole: no `InsufficientAccess`, nothing left in the process.
    remote.close().unwrap();
    expect::snapshots_in(process.pid(), 0);
    let vm = LocalSnapshot::capture_current_vm(CaptureFlags::NONE).unwrap();
    vm.move_into(&target).unwrap().close().unwrap();
    let threads = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let error = threads.duplicate_into(&target).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::InsufficientAccess(ProcessAccess::DUP_HANDLE)
    );
    drop((local, threads, target));
    assert_no_leaks();
}

/// `close` through a `Process` that lacks the rights to finish a remote free reports it,
/// although Windows says success: the snapshot's handles (or memory) stay in the process.
#[cfg(not(windows))]
#[test]
fn remote_close_without_rights_reports_the_leak() {
    let process = TestProcess::spawn();
    let raw = process
        .model()
        .own_snapshot(pss_sys::PSS_CAPTURE_THREADS, true);
    let weak = pss::open_process(
        process.pid(),
        ProcessAccess::REMOTE_FREE - ProcessAccess::DUP_HANDLE,
    )
    .unwrap();
    // SAFETY: `raw` lives in `process`'s context and is handed to us (the model's own_snapshot).
    let remote = unsafe { RemoteSnapshot::from_raw_parts(weak, raw) };
    let error = expect::calls(Call::PssFreeSnapshot, 1, || remote.close()).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::InsufficientAccess(ProcessAccess::DUP_HANDLE)
    );
    assert!(error.reason().unwrap().contains("reported success"));
    assert_eq!(pss_tests::model::leaks().len(), 1, "the leak the model saw");
    drop(process); // its exit closes what was left open
    assert_no_leaks();
}

/// `into_raw_parts` hands the remote snapshot over: nothing is freed until the new owner does.
#[test]
fn into_raw_parts_hands_the_snapshot_over() {
    require_pss!();
    let (process, handle) = target();
    let local = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let (handle, raw) = local.duplicate_into(handle).unwrap().into_raw_parts();
    expect::snapshots_in(process.pid(), 1);
    assert_eq!(free(handle.as_raw_handle(), raw), 0);
    drop((local, handle));
    assert_no_leaks();
}

/// A local snapshot may be freed on another thread (it is `Send`).
#[test]
fn local_snapshot_is_freed_on_another_thread() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    std::thread::spawn(move || snapshot.close().unwrap())
        .join()
        .unwrap();
    assert_no_leaks();
}

/// A snapshot of another process, captured through a handle with the rights `for_capture`
/// derives, lives here and describes that process.
#[test]
fn capture_of_another_process_is_local() {
    require_pss!();
    let process = TestProcess::spawn();
    let flags = CaptureFlags::THREADS | CaptureFlags::HANDLES | CaptureFlags::VA_SPACE;
    let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&handle, flags).unwrap();
    expect::live_snapshots(1);
    expect::snapshots_in(process.pid(), 0);
    assert_eq!(
        snapshot.process_information().unwrap().process_id(),
        process.pid()
    );
    assert!(threads_captured(&snapshot) >= 1);
    drop(snapshot);
    drop(handle);
    assert_no_leaks();
}

/// The hand-over protocol of `RemoteSnapshot`'s docs: ownership moves before the handle is
/// sent; the sender frees only when nothing was delivered, and leaves a partly delivered
/// handle to the receiver. Each case ends with exactly one owner: freed once, or alive in the
/// helper until the helper ends, never freed twice (the model reports a second free as
/// misuse).
#[test]
fn hand_over_frees_once_whatever_the_channel_does() {
    use pss::RemoteSnapshot;
    use std::io::{self, Write};

    /// The sender's side, as the docs show it.
    fn hand_over(helper: Process, pipe: &mut impl Write) -> io::Result<()> {
        let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
        let remote = LocalSnapshot::capture_current_vm(flags)?.move_into(helper)?;
        let (helper, raw) = remote.into_raw_parts();
        let message = (raw as usize as u64).to_le_bytes();
        match pipe.write(&message) {
            Ok(n) if n == message.len() => Ok(()),
            Err(error) => {
                // SAFETY: `raw` lives in the helper's process, which `helper` refers to, and
                // was never delivered: nobody else owns it.
                drop(unsafe { RemoteSnapshot::from_raw_parts(helper, raw) });
                Err(error)
            }
            Ok(_) => Err(io::Error::other(
                "partial write: the snapshot is the helper's",
            )),
        }
    }

    /// A channel that delivers `accept` bytes of each write, or fails before writing any.
    struct Pipe {
        accept: Option<usize>,
        delivered: Vec<u8>,
    }
    impl Write for Pipe {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let n = self
                .accept
                .ok_or(io::ErrorKind::BrokenPipe)?
                .min(bytes.len());
            self.delivered.extend_from_slice(&bytes[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    require_pss!();
    for (accept, stays_with_helper) in [(Some(8), true), (None, false), (Some(3), true)] {
        let helper = TestProcess::spawn();
        let handle = pss::open_process(helper.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
        let mut pipe = Pipe {
            accept,
            delivered: Vec::new(),
        };
        let sent = hand_over(handle, &mut pipe);
        assert_eq!(sent.is_ok(), accept == Some(8), "{accept:?}");
        expect::snapshots_in(helper.pid(), usize::from(stays_with_helper));
        if accept == Some(8) {
            // The helper received the value and owns the snapshot: it frees it (here through a
            // handle to it, as its own `PssFreeSnapshot(GetCurrentProcess(), ..)` would).
            let value = u64::from_le_bytes(pipe.delivered.try_into().unwrap()) as usize;
            let handle = pss::open_process(helper.pid(), ProcessAccess::REMOTE_FREE).unwrap();
            // SAFETY: the value the helper received names a snapshot in its context that only
            // the helper owns, and the helper frees it just this once.
            let owned = unsafe { RemoteSnapshot::from_raw_parts(handle, value as pss::sys::HPSS) };
            owned.close().unwrap();
            expect::snapshots_in(helper.pid(), 0);
        }
        // A partly delivered snapshot stays with the helper until it ends; it is not ours.
        drop(helper);
    }
    assert_no_leaks();
}
