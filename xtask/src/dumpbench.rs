//! The dump writer's cost, part of `cargo xtask bench`: instructions per dumped byte of a full
//! minidump of a model process with 256 MiB of committed memory, against a plain `io::copy` of
//! the same bytes out of the VA clone (the floor of the job: every byte must be read once), and
//! the writer's peak heap at 16 and at 256 MiB.
//!
//! The program is the pss-tests example `dumpbench`, built in release mode and run under
//! callgrind, counting inside `bench_dump_run` only (the kernel32 model included: its
//! `ReadProcessMemory` is the copy both variants make); the second of its two runs is measured.
//! Fails if the dump costs more than [`PER_BYTE_TARGET`] times the copy per byte, or if its peak
//! heap at 256 MiB exceeds its peak at 16 MiB (memory is streamed, never buffered whole).

use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dump's instructions per byte, at most this many times the copy's.
pub const PER_BYTE_TARGET: f64 = 1.10;
/// The dump measured, and the smaller one its heap is compared with.
const MIB: usize = 256;
const SMALL_MIB: usize = 16;
const EXE: &str = "target/release/examples/dumpbench";
const OUT: &str = "target/xtask/bench";

/// What the dump benchmark found.
pub struct Report {
    pub table: String,
    pub failures: Vec<String>,
    pub summary: String,
}

/// `variant=... bytes=N peak_heap=N`, the example's report line.
fn field(stdout: &str, name: &str) -> Result<u64> {
    let value = stdout
        .split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .ok_or_else(|| format!("dumpbench printed no {name}: {stdout}"))?;
    Ok(value.parse()?)
}

/// Runs `dumpbench variant mib` under callgrind: (bytes, instructions of the measured run).
fn instructions(variant: &str, mib: usize) -> Result<(u64, u64)> {
    let base = PathBuf::from(OUT).join(format!("callgrind-dump-{variant}-{mib}"));
    for n in 1..=2 {
        let _ = std::fs::remove_file(format!("{}.{n}", base.display()));
    }
    let stdout = run::output(
        Command::new("valgrind")
            .args([
                "--tool=callgrind",
                "--quiet",
                "--collect-atstart=no",
                "--toggle-collect=bench_dump_run",
                "--dump-after=bench_dump_run",
            ])
            .arg(format!("--callgrind-out-file={}", base.display()))
            .arg(EXE)
            .args([variant, &mib.to_string()]),
    )?;
    let measured = PathBuf::from(format!("{}.2", base.display()));
    let dump =
        std::fs::read_to_string(&measured).map_err(|e| format!("{}: {e}", measured.display()))?;
    let total = dump
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .ok_or("the callgrind dump has no total")?
        .trim()
        .parse()?;
    Ok((field(&stdout, "bytes")?, total))
}

/// Runs `dumpbench dump mib` natively: its peak heap in bytes.
fn peak_heap(mib: usize) -> Result<u64> {
    let stdout = run::output(Command::new(EXE).args(["dump", &mib.to_string()]))?;
    field(&stdout, "peak_heap")
}

/// Builds the example and measures.
pub fn measure() -> Result<Report> {
    crate::provision::require(&["valgrind"])?;
    run::run(run::cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "pss-tests",
        "--example",
        "dumpbench",
    ]))?;
    if !Path::new(EXE).exists() {
        return Err(format!("{EXE} was not built").into());
    }
    std::fs::create_dir_all(OUT)?;
    let (copied, copy) = instructions("copy", MIB)?;
    let (dumped, dump) = instructions("dump", MIB)?;
    if copied != dumped {
        return Err(format!("the copy read {copied} bytes, the dump {dumped}").into());
    }
    let per_byte = |n: u64| n as f64 / dumped.max(1) as f64;
    let ratio = per_byte(dump) / per_byte(copy);
    let (small, large) = (peak_heap(SMALL_MIB)?, peak_heap(MIB)?);
    let table = format!(
        "\nfull dump of {MIB} MiB ({dumped} bytes of memory): instructions per byte, the kernel32 model's included\n\
         {:<26} {:>12} {:>10}\n{:<26} {:>12} {:>10.3}\n{:<26} {:>12} {:>10.3}   {ratio:.3}x the copy\n\
         peak heap of the dump: {small} bytes at {SMALL_MIB} MiB, {large} bytes at {MIB} MiB\n",
        "variant",
        "instructions",
        "per byte",
        "io::copy from the clone",
        copy,
        per_byte(copy),
        "minidump().full_memory()",
        dump,
        per_byte(dump),
    );
    let mut failures = Vec::new();
    if ratio > PER_BYTE_TARGET {
        failures.push(format!(
            "a full dump costs {ratio:.3}x an io::copy of its memory per byte (target {PER_BYTE_TARGET:.2}x)"
        ));
    }
    if large > small {
        failures.push(format!(
            "the dump's peak heap grows with its size: {small} bytes at {SMALL_MIB} MiB, {large} at {MIB} MiB"
        ));
    }
    let summary = format!(
        "full dump of {MIB} MiB: {ratio:.3}x an io::copy of its memory per byte ({:.3} against {:.3} instructions), peak heap {large} bytes at {MIB} MiB as at {SMALL_MIB} MiB",
        per_byte(dump),
        per_byte(copy)
    );
    Ok(Report {
        table,
        failures,
        summary,
    })
}
