//! The availability probe runs once per process and costs what its documentation says. Its own
//! binary: no other test may probe first.
#![cfg(not(windows))]

use pss_tests::Call;
use pss_tests::model::*;

/// `GetModuleHandleW`, ten `GetProcAddress`, one `GetCurrentProcess`; then nothing, ever again.
#[test]
fn probe_runs_once_and_costs_twelve_calls() {
    reset_calls();
    assert!(pss::is_available());
    let probe = calls();
    assert_eq!(probe.get(&Call::GetModuleHandleW), Some(&1));
    assert_eq!(probe.get(&Call::GetProcAddress), Some(&10));
    assert_eq!(probe.get(&Call::GetCurrentProcess), Some(&1));
    assert_eq!(probe.values().sum::<u64>(), 12);
    reset_calls();
    assert!(pss::is_available());
    std::thread::spawn(|| assert!(pss::is_available()))
        .join()
        .unwrap();
    assert!(calls().is_empty());
}
