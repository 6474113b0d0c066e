//! `cargo xtask dump [PID]`: the pssdump example end to end, then the dump read back. It
//! captures a process for a minidump, writes a full dump to `target/xtask/pssdump.dmp` through
//! `MiniDumpWriteDump`, frees the snapshot, and then an independent reader (rust-minidump, in
//! the pss-tests `dumpsummary` example) prints what the file holds. On Windows: process PID (or
//! pssdump itself), real kernel32 and dbghelp; elsewhere the pss-tests model's demo process,
//! which pssdump's output says on its second line.

use crate::{Result, run};

/// Where the dump goes.
pub const DUMP: &str = "target/xtask/pssdump.dmp";

pub fn main(args: &[String]) -> Result {
    let pid: Vec<&String> = args.iter().filter(|a| a.as_str() != "--").collect();
    if pid.len() > 1 {
        return Err("usage: cargo xtask dump [PID]".into());
    }
    let (written, summary) = write_and_read(pid.first().map(|p| p.as_str()), None)?;
    print!("{written}\n{summary}");
    Ok(())
}

/// Runs pssdump (a full dump of `pid`, or the default target) and dumpsummary on the file;
/// returns what each printed.
pub fn write_and_read(pid: Option<&str>, target: Option<&str>) -> Result<(String, String)> {
    std::fs::create_dir_all("target/xtask")?;
    let _ = std::fs::remove_file(DUMP);
    let mut pssdump = run::cargo();
    pssdump.args([
        "run",
        "--quiet",
        "-p",
        "pss",
        "--features",
        "minidump,dump-writer",
        "--example",
        "pssdump",
    ]);
    if let Some(target) = target {
        pssdump.args(["--target", target]);
    }
    pssdump.arg("--").args(pid).args([DUMP, "--full"]);
    let written = run::output(&mut pssdump)?;
    let summary = run::output(run::cargo().args([
        "run",
        "--quiet",
        "-p",
        "pss-tests",
        "--example",
        "dumpsummary",
        "--",
        DUMP,
    ]))?;
    Ok((written, summary))
}
