//! Forgetting freed objects, for long runs of independent cases in one process.
//!
//! The model remembers every handle value it freed (snapshots, markers, kernel handles), so that
//! a later use is reported as a use after free, naming the call that freed it. In a process
//! that runs case after case for hours (a fuzz target: hundreds of thousands of captures and
//! walks) that memory grows without bound, and its table grows, reallocating, in the middle of
//! whatever call inserts into it: a heap measurement around a `pss` call then sees the model's
//! table, not `pss`.

use super::kernel::{self, Object};

/// Forgets every freed object the model remembers, keeping its table's capacity (so the table
/// does not grow again until more objects are alive and freed at once than ever before).
///
/// For a process that runs independent cases one after another, such as a fuzz target: call it
/// between cases, when nothing an earlier case freed is used again. A use of a forgotten value
/// is still caught, as a value that was never issued (misuse for a snapshot or marker,
/// `ERROR_INVALID_HANDLE` for a kernel handle) rather than as a use after free. Objects still
/// alive, and leak accounting, are untouched.
pub fn forget_freed() {
    kernel::lock()
        .objects
        .retain(|_, object| !matches!(object, Object::Freed { .. }));
}
