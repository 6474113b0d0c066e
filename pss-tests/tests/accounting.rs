//! The model's own bookkeeping: calls and live objects are counted per thread, so tests running
//! in parallel in one binary cannot see each other's.
#![cfg(not(windows))]

use pss_sys::*;
use pss_tests::model::*;
use pss_tests::*;

/// Each kernel32 call is counted for the thread that made it.
#[test]
fn calls_are_counted_per_thread() {
    reset_calls();
    let s = capture_current(PSS_CAPTURE_NONE);
    std::thread::spawn(|| {
        let s = capture_current(PSS_CAPTURE_NONE);
        free_local(s);
        assert_eq!(call_count(Call::PssCaptureSnapshot), 1);
    })
    .join()
    .unwrap();
    free_local(s);
    assert_eq!(call_count(Call::PssCaptureSnapshot), 1);
    assert_eq!(call_count(Call::PssFreeSnapshot), 1);
    assert_eq!(call_count(Call::GetCurrentProcess), 2);
    assert_eq!(calls().values().sum::<u64>(), 4);
}

/// Live objects are counted per creating thread, and per process context.
#[test]
fn live_objects_are_counted_per_thread_and_process() {
    let s = capture_current(PSS_CAPTURE_NONE);
    let m = new_marker();
    assert_eq!(
        live(),
        Live {
            snapshots: 1,
            markers: 1,
            handles: 0
        }
    );
    std::thread::spawn(|| assert_eq!(live(), Live::default()))
        .join()
        .unwrap();
    let target = ProcessSpec::new().spawn();
    let own = target.own_snapshot(PSS_CAPTURE_NONE, true);
    assert_eq!(live_in(target.pid()).snapshots, 1);
    let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
    assert_eq!(free(process, own), ERROR_SUCCESS);
    close_handle(process);
    free_marker(m);
    free_local(s);
    assert_eq!(live(), Live::default());
}

/// The leak check names what leaked.
#[test]
fn leak_check_names_leaked_objects() {
    let s = capture_current(PSS_CAPTURE_THREADS | PSS_CAPTURE_VA_SPACE);
    let leaks = leaks();
    assert_eq!(leaks.len(), 1);
    assert!(leaks[0].starts_with("HPSS "), "{leaks:?}");
    // The flags by name, not as a number.
    assert!(
        leaks[0].ends_with("(flags THREADS | VA_SPACE)"),
        "{leaks:?}"
    );
    let outcome = std::panic::catch_unwind(assert_no_leaks);
    assert!(outcome.is_err());
    free_local(s);
    assert_no_leaks();
}
