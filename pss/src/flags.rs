//! Capture flags and thread-context flags for `PssCaptureSnapshot`.

use pss_sys as sys;

bitflags::bitflags! {
    /// What `PssCaptureSnapshot` captures: [`PSS_CAPTURE_FLAGS`], every documented flag.
    ///
    /// `Debug` prints flag names. The access rights each flag needs on the process handle are
    /// not documented, except `PROCESS_VM_READ` for
    /// [`VA_SPACE_SECTION_INFORMATION`](Self::VA_SPACE_SECTION_INFORMATION); the rights
    /// [`ProcessAccess::for_capture`](crate::ProcessAccess::for_capture) derives per flag are
    /// our inference, noted there.
    ///
    /// [`LocalSnapshot::capture`](crate::LocalSnapshot::capture) refuses, with
    /// [`ErrorKind::InvalidFlags`](crate::ErrorKind::InvalidFlags) and without calling the OS:
    /// - [`VA_SPACE_SECTION_INFORMATION`](Self::VA_SPACE_SECTION_INFORMATION) without
    ///   [`VA_SPACE`](Self::VA_SPACE) ("only valid when `PSS_CAPTURE_VA_SPACE` is specified";
    ///   Windows ignores it there);
    /// - [`CREATE_BREAKAWAY_OPTIONAL`](Self::CREATE_BREAKAWAY_OPTIONAL) without
    ///   [`CREATE_BREAKAWAY`](Self::CREATE_BREAKAWAY) or
    ///   [`CREATE_FORCE_BREAKAWAY`](Self::CREATE_FORCE_BREAKAWAY) ("must be specified in
    ///   combination"; Windows answers `ERROR_INVALID_PARAMETER`);
    /// - [`THREAD_CONTEXT`](Self::THREAD_CONTEXT) without [`THREADS`](Self::THREADS) (Windows
    ///   captures no thread then), and
    ///   [`THREAD_CONTEXT_EXTENDED`](Self::THREAD_CONTEXT_EXTENDED) without `THREAD_CONTEXT`
    ///   (it does nothing then): a capture "with contexts" that would hold none;
    /// - [`RESERVED_00000400`](Self::RESERVED_00000400) and
    ///   [`RESERVED_00004000`](Self::RESERVED_00004000) ("do not use"; Windows accepts them, for
    ///   data no `pss` type reads);
    /// - any bit no flag here names. Windows rejects bits `0x03FF8000` and accepts the rest; a
    ///   future flag could change how a snapshot is allocated or freed, which this crate's
    ///   ownership rules depend on, so `pss` does not pass unknown bits.
    ///
    /// [`AUXILIARY_PAGES`](Self::AUXILIARY_PAGES), reserved in the pages, is accepted: it is the
    /// only way to capture auxiliary pages.
    ///
    /// [`PSS_CAPTURE_FLAGS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_capture_flags
    #[doc(alias = "PSS_CAPTURE_FLAGS")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct CaptureFlags: u32 {
        /// `PSS_CAPTURE_VA_CLONE`: capture all cloneable pages (all `MEM_PRIVATE` regions
        /// and the shareable `MEM_MAPPED`/`MEM_IMAGE` sections) into a "VA clone" process
        /// owned by the snapshot. Costs copy-on-write memory in the target until the snapshot
        /// is freed. Rights: undocumented; Windows needs `PROCESS_CREATE_PROCESS` (the clone is
        /// created with the target as its parent). See [`VaClone`](crate::VaClone).
        #[doc(alias = "PSS_CAPTURE_VA_CLONE")]
        const VA_CLONE = sys::PSS_CAPTURE_VA_CLONE;
        /// `0x2`, `PSS_CAPTURE_RESERVED_00000002` in Microsoft's pages ("do not use"): the
        /// auxiliary pages, the only flag that captures them.
        ///
        /// Microsoft's pages name no flag for auxiliary pages and call this bit reserved; the
        /// implementation captures them with it and with nothing else (Windows' own capture in
        /// Windows Error Reporting sets it). On Windows 11 that is one page, the shared user-data
        /// page at `0x7FFE0000` ([`auxiliary_pages`](crate::LocalSnapshot::auxiliary_pages)).
        /// Without it, [`auxiliary_page_count`](crate::LocalSnapshot::auxiliary_page_count)
        /// and the walk report [`ErrorKind::NotCaptured`](crate::ErrorKind::NotCaptured) with
        /// this flag. `pss` accepts it on that evidence, against the page's "do not use".
        #[doc(alias = "PSS_CAPTURE_RESERVED_00000002")]
        const AUXILIARY_PAGES = sys::PSS_CAPTURE_RESERVED_00000002;
        /// `PSS_CAPTURE_HANDLES`: capture the handle table. The pages say "handle values only";
        /// Windows also gives each handle it can duplicate out of the process its type name.
        /// Rights: undocumented; without `PROCESS_DUP_HANDLE` Windows still captures the values,
        /// but no handle gets a type name or any detail (see [`HandleEntry`](crate::HandleEntry)).
        #[doc(alias = "PSS_CAPTURE_HANDLES")]
        const HANDLES = sys::PSS_CAPTURE_HANDLES;
        /// `PSS_CAPTURE_HANDLE_NAME_INFORMATION`: capture each handle's object name. Rights:
        /// undocumented.
        #[doc(alias = "PSS_CAPTURE_HANDLE_NAME_INFORMATION")]
        const HANDLE_NAME_INFORMATION = sys::PSS_CAPTURE_HANDLE_NAME_INFORMATION;
        /// `PSS_CAPTURE_HANDLE_BASIC_INFORMATION`: capture basic handle information
        /// (`HandleCount`, `PointerCount`, `GrantedAccess`, ...). Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_HANDLE_BASIC_INFORMATION")]
        const HANDLE_BASIC_INFORMATION = sys::PSS_CAPTURE_HANDLE_BASIC_INFORMATION;
        /// `PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION`: capture type-specific information
        /// for process, thread, event, mutant and section handles. Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION")]
        const HANDLE_TYPE_SPECIFIC_INFORMATION = sys::PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION;
        /// `PSS_CAPTURE_HANDLE_TRACE`: capture the handle tracing table, if the process has handle
        /// tracing enabled (otherwise there is none, and the query says so). A failure to read
        /// it does not fail the capture. Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_HANDLE_TRACE")]
        const HANDLE_TRACE = sys::PSS_CAPTURE_HANDLE_TRACE;
        /// `PSS_CAPTURE_THREADS`: capture thread information (IDs only). Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_THREADS")]
        const THREADS = sys::PSS_CAPTURE_THREADS;
        /// `PSS_CAPTURE_THREAD_CONTEXT`: capture each thread's `CONTEXT`, with the
        /// [`ContextFlags`] passed to capture. Only with [`THREADS`](Self::THREADS): Windows
        /// captures threads only with that flag, so this one alone captures nothing, and `pss`
        /// refuses it alone ([`CaptureOptions::context`] and [`CaptureFlags::context`] add
        /// both). Rights: those of `THREADS` (undocumented), plus `THREAD_GET_CONTEXT` on each
        /// thread, which Windows asks for itself.
        #[doc(alias = "PSS_CAPTURE_THREAD_CONTEXT")]
        const THREAD_CONTEXT = sys::PSS_CAPTURE_THREAD_CONTEXT;
        /// `PSS_CAPTURE_THREAD_CONTEXT_EXTENDED`: capture extended thread contexts (e.g.
        /// `CONTEXT_XSTATE`), sized by the CPU's features; whether [`ContextFlags`] must then
        /// name `CONTEXT_XSTATE` is not documented (Windows' own captures pass
        /// `CONTEXT_ALL | CONTEXT_XSTATE`, which is [`CaptureOptions`]' default with this flag).
        /// Without [`THREAD_CONTEXT`](Self::THREAD_CONTEXT) it does nothing on Windows, and
        /// `pss` refuses it. Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_THREAD_CONTEXT_EXTENDED")]
        const THREAD_CONTEXT_EXTENDED = sys::PSS_CAPTURE_THREAD_CONTEXT_EXTENDED;
        /// `PSS_CAPTURE_RESERVED_00000400`: "do not use"; `pss` refuses it. (Windows accepts it
        /// and records each thread's last system call in reserved entry fields.)
        #[doc(alias = "PSS_CAPTURE_RESERVED_00000400")]
        const RESERVED_00000400 = sys::PSS_CAPTURE_RESERVED_00000400;
        /// `PSS_CAPTURE_VA_SPACE`: capture the address space as `MEMORY_BASIC_INFORMATION`
        /// records (not the page contents). Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_VA_SPACE")]
        const VA_SPACE = sys::PSS_CAPTURE_VA_SPACE;
        /// `PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION`: for `MEM_IMAGE` and `MEM_MAPPED`
        /// regions, the backing file's path; for images also `TimeDateStamp`, `SizeOfImage`,
        /// `ImageBase` and `CheckSum`. Only valid with [`VA_SPACE`](Self::VA_SPACE). Rights:
        /// `PROCESS_VM_READ` (the only right the documentation names for capture); without it
        /// Windows still captures the names but leaves the image values zero.
        #[doc(alias = "PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION")]
        const VA_SPACE_SECTION_INFORMATION = sys::PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION;
        /// `PSS_CAPTURE_IPT_TRACE`: listed by the documentation without a description (an
        /// Intel Processor Trace capture, by its name). Rights: undocumented.
        #[doc(alias = "PSS_CAPTURE_IPT_TRACE")]
        const IPT_TRACE = sys::PSS_CAPTURE_IPT_TRACE;
        /// `PSS_CAPTURE_RESERVED_00004000`: reserved, named in the syntax block without a
        /// value (0x4000 from the headers); `pss` refuses it. (Windows accepts it: it queries
        /// the address space in bulk.)
        #[doc(alias = "PSS_CAPTURE_RESERVED_00004000")]
        const RESERVED_00004000 = sys::PSS_CAPTURE_RESERVED_00004000;
        /// `PSS_CREATE_BREAKAWAY_OPTIONAL`: if the VA clone cannot break away from the job,
        /// create it inside the job. Needs [`CREATE_BREAKAWAY`](Self::CREATE_BREAKAWAY) or
        /// [`CREATE_FORCE_BREAKAWAY`](Self::CREATE_FORCE_BREAKAWAY). Windows retries a refused
        /// clone without force, then without breakaway. The breakaway flags only matter with
        /// [`VA_CLONE`](Self::VA_CLONE); Windows ignores them otherwise.
        #[doc(alias = "PSS_CREATE_BREAKAWAY_OPTIONAL")]
        const CREATE_BREAKAWAY_OPTIONAL = sys::PSS_CREATE_BREAKAWAY_OPTIONAL;
        /// `PSS_CREATE_BREAKAWAY`: the VA clone leaves the parent's job (as
        /// `CREATE_BREAKAWAY_FROM_JOB`).
        #[doc(alias = "PSS_CREATE_BREAKAWAY")]
        const CREATE_BREAKAWAY = sys::PSS_CREATE_BREAKAWAY;
        /// `PSS_CREATE_FORCE_BREAKAWAY`: the VA clone is forced out of the job; only for
        /// callers with the Tcb privilege (the OS checks). Wins over
        /// [`CREATE_BREAKAWAY`](Self::CREATE_BREAKAWAY).
        #[doc(alias = "PSS_CREATE_FORCE_BREAKAWAY")]
        const CREATE_FORCE_BREAKAWAY = sys::PSS_CREATE_FORCE_BREAKAWAY;
        /// `PSS_CREATE_USE_VM_ALLOCATIONS`: never use the process heap (e.g. for capture
        /// on a crash path, where the heap may be corrupt). Enables remote free and
        /// `PSS_DUPLICATE_CLOSE_SOURCE`; use
        /// [`LocalSnapshot::capture_vm`](crate::LocalSnapshot::capture_vm) to have the type
        /// record it.
        #[doc(alias = "PSS_CREATE_USE_VM_ALLOCATIONS")]
        const CREATE_USE_VM_ALLOCATIONS = sys::PSS_CREATE_USE_VM_ALLOCATIONS;
        /// `PSS_CREATE_MEASURE_PERFORMANCE`: measure the capture; fills the
        /// `PSS_QUERY_PERFORMANCE_COUNTERS` query (without it, Windows answers that query with
        /// zeros: see [`PerformanceCounters`](crate::PerformanceCounters)).
        #[doc(alias = "PSS_CREATE_MEASURE_PERFORMANCE")]
        const CREATE_MEASURE_PERFORMANCE = sys::PSS_CREATE_MEASURE_PERFORMANCE;
        /// `PSS_CREATE_RELEASE_SECTION`: the VA clone holds no reference to the image (so
        /// e.g. `QueryFullProcessImageName` fails on it). No effect without
        /// [`VA_CLONE`](Self::VA_CLONE); allowed anyway, as documented.
        #[doc(alias = "PSS_CREATE_RELEASE_SECTION")]
        const CREATE_RELEASE_SECTION = sys::PSS_CREATE_RELEASE_SECTION;
    }
}

impl CaptureFlags {
    /// `PSS_CAPTURE_NONE`: capture nothing beyond what every snapshot holds.
    #[doc(alias = "PSS_CAPTURE_NONE")]
    pub const NONE: Self = Self::empty();

    /// Everything a minidump of the snapshot can use: the VA clone (memory), the address space
    /// with section information (modules, memory regions), handles with their details, threads
    /// with contexts (extended ones too), and the clone breaking away from a job where it may.
    /// Microsoft's `pssdump` sample and Kudu capture with these (and
    /// `PSS_CREATE_USE_VM_ALLOCATIONS`, which a dump does not need: see
    /// [`LocalSnapshot::capture_vm`](crate::LocalSnapshot::capture_vm) for when it matters). See
    /// `MinidumpType` (feature `dbghelp`) for which dump contents need which flag. The VA clone
    /// costs the target copy-on-write memory until the snapshot is freed; without it, see
    /// [`DIAGNOSTICS`](Self::DIAGNOSTICS).
    pub const MINIDUMP: Self = Self::VA_CLONE
        .union(Self::VA_SPACE)
        .union(Self::VA_SPACE_SECTION_INFORMATION)
        .union(Self::HANDLES)
        .union(Self::HANDLE_NAME_INFORMATION)
        .union(Self::HANDLE_BASIC_INFORMATION)
        .union(Self::HANDLE_TYPE_SPECIFIC_INFORMATION)
        .union(Self::HANDLE_TRACE)
        .union(Self::THREADS)
        .union(Self::THREAD_CONTEXT)
        .union(Self::THREAD_CONTEXT_EXTENDED)
        .union(Self::CREATE_BREAKAWAY)
        .union(Self::CREATE_BREAKAWAY_OPTIONAL)
        .union(Self::CREATE_RELEASE_SECTION);

    /// Everything about the process but its memory: threads with their contexts, handles with
    /// every detail, the address space with its mapped files and image values. The preset
    /// between [`NONE`](Self::NONE) and [`MINIDUMP`](Self::MINIDUMP), for watchdogs and
    /// monitors: cheap (no VA clone, so no copy-on-write cost for the target), and enough to
    /// say where each thread is, what the process holds open and what it has loaded. Add
    /// [`VA_CLONE`](Self::VA_CLONE) to read memory (stacks, the main image's header).
    pub const DIAGNOSTICS: Self = Self::THREADS
        .union(Self::THREAD_CONTEXT)
        .union(Self::HANDLES)
        .union(Self::HANDLE_NAME_INFORMATION)
        .union(Self::HANDLE_BASIC_INFORMATION)
        .union(Self::HANDLE_TYPE_SPECIFIC_INFORMATION)
        .union(Self::VA_SPACE)
        .union(Self::VA_SPACE_SECTION_INFORMATION);

    const RESERVED: Self = Self::RESERVED_00000400.union(Self::RESERVED_00004000);

    /// These flags, capturing thread contexts with `context`: the same as
    /// [`CaptureOptions::new(self).context(context)`](CaptureOptions::context), which adds
    /// [`THREAD_CONTEXT`](Self::THREAD_CONTEXT) and [`THREADS`](Self::THREADS).
    ///
    /// ```
    /// use pss::{CaptureFlags, ContextFlags};
    ///
    /// let options = CaptureFlags::HANDLES.context(ContextFlags::CONTROL);
    /// assert!(options.flags().contains(CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT));
    /// assert_eq!(options.context_flags(), ContextFlags::CONTROL);
    /// ```
    #[must_use]
    pub const fn context(self, context: ContextFlags) -> CaptureOptions {
        CaptureOptions::new(self).context(context)
    }

    /// Checks the documented rules; `Err` carries the reason for
    /// [`Error::reason`](crate::Error::reason).
    pub(crate) fn check(self) -> Result<(), &'static str> {
        if self.bits() & !Self::all().bits() != 0 {
            return Err("bits that no documented PSS_CAPTURE_FLAGS value names");
        }
        if self.intersects(Self::RESERVED) {
            return Err(
                "PSS_CAPTURE_RESERVED_00000400 and _00004000 are reserved (\"do not use\")",
            );
        }
        if self.contains(Self::VA_SPACE_SECTION_INFORMATION) && !self.contains(Self::VA_SPACE) {
            return Err(
                "PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION is only valid with \
                        PSS_CAPTURE_VA_SPACE",
            );
        }
        if self.contains(Self::THREAD_CONTEXT) && !self.contains(Self::THREADS) {
            return Err(
                "PSS_CAPTURE_THREAD_CONTEXT without PSS_CAPTURE_THREADS: Windows captures threads \
                 only with PSS_CAPTURE_THREADS, so no context would be captured",
            );
        }
        if self.contains(Self::THREAD_CONTEXT_EXTENDED) && !self.contains(Self::THREAD_CONTEXT) {
            return Err(
                "PSS_CAPTURE_THREAD_CONTEXT_EXTENDED without PSS_CAPTURE_THREAD_CONTEXT \
                 captures no context",
            );
        }
        if self.contains(Self::CREATE_BREAKAWAY_OPTIONAL)
            && !self.intersects(Self::CREATE_BREAKAWAY.union(Self::CREATE_FORCE_BREAKAWAY))
        {
            return Err(
                "PSS_CREATE_BREAKAWAY_OPTIONAL needs PSS_CREATE_BREAKAWAY or \
                        PSS_CREATE_FORCE_BREAKAWAY",
            );
        }
        Ok(())
    }
}

/// The `CONTEXT_*` values of the architecture `pss` is compiled for.
#[cfg(target_arch = "x86")]
mod arch {
    use pss_sys as sys;
    pub const CONTROL: u32 = sys::CONTEXT_CONTROL_X86;
    pub const INTEGER: u32 = sys::CONTEXT_INTEGER_X86;
    pub const SEGMENTS: u32 = sys::CONTEXT_SEGMENTS_X86;
    pub const FLOATING_POINT: u32 = sys::CONTEXT_FLOATING_POINT_X86;
    pub const DEBUG_REGISTERS: u32 = sys::CONTEXT_DEBUG_REGISTERS_X86;
    pub const EXTENDED_REGISTERS: u32 = sys::CONTEXT_EXTENDED_REGISTERS_X86;
    pub const FULL: u32 = sys::CONTEXT_FULL_X86;
    pub const ALL: u32 = sys::CONTEXT_ALL_X86;
    pub const XSTATE: u32 = sys::CONTEXT_XSTATE_X86;
}

/// The `CONTEXT_*` values of the architecture `pss` is compiled for.
#[cfg(target_arch = "aarch64")]
mod arch {
    use pss_sys as sys;
    pub const CONTROL: u32 = sys::CONTEXT_CONTROL_ARM64;
    pub const INTEGER: u32 = sys::CONTEXT_INTEGER_ARM64;
    pub const FLOATING_POINT: u32 = sys::CONTEXT_FLOATING_POINT_ARM64;
    pub const DEBUG_REGISTERS: u32 = sys::CONTEXT_DEBUG_REGISTERS_ARM64;
    pub const X18: u32 = sys::CONTEXT_X18_ARM64;
    pub const FULL: u32 = sys::CONTEXT_FULL_ARM64;
    pub const ALL: u32 = sys::CONTEXT_ALL_ARM64;
}

/// The `CONTEXT_*` values of the architecture `pss` is compiled for.
#[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
mod arch {
    use pss_sys as sys;
    pub const CONTROL: u32 = sys::CONTEXT_CONTROL_AMD64;
    pub const INTEGER: u32 = sys::CONTEXT_INTEGER_AMD64;
    pub const SEGMENTS: u32 = sys::CONTEXT_SEGMENTS_AMD64;
    pub const FLOATING_POINT: u32 = sys::CONTEXT_FLOATING_POINT_AMD64;
    pub const DEBUG_REGISTERS: u32 = sys::CONTEXT_DEBUG_REGISTERS_AMD64;
    pub const FULL: u32 = sys::CONTEXT_FULL_AMD64;
    pub const ALL: u32 = sys::CONTEXT_ALL_AMD64;
    pub const XSTATE: u32 = sys::CONTEXT_XSTATE_AMD64;
}

bitflags::bitflags! {
    /// The `CONTEXT` flags for captured thread contexts: the `ThreadContextFlags` argument of
    /// [`PssCaptureSnapshot`], given through [`CaptureOptions::context`].
    ///
    /// `CONTEXT` flag values differ per architecture (hard-coding the x86/x64 values breaks on
    /// ARM64), so the presets are those of the architecture this crate is compiled for: x86
    /// (`CONTEXT_*_X86`), aarch64 (`CONTEXT_*_ARM64`), and otherwise x86_64 (`CONTEXT_*_AMD64`;
    /// also arm64ec, whose threads have x64 contexts, and the non-Windows hosts that only run the
    /// test model). They behave as the crate's other flag types (`bitflags`): presets combine with
    /// `|`, [`from_bits`](Self::from_bits) refuses bits no flag of this architecture names,
    /// [`from_bits_retain`](Self::from_bits_retain) keeps any (records Windows fills may carry
    /// more: CET or exception-reporting bits), and `Debug` prints names. As in Windows' headers,
    /// every flag includes the architecture bit (`CONTEXT_AMD64`, `CONTEXT_i386`, `CONTEXT_ARM64`),
    /// so removing one flag from a set removes that bit too: build the set you want with `|`
    /// rather than by taking flags away.
    ///
    /// The documentation does not say what the OS does with these flags when
    /// [`CaptureFlags::THREAD_CONTEXT`] is not set, nor which layout a 64-bit caller gets for a
    /// 32-bit (WOW64) target; `pss` passes them only with `THREAD_CONTEXT` (see
    /// [`CaptureOptions`]).
    ///
    /// # References
    ///
    /// - [`CONTEXT` (x86_64)](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context)
    /// - [`WOW64_CONTEXT` (x86)](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-wow64_context)
    /// - [`ARM64_NT_CONTEXT` (aarch64)](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-arm64_nt_context)
    ///
    /// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
    #[doc(alias = "CONTEXT_FLAGS", alias = "ThreadContextFlags")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ContextFlags: u32 {
        /// `CONTEXT_CONTROL`: the control registers: instruction, stack and (x86, aarch64) frame
        /// pointers, flags, (x86, x64) code and stack segments, (aarch64) link register.
        #[doc(alias = "CONTEXT_CONTROL")]
        #[doc(
            alias = "CONTEXT_CONTROL_AMD64",
            alias = "CONTEXT_CONTROL_X86",
            alias = "CONTEXT_CONTROL_ARM64"
        )]
        const CONTROL = arch::CONTROL;
        /// `CONTEXT_INTEGER`: the integer registers (on x64 this includes `Rbp`, the frame
        /// pointer).
        #[doc(alias = "CONTEXT_INTEGER")]
        #[doc(
            alias = "CONTEXT_INTEGER_AMD64",
            alias = "CONTEXT_INTEGER_X86",
            alias = "CONTEXT_INTEGER_ARM64"
        )]
        const INTEGER = arch::INTEGER;
        /// `CONTEXT_SEGMENTS`: the segment registers (x86 and x64 only).
        #[doc(alias = "CONTEXT_SEGMENTS")]
        #[doc(alias = "CONTEXT_SEGMENTS_AMD64", alias = "CONTEXT_SEGMENTS_X86")]
        #[cfg(not(target_arch = "aarch64"))]
        const SEGMENTS = arch::SEGMENTS;
        /// `CONTEXT_FLOATING_POINT`: the floating-point (and, on x64 and aarch64, vector)
        /// registers.
        #[doc(alias = "CONTEXT_FLOATING_POINT")]
        #[doc(
            alias = "CONTEXT_FLOATING_POINT_AMD64",
            alias = "CONTEXT_FLOATING_POINT_X86",
            alias = "CONTEXT_FLOATING_POINT_ARM64"
        )]
        const FLOATING_POINT = arch::FLOATING_POINT;
        /// `CONTEXT_DEBUG_REGISTERS`: the hardware breakpoint registers.
        #[doc(alias = "CONTEXT_DEBUG_REGISTERS")]
        #[doc(
            alias = "CONTEXT_DEBUG_REGISTERS_AMD64",
            alias = "CONTEXT_DEBUG_REGISTERS_X86",
            alias = "CONTEXT_DEBUG_REGISTERS_ARM64"
        )]
        const DEBUG_REGISTERS = arch::DEBUG_REGISTERS;
        /// `CONTEXT_EXTENDED_REGISTERS`: the FXSAVE area (x86 only).
        #[doc(
            alias = "CONTEXT_EXTENDED_REGISTERS",
            alias = "CONTEXT_EXTENDED_REGISTERS_X86"
        )]
        #[cfg(target_arch = "x86")]
        const EXTENDED_REGISTERS = arch::EXTENDED_REGISTERS;
        /// `CONTEXT_X18`: register X18, which holds the TEB on Windows (aarch64 only).
        #[doc(alias = "CONTEXT_X18", alias = "CONTEXT_X18_ARM64")]
        #[cfg(target_arch = "aarch64")]
        const X18 = arch::X18;
        /// `CONTEXT_FULL`: control, integer and floating-point registers.
        #[doc(alias = "CONTEXT_FULL")]
        #[doc(
            alias = "CONTEXT_FULL_AMD64",
            alias = "CONTEXT_FULL_X86",
            alias = "CONTEXT_FULL_ARM64"
        )]
        const FULL = arch::FULL;
        /// `CONTEXT_ALL`: every register the `CONTEXT` structure holds (not the XSTATE
        /// extension). The default of [`CaptureOptions`].
        #[doc(alias = "CONTEXT_ALL")]
        #[doc(
            alias = "CONTEXT_ALL_AMD64",
            alias = "CONTEXT_ALL_X86",
            alias = "CONTEXT_ALL_ARM64"
        )]
        const ALL = arch::ALL;
        /// `CONTEXT_XSTATE`: the extended processor state (AVX and later) after the `CONTEXT`
        /// (x86 and x64 only); the records are then longer than `CONTEXT`, sized by the CPU.
        #[doc(alias = "CONTEXT_XSTATE")]
        #[doc(alias = "CONTEXT_XSTATE_AMD64", alias = "CONTEXT_XSTATE_X86")]
        #[cfg(not(target_arch = "aarch64"))]
        const XSTATE = arch::XSTATE;
    }
}

impl ContextFlags {
    /// No flags (0).
    pub const NONE: Self = Self::empty();

    /// The default for captures with
    /// [`THREAD_CONTEXT_EXTENDED`](CaptureFlags::THREAD_CONTEXT_EXTENDED): `CONTEXT_ALL |
    /// CONTEXT_XSTATE` on x86 and x64 (`0x10005F` on x64, what Windows' own crash capture
    /// passes), `CONTEXT_ALL` on aarch64.
    #[cfg(not(target_arch = "aarch64"))]
    pub const ALL_EXTENDED: Self = Self::ALL.union(Self::XSTATE);
    /// The default for captures with
    /// [`THREAD_CONTEXT_EXTENDED`](CaptureFlags::THREAD_CONTEXT_EXTENDED): `CONTEXT_ALL |
    /// CONTEXT_XSTATE` on x86 and x64 (`0x10005F` on x64, what Windows' own crash capture
    /// passes), `CONTEXT_ALL` on aarch64.
    #[cfg(target_arch = "aarch64")]
    pub const ALL_EXTENDED: Self = Self::ALL;
}

/// What [`PssCaptureSnapshot`] captures: the [`CaptureFlags`], and the [`ContextFlags`] for
/// thread contexts, an option that defaults to [`ContextFlags::ALL`].
///
/// Every capture takes `impl Into<CaptureOptions>`, so plain flags are enough:
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, CaptureOptions, ContextFlags, LocalSnapshot};
///
/// # fn main() -> pss::Result<()> {
/// let process = pss::current_process();
/// // No thread contexts: no context flags to spell.
/// let plain = LocalSnapshot::capture(process, CaptureFlags::THREADS)?;
/// // Thread contexts with every register (the default)...
/// let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
/// let full = LocalSnapshot::capture(process, flags)?;
/// // ...or with only the control registers (instruction and stack pointers).
/// let options = CaptureOptions::new(CaptureFlags::THREADS).context(ContextFlags::CONTROL);
/// let small = LocalSnapshot::capture(process, options)?;
/// # Ok(()) }
/// ```
///
/// The context flags reach the OS only with [`CaptureFlags::THREAD_CONTEXT`] (0 otherwise):
/// [`context`](Self::context) adds that flag, so they are never given without it, and adds
/// [`CaptureFlags::THREADS`] too: Windows captures threads (and so their contexts) only with
/// `THREADS`; `THREAD_CONTEXT` alone captures no thread at all.
///
/// # What Windows keeps of the context flags
///
/// A context record is a plain `CONTEXT` unless [`CaptureFlags::THREAD_CONTEXT_EXTENDED`] is
/// set. ntdll then keeps only the architecture's `CONTEXT_ALL` bits of the flags given: a plain
/// record has no room for the extended state, so `CONTEXT_XSTATE`, the CET and the
/// exception-reporting bits are dropped from it (its `ContextFlags` field says so). With
/// `THREAD_CONTEXT_EXTENDED` the record is as long as the CPU's features need and the flags are
/// kept; the default context flags are then [`ContextFlags::ALL`] `|`
/// [`ContextFlags::XSTATE`] (x86, x64: Windows' own crash capture asks for the same), so a
/// dump keeps the AVX registers.
///
/// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
#[doc(alias = "ThreadContextFlags")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaptureOptions {
    flags: CaptureFlags,
    /// The caller's context flags; `None` for the default (see [`CaptureOptions::context_flags`]).
    context: Option<ContextFlags>,
    /// Captures to try in all while a capture with `HANDLES` fails because the handle table
    /// changed during it (1: no retry).
    attempts: u8,
}

impl CaptureOptions {
    /// `flags`, with the default thread-context flags if `flags` has
    /// [`THREAD_CONTEXT`](CaptureFlags::THREAD_CONTEXT): [`ContextFlags::ALL`], and with
    /// [`THREAD_CONTEXT_EXTENDED`](CaptureFlags::THREAD_CONTEXT_EXTENDED) also
    /// [`ContextFlags::XSTATE`] where the architecture has it.
    #[must_use]
    pub const fn new(flags: CaptureFlags) -> Self {
        CaptureOptions {
            flags,
            context: None,
            attempts: 1,
        }
    }

    /// Captures thread contexts with `context`: adds [`CaptureFlags::THREAD_CONTEXT`] and
    /// [`CaptureFlags::THREADS`] to the flags (contexts belong to captured threads; Windows
    /// captures threads only with `THREADS`).
    #[must_use]
    pub const fn context(self, context: ContextFlags) -> Self {
        CaptureOptions {
            flags: self
                .flags
                .union(CaptureFlags::THREAD_CONTEXT)
                .union(CaptureFlags::THREADS),
            context: Some(context),
            attempts: self.attempts,
        }
    }

    /// Retries a capture that failed because a handle was opened in the target while it was
    /// being captured, up to `attempts` captures in all (at least one; 3 is plenty for a busy
    /// process).
    ///
    /// Windows reads a process's handle table in two steps, its size and then its contents, and
    /// fails the whole capture with [`ErrorCode::BAD_LENGTH`](crate::ErrorCode::BAD_LENGTH)
    /// when the table grew in between, which a busy target does now and then. Only that failure
    /// is retried, and only when [`CaptureFlags::HANDLES`] is set; a process without handles
    /// (one that has exited) fails the same way every time, so at most `attempts` captures are
    /// made. Each attempt is one `PssCaptureSnapshot` call; a failed one leaves nothing behind.
    /// See [Capturing processes that are exiting or busy](crate#capturing-processes-that-are-exiting-or-busy).
    #[must_use]
    pub const fn retry_handle_race(self, attempts: u8) -> Self {
        CaptureOptions {
            attempts: if attempts == 0 { 1 } else { attempts },
            ..self
        }
    }

    /// The capture flags.
    pub const fn flags(&self) -> CaptureFlags {
        self.flags
    }

    /// How many captures [`retry_handle_race`](Self::retry_handle_race) allows in all (1: no
    /// retry).
    pub const fn attempts(&self) -> u8 {
        self.attempts
    }

    /// The `ThreadContextFlags` argument as passed: without
    /// [`THREAD_CONTEXT`](CaptureFlags::THREAD_CONTEXT), [`ContextFlags::NONE`]; else the flags
    /// given to [`context`](Self::context), or by default [`ContextFlags::ALL`], with
    /// [`THREAD_CONTEXT_EXTENDED`](CaptureFlags::THREAD_CONTEXT_EXTENDED) `ALL | XSTATE` (x86,
    /// x64; aarch64 has no XSTATE bit).
    pub const fn context_flags(&self) -> ContextFlags {
        if !self.flags.contains(CaptureFlags::THREAD_CONTEXT) {
            return ContextFlags::NONE;
        }
        match self.context {
            Some(context) => context,
            None if self.flags.contains(CaptureFlags::THREAD_CONTEXT_EXTENDED) => {
                ContextFlags::ALL_EXTENDED
            }
            None => ContextFlags::ALL,
        }
    }

    /// These options with `flags` added.
    pub(crate) const fn with_flags(self, flags: CaptureFlags) -> Self {
        CaptureOptions {
            flags: self.flags.union(flags),
            ..self
        }
    }
}

impl From<CaptureFlags> for CaptureOptions {
    fn from(flags: CaptureFlags) -> Self {
        CaptureOptions::new(flags)
    }
}

bitflags::bitflags! {
    /// Process access rights for [`open_process`](crate::open_process): the `PROCESS_*`
    /// values of [Process Security and Access Rights].
    ///
    /// Use a preset for least privilege: [`REMOTE_FREE`](Self::REMOTE_FREE),
    /// [`DUPLICATE_SOURCE`](Self::DUPLICATE_SOURCE),
    /// [`DUPLICATE_TARGET`](Self::DUPLICATE_TARGET), their union
    /// [`REMOTE_SNAPSHOT`](Self::REMOTE_SNAPSHOT), or
    /// [`for_capture`](Self::for_capture). Other rights can be given with
    /// [`from_bits_retain`](Self::from_bits_retain).
    ///
    /// [Process Security and Access Rights]: https://learn.microsoft.com/en-us/windows/win32/procthread/process-security-and-access-rights
    #[doc(alias = "PROCESS_ACCESS_RIGHTS")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ProcessAccess: u32 {
        /// `PROCESS_TERMINATE`.
        #[doc(alias = "PROCESS_TERMINATE")]
        const TERMINATE = sys::PROCESS_TERMINATE;
        /// `PROCESS_CREATE_THREAD`.
        #[doc(alias = "PROCESS_CREATE_THREAD")]
        const CREATE_THREAD = sys::PROCESS_CREATE_THREAD;
        /// `PROCESS_VM_OPERATION`: change the address space (allocate, free, protect).
        #[doc(alias = "PROCESS_VM_OPERATION")]
        const VM_OPERATION = sys::PROCESS_VM_OPERATION;
        /// `PROCESS_VM_READ`: read the address space.
        #[doc(alias = "PROCESS_VM_READ")]
        const VM_READ = sys::PROCESS_VM_READ;
        /// `PROCESS_VM_WRITE`: write the address space.
        #[doc(alias = "PROCESS_VM_WRITE")]
        const VM_WRITE = sys::PROCESS_VM_WRITE;
        /// `PROCESS_DUP_HANDLE`: duplicate handles from or into the process.
        #[doc(alias = "PROCESS_DUP_HANDLE")]
        const DUP_HANDLE = sys::PROCESS_DUP_HANDLE;
        /// `PROCESS_CREATE_PROCESS`: use the process as a parent.
        #[doc(alias = "PROCESS_CREATE_PROCESS")]
        const CREATE_PROCESS = sys::PROCESS_CREATE_PROCESS;
        /// `PROCESS_SET_INFORMATION`.
        #[doc(alias = "PROCESS_SET_INFORMATION")]
        const SET_INFORMATION = sys::PROCESS_SET_INFORMATION;
        /// `PROCESS_QUERY_INFORMATION` (implies `PROCESS_QUERY_LIMITED_INFORMATION`).
        #[doc(alias = "PROCESS_QUERY_INFORMATION")]
        const QUERY_INFORMATION = sys::PROCESS_QUERY_INFORMATION;
        /// `PROCESS_SUSPEND_RESUME`.
        #[doc(alias = "PROCESS_SUSPEND_RESUME")]
        const SUSPEND_RESUME = sys::PROCESS_SUSPEND_RESUME;
        /// `PROCESS_QUERY_LIMITED_INFORMATION`.
        #[doc(alias = "PROCESS_QUERY_LIMITED_INFORMATION")]
        const QUERY_LIMITED_INFORMATION = sys::PROCESS_QUERY_LIMITED_INFORMATION;
        /// `SYNCHRONIZE`: wait on the process.
        #[doc(alias = "PROCESS_SYNCHRONIZE")]
        const SYNCHRONIZE = sys::PROCESS_SYNCHRONIZE;
    }
}

impl ProcessAccess {
    /// The rights `PssFreeSnapshot` documents for freeing a snapshot in another process:
    /// `PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE`. Without `VM_READ` the
    /// free fails; without either of the others Windows reports success and leaves the
    /// snapshot's handles or memory in that process (see
    /// [`RemoteSnapshot`](crate::RemoteSnapshot#access-rights)). `PROCESS_DUP_HANDLE` closes the
    /// snapshot's kernel handles: a snapshot captured with [`CaptureFlags::NONE`] (and
    /// `CREATE_*` flags at most) holds none and is freed whole without it.
    pub const REMOTE_FREE: Self = Self::VM_READ
        .union(Self::VM_OPERATION)
        .union(Self::DUP_HANDLE);

    /// The rights `PssDuplicateSnapshot` documents for the source process:
    /// `PROCESS_VM_READ | PROCESS_DUP_HANDLE`. (Needed by
    /// [`RemoteSnapshot::duplicate_to_local`](crate::RemoteSnapshot::duplicate_to_local).)
    pub const DUPLICATE_SOURCE: Self = Self::VM_READ.union(Self::DUP_HANDLE);

    /// The rights `PssDuplicateSnapshot` documents for the target process:
    /// `PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE` (Windows asks for
    /// `PROCESS_DUP_HANDLE` only when the snapshot holds kernel handles: any capture flag but
    /// the `CREATE_*` ones).
    ///
    /// What the copy needs to be *made*, not to be freed: a target opened with only these
    /// rights cannot free the [`RemoteSnapshot`](crate::RemoteSnapshot)
    /// [`LocalSnapshot::duplicate_into`](crate::LocalSnapshot::duplicate_into) and
    /// [`move_into`](crate::LocalSnapshot::move_into) return (that free needs `PROCESS_VM_READ`
    /// too: [`REMOTE_FREE`](Self::REMOTE_FREE)), so a [`Process`](crate::Process) opened with
    /// them is refused there ([`ErrorKind::InsufficientAccess`](crate::ErrorKind::InsufficientAccess)
    /// naming `VM_READ`): open the target with [`REMOTE_SNAPSHOT`](Self::REMOTE_SNAPSHOT). Pass
    /// these rights alone only with a handle whose rights `pss` does not know (e.g. an
    /// `OwnedHandle`) whose snapshot something else frees.
    pub const DUPLICATE_TARGET: Self = Self::VM_OPERATION
        .union(Self::VM_WRITE)
        .union(Self::DUP_HANDLE);

    /// Everything a [`RemoteSnapshot`](crate::RemoteSnapshot)'s handle may need over its
    /// life: [`DUPLICATE_TARGET`](Self::DUPLICATE_TARGET) to create it,
    /// [`DUPLICATE_SOURCE`](Self::DUPLICATE_SOURCE) to duplicate it back, and
    /// [`REMOTE_FREE`](Self::REMOTE_FREE) to free it (including on drop). What
    /// [`LocalSnapshot::duplicate_into`](crate::LocalSnapshot::duplicate_into) and
    /// [`move_into`](crate::LocalSnapshot::move_into) ask of a [`Process`](crate::Process)
    /// target (without `PROCESS_DUP_HANDLE` for a snapshot captured with
    /// [`CaptureFlags::NONE`], which holds no kernel handle).
    pub const REMOTE_SNAPSHOT: Self = Self::DUPLICATE_TARGET
        .union(Self::DUPLICATE_SOURCE)
        .union(Self::REMOTE_FREE);

    /// A least-privilege set of rights for capturing with `flags`, everything captured in full.
    ///
    /// `PssCaptureSnapshot` documents no rights except `PROCESS_VM_READ` for
    /// `VA_SPACE_SECTION_INFORMATION`. The rest comes from what the implementation is seen to
    /// do (decompiled ntdll; Windows Error Reporting opens its targets with
    /// `QUERY_INFORMATION | CREATE_PROCESS | DUP_HANDLE | VM_READ`) and, where nothing shows
    /// it, from the documented rights of the Win32 functions that report the same information.
    /// If capture fails with [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED), pass your own set
    /// to [`open_process`](crate::open_process).
    ///
    /// | flags | rights | without them |
    /// |---|---|---|
    /// | always | `QUERY_LIMITED_INFORMATION` | the capture fails: the process information every snapshot holds needs it (seen) |
    /// | `VA_CLONE` | `CREATE_PROCESS` | the capture fails: the clone is created with the target as parent (seen) |
    /// | `HANDLES` and the handle-detail flags | `QUERY_INFORMATION \| DUP_HANDLE` | handle values are read with query rights (inferred); without `DUP_HANDLE` every handle loses its type name and details, and the capture still succeeds (seen) |
    /// | `HANDLE_TRACE` | `QUERY_INFORMATION` | the trace is left out, the capture succeeds (seen) |
    /// | `THREADS` | `QUERY_INFORMATION` | enumerating threads (inferred); `THREAD_CONTEXT` and `THREAD_CONTEXT_EXTENDED` add nothing (without `THREADS` they capture nothing) |
    /// | `VA_SPACE` | none added | the kernel's address-space query asks only `QUERY_LIMITED_INFORMATION` for it (seen in Windows 11's kernel; Microsoft's `VirtualQueryEx` page still names `QUERY_INFORMATION`), which protected processes grant |
    /// | `VA_SPACE_SECTION_INFORMATION` | `VM_READ` (**documented**) | the image values are read from the target's memory; without `VM_READ` they are zero and the names remain (seen) |
    /// | `AUXILIARY_PAGES`, `IPT_TRACE` | none added | the page is read with the query rights above; IPT is undescribed: pass your own rights |
    /// | `CREATE_*` | none | they govern the clone and the snapshot's memory, not the target |
    pub const fn for_capture(flags: CaptureFlags) -> Self {
        let mut access = Self::QUERY_LIMITED_INFORMATION;
        if flags.contains(CaptureFlags::VA_CLONE) {
            access = access.union(Self::CREATE_PROCESS);
        }
        let query = CaptureFlags::THREADS.union(CaptureFlags::HANDLE_TRACE);
        if flags.intersects(query) {
            access = access.union(Self::QUERY_INFORMATION);
        }
        let handles = CaptureFlags::HANDLES
            .union(CaptureFlags::HANDLE_NAME_INFORMATION)
            .union(CaptureFlags::HANDLE_BASIC_INFORMATION)
            .union(CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION);
        if flags.intersects(handles) {
            access = access
                .union(Self::QUERY_INFORMATION)
                .union(Self::DUP_HANDLE);
        }
        if flags.contains(CaptureFlags::VA_SPACE_SECTION_INFORMATION) {
            access = access.union(Self::VM_READ);
        }
        access
    }
}

/// The bits, as `PROCESS_ACCESS_RIGHTS` (e.g. for APIs that take the raw value, such as the
/// kernel32 model's `ProcessSpec::grantable`).
impl From<ProcessAccess> for u32 {
    fn from(access: ProcessAccess) -> u32 {
        access.bits()
    }
}

static_assertions::assert_impl_all!(CaptureFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(ContextFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(ProcessAccess: Send, Sync, Copy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_flags_are_checked_flags_like_the_others() {
        assert_eq!(
            ContextFlags::from_bits(ContextFlags::ALL.bits()),
            Some(ContextFlags::ALL)
        );
        // A bit no flag of this architecture names (the exception-reporting bit Windows sets in
        // records it fills) is refused, kept, or dropped, as the caller asks.
        let reported = ContextFlags::ALL.bits() | 0x8000_0000;
        assert_eq!(ContextFlags::from_bits(reported), None);
        assert_eq!(ContextFlags::from_bits_retain(reported).bits(), reported);
        assert_eq!(
            ContextFlags::from_bits_truncate(reported),
            ContextFlags::ALL
        );
        let control = ContextFlags::CONTROL;
        assert!(ContextFlags::FULL.contains(control));
        assert_eq!((ContextFlags::FULL - control) & control, ContextFlags::NONE);
        let mut flags = ContextFlags::CONTROL;
        flags |= ContextFlags::INTEGER;
        assert!(flags.contains(ContextFlags::INTEGER) && flags.contains(ContextFlags::CONTROL));
        // Every flag carries the architecture bit: taking one away takes that bit too.
        flags.remove(ContextFlags::CONTROL);
        assert!(!flags.contains(ContextFlags::INTEGER));
        assert_eq!(
            format!("{:?}", ContextFlags::CONTROL),
            "ContextFlags(CONTROL)"
        );
        #[cfg(not(target_arch = "aarch64"))]
        assert_eq!(
            ContextFlags::ALL_EXTENDED,
            ContextFlags::ALL | ContextFlags::XSTATE
        );
    }
}
