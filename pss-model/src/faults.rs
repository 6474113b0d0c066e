//! Injected failures: a per-thread plan of kernel32 calls that fail, each with a code that
//! function is seen to return on Windows, and with no effect but what a failure of it really
//! has. Misuse detection stays on: a call is checked for misuse before a fault is considered.
//!
//! Where a fault lands (the codes are those seen from Windows: ND, GK's error list):
//!
//! | function | codes | effect of the failure |
//! |---|---|---|
//! | `PssCaptureSnapshot` | `ACCESS_DENIED`, `INVALID_HANDLE`, `NO_SYSTEM_RESOURCES`, `INVALID_ADDRESS`, `ARITHMETIC_OVERFLOW`, `PARTIAL_COPY` | nothing is created; the out-parameter is left as it was |
//! | `PssDuplicateSnapshot` | `ACCESS_DENIED` | nothing is created; with `PSS_DUPLICATE_CLOSE_SOURCE` the source is still freed |
//! | `PssFreeSnapshot` of a snapshot in another process | `ACCESS_DENIED` | nothing is freed (a local free of a valid snapshot does not fail on Windows, so it is never injected) |
//! | `PssWalkMarkerCreate` | `NOT_ENOUGH_MEMORY` | no marker |
//! | `PssWalkSnapshot` | `NOT_ENOUGH_MEMORY`, `NO_SYSTEM_RESOURCES` (mapping the snapshot's view) | the marker does not advance |
//!
//! Plans are per thread, like the model's call and leak accounting: a test's plan never hits
//! another test.

use pss_sys::*;
use std::cell::RefCell;

/// The functions faults land in, and the codes each really returns.
pub const FAULTS: [(&str, &[u32]); 5] = [
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

fn start(rules: Vec<Rule>, seed: u64) -> FaultPlan {
    for rule in &rules {
        assert!(
            FAULTS.iter().any(|(f, _)| *f == rule.function),
            "no faults are modelled for {}",
            rule.function
        );
    }
    PLAN.with(|p| {
        let mut p = p.borrow_mut();
        assert!(
            p.is_none(),
            "a fault plan is already running on this thread"
        );
        *p = Some(Plan {
            rules,
            state: seed | 1,
            injected: 0,
        });
    });
    FaultPlan(())
}

/// Fails the `n`-th call (1-based, from now, on this thread) of `function` with `code`.
pub fn fail_nth(function: &'static str, n: u64, code: u32) -> FaultPlan {
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
/// `probability`, with one of its codes, both drawn from a generator seeded with `seed` (the
/// same seed and calls give the same faults).
pub fn fail_randomly(seed: u64, probability: f64) -> FaultPlan {
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
                let codes = FAULTS
                    .iter()
                    .find(|(f, _)| *f == function)
                    .map_or(&[][..], |(_, codes)| *codes);
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
