//! `cargo xtask stress [--cases N]`: the randomized operation sequences of
//! `pss-tests/tests/stress.rs` (with injected kernel32 faults) for N cases, 256 by default, from
//! the fixed seed the test sets; ends with its one line of figures.

use crate::{Result, run};

/// Cases run by default (and by `cargo xtask ci`).
pub const DEFAULT_CASES: u32 = 256;

pub fn main(args: &[String]) -> Result {
    let cases = match args {
        [] => DEFAULT_CASES,
        [flag, n] if flag == "--cases" => n
            .parse()
            .map_err(|_| format!("--cases takes a number, not `{n}`"))?,
        _ => return Err("usage: cargo xtask stress [--cases N]".into()),
    };
    println!("{}", run_cases(cases)?);
    Ok(())
}

/// Runs `cases` cases; the test's figures line.
pub fn run_cases(cases: u32) -> Result<String> {
    let out = run::output(
        run::cargo()
            .env("PSS_STRESS_CASES", cases.to_string())
            .args([
                "test",
                "-p",
                "pss-tests",
                "--test",
                "stress",
                "--",
                "--nocapture",
            ]),
    )?;
    let figures = out
        .lines()
        .find(|line| line.starts_with("stress: "))
        .ok_or("the stress test printed no figures")?;
    // Saved regression cases run first, so at least `cases` ran.
    let ran: u32 = figures
        .strip_prefix("stress: cases ")
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unreadable figures: {figures}"))?;
    if ran < cases {
        return Err(format!("only {ran} of {cases} cases ran: {figures}").into());
    }
    Ok(figures.to_string())
}
