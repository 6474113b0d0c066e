//! `cargo xtask windows [--target TRIPLE]`: the real-Windows tier, for maintainers on a Windows
//! machine or runner (x86_64, i686 or aarch64, Windows 8.1 or later), and the Windows jobs of
//! `.github/workflows/ci.yml`. `--target` builds and runs everything for another target the
//! machine runs (`i686-pc-windows-msvc` on x86_64 Windows); by default, the host's. It cannot
//! run on this project's Linux machines, which is why it is not part of `cargo xtask ci`.
//!
//! - `test`: the whole suite against the real kernel32 (the PSS tests run instead of skipping).
//! - `ignored`: the tests that pin a choice the pss-tests model makes where Microsoft's
//!   documents are silent (`#[cfg_attr(windows, ignore)]`); a failure means Windows behaves
//!   differently from the model, and the model (and its table) should follow Windows.
//! - `downstream`: the downstream crate's tests (an application author's crate), against the real
//!   kernel32.
//! - `demo`: the psscap example against this process, through the real kernel32.
//! - `dump`: the pssdump example against itself through the real kernel32, dbghelp's and pss's
//!   dumps of one snapshot read back with rust-minidump and compared stream by stream
//!   (`cargo xtask dump`).

use crate::ci::Matrix;
use crate::{Result, run};

pub fn main(args: &[String]) -> Result {
    let target = match args {
        [] => None,
        [flag, target] if flag == "--target" => Some(target.as_str()),
        _ => return Err("usage: cargo xtask windows [--target TRIPLE]".into()),
    };
    if !cfg!(windows) {
        return Err("this tier needs Windows; on other hosts run `cargo xtask ci`".into());
    }
    let host = target.unwrap_or("this Windows");
    // `cargo <args> [--target T]`, with test arguments after `--`.
    let cargo = |args: &[&str], test_args: &[&str]| {
        let mut cmd = run::cargo();
        cmd.args(args);
        if let Some(target) = target {
            cmd.args(["--target", target]);
        }
        if !test_args.is_empty() {
            cmd.arg("--").args(test_args);
        }
        cmd
    };
    let mut m = Matrix::default();
    m.check("windows", "test", host, || {
        run::run(&mut cargo(
            &["test", "--workspace", "--exclude", "xtask"],
            &[],
        ))?;
        Ok(String::new())
    });
    m.check("windows", "ignored", host, || {
        run::run(&mut cargo(
            &["test", "--workspace", "--exclude", "xtask"],
            &["--ignored"],
        ))?;
        Ok("every model choice also holds here".into())
    });
    m.check("windows", "downstream", host, || {
        let mut test = cargo(&["test", "--manifest-path", crate::ci::DOWNSTREAM], &[]);
        test.env("CARGO_TARGET_DIR", "target/downstream");
        run::run(&mut test)?;
        Ok("the downstream crate's tests, against the real kernel32".into())
    });
    m.check("windows", "demo", host, || {
        let report = run::output(&mut cargo(
            &["run", "--quiet", "-p", "pss", "--example", "psscap"],
            &[],
        ))?;
        match report.lines().find(|l| l.starts_with("kernel:")) {
            Some(line) if line.contains("real kernel32") => {
                Ok(format!("{} report lines", report.lines().count()))
            }
            other => Err(format!(
                "the report does not say it ran against the real kernel32: {other:?}"
            )
            .into()),
        }
    });
    m.check("windows", "dump", host, || {
        let report = crate::dump::write_and_compare(None, target)?;
        if !report
            .written
            .lines()
            .any(|l| l.starts_with("kernel:") && l.contains("real kernel32"))
        {
            return Err("pssdump did not run against the real kernel32".into());
        }
        let threads = report
            .summary
            .lines()
            .find_map(|line| line.strip_prefix("threads: "))
            .and_then(|rest| rest.split(' ').next()?.parse::<usize>().ok())
            .ok_or("the summary has no thread count")?;
        if threads == 0 {
            return Err("the dump read back has no threads".into());
        }
        Ok(format!(
            "full and small dumps by dbghelp and by pss, read back: {threads} threads; compared: {} streams the same, {} explained",
            report.same, report.explained
        ))
    });
    let (passed, failed, skipped) = m.print();
    println!("windows: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} check(s) failed").into())
    }
}
