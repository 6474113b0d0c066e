//! `FILETIME` conversions: points in time since 1601 and spans of 100-nanosecond ticks.

use std::time::{Duration, SystemTime};

use pss_sys as sys;

/// 100-nanosecond ticks per second, the unit of a [`FILETIME`].
///
/// [`FILETIME`]: https://learn.microsoft.com/en-us/windows/win32/api/minwinbase/ns-minwinbase-filetime
const TICKS_PER_SECOND: u64 = 10_000_000;

/// Seconds from 1601-01-01 (the `FILETIME` epoch) to 1970-01-01 (the Unix epoch).
const SECONDS_1601_TO_1970: u64 = 11_644_473_600;

/// The 64-bit tick count of a `FILETIME` (two `DWORD` halves; 4-byte aligned inside the PSS
/// structures on 32-bit targets, so it is always read by value).
pub(crate) fn ticks(time: sys::FILETIME) -> u64 {
    (u64::from(time.dwHighDateTime) << 32) | u64::from(time.dwLowDateTime)
}

/// A `FILETIME` span (kernel time, user time, a wall-clock period) as a [`Duration`].
pub(crate) fn duration(time: sys::FILETIME) -> Duration {
    duration_from_ticks(ticks(time))
}

/// A count of 100-nanosecond ticks as a [`Duration`]; never overflows.
pub(crate) fn duration_from_ticks(ticks: u64) -> Duration {
    let nanos = (ticks % TICKS_PER_SECOND) as u32 * 100;
    Duration::new(ticks / TICKS_PER_SECOND, nanos)
}

/// A `FILETIME` point in time (UTC, since 1601) as a [`SystemTime`]; `None` for zero, which the
/// PSS structures use for "not set" (a process or thread that has not exited has a zero
/// `ExitTime`), and for a time this platform's `SystemTime` cannot represent.
pub(crate) fn system_time(time: sys::FILETIME) -> Option<SystemTime> {
    let ticks = ticks(time);
    if ticks == 0 {
        return None;
    }
    let since_1601 = duration_from_ticks(ticks);
    let epoch_1601 =
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(SECONDS_1601_TO_1970))?;
    epoch_1601.checked_add(since_1601)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filetime(ticks: u64) -> sys::FILETIME {
        sys::FILETIME {
            dwLowDateTime: ticks as u32,
            dwHighDateTime: (ticks >> 32) as u32,
        }
    }

    #[test]
    fn zero_is_not_a_time() {
        assert_eq!(system_time(filetime(0)), None);
    }

    #[test]
    fn unix_epoch_is_11644473600_seconds_after_1601() {
        let t = system_time(filetime(SECONDS_1601_TO_1970 * TICKS_PER_SECOND));
        assert_eq!(t, Some(SystemTime::UNIX_EPOCH));
    }

    #[test]
    fn durations_keep_100ns_ticks() {
        assert_eq!(duration(filetime(15)), Duration::from_nanos(1500));
        assert_eq!(
            duration(filetime(u64::MAX)).as_secs(),
            u64::MAX / TICKS_PER_SECOND
        );
    }
}
