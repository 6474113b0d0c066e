//! Flags, access presets and errors of the safe crate. Runs against real kernel32 too, but for
//! the tests that need the model's access rules or a model process with limited rights.

use pss::{CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, ProcessAccess};
use pss_sys::*;
use pss_tests::*;

/// The combinations the documents call invalid, the reserved bits Windows accepts but no `pss`
/// type reads, and bits no flag names are refused before the OS is called (so also where PSS
/// is missing), with a reason (7.1).
#[test]
fn invalid_flag_combinations_are_refused() {
    for flags in [
        CaptureFlags::VA_SPACE_SECTION_INFORMATION,
        CaptureFlags::THREAD_CONTEXT,
        CaptureFlags::HANDLES
            | CaptureFlags::THREAD_CONTEXT
            | CaptureFlags::THREAD_CONTEXT_EXTENDED,
        CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT_EXTENDED,
        CaptureFlags::VA_CLONE | CaptureFlags::CREATE_BREAKAWAY_OPTIONAL,
        CaptureFlags::RESERVED_00000400,
        CaptureFlags::RESERVED_00004000,
        CaptureFlags::from_bits_retain(0x0100_0000),
    ] {
        let error = LocalSnapshot::capture_current(flags).unwrap_err();
        assert_eq!(
            (error.kind(), error.function()),
            (ErrorKind::InvalidFlags, Function::PssCaptureSnapshot),
            "{flags:?}"
        );
        assert!(error.reason().is_some());
        assert_eq!(error.raw_os_error(), None);
    }
    require_pss!();
    let ok = CaptureFlags::AUXILIARY_PAGES;
    drop(LocalSnapshot::capture_current(ok).unwrap());
    let ok = CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    drop(LocalSnapshot::capture_current(ok).unwrap());
    let ok = CaptureFlags::VA_CLONE
        | CaptureFlags::CREATE_BREAKAWAY
        | CaptureFlags::CREATE_BREAKAWAY_OPTIONAL;
    drop(LocalSnapshot::capture_current(ok).unwrap());
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

/// An OS error keeps its function and code, and its code inside a `std::io::Error`: a VA clone
/// through a
/// handle without `PROCESS_CREATE_PROCESS` is refused (WINDOWS-EVIDENCE Capture, Rights).
#[test]
fn os_errors_keep_their_code() {
    require_pss!();
    let process = TestProcess::spawn();
    let handle =
        pss::open_process(process.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap();
    let error = LocalSnapshot::capture(&handle, CaptureFlags::VA_CLONE).unwrap_err();
    assert_eq!(
        (
            error.function(),
            error.kind(),
            error.code().map(ErrorCode::raw)
        ),
        (
            Function::PssCaptureSnapshot,
            ErrorKind::Os(ErrorCode::ACCESS_DENIED),
            Some(5)
        )
    );
    assert!(error.to_string().contains("PssCaptureSnapshot"), "{error}");
    // As an io::Error (`?` into io::Result): on Windows the Win32 code as its raw OS error, as
    // std and rustix convert, so `raw_os_error() == Some(5)` matches; off Windows a Win32 code
    // is no errno, so the pss::Error (with its code) is the source. The kind is the code's on
    // every host.
    let io: std::io::Error = error.into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    #[cfg(windows)]
    assert_eq!(io.raw_os_error(), Some(5));
    #[cfg(not(windows))]
    assert_eq!(
        io.get_ref()
            .and_then(|e| e.downcast_ref::<pss::Error>())
            .and_then(pss::Error::raw_os_error),
        Some(5)
    );
    // Where nothing was called there is no code: the whole pss::Error is the source.
    let refused = LocalSnapshot::capture(&handle, CaptureFlags::THREAD_CONTEXT).unwrap_err();
    let io: std::io::Error = refused.into();
    assert_eq!(io.raw_os_error(), None);
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    let source = io.get_ref().and_then(|e| e.downcast_ref::<pss::Error>());
    assert_eq!(source, Some(&refused));
    drop(handle);
    assert_no_leaks();
}

/// `open_process` of a process id that names no process fails with the code from
/// `GetLastError`, typed, naming `OpenProcess`.
#[test]
fn open_process_errors_are_typed() {
    let error = pss::open_process(0x7FFF_0000, ProcessAccess::VM_READ).unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::OpenProcess,
            ErrorKind::Os(ErrorCode::INVALID_PARAMETER)
        )
    );
}

/// A right the process does not grant is a typed `AccessDenied` from `OpenProcess`.
#[cfg(not(windows))]
#[test]
fn open_process_without_grantable_rights_is_access_denied() {
    use pss_tests::model::*;
    let process = ProcessSpec::new()
        .grantable(PROCESS_QUERY_LIMITED_INFORMATION)
        .spawn();
    let error = pss::open_process(process.pid(), ProcessAccess::VM_READ).unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::OpenProcess,
            ErrorKind::Os(ErrorCode::ACCESS_DENIED)
        )
    );
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

/// Every flag `pss` accepts (but forced breakaway, which needs the Tcb privilege, and IPT
/// tracing, which needs a trace driver), singly and together.
fn capturable() -> impl Iterator<Item = CaptureFlags> {
    let all = CaptureFlags::all()
        - CaptureFlags::RESERVED_00000400
        - CaptureFlags::RESERVED_00004000
        - CaptureFlags::CREATE_FORCE_BREAKAWAY
        - CaptureFlags::IPT_TRACE;
    // Each flag alone, with what it needs to mean something: the section information needs the
    // VA space, the context flags need the threads (Windows captures none without them).
    let singles = all
        .iter()
        .filter(|f| *f != CaptureFlags::CREATE_BREAKAWAY_OPTIONAL)
        .map(|f| {
            if f == CaptureFlags::VA_SPACE_SECTION_INFORMATION {
                f | CaptureFlags::VA_SPACE
            } else if f == CaptureFlags::THREAD_CONTEXT {
                f | CaptureFlags::THREADS
            } else if f == CaptureFlags::THREAD_CONTEXT_EXTENDED {
                f | CaptureFlags::THREAD_CONTEXT | CaptureFlags::THREADS
            } else {
                f
            }
        });
    singles.chain([all]).collect::<Vec<_>>().into_iter()
}

/// A handle opened with `for_capture(flags)` captures a child process with `flags`, each flag
/// alone and all together (its rights are enough for what Windows checks, 11.1).
#[test]
fn for_capture_opens_enough_to_capture() {
    require_pss!();
    let process = TestProcess::spawn();
    for flags in capturable() {
        let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
        let captured = if flags.contains(CaptureFlags::CREATE_USE_VM_ALLOCATIONS) {
            LocalSnapshot::capture_vm(&handle, flags).map(drop)
        } else {
            LocalSnapshot::capture(&handle, flags).map(drop)
        };
        captured.unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        drop(handle);
    }
    assert_no_leaks();
}

/// `capture` refuses `CREATE_USE_VM_ALLOCATIONS` without calling the OS (its snapshot would be
/// typed heap-allocated and could never be moved) and points at `capture_vm`, which takes it.
#[test]
fn vm_allocations_are_captured_only_through_capture_vm() {
    require_pss!();
    let flags = CaptureFlags::THREADS | CaptureFlags::CREATE_USE_VM_ALLOCATIONS;
    let error = expect::calls(Call::PssCaptureSnapshot, 0, || {
        LocalSnapshot::capture_current(flags).unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::InvalidFlags);
    assert!(error.reason().unwrap().contains("capture_vm"), "{error}");
    let vm = LocalSnapshot::capture_current_vm(flags).unwrap();
    drop(vm);
    assert_no_leaks();
}

/// `for_capture` grants at least what the model demands for each flag and for all of them (the
/// model's demands are its strict reading, 11.1).
#[cfg(not(windows))]
#[test]
fn for_capture_covers_the_models_demands() {
    for flags in capturable() {
        let needed = pss_tests::model::capture_access(flags.bits());
        assert_eq!(
            ProcessAccess::for_capture(flags).bits() & needed,
            needed,
            "{flags:?}"
        );
    }
}

/// `for_capture` asks for no more than the evidence shows a flag needs: the VA space, with or
/// without section information, needs no `PROCESS_QUERY_INFORMATION` (protected processes grant
/// only limited query rights); the context flags add nothing to `THREADS`.
#[test]
fn for_capture_asks_the_least() {
    assert_eq!(
        ProcessAccess::for_capture(CaptureFlags::VA_SPACE),
        ProcessAccess::QUERY_LIMITED_INFORMATION
    );
    assert_eq!(
        ProcessAccess::for_capture(
            CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION
        ),
        ProcessAccess::QUERY_LIMITED_INFORMATION | ProcessAccess::VM_READ
    );
    assert_eq!(
        ProcessAccess::for_capture(CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT),
        ProcessAccess::for_capture(CaptureFlags::THREADS)
    );
}

/// Asking for contexts captures threads: `context` adds `THREADS` and `THREAD_CONTEXT`; with
/// `THREAD_CONTEXT_EXTENDED` the default context flags are `ALL | XSTATE` (x86, x64), else
/// `ALL`; the caller's flags win over the default.
#[test]
fn contexts_come_with_threads() {
    let options = CaptureFlags::HANDLES.context(pss::ContextFlags::CONTROL);
    assert_eq!(
        options.flags(),
        CaptureFlags::HANDLES | CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT
    );
    assert_eq!(options.context_flags(), pss::ContextFlags::CONTROL);
    let extended = pss::CaptureOptions::new(
        CaptureFlags::THREADS
            | CaptureFlags::THREAD_CONTEXT
            | CaptureFlags::THREAD_CONTEXT_EXTENDED,
    );
    assert_eq!(extended.context_flags(), pss::ContextFlags::ALL_EXTENDED);
    #[cfg(not(target_arch = "aarch64"))]
    assert!(extended.context_flags().contains(pss::ContextFlags::XSTATE));
    assert_eq!(
        pss::CaptureOptions::new(CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT)
            .context_flags(),
        pss::ContextFlags::ALL
    );
    require_pss!();
    let snapshot =
        LocalSnapshot::capture_current(CaptureFlags::NONE.context(pss::ContextFlags::ALL)).unwrap();
    {
        let threads = snapshot.threads().unwrap();
        let first = threads.iter().next().unwrap().unwrap();
        assert!(first.context().is_some(), "threads with contexts");
    }
    drop(snapshot);
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

    /// `retry_handle_race` retries only `ERROR_BAD_LENGTH` of a capture with `HANDLES`, up to
    /// the attempts given; every attempt is one `PssCaptureSnapshot` call, counted by the
    /// model; without it the race fails the capture with a reason that says what happened.
    #[test]
    fn retrying_the_handle_race_is_bounded_and_counted() {
        let process = busy().handle_table_races(2).spawn();
        let handle = pss::open_process(process.pid(), ProcessAccess::all()).unwrap();
        let error = expect::calls(Call::PssCaptureSnapshot, 1, || {
            LocalSnapshot::capture(&handle, CaptureFlags::HANDLES)
        })
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::BAD_LENGTH));
        assert!(
            error.reason().unwrap().contains("handle table changed"),
            "{error}"
        );
        // One race left: two attempts are enough, and two calls are made.
        let options = pss::CaptureOptions::new(CaptureFlags::HANDLES).retry_handle_race(3);
        let snapshot = expect::calls(Call::PssCaptureSnapshot, 2, || {
            LocalSnapshot::capture(&handle, options)
        })
        .unwrap();
        drop(snapshot);
        // A race that outlasts the attempts fails after exactly that many.
        process.race_handle_table(5);
        let error = expect::calls(Call::PssCaptureSnapshot, 3, || {
            LocalSnapshot::capture(&handle, options)
        })
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::BAD_LENGTH));
        // Other failures are never retried, nor the same code without HANDLES.
        process.race_handle_table(0);
        process.exit(1);
        let flags = CaptureFlags::VA_SPACE | CaptureFlags::HANDLES;
        let options = pss::CaptureOptions::new(flags).retry_handle_race(3);
        let error = expect::calls(Call::PssCaptureSnapshot, 1, || {
            LocalSnapshot::capture(&handle, options)
        })
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::INVALID_PARAMETER));
        assert!(error.reason().unwrap().contains("exit"), "{error}");
        drop(handle);
        assert_no_leaks();
    }

    /// Capture failures whose cause Windows is seen to have carry it as the reason: an exited
    /// process (`VA_CLONE`, `HANDLES`), a thread whose handle was closed under the capture, the
    /// Tcb privilege.
    #[test]
    fn capture_failures_say_why() {
        let exited = busy().exited(0).spawn();
        let handle = pss::open_process(exited.pid(), ProcessAccess::all()).unwrap();
        let capture = |flags| LocalSnapshot::capture(&handle, flags).unwrap_err();
        for flags in [CaptureFlags::VA_CLONE, CaptureFlags::HANDLES] {
            let error = capture(flags);
            assert!(error.reason().unwrap().contains("has exited"), "{error}");
            assert_eq!(error.target_exit_code(), Some(0));
        }
        drop(handle);
        let churning = busy()
            .thread(ThreadSpec::new(8).handle_closed_during_capture())
            .spawn();
        let handle = pss::open_process(churning.pid(), ProcessAccess::all()).unwrap();
        let error = LocalSnapshot::capture(&handle, CaptureFlags::THREADS).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::INVALID_HANDLE));
        assert!(
            error.reason().unwrap().contains("all or nothing"),
            "{error}"
        );
        let error = LocalSnapshot::capture(
            &handle,
            CaptureFlags::VA_CLONE | CaptureFlags::CREATE_FORCE_BREAKAWAY,
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::PRIVILEGE_NOT_HELD));
        assert!(error.reason().unwrap().contains("Tcb"));
        drop(handle);
        assert_no_leaks();
    }

    /// A remote free that Windows refuses after reading the snapshot out of the other process
    /// says why: a snapshot on that process's heap can be freed only there (`NOT_SUPPORTED`;
    /// WINDOWS-EVIDENCE Third audit, item 6).
    #[test]
    fn remote_failures_say_why() {
        let target = ProcessSpec::new().spawn();
        let heap = target.own_snapshot(PSS_CAPTURE_NONE, false);
        let handle = pss::open_process(target.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
        // SAFETY: `heap` lives in the target's context and nothing else owns it.
        let remote = unsafe { pss::RemoteSnapshot::from_raw_parts(handle, heap) };
        let error = remote.close().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_SUPPORTED));
        assert!(
            error.reason().unwrap().contains("VM_ALLOCATIONS"),
            "{error}"
        );
        drop(target);
        assert_no_leaks();
    }
}
