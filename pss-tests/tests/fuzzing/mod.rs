//! The fuzz harness: bytes → a model process → every reader `pss` has over target memory →
//! checks. Shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`, which include this directory
//! with `#[path]`) and by `tests/fuzz_regressions.rs`, which replays the committed corpus and
//! every finding through the same code on the host suite, without the fuzzer.
//!
//! An input ([`input::Input`]) describes a model process whose PEB, loader list, TEBs, PE
//! headers and debug directories, stacks and context records come from the fuzzer's bytes
//! (written into its memory as raw patches, so the fuzzer mutates them freely), and whose
//! walks may hand out the model's hostile entries ([`process`]). Two targets:
//!
//! - [`dump_writer`]: a small and a full dump by `pss`'s writer ([`dump`]);
//! - [`typed_readers`]: every walk through every accessor, the queries, `main_image` and the VA
//!   clone's readers ([`readers`]).
//!
//! A finding is a panic: of `pss` itself, or of a check (the writer failed; rust-minidump
//! cannot read the dump; the dump disagrees with its summary or with the clone; the ways of
//! reading a walk disagree; the heap held at once exceeds [`heap::HEAP_BOUND`]; the model
//! reports a leak). The model aborts the process on a misuse of kernel32, which is a finding
//! too: the harness itself never misuses it.

pub mod dump;
pub mod heap;
pub mod input;
pub mod process;
pub mod readers;
pub mod seeds;

use input::Input;
use process::Snapshot;

/// The dump writer's target: both dumps of the input's process, read back and checked. Their
/// summaries (small, full), or `None` if the process could not be captured.
pub fn dump_writer(data: &[u8]) -> Option<Vec<pss::DumpSummary>> {
    let input = Input::decode(data);
    let summaries = process::capture(&input).map(|captured| match &captured.snapshot {
        Snapshot::Heap(s) => dump::check(s, &input, &captured.tids),
        Snapshot::Vm(s) => dump::check(s, &input, &captured.tids),
    });
    no_leaks();
    summaries
}

/// The readers' target: every typed reader over the input's process, checked. What was read,
/// or `None` if the process could not be captured.
pub fn typed_readers(data: &[u8]) -> Option<readers::Readings> {
    let input = Input::decode(data);
    let read = process::capture(&input).map(|captured| match &captured.snapshot {
        Snapshot::Heap(s) => readers::check(s, &input),
        Snapshot::Vm(s) => readers::check(s, &input),
    });
    no_leaks();
    read
}

/// Everything the run created (snapshots, markers, handles, the process) is gone.
fn no_leaks() {
    let leaks = pss_tests::model::leaks();
    assert!(leaks.is_empty(), "left behind: {leaks:?}");
}
