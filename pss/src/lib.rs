//! Safe interface to the Windows Process Snapshotting API (PSS).
//!
//! Work in progress: this stage has the handle types; the snapshot types follow. Until then,
//! use [`pss_sys`] for the raw bindings.
//!
//! [Process Snapshotting](https://learn.microsoft.com/en-us/previous-versions/windows/desktop/proc_snap/process-snapshotting-portal)

pub mod handle;

/// The raw bindings this crate is built on ([`pss_sys`]).
pub use pss_sys as sys;
