//! `TargetException`: the exception an out-of-process crash handler reads from the target (the
//! crashed thread's `EXCEPTION_POINTERS`, its record and its context, through the VA clone),
//! fed to pss's minidump writer. Against the model, on a crashed model process whose exception
//! is laid out as Windows' dispatcher leaves it: rust-minidump's processor reports the crash
//! reason and address and walks the crashing thread from the fault's context to the frames laid
//! out (64-bit structures on 64-bit hosts; x86 ones on 32-bit hosts, under Miri for `i686`);
//! the 32-bit structures of a WOW64 target read back on 64-bit hosts; hostile memory gives the
//! documented errors. On Windows, structures in this process's own memory are read back through
//! a real clone. Dumps go to memory, so everything here also runs under Miri.

use std::io::Cursor;

use minidump::{Minidump, MinidumpException};
use pss::{CaptureFlags, ChainEnd, ExceptionLayout, LocalSnapshot, TargetException};
use pss_tests::*;

#[cfg(not(windows))]
mod unwind;

/// A small dump of `snapshot` with `exception`'s stream, read back.
fn dump_with(snapshot: &LocalSnapshot, exception: &TargetException) -> Minidump<'static, Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    snapshot
        .minidump()
        .exception(exception.dump_exception())
        .write_to(&mut out)
        .expect("the dump is written");
    Minidump::read(out.into_inner()).expect("an independent reader opens the dump")
}

/// Structures laid out in this process's own memory, read back through a real VA clone of it:
/// the 64-bit (or, in a 32-bit build, x86) `EXCEPTION_POINTERS`, record and `CONTEXT` a crash
/// handler would be pointed at, then written into a dump. (A child cannot be crashed here with
/// pointers known in advance; the model tests below cover the processor's walk.)
#[cfg(windows)]
#[test]
fn structures_in_this_process_read_back_through_its_clone() {
    require_pss!();
    use pss::sys;
    let mut context: Box<sys::CONTEXT> = Box::default();
    #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
    {
        context.ContextFlags = sys::CONTEXT_ALL_AMD64;
        context.Rsp = 0x5000_0800;
    }
    #[cfg(target_arch = "x86")]
    {
        context.ContextFlags = sys::CONTEXT_ALL_X86;
        context.Esp = 0x5000_0800;
    }
    #[cfg(target_arch = "aarch64")]
    {
        context.ContextFlags = sys::CONTEXT_ALL_ARM64;
        context.Sp = 0x5000_0800;
    }
    let context_at = &*context as *const sys::CONTEXT as usize;
    // EXCEPTION_RECORD: code, flags, nested record, address, NumberParameters, (on 64-bit
    // builds 4 bytes of padding), the parameters.
    let mut record: Vec<u8> = Vec::new();
    record.extend(0xC000_0005u32.to_le_bytes());
    record.extend(0u32.to_le_bytes());
    record.extend(0usize.to_le_bytes());
    record.extend(0x1234usize.to_le_bytes());
    record.extend(2u32.to_le_bytes());
    if size_of::<usize>() == 8 {
        record.extend(0u32.to_le_bytes());
    }
    for parameter in [1usize, 0xDEAD] {
        record.extend(parameter.to_le_bytes());
    }
    record.resize(record.len() + 13 * size_of::<usize>(), 0);
    let pointers = [record.as_ptr() as usize, context_at];

    let snapshot = LocalSnapshot::capture_current(CaptureFlags::MINIDUMP).unwrap();
    let thread_id = {
        let walk = snapshot.threads().unwrap();
        let mut entries = walk.iter();
        entries.next().unwrap().unwrap().thread_id()
    };
    let read = TargetException::read(&snapshot, thread_id, pointers.as_ptr() as usize).unwrap();
    assert_eq!(read.layout(), ExceptionLayout::NATIVE);
    assert_eq!(read.record().code(), 0xC000_0005);
    assert_eq!(read.record().address(), 0x1234);
    assert_eq!(read.record().parameters(), &[1, 0xDEAD]);
    assert_eq!(read.context().stack_pointer(), Some(0x5000_0800));
    assert_eq!(read.chain_end(), ChainEnd::Complete);
    let dump = dump_with(&snapshot, &read);
    let stream: MinidumpException<'_> = dump.get_stream().unwrap();
    assert_eq!(stream.raw.thread_id, thread_id);
    assert_eq!(stream.raw.exception_record.exception_information[1], 0xDEAD);
    drop(snapshot);
    drop((context, record));
    assert_no_leaks();
}

/// Crashed model processes: the demo's, and ones the tests build.
#[cfg(not(windows))]
mod model {
    use super::*;
    use minidump::MinidumpSystemInfo;
    use minidump_unwind::FrameTrust;
    use pss::{ExceptionError, ExceptionStructure, ProcessAccess};
    use pss_tests::model::*;

    fn capture(pid: u32, flags: CaptureFlags) -> LocalSnapshot {
        let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
        LocalSnapshot::capture(&handle, flags).unwrap()
    }

    /// Where these tests' images go (within 32 bits on 32-bit hosts).
    const IMAGE: usize = if usize::BITS >= 64 {
        0x7FF6_0000_0000_u64 as usize
    } else {
        0x6000_0000
    };

    /// rust-minidump's processor, end to end without symbols, on a small dump of the crashed
    /// demo process written with the exception read from the target: the crash reason
    /// (`EXCEPTION_ACCESS_VIOLATION_WRITE`) and address, the crashing thread, walked from the
    /// fault's context (not the handler's wait the thread list holds) through frame pointers to
    /// exactly the frames laid out; every other thread as before. 64-bit structures on 64-bit
    /// hosts, x86 ones on 32-bit hosts.
    #[test]
    fn the_processor_reports_the_crash_and_walks_from_the_fault() {
        let process = crashed_demo_process().spawn();
        let crash = process.crash().expect("the demo process has crashed");
        assert_eq!(crash.x86, cfg!(target_pointer_width = "32"));
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);

        let read = TargetException::read(&snapshot, crash.tid, crash.exception_pointers).unwrap();
        assert_eq!(read.layout(), ExceptionLayout::NATIVE);
        assert_eq!(read.thread_id(), crash.tid);
        assert_eq!(read.record().record_address(), crash.record);
        assert_eq!(read.record().code(), EXCEPTION_ACCESS_VIOLATION);
        assert_eq!(read.record().address(), crash.address);
        assert_eq!(read.record().parameters(), &crash.parameters[..]);
        assert_eq!(read.record().parameters(), &[1, 0x18]);
        assert!(read.nested().is_empty());
        assert_eq!(read.chain_end(), ChainEnd::Complete);
        let context = read.context();
        assert_eq!(context.address(), crash.context);
        assert_eq!(context.instruction_pointer(), Some(crash.address));
        assert_eq!(context.stack_pointer(), Some(crash.stack_pointer));
        assert_eq!(context.frame_pointer(), Some(crash.frame_pointer));
        assert!(context.native().is_some());

        let dump = dump_with(&snapshot, &read);
        drop(snapshot);
        let stream: MinidumpException<'_> = dump.get_stream().unwrap();
        assert_eq!(stream.raw.thread_id, crash.tid);
        let system: MinidumpSystemInfo = dump.get_stream().unwrap();
        let parsed = stream.context(&system, None).expect("the fault's context");
        assert_eq!(parsed.get_instruction_pointer(), crash.address as u64);
        assert_eq!(parsed.get_stack_pointer(), crash.stack_pointer as u64);

        let symbols = minidump_unwind::MultiSymbolProvider::new();
        let state = unwind::block_on(minidump_processor::process_minidump(&dump, &symbols))
            .unwrap_or_else(|e| panic!("the processor fails: {e}"));
        let info = state
            .exception_info
            .as_ref()
            .expect("the crash is reported");
        assert_eq!(info.reason.to_string(), "EXCEPTION_ACCESS_VIOLATION_WRITE");
        assert_eq!(info.address.0, 0x18);
        let requesting = state
            .requesting_thread
            .expect("the crashing thread is named");
        let thread = &state.threads[requesting];
        assert_eq!(thread.thread_id, crash.tid);
        let found: Vec<(u64, FrameTrust)> = thread
            .frames
            .iter()
            .map(|f| (f.resume_address, f.trust))
            .collect();
        let wanted: Vec<(u64, FrameTrust)> = crash
            .expected_frames
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
        assert_eq!(found, wanted, "the crashing thread, from the fault");
        for spec in process.threads() {
            let Some(expected) = spec.expected_frames().filter(|_| spec.tid() != crash.tid) else {
                continue;
            };
            let thread = state.threads.iter().find(|t| t.thread_id == spec.tid());
            let frames: Vec<u64> = thread
                .unwrap()
                .frames
                .iter()
                .map(|f| f.resume_address)
                .collect();
            let expected: Vec<u64> = expected.iter().map(|&a| a as u64).collect();
            assert_eq!(frames, expected, "thread {:#x}", spec.tid());
        }

        // The thread list keeps where the thread was at the capture: in the handler's wait,
        // walked to the frames its spec laid out below the exception's structures.
        let walked = unwind::walk(&dump);
        let waiting = walked.iter().find(|t| t.id == crash.tid).unwrap();
        let spec = process.threads().into_iter().find(|t| t.tid() == crash.tid);
        let expected = spec.unwrap().expected_frames().unwrap();
        let frames: Vec<u64> = waiting.frames.iter().map(|f| f.resume_address).collect();
        assert_eq!(
            frames,
            expected.iter().map(|&a| a as u64).collect::<Vec<_>>()
        );
        assert_no_leaks();
    }

    /// A process of one image and one thread that crashed reading `address`, laid out with
    /// `crash`'s options.
    fn crashed(read_address: usize, x86: bool) -> ModelProcess {
        let image = if x86 { 0x0040_0000 } else { IMAGE };
        let mut crash = CrashSpec::access_violation(0x20, image + 0x1234, false, read_address)
            .call_stack(&[image + 0x2345, image + 0x3456]);
        if x86 {
            crash = crash.x86();
        }
        ProcessSpec::new()
            .thread(ThreadSpec::new(0x20).executing_at(image + 0x4000))
            .thread(ThreadSpec::new(0x24))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::image(
                image,
                0x1_0000,
                r"\Device\HarddiskVolume3\app.exe",
            ))
            .crash(crash)
            .spawn()
    }

    /// A read is reported as one, at the address read, for a thread that had no stack of its
    /// own laid out (the crash takes a free stack slot); a full dump walks it too.
    #[test]
    fn a_read_fault_is_reported_as_a_read() {
        let process = crashed(0x7, false);
        let crash = process.crash().unwrap();
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let read = TargetException::read(&snapshot, 0x20, crash.exception_pointers).unwrap();
        let mut out = Cursor::new(Vec::new());
        snapshot
            .minidump()
            .full_memory()
            .exception((&read).into())
            .write_to(&mut out)
            .unwrap();
        drop(snapshot);
        let dump = Minidump::read(out.into_inner()).unwrap();
        let symbols = minidump_unwind::MultiSymbolProvider::new();
        let state =
            unwind::block_on(minidump_processor::process_minidump(&dump, &symbols)).unwrap();
        let info = state.exception_info.unwrap();
        assert_eq!(info.reason.to_string(), "EXCEPTION_ACCESS_VIOLATION_READ");
        assert_eq!(info.address.0, 0x7);
        let thread = &state.threads[state.requesting_thread.unwrap()];
        let frames: Vec<u64> = thread.frames.iter().map(|f| f.resume_address).collect();
        let expected: Vec<u64> = crash.expected_frames.iter().map(|&a| a as u64).collect();
        assert_eq!(frames, expected);
        assert_no_leaks();
    }

    /// The 32-bit structures a WOW64 process's filter gets (`EXCEPTION_POINTERS32`,
    /// `EXCEPTION_RECORD32`, the x86 `CONTEXT`) read back as laid out: chosen by the snapshot's
    /// WOW64 flag, or asked for. A 64-bit build's dump is in the native view: the record is in
    /// the exception stream, and the thread's captured context (the WOW64 layer's) stands for
    /// the x86 one, which the 32-bit dump of a WOW64 target will carry. (On 32-bit hosts these
    /// are the native structures: the test above covers them, dump and walk included.)
    #[test]
    fn x86_structures_read_back() {
        let process = crashed(0x8, true);
        let crash = process.crash().unwrap();
        assert!(crash.x86);
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let read = TargetException::read_as(
            &snapshot,
            0x20,
            crash.exception_pointers,
            ExceptionLayout::X86,
        )
        .unwrap();
        assert_eq!(read.layout(), ExceptionLayout::X86);
        assert_eq!(read.record().record_address(), crash.record);
        assert_eq!(read.record().code(), EXCEPTION_ACCESS_VIOLATION);
        assert_eq!(read.record().address(), crash.address);
        assert_eq!(read.record().parameters(), &[0, 0x8]);
        let context = read.context();
        assert_eq!(context.layout(), ExceptionLayout::X86);
        assert_eq!(context.as_bytes().len(), 0x2CC);
        assert_eq!(context.flags() & 0x0001_0000, 0x0001_0000, "CONTEXT_i386");
        assert_eq!(context.instruction_pointer(), Some(crash.address));
        assert_eq!(context.stack_pointer(), Some(crash.stack_pointer));
        assert_eq!(context.frame_pointer(), Some(crash.frame_pointer));
        assert_eq!(
            context.native().is_some(),
            cfg!(target_pointer_width = "32")
        );

        let dump = dump_with(&snapshot, &read);
        let stream: MinidumpException<'_> = dump.get_stream().unwrap();
        assert_eq!(stream.raw.exception_record.exception_code, 0xC000_0005);
        assert_eq!(
            stream.raw.exception_record.exception_address,
            crash.address as u64
        );
        assert_eq!(stream.raw.exception_record.exception_information[1], 0x8);
        let system: MinidumpSystemInfo = dump.get_stream().unwrap();
        let parsed = stream.context(&system, None).expect("a context");
        let expected_ip = if cfg!(target_pointer_width = "32") {
            crash.address as u64
        } else {
            // The thread's captured (native) context.
            process.threads()[0].register_values()[0] as u64
        };
        assert_eq!(parsed.get_instruction_pointer(), expected_ip);
        drop(snapshot);

        // The snapshot's WOW64 flag chooses the layout.
        let spec = ProcessSpec::new()
            .wow64()
            .thread(ThreadSpec::new(0x20))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::image(
                0x40_0000,
                0x1_0000,
                r"\Device\HarddiskVolume3\x86.exe",
            ))
            .crash(CrashSpec::access_violation(0x20, 0x40_1234, true, 0x10).x86())
            .spawn();
        let crash = spec.crash().unwrap();
        let snapshot = capture(spec.pid(), CaptureFlags::MINIDUMP);
        let read = TargetException::read(&snapshot, 0x20, crash.exception_pointers).unwrap();
        assert_eq!(read.layout(), ExceptionLayout::X86);
        assert_eq!(read.record().parameters(), &[1, 0x10]);
        drop(snapshot);
        assert_no_leaks();
    }

    /// A WOW64 process that crashed in its 32-bit code (the crashed WOW64 demo): the
    /// snapshot's WOW64 flag makes `read` take the 32-bit structures, found on the thread's x86
    /// stack (inside its 32-bit TEB's stack range), with the fault's registers, not the
    /// handler's wait that the thread's x86 context (its CPU area) holds (x64 builds: an arm64
    /// build's x86 code runs emulated, its CPU area unread, yet its exception reads the same);
    /// the fault's frames
    /// chain through EBP to the x86 frames laid out. The 64-bit build's dump is the native
    /// view: the processor reports the crash reason and address from the record, and walks
    /// the thread from its captured context in the WOW64 layer (the 32-bit dump of issue 24
    /// will walk the x86 frames).
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_wow64_crash_reads_its_32_bit_structures() {
        let process = crashed_wow64_demo_process().spawn();
        let crash = process.crash().expect("the WOW64 demo process has crashed");
        assert!(crash.x86);
        let snapshot = capture(process.pid(), CaptureFlags::MINIDUMP);
        let read = TargetException::read(&snapshot, crash.tid, crash.exception_pointers).unwrap();
        assert_eq!(read.layout(), ExceptionLayout::X86);
        assert_eq!(read.record().record_address(), crash.record);
        assert_eq!(read.record().code(), EXCEPTION_ACCESS_VIOLATION);
        assert_eq!(read.record().address(), crash.address);
        assert_eq!(read.record().parameters(), &[0, 0x4]);
        let context = read.context();
        assert!(context.native().is_none());
        assert_eq!(context.instruction_pointer(), Some(crash.address));
        assert_eq!(context.stack_pointer(), Some(crash.stack_pointer));
        assert_eq!(context.frame_pointer(), Some(crash.frame_pointer));

        // On the thread's x86 stack; its x86 context is elsewhere (the handler's wait).
        let view = snapshot.wow64().unwrap();
        let walk = snapshot.threads().unwrap();
        let mut entries = walk.iter();
        let mut found = false;
        while let Some(entry) = entries.next_ref() {
            let entry = entry.unwrap();
            if entry.thread_id() != crash.tid {
                continue;
            }
            found = true;
            let teb = view.thread_teb(entry).unwrap();
            let stack = teb.stack_limit as usize..teb.stack_base as usize;
            for address in [crash.exception_pointers, crash.record, crash.context] {
                assert!(stack.contains(&address), "{address:#x} in {stack:#x?}");
            }
            // pss reads a WOW64 thread's x86 context only in x64 builds (under ARM64's emulator
            // its place is undocumented); the exception's context needs no such reading.
            if cfg!(target_arch = "x86_64") {
                let waiting = view.thread_context(entry).unwrap();
                assert_ne!(waiting.eip() as usize, crash.address);
                assert!(waiting.esp() < crash.exception_pointers as u32);
            }
        }
        drop(walk);
        assert!(found);

        // The fault's frames, followed through EBP in the clone: [EBP] the caller's EBP,
        // [EBP + 4] the return address.
        let clone = snapshot.va_clone().unwrap();
        let mut ebp = crash.frame_pointer;
        let mut returns = Vec::new();
        for _ in 0..16 {
            let saved: u32 = clone.read_value(ebp).unwrap();
            let ret: u32 = clone.read_value(ebp + 4).unwrap();
            if ret == 0 {
                break;
            }
            returns.push(ret as usize);
            ebp = saved as usize;
        }
        assert_eq!(returns, crash.expected_frames[1..]);

        let dump = dump_with(&snapshot, &read);
        drop(snapshot);
        let stream: MinidumpException<'_> = dump.get_stream().unwrap();
        assert_eq!(
            stream.raw.exception_record.exception_address,
            crash.address as u64
        );
        let symbols = minidump_unwind::MultiSymbolProvider::new();
        let state =
            unwind::block_on(minidump_processor::process_minidump(&dump, &symbols)).unwrap();
        let info = state.exception_info.unwrap();
        assert_eq!(info.reason.to_string(), "EXCEPTION_ACCESS_VIOLATION_READ");
        assert_eq!(info.address.0, 0x4);
        let thread = &state.threads[state.requesting_thread.unwrap()];
        let native = process.threads().into_iter().find(|t| t.tid() == crash.tid);
        let expected = native.unwrap().expected_frames().unwrap();
        let frames: Vec<u64> = thread.frames.iter().map(|f| f.resume_address).collect();
        assert_eq!(
            frames,
            expected.iter().map(|&a| a as u64).collect::<Vec<_>>()
        );
        assert_no_leaks();
    }

    /// Hostile target memory and wrong arguments give the documented errors, each naming the
    /// structure and its address; never a panic. A nested-record chain that loops, or leads
    /// into unreadable memory, only ends the chain: the exception itself is still read.
    #[test]
    fn hostile_targets_give_named_errors() {
        let process = crashed(0x7, false);
        let crash = process.crash().unwrap();
        let pointer = size_of::<usize>();
        let record = crash.record;
        let read = |process: &ModelProcess, flags, tid, address| {
            let snapshot = capture(process.pid(), flags);
            TargetException::read(&snapshot, tid, address)
        };
        let all = CaptureFlags::MINIDUMP;
        let mut errors = Vec::new();

        // A thread that is not in the snapshot.
        let e = read(&process, all, 0x999, crash.exception_pointers).unwrap_err();
        assert_eq!(e, ExceptionError::ThreadNotFound { thread_id: 0x999 });
        errors.push(e);
        // No VA clone, no threads.
        let e = read(
            &process,
            CaptureFlags::THREADS,
            0x20,
            crash.exception_pointers,
        )
        .unwrap_err();
        assert!(
            matches!(e, ExceptionError::Snapshot { step: "querying the VA clone", error }
                if error.missing_flags() == Some(CaptureFlags::VA_CLONE)),
            "{e:?}"
        );
        errors.push(e);
        let e = read(
            &process,
            CaptureFlags::VA_CLONE,
            0x20,
            crash.exception_pointers,
        )
        .unwrap_err();
        assert!(
            matches!(e, ExceptionError::Snapshot { step: "listing the threads", error }
                if error.missing_flags().is_some_and(|f| f.contains(CaptureFlags::THREADS))),
            "{e:?}"
        );
        errors.push(e);
        // EXCEPTION_POINTERS at NULL, in no region, at the top of the address space.
        let e = read(&process, all, 0x20, 0).unwrap_err();
        assert_eq!(
            e,
            ExceptionError::Null {
                structure: ExceptionStructure::ExceptionPointers,
                at: 0
            }
        );
        errors.push(e);
        let e = read(&process, all, 0x20, 0x1234_5000).unwrap_err();
        assert!(
            matches!(
                e,
                ExceptionError::Unreadable {
                    structure: ExceptionStructure::ExceptionPointers,
                    address: 0x1234_5000,
                    ..
                }
            ),
            "{e:?}"
        );
        errors.push(e);
        let e = read(&process, all, 0x20, usize::MAX - 4).unwrap_err();
        assert!(
            matches!(
                e,
                ExceptionError::OutOfRange {
                    structure: ExceptionStructure::ExceptionPointers,
                    ..
                }
            ),
            "{e:?}"
        );
        errors.push(e);

        // Pointers to unmapped memory.
        process.write_memory(crash.exception_pointers, &0x1234_5000usize.to_le_bytes());
        let e = read(&process, all, 0x20, crash.exception_pointers).unwrap_err();
        assert!(
            matches!(
                e,
                ExceptionError::Unreadable {
                    structure: ExceptionStructure::ExceptionRecord,
                    address: 0x1234_5000,
                    ..
                }
            ),
            "{e:?}"
        );
        errors.push(e);
        process.write_memory(crash.exception_pointers, &record.to_le_bytes());
        process.write_memory(crash.exception_pointers + pointer, &0usize.to_le_bytes());
        let e = read(&process, all, 0x20, crash.exception_pointers).unwrap_err();
        assert_eq!(
            e,
            ExceptionError::Null {
                structure: ExceptionStructure::Context,
                at: crash.exception_pointers + pointer
            }
        );
        errors.push(e);
        process.write_memory(
            crash.exception_pointers + pointer,
            &crash.context.to_le_bytes(),
        );

        // A context that names another architecture (CONTEXT_ARM, 0x200000).
        let flags_at = crash.context
            + if pointer == 8 && !cfg!(target_arch = "aarch64") {
                0x30
            } else {
                0
            };
        let flags: u32 = {
            let snapshot = capture(process.pid(), all);
            let flags = snapshot.va_clone().unwrap().read_value(flags_at).unwrap();
            drop(snapshot);
            flags
        };
        process.write_memory(flags_at, &0x0020_0007u32.to_le_bytes());
        let e = read(&process, all, 0x20, crash.exception_pointers).unwrap_err();
        assert!(
            matches!(e, ExceptionError::WrongArchitecture { address, flags: 0x0020_0007, .. }
                if address == crash.context),
            "{e:?}"
        );
        errors.push(e);
        process.write_memory(flags_at, &flags.to_le_bytes());

        // NumberParameters over 15.
        let count_at = record + 8 + 2 * pointer;
        process.write_memory(count_at, &16u32.to_le_bytes());
        let e = read(&process, all, 0x20, crash.exception_pointers).unwrap_err();
        assert_eq!(
            e,
            ExceptionError::TooManyParameters {
                structure: ExceptionStructure::ExceptionRecord,
                address: record,
                count: 16
            }
        );
        errors.push(e);
        process.write_memory(count_at, &u32::MAX.to_le_bytes());
        assert!(matches!(
            read(&process, all, 0x20, crash.exception_pointers),
            Err(ExceptionError::TooManyParameters {
                count: u32::MAX,
                ..
            })
        ));
        process.write_memory(count_at, &2u32.to_le_bytes());

        // A chain that loops: the record names itself as its nested record.
        process.write_memory(record + 8, &record.to_le_bytes());
        let read_back = read(&process, all, 0x20, crash.exception_pointers).unwrap();
        assert!(read_back.nested().is_empty());
        assert_eq!(read_back.chain_end(), ChainEnd::Loop { address: record });
        assert_eq!(read_back.record().parameters(), &[0, 0x7]);
        // A chain into unmapped memory.
        process.write_memory(record + 8, &0x1234_5000usize.to_le_bytes());
        let read_back = read(&process, all, 0x20, crash.exception_pointers).unwrap();
        assert!(matches!(
            read_back.chain_end(),
            ChainEnd::Broken(ExceptionError::Unreadable {
                structure: ExceptionStructure::NestedRecord(1),
                address: 0x1234_5000,
                ..
            })
        ));

        for e in &errors {
            let message = e.to_string();
            assert!(message.starts_with("reading the exception: "), "{message}");
        }
        assert_no_leaks();
    }
}
