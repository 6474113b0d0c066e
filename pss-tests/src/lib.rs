//! Test support for pss: a model of kernel32's Process Snapshotting API for non-Windows hosts,
//! and the contract suite in `tests/`. Work in progress.
