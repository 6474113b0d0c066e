//! Which process an example snapshots, and through which kernel32 (shared by `psscap` and
//! `pssdump`).
//!
//! On Windows: the process given by its id (default: the example itself), through the real
//! kernel32. Elsewhere there is no kernel32: the `pss-tests` model stands in, and the target
//! is its demo process (a text editor it builds), which the examples' output says.

#[cfg(windows)]
mod imp {
    /// The kernel32 the example runs against.
    pub const KERNEL: &str = "real kernel32";

    /// The process to snapshot.
    pub struct Target {
        pid: u32,
    }

    /// The process `pid` names, or this one.
    pub fn choose(pid: Option<&str>) -> Result<Target, String> {
        let pid = match pid {
            Some(pid) => pid.parse().map_err(|_| format!("not a pid: {pid}"))?,
            None => std::process::id(),
        };
        Ok(Target { pid })
    }

    impl Target {
        pub fn pid(&self) -> u32 {
            self.pid
        }

        pub fn describe(&self) -> String {
            if self.pid == std::process::id() {
                format!("process {} (this example itself)", self.pid)
            } else {
                format!("process {}", self.pid)
            }
        }
    }
}

#[cfg(not(windows))]
mod imp {
    use pss_tests::model::{ModelProcess, demo_process};

    /// The kernel32 the example runs against.
    pub const KERNEL: &str = "the pss-tests model of kernel32 (not Windows)";

    /// The process to snapshot: a model process, removed when this is dropped.
    pub struct Target {
        process: ModelProcess,
    }

    /// The model's demo process; a pid is refused (there are no Windows processes here).
    pub fn choose(pid: Option<&str>) -> Result<Target, String> {
        if let Some(pid) = pid {
            return Err(format!(
                "`{pid}`: this host has no Windows processes to snapshot; a pid is taken only on Windows"
            ));
        }
        Ok(Target {
            process: demo_process().spawn(),
        })
    }

    impl Target {
        pub fn pid(&self) -> u32 {
            self.process.pid()
        }

        pub fn describe(&self) -> String {
            format!(
                "model process {} (a text editor the pss-tests model builds; no real process)",
                self.pid()
            )
        }
    }
}

pub use imp::*;
