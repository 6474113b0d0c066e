//! Misuse the model reports loudly: each test runs the misuse in a child process and expects it
//! to abort naming the call. All of these are undefined behaviour or silent bugs on Windows.
#![cfg(not(windows))]

use pss_sys::*;
use pss_tests::model::*;
use pss_tests::*;

/// Freeing a snapshot twice is undefined behaviour (documented, 3.3).
#[test]
fn snapshot_double_free_is_misuse() {
    expect_misuse(Call::PssFreeSnapshot, || {
        let s = capture_current(PSS_CAPTURE_NONE);
        free_local(s);
        free(current_process(), s);
    });
}

/// Reading a freed snapshot is use after free (2.1).
#[test]
fn query_after_free_is_misuse() {
    expect_misuse(Call::PssQuerySnapshot, || {
        let s = capture_current(PSS_CAPTURE_THREADS);
        free_local(s);
        query::<PSS_THREAD_INFORMATION>(s, PSS_QUERY_THREAD_INFORMATION);
    });
}

/// Freeing through the pseudo handle a snapshot that lives in another process: ntdll's local
/// free validates it as a descriptor in this process's memory, where it is not one (3.3,
/// 11.11). (Through a real handle to the wrong process, the remote free reads that process and
/// fails with a code: `free::a_remote_free_of_what_is_not_a_snapshot_there_fails_with_the_read`.)
#[test]
fn local_free_of_a_remote_snapshot_is_misuse() {
    expect_misuse(Call::PssFreeSnapshot, || {
        let helper = ProcessSpec::new().spawn();
        let theirs = helper.own_snapshot(PSS_CAPTURE_NONE, true);
        free(current_process(), theirs);
    });
}

/// A snapshot that lives in another process, given to duplicate with this process as the source
/// (the pseudo handle): ntdll's local path validates it as a descriptor in this process's
/// memory, where it is not one (it raises `STATUS_INVALID_HANDLE` or reads garbage; WINDOWS-
/// EVIDENCE Second audit).
#[test]
fn duplicate_of_a_remote_snapshot_as_local_is_misuse() {
    expect_misuse(Call::PssDuplicateSnapshot, || {
        let helper = ProcessSpec::new().spawn();
        let theirs = helper.own_snapshot(PSS_CAPTURE_NONE, true);
        duplicate(
            current_process(),
            theirs,
            current_process(),
            PSS_DUPLICATE_NONE,
        );
    });
}

/// An HPSS is not a kernel handle (PITFALLS 1).
#[test]
fn close_handle_on_a_snapshot_is_misuse() {
    expect_misuse(Call::CloseHandle, || {
        let s = capture_current(PSS_CAPTURE_NONE);
        // SAFETY: deliberately wrong: this is the misuse under test.
        unsafe { CloseHandle(s) };
    });
}

/// Model choice: the VA clone handle belongs to the snapshot (2.1, 11.9; PITFALLS 3).
#[test]
fn closing_the_va_clone_handle_is_misuse() {
    expect_misuse(Call::CloseHandle, || {
        let s = capture_current(PSS_CAPTURE_VA_CLONE);
        let (_, info) = query::<PSS_VA_CLONE_INFORMATION>(s, PSS_QUERY_VA_CLONE_INFORMATION);
        // SAFETY: deliberately wrong: this is the misuse under test.
        unsafe { CloseHandle(info.VaCloneHandle) };
    });
}

/// Model choice: a marker freed twice (11.12).
#[test]
fn marker_double_free_is_misuse() {
    expect_misuse(Call::PssWalkMarkerFree, || {
        let m = new_marker();
        free_marker(m);
        // SAFETY: deliberately wrong: this is the misuse under test.
        unsafe { PssWalkMarkerFree(m) };
    });
}

/// Model choice: a marker serves one walk (5, 11.7).
#[test]
fn marker_reused_for_another_class_is_misuse() {
    expect_misuse(Call::PssWalkSnapshot, || {
        let s = capture_current(PSS_CAPTURE_THREADS | PSS_CAPTURE_VA_SPACE);
        let m = new_marker();
        walk_one::<PSS_THREAD_ENTRY>(s, PSS_WALK_THREADS, m);
        walk_one::<PSS_VA_SPACE_ENTRY>(s, PSS_WALK_VA_SPACE, m);
    });
}

/// Model choice: buffers must be aligned for their structure (4).
#[test]
fn misaligned_buffer_is_misuse() {
    expect_misuse(Call::PssQuerySnapshot, || {
        let s = capture_current(PSS_CAPTURE_THREADS);
        let mut bytes = [0u64; 3];
        let misaligned = bytes.as_mut_ptr().cast::<u8>().wrapping_add(1);
        // SAFETY: 8 writable bytes at a misaligned address: the misuse under test.
        unsafe { PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, misaligned.cast(), 8) };
    });
}

/// Model choice: a snapshot in another process's context cannot be read from here (3.4).
#[test]
fn querying_a_remote_snapshot_is_misuse() {
    expect_misuse(Call::PssQuerySnapshot, || {
        let target = ProcessSpec::new().spawn();
        let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
        let s = capture_current(PSS_CAPTURE_THREADS);
        let (_, remote) = duplicate(current_process(), s, process, PSS_DUPLICATE_NONE);
        query::<PSS_THREAD_INFORMATION>(remote, PSS_QUERY_THREAD_INFORMATION);
    });
}

/// A position from another marker: Windows never validates positions (raw offsets into the
/// marker's view) and would read unrelated data (3.9, 11.14; WINDOWS-EVIDENCE Walk).
#[test]
fn position_from_another_marker_is_misuse() {
    expect_misuse(Call::PssWalkMarkerSetPosition, || {
        let snapshot = capture_current(PSS_CAPTURE_VA_SPACE);
        let (a, b) = (new_marker(), new_marker());
        walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, a);
        let from_a = marker_position(a);
        assert_eq!(set_marker_position(a, from_a), ERROR_SUCCESS);
        set_marker_position(b, from_a);
    });
}

/// With `PSS_DUPLICATE_CLOSE_SOURCE` the source is gone even after a failure; freeing it again
/// is a double free (2.1, documented).
#[test]
fn free_after_failed_close_source_is_misuse() {
    expect_misuse(Call::PssFreeSnapshot, || {
        let s = capture_current(PSS_CAPTURE_NONE);
        let (code, _) = duplicate(
            current_process(),
            s,
            std::ptr::null_mut(),
            PSS_DUPLICATE_CLOSE_SOURCE,
        );
        assert_eq!(code, ERROR_INVALID_HANDLE);
        free(current_process(), s);
    });
}

/// A value that is neither NULL nor a snapshot makes ntdll raise `STATUS_INVALID_HANDLE` (or
/// read garbage) instead of returning a code; only NULL gives `ERROR_INVALID_HANDLE`
/// (WINDOWS-EVIDENCE Duplicate and free; Query).
#[test]
fn garbage_snapshot_handle_is_misuse() {
    expect_misuse(Call::PssQuerySnapshot, || {
        query::<PSS_PROCESS_INFORMATION>(
            std::ptr::without_provenance_mut(0x1234_5670),
            PSS_QUERY_PROCESS_INFORMATION,
        );
    });
}

/// ntdll writes the answer through the query buffer unchecked: NULL is an access violation
/// (WINDOWS-EVIDENCE Query).
#[test]
fn null_query_buffer_is_misuse() {
    expect_misuse(Call::PssQuerySnapshot, || {
        let s = capture_current(PSS_CAPTURE_NONE);
        // SAFETY: deliberately wrong: this is the misuse under test.
        unsafe {
            PssQuerySnapshot(
                s,
                PSS_QUERY_PROCESS_INFORMATION,
                std::ptr::null_mut(),
                size_of::<PSS_PROCESS_INFORMATION>() as u32,
            )
        };
    });
}

extern "system" fn reentrant_alloc(_: *mut std::ffi::c_void, _: u32) -> *mut std::ffi::c_void {
    // The pseudo handle by value: even GetCurrentProcess is a model call.
    capture(
        std::ptr::without_provenance_mut(usize::MAX),
        PSS_CAPTURE_NONE,
        0,
    );
    std::ptr::null_mut()
}

extern "system" fn noop_free(_: *mut std::ffi::c_void, _: *mut std::ffi::c_void) {}

/// Model choice: allocator callbacks must not call PSS (6).
#[test]
fn pss_call_from_allocator_callback_is_misuse() {
    expect_misuse(Call::PssCaptureSnapshot, || {
        let allocator = pss_allocator(std::ptr::null_mut(), reentrant_alloc, noop_free);
        let mut m = std::ptr::null_mut();
        // SAFETY: a valid allocator whose routine misbehaves: the misuse under test.
        unsafe { PssWalkMarkerCreate(&*allocator, &mut m) };
    });
}

mod minidump_protocol {
    //! `MiniDumpWriteDump` on a snapshot, called the wrong way: each is a dump of the wrong
    //! thing, a crash, or a race inside dbghelp on Windows ("Generate Dump File from a Process
    //! Snapshot"; dbghelp is single-threaded).
    use super::*;
    use pss_sys::minidump::*;
    use std::path::PathBuf;

    fn path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("pss-misuse-{}-{name}.dmp", std::process::id()))
    }

    unsafe extern "system" fn answers(
        _: *mut std::ffi::c_void,
        input: *const MINIDUMP_CALLBACK_INPUT,
        output: *mut MINIDUMP_CALLBACK_OUTPUT,
    ) -> BOOL {
        // SAFETY: valid structures from the caller, read and written unaligned (packed).
        unsafe {
            if (&raw const (*input).CallbackType).read_unaligned()
                == IsProcessSnapshotCallback as u32
            {
                (&raw mut (*output).Anonymous.Status).write_unaligned(S_FALSE);
            }
        }
        1
    }

    unsafe extern "system" fn silent(
        _: *mut std::ffi::c_void,
        _: *const MINIDUMP_CALLBACK_INPUT,
        _: *mut MINIDUMP_CALLBACK_OUTPUT,
    ) -> BOOL {
        1
    }

    /// Takes the mutex Rust's backtrace code serialises dbghelp with, as every dbghelp caller
    /// in a Rust process must (and `pss` does); kept for the rest of the (child) process.
    fn hold_backtrace_lock() {
        let name = std::ffi::CString::new(backtrace_mutex_name()).unwrap();
        // SAFETY: a NUL-terminated name; the handle is kept open, as backtrace code keeps it.
        unsafe {
            let mutex = CreateMutexA(std::ptr::null(), 0, name.as_ptr().cast());
            assert_eq!(WaitForSingleObjectEx(mutex, INFINITE, 0), WAIT_OBJECT_0);
        }
    }

    /// A dump without the process's dbghelp lock could race another thread's backtrace
    /// (dbghelp is single-threaded): the model requires its caller to hold it.
    #[test]
    fn a_dump_without_the_backtrace_lock_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = create_file(&path("unlocked")).unwrap();
            let info = MINIDUMP_CALLBACK_INFORMATION {
                CallbackRoutine: Some(answers),
                CallbackParam: std::ptr::null_mut(),
            };
            // SAFETY: a raw call with valid arguments; the missing lock is the misuse.
            unsafe {
                MiniDumpWriteDump(
                    s,
                    CURRENT_PID,
                    file.as_raw_handle(),
                    MiniDumpNormal,
                    std::ptr::null(),
                    std::ptr::null(),
                    &info,
                )
            };
        });
    }

    /// Calls `MiniDumpWriteDump` for a snapshot of this process with `callback`, holding the
    /// backtrace lock (so that the misuse found is the one under test).
    fn dump(process: HANDLE, pid: u32, file: HANDLE, callback: MINIDUMP_CALLBACK_ROUTINE) -> BOOL {
        hold_backtrace_lock();
        let info = MINIDUMP_CALLBACK_INFORMATION {
            CallbackRoutine: callback,
            CallbackParam: std::ptr::null_mut(),
        };
        let info_ptr = if callback.is_some() {
            &raw const info
        } else {
            std::ptr::null()
        };
        // SAFETY: a raw call with valid pointers; the misuse under test is in the arguments.
        unsafe {
            MiniDumpWriteDump(
                process,
                pid,
                file,
                MiniDumpNormal,
                std::ptr::null(),
                std::ptr::null(),
                info_ptr,
            )
        }
    }

    #[test]
    fn dump_to_a_read_only_file_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = open_file_read_only(&path("read-only"));
            dump(s, CURRENT_PID, file.as_raw_handle(), Some(answers));
        });
    }

    #[test]
    fn dump_of_a_snapshot_without_a_callback_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = create_file(&path("no-callback")).unwrap();
            dump(s, CURRENT_PID, file.as_raw_handle(), None);
        });
    }

    #[test]
    fn a_callback_that_does_not_answer_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = create_file(&path("silent")).unwrap();
            dump(s, CURRENT_PID, file.as_raw_handle(), Some(silent));
        });
    }

    #[test]
    fn a_process_id_that_is_not_the_snapshots_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = create_file(&path("wrong-pid")).unwrap();
            dump(s, CURRENT_PID + 4, file.as_raw_handle(), Some(answers));
        });
    }

    #[test]
    fn a_handle_that_is_neither_snapshot_nor_process_is_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let file = create_file(&path("bogus")).unwrap();
            let bogus = std::ptr::without_provenance_mut(0x4440);
            dump(bogus, CURRENT_PID, file.as_raw_handle(), Some(answers));
        });
    }

    unsafe extern "system" fn dumps_again(
        param: *mut std::ffi::c_void,
        input: *const MINIDUMP_CALLBACK_INPUT,
        output: *mut MINIDUMP_CALLBACK_OUTPUT,
    ) -> BOOL {
        // SAFETY: `param` is the snapshot, and the file handle follows it (see the test).
        let (s, file) = unsafe { *param.cast::<(HPSS, HANDLE)>() };
        dump(s, CURRENT_PID, file, Some(answers));
        // SAFETY: forwarded unchanged.
        unsafe { answers(param, input, output) }
    }

    #[test]
    fn overlapping_dumps_are_misuse() {
        expect_misuse(Call::MiniDumpWriteDump, || {
            let s = capture_current(PSS_CAPTURE_THREADS);
            let file = create_file(&path("overlap")).unwrap();
            let mut param = (s, file.as_raw_handle());
            hold_backtrace_lock();
            let info = MINIDUMP_CALLBACK_INFORMATION {
                CallbackRoutine: Some(dumps_again),
                CallbackParam: (&raw mut param).cast(),
            };
            // SAFETY: as in `dump`; the callback dumps again while this call runs.
            unsafe {
                MiniDumpWriteDump(
                    s,
                    CURRENT_PID,
                    file.as_raw_handle(),
                    MiniDumpNormal,
                    std::ptr::null(),
                    std::ptr::null(),
                    &info,
                )
            };
        });
    }
}
