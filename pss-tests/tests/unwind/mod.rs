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
fn block_on<F: Future>(future: F) -> F::Output {
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
