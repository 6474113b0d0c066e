//! `ExitStatus`: running, or exited with a code, without the `STILL_ACTIVE` ambiguity.

use pss_sys as sys;

/// `STILL_ACTIVE` (259), the exit status PSS reports for a process or thread that has not
/// exited. A program may also exit with 259, so the number alone is ambiguous.
const STILL_ACTIVE: u32 = sys::STILL_ACTIVE as u32;

/// Whether a process or thread had exited when it was captured, and with which code: the
/// `ExitStatus` field of `PSS_PROCESS_INFORMATION` and `PSS_THREAD_ENTRY`, disambiguated.
///
/// These fields hold `STILL_ACTIVE` (259) "if the process has not exited", but 259 is also a
/// valid exit code. `pss` decides with the evidence next to it:
///
/// - a status other than 259 means exited: a running process or thread always reports 259;
/// - a status of 259 means exited (with code 259) when the structure also records an exit: a
///   non-zero `ExitTime` ("if the process exited, the time of the exit"), or, for threads,
///   `PSS_THREAD_FLAGS_TERMINATED`;
/// - otherwise, running.
///
/// The raw number stays available (`exit_status_raw` on each type) for callers who want it.
///
/// See [`PSS_PROCESS_INFORMATION`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_process_information).
#[doc(alias = "STILL_ACTIVE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// Not exited at capture time (`STILL_ACTIVE`, and no exit recorded).
    Running,
    /// Exited with this code (which may be 259).
    Exited(u32),
}

impl ExitStatus {
    /// Decides from the raw status and whether the structure records an exit.
    #[inline]
    pub(crate) fn decide(raw: u32, exit_recorded: bool) -> Self {
        if raw != STILL_ACTIVE || exit_recorded {
            ExitStatus::Exited(raw)
        } else {
            ExitStatus::Running
        }
    }

    /// The exit code, if exited.
    #[inline]
    pub fn code(self) -> Option<u32> {
        match self {
            ExitStatus::Running => None,
            ExitStatus::Exited(code) => Some(code),
        }
    }

    /// True if not exited at capture time.
    #[inline]
    pub fn is_running(self) -> bool {
        self == ExitStatus::Running
    }
}
