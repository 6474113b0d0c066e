//! `cargo xtask bindgen [--check]`: pss-sys's generated files from their committed filter lists.

use crate::{Result, run};
use std::path::Path;

/// (filter list, generated file): the always-on bindings, and those of the `dbghelp` feature.
const OUTPUTS: [(&str, &str); 2] = [
    ("pss-sys/bindings.txt", "pss-sys/src/bindings.rs"),
    ("pss-sys/bindings-minidump.txt", "pss-sys/src/minidump.rs"),
];

pub fn main(args: &[String]) -> Result {
    let [check] = crate::flags(args, ["--check"])?;
    if check {
        return self::check();
    }
    for (filter, out) in OUTPUTS {
        generate(filter, Path::new(out))?;
    }
    Ok(())
}

/// Fails, with a diff summary, when a committed file differs from fresh output.
pub fn check() -> Result {
    std::fs::create_dir_all("target/xtask")?;
    for (filter, committed) in OUTPUTS {
        let name = Path::new(committed).file_name().ok_or("no file name")?;
        let fresh = Path::new("target/xtask").join(name);
        generate(filter, &fresh)?;
        run::check_same(
            Path::new(committed),
            &std::fs::read_to_string(&fresh)?,
            "cargo xtask bindgen",
        )?;
    }
    Ok(())
}

/// Runs windows-bindgen on a committed filter list; any warning is an error.
fn generate(filter: &str, out: &Path) -> Result {
    let out = out.to_str().ok_or("output path is not UTF-8")?;
    eprintln!("windows-bindgen --etc {filter} --out {out}");
    let warnings = windows_bindgen::bindgen(["--etc", filter, "--out", out]);
    if warnings.is_empty() {
        Ok(())
    } else {
        Err(format!("windows-bindgen warned (treated as failure):\n{warnings}").into())
    }
}
