//! `pssdump`: write a minidump of a process from a snapshot of it, as Microsoft's `pssdump.c`
//! sample does, without stopping the process for the length of the dump.
//!
//! ```text
//! pssdump [PID] FILE.dmp [--full]
//! ```
//!
//! Captures process `PID` (default: itself) with [`CaptureFlags::MINIDUMP`], VM-allocated as the
//! sample does, writes a small "threads and stacks" dump (or, with `--full`, all memory and the
//! metadata) to `FILE.dmp` with `MiniDumpWriteDump`, frees the snapshot, and prints what it
//! wrote. On hosts other than Windows it runs against the `pss-tests` model of kernel32 and
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

const USAGE: &str = "usage: pssdump [PID] FILE.dmp [--full]";

fn run() -> Result {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let full = match args.iter().position(|a| a == "--full") {
        Some(at) => {
            args.remove(at);
            true
        }
        None => false,
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

    let (dump_type, kind) = if full {
        (MinidumpType::FULL, "full")
    } else {
        (MinidumpType::THREADS_AND_STACKS, "threads-and-stacks")
    };
    // The same call on every host: CreateFileW creates the file, MiniDumpWriteDump fills it.
    snapshot.write_minidump_to_path(file, dump_type)?;
    snapshot.close()?;
    let bytes = std::fs::metadata(file)?.len();
    println!("wrote:   {file}: a {kind} dump, {bytes} bytes ({dump_type:?})");
    println!("freed:   the snapshot (PssFreeSnapshot)");
    Ok(())
}
