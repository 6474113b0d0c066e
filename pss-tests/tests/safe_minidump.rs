//! `LocalSnapshot::write_minidump`: a full and a small dump of a snapshot, read back with an
//! independent reader (rust-minidump), hold what the snapshot held: its threads (with TEB
//! addresses and stack memory), modules (with CodeView records), address space, handles, and
//! the VA clone's memory as of the capture; rust-minidump's stack walker (`minidump-unwind`)
//! walks its threads without symbols. Against the model the dumps are written by its
//! `MiniDumpWriteDump` to real files; against real kernel32 and dbghelp on Windows the same test
//! runs on a child process. Under Miri (no file system) the tests say they are skipped.

mod unwind;

use std::collections::BTreeSet;
use std::path::PathBuf;

use minidump::{
    Minidump, MinidumpHandleDataStream, MinidumpMemory64List, MinidumpMemoryInfoList,
    MinidumpMiscInfo, MinidumpModuleList, MinidumpThreadList, Module,
};
use pss::handle::AsHandle;
use pss::{
    CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, MemoryType, MinidumpType,
    ProcessAccess, VmAllocated,
};
use pss_tests::*;

/// Returns from the calling test, saying why, under Miri: its isolation has no file system.
macro_rules! require_files {
    () => {
        if cfg!(miri) {
            eprintln!(
                "skipped: {}: Miri's isolation has no file system to write dumps to",
                ::std::thread::current().name().unwrap_or("?")
            );
            return;
        }
    };
}

/// A path for a dump this test writes, removed when dropped.
struct DumpPath(PathBuf);

impl DumpPath {
    fn new(name: &str) -> Self {
        let file = format!("pss-tests-{}-{name}.dmp", std::process::id());
        DumpPath(std::env::temp_dir().join(file))
    }

    /// A handle to the file, opened for writing: a `File` on Windows.
    #[cfg(windows)]
    fn create(&self) -> impl AsHandle {
        std::fs::File::create(&self.0).expect("create the dump file")
    }

    /// A handle to the file, opened for writing: the model's file handle (its `CreateFileW`).
    #[cfg(not(windows))]
    fn create(&self) -> impl AsHandle {
        let file = pss_tests::model::create_file(&self.0).expect("create the dump file");
        // SAFETY: a new handle of the model's, owned by nothing else, closed with CloseHandle.
        unsafe {
            <pss::handle::OwnedHandle as pss::handle::FromRawHandle>::from_raw_handle(
                file.into_raw_handle(),
            )
        }
    }

    fn read(&self) -> Minidump<'static, Vec<u8>> {
        let bytes = std::fs::read(&self.0).expect("the dump was written");
        Minidump::read(bytes).expect("an independent reader opens the dump")
    }
}

impl Drop for DumpPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn capture(pid: u32) -> LocalSnapshot<VmAllocated> {
    let flags = CaptureFlags::MINIDUMP;
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture_vm(&handle, flags).unwrap()
}

/// What the snapshot itself says: thread ids, image names, region count, handle count.
struct Expected {
    pid: u32,
    threads: BTreeSet<u32>,
    images: BTreeSet<String>,
    regions: usize,
    handles: usize,
}

fn expected(snapshot: &LocalSnapshot<VmAllocated>) -> Expected {
    let threads = snapshot.threads().unwrap();
    let regions = snapshot.va_space().unwrap();
    Expected {
        pid: snapshot.process_information().unwrap().process_id(),
        threads: threads.iter().map(|t| t.unwrap().thread_id()).collect(),
        images: regions
            .iter()
            .map(Result::unwrap)
            .filter(|r| r.region().kind == MemoryType::Image)
            .filter_map(|r| r.mapped_file_name().map(|n| n.to_string_lossy()))
            .collect(),
        regions: snapshot.region_count().unwrap() as usize,
        handles: snapshot.handle_count().unwrap() as usize,
    }
}

/// Checks a dump against the snapshot; returns how many memory ranges it holds (none for a
/// dump without `WITH_FULL_MEMORY`).
fn check(dump: &Minidump<'static, Vec<u8>>, expected: &Expected, full: bool) -> usize {
    let misc: MinidumpMiscInfo = dump.get_stream().unwrap();
    assert_eq!(misc.raw.process_id(), Some(&expected.pid));
    let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
    let ids: BTreeSet<u32> = threads.threads.iter().map(|t| t.raw.thread_id).collect();
    assert_eq!(ids, expected.threads, "thread ids");
    // Stack memory: from the stack pointer on, for every thread that has some, and at least one
    // that does (the snapshot has a VA clone to read it from); the walk starts from each
    // context; in a full dump each TEB, with its last error, is in the memory.
    let walked = unwind::walk(dump);
    assert!(
        walked.iter().all(|t| t.teb != 0),
        "every thread has its TEB's address"
    );
    for thread in &walked {
        if thread.stack_pointer.is_some() {
            assert_eq!(
                thread.frames.first().map(|f| f.trust),
                Some(minidump_unwind::FrameTrust::Context)
            );
        }
        if full {
            assert!(thread.last_error.is_some(), "thread {:#x}'s TEB", thread.id);
        }
        if let (Some((start, len)), Some(sp)) = (thread.stack, thread.stack_pointer) {
            assert!(
                start <= sp && sp < start + len,
                "thread {:#x}: stack memory {start:#x}+{len:#x} covers its stack pointer {sp:#x}",
                thread.id
            );
        }
    }
    assert!(
        walked.iter().any(|t| t.stack.is_some()),
        "some thread's stack memory is in the dump"
    );
    let modules: MinidumpModuleList = dump.get_stream().unwrap();
    let names: BTreeSet<String> = modules.iter().map(|m| m.name.clone()).collect();
    assert!(
        expected.images.iter().all(|image| names.contains(image)),
        "modules {names:?} lack one of {:?}",
        expected.images
    );
    assert!(
        modules
            .iter()
            .any(|m| m.debug_identifier().is_some() && m.debug_file().is_some()),
        "modules carry CodeView records"
    );
    let memory: Option<MinidumpMemory64List<'_>> = dump.get_stream().ok();
    if !full {
        assert!(memory.is_none(), "a small dump holds no full memory");
        return 0;
    }
    let info: MinidumpMemoryInfoList<'_> = dump.get_stream().unwrap();
    assert_eq!(info.iter().count(), expected.regions, "memory regions");
    let handles: MinidumpHandleDataStream = dump.get_stream().unwrap();
    assert_eq!(handles.handles.len(), expected.handles, "handles");
    memory.expect("a full dump holds memory").iter().count()
}

/// A full and a small dump of a child process hold its threads, modules, regions and handles,
/// and the full dump's memory is the clone's.
#[test]
fn full_and_small_dumps_hold_what_the_snapshot_held() {
    require_pss!();
    require_files!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid());
    let expected = expected(&snapshot);
    let full = DumpPath::new("full");
    snapshot
        .write_minidump(full.create(), MinidumpType::FULL)
        .unwrap();
    let dump = full.read();
    check(&dump, &expected, true);
    let clone = snapshot.va_clone().unwrap();
    let memory: MinidumpMemory64List<'_> = dump.get_stream().unwrap();
    for range in memory.iter().take(8) {
        let mut bytes = vec![0; range.bytes.len().min(4096)];
        let address = usize::try_from(range.base_address).unwrap();
        clone.read_exact(address, &mut bytes).unwrap();
        assert_eq!(&range.bytes[..bytes.len()], &bytes[..], "at {address:#x}");
    }
    let small = DumpPath::new("small");
    snapshot
        .write_minidump(small.create(), MinidumpType::THREADS_AND_STACKS)
        .unwrap();
    check(&small.read(), &expected, false);
    drop(snapshot);
    assert_no_leaks();
}

/// A full dump needs the VA clone: without it dbghelp fails, and its `HRESULT` comes back as
/// a typed error naming `MiniDumpWriteDump` (model: `HRESULT_FROM_WIN32(ERROR_NOT_FOUND)`).
#[test]
fn failures_decode_the_hresult() {
    require_pss!();
    require_files!();
    let flags = CaptureFlags::THREADS;
    let snapshot = LocalSnapshot::capture_current(flags).unwrap();
    let path = DumpPath::new("no-clone");
    let error = snapshot
        .write_minidump(path.create(), MinidumpType::WITH_FULL_MEMORY)
        .unwrap_err();
    assert_eq!(error.function(), Function::MiniDumpWriteDump);
    #[cfg(not(windows))]
    assert_eq!(
        (error.kind(), error.code().map(ErrorCode::raw)),
        (ErrorKind::Os(ErrorCode::NOT_FOUND), Some(1168)),
        "the Win32 code inside HRESULT 0x80070490"
    );
    #[cfg(windows)]
    let _ = ErrorKind::Os(ErrorCode::NOT_FOUND);
    drop(snapshot);
    assert_no_leaks();
}

/// `write_minidump_to_path` is the same call on every host: it creates the file first, so a
/// path that cannot be written fails at once with `CreateFileW` and the code Windows gives (a
/// missing directory: `ERROR_PATH_NOT_FOUND`), and a good one holds a dump an independent reader
/// opens.
#[test]
fn dumps_go_to_a_path_on_every_host() {
    require_pss!();
    require_files!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let missing = std::env::temp_dir()
        .join(format!("pss-tests-no-such-dir-{}", std::process::id()))
        .join("a.dmp");
    let error = snapshot
        .write_minidump_to_path(&missing, MinidumpType::NORMAL)
        .unwrap_err();
    assert_eq!(
        (error.function(), error.code().map(ErrorCode::raw)),
        (Function::CreateFileW, Some(3)),
        "{error}"
    );
    let path = DumpPath::new("to-path");
    snapshot
        .write_minidump_to_path(&path.0, MinidumpType::NORMAL)
        .unwrap();
    let dump = path.read();
    let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
    assert!(!threads.threads.is_empty());
    drop(snapshot);
    assert_no_leaks();
}

/// Many threads dumping at once: `pss` serialises the calls (dbghelp is single-threaded; the
/// model aborts on overlapping calls).
#[test]
fn concurrent_dumps_are_serialised() {
    require_pss!();
    require_files!();
    std::thread::scope(|scope| {
        for i in 0..4 {
            scope.spawn(move || {
                let snapshot =
                    LocalSnapshot::capture_current(CaptureFlags::THREADS | CaptureFlags::VA_SPACE)
                        .unwrap();
                let path = DumpPath::new(&format!("concurrent-{i}"));
                snapshot
                    .write_minidump(path.create(), MinidumpType::NORMAL)
                    .unwrap();
                let dump = path.read();
                let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
                assert!(!threads.threads.is_empty());
                drop(snapshot);
                assert_no_leaks();
            });
        }
    });
}

/// A dump waits while another thread holds the mutex Rust's backtrace code takes around
/// dbghelp (as a panicking thread with `RUST_BACKTRACE` does), and runs once it is released:
/// `pss` takes the same mutex, so a backtrace cannot race the dump. (The model's
/// `MiniDumpWriteDump` also checks that its caller holds it.)
#[cfg(not(windows))]
#[test]
fn a_dump_waits_for_the_backtrace_lock() {
    use pss_tests::model::{backtrace_mutex_name, mutex_waiters};
    require_files!();
    let name = backtrace_mutex_name();
    let c_name = std::ffi::CString::new(name.clone()).unwrap();
    // SAFETY: a NUL-terminated name; the handle is this test's to close.
    let mutex = unsafe { pss_sys::CreateMutexA(std::ptr::null(), 0, c_name.as_ptr().cast()) };
    // SAFETY: a mutex handle just created.
    let taken = unsafe { pss_sys::WaitForSingleObjectEx(mutex, pss_sys::INFINITE, 0) };
    assert_eq!(taken, pss_sys::WAIT_OBJECT_0);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let dumper = scope.spawn(|| {
            let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
            let path = DumpPath::new("backtrace-lock");
            let written = snapshot.write_minidump(path.create(), MinidumpType::NORMAL);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            written
        });
        // Deterministic: the model says when the dumping thread waits on the mutex.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while mutex_waiters(&name) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the dump never waited"
            );
            std::thread::yield_now();
        }
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "it waits for the lock"
        );
        // SAFETY: this thread owns the mutex.
        assert_ne!(unsafe { pss_sys::ReleaseMutex(mutex) }, 0);
        dumper.join().unwrap().unwrap();
    });
    // SAFETY: the handle this test created, closed once.
    assert_ne!(unsafe { pss_sys::CloseHandle(mutex) }, 0);
    assert_no_leaks();
}

/// On the model's demo process, whose addresses are 64-bit.
#[cfg(all(not(windows), target_pointer_width = "64"))]
mod model_processes {
    use super::*;
    use minidump::CrashReason;
    use minidump_unwind::FrameTrust as unwind_trust;
    use pss::MemoryState;
    use pss_tests::model::*;

    /// The model's demo process: the full dump holds its threads, module names, regions,
    /// handles, and its memory as captured: a write after the capture does not show, and the
    /// anonymous shared section (not in the clone) is left out; the small dump holds its
    /// threads and modules and no memory.
    #[test]
    fn the_full_dump_holds_the_clone_as_captured() {
        require_files!();
        let process = demo_process().spawn();
        let snapshot = capture(process.pid());
        let expected = expected(&snapshot);
        assert_eq!(expected.images.len(), 3);
        let heap = 0x0000_01f0_0000_0000;
        process.write_memory(heap, b"Dear diary, I changed my mind");
        let path = DumpPath::new("demo-full");
        snapshot
            .write_minidump(path.create(), MinidumpType::FULL)
            .unwrap();
        let dump = path.read();
        let ranges = check(&dump, &expected, true);
        let memory: MinidumpMemory64List<'_> = dump.get_stream().unwrap();
        let at_heap = memory
            .iter()
            .find(|m| m.base_address == heap as u64)
            .expect("the heap region");
        assert!(at_heap.bytes.starts_with(b"Dear diary, today I captured"));
        assert!(
            memory
                .iter()
                .all(|m| m.base_address != 0x0000_01f0_1000_0000),
            "the shared section is not in the clone"
        );
        let readable = snapshot
            .va_space()
            .unwrap()
            .iter()
            .map(Result::unwrap)
            .filter(|r| r.region().state == MemoryState::Commit)
            .count();
        assert_eq!(
            ranges,
            readable - 1,
            "every committed region but the shared one"
        );
        let small = DumpPath::new("demo-small");
        snapshot
            .write_minidump(small.create(), MinidumpType::THREADS_AND_STACKS)
            .unwrap();
        check(&small.read(), &expected, false);
        drop(snapshot);
        assert_no_leaks();
    }

    /// Writes a full and a small dump of `process`, captured for a dump, and returns them.
    fn full_and_small(process: &ModelProcess, name: &str) -> [Minidump<'static, Vec<u8>>; 2] {
        let snapshot = capture(process.pid());
        let full = DumpPath::new(&format!("{name}-full"));
        snapshot
            .write_minidump(full.create(), MinidumpType::FULL)
            .unwrap();
        let small = DumpPath::new(&format!("{name}-small"));
        snapshot
            .write_minidump(small.create(), MinidumpType::THREADS_AND_STACKS)
            .unwrap();
        drop(snapshot);
        [full.read(), small.read()]
    }

    /// rust-minidump's stack walker, without symbols, walks every thread of the demo process
    /// that has a call stack to exactly the frames the model laid out, in a full and in a small
    /// dump: the context's instruction pointer, then each return address, found through the
    /// frame-pointer chain (no frame found by scanning); each thread's TEB holds its last error.
    /// The hostile threads (a misaligned context record of zeros, a terminated thread with no
    /// stack) give no more than their context frame.
    #[test]
    fn every_thread_walks_to_the_frames_laid_out() {
        require_files!();
        let process = demo_process().spawn();
        let specs = process.threads();
        assert!(
            specs
                .iter()
                .filter(|t| t.expected_frames().is_some())
                .count()
                >= 2
        );
        for (dump, kind) in full_and_small(&process, "demo-walk")
            .iter()
            .zip(["full", "small"])
        {
            let walked = unwind::walk(dump);
            assert_eq!(walked.len(), specs.len(), "{kind}: every thread");
            for spec in &specs {
                let thread = walked.iter().find(|t| t.id == spec.tid()).unwrap();
                assert_eq!(thread.teb, spec.teb_address() as u64, "{kind}: TEB");
                assert_ne!(thread.teb, 0);
                let Some(expected) = spec.expected_frames() else {
                    assert!(thread.frames.len() <= 1, "{kind}: {thread:?}");
                    continue;
                };
                let what = format!(
                    "{kind} dump, thread {:#x}: {:#x?}",
                    spec.tid(),
                    thread.frames
                );
                assert_eq!(thread.frames.len(), expected.len(), "{what}");
                let context = &thread.frames[0];
                assert_eq!(context.trust, unwind_trust::Context, "{what}");
                assert_eq!(context.instruction, expected[0] as u64, "{what}");
                for (frame, &return_address) in thread.frames[1..].iter().zip(&expected[1..]) {
                    assert_eq!(frame.trust, unwind_trust::FramePointer, "{what}");
                    assert_eq!(frame.resume_address, return_address as u64, "{what}");
                    assert!(frame.instruction < frame.resume_address, "{what}");
                }
                assert_eq!(
                    thread.last_error,
                    Some(CrashReason::from_windows_error(spec.last_error_value())),
                    "{kind}: thread {:#x}'s last error",
                    spec.tid()
                );
            }
        }
        assert_no_leaks();
    }

    /// A debugger finds the process through the first thread's TEB: TEB, PEB, the loader's
    /// list, every module. In a full dump that walk gives one entry per module of the module
    /// list, named with the DOS path of the module's mapped file.
    #[test]
    fn debuggers_find_the_loader_list_through_the_teb() {
        require_files!();
        let process = demo_process().spawn();
        let [full, _] = full_and_small(&process, "demo-loader");
        let loaded = unwind::loader_modules(&full).expect("TEB, PEB and loader list in the dump");
        let modules: MinidumpModuleList = full.get_stream().unwrap();
        let listed: BTreeSet<(u64, String)> = modules
            .iter()
            .map(|m| (m.raw.base_of_image, dos_path(&m.name)))
            .collect();
        assert_eq!(loaded.into_iter().collect::<BTreeSet<_>>(), listed);
        assert_no_leaks();
    }

    /// Every module of a dump of the demo process carries the CodeView record, `TimeDateStamp`
    /// and `SizeOfImage` its headers in the clone hold, as laid out for its region: the debug
    /// identifier (GUID and age), the PDB's name and the code identifier a symbol server is
    /// asked with. In a full and a small dump alike.
    #[test]
    fn modules_carry_the_codeview_records_of_their_headers() {
        require_files!();
        let process = demo_process().spawn();
        let images: Vec<RegionSpec> = process
            .regions()
            .into_iter()
            .filter(|r| r.image_info().is_some())
            .collect();
        assert_eq!(images.len(), 3);
        for dump in full_and_small(&process, "demo-modules") {
            let modules: MinidumpModuleList = dump.get_stream().unwrap();
            for image in &images {
                let module = modules
                    .module_at_address(image.base() as u64)
                    .expect("a module per image");
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
            }
            let ntdll = modules
                .iter()
                .find(|m| m.name.ends_with("ntdll.dll"))
                .unwrap();
            assert_eq!(ntdll.debug_file().as_deref(), Some("ntdll.pdb"));
        }
        assert_no_leaks();
    }

    /// Images whose headers lie (`e_lfanew` outside the image, the debug directory outside it,
    /// a cut CodeView record) or are cut by the end of the image give modules without a
    /// CodeView record, and the dump is still written and walked; an image with a CodeView
    /// record of the test's choosing gives that one.
    #[test]
    fn hostile_images_give_no_codeview_record() {
        require_files!();
        let base = 0x7ff7_0000_0000_usize;
        let chosen = CodeView {
            guid: Guid::from_bytes(*b"0123456789abcdef"),
            age: 0x2a,
            pdb: r"D:\build\chosen.pdb".to_string(),
        };
        let process = ProcessSpec::new()
            .thread(
                ThreadSpec::new(8)
                    .executing_at(base + 0x1_1000)
                    .call_stack(&[base + 0x3_2000, base + 0x1_3000]),
            )
            .handle(HandleSpec::event(0x4, true, false))
            .region(
                RegionSpec::image(base, 0x2_0000, r"\Device\X\lfanew.exe")
                    .malformed_pe(PeFault::LfanewOutside),
            )
            .region(
                RegionSpec::image(base + 0x2_0000, 0x1_0000, r"\Device\X\debug.dll")
                    .malformed_pe(PeFault::DebugDirectoryOutside),
            )
            .region(
                RegionSpec::image(base + 0x3_0000, 0x1_0000, r"\Device\X\cut.dll")
                    .malformed_pe(PeFault::TruncatedCodeView),
            )
            .region(
                RegionSpec::image(base + 0x4_0000, 0x1_0000, r"\Device\X\chosen.dll")
                    .codeview(chosen.clone()),
            )
            // Smaller than its headers: they are cut at its end.
            .region(RegionSpec::image(
                base + 0x5_0000,
                0x100,
                r"\Device\X\tiny.dll",
            ))
            .with_peb()
            .spawn();
        let expected: Vec<Option<CodeView>> = process
            .regions()
            .iter()
            .filter(|r| r.image_info().is_some())
            .map(|r| r.expected_codeview().cloned())
            .collect();
        assert_eq!(expected, [None, None, None, Some(chosen.clone()), None]);
        for dump in full_and_small(&process, "hostile-images") {
            let modules: MinidumpModuleList = dump.get_stream().unwrap();
            let module = |name: &str| modules.iter().find(|m| m.name.ends_with(name)).unwrap();
            for name in ["lfanew.exe", "debug.dll", "cut.dll", "tiny.dll"] {
                assert_eq!(module(name).debug_identifier(), None, "{name}");
                assert_eq!(module(name).debug_file(), None, "{name}");
            }
            let chosen_module = module("chosen.dll");
            assert_eq!(
                chosen_module
                    .debug_identifier()
                    .map(|id| id.breakpad().to_string()),
                Some(chosen.debug_identifier())
            );
            assert_eq!(
                chosen_module.debug_file().as_deref(),
                Some(r"D:\build\chosen.pdb")
            );
            let walked = unwind::walk(&dump);
            let frames: Vec<u64> = walked[0].frames.iter().map(|f| f.resume_address).collect();
            assert_eq!(
                frames,
                [base + 0x1_1000, base + 0x3_2000, base + 0x1_3000].map(|a| a as u64)
            );
        }
        assert_no_leaks();
    }

    /// Without `IGNORE_INACCESSIBLE_MEMORY`, memory the clone cannot read fails the dump
    /// (model choice: `HRESULT_FROM_WIN32(ERROR_PARTIAL_COPY)`).
    #[test]
    fn inaccessible_memory_fails_a_dump_that_does_not_ignore_it() {
        require_files!();
        let process = demo_process().spawn();
        let snapshot = capture(process.pid());
        let path = DumpPath::new("demo-strict");
        let error = snapshot
            .write_minidump(path.create(), MinidumpType::WITH_FULL_MEMORY)
            .unwrap_err();
        assert_eq!(
            (error.function(), error.kind()),
            (
                Function::MiniDumpWriteDump,
                ErrorKind::Os(ErrorCode::PARTIAL_COPY)
            )
        );
        drop(snapshot);
        assert_no_leaks();
    }
}
