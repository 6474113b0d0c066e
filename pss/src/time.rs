//! `FILETIME` values: points in time ([`FileTime`]) and spans of 100-nanosecond ticks.

use core::fmt;
use core::num::NonZeroU64;
use std::time::{Duration, SystemTime};

use pss_sys as sys;

/// 100-nanosecond ticks per second, the unit of a [`FILETIME`].
///
/// [`FILETIME`]: https://learn.microsoft.com/en-us/windows/win32/api/minwinbase/ns-minwinbase-filetime
const TICKS_PER_SECOND: u64 = 10_000_000;

/// Ticks from 1601-01-01 (the `FILETIME` epoch) to 1970-01-01 (the Unix epoch): a constant, not
/// recomputed per conversion.
const UNIX_EPOCH_TICKS: u64 = 11_644_473_600 * TICKS_PER_SECOND;

/// A point in time as the PSS structures hold it: a [`FILETIME`], 100-nanosecond ticks since
/// 1601-01-01 00:00 UTC. Never zero: the structures use zero for "not set" (a thread that has
/// not exited has a zero `ExitTime`), which the accessors return as `None`.
///
/// `pss` keeps the value exactly as captured and converts nothing when an entry is read: times
/// compare, order and hash as they are, and [`to_system_time`](Self::to_system_time) converts
/// one when it is needed. [`Display`](fmt::Display) writes it as UTC in ISO 8601 with all seven
/// fractional digits (`2024-05-01T12:30:00.1234567Z`).
///
/// ```
/// use pss::FileTime;
/// use std::time::SystemTime;
///
/// let epoch = FileTime::from_ticks(116_444_736_000_000_000).unwrap();
/// assert_eq!(epoch.to_system_time(), Some(SystemTime::UNIX_EPOCH));
/// assert_eq!(epoch.to_string(), "1970-01-01T00:00:00.0000000Z");
/// assert_eq!(FileTime::from_ticks(0), None);
/// ```
///
/// [`FILETIME`]: https://learn.microsoft.com/en-us/windows/win32/api/minwinbase/ns-minwinbase-filetime
#[doc(alias = "FILETIME")]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileTime(NonZeroU64);

impl FileTime {
    /// The time `ticks` 100-nanosecond intervals after 1601-01-01 UTC; `None` for zero, which
    /// means "not set".
    #[inline]
    pub const fn from_ticks(ticks: u64) -> Option<FileTime> {
        match NonZeroU64::new(ticks) {
            Some(ticks) => Some(FileTime(ticks)),
            None => None,
        }
    }

    /// A `FILETIME` structure as a time; `None` for zero.
    #[inline]
    pub fn from_raw(time: sys::FILETIME) -> Option<FileTime> {
        FileTime::from_ticks(ticks(time))
    }

    /// The 100-nanosecond ticks since 1601-01-01 UTC (never zero).
    #[inline]
    pub const fn ticks(self) -> u64 {
        self.0.get()
    }

    /// The `FILETIME` structure.
    pub fn to_raw(self) -> sys::FILETIME {
        sys::FILETIME {
            dwLowDateTime: self.ticks() as u32,
            dwHighDateTime: (self.ticks() >> 32) as u32,
        }
    }

    /// The time as a [`SystemTime`], exact to the tick where the platform's `SystemTime` has
    /// that resolution; `None` if this platform's `SystemTime` cannot represent it (on
    /// Windows, ticks above `i64::MAX`, which `FileTimeToSystemTime` rejects too).
    pub fn to_system_time(self) -> Option<SystemTime> {
        let ticks = self.ticks();
        if ticks >= UNIX_EPOCH_TICKS {
            SystemTime::UNIX_EPOCH.checked_add(duration_from_ticks(ticks - UNIX_EPOCH_TICKS))
        } else {
            SystemTime::UNIX_EPOCH.checked_sub(duration_from_ticks(UNIX_EPOCH_TICKS - ticks))
        }
    }
}

impl fmt::Display for FileTime {
    /// UTC, ISO 8601, seven fractional digits: `2024-05-01T12:30:00.1234567Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ticks = self.ticks();
        let fraction = ticks % TICKS_PER_SECOND;
        let seconds = ticks / TICKS_PER_SECOND;
        let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
        let (year, month, day) = civil_from_days_since_1601(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:07}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }
}

impl fmt::Debug for FileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileTime({self})")
    }
}

/// The proleptic Gregorian (year, month, day) `days` days after 1601-01-01. 1601 starts a
/// 400-year cycle, so the cycle arithmetic needs no shift of era (the calendar repeats every
/// 146,097 days).
fn civil_from_days_since_1601(days: u64) -> (u64, u64, u64) {
    let (cycles, mut day) = (days / 146_097, days % 146_097);
    let mut year = 1601 + 400 * cycles;
    // Centuries of 36,524 days (the fourth, ending in a leap year divisible by 400, is one
    // longer), then 4-year spans of 1,461 days, then years of 365 (the fourth is one longer).
    let centuries = (day / 36_524).min(3);
    day -= centuries * 36_524;
    let spans = day / 1_461;
    day -= spans * 1_461;
    let years = (day / 365).min(3);
    day -= years * 365;
    year += 100 * centuries + 4 * spans + years;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let lengths = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 1;
    for length in lengths {
        if day < length {
            break;
        }
        day -= length;
        month += 1;
    }
    (year, month, day + 1)
}

/// The 64-bit tick count of a `FILETIME` (two `DWORD` halves; 4-byte aligned inside the PSS
/// structures on 32-bit targets, so it is always read by value).
#[inline]
pub(crate) fn ticks(time: sys::FILETIME) -> u64 {
    (u64::from(time.dwHighDateTime) << 32) | u64::from(time.dwLowDateTime)
}

/// A `FILETIME` span (kernel time, user time, a wall-clock period) as a [`Duration`].
#[inline]
pub(crate) fn duration(time: sys::FILETIME) -> Duration {
    duration_from_ticks(ticks(time))
}

/// A count of 100-nanosecond ticks as a [`Duration`]; never overflows.
#[inline]
pub(crate) fn duration_from_ticks(ticks: u64) -> Duration {
    let nanos = (ticks % TICKS_PER_SECOND) as u32 * 100;
    Duration::new(ticks / TICKS_PER_SECOND, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ticks: u64) -> FileTime {
        FileTime::from_ticks(ticks).unwrap()
    }

    #[test]
    fn zero_is_not_a_time() {
        assert_eq!(FileTime::from_ticks(0), None);
        assert_eq!(FileTime::from_raw(sys::FILETIME::default()), None);
    }

    #[test]
    fn unix_epoch_is_11644473600_seconds_after_1601() {
        assert_eq!(
            at(UNIX_EPOCH_TICKS).to_system_time(),
            Some(SystemTime::UNIX_EPOCH)
        );
        assert_eq!(
            at(UNIX_EPOCH_TICKS - 15).to_system_time(),
            SystemTime::UNIX_EPOCH.checked_sub(Duration::from_nanos(1500))
        );
        assert_eq!(
            at(UNIX_EPOCH_TICKS + 15).to_system_time(),
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_nanos(1500))
        );
    }

    #[test]
    fn raw_round_trip() {
        let time = at(0x0123_4567_89ab_cdef);
        assert_eq!(time.to_raw().dwHighDateTime, 0x0123_4567);
        assert_eq!(FileTime::from_raw(time.to_raw()), Some(time));
    }

    #[test]
    fn displayed_as_utc_iso_8601() {
        let day = 86_400 * TICKS_PER_SECOND;
        assert_eq!(at(1).to_string(), "1601-01-01T00:00:00.0000001Z");
        assert_eq!(
            at(UNIX_EPOCH_TICKS).to_string(),
            "1970-01-01T00:00:00.0000000Z"
        );
        // 2000-02-29 (a leap day of a year divisible by 400), 12:34:56.7890123.
        let leap = UNIX_EPOCH_TICKS + 951_827_696 * TICKS_PER_SECOND + 7_890_123;
        assert_eq!(at(leap).to_string(), "2000-02-29T12:34:56.7890123Z");
        // 1900 is not a leap year: its 28 February is followed by 1 March.
        let feb_28_1900 = 109_265 * day;
        assert_eq!(at(feb_28_1900).to_string(), "1900-02-28T00:00:00.0000000Z");
        assert_eq!(
            at(feb_28_1900 + day).to_string(),
            "1900-03-01T00:00:00.0000000Z"
        );
        // The last day of a 400-year cycle, and the first of the next.
        assert_eq!(
            at(146_096 * day).to_string(),
            "2000-12-31T00:00:00.0000000Z"
        );
        assert_eq!(
            at(146_097 * day).to_string(),
            "2001-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            format!("{:?}", at(1)),
            "FileTime(1601-01-01T00:00:00.0000001Z)"
        );
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "300,000 days one at a time take 14 minutes under Miri, and the test has no unsafe code for Miri to check"
    )]
    fn calendar_agrees_with_counting_days_one_by_one() {
        // From 1601-01-01 past 2400-12-31 (three leap-century rules), one day at a time.
        let (mut y, mut m, mut d) = (1601, 1, 1);
        for days in 0..300_000 {
            assert_eq!(civil_from_days_since_1601(days), (y, m, d), "day {days}");
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let length = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > length {
                (d, m) = (1, m + 1);
            }
            if m > 12 {
                (m, y) = (1, y + 1);
            }
        }
    }

    #[test]
    fn durations_keep_100ns_ticks() {
        let filetime = |ticks: u64| sys::FILETIME {
            dwLowDateTime: ticks as u32,
            dwHighDateTime: (ticks >> 32) as u32,
        };
        assert_eq!(duration(filetime(15)), Duration::from_nanos(1500));
        assert_eq!(
            duration(filetime(u64::MAX)).as_secs(),
            u64::MAX / TICKS_PER_SECOND
        );
    }
}
