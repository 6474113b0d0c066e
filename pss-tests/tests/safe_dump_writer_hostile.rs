//! `pss`'s minidump writer against what a caller or a target can hand it that is wrong or
//! hostile: a `CONTEXT` whose union holds its smaller variant, PE headers and loader lists that
//! lie, destinations whose writes do not go where they seek (the writer never seeks: they get a
//! valid dump), stack limits of 0 and above 4 GiB.
//! Each test here failed before its fix (under Miri where the fault was undefined behaviour, for
//! `i686-unknown-linux-gnu` where it was a 32-bit overflow, with a counting allocator where it
//! was heap); the dump must stay valid (an independent reader, rust-minidump, opens it), the
//! writer's peak heap bounded, and every error must say what happened.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Cursor, Seek, SeekFrom, Write};

use minidump::{Minidump, MinidumpException, MinidumpSystemInfo};
use pss::{CaptureFlags, DumpException, DumpSummary, LocalSnapshot};
use pss_sys as sys;
use pss_tests::*;

/// The system allocator, keeping, for threads that asked, the bytes live on the heap and their
/// peak (per thread, so tests may run in parallel; what another thread frees is not counted).
struct PeakHeap;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(bytes: isize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let live = LIVE.try_with(|l| {
            l.set(l.get() + bytes);
            l.get()
        });
        if let Ok(live) = live {
            let _ = PEAK.try_with(|p| p.set(p.get().max(live)));
        }
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches no allocation.
unsafe impl GlobalAlloc for PeakHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size() as isize);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size as isize - layout.size() as isize);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grew(-(layout.size() as isize));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: PeakHeap = PeakHeap;

/// `f`'s result, and the most bytes this thread had on the heap at once during it, above what
/// it had when `f` started.
#[cfg(not(windows))]
fn peak_heap_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, PEAK.with(Cell::get).max(0) as usize)
}

/// Writes `writer`'s dump to memory: its bytes and summary.
fn written(writer: pss::DumpWriter<'_>) -> (Vec<u8>, DumpSummary) {
    let mut out = Cursor::new(Vec::new());
    let summary = writer.write_to(&mut out).expect("the dump is written");
    let bytes = out.into_inner();
    assert_eq!(summary.bytes, bytes.len() as u64);
    (bytes, summary)
}

/// A `CONTEXT` as safe code builds one, registers set; on x64 (and arm64ec) with its `Anonymous`
/// union holding `CONTEXT_0_0` (416 bytes), which leaves the union's last 96 bytes (where
/// `XSAVE_FORMAT`, 512 bytes, keeps `Reserved4`) uninitialised.
fn context_built_in_safe_code() -> sys::CONTEXT {
    #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_AMD64,
            Rip: 0x7FF6_1234_5678,
            Rsp: 0x5000_0800,
            Rbp: 0x5000_0900,
            Anonymous: sys::CONTEXT_0 {
                Anonymous: sys::CONTEXT_0_0 {
                    Xmm15: sys::M128A {
                        Low: 0x1111_2222_3333_4444,
                        High: 0x5555_6666_7777_0000,
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }
    }
    #[cfg(target_arch = "x86")]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_X86,
            Eip: 0x7612_3456,
            Esp: 0x5000_0800,
            Ebp: 0x5000_0900,
            ..Default::default()
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_ARM64,
            Pc: 0x7FF6_1234_5678,
            Sp: 0x5000_0800,
            Anonymous: sys::CONTEXT_0 {
                Anonymous: sys::CONTEXT_0_0 {
                    Fp: 0x5000_0900,
                    ..Default::default()
                },
            },
            ..Default::default()
        }
    }
}

/// Bullet 1 of issue 21: `DumpException::context` with a `CONTEXT` built in safe code. Before the
/// fix the writer read all of its bytes as `u8`, the uninitialised ones included; Miri:
/// "constructing invalid value of type [u8; 1232]: at [672], encountered uninitialized memory"
/// (natively, stale stack bytes went into the dump). Now the dump holds the registers, and zeros
/// where the union's smaller variant ends.
#[test]
fn a_context_built_in_safe_code_is_written_without_its_uninitialised_bytes() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let context = context_built_in_safe_code();
    let exception =
        DumpException::new(7, 0xC000_0005, 0x7FF6_1234_5678_u64 as usize).context(&context);
    let (bytes, _) = written(snapshot.minidump().exception(exception));
    drop(snapshot);
    let dump = Minidump::read(&bytes[..]).expect("an independent reader opens the dump");
    let stream: MinidumpException<'_> = dump.get_stream().unwrap();
    let system: MinidumpSystemInfo = dump.get_stream().unwrap();
    let parsed = stream
        .context(&system, None)
        .expect("the exception's context parses");
    assert_eq!(parsed.get_stack_pointer(), 0x5000_0800);
    assert_eq!(
        parsed.get_instruction_pointer(),
        if cfg!(target_arch = "x86") {
            0x7612_3456
        } else {
            0x7FF6_1234_5678
        }
    );
    let location = stream.raw.thread_context;
    let at = location.rva as usize;
    let record = &bytes[at..at + location.data_size as usize];
    assert_eq!(record.len(), size_of::<sys::CONTEXT>());
    #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
    {
        // Xmm15 is the smaller variant's last field; the 96 bytes after it are zeros.
        let union_at = core::mem::offset_of!(sys::CONTEXT, Anonymous);
        let xmm15 = union_at + size_of::<sys::CONTEXT_0_0>() - 16;
        assert_eq!(
            record[xmm15..xmm15 + 8],
            0x1111_2222_3333_4444_u64.to_le_bytes()
        );
        let tail = union_at + size_of::<sys::CONTEXT_0_0>()..union_at + size_of::<sys::CONTEXT_0>();
        assert_eq!(tail.len(), 96);
        assert!(record[tail].iter().all(|&b| b == 0));
    }
    assert_no_leaks();
}

/// A destination whose writes ignore seeks: every write appends, as to a file opened in append
/// mode. `truthful`: a seek reports where the next write really goes (the end); otherwise it
/// reports the offset asked for.
struct IgnoresSeeks {
    bytes: Vec<u8>,
    truthful: bool,
}

impl Write for IgnoresSeeks {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for IgnoresSeeks {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let end = self.bytes.len() as u64;
        Ok(match to {
            SeekFrom::Start(n) if !self.truthful => n,
            SeekFrom::End(n) if !self.truthful => end.saturating_add_signed(n),
            _ => end,
        })
    }
}

/// Bullet 4 of issue 21: a destination whose writes do not go where it seeks. Before the fix the
/// writer returned `Ok` and the header it patched in last landed at the end: the file was not a
/// minidump; the first fix made it an error. Since the writer writes strictly forward (issue
/// 22) it never seeks: such a destination gets the same valid dump as a `Vec`.
#[test]
fn a_destination_whose_writes_ignore_seeks_gets_a_valid_dump() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let (expected, _) = written(snapshot.minidump());
    for truthful in [false, true] {
        let mut out = IgnoresSeeks {
            bytes: Vec::new(),
            truthful,
        };
        snapshot.minidump().write_to(&mut out).unwrap();
        assert_eq!(out.bytes, expected, "truthful seeks: {truthful}");
        Minidump::read(out.bytes).expect("a dump");
    }
    drop(snapshot);
    assert_no_leaks();
}

/// The same with a real file opened in append mode, empty and with bytes already in it: the
/// dump follows what the file held, whole.
#[test]
fn a_file_opened_in_append_mode_gets_a_valid_dump_after_its_bytes() {
    require_pss!();
    if cfg!(miri) {
        eprintln!(
            "skipped: a_file_opened_in_append_mode_gets_a_valid_dump_after_its_bytes: Miri's \
             isolation has no files (a_destination_whose_writes_ignore_seeks_... runs there)"
        );
        return;
    }
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let (expected, _) = written(snapshot.minidump());
    for prefix in [&b""[..], b"earlier log lines\n"] {
        let path = std::env::temp_dir().join(format!(
            "pss-tests-{}-append-{}.dmp",
            std::process::id(),
            prefix.len()
        ));
        std::fs::write(&path, prefix).unwrap();
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        snapshot.minidump().write_to(file).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(bytes.starts_with(prefix));
        assert_eq!(
            bytes[prefix.len()..],
            expected[..],
            "a prefix of {}",
            prefix.len()
        );
        Minidump::read(&bytes[prefix.len()..]).expect("a dump");
    }
    drop(snapshot);
    assert_no_leaks();
}

/// Model processes lay out the hostile memory: headers, loader lists and stacks that lie.
#[cfg(not(windows))]
mod model {
    use super::*;
    use minidump::{MinidumpModuleList, Module};
    use pss::{DumpError, Omission};
    use pss_tests::model::*;

    fn capture(pid: u32, flags: CaptureFlags) -> LocalSnapshot {
        let handle = pss::open_process(pid, pss::ProcessAccess::for_capture(flags)).unwrap();
        LocalSnapshot::capture(&handle, flags).unwrap()
    }

    /// A small dump of a snapshot of `spec`'s process, captured with every flag a dump uses:
    /// its bytes, opened, and the summary.
    fn dump_of(spec: ProcessSpec) -> (Minidump<'static, Vec<u8>>, DumpSummary) {
        let process = spec.spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let (bytes, summary) = written(snapshot.minidump());
        drop(snapshot);
        let dump = Minidump::read(bytes).expect("an independent reader opens the dump");
        (dump, summary)
    }

    /// PE32+ headers (a DOS header, `e_lfanew` 0x80, NT headers) whose optional header says
    /// `size_of_image` and whose debug data directory is (`debug_rva`, `debug_size`).
    fn pe_headers(size_of_image: u32, debug_rva: u32, debug_size: u32) -> Vec<u8> {
        let mut page = vec![0u8; 0x400];
        page[..2].copy_from_slice(b"MZ");
        page[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        page[0x80..0x84].copy_from_slice(b"PE\0\0");
        page[0x88..0x8C].copy_from_slice(&0x6512_3456u32.to_le_bytes());
        let optional = 0x98;
        page[optional..optional + 2].copy_from_slice(&0x20Bu16.to_le_bytes());
        page[optional + 56..optional + 60].copy_from_slice(&size_of_image.to_le_bytes());
        page[optional + 108..optional + 112].copy_from_slice(&16u32.to_le_bytes());
        let debug = optional + 112 + 6 * 8;
        page[debug..debug + 4].copy_from_slice(&debug_rva.to_le_bytes());
        page[debug + 4..debug + 8].copy_from_slice(&debug_size.to_le_bytes());
        page
    }

    /// Bullet 2 of issue 21, with its numbers: an image at 0x6000_0000 whose headers say
    /// `SizeOfImage = 0xFFFF_FFFF` and put the debug directory at RVA 0xA000_0000. Before the
    /// fix the writer checked RVAs against the headers' own `SizeOfImage` and added them to the
    /// base unchecked: on 32-bit hosts `0x6000_0000 + 0xA000_0000` overflowed (a panic in debug
    /// builds: Miri for i686 showed it), and on 64-bit the CodeView record was read from
    /// 0x1_0000_0000 on, outside the image, where this test puts one. Now RVAs are checked
    /// against the image region's real extent (0x1_0000 here) with checked arithmetic: no
    /// record, an omission naming the debug directory, and the module's size is the region's.
    #[test]
    fn headers_that_lie_about_the_image_size_are_checked_against_its_region() {
        const BASE: usize = 0x6000_0000;
        const DEBUG_RVA: u32 = 0xA000_0000;
        let mut spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10))
            .handle(HandleSpec::event(0x4, true, false))
            .region(
                RegionSpec::image(BASE, 0x1_0000, r"\Device\HarddiskVolume3\lying.dll")
                    .contents(&pe_headers(0xFFFF_FFFF, DEBUG_RVA, 28)),
            );
        if let Some(outside) = BASE.checked_add(DEBUG_RVA as usize) {
            // 64-bit: where the lying RVA leads, a debug directory and a CodeView record.
            let mut bait = vec![0u8; 0x200];
            bait[12..16].copy_from_slice(&2u32.to_le_bytes()); // IMAGE_DEBUG_TYPE_CODEVIEW
            let record: Vec<u8> = [
                &b"RSDS"[..],
                &[0x42; 16],
                &1u32.to_le_bytes(),
                b"evil.pdb\0",
            ]
            .concat();
            bait[16..20].copy_from_slice(&(record.len() as u32).to_le_bytes());
            bait[20..24].copy_from_slice(&(DEBUG_RVA + 0x100).to_le_bytes());
            bait[0x100..0x100 + record.len()].copy_from_slice(&record);
            spec = spec.region(RegionSpec::private(outside, 0x1000).contents(&bait));
        }
        let (dump, summary) = dump_of(spec);
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        let module = modules
            .module_at_address(BASE as u64)
            .expect("the module is listed");
        assert_eq!(
            module.debug_file(),
            None,
            "no CodeView record from outside the image"
        );
        assert_eq!(summary.modules_with_codeview, 0);
        assert_eq!(
            module.raw.size_of_image, 0x1_0000,
            "the region's size, not the headers'"
        );
        assert!(
            summary.omissions.iter().any(|o| matches!(
                o,
                Omission::ModuleHeaders { base: BASE, problem } if problem.contains("outside the image")
            )),
            "{:?}",
            summary.omissions
        );
        assert_no_leaks();
    }

    /// A loader list laid out by hand at the PEB the model reports ([`PEB_ADDRESS`]): the PEB
    /// points at `PEB_LDR_DATA`, whose load-order list leads to the entries at `entries`
    /// (their `InLoadOrderLinks.Flink`, their `DllBase`, their `FullDllName`: a length in bytes
    /// and a buffer). Returns the regions holding the PEB and the loader data.
    fn loader_list(entries: &[(usize, usize, usize, u16, usize)]) -> [RegionSpec; 2] {
        const POINTER: usize = size_of::<usize>();
        const LDR: usize = 0x5000_0000;
        let put = |bytes: &mut Vec<u8>, at: usize, value: usize| {
            bytes[at..at + POINTER].copy_from_slice(&value.to_le_bytes());
        };
        let mut peb = vec![0u8; 0x200];
        put(&mut peb, 3 * POINTER, LDR); // PEB.Ldr
        let mut ldr = vec![0u8; 0x1000];
        let load_order = if POINTER == 8 { 0x10 } else { 0x0C };
        put(&mut ldr, load_order, entries[0].0); // InLoadOrderModuleList.Flink
        let full_name = if POINTER == 8 { 0x48 } else { 0x24 };
        for &(at, next, base, length, buffer) in entries {
            let e = at - LDR;
            put(&mut ldr, e, next);
            put(&mut ldr, e + 6 * POINTER, base); // DllBase
            ldr[e + full_name..e + full_name + 2].copy_from_slice(&length.to_le_bytes());
            ldr[e + full_name + 2..e + full_name + 4].copy_from_slice(&length.to_le_bytes());
            put(&mut ldr, e + full_name + POINTER, buffer);
        }
        [
            RegionSpec::private(PEB_ADDRESS, 0x1000).contents(&peb),
            RegionSpec::private(LDR, 0x1000).contents(&ldr),
        ]
    }

    /// Where the tests' images go: within 32 bits on every host.
    const IMAGE: usize = 0x6000_0000;

    /// The loader names' length in bytes: issue 21's 65,534, the most a `UNICODE_STRING` holds.
    /// Under Miri, which interprets every byte of a name several times (two minutes for this
    /// one), 2 KiB: the loop and the bounds are the same, and the heap is measured natively.
    const NAME_BYTES: u16 = if cfg!(miri) { 0x800 } else { 65_534 };

    /// `n` bytes of a UTF-16 name: `C:\`, then `A`s.
    fn long_name(bytes: usize) -> Vec<u8> {
        let units: Vec<u16> = "C:\\"
            .encode_utf16()
            .chain(std::iter::repeat(u16::from(b'A')))
            .take(bytes / 2)
            .collect();
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// Bullet 3 of issue 21: a loader entry linked to itself, with a 65,534-byte name. Before the
    /// fix the writer followed it `MAX_MODULES` (4,096) times, keeping a copy of the name each
    /// time: this test measured a peak heap of 268,821,562 bytes (256 MiB) for a dump of 70 KB,
    /// and 8,198 reads (the entry and its name, 4,096 times). Now the name is kept once (only
    /// for an image the dump lists) and the walk stops there: 329,792 bytes and 8 reads; the
    /// bound asserted is 1 MiB.
    #[test]
    fn a_loader_list_that_loops_is_followed_once_in_bounded_heap() {
        const ENTRY: usize = 0x5000_0100;
        const NAME: usize = 0x5100_0000;
        let name = long_name(NAME_BYTES.into());
        let mut spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::image(
                IMAGE,
                0x1_0000,
                r"\Device\HarddiskVolume3\a.dll",
            ))
            .region(RegionSpec::private(NAME, 0x1_0000).contents(&name));
        for region in loader_list(&[(ENTRY, ENTRY, IMAGE, NAME_BYTES, NAME)]) {
            spec = spec.region(region);
        }
        let process = spec.spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let reads = call_count(Call::ReadProcessMemory);
        let ((bytes, summary), peak) = peak_heap_during(|| written(snapshot.minidump()));
        let reads = call_count(Call::ReadProcessMemory) - reads;
        drop(snapshot);
        eprintln!(
            "peak heap {peak} bytes, {reads} ReadProcessMemory calls, dump {} bytes",
            bytes.len()
        );
        assert!(peak < 1 << 20, "the writer's peak heap: {peak} bytes");
        assert!(reads < 64, "{reads} reads of the target's memory");
        let dump = Minidump::read(bytes).expect("an independent reader opens the dump");
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        let module = modules.module_at_address(IMAGE as u64).unwrap();
        assert_eq!(
            module.name.len(),
            usize::from(NAME_BYTES / 2),
            "the loader's name, once"
        );
        assert!(module.name.starts_with("C:\\AAAA"));
        assert_eq!(summary.modules, 1);
        assert_no_leaks();
    }

    /// A loop that does not pass the list's head again (entry 0 -> 1 -> 2 -> 1 -> ...), of
    /// entries for no image the dump lists: followed until the loop is found (not 4,096
    /// entries), their names not read; the image is named by its NT path, as without a list.
    #[test]
    fn a_loader_list_that_loops_past_its_head_is_followed_until_the_loop_is_found() {
        const ENTRIES: [usize; 3] = [0x5000_0100, 0x5000_0400, 0x5000_0700];
        const NAMES: usize = 0x5100_0000;
        let name = long_name(NAME_BYTES.into());
        let mut spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::image(
                IMAGE,
                0x1_0000,
                r"\Device\HarddiskVolume3\a.dll",
            ))
            .region(RegionSpec::private(NAMES, 0x1_0000).contents(&name));
        let entries = [
            (ENTRIES[0], ENTRIES[1], 0x7000_0000, NAME_BYTES, NAMES),
            (ENTRIES[1], ENTRIES[2], 0x7100_0000, NAME_BYTES, NAMES),
            (ENTRIES[2], ENTRIES[1], 0x7200_0000, NAME_BYTES, NAMES),
        ];
        for region in loader_list(&entries) {
            spec = spec.region(region);
        }
        let process = spec.spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let reads = call_count(Call::ReadProcessMemory);
        let ((bytes, _), peak) = peak_heap_during(|| written(snapshot.minidump()));
        let reads = call_count(Call::ReadProcessMemory) - reads;
        drop(snapshot);
        eprintln!("peak heap {peak} bytes, {reads} ReadProcessMemory calls");
        assert!(peak < 1 << 20, "the writer's peak heap: {peak} bytes");
        assert!(reads < 64, "{reads} reads of the target's memory");
        let dump = Minidump::read(bytes).expect("an independent reader opens the dump");
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        assert_eq!(
            modules.module_at_address(IMAGE as u64).unwrap().name,
            r"\Device\HarddiskVolume3\a.dll"
        );
        assert_no_leaks();
    }

    /// Where the stack tests' stack region is.
    const STACK: usize = 0x5200_0000;

    /// A thread whose stack pointer is `above` bytes below the end of a readable region of
    /// `stack_size` bytes at `STACK` (its stack, as the writer takes it, is those bytes).
    fn with_a_stack(stack_size: usize, above: usize) -> ProcessSpec {
        let sp = STACK + stack_size - above;
        ProcessSpec::new()
            .thread(ThreadSpec::new(0x10).registers(IMAGE + 0x1000, sp, 0))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::private(STACK, stack_size).contents(b"stack"))
    }

    /// Bullet 5 of issue 21: `stack_limit(0)`. Before the fix every thread was reported as
    /// "no readable region holds its stack pointer" (`Omission::Stack` with `wanted` 0), which
    /// was not what happened. Now a limit of 0 writes no stack memory, as asked, and reports
    /// nothing missing; the same stack with the default limit is written whole.
    #[test]
    fn a_stack_limit_of_zero_writes_no_stack_and_reports_no_missing_region() {
        let process = with_a_stack(0x1000, 0x100).spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let (_, summary) = written(snapshot.minidump().stack_limit(0));
        for omission in &summary.omissions {
            assert!(
                !matches!(omission, Omission::Stack { .. }),
                "stack_limit(0) reported as: {omission}"
            );
        }
        let (_, whole) = written(snapshot.minidump());
        assert_eq!(
            whole.memory_bytes - summary.memory_bytes,
            0x100,
            "the stack's 0x100 bytes"
        );
        drop(snapshot);
        assert_no_leaks();
    }

    /// A destination that keeps only its position and length (a dump of several GiB costs no
    /// memory).
    #[derive(Default)]
    struct Sink {
        position: u64,
        len: u64,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.position += buf.len() as u64;
            self.len = self.len.max(self.position);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Sink {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.position = match to {
                SeekFrom::Start(n) => n,
                SeekFrom::End(n) => self.len.saturating_add_signed(n),
                SeekFrom::Current(n) => self.position.saturating_add_signed(n),
            };
            Ok(self.position)
        }
    }

    /// Bullet 5 of issue 21: a stack limit above 4 GiB and stacks larger than the format can
    /// address (64-bit hosts). Before the fix the writer copied a whole 5 GiB stack, and then
    /// failed with `TooLarge`, whose docs blame millions of handles. Now (the writer plans the
    /// dump before writing it) a stack is cut at 4 GiB less a page, the size field's limit, and
    /// stacks that together would not fit the dump's 32-bit part (here two of 3 GiB) are refused
    /// when the dump is laid out, before anything is read or written; the error says that the
    /// thread stacks cannot fit, and to lower the stack limit.
    #[test]
    fn a_stack_beyond_4_gib_is_refused_before_it_is_copied_and_named() {
        // Both regions above STACK: they fit a 64-bit address space only.
        let Some(size) = 3usize.checked_mul(1 << 30).filter(|&size| {
            size.checked_mul(2)
                .and_then(|both| both.checked_add(0x1000_0000))
                .and_then(|span| STACK.checked_add(span))
                .is_some()
        }) else {
            eprintln!(
                "skipped: a_stack_beyond_4_gib_is_refused_before_it_is_copied_and_named: a \
                 32-bit address space has no two regions of 3 GiB"
            );
            return;
        };
        let second = STACK + size + 0x1000_0000;
        let process = with_a_stack(size, size - 0x100)
            .thread(ThreadSpec::new(0x14).registers(IMAGE + 0x1000, second + 0x100, 0))
            .region(RegionSpec::private(second, size))
            .spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let reads = call_count(Call::ReadProcessMemory);
        let mut sink = Sink::default();
        let result = snapshot
            .minidump()
            .stack_limit(usize::MAX)
            .write_to(&mut sink);
        let reads = call_count(Call::ReadProcessMemory) - reads;
        drop(snapshot);
        match result {
            Err(
                error @ DumpError::TooLarge {
                    part: "the thread stacks",
                    ..
                },
            ) => {
                let text = error.to_string();
                eprintln!("{text}");
                assert!(text.contains("stack_limit"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert!(reads < 64, "{reads} reads: the stack was copied");
        assert!(sink.len < 1 << 20, "{} bytes written", sink.len);
        assert_no_leaks();
    }
}
