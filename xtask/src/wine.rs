//! `cargo xtask wine`: the load-and-link tier. Builds the `x86_64-pc-windows-gnu` test binaries
//! and runs each under Wine in a private prefix under `target/wine/`.
//!
//! Two facts shape it. Wine 8 cannot start any Rust >= 1.78 program, because its
//! bcryptprimitives.dll lacks `ProcessPrng`: a small replacement built here with mingw-w64
//! (`xtask/wine/bcryptprimitives.c`) goes into the prefix. And Wine 8 has no PSS at all, so the
//! tests that need it print `skipped: ...` and return; those lines are counted and reported as
//! skipped, not passed. A binary that prints no `test result:` line (as Wine does when it cannot
//! run a program, exiting 0) is a failure.

use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "x86_64-pc-windows-gnu";
const PRNG_SOURCE: &str = "xtask/wine/bcryptprimitives.c";

pub fn main(args: &[String]) -> Result {
    crate::flags(args, [])?;
    let summary = run_tier()?;
    eprintln!("wine: {summary}");
    Ok(())
}

/// Tests counted across every binary.
#[derive(Default)]
pub struct Summary {
    pub binaries: usize,
    pub passed: usize,
    pub skipped: usize,
    pub ignored: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} binaries: {} passed, {} skipped (no PSS), {} ignored (model choices)",
            self.binaries, self.passed, self.skipped, self.ignored
        )
    }
}

pub fn run_tier() -> Result<Summary> {
    let prefix = prepare_prefix()?;
    let binaries = run::build_tests(TARGET)?;
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    for exe in &binaries {
        match run_binary(&prefix, exe) {
            Ok((passed, skipped, ignored)) => {
                summary.passed += passed - skipped;
                summary.skipped += skipped;
                summary.ignored += ignored;
            }
            Err(error) => failures.push(format!("{}: {error}", exe.display())),
        }
        summary.binaries += 1;
    }
    if failures.is_empty() {
        Ok(summary)
    } else {
        Err(failures.join("\n").into())
    }
}

/// The doc tests for the Windows target: each compiled (`compile_fail` ones refused), and the
/// runnable ones (pure computations: no doc example that needs PSS is run) run under Wine as
/// cargo's target runner.
pub fn doctests() -> Result<String> {
    let prefix = prepare_prefix()?;
    let mut test = run::cargo();
    test.args([
        "test",
        "--workspace",
        "--exclude",
        "xtask",
        "--doc",
        "--target",
        TARGET,
    ])
    .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", "wine");
    wine_env(&mut test, &prefix);
    let out = run::output(&mut test)?;
    let passed: usize = out
        .lines()
        .filter(|line| line.starts_with("test result: ok."))
        .filter_map(|line| count_before(line, " passed"))
        .sum();
    Ok(format!("{passed} doc tests, the runnable ones under Wine"))
}

/// Runs one libtest binary; returns (tests passed, of which skipped, tests ignored).
fn run_binary(prefix: &Path, exe: &Path) -> Result<(usize, usize, usize)> {
    let mut cmd = Command::new("timeout");
    cmd.args(["600", "wine"])
        .arg(exe)
        .args(["--nocapture", "--test-threads=1"]);
    wine_env(&mut cmd, prefix);
    eprintln!("$ wine {} --nocapture --test-threads=1", exe.display());
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stdout}{stderr}");
    let result = stdout
        .lines()
        .find(|line| line.starts_with("test result:"))
        .ok_or_else(|| {
            format!(
                "no `test result:` line (exit {}): the binary did not run",
                out.status
            )
        })?;
    if !out.status.success() || !result.starts_with("test result: ok.") {
        return Err(format!("{result} (exit {})", out.status).into());
    }
    let passed = count_before(result, " passed").ok_or("unreadable `test result:` line")?;
    let ignored = count_before(result, " ignored").ok_or("unreadable `test result:` line")?;
    let skipped = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.starts_with("skipped: "))
        .count();
    Ok((passed, skipped, ignored))
}

/// `test result: ok. 4 passed; ...` -> 4 for `" passed"`.
fn count_before(line: &str, word: &str) -> Option<usize> {
    let head = &line[..line.find(word)?];
    head.rsplit(' ').next()?.parse().ok()
}

fn wine_env(cmd: &mut Command, prefix: &Path) {
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "bcryptprimitives=n;mscoree,mshtml=")
        .env_remove("DISPLAY");
}

/// Creates the prefix on first use and installs the ProcessPrng stand-in when it is missing or
/// older than its source.
fn prepare_prefix() -> Result<PathBuf> {
    let root = run::workspace_root().join("target/wine");
    let prefix = root.join("prefix");
    let system32 = prefix.join("drive_c/windows/system32");
    if !system32.is_dir() {
        std::fs::create_dir_all(&root)?;
        let mut boot = Command::new("wineboot");
        boot.arg("--init");
        wine_env(&mut boot, &prefix);
        run::run(&mut boot)?;
        let mut wait = Command::new("wineserver");
        wait.arg("--wait");
        wine_env(&mut wait, &prefix);
        run::run(&mut wait)?;
    }
    let dll = system32.join("bcryptprimitives.dll");
    let stale = match (std::fs::metadata(&dll), std::fs::metadata(PRNG_SOURCE)) {
        (Ok(dll), Ok(src)) => dll.modified()? < src.modified()?,
        _ => true,
    };
    if stale {
        run::run(
            Command::new(format!("{}-w64-mingw32-gcc", "x86_64"))
                .args(["-shared", "-O2", "-Wall", "-Werror", "-Wl,--kill-at", "-o"])
                .arg(&dll)
                .arg(PRNG_SOURCE)
                .arg("-ladvapi32"),
        )?;
    }
    Ok(prefix)
}
