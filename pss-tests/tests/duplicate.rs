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

/// A failed duplicate from this process (the pseudo handle: ntdll's local path) leaves the
/// out-parameter as it was: ntdll writes it only on success (WINDOWS-EVIDENCE Second audit;
/// callers must read it only after `ERROR_SUCCESS`).
#[test]
fn failed_local_duplicate_leaves_the_out_parameter_alone() {
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

/// A real handle as the source, even one to this process, is ntdll's remote path: it reads the
/// descriptor with `ReadProcessMemory` (so it needs `PROCESS_VM_READ` on the source) and clears
/// the out-parameter first, so a failure leaves it NULL (WINDOWS-EVIDENCE Second audit:
/// `PssNtDuplicateSnapshot` tests for `-1` only; `PsspDuplicateSnapshotRemoteToRemote` begins
/// `*a4 = 0`).
#[test]
fn a_real_handle_to_this_process_is_the_remote_path() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_THREADS);
    let weak = open_process(current_pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
    let mut out = std::ptr::without_provenance_mut(0x5E47_1000);
    // SAFETY: valid snapshot, handles and out-pointer; the source handle cannot read memory.
    let code = unsafe {
        PssDuplicateSnapshot(
            weak,
            snapshot,
            current_process(),
            &mut out,
            PSS_DUPLICATE_NONE,
        )
    };
    assert_eq!(code, ERROR_ACCESS_DENIED);
    assert!(out.is_null(), "the remote path clears the out-parameter");
    let source = open_process(current_pid(), PROCESS_VM_READ | PROCESS_DUP_HANDLE).unwrap();
    let (code, copy) = duplicate(source, snapshot, current_process(), PSS_DUPLICATE_NONE);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(copy, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_SUCCESS
    );
    free_local(copy);
    free_local(snapshot);
    close_handle(source);
    close_handle(weak);
    assert_no_leaks();
}

/// Duplicate flags other than `PSS_DUPLICATE_CLOSE_SOURCE` are ignored: ntdll tests only bit 0
/// (`a5 & 1`, ND `PsspDuplicateSnapshotLocalToRemote`, `PsspDuplicateSnapshotRemoteToRemote`),
/// and kernel32 passes flags through as it does the capture flags (INFER: its own check is
/// not visible).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where kernel32's check is not visible; run with --ignored to compare"
)]
fn unknown_duplicate_flags_are_ignored() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    let (code, copy) = duplicate(current_process(), snapshot, current_process(), 2);
    assert_eq!(code, ERROR_SUCCESS);
    free_local(copy);
    let (code, moved) = duplicate(
        current_process(),
        snapshot,
        current_process(),
        0x4000 | PSS_DUPLICATE_CLOSE_SOURCE,
    );
    assert_eq!(code, ERROR_SUCCESS);
    free_local(moved);
    assert_no_leaks(); // bit 0 still closed the source
}

/// The remote path reads the descriptor out of the source process first, with
/// `ZwReadVirtualMemory` (ND `PsspDuplicateSnapshotRemoteToRemote`): a value the source does
/// not map is `ERROR_PARTIAL_COPY` (the kernel turns the fault into `STATUS_PARTIAL_COPY`, NK
/// `MiCopyVirtualMemory`), one it maps without a snapshot's signature `ERROR_INVALID_HANDLE`;
/// the out-parameter is NULL either way.
#[test]
fn a_remote_duplicate_of_what_is_not_a_snapshot_there_fails_with_the_read() {
    require_pss!();
    let child = TestProcess::spawn();
    let source = open_process(
        child.pid(),
        PROCESS_VM_READ | PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION,
    )
    .unwrap();
    let (code, info) = {
        let (code, snapshot) = capture(source, PSS_CAPTURE_NONE, 0);
        assert_eq!(code, ERROR_SUCCESS);
        let answer = query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
        free_local(snapshot);
        answer
    };
    assert_eq!(code, ERROR_SUCCESS);
    // Windows never maps the first 64 KiB of an address space.
    let unmapped: HPSS = std::ptr::without_provenance_mut(0x1000);
    // The child's PEB: readable, but no snapshot there.
    let peb: HPSS = info.PebBaseAddress.cast();
    for (value, expected) in [(unmapped, ERROR_PARTIAL_COPY), (peb, ERROR_INVALID_HANDLE)] {
        let (code, copy) = duplicate(source, value, current_process(), PSS_DUPLICATE_NONE);
        assert_eq!(code, expected, "value {value:p}");
        assert!(copy.is_null());
    }
    close_handle(source);
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

    /// The target needs `PROCESS_VM_OPERATION | PROCESS_VM_WRITE` (the copy is allocated and
    /// written there), and `PROCESS_DUP_HANDLE` only when the snapshot holds kernel handles (a
    /// clone or a section: any part beyond process information); each missing one is
    /// `ERROR_ACCESS_DENIED` (rights from 3.2; WINDOWS-EVIDENCE Second audit, item 11; the code
    /// is the model's choice).
    #[test]
    fn missing_rights_are_access_denied() {
        let target = ProcessSpec::new().spawn();
        let bare = capture_current(PSS_CAPTURE_NONE);
        let with_section = capture_current(PSS_CAPTURE_THREADS);
        for missing in [PROCESS_VM_OPERATION, PROCESS_VM_WRITE, PROCESS_DUP_HANDLE] {
            let process = open_process(target.pid(), TARGET_RIGHTS & !missing).unwrap();
            assert_eq!(
                duplicate(current_process(), with_section, process, PSS_DUPLICATE_NONE).0,
                ERROR_ACCESS_DENIED,
                "target without {missing:#x}"
            );
            let (code, remote) = duplicate(current_process(), bare, process, PSS_DUPLICATE_NONE);
            if missing == PROCESS_DUP_HANDLE {
                // CPython's capture (no flags) holds no handle: none to duplicate.
                assert_eq!(code, ERROR_SUCCESS, "a snapshot without handles");
                let free_through = open_process(target.pid(), FREE_RIGHTS).unwrap();
                assert_eq!(free(free_through, remote), ERROR_SUCCESS);
                close_handle(free_through);
            } else {
                assert_eq!(code, ERROR_ACCESS_DENIED, "target without {missing:#x}");
            }
            close_handle(process);
        }
        let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
        let (code, remote) =
            duplicate(current_process(), with_section, process, PSS_DUPLICATE_NONE);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(free(process, remote), ERROR_SUCCESS);
        free_local(bare);
        free_local(with_section);
        close_handle(process);
        assert_no_leaks();
    }

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

    /// Through a real source handle, a snapshot that is not in that process's context is read
    /// out of that process at its address: where the process maps nothing there (this
    /// process's snapshot, given with a handle to another process), `ERROR_PARTIAL_COPY`
    /// (11.11; WINDOWS-EVIDENCE Third audit, item 6). With `CLOSE_SOURCE` the remote free fails
    /// the same way and frees nothing. Through the pseudo handle it is misuse
    /// (`misuse::duplicate_of_a_remote_snapshot_as_local_is_misuse`).
    #[test]
    fn snapshot_outside_source_context_is_partial_copy() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let local = capture_current(PSS_CAPTURE_NONE);
        for flags in [PSS_DUPLICATE_NONE, PSS_DUPLICATE_CLOSE_SOURCE] {
            assert_eq!(
                duplicate(process, local, current_process(), flags).0,
                ERROR_PARTIAL_COPY
            );
        }
        free_local(local); // still ours
        close_handle(process);
        assert_no_leaks();
    }

    /// `CLOSE_SOURCE` through the remote path runs the remote free on the source, whose
    /// result is ignored: a snapshot on its process's heap (captured there without
    /// `PSS_CREATE_USE_VM_ALLOCATIONS`, e.g. with its auxiliary pages on the heap), which a
    /// remote free refuses, stays in that process although the call says it freed it; the
    /// model's accounting shows it as a leak until that process exits (WINDOWS-EVIDENCE Second
    /// audit, item 9).
    #[test]
    fn close_source_through_the_remote_path_skips_a_heap_snapshot() {
        let helper = ProcessSpec::new().spawn();
        let process = open_process(helper.pid(), PROCESS_ALL_ACCESS).unwrap();
        for (vm, stays) in [(true, false), (false, true)] {
            let theirs = helper.own_snapshot(AUXILIARY_PAGES, vm);
            let (code, copy) = duplicate(
                process,
                theirs,
                current_process(),
                PSS_DUPLICATE_CLOSE_SOURCE,
            );
            assert_eq!(code, ERROR_SUCCESS);
            free_local(copy);
            assert_eq!(
                live_in(helper.pid()).snapshots,
                usize::from(stays),
                "vm: {vm}"
            );
        }
        close_handle(process);
        assert_eq!(leaks().len(), 1, "the heap snapshot left in the helper");
        drop(helper);
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

    /// Freeing a remote snapshot needs `PROCESS_VM_READ` to read its descriptor, else
    /// `ERROR_ACCESS_DENIED` and nothing is freed; freeing a local one (through the pseudo
    /// handle) checks none (3.3; WINDOWS-EVIDENCE Duplicate and free, Second audit).
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
        assert_eq!(
            free(current_process(), local),
            ERROR_SUCCESS,
            "no rights checked"
        );
        close_handle(weak);
        close_handle(process);
        assert_no_leaks();
    }

    /// A remote free that can read the descriptor reports success whatever else it lacks:
    /// without `PROCESS_DUP_HANDLE` the snapshot's handles stay open in the target (its VA
    /// clone lives on), without `PROCESS_VM_OPERATION` its memory stays there. The model
    /// records both as leaks of the caller until the target exits (WINDOWS-EVIDENCE Second
    /// audit: `PssNtFreeRemoteSnapshot` ignores both results).
    #[test]
    fn remote_free_without_rights_succeeds_and_leaks() {
        for missing in [PROCESS_DUP_HANDLE, PROCESS_VM_OPERATION] {
            let target = ProcessSpec::new().spawn();
            let process = open_process(target.pid(), TARGET_RIGHTS | FREE_RIGHTS).unwrap();
            let weak = open_process(target.pid(), FREE_RIGHTS & !missing).unwrap();
            let local = capture_current(PSS_CAPTURE_VA_CLONE);
            let (_, remote) = duplicate(current_process(), local, process, PSS_DUPLICATE_NONE);
            let clone_pid = {
                let (_, info) =
                    query::<PSS_VA_CLONE_INFORMATION>(local, PSS_QUERY_VA_CLONE_INFORMATION);
                // SAFETY: borrowed from the live snapshot `local`.
                unsafe { GetProcessId(info.VaCloneHandle) }
            };
            free_local(local);
            assert_eq!(free(weak, remote), ERROR_SUCCESS, "without {missing:#x}");
            close_handle(weak);
            close_handle(process);
            let leaks = leaks();
            assert_eq!(leaks.len(), 1, "{leaks:?}");
            if missing == PROCESS_DUP_HANDLE {
                assert!(leaks[0].contains("PROCESS_DUP_HANDLE"), "{leaks:?}");
                assert!(
                    process_alive(clone_pid),
                    "its handle in the target keeps it"
                );
                assert_eq!(live_in(target.pid()).snapshots, 0);
            } else {
                assert!(leaks[0].contains("PROCESS_VM_OPERATION"), "{leaks:?}");
                assert!(!process_alive(clone_pid), "its handles were closed");
                assert_eq!(
                    live_in(target.pid()).snapshots,
                    1,
                    "its memory is still there"
                );
            }
            drop(target); // the target's exit releases what was left in it
            assert!(!process_alive(clone_pid));
            assert_no_leaks();
        }
    }

    /// A real handle to this process frees through the remote path too, with its rights
    /// (kernel32 frees locally only for the pseudo handle; PLAUSIBLE, as ntdll's duplicate
    /// decides).
    #[test]
    fn a_real_handle_to_this_process_frees_remotely() {
        let vm = capture_current(PSS_CAPTURE_NONE | PSS_CREATE_USE_VM_ALLOCATIONS);
        let heap = capture_current(PSS_CAPTURE_NONE);
        let own = open_process(CURRENT_PID, PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
        assert_eq!(free(own, vm), ERROR_ACCESS_DENIED);
        let full = open_process(CURRENT_PID, FREE_RIGHTS).unwrap();
        assert_eq!(
            free(full, heap),
            ERROR_NOT_SUPPORTED,
            "a heap snapshot, remotely"
        );
        assert_eq!(free(full, vm), ERROR_SUCCESS);
        free_local(heap);
        close_handle(own);
        close_handle(full);
        assert_no_leaks();
    }
}
