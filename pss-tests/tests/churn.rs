//! Thread capture while threads change (WINDOWS-EVIDENCE Third audit, items 1 and 3): ntdll
//! opens every thread, sizes a section by their records and names, then fills it thread by
//! thread (`PsspCaptureThreadInformation`, `PsspDumpThread`). The first test runs against real
//! kernel32 too; the others need a process whose threads change on cue, a model process.

use pss_sys::*;
use pss_tests::*;

/// `LastSyscallNumber` when `ThreadLastSystemCall` failed (`*(_WORD *)(v9 + 56) = -1`).
const NO_LAST_SYSCALL: u16 = 0xFFFF;

/// With flag `0x400`, a thread whose last system call cannot be queried is still captured, with
/// `LastSyscallNumber` `0xFFFF` and no first argument: the kernel answers only for a thread
/// waiting in a system call from user mode, and never for the calling thread
/// (`PspQueryLastCallThread`), so in a capture of this process the capturing thread always
/// records `0xFFFF` (in the model, its running test thread).
#[test]
fn a_thread_not_waiting_records_no_last_system_call() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_THREADS | PSS_CAPTURE_RESERVED_00000400);
    let threads = walk_all::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS);
    let unavailable: Vec<_> = threads
        .iter()
        .filter(|t| t.LastSyscallNumber == NO_LAST_SYSCALL)
        .collect();
    assert!(!unavailable.is_empty(), "the capturing thread is running");
    for t in unavailable {
        assert!(
            t.LastSyscallFirstArgument.is_null(),
            "thread {}",
            t.ThreadId
        );
    }
    free_local(snapshot);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    fn host_context_all() -> u32 {
        if cfg!(target_arch = "x86") {
            CONTEXT_ALL_X86
        } else if cfg!(target_arch = "aarch64") {
            CONTEXT_ALL_ARM64
        } else {
            CONTEXT_ALL_AMD64
        }
    }

    /// A thread that exits after ntdll's enumeration opened it is still recorded: its handle
    /// keeps the thread object, whose basic information, times, start address, termination and
    /// suspend count still answer (NK `NtQueryInformationThread`). It is recorded terminated,
    /// with its exit code, without a context (no APC can be queued to it: NK
    /// `KeRundownApcQueues` clears `ApcQueueable`, `KeInsertQueueApc` then refuses) and without
    /// a last system call; the capture succeeds, and the thread stays terminated.
    #[test]
    fn a_thread_that_exits_during_capture_is_recorded_terminated() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .thread(ThreadSpec::new(8).exits_during_capture(3));
        let target = spec.spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let flags =
            PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_RESERVED_00000400;
        for capture_number in 1..=2 {
            let (code, snapshot) = capture(process, flags, host_context_all());
            assert_eq!(code, ERROR_SUCCESS, "capture {capture_number}");
            let e = walk_all::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS);
            assert_eq!(e.len(), 2);
            assert_eq!(
                (e[0].Flags, e[0].LastSyscallNumber),
                (PSS_THREAD_FLAGS_NONE, LAST_SYSCALL_NUMBER)
            );
            assert_ne!(
                e[0].SizeOfContextRecord, 0,
                "a waiting thread's context is read"
            );
            assert_eq!(
                (
                    e[1].ThreadId,
                    e[1].Flags,
                    e[1].ExitStatus,
                    e[1].SizeOfContextRecord,
                    e[1].LastSyscallNumber
                ),
                (8, PSS_THREAD_FLAGS_TERMINATED, 3, 0, NO_LAST_SYSCALL),
                "capture {capture_number}"
            );
            assert!(e[1].ContextRecord.is_null());
            free_local(snapshot);
        }
        close_handle(process);
        assert_no_leaks();
    }

    /// A per-thread query that fails fails the whole capture (ND `PsspCaptureThreadInformation`:
    /// any failing `PsspDumpThread` status but buffer-too-small unmaps the view and returns it).
    /// The one way left for those queries to fail is a handle closed under ntdll:
    /// `STATUS_INVALID_HANDLE`, so `ERROR_INVALID_HANDLE`; nothing is left behind.
    #[test]
    fn a_thread_whose_handle_is_closed_during_capture_fails_it() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .thread(ThreadSpec::new(8).handle_closed_during_capture())
            .handle(HandleSpec::event(4, false, false));
        let target = spec.spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let (code, snapshot) = capture(
            process,
            PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS,
            0,
        );
        assert_eq!(code, ERROR_INVALID_HANDLE);
        assert!(snapshot.is_null());
        assert_eq!(
            live().snapshots,
            0,
            "the clone and the handles are gone too"
        );
        let (code, snapshot) = capture(process, PSS_CAPTURE_HANDLES, 0);
        assert_eq!(code, ERROR_SUCCESS, "without THREADS no thread is queried");
        free_local(snapshot);
        close_handle(process);
        assert_no_leaks();
    }

    /// With flag `0x400`, only a thread waiting in a system call has its last one; a running
    /// thread and a terminated one record `0xFFFF` (and no first argument) and the capture
    /// succeeds (ND `PsspDumpThread`, NK `PspQueryLastCallThread`).
    #[test]
    fn a_failed_last_system_call_query_records_0xffff() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .thread(ThreadSpec::new(8).running())
            .thread(ThreadSpec::new(12).terminated(0));
        let (_t, s) =
            spawn_and_capture_raw(spec, PSS_CAPTURE_THREADS | PSS_CAPTURE_RESERVED_00000400);
        let e = walk_all::<PSS_THREAD_ENTRY>(s, PSS_WALK_THREADS);
        let numbers: Vec<u16> = e.iter().map(|t| t.LastSyscallNumber).collect();
        assert_eq!(
            numbers,
            [
                LAST_SYSCALL_NUMBER,
                LAST_SYSCALL_UNAVAILABLE,
                LAST_SYSCALL_UNAVAILABLE
            ]
        );
        assert_eq!(LAST_SYSCALL_UNAVAILABLE, NO_LAST_SYSCALL);
        assert!(e.iter().all(|t| t.LastSyscallFirstArgument.is_null()));
        free_local(s);
        // Without 0x400 nothing is queried: 0 for every thread.
        let spec = ProcessSpec::new().thread(ThreadSpec::new(4).running());
        let (_u, s) = spawn_and_capture_raw(spec, PSS_CAPTURE_THREADS);
        let [e] = walk_all::<PSS_THREAD_ENTRY>(s, PSS_WALK_THREADS)[..] else {
            panic!("one thread")
        };
        assert_eq!(e.LastSyscallNumber, 0);
        free_local(s);
        assert_no_leaks();
    }

    /// `n` waiting threads, ids 4, 8, ...; the first `renamed` renamed to `name` during capture.
    fn threads(n: u32, renamed: &[(u32, &str)]) -> ProcessSpec {
        (1..=n).fold(ProcessSpec::new().thread_names(), |spec, i| {
            let thread = ThreadSpec::new(4 * i);
            let thread = match renamed.iter().find(|(at, _)| *at == i) {
                Some((_, name)) => thread.renamed_during_capture(name),
                None => thread,
            };
            spec.thread(thread)
        })
    }

    /// The names a capture holds, in thread order.
    fn names_of(snapshot: HPSS) -> Vec<String> {
        let marker = new_marker();
        let mut names = Vec::new();
        loop {
            match walk_one::<PSS_THREAD_NAME>(snapshot, PSS_WALK_THREAD_NAME, marker) {
                (ERROR_SUCCESS, e) => {
                    // SAFETY: the name, `ThreadNameSize` bytes, lives while `marker` does.
                    let name = unsafe { utf16_at(e.ThreadName, e.ThreadNameSize) };
                    names.push(name);
                }
                (ERROR_NO_MORE_ITEMS, _) => break,
                (code, _) => panic!("{code}"),
            }
        }
        free_marker(marker);
        names
    }

    /// ntdll sizes the thread section by the names it saw first (`v10 += (len + 15) & ~15`),
    /// maps it in whole pages, then fills it with the names it sees then: a thread named during
    /// the capture takes room no one counted. When a later thread's record no longer fits,
    /// `PsspDumpThread` returns `STATUS_BUFFER_TOO_SMALL` (`v22 == -1073741789`), which ends the
    /// loop: the capture succeeds with fewer records (the count says so too). A name that no
    /// longer fits is dropped, its record kept.
    #[test]
    fn a_thread_renamed_during_capture_can_end_the_records_early() {
        // 32 records of 128 bytes (no contexts) fill one page exactly: a 6-unit name (16
        // bytes) leaves no room for the 32nd.
        let (_a, full) = spawn_and_capture_raw(threads(32, &[(1, "worker")]), PSS_CAPTURE_THREADS);
        let (code, info) = query::<PSS_THREAD_INFORMATION>(full, PSS_QUERY_THREAD_INFORMATION);
        assert_eq!((code, info.ThreadsCaptured), (ERROR_SUCCESS, 31));
        let walked = walk_all::<PSS_THREAD_ENTRY>(full, PSS_WALK_THREADS);
        let ids: Vec<u32> = walked.iter().map(|t| t.ThreadId).collect();
        assert_eq!(
            ids,
            (1..=31).map(|i| 4 * i).collect::<Vec<_>>(),
            "the last is lost"
        );
        let names = names_of(full);
        assert_eq!(names.len(), 31);
        assert_eq!(names[0], "worker");
        free_local(full);
        // 31 records leave 128 bytes of the page: the name fits, every thread is recorded.
        let (_b, slack) = spawn_and_capture_raw(threads(31, &[(1, "worker")]), PSS_CAPTURE_THREADS);
        let (_, info) = query::<PSS_THREAD_INFORMATION>(slack, PSS_QUERY_THREAD_INFORMATION);
        assert_eq!(info.ThreadsCaptured, 31);
        assert_eq!(names_of(slack)[0], "worker");
        free_local(slack);
        // A 100-unit name (208 bytes) for the 31st does not fit after 30 records: dropped.
        let long = "n".repeat(100);
        let (_c, dropped) = spawn_and_capture_raw(threads(31, &[(31, &long)]), PSS_CAPTURE_THREADS);
        let names = names_of(dropped);
        assert_eq!(names.len(), 31, "the record stays");
        assert_eq!(names[30], "", "its name is dropped");
        free_local(dropped);
        assert_no_leaks();
    }

    /// Thread names are queried into a 0x210-byte buffer whose first 16 bytes are the
    /// `UNICODE_STRING`: a name over 256 UTF-16 units fails with `STATUS_BUFFER_TOO_SMALL`
    /// (NK `NtQueryInformationThread` class 38) and the thread is captured without one
    /// (ND `PsspDumpThread` ignores the failure).
    #[test]
    fn thread_names_over_256_units_are_not_captured() {
        let fits = "f".repeat(THREAD_NAME_LIMIT);
        let too_long = "t".repeat(THREAD_NAME_LIMIT + 1);
        assert_eq!(THREAD_NAME_LIMIT, 256);
        let spec = ProcessSpec::new()
            .thread_names()
            .thread(ThreadSpec::new(4).named(&fits))
            .thread(ThreadSpec::new(8).named(&too_long))
            .thread(ThreadSpec::new(12).named("short"));
        let (_t, s) = spawn_and_capture_raw(spec, PSS_CAPTURE_THREADS);
        let marker = new_marker();
        let entries: Vec<PSS_THREAD_NAME> = (0..3)
            .map(|_| walk_one::<PSS_THREAD_NAME>(s, PSS_WALK_THREAD_NAME, marker).1)
            .collect();
        assert_eq!(entries[0].ThreadNameSize, 512);
        assert_eq!(
            (entries[1].ThreadNameSize, entries[1].ThreadName.is_null()),
            (0, true),
            "no name"
        );
        // SAFETY: the names live while `marker` does.
        let short = unsafe { utf16_at(entries[2].ThreadName, entries[2].ThreadNameSize) };
        assert_eq!(short, "short");
        free_marker(marker);
        free_local(s);
        assert_no_leaks();
    }
}
