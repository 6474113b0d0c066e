//! `cargo xtask demo`: the psscap example end to end. It captures a process with every capture
//! flag, queries every information class, walks every walk class, prints the report and frees
//! the snapshot. On Windows it runs against the real kernel32 (on a pid given after `--`, or
//! itself); on any other host against the pss-tests model of kernel32, which the report says on
//! its first lines.

use crate::{Result, run};

pub fn main(args: &[String]) -> Result {
    run::run(
        run::cargo()
            .args(["run", "--quiet", "-p", "pss", "--example", "psscap", "--"])
            .args(args.iter().filter(|a| a.as_str() != "--")),
    )
}
