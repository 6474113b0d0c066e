//! `PerformanceCounters`: `PSS_PERFORMANCE_COUNTERS`.

use std::time::Duration;

use pss_sys as sys;

use crate::time::duration_from_ticks;

/// What capturing one part of a snapshot cost: a `…CycleCount` / `…WallClockPeriod` pair of
/// [`PSS_PERFORMANCE_COUNTERS`].
///
/// [`PSS_PERFORMANCE_COUNTERS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_performance_counters
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct CaptureCost {
    /// `…CycleCount`: "the count of clock cycles spent".
    pub cycles: u64,
    /// `…WallClockPeriod`: "the count of FILETIME units spent" (100 ns each), as a duration.
    pub wall_clock: Duration,
}

impl CaptureCost {
    fn new(cycles: u64, wall_clock_ticks: u64) -> Self {
        CaptureCost {
            cycles,
            wall_clock: duration_from_ticks(wall_clock_ticks),
        }
    }
}

/// How long the capture took, in total and per part: [`PSS_PERFORMANCE_COUNTERS`], available
/// when the snapshot was captured with
/// [`CaptureFlags::CREATE_MEASURE_PERFORMANCE`](crate::CaptureFlags::CREATE_MEASURE_PERFORMANCE).
///
/// Units: the structure's page describes the wall-clock fields as `FILETIME` units (100 ns),
/// which `pss` follows; the separate constant `PSS_PERF_RESOLUTION` (1000000, "the resolution
/// in microseconds of the performance counters") contradicts that and is not used. The raw
/// numbers are in [`as_raw`](Self::as_raw).
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
            .field("total", &self.total())
            .field("va_clone", &self.va_clone())
            .field("va_space", &self.va_space())
            .field("auxiliary_pages", &self.auxiliary_pages())
            .field("handles", &self.handles())
            .field("threads", &self.threads())
            .finish()
    }
}
