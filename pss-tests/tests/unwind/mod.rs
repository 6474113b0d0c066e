//! Shared by the tests that read dumps back (`mod unwind;`): walks every thread of a minidump
//! with rust-minidump's own stack walker (`minidump-unwind`), without symbols, as crash tools
//! do when they have none: from the context, then by frame pointers, then by scanning the stack
//! for return addresses.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use minidump::{
    CrashReason, Minidump, MinidumpMiscInfo, MinidumpModuleList, MinidumpSystemInfo,
    MinidumpThreadList, UnifiedMemoryList,
};
use minidump_unwind::{CallStack, CallStackInfo, FrameTrust, MultiSymbolProvider, SystemInfo};

/// One frame a walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The address the frame is attributed to (a caller's: its return address minus one
    /// instruction's worth, inside the call).
    pub instruction: u64,
    /// Where execution resumes in it: the context's instruction pointer, or the return address.
    pub resume_address: u64,
    /// How the walker found it (`Context`, `FramePointer`, `Scan`, ...).
    pub trust: FrameTrust,
}

/// One thread of a dump, walked.
#[derive(Debug)]
#[allow(dead_code)] // not every test that walks reads every field
pub struct WalkedThread {
    /// Its id.
    pub id: u32,
    /// Its TEB's address, as the dump records it.
    pub teb: u64,
    /// Its stack memory in the dump: start and length.
    pub stack: Option<(u64, u64)>,
    /// Its stack pointer, from its context.
    pub stack_pointer: Option<u64>,
    /// Its frames, innermost first (none without a context).
    pub frames: Vec<Frame>,
    /// `GetLastError()` as its TEB in the dump's memory holds it.
    pub last_error: Option<CrashReason>,
}

/// Polls `future` until it is ready. `walk_stack` is `async` for symbol providers that fetch
/// files; without symbols nothing it awaits ever waits, so a no-op waker suffices (a future
/// that kept waiting would be a bug here, and fails the test instead of hanging it).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("walk_stack kept waiting without symbols to fetch");
}

/// Walks every thread of `dump`.
pub fn walk(dump: &Minidump<'_, Vec<u8>>) -> Vec<WalkedThread> {
    let system: MinidumpSystemInfo = dump.get_stream().expect("a system info stream");
    let misc: Option<MinidumpMiscInfo> = dump.get_stream().ok();
    let threads: MinidumpThreadList<'_> = dump.get_stream().expect("a thread list");
    let modules: MinidumpModuleList = dump.get_stream().expect("a module list");
    let memory = dump.get_memory().unwrap_or_default();
    let info = SystemInfo {
        os: system.os,
        os_version: None,
        os_build: None,
        cpu: system.cpu,
        cpu_info: None,
        cpu_microcode_version: None,
        cpu_count: usize::from(system.raw.number_of_processors),
    };
    let symbols = MultiSymbolProvider::new(); // no symbols at all
    threads
        .threads
        .iter()
        .enumerate()
        .map(|(i, thread)| {
            let id = thread.raw.thread_id;
            let context = thread.context(&system, misc.as_ref());
            let stack_pointer = context.as_ref().map(|c| c.get_stack_pointer());
            let mut stack = match context {
                Some(context) => CallStack::with_context(context.into_owned()),
                None => CallStack::with_info(id, CallStackInfo::MissingContext),
            };
            let stack_memory = thread.stack_memory(&memory);
            block_on(minidump_unwind::walk_stack(
                i,
                (),
                &mut stack,
                stack_memory,
                &modules,
                &info,
                &symbols,
            ));
            WalkedThread {
                id,
                teb: thread.raw.teb,
                stack: stack_memory
                    .and_then(|m| m.memory_range())
                    .map(|r| (r.start, r.end - r.start + 1)),
                stack_pointer,
                frames: stack
                    .frames
                    .iter()
                    .map(|f| Frame {
                        instruction: f.instruction,
                        resume_address: f.resume_address,
                        trust: f.trust,
                    })
                    .collect(),
                last_error: thread.last_error(system.cpu, &memory),
            }
        })
        .collect()
}

/// The memory list of `dump` (empty without one).
#[allow(dead_code)] // not every test that walks reads memory
pub fn memory<'a>(dump: &'a Minidump<'a, Vec<u8>>) -> UnifiedMemoryList<'a> {
    dump.get_memory().unwrap_or_default()
}

/// The loader's modules as a debugger finds them in a dump's memory: the first thread's TEB,
/// its PEB pointer, `PEB.Ldr`, then `InLoadOrderModuleList`, each entry's `DllBase` and
/// `FullDllName` (Windows' offsets, written out here independently of both writers). `None` if
/// any of it is not in the dump's memory.
#[allow(dead_code)] // not every test that walks reads the loader list
pub fn loader_modules(dump: &Minidump<'_, Vec<u8>>) -> Option<Vec<(u64, String)>> {
    let system: MinidumpSystemInfo = dump.get_stream().ok()?;
    let wide = system.raw.processor_architecture != 0;
    let pointer = if wide { 8 } else { 4 };
    let memory = dump.get_memory()?;
    let read = |address: u64, len: usize| -> Option<Vec<u8>> {
        let region = memory.memory_at_address(address)?;
        let start = usize::try_from(address - region.base_address()).ok()?;
        region.bytes().get(start..start + len).map(<[u8]>::to_vec)
    };
    let word = |address: u64| -> Option<u64> {
        let bytes = read(address, pointer)?;
        let mut full = [0u8; 8];
        full[..pointer].copy_from_slice(&bytes);
        Some(u64::from_le_bytes(full))
    };
    let threads: MinidumpThreadList<'_> = dump.get_stream().ok()?;
    let teb = threads.threads.first()?.raw.teb;
    let peb = word(teb + if wide { 0x60 } else { 0x30 })?;
    let ldr = word(peb + if wide { 0x18 } else { 0x0C })?;
    let head = ldr + if wide { 0x10 } else { 0x0C };
    let (base_at, name_at) = if wide { (0x30, 0x48) } else { (0x18, 0x24) };
    let mut modules = Vec::new();
    let mut link = word(head)?;
    while link != head && modules.len() < 1024 {
        let base = word(link + base_at)?;
        let length = u16::from_le_bytes(read(link + name_at, 2)?.try_into().ok()?);
        let buffer = word(link + name_at + pointer as u64)?;
        let units: Vec<u16> = read(buffer, usize::from(length))?
            .chunks_exact(2)
            .map(|u| u16::from_le_bytes([u[0], u[1]]))
            .collect();
        modules.push((base, String::from_utf16_lossy(&units)));
        link = word(link)?;
    }
    Some(modules)
}
