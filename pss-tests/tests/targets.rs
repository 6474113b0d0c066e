//! Capturing targets that are exiting, exited or busy, and what each part of a capture needs of
//! them (WINDOWS-EVIDENCE Second audit: items 1–4 and the contradicted rows). The tests on child
//! processes run against real kernel32 too (an exited child, a handle without a right, a
//! capture with `THREAD_CONTEXT` alone); races and unopenable threads need a model process.

use pss_sys::*;
use pss_tests::*;

/// `PROCESS_QUERY_LIMITED_INFORMATION` | `PROCESS_QUERY_INFORMATION` | `PROCESS_CREATE_PROCESS`
/// | `PROCESS_VM_READ` | `PROCESS_DUP_HANDLE`: what every part of a capture may need.
const CAPTURE_RIGHTS: u32 = PROCESS_QUERY_LIMITED_INFORMATION
    | PROCESS_QUERY_INFORMATION
    | PROCESS_CREATE_PROCESS
    | PROCESS_VM_READ
    | PROCESS_DUP_HANDLE;

/// An exited process still has process information (with its exit code), and nothing else:
/// `HANDLES` fails with `ERROR_BAD_LENGTH` (an empty handle table), `VA_SPACE` with
/// `ERROR_INVALID_PARAMETER` (its address space is gone), `VA_CLONE` with `ERROR_ACCESS_DENIED`
/// (no process can be created with it as the parent), and `THREADS` captures no thread data
/// (`ERROR_NOT_FOUND`) (ND, NK).
#[test]
fn an_exited_process_captures_only_its_process_information() {
    require_pss!();
    let exited = TestProcess::exited(3);
    let process = open_process(exited.pid(), CAPTURE_RIGHTS).unwrap();
    let (code, snapshot) = capture(process, PSS_CAPTURE_NONE, 0);
    assert_eq!(code, ERROR_SUCCESS);
    let (code, info) = query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
    assert_eq!((code, info.ExitStatus), (ERROR_SUCCESS, 3));
    free_local(snapshot);
    for (flags, expected) in [
        (PSS_CAPTURE_HANDLES, ERROR_BAD_LENGTH),
        (PSS_CAPTURE_VA_SPACE, ERROR_INVALID_PARAMETER),
        (PSS_CAPTURE_VA_CLONE, ERROR_ACCESS_DENIED),
    ] {
        let (code, snapshot) = capture(process, flags, 0);
        assert_eq!(code, expected, "flags {flags:#x}");
        assert!(snapshot.is_null(), "nothing is left behind");
    }
    let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS, 0);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_NOT_FOUND
    );
    free_local(snapshot);
    close_handle(process);
    assert_no_leaks();
}

/// The first part that fails fails the whole capture, in ntdll's order (process information,
/// auxiliary pages, VA space, VA clone, handles, threads), and nothing is left behind: an
/// exited process with `VA_SPACE | HANDLES` fails on its address space.
#[test]
fn the_first_failing_part_fails_the_capture() {
    require_pss!();
    let exited = TestProcess::exited(0);
    let process = open_process(exited.pid(), CAPTURE_RIGHTS).unwrap();
    let (code, snapshot) = capture(
        process,
        PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS,
        0,
    );
    assert_eq!(code, ERROR_INVALID_PARAMETER);
    assert!(snapshot.is_null());
    close_handle(process);
    assert_no_leaks();
}

/// `THREAD_CONTEXT` without `THREADS` captures no thread at all: ntdll captures threads only
/// `if ( (CaptureFlags & 0x80u) != 0 )` (ND), so the thread query is `ERROR_NOT_FOUND`.
#[test]
fn thread_context_alone_captures_no_threads() {
    require_pss!();
    let child = TestProcess::spawn();
    let process = open_process(child.pid(), CAPTURE_RIGHTS).unwrap();
    let context = if cfg!(target_arch = "x86") {
        CONTEXT_ALL_X86
    } else if cfg!(target_arch = "aarch64") {
        CONTEXT_ALL_ARM64
    } else {
        CONTEXT_ALL_AMD64
    };
    for flags in [
        PSS_CAPTURE_THREAD_CONTEXT,
        PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED,
    ] {
        let (code, snapshot) = capture(process, flags, context);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
            ERROR_NOT_FOUND,
            "flags {flags:#x}"
        );
        free_local(snapshot);
    }
    let (code, snapshot) = capture(
        process,
        PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
        context,
    );
    assert_eq!(code, ERROR_SUCCESS);
    let (code, info) = query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION);
    assert_eq!(code, ERROR_SUCCESS);
    assert!(info.ThreadsCaptured >= 1 && info.ContextLength > 0);
    free_local(snapshot);
    close_handle(process);
    assert_no_leaks();
}

/// The VA space needs no more than `PROCESS_QUERY_LIMITED_INFORMATION` (the kernel's
/// `MmQueryVirtualMemory` asks 0x1000 for the region and mapped-file-name classes; NK), which
/// protected processes grant; the VA clone needs `PROCESS_CREATE_PROCESS` (ND).
#[test]
fn the_va_space_needs_only_limited_query_rights() {
    require_pss!();
    let child = TestProcess::spawn();
    let limited = open_process(child.pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
    let (code, snapshot) = capture(limited, PSS_CAPTURE_VA_SPACE, 0);
    assert_eq!(code, ERROR_SUCCESS);
    let (code, info) = query::<PSS_VA_SPACE_INFORMATION>(snapshot, PSS_QUERY_VA_SPACE_INFORMATION);
    assert_eq!(code, ERROR_SUCCESS);
    assert!(info.RegionCount > 0);
    free_local(snapshot);
    assert_eq!(
        capture(limited, PSS_CAPTURE_VA_CLONE, 0).0,
        ERROR_ACCESS_DENIED
    );
    close_handle(limited);
    assert_no_leaks();
}

/// A snapshot holding no kernel handle (process information only: CPython's `getppid`
/// capture) duplicates into a process through a handle without `PROCESS_DUP_HANDLE`; one with
/// a section needs it (ND: `ZwDuplicateObject` runs only for non-zero handles).
#[test]
fn duplicating_into_a_process_needs_dup_handle_only_for_handles() {
    require_pss!();
    let helper = TestProcess::spawn();
    let target = open_process(
        helper.pid(),
        PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_VM_READ,
    )
    .unwrap();
    let bare = capture_current(PSS_CAPTURE_NONE);
    let (code, remote) = duplicate(current_process(), bare, target, PSS_DUPLICATE_NONE);
    assert_eq!(code, ERROR_SUCCESS);
    let with_threads = capture_current(PSS_CAPTURE_THREADS);
    let (code, _) = duplicate(current_process(), with_threads, target, PSS_DUPLICATE_NONE);
    assert_eq!(code, ERROR_ACCESS_DENIED);
    let free_through = open_process(
        helper.pid(),
        PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE,
    )
    .unwrap();
    assert_eq!(free(free_through, remote), ERROR_SUCCESS);
    free_local(bare);
    free_local(with_threads);
    close_handle(free_through);
    close_handle(target);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    fn busy() -> ProcessSpec {
        ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .handle(HandleSpec::event(4, false, false))
            .region(RegionSpec::private(0x10_0000, 0x1000))
    }

    /// A handle opened between ntdll's handle-count and handle-table queries fails the capture
    /// with `ERROR_BAD_LENGTH` (`STATUS_INFO_LENGTH_MISMATCH`); nothing is left behind, and the
    /// next capture (the table no longer changing) succeeds (ND, NK; the race is a knob).
    #[test]
    fn a_handle_table_that_changes_during_capture_fails_it() {
        let target = busy().handle_table_races(1).spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let flags = PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS;
        let (code, snapshot) = capture(process, flags, 0);
        assert_eq!(code, ERROR_BAD_LENGTH);
        assert!(snapshot.is_null());
        assert_eq!(
            live().snapshots,
            0,
            "the clone made before the handles is gone too"
        );
        let (code, snapshot) = capture(process, flags, 0);
        assert_eq!(code, ERROR_SUCCESS);
        free_local(snapshot);
        // A capture without HANDLES does not read the table, so it meets no race.
        target.race_handle_table(1);
        let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS, 0);
        assert_eq!(code, ERROR_SUCCESS);
        free_local(snapshot);
        assert_eq!(capture(process, PSS_CAPTURE_HANDLES, 0).0, ERROR_BAD_LENGTH);
        close_handle(process);
        assert_no_leaks();
    }

    /// A process without handles (a VA clone, an exited process) fails a capture with
    /// `HANDLES`: the handle-table query into a buffer under 4 bytes is
    /// `STATUS_INFO_LENGTH_MISMATCH` (NK).
    #[test]
    fn an_empty_handle_table_fails_a_capture_with_handles() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        assert_eq!(capture(process, PSS_CAPTURE_HANDLES, 0).0, ERROR_BAD_LENGTH);
        close_handle(process);
        // A VA clone has no handles of its own.
        let snapshot = capture_current(PSS_CAPTURE_VA_CLONE);
        let (_, clone) =
            query::<PSS_VA_CLONE_INFORMATION>(snapshot, PSS_QUERY_VA_CLONE_INFORMATION);
        assert_eq!(
            capture(clone.VaCloneHandle, PSS_CAPTURE_HANDLES, 0).0,
            ERROR_BAD_LENGTH
        );
        free_local(snapshot);
        assert_no_leaks();
    }

    /// A thread the capture may not open is skipped, not an error: the kernel's
    /// `NtGetNextThread` moves on to the next thread when opening one is denied (`if ( v12 !=
    /// -1073741790 )`, NK 23H2 and 24H2), so ntdll never sees it; the capture succeeds without
    /// it. When no thread can be opened there is no thread data at all (`ERROR_NOT_FOUND`).
    #[test]
    fn a_thread_that_cannot_be_opened_is_skipped() {
        let target = busy()
            .thread(ThreadSpec::new(8).unopenable())
            .thread(ThreadSpec::new(12))
            .spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS | PSS_CAPTURE_HANDLES, 0);
        assert_eq!(code, ERROR_SUCCESS);
        let (_, info) = query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION);
        assert_eq!(info.ThreadsCaptured, 2);
        let ids: Vec<u32> = walk_all::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS)
            .iter()
            .map(|t| t.ThreadId)
            .collect();
        assert_eq!(ids, [4, 12]);
        free_local(snapshot);
        close_handle(process);
        let protected = ProcessSpec::new()
            .thread(ThreadSpec::new(4).unopenable())
            .spawn();
        let process = open_process(protected.pid(), PROCESS_ALL_ACCESS).unwrap();
        let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS, 0);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
            ERROR_NOT_FOUND,
            "none enumerated: no thread section"
        );
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// A running process that has no thread enumerated (none at all, as a VA clone) stores no
    /// thread section: the query is `ERROR_NOT_FOUND`, not a count of 0 (ND: `if ( v9 )`).
    #[test]
    fn no_threads_enumerated_is_no_thread_data() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS, 0);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
            ERROR_NOT_FOUND
        );
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }
}
