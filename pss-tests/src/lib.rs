//! A test kit for code that uses [`pss`]: on hosts that are not Windows (Linux, macOS), a
//! dependency on this crate makes `pss` run against a model of kernel32's Process Snapshotting
//! API, with model processes to capture, injected faults, misuse detection and call and leak
//! accounting; on Windows, the same helpers run over the real kernel32.
//!
//! # Using it
//!
//! Add it as a dev-dependency, nothing else:
//!
//! ```toml
//! [dependencies]
//! pss = "0.1"
//!
//! [dev-dependencies]
//! pss-tests = "0.1"
//! ```
//!
//! No code has to name it to link: it turns on `pss`'s feature `model`, with which `pss`
//! links the model (the `pss-model` crate) off Windows, for test builds only (a
//! dev-dependency's features do not reach normal builds). On Windows the feature and the model
//! do nothing: tests run against the real kernel32. Name it where a test builds a model process:
//!
//! ```no_run
//! # #[cfg(not(windows))]
//! # fn main() -> pss::Result<()> {
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//! use pss_tests::model::{HandleSpec, ProcessSpec, RegionSpec, ThreadSpec};
//!
//! let target = ProcessSpec::new()
//!     .thread(ThreadSpec::new(4).registers(0x7ff6_0000_1040, 0xc0_0000, 0xc0_0080))
//!     .handle(HandleSpec::event(0x8, true, false).named(r"\BaseNamedObjects\ready"))
//!     .region(RegionSpec::private(0x10_0000, 0x1000))
//!     .spawn();
//! let process = pss::open_process(target.pid(), ProcessAccess::for_capture(CaptureFlags::DIAGNOSTICS))?;
//! let snapshot = LocalSnapshot::capture(&process, CaptureFlags::DIAGNOSTICS)?;
//! // ... the code under test reads `snapshot` ...
//! drop((snapshot, process));
//! pss_tests::assert_no_leaks(); // nothing this test created is left
//! # Ok(()) }
//! # #[cfg(windows)] fn main() {}
//! ```
//!
//! # What it offers
//!
//! - `model` (off Windows): processes to capture (`model::ProcessSpec` with its
//!   `ThreadSpec`s, `HandleSpec`s,
//!   `RegionSpec`s and the knobs for what Windows varies: exited processes,
//!   handle tables that change during a capture, unopenable threads, rights a handle may not
//!   be granted, ...), whose memory is worth dumping (PE images with CodeView records, thread
//!   stacks that chain through frame pointers, TEBs, a PEB with its loader list); a complete
//!   one, `model::demo_process`; injected failures
//!   (`model::faults`: the codes Windows is seen to return, with only the effects such a
//!   failure has); per-thread accounting of kernel32 calls (`model::calls`,
//!   `model::call_count`) and of what is still alive (`model::live`, `model::leaks`);
//!   files `MiniDumpWriteDump` can write (`model::create_file`). Misuse (a double free, a use
//!   after free, a free through the wrong process, a snapshot given to `CloseHandle`) prints
//!   `pss-tests model: misuse in <function>: ...` and aborts the test process, as Windows would
//!   crash or corrupt memory.
//! - On every host: [`TestProcess`] (a model process, or a child process on Windows),
//!   [`assert_no_leaks`], [`expect`] (assertions on the model's accounting that check nothing
//!   on Windows), [`require_pss!`] (skips, saying so, where kernel32 has no PSS: Wine), and thin
//!   raw helpers over `pss-sys` ([`capture`], [`query`], [`walk_all`], ...).
//!
//! # What a green run proves, and what it does not
//!
//! It proves that the code under test uses `pss` correctly against a kernel32 that behaves as
//! the public evidence shows Windows does (decompiled Windows 11 ntdll and kernel, Microsoft's
//! samples, tests run on Windows) and, where nothing shows it, as the strictest reading of
//! Microsoft's pages: no leak, no double free, no call from the wrong place, every failure
//! Windows is seen to return handled. It does not prove that Windows behaves so where the
//! evidence is thin: every such choice is a row of the model's table, with its evidence grade
//! (see the `pss-model` crate's documentation: CONFIRMED, CHANGED, PLAUSIBLE, NO EVIDENCE). Run the
//! same tests on Windows too; they are written to run there unchanged.
//!
//! # Stability
//!
//! The kit follows the version of `pss`, and semantic versioning for its API (names, types,
//! signatures). The model's *behaviour* follows the evidence: when new evidence shows that
//! Windows does otherwise, the model changes in a minor version, and the changelog says which
//! row of its table moved and why. Tests that pass only because of a model choice graded NO
//! EVIDENCE are the ones to expect to change.

/// The kernel32 model (the `pss-model` crate), off Windows.
#[cfg(not(windows))]
pub use pss_model as model;

mod support;
pub use support::*;
