//! **Model-only.** Injected failures: a per-thread plan of kernel32 calls that fail, each with
//! a code that function is seen to return on Windows, with no effect but what such a failure
//! really has (the `pss-model` crate's fault injection, typed).
//!
//! | function | codes ([`codes`]) | effect of the failure |
//! |---|---|---|
//! | [`Call::OpenProcess`] | `ACCESS_DENIED` (a target that does not grant the rights), `INVALID_PARAMETER` (no such process) | no handle, the code as the last error: `pss::open_process` fails with it |
//! | [`Call::PssCaptureSnapshot`] | `ACCESS_DENIED`, `INVALID_HANDLE`, `NO_SYSTEM_RESOURCES`, `INVALID_ADDRESS`, `ARITHMETIC_OVERFLOW`, `PARTIAL_COPY` | nothing is created |
//! | [`Call::PssDuplicateSnapshot`] | `ACCESS_DENIED` | nothing is created; with `PSS_DUPLICATE_CLOSE_SOURCE` the source is still freed |
//! | [`Call::PssFreeSnapshot`] of a snapshot in another process | `ACCESS_DENIED` | nothing is freed (a local free does not fail on Windows, so it is never injected) |
//! | [`Call::PssWalkMarkerCreate`] | `NOT_ENOUGH_MEMORY` | no marker |
//! | [`Call::PssWalkSnapshot`] | `NOT_ENOUGH_MEMORY`, `NO_SYSTEM_RESOURCES` | the marker does not advance |
//!
//! A plan lives until its [`FaultPlan`] is dropped, on the thread that made it (libtest runs
//! each test on its own thread: a test's plan never hits another test). A plan that asks for a
//! function outside this table, or a code outside the function's row, is refused
//! ([`FaultError`]): it would test a failure Windows does not have.
//!
//! # Probability: per call
//!
//! [`fail_randomly`]'s probability is **per call** of each function in the table, not per
//! operation: an operation that makes `n` of those calls fails with probability
//! `1 - (1 - p)^n`, and a walk makes one `PssWalkSnapshot` call per entry (and one more). A
//! report that captures and walks 30 entries fails 999 times in 1,000 at `p = 0.2`; choose `p`
//! for the calls an operation makes:
//!
//! ```
//! use pss::{CaptureFlags, LocalSnapshot};
//! use pss_tests::model::{demo_process, faults};
//!
//! let target = demo_process().spawn();
//! let process = pss::open_process(target.pid(), pss::ProcessAccess::all())?;
//! // One capture and a walk of every thread (4 of them): 1 + 1 + 5 = 7 calls that can fail.
//! let report = || -> pss::Result<usize> {
//!     let snapshot = LocalSnapshot::capture(&process, CaptureFlags::THREADS)?;
//!     snapshot.threads()?.iter().try_fold(0, |n, t| t.map(|_| n + 1))
//! };
//! let (mut failed, mut succeeded) = (0, 0);
//! for seed in 0..100 {
//!     let _plan = faults::fail_randomly(seed, 0.05)?; // 1 - 0.95^7: about 30 in 100 fail
//!     match report() {
//!         Ok(threads) => { assert_eq!(threads, 4); succeeded += 1 }
//!         Err(_) => failed += 1, // an injected failure, reported as an error
//!     }
//! }
//! assert!(failed > 0 && succeeded > 0, "{failed} failed, {succeeded} succeeded");
//! drop(process);
//! pss_tests::assert_no_leaks();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use pss::ErrorCode;

use crate::Call;

#[doc(inline)]
pub use pss_model::faults::{FaultError, FaultPlan, injected_total};

/// The codes faults of `function` carry, its row of the table above; empty for a function no
/// fault lands in.
pub fn codes(function: Call) -> Vec<ErrorCode> {
    pss_model::faults::codes(function.name())
        .iter()
        .map(|&code| ErrorCode::from_raw(code))
        .collect()
}

/// Fails the `n`-th call (1-based, counted from now, on this thread) of `function` with `code`.
///
/// Refused ([`FaultError`], nothing planned) when no fault lands in `function`, when `code` is
/// not one of its [`codes`], when `n` is 0, or while another plan runs on this thread.
///
/// ```
/// use pss::{CaptureFlags, ErrorCode, LocalSnapshot};
/// use pss_tests::{Call, model::faults};
///
/// let _plan = faults::fail_nth(Call::PssCaptureSnapshot, 1, ErrorCode::NO_SYSTEM_RESOURCES)?;
/// let error = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap_err();
/// assert_eq!(error.code(), Some(ErrorCode::NO_SYSTEM_RESOURCES));
/// // A failure Windows does not have is refused.
/// assert!(faults::fail_nth(Call::PssQuerySnapshot, 1, ErrorCode::ACCESS_DENIED).is_err());
/// # Ok::<(), faults::FaultError>(())
/// ```
pub fn fail_nth(function: Call, n: u64, code: ErrorCode) -> Result<FaultPlan, FaultError> {
    pss_model::faults::fail_nth(function.name(), n, code.raw())
}

/// Fails each call of every function in the table on this thread with probability
/// `probability` (**per call**: see [Probability](self#probability-per-call)), with one of its
/// codes, both drawn from a generator seeded with `seed`: the same seed and the same calls
/// give the same faults.
///
/// Refused ([`FaultError`]) for a probability outside `0.0..=1.0`, or while another plan runs
/// on this thread.
pub fn fail_randomly(seed: u64, probability: f64) -> Result<FaultPlan, FaultError> {
    pss_model::faults::fail_randomly(seed, probability)
}
