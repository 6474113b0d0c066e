//! PssCaptureSnapshot (PSS-CONTRACT.md 3.1, 7.1, 11.1-11.4).

use pss_sys::*;
use pss_tests::*;

/// A snapshot captured by this process lives here and is freed with `GetCurrentProcess()`
/// (2.1, 3.1, 3.3).
#[test]
fn capture_returns_a_local_snapshot_freed_with_get_current_process() {
    require_pss!();
    let (code, snapshot) = capture(current_process(), PSS_CAPTURE_THREADS, 0);
    assert_eq!(code, ERROR_SUCCESS);
    assert!(!snapshot.is_null());
    assert_eq!(free(current_process(), snapshot), ERROR_SUCCESS);
    assert_no_leaks();
}

/// Every documented, non-reserved capture flag is accepted together (7.1). IPT tracing and
/// forced breakaway are left out: they need a trace driver and the Tcb privilege.
#[test]
fn every_documented_capture_flag_is_accepted() {
    require_pss!();
    let flags = PSS_CAPTURE_VA_CLONE
        | PSS_CAPTURE_HANDLES
        | PSS_CAPTURE_HANDLE_NAME_INFORMATION
        | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
        | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION
        | PSS_CAPTURE_HANDLE_TRACE
        | PSS_CAPTURE_THREADS
        | PSS_CAPTURE_THREAD_CONTEXT
        | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
        | PSS_CAPTURE_VA_SPACE
        | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION
        | PSS_CREATE_BREAKAWAY_OPTIONAL
        | PSS_CREATE_BREAKAWAY
        | PSS_CREATE_USE_VM_ALLOCATIONS
        | PSS_CREATE_MEASURE_PERFORMANCE
        | PSS_CREATE_RELEASE_SECTION;
    let context = if cfg!(target_arch = "x86") {
        CONTEXT_ALL_X86
    } else if cfg!(target_arch = "aarch64") {
        CONTEXT_ALL_ARM64
    } else {
        CONTEXT_ALL_AMD64
    };
    let (code, snapshot) = capture(current_process(), flags, context);
    assert_eq!(code, ERROR_SUCCESS);
    free_local(snapshot);
    assert_no_leaks();
}

/// Capture copies what the flags ask for and nothing else: what was not captured is
/// `ERROR_NOT_FOUND` (3.4, 7.2).
#[test]
fn capture_copies_only_what_the_flags_ask_for() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_THREADS);
    assert_eq!(
        query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
        ERROR_SUCCESS
    );
    assert_eq!(
        query::<PSS_VA_SPACE_INFORMATION>(snapshot, PSS_QUERY_VA_SPACE_INFORMATION).0,
        ERROR_NOT_FOUND
    );
    assert_eq!(
        query::<PSS_HANDLE_INFORMATION>(snapshot, PSS_QUERY_HANDLE_INFORMATION).0,
        ERROR_NOT_FOUND
    );
    assert_eq!(
        query::<PSS_VA_CLONE_INFORMATION>(snapshot, PSS_QUERY_VA_CLONE_INFORMATION).0,
        ERROR_NOT_FOUND
    );
    free_local(snapshot);
    assert_no_leaks();
}

/// Model choice: process information is captured even with `PSS_CAPTURE_NONE` (11.4).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn process_information_is_always_captured() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    let (code, info) = query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
    assert_eq!(code, ERROR_SUCCESS);
    assert_ne!(info.ProcessId, 0);
    free_local(snapshot);
    assert_no_leaks();
}

/// Model choice: reserved bits, section information without `VA_SPACE` and
/// `BREAKAWAY_OPTIONAL` without a breakaway flag are `ERROR_INVALID_PARAMETER` (7.1, 11.3).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn invalid_flag_combinations_are_rejected() {
    require_pss!();
    for flags in [
        PSS_CAPTURE_RESERVED_00000002,
        PSS_CAPTURE_RESERVED_00000400,
        PSS_CAPTURE_RESERVED_00004000,
        0x0100_0000,
        PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
        PSS_CAPTURE_VA_CLONE | PSS_CREATE_BREAKAWAY_OPTIONAL,
    ] {
        assert_eq!(
            capture(current_process(), flags, 0).0,
            ERROR_INVALID_PARAMETER,
            "flags {flags:#x}"
        );
    }
    assert_no_leaks();
}

/// Model choice: `PSS_CREATE_FORCE_BREAKAWAY` needs the Tcb privilege, which tests lack (7.1).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn force_breakaway_needs_tcb_privilege() {
    require_pss!();
    let (code, _) = capture(
        current_process(),
        PSS_CAPTURE_VA_CLONE | PSS_CREATE_FORCE_BREAKAWAY,
        0,
    );
    assert_eq!(code, 1314); // ERROR_PRIVILEGE_NOT_HELD
    assert_no_leaks();
}

/// Model choice: a process handle that is not one gives `ERROR_INVALID_HANDLE` (11.2).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn invalid_process_handle_is_invalid_handle() {
    require_pss!();
    assert_eq!(
        capture(std::ptr::null_mut(), PSS_CAPTURE_NONE, 0).0,
        ERROR_INVALID_HANDLE
    );
    assert_no_leaks();
}

/// Model choice: PSS functions return their code and leave the last-error value alone (1).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn pss_functions_do_not_set_last_error() {
    require_pss!();
    assert_eq!(
        open_process(0xFFFF_FFF0, PROCESS_QUERY_LIMITED_INFORMATION),
        Err(ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        capture(std::ptr::null_mut(), PSS_CAPTURE_NONE, 0).0,
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        last_error(),
        ERROR_INVALID_PARAMETER,
        "still OpenProcess's code"
    );
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    /// A snapshot of another process is captured into this process's context and freed with
    /// `GetCurrentProcess()`, not with the target's handle (2.1).
    #[test]
    fn capture_of_another_process_lives_in_the_callers_context() {
        let target = ProcessSpec::new().thread(ThreadSpec::new(8)).spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let (code, snapshot) = capture(process, PSS_CAPTURE_THREADS, 0);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!(live_in(target.pid()).snapshots, 0);
        assert_eq!(live().snapshots, 1);
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// A process that exited still yields its process information, with its exit code (3.1,
    /// 8: ExitStatus).
    #[test]
    fn capture_of_an_exited_process_still_yields_process_information() {
        let target = ProcessSpec::new().thread(ThreadSpec::new(8)).spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        target.exit(3);
        let snapshot = {
            let (code, s) = capture(process, PSS_CAPTURE_THREADS, 0);
            assert_eq!(code, ERROR_SUCCESS);
            s
        };
        let (code, info) =
            query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
        assert_eq!(code, ERROR_SUCCESS);
        assert_eq!((info.ProcessId, info.ExitStatus), (target.pid(), 3));
        assert_ne!(
            (info.ExitTime.dwLowDateTime, info.ExitTime.dwHighDateTime),
            (0, 0)
        );
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION)
                .1
                .ThreadsCaptured,
            0
        );
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// Section information needs `PROCESS_VM_READ` on the process handle (documented, 3.1).
    #[test]
    fn section_information_needs_vm_read() {
        let target = ProcessSpec::new().spawn();
        let without =
            capture_access(PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION)
                & !PROCESS_VM_READ;
        let process = open_process(target.pid(), without).unwrap();
        assert_eq!(
            capture(
                process,
                PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
                0
            )
            .0,
            ERROR_ACCESS_DENIED
        );
        let (code, snapshot) = capture(process, PSS_CAPTURE_VA_SPACE, 0);
        assert_eq!(code, ERROR_SUCCESS);
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// Model choice: capture needs the rights `capture_access` derives, else
    /// `ERROR_ACCESS_DENIED` (11.1).
    #[test]
    fn capture_without_rights_is_access_denied() {
        let target = ProcessSpec::new().spawn();
        for flags in [
            PSS_CAPTURE_VA_CLONE,
            PSS_CAPTURE_HANDLES,
            PSS_CAPTURE_THREADS,
            PSS_CAPTURE_VA_SPACE,
        ] {
            let needed = capture_access(flags);
            let process = open_process(target.pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
            assert_eq!(
                capture(process, flags, 0).0,
                ERROR_ACCESS_DENIED,
                "flags {flags:#x}"
            );
            close_handle(process);
            let process = open_process(target.pid(), needed).unwrap();
            let (code, snapshot) = capture(process, flags, 0);
            assert_eq!(code, ERROR_SUCCESS, "flags {flags:#x} with {needed:#x}");
            free_local(snapshot);
            close_handle(process);
        }
        assert_no_leaks();
    }

    /// A closed or never-issued process handle is `ERROR_INVALID_HANDLE`; the process being
    /// gone (its table entry removed) too.
    #[test]
    fn handle_to_a_vanished_process_is_invalid_handle() {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        drop(target);
        assert_eq!(
            capture(process, PSS_CAPTURE_NONE, 0).0,
            ERROR_INVALID_HANDLE
        );
        close_handle(process);
        assert_no_leaks();
    }
}
