//! PssFreeSnapshot (PSS-CONTRACT.md 2.1, 3.3, 11.11).

use pss_sys::*;
use pss_tests::*;

/// Freeing a local snapshot with `GetCurrentProcess()` succeeds and releases it (3.3).
#[test]
fn local_snapshot_is_freed_with_get_current_process() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    assert_eq!(free(current_process(), snapshot), ERROR_SUCCESS);
    assert_no_leaks();
}

/// A process handle that is not one is `ERROR_INVALID_HANDLE` (documented, 3.3); the
/// snapshot is then still the caller's to free (model choice, 11.11).
#[test]
fn invalid_process_handle_is_invalid_handle() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    assert_eq!(free(std::ptr::null_mut(), snapshot), ERROR_INVALID_HANDLE);
    free_local(snapshot);
    assert_no_leaks();
}

/// A free through a real process handle reads the descriptor out of that process first (ND
/// `PssNtFreeRemoteSnapshot`: `ZwReadVirtualMemory` of its 0x478 bytes, then the count, then
/// the signature): a value the process does not map is `ERROR_PARTIAL_COPY`, one it maps
/// without a snapshot's signature `ERROR_INVALID_HANDLE`; nothing is freed. So this process's
/// snapshot freed through another process's handle (pe-sieve does this by mistake) fails, and
/// stays this process's to free (WINDOWS-EVIDENCE Third audit, item 6).
#[test]
fn a_remote_free_of_what_is_not_a_snapshot_there_fails_with_the_read() {
    require_pss!();
    let child = TestProcess::spawn();
    let process = open_process(
        child.pid(),
        PROCESS_VM_READ
            | PROCESS_VM_OPERATION
            | PROCESS_DUP_HANDLE
            | PROCESS_QUERY_LIMITED_INFORMATION,
    )
    .unwrap();
    // Windows never maps the first 64 KiB of an address space.
    assert_eq!(
        free(process, std::ptr::without_provenance_mut(0x1000)),
        ERROR_PARTIAL_COPY
    );
    // The child's PEB: readable, but no snapshot there.
    let (code, snapshot) = capture(process, PSS_CAPTURE_NONE, 0);
    assert_eq!(code, ERROR_SUCCESS);
    let (_, info) = query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
    free_local(snapshot);
    assert_eq!(
        free(process, info.PebBaseAddress.cast()),
        ERROR_INVALID_HANDLE
    );
    let mine = capture_current(PSS_CAPTURE_NONE | PSS_CREATE_USE_VM_ALLOCATIONS);
    let code = free(process, mine);
    // Unless the child happens to map memory at that address too (then: no signature).
    assert!(
        code == ERROR_PARTIAL_COPY || code == ERROR_INVALID_HANDLE,
        "{code}"
    );
    #[cfg(not(windows))]
    assert_eq!(code, ERROR_PARTIAL_COPY);
    free_local(mine);
    close_handle(process);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    const FREE_RIGHTS: u32 = PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE;

    /// Remote free only works for snapshots created with `PSS_CREATE_USE_VM_ALLOCATIONS` or
    /// duplicated remotely: a heap snapshot the other process captured itself is
    /// `ERROR_NOT_SUPPORTED` (documented, 3.3).
    #[test]
    fn remote_free_of_a_heap_snapshot_is_not_supported() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), FREE_RIGHTS).unwrap();
        let heap = target.own_snapshot(PSS_CAPTURE_THREADS, false);
        assert_eq!(free(process, heap), ERROR_NOT_SUPPORTED);
        let vm = target.own_snapshot(PSS_CAPTURE_THREADS, true);
        assert_eq!(free(process, vm), ERROR_SUCCESS);
        close_handle(process);
        drop(target); // Its exit releases the heap snapshot we could not free.
        assert_no_leaks();
    }

    /// A snapshot duplicated into another process can be freed from here through a handle to
    /// it, even when it was not VM-allocated ("or duplicated remotely", 3.3).
    #[test]
    fn remotely_duplicated_snapshot_is_freed_remotely() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), FREE_RIGHTS | PROCESS_VM_WRITE).unwrap();
        let local = capture_current(PSS_CAPTURE_NONE);
        let (code, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        free_local(local);
        close_handle(process);
        assert_no_leaks();
    }

    /// A remote free needs `PROCESS_VM_READ` (it reads the descriptor), else
    /// `ERROR_ACCESS_DENIED`; without the other documented rights it reports success and
    /// leaves the snapshot's memory or handles in the target (`duplicate::
    /// remote_free_without_rights_succeeds_and_leaks`; WINDOWS-EVIDENCE Second audit).
    #[test]
    fn remote_free_without_rights_is_access_denied() {
        let target = ProcessSpec::new().spawn();
        let vm = target.own_snapshot(PSS_CAPTURE_NONE, true);
        let process = open_process(target.pid(), FREE_RIGHTS & !PROCESS_VM_READ).unwrap();
        assert_eq!(free(process, vm), ERROR_ACCESS_DENIED);
        close_handle(process);
        let process = open_process(target.pid(), FREE_RIGHTS).unwrap();
        assert_eq!(free(process, vm), ERROR_SUCCESS);
        close_handle(process);
        assert_no_leaks();
    }

    /// Model choice: a failed free leaves the snapshot alive and owned (11.11).
    #[test]
    fn failed_free_leaves_the_snapshot_owned() {
        let target = ProcessSpec::new().spawn();
        let heap = target.own_snapshot(PSS_CAPTURE_NONE, false);
        let process = open_process(target.pid(), FREE_RIGHTS).unwrap();
        assert_eq!(free(process, heap), ERROR_NOT_SUPPORTED);
        assert_eq!(live_in(target.pid()).snapshots, 1);
        close_handle(process);
        drop(target);
        assert_no_leaks();
    }
}
