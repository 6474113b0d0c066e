//! Test support for `pss`: a model of kernel32's Process Snapshotting API for hosts that are
//! not Windows (the `model` module, compiled only there), and helpers the contract suite in
//! `tests/` uses on every platform.
//!
//! On Windows the same test binaries link the real kernel32: the model is not compiled, and
//! tests that need PSS report `skipped: ...` where kernel32 has none (Wine).

/// The kernel32 model (the `pss-model` crate), off Windows.
#[cfg(not(windows))]
pub use pss_model as model;

mod support;
pub use support::*;
