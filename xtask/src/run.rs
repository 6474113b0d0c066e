//! Running commands: echo them, check their status, keep their output when asked.

use crate::Result;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `cargo` as cargo itself was invoked (respects `$CARGO`), without the rustup toolchain
/// override that `cargo +nightly xtask` would leak into child processes.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

/// `cargo +<toolchain>` through rustup's proxy.
pub fn cargo_on(toolchain: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.env_remove("RUSTUP_TOOLCHAIN");
    cmd.env_remove("CARGO");
    cmd.arg(format!("+{toolchain}"));
    cmd
}

fn describe(cmd: &Command) -> String {
    let mut text = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            text += &format!("{}={} ", key.to_string_lossy(), value.to_string_lossy());
        }
    }
    text += &cmd.get_program().to_string_lossy();
    for arg in cmd.get_args() {
        text.push(' ');
        text += &arg.to_string_lossy();
    }
    text
}

/// Runs `cmd` with inherited output; fails unless it exits with status 0.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed: {status}", describe(cmd)).into())
    }
}

/// Runs `cmd` with its output appended to `log` (for a check that runs beside others, whose
/// output would interleave with its own); fails unless it exits with status 0, the error
/// ending with the log's last lines.
pub fn run_logged(cmd: &mut Command, log: &Path) -> Result {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    writeln!(file, "$ {}", describe(cmd))?;
    let status = cmd
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    Err(format!(
        "`{}` failed: {status}; the end of {}:\n{tail}",
        describe(cmd),
        log.display()
    )
    .into())
}

/// Runs `cmd`, returning its standard output; standard error passes through.
pub fn output(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {}", describe(cmd));
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{}` failed: {}", describe(cmd), out.status).into())
    }
}

/// True if `program` can be found on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Compares `fresh` with the file at `path`: Ok if equal, else an error that summarises the
/// difference (line counts and the first differing lines) and says how to regenerate.
pub fn check_same(path: &Path, fresh: &str, regenerate: &str) -> Result {
    let committed = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if committed == fresh {
        return Ok(());
    }
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = fresh.lines().collect();
    let mut summary = format!(
        "{} differs from fresh output ({} committed lines, {} fresh lines); run `{regenerate}`\n",
        path.display(),
        old.len(),
        new.len()
    );
    let mut shown = 0;
    for i in 0..old.len().max(new.len()) {
        let (a, b) = (old.get(i), new.get(i));
        if a != b {
            summary += &format!("  line {}:\n", i + 1);
            if let Some(a) = a {
                summary += &format!("    - {a}\n");
            }
            if let Some(b) = b {
                summary += &format!("    + {b}\n");
            }
            shown += 1;
            if shown == 10 {
                summary += "  ...\n";
                break;
            }
        }
    }
    Err(summary.into())
}

/// Builds (and links) the workspace's test binaries for `target` without running them, and
/// returns their paths; no binary at all is an error.
pub fn build_tests(target: &str) -> Result<Vec<PathBuf>> {
    let json = output(cargo().args([
        "test",
        "--workspace",
        "--exclude",
        "xtask",
        "--no-run",
        "--message-format=json",
        "--target",
        target,
    ]))?;
    let binaries = test_executables(&json);
    if binaries.is_empty() {
        return Err("cargo reported no test binaries".into());
    }
    Ok(binaries)
}

/// The executables `cargo test --no-run --message-format=json` reports, one per test target.
/// Examples, which `cargo test` also builds (their profile is not a test profile), are left out:
/// they are programs, not libtest binaries.
pub fn test_executables(json: &str) -> Vec<PathBuf> {
    json.lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| test_profile(line))
        .filter_map(|line| {
            let start = line.find(r#""executable":""#)? + r#""executable":""#.len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(line[start..end].replace("\\\\", "\\")))
        })
        .collect()
}

/// True if a compiler-artifact line was built with a test profile (`"profile":{...,"test":true}`).
fn test_profile(line: &str) -> bool {
    let Some(start) = line.find(r#""profile":{"#) else {
        return false;
    };
    let profile = &line[start..];
    let end = profile.find('}').unwrap_or(profile.len());
    profile[..end].contains(r#""test":true"#)
}
