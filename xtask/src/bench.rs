//! `cargo xtask bench [--quick]`: what `pss`'s walks cost per entry, in instructions, against
//! the raw `pss-sys` loop doing the same job.
//!
//! The benchmark is the pss-tests example `walkbench`, built in release mode, run once per
//! (variant, size) under callgrind: instructions are counted only inside its `bench_walk_*`
//! functions (one per walk class; each dumped separately), and the inclusive cost of every
//! call into the kernel32 model is subtracted, so what remains is the caller's own code. The
//! counts are deterministic. Sizes: 100, 1,000 and 10,000 handles (with 1,000 threads, 1,000
//! regions, 100 auxiliary pages); `--quick` runs 100 only. It fails if, at the largest size run,
//! walking through `pss` and reading raw fields costs more than 1.10 times the raw loop, or
//! reading through the typed accessors more than 1.50 times, in total or for the handles; if
//! `pss` makes other kernel32 calls than the raw loop; or if it allocates per entry.

use crate::{Result, run};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const VARIANTS: [&str; 4] = ["raw", "raw-typed", "pss-raw", "pss-typed"];
const SIZES: [usize; 3] = [100, 1_000, 10_000];
const CLASSES: [&str; 4] = ["handles", "threads", "regions", "aux_pages"];
/// Targets: walking and reading raw fields, and reading through the typed accessors.
const RAW_FIELDS_TARGET: f64 = 1.10;
const TYPED_TARGET: f64 = 1.50;
const OUT: &str = "target/xtask/bench";

/// The functions the kernel32 model defines: their cost is not the caller's.
const MODEL: [&str; 19] = [
    "PssCaptureSnapshot",
    "PssDuplicateSnapshot",
    "PssFreeSnapshot",
    "PssQuerySnapshot",
    "PssWalkSnapshot",
    "PssWalkMarkerCreate",
    "PssWalkMarkerFree",
    "PssWalkMarkerGetPosition",
    "PssWalkMarkerSetPosition",
    "PssWalkMarkerSeekToBeginning",
    "GetCurrentProcess",
    "GetProcessId",
    "OpenProcess",
    "CloseHandle",
    "DuplicateHandle",
    "GetLastError",
    "GetModuleHandleW",
    "GetProcAddress",
    "ReadProcessMemory",
];

pub fn main(args: &[String]) -> Result {
    let [quick] = crate::flags(args, ["--quick"])?;
    let sizes: &[usize] = if quick { &SIZES[..1] } else { &SIZES };
    let report = measure(sizes)?;
    print!("{}", report.table);
    if report.failures.is_empty() {
        Ok(())
    } else {
        Err(report.failures.join("\n").into())
    }
}

/// One class of one run: entries walked, the caller's instructions, allocations, calls.
#[derive(Clone, Default)]
struct Measured {
    entries: u64,
    instructions: u64,
    allocations: u64,
    calls: String,
}

pub struct Report {
    pub table: String,
    pub failures: Vec<String>,
    /// Total instructions per entry at the largest size: (raw, pss-raw, pss-typed).
    pub summary: String,
}

/// Builds the benchmark and measures every variant at each size.
pub fn measure(sizes: &[usize]) -> Result<Report> {
    if !run::on_path("valgrind") {
        return Err("valgrind is missing: run `cargo xtask provision` (it installs it)".into());
    }
    run::run(run::cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "pss-tests",
        "--example",
        "walkbench",
    ]))?;
    let exe = Path::new("target/release/examples/walkbench");
    std::fs::create_dir_all(OUT)?;
    let mut table = String::new();
    let mut failures = Vec::new();
    let mut summary = String::new();
    for (i, &size) in sizes.iter().enumerate() {
        let mut results: BTreeMap<&str, Vec<Measured>> = BTreeMap::new();
        for variant in VARIANTS {
            results.insert(variant, run_one(exe, variant, size)?);
        }
        let last = i + 1 == sizes.len();
        render(
            &mut table,
            &mut failures,
            &mut summary,
            size,
            &results,
            last,
        );
    }
    Ok(Report {
        table,
        failures,
        summary,
    })
}

/// Runs `walkbench variant size` under callgrind; one `Measured` per class.
fn run_one(exe: &Path, variant: &str, size: usize) -> Result<Vec<Measured>> {
    let base = PathBuf::from(OUT).join(format!("callgrind-{variant}-{size}"));
    for entry in std::fs::read_dir(OUT)? {
        let path = entry?.path();
        if path.to_string_lossy().starts_with(&*base.to_string_lossy()) {
            std::fs::remove_file(path)?;
        }
    }
    let mut valgrind = Command::new("valgrind");
    // Only the first `--toggle-collect` counts, so one wildcard; one dump after each class.
    valgrind.args([
        "--tool=callgrind",
        "--quiet",
        "--collect-atstart=no",
        "--toggle-collect=bench_walk_*",
    ]);
    for class in CLASSES {
        valgrind.arg(format!("--dump-after=bench_walk_{class}"));
    }
    let stdout = run::output(
        valgrind
            .arg(format!("--callgrind-out-file={}", base.display()))
            .arg(exe)
            .args([variant, &size.to_string()]),
    )?;
    // Two dumps per class, in order: the warm-up run, then the measured one.
    let mut dumps = Vec::new();
    for n in 1..=2 * CLASSES.len() {
        let path = PathBuf::from(format!("{}.{n}", base.display()));
        dumps.push(caller_instructions(
            &std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        )?);
    }
    let mut measured = Vec::new();
    for (i, line) in stdout
        .lines()
        .filter(|l| l.starts_with("class="))
        .enumerate()
    {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(&format!("{name}=")))
                .unwrap_or("")
                .to_string()
        };
        measured.push(Measured {
            entries: field("entries").parse()?,
            instructions: *dumps.get(2 * i + 1).ok_or("a dump is missing")?,
            allocations: field("allocations").parse()?,
            calls: field("calls"),
        });
    }
    if measured.len() != CLASSES.len() {
        return Err(format!(
            "walkbench {variant} {size}: {} classes reported",
            measured.len()
        )
        .into());
    }
    Ok(measured)
}

/// The instructions of a callgrind dump that are not the model's: the dump's total minus the
/// inclusive cost of every call into a model function.
fn caller_instructions(dump: &str) -> Result<u64> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut total = None;
    let mut model = 0u64;
    let mut callee = String::new();
    let mut call_cost_next = false;
    for line in dump.lines() {
        if call_cost_next {
            call_cost_next = false;
            if MODEL.contains(&callee.as_str()) {
                let cost = line.split_whitespace().last().ok_or("empty call cost")?;
                model += cost.parse::<u64>()?;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("cfn=") {
            callee = resolve(&mut names, rest);
        } else if let Some(rest) = line.strip_prefix("fn=") {
            resolve(&mut names, rest);
        } else if line.starts_with("calls=") {
            call_cost_next = true;
        } else if let Some(rest) = line
            .strip_prefix("totals:")
            .or_else(|| line.strip_prefix("summary:"))
        {
            total = Some(rest.trim().parse::<u64>()?);
        }
    }
    let total = total.ok_or("the dump has no total")?;
    Ok(total.saturating_sub(model))
}

/// A compressed name `(id) name` or `(id)`: records it and returns the name.
fn resolve(names: &mut BTreeMap<String, String>, spec: &str) -> String {
    let spec = spec.trim();
    match spec.split_once(')') {
        Some((id, rest)) if spec.starts_with('(') => {
            let id = id.to_string();
            let rest = rest.trim();
            if rest.is_empty() {
                names.get(&id).cloned().unwrap_or_default()
            } else {
                names.insert(id, rest.to_string());
                rest.to_string()
            }
        }
        _ => spec.to_string(),
    }
}

fn per_entry(m: &Measured) -> f64 {
    m.instructions as f64 / m.entries.max(1) as f64
}

fn render(
    out: &mut String,
    failures: &mut Vec<String>,
    summary: &mut String,
    size: usize,
    results: &BTreeMap<&str, Vec<Measured>>,
    enforce: bool,
) {
    let _ = writeln!(
        out,
        "\nwalks at {size} handles (instructions per entry, the model's own excluded)"
    );
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>8} {:>9} {:>8} {:>9} {:>10} {:>9} {:>8}  {}",
        "class",
        "entries",
        "raw",
        "raw-typed",
        "pss-raw",
        "pss-typed",
        "pss-raw/",
        "pss-typed/",
        "allocs/",
        "kernel32 calls (pss = raw)"
    );
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>8} {:>9} {:>8} {:>9} {:>10} {:>9} {:>8}",
        "", "", "", "", "", "", "raw", "raw (typed)", "entry"
    );
    let mut totals: BTreeMap<&str, Measured> = BTreeMap::new();
    for (i, class) in CLASSES.iter().enumerate() {
        let get = |variant: &str| results[variant][i].clone();
        let (raw, raw_typed, pss_raw, pss_typed) = (
            get("raw"),
            get("raw-typed"),
            get("pss-raw"),
            get("pss-typed"),
        );
        for (variant, m) in [
            ("raw", &raw),
            ("raw-typed", &raw_typed),
            ("pss-raw", &pss_raw),
            ("pss-typed", &pss_typed),
        ] {
            let t = totals.entry(variant).or_default();
            t.entries += m.entries;
            t.instructions += m.instructions;
            t.allocations += m.allocations;
        }
        let same_calls = pss_raw.calls == raw.calls && pss_typed.calls == raw.calls;
        let extra_allocations =
            pss_raw.allocations.max(pss_typed.allocations) as f64 - raw.allocations as f64;
        let allocs = extra_allocations / raw.entries.max(1) as f64;
        let (r1, r2, r3) = (
            per_entry(&pss_raw) / per_entry(&raw),
            per_entry(&pss_typed) / per_entry(&raw),
            per_entry(&pss_typed) / per_entry(&raw_typed),
        );
        let _ = writeln!(
            out,
            "{class:<10} {:>8} {:>8.1} {:>9.1} {:>8.1} {:>9.1} {:>9.2}x {:>5.2}x ({:.2}x) {:>6.2}  {}",
            raw.entries,
            per_entry(&raw),
            per_entry(&raw_typed),
            per_entry(&pss_raw),
            per_entry(&pss_typed),
            r1,
            r2,
            r3,
            allocs,
            if same_calls {
                format!("{} (equal)", raw.calls)
            } else {
                format!("pss {} / raw {}", pss_raw.calls, raw.calls)
            }
        );
        if !same_calls {
            failures.push(format!(
                "{size} handles, {class}: pss makes other kernel32 calls than the raw loop"
            ));
        }
        if extra_allocations > 0.0 {
            failures.push(format!(
                "{size} handles, {class}: pss allocates {allocs:.2} more per entry"
            ));
        }
        if enforce && *class == "handles" {
            check(failures, size, class, r1, r2);
        }
    }
    let t = |v: &str| totals[v].clone();
    let (raw, raw_typed, pss_raw, pss_typed) =
        (t("raw"), t("raw-typed"), t("pss-raw"), t("pss-typed"));
    let (r1, r2, r3) = (
        per_entry(&pss_raw) / per_entry(&raw),
        per_entry(&pss_typed) / per_entry(&raw),
        per_entry(&pss_typed) / per_entry(&raw_typed),
    );
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>8.1} {:>9.1} {:>8.1} {:>9.1} {:>9.2}x {:>5.2}x ({:.2}x)",
        "total",
        raw.entries,
        per_entry(&raw),
        per_entry(&raw_typed),
        per_entry(&pss_raw),
        per_entry(&pss_typed),
        r1,
        r2,
        r3
    );
    if enforce {
        check(failures, size, "total", r1, r2);
        *summary = format!(
            "{size} handles: pss-raw {r1:.2}x, pss-typed {r2:.2}x the raw loop ({r3:.2}x raw-typed); 0 allocations per entry; equal kernel32 calls"
        );
    }
}

fn check(failures: &mut Vec<String>, size: usize, what: &str, raw_fields: f64, typed: f64) {
    if raw_fields > RAW_FIELDS_TARGET {
        failures.push(format!(
            "{size} handles, {what}: pss reading raw fields costs {raw_fields:.2}x the raw loop (target {RAW_FIELDS_TARGET:.2}x)"
        ));
    }
    if typed > TYPED_TARGET {
        failures.push(format!(
            "{size} handles, {what}: pss with typed accessors costs {typed:.2}x the raw loop (target {TYPED_TARGET:.2}x)"
        ));
    }
}
