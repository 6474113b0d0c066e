//! `cargo xtask dump [PID]`: the pssdump example end to end, both writers side by side. pssdump
//! captures a process for a minidump and writes, from that one snapshot, dbghelp's dump
//! (`MiniDumpWriteDump`) and pss's own (`LocalSnapshot::minidump`), full
//! (`target/xtask/pssdump.dmp`, `pssdump.pss.dmp`) and small (`pssdump-small*.dmp`); an
//! independent reader (rust-minidump, the pss-tests `dumpsummary` example) prints what the full
//! dbghelp dump holds, and `dumpdiff` compares each pair stream by stream: threads and their
//! contexts and stacks, modules and their CodeView records, memory ranges and bytes, handles.
//! A difference the pss docs do not explain fails the task. On Windows: process PID (or pssdump
//! itself), real kernel32 and dbghelp; elsewhere the kernel32 model's demo process and its
//! stand-in for dbghelp, which pssdump's output says on its second line.

use crate::{Result, run};

/// Where the dumps go: dbghelp's full dump (pss's is `pssdump.pss.dmp`).
pub const DUMP: &str = "target/xtask/pssdump.dmp";
const SMALL: &str = "target/xtask/pssdump-small.dmp";

pub fn main(args: &[String]) -> Result {
    let pid: Vec<&String> = args.iter().filter(|a| a.as_str() != "--").collect();
    if pid.len() > 1 {
        return Err("usage: cargo xtask dump [PID]".into());
    }
    let report = write_and_compare(pid.first().map(|p| p.as_str()), None)?;
    print!(
        "{}\n{}\n{}",
        report.written, report.summary, report.comparisons
    );
    Ok(())
}

/// What `write_and_compare` saw.
pub struct Report {
    /// What pssdump printed (both runs).
    pub written: String,
    /// What dumpsummary printed of dbghelp's full dump.
    pub summary: String,
    /// What dumpdiff printed for the full and the small pair.
    pub comparisons: String,
    /// Streams compared as the same, and as differing in ways the docs explain.
    pub same: usize,
    pub explained: usize,
}

/// The path pss's dump of `dbghelp_path` is written to (pssdump's `--writer both`).
fn pss_path(dbghelp_path: &str) -> String {
    format!("{}.pss.dmp", dbghelp_path.trim_end_matches(".dmp"))
}

/// Runs pssdump (both writers, full and small, of `pid` or the default target), dumpsummary
/// on dbghelp's full dump, and dumpdiff on each pair; fails on a difference not explained.
pub fn write_and_compare(pid: Option<&str>, target: Option<&str>) -> Result<Report> {
    std::fs::create_dir_all("target/xtask")?;
    let mut written = String::new();
    for (path, full) in [(DUMP, true), (SMALL, false)] {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(pss_path(path));
        let mut pssdump = run::cargo();
        pssdump.args([
            "run",
            "--quiet",
            "-p",
            "pss",
            "--features",
            "dbghelp,dump-writer",
            "--example",
            "pssdump",
        ]);
        if let Some(target) = target {
            pssdump.args(["--target", target]);
        }
        pssdump.arg("--").args(pid).args([path, "--writer", "both"]);
        if full {
            pssdump.arg("--full");
        }
        written.push_str(&run::output(&mut pssdump)?);
    }
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
    let mut comparisons = String::new();
    for path in [DUMP, SMALL] {
        let mut diff = run::cargo();
        diff.args([
            "run",
            "--quiet",
            "-p",
            "pss-tests",
            "--example",
            "dumpdiff",
            "--",
        ])
        .args([path, &pss_path(path)]);
        eprintln!(
            "$ cargo run -p pss-tests --example dumpdiff -- {path} {}",
            pss_path(path)
        );
        let out = diff.output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprint!("{text}");
        if !out.status.success() {
            let differs: Vec<&str> = text.lines().filter(|l| l.contains("DIFFERS")).collect();
            return Err(format!(
                "dbghelp's and pss's dumps of one snapshot differ where the docs explain nothing: {}",
                if differs.is_empty() {
                    String::from_utf8_lossy(&out.stderr).trim().to_string()
                } else {
                    differs.join("; ")
                }
            )
            .into());
        }
        comparisons.push_str(&text);
    }
    // dumpdiff's lines: the stream in 12 columns, a space, the verdict in 9.
    let count = |word: &str| {
        comparisons
            .lines()
            .filter(|l| l.get(13..22).map(str::trim) == Some(word))
            .count()
    };
    let (same, explained) = (count("same"), count("explained"));
    Ok(Report {
        written,
        summary,
        comparisons,
        same,
        explained,
    })
}
