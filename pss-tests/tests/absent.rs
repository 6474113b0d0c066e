//! Where kernel32 has no PSS (Windows before 8.1; Wine): the model's switch makes every PSS
//! export disappear for this whole test binary, which therefore has no other tests.
#![cfg(not(windows))]

use pss_tests::model::*;
use pss_tests::*;

/// `GetProcAddress` finds no PSS function, and the helper that tests use to skip agrees.
#[test]
fn get_proc_address_finds_no_pss_function() {
    set_pss_absent();
    assert!(!pss_present());
}

/// Calling a missing import anyway aborts, as on Wine.
#[test]
fn calling_a_pss_function_anyway_is_misuse() {
    set_pss_absent();
    expect_misuse(Call::PssCaptureSnapshot, || {
        capture_current(pss_sys::PSS_CAPTURE_NONE);
    });
}
