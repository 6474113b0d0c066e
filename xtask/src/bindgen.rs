//! `cargo xtask bindgen [--check]`: pss-sys/src/bindings.rs from pss-sys/bindings.txt.

use crate::{Result, run};
use std::path::Path;

const FILTER: &str = "pss-sys/bindings.txt";
const BINDINGS: &str = "pss-sys/src/bindings.rs";

pub fn main(args: &[String]) -> Result {
    let [check] = crate::flags(args, ["--check"])?;
    if check {
        self::check()
    } else {
        generate(Path::new(BINDINGS))
    }
}

/// Fails, with a diff summary, when the committed bindings differ from fresh output.
pub fn check() -> Result {
    let fresh = Path::new("target/xtask/bindings.rs");
    std::fs::create_dir_all("target/xtask")?;
    generate(fresh)?;
    run::check_same(
        Path::new(BINDINGS),
        &std::fs::read_to_string(fresh)?,
        "cargo xtask bindgen",
    )
}

/// Runs windows-bindgen on the committed filter list; any warning is an error.
fn generate(out: &Path) -> Result {
    let out = out.to_str().ok_or("output path is not UTF-8")?;
    eprintln!("windows-bindgen --etc {FILTER} --out {out}");
    let warnings = windows_bindgen::bindgen(["--etc", FILTER, "--out", out]);
    if warnings.is_empty() {
        Ok(())
    } else {
        Err(format!("windows-bindgen warned (treated as failure):\n{warnings}").into())
    }
}
