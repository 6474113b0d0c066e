//! Safe interface to the Windows Process Snapshotting API (PSS).
//!
//! Work in progress: the ownership-typed snapshot types arrive with the next issues. Until
//! then, use [`pss_sys`] for the raw bindings.
//!
//! [Process Snapshotting](https://learn.microsoft.com/en-us/previous-versions/windows/desktop/proc_snap/process-snapshotting-portal)

pub use pss_sys as sys;
