//! dbghelp's `MiniDumpWriteDump`, for a snapshot (or a live model process), writing a real
//! minidump file that an independent reader can open; and the files it writes to.
//!
//! For a snapshot, dbghelp needs the `HPSS` as the process handle, the snapshot's process id,
//! and a callback that answers `IsProcessSnapshotCallback` with `S_FALSE` (Microsoft's page
//! "Generate Dump File from a Process Snapshot"). It then writes what the snapshot holds:
//! threads (ids, contexts, TEB addresses, stacks), modules (image regions, named with section
//! information, identified by the CodeView records and PE values of their headers in the
//! clone), the address space, handles, and memory read from the VA clone, as the dump type asks
//! (which memory: `dump_memory`). The model
//! is loud about protocol misuse: a process handle that is neither a snapshot nor a process, a
//! process id that is not the snapshot's, a callback that does not answer, a read-only or
//! invalid file, and a second call while one runs (dbghelp is single-threaded). Failures are
//! reported as dbghelp does: `FALSE`, with an `HRESULT` as the last error.

use super::capture::{Captured, covers};
use super::data::{ProcessData, RegionSpec, ThreadSpec};
use super::kernel::{self, CURRENT_PID, HandleObject, KernelHandle, Object, misuse};
use super::process::set_last_error;
use pss_sys::minidump::*;
use pss_sys::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A file handle of the model, closed with `CloseHandle` when dropped.
#[derive(Debug)]
pub struct ModelFile(HANDLE);

impl ModelFile {
    /// The handle, still owned by this value.
    pub fn as_raw_handle(&self) -> HANDLE {
        self.0
    }

    /// Gives the handle up: the caller closes it with `CloseHandle`.
    pub fn into_raw_handle(self) -> HANDLE {
        let handle = self.0;
        std::mem::forget(self);
        handle
    }
}

impl Drop for ModelFile {
    fn drop(&mut self) {
        super::process::CloseHandle(self.0);
    }
}

// SAFETY: a handle value of the model; the model's state is behind its lock.
unsafe impl Send for ModelFile {}

/// A writable file at `path`, created (or truncated) now, as a handle of this process that
/// `MiniDumpWriteDump` accepts: what `CreateFileW` with `GENERIC_WRITE` and `CREATE_ALWAYS`
/// gives, and fails as it does (the Win32 code: `ERROR_PATH_NOT_FOUND` for a missing
/// directory, ...).
pub fn create_file(path: &Path) -> Result<ModelFile, u32> {
    let wide: Vec<u16> = path.to_string_lossy().encode_utf16().chain([0]).collect();
    let handle = super::files::CreateFileW(
        wide.as_ptr(),
        GENERIC_WRITE,
        0,
        std::ptr::null(),
        CREATE_ALWAYS,
        FILE_ATTRIBUTE_NORMAL,
        std::ptr::null_mut(),
    );
    if handle == INVALID_HANDLE_VALUE {
        Err(super::process::GetLastError())
    } else {
        Ok(ModelFile(handle))
    }
}

/// A handle to `path` opened for reading only: `MiniDumpWriteDump` to it is misuse.
pub fn open_file_read_only(path: &Path) -> ModelFile {
    ModelFile(file_handle(path, false))
}

pub(crate) fn file_handle(path: &Path, writable: bool) -> HANDLE {
    let value = kernel::lock().issue_handle(KernelHandle {
        object: HandleObject::File {
            path: path.to_path_buf(),
            writable,
        },
        access: if writable { 0x4000_0000 } else { 0x8000_0000 },
        owner: super::data::me(),
    });
    kernel::handle(value)
}

/// `HRESULT_FROM_WIN32(code)`, as dbghelp leaves it in the last error.
fn hresult(code: u32) -> u32 {
    0x8007_0000 | (code & 0xFFFF)
}

/// One `MiniDumpWriteDump` call at a time, process-wide.
static DUMPING: AtomicBool = AtomicBool::new(false);

/// What a dump is written from.
struct Source {
    process_id: u32,
    data: Arc<Captured>,
    /// Where memory is read: the snapshot's VA clone, or the live process.
    memory: Option<ProcessData>,
}

#[unsafe(no_mangle)]
pub extern "system" fn MiniDumpWriteDump(
    hprocess: HANDLE,
    processid: u32,
    hfile: HANDLE,
    dumptype: MINIDUMP_TYPE,
    _exceptionparam: *const MINIDUMP_EXCEPTION_INFORMATION,
    _userstreamparam: *const MINIDUMP_USER_STREAM_INFORMATION,
    callbackparam: *const MINIDUMP_CALLBACK_INFORMATION,
) -> BOOL {
    const CALL: &str = "MiniDumpWriteDump";
    let lock = super::mutex::backtrace_mutex_name();
    if super::mutex::mutex_owner(&lock) != Some(super::data::me()) {
        misuse(
            CALL,
            format!(
                "called without holding {lock}, the mutex Rust's backtrace code takes around dbghelp: another thread's backtrace could run dbghelp at the same time"
            ),
        );
    }
    if DUMPING.swap(true, Ordering::Acquire) {
        misuse(
            CALL,
            "called while another call runs: dbghelp is single-threaded (serialise the calls)",
        );
    }
    let result = write_dump(hprocess, processid, hfile, dumptype as u32, callbackparam);
    DUMPING.store(false, Ordering::Release);
    match result {
        Ok(()) => 1,
        Err(code) => {
            set_last_error(code);
            0
        }
    }
}

fn write_dump(
    hprocess: HANDLE,
    processid: u32,
    hfile: HANDLE,
    dump_type: u32,
    callback: *const MINIDUMP_CALLBACK_INFORMATION,
) -> Result<(), u32> {
    const CALL: &str = "MiniDumpWriteDump";
    let (source, path, is_snapshot) = {
        let mut e = kernel::enter(CALL);
        let k = e.k();
        let path = match k.objects.get(&hfile.addr()) {
            Some(Object::Handle(KernelHandle {
                object: HandleObject::File { path, writable },
                ..
            })) => {
                if !writable {
                    misuse(
                        CALL,
                        format!("{} was opened for reading only", path.display()),
                    );
                }
                path.clone()
            }
            _ => misuse(CALL, format!("{:#x} is not a file handle", hfile.addr())),
        };
        match k.objects.get(&hprocess.addr()) {
            Some(Object::Snapshot(s)) => {
                if s.context != CURRENT_PID {
                    misuse(CALL, "the snapshot lives in another process");
                }
                if s.data.process.pid != processid {
                    misuse(
                        CALL,
                        format!(
                            "process id {processid} is not the snapshot's ({})",
                            s.data.process.pid
                        ),
                    );
                }
                let memory = s.clone_pid.and_then(|pid| k.processes.get(&pid).cloned());
                let source = Source {
                    process_id: processid,
                    data: s.data.clone(),
                    memory,
                };
                (source, path, true)
            }
            _ => {
                let (pid, access) = match k.process_handle(CALL, hprocess.addr()) {
                    Ok(found) => found,
                    Err(_) => misuse(
                        CALL,
                        format!("{:#x} is neither a snapshot nor a process", hprocess.addr()),
                    ),
                };
                if pid != processid {
                    misuse(
                        CALL,
                        format!("process id {processid} is not the handle's process ({pid})"),
                    );
                }
                if !covers(access, PROCESS_QUERY_INFORMATION | PROCESS_VM_READ) {
                    return Err(hresult(ERROR_ACCESS_DENIED));
                }
                let process = k.processes[&pid].clone();
                let everything = PSS_CAPTURE_THREADS
                    | PSS_CAPTURE_THREAD_CONTEXT
                    | PSS_CAPTURE_HANDLES
                    | PSS_CAPTURE_HANDLE_NAME_INFORMATION
                    | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
                    | PSS_CAPTURE_VA_SPACE
                    | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION;
                let data = Arc::new(super::capture::contents(
                    &process,
                    everything,
                    super::data::HOST_CONTEXT_ALL,
                    access,
                ));
                let source = Source {
                    process_id: pid,
                    data,
                    memory: Some(process),
                };
                (source, path, false)
            }
        }
    }; // the lock is released: the callback may call kernel32
    if is_snapshot {
        ask_is_process_snapshot(hprocess, processid, callback);
    }
    let bytes = render(&source, dump_type)?;
    write_file(&path, &bytes)
}

/// Writes the dump; a host I/O failure is `HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)`.
fn write_file(path: &PathBuf, bytes: &[u8]) -> Result<(), u32> {
    const ERROR_WRITE_FAULT: u32 = 29;
    std::fs::write(path, bytes).map_err(|_| hresult(ERROR_WRITE_FAULT))
}

/// Calls the callback with `IsProcessSnapshotCallback`; it must answer `S_FALSE`, else dbghelp
/// would read the `HPSS` as a process handle.
fn ask_is_process_snapshot(
    hprocess: HANDLE,
    processid: u32,
    callback: *const MINIDUMP_CALLBACK_INFORMATION,
) {
    const CALL: &str = "MiniDumpWriteDump";
    if callback.is_null() {
        misuse(
            CALL,
            "an HPSS without a callback: dbghelp would treat it as a process handle (answer IsProcessSnapshotCallback with S_FALSE)",
        );
    }
    // SAFETY: a non-NULL CallbackParam points to a MINIDUMP_CALLBACK_INFORMATION (documented);
    // it is packed on 64-bit targets, so it is read unaligned.
    let info = unsafe { callback.read_unaligned() };
    let Some(routine) = info.CallbackRoutine else {
        misuse(CALL, "a callback information with no routine");
    };
    let input = MINIDUMP_CALLBACK_INPUT {
        ProcessId: processid,
        ProcessHandle: hprocess,
        CallbackType: IsProcessSnapshotCallback as u32,
        ..Default::default()
    };
    let mut output = MINIDUMP_CALLBACK_OUTPUT::default();
    // SAFETY: the caller's routine with its own parameter and valid input and output.
    let answered = unsafe { routine(info.CallbackParam, &input, &mut output) };
    // SAFETY: `Status` is a plain HRESULT of the union; read unaligned (packed structure).
    let status = unsafe { (&raw const output.Anonymous.Status).read_unaligned() };
    if answered == 0 || status != S_FALSE {
        misuse(
            CALL,
            format!(
                "the callback answered IsProcessSnapshotCallback with {answered} / status {status:#x}, not TRUE / S_FALSE"
            ),
        );
    }
}

/// Little-endian minidump bytes, with relative virtual addresses (RVAs) as offsets.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn rva(&self) -> u32 {
        self.0.len() as u32
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn zeros(&mut self, n: usize) {
        self.0.resize(self.0.len() + n, 0);
    }
    fn align(&mut self, to: usize) {
        let n = self.0.len().next_multiple_of(to) - self.0.len();
        self.zeros(n);
    }
    fn patch_u32(&mut self, at: u32, v: u32) {
        let at = at as usize;
        self.0[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    /// A `MINIDUMP_STRING`: byte length (without the NUL), UTF-16, NUL.
    fn string(&mut self, units: &[u16]) -> u32 {
        self.align(4);
        let rva = self.rva();
        self.u32(2 * units.len() as u32);
        units.iter().for_each(|&u| self.u16(u));
        self.u16(0);
        rva
    }
}

const SIGNATURE: u32 = 0x504D_444D; // "MDMP"
const VERSION: u32 = 0xA793;
const THREAD_LIST: u32 = 3;
const MODULE_LIST: u32 = 4;
const SYSTEM_INFO: u32 = 7;
const MEMORY_LIST: u32 = 5;
const MEMORY64_LIST: u32 = 9;
const HANDLE_DATA: u32 = 12;
const MISC_INFO: u32 = 15;
const MEMORY_INFO_LIST: u32 = 16;

/// The `ContextFlags` bits a dump keeps: the architecture and register-set bits. The high byte
/// holds state bits (`CONTEXT_EXCEPTION_ACTIVE`, `..._SERVICE_ACTIVE`, `..._EXCEPTION_REQUEST`,
/// `..._EXCEPTION_REPORTING`) that are no register set, and readers take a set high bit for
/// another architecture's (rust-minidump rejects the record).
const DUMP_CONTEXT_FLAGS: u32 = 0x00FF_FFFF;

/// One thread as the dump holds it.
struct DumpThread<'a> {
    spec: &'a ThreadSpec,
    /// Its context record (empty without one).
    context: Vec<u8>,
    /// Its stack memory: start (the stack pointer) and length.
    stack: Option<(usize, usize)>,
}

fn render(source: &Source, dump_type: u32) -> Result<Vec<u8>, u32> {
    let has = |flag: i32| dump_type & flag as u32 != 0;
    let data = &source.data;
    let memory = if has(MiniDumpWithFullMemory) {
        Some(full_memory(source, has(MiniDumpIgnoreInaccessibleMemory))?)
    } else {
        None
    };
    let threads: Vec<DumpThread<'_>> = data
        .threads
        .as_deref()
        .map_or(&[][..], |t| &t[..])
        .iter()
        .map(|spec| {
            let context = context_of(data, spec);
            let stack = source.memory.as_ref().and_then(|m| {
                super::dump_memory::stack_range(m, super::dump_memory::stack_pointer(&context)?)
            });
            DumpThread {
                spec,
                context,
                stack,
            }
        })
        .collect();
    // Without full memory: stacks, TEBs and the PEB, in a memory list.
    let small = match (&memory, &source.memory) {
        (None, Some(m)) => {
            let stacks: Vec<_> = threads.iter().map(|t| t.stack).collect();
            let tebs: Vec<usize> = threads.iter().map(|t| t.spec.teb).collect();
            super::dump_memory::small_dump_ranges(m, &stacks, &tebs)
        }
        _ => Vec::new(),
    };
    let mut streams = vec![SYSTEM_INFO, MISC_INFO, THREAD_LIST, MODULE_LIST];
    if !small.is_empty() {
        streams.push(MEMORY_LIST);
    }
    if has(MiniDumpWithFullMemoryInfo) && data.regions.is_some() {
        streams.push(MEMORY_INFO_LIST);
    }
    if has(MiniDumpWithHandleData) && data.handles.is_some() {
        streams.push(HANDLE_DATA);
    }
    if memory.is_some() {
        streams.push(MEMORY64_LIST); // last: its data runs to the end of the file
    }

    let mut out = Out::default();
    out.u32(SIGNATURE);
    out.u32(VERSION);
    out.u32(streams.len() as u32);
    out.u32(32); // the directory follows the header
    out.u32(0); // checksum
    out.u32((data.capture_time / 10_000_000).saturating_sub(11_644_473_600) as u32);
    out.u64(u64::from(dump_type));
    let directory = out.rva();
    out.zeros(12 * streams.len());
    // The small dump's memory first: threads point their stacks at these bytes.
    let placed: Vec<(usize, usize, u32)> = small
        .iter()
        .map(|(start, bytes)| {
            out.align(16);
            let rva = out.rva();
            out.0.extend_from_slice(bytes);
            (*start, bytes.len(), rva)
        })
        .collect();
    // Where each thread's stack descriptor points (full dumps: patched once the Memory64 data
    // is placed, at the end).
    let mut stack_rvas = Vec::new();
    for (i, &stream) in streams.iter().enumerate() {
        // Each writer puts its variable data (strings, contexts, memory bytes) where it must
        // and returns where its fixed-size structure is and how long: readers check that the
        // directory's size is exactly the structure's.
        let (rva, size) = match stream {
            SYSTEM_INFO => system_info(&mut out),
            MISC_INFO => misc_info(&mut out, source),
            THREAD_LIST => {
                let (rva, size, at) = thread_list(&mut out, &threads, &placed);
                stack_rvas = at;
                (rva, size)
            }
            MODULE_LIST => module_list(&mut out, data, source.memory.as_ref()),
            MEMORY_LIST => memory_list(&mut out, &placed),
            MEMORY_INFO_LIST => memory_info_list(&mut out, data),
            HANDLE_DATA => handle_data(&mut out, data),
            _ => {
                let ranges = memory.as_deref().unwrap_or(&[]);
                let (rva, size) = memory64_list(&mut out, ranges);
                point_stacks_into(&mut out, &stack_rvas, ranges, u64::from(rva + size));
                (rva, size)
            }
        };
        let entry = directory + 12 * i as u32;
        out.patch_u32(entry, stream);
        out.patch_u32(entry + 4, size);
        out.patch_u32(entry + 8, rva);
    }
    Ok(out.0)
}

/// Points each thread's stack descriptor (`Stack.Memory.Rva` at the given offsets, for the
/// stack at the given start) at its bytes inside the Memory64 data, which begins at `data` and
/// holds `ranges` one after another; as dbghelp's full dumps do, which keep no second copy. A
/// stack whose bytes lie past 4 GiB keeps an RVA of 0 (readers then find it by address).
fn point_stacks_into(
    out: &mut Out,
    stacks: &[(u32, usize)],
    ranges: &[(usize, Vec<u8>)],
    data: u64,
) {
    for &(at, start) in stacks {
        let mut offset = data;
        for (base, bytes) in ranges {
            if (*base..*base + bytes.len()).contains(&start) {
                if let Ok(rva) = u32::try_from(offset + (start - base) as u64) {
                    out.patch_u32(at, rva);
                }
                break;
            }
            offset += bytes.len() as u64;
        }
    }
}

/// Every committed, readable range of the memory source (the VA clone), with its bytes.
fn full_memory(source: &Source, ignore_inaccessible: bool) -> Result<Vec<(usize, Vec<u8>)>, u32> {
    let Some(process) = &source.memory else {
        // A snapshot without a VA clone has no memory to read.
        return Err(hresult(ERROR_NOT_FOUND));
    };
    let mut ranges = Vec::new();
    for region in process.regions.iter().filter(|r| r.state == MEM_COMMIT) {
        if region.not_cloned && !ignore_inaccessible {
            return Err(hresult(ERROR_PARTIAL_COPY));
        }
        if !region.readable() {
            continue;
        }
        let mut bytes = vec![0; region.size];
        region.read_at(0, &mut bytes);
        ranges.push((region.base, bytes));
    }
    Ok(ranges)
}

/// Starts a fixed-size structure: aligned, at the returned RVA.
fn start(out: &mut Out) -> u32 {
    out.align(8);
    out.rva()
}

/// `MINIDUMP_SYSTEM_INFO` for the host's architecture, Windows 10.
fn system_info(out: &mut Out) -> (u32, u32) {
    let csd = out.string(&[]);
    let architecture = if cfg!(target_arch = "x86") {
        0
    } else if cfg!(target_arch = "aarch64") {
        12
    } else {
        9
    };
    let rva = start(out);
    out.u16(architecture);
    out.u16(6); // processor level
    out.u16(0); // revision
    // The system the model's PEBs describe.
    out.0.push(super::environment::NUMBER_OF_PROCESSORS as u8);
    out.0.push(1); // VER_NT_WORKSTATION
    out.u32(super::environment::OS_MAJOR_VERSION);
    out.u32(super::environment::OS_MINOR_VERSION);
    out.u32(u32::from(super::environment::OS_BUILD_NUMBER));
    out.u32(super::environment::OS_PLATFORM_ID);
    out.u32(csd);
    out.u16(0); // suite mask
    out.u16(0);
    out.zeros(24); // CPU information
    (rva, out.rva() - rva)
}

/// `MINIDUMP_MISC_INFO`: the process id and times.
fn misc_info(out: &mut Out, source: &Source) -> (u32, u32) {
    let rva = start(out);
    out.u32(24);
    out.u32(0x1 | 0x2); // MINIDUMP_MISC1_PROCESS_ID | MINIDUMP_MISC1_PROCESS_TIMES
    out.u32(source.process_id);
    out.u32((source.data.capture_time / 10_000_000).saturating_sub(11_644_473_600 + 1) as u32);
    out.u32(0);
    out.u32(0);
    (rva, out.rva() - rva)
}

/// The context record the snapshot holds for `thread` (or none), with its `ContextFlags` kept
/// to [`DUMP_CONTEXT_FLAGS`].
fn context_of(data: &Captured, thread: &ThreadSpec) -> Vec<u8> {
    match (
        data.context_length,
        &thread.context,
        super::churn::context_readable(thread),
    ) {
        (None, _, _) | (_, _, false) => Vec::new(),
        (Some(_), Some((bytes, _)), true) => {
            let mut record = bytes.clone();
            let at = std::mem::offset_of!(CONTEXT, ContextFlags);
            if let Some(flags) = record.get_mut(at..at + 4) {
                let kept =
                    u32::from_le_bytes(flags.try_into().expect("4 bytes")) & DUMP_CONTEXT_FLAGS;
                flags.copy_from_slice(&kept.to_le_bytes());
            }
            record
        }
        (Some(length), None, true) => super::data::context_record_of(
            length as usize,
            data.context_flags & DUMP_CONTEXT_FLAGS,
            thread,
        ),
    }
}

/// The RVA in the dump of `len` bytes of memory at `start`, if a placed range holds them.
fn locate(placed: &[(usize, usize, u32)], start: usize, len: usize) -> Option<u32> {
    placed
        .iter()
        .find(|&&(base, size, _)| start >= base && start + len <= base + size)
        .map(|&(base, _, rva)| rva + (start - base) as u32)
}

/// `MINIDUMP_THREAD_LIST`: ids, suspend counts, priorities, TEB addresses, stack memory (an RVA
/// into `placed`, the small dump's memory; 0 in a full dump until [`point_stacks_into`]) and
/// contexts. Also returns where each stack RVA to patch is, with its stack's start.
fn thread_list(
    out: &mut Out,
    threads: &[DumpThread<'_>],
    placed: &[(usize, usize, u32)],
) -> (u32, u32, Vec<(u32, usize)>) {
    let contexts: Vec<(u32, u32)> = threads
        .iter()
        .map(|thread| {
            out.align(16);
            let rva = out.rva();
            out.0.extend_from_slice(&thread.context);
            (
                thread.context.len() as u32,
                if thread.context.is_empty() { 0 } else { rva },
            )
        })
        .collect();
    let rva = start(out);
    let mut patches = Vec::new();
    out.u32(threads.len() as u32);
    for (thread, (size, context)) in threads.iter().zip(contexts) {
        let spec = thread.spec;
        out.u32(spec.tid);
        out.u32(u32::from(spec.suspend_count));
        out.u32(0x20); // NORMAL_PRIORITY_CLASS
        out.u32(spec.priority as u32);
        out.u64(spec.teb as u64);
        let (stack, length) = thread.stack.unwrap_or((0, 0));
        out.u64(stack as u64);
        out.u32(length as u32);
        if thread.stack.is_some() && placed.is_empty() {
            patches.push((out.rva(), stack));
        }
        out.u32(locate(placed, stack, length).unwrap_or(0));
        out.u32(size);
        out.u32(context);
    }
    (rva, out.rva() - rva, patches)
}

/// An image's PE values and CodeView record, read from its headers in `memory` (the clone).
fn image_facts(memory: &ProcessData, base: usize) -> Option<super::pe::PeFacts> {
    let region = memory
        .regions
        .iter()
        .find(|r| r.base == base && r.readable())?;
    let read = |rva: usize, len: usize| -> Option<Vec<u8>> {
        if rva.checked_add(len)? > region.size {
            return None;
        }
        let mut bytes = vec![0; len];
        region.read_at(rva, &mut bytes);
        Some(bytes)
    };
    super::pe::read_headers(&read)
}

/// `MINIDUMP_MODULE_LIST`: one module per image region, named with section information; with
/// memory to read (the clone), `TimeDateStamp`, `CheckSum`, `SizeOfImage` and the CodeView
/// record from its PE headers, as dbghelp reads them; otherwise the snapshot's PE values and no
/// record. Headers that cannot be trusted give what could be read.
fn module_list(out: &mut Out, data: &Captured, memory: Option<&ProcessData>) -> (u32, u32) {
    let regions: &[RegionSpec] = data.regions.as_deref().map_or(&[], |r| &r[..]);
    let images: Vec<&RegionSpec> = regions
        .iter()
        .filter(|r| r.kind == MEM_IMAGE && r.image.is_some())
        .collect();
    let written: Vec<(u32, Option<super::pe::PeFacts>, (u32, u32))> = images
        .iter()
        .map(|image| {
            let name: &[u16] = if data.section_info {
                &image.mapped_name
            } else {
                &[]
            };
            let name = out.string(name);
            let facts = memory.and_then(|m| image_facts(m, image.base));
            let codeview = match facts.as_ref().and_then(|f| f.codeview.as_ref()) {
                Some(record) => {
                    out.align(4);
                    let rva = out.rva();
                    out.0.extend_from_slice(record);
                    (record.len() as u32, rva)
                }
                None => (0, 0),
            };
            (name, facts, codeview)
        })
        .collect();
    let rva = start(out);
    out.u32(images.len() as u32);
    for (image, (name, facts, (cv_size, cv_rva))) in images.iter().zip(written) {
        let snapshot = image.image.filter(|_| data.image_fields);
        let (size, checksum, stamp) = match facts {
            Some(f) => (f.size_of_image, f.checksum, f.time_date_stamp),
            None => (
                image.size as u32,
                snapshot.map_or(0, |p| p.checksum),
                snapshot.map_or(0, |p| p.time_date_stamp),
            ),
        };
        out.u64(image.base as u64);
        out.u32(size);
        out.u32(checksum);
        out.u32(stamp);
        out.u32(name);
        out.zeros(52); // version information
        out.u32(cv_size);
        out.u32(cv_rva);
        out.zeros(8 + 8 + 8); // misc record, reserved
    }
    (rva, out.rva() - rva)
}

/// `MINIDUMP_MEMORY_LIST`: the small dump's memory, placed earlier.
fn memory_list(out: &mut Out, placed: &[(usize, usize, u32)]) -> (u32, u32) {
    let rva = start(out);
    out.u32(placed.len() as u32);
    for &(start, size, bytes) in placed {
        out.u64(start as u64);
        out.u32(size as u32);
        out.u32(bytes);
    }
    (rva, out.rva() - rva)
}

/// `MINIDUMP_MEMORY_INFO_LIST`: the captured address space.
fn memory_info_list(out: &mut Out, data: &Captured) -> (u32, u32) {
    let regions: &[RegionSpec] = data.regions.as_deref().map_or(&[], |r| &r[..]);
    let rva = start(out);
    out.u32(16);
    out.u32(48);
    out.u64(regions.len() as u64);
    for r in regions {
        let free = r.state == MEM_FREE;
        out.u64(r.base as u64);
        out.u64(if free { 0 } else { r.base as u64 });
        out.u32(if free { 0 } else { r.protect });
        out.u32(0);
        out.u64(r.size as u64);
        out.u32(r.state);
        out.u32(r.protect);
        out.u32(r.kind);
        out.u32(0);
    }
    (rva, out.rva() - rva)
}

/// `MINIDUMP_HANDLE_DATA_STREAM` with `MINIDUMP_HANDLE_DESCRIPTOR`s: values, type and object
/// names (where the capture had them), access and counts.
fn handle_data(out: &mut Out, data: &Captured) -> (u32, u32) {
    let handles = data.handles.as_deref().map_or(&[][..], |h| &h[..]);
    let names: Vec<(u32, u32)> = handles
        .iter()
        .map(|h| {
            let (type_name, object_name) = super::walk::captured_names(data, h);
            let type_rva = if type_name.is_empty() {
                0
            } else {
                out.string(type_name)
            };
            let name_rva = if object_name.is_empty() {
                0
            } else {
                out.string(object_name)
            };
            (type_rva, name_rva)
        })
        .collect();
    let rva = start(out);
    out.u32(16);
    out.u32(32);
    out.u32(handles.len() as u32);
    out.u32(0);
    for (h, (type_rva, name_rva)) in handles.iter().zip(names) {
        out.u64(h.value as u64);
        out.u32(type_rva);
        out.u32(name_rva);
        out.u32(0);
        out.u32(h.granted_access);
        out.u32(h.handle_count);
        out.u32(h.pointer_count);
    }
    (rva, out.rva() - rva)
}

/// `MINIDUMP_MEMORY64_LIST`: the ranges, their bytes following at the end of the file.
fn memory64_list(out: &mut Out, ranges: &[(usize, Vec<u8>)]) -> (u32, u32) {
    let rva = start(out);
    out.u64(ranges.len() as u64);
    let base = u64::from(rva) + 16 + 16 * ranges.len() as u64;
    out.u64(base);
    for (start, bytes) in ranges {
        out.u64(*start as u64);
        out.u64(bytes.len() as u64);
    }
    let size = out.rva() - rva;
    for (_, bytes) in ranges {
        out.0.extend_from_slice(bytes);
    }
    (rva, size)
}
