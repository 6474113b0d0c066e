//! The 32-bit view of WOW64 processes (`pss::wow64`): the model's WOW64 processes
//! (`ProcessSpec::wow64_layout`, 64-bit hosts) read back exactly (32-bit PEB and loader list,
//! TEB32s, x86 contexts from the CPU area or the native context, EBP chains through the x86
//! images), their native view as it was, a process that is not WOW64 refused, and hostile
//! memory refused with reasons, never a panic. The hostile cases use WOW64 structures laid out
//! here by hand in an ordinary model process (the reader does not care who laid them out), so
//! they run on 32-bit hosts too (Miri for `i686`). Offsets are Windows', written out here
//! independently of the model's and of pss's.
#![cfg(not(windows))]

use pss::wow64::{Wow64Cpu, X86ContextSource};
use pss::{CaptureFlags, ErrorCode, LocalSnapshot, ProcessFlags, VaClone, Wow64View};
use pss_tests::model::{self, ProcessSpec, RegionSpec, ThreadSpec};
use pss_tests::{assert_no_leaks, spawn_and_capture};

/// Everything the 32-bit view reads.
const ALL: CaptureFlags = CaptureFlags::VA_CLONE
    .union(CaptureFlags::VA_SPACE)
    .union(CaptureFlags::VA_SPACE_SECTION_INFORMATION)
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::THREAD_CONTEXT);

/// Little-endian values at offsets of a growing buffer.
#[derive(Default)]
struct Le(Vec<u8>);

impl Le {
    fn bytes(&mut self, at: usize, bytes: &[u8]) {
        if self.0.len() < at + bytes.len() {
            self.0.resize(at + bytes.len(), 0);
        }
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
    fn u16(&mut self, at: usize, v: u16) {
        self.bytes(at, &v.to_le_bytes());
    }
    fn u32(&mut self, at: usize, v: u32) {
        self.bytes(at, &v.to_le_bytes());
    }
    fn u64(&mut self, at: usize, v: u64) {
        self.bytes(at, &v.to_le_bytes());
    }
}

fn u32_at(clone: &VaClone<'_>, at: u32) -> u32 {
    clone.read_value(at as usize).unwrap()
}

/// The EBP chain from `ebp`, read through the clone: each frame record's return address, until
/// a record of zeros (at most 300 steps).
fn ebp_chain(clone: &VaClone<'_>, mut ebp: u32) -> Vec<u32> {
    let mut returns = Vec::new();
    while ebp != 0 {
        let return_address = u32_at(clone, ebp + 4);
        if return_address == 0 {
            break;
        }
        returns.push(return_address);
        assert!(returns.len() < 300, "the chain ends");
        ebp = u32_at(clone, ebp);
    }
    returns
}

// ---------------------------------------------------------------------------------------------
// WOW64 structures by hand, in an ordinary model process: one private region at BASE.
// ---------------------------------------------------------------------------------------------

const BASE: usize = 0x0030_0000;
const PEB64: usize = BASE;
const PEB32: usize = BASE + 0x1000;
const LDR64: usize = BASE + 0x2000;
const TEB64: usize = BASE + 0x4000;
const TEB32: usize = TEB64 + 0x2000;
const CPU_AREA: usize = BASE + 0x7000;
const LDR32: usize = BASE + 0x8000;
const STACK: usize = BASE + 0xA000;
const EXE: u32 = 0x0040_0000;
const DLL: u32 = 0x0050_0000;
const PID: u32 = 0x77;
const TID: u32 = 0x99;

/// 32-bit loader entries, `0x100` apart after the `PEB_LDR_DATA32`, and their names after them.
const ENTRY32: [usize; 2] = [LDR32 + 0x100, LDR32 + 0x200];

/// The hand-laid memory: a WOW64 process's 64-bit PEB (with a 64-bit loader list holding
/// `wow64cpu.dll`), its 32-bit PEB and loader list (`legacy.exe`, `helper.dll`), one thread's
/// TEB64, TEB32 and CPU area (EIP `0x0040_1234`), and an x86 stack with two frames.
fn hand_laid() -> Le {
    let mut b = Le::default();
    let at = |a: usize| a - BASE;
    // PEB64: ImageBaseAddress, Ldr.
    b.u64(at(PEB64) + 0x10, EXE.into());
    b.u64(at(PEB64) + 0x18, LDR64 as u64);
    // PEB_LDR_DATA (64-bit): the load-order list, one entry (wow64cpu.dll), names after.
    let head64 = LDR64 + 0x10;
    let entry64 = LDR64 + 0x100;
    b.u64(at(head64), entry64 as u64);
    b.u64(at(head64) + 8, entry64 as u64);
    b.u64(at(entry64), head64 as u64);
    b.u64(at(entry64) + 8, head64 as u64);
    let name64 = LDR64 + 0x200;
    let wow64cpu: Vec<u16> = "WOW64CPU.DLL".encode_utf16().collect();
    b.u16(at(entry64) + 0x58, 2 * wow64cpu.len() as u16);
    b.u16(at(entry64) + 0x5A, 2 * wow64cpu.len() as u16 + 2);
    b.u64(at(entry64) + 0x60, name64 as u64);
    for (i, unit) in wow64cpu.iter().enumerate() {
        b.u16(at(name64) + 2 * i, *unit);
    }
    // PEB32: ImageBaseAddress, Ldr, processors, OS version.
    b.u32(at(PEB32) + 0x08, EXE);
    b.u32(at(PEB32) + 0x0C, LDR32 as u32);
    b.u32(at(PEB32) + 0x64, 4);
    b.u32(at(PEB32) + 0xA4, 10);
    b.u16(at(PEB32) + 0xAC, 19045);
    b.u32(at(PEB32) + 0xB0, 2);
    // PEB_LDR_DATA32: the load-order list through both entries.
    let head32 = LDR32 + 0x0C;
    let nodes = [head32, ENTRY32[0], ENTRY32[1]];
    for (i, &node) in nodes.iter().enumerate() {
        b.u32(at(node), nodes[(i + 1) % 3] as u32);
        b.u32(at(node) + 4, nodes[(i + 2) % 3] as u32);
    }
    for (i, (&entry, (base, name))) in ENTRY32
        .iter()
        .zip([(EXE, r"C:\Apps\legacy.exe"), (DLL, r"C:\Apps\helper.dll")])
        .enumerate()
    {
        b.u32(at(entry) + 0x18, base);
        b.u32(at(entry) + 0x1C, base + 0x1010);
        b.u32(at(entry) + 0x20, 0x1_0000);
        let full: Vec<u16> = name.encode_utf16().collect();
        let file = name.rsplit('\\').next().unwrap().len();
        let buffer = LDR32 + 0x400 + 0x100 * i;
        for (j, unit) in full.iter().enumerate() {
            b.u16(at(buffer) + 2 * j, *unit);
        }
        b.u16(at(entry) + 0x24, 2 * full.len() as u16);
        b.u16(at(entry) + 0x26, 2 * full.len() as u16 + 2);
        b.u32(at(entry) + 0x28, buffer as u32);
        b.u16(at(entry) + 0x2C, 2 * file as u16);
        b.u16(at(entry) + 0x2E, 2 * file as u16 + 2);
        b.u32(at(entry) + 0x30, (buffer + 2 * (full.len() - file)) as u32);
    }
    // TEB64: ExceptionList (the TEB32), Self, TlsSlots[1] (the CPU area), WowTebOffset.
    b.u64(at(TEB64), TEB32 as u64);
    b.u64(at(TEB64) + 0x30, TEB64 as u64);
    b.u64(at(TEB64) + 0x1488, CPU_AREA as u64);
    b.u32(at(TEB64) + 0x180C, 0x2000);
    // TEB32: ExceptionList, StackBase, StackLimit, Self, ClientId, PEB, LastErrorValue.
    b.u32(at(TEB32), u32::MAX);
    b.u32(at(TEB32) + 0x04, (STACK + 0x1000) as u32);
    b.u32(at(TEB32) + 0x08, STACK as u32);
    b.u32(at(TEB32) + 0x18, TEB32 as u32);
    b.u32(at(TEB32) + 0x20, PID);
    b.u32(at(TEB32) + 0x24, TID);
    b.u32(at(TEB32) + 0x30, PEB32 as u32);
    b.u32(at(TEB32) + 0x34, 1450);
    // The CPU area: WOW64_CPURESERVED { Flags 0, Machine 0x14C }, then at +4 the WOW64_CONTEXT.
    b.u16(at(CPU_AREA) + 2, 0x14C);
    let context = at(CPU_AREA) + 4;
    b.u32(context, 0x1_0007);
    b.u32(context + 0xB0, 0xEA); // Eax
    b.u32(context + 0xB4, (STACK + 0x800) as u32); // Ebp
    b.u32(context + 0xB8, EXE + 0x1234); // Eip
    b.u32(context + 0xC0, 0x246); // EFlags
    b.u32(context + 0xC4, (STACK + 0x780) as u32); // Esp
    // The x86 stack: two frames into the images, then zeros.
    b.u32(at(STACK) + 0x800, (STACK + 0x840) as u32);
    b.u32(at(STACK) + 0x804, DLL + 0x2222);
    b.u32(at(STACK) + 0x840, (STACK + 0x880) as u32);
    b.u32(at(STACK) + 0x844, EXE + 0x3333);
    b.u32(at(STACK) + 0x880, 0);
    b
}

/// An x64 `CONTEXT` record with `ContextFlags` `flags`, code segment `cs` and RIP, RSP, RBP.
fn native_record(flags: u32, cs: u16, rip: u64, rsp: u64, rbp: u64) -> Vec<u8> {
    let mut b = Le::default();
    b.u32(0x30, flags);
    b.u16(0x38, cs);
    b.u32(0x44, 0x202);
    b.u64(0x98, rsp);
    b.u64(0xA0, rbp);
    b.u64(0xF8, rip);
    b.bytes(0x4CF, &[0]);
    b.0
}

const CONTROL_INTEGER: u32 = 0x10_0003;

/// A change to the hand-laid memory.
type Change = Box<dyn Fn(&mut Le)>;

/// The hand-laid memory, changed by `change`, in a model process captured with a VA clone; the
/// test gets the view's result and the clone.
fn with_hand_laid<T>(
    change: impl FnOnce(&mut Le),
    test: impl FnOnce(pss::Result<Wow64View<'_>>, VaClone<'_>) -> T,
) -> T {
    let mut memory = hand_laid();
    change(&mut memory);
    let spec = ProcessSpec::new().region(RegionSpec::private(BASE, 0x1_0000).contents(&memory.0));
    let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::VA_CLONE);
    let clone = snapshot.va_clone().unwrap();
    let result = test(Wow64View::new(clone, PEB64), clone);
    drop(snapshot);
    assert_no_leaks();
    result
}

/// An error's code, and that it gives a reason.
#[track_caller]
fn refused(error: pss::Error) -> ErrorCode {
    assert!(error.reason().is_some(), "a reason: {error}");
    error.code().unwrap()
}

#[test]
fn hand_laid_structures_read_back() {
    with_hand_laid(
        |_| {},
        |view, clone| {
            let view = view.unwrap();
            assert_eq!(view.cpu(), Wow64Cpu::X64);
            assert_eq!(view.peb64(), PEB64);
            let peb = view.peb();
            assert_eq!(peb.address, PEB32 as u32);
            assert_eq!(peb.image_base_address, EXE);
            assert_eq!(peb.ldr, LDR32 as u32);
            assert_eq!(
                (
                    peb.number_of_processors,
                    peb.os_major_version,
                    peb.os_build_number
                ),
                (4, 10, 19045)
            );
            assert_eq!(peb.os_platform_id, 2);

            let modules: Vec<_> = view.modules().map(Result::unwrap).collect();
            assert_eq!(modules.len(), 2);
            let names: Vec<(String, String)> = modules
                .iter()
                .map(|m| {
                    let full = view.string(&m.full_name).unwrap().to_string_lossy();
                    let base = view.string(&m.base_name).unwrap().to_string_lossy();
                    (full, base)
                })
                .collect();
            assert_eq!(
                names,
                [
                    (r"C:\Apps\legacy.exe".into(), "legacy.exe".into()),
                    (r"C:\Apps\helper.dll".into(), "helper.dll".into())
                ]
            );
            assert_eq!((modules[0].base, modules[1].base), (EXE, DLL));
            assert_eq!(modules[0].entry, ENTRY32[0] as u32);
            assert_eq!(
                (modules[1].entry_point, modules[1].size_of_image),
                (DLL + 0x1010, 0x1_0000)
            );

            let teb = view.teb(TEB64).unwrap();
            assert_eq!(teb.address, TEB32 as u32);
            assert_eq!(teb.exception_list, u32::MAX);
            assert_eq!(
                (teb.stack_limit, teb.stack_base),
                (STACK as u32, (STACK + 0x1000) as u32)
            );
            assert_eq!((teb.process_id, teb.thread_id), (PID, TID));
            assert_eq!((teb.peb, teb.last_error), (PEB32 as u32, 1450));

            let area = view.cpu_area(TEB64).unwrap();
            assert_eq!(
                (area.address, area.flags, area.machine, area.context_address),
                (CPU_AREA as u64, 0, 0x14C, CPU_AREA as u64 + 4)
            );

            // In the WOW64 layer: the CPU area's registers.
            let native = native_record(CONTROL_INTEGER, 0x33, 0x7FFB_F000_1783, 0, 0);
            let context = view.context(TEB64, &native).unwrap();
            assert_eq!(context.source(), X86ContextSource::CpuArea);
            assert_eq!(context.eip(), EXE + 0x1234);
            assert_eq!(
                (context.esp(), context.ebp()),
                ((STACK + 0x780) as u32, (STACK + 0x800) as u32)
            );
            assert_eq!((context.eax(), context.eflags()), (0xEA, 0x246));
            assert_eq!(context.context_flags(), 0x1_0007);
            assert_eq!(context.as_bytes().len(), 0x2CC);
            assert_eq!(
                ebp_chain(&clone, context.ebp()),
                [DLL + 0x2222, EXE + 0x3333]
            );

            // Stopped in 32-bit code: the native registers, the stale CPU area ignored.
            let native = native_record(
                CONTROL_INTEGER,
                0x23,
                u64::from(DLL) + 0x10,
                (STACK + 0x7C0) as u64,
                (STACK + 0x840) as u64,
            );
            let context = view.context(TEB64, &native).unwrap();
            assert_eq!(context.source(), X86ContextSource::NativeContext);
            assert_eq!(
                (context.eip(), context.esp(), context.ebp()),
                (DLL + 0x10, (STACK + 0x7C0) as u32, (STACK + 0x840) as u32)
            );
            assert_eq!(ebp_chain(&clone, context.ebp()), [EXE + 0x3333]);
        },
    );
}

#[test]
fn a_missing_or_unmapped_cpu_area_is_refused() {
    for cpu_area in [0, 0x0F00_0000_u64, u64::MAX - 8] {
        let code = with_hand_laid(
            |m| m.u64(TEB64 - BASE + 0x1488, cpu_area),
            |view, _| {
                let view = view.unwrap();
                let native = native_record(CONTROL_INTEGER, 0x33, 0x1000, 0, 0);
                assert!(view.cpu_area(TEB64).is_err());
                // The TEB32 does not depend on the CPU area.
                assert_eq!(view.teb(TEB64).unwrap().thread_id, TID);
                view.context(TEB64, &native).unwrap_err()
            },
        );
        // NULL: no CPU area; unmapped: the read fails; beyond a 32-bit build's address space:
        // refused before any read.
        let beyond = usize::try_from(cpu_area).is_err();
        let expected = if cpu_area == 0 || beyond {
            ErrorCode::NOT_FOUND
        } else {
            ErrorCode::PARTIAL_COPY
        };
        assert_eq!(code.code(), Some(expected), "{cpu_area:#x}: {code}");
    }
}

#[test]
fn a_cpu_area_of_another_machine_is_refused() {
    // ARM32 (ARM64 Windows), x64 and ARM64 emulation areas, garbage.
    for machine in [0x01C4_u16, 0x8664, 0xAA64, 0xBEEF, 0] {
        with_hand_laid(
            |m| m.u16(CPU_AREA - BASE + 2, machine),
            |view, _| {
                let view = view.unwrap();
                let error = view.cpu_area(TEB64).unwrap_err();
                assert_eq!(refused(error), ErrorCode::NOT_SUPPORTED, "{machine:#x}");
                let native = native_record(CONTROL_INTEGER, 0x33, 0x1000, 0, 0);
                let error = view.context(TEB64, &native).unwrap_err();
                assert_eq!(refused(error), ErrorCode::NOT_SUPPORTED, "{machine:#x}");
                // A thread in 32-bit code does not need its CPU area.
                let native = native_record(CONTROL_INTEGER, 0x23, 0x1000, 0x2000, 0x3000);
                assert_eq!(view.context(TEB64, &native).unwrap().eip(), 0x1000);
            },
        );
    }
}

#[test]
fn native_records_that_cannot_say_are_refused() {
    with_hand_laid(
        |_| {},
        |view, _| {
            let view = view.unwrap();
            for native in [
                Vec::new(),
                native_record(0x10_0002, 0x33, 0, 0, 0), // no CONTROL: which code is unknown
                native_record(0x10_0001, 0x23, 0x1000, 0x2000, 0), // 32-bit code, no INTEGER
                native_record(0x1_0007, 0x23, 0x1000, 0x2000, 0), // not an x64 record
                native_record(CONTROL_INTEGER, 0x10, 0x1000, 0x2000, 0), // another segment
                native_record(CONTROL_INTEGER, 0x23, 1 << 40, 0x2000, 0), // 32-bit code, 64-bit RIP
            ] {
                let error = view.context(TEB64, &native).unwrap_err();
                assert_eq!(refused(error), ErrorCode::NOT_FOUND);
            }
        },
    );
}

#[test]
fn tebs_that_lie_are_refused() {
    let at = TEB64 - BASE;
    let cases: [(&str, Change); 5] = [
        (
            "TEB64.Self",
            Box::new(move |m| m.u64(at + 0x30, 0x1234_0000)),
        ),
        (
            "TEB32.Self",
            Box::new(move |m| m.u32(at + 0x2000 + 0x18, 0)),
        ),
        (
            "WowTebOffset against ExceptionList",
            Box::new(move |m| m.u32(at + 0x180C, 0x3000)),
        ),
        (
            "no TEB32 at all (pre-Windows 10 offset, no ExceptionList)",
            Box::new(move |m| {
                m.u32(at + 0x180C, 0);
                m.u64(at, 0);
            }),
        ),
        (
            "a TEB32 above 4 GiB",
            Box::new(move |m| {
                m.u32(at + 0x180C, 1);
                m.u64(at, 1 << 33);
            }),
        ),
    ];
    for (what, change) in cases {
        with_hand_laid(change, |view, _| {
            let error = view.unwrap().teb(TEB64).unwrap_err();
            assert_eq!(refused(error), ErrorCode::NOT_FOUND, "{what}");
        });
    }
    // Before Windows 10 WowTebOffset is 0 or 1: ExceptionList alone finds the TEB32.
    for offset in [0, 1] {
        with_hand_laid(
            |m| m.u32(at + 0x180C, offset),
            |view, _| assert_eq!(view.unwrap().teb(TEB64).unwrap().address, TEB32 as u32),
        );
    }
    // A TEB64 address nothing is mapped at: the read fails.
    with_hand_laid(
        |_| {},
        |view, _| {
            let error = view.unwrap().teb(0x0F00_0000).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::PARTIAL_COPY));
        },
    );
}

#[test]
fn a_peb32_that_does_not_match_is_refused() {
    // Another image base in the PEB32, none in both, the 64-bit PEB unmapped.
    let cases: [Change; 2] = [
        Box::new(|m| m.u32(PEB32 - BASE + 0x08, 0x0080_0000)),
        Box::new(|m| {
            m.u32(PEB32 - BASE + 0x08, 0);
            m.u64(PEB64 - BASE + 0x10, 0);
        }),
    ];
    for change in cases {
        with_hand_laid(change, |view, _| {
            assert_eq!(refused(view.unwrap_err()), ErrorCode::NOT_FOUND);
        });
    }
    let spec = ProcessSpec::new().region(RegionSpec::private(BASE, 0x1000));
    let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::VA_CLONE);
    let error = Wow64View::new(snapshot.va_clone().unwrap(), 0x0F00_0000).unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::PARTIAL_COPY));
    drop(snapshot);
    assert_no_leaks();
}

#[test]
fn a_loader_list_that_loops_or_breaks_ends_in_an_error() {
    let first = ENTRY32[0] - BASE;
    let second = ENTRY32[1] - BASE;
    let cases: [(&str, Change, usize); 4] = [
        // The second entry leads back to the first, never to the head.
        (
            "a loop",
            Box::new(move |m| m.u32(second, ENTRY32[0] as u32)),
            2,
        ),
        // An entry that leads to itself.
        (
            "a self-loop",
            Box::new(move |m| m.u32(first, ENTRY32[0] as u32)),
            1,
        ),
        // A NULL link.
        ("a NULL link", Box::new(move |m| m.u32(second, 0)), 2),
        // A link into unmapped memory.
        (
            "an unmapped entry",
            Box::new(move |m| m.u32(second, 0x0F00_0000)),
            2,
        ),
    ];
    for (what, change, good) in cases {
        with_hand_laid(change, |view, _| {
            let view = view.unwrap();
            let results: Vec<_> = view.modules().collect();
            assert!(
                results.len() <= good + 2,
                "{what}: bounded, {}",
                results.len()
            );
            assert!(results[..good].iter().all(Result::is_ok), "{what}");
            let error = results.last().unwrap().as_ref().unwrap_err();
            assert!(
                [Some(ErrorCode::NOT_FOUND), Some(ErrorCode::PARTIAL_COPY)].contains(&error.code()),
                "{what}: {error}"
            );
            // Fused: nothing after the error.
            let mut modules = view.modules();
            while let Some(Ok(_)) = modules.next() {}
            assert!(modules.next().is_none(), "{what}");
        });
    }
    // No loader data yet.
    with_hand_laid(
        |m| m.u32(PEB32 - BASE + 0x0C, 0),
        |view, _| {
            let results: Vec<_> = view.unwrap().modules().collect();
            assert_eq!(results.len(), 1);
            assert_eq!(refused(results[0].unwrap_err()), ErrorCode::NOT_FOUND);
        },
    );
}

#[test]
fn names_with_lying_lengths_are_refused() {
    let name = ENTRY32[0] - BASE + 0x24;
    let cases: [(&str, Change); 3] = [
        (
            "Length > MaximumLength",
            Box::new(move |m| m.u16(name, 0xFFFE)),
        ),
        ("an odd Length", Box::new(move |m| m.u16(name, 7))),
        ("a NULL Buffer", Box::new(move |m| m.u32(name + 4, 0))),
    ];
    for (what, change) in cases {
        with_hand_laid(change, |view, _| {
            let view = view.unwrap();
            let module = view.modules().next().unwrap().unwrap();
            let error = view.string(&module.full_name).unwrap_err();
            assert_eq!(refused(error), ErrorCode::NOT_FOUND, "{what}");
        });
    }
    // A length the buffer's memory does not hold: the read stops where the region does.
    with_hand_laid(
        |m| {
            m.u16(name, 0xFFFC);
            m.u16(name + 2, 0xFFFE);
        },
        |view, _| {
            let view = view.unwrap();
            let module = view.modules().next().unwrap().unwrap();
            let error = view.string(&module.full_name).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::PARTIAL_COPY));
        },
    );
}

#[test]
fn without_a_wow64_cpu_there_is_no_x86_context() {
    // xtajit.dll (x86 emulated on ARM64), and a loader list with neither DLL.
    for (name, cpu) in [
        ("xtajit.dll", Wow64Cpu::Arm64Emulator),
        ("other.dll", Wow64Cpu::Unknown),
    ] {
        with_hand_laid(
            |m| {
                let entry = LDR64 + 0x100 - BASE;
                let units: Vec<u16> = name.encode_utf16().collect();
                m.u16(entry + 0x58, 2 * units.len() as u16);
                for (i, unit) in units.iter().enumerate() {
                    m.u16(LDR64 + 0x200 - BASE + 2 * i, *unit);
                }
            },
            |view, _| {
                let view = view.unwrap();
                assert_eq!(view.cpu(), cpu);
                let native = native_record(CONTROL_INTEGER, 0x23, 0x1000, 0x2000, 0x3000);
                let error = view.context(TEB64, &native).unwrap_err();
                assert_eq!(refused(error), ErrorCode::NOT_SUPPORTED, "{name}");
                // The 32-bit TEB, PEB and modules read the same.
                assert_eq!(view.teb(TEB64).unwrap().address, TEB32 as u32);
                assert_eq!(view.modules().count(), 2);
            },
        );
    }
    // A 64-bit loader list that loops (on an entry without a name): no CPU found, and no hang.
    with_hand_laid(
        |m| {
            m.u64(LDR64 + 0x100 - BASE, (LDR64 + 0x100) as u64);
            m.u16(LDR64 + 0x100 - BASE + 0x58, 0);
        },
        |view, _| assert_eq!(view.unwrap().cpu(), Wow64Cpu::Unknown),
    );
}

#[test]
fn a_process_that_is_not_wow64_has_no_32_bit_view() {
    let (_process, snapshot) = spawn_and_capture(model::demo_process(), ALL);
    assert!(
        !snapshot
            .process_information()
            .unwrap()
            .flags()
            .contains(ProcessFlags::WOW64)
    );
    let error = snapshot.wow64().unwrap_err();
    assert_eq!(refused(error), ErrorCode::NOT_FOUND);
    assert_eq!(error.function(), pss::Function::PssQuerySnapshot);
    drop(snapshot);
    assert_no_leaks();
}

/// A process with only the WOW64 flag (no 32-bit structures in its memory): on a 64-bit build
/// the view finds no 32-bit PEB; a 32-bit build refuses, its capture being 32-bit already.
#[test]
fn a_wow64_flag_without_a_32_bit_view_is_refused() {
    let spec = ProcessSpec::new()
        .wow64()
        .thread(ThreadSpec::new(8))
        .with_peb();
    let (_process, snapshot) = spawn_and_capture(spec, ALL);
    let error = snapshot.wow64().unwrap_err();
    let expected = if cfg!(target_pointer_width = "64") {
        ErrorCode::NOT_FOUND
    } else {
        ErrorCode::NOT_SUPPORTED
    };
    assert_eq!(error.code(), Some(expected), "{error}");
    drop(snapshot);
    assert_no_leaks();
}

/// The model's WOW64 processes: 64-bit hosts.
#[cfg(target_pointer_width = "64")]
mod laid_out {
    use super::*;
    use pss::MemoryType;
    use pss_tests::model::{Wow64Layout, X86ThreadSpec};

    /// A WOW64 process captured with everything.
    fn capture(spec: ProcessSpec) -> (model::ModelProcess, LocalSnapshot) {
        spawn_and_capture(spec, ALL)
    }

    fn layout(process: &model::ModelProcess) -> Wow64Layout {
        process.wow64_layout().expect("a WOW64 layout")
    }

    /// The demo process's 32-bit view, read back exactly: PEB32, modules and their headers,
    /// each thread's TEB32 and x86 registers (from the CPU area or, for the thread stopped in
    /// x86 code, from its native context), and each x86 stack's EBP chain through the x86
    /// images to the frames laid out.
    #[test]
    fn the_demo_process_reads_back_exactly() {
        let (process, snapshot) = capture(model::wow64_demo_process());
        let layout = layout(&process);
        let threads = process.threads();
        let view = snapshot.wow64().unwrap();
        let clone = view.va_clone();

        assert_eq!(view.peb64(), model::WOW64_PEB64);
        assert_eq!(view.peb().address, layout.peb32());
        assert_eq!(view.peb().ldr, layout.ldr32());
        let modules: Vec<_> = view.modules().map(Result::unwrap).collect();
        assert_eq!(
            modules.iter().map(|m| m.entry).collect::<Vec<_>>(),
            layout.loader_entries()
        );
        let read: Vec<model::X86Module> = modules
            .iter()
            .map(|m| model::X86Module {
                base: m.base,
                size: m.size_of_image,
                full_name: view.string(&m.full_name).unwrap().to_string_lossy(),
                base_name: view.string(&m.base_name).unwrap().to_string_lossy(),
            })
            .collect();
        assert_eq!(read, layout.modules());
        assert_eq!(
            read[0].full_name,
            r"C:\Program Files (x86)\Contoso\legacy.exe"
        );
        assert!(
            read.iter()
                .skip(1)
                .all(|m| m.full_name.starts_with(r"C:\Windows\SysWOW64\"))
        );
        assert_eq!(view.peb().image_base_address, read[0].base);
        let main = view.main_image().unwrap();
        assert_eq!(
            (main.base, main.machine),
            (read[0].base, model::X86_MACHINE)
        );
        assert_eq!(main.size_of_image, read[0].size);
        for m in &read {
            let image = view.image(m.base).unwrap();
            assert_eq!((image.machine, image.size_of_image), (0x14C, m.size));
        }
        let in_x86_image = |address: u32| {
            read.iter()
                .any(|m| address >= m.base && address - m.base < m.size)
        };

        let mut from = Vec::new();
        for entry in &snapshot.threads().unwrap() {
            let entry = entry.unwrap();
            let spec = threads
                .iter()
                .find(|t| t.tid() == entry.thread_id())
                .unwrap();
            let x86 = spec.x86_state().unwrap();
            let teb = view.thread_teb(&entry).unwrap();
            assert_eq!(teb.address, x86.teb32_address());
            assert_eq!(
                teb.address as usize,
                spec.teb_address() + model::TEB32_OFFSET
            );
            assert_eq!((teb.stack_limit, teb.stack_base), x86.stack_range());
            assert_eq!((teb.process_id, teb.thread_id), (process.pid(), spec.tid()));
            assert_eq!(teb.peb, layout.peb32());
            assert_eq!(teb.last_error, x86.last_error_value());
            assert_eq!(teb.exception_list, u32::MAX);
            let area = view.cpu_area(spec.teb_address()).unwrap();
            assert_eq!(area.address as usize, x86.cpu_area_address());
            // Both at once, the 64-bit TEB read once.
            let both = view.thread(&entry);
            assert_eq!(both.thread_id, spec.tid());
            assert_eq!(both.teb, Ok(teb));
            assert_eq!(both.context, view.thread_context(&entry));

            if !cfg!(target_arch = "x86_64") {
                let error = view.thread_context(&entry).unwrap_err();
                assert_eq!(refused(error), ErrorCode::NOT_SUPPORTED);
                continue;
            }
            let context = view.thread_context(&entry).unwrap();
            from.push(context.source());
            let expected_source = if x86.stopped_in_x86_code().is_some() {
                X86ContextSource::NativeContext
            } else {
                X86ContextSource::CpuArea
            };
            assert_eq!(context.source(), expected_source);
            assert_eq!(
                (context.eip(), context.esp(), context.ebp()),
                (x86.eip(), x86.esp(), x86.ebp())
            );
            assert_eq!(context.eflags(), x86.eflags());
            assert_eq!(
                [
                    context.eax(),
                    context.ebx(),
                    context.ecx(),
                    context.edx(),
                    context.esi(),
                    context.edi()
                ],
                x86.integer_register_values()
            );
            assert_eq!((context.seg_cs(), context.seg_ss()), (0x23, 0x2B));
            assert!(teb.stack_limit <= context.esp() && context.esp() < teb.stack_base);
            let frames: Vec<u32> = std::iter::once(context.eip())
                .chain(ebp_chain(&clone, context.ebp()))
                .collect();
            assert_eq!(Some(frames.clone()), x86.expected_frames());
            assert!(frames.iter().all(|&f| in_x86_image(f)), "{frames:x?}");
        }
        if cfg!(target_arch = "x86_64") {
            assert_eq!(view.cpu(), Wow64Cpu::X64);
            from.sort_by_key(|s| *s == X86ContextSource::CpuArea);
            assert_eq!(
                from,
                [X86ContextSource::NativeContext, X86ContextSource::CpuArea]
            );
        } else {
            assert_eq!(view.cpu(), Wow64Cpu::Arm64Emulator);
        }
        drop(snapshot);
        assert_no_leaks();
    }

    /// The native view of a WOW64 process is what every process's is: the flag, the 64-bit
    /// PEB and its loader list (the main executable and the 64-bit images only), the 64-bit
    /// TEBs, and native contexts in the WOW64 layer (`wow64cpu.dll`) for threads in a system
    /// call. The snapshot's main image is the x86 executable.
    #[test]
    fn native_contexts_are_in_the_wow64_layer() {
        let (process, snapshot) = capture(model::wow64_demo_process());
        let info = snapshot.process_information().unwrap();
        assert!(info.flags().contains(ProcessFlags::WOW64));
        assert_eq!(info.peb_base_address(), model::WOW64_PEB64);
        let clone = snapshot.va_clone().unwrap();
        let threads = process.threads();
        let cpu = model::WOW64_CPU_DLL..model::WOW64_CPU_DLL + 0xA000;
        let mut in_layer = 0;
        for entry in &snapshot.threads().unwrap() {
            let entry = entry.unwrap();
            let spec = threads
                .iter()
                .find(|t| t.tid() == entry.thread_id())
                .unwrap();
            let teb = entry.teb_base_address().unwrap();
            assert_eq!(teb, spec.teb_address());
            let self_: usize = clone.read_value(teb + 0x30).unwrap();
            assert_eq!(self_, teb, "TEB64 NtTib.Self");
            let peb: usize = clone.read_value(teb + 0x60).unwrap();
            assert_eq!(peb, model::WOW64_PEB64);
            let ip = entry.instruction_pointer().unwrap();
            assert_eq!(ip, spec.register_values()[0]);
            if spec.x86_state().unwrap().stopped_in_x86_code().is_none() {
                assert!(cpu.contains(&ip), "{ip:#x} in the WOW64 CPU");
                in_layer += 1;
            }
        }
        assert_eq!(in_layer, 1);

        // The 64-bit loader list: the executable and the 64-bit images.
        let ldr: usize = clone.read_value(model::WOW64_PEB64 + 0x18).unwrap();
        let head = ldr + 0x10;
        let mut node: usize = clone.read_value(head).unwrap();
        let mut bases = Vec::new();
        while node != head && bases.len() < 16 {
            bases.push(clone.read_value::<usize>(node + 0x30).unwrap());
            node = clone.read_value(node).unwrap();
        }
        let exe = layout(&process).modules()[0].base as usize;
        assert_eq!(
            bases,
            [
                exe,
                model::WOW64_DLL,
                model::WOW64WIN_DLL,
                model::WOW64_CPU_DLL,
                model::WOW64_NTDLL
            ]
        );
        let main = snapshot.main_image().unwrap();
        assert_eq!(main.base, exe);
        let images = snapshot
            .va_space()
            .unwrap()
            .iter()
            .filter(|e| e.as_ref().unwrap().region().kind == MemoryType::Image)
            .count();
        assert_eq!(images, 8, "4 x86 images, 4 of the WOW64 layer");
        drop(snapshot);
        assert_no_leaks();
    }

    /// A WOW64 process whose CPU is the x86 emulator of Windows on Arm (`xtajit.dll`) gives no
    /// x86 context, even to an x64 build: its 32-bit TEBs still read.
    #[test]
    fn an_emulated_wow64_process_gives_no_x86_context() {
        let spec = model::wow64_demo_process().wow64_cpu_dll("xtajit.dll");
        let (process, snapshot) = capture(spec);
        let view = snapshot.wow64().unwrap();
        assert_eq!(view.cpu(), Wow64Cpu::Arm64Emulator);
        assert_eq!(layout(&process).cpu_dll(), "xtajit.dll");
        for entry in &snapshot.threads().unwrap() {
            let entry = entry.unwrap();
            let error = view.thread_context(&entry).unwrap_err();
            assert_eq!(refused(error), ErrorCode::NOT_SUPPORTED);
            assert!(view.thread_teb(&entry).is_ok());
        }
        drop(snapshot);
        assert_no_leaks();
    }

    /// What was not captured is named: no VA clone, no thread contexts, contexts without
    /// `CONTEXT_INTEGER` for a thread in x86 code.
    #[test]
    fn what_was_not_captured_is_named() {
        let (_process, snapshot) = spawn_and_capture(
            model::wow64_demo_process(),
            CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT,
        );
        let error = snapshot.wow64().unwrap_err();
        assert_eq!(error.missing_flags(), Some(CaptureFlags::VA_CLONE));
        drop(snapshot);

        let (_process, snapshot) = spawn_and_capture(
            model::wow64_demo_process(),
            CaptureFlags::VA_CLONE | CaptureFlags::THREADS,
        );
        let view = snapshot.wow64().unwrap();
        for entry in &snapshot.threads().unwrap() {
            let entry = entry.unwrap();
            let error = view.thread_context(&entry).unwrap_err();
            if cfg!(target_arch = "x86_64") {
                assert_eq!(error.missing_flags(), Some(CaptureFlags::THREAD_CONTEXT));
                assert_eq!(refused(error), ErrorCode::NOT_FOUND);
            }
            assert!(view.thread_teb(&entry).is_ok());
        }
        drop(snapshot);

        if cfg!(target_arch = "x86_64") {
            let options = pss::CaptureOptions::new(CaptureFlags::VA_CLONE)
                .context(pss::ContextFlags::CONTROL);
            let process = model::wow64_demo_process().spawn();
            let handle = pss::open_process(
                process.pid(),
                pss::ProcessAccess::for_capture(options.flags()),
            )
            .unwrap();
            let snapshot = LocalSnapshot::capture(&handle, options).unwrap();
            let view = snapshot.wow64().unwrap();
            let mut refusals = 0;
            for entry in &snapshot.threads().unwrap() {
                let entry = entry.unwrap();
                match view.thread_context(&entry) {
                    // In the WOW64 layer: CONTROL says so, and the CPU area has the rest.
                    Ok(context) => assert_eq!(context.source(), X86ContextSource::CpuArea),
                    // In x86 code: EBP is in CONTEXT_INTEGER, which was not captured.
                    Err(error) => {
                        assert_eq!(refused(error), ErrorCode::NOT_FOUND);
                        refusals += 1;
                    }
                }
            }
            assert_eq!(refusals, 1);
        }
        assert_no_leaks();
    }

    /// Hostile memory in a laid-out process, written after spawn: a NULL CPU area, an
    /// unknown machine, a loop in the 32-bit loader list.
    #[test]
    fn hostile_memory_in_a_wow64_process_gives_errors() {
        let process = model::wow64_demo_process().spawn();
        let layout = layout(&process);
        let threads = process.threads();
        let [first, second] = [&threads[0], &threads[1]];
        // The first thread (in the WOW64 layer) loses its CPU area; the second's says ARM32.
        process.write_memory(first.teb_address() + 0x1488, &0u64.to_le_bytes());
        let area = second.x86_state().unwrap().cpu_area_address();
        process.write_memory(area + 2, &0x1C4u16.to_le_bytes());
        // The third loader entry leads back to the second.
        let entries = layout.loader_entries();
        process.write_memory(entries[2] as usize, &entries[1].to_le_bytes());

        let handle =
            pss::open_process(process.pid(), pss::ProcessAccess::for_capture(ALL)).unwrap();
        let snapshot = LocalSnapshot::capture(&handle, ALL).unwrap();
        let view = snapshot.wow64().unwrap();
        // Three entries, then round the loop (Brent's detection needs a few steps more),
        // then the error.
        let results: Vec<_> = view.modules().collect();
        assert!(
            (4..=3 + 2 * 2 + 1).contains(&results.len()),
            "{}",
            results.len()
        );
        assert!(results[..3].iter().all(Result::is_ok));
        let error = results.last().unwrap().unwrap_err();
        assert_eq!(refused(error), ErrorCode::NOT_FOUND);
        let first_area = view.cpu_area(first.teb_address()).unwrap_err();
        assert_eq!(refused(first_area), ErrorCode::NOT_FOUND);
        let second_area = view.cpu_area(second.teb_address()).unwrap_err();
        assert_eq!(refused(second_area), ErrorCode::NOT_SUPPORTED);
        if cfg!(target_arch = "x86_64") {
            for entry in &snapshot.threads().unwrap() {
                let entry = entry.unwrap();
                let result = view.thread_context(&entry);
                if entry.thread_id() == first.tid() {
                    assert_eq!(refused(result.unwrap_err()), ErrorCode::NOT_FOUND);
                } else {
                    // Stopped in x86 code: the native context, whatever its CPU area says.
                    assert_eq!(result.unwrap().source(), X86ContextSource::NativeContext);
                }
            }
        }
        drop(snapshot);
        drop(handle);
        drop(process);
        assert_no_leaks();
    }

    /// A process laid out with a thread of its own making: x86 registers, stacks and TEBs
    /// follow the spec.
    #[test]
    fn a_thread_spec_is_laid_out_as_given() {
        let exe = 0x0040_0000_u32;
        let spec = ProcessSpec::new()
            .wow64_layout()
            .region(RegionSpec::image_x86(
                exe as usize,
                0x1_0000,
                r"\Device\HarddiskVolume3\x86.exe",
            ))
            .thread(
                ThreadSpec::new(0x10)
                    .executing_at(model::WOW64_CPU_DLL + 0x10)
                    .x86(
                        X86ThreadSpec::new()
                            .executing_at(exe + 0x1100)
                            .call_stack(&[exe + 0x1200, exe + 0x1300, exe + 0x1400])
                            .last_error(87),
                    ),
            )
            .thread(ThreadSpec::new(0x14));
        let (process, snapshot) = capture(spec);
        let view = snapshot.wow64().unwrap();
        let threads = process.threads();
        assert_eq!(view.modules().count(), 1);
        for entry in &snapshot.threads().unwrap() {
            let entry = entry.unwrap();
            let spec = threads
                .iter()
                .find(|t| t.tid() == entry.thread_id())
                .unwrap();
            let x86 = spec.x86_state().unwrap();
            let teb = view.thread_teb(&entry).unwrap();
            assert_eq!(teb.last_error, x86.last_error_value());
            if cfg!(target_arch = "x86_64") {
                let context = view.thread_context(&entry).unwrap();
                let chain = ebp_chain(&view.va_clone(), context.ebp());
                match x86.expected_frames() {
                    Some(frames) => {
                        assert_eq!(context.eip(), frames[0]);
                        assert_eq!(chain, frames[1..]);
                    }
                    // The default: EIP 0, no frames.
                    None => assert_eq!((context.eip(), chain.len()), (0, 0)),
                }
            }
        }
        drop(snapshot);
        assert_no_leaks();
    }
}
