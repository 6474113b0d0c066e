//! A test kit for code that uses [`pss`]: off Windows (Linux, macOS), a dependency on this
//! crate makes `pss` run against a model of kernel32's Process Snapshotting API; on Windows,
//! the same tests run against the real one.
//!
//! # Guide
//!
//! **1. Depend on it, for tests only.**
//!
//! ```toml
//! [dependencies]
//! pss = { version = "0.1", features = ["dbghelp"] } # the features your code uses
//!
//! [dev-dependencies]
//! pss-tests = "0.1"
//! ```
//!
//! No code has to name the kit to link: it turns on `pss`'s feature `model`, with which `pss`
//! links the model (the `pss-model` crate) off Windows, for test builds only (a
//! dev-dependency's features never reach normal builds). It turns on **no other** `pss`
//! feature: your tests see exactly the `pss` API your code builds against, so `cargo test`
//! passes only where `cargo build` does. On Windows the feature and the model do nothing.
//!
//! **2. Build the process your code captures, once for every host:** [`FixtureSpec`]. Off
//! Windows it becomes a model process; on Windows a real child process with the threads,
//! handles (events, mutexes, sections, files) and private memory you asked for, ended when the
//! [`FixtureProcess`] drops. Check what you asked for; ids, values and addresses are the
//! host's.
//!
//! ```
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//! use pss_tests::{FixtureSpec, ObjectKind};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let target = FixtureSpec::new()
//!     .threads(1)
//!     .handle(ObjectKind::Mutex)
//!     .region(b"state worth dumping")
//!     .spawn()?;
//! # if !pss::is_available() { return Ok(()); } // Wine: no PSS
//! let flags = CaptureFlags::MINIDUMP;
//! let process = pss::open_process(target.pid(), ProcessAccess::for_capture(flags))?;
//! let snapshot = LocalSnapshot::capture(&process, flags)?;
//! // ... the code under test reads `snapshot`; here, the region's bytes through the VA clone:
//! let region = &target.regions()[0];
//! let mut bytes = vec![0; region.contents().len()];
//! snapshot.va_clone()?.read_exact(region.base(), &mut bytes)?;
//! assert_eq!(bytes, region.contents());
//! drop((snapshot, process));
//! pss_tests::assert_no_leaks(); // the model's accounting; on Windows it checks nothing
//! # Ok(()) }
//! ```
//!
//! **3. Where only the model will do, say so:** [`model`] (off Windows only, so such tests
//! are `#[cfg(not(windows))]`): processes built to the byte ([`model::ProcessSpec`], from
//! the preset `ProcessSpec::console()` or [`model::demo_process`], with knobs for what Windows
//! varies: exited processes, handle tables that change during a capture, unopenable threads,
//! rights a handle may not be granted, ...), injected failures ([`model::faults`]: the codes
//! Windows is seen to return, typed, with only the effects such a failure has), the accounting
//! of calls ([`model::call_count`]) and of what is still alive ([`model::live`],
//! [`model::leaks`]).
//!
//! ```
//! # #[cfg(not(windows))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pss::{CaptureFlags, ErrorCode, LocalSnapshot, ProcessAccess};
//! use pss_tests::{Call, model::{ProcessSpec, faults}};
//!
//! let target = ProcessSpec::console().spawn();
//! let process = pss::open_process(target.pid(), ProcessAccess::all())?;
//! let _plan = faults::fail_nth(Call::PssCaptureSnapshot, 1, ErrorCode::NO_SYSTEM_RESOURCES)?;
//! let error = LocalSnapshot::capture(&process, CaptureFlags::DIAGNOSTICS).unwrap_err();
//! assert_eq!(error.code(), Some(ErrorCode::NO_SYSTEM_RESOURCES));
//! # Ok(()) }
//! # #[cfg(windows)] fn main() {}
//! ```
//!
//! **4. Portable checks** run everywhere and check what the host can: [`assert_no_leaks`],
//! [`expect`] (the model's accounting off Windows, nothing on Windows), [`require_pss!`] (skips,
//! saying so, where kernel32 has no PSS: Wine, Windows before 8.1). Functions are named by
//! [`Call`], not by strings. Misuse (a double free, a use after free, a free through the wrong
//! process, a snapshot given to `CloseHandle`) prints `pss-tests model: misuse in <function>:
//! ...` and aborts the test process, as Windows would crash or corrupt memory.
//!
//! The [`downstream/watchdog`](https://github.com/pss-rs/pss/tree/main/downstream/watchdog)
//! crate of the repository is a complete example.
//!
//! # What it offers
//!
//! | what | where | hosts |
//! |---|---|---|
//! | a process to capture, from one description | [`FixtureSpec`], [`FixtureProcess`] | all |
//! | a small child process (one thread, the console program's own) | [`TestProcess`] | all |
//! | leak and call checks | [`assert_no_leaks`], [`expect`], [`Call`] | all (they check nothing on Windows) |
//! | skipping where there is no PSS | [`require_pss!`], [`pss_present`] | all |
//! | thin raw helpers over `pss-sys`, for raw contract tests | [`capture`], [`query`], [`walk_all`], ... | all |
//! | model processes, the preset, the demo | [`model::ProcessSpec`], [`model::demo_process`] | off Windows |
//! | injected failures | [`model::faults`] | off Windows |
//! | call and leak accounting | [`model::calls`], [`model::call_count`], [`model::live`], [`model::leaks`] | off Windows |
//! | files `MiniDumpWriteDump` can write | [`model::create_file`] | off Windows |
//!
//! # What a green run proves, and what it does not
//!
//! It proves that the code under test uses `pss` correctly against a kernel32 that behaves as
//! the public evidence shows Windows does (decompiled Windows 11 ntdll and kernel, Microsoft's
//! samples, tests run on Windows) and, where nothing shows it, as the strictest reading of
//! Microsoft's pages: no leak, no double free, no call from the wrong place, every failure
//! Windows is seen to return handled. It does not prove that Windows behaves so where the
//! evidence is thin: every such choice is a row of the model's table, with its evidence grade
//! (see the `pss-model` crate's documentation: CONFIRMED, CHANGED, PLAUSIBLE, NO EVIDENCE). Run
//! the same tests on Windows too: tests that build their processes with [`FixtureSpec`] run
//! there unchanged; tests that use [`model`] are model tests.
//!
//! # Stability
//!
//! The kit follows the version of `pss`, and semantic versioning for its API (names, types,
//! signatures). The model's *behaviour* follows the evidence: when new evidence shows that
//! Windows does otherwise, the model changes in a minor version, and the changelog says which
//! row of its table moved and why. Tests that pass only because of a model choice graded NO
//! EVIDENCE are the ones to expect to change.

// The model-only module does not exist on Windows: there the docs' links to it are plain text
// (the host's docs, where it exists, check every link).
#![cfg_attr(windows, allow(rustdoc::broken_intra_doc_links))]

mod call;
mod fixture;
#[cfg(not(windows))]
pub mod model;
mod support;

pub use call::Call;
pub use fixture::{FixtureHandle, FixtureProcess, FixtureRegion, FixtureSpec, ObjectKind};
pub use support::*;
