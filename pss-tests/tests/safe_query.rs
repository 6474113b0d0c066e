//! `pss`'s typed queries: every `PSS_QUERY_*` class, captured and not captured, each one
//! `PssQuerySnapshot` call, with its values typed (PSS-CONTRACT.md 3.4, 7.2, 8). The tests on
//! this process and on child processes run against real kernel32 too; those that need a model
//! process with particular contents, or the model's call counters, are model-only.

use std::time::{Duration, SystemTime};

use pss::{
    CaptureFlags, ErrorCode, ErrorKind, ExitStatus, Function, LocalSnapshot, ProcessAccess, WideStr,
};
use pss_tests::*;

/// Everything a query can report.
const EVERYTHING: CaptureFlags = CaptureFlags::VA_CLONE
    .union(CaptureFlags::AUXILIARY_PAGES)
    .union(CaptureFlags::HANDLES)
    .union(CaptureFlags::HANDLE_TRACE)
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::THREAD_CONTEXT)
    .union(CaptureFlags::VA_SPACE)
    .union(CaptureFlags::CREATE_MEASURE_PERFORMANCE);

/// Every class answers for a capture of this process with everything (3.4, 7.2), except the
/// handle trace, which this process does not keep (`NotFound`, with both causes named).
#[test]
fn every_query_class_answers_for_this_process() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(EVERYTHING).unwrap();
    let info = snapshot.process_information().unwrap();
    assert_eq!(info.process_id(), current_pid());
    assert_eq!(info.exit_status(), ExitStatus::Running);
    assert!(snapshot.auxiliary_page_count().unwrap() <= 1);
    assert!(snapshot.region_count().unwrap() > 0);
    assert!(snapshot.handle_count().unwrap() > 0);
    let threads = snapshot.thread_information().unwrap();
    assert!(threads.threads_captured >= 1, "at least this thread");
    assert!(threads.context_length as usize >= size_of::<pss_sys::CONTEXT>());
    let clone_pid = snapshot.va_clone().unwrap().process_id().unwrap();
    assert_ne!(clone_pid, current_pid());
    let trace = snapshot.handle_trace().unwrap_err();
    assert_eq!(trace.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND));
    assert!(trace.reason().unwrap().contains("tracing"), "{trace}");
    assert!(snapshot.performance_counters().unwrap().is_measured());
    drop(snapshot);
    assert_no_leaks();
}

/// Each class not captured is `NotCaptured` naming the flag that alone would have captured it,
/// with the Win32 code kept; threads and the handle trace, which can be missing for another
/// reason too, are `NotFound` with the causes in `reason`; performance counters answer zeros
/// (3.4, 7.2, 11.4; WINDOWS-EVIDENCE Query).
#[test]
fn every_query_class_not_captured_says_why() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let expect = |error: pss::Error, kind: ErrorKind| {
        assert_eq!(error.function(), Function::PssQuerySnapshot);
        assert_eq!(error.kind(), kind);
        assert_eq!(
            error.code().map(ErrorCode::raw),
            Some(1168),
            "ERROR_NOT_FOUND is kept"
        );
        error
    };
    let captured_without = |flag| ErrorKind::NotCaptured(flag);
    expect(
        snapshot.va_clone().unwrap_err(),
        captured_without(CaptureFlags::VA_CLONE),
    );
    let aux = expect(
        snapshot.auxiliary_page_count().unwrap_err(),
        captured_without(CaptureFlags::AUXILIARY_PAGES),
    );
    assert!(aux.to_string().contains("AUXILIARY_PAGES"), "{aux}");
    assert_eq!(aux.missing_flags(), Some(CaptureFlags::AUXILIARY_PAGES));
    expect(
        snapshot.region_count().unwrap_err(),
        captured_without(CaptureFlags::VA_SPACE),
    );
    expect(
        snapshot.handle_count().unwrap_err(),
        captured_without(CaptureFlags::HANDLES),
    );
    let threads = expect(
        snapshot.thread_information().unwrap_err(),
        ErrorKind::Os(ErrorCode::NOT_FOUND),
    );
    assert!(threads.reason().unwrap().contains("PSS_CAPTURE_THREADS"));
    assert!(threads.reason().unwrap().contains("exited"));
    let trace = expect(
        snapshot.handle_trace().unwrap_err(),
        ErrorKind::Os(ErrorCode::NOT_FOUND),
    );
    assert!(trace.reason().unwrap().contains("PSS_CAPTURE_HANDLE_TRACE"));
    assert!(
        !snapshot.performance_counters().unwrap().is_measured(),
        "zeros without CREATE_MEASURE_PERFORMANCE"
    );
    // Both shapes answer "would more flags help?".
    assert_eq!(threads.missing_flags(), Some(CaptureFlags::THREADS));
    assert_eq!(trace.missing_flags(), Some(CaptureFlags::HANDLE_TRACE));
    let io = std::io::Error::from(threads);
    // The Win32 code: the raw OS error on Windows; elsewhere (no errno) the source's.
    let code = io.raw_os_error().or_else(|| {
        let source = io.get_ref()?.downcast_ref::<pss::Error>()?;
        source.raw_os_error()
    });
    assert_eq!(code, Some(1168), "ERROR_NOT_FOUND");
    // Process information comes with every snapshot.
    snapshot.process_information().unwrap();
    drop(snapshot);
    assert_no_leaks();
}

/// A process that had exited has no thread data at all: `NotFound`, whose reason names that
/// cause, while its process information says it exited, with its code (8; WINDOWS-EVIDENCE
/// Capture: exited process).
#[test]
fn exited_process_has_no_thread_data() {
    require_pss!();
    let process = TestProcess::exited(3);
    let flags = CaptureFlags::THREADS;
    let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&handle, flags).unwrap();
    let info = snapshot.process_information().unwrap();
    assert_eq!(info.exit_status(), ExitStatus::Exited(3));
    assert!(info.exit_time().is_some());
    let error = snapshot.thread_information().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND));
    let walked = snapshot
        .threads()
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(walked.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND));
    drop((snapshot, handle));
    assert_no_leaks();
}

/// This process's information is typed: its id, running, created in the past, with times and
/// memory counters that make sense (8).
#[test]
fn process_information_of_this_process_is_typed() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let info = snapshot.process_information().unwrap();
    assert_eq!(info.process_id(), current_pid());
    assert_eq!(info.exit_time(), None);
    let created = info.create_time().unwrap().to_system_time().unwrap();
    assert!(created > SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000));
    if !cfg!(miri) {
        // Miri's isolation has no clock.
        assert!(created <= SystemTime::now() + Duration::from_secs(1));
    }
    let memory = info.memory();
    assert!(memory.working_set_size > 0 && memory.peak_working_set_size >= memory.working_set_size);
    // The image name may be empty (long paths); when set it is this program's.
    if let Some(name) = info.image_file_name() {
        let name = name.to_string_lossy().to_lowercase();
        assert!(name.ends_with(".exe"), "{name}");
    }
    drop(snapshot);
    assert_no_leaks();
}

/// Counted UTF-16 converts losslessly (or fails on an unpaired surrogate) and lossily, and
/// keeps its raw units.
#[test]
fn wide_strings_convert_lossless_and_lossy() {
    let units = [0x0041, 0xD800, 0x0042];
    let s = WideStr::from_utf16(&units);
    assert!(s.try_to_string().is_err());
    assert_eq!(s.to_string_lossy(), "A\u{FFFD}B");
    // Like `Path`, no `Display` of its own (a `to_string()` would be silently lossy):
    // `display()` says it is.
    assert_eq!(s.display().to_string(), "A\u{FFFD}B");
    // As an OsString: lossless on Windows, where OsString holds any UTF-16.
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        let os: Vec<u16> = s.to_os_string().encode_wide().collect();
        assert_eq!(os, units);
    }
    #[cfg(not(windows))]
    assert_eq!(s.to_os_string(), "A\u{FFFD}B");
    assert_eq!(format!("{}", s.display()), "A\u{FFFD}B");
    assert_eq!(format!("{s:?}"), r#""A\u{d800}B""#);
    assert_eq!(s.as_utf16(), &units);
    let owned = s.clone().into_owned();
    assert_eq!(owned, s);
    let nt = WideStr::from_vec(r"\Device\HarddiskVolume3\x".encode_utf16().collect());
    assert_eq!(nt.try_to_string().unwrap(), r"\Device\HarddiskVolume3\x");
    assert_eq!(
        nt.to_path_buf(),
        std::path::PathBuf::from(r"\Device\HarddiskVolume3\x")
    );
}

/// The VA clone handle is borrowed from the snapshot, names a process other than the target
/// and is closed by the snapshot's free, never by `pss` otherwise (2.1, 11.9; PITFALLS 3).
#[test]
fn va_clone_is_borrowed_and_ends_with_the_snapshot() {
    require_pss!();
    let process = TestProcess::spawn();
    let flags = CaptureFlags::VA_CLONE;
    let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&handle, flags).unwrap();
    let clone = snapshot.va_clone().unwrap();
    let pid = expect::calls(Call::GetProcessId, 1, || clone.process_id().unwrap());
    assert_ne!(pid, process.pid());
    expect::calls(Call::CloseHandle, 0, || snapshot.close().unwrap());
    expect::process_alive(pid, false);
    drop(handle);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss::ProcessFlags;
    use pss_tests::model::*;

    fn rich() -> ProcessSpec {
        ProcessSpec::new()
            .parent(0x44)
            .image(r"C:\Program Files\App\app.exe")
            .handle_tracing()
            .thread(ThreadSpec::new(0x10))
            .thread(ThreadSpec::new(0x14).terminated(3))
            .handle(HandleSpec::event(4, true, false))
            .handle(HandleSpec::other(8, "File"))
            .region(RegionSpec::private(0x1_0000, 0x1000))
            .region(RegionSpec::free(0x1_1000, 0xF000))
            .region(RegionSpec::image(0x40_0000, 0x2_0000, r"\Device\X\app.exe"))
            .aux_page(AuxPageSpec::with_contents(0x1_0000, vec![1; 16]))
    }

    /// Every class answers when captured, with what the process holds; counters are
    /// microseconds (3.4, 7.2; WINDOWS-EVIDENCE Query).
    #[test]
    fn every_query_class_answers_when_captured() {
        let (process, snapshot) = spawn_and_capture(rich(), EVERYTHING);
        let info = snapshot.process_information().unwrap();
        assert_eq!(info.process_id(), process.pid());
        assert_eq!(snapshot.auxiliary_page_count().unwrap(), 1);
        assert_eq!(snapshot.region_count().unwrap(), 3);
        assert_eq!(snapshot.handle_count().unwrap(), 2);
        let threads = snapshot.thread_information().unwrap();
        assert_eq!(threads.threads_captured, 2);
        assert_eq!(
            threads.context_length as usize,
            size_of::<pss_sys::CONTEXT>()
        );
        let clone = snapshot.va_clone().unwrap();
        let clone_pid = clone.process_id().unwrap();
        assert_ne!(clone_pid, 0);
        assert_ne!(clone_pid, process.pid());
        let trace = snapshot.handle_trace().unwrap();
        assert_eq!(trace.size(), HANDLE_TRACE_SIZE);
        let counters = snapshot.performance_counters().unwrap();
        assert!(counters.is_measured());
        assert_eq!(counters.total().cycles, 10_000_000);
        assert_eq!(counters.total().wall_clock, Duration::from_micros(3_100));
        assert_eq!(counters.threads().wall_clock, Duration::from_micros(800));
        drop(snapshot);
        assert_no_leaks();
    }

    /// Each query is exactly one kernel32 call, `PssQuerySnapshot` (3.4).
    #[test]
    fn each_query_is_one_kernel32_call() {
        pss::is_available();
        let (_process, snapshot) = spawn_and_capture(rich(), EVERYTHING);
        let queries: [(&str, &dyn Fn() -> bool); 8] = [
            ("process", &|| snapshot.process_information().is_ok()),
            ("va clone", &|| snapshot.va_clone().is_ok()),
            ("aux pages", &|| snapshot.auxiliary_page_count().is_ok()),
            ("va space", &|| snapshot.region_count().is_ok()),
            ("handles", &|| snapshot.handle_count().is_ok()),
            ("threads", &|| snapshot.thread_information().is_ok()),
            ("trace", &|| snapshot.handle_trace().is_ok()),
            ("performance", &|| snapshot.performance_counters().is_ok()),
        ];
        for (class, query) in queries {
            reset_calls();
            assert!(query(), "{class}");
            assert_eq!(call_count(Call::PssQuerySnapshot), 1, "{class}");
            assert_eq!(calls().values().sum::<u64>(), 1, "{class}: {:?}", calls());
        }
        drop(snapshot);
        assert_no_leaks();
    }

    /// Process information is typed: ids, flags, times as `SystemTime`/`Duration`, memory (8).
    #[test]
    fn process_information_is_typed() {
        let (process, snapshot) = spawn_and_capture(rich().wow64().frozen(), CaptureFlags::NONE);
        let info = snapshot.process_information().unwrap();
        assert_eq!(info.process_id(), process.pid());
        assert_eq!(info.parent_process_id(), 0x44);
        assert_eq!(info.flags(), ProcessFlags::WOW64 | ProcessFlags::FROZEN);
        assert_eq!(info.exit_status(), ExitStatus::Running);
        assert_eq!(info.exit_time(), None);
        assert_eq!(
            info.image_file_name().unwrap(),
            r"C:\Program Files\App\app.exe"
        );
        let created = info.create_time().unwrap().to_system_time().unwrap();
        assert!(created > SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000));
        assert_eq!(info.kernel_time(), Duration::from_micros(15_625));
        assert_eq!(info.user_time(), Duration::from_micros(31_250));
        let memory = info.memory();
        assert_eq!(memory.working_set_size, 0x0050_0000);
        assert_eq!(memory.page_fault_count, 1234);
        assert_eq!(memory.private_usage, 0x0030_0000);
        drop(snapshot);
        assert_no_leaks();
    }

    /// `STILL_ACTIVE` (259) is not hidden: a running process is `Running`, one that exited with
    /// 259 is `Exited(259)` (its exit time says so), any other code is `Exited` (8).
    #[test]
    fn exit_status_tells_still_active_from_exit_code_259() {
        for (exit, expected) in [
            (None, ExitStatus::Running),
            (Some(259), ExitStatus::Exited(259)),
            (Some(3), ExitStatus::Exited(3)),
        ] {
            let spec = match exit {
                Some(code) => ProcessSpec::new().exited(code),
                None => ProcessSpec::new(),
            };
            let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::NONE);
            let info = snapshot.process_information().unwrap();
            assert_eq!(info.exit_status(), expected);
            assert_eq!(info.exit_status_raw(), exit.unwrap_or(259));
            assert_eq!(info.exit_time().is_some(), exit.is_some());
            drop(snapshot);
        }
        assert_no_leaks();
    }

    /// With the length limit lifted, an image name of exactly `MAX_PATH` units fills the
    /// buffer without a terminator and is read to the end, not past it; a longer one is cut
    /// there; a shorter one stops at its NUL (8, 11.17).
    #[test]
    fn image_name_exactly_filling_the_buffer_is_read_whole() {
        for (len, fills) in [(259, false), (260, true), (300, true)] {
            let name = format!(r"C:\{}", "n".repeat(len - 3));
            let (_process, snapshot) = spawn_and_capture(
                ProcessSpec::new().image(&name).image_name_limit(usize::MAX),
                CaptureFlags::NONE,
            );
            let info = snapshot.process_information().unwrap();
            let read = info.image_file_name().unwrap();
            assert_eq!(read.as_utf16().len(), len.min(260), "{len}");
            assert_eq!(read.try_to_string().unwrap(), name[..len.min(260)], "{len}");
            assert_eq!(info.image_file_name_fills_buffer(), fills, "{len}");
            drop(snapshot);
        }
        assert_no_leaks();
    }

    /// An empty image name is `None`, not an error, as every empty name; Windows gives one for
    /// long paths (WINDOWS-EVIDENCE Walk, `ImageFileName`).
    #[test]
    fn empty_image_name_is_empty() {
        let long = format!(r"C:\{}.exe", "a".repeat(200));
        for spec in [
            ProcessSpec::new().image(""),
            ProcessSpec::new().image(&long),
        ] {
            let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::NONE);
            let info = snapshot.process_information().unwrap();
            assert!(info.image_file_name().is_none());
            assert!(!info.image_file_name_fills_buffer());
            drop(snapshot);
        }
        assert_no_leaks();
    }
}
