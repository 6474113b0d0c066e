//! `dumpbench VARIANT MIB`: the cost of a full minidump of a model process with `MIB` MiB of
//! committed memory (and a few threads, images and handles), against the floor of the job: a
//! plain `io::copy` of the same bytes out of the VA clone.
//!
//! - `copy`: every readable committed region, read through `VaClone::reader` and copied with
//!   `io::copy` into a sink, buffered in 64 KiB as the writer reads;
//! - `dump`: `snapshot.minidump().full_memory().write_to(sink)`, strictly forward into a
//!   destination that implements only `Write`;
//! - `copy-deflate`, `dump-deflate`: the same into a flate2 encoder (its fastest level, pure
//!   Rust) in front of the sink, as a crash pipeline compresses a dump on its way out. Every
//!   call into the encoder goes through `bench_compress`, so its own cost can be counted apart.
//!
//! Each runs twice (a warm-up, then the measured run) inside `bench_dump_run`, which
//! `cargo xtask bench` has callgrind count: instructions, the kernel32 model's included (its
//! `ReadProcessMemory` is the copy). The sink discards what it is given, so every variant pays
//! the same for writing. The program prints the bytes copied and the peak heap the measured
//! run used beyond what was allocated before it.
//!
//! `dumpbench profiles MIB`: the size of each profile's dump of the model's service process
//! (`service_process`: a heap of `MIB` MiB, four images in sections, two threads, mapped files),
//! and of a plus dump under a budget, as the README's table gives them.

#[cfg(windows)]
fn main() {
    eprintln!("dumpbench runs against the kernel32 model: not on Windows");
}

#[cfg(not(windows))]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(not(windows))]
mod bench {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::hint::black_box;
    use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

    use flate2::Compression;
    use flate2::write::DeflateEncoder;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use pss::{CaptureFlags, DumpSummary, LocalSnapshot, MemoryState, ProcessAccess, Profile};
    use pss_tests::model::*;

    /// The system allocator, keeping the bytes in use and their peak.
    struct Counting;

    static IN_USE: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    // SAFETY: every call is forwarded unchanged to `System`; counting touches no allocation.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let now = if new_size >= layout.size() {
                IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size()
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed)
                    - (layout.size() - new_size)
            };
            PEAK.fetch_max(now, Ordering::Relaxed);
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// The writer's and the copy's buffer: one 64 KiB chunk.
    const CHUNK: usize = 0x1_0000;

    /// A destination that implements only `Write`, and discards what it is given.
    #[derive(Default)]
    struct Sink;

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            black_box(buf.first());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A flate2 encoder in front of the sink, every call to it made through `bench_compress`.
    struct Compressing(Option<DeflateEncoder<Sink>>);

    impl Compressing {
        fn new() -> Self {
            Self(Some(DeflateEncoder::new(Sink, Compression::fast())))
        }
        fn finish(mut self) {
            bench_compress(&mut self.0, None).expect("the encoder finishes");
        }
    }

    impl Write for Compressing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            bench_compress(&mut self.0, Some(buf))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The compressor's own work: `buf` compressed, or (`None`) the encoder finished.
    #[inline(never)]
    #[unsafe(no_mangle)]
    fn bench_compress(
        encoder: &mut Option<DeflateEncoder<Sink>>,
        buf: Option<&[u8]>,
    ) -> io::Result<usize> {
        match (buf, encoder.take()) {
            (Some(buf), Some(mut e)) => {
                let n = e.write(buf);
                *encoder = Some(e);
                n
            }
            (None, Some(e)) => e.finish().map(|_| 0),
            (_, None) => Err(io::Error::other("the encoder is finished")),
        }
    }

    /// A model process: `mib` MiB of private memory in eight regions (so the number of regions,
    /// which the writer's bookkeeping grows with, is the same at every size), three threads,
    /// two images, a few handles.
    fn process(mib: usize) -> ProcessSpec {
        let mut spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x100))
            .thread(ThreadSpec::new(0x104))
            .thread(ThreadSpec::new(0x108))
            .handle(HandleSpec::event(0x4, true, false))
            .handle(HandleSpec::other(0x8, "File").named(r"\Device\ConDrv"))
            .region(RegionSpec::image(
                0x7FF6_0000_0000_u64 as usize,
                0x4_0000,
                r"\Device\HarddiskVolume3\bench.exe",
            ))
            .region(RegionSpec::image(
                0x7FFB_0000_0000_u64 as usize,
                0x10_0000,
                r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
            ))
            .with_peb();
        let region = (mib << 20) / 8;
        for i in 0..8 {
            let base = 0x0000_0200_0000_0000_u64 as usize + i * region;
            spec = spec.region(RegionSpec::private(base, region));
        }
        spec
    }

    /// What one run did: bytes of memory copied.
    #[inline(never)]
    #[unsafe(no_mangle)]
    fn bench_dump_run(variant: &str, snapshot: &LocalSnapshot, regions: &[(usize, usize)]) -> u64 {
        match variant {
            "copy" => copy(snapshot, regions, Sink),
            "copy-deflate" => {
                let mut out = Compressing::new();
                let copied = copy(snapshot, regions, &mut out);
                out.finish();
                copied
            }
            "dump" => memory_bytes(dump(snapshot, Sink)),
            "dump-deflate" => {
                let mut out = Compressing::new();
                let summary = dump(snapshot, &mut out);
                out.finish();
                memory_bytes(summary)
            }
            other => panic!("unknown variant {other}"),
        }
    }

    /// Every region, read through the clone's reader and `io::copy`d into `out` through 64 KiB.
    fn copy(snapshot: &LocalSnapshot, regions: &[(usize, usize)], out: impl Write) -> u64 {
        let clone = snapshot.va_clone().expect("a clone");
        let mut reader = clone.reader();
        let mut out = BufWriter::with_capacity(CHUNK, out);
        let mut copied = 0;
        for &(base, size) in regions {
            reader.seek(SeekFrom::Start(base as u64)).expect("seek");
            copied += io::copy(&mut (&mut reader).take(size as u64), &mut out).expect("the copy");
        }
        out.flush().expect("flush");
        copied
    }

    fn dump(snapshot: &LocalSnapshot, out: impl Write) -> DumpSummary {
        snapshot
            .minidump()
            .full_memory()
            .write_to(out)
            .expect("the dump")
    }

    fn memory_bytes(summary: DumpSummary) -> u64 {
        let memory_lost = summary
            .omissions
            .iter()
            .any(|o| matches!(o, pss::Omission::Memory { .. }));
        assert!(!memory_lost, "{:?}", summary.omissions);
        summary.memory_bytes
    }

    /// A byte counter: what each profile's dump of the service process takes.
    #[derive(Default)]
    struct Count(u64);

    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Prints `profile=NAME bytes=N memory=N ranges=N` for each profile, and for a plus dump
    /// under a budget of a quarter of its size.
    fn profiles(mib: usize) {
        let process = service_process(mib << 20).spawn();
        let flags = CaptureFlags::MINIDUMP;
        let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags))
            .expect("open the model process");
        let snapshot = LocalSnapshot::capture(&handle, flags).expect("capture");
        let mut plus = 0;
        for (name, profile) in [
            ("small", Profile::Small),
            ("referenced", Profile::Referenced),
            ("plus", Profile::Plus),
            ("full", Profile::Full),
        ] {
            let mut count = Count::default();
            let summary = snapshot
                .minidump()
                .profile(profile)
                .write_to(&mut count)
                .expect("the dump");
            assert_eq!(count.0, summary.bytes);
            if profile == Profile::Plus {
                plus = summary.bytes;
            }
            println!(
                "profile={name} bytes={} memory={} ranges={}",
                summary.bytes, summary.memory_bytes, summary.memory_ranges
            );
        }
        let budget = plus / 4;
        let summary = snapshot
            .minidump()
            .profile(Profile::Plus)
            .max_bytes(budget)
            .write_to(Count::default())
            .expect("the dump");
        assert!(summary.bytes <= budget);
        println!(
            "profile=plus/4 bytes={} memory={} ranges={} budget={budget}",
            summary.bytes, summary.memory_bytes, summary.memory_ranges
        );
    }

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().collect();
        let (Some(variant), Some(Ok(mib))) = (args.get(1), args.get(2).map(|m| m.parse())) else {
            eprintln!("usage: dumpbench copy|dump|copy-deflate|dump-deflate|profiles MIB");
            return ExitCode::FAILURE;
        };
        if variant == "profiles" {
            profiles(mib);
            return ExitCode::SUCCESS;
        }
        let process = process(mib).spawn();
        let flags = CaptureFlags::MINIDUMP;
        let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags))
            .expect("open the model process");
        let snapshot = LocalSnapshot::capture(&handle, flags).expect("capture");
        let regions: Vec<(usize, usize)> = snapshot
            .va_space()
            .expect("the address space")
            .iter()
            .map(|r| r.expect("a region").region())
            .filter(|r| {
                r.state == MemoryState::Commit
                    && r.protect.is_readable()
                    && !r.protect.contains(pss::MemoryProtection::GUARD)
            })
            .map(|r| (r.base_address, r.region_size))
            .collect();
        let warm = bench_dump_run(variant, &snapshot, &regions);
        let before = IN_USE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let bytes = bench_dump_run(variant, &snapshot, &regions);
        let peak = PEAK.load(Ordering::Relaxed) - before;
        assert_eq!(warm, bytes, "both runs copy the same bytes");
        println!("variant={variant} bytes={bytes} peak_heap={peak}");
        ExitCode::SUCCESS
    }
}
