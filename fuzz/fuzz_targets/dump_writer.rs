//! Fuzz target: pss's minidump writer (a small and a full dump) over a model process built
//! from the input, each dump read back with rust-minidump; see `pss-tests/tests/fuzzing`.
#![no_main]

// The harness, shared with the host suite's `tests/fuzz_regressions.rs`; this target uses
// the dump writer's half of it.
#[allow(dead_code)]
#[path = "../../pss-tests/tests/fuzzing/mod.rs"]
mod fuzzing;

#[global_allocator]
static HEAP: fuzzing::heap::Counting = fuzzing::heap::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzzing::dump_writer(data);
    // Nothing of this case is used again; forgotten, the model's memory of what it freed stays
    // as small as one case makes it (else it grows with every case, and its table reallocates
    // inside the calls whose heap the harness bounds).
    pss_tests::model::forget_freed();
});
