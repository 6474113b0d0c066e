//! The fuzz targets' corpus and findings, replayed on the host suite without the fuzzer,
//! through the same harness (`tests/fuzzing`, which `fuzz/fuzz_targets` include): the seed
//! corpus is what `fuzzing::seeds` describes, every committed corpus input passes both
//! targets' checks, and each finding of the fuzzer is a test of its own (its minimized input is
//! committed beside the corpus, in `fuzz/regressions`). `cargo xtask fuzz` fuzzes. Model-only.
#![cfg(not(windows))]

mod fuzzing;

use std::path::{Path, PathBuf};

use pss_tests::{close_handle, last_error, open_process};

#[global_allocator]
static HEAP: fuzzing::heap::Counting = fuzzing::heap::Counting;

/// A fuzz target: its corpus directory's name, and what it runs.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 2] = [("dump_writer", dump_writer), ("readers", readers)];

fn dump_writer(data: &[u8]) {
    let _ = fuzzing::dump_writer(data);
}

fn readers(data: &[u8]) {
    let _ = fuzzing::typed_readers(data);
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of a directory, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// The heap bounds are checked: the harness's allocator counts in this binary.
#[test]
fn the_counting_allocator_is_installed() {
    assert!(fuzzing::heap::installed());
    let (bytes, peak) = fuzzing::heap::measure(|| vec![0u8; 100_000]);
    assert!(peak >= 100_000, "a 100,000-byte vector counted {peak}");
    let ((), peak) = fuzzing::heap::measure(|| drop(bytes));
    assert_eq!(peak, 0, "a free is no growth");
}

/// Every seed decodes to itself, and the committed seed files are its bytes (`PSS_BLESS=1`
/// rewrites them). The seeds lay out x64 structures: checked on 64-bit hosts.
#[test]
#[cfg(target_pointer_width = "64")]
#[cfg_attr(
    miri,
    ignore = "reads the corpus files (Miri isolates the file system)"
)]
fn the_seed_corpus_is_current() {
    let bless = std::env::var_os("PSS_BLESS").is_some_and(|v| v == "1");
    for (name, seed) in fuzzing::seeds::seeds() {
        let bytes = seed.encode();
        assert_eq!(fuzzing::input::Input::decode(&bytes), seed, "seed {name}");
        for (target, _) in TARGETS {
            let path = fuzz_dir().join(format!("corpus/{target}/seed-{name}"));
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (PSS_BLESS=1 writes it)", path.display()));
            assert!(
                committed == bytes,
                "{} is not seed {name}'s bytes; PSS_BLESS=1 rewrites it",
                path.display()
            );
        }
    }
}

/// Every committed corpus input passes its target's checks (what `cargo xtask fuzz` replays,
/// here without the fuzzer's instrumentation).
#[test]
#[cfg_attr(
    miri,
    ignore = "reads the corpus files (Miri isolates the file system)"
)]
fn the_corpus_replays() {
    let mut replayed = 0;
    for (target, run) in TARGETS {
        for path in files(&fuzz_dir().join("corpus").join(target)) {
            let bytes = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            run(&bytes);
            replayed += 1;
        }
    }
    assert!(
        replayed >= 2 * fuzzing::seeds::seeds().len(),
        "{replayed} inputs"
    );
    pss_tests::assert_no_leaks();
}

/// Each seed reaches what it is there for: the dump writer and the readers see the threads,
/// modules, CodeView records, handles and entries it lays out, and the lying headers are named
/// as omissions (so a harness that silently did less would fail here).
#[test]
#[cfg(target_pointer_width = "64")]
#[cfg_attr(
    miri,
    ignore = "full dumps of a megabyte and 32,767-unit names take Miri many minutes; the regression tests below run under it"
)]
fn the_seeds_reach_what_they_describe() {
    use pss::Omission;
    let seeds: std::collections::BTreeMap<_, _> = fuzzing::seeds::seeds().into_iter().collect();
    let run = |name: &str| {
        let bytes = seeds[name].encode();
        let dumps = fuzzing::dump_writer(&bytes).expect("captured");
        let read = fuzzing::typed_readers(&bytes).expect("captured");
        (dumps, read)
    };
    let figures = |s: &pss::DumpSummary| (s.threads, s.modules, s.modules_with_codeview, s.handles);

    let (dumps, read) = run("demo");
    assert_eq!(figures(&dumps[0]), (4, 3, 3, 9));
    assert_eq!(figures(&dumps[1]), (4, 3, 3, 9));
    assert_eq!(
        [
            read.entries[0],
            read.entries[1],
            read.entries[2],
            read.entries[4]
        ],
        [4, 4, 9, 2]
    );
    assert!(read.main_image && read.bytes_read > 0);

    let (dumps, read) = run("raw-environment");
    assert_eq!(figures(&dumps[0]), (3, 2, 2, 1));
    assert!(
        read.main_image,
        "the PEB the input wrote names the main image"
    );
    // Up to the end of a stack, of another stack, the PEB's ImageBaseAddress, a read-only page.
    assert_eq!(read.bytes_read, 0x1000 + 0x800 + 8 + 0x1000);

    let (dumps, read) = run("hostile");
    assert_eq!((dumps[0].threads, dumps[0].handles), (6, 8));
    assert_eq!(
        [
            read.entries[0],
            read.entries[1],
            read.entries[2],
            read.entries[4]
        ],
        [6, 6, 8, 3]
    );

    let (dumps, _) = run("lying-headers");
    assert_eq!(
        figures(&dumps[0]),
        (1, 6, 1, 1),
        "only the NB10 record is whole"
    );
    let lies = dumps[0]
        .omissions
        .iter()
        .filter(|o| matches!(o, Omission::ModuleHeaders { .. }))
        .count();
    assert_eq!(lies, 5, "{:?}", dumps[0].omissions);

    let (dumps, read) = run("sparse");
    assert_eq!(figures(&dumps[0]), (5, 0, 0, 1));
    assert!(!read.main_image, "no PEB");
}

/// Finding (the hostile seed, before fuzzing): a context record whose `ContextFlags` claim
/// every bit (the model's hostile thread shape 1) went into the dump with the bits of other
/// architectures (`CONTEXT_i386`, `CONTEXT_ARM64`, ...) still set, and rust-minidump rejected
/// the thread's context. The writer now keeps the architecture's bit and the register groups
/// (the low byte) only.
#[test]
fn context_flags_of_other_architectures_are_not_written() {
    let summaries = fuzzing::dump_writer(include_bytes!(
        "../../fuzz/corpus/dump_writer/regression-context-flags"
    ))
    .expect("the process is captured");
    assert_eq!(summaries[0].threads, 2, "both threads, with their contexts");
}

/// `model::forget_freed`, which the fuzz targets call between cases: a closed handle is
/// forgotten (closing it again is an unknown handle, `ERROR_INVALID_HANDLE`, no longer a use
/// after close), while objects still alive stay usable and counted.
#[test]
fn the_model_forgets_what_was_freed_and_nothing_else() {
    use pss_tests::model::{ProcessSpec, forget_freed};
    let process = ProcessSpec::new().spawn();
    let closed = open_process(process.pid(), pss_sys::PROCESS_QUERY_INFORMATION).unwrap();
    close_handle(closed);
    let open = open_process(process.pid(), pss_sys::PROCESS_QUERY_INFORMATION).unwrap();
    forget_freed();
    // SAFETY: `closed` is a value the model issued and closed: after forget_freed it is no
    // handle at all, which CloseHandle reports (the call the test is about).
    assert_eq!(unsafe { pss_sys::CloseHandle(closed) }, 0);
    assert_eq!(last_error(), pss_sys::ERROR_INVALID_HANDLE);
    assert_eq!(
        pss_tests::model::live().handles,
        1,
        "the open handle is still counted"
    );
    close_handle(open);
    drop(process);
    pss_tests::assert_no_leaks();
}

/// Fixed by the dump writer's cycle detection (issue 21, item 1): a loader entry linked to itself with a
/// 65,534-byte `FullDllName` is followed `MAX_MODULES` times, keeping a copy of the name each
/// time: about 257 MiB held at once for a dump of a few KiB, against the harness's 4 MiB. The
/// input (built from the description, in the harness's format: a raw PEB whose loader
/// list is that one entry) is kept in `fuzz/regressions/`.
#[test]
fn a_loader_list_that_loops_holds_no_copy_per_turn() {
    let summaries = fuzzing::dump_writer(include_bytes!(
        "../../fuzz/regressions/dump_writer/loader-cycle-with-long-names"
    ))
    .expect("the process is captured");
    assert_eq!(summaries[0].modules, 0, "no image region: no module");
}
