//! `cargo xtask package`: the published crates package and verify, and each `.crate` holds
//! what its documentation refers to.
//!
//! `cargo package -p pss-sys -p pss -p pss-model -p pss-tests` packages the four together (so
//! each resolves the others through cargo's temporary registry) and builds each from its
//! archive. Then, for
//! each crate, from the unpacked archive in `target/package/<name>-<version>/`:
//! - its README, licence texts, manifest and library root are there;
//! - every relative link in the README names a file in the archive;
//! - no file mentions the project's reference documents (which are not published) or a path
//!   outside the crate (`../`), except the manifest.

use crate::{Result, run};
use std::path::Path;

/// The published crates.
const CRATES: [&str; 4] = ["pss-sys", "pss", "pss-model", "pss-tests"];
/// Files every published crate holds.
const REQUIRED: [&str; 5] = [
    "Cargo.toml",
    "README.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    "src/lib.rs",
];
/// Names of documents that exist only in the project's working folders, never in a crate.
const UNPUBLISHED: [&str; 4] = [
    "PSS-CONTRACT",
    "PITFALLS",
    "WINDOWS-EVIDENCE",
    "shared/reference",
];

pub fn main(args: &[String]) -> Result {
    crate::flags(args, [])?;
    println!("{}", check()?);
    Ok(())
}

/// Packages and verifies the published crates, then checks their contents; a one-line summary.
pub fn check() -> Result<String> {
    let mut package = run::cargo();
    package.args(["package", "--allow-dirty"]);
    for name in CRATES {
        package.args(["-p", name]);
    }
    run::run(&mut package)?;
    let version = crate::provision::workspace_version()?;
    let mut summary = Vec::new();
    let mut problems = Vec::new();
    for name in CRATES {
        let root = run::workspace_root().join(format!("target/package/{name}-{version}"));
        let files = files_under(&root)?;
        for required in REQUIRED {
            if !files.iter().any(|f| f == required) {
                problems.push(format!("{name}: {required} is not in the package"));
            }
        }
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
        for link in relative_links(&readme) {
            if !files.contains(&link) {
                problems.push(format!("{name}: README links {link}, not in the package"));
            }
        }
        for file in &files {
            let Ok(text) = std::fs::read_to_string(root.join(file)) else {
                continue; // not text
            };
            for word in UNPUBLISHED {
                if text.contains(word) {
                    problems.push(format!("{name}: {file} refers to {word}"));
                }
            }
            if file != "Cargo.toml.orig" && file != "Cargo.toml" && text.contains("](../") {
                problems.push(format!("{name}: {file} links outside the crate"));
            }
        }
        summary.push(format!("{name} {version} ({} files)", files.len()));
    }
    if problems.is_empty() {
        Ok(format!(
            "{}: packaged, verified, contents checked",
            summary.join(", ")
        ))
    } else {
        Err(problems.join("\n").into())
    }
}

/// Every file under `root`, as `/`-separated relative paths.
fn files_under(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)?
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(relative);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The targets of the Markdown links in `text` that are relative paths (no scheme, no anchor
/// only), without any `#anchor`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("");
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.trim_start_matches("./").to_string());
        }
        rest = &rest[end..];
    }
    // Reference-style definitions: `[name]: target`.
    for line in text.lines() {
        if let Some((_, target)) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("]: "))
            .filter(|(label, _)| !label.is_empty())
        {
            let target = target.split('#').next().unwrap_or("").trim();
            if !target.is_empty() && !target.contains("://") {
                links.push(target.trim_start_matches("./").to_string());
            }
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_are_found_and_urls_are_not() {
        let text = "see [a](bindings.txt) and [b](https://x.y/z), [c](./src/lib.rs#top)\n\
                    [d]: layout/probe.c\n[e]: https://crates.io/crates/pss\n";
        assert_eq!(
            relative_links(text),
            ["bindings.txt", "src/lib.rs", "layout/probe.c"]
        );
    }
}
