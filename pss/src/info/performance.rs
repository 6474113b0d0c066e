//! `PerformanceCounters`: `PSS_PERFORMANCE_COUNTERS`.

use std::time::Duration;

use pss_sys as sys;

/// What capturing one part of a snapshot cost: a `…CycleCount` / `…WallClockPeriod` pair of
/// [`PSS_PERFORMANCE_COUNTERS`].
///
/// [`PSS_PERFORMANCE_COUNTERS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_performance_counters
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct CaptureCost {
    /// `…CycleCount`: "the count of clock cycles spent".
    pub cycles: u64,
    /// `…WallClockPeriod`, in microseconds, as a duration (see [`PerformanceCounters`] on the
    /// unit).
    pub wall_clock: Duration,
}

impl CaptureCost {
    fn new(cycles: u64, wall_clock_micros: u64) -> Self {
        CaptureCost {
            cycles,
            wall_clock: Duration::from_micros(wall_clock_micros),
        }
    }
}

/// How long the capture took, in total and per part: [`PSS_PERFORMANCE_COUNTERS`], measured
/// when the snapshot was captured with
/// [`CaptureFlags::CREATE_MEASURE_PERFORMANCE`](crate::CaptureFlags::CREATE_MEASURE_PERFORMANCE).
///
/// Without that flag Windows still answers the query, with zeros: [`is_measured`](Self::is_measured)
/// tells the two apart.
///
/// Units: cycle counts are the capturing thread's cycle-time deltas. The wall-clock fields are
/// microseconds: Windows computes them as `1,000,000 × ΔQPC / frequency`, which matches the
/// header's `PSS_PERF_RESOLUTION` (1000000, "the resolution in microseconds"); the structure's
/// page calls them "FILETIME units", which is wrong. The raw numbers are in
/// [`as_raw`](Self::as_raw).
///
/// [`PSS_PERFORMANCE_COUNTERS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_performance_counters
#[doc(alias = "PSS_PERFORMANCE_COUNTERS")]
#[derive(Clone, Copy)]
pub struct PerformanceCounters {
    raw: sys::PSS_PERFORMANCE_COUNTERS,
}

impl PerformanceCounters {
    pub(crate) fn from_raw(raw: sys::PSS_PERFORMANCE_COUNTERS) -> Self {
        PerformanceCounters { raw }
    }

    /// False when every counter is zero: the capture was not measured (captured without
    /// `PSS_CREATE_MEASURE_PERFORMANCE`), or measured nothing.
    pub fn is_measured(&self) -> bool {
        self.as_array().iter().any(|&n| n != 0)
    }

    fn as_array(&self) -> [u64; 12] {
        let r = &self.raw;
        [
            r.TotalCycleCount,
            r.TotalWallClockPeriod,
            r.VaCloneCycleCount,
            r.VaCloneWallClockPeriod,
            r.VaSpaceCycleCount,
            r.VaSpaceWallClockPeriod,
            r.AuxPagesCycleCount,
            r.AuxPagesWallClockPeriod,
            r.HandlesCycleCount,
            r.HandlesWallClockPeriod,
            r.ThreadsCycleCount,
            r.ThreadsWallClockPeriod,
        ]
    }

    /// `TotalCycleCount`, `TotalWallClockPeriod`: the whole capture.
    #[doc(alias = "TotalCycleCount", alias = "TotalWallClockPeriod")]
    pub fn total(&self) -> CaptureCost {
        CaptureCost::new(self.raw.TotalCycleCount, self.raw.TotalWallClockPeriod)
    }

    /// `VaCloneCycleCount`, `VaCloneWallClockPeriod`: the VA clone.
    #[doc(alias = "VaCloneCycleCount", alias = "VaCloneWallClockPeriod")]
    pub fn va_clone(&self) -> CaptureCost {
        CaptureCost::new(self.raw.VaCloneCycleCount, self.raw.VaCloneWallClockPeriod)
    }

    /// `VaSpaceCycleCount`, `VaSpaceWallClockPeriod`: the VA space information.
    #[doc(alias = "VaSpaceCycleCount", alias = "VaSpaceWallClockPeriod")]
    pub fn va_space(&self) -> CaptureCost {
        CaptureCost::new(self.raw.VaSpaceCycleCount, self.raw.VaSpaceWallClockPeriod)
    }

    /// `AuxPagesCycleCount`, `AuxPagesWallClockPeriod`: the auxiliary pages.
    #[doc(alias = "AuxPagesCycleCount", alias = "AuxPagesWallClockPeriod")]
    pub fn auxiliary_pages(&self) -> CaptureCost {
        CaptureCost::new(
            self.raw.AuxPagesCycleCount,
            self.raw.AuxPagesWallClockPeriod,
        )
    }

    /// `HandlesCycleCount`, `HandlesWallClockPeriod`: the handle information.
    #[doc(alias = "HandlesCycleCount", alias = "HandlesWallClockPeriod")]
    pub fn handles(&self) -> CaptureCost {
        CaptureCost::new(self.raw.HandlesCycleCount, self.raw.HandlesWallClockPeriod)
    }

    /// `ThreadsCycleCount`, `ThreadsWallClockPeriod`: the thread information.
    #[doc(alias = "ThreadsCycleCount", alias = "ThreadsWallClockPeriod")]
    pub fn threads(&self) -> CaptureCost {
        CaptureCost::new(self.raw.ThreadsCycleCount, self.raw.ThreadsWallClockPeriod)
    }

    /// The structure as the OS wrote it.
    pub fn as_raw(&self) -> &sys::PSS_PERFORMANCE_COUNTERS {
        &self.raw
    }
}

impl core::fmt::Debug for PerformanceCounters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PerformanceCounters")
            .field("measured", &self.is_measured())
            .field("total", &self.total())
            .field("va_clone", &self.va_clone())
            .field("va_space", &self.va_space())
            .field("auxiliary_pages", &self.auxiliary_pages())
            .field("handles", &self.handles())
            .field("threads", &self.threads())
            .finish()
    }
}
