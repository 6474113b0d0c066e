//! `pssdump`: write a minidump of a process from a snapshot of it, as Microsoft's `pssdump.c`
//! sample does, without stopping the process for the length of the dump.
//!
//! ```text
//! pssdump [PID] FILE.dmp [--full] [--writer dbghelp|pss|both]
//! ```
//!
//! Captures process `PID` (default: itself) with [`CaptureFlags::MINIDUMP`], writes a small
//! "threads and stacks" dump (or, with `--full`, all memory and the metadata) to `FILE.dmp`,
//! frees the snapshot, and prints what it wrote. The writer is dbghelp's `MiniDumpWriteDump`
//! (the default, as the sample) or `pss`'s own (`--writer pss`, no dbghelp); `--writer both`
//! writes both dumps of the same snapshot, dbghelp's to `FILE.dmp` and pss's to `FILE.pss.dmp`,
//! for comparing them. On hosts other than Windows it runs against the `pss-tests` model of kernel32 and
//! dbghelp, on the model's demo process, and says so; `cargo xtask dump` runs it and reads the
//! file back with an independent reader.

use std::error::Error;
use std::process::ExitCode;

use pss::{CaptureFlags, LocalSnapshot, MinidumpType, ProcessAccess};

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

#[path = "common/target.rs"]
mod target;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pssdump: {error}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: pssdump [PID] FILE.dmp [--full] [--writer dbghelp|pss|both]";

/// Who writes the dump.
#[derive(Clone, Copy, PartialEq)]
enum Writer {
    Dbghelp,
    Pss,
    Both,
}

fn run() -> Result {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let full = match args.iter().position(|a| a == "--full") {
        Some(at) => {
            args.remove(at);
            true
        }
        None => false,
    };
    let writer = match args.iter().position(|a| a == "--writer") {
        Some(at) if at + 1 < args.len() => {
            let writer = match args.remove(at + 1).as_str() {
                "dbghelp" => Writer::Dbghelp,
                "pss" => Writer::Pss,
                "both" => Writer::Both,
                other => return Err(format!("unknown writer {other}; {USAGE}").into()),
            };
            args.remove(at);
            writer
        }
        Some(_) => return Err(USAGE.into()),
        None => Writer::Dbghelp,
    };
    let (pid, file) = match args.as_slice() {
        [file] => (None, file.as_str()),
        [pid, file] => (Some(pid.as_str()), file.as_str()),
        _ => return Err(USAGE.into()),
    };
    let target = target::choose(pid)?;
    println!("pssdump: a minidump from a process snapshot");
    println!("kernel:  {}", target::KERNEL);
    println!("target:  {}", target.describe());
    if !pss::is_available() {
        return Err("this kernel32 has no Process Snapshotting API \
                    (it needs Windows 8.1 or later; Wine has none)"
            .into());
    }

    let flags = CaptureFlags::MINIDUMP;
    let process = pss::open_process(target.pid(), ProcessAccess::for_capture(flags))?;
    let snapshot = LocalSnapshot::capture(&process, flags)?;
    drop(process); // the snapshot needs no handle to the process
    let threads = snapshot.thread_information()?.threads_captured;
    let regions = snapshot.region_count()?;
    let handles = snapshot.handle_count()?;
    println!("capture: {threads} threads, {regions} regions, {handles} handles");

    let kind = if full { "full" } else { "threads-and-stacks" };
    if writer != Writer::Pss {
        let dump_type = if full {
            MinidumpType::FULL
        } else {
            MinidumpType::THREADS_AND_STACKS
        };
        // The same call on every host: CreateFileW creates the file, MiniDumpWriteDump fills it.
        snapshot.write_minidump_to_path(file, dump_type)?;
        let bytes = std::fs::metadata(file)?.len();
        println!("wrote:   {file}: a {kind} dump by dbghelp, {bytes} bytes ({dump_type:?})");
    }
    if writer != Writer::Dbghelp {
        let path = if writer == Writer::Both {
            format!("{}.pss.dmp", file.strip_suffix(".dmp").unwrap_or(file))
        } else {
            file.to_string()
        };
        let dump = snapshot.minidump();
        let dump = if full { dump.full_memory() } else { dump };
        let summary = dump.write_to_path(&path)?;
        println!(
            "wrote:   {path}: a {kind} dump by pss, {} bytes ({} threads, {} modules, {} handles, {} memory ranges)",
            summary.bytes, summary.threads, summary.modules, summary.handles, summary.memory_ranges
        );
        for omission in &summary.omissions {
            println!("omitted: {omission}");
        }
    }
    snapshot.close()?;
    println!("freed:   the snapshot (PssFreeSnapshot)");
    Ok(())
}
