//! `pss`'s typed queries against the model: every `PSS_QUERY_*` class, captured and not
//! captured, each one `PssQuerySnapshot` call, with its values typed (PSS-CONTRACT.md 3.4, 7.2,
//! 8).
#![cfg(not(windows))]

use std::time::{Duration, SystemTime};

use pss::{
    CaptureFlags, ContextFlags, ErrorKind, ExitStatus, Function, LocalSnapshot, ProcessFlags,
    WideStr,
};
use pss_tests::model::*;
use pss_tests::*;

/// Everything a query can report.
const EVERYTHING: CaptureFlags = CaptureFlags::VA_CLONE
    .union(CaptureFlags::HANDLES)
    .union(CaptureFlags::HANDLE_TRACE)
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::THREAD_CONTEXT)
    .union(CaptureFlags::VA_SPACE)
    .union(CaptureFlags::CREATE_MEASURE_PERFORMANCE);

fn rich() -> ProcessSpec {
    ProcessSpec::new()
        .parent(0x44)
        .image(r"C:\Program Files\App\app.exe")
        .thread(ThreadSpec::new(0x10))
        .thread(ThreadSpec::new(0x14).terminated(3))
        .handle(HandleSpec::event(4, true, false))
        .handle(HandleSpec::other(8, "File"))
        .region(RegionSpec::private(0x1_0000, 0x1000))
        .region(RegionSpec::free(0x1_1000, 0xF000))
        .region(RegionSpec::image(0x40_0000, 0x2_0000, r"\Device\X\app.exe"))
        .aux_page(AuxPageSpec::with_contents(0x1_0000, vec![1; 16]))
}

/// Every class answers when captured, with what the process holds (3.4, 7.2).
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
    assert_eq!(trace.size(), 0x1000);
    let counters = snapshot.performance_counters().unwrap();
    assert_eq!(counters.total().cycles, 9_000_000);
    assert_eq!(counters.total().wall_clock, Duration::from_millis(3));
    assert_eq!(counters.threads().wall_clock, Duration::from_micros(800));
    drop(snapshot);
    assert_no_leaks();
}

/// Each class not captured is `NotCaptured` naming the flag that would have captured it, with
/// the Win32 code kept; auxiliary pages say their flag is inferred (3.4, 7.2, 11.4).
#[test]
fn every_query_class_not_captured_names_its_flag() {
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE, ContextFlags::NONE).unwrap();
    let expect = |error: pss::Error, flag: CaptureFlags| {
        assert_eq!(error.function(), Function::PssQuerySnapshot);
        assert_eq!(error.kind(), ErrorKind::NotCaptured(flag));
        assert_eq!(error.code(), Some(1168), "ERROR_NOT_FOUND is kept");
        error
    };
    expect(snapshot.va_clone().unwrap_err(), CaptureFlags::VA_CLONE);
    let aux = expect(
        snapshot.auxiliary_page_count().unwrap_err(),
        CaptureFlags::VA_CLONE,
    );
    assert!(aux.reason().unwrap().contains("inferred"), "{aux}");
    expect(snapshot.region_count().unwrap_err(), CaptureFlags::VA_SPACE);
    expect(snapshot.handle_count().unwrap_err(), CaptureFlags::HANDLES);
    expect(
        snapshot.thread_information().unwrap_err(),
        CaptureFlags::THREADS,
    );
    expect(
        snapshot.handle_trace().unwrap_err(),
        CaptureFlags::HANDLE_TRACE,
    );
    let perf = expect(
        snapshot.performance_counters().unwrap_err(),
        CaptureFlags::CREATE_MEASURE_PERFORMANCE,
    );
    assert_eq!(perf.reason(), None, "documented, not inferred");
    assert!(
        perf.to_string().contains("CREATE_MEASURE_PERFORMANCE"),
        "{perf}"
    );
    assert_eq!(std::io::Error::from(perf).raw_os_error(), Some(1168));
    // Process information comes with every snapshot (model choice, 11.4).
    snapshot.process_information().unwrap();
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
        assert_eq!(call_count("PssQuerySnapshot"), 1, "{class}");
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
    assert_eq!(info.image_file_name(), r"C:\Program Files\App\app.exe");
    let created = info.create_time().unwrap();
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

/// An image name of exactly `MAX_PATH` units fills the buffer without a terminator and is read
/// to the end, not past it; a longer one is cut there; a shorter one stops at its NUL (8, 11.17).
#[test]
fn image_name_exactly_filling_the_buffer_is_read_whole() {
    for (len, fills) in [(259, false), (260, true), (300, true)] {
        let name = format!(r"C:\{}", "n".repeat(len - 3));
        let (_process, snapshot) =
            spawn_and_capture(ProcessSpec::new().image(&name), CaptureFlags::NONE);
        let info = snapshot.process_information().unwrap();
        let read = info.image_file_name();
        assert_eq!(read.len(), len.min(260), "{len}");
        assert_eq!(read.to_string().unwrap(), name[..len.min(260)], "{len}");
        assert_eq!(info.image_file_name_fills_buffer(), fills, "{len}");
        drop(snapshot);
    }
    assert_no_leaks();
}

/// An empty image name is an empty string, not an error.
#[test]
fn empty_image_name_is_empty() {
    let (_process, snapshot) = spawn_and_capture(ProcessSpec::new().image(""), CaptureFlags::NONE);
    let info = snapshot.process_information().unwrap();
    assert!(info.image_file_name().is_empty());
    assert_eq!(info.image_file_name().to_string().unwrap(), "");
    drop(snapshot);
    assert_no_leaks();
}

/// Counted UTF-16 converts losslessly (or fails on an unpaired surrogate) and lossily, and
/// keeps its raw units.
#[test]
fn wide_strings_convert_lossless_and_lossy() {
    let units = [0x0041, 0xD800, 0x0042];
    let s = WideStr::from_utf16(&units);
    assert!(s.to_string().is_err());
    assert_eq!(s.to_string_lossy(), "A\u{FFFD}B");
    assert_eq!(format!("{s}"), "A\u{FFFD}B");
    assert_eq!(format!("{s:?}"), r#""A\u{d800}B""#);
    assert_eq!(s.as_utf16(), &units);
    let owned = s.clone().into_owned();
    assert_eq!(owned, s);
    let nt = WideStr::from_vec(r"\Device\HarddiskVolume3\x".encode_utf16().collect());
    assert_eq!(nt.to_string().unwrap(), r"\Device\HarddiskVolume3\x");
    assert_no_leaks();
}

/// The VA clone handle is borrowed from the snapshot, names a process other than the target,
/// and is closed by the snapshot's free, never by `pss` otherwise (2.1, 11.9; PITFALLS 3).
#[test]
fn va_clone_is_borrowed_and_ends_with_the_snapshot() {
    pss::is_available();
    let (process, snapshot) = spawn_and_capture(ProcessSpec::new(), CaptureFlags::VA_CLONE);
    let clone = snapshot.va_clone().unwrap();
    reset_calls();
    let pid = clone.process_id().unwrap();
    assert_eq!(call_count("GetProcessId"), 1, "a separate kernel32 call");
    assert_ne!(pid, process.pid());
    assert_eq!(call_count("CloseHandle"), 0);
    snapshot.close().unwrap();
    assert_eq!(call_count("CloseHandle"), 0, "the free closes it, not pss");
    assert_no_leaks();
}
