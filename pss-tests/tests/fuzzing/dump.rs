//! The dump writer over an input's process: a small and a full dump, each written to memory
//! with its heap measured, then read back with rust-minidump and compared with the summary and
//! the VA clone.

use std::borrow::Cow;

use minidump::{
    Minidump, MinidumpException, MinidumpHandleDataStream, MinidumpMemory64List,
    MinidumpMemoryInfoList, MinidumpMemoryList, MinidumpMiscInfo, MinidumpModuleList,
    MinidumpSystemInfo, MinidumpThreadList, MinidumpThreadNames, Module,
};
use pss::{
    Allocation, DEFAULT_STACK_LIMIT, DumpException, DumpSummary, LocalSnapshot, VaClone, sys,
};

use super::heap::{self, HEAP_BOUND, Sink};
use super::input::{Exception, Input};

/// Writes both dumps of `snapshot` and checks them (see the module docs); panics on a finding.
/// Returns their summaries, small then full.
pub fn check<A: Allocation>(
    snapshot: &LocalSnapshot<A>,
    input: &Input,
    tids: &[u32],
) -> Vec<DumpSummary> {
    let stack_limit = match input.stack_limit {
        0 => DEFAULT_STACK_LIMIT,
        1 => 0,
        n => usize::from(n) * 0x100,
    };
    let exception = input.exception.as_ref().map(|x| Fault::new(x, tids));
    let mut summaries = Vec::new();
    for full in [false, true] {
        let mut writer = snapshot.minidump().stack_limit(stack_limit);
        if full {
            writer = writer.full_memory();
        }
        if let Some(fault) = &exception {
            writer = writer.exception(fault.exception());
        }
        let mut sink = Sink::default();
        let (result, peak) = heap::measure(|| writer.write_to(&mut sink));
        let kind = if full { "full" } else { "small" };
        assert!(
            peak <= HEAP_BOUND,
            "the {kind} dump's writer held {peak} bytes of heap at once (bound {HEAP_BOUND})"
        );
        let summary = result.unwrap_or_else(|e| panic!("the {kind} dump failed: {e}"));
        let bytes = sink.into_inner();
        assert_eq!(
            summary.bytes,
            bytes.len() as u64,
            "the {kind} dump's summary counts every byte"
        );
        let clone = snapshot.va_clone().ok();
        read_back(bytes, &summary, full, exception.is_some(), clone.as_ref());
        summaries.push(summary);
    }
    summaries
}

/// The exception an input asks for, with what it borrows.
struct Fault {
    thread_id: u32,
    code: u32,
    flags: u32,
    address: usize,
    parameters: Vec<usize>,
    context: Option<Box<sys::CONTEXT>>,
}

impl Fault {
    fn new(x: &Exception, tids: &[u32]) -> Self {
        Fault {
            thread_id: tids
                .get(usize::from(x.thread))
                .copied()
                .unwrap_or(0xF000 | u32::from(x.thread)),
            code: x.code,
            flags: x.flags,
            address: x.address as usize,
            parameters: x.parameters.iter().map(|&p| p as usize).collect(),
            context: x.context.as_deref().map(context),
        }
    }

    fn exception(&self) -> DumpException<'_> {
        let mut exception = DumpException::new(self.thread_id, self.code, self.address)
            .parameters(&self.parameters);
        exception.flags = self.flags;
        if let Some(context) = &self.context {
            exception = exception.context(context);
        }
        exception
    }
}

/// A `CONTEXT` whose first bytes are `bytes` and the rest zeros: every byte initialised (a
/// `CONTEXT` built field by field may leave union bytes uninitialised, which is the writer's
/// concern and tested elsewhere; here the fuzzer chooses every byte).
fn context(bytes: &[u8]) -> Box<sys::CONTEXT> {
    let mut context = Box::new(std::mem::MaybeUninit::<sys::CONTEXT>::zeroed());
    let n = bytes.len().min(size_of::<sys::CONTEXT>());
    // SAFETY: the box holds `size_of::<CONTEXT>()` writable bytes, of which `n` are written.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), context.as_mut_ptr().cast::<u8>(), n);
    }
    // SAFETY: every byte is initialised (zeroed, then copied), and `CONTEXT` holds only
    // integers, arrays and unions of integers, for which any bytes are a valid value.
    unsafe { context.assume_init() }
}

/// A stream of the dump: `None` if absent; a stream that is there but does not parse is a
/// finding.
fn stream<'a, S: minidump::MinidumpStream<'a>>(
    dump: &'a Minidump<'static, Vec<u8>>,
    name: &str,
) -> Option<S> {
    match dump.get_stream::<S>() {
        Ok(stream) => Some(stream),
        Err(minidump::Error::StreamNotFound) => None,
        Err(e) => panic!("rust-minidump cannot read the {name} stream: {e}"),
    }
}

fn read_back(
    bytes: Vec<u8>,
    summary: &DumpSummary,
    full: bool,
    exception: bool,
    clone: Option<&VaClone<'_>>,
) {
    let dump = Minidump::read(bytes)
        .unwrap_or_else(|e| panic!("rust-minidump cannot read the dump: {e} ({summary:?})"));
    let system: MinidumpSystemInfo =
        stream(&dump, "system information").expect("a system information stream");
    let misc: MinidumpMiscInfo = stream(&dump, "misc information").expect("a misc stream");
    let threads: MinidumpThreadList<'_> =
        stream(&dump, "thread list").expect("a thread list stream");
    assert_eq!(threads.threads.len(), summary.threads, "threads");
    for thread in &threads.threads {
        if thread.raw.thread_context.data_size > 0 {
            assert!(
                thread.context(&system, Some(&misc)).is_some(),
                "rust-minidump cannot read thread {:#x}'s context",
                thread.raw.thread_id
            );
        }
    }
    if let Some(names) = stream::<MinidumpThreadNames>(&dump, "thread names") {
        for thread in &threads.threads {
            let _ = names.get_name(thread.raw.thread_id).map(Cow::into_owned);
        }
    }
    let modules: MinidumpModuleList = stream(&dump, "module list").unwrap_or_default();
    assert_eq!(modules.iter().count(), summary.modules, "modules");
    let mut with_codeview = 0;
    for module in modules.iter() {
        let _ = (module.code_file(), module.code_identifier());
        let _ = (module.debug_file(), module.debug_identifier());
        with_codeview += usize::from(module.raw.cv_record.data_size > 0);
    }
    assert_eq!(
        with_codeview, summary.modules_with_codeview,
        "CodeView records"
    );
    if let Some(info) = stream::<MinidumpMemoryInfoList<'_>>(&dump, "memory info list") {
        for region in info.iter() {
            let _ = (region.is_readable(), region.is_executable());
        }
    }
    if let Some(handles) = stream::<MinidumpHandleDataStream>(&dump, "handle data") {
        assert_eq!(handles.handles.len(), summary.handles, "handles");
    }
    let mut ranges = 0;
    let mut compare = |address: u64, bytes: &[u8]| {
        ranges += 1;
        let Some(clone) = clone else {
            panic!("memory at {address:#x} in a dump of a snapshot without a VA clone");
        };
        // The first 4 KiB of each range: enough to catch a wrong address or offset.
        let n = bytes.len().min(0x1000);
        let mut expected = vec![0u8; n];
        let address = usize::try_from(address).expect("an address of this host");
        clone
            .read_exact(address, &mut expected)
            .unwrap_or_else(|e| {
                panic!("the dump holds memory at {address:#x} the clone lacks: {e}")
            });
        assert_eq!(&bytes[..n], &expected[..], "memory at {address:#x}");
    };
    match stream::<MinidumpMemory64List<'_>>(&dump, "memory64 list") {
        Some(memory) => {
            assert!(full, "a Memory64 list in a small dump");
            for range in memory.iter() {
                compare(range.base_address, range.bytes);
            }
            assert!(
                stream::<MinidumpMemoryList<'_>>(&dump, "memory list").is_none(),
                "a full dump has one memory list"
            );
        }
        None => {
            let memory: MinidumpMemoryList<'_> =
                stream(&dump, "memory list").expect("a memory list stream");
            for range in memory.iter() {
                compare(range.base_address, range.bytes);
            }
        }
    }
    assert_eq!(ranges, summary.memory_ranges, "memory ranges");
    match stream::<MinidumpException<'_>>(&dump, "exception") {
        Some(x) => {
            assert!(exception, "an exception stream nobody asked for");
            if x.raw.thread_context.data_size > 0 {
                assert!(
                    x.context(&system, Some(&misc)).is_some(),
                    "rust-minidump cannot read the exception's context"
                );
            }
            let _ = x.get_crash_address(system.os, system.cpu);
        }
        None => assert!(!exception, "no exception stream"),
    }
}
