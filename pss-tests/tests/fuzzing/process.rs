//! An [`Input`] made into a model process, spawned, its memory patched, and captured.
//!
//! The address space the input lays out is a window below the PEB ([`PEB_ADDRESS`], where
//! every model process has it): the input's regions in its first 15 MiB, the PEB's region
//! (the model's, or a raw one the input fills) in the last MiB and the PEB's page. Addresses
//! the input gives (stack and frame pointers, return addresses, auxiliary pages, reads) are
//! offsets into the window, so pointers that the fuzzer writes into memory and pointers it
//! gives as fields meet. The kernel's side (the layout, the walks' entries) stays as Windows
//! makes it: regions that do not overlap, one thread per id; only the model's hostile entries,
//! when asked for, are malformed. Everything in memory is the input's.
//!
//! The harness never misuses the model: every builder assertion (contents within a region, a
//! non-zero chunk, at most `MAX_CALL_STACK` return addresses, writes inside a region) holds by
//! construction.

use pss::{CaptureFlags, LocalSnapshot, ProcessAccess, VmAllocated};
use pss_tests::model::{
    AuxPageSpec, HandleSpec, ModelProcess, PEB_ADDRESS, ProcessSpec, RegionSpec, ThreadSpec,
};

use super::input::{Input, option, thread_flag};

const PAGE: usize = 0x1000;

/// Bytes of the window below the PEB's page.
pub const WINDOW: usize = 0x100_0000;

/// The window's last bytes below the PEB's page, kept for the PEB's region (the model's holds
/// the loader data and the TEBs: at most about 0x14000 bytes for the inputs' bounds).
pub const ENVIRONMENT: usize = 0x10_0000;

/// Pages the input's regions can start in.
const REGION_PAGES: usize = (WINDOW - ENVIRONMENT) / PAGE;

/// Where the window starts.
pub fn window_base() -> usize {
    PEB_ADDRESS - WINDOW
}

/// The address `offset` bytes into the window (modulo the window and the PEB's page).
pub fn in_window(offset: u64) -> usize {
    window_base() + (offset % (WINDOW + PAGE) as u64) as usize
}

/// A spawned model process and a snapshot of it, heap-allocated or in VM allocations.
pub struct Captured {
    pub snapshot: Snapshot,
    /// The thread ids, in the thread list's order.
    pub tids: Vec<u32>,
    // Dropped after the snapshot (fields drop in order): the process handle, then the
    // process.
    _handle: pss::Process,
    _process: ModelProcess,
}

/// The snapshot, by where its entries live.
pub enum Snapshot {
    Heap(LocalSnapshot),
    Vm(LocalSnapshot<VmAllocated>),
}

/// The input's process: spawned, its memory patched, captured with the flags the input's
/// options leave. `None` if the capture fails (as it may for a process without regions, say):
/// there is then nothing to read.
pub fn capture(input: &Input) -> Option<Captured> {
    let (spec, tids) = spec(input);
    let process = spec.spawn();
    patch(&process, input);
    let flags = capture_flags(input);
    let handle = pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).ok()?;
    let snapshot = if input.options & option::VM_ALLOCATIONS != 0 {
        Snapshot::Vm(LocalSnapshot::<VmAllocated>::capture_vm(&handle, flags).ok()?)
    } else {
        Snapshot::Heap(LocalSnapshot::capture(&handle, flags).ok()?)
    };
    Some(Captured {
        snapshot,
        tids,
        _handle: handle,
        _process: process,
    })
}

/// `CaptureFlags::MINIDUMP` less what the options leave out (handles too when the process has
/// none: Windows fails such a capture, and no real process has no handles).
pub fn capture_flags(input: &Input) -> CaptureFlags {
    let on = |bit: u16| input.options & bit != 0;
    let handles = CaptureFlags::HANDLES
        | CaptureFlags::HANDLE_NAME_INFORMATION
        | CaptureFlags::HANDLE_BASIC_INFORMATION
        | CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION
        | CaptureFlags::HANDLE_TRACE;
    let contexts = CaptureFlags::THREAD_CONTEXT | CaptureFlags::THREAD_CONTEXT_EXTENDED;
    let mut flags = CaptureFlags::MINIDUMP;
    if on(option::NO_VA_CLONE) {
        flags -= CaptureFlags::VA_CLONE;
    }
    if on(option::NO_VA_SPACE) {
        flags -= CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    }
    if on(option::NO_SECTION_INFORMATION) {
        flags -= CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    }
    if on(option::NO_HANDLES) || input.handles.is_empty() {
        flags -= handles;
    }
    if on(option::NO_THREADS) {
        flags -= CaptureFlags::THREADS | contexts;
    }
    if on(option::NO_THREAD_CONTEXT) {
        flags -= contexts;
    }
    if !on(option::EXTENDED_CONTEXT) {
        flags -= CaptureFlags::THREAD_CONTEXT_EXTENDED;
    }
    if on(option::AUXILIARY_PAGES) {
        flags |= CaptureFlags::AUXILIARY_PAGES;
    }
    flags
}

/// The process the input describes, and its threads' ids in order.
fn spec(input: &Input) -> (ProcessSpec, Vec<u32>) {
    let on = |bit: u16| input.options & bit != 0;
    let mut spec = ProcessSpec::new().image(r"C:\fuzz\target.exe");
    if on(option::HOSTILE) {
        spec = spec.hostile();
    }
    if on(option::THREAD_NAMES) {
        spec = spec.thread_names();
    }
    if on(option::HANDLE_TRACING) {
        spec = spec.handle_tracing();
    }
    if input.read_chunk != 0 {
        spec = spec.read_chunk(usize::from(input.read_chunk) * 64);
    }
    for region in regions(input) {
        spec = spec.region(region);
    }
    if on(option::WITH_PEB) {
        spec = spec.with_peb();
    } else if input.environment_pages != 0 {
        let below = usize::from(input.environment_pages) * PAGE;
        spec = spec.region(RegionSpec::private(PEB_ADDRESS - below, below + PAGE));
    }
    let mut tids = Vec::new();
    for t in &input.threads {
        let tid = u32::from(t.tid);
        if tids.contains(&tid) {
            continue; // one thread per id, as on Windows
        }
        tids.push(tid);
        spec = spec.thread(thread(t));
    }
    for (i, h) in input.handles.iter().enumerate() {
        spec = spec.handle(handle(i, h));
    }
    for page in &input.pages {
        let address = in_window(u64::from(page.address));
        spec = spec.aux_page(if page.contents.is_empty() {
            AuxPageSpec::without_contents(address)
        } else {
            AuxPageSpec::with_contents(address, page.contents.clone())
        });
    }
    (spec, tids)
}

/// The input's regions, in address order, each cut to the window and left out if it overlaps
/// an earlier one.
fn regions(input: &Input) -> Vec<RegionSpec> {
    let mut placed: Vec<(usize, usize, usize)> = input
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let start = usize::from(r.page) % REGION_PAGES;
            let end = (start + 1 + usize::from(r.pages) % 16).min(REGION_PAGES);
            (start, end, i)
        })
        .collect();
    placed.sort_by_key(|&(start, _, i)| (start, i));
    let mut regions = Vec::new();
    let mut free_from = 0;
    for (start, end, i) in placed {
        if start < free_from {
            continue;
        }
        free_from = end;
        let r = &input.regions[i];
        let (base, size) = (window_base() + start * PAGE, (end - start) * PAGE);
        let named = |default: String| {
            if r.name.is_empty() {
                default
            } else {
                String::from_utf8_lossy(&r.name).into_owned()
            }
        };
        regions.push(match r.kind % 8 {
            0 => RegionSpec::private(base, size),
            1 => RegionSpec::image(
                base,
                size,
                &named(format!(r"\Device\HarddiskVolume3\fuzz\module{i}.dll")),
            ),
            2 => RegionSpec::mapped(
                base,
                size,
                &named(format!(r"\Device\HarddiskVolume3\fuzz\data{i}.bin")),
            ),
            3 => RegionSpec::shared(base, size),
            4 => RegionSpec::reserved(base, size),
            5 => RegionSpec::private(base, size).protection(pss::sys::PAGE_NOACCESS),
            6 => RegionSpec::private(base, size)
                .protection(pss::sys::PAGE_READWRITE | pss::sys::PAGE_GUARD),
            _ => RegionSpec::private(base, size).protection(pss::sys::PAGE_READONLY),
        });
    }
    regions
}

fn thread(t: &super::input::Thread) -> ThreadSpec {
    let on = |bit: u8| t.flags & bit != 0;
    let registers = [
        t.instruction as usize,
        in_window(u64::from(t.stack)),
        in_window(u64::from(t.frame)),
    ];
    let mut spec = ThreadSpec::new(u32::from(t.tid))
        .registers(registers[0], registers[1], registers[2])
        .last_error(t.last_error);
    if on(thread_flag::TERMINATED) {
        spec = spec.terminated(0);
    }
    if on(thread_flag::SUSPENDED) {
        spec = spec.suspended(1);
    }
    if on(thread_flag::CONTEXT_UNREADABLE) {
        spec = spec.context_unreadable();
    }
    if !t.name.is_empty() {
        spec = spec.named(&String::from_utf8_lossy(&t.name));
    }
    if let Some(c) = &t.context {
        let length = usize::from(c.length) % (size_of::<pss::sys::CONTEXT>() + 1024 + 1);
        let mut record = context_record(length, c.flags, registers);
        let n = c.bytes.len().min(length);
        record[..n].copy_from_slice(&c.bytes[..n]);
        let misalign = if on(thread_flag::MISALIGNED_CONTEXT) {
            8
        } else {
            0
        };
        spec = spec.context_record(record, misalign);
    }
    if let Some(call_stack) = &t.call_stack {
        let addresses: Vec<usize> = call_stack
            .iter()
            .map(|&o| in_window(u64::from(o)))
            .collect();
        spec = spec.call_stack(&addresses);
    }
    spec
}

/// A context record of `length` bytes: the host's `CONTEXT` with `flags` and the instruction,
/// stack and frame pointer at their offsets (where they fit), zeros elsewhere.
fn context_record(length: usize, flags: u32, [ip, sp, fp]: [usize; 3]) -> Vec<u8> {
    use pss::sys::CONTEXT;
    use std::mem::offset_of;
    let mut record = vec![0u8; length];
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(slot) = record.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    };
    put(offset_of!(CONTEXT, ContextFlags), &flags.to_le_bytes());
    #[cfg(target_arch = "x86_64")]
    {
        put(offset_of!(CONTEXT, Rip), &(ip as u64).to_le_bytes());
        put(offset_of!(CONTEXT, Rsp), &(sp as u64).to_le_bytes());
        put(offset_of!(CONTEXT, Rbp), &(fp as u64).to_le_bytes());
    }
    #[cfg(target_arch = "x86")]
    {
        put(offset_of!(CONTEXT, Eip), &(ip as u32).to_le_bytes());
        put(offset_of!(CONTEXT, Esp), &(sp as u32).to_le_bytes());
        put(offset_of!(CONTEXT, Ebp), &(fp as u32).to_le_bytes());
    }
    #[cfg(target_arch = "aarch64")]
    {
        // The frame pointer (x29) is in a union; the bytes the input lays over set it.
        let _ = fp;
        put(offset_of!(CONTEXT, Pc), &(ip as u64).to_le_bytes());
        put(offset_of!(CONTEXT, Sp), &(sp as u64).to_le_bytes());
    }
    record
}

fn handle(i: usize, h: &super::input::Handle) -> HandleSpec {
    let value = usize::from(h.value) << 2;
    let mut spec = match h.kind % 8 {
        0 => HandleSpec::other(value, "File"),
        1 => HandleSpec::other(value, "Key"),
        2 => HandleSpec::process(value, 0x1000 + 4 * i as u32, 0x4),
        3 => HandleSpec::thread(value, 0x1000, 0x2000 + 4 * i as u32),
        4 => HandleSpec::mutant(value, 0, false),
        5 => HandleSpec::event(value, true, false),
        6 => HandleSpec::section(value, 0x1_0000),
        _ => HandleSpec::semaphore(value, 1, 8),
    };
    if !h.name.is_empty() {
        spec = spec.named(&String::from_utf8_lossy(&h.name));
    }
    if h.flags & 1 != 0 {
        spec = spec.not_duplicable();
    }
    if h.flags & 2 != 0 {
        spec = spec.type_unqueryable();
    }
    if h.flags & 4 != 0 {
        spec = spec.no_type_specific_data();
    }
    spec
}

/// Writes the input's patches into the spawned process's regions (as the process itself
/// would, before the capture).
fn patch(process: &ModelProcess, input: &Input) {
    if input.patches.is_empty() {
        return;
    }
    let regions = process.regions();
    if regions.is_empty() {
        return;
    }
    for p in &input.patches {
        let region = &regions[usize::from(p.region) % regions.len()];
        let offset = p.offset as usize % region.size();
        let n = p.bytes.len().min(region.size() - offset);
        if n > 0 {
            process.write_memory(region.base() + offset, &p.bytes[..n]);
        }
    }
}
