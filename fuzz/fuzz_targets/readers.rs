//! Fuzz target: every typed reader pss has over a snapshot (walks through every accessor, the
//! queries, `main_image`, the VA clone's readers) of a model process built from the input; see
//! `pss-tests/tests/fuzzing`.
#![no_main]

// The harness, shared with the host suite's `tests/fuzz_regressions.rs`; this target uses
// the readers' half of it.
#[allow(dead_code)]
#[path = "../../pss-tests/tests/fuzzing/mod.rs"]
mod fuzzing;

#[global_allocator]
static HEAP: fuzzing::heap::Counting = fuzzing::heap::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzzing::typed_readers(data);
});
