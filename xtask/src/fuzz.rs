//! `cargo xtask fuzz [--seconds N]`: builds the fuzz targets of `fuzz/` (libFuzzer through
//! `libfuzzer-sys`, on the nightly toolchain), runs each for a bounded time, all at once (one
//! libFuzzer process per target, each on one thread), then replays each target's committed
//! corpus; ends with one line of figures per target.
//!
//! The targets build with the flags `cargo fuzz build` uses by default (coverage
//! instrumentation for libFuzzer, comparison tracing, AddressSanitizer, `--cfg fuzzing`, release
//! mode with line tables) and debug assertions on, so an overflow is a finding; `cargo fuzz`
//! itself is not needed (its layout is kept, so it works too). What a run finds is written to
//! `fuzz/artifacts/<target>/`, and the error says how to replay and minimize it. New inputs
//! that reach new code go to `fuzz/work/<target>/` (not committed; later runs start from them).

use crate::provision::{NIGHTLY, require};
use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fuzz targets (`fuzz/fuzz_targets/<name>.rs`), which are also their corpus directories'
/// names.
pub const TARGETS: [&str; 2] = ["dump_writer", "readers"];

/// Seconds each target fuzzes by default, and in `cargo xtask ci` (the targets run at once, so
/// about a minute of wall clock and two of fuzzing in all).
pub const DEFAULT_SECONDS: u64 = 60;

/// `cargo fuzz build`'s default instrumentation: libFuzzer's coverage counters and comparison
/// tracing, AddressSanitizer, `--cfg fuzzing`; plus debug assertions (overflow checks).
const RUSTFLAGS: [&str; 10] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "--cfg=fuzzing",
    "-Cdebug-assertions",
    "-Zsanitizer=address",
];

/// libFuzzer's options for every run: an input that takes 10 s is a finding (unbounded time),
/// and inputs may grow to 8 KiB (the seeds are about 1 KiB; patches of memory take up to 4).
const LIBFUZZER: [&str; 3] = ["-timeout=10", "-max_len=8192", "-print_final_stats=1"];

/// AddressSanitizer's options, as cargo fuzz sets them (Rust's own symbols trip its
/// one-definition-rule check).
const ASAN_OPTIONS: &str = "detect_odr_violation=0";

pub fn main(args: &[String]) -> Result {
    let seconds = match args {
        [] => DEFAULT_SECONDS,
        [flag, n] if flag == "--seconds" => n
            .parse()
            .map_err(|_| format!("--seconds takes a number, not `{n}`"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".into()),
    };
    println!("{}", run(seconds)?);
    Ok(())
}

/// Builds, fuzzes every target for `seconds`, replays the corpus; one line per target.
pub fn run(seconds: u64) -> Result<String> {
    if cfg!(windows) {
        return Err(
            "the fuzz targets run the kernel32 model, which exists off Windows only".into(),
        );
    }
    // libfuzzer-sys compiles libFuzzer (C++) in its build script.
    require(&["c++"])?;
    let dir = build()?;
    let logs = run::workspace_root().join("target/xtask-logs");
    std::fs::create_dir_all(&logs)?;
    let results: Vec<Result<String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = TARGETS
            .iter()
            .map(|target| {
                let (dir, logs) = (&dir, &logs);
                scope.spawn(move || fuzz(dir, target, seconds, logs).map_err(|e| e.to_string()))
            })
            .collect();
        runs.into_iter()
            .map(|run| match run.join() {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err("the fuzzing thread panicked".into()),
            })
            .collect()
    });
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    for (target, result) in TARGETS.iter().zip(results) {
        match result.and_then(|line| Ok(format!("{line}; {}", replay(&dir, target)?))) {
            Ok(line) => lines.push(line),
            Err(e) => failures.push(format!("{target}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(lines.join("\n"))
    } else {
        Err(failures.join("\n").into())
    }
}

/// The host's target triple (the targets are built for it explicitly, as cargo fuzz does, so
/// build scripts and proc macros are not instrumented).
fn host_triple() -> Result<String> {
    let out = run::output(
        Command::new("rustc")
            .env_remove("RUSTUP_TOOLCHAIN")
            .args([&format!("+{NIGHTLY}"), "-vV"]),
    )?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Builds every target; the directory holding the binaries.
fn build() -> Result<PathBuf> {
    let triple = host_triple()?;
    run::run(
        run::cargo_on(NIGHTLY)
            .env("RUSTFLAGS", RUSTFLAGS.join(" "))
            .args([
                "build",
                "--manifest-path",
                crate::ci::FUZZ,
                "--release",
                "--bins",
            ])
            .args(["--target", &triple]),
    )?;
    Ok(run::workspace_root().join(format!("fuzz/target/{triple}/release")))
}

/// A libFuzzer run of `target`'s binary in `dir` with `args`, its output to `log`.
fn libfuzzer(dir: &Path, target: &str, args: &[String], log: &Path) -> Result {
    let mut cmd = Command::new(dir.join(target));
    cmd.current_dir(run::workspace_root())
        .env("ASAN_OPTIONS", ASAN_OPTIONS)
        .args(LIBFUZZER)
        .args(args);
    run::run_logged(&mut cmd, log)
}

/// Fuzzes `target` for `seconds`, from its committed corpus and the inputs earlier runs found;
/// its figures, or the finding.
fn fuzz(dir: &Path, target: &str, seconds: u64, logs: &Path) -> Result<String> {
    let work = format!("fuzz/work/{target}");
    let artifacts = format!("fuzz/artifacts/{target}/");
    for d in [&work, &artifacts] {
        std::fs::create_dir_all(run::workspace_root().join(d))?;
    }
    let log = logs.join(format!("fuzz-{target}.log"));
    std::fs::write(&log, "")?;
    eprintln!(
        "fuzz: {target} for {seconds} s, output to {}",
        log.display()
    );
    let args = [
        format!("-max_total_time={seconds}"),
        format!("-artifact_prefix={artifacts}"),
        work,
        format!("fuzz/corpus/{target}"),
    ];
    if let Err(e) = libfuzzer(dir, target, &args, &log) {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(finding(dir, target, &text)
            .unwrap_or_else(|| e.to_string())
            .into());
    }
    let text = std::fs::read_to_string(&log)?;
    Ok(figures(target, seconds, &text))
}

/// What a failed run found: the panic (or sanitizer report), where the input is, and how to
/// replay and minimize it.
fn finding(dir: &Path, target: &str, log: &str) -> Option<String> {
    let input = log
        .lines()
        .find_map(|l| l.split("Test unit written to ").nth(1))?
        .trim();
    let cause = log
        .lines()
        .find(|l| l.contains("panicked at") || l.contains("ERROR: AddressSanitizer"))
        .map(|l| {
            let next = log
                .lines()
                .skip_while(|m| m != &l)
                .nth(1)
                .unwrap_or_default();
            format!("{} {}", l.trim(), next.trim())
        })
        .or_else(|| {
            log.lines()
                .find(|l| l.contains("ERROR: libFuzzer"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "see the log".into());
    let exe = dir.join(target);
    Some(format!(
        "found a failure: {cause}\n  input: {input}\n  replay: {exe} {input}\n  minimize: {exe} -minimize_crash=1 -runs=10000 {input}\n  then keep it in fuzz/regressions/ with a test in pss-tests/tests/fuzz_regressions.rs",
        exe = exe.display()
    ))
}

/// The run's figures from libFuzzer's last status line and final statistics.
fn figures(target: &str, seconds: u64, log: &str) -> String {
    let stat = |name: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    let done = log
        .lines()
        .rev()
        .find(|l| l.starts_with('#') && l.contains(" cov: "))
        .unwrap_or_default();
    let field = |name: &str| {
        done.split_whitespace()
            .skip_while(|w| *w != name)
            .nth(1)
            .unwrap_or("?")
            .to_owned()
    };
    let corpus = field("corp:");
    format!(
        "{target}: {} runs in {seconds} s ({}/s), coverage {} edges, {} features, corpus {} inputs ({} new)",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec"),
        field("cov:"),
        field("ft:"),
        corpus.split('/').next().unwrap_or("?"),
        stat("new_units_added"),
    )
}

/// Runs `target` once on every input of its committed corpus.
fn replay(dir: &Path, target: &str) -> Result<String> {
    let corpus = run::workspace_root().join(format!("fuzz/corpus/{target}"));
    let mut inputs: Vec<String> = std::fs::read_dir(&corpus)
        .map_err(|e| format!("{}: {e}", corpus.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if inputs.is_empty() {
        return Err(format!("{} holds no input", corpus.display()).into());
    }
    inputs.sort();
    let log = run::workspace_root().join(format!("target/xtask-logs/fuzz-{target}-replay.log"));
    std::fs::write(&log, "")?;
    libfuzzer(dir, target, &inputs, &log)?;
    Ok(format!("replayed its {} committed inputs", inputs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
#1020	REDUCE cov: 6843 ft: 16563 corp: 293/192Kb lim: 1219 exec/s: 51 rss: 370Mb L: 302/1219
#1044	DONE   cov: 6843 ft: 16563 corp: 293/192Kb lim: 1219 exec/s: 49 rss: 370Mb
Done 1044 runs in 21 second(s)
stat::number_of_executed_units: 1044
stat::average_exec_per_sec:     49
stat::new_units_added:          222
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              370
";

    #[test]
    fn figures_come_from_the_last_status_line_and_the_final_statistics() {
        assert_eq!(
            figures("readers", 20, LOG),
            "readers: 1044 runs in 20 s (49/s), coverage 6843 edges, 16563 features, corpus 293 inputs (222 new)"
        );
    }

    #[test]
    fn a_finding_names_its_cause_input_and_how_to_replay_it() {
        let log = "\
thread '<unnamed>' panicked at pss-tests/tests/fuzzing/dump.rs:135:13:
rust-minidump cannot read thread 0x104's context
==123== ERROR: libFuzzer: deadly signal
artifact_prefix='fuzz/artifacts/dump_writer/'; Test unit written to fuzz/artifacts/dump_writer/crash-abc
";
        let text = finding(Path::new("/b"), "dump_writer", log).unwrap();
        assert!(
            text.contains("panicked at pss-tests/tests/fuzzing/dump.rs:135:13: rust-minidump cannot read thread 0x104's context"),
            "{text}"
        );
        assert!(
            text.contains("input: fuzz/artifacts/dump_writer/crash-abc"),
            "{text}"
        );
        assert!(text.contains("replay: /b/dump_writer fuzz/artifacts/dump_writer/crash-abc"));
        assert_eq!(finding(Path::new("/b"), "dump_writer", LOG), None);
    }
}
