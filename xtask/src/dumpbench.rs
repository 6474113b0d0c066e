//! The dump writer's cost, part of `cargo xtask bench`: instructions per dumped byte of a full
//! minidump of a model process with 256 MiB of committed memory, written strictly forward into
//! a destination that implements only `Write`, against a plain `io::copy` of the same bytes out
//! of the VA clone (the floor of the job: every byte must be read once); the same two through
//! a flate2 encoder (64 MiB: compression under callgrind is slow, and the cost per byte does
//! not depend on the size), with the compressor's own instructions counted apart and not
//! against the writer; the writer's peak heap at 16 and at 256 MiB, and with the encoder at 16
//! and 64 MiB; and, for the README, the size of each profile's dump of the service process
//! with a 256 MiB heap.
//!
//! The program is the pss-tests example `dumpbench`, built in release mode and run under
//! callgrind, counting inside `bench_dump_run` only (the kernel32 model included: its
//! `ReadProcessMemory` is the copy both variants make), or inside `bench_compress` only (every
//! call into the encoder); the second of its two runs is measured. Fails if the dump costs more
//! than [`PER_BYTE_TARGET`] times the copy per byte, plain or compressed (the compressor's
//! instructions taken out of both), or if a peak heap at the larger size exceeds the one at the
//! smaller (memory is streamed, never buffered whole).

use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dump's instructions per byte, at most this many times the copy's.
pub const PER_BYTE_TARGET: f64 = 1.10;
/// The dump measured, and the smaller one its heap is compared with.
const MIB: usize = 256;
const SMALL_MIB: usize = 16;
/// The compressed dump measured.
const COMPRESSED_MIB: usize = 64;
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

/// Runs `dumpbench variant mib` under callgrind, counting inside `function`: (bytes,
/// instructions of the measured run).
fn instructions(variant: &str, mib: usize, function: &str) -> Result<(u64, u64)> {
    let base = PathBuf::from(OUT).join(format!("callgrind-dump-{variant}-{mib}-{function}"));
    for n in 1..=2 {
        let _ = std::fs::remove_file(format!("{}.{n}", base.display()));
    }
    let stdout = run::output(
        Command::new("valgrind")
            .args([
                "--tool=callgrind",
                "--quiet",
                "--collect-atstart=no",
                &format!("--toggle-collect={function}"),
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

/// Runs `dumpbench variant mib` natively: its peak heap in bytes.
fn peak_heap(variant: &str, mib: usize) -> Result<u64> {
    let stdout = run::output(Command::new(EXE).args([variant, &mib.to_string()]))?;
    field(&stdout, "peak_heap")
}

/// Runs `dumpbench profiles 256` natively: `profile=NAME bytes=N ...` lines.
fn profiles() -> Result<String> {
    let stdout = run::output(Command::new(EXE).args(["profiles", &MIB.to_string()]))?;
    let mut sizes = Vec::new();
    for line in stdout.lines() {
        let name = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("profile="))
            .ok_or_else(|| format!("dumpbench printed no profile: {line}"))?;
        sizes.push(format!("{name} {}", field(line, "bytes")?));
    }
    Ok(sizes.join(", "))
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
    let (copied, copy) = instructions("copy", MIB, "bench_dump_run")?;
    let (dumped, dump) = instructions("dump", MIB, "bench_dump_run")?;
    if copied != dumped {
        return Err(format!("the copy read {copied} bytes, the dump {dumped}").into());
    }
    let per_byte = |n: u64| n as f64 / dumped.max(1) as f64;
    let ratio = per_byte(dump) / per_byte(copy);

    let (z_copied, z_copy) = instructions("copy-deflate", COMPRESSED_MIB, "bench_dump_run")?;
    let (_, z_copy_compressor) = instructions("copy-deflate", COMPRESSED_MIB, "bench_compress")?;
    let (z_dumped, z_dump) = instructions("dump-deflate", COMPRESSED_MIB, "bench_dump_run")?;
    let (_, z_dump_compressor) = instructions("dump-deflate", COMPRESSED_MIB, "bench_compress")?;
    if z_copied != z_dumped {
        return Err(format!("the copy read {z_copied} bytes, the dump {z_dumped}").into());
    }
    let z_per_byte = |n: u64| n as f64 / z_dumped.max(1) as f64;
    let z_copy_own = z_copy.saturating_sub(z_copy_compressor);
    let z_dump_own = z_dump.saturating_sub(z_dump_compressor);
    let z_ratio = z_per_byte(z_dump_own) / z_per_byte(z_copy_own);

    let (small, large) = (peak_heap("dump", SMALL_MIB)?, peak_heap("dump", MIB)?);
    let (z_small, z_large) = (
        peak_heap("dump-deflate", SMALL_MIB)?,
        peak_heap("dump-deflate", COMPRESSED_MIB)?,
    );
    let profiles = profiles()?;
    let table = format!(
        "\nfull dump of {MIB} MiB ({dumped} bytes of memory), strictly forward into a Write-only sink: \
         instructions per byte, the kernel32 model's included\n\
         {:<34} {:>12} {:>10}\n{:<34} {:>12} {:>10.3}\n{:<34} {:>12} {:>10.3}   {ratio:.3}x the copy\n\
         \ncompressed (flate2, fastest level, pure Rust), {COMPRESSED_MIB} MiB ({z_dumped} bytes of memory): \
         the compressor's own instructions counted apart\n\
         {:<34} {:>12} {:>12} {:>12} {:>10}\n\
         {:<34} {:>12} {:>12} {:>12} {:>10.3}   compressor {:.3} per byte\n\
         {:<34} {:>12} {:>12} {:>12} {:>10.3}   compressor {:.3} per byte, {z_ratio:.3}x the copy\n\
         \npeak heap of the dump: {small} bytes at {SMALL_MIB} MiB, {large} bytes at {MIB} MiB; \
         with the encoder: {z_small} bytes at {SMALL_MIB} MiB, {z_large} bytes at {COMPRESSED_MIB} MiB\n\
         profiles of the service process ({MIB} MiB heap, four images in sections), bytes: {profiles}\n",
        "variant",
        "instructions",
        "per byte",
        "io::copy from the clone",
        copy,
        per_byte(copy),
        "minidump().full_memory()",
        dump,
        per_byte(dump),
        "variant",
        "total",
        "compressor",
        "without it",
        "per byte",
        "io::copy into the encoder",
        z_copy,
        z_copy_compressor,
        z_copy_own,
        z_per_byte(z_copy_own),
        z_per_byte(z_copy_compressor),
        "full_memory() into the encoder",
        z_dump,
        z_dump_compressor,
        z_dump_own,
        z_per_byte(z_dump_own),
        z_per_byte(z_dump_compressor),
    );
    let mut failures = Vec::new();
    if ratio > PER_BYTE_TARGET {
        failures.push(format!(
            "a full dump costs {ratio:.3}x an io::copy of its memory per byte (target {PER_BYTE_TARGET:.2}x)"
        ));
    }
    if z_ratio > PER_BYTE_TARGET {
        failures.push(format!(
            "a full dump into a compressor costs {z_ratio:.3}x an io::copy into it per byte, the \
             compressor's own instructions apart (target {PER_BYTE_TARGET:.2}x)"
        ));
    }
    if large > small {
        failures.push(format!(
            "the dump's peak heap grows with its size: {small} bytes at {SMALL_MIB} MiB, {large} at {MIB} MiB"
        ));
    }
    if z_large > z_small {
        failures.push(format!(
            "the compressed dump's peak heap grows with its size: {z_small} bytes at {SMALL_MIB} MiB, \
             {z_large} at {COMPRESSED_MIB} MiB"
        ));
    }
    let summary = format!(
        "full dump of {MIB} MiB: {ratio:.3}x an io::copy of its memory per byte ({:.3} against {:.3} \
         instructions), {z_ratio:.3}x into a compressor (its own {:.3} per byte apart); peak heap \
         {large} bytes at {MIB} MiB as at {SMALL_MIB} MiB",
        per_byte(dump),
        per_byte(copy),
        z_per_byte(z_dump_compressor),
    );
    Ok(Report {
        table,
        failures,
        summary,
    })
}
