//! `walkbench VARIANT HANDLES`: one walk of every class of a snapshot of a model process with
//! `HANDLES` handles (of every type), 1,000 threads (running, suspended, terminated), 1,000
//! regions (free, private, image, mapped) and 100 auxiliary pages (with contents or without),
//! reading every field of every entry, done one of seven ways:
//!
//! - `raw`: the documented `PssWalkSnapshot` loop through `pss-sys`, with the checks a correct
//!   raw caller makes (codes, flags before the fields they cover, NULL and length before names);
//! - `raw-typed`: the same loop, converting as `pss`'s accessors do (times kept as ticks and
//!   spans as `Duration`s, names without their counted NUL, exit statuses, the handles' union
//!   arms, regions, the context record and the registers in it);
//! - `pss-iter`, `pss-next`, `pss-each`: `pss`'s walks through a `for` loop,
//!   `Entries::next_ref` and `Entries::try_for_each_ref`, reading the same fields from
//!   `as_raw()` as `raw` does;
//! - `pss-typed`, `pss-for-typed`: `pss`'s walks through `try_for_each_ref` and a `for` loop,
//!   reading every typed accessor.
//!
//! Every reader is inlined, as a caller's loop body usually is. Each class is walked inside its
//! own `bench_walk_*` function, which `cargo xtask bench` has callgrind count (instructions,
//! with the model's own functions subtracted). The program prints, per class, the entries
//! walked, a checksum of what was read (so nothing is optimised away, and the variants can be
//! shown to read the same), the heap allocations made and the kernel32 calls per function. It
//! runs against the `pss-tests` model of kernel32, so only on hosts other than Windows.

#[cfg(windows)]
fn main() {
    eprintln!("walkbench runs against the pss-tests model of kernel32: not on Windows");
}

#[cfg(not(windows))]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(not(windows))]
mod bench {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::hint::black_box;
    use std::process::ExitCode;
    use std::time::Duration;

    use pss::{
        AuxiliaryPageEntry, CaptureFlags, HandleEntry, LocalSnapshot, ProcessAccess, ThreadEntry,
        VaSpaceEntry, Walk, WalkClass,
    };
    use pss_sys::*;
    use pss_tests::model::*;
    use pss_tests::{free_marker, new_marker};

    /// The system allocator, counting this thread's allocations while asked to.
    struct Counting;

    thread_local! {
        static COUNTING: Cell<bool> = const { Cell::new(false) };
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: every call is forwarded unchanged to `System`; counting touches no allocation.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.try_with(Cell::get).unwrap_or(false) {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            }
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    const THREADS: usize = 1_000;
    const REGIONS: usize = 1_000;
    const AUX_PAGES: usize = 100;

    /// A process with `handles` handles of each type PSS describes (process, thread, mutant,
    /// event, section, semaphore) and of two it does not (files, keys), most of them named, and
    /// fixed numbers of threads (running, suspended, terminated; with contexts), regions (free,
    /// private, image, mapped) and auxiliary pages (with contents or without): every accessor
    /// meets each kind of value it decodes.
    fn process(handles: usize) -> ProcessSpec {
        const NAME: &str = r"\BaseNamedObjects\walkbench-object";
        let mut spec = ProcessSpec::new();
        for i in 0..handles {
            let value = 4 * (i + 1);
            let handle = match i % 8 {
                0 => HandleSpec::process(value, 0x3000 + i as u32, CURRENT_PID),
                1 => HandleSpec::thread(value, 0x2000, 0x4000 + i as u32),
                2 => HandleSpec::mutant(value, 1, i % 16 == 2).named(NAME),
                3 => HandleSpec::event(value, true, false).named(NAME),
                4 => HandleSpec::section(value, 0x1000).named(NAME),
                5 => HandleSpec::semaphore(value, 1, 8),
                6 => {
                    HandleSpec::other(value, "File").named(r"\Device\HarddiskVolume3\walkbench.log")
                }
                _ => HandleSpec::other(value, "Key").named(r"\REGISTRY\MACHINE\SOFTWARE\walkbench"),
            };
            spec = spec.handle(handle);
        }
        for i in 0..THREADS {
            let tid = 0x100 + 4 * i as u32;
            spec = spec.thread(match i % 4 {
                1 => ThreadSpec::new(tid).suspended(1),
                2 => ThreadSpec::new(tid).terminated(3),
                _ => ThreadSpec::new(tid),
            });
        }
        for i in 0..REGIONS {
            let base = 0x1000_0000 + 0x1_0000 * i;
            spec = spec.region(match i % 4 {
                0 => RegionSpec::free(base, 0x1_0000),
                1 => RegionSpec::private(base, 0x1_0000),
                2 => RegionSpec::image(base, 0x1_0000, r"\Device\HarddiskVolume3\walkbench.dll"),
                _ => RegionSpec::mapped(base, 0x1_0000, r"\Device\HarddiskVolume3\walkbench.nls"),
            });
        }
        for i in 0..AUX_PAGES {
            let address = 0x7ffe_0000 + 0x1000 * i;
            spec = spec.aux_page(match i % 2 {
                0 => AuxPageSpec::with_contents(address, vec![7; 64]),
                _ => AuxPageSpec::without_contents(address),
            });
        }
        spec
    }

    /// Folds a value into the checksum.
    #[inline(always)]
    fn mix(sum: &mut u64, value: u64) {
        *sum = sum.rotate_left(5) ^ value;
    }

    fn ticks(time: FILETIME) -> u64 {
        (u64::from(time.dwHighDateTime) << 32) | u64::from(time.dwLowDateTime)
    }

    /// A counted name as a correct raw caller reads it: NULL and length checked, whole units.
    #[inline(always)]
    fn name<'a>(ptr: *const u16, bytes: u16) -> &'a [u16] {
        if ptr.is_null() || bytes < 2 {
            return &[];
        }
        // SAFETY: kernel32 gives `bytes` readable bytes at `ptr`, alive with the marker.
        unsafe { std::slice::from_raw_parts(ptr, usize::from(bytes) / 2) }
    }

    fn mix_name(sum: &mut u64, units: &[u16]) {
        mix(sum, units.len() as u64);
        mix(sum, u64::from(units.first().copied().unwrap_or(0)));
    }

    /// Reads every field of a raw handle entry, each only under its flag.
    #[inline(always)]
    fn read_handle(e: &PSS_HANDLE_ENTRY, sum: &mut u64) {
        mix(sum, e.Handle.addr() as u64);
        mix(sum, e.Flags as u64);
        mix(sum, ticks(e.CaptureTime));
        if e.Flags & PSS_HANDLE_HAVE_TYPE != 0 {
            mix(sum, e.ObjectType as u64);
            mix_name(sum, name(e.TypeName, e.TypeNameLength));
        }
        if e.Flags & PSS_HANDLE_HAVE_NAME != 0 {
            mix_name(sum, name(e.ObjectName, e.ObjectNameLength));
        }
        if e.Flags & PSS_HANDLE_HAVE_BASIC_INFORMATION != 0 {
            mix(sum, u64::from(e.Attributes));
            mix(sum, u64::from(e.GrantedAccess));
            mix(sum, u64::from(e.HandleCount));
            mix(sum, u64::from(e.PointerCount));
            mix(sum, u64::from(e.PagedPoolCharge));
            mix(sum, u64::from(e.NonPagedPoolCharge));
        }
        let specific = PSS_HANDLE_HAVE_TYPE | PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
        if e.Flags & specific == specific {
            let info = &e.TypeSpecificInformation;
            // SAFETY: each arm only for its object type, flagged valid; plain integers.
            unsafe {
                match e.ObjectType {
                    PSS_OBJECT_TYPE_EVENT => {
                        mix(sum, info.Event.ManualReset as u64);
                        mix(sum, info.Event.Signaled as u64);
                    }
                    PSS_OBJECT_TYPE_MUTANT => {
                        mix(sum, info.Mutant.CurrentCount as u64);
                        mix(sum, info.Mutant.Abandoned as u64);
                        mix(sum, u64::from(info.Mutant.OwnerProcessId));
                        mix(sum, u64::from(info.Mutant.OwnerThreadId));
                    }
                    PSS_OBJECT_TYPE_SECTION => {
                        mix(sum, info.Section.BaseAddress.addr() as u64);
                        mix(sum, u64::from(info.Section.AllocationAttributes));
                        mix(sum, info.Section.MaximumSize as u64);
                    }
                    PSS_OBJECT_TYPE_PROCESS => {
                        let p = &info.Process;
                        mix(sum, u64::from(p.ExitStatus));
                        mix(sum, p.AffinityMask as u64);
                        mix(sum, p.BasePriority as u64);
                        mix(sum, u64::from(p.ProcessId));
                        mix(sum, u64::from(p.ParentProcessId));
                        mix(sum, u64::from(p.Flags));
                    }
                    PSS_OBJECT_TYPE_THREAD => {
                        let t = &info.Thread;
                        mix(sum, u64::from(t.ExitStatus));
                        mix(sum, u64::from(t.ProcessId));
                        mix(sum, u64::from(t.ThreadId));
                        mix(sum, t.AffinityMask as u64);
                        mix(sum, t.Priority as u64);
                        mix(sum, t.BasePriority as u64);
                        mix(sum, t.Win32StartAddress.addr() as u64);
                    }
                    PSS_OBJECT_TYPE_SEMAPHORE => {
                        mix(sum, info.Semaphore.CurrentCount as u64);
                        mix(sum, info.Semaphore.MaximumCount as u64);
                    }
                    other => mix(sum, other as u64),
                }
            }
        }
    }

    #[inline(always)]
    fn read_thread(e: &PSS_THREAD_ENTRY, sum: &mut u64) {
        mix(sum, u64::from(e.ExitStatus));
        mix(sum, e.TebBaseAddress.addr() as u64);
        mix(sum, u64::from(e.ProcessId));
        mix(sum, u64::from(e.ThreadId));
        mix(sum, e.AffinityMask as u64);
        mix(sum, e.Priority as u64);
        mix(sum, e.BasePriority as u64);
        mix(sum, ticks(e.CreateTime));
        mix(sum, ticks(e.ExitTime));
        mix(sum, ticks(e.KernelTime));
        mix(sum, ticks(e.UserTime));
        mix(sum, e.Win32StartAddress.addr() as u64);
        mix(sum, ticks(e.CaptureTime));
        mix(sum, e.Flags as u64);
        mix(sum, u64::from(e.SuspendCount));
        if !e.ContextRecord.is_null() && e.SizeOfContextRecord > 0 {
            mix(sum, u64::from(e.SizeOfContextRecord));
            // SAFETY: `SizeOfContextRecord` readable bytes, alive with the marker.
            mix(sum, u64::from(unsafe { *e.ContextRecord.cast::<u8>() }));
        }
    }

    #[inline(always)]
    fn read_region(e: &PSS_VA_SPACE_ENTRY, sum: &mut u64) {
        mix(sum, e.BaseAddress.addr() as u64);
        mix(sum, e.AllocationBase.addr() as u64);
        mix(sum, u64::from(e.AllocationProtect));
        mix(sum, e.RegionSize as u64);
        mix(sum, u64::from(e.State));
        mix(sum, u64::from(e.Protect));
        mix(sum, u64::from(e.Type));
        if e.Type == MEM_IMAGE {
            mix(sum, u64::from(e.TimeDateStamp));
            mix(sum, u64::from(e.SizeOfImage));
            mix(sum, e.ImageBase.addr() as u64);
            mix(sum, u64::from(e.CheckSum));
        }
        mix_name(sum, name(e.MappedFileName, e.MappedFileNameLength));
    }

    #[inline(always)]
    fn read_aux(e: &PSS_AUXILIARY_PAGE_ENTRY, sum: &mut u64) {
        mix(sum, e.Address.addr() as u64);
        let b = &e.BasicInformation;
        mix(sum, b.BaseAddress.addr() as u64);
        mix(sum, b.AllocationBase.addr() as u64);
        mix(sum, u64::from(b.AllocationProtect));
        mix(sum, b.RegionSize as u64);
        mix(sum, u64::from(b.State));
        mix(sum, u64::from(b.Protect));
        mix(sum, u64::from(b.Type));
        mix(sum, ticks(e.CaptureTime));
        mix(sum, u64::from(e.PageSize));
        if !e.PageContents.is_null() && e.PageSize > 0 {
            // SAFETY: `PageSize` readable bytes, alive with the marker.
            mix(sum, u64::from(unsafe { *e.PageContents.cast::<u8>() }));
        }
    }

    /// What `pss`'s accessors compute, done by hand on raw entries: the "raw-typed" caller.
    /// It reads the same fields as the raw loop and converts them as the accessors do: times
    /// kept as non-zero ticks, spans as `Duration`s, names without their counted NUL, handle
    /// parts only under their flags, the exit status decided, regions' image values only for
    /// captured images.
    mod by_hand {
        use super::*;

        /// A point in time as `pss` returns it: the ticks, or none for zero.
        #[inline(always)]
        pub fn time(t: FILETIME) -> Option<std::num::NonZeroU64> {
            std::num::NonZeroU64::new(ticks(t))
        }

        /// Folds a value into the checksum through its `Hash`, as a caller storing or comparing
        /// it pays (the same for both callers).
        #[inline(always)]
        pub fn stamp(sum: &mut u64, value: impl std::hash::Hash) {
            value.hash(&mut Mixer(sum));
        }

        /// A span of ticks as a `Duration`.
        #[inline(always)]
        pub fn span(t: FILETIME) -> Duration {
            let d = ticks(t);
            Duration::new(d / 10_000_000, (d % 10_000_000) as u32 * 100)
        }

        /// A `Hasher` that folds what it is fed into the checksum.
        struct Mixer<'a>(&'a mut u64);

        impl std::hash::Hasher for Mixer<'_> {
            #[inline(always)]
            fn write(&mut self, bytes: &[u8]) {
                for &b in bytes {
                    mix(self.0, u64::from(b));
                }
            }
            #[inline(always)]
            fn write_u32(&mut self, i: u32) {
                mix(self.0, u64::from(i));
            }
            #[inline(always)]
            fn write_u64(&mut self, i: u64) {
                mix(self.0, i);
            }
            #[inline(always)]
            fn write_i64(&mut self, i: i64) {
                mix(self.0, i as u64);
            }
            #[inline(always)]
            fn write_isize(&mut self, i: isize) {
                mix(self.0, i as u64);
            }
            #[inline(always)]
            fn write_usize(&mut self, i: usize) {
                mix(self.0, i as u64);
            }
            #[inline(always)]
            fn finish(&self) -> u64 {
                *self.0
            }
        }

        /// A counted name without its counted NUL.
        #[inline(always)]
        pub fn name<'a>(ptr: *const u16, bytes: u16) -> &'a [u16] {
            let units = super::name(ptr, bytes);
            match units.split_last() {
                Some((0, rest)) => rest,
                _ => units,
            }
        }

        #[inline(always)]
        pub fn handle(e: &PSS_HANDLE_ENTRY, sum: &mut u64) {
            let flags = e.Flags as u32;
            mix(sum, e.Handle.addr() as u64);
            mix(sum, u64::from(flags));
            stamp(sum, time(e.CaptureTime));
            let has = |flag: PSS_HANDLE_FLAGS| flags & flag as u32 != 0;
            mix(
                sum,
                if has(PSS_HANDLE_HAVE_TYPE) {
                    e.ObjectType as u64
                } else {
                    0
                },
            );
            if has(PSS_HANDLE_HAVE_TYPE) {
                mix_name(sum, name(e.TypeName, e.TypeNameLength));
            }
            if has(PSS_HANDLE_HAVE_NAME) {
                let object = name(e.ObjectName, e.ObjectNameLength);
                if !object.is_empty() {
                    mix_name(sum, object);
                }
            }
            if has(PSS_HANDLE_HAVE_BASIC_INFORMATION) {
                mix(sum, u64::from(e.Attributes));
                mix(sum, u64::from(e.GrantedAccess));
                mix(sum, u64::from(e.HandleCount));
                mix(sum, u64::from(e.PointerCount));
                mix(sum, u64::from(e.PagedPoolCharge));
                mix(sum, u64::from(e.NonPagedPoolCharge));
            }
            if has(PSS_HANDLE_HAVE_TYPE) && has(PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION) {
                let info = &e.TypeSpecificInformation;
                // SAFETY: each arm only for its object type, flagged valid; plain integers.
                unsafe {
                    match e.ObjectType {
                        PSS_OBJECT_TYPE_EVENT => {
                            mix(sum, u64::from(info.Event.ManualReset != 0));
                            mix(sum, u64::from(info.Event.Signaled != 0));
                        }
                        PSS_OBJECT_TYPE_MUTANT => {
                            mix(sum, info.Mutant.CurrentCount as u64);
                            mix(sum, u64::from(info.Mutant.Abandoned != 0));
                            mix(sum, u64::from(info.Mutant.OwnerProcessId));
                            mix(sum, u64::from(info.Mutant.OwnerThreadId));
                        }
                        PSS_OBJECT_TYPE_SECTION => {
                            mix(sum, info.Section.BaseAddress.addr() as u64);
                            mix(sum, u64::from(info.Section.AllocationAttributes));
                            mix(sum, info.Section.MaximumSize as u64);
                        }
                        PSS_OBJECT_TYPE_PROCESS => {
                            let p = &info.Process;
                            mix(sum, u64::from(p.ExitStatus));
                            mix(sum, p.AffinityMask as u64);
                            mix(sum, p.BasePriority as u64);
                            mix(sum, u64::from(p.ProcessId));
                            mix(sum, u64::from(p.ParentProcessId));
                            mix(sum, u64::from(p.Flags));
                        }
                        PSS_OBJECT_TYPE_THREAD => {
                            let t = &info.Thread;
                            mix(sum, u64::from(t.ExitStatus));
                            mix(sum, u64::from(t.ProcessId));
                            mix(sum, u64::from(t.ThreadId));
                            mix(sum, t.AffinityMask as u64);
                            mix(sum, t.Priority as u64);
                            mix(sum, t.BasePriority as u64);
                            mix(sum, t.Win32StartAddress.addr() as u64);
                        }
                        PSS_OBJECT_TYPE_SEMAPHORE => {
                            mix(sum, info.Semaphore.CurrentCount as u64);
                            mix(sum, info.Semaphore.MaximumCount as u64);
                        }
                        // A type without an arm: its value.
                        other => mix(sum, other as u64),
                    }
                }
            }
        }

        /// An exit status as `pss::ExitStatus` decides it.
        #[derive(Hash)]
        pub enum Exit {
            Running,
            Exited(u32),
        }

        /// The context record as `ThreadEntry::context` reads it: the whole `CONTEXT` or
        /// none, borrowed where it is aligned, copied where it is not.
        #[inline(always)]
        pub fn context(e: &PSS_THREAD_ENTRY) -> Option<Cow<'_, CONTEXT>> {
            let bytes = usize::from(e.SizeOfContextRecord);
            if e.ContextRecord.is_null() || bytes < size_of::<CONTEXT>() {
                return None;
            }
            let record = e.ContextRecord.cast_const();
            Some(if record.is_aligned() {
                // SAFETY: aligned, `SizeOfContextRecord` readable bytes alive with the marker;
                // `CONTEXT` is plain integers.
                Cow::Borrowed(unsafe { &*record })
            } else {
                // SAFETY: as above, read without alignment.
                Cow::Owned(unsafe { record.read_unaligned() })
            })
        }

        /// The instruction, stack and frame pointers as `ThreadEntry` reads them: each only
        /// where the record's flags say it holds the registers.
        #[inline(always)]
        pub fn registers(context: &CONTEXT) -> [Option<usize>; 3] {
            let has = |flag: u32| context.ContextFlags & flag == flag;
            #[cfg(target_arch = "x86")]
            let (control, frame, registers) = (
                CONTEXT_CONTROL_X86,
                CONTEXT_CONTROL_X86,
                [context.Eip, context.Esp, context.Ebp].map(|r| r as usize),
            );
            #[cfg(target_arch = "aarch64")]
            let (control, frame, registers) = (
                CONTEXT_CONTROL_ARM64,
                CONTEXT_CONTROL_ARM64,
                // SAFETY: both arms of the union are plain `u64`s.
                [context.Pc, context.Sp, unsafe {
                    context.Anonymous.Anonymous.Fp
                }]
                .map(|r| r as usize),
            );
            #[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
            let (control, frame, registers) = (
                CONTEXT_CONTROL_AMD64,
                CONTEXT_INTEGER_AMD64,
                [context.Rip, context.Rsp, context.Rbp].map(|r| r as usize),
            );
            let [ip, sp, fp] = registers;
            [
                has(control).then_some(ip),
                has(control).then_some(sp),
                has(frame).then_some(fp),
            ]
        }

        #[inline(always)]
        pub fn thread(e: &PSS_THREAD_ENTRY, sum: &mut u64) {
            let terminated = e.Flags & PSS_THREAD_FLAGS_TERMINATED != 0;
            let exited = terminated || ticks(e.ExitTime) != 0;
            stamp(
                sum,
                if e.ExitStatus != STILL_ACTIVE as u32 || exited {
                    Exit::Exited(e.ExitStatus)
                } else {
                    Exit::Running
                },
            );
            mix(sum, u64::from(e.ExitStatus));
            mix(sum, u64::from(terminated));
            mix(sum, u64::from(e.ProcessId));
            mix(sum, u64::from(e.ThreadId));
            let teb = e.TebBaseAddress.addr();
            stamp(sum, (teb != 0).then_some(teb));
            mix(sum, e.AffinityMask as u64);
            mix(sum, e.Priority as u64);
            mix(sum, e.BasePriority as u64);
            stamp(sum, time(e.CreateTime));
            stamp(sum, time(e.ExitTime));
            stamp(sum, span(e.KernelTime));
            stamp(sum, span(e.UserTime));
            mix(sum, e.Win32StartAddress.addr() as u64);
            stamp(sum, time(e.CaptureTime));
            mix(sum, e.Flags as u64);
            mix(sum, u64::from(e.SuspendCount));
            if !e.ContextRecord.is_null() && e.SizeOfContextRecord > 0 {
                mix(sum, u64::from(e.SizeOfContextRecord));
                // SAFETY: `SizeOfContextRecord` readable bytes, alive with the marker.
                mix(sum, u64::from(unsafe { *e.ContextRecord.cast::<u8>() }));
            }
            if let Some(context) = context(e) {
                mix(sum, u64::from(context.ContextFlags));
            }
            // Each register reads the record again, as each accessor does.
            let register = |i: usize| context(e).and_then(|c| registers(&c)[i]);
            stamp(sum, register(0));
            stamp(sum, register(1));
            stamp(sum, register(2));
        }

        /// `State` decoded as `pss::MemoryState` decodes it.
        #[derive(Hash)]
        pub enum State {
            Commit,
            Reserve,
            Free,
            Other(u32),
        }

        /// `Type` decoded as `pss::MemoryType` decodes it.
        #[derive(Hash, PartialEq)]
        pub enum Kind {
            Image,
            Mapped,
            Private,
            None,
            Other(u32),
        }

        /// The decoded state, protections and type of a region, hashed as a caller keeping
        /// them pays.
        #[inline(always)]
        pub fn memory(sum: &mut u64, allocation_protect: u32, state: u32, protect: u32, kind: u32) {
            mix(sum, u64::from(allocation_protect));
            stamp(
                sum,
                match state {
                    MEM_COMMIT => State::Commit,
                    MEM_RESERVE => State::Reserve,
                    MEM_FREE => State::Free,
                    other => State::Other(other),
                },
            );
            mix(sum, u64::from(protect));
            stamp(sum, decode_kind(kind));
        }

        #[inline(always)]
        pub fn decode_kind(kind: u32) -> Kind {
            match kind {
                MEM_IMAGE => Kind::Image,
                MEM_MAPPED => Kind::Mapped,
                MEM_PRIVATE => Kind::Private,
                0 => Kind::None,
                other => Kind::Other(other),
            }
        }

        #[inline(always)]
        pub fn region(e: &PSS_VA_SPACE_ENTRY, sum: &mut u64) {
            mix(sum, e.BaseAddress.addr() as u64);
            mix(sum, e.AllocationBase.addr() as u64);
            mix(sum, e.RegionSize as u64);
            memory(sum, e.AllocationProtect, e.State, e.Protect, e.Type);
            let captured = e.TimeDateStamp != 0
                || e.SizeOfImage != 0
                || !e.ImageBase.is_null()
                || e.CheckSum != 0;
            if decode_kind(e.Type) == Kind::Image && captured {
                mix(sum, u64::from(e.TimeDateStamp));
                mix(sum, u64::from(e.SizeOfImage));
                mix(sum, e.ImageBase.addr() as u64);
                mix(sum, u64::from(e.CheckSum));
            }
            mix_name(sum, name(e.MappedFileName, e.MappedFileNameLength));
        }

        #[inline(always)]
        pub fn aux(e: &PSS_AUXILIARY_PAGE_ENTRY, sum: &mut u64) {
            mix(sum, e.Address.addr() as u64);
            let b = &e.BasicInformation;
            mix(sum, b.BaseAddress.addr() as u64);
            mix(sum, b.AllocationBase.addr() as u64);
            mix(sum, b.RegionSize as u64);
            memory(sum, b.AllocationProtect, b.State, b.Protect, b.Type);
            stamp(sum, time(e.CaptureTime));
            mix(sum, u64::from(e.PageSize));
            if !e.PageContents.is_null() && e.PageSize > 0 {
                // SAFETY: `PageSize` readable bytes, alive with the marker.
                mix(sum, u64::from(unsafe { *e.PageContents.cast::<u8>() }));
            }
        }
    }

    /// The documented raw loop over `class` with one reused entry buffer.
    #[inline(always)]
    fn raw_loop<T: Default>(
        snapshot: HPSS,
        class: PSS_WALK_INFORMATION_CLASS,
        sum: &mut u64,
        read: impl Fn(&T, &mut u64),
    ) -> usize {
        let marker = new_marker();
        let mut entry = T::default();
        let mut count = 0;
        loop {
            // SAFETY: a live snapshot and marker; `entry` is a writable T of the length given.
            let code = unsafe {
                PssWalkSnapshot(
                    snapshot,
                    class,
                    marker,
                    (&raw mut entry).cast(),
                    size_of::<T>() as u32,
                )
            };
            match code {
                ERROR_SUCCESS => {
                    read(&entry, sum);
                    count += 1;
                }
                ERROR_NO_MORE_ITEMS => break,
                code => panic!("PssWalkSnapshot: {code}"),
            }
        }
        free_marker(marker);
        count
    }

    /// Which way the walks are done.
    #[derive(Clone, Copy, PartialEq)]
    enum Variant {
        /// The raw loop, reading raw fields.
        Raw,
        /// The raw loop, converting as the accessors do.
        RawTyped,
        /// `for entry in &walk` (`Iterator::next`, a copy per entry), reading raw fields.
        PssIter,
        /// `Entries::next_ref`, reading raw fields.
        PssNext,
        /// `Entries::try_for_each_ref`, reading raw fields.
        PssEach,
        /// `Entries::try_for_each_ref`, through the typed accessors.
        PssTyped,
        /// `for entry in &walk`, through the typed accessors: the idiom the docs teach.
        PssForTyped,
    }

    /// A walk through `pss` as `variant` says, reading raw fields through `raw`.
    #[inline(always)]
    fn pss_loop<C: WalkClass>(
        walk: &Walk<'_, C>,
        variant: Variant,
        sum: &mut u64,
        raw: impl for<'e> Fn(&C::Entry<'e>, &mut u64),
    ) -> usize {
        let mut count = 0;
        match variant {
            Variant::PssIter => {
                for entry in walk {
                    raw(&entry.unwrap(), sum);
                    count += 1;
                }
            }
            Variant::PssNext => {
                let mut entries = walk.iter();
                while let Some(entry) = entries.next_ref() {
                    raw(entry.unwrap(), sum);
                    count += 1;
                }
            }
            Variant::PssEach => {
                walk.iter()
                    .try_for_each_ref(|entry| {
                        raw(entry, sum);
                        count += 1;
                        pss::Result::Ok(())
                    })
                    .unwrap();
            }
            _ => unreachable!("a variant of its own"),
        }
        count
    }

    #[inline(always)]
    fn typed_handle(e: &HandleEntry<'_>, sum: &mut u64) {
        mix(sum, e.handle_value() as u64);
        mix(sum, u64::from(e.flags().bits()));
        by_hand::stamp(sum, e.capture_time());
        mix(sum, e.object_type().map_or(0, |t| t.to_raw() as u64));
        if let Some(n) = e.type_name() {
            mix_name(sum, n.as_utf16());
        }
        if let Some(n) = e.object_name() {
            mix_name(sum, n.as_utf16());
        }
        if let Some(b) = e.basic_information() {
            mix(sum, u64::from(b.attributes));
            mix(sum, u64::from(b.granted_access));
            mix(sum, u64::from(b.handle_count));
            mix(sum, u64::from(b.pointer_count));
            mix(sum, u64::from(b.paged_pool_charge));
            mix(sum, u64::from(b.non_paged_pool_charge));
        }
        match e.type_specific() {
            Some(pss::TypeSpecific::Event(x)) => {
                mix(sum, u64::from(x.manual_reset));
                mix(sum, u64::from(x.signaled));
            }
            Some(pss::TypeSpecific::Mutant(x)) => {
                mix(sum, x.current_count as u64);
                mix(sum, u64::from(x.abandoned));
                mix(sum, u64::from(x.owner_process_id));
                mix(sum, u64::from(x.owner_thread_id));
            }
            Some(pss::TypeSpecific::Section(x)) => {
                mix(sum, x.base_address as u64);
                mix(sum, u64::from(x.allocation_attributes));
                mix(sum, x.maximum_size as u64);
            }
            Some(pss::TypeSpecific::Process(x)) => {
                mix(sum, u64::from(x.exit_status_raw));
                mix(sum, x.affinity_mask as u64);
                mix(sum, x.base_priority as u64);
                mix(sum, u64::from(x.process_id));
                mix(sum, u64::from(x.parent_process_id));
                mix(sum, u64::from(x.flags.bits()));
            }
            Some(pss::TypeSpecific::Thread(x)) => {
                mix(sum, u64::from(x.exit_status_raw));
                mix(sum, u64::from(x.process_id));
                mix(sum, u64::from(x.thread_id));
                mix(sum, x.affinity_mask as u64);
                mix(sum, x.priority as u64);
                mix(sum, x.base_priority as u64);
                mix(sum, x.start_address as u64);
            }
            Some(pss::TypeSpecific::Semaphore(x)) => {
                mix(sum, x.current_count as u64);
                mix(sum, x.maximum_count as u64);
            }
            Some(pss::TypeSpecific::Unknown(t)) => mix(sum, t.to_raw() as u64),
            None => {}
        }
    }

    #[inline(always)]
    fn typed_thread(e: &ThreadEntry<'_>, sum: &mut u64) {
        by_hand::stamp(sum, e.exit_status());
        mix(sum, u64::from(e.exit_status_raw()));
        mix(sum, u64::from(e.is_terminated()));
        mix(sum, u64::from(e.process_id()));
        mix(sum, u64::from(e.thread_id()));
        by_hand::stamp(sum, e.teb_base_address());
        mix(sum, e.affinity_mask() as u64);
        mix(sum, e.priority() as u64);
        mix(sum, e.base_priority() as u64);
        by_hand::stamp(sum, e.create_time());
        by_hand::stamp(sum, e.exit_time());
        by_hand::stamp(sum, e.kernel_time());
        by_hand::stamp(sum, e.user_time());
        mix(sum, e.start_address() as u64);
        by_hand::stamp(sum, e.capture_time());
        mix(sum, u64::from(e.flags().bits()));
        mix(sum, u64::from(e.suspend_count()));
        if let Some(context) = e.context_bytes() {
            mix(sum, context.len() as u64);
            mix(sum, u64::from(context[0]));
        }
        if let Some(context) = e.context() {
            mix(sum, u64::from(context.ContextFlags));
        }
        by_hand::stamp(sum, e.instruction_pointer());
        by_hand::stamp(sum, e.stack_pointer());
        by_hand::stamp(sum, e.frame_pointer());
    }

    /// What `by_hand::memory` hashes, from `pss`'s decoded region.
    #[inline(always)]
    fn typed_memory(sum: &mut u64, r: &pss::MemoryRegion) {
        mix(sum, u64::from(r.allocation_protect.bits()));
        by_hand::stamp(sum, r.state);
        mix(sum, u64::from(r.protect.bits()));
        by_hand::stamp(sum, r.kind);
    }

    #[inline(always)]
    fn typed_region(e: &VaSpaceEntry<'_>, sum: &mut u64) {
        let r = e.region();
        mix(sum, r.base_address as u64);
        mix(sum, r.allocation_base as u64);
        mix(sum, r.region_size as u64);
        typed_memory(sum, &r);
        if let Some(image) = e.image() {
            mix(sum, u64::from(image.time_date_stamp));
            mix(sum, u64::from(image.size_of_image));
            mix(sum, image.image_base as u64);
            mix(sum, u64::from(image.checksum));
        }
        match e.mapped_file_name() {
            Some(n) => mix_name(sum, n.as_utf16()),
            None => mix_name(sum, &[]),
        }
    }

    #[inline(always)]
    fn typed_aux(e: &AuxiliaryPageEntry<'_>, sum: &mut u64) {
        mix(sum, e.address() as u64);
        let b = e.basic_information();
        mix(sum, b.base_address as u64);
        mix(sum, b.allocation_base as u64);
        mix(sum, b.region_size as u64);
        typed_memory(sum, &b);
        by_hand::stamp(sum, e.capture_time());
        mix(sum, u64::from(e.page_size()));
        if let Some(contents) = e.contents() {
            mix(sum, u64::from(contents[0]));
        }
    }

    /// One `bench_walk_*` function per class, each measured on its own by callgrind.
    macro_rules! bench {
        ($name:ident, $walk:ident, $class:expr, $raw:ident, $by_hand:path, $typed:ident) => {
            #[unsafe(no_mangle)]
            #[inline(never)]
            fn $name(snapshot: &LocalSnapshot, variant: Variant) -> (usize, u64) {
                let mut sum = 0;
                let count = match variant {
                    Variant::Raw => raw_loop(snapshot.as_raw(), $class, &mut sum, $raw),
                    Variant::RawTyped => raw_loop(snapshot.as_raw(), $class, &mut sum, $by_hand),
                    // The typed accessors are called directly here, as a caller writes them,
                    // so that they inline as the raw loop's conversions do.
                    Variant::PssTyped => {
                        let walk = snapshot.$walk().unwrap();
                        let mut count = 0;
                        walk.iter()
                            .try_for_each_ref(|entry| {
                                $typed(entry, &mut sum);
                                count += 1;
                                pss::Result::Ok(())
                            })
                            .unwrap();
                        count
                    }
                    Variant::PssForTyped => {
                        let walk = snapshot.$walk().unwrap();
                        let mut count = 0;
                        for entry in &walk {
                            $typed(&entry.unwrap(), &mut sum);
                            count += 1;
                        }
                        count
                    }
                    // The reader is inlined, as the raw loop's is.
                    _ => pss_loop(
                        &snapshot.$walk().unwrap(),
                        variant,
                        &mut sum,
                        #[inline(always)]
                        |e, sum| $raw(e.as_raw(), sum),
                    ),
                };
                (count, sum)
            }
        };
    }

    bench!(
        bench_walk_handles,
        handles,
        PSS_WALK_HANDLES,
        read_handle,
        by_hand::handle,
        typed_handle
    );
    bench!(
        bench_walk_threads,
        threads,
        PSS_WALK_THREADS,
        read_thread,
        by_hand::thread,
        typed_thread
    );
    bench!(
        bench_walk_regions,
        va_space,
        PSS_WALK_VA_SPACE,
        read_region,
        by_hand::region,
        typed_region
    );
    bench!(
        bench_walk_aux_pages,
        auxiliary_pages,
        PSS_WALK_AUXILIARY_PAGES,
        read_aux,
        by_hand::aux,
        typed_aux
    );

    type Bench = fn(&LocalSnapshot, Variant) -> (usize, u64);

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let (variant, handles) = match args.as_slice() {
            [variant, handles] => {
                let variant = match variant.as_str() {
                    "raw" => Variant::Raw,
                    "raw-typed" => Variant::RawTyped,
                    "pss-iter" => Variant::PssIter,
                    "pss-next" => Variant::PssNext,
                    "pss-each" => Variant::PssEach,
                    "pss-typed" => Variant::PssTyped,
                    "pss-for-typed" => Variant::PssForTyped,
                    _ => return usage(),
                };
                let Ok(handles) = handles.parse::<usize>() else {
                    return usage();
                };
                (variant, handles)
            }
            _ => return usage(),
        };
        let flags = CaptureFlags::AUXILIARY_PAGES
            | CaptureFlags::HANDLES
            | CaptureFlags::HANDLE_NAME_INFORMATION
            | CaptureFlags::HANDLE_BASIC_INFORMATION
            | CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION
            | CaptureFlags::THREADS
            | CaptureFlags::THREAD_CONTEXT
            | CaptureFlags::VA_SPACE
            | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
        let target = process(handles).spawn();
        let handle = pss::open_process(target.pid(), ProcessAccess::for_capture(flags)).unwrap();
        let snapshot = LocalSnapshot::capture(&handle, flags).unwrap();
        let classes: [(&str, Bench, usize); 4] = [
            ("handles", bench_walk_handles, handles),
            ("threads", bench_walk_threads, THREADS),
            ("regions", bench_walk_regions, REGIONS),
            ("aux_pages", bench_walk_aux_pages, AUX_PAGES),
        ];
        for (class, bench, expected) in classes {
            // Warm up the model's per-thread bookkeeping and the probe, outside the count.
            black_box(bench(&snapshot, variant));
            reset_calls();
            ALLOCATIONS.with(|n| n.set(0));
            COUNTING.with(|c| c.set(true));
            let (count, sum) = black_box(bench(black_box(&snapshot), variant));
            COUNTING.with(|c| c.set(false));
            assert_eq!(count, expected, "{class}");
            let calls: Vec<String> = calls()
                .into_iter()
                .map(|(name, n)| format!("{name}:{n}"))
                .collect();
            println!(
                "class={class} entries={count} checksum={sum:#x} allocations={} calls={}",
                ALLOCATIONS.with(Cell::get),
                calls.join(",")
            );
        }
        ExitCode::SUCCESS
    }

    fn usage() -> ExitCode {
        eprintln!(
            "usage: walkbench raw|raw-typed|pss-iter|pss-next|pss-each|pss-typed|pss-for-typed HANDLES"
        );
        ExitCode::FAILURE
    }
}
