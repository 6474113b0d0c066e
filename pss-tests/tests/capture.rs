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

/// Whatever the out-parameter holds on entry is ignored: Microsoft's samples (psscap.c,
/// pssdump.c) pass an uninitialised `HPSS`, so kernel32 cannot use it as ntdll's "reuse this
/// descriptor" slot (3.1; WINDOWS-EVIDENCE Second audit). The value is overwritten on success.
#[test]
fn an_uninitialised_out_parameter_is_overwritten() {
    require_pss!();
    // What an uninitialised local holds in a debug build of the samples (0xCC fill).
    let mut snapshot: HPSS =
        std::ptr::without_provenance_mut(usize::from_ne_bytes([0xCC; size_of::<usize>()]));
    // SAFETY: a raw call with a valid pseudo handle and a writable out-parameter.
    let code = unsafe { PssCaptureSnapshot(current_process(), PSS_CAPTURE_NONE, 0, &mut snapshot) };
    assert_eq!(code, ERROR_SUCCESS);
    assert_ne!(
        snapshot.addr(),
        usize::from_ne_bytes([0xCC; size_of::<usize>()])
    );
    free_local(snapshot);
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

/// Process information is captured even with `PSS_CAPTURE_NONE` (11.4; WINDOWS-EVIDENCE
/// Capture: ntdll always captures it).
#[test]
fn process_information_is_always_captured() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_NONE);
    let (code, info) = query::<PSS_PROCESS_INFORMATION>(snapshot, PSS_QUERY_PROCESS_INFORMATION);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(info.ProcessId, current_pid());
    free_local(snapshot);
    assert_no_leaks();
}

/// Bits in `0x03FF8000` and `BREAKAWAY_OPTIONAL` as the only breakaway bit are
/// `ERROR_INVALID_PARAMETER`, checked before anything else, the process handle included (7.1,
/// 11.3; WINDOWS-EVIDENCE Capture: ntdll's first two checks).
#[test]
fn rejected_flag_bits_are_invalid_parameter() {
    require_pss!();
    let mut rejected: Vec<u32> = (15..26).map(|bit| 1 << bit).collect();
    assert_eq!(rejected.iter().fold(0, |a, b| a | b), 0x03FF_8000);
    rejected.push(PSS_CREATE_BREAKAWAY_OPTIONAL);
    rejected.push(PSS_CAPTURE_VA_CLONE | PSS_CREATE_BREAKAWAY_OPTIONAL);
    for flags in rejected {
        assert_eq!(
            capture(current_process(), flags, 0).0,
            ERROR_INVALID_PARAMETER,
            "flags {flags:#x}"
        );
        assert_eq!(
            capture(std::ptr::null_mut(), flags, 0).0,
            ERROR_INVALID_PARAMETER,
            "flags {flags:#x} come before the process handle"
        );
    }
    assert_no_leaks();
}

/// The three documented-reserved bits are accepted and act: `0x2` captures the auxiliary pages
/// (7.1, 11.4; WINDOWS-EVIDENCE Capture).
#[test]
fn reserved_flags_are_accepted_and_0x2_captures_auxiliary_pages() {
    require_pss!();
    for flags in [
        PSS_CAPTURE_RESERVED_00000002,
        PSS_CAPTURE_RESERVED_00000400 | PSS_CAPTURE_THREADS,
        PSS_CAPTURE_RESERVED_00004000 | PSS_CAPTURE_VA_SPACE,
    ] {
        let (code, snapshot) = capture(current_process(), flags, 0);
        assert_eq!(code, ERROR_SUCCESS, "flags {flags:#x}");
        let (code, aux) = query::<PSS_AUXILIARY_PAGES_INFORMATION>(
            snapshot,
            PSS_QUERY_AUXILIARY_PAGES_INFORMATION,
        );
        if flags == PSS_CAPTURE_RESERVED_00000002 {
            assert_eq!(code, ERROR_SUCCESS);
            assert!(aux.AuxPagesCaptured <= 1, "one page at most on Windows 11");
        } else {
            assert_eq!(code, ERROR_NOT_FOUND, "flags {flags:#x}");
        }
        free_local(snapshot);
    }
    assert_no_leaks();
}

/// `VA_SPACE_SECTION_INFORMATION` without `VA_SPACE` is ignored, not refused (7.1, 11.3;
/// WINDOWS-EVIDENCE Capture).
#[test]
fn section_information_without_va_space_is_ignored() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION);
    assert_eq!(
        query::<PSS_VA_SPACE_INFORMATION>(snapshot, PSS_QUERY_VA_SPACE_INFORMATION).0,
        ERROR_NOT_FOUND
    );
    free_local(snapshot);
    assert_no_leaks();
}

/// The breakaway flags are read only when cloning; `BREAKAWAY_OPTIONAL` with
/// `FORCE_BREAKAWAY` (without `BREAKAWAY`) passes the flag check, and with a clone a refused
/// forced breakaway falls back (7.1; WINDOWS-EVIDENCE Capture, Breakaway).
#[test]
fn breakaway_flags_only_matter_for_the_va_clone() {
    require_pss!();
    for flags in [
        PSS_CREATE_FORCE_BREAKAWAY,
        PSS_CREATE_BREAKAWAY,
        PSS_CREATE_BREAKAWAY_OPTIONAL | PSS_CREATE_FORCE_BREAKAWAY,
        PSS_CAPTURE_VA_CLONE | PSS_CREATE_BREAKAWAY_OPTIONAL | PSS_CREATE_FORCE_BREAKAWAY,
        PSS_CAPTURE_VA_CLONE
            | PSS_CREATE_BREAKAWAY_OPTIONAL
            | PSS_CREATE_BREAKAWAY
            | PSS_CREATE_FORCE_BREAKAWAY,
    ] {
        let (code, snapshot) = capture(current_process(), flags, 0);
        assert_eq!(code, ERROR_SUCCESS, "flags {flags:#x}");
        free_local(snapshot);
    }
    assert_no_leaks();
}

/// Model choice: `PSS_CREATE_FORCE_BREAKAWAY` with a clone needs the Tcb privilege, which tests
/// lack, and fails with `ERROR_PRIVILEGE_NOT_HELD` (7.1; the privilege is documented, the code
/// is not).
#[test]
#[cfg_attr(
    windows,
    ignore = "pins a model choice where the documents are silent; run with --ignored to compare"
)]
fn force_breakaway_needs_tcb_privilege() {
    require_pss!();
    let (code, snapshot) = capture(
        current_process(),
        PSS_CAPTURE_VA_CLONE | PSS_CREATE_FORCE_BREAKAWAY,
        0,
    );
    assert_eq!(code, 1314); // ERROR_PRIVILEGE_NOT_HELD
    assert!(snapshot.is_null());
    assert_no_leaks();
}

/// A process handle that is not one gives `ERROR_INVALID_HANDLE`, and the out-parameter stays
/// NULL (11.2; WINDOWS-EVIDENCE Capture: confirmed, and ntdll writes NULL or nothing).
#[test]
fn invalid_process_handle_is_invalid_handle_and_leaves_null() {
    require_pss!();
    let (code, snapshot) = capture(std::ptr::null_mut(), PSS_CAPTURE_NONE, 0);
    assert_eq!(code, ERROR_INVALID_HANDLE);
    assert!(snapshot.is_null());
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
        // No thread data at all, not a count of 0 (WINDOWS-EVIDENCE Capture).
        assert_eq!(
            query::<PSS_THREAD_INFORMATION>(snapshot, PSS_QUERY_THREAD_INFORMATION).0,
            ERROR_NOT_FOUND
        );
        assert_eq!(
            walk_one::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS, std::ptr::null_mut()).0,
            ERROR_NOT_FOUND
        );
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// Section information names the documented `PROCESS_VM_READ` (3.1); without it Windows
    /// still captures, with the mapped file names but zeroed image values (WINDOWS-EVIDENCE
    /// Capture, Rights).
    #[test]
    fn section_information_without_vm_read_zeroes_image_values() {
        let target = ProcessSpec::new()
            .region(RegionSpec::image(0x40_0000, 0x2000, r"\Device\app.exe"))
            .spawn();
        let flags = PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION;
        for (access, image_values) in [
            (capture_access(flags) | PROCESS_VM_READ, true),
            (capture_access(flags) & !PROCESS_VM_READ, false),
        ] {
            let process = open_process(target.pid(), access).unwrap();
            let (code, snapshot) = capture(process, flags, 0);
            assert_eq!(code, ERROR_SUCCESS);
            let [entry] = walk_all::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE)[..] else {
                panic!("one region")
            };
            assert_eq!(entry.SizeOfImage != 0, image_values, "access {access:#x}");
            assert_eq!(entry.TimeDateStamp != 0, image_values);
            assert_ne!(entry.MappedFileNameLength, 0, "the name stays");
            free_local(snapshot);
            close_handle(process);
        }
        assert_no_leaks();
    }

    /// Without `PROCESS_DUP_HANDLE` the handle table is still captured, each entry with only
    /// its value (WINDOWS-EVIDENCE Capture, Rights).
    #[test]
    fn handles_without_dup_handle_keep_only_values() {
        let target = ProcessSpec::new()
            .handle(HandleSpec::event(0x44, true, false).named(r"\BaseNamedObjects\e"))
            .spawn();
        let flags = PSS_CAPTURE_HANDLES
            | PSS_CAPTURE_HANDLE_NAME_INFORMATION
            | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
            | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION;
        let process = open_process(target.pid(), capture_access(flags)).unwrap();
        assert_eq!(capture_access(flags) & PROCESS_DUP_HANDLE, 0);
        let (code, snapshot) = capture(process, flags, 0);
        assert_eq!(code, ERROR_SUCCESS);
        let [entry] = walk_all::<PSS_HANDLE_ENTRY>(snapshot, PSS_WALK_HANDLES)[..] else {
            panic!("one handle")
        };
        assert_eq!(entry.Handle.addr(), 0x44);
        assert_eq!((entry.Flags, entry.ObjectType), (0, 0));
        assert!(entry.TypeName.is_null() && entry.ObjectName.is_null());
        assert_ne!(entry.CaptureTime.dwLowDateTime, 0);
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// In a job that forbids breakaway, `PSS_CREATE_BREAKAWAY` fails the clone, and with
    /// `PSS_CREATE_BREAKAWAY_OPTIONAL` the clone stays in the job (7.1; WINDOWS-EVIDENCE
    /// Capture, Breakaway; the failure code is the model's choice).
    #[test]
    fn breakaway_from_a_job_that_forbids_it() {
        let target = ProcessSpec::new().breakaway_forbidden().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let clone = PSS_CAPTURE_VA_CLONE | PSS_CREATE_BREAKAWAY;
        let (code, snapshot) = capture(process, clone, 0);
        assert_eq!(code, ERROR_ACCESS_DENIED);
        assert!(snapshot.is_null());
        let (code, snapshot) = capture(process, clone | PSS_CREATE_BREAKAWAY_OPTIONAL, 0);
        assert_eq!(code, ERROR_SUCCESS);
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// Model choice: capture needs the rights `capture_access` derives, else
    /// `ERROR_ACCESS_DENIED` (11.1): `PROCESS_CREATE_PROCESS` for the clone (shown),
    /// `PROCESS_QUERY_INFORMATION` for handles and threads (inferred); the VA space and
    /// `THREAD_CONTEXT` alone (which captures no thread) need no more than limited query rights
    /// (WINDOWS-EVIDENCE Second audit: `MmQueryVirtualMemory`).
    #[test]
    fn capture_without_rights_is_access_denied() {
        let target = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .handle(HandleSpec::event(4, false, false))
            .region(RegionSpec::private(0x10_0000, 0x1000))
            .spawn();
        let limited = open_process(target.pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
        for flags in [
            PSS_CAPTURE_VA_CLONE,
            PSS_CAPTURE_HANDLES,
            PSS_CAPTURE_THREADS,
        ] {
            let needed = capture_access(flags);
            assert_ne!(needed, PROCESS_QUERY_LIMITED_INFORMATION);
            assert_eq!(
                capture(limited, flags, 0).0,
                ERROR_ACCESS_DENIED,
                "flags {flags:#x}"
            );
            let process = open_process(target.pid(), needed).unwrap();
            let (code, snapshot) = capture(process, flags, 0);
            assert_eq!(code, ERROR_SUCCESS, "flags {flags:#x} with {needed:#x}");
            free_local(snapshot);
            close_handle(process);
        }
        for flags in [
            PSS_CAPTURE_VA_SPACE,
            PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
            PSS_CAPTURE_THREAD_CONTEXT,
        ] {
            assert_eq!(capture_access(flags), PROCESS_QUERY_LIMITED_INFORMATION);
            let (code, snapshot) = capture(limited, flags, 0);
            assert_eq!(code, ERROR_SUCCESS, "flags {flags:#x} with limited rights");
            free_local(snapshot);
        }
        close_handle(limited);
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
