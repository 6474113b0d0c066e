//! `cargo xtask ci`: the whole test matrix, then one table and a non-zero exit on any failure.
//!
//! Tiers, each honest about what it proves:
//! - `setup`: provisioning (see `provision.rs`).
//! - `static`: formatting; bindings and layout numbers equal fresh output; the GitHub workflow
//!   passes actionlint and calls only existing tasks.
//! - `cross`: clippy on the host and on every Windows target; the `-gnu` test binaries build and
//!   link with mingw-w64 and import every PSS function from kernel32; docs build for Windows;
//!   the downstream crate passes msvc clippy and links for `-gnu`; the test kit checks for macOS.
//! - `host`: the test suite on this machine, linked against the kernel32 model (`pss-model`);
//!   the downstream crate's tests, through the test kit alone; the psscap example (`cargo xtask
//!   demo`) end to end against the model; the suite and `pss`'s own unit tests again under
//!   Miri, the safe-crate tests and `pss`'s unit tests under Miri for a 32-bit target and the
//!   dump writer's tests and `pss`'s unit tests for arm64 (these two on a thread beside the
//!   other host checks, Miri being single-threaded); the randomized operation
//!   sequences with injected faults (`cargo xtask stress`); coverage-guided fuzzing of what
//!   reads target memory, then the committed corpus replayed (`cargo xtask fuzz`); the walk
//!   benchmark (`cargo xtask bench`, callgrind instruction counts against the raw loop, its
//!   targets enforced). (The
//!   example is built for every Windows target by the `cross` clippy rows, and linked for the
//!   `-gnu` ones by the `link` rows.)
//! - `wine`: the x86_64 `-gnu` test binaries run under Wine (load and link; no PSS there).

use crate::provision::{NIGHTLY, WINDOWS_TARGETS, require};
use crate::{Result, run, wine};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::Instant;

const HOST: &str = "host";

/// The manifest of the downstream crate (an application author's crate, with its own
/// workspace).
pub const DOWNSTREAM: &str = "downstream/watchdog/Cargo.toml";

/// The manifest of the fuzz targets (a workspace of their own; see `cargo xtask fuzz`).
pub const FUZZ: &str = "fuzz/Cargo.toml";

/// The macOS target the test kit is checked for.
pub const MACOS_TARGET: &str = "x86_64-apple-darwin";

/// `cargo <args>` for the downstream crate, building into a target directory of its own under
/// ours.
fn downstream(args: &[&str]) -> Command {
    let mut cmd = run::cargo();
    cmd.env("CARGO_TARGET_DIR", "target/downstream");
    cmd.arg(args[0])
        .args(["--manifest-path", DOWNSTREAM])
        .args(&args[1..]);
    cmd
}

/// The 32-bit target Miri runs the safe-crate tests for.
const MIRI_32BIT: &str = "i686-unknown-linux-gnu";

/// The arm64 target Miri runs the dump writer's tests for.
const MIRI_ARM64: &str = "aarch64-unknown-linux-gnu";

/// The features `pss`'s own unit tests need (the dump writer's parsers and contexts, dbghelp's
/// HRESULTs); `model` comes with the dev-dependency on pss-tests.
const PSS_UNIT_FEATURES: &str = "dump-writer,dbghelp";

/// `cargo miri test` of `pss`'s own unit tests (`--lib`), for `target` (the host's if `None`).
/// About 20 seconds of interpretation; the one test that counts 300,000 days is ignored under
/// Miri and says why.
/// Test files of pss-tests that Miri skips: end-to-end dumps of whole model processes (every
/// profile, compression, redaction, the WOW64 process's 32-bit view), each minutes under Miri
/// (measured: 180 to 580 s a file), which would take the Miri rows past CI's time. The native
/// host run covers them whole; what they parse from target memory runs under Miri through
/// `safe_dump_writer`, `safe_dump_writer_hostile` (the same writer, hostile inputs), the
/// fuzz regressions, and `pss`'s unit tests (the WOW64 layouts over byte buffers, on every
/// Miri target).
const MIRI_SKIPPED_FILES: [&str; 4] = [
    "safe_dump_profiles",
    "safe_dump_redaction",
    "safe_dump_stream",
    "safe_wow64",
];

/// `--test NAME` for every test file of pss-tests whose name starts with `prefix`, but those
/// in [`MIRI_SKIPPED_FILES`].
fn miri_test_files(prefix: &str) -> Result<Vec<String>> {
    let dir = run::workspace_root().join("pss-tests/tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".rs")?.to_owned())
        })
        .filter(|name| name.starts_with(prefix) && !MIRI_SKIPPED_FILES.contains(&name.as_str()))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no test file of pss-tests starts with {prefix:?}").into());
    }
    Ok(names
        .into_iter()
        .flat_map(|name| ["--test".to_owned(), name])
        .collect())
}

fn miri_pss_unit_tests(target: Option<&str>) -> Command {
    let mut cmd = run::cargo_on(NIGHTLY);
    cmd.args([
        "miri",
        "test",
        "-p",
        "pss",
        "--lib",
        "--features",
        PSS_UNIT_FEATURES,
    ]);
    if let Some(target) = target {
        cmd.args(["--target", target]);
    }
    cmd
}

struct Row {
    tier: &'static str,
    check: &'static str,
    target: String,
    result: std::result::Result<String, String>,
    seconds: f64,
}

/// A check running on a thread of its own beside the others (see [`Matrix::check_beside`]).
struct Beside {
    tier: &'static str,
    check: &'static str,
    target: String,
    log: PathBuf,
    thread: JoinHandle<(std::result::Result<String, String>, f64)>,
}

/// Checks run so far, printed as one table.
pub struct Matrix {
    rows: Vec<Row>,
    beside: Vec<Beside>,
    started: Instant,
}

impl Default for Matrix {
    fn default() -> Self {
        Matrix {
            rows: Vec::new(),
            beside: Vec::new(),
            started: Instant::now(),
        }
    }
}

impl Matrix {
    /// Starts one check on a thread of its own, its commands' output going to a log under
    /// `target/xtask-logs` (run them with [`run::run_logged`]); [`Matrix::join_beside`] records
    /// it. For checks that leave a core idle for long (Miri interprets on one thread), so that
    /// the other checks use it; they must not share a cargo target directory with the others.
    pub fn check_beside(
        &mut self,
        tier: &'static str,
        check: &'static str,
        target: &str,
        f: impl FnOnce(&Path) -> Result<String> + Send + 'static,
    ) {
        let dir = run::workspace_root().join("target/xtask-logs");
        // A name a shell takes unquoted: the target column may list several, ", "-separated.
        let name: String = format!("{check}-{target}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let log = dir.join(format!("{name}.log"));
        eprintln!(
            "\n==> [{tier}] {check} ({target}) starts beside the next checks; its output goes to {}",
            log.display()
        );
        let thread_log = log.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let result = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&thread_log, ""))
                .map_err(|e| format!("cannot start {}: {e}", thread_log.display()))
                .and_then(|()| f(&thread_log).map_err(|e| e.to_string()));
            (result, start.elapsed().as_secs_f64())
        });
        self.beside.push(Beside {
            tier,
            check,
            target: target.to_string(),
            log,
            thread,
        });
    }

    /// Waits for the checks started with [`Matrix::check_beside`], prints their logs and
    /// records them.
    pub fn join_beside(&mut self) {
        for beside in std::mem::take(&mut self.beside) {
            let Beside {
                tier,
                check,
                target,
                log,
                thread,
            } = beside;
            eprintln!("\n==> [{tier}] {check} ({target}), run beside the checks above:");
            let (result, seconds) = thread
                .join()
                .unwrap_or_else(|_| (Err("the check's thread panicked".into()), 0.0));
            match std::fs::read_to_string(&log) {
                Ok(text) => eprint!("{text}"),
                Err(e) => eprintln!("(no log at {}: {e})", log.display()),
            }
            self.record(Row {
                tier,
                check,
                target,
                result,
                seconds,
            });
        }
    }

    /// Records a finished check, saying so on standard error if it failed.
    fn record(&mut self, row: Row) {
        if let Err(error) = &row.result {
            eprintln!(
                "FAILED: [{}] {} ({}): {error}",
                row.tier, row.check, row.target
            );
        }
        self.rows.push(row);
    }

    /// Runs one check and records it; `f` returns a short note for the result column.
    pub fn check(
        &mut self,
        tier: &'static str,
        check: &'static str,
        target: &str,
        f: impl FnOnce() -> Result<String>,
    ) {
        eprintln!("\n==> [{tier}] {check} ({target})");
        let start = Instant::now();
        let result = f().map_err(|e| e.to_string());
        self.record(Row {
            tier,
            check,
            target: target.to_string(),
            result,
            seconds: start.elapsed().as_secs_f64(),
        });
    }

    pub fn skip(&mut self, tier: &'static str, check: &'static str, target: &str, why: &str) {
        self.rows.push(Row {
            tier,
            check,
            target: target.into(),
            result: Ok(format!("skipped: {why}")),
            seconds: 0.0,
        });
    }

    pub fn print(&self) -> (usize, usize, usize) {
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        println!(
            "\n{:<7} {:<9} {:<24} {:>8}  result",
            "tier", "check", "target", "seconds"
        );
        println!("{}", "-".repeat(78));
        for row in &self.rows {
            let result = match &row.result {
                Ok(note) if note.starts_with("skipped") => {
                    skipped += 1;
                    note.clone()
                }
                Ok(note) => {
                    passed += 1;
                    if note.is_empty() {
                        "ok".into()
                    } else {
                        format!("ok: {note}")
                    }
                }
                Err(error) => {
                    failed += 1;
                    format!("FAILED: {}", error.lines().next().unwrap_or(""))
                }
            };
            println!(
                "{:<7} {:<9} {:<24} {:>8.1}  {result}",
                row.tier, row.check, row.target, row.seconds
            );
        }
        let total: f64 = self.rows.iter().map(|r| r.seconds).sum();
        println!("{}", "-".repeat(78));
        println!("{:<42} {total:>8.1}", "total of the rows");
        println!(
            "{:<42} {:>8.1}  (checks run beside others overlap)",
            "wall clock",
            self.started.elapsed().as_secs_f64()
        );
        (passed, failed, skipped)
    }
}

pub fn main(args: &[String]) -> Result {
    let [no_provision] = crate::flags(args, ["--no-provision"])?;
    let mut m = Matrix::default();

    if no_provision {
        m.skip("setup", "provision", HOST, "--no-provision");
    } else {
        m.check("setup", "provision", HOST, crate::provision::ensure);
    }

    m.check("static", "fmt", HOST, || {
        run::run(run::cargo().args(["fmt", "--all", "--", "--check"]))?;
        run::run(run::cargo().args(["fmt", "--manifest-path", DOWNSTREAM, "--", "--check"]))?;
        run::run(run::cargo().args(["fmt", "--manifest-path", FUZZ, "--", "--check"]))?;
        Ok("the workspace, the downstream crate and the fuzz targets".into())
    });
    m.check("static", "bindgen", HOST, || {
        crate::bindgen::check().map(|()| "bindings.rs is fresh".into())
    });
    m.check("static", "layout", "x86, x64, arm64", || {
        require(&["x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc", "clang"])?;
        crate::layout::main(&["--check".into()]).map(|()| "layout.rs is fresh".into())
    });
    // The GitHub workflow, which cannot run here, checked statically.
    m.check(
        "static",
        "workflow",
        ".github/workflows/ci.yml",
        crate::workflow::check,
    );

    m.check("cross", "clippy", HOST, || {
        run::run(run::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        // The fuzz targets (a workspace of their own), checked on the stable toolchain in our
        // target directory, so the dependencies they share with the workspace are built once.
        run::run(run::cargo().env("CARGO_TARGET_DIR", "target").args([
            "clippy",
            "--manifest-path",
            FUZZ,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        Ok("the workspace and the fuzz targets".into())
    });
    for target in WINDOWS_TARGETS {
        m.check("cross", "clippy", target, || {
            // The workspace (pss-tests' own tests turn the `dbghelp` and `dump-writer` features
            // on), then the published crates alone with their default features (no dbghelp).
            run::run(run::cargo().args([
                "clippy",
                "--workspace",
                "--exclude",
                "xtask",
                "--all-targets",
                "--target",
                target,
                "--",
                "-D",
                "warnings",
            ]))?;
            run::run(run::cargo().args([
                "clippy", "-p", "pss-sys", "-p", "pss", "--lib", "--target", target, "--", "-D",
                "warnings",
            ]))?;
            Ok("with and without the dbghelp and dump-writer features".into())
        });
    }
    for target in WINDOWS_TARGETS.into_iter().filter(|t| t.ends_with("-gnu")) {
        let arch = target.split('-').next().unwrap_or(target);
        m.check("cross", "link", target, || {
            require(&[&format!("{arch}-w64-mingw32-gcc")])?;
            let binaries = run::build_tests(target)?;
            Ok(format!("{} test binaries", binaries.len()))
        });
        m.check("cross", "imports", target, || {
            require(&[&format!("{arch}-w64-mingw32-objdump")])?;
            imports(target)
        });
    }
    // The test kit builds for macOS too (checked: no macOS linker here).
    m.check("cross", "check", MACOS_TARGET, || {
        run::run(run::cargo().args([
            "check",
            "-p",
            "pss-model",
            "-p",
            "pss-tests",
            "--target",
            MACOS_TARGET,
        ]))?;
        Ok("pss-model and pss-tests (the test kit) build for macOS".into())
    });
    // A crate as an application author writes one, built for Windows as they would ship it.
    m.check(
        "cross",
        "downstream",
        "x86_64-pc-windows-msvc, -gnu",
        || {
            run::run(&mut downstream(&[
                "clippy",
                "--all-targets",
                "--target",
                "x86_64-pc-windows-msvc",
                "--",
                "-D",
                "warnings",
            ]))?;
            require(&["x86_64-w64-mingw32-gcc"])?;
            run::run(&mut downstream(&[
                "test",
                "--no-run",
                "--target",
                "x86_64-pc-windows-gnu",
            ]))?;
            Ok(
                "clippy for msvc; its test binaries, the portable tests among them, link for \
                 x86_64-pc-windows-gnu"
                    .into(),
            )
        },
    );
    // The docs, links checked, as docs.rs builds them: for Windows, every feature; the kernel32
    // model (empty on Windows) for this host.
    m.check("cross", "doc", "x86_64-pc-windows-msvc", || {
        run::run(run::cargo().env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "pss-model",
            "--features",
            "pss/dbghelp,pss/dump-writer",
            "--no-deps",
            "--target",
            "x86_64-pc-windows-msvc",
        ]))?;
        run::run(run::cargo().env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "-p",
            "pss-model",
            "--no-deps",
        ]))?;
        Ok("the published crates for Windows, with every feature; pss-model for the host".into())
    });
    // Doc examples compiled (and compile_fail ones refused) for Windows; `no_run` ones are
    // built, not run; the others run under Wine.
    m.check("cross", "doctest", wine::TARGET, || {
        require(&["x86_64-w64-mingw32-gcc", "wine", "wine64"])?;
        wine::doctests()
    });

    // Miri interprets on one thread, so its 32-bit and arm64 runs go beside the host checks,
    // in a target directory of their own: the second core is otherwise idle through Miri's and
    // callgrind's long single-threaded stretches.
    m.check_beside(
        "host",
        "miri",
        &format!("{MIRI_32BIT}, {MIRI_ARM64}"),
        miri_32bit_and_arm64,
    );
    m.check("host", "test", HOST, || {
        run::run(run::cargo().args(["test", "--workspace"]))?;
        Ok(String::new())
    });
    m.check("host", "demo", HOST, || {
        let out =
            run::output(run::cargo().args(["run", "--quiet", "-p", "pss", "--example", "psscap"]))?;
        let kernel = out
            .lines()
            .find_map(|line| line.strip_prefix("kernel:"))
            .ok_or("the report names no kernel")?;
        Ok(format!(
            "psscap, {} report lines, against {}",
            out.lines().count(),
            kernel.trim()
        ))
    });
    m.check("host", "dump", HOST, || {
        let report = crate::dump::write_and_compare(None, None)?;
        let kernel = report
            .written
            .lines()
            .find_map(|line| line.strip_prefix("kernel:"))
            .ok_or("pssdump names no kernel")?;
        let threads = report
            .summary
            .lines()
            .find_map(|line| line.strip_prefix("threads: "))
            .ok_or("the summary has no threads line")?;
        Ok(format!(
            "pssdump, read back: {} threads, against {}; dbghelp's and pss's dumps: {} streams the same, {} explained",
            threads.split(' ').next().unwrap_or("?"),
            kernel.trim(),
            report.same,
            report.explained
        ))
    });
    // The downstream crate's tests, linked against the kernel32 model by its dev-dependency on
    // pss-tests alone. Its portable tests (outside its `model` module: a process built with the
    // kit's fixture, captured, its threads and handles checked) are the ones the cross row
    // builds for Windows unchanged.
    m.check("host", "downstream", HOST, || {
        run::run(&mut downstream(&[
            "clippy",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        let out = run::output(&mut downstream(&["test"]))?;
        let passed = out
            .lines()
            .filter_map(|l| l.strip_prefix("test result: ok. "))
            .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
            .sum::<u32>();
        if passed == 0 {
            return Err("the downstream crate ran no test".into());
        }
        let portable = out
            .lines()
            .filter_map(|l| l.strip_prefix("test "))
            .filter(|l| l.ends_with(" ... ok") && !l.starts_with("model::"))
            .count();
        if portable == 0 {
            return Err("the downstream crate ran no portable test (outside `model`)".into());
        }
        Ok(format!(
            "watchdog: {passed} tests passed, {portable} of them portable (fixture process \
             captured, threads and handles checked; built for Windows by the cross row), \
             through public surfaces only"
        ))
    });
    // The published crates package, verify and hold what their docs refer to.
    m.check(
        "host",
        "package",
        "pss-sys, pss, pss-model, pss-tests",
        crate::package::check,
    );
    // Randomized operation sequences under injected faults.
    m.check("host", "stress", HOST, || {
        crate::stress::run_cases(crate::stress::DEFAULT_CASES)
    });
    // Coverage-guided fuzzing of the dump writer and the typed readers over model processes
    // built from the fuzzer's bytes, then every committed corpus input replayed.
    m.check("host", "fuzz", HOST, || {
        crate::fuzz::run(crate::fuzz::DEFAULT_SECONDS).map(|lines| lines.replace('\n', "; "))
    });
    // What walks cost through pss against the raw loop, in callgrind instructions.
    m.check("host", "bench", HOST, || {
        require(&["valgrind"])?;
        let report = crate::bench::measure(&crate::bench::SIZES)?;
        eprint!("{}", report.table);
        if report.failures.is_empty() {
            Ok(report.summary)
        } else {
            Err(report.failures.join("; ").into())
        }
    });
    // What pss's own minidump writer costs per byte against a copy of the memory, and its heap.
    m.check("host", "dump bench", HOST, || {
        require(&["valgrind"])?;
        let report = crate::dumpbench::measure()?;
        eprint!("{}", report.table);
        if report.failures.is_empty() {
            Ok(report.summary)
        } else {
            Err(report.failures.join("; ").into())
        }
    });
    // The declared rust-version really builds the published crates, for the host and Windows.
    m.check("host", "msrv", HOST, || {
        let msrv = crate::provision::msrv()?;
        for target in [None, Some(crate::provision::MSRV_TARGET)] {
            for features in [None, Some("pss/dbghelp,pss/dump-writer")] {
                let mut check = run::cargo_on(&msrv);
                check.args(["check", "-p", "pss-sys", "-p", "pss", "--lib"]);
                if let Some(target) = target {
                    check.args(["--target", target]);
                }
                if let Some(features) = features {
                    check.args(["--features", features]);
                }
                run::run(&mut check)?;
            }
        }
        Ok(format!(
            "rust {msrv}: pss-sys and pss build for the host and {}, with and without dbghelp and dump-writer",
            crate::provision::MSRV_TARGET
        ))
    });
    m.check("host", "miri", HOST, || {
        run::run(run::cargo_on(NIGHTLY).args(["miri", "test", "-p", "pss-sys"]))?;
        run::run(
            run::cargo_on(NIGHTLY)
                .args(["miri", "test", "-p", "pss-tests", "--lib"])
                .args(miri_test_files("")?),
        )?;
        run::run(&mut miri_pss_unit_tests(None))?;
        Ok(format!(
            "pss-sys, the suite but {}, and pss's unit tests",
            MIRI_SKIPPED_FILES.join(", ")
        ))
    });
    m.join_beside();

    m.check("wine", "run", wine::TARGET, || {
        require(&["x86_64-w64-mingw32-gcc", "wine", "wine64"])?;
        wine::run_tier().map(|s| s.to_string())
    });
    m.skip(
        "wine",
        "run",
        "i686-pc-windows-gnu",
        "build-only: Wine here has no 32-bit support",
    );

    let (passed, failed, skipped) = m.print();
    if let Some(line) = crate::provision::missing_line() {
        println!("{line}");
    }
    println!("ci: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} check(s) failed").into())
    }
}

/// The safe-crate tests and `pss`'s unit tests under Miri for a 32-bit target, then the dump
/// writer's tests (`safe_dump_writer*`) and `pss`'s unit tests for arm64, in `target/beside`
/// (away from the host checks' build directory, which cargo locks), their output to `log`.
///
/// The safe crate's 32-bit paths (x86 CONTEXT, pointer-sized fields, the PE parser's sums that
/// overflowed there) and the dump writer's arm64 path (the arm64 CONTEXT in the dump, arm64
/// frame-pointer walks by rust-minidump) run nowhere else: Miri interprets them, no linker or
/// foreign libraries needed.
fn miri_32bit_and_arm64(log: &Path) -> Result<String> {
    let mut notes = Vec::new();
    for (target, tests, what) in [
        (
            MIRI_32BIT,
            "safe_",
            "the safe-crate tests and pss's unit tests, 32-bit",
        ),
        (
            MIRI_ARM64,
            "safe_dump_writer",
            "the dump writer's tests and pss's unit tests, arm64",
        ),
    ] {
        let start = Instant::now();
        let beside = run::workspace_root().join("target/beside");
        let mut cmd = run::cargo_on(NIGHTLY);
        cmd.env("CARGO_TARGET_DIR", &beside)
            .args(["miri", "test", "-p", "pss-tests", "--target", target])
            .args(miri_test_files(tests)?);
        run::run_logged(&mut cmd, log)?;
        let mut unit = miri_pss_unit_tests(Some(target));
        unit.env("CARGO_TARGET_DIR", &beside);
        run::run_logged(&mut unit, log)?;
        notes.push(format!("{what} ({:.0} s)", start.elapsed().as_secs_f64()));
    }
    Ok(format!("{}; beside the checks above", notes.join(", ")))
}

/// What the `-gnu` builds import, read from the import table of pss-sys's link test with
/// objdump: all ten `Pss*` functions and `ReadProcessMemory` from kernel32.dll; with the
/// `dbghelp` feature also `MiniDumpWriteDump` from dbghelp.dll, and without it nothing from
/// dbghelp.dll (a program that only snapshots never loads it).
fn imports(target: &str) -> Result<String> {
    let with = import_table(target, true)?;
    let without = import_table(target, false)?;
    for (table, feature) in [(&with, "with"), (&without, "without")] {
        let missing: Vec<&str> = crate::PSS_FUNCTIONS
            .into_iter()
            .chain(["ReadProcessMemory"])
            .filter(|f| {
                !table
                    .iter()
                    .any(|(dll, name)| dll == "kernel32.dll" && name == f)
            })
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{feature} dbghelp: kernel32.dll imports lack {}",
                missing.join(", ")
            )
            .into());
        }
    }
    if !with
        .iter()
        .any(|(dll, name)| dll == "dbghelp.dll" && name == "MiniDumpWriteDump")
    {
        return Err("with dbghelp: MiniDumpWriteDump is not imported from dbghelp.dll".into());
    }
    if let Some((_, name)) = without.iter().find(|(dll, _)| dll == "dbghelp.dll") {
        return Err(format!("without dbghelp: {name} is imported from dbghelp.dll").into());
    }
    Ok(format!(
        "{} kernel32 functions; MiniDumpWriteDump from dbghelp only with the dbghelp feature",
        crate::PSS_FUNCTIONS.len() + 1
    ))
}

/// (DLL in lowercase, function) for every import of pss-sys's link test built for `target`.
fn import_table(target: &str, dbghelp: bool) -> Result<Vec<(String, String)>> {
    let mut build = run::cargo();
    build.args([
        "test",
        "-p",
        "pss-sys",
        "--test",
        "link",
        "--no-run",
        "--message-format=json",
        "--target",
        target,
    ]);
    if dbghelp {
        build.args(["--features", "dbghelp"]);
    }
    let json = run::output(&mut build)?;
    let exe = run::test_executables(&json)
        .pop()
        .ok_or("no link test binary")?;
    let arch = target.split('-').next().unwrap_or(target);
    let dump = run::output(
        Command::new(format!("{arch}-w64-mingw32-objdump"))
            .arg("-p")
            .arg(&exe),
    )?;
    let mut table = Vec::new();
    let mut dll = String::new();
    for line in dump.lines() {
        if let Some(name) = line.trim().strip_prefix("DLL Name:") {
            dll = name.trim().to_ascii_lowercase();
        } else if !dll.is_empty() {
            if let Some(name) = line.split_whitespace().last() {
                table.push((dll.clone(), name.to_string()));
            }
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check run beside others is recorded when joined, with its result, and its log holds
    /// its commands' output; a failure carries the log's end.
    #[test]
    fn checks_beside_are_recorded_with_their_logs() {
        let mut m = Matrix::default();
        m.check_beside("test", "beside ok", "t1", |log| {
            run::run_logged(
                Command::new("sh").args(["-c", "echo out; echo err >&2"]),
                log,
            )?;
            let text = std::fs::read_to_string(log)?;
            assert!(text.contains("out\n") && text.contains("err\n"), "{text}");
            Ok("done".into())
        });
        m.check_beside("test", "beside failing", "t2", |log| {
            run::run_logged(
                Command::new("sh").args(["-c", "echo last words; exit 3"]),
                log,
            )?;
            Ok("unreachable".into())
        });
        assert!(m.rows.is_empty(), "recorded only when joined");
        m.join_beside();
        assert_eq!(m.rows.len(), 2);
        assert_eq!(m.rows[0].result, Ok("done".into()));
        let error = m.rows[1].result.as_ref().unwrap_err();
        assert!(error.contains("last words"), "{error}");
        assert!(m.beside.is_empty());
        let logs = run::workspace_root().join("target/xtask-logs");
        assert!(logs.join("beside-ok-t1.log").is_file());
    }
}
