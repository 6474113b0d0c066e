//! What `PssQuerySnapshot` returns, one type per information class (the query methods are in
//! `query.rs`).

mod exit;
mod handle_trace;
mod performance;
mod process;
mod thread;
mod va_clone;

pub use exit::ExitStatus;
pub use handle_trace::HandleTrace;
pub use performance::{CaptureCost, PerformanceCounters};
pub use process::{MemoryCounters, ProcessFlags, ProcessInformation};
pub use thread::ThreadInformation;
pub use va_clone::VaClone;
