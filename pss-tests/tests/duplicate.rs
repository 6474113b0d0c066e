//! PssDuplicateSnapshot (PSS-CONTRACT.md 2.1, 3.2, 11.10, 11.11).

use pss_sys::*;
use pss_tests::*;

/// Duplicating within this process gives a second handle that queries like the original (3.2).
#[test]
fn duplicate_into_this_process_gives_a_second_local_snapshot() {
    require_pss!();
    let original = capture_current(PSS_CAPTURE_THREADS);
    let (code, copy) = duplicate(
        current_process(),
        original,
        current_process(),
        PSS_DUPLICATE_NONE,
    );
    assert_eq!(code, ERROR_SUCCESS);
    assert_ne!(copy, original);
    let a = query::<PSS_THREAD_INFORMATION>(original, PSS_QUERY_THREAD_INFORMATION);
    let b = query::<PSS_THREAD_INFORMATION>(copy, PSS_QUERY_THREAD_INFORMATION);
    assert_eq!((a.0, b.0), (ERROR_SUCCESS, ERROR_SUCCESS));
    assert_eq!(a.1.ThreadsCaptured, b.1.ThreadsCaptured);
    free_local(original);
    free_local(copy);
    assert_no_leaks();
}

/// Original and duplicate are independent; freeing one leaves the other (11.10;
/// WINDOWS-EVIDENCE Duplicate and free: confirmed).
#[test]
fn duplicate_and_original_are_freed_independently() {
    require_pss!();
    let original = capture_current(PSS_CAPTURE_THREADS);
    let (_, copy) = duplicate(
        current_process(),
        original,
        current_process(),
        PSS_DUPLICATE_NONE,
    );
    free_local(original);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(copy, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_SUCCESS
    );
    free_local(copy);
    assert_no_leaks();
}

/// `PSS_DUPLICATE_CLOSE_SOURCE` on a VM-allocated snapshot moves it: the source is freed by the
/// call (2.1, 3.2).
#[test]
fn close_source_moves_a_vm_allocated_snapshot() {
    require_pss!();
    let source = capture_current(PSS_CAPTURE_THREADS | PSS_CREATE_USE_VM_ALLOCATIONS);
    let (code, moved) = duplicate(
        current_process(),
        source,
        current_process(),
        PSS_DUPLICATE_CLOSE_SOURCE,
    );
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(moved, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_SUCCESS
    );
    #[cfg(not(windows))]
    assert_eq!(
        model::live().snapshots,
        1,
        "the source was freed by the call"
    );
    free_local(moved);
    assert_no_leaks();
}

/// A process handle that is not one is `ERROR_INVALID_HANDLE` (documented, 3.2).
#[test]
fn invalid_process_handle_is_invalid_handle() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    assert_eq!(
        duplicate(
            current_process(),
            snapshot,
            std::ptr::null_mut(),
            PSS_DUPLICATE_NONE
        )
        .0,
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        duplicate(
            std::ptr::null_mut(),
            snapshot,
            current_process(),
            PSS_DUPLICATE_NONE
        )
        .0,
        ERROR_INVALID_HANDLE
    );
    free_local(snapshot);
    assert_no_leaks();
}

/// `PSS_DUPLICATE_CLOSE_SOURCE` on a snapshot captured without `PSS_CREATE_USE_VM_ALLOCATIONS`
/// succeeds and frees the source: the page says it "will only succeed" with VM allocations, but
/// Windows does not check (11.10; WINDOWS-EVIDENCE Duplicate and free: ntdll, and Windows Error
/// Reporting relies on it). `pss` keeps the documented rule.
#[test]
fn close_source_without_vm_allocations_succeeds_and_frees() {
    require_pss!();
    let source = capture_current(PSS_CAPTURE_THREADS);
    let (code, copy) = duplicate(
        current_process(),
        source,
        current_process(),
        PSS_DUPLICATE_CLOSE_SOURCE,
    );
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(copy, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_SUCCESS
    );
    free_local(copy);
    assert_no_leaks(); // The source is gone: freeing it now would be a double free.
}

/// Model choice: a failed duplicate leaves the out-parameter as it was (nothing shows what
/// Windows writes there; callers must read it only after `ERROR_SUCCESS`).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn failed_duplicate_leaves_the_out_parameter_alone() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    let sentinel = std::ptr::without_provenance_mut(0x5E47_1000);
    let mut out = sentinel;
    // SAFETY: valid snapshot and out-pointer; the NULL target process makes the call fail.
    let code = unsafe {
        PssDuplicateSnapshot(
            current_process(),
            snapshot,
            std::ptr::null_mut(),
            &mut out,
            PSS_DUPLICATE_NONE,
        )
    };
    assert_eq!(code, ERROR_INVALID_HANDLE);
    assert_eq!(out, sentinel);
    free_local(snapshot);
    assert_no_leaks();
}

/// Unknown duplicate flags are `ERROR_INVALID_PARAMETER`.
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn unknown_duplicate_flags_are_invalid_parameter() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    assert_eq!(
        duplicate(current_process(), snapshot, current_process(), 2).0,
        ERROR_INVALID_PARAMETER
    );
    free_local(snapshot);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    const TARGET_RIGHTS: u32 = PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE;
    const SOURCE_RIGHTS: u32 = PROCESS_VM_READ | PROCESS_DUP_HANDLE;
    const FREE_RIGHTS: u32 = PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE;

    /// A duplicate into another process lives in its context and is freed through a handle to
    /// it, with the documented rights (2.1, 3.2, 3.3).
    #[test]
    fn duplicate_into_another_process_lives_there() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let local = capture_current(PSS_CAPTURE_THREADS);
        let (code, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(live_in(target.pid()).snapshots, 1);
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        assert_eq!(live_in(target.pid()).snapshots, 0);
        free_local(local);
        close_handle(process);
        assert_no_leaks();
    }

    /// Exactly the documented rights suffice, and each missing one is `ERROR_ACCESS_DENIED`
    /// (model choice for the code; rights from 3.2).
    #[test]
    fn missing_rights_are_access_denied() {
        let target = ProcessSpec::new().spawn();
        let local = capture_current(PSS_CAPTURE_NONE);
        for missing in [PROCESS_VM_OPERATION, PROCESS_VM_WRITE, PROCESS_DUP_HANDLE] {
            let process = open_process(target.pid(), TARGET_RIGHTS & !missing).unwrap();
            assert_eq!(
                duplicate(current_process(), local, process, PSS_DUPLICATE_NONE).0,
                ERROR_ACCESS_DENIED,
                "target without {missing:#x}"
            );
            close_handle(process);
        }
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let (code, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        for missing in [PROCESS_VM_READ, PROCESS_DUP_HANDLE] {
            let source = open_process(target.pid(), SOURCE_RIGHTS & !missing).unwrap();
            assert_eq!(
                duplicate(source, remote, current_process(), PSS_DUPLICATE_NONE).0,
                ERROR_ACCESS_DENIED,
                "source without {missing:#x}"
            );
            close_handle(source);
        }
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        free_local(local);
        close_handle(process);
        assert_no_leaks();
    }

    /// A snapshot duplicated into another process can be duplicated back into this one, through
    /// a source handle with `PROCESS_VM_READ | PROCESS_DUP_HANDLE` (3.2).
    #[test]
    fn remote_snapshot_can_be_duplicated_back() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let local = capture_current(PSS_CAPTURE_THREADS);
        let (_, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
        let source = open_process(target.pid(), SOURCE_RIGHTS).unwrap();
        let (code, back) = duplicate(source, remote, current_process(), PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(back, PSS_QUERY_THREAD_INFORMATION).0,
            ERROR_SUCCESS
        );
        free_local(back);
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        free_local(local);
        close_handle(source);
        close_handle(process);
        assert_no_leaks();
    }

    /// Moving a VM-allocated snapshot into another process consumes the local one (2.1).
    #[test]
    fn close_source_moves_into_another_process() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let local = capture_current(PSS_CAPTURE_THREADS | PSS_CREATE_USE_VM_ALLOCATIONS);
        let (code, remote) = duplicate(
            current_process(),
            local,
            process,
            PSS_DUPLICATE_CLOSE_SOURCE,
        );
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!((live().snapshots, live_in(target.pid()).snapshots), (1, 1));
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        close_handle(process);
        assert_no_leaks();
    }

    /// `PSS_DUPLICATE_CLOSE_SOURCE` frees the source even when the duplication fails for lack
    /// of rights (documented, 2.1).
    #[test]
    fn close_source_frees_the_source_even_when_duplication_fails() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_VM_OPERATION).unwrap();
        let local = capture_current(PSS_CAPTURE_NONE | PSS_CREATE_USE_VM_ALLOCATIONS);
        assert_eq!(
            duplicate(
                current_process(),
                local,
                process,
                PSS_DUPLICATE_CLOSE_SOURCE
            )
            .0,
            ERROR_ACCESS_DENIED
        );
        assert_eq!(live().snapshots, 0);
        close_handle(process);
        assert_no_leaks();
    }

    /// Model choice: a snapshot that is not in the source process's context is
    /// `ERROR_INVALID_HANDLE` (11.11).
    #[test]
    fn snapshot_outside_source_context_is_invalid_handle() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let local = capture_current(PSS_CAPTURE_NONE);
        assert_eq!(
            duplicate(process, local, current_process(), PSS_DUPLICATE_NONE).0,
            ERROR_INVALID_HANDLE
        );
        free_local(local);
        close_handle(process);
        assert_no_leaks();
    }

    fn clone_handle(snapshot: HPSS) -> HANDLE {
        let (code, info) =
            query::<PSS_VA_CLONE_INFORMATION>(snapshot, PSS_QUERY_VA_CLONE_INFORMATION);
        assert_eq!(code, ERROR_SUCCESS);
        info.VaCloneHandle
    }

    /// Duplicates are independent copies, each with its own duplicate of the VA clone handle
    /// (same access), also through another process and back; the clone process lives while any
    /// of them is open and ends with the last (11.9, 11.10; WINDOWS-EVIDENCE Duplicate and
    /// free: ntdll duplicates every handle the snapshot holds).
    #[test]
    fn every_copy_holds_its_own_clone_handle() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let source = open_process(target.pid(), SOURCE_RIGHTS).unwrap();
        let original = capture_current(PSS_CAPTURE_VA_CLONE);
        let clone_pid = {
            // SAFETY: borrowed from the live snapshot.
            unsafe { GetProcessId(clone_handle(original)) }
        };
        let (_, local_copy) = duplicate(
            current_process(),
            original,
            current_process(),
            PSS_DUPLICATE_NONE,
        );
        let (_, remote) = duplicate(current_process(), original, process, PSS_DUPLICATE_NONE);
        assert_ne!(clone_handle(local_copy), clone_handle(original));
        assert_eq!(
            handle_access(clone_handle(local_copy)),
            Some(VA_CLONE_ACCESS)
        );
        free_local(original);
        free_local(local_copy);
        assert!(process_alive(clone_pid), "the remote copy still holds it");
        let (code, back) = duplicate(source, remote, current_process(), PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        // SAFETY: borrowed from the live snapshot `back`.
        assert_eq!(unsafe { GetProcessId(clone_handle(back)) }, clone_pid);
        free_local(back);
        assert!(!process_alive(clone_pid), "ended with the last handle");
        close_handle(source);
        close_handle(process);
        assert_no_leaks();
    }

    /// Freeing a remote snapshot checks the documented rights; freeing a local one checks none
    /// (3.3; WINDOWS-EVIDENCE Duplicate and free).
    #[test]
    fn remote_free_checks_rights_local_free_does_not() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let weak = open_process(target.pid(), TARGET_RIGHTS).unwrap();
        let local = capture_current(PSS_CAPTURE_NONE);
        let (_, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
        assert_eq!(free(weak, remote), ERROR_ACCESS_DENIED);
        assert_eq!(
            live_in(target.pid()).snapshots,
            1,
            "a failed free frees nothing"
        );
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        let own = open_process(CURRENT_PID, PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
        assert_eq!(
            free(own, local),
            ERROR_SUCCESS,
            "a local free needs no rights"
        );
        close_handle(own);
        close_handle(weak);
        close_handle(process);
        assert_no_leaks();
    }
}
