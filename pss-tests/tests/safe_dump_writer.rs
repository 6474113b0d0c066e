//! `LocalSnapshot::minidump`: pss's own minidump writer. Every dump is read back with an
//! independent reader (rust-minidump) and compared with what the snapshot holds: threads and
//! their contexts, modules, the address space, handles, memory as the VA clone has it. The
//! dumps go to memory (a `Cursor`), so these tests also run under Miri; against real kernel32
//! on Windows they run on a child process.

use std::collections::BTreeSet;
use std::io::Cursor;

use minidump::{
    Minidump, MinidumpHandleDataStream, MinidumpMemory64List, MinidumpMemoryInfoList,
    MinidumpMemoryList, MinidumpMiscInfo, MinidumpModuleList, MinidumpSystemInfo,
    MinidumpThreadList,
};
use pss::{CaptureFlags, DumpSummary, LocalSnapshot, MemoryType, Omission, ProcessAccess};
use pss_tests::*;

#[cfg(not(windows))]
mod unwind;

fn capture(pid: u32, flags: CaptureFlags) -> LocalSnapshot {
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&handle, flags).unwrap()
}

/// Writes a dump to memory and opens it with rust-minidump.
fn dump(snapshot: &LocalSnapshot, full: bool) -> (Minidump<'static, Vec<u8>>, DumpSummary) {
    let mut out = Cursor::new(Vec::new());
    let writer = snapshot.minidump();
    let writer = if full { writer.full_memory() } else { writer };
    let summary = writer.write_to(&mut out).expect("the dump is written");
    let bytes = out.into_inner();
    assert_eq!(
        summary.bytes,
        bytes.len() as u64,
        "the summary counts every byte"
    );
    let dump = Minidump::read(bytes).expect("an independent reader opens the dump");
    (dump, summary)
}

/// What the snapshot itself says: thread ids, image bases, region and handle counts.
struct Expected {
    pid: u32,
    threads: BTreeSet<u32>,
    images: BTreeSet<u64>,
    regions: usize,
    handles: usize,
}

fn expected(snapshot: &LocalSnapshot) -> Expected {
    let threads = snapshot.threads().unwrap();
    let regions = snapshot.va_space().unwrap();
    Expected {
        pid: snapshot.process_information().unwrap().process_id(),
        threads: threads.iter().map(|t| t.unwrap().thread_id()).collect(),
        images: regions
            .iter()
            .map(Result::unwrap)
            .filter(|r| r.region().kind == MemoryType::Image)
            .map(|r| r.region().allocation_base as u64)
            .collect(),
        regions: snapshot.region_count().unwrap() as usize,
        handles: snapshot.handle_count().unwrap() as usize,
    }
}

fn check(dump: &Minidump<'static, Vec<u8>>, summary: &DumpSummary, expected: &Expected) {
    let misc: MinidumpMiscInfo = dump.get_stream().unwrap();
    assert_eq!(misc.raw.process_id(), Some(&expected.pid));
    let system: MinidumpSystemInfo = dump.get_stream().unwrap();
    let arch = if cfg!(target_arch = "x86") {
        minidump::system_info::Cpu::X86
    } else if cfg!(target_arch = "aarch64") {
        minidump::system_info::Cpu::Arm64
    } else {
        minidump::system_info::Cpu::X86_64
    };
    assert_eq!(system.cpu, arch);
    assert_eq!(system.os, minidump::system_info::Os::Windows);
    let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
    let ids: BTreeSet<u32> = threads.threads.iter().map(|t| t.raw.thread_id).collect();
    assert_eq!(ids, expected.threads, "thread ids");
    assert_eq!(summary.threads, expected.threads.len());
    for thread in &threads.threads {
        let context = thread
            .context(&system, Some(&misc))
            .expect("every thread's context parses");
        assert!(context.get_stack_pointer() != 0);
    }
    let modules: MinidumpModuleList = dump.get_stream().unwrap();
    let bases: BTreeSet<u64> = modules.iter().map(|m| m.raw.base_of_image).collect();
    assert_eq!(bases, expected.images, "one module per image");
    assert_eq!(summary.modules, expected.images.len());
    let info: MinidumpMemoryInfoList<'_> = dump.get_stream().unwrap();
    assert_eq!(info.iter().count(), expected.regions, "memory regions");
    let handles: MinidumpHandleDataStream = dump.get_stream().unwrap();
    assert_eq!(handles.handles.len(), expected.handles, "handles");
    assert_eq!(summary.handles, expected.handles);
}

/// A small and a full dump of a child process hold its threads (with contexts), modules,
/// regions and handles; the small one holds memory ranges (stacks, TEBs, the PEB) whose bytes
/// are the clone's, the full one every readable region, as the clone has it.
#[test]
fn small_and_full_dumps_hold_what_the_snapshot_held() {
    require_pss!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
    let expected = expected(&snapshot);
    let clone = snapshot.va_clone().unwrap();

    let (small, summary) = dump(&snapshot, false);
    check(&small, &summary, &expected);
    assert!(small.get_stream::<MinidumpMemory64List<'_>>().is_err());
    let memory: MinidumpMemoryList<'_> = small.get_stream().unwrap();
    assert_eq!(memory.iter().count(), summary.memory_ranges);
    for range in memory.iter() {
        let mut bytes = vec![0; range.bytes.len()];
        let address = usize::try_from(range.base_address).unwrap();
        clone.read_exact(address, &mut bytes).unwrap();
        assert_eq!(range.bytes, &bytes[..], "at {address:#x}");
    }

    let (full, summary) = dump(&snapshot, true);
    check(&full, &summary, &expected);
    let memory: MinidumpMemory64List<'_> = full.get_stream().unwrap();
    assert_eq!(memory.iter().count(), summary.memory_ranges);
    assert!(summary.memory_ranges > 0);
    for range in memory.iter().take(16) {
        let mut bytes = vec![0; range.bytes.len().min(0x4000)];
        let address = usize::try_from(range.base_address).unwrap();
        clone.read_exact(address, &mut bytes).unwrap();
        assert_eq!(&range.bytes[..bytes.len()], &bytes[..], "at {address:#x}");
    }
    drop(snapshot);
    assert_no_leaks();
}

/// A snapshot captured without threads, handles, address space or clone still gives a valid
/// dump (a thread list and system information, which readers require), and the summary names
/// each missing part.
#[test]
fn parts_not_captured_are_omissions_not_errors() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let (dump, summary) = dump(&snapshot, true);
    let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
    assert!(threads.threads.is_empty());
    assert!(dump.get_stream::<MinidumpSystemInfo>().is_ok());
    assert!(!summary.is_complete());
    for missing in [
        CaptureFlags::VA_CLONE,
        CaptureFlags::VA_SPACE,
        CaptureFlags::HANDLES,
    ] {
        assert!(
            summary
                .omissions
                .iter()
                .any(|o| matches!(o, Omission::NotCaptured(flags) if flags.contains(missing))),
            "{missing:?} not named in {:?}",
            summary.omissions
        );
    }
    assert!(
        summary.omissions.iter().any(|o| matches!(
            o,
            Omission::Unlisted {
                part: "threads",
                ..
            }
        )),
        "{:?}",
        summary.omissions
    );
    drop(snapshot);
    assert_no_leaks();
}

/// Dumps are written on several threads at once: the writer takes no lock (dbghelp's
/// `MiniDumpWriteDump` must be serialised).
#[test]
fn two_dumps_are_written_at_once() {
    require_pss!();
    let processes = [TestProcess::spawn(), TestProcess::spawn()];
    let snapshots: Vec<LocalSnapshot> = processes
        .iter()
        .map(|p| capture(p.pid(), CaptureFlags::MINIDUMP))
        .collect();
    std::thread::scope(|scope| {
        let writers: Vec<_> = snapshots
            .into_iter()
            .map(|snapshot| {
                scope.spawn(move || {
                    let mut out = Cursor::new(Vec::new());
                    let summary = snapshot
                        .minidump()
                        .full_memory()
                        .write_to(&mut out)
                        .unwrap();
                    let dump = Minidump::read(out.into_inner()).unwrap();
                    let misc: MinidumpMiscInfo = dump.get_stream().unwrap();
                    (summary.threads, *misc.raw.process_id().unwrap())
                })
            })
            .collect();
        let pids: BTreeSet<u32> = writers.into_iter().map(|w| w.join().unwrap().1).collect();
        let expected: BTreeSet<u32> = processes.iter().map(TestProcess::pid).collect();
        assert_eq!(pids, expected);
    });
    assert_no_leaks();
}

/// The exception a crash reporter passes is the dump's exception stream: thread, code, address,
/// parameters, and the context given (or, without one, the thread's captured context).
#[test]
fn the_exception_stream_holds_what_the_reporter_passed() {
    require_pss!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
    let (tid, context, sp) = {
        let walk = snapshot.threads().unwrap();
        let thread = walk.iter().next().unwrap().unwrap();
        let context = thread.context().unwrap().into_owned();
        (thread.thread_id(), context, thread.stack_pointer().unwrap())
    };
    let parameters = [0, 0xDEAD_0000];
    for with_context in [false, true] {
        let mut exception =
            pss::DumpException::new(tid, 0xC000_0005, 0x7FF6_1234).parameters(&parameters);
        if with_context {
            exception = exception.context(&context);
        }
        let mut out = Cursor::new(Vec::new());
        snapshot
            .minidump()
            .exception(exception)
            .write_to(&mut out)
            .unwrap();
        let dump = Minidump::read(out.into_inner()).unwrap();
        let stream: minidump::MinidumpException<'_> = dump.get_stream().unwrap();
        assert_eq!(stream.raw.thread_id, tid);
        assert_eq!(stream.raw.exception_record.exception_code, 0xC000_0005);
        assert_eq!(stream.raw.exception_record.exception_address, 0x7FF6_1234);
        assert_eq!(stream.raw.exception_record.number_parameters, 2);
        assert_eq!(
            stream.raw.exception_record.exception_information[1],
            0xDEAD_0000
        );
        let system: MinidumpSystemInfo = dump.get_stream().unwrap();
        let parsed = stream
            .context(&system, None)
            .expect("the exception's context parses");
        assert_eq!(parsed.get_stack_pointer(), sp as u64);
    }
    drop(snapshot);
    assert_no_leaks();
}

/// Model processes give what Windows cannot be made to give on demand: hostile entries and
/// memory that vanishes, and call stacks whose frames are known.
#[cfg(not(windows))]
mod model {
    use super::*;
    use minidump::{CrashReason, Module};
    use minidump_unwind::FrameTrust;
    use pss_tests::model::*;

    /// A small and a full dump, by pss's writer, of a snapshot of `process`.
    fn small_and_full(process: &ModelProcess) -> [Minidump<'static, Vec<u8>>; 2] {
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let dumps = [dump(&snapshot, false).0, dump(&snapshot, true).0];
        drop(snapshot);
        dumps
    }

    /// rust-minidump's stack walker, without symbols, walks every thread of the demo process
    /// in a small and a full dump to exactly the frames the model laid out: the context's
    /// instruction pointer, then each return address, found by frame pointers; and reads each
    /// thread's last error from its TEB in the dump.
    #[test]
    fn every_thread_walks_to_the_frames_laid_out() {
        let process = demo_process().spawn();
        let specs = process.threads();
        assert!(
            specs
                .iter()
                .filter(|t| t.expected_frames().is_some())
                .count()
                >= 2
        );
        for (dump, kind) in small_and_full(&process).iter().zip(["small", "full"]) {
            let walked = unwind::walk(dump);
            assert_eq!(walked.len(), specs.len(), "{kind}: every thread");
            for spec in &specs {
                let thread = walked.iter().find(|t| t.id == spec.tid()).unwrap();
                assert_eq!(thread.teb, spec.teb_address() as u64, "{kind}: TEB");
                let Some(expected) = spec.expected_frames() else {
                    continue;
                };
                let what = format!(
                    "{kind} dump, thread {:#x}: {:#x?}",
                    spec.tid(),
                    thread.frames
                );
                assert_eq!(thread.frames.len(), expected.len(), "{what}");
                assert_eq!(thread.frames[0].trust, FrameTrust::Context, "{what}");
                assert_eq!(thread.frames[0].instruction, expected[0] as u64, "{what}");
                for (frame, &ret) in thread.frames[1..].iter().zip(&expected[1..]) {
                    assert_eq!(frame.trust, FrameTrust::FramePointer, "{what}");
                    assert_eq!(frame.resume_address, ret as u64, "{what}");
                }
                assert_eq!(
                    thread.last_error,
                    Some(CrashReason::from_windows_error(spec.last_error_value())),
                    "{kind}: thread {:#x}'s last error, read from its TEB",
                    spec.tid()
                );
            }
        }
        assert_no_leaks();
    }

    /// rust-minidump's processor end to end (what `minidump-stackwalk` runs, here without
    /// symbols) on full dumps of the demo process by both writers, pss's and the dbghelp
    /// stand-in's: every thread walks to exactly the frames laid out, through frame pointers,
    /// and every thread's last error comes from its TEB.
    #[test]
    fn the_processor_walks_every_thread_of_both_writers_dumps() {
        if cfg!(miri) {
            eprintln!(
                "skipped: the_processor_walks_every_thread_of_both_writers_dumps: dbghelp's dump \
                 goes to a file, which Miri's isolation has not (the walk itself runs under Miri \
                 in every_thread_walks_to_the_frames_laid_out)"
            );
            return;
        }
        let process = demo_process().spawn();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let ours = dump(&snapshot, true).0;
        let path =
            std::env::temp_dir().join(format!("pss-tests-{}-processor.dmp", std::process::id()));
        snapshot
            .write_minidump_to_path(&path, pss::MinidumpType::FULL)
            .unwrap();
        let theirs = Minidump::read(std::fs::read(&path).unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        drop(snapshot);
        let symbols = minidump_unwind::MultiSymbolProvider::new();
        for (dump, writer) in [(ours, "pss"), (theirs, "dbghelp")] {
            let state = unwind::block_on(minidump_processor::process_minidump(&dump, &symbols))
                .unwrap_or_else(|e| panic!("{writer}: the processor fails: {e}"));
            assert_eq!(state.process_id, Some(process.pid()), "{writer}");
            for spec in process.threads() {
                let thread = state
                    .threads
                    .iter()
                    .find(|t| t.thread_id == spec.tid())
                    .unwrap_or_else(|| panic!("{writer}: thread {:#x}", spec.tid()));
                let Some(expected) = spec.expected_frames() else {
                    continue;
                };
                let found: Vec<(u64, FrameTrust)> = thread
                    .frames
                    .iter()
                    .map(|f| (f.resume_address, f.trust))
                    .collect();
                let wanted: Vec<(u64, FrameTrust)> = expected
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| {
                        let trust = if i == 0 {
                            FrameTrust::Context
                        } else {
                            FrameTrust::FramePointer
                        };
                        (a as u64, trust)
                    })
                    .collect();
                assert_eq!(found, wanted, "{writer}: thread {:#x}", spec.tid());
                assert_eq!(
                    thread.last_error_value,
                    Some(CrashReason::from_windows_error(spec.last_error_value())),
                    "{writer}: thread {:#x}",
                    spec.tid()
                );
            }
        }
        assert_no_leaks();
    }

    /// Every module carries the CodeView record its headers hold (the debug identifier and PDB
    /// name a symbol server is asked for), the code identifier (time stamp and size), and its
    /// DOS name, which the loader's list gives.
    #[test]
    fn modules_carry_their_codeview_records_and_dos_names() {
        let process = demo_process().spawn();
        let images: Vec<RegionSpec> = process
            .regions()
            .into_iter()
            .filter(|r| r.image_info().is_some())
            .collect();
        assert_eq!(images.len(), 3);
        for dump in small_and_full(&process) {
            let modules: MinidumpModuleList = dump.get_stream().unwrap();
            for image in &images {
                let module = modules.module_at_address(image.base() as u64).unwrap();
                let codeview = image.expected_codeview().unwrap();
                let info = image.image_info().unwrap();
                assert_eq!(
                    module
                        .debug_identifier()
                        .map(|id| id.breakpad().to_string()),
                    Some(codeview.debug_identifier())
                );
                assert_eq!(module.debug_file().as_deref(), Some(&codeview.pdb[..]));
                assert_eq!(
                    module.code_identifier().map(|id| id.as_str().to_owned()),
                    Some(format!(
                        "{:08X}{:x}",
                        info.time_date_stamp, info.size_of_image
                    ))
                );
                assert_eq!(module.name, dos_path(&image.mapped_name()));
            }
        }
        assert_no_leaks();
    }

    /// A debugger finds the process through the first thread's TEB: TEB, PEB, the loader's
    /// list, every module's name. In a full dump of pss's writer that walk gives every module
    /// of the module list.
    #[test]
    fn debuggers_find_the_loader_list_through_the_teb() {
        let process = demo_process().spawn();
        let [_, full] = small_and_full(&process);
        let loaded = unwind::loader_modules(&full).expect("TEB, PEB and loader list in the dump");
        let modules: MinidumpModuleList = full.get_stream().unwrap();
        let listed: BTreeSet<(u64, String)> = modules
            .iter()
            .map(|m| (m.raw.base_of_image, m.name.clone()))
            .collect();
        assert_eq!(loaded.into_iter().collect::<BTreeSet<_>>(), listed);
        assert_no_leaks();
    }

    /// Images whose headers lie are in the module list without a CodeView record, and the
    /// summary says which and why.
    #[test]
    fn lying_headers_give_no_codeview_record() {
        let faults = [
            PeFault::LfanewOutside,
            PeFault::DebugDirectoryOutside,
            PeFault::TruncatedCodeView,
        ];
        let mut spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10))
            .handle(HandleSpec::event(0x4, true, false));
        for (i, fault) in faults.iter().enumerate() {
            spec = spec.region(
                RegionSpec::image(
                    IMAGE + 0x10_0000 * i,
                    0x1_0000,
                    r"\Device\HarddiskVolume3\x.dll",
                )
                .malformed_pe(*fault),
            );
        }
        let process = spec.spawn();
        let [small, _] = small_and_full(&process);
        let modules: MinidumpModuleList = small.get_stream().unwrap();
        assert_eq!(modules.iter().count(), faults.len());
        assert!(modules.iter().all(|m| m.debug_identifier().is_none()));
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let (_, summary) = dump(&snapshot, false);
        let problems = summary
            .omissions
            .iter()
            .filter(|o| matches!(o, Omission::ModuleHeaders { .. }))
            .count();
        assert_eq!(problems, faults.len(), "{:?}", summary.omissions);
        drop(snapshot);
        assert_no_leaks();
    }

    fn dump_of(
        spec: ProcessSpec,
        flags: CaptureFlags,
    ) -> (Minidump<'static, Vec<u8>>, DumpSummary) {
        let process = spec.spawn();
        let snapshot = capture(process.pid(), flags);
        let result = dump(&snapshot, true);
        drop(snapshot);
        result
    }

    /// Where the tests' images go: high on 64-bit hosts, where Windows puts them, and within
    /// 32 bits on 32-bit ones (Miri for i686).
    const IMAGE: usize = if usize::BITS >= 64 {
        0x7FF6_0000_0000_u64 as usize
    } else {
        0x6000_0000
    };

    /// Memory the clone does not hold (an anonymous shared section), a stack pointer in
    /// unreadable memory and one in no region, headers that lie: the dump is valid, holds the
    /// rest, and the summary says what is missing and why.
    #[test]
    fn what_cannot_be_read_is_left_out_and_named() {
        let mut lying = vec![0u8; 0x100];
        lying[..2].copy_from_slice(b"MZ");
        lying[0x3C..0x40].copy_from_slice(&0x7FFF_FFF0_u32.to_le_bytes());
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10).registers(IMAGE + 0x1000, 0x5000_0800, 0))
            .thread(ThreadSpec::new(0x14).registers(IMAGE + 0x1000, 0x6666_0000, 0))
            .handle(HandleSpec::event(0x4, true, false))
            .region(
                RegionSpec::image(IMAGE, 0x2000, r"\Device\HarddiskVolume3\lying.exe")
                    .contents(&lying),
            )
            .region(RegionSpec::private(0x5000_0000, 0x1000).protection(pss_sys::PAGE_NOACCESS))
            .region(RegionSpec::shared(0x5100_0000, 0x2000))
            .region(RegionSpec::private(0x5200_0000, 0x3000).contents(b"kept"));
        let (dump, summary) = dump_of(spec, CaptureFlags::MINIDUMP);
        let has = |wanted: &dyn Fn(&Omission) -> bool| summary.omissions.iter().any(wanted);
        assert!(
            has(&|o| matches!(
                o,
                Omission::Memory {
                    address: 0x5100_0000,
                    size: 0x2000
                }
            )),
            "{:?}",
            summary.omissions
        );
        assert!(has(&|o| matches!(
            o,
            Omission::Stack {
                thread_id: 0x10,
                wanted: 0,
                ..
            }
        )));
        assert!(has(&|o| matches!(
            o,
            Omission::Stack {
                thread_id: 0x14,
                wanted: 0,
                ..
            }
        )));
        assert!(has(
            &|o| matches!(o, Omission::ModuleHeaders { base, .. } if *base == IMAGE)
        ));
        for omission in &summary.omissions {
            assert!(!omission.to_string().is_empty());
        }
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        assert_eq!(
            modules.iter().count(),
            1,
            "the module is listed without its headers"
        );
        let memory: MinidumpMemory64List<'_> = dump.get_stream().unwrap();
        let kept = memory
            .memory_at_address(0x5200_0000)
            .expect("readable memory is kept");
        assert_eq!(&kept.bytes[..4], b"kept");
        assert!(memory.memory_at_address(0x5100_0000).is_none());
        assert_no_leaks();
    }

    /// A process with no thread (Windows then captures no thread data) gives a dump with an
    /// empty thread list, which readers accept.
    #[test]
    fn a_process_without_threads_gives_an_empty_thread_list() {
        let spec = ProcessSpec::new()
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::private(0x5000_0000, 0x1000));
        let (dump, summary) = dump_of(spec, CaptureFlags::MINIDUMP);
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        assert!(threads.threads.is_empty());
        assert_eq!(summary.threads, 0);
        assert_no_leaks();
    }

    /// Hostile entries (odd name lengths, unpaired surrogates, misaligned and short context
    /// records, zero-size regions, images without values) give a dump every stream of which an
    /// independent reader parses; names that are not UTF-16 are written with U+FFFD.
    #[test]
    fn hostile_entries_give_a_dump_readers_parse() {
        let mut spec = ProcessSpec::new().hostile().with_peb();
        for i in 0..8 {
            spec = spec
                .thread(ThreadSpec::new(0x100 + 4 * i))
                .handle(HandleSpec::other(4 * (i as usize + 1), "Key").named(r"\REGISTRY\x"))
                .region(RegionSpec::image(
                    IMAGE + 0x10_0000 * i as usize,
                    0x1_0000,
                    r"\Device\HarddiskVolume3\x.dll",
                ));
        }
        let (dump, summary) = dump_of(spec, CaptureFlags::MINIDUMP);
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        assert_eq!(threads.threads.len(), summary.threads);
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        assert_eq!(modules.iter().count(), summary.modules);
        let handles: MinidumpHandleDataStream = dump.get_stream().unwrap();
        assert_eq!(handles.handles.len(), summary.handles);
        assert!(dump.get_stream::<MinidumpMemoryInfoList<'_>>().is_ok());
        assert!(dump.get_stream::<MinidumpMemory64List<'_>>().is_ok());
        assert_no_leaks();
    }

    /// Thread names (a 24H2 kernel32) become the dump's thread-name stream, paired with the
    /// threads by position.
    #[test]
    fn thread_names_are_in_the_dump() {
        let spec = ProcessSpec::new()
            .thread_names()
            .thread(ThreadSpec::new(0x10).named("main"))
            .thread(ThreadSpec::new(0x14))
            .thread(ThreadSpec::new(0x18).named("worker ünï"));
        let (dump, _) = dump_of(spec, CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT);
        let names: minidump::MinidumpThreadNames = dump.get_stream().unwrap();
        assert_eq!(names.get_name(0x10).as_deref(), Some("main"));
        assert_eq!(names.get_name(0x14), None);
        assert_eq!(names.get_name(0x18).as_deref(), Some("worker ünï"));
        assert_no_leaks();
    }

    /// A WOW64 target is written in the native view PSS captures: this build's architecture and
    /// contexts (see `LocalSnapshot::minidump`).
    #[test]
    fn a_wow64_target_is_written_in_the_native_view() {
        let spec = ProcessSpec::new()
            .wow64()
            .thread(ThreadSpec::new(0x10))
            .region(RegionSpec::image(
                0x40_0000,
                0x1_0000,
                r"\Device\HarddiskVolume3\x86.exe",
            ));
        let (dump, summary) = dump_of(
            spec,
            CaptureFlags::THREADS
                | CaptureFlags::THREAD_CONTEXT
                | CaptureFlags::VA_SPACE
                | CaptureFlags::VA_SPACE_SECTION_INFORMATION,
        );
        let system: MinidumpSystemInfo = dump.get_stream().unwrap();
        assert_eq!(
            system.raw.processor_architecture,
            if cfg!(target_arch = "x86") {
                0
            } else if cfg!(target_arch = "aarch64") {
                12
            } else {
                9
            }
        );
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        assert!(threads.threads[0].context(&system, None).is_some());
        assert_eq!(summary.modules, 1);
        assert_no_leaks();
    }
}
