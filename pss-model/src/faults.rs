//! Injected failures: a per-thread plan of kernel32 calls that fail, each with a code that
//! function is seen to return on Windows, and with no effect but what a failure of it really
//! has. Misuse detection stays on: a call is checked for misuse before a fault is considered.
//!
//! Where a fault lands (the codes are those seen from Windows: ND, GK's error list; a code
//! outside a function's row is refused with [`FaultError`]):
//!
//! | function | codes | effect of the failure |
//! |---|---|---|
//! | `OpenProcess` | `ACCESS_DENIED` (the target does not grant the rights, e.g. a protected process), `INVALID_PARAMETER` (no such process: it has exited and its last handle closed) | no handle; `NULL`, the code in `GetLastError` |
//! | `PssCaptureSnapshot` | `ACCESS_DENIED`, `INVALID_HANDLE`, `NO_SYSTEM_RESOURCES`, `INVALID_ADDRESS`, `ARITHMETIC_OVERFLOW`, `PARTIAL_COPY` | nothing is created; the out-parameter is left as it was |
//! | `PssDuplicateSnapshot` | `ACCESS_DENIED` | nothing is created; with `PSS_DUPLICATE_CLOSE_SOURCE` the source is still freed |
//! | `PssFreeSnapshot` of a snapshot in another process | `ACCESS_DENIED` | nothing is freed (a local free of a valid snapshot does not fail on Windows, so it is never injected) |
//! | `PssWalkMarkerCreate` | `NOT_ENOUGH_MEMORY` | no marker |
//! | `PssWalkSnapshot` | `NOT_ENOUGH_MEMORY`, `NO_SYSTEM_RESOURCES` (mapping the snapshot's view) | the marker does not advance |
//!
//! Plans are per thread, like the model's call and leak accounting: a test's plan never hits
//! another test.
//!
//! # Probability: per call
//!
//! [`fail_randomly`]'s probability is **per call** of each function above: an operation that
//! makes `n` such calls (a walk makes one `PssWalkSnapshot` call per entry, and one more) fails
//! with probability `1 - (1 - p)^n`. A walk of 30 entries at `p = 0.2` fails 999 times in 1,000;
//! at `p = 0.01`, about one time in four.

use pss_sys::*;
use std::cell::RefCell;
use std::fmt;

/// The functions faults land in, and the codes each really returns.
pub const FAULTS: [(&str, &[u32]); 6] = [
    (
        "OpenProcess",
        &[ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER],
    ),
    (
        "PssCaptureSnapshot",
        &[
            ERROR_ACCESS_DENIED,
            ERROR_INVALID_HANDLE,
            ERROR_NO_SYSTEM_RESOURCES,
            ERROR_INVALID_ADDRESS,
            ERROR_ARITHMETIC_OVERFLOW,
            ERROR_PARTIAL_COPY,
        ],
    ),
    ("PssDuplicateSnapshot", &[ERROR_ACCESS_DENIED]),
    ("PssFreeSnapshot", &[ERROR_ACCESS_DENIED]),
    ("PssWalkMarkerCreate", &[ERROR_NOT_ENOUGH_MEMORY]),
    (
        "PssWalkSnapshot",
        &[ERROR_NOT_ENOUGH_MEMORY, ERROR_NO_SYSTEM_RESOURCES],
    ),
];

/// The codes faults of `function` may carry (its row of [`FAULTS`]); empty for a function no
/// fault lands in.
pub fn codes(function: &str) -> &'static [u32] {
    FAULTS
        .iter()
        .find(|(f, _)| *f == function)
        .map_or(&[], |(_, codes)| *codes)
}

/// A fault plan that was refused: nothing was planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError(String);

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultError {}

/// When a rule fires.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// On the n-th call (1-based) of its function on this thread, counted from the plan's start.
    Nth(u64),
    /// On each call with this probability, drawn from the plan's seeded generator.
    Chance(f64),
}

#[derive(Clone, Debug)]
struct Rule {
    function: &'static str,
    trigger: Trigger,
    /// The code, or `None` for one of the function's codes drawn from the generator.
    code: Option<u32>,
    calls: u64,
}

#[derive(Debug)]
struct Plan {
    rules: Vec<Rule>,
    /// xorshift64* state.
    state: u64,
    injected: u64,
}

impl Plan {
    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

thread_local! {
    static PLAN: RefCell<Option<Plan>> = const { RefCell::new(None) };
    /// Faults injected on this thread, over all plans.
    static INJECTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The plan of this thread while it lives; dropping it ends the plan.
#[must_use = "the plan ends when this is dropped"]
#[derive(Debug)]
pub struct FaultPlan(());

impl FaultPlan {
    /// How many faults this plan has injected so far.
    pub fn injected(&self) -> u64 {
        PLAN.with(|p| p.borrow().as_ref().map_or(0, |plan| plan.injected))
    }
}

impl Drop for FaultPlan {
    fn drop(&mut self) {
        PLAN.with(|p| p.borrow_mut().take());
    }
}

fn start(rules: Vec<Rule>, seed: u64) -> Result<FaultPlan, FaultError> {
    PLAN.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_some() {
            return Err(FaultError(
                "a fault plan is already running on this thread: drop it before starting another"
                    .into(),
            ));
        }
        *p = Some(Plan {
            rules,
            state: seed | 1,
            injected: 0,
        });
        Ok(FaultPlan(()))
    })
}

/// Fails the `n`-th call (1-based, from now, on this thread) of `function` with `code`.
///
/// Refused ([`FaultError`], nothing planned) when no fault lands in `function`, when `code` is
/// not in its row of [`FAULTS`], when `n` is 0, or when a plan already runs on this thread.
pub fn fail_nth(function: &str, n: u64, code: u32) -> Result<FaultPlan, FaultError> {
    let Some(&(function, codes)) = FAULTS.iter().find(|(f, _)| *f == function) else {
        return Err(FaultError(format!(
            "no faults are modelled for {function}: faults land in {}",
            FAULTS.map(|(f, _)| f).join(", ")
        )));
    };
    if !codes.contains(&code) {
        return Err(FaultError(format!(
            "{function} is not seen to fail with code {code} on Windows: its codes are {codes:?}"
        )));
    }
    if n == 0 {
        return Err(FaultError(
            "calls are counted from 1: the first call is n = 1".into(),
        ));
    }
    start(
        vec![Rule {
            function,
            trigger: Trigger::Nth(n),
            code: Some(code),
            calls: 0,
        }],
        1,
    )
}

/// Fails each call of every function in [`FAULTS`] on this thread with probability
/// `probability` (per call: see [Probability](self#probability-per-call)), with one of its
/// codes, both drawn from a generator seeded with `seed` (the same seed and calls give the same
/// faults).
///
/// Refused ([`FaultError`]) for a probability outside `0.0..=1.0`, or when a plan already runs
/// on this thread.
pub fn fail_randomly(seed: u64, probability: f64) -> Result<FaultPlan, FaultError> {
    if !(0.0..=1.0).contains(&probability) {
        return Err(FaultError(format!(
            "a probability per call is in 0.0..=1.0, not {probability}"
        )));
    }
    let rules = FAULTS
        .iter()
        .map(|(function, _)| Rule {
            function,
            trigger: Trigger::Chance(probability),
            code: None,
            calls: 0,
        })
        .collect();
    start(rules, seed)
}

/// Faults injected on this thread since it started.
pub fn injected_total() -> u64 {
    INJECTED.with(std::cell::Cell::get)
}

/// Whether this call of `function` fails, and with which code. Called by the exports after
/// their misuse checks, where a failure can happen.
pub(crate) fn take(function: &str) -> Option<u32> {
    let code = PLAN.with(|p| {
        let mut p = p.borrow_mut();
        let plan = p.as_mut()?;
        let mut fire = None;
        for i in 0..plan.rules.len() {
            if plan.rules[i].function != function {
                continue;
            }
            plan.rules[i].calls += 1;
            let hit = match plan.rules[i].trigger {
                Trigger::Nth(n) => plan.rules[i].calls == n,
                Trigger::Chance(p) => (plan.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p,
            };
            if hit && fire.is_none() {
                let codes = codes(function);
                fire = Some(match plan.rules[i].code {
                    Some(code) => code,
                    None => codes[(plan.next() % codes.len() as u64) as usize],
                });
            }
        }
        if fire.is_some() {
            plan.injected += 1;
        }
        fire
    });
    if code.is_some() {
        INJECTED.with(|n| n.set(n.get() + 1));
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_outside_the_table_are_refused() {
        assert!(fail_nth("PssQuerySnapshot", 1, ERROR_ACCESS_DENIED).is_err());
        assert!(fail_nth("PssCaptureSnapshot", 1, ERROR_NOT_FOUND).is_err());
        assert!(fail_nth("PssCaptureSnapshot", 0, ERROR_ACCESS_DENIED).is_err());
        assert!(fail_randomly(1, 1.5).is_err());
        assert!(fail_randomly(1, f64::NAN).is_err());
        let plan = fail_nth("OpenProcess", 2, ERROR_ACCESS_DENIED).unwrap();
        assert!(fail_randomly(1, 0.5).is_err(), "one plan at a time");
        assert_eq!(take("OpenProcess"), None);
        assert_eq!(take("OpenProcess"), Some(ERROR_ACCESS_DENIED));
        assert_eq!(plan.injected(), 1);
    }
}
