//! **Model-only** (hosts other than Windows): what only the kernel32 model can give, which no
//! real kernel32 has. Model processes built to the byte ([`ProcessSpec`] and its
//! [`ThreadSpec`]s, [`HandleSpec`]s, [`RegionSpec`]s, with knobs for what Windows varies),
//! injected failures ([`faults`]), call accounting ([`calls`], [`call_count`]) and leak
//! accounting ([`live`], [`leaks`]; [`assert_no_leaks`](crate::assert_no_leaks) asserts on it).
//!
//! Tests that name this module are model tests: write them `#[cfg(not(windows))]`. A test that
//! should also run on Windows builds its process with the portable
//! [`FixtureSpec`](crate::FixtureSpec) instead, and uses [`expect`](crate::expect) and
//! [`assert_no_leaks`](crate::assert_no_leaks), which check the model's accounting here and
//! nothing on Windows.
//!
//! This module is the `pss-model` crate's API, re-exported, with typed versions of what took
//! strings and raw numbers there: [`Call`] names functions, [`pss::ErrorCode`]
//! codes and [`pss::ProcessAccess`] rights ([`faults::fail_nth`], [`call_count`],
//! [`granted_access`]; [`ProcessSpec::grantable`] takes a `ProcessAccess` too). Every choice
//! the model makes where Microsoft's pages are silent is a row of the table in
//! [`pss-model`'s crate docs](https://docs.rs/pss-model), with its evidence grade.
//!
//! ```
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//! use pss_tests::model::{HandleSpec, ProcessSpec, ThreadSpec};
//!
//! // A console program (a thread, handles, images, a PEB), plus what the test is about.
//! let target = ProcessSpec::console()
//!     .thread(ThreadSpec::new(0x300).suspended(1))
//!     .handle(HandleSpec::mutant(0x40, 1, false).named(r"\BaseNamedObjects\single-instance"))
//!     .spawn();
//! let flags = CaptureFlags::DIAGNOSTICS;
//! let process = pss::open_process(target.pid(), ProcessAccess::for_capture(flags))?;
//! let snapshot = LocalSnapshot::capture(&process, flags)?;
//! assert_eq!(snapshot.thread_information()?.threads_captured, 2);
//! drop((snapshot, process));
//! pss_tests::assert_no_leaks();
//! # Ok::<(), pss::Error>(())
//! ```

use std::collections::BTreeMap;

use pss::ProcessAccess;

use crate::Call;

#[doc(inline)]
pub use pss_model::*;

pub mod faults;

/// The calls this thread made to each kernel32 function the kit names (libtest runs each test
/// on its own thread, so a test sees its own calls only).
pub fn calls() -> BTreeMap<Call, u64> {
    pss_model::calls()
        .into_iter()
        .filter_map(|(name, n)| Some((Call::from_name(name)?, n)))
        .collect()
}

/// How often this thread called `call`.
///
/// ```
/// use pss::{CaptureFlags, LocalSnapshot};
/// use pss_tests::{Call, model::call_count};
///
/// let before = call_count(Call::PssCaptureSnapshot);
/// LocalSnapshot::capture_current(CaptureFlags::NONE)?.close()?;
/// assert_eq!(call_count(Call::PssCaptureSnapshot) - before, 1);
/// # Ok::<(), pss::Error>(())
/// ```
pub fn call_count(call: Call) -> u64 {
    pss_model::call_count(call.name())
}

/// The access a process handle of this process was granted, or `None` if `handle` is not a
/// kernel handle of the model (the typed [`handle_access`]).
pub fn granted_access(handle: &impl pss::handle::AsRawHandle) -> Option<ProcessAccess> {
    pss_model::handle_access(handle.as_raw_handle()).map(ProcessAccess::from_bits_retain)
}
