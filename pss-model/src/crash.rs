//! A crashed thread ([`ProcessSpec::crash`]): the exception it raised, laid out in its process's
//! memory as Windows' exception dispatch leaves it, so that a crash handler's reader (what an
//! out-of-process handler is told: "thread T faulted, its `EXCEPTION_POINTERS` are at A") finds
//! it, and a stack walker starting from the fault's context walks the frames laid out.
//!
//! The crashed thread's stack region (its stack slot, [`STACK_SIZE`] bytes, as
//! [`ThreadSpec::call_stack`](crate::ThreadSpec::call_stack) lays one out) holds, from its top down:
//!
//! | where | what |
//! |---|---|
//! | below `0x100` bytes of zeros | the fault's frame records ([`CrashSpec::call_stack`]), `[saved frame pointer, return address]`, `0x40` apart, a last one of zeros: the fault context's frame pointer is the first record, its stack pointer `0x80` below |
//! | below the fault's stack pointer, 64-bit | what the kernel's `KiDispatchException` copies there for `KiUserExceptionDispatcher`: a `MACHINE_FRAME` (`Rip`, `SegCs`, `EFlags`, `Rsp`, `SegSs`) at `(Rsp - 0x28) & !0xF`, the `EXCEPTION_RECORD` `0xA0` below it, the `CONTEXT_EX` `0xC0` below it, the `CONTEXT` under that (`0x590` below it on x64, where the dispatcher's stack pointer then points: the record is at `Rsp + 0x4F0`) |
//! | below the fault's stack pointer, x86 | the `CONTEXT` (`0x2CC` bytes) below the 4-aligned stack pointer, the `EXCEPTION_RECORD` below it, only as long as its parameters, and the dispatcher's two arguments (the record's and the context's addresses) below that |
//! | `0x100` below the dispatcher's stack pointer, 16-aligned | the `EXCEPTION_POINTERS` an exception filter is given (`ExceptionRecord`, `ContextRecord`): [`Crash::exception_pointers`] |
//! | `0x800` below them (zeros between) | the thread's own frame records, from [`ThreadSpec::call_stack`](crate::ThreadSpec::call_stack): where the thread is at capture (the handler's wait: its context in the thread list); the zeros keep a walker that scans from its last frame away from the context's instruction pointer |
//!
//! With [`CrashSpec::x86`] on a 64-bit host (the structures of a 32-bit process, as a WOW64
//! process's exception filter gets them), the same layout in 32-bit words and x86 structures
//! is the thread's x86 stack in a process laid out as WOW64
//! ([`ProcessSpec::wow64_layout`]: its own frames are its [`X86ThreadSpec`](crate::X86ThreadSpec)'s,
//! and its native stack is left as it was); in any other process a private region of its own
//! at [`X86_CRASH_STACK`] (below 4 GiB, where 32-bit pointers reach) holds the fault's frames
//! and the structures, and the thread keeps its stack. On a 32-bit host the native structures
//! are these.

use std::sync::Arc;

use super::data::{
    HOST_CONTEXT_ALL, ModelProcess, ProcessData, ProcessInfo, ProcessSpec, RegionSpec, addr,
    context_record,
};
use super::le::LeBuf;
use super::stack::{STACK_SIZE, next_slot};

/// `EXCEPTION_ACCESS_VIOLATION` (`STATUS_ACCESS_VIOLATION`).
pub const EXCEPTION_ACCESS_VIOLATION: u32 = 0xC000_0005;

/// Where [`CrashSpec::x86`] lays out the 32-bit structures on a 64-bit host: a private region
/// of [`STACK_SIZE`] bytes, below 4 GiB (a test process must leave it free).
pub const X86_CRASH_STACK: usize = addr(0x0050_0000, 0x0050_0000);

/// Bytes between one frame record and the next, zeros above the last, and the innermost
/// function's locals (as `stack.rs` lays out stacks).
const SPACING: usize = 0x40;
const TOP_GAP: usize = 0x100;
const LOCALS: usize = 0x80;
/// The `EXCEPTION_POINTERS` lie this far below the dispatcher's stack pointer (the frames of
/// `RtlDispatchException` and the exception filter's caller).
const POINTERS_BELOW: usize = 0x100;
/// Zeros between the thread's own last frame record and the structures: more than the 160
/// pointer slots rust-minidump scans for return addresses after the frame chain ends.
const SCAN_GAP: usize = 0x800;
/// `sizeof(CONTEXT)` of x86 (`WOW64_CONTEXT`).
const X86_CONTEXT_SIZE: usize = 0x2CC;
/// `CONTEXT_i386 | CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS`.
const X86_CONTEXT_FLAGS: u32 = 0x0001_0007;
/// `EXCEPTION_MAXIMUM_PARAMETERS`.
const MAX_PARAMETERS: usize = 15;

/// The exception a thread of a model process raised ([`ProcessSpec::crash`]).
#[derive(Clone, Debug)]
pub struct CrashSpec {
    tid: u32,
    code: u32,
    flags: u32,
    instruction: usize,
    parameters: Vec<usize>,
    call_stack: Vec<usize>,
    x86: bool,
    laid_out: Option<Crash>,
}

impl CrashSpec {
    /// Thread `tid` raised exception `code` at `instruction` (the `ExceptionAddress`, and the
    /// fault context's instruction pointer: an address in one of the process's images, for a
    /// walker to accept it), without parameters or a call stack.
    pub fn new(tid: u32, code: u32, instruction: usize) -> Self {
        Self {
            tid,
            code,
            flags: 0,
            instruction,
            parameters: Vec::new(),
            call_stack: Vec::new(),
            x86: false,
            laid_out: None,
        }
    }

    /// An access violation (`0xC0000005`) at `instruction`, reading (`write` false) or writing
    /// `address`: parameters `[0 or 1, address]`, as Windows gives them.
    pub fn access_violation(tid: u32, instruction: usize, write: bool, address: usize) -> Self {
        Self::new(tid, EXCEPTION_ACCESS_VIOLATION, instruction)
            .parameters(&[usize::from(write), address])
    }

    /// Its `ExceptionInformation`.
    ///
    /// # Panics
    ///
    /// With more than 15 values (`EXCEPTION_MAXIMUM_PARAMETERS`; to lay out a record that
    /// claims more, write its `NumberParameters` with [`ModelProcess::write_memory`]).
    pub fn parameters(mut self, parameters: &[usize]) -> Self {
        assert!(
            parameters.len() <= MAX_PARAMETERS,
            "at most 15 exception parameters"
        );
        self.parameters = parameters.to_vec();
        self
    }

    /// `EXCEPTION_NONCONTINUABLE` in its `ExceptionFlags`.
    pub fn noncontinuable(mut self) -> Self {
        self.flags |= 1;
        self
    }

    /// The fault's return addresses, innermost first (each inside an image): the frame chain a
    /// walker from the fault's context follows, as [`ThreadSpec::call_stack`](crate::ThreadSpec::call_stack)'s.
    ///
    /// # Panics
    ///
    /// With more than [`MAX_CALL_STACK`](crate::MAX_CALL_STACK) addresses.
    pub fn call_stack(mut self, return_addresses: &[usize]) -> Self {
        assert!(
            return_addresses.len() <= super::stack::MAX_CALL_STACK,
            "a call stack of at most MAX_CALL_STACK return addresses"
        );
        self.call_stack = return_addresses.to_vec();
        self
    }

    /// The 32-bit structures (`EXCEPTION_POINTERS32`, `EXCEPTION_RECORD32`, the x86 `CONTEXT`)
    /// that a 32-bit process's exception filter gets, with the fault's frames in 32-bit records
    /// (the instruction and return addresses must then be below 4 GiB): on a 64-bit host, on
    /// the thread's x86 stack in a WOW64 process ([`ProcessSpec::wow64_layout`]), else in a
    /// region of their own at [`X86_CRASH_STACK`]; on a 32-bit host the native layout.
    pub fn x86(mut self) -> Self {
        self.x86 = true;
        self
    }

    /// The thread that raised it.
    pub fn tid(&self) -> u32 {
        self.tid
    }
}

/// A crash as a spawned process holds it ([`ModelProcess::crash`], [`process_crash`]): where the
/// structures are and what a reader must find in them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Crash {
    /// The thread that raised it.
    pub tid: u32,
    /// Where its `EXCEPTION_POINTERS` are: what the crashing process tells its handler.
    pub exception_pointers: usize,
    /// Where its `EXCEPTION_RECORD` is.
    pub record: usize,
    /// Where its `CONTEXT` is.
    pub context: usize,
    /// `ExceptionCode`.
    pub code: u32,
    /// `ExceptionFlags`.
    pub flags: u32,
    /// `ExceptionAddress` (the fault's instruction pointer).
    pub address: usize,
    /// `ExceptionInformation`.
    pub parameters: Vec<usize>,
    /// The fault context's stack and frame pointers.
    pub stack_pointer: usize,
    /// See [`stack_pointer`](Self::stack_pointer).
    pub frame_pointer: usize,
    /// The structures are 32-bit ([`CrashSpec::x86`], or a 32-bit host).
    pub x86: bool,
    /// The frames a walker from the fault context must find, innermost first: the
    /// instruction pointer, then each return address of [`CrashSpec::call_stack`].
    pub expected_frames: Vec<usize>,
}

impl ProcessSpec {
    /// The process has crashed: one of its threads raised `crash`, which is laid out in its
    /// memory when spawned (see the model's crate docs, "A crashed thread"). The thread keeps
    /// its own [`executing_at`](crate::ThreadSpec::executing_at) and
    /// [`call_stack`](crate::ThreadSpec::call_stack): where it waits at capture, in the crash
    /// handler's filter.
    ///
    /// # Panics
    ///
    /// At [`spawn`](Self::spawn), if the process has no thread `crash.tid()`, or the frames do
    /// not fit the thread's stack.
    pub fn crash(mut self, crash: CrashSpec) -> Self {
        self.data.info.crash = Some(Arc::new(crash));
        self
    }
}

impl ModelProcess {
    /// Its crash as laid out ([`process_crash`] of its pid).
    pub fn crash(&self) -> Option<Crash> {
        process_crash(self.pid())
    }
}

/// The crash of process `pid` as laid out at spawn; `None` if it has none or is not in the
/// process table.
pub fn process_crash(pid: u32) -> Option<Crash> {
    let k = super::kernel::lock();
    let crash = k.processes.get(&pid)?.info.crash.as_ref()?;
    crash.laid_out.clone()
}

/// The demo process ([`demo_process`](crate::demo_process)) after a crash: its main thread
/// (`0x1a8`) wrote through a NULL pointer (address `0x18`) in `editor.exe`'s save routine,
/// called from its main loop; at capture it waits in the editor's crash-reporting filter
/// (`NtWaitForSingleObject` under `WaitForSingleObjectEx`, the filter, `UnhandledExceptionFilter`
/// and `KiUserExceptionDispatcher`) for the handler. What `pssdump --demo crash` dumps.
pub fn crashed_demo_process() -> ProcessSpec {
    let editor = addr(0x7ff6_0000_0000, 0x0040_0000);
    let kernel32 = addr(0x7ffb_0000_0000, 0x7600_0000);
    let ntdll = addr(0x7ffc_0000_0000, 0x7700_0000);
    let mut spec = super::demo::demo_process();
    let threads = Arc::make_mut(&mut spec.data.threads);
    if let Some(main) = threads.iter_mut().find(|t| t.tid == 0x1a8) {
        main.registers[0] = ntdll + 0x9_d0e4; // NtWaitForSingleObject
        main.call_stack = Some(vec![
            kernel32 + 0x1_2a3e, // WaitForSingleObjectEx
            editor + 0x3_1c40,   // the crash reporter's exception filter
            kernel32 + 0x5_e2a0, // UnhandledExceptionFilter
            ntdll + 0xa_0490,    // KiUserExceptionDispatcher
        ]);
    }
    spec.crash(
        CrashSpec::access_violation(0x1a8, editor + 0x1_2a40, true, 0x18).call_stack(&[
            editor + 0x1_1c2f,   // the main loop
            kernel32 + 0x1_7614, // BaseThreadInitThunk
            ntdll + 0x5_26f1,    // RtlUserThreadStart
        ]),
    )
}

/// The WOW64 demo process ([`wow64_demo_process`](crate::wow64_demo_process)) after a crash in
/// its 32-bit code (64-bit hosts): its main thread (`0x2a0`) read through a NULL pointer
/// (address `0x4`) in `legacy.exe`, called from its main loop; the 32-bit structures
/// ([`CrashSpec::x86`]) are on its x86 stack, and at capture its x86 code waits in the
/// program's crash filter (`NtWaitForSingleObject` under `WaitForSingleObjectEx`, the filter,
/// `UnhandledExceptionFilter` and `KiUserExceptionDispatcher`, all 32-bit) while its native
/// context is in the WOW64 layer, as the demo's.
#[cfg(target_pointer_width = "64")]
pub fn crashed_wow64_demo_process() -> ProcessSpec {
    use super::wow64::X86ThreadSpec;
    let exe: u32 = 0x0040_0000;
    let kernelbase: u32 = 0x7500_0000;
    let kernel32: u32 = 0x7600_0000;
    let ntdll: u32 = 0x7700_0000;
    let mut spec = super::demo::wow64_demo_process();
    let threads = Arc::make_mut(&mut spec.data.threads);
    if let Some(main) = threads.iter_mut().find(|t| t.tid == 0x2a0) {
        main.x86 = Some(Box::new(
            X86ThreadSpec::new()
                .executing_at(ntdll + 0x7_3a3c) // NtWaitForSingleObject, after the call
                .call_stack(&[
                    kernelbase + 0x1_1fc5,  // WaitForSingleObjectEx
                    exe + 0x3_0c10,         // the program's crash filter
                    kernelbase + 0x14_e5a0, // UnhandledExceptionFilter
                    ntdll + 0x7_4b10,       // KiUserExceptionDispatcher
                ])
                .last_error(183),
        ));
    }
    let (exe, kernel32, ntdll) = (exe as usize, kernel32 as usize, ntdll as usize);
    spec.crash(
        CrashSpec::access_violation(0x2a0, exe + 0x1_3b7e, false, 0x4)
            .x86()
            .call_stack(&[
                exe + 0x1_2a40,      // the main loop
                kernel32 + 0x1_fa29, // BaseThreadInitThunk
                ntdll + 0x6_7b6e,    // RtlUserThreadStart
            ]),
    )
}

/// Lays out `data`'s crash, if it has one: replaces the crashed thread's stack region in
/// `stacks` (or adds one in a free slot; with [`CrashSpec::x86`] on a 64-bit host, adds the
/// region at [`X86_CRASH_STACK`]), sets the thread's stack and frame pointers, and records the
/// result in the spec.
pub(crate) fn lay_out(data: &mut ProcessData, stacks: &mut Vec<RegionSpec>) {
    let Some(spec) = data.info.crash.clone() else {
        return;
    };
    let narrow = cfg!(target_pointer_width = "32");
    let on_x86_stack = spec.x86 && !narrow && wow64_layout(data);
    let threads = Arc::make_mut(&mut data.threads);
    let Some(thread) = threads.iter_mut().find(|t| t.tid == spec.tid) else {
        panic!(
            "ProcessSpec::crash: the process has no thread {:#x}",
            spec.tid
        );
    };
    if on_x86_stack {
        return; // `lay_out_x86`, called by the WOW64 layout for the thread's x86 stack
    }
    let (region, crash) = if spec.x86 && !narrow {
        let (region, crash, _) = build(X86_CRASH_STACK, &spec, true, None);
        (region, crash)
    } else {
        // The thread's own stack: the region `stack.rs` laid out for it, or a free slot.
        let own = stacks
            .iter()
            .position(|r| r.base == thread.stack_base && thread.call_stack.is_some());
        match own {
            Some(i) => {
                stacks.remove(i);
            }
            None => {
                while stacks.iter().any(|r| r.base == thread.stack_base) {
                    thread.stack_base = next_slot(thread.stack_base);
                }
            }
        }
        let calls = thread.call_stack.clone().unwrap_or_default();
        let (region, crash, registers) = build(thread.stack_base, &spec, narrow, Some(&calls));
        if let Some([sp, fp]) = registers {
            thread.registers[1] = sp;
            thread.registers[2] = fp;
        }
        (region, crash)
    };
    stacks.push(region);
    if let Some(spec) = data.info.crash.as_mut() {
        Arc::make_mut(spec).laid_out = Some(crash);
    }
}

/// Is `data` being laid out as a WOW64 process ([`ProcessSpec::wow64_layout`])? Its layout
/// moves the PEB to [`WOW64_PEB64`](crate::WOW64_PEB64) before the native part is laid out, and
/// lays out the x86 stacks after it.
fn wow64_layout(data: &ProcessData) -> bool {
    cfg!(target_pointer_width = "64") && data.info.peb == super::wow64::WOW64_PEB64
}

/// In a WOW64 process, the x86 stack at `base` of thread `tid`, whose own x86 return addresses
/// are `calls`, if it is the thread of an [`x86`](CrashSpec::x86) crash: its region (the 32-bit
/// structures and the fault's x86 frames above the thread's own), ESP and EBP. Records the crash.
pub(crate) fn lay_out_x86(
    info: &mut ProcessInfo,
    tid: u32,
    base: usize,
    calls: &[u32],
) -> Option<(RegionSpec, u32, u32)> {
    let spec = info.crash.as_mut().filter(|c| c.tid == tid && c.x86)?;
    let calls: Vec<usize> = calls.iter().map(|&a| a as usize).collect();
    let (region, crash, registers) = build(base, spec, true, Some(&calls));
    let [esp, ebp] = registers?;
    Arc::make_mut(spec).laid_out = Some(crash);
    Some((region, u32::try_from(esp).ok()?, u32::try_from(ebp).ok()?))
}

/// Writes pointers of `width` bytes; 32-bit ones must fit.
struct Writer {
    b: LeBuf,
    base: usize,
    width: usize,
}

impl Writer {
    /// A pointer-sized `value` at address `at` (in the region).
    fn ptr(&mut self, at: usize, value: usize) {
        let offset = at - self.base;
        if self.width == 8 {
            self.b.u64(offset, value as u64);
        } else {
            let value = u32::try_from(value).unwrap_or_else(|_| {
                panic!("CrashSpec::x86: {value:#x} does not fit a 32-bit pointer")
            });
            self.b.u32(offset, value);
        }
    }
    fn u32(&mut self, at: usize, value: u32) {
        self.b.u32(at - self.base, value);
    }
    fn u16(&mut self, at: usize, value: u16) {
        self.b.u16(at - self.base, value);
    }
    fn bytes(&mut self, at: usize, bytes: &[u8]) {
        self.b.bytes(at - self.base, bytes);
    }
    /// Frame records for `return_addresses` (innermost first) ending with a record of zeros at
    /// `top`: the address of the first.
    fn frames(&mut self, top: usize, return_addresses: &[usize]) -> usize {
        let n = return_addresses.len();
        let record = |i: usize| top - SPACING * (n - i);
        for (i, &ret) in return_addresses.iter().enumerate() {
            self.ptr(record(i), record(i + 1));
            self.ptr(record(i) + self.width, ret);
        }
        self.bytes(top, &vec![0; 2 * self.width]);
        record(0)
    }
}

/// The crash stack at `base`: `x86` structures or the host's, and with `calls` the thread's
/// own frames below them. Returns the region, the crash, and the thread's stack and frame
/// pointers (with `calls`).
fn build(
    base: usize,
    spec: &CrashSpec,
    x86: bool,
    calls: Option<&[usize]>,
) -> (RegionSpec, Crash, Option<[usize; 2]>) {
    let width = if x86 { 4 } else { size_of::<usize>() };
    let mut w = Writer {
        b: LeBuf::default(),
        base,
        width,
    };
    let ip = spec.instruction;
    let fault_fp = w.frames(base + STACK_SIZE - TOP_GAP, &spec.call_stack);
    let fault_sp = fault_fp - LOCALS;
    let count = spec.parameters.len();

    let (context_at, record_at, dispatcher_sp) = if x86 {
        let context_at = (fault_sp & !3) - X86_CONTEXT_SIZE;
        let record_at = context_at - (0x14 + 4 * count);
        // KiUserExceptionDispatcher's arguments: the record, the context.
        w.ptr(record_at - 8, record_at);
        w.ptr(record_at - 4, context_at);
        let mut context = [0u8; X86_CONTEXT_SIZE];
        for (at, value) in [
            (0x00, X86_CONTEXT_FLAGS),
            (0xB4, fault_fp as u32), // Ebp
            (0xB8, ip as u32),       // Eip
            (0xBC, 0x23),            // SegCs
            (0xC0, 0x246),           // EFlags
            (0xC4, fault_sp as u32), // Esp
            (0xC8, 0x2B),            // SegSs
        ] {
            context[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
        w.bytes(context_at, &context);
        (context_at, record_at, record_at - 8)
    } else {
        let size = size_of::<pss_sys::CONTEXT>();
        let frame = (fault_sp - 0x28) & !0xF;
        let record_at = frame - 0xA0;
        let context_ex = frame - 0xC0;
        let context_at = context_ex - size;
        // MACHINE_FRAME: Rip, SegCs, EFlags, Rsp, SegSs.
        w.ptr(frame, ip);
        w.u16(frame + 0x8, 0x33);
        w.u32(frame + 0x10, 0x246);
        w.ptr(frame + 0x18, fault_sp);
        w.u16(frame + 0x20, 0x2B);
        // CONTEXT_EX: All (from the CONTEXT to the fault's stack), Legacy (the CONTEXT), XState
        // (none), each an offset from the CONTEXT_EX and a length.
        let legacy = -(size as i32) as u32;
        for (at, value) in [
            (0x0, legacy),
            (0x4, (fault_sp - context_at) as u32),
            (0x8, legacy),
            (0xC, size as u32),
            (0x10, (fault_sp - context_ex) as u32),
            (0x14, 0),
        ] {
            w.u32(context_ex + at, value);
        }
        let context = context_record(size, HOST_CONTEXT_ALL, [ip, fault_sp, fault_fp]);
        w.bytes(context_at, &context);
        (context_at, record_at, context_at)
    };
    // The record: code, flags, no nested record, address, the parameters.
    w.u32(record_at, spec.code);
    w.u32(record_at + 4, spec.flags);
    w.ptr(record_at + 8, 0);
    w.ptr(record_at + 8 + width, ip);
    w.u32(record_at + 8 + 2 * width, count as u32);
    let parameters_at = record_at + if x86 { 0x14 } else { 0x20 };
    for (i, &value) in spec.parameters.iter().enumerate() {
        w.ptr(parameters_at + i * width, value);
    }
    // The EXCEPTION_POINTERS the filter is given.
    let pointers = (dispatcher_sp - POINTERS_BELOW) & !0xF;
    w.ptr(pointers, record_at);
    w.ptr(pointers + width, context_at);

    let registers = calls.map(|calls| {
        let top = (pointers - SCAN_GAP) & !0xF;
        let lowest = (top - base).checked_sub(SPACING * calls.len() + LOCALS);
        assert!(
            lowest.is_some_and(|lowest| lowest >= TOP_GAP),
            "ProcessSpec::crash: the thread's and the fault's frames do not fit its stack"
        );
        let fp = w.frames(top, calls);
        [fp - LOCALS, fp]
    });
    let crash = Crash {
        tid: spec.tid,
        exception_pointers: pointers,
        record: record_at,
        context: context_at,
        code: spec.code,
        flags: spec.flags,
        address: ip,
        parameters: spec.parameters.clone(),
        stack_pointer: fault_sp,
        frame_pointer: fault_fp,
        x86,
        expected_frames: std::iter::once(ip)
            .chain(spec.call_stack.iter().copied())
            .collect(),
    };
    let region = RegionSpec::private(base, STACK_SIZE).contents(&w.b.0);
    (region, crash, registers)
}
