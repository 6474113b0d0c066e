//! `PssCaptureSnapshot`: which flags are accepted, which rights each part needs, what a snapshot
//! holds, and how the VA clone is made (decompiled ntdll and kernel: the crate's sources).

use super::data::{AuxPageSpec, HandleSpec, ProcessData, ProcessInfo, RegionSpec, ThreadSpec};
use super::kernel::{self, CURRENT_PID, HandleObject, KernelHandle, Snapshot, VA_CLONE_ACCESS};
use pss_sys::*;
use std::sync::Arc;

/// The bits ntdll rejects with `STATUS_INVALID_PARAMETER` before anything else. Every other bit
/// is accepted: the documented flags, and the three "reserved" ones, which act (`0x2` auxiliary
/// pages, `0x400` last system calls, `0x4000` a bulk VA-space query).
pub const REJECTED_FLAGS: u32 = 0x03FF_8000;

/// The three breakaway bits; `PSS_CREATE_BREAKAWAY_OPTIONAL` alone among them is rejected
/// (`STATUS_INVALID_PARAMETER_MIX`); with `PSS_CREATE_FORCE_BREAKAWAY` it is accepted.
const BREAKAWAY_BITS: u32 =
    PSS_CREATE_BREAKAWAY_OPTIONAL | PSS_CREATE_BREAKAWAY | PSS_CREATE_FORCE_BREAKAWAY;

/// Flag `0x2` (`PSS_CAPTURE_RESERVED_00000002`): the auxiliary pages.
pub const AUXILIARY_PAGES: u32 = PSS_CAPTURE_RESERVED_00000002;

/// The flag checks ntdll makes first, in its order.
pub(crate) fn check_flags(flags: u32) -> Result<(), u32> {
    if flags & REJECTED_FLAGS != 0 || flags & BREAKAWAY_BITS == PSS_CREATE_BREAKAWAY_OPTIONAL {
        return Err(ERROR_INVALID_PARAMETER);
    }
    Ok(())
}

/// The access the model demands on `PssCaptureSnapshot`'s process handle for `flags`: without
/// it the capture fails with `ERROR_ACCESS_DENIED`. Process information (always captured) and
/// the VA space need `PROCESS_QUERY_LIMITED_INFORMATION` (the kernel's `MmQueryVirtualMemory`
/// asks no more for the region and mapped-file-name classes), the VA clone
/// `PROCESS_CREATE_PROCESS` (shown in ntdll); threads and handles `PROCESS_QUERY_INFORMATION`
/// (inferred: not visible in the decompile). What only loses detail is not demanded:
/// `PROCESS_DUP_HANDLE` (handles keep only their values), `PROCESS_VM_READ` (section
/// information keeps names, zeroes the image fields), and whatever the handle trace needs (its
/// failure is ignored). `THREAD_CONTEXT` without `THREADS` captures no threads, so it asks for
/// nothing.
pub fn capture_access(flags: u32) -> u32 {
    let has = |f: u32| flags & f != 0;
    let mut access = PROCESS_QUERY_LIMITED_INFORMATION;
    if has(PSS_CAPTURE_VA_CLONE) {
        access |= PROCESS_CREATE_PROCESS;
    }
    if has(PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS) {
        access |= PROCESS_QUERY_INFORMATION;
    }
    access
}

/// `granted` covers `required`; full query rights imply limited ones, as on Windows.
pub fn covers(granted: u32, required: u32) -> bool {
    let granted = if granted & PROCESS_QUERY_INFORMATION != 0 {
        granted | PROCESS_QUERY_LIMITED_INFORMATION
    } else {
        granted
    };
    granted & required == required
}

/// What one snapshot holds: shares of exactly the parts its flags asked for.
#[derive(Debug)]
pub struct Captured {
    pub(crate) process: ProcessInfo,
    pub(crate) aux_pages: Option<Arc<Vec<AuxPageSpec>>>,
    /// With auxiliary pages: the address space their memory information is queried in.
    pub(crate) aux_space: Option<Arc<Vec<RegionSpec>>>,
    pub(crate) regions: Option<Arc<Vec<RegionSpec>>>,
    /// Mapped file names (and, with `image_fields`, PE values) for image and mapped regions.
    pub(crate) section_info: bool,
    /// The PE values could be read (`PROCESS_VM_READ`); else they are zero.
    pub(crate) image_fields: bool,
    /// A VA clone was made.
    pub(crate) va_clone: bool,
    pub(crate) handles: Option<Arc<Vec<HandleSpec>>>,
    /// The handle-detail capture flags.
    pub(crate) handle_detail: u32,
    /// Handles could be duplicated out of the process (`PROCESS_DUP_HANDLE`), so entries have
    /// their type name and details; else only values.
    pub(crate) handle_duplication: bool,
    /// The thread records, each with the name it captured (`churn::dump`).
    pub(crate) threads: Option<Arc<Vec<ThreadSpec>>>,
    /// The thread part ran and succeeded (with or without threads): its counters are written.
    pub(crate) thread_part: bool,
    /// Bytes per context record, when contexts were captured.
    pub(crate) context_length: Option<u32>,
    /// Each record's `ContextFlags` (the capture's `ThreadContextFlags`, sanitised as ntdll
    /// does: [`sanitise_context_flags`]), and which registers it holds.
    pub(crate) context_flags: u32,
    /// `0x400`: each thread's last system call.
    pub(crate) last_syscall: bool,
    /// A handle-trace section was captured.
    pub(crate) trace: bool,
    pub(crate) performance: bool,
    pub(crate) capture_time: u64,
}

/// Why a capture of a process fails once its flags and rights have been checked, in ntdll's
/// order (process information, auxiliary pages, VA space, VA clone, handles, threads); the
/// first failing part fails the whole capture and what was built is freed. Consumes one handle
/// race of the process when the capture gets as far as its handles.
fn failing_part(process: &mut ProcessData, flags: u32) -> Result<(), u32> {
    let has = |f: u32| flags & f != 0;
    let exited = process.info.exit.is_some();
    // An address space that is gone: MmQueryVirtualMemory fails, the first pass counts no
    // regions, and the zero-size section cannot be created (STATUS_INVALID_PARAMETER). (A live
    // process always has regions; a model process without any fails the same way.)
    if has(PSS_CAPTURE_VA_SPACE) && (exited || process.regions.is_empty()) {
        return Err(ERROR_INVALID_PARAMETER);
    }
    // A clone of a terminated process: process creation with it as the parent fails
    // (STATUS_PROCESS_IS_TERMINATING, ERROR_ACCESS_DENIED).
    if has(PSS_CAPTURE_VA_CLONE) {
        if exited {
            return Err(ERROR_ACCESS_DENIED);
        }
        clone_refusal(&process.info, flags)?;
    }
    if has(PSS_CAPTURE_HANDLES) {
        // ProcessHandleCount, a buffer of 4 bytes a handle, then ProcessHandleTable into exactly
        // that buffer: no handles (an exited process, a VA clone) is a buffer under 4 bytes, and
        // a handle opened in between overflows it; both are STATUS_INFO_LENGTH_MISMATCH.
        if exited || process.handles.is_empty() {
            return Err(ERROR_BAD_LENGTH);
        }
        if process.handle_races > 0 {
            process.handle_races -= 1;
            return Err(ERROR_BAD_LENGTH);
        }
    }
    // Threads are opened one by one (ZwGetNextThread skips those it may not open), then each is
    // queried: any failing query fails the capture (churn.rs).
    if has(PSS_CAPTURE_THREADS) && !exited {
        super::churn::run_thread_part(process)?;
    }
    Ok(())
}

impl Captured {
    /// The descriptor holds kernel handles (a VA clone, or a section for the auxiliary pages,
    /// the VA space, handles, threads or the handle trace): duplicating it then needs
    /// `PROCESS_DUP_HANDLE`, and freeing it remotely closes them.
    pub(crate) fn holds_kernel_handles(&self) -> bool {
        self.va_clone
            || self.trace
            || self.aux_pages.is_some()
            || self.regions.is_some()
            || self.handles.is_some()
            || self.threads.is_some()
    }
}

/// `ThreadContextFlags` as `PsspInitializeContextOrExtendedContext` leaves them in each record.
/// A plain `CONTEXT` record (no `THREAD_CONTEXT_EXTENDED`) keeps only the `CONTEXT_ALL` bits of
/// the architecture the flags name: `& 0x1003F` for x86 flags (`CONTEXT_i386`, `0x10000`),
/// else `& 0x10001F` for x64 flags (`CONTEXT_AMD64`, `0x100000`), so XSTATE, CET and the
/// exception-reporting bits are dropped; flags naming neither architecture pass unchanged. An
/// extended record, sized for the flags (when `RtlGetExtendedContextLength` could size it:
/// [`extended_context_length`](crate::extended_context_length)), keeps them.
pub fn sanitise_context_flags(flags: u32, extended: bool) -> u32 {
    if extended {
        flags
    } else if flags & 0x1_0000 != 0 {
        flags & 0x1_003F
    } else if flags & 0x10_0000 != 0 {
        flags & 0x10_001F
    } else {
        flags
    }
}

/// What a capture of `process` with `flags` and `context_flags`, through a handle granted
/// `access`, holds. Copies nothing but `Arc`s and the process-wide facts (and, when a handle's
/// type cannot be queried, the handle list without it; when threads were skipped or renamed,
/// the thread records). `flags` must already have passed [`failing_part`].
pub(crate) fn contents(
    process: &ProcessData,
    flags: u32,
    context_flags: u32,
    access: u32,
) -> Captured {
    let has = |f: u32| flags & f != 0;
    static CLOCK: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(133_500_000_000_000_000);
    let exited = process.info.exit.is_some();
    let section_info = has(PSS_CAPTURE_VA_SPACE) && has(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION);
    let handle_duplication = covers(access, PROCESS_DUP_HANDLE);
    // THREAD_CONTEXT_EXTENDED without THREAD_CONTEXT captures no contexts; the length follows
    // the context flags and the CPU (xstate.rs).
    let (length, extended) = super::xstate::context_length(
        context_flags,
        has(PSS_CAPTURE_THREAD_CONTEXT_EXTENDED),
        process.info.xstate,
    );
    let contexts = has(PSS_CAPTURE_THREAD_CONTEXT).then_some(length);
    // Threads only with THREADS (THREAD_CONTEXT alone captures none); no section at all when
    // none were enumerated (an exited process, a VA clone): the query then gives
    // ERROR_NOT_FOUND, not a count of 0.
    let thread_part = has(PSS_CAPTURE_THREADS);
    let threads = (thread_part && !exited)
        .then(|| super::churn::dump(&process.threads, contexts))
        .flatten();
    let context_length = contexts.filter(|_| threads.is_some());
    Captured {
        process: process.info.clone(),
        // One page, counted only when ZwQueryVirtualMemory of it succeeds.
        aux_pages: has(AUXILIARY_PAGES).then(|| {
            if exited || process.info.aux_page_unqueryable {
                Arc::default()
            } else {
                process.aux_pages.clone()
            }
        }),
        aux_space: has(AUXILIARY_PAGES).then(|| process.regions.clone()),
        regions: has(PSS_CAPTURE_VA_SPACE).then(|| process.regions.clone()),
        section_info,
        image_fields: section_info && covers(access, PROCESS_VM_READ),
        va_clone: has(PSS_CAPTURE_VA_CLONE),
        handles: has(PSS_CAPTURE_HANDLES).then(|| {
            // A duplicated handle whose type cannot be queried is dropped from the snapshot.
            let dropped = |h: &HandleSpec| handle_duplication && h.duplicable && h.type_unqueryable;
            if process.handles.iter().any(dropped) {
                Arc::new(
                    process
                        .handles
                        .iter()
                        .filter(|h| !dropped(h))
                        .cloned()
                        .collect(),
                )
            } else {
                process.handles.clone()
            }
        }),
        handle_detail: flags
            & (PSS_CAPTURE_HANDLE_NAME_INFORMATION
                | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
                | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION),
        handle_duplication,
        threads,
        thread_part,
        context_length,
        context_flags: sanitise_context_flags(context_flags, extended),
        last_syscall: has(PSS_CAPTURE_RESERVED_00000400),
        trace: has(PSS_CAPTURE_HANDLE_TRACE) && process.info.handle_tracing,
        performance: has(PSS_CREATE_MEASURE_PERFORMANCE),
        capture_time: CLOCK.fetch_add(10_000, std::sync::atomic::Ordering::Relaxed),
    }
}

/// Whether the VA clone of a process can be created, breakaway rules included, as ntdll tries:
/// `FORCE_BREAKAWAY` needs the Tcb privilege (never held here: `ERROR_PRIVILEGE_NOT_HELD`),
/// `BREAKAWAY` fails in a job that forbids it (`ERROR_ACCESS_DENIED`), and with
/// `BREAKAWAY_OPTIONAL` a refused attempt is retried without force, then without breakaway.
fn clone_refusal(info: &ProcessInfo, flags: u32) -> Result<(), u32> {
    let optional = flags & PSS_CREATE_BREAKAWAY_OPTIONAL != 0;
    let mut force = flags & PSS_CREATE_FORCE_BREAKAWAY != 0;
    let mut breakaway = flags & PSS_CREATE_BREAKAWAY != 0;
    loop {
        let refused = if force {
            Some(ERROR_PRIVILEGE_NOT_HELD)
        } else if breakaway && info.breakaway_forbidden {
            Some(ERROR_ACCESS_DENIED)
        } else {
            None
        };
        match refused {
            None => return Ok(()),
            Some(_) if optional && force => force = false,
            Some(_) if optional && breakaway => breakaway = false,
            Some(code) => return Err(code),
        }
    }
}

/// Creates the VA clone of `pid` (whose creation [`failing_part`] already allowed).
fn create_clone(k: &mut kernel::Kernel, pid: u32) -> u32 {
    // The clone holds the target's memory as it is now (shared, copy-on-write), except
    // anonymous shared sections, and has no threads or handles of its own.
    let target = &k.processes[&pid];
    let mut clone = ProcessData {
        threads: Arc::default(),
        handles: Arc::default(),
        handle_races: 0,
        ..target.clone()
    };
    clone.info.parent = pid;
    if clone.regions.iter().any(RegionSpec::anonymous_shared) {
        for region in Arc::make_mut(&mut clone.regions) {
            region.not_cloned |= region.anonymous_shared();
        }
    }
    k.create_clone(clone)
}

/// The whole capture: flags, process handle, rights, contents, VA clone, the snapshot's own
/// handles. Returns the new descriptor, which lives in this process.
pub(crate) fn capture(
    k: &mut kernel::Kernel,
    process: usize,
    flags: u32,
    context_flags: u32,
) -> Result<usize, u32> {
    check_flags(flags)?;
    let (pid, access) = k.process_handle("PssCaptureSnapshot", process)?;
    if !covers(access, capture_access(flags)) {
        return Err(ERROR_ACCESS_DENIED);
    }
    if let Some(code) = super::faults::take("PssCaptureSnapshot") {
        return Err(code); // nothing was created
    }
    let target = k.processes.get_mut(&pid).expect("a live process");
    failing_part(target, flags)?;
    let data = Arc::new(contents(target, flags, context_flags, access));
    let clone_pid = if flags & PSS_CAPTURE_VA_CLONE != 0 {
        Some(create_clone(k, pid))
    } else {
        None
    };
    let trace = data.trace;
    let value = k.issue_snapshot(Snapshot {
        context: CURRENT_PID,
        flags,
        vm_descriptor: flags & PSS_CREATE_USE_VM_ALLOCATIONS != 0,
        data,
        clone_pid,
        va_clone: None,
        trace_section: None,
        owner: super::data::me(),
    });
    attach_local_handles(k, value, clone_pid, trace);
    Ok(value)
}

/// Gives the snapshot `value`, which lives in this process, its own VA clone and trace-section
/// handles in this process's table.
pub(crate) fn attach_local_handles(
    k: &mut kernel::Kernel,
    value: usize,
    clone_pid: Option<u32>,
    trace: bool,
) {
    let owner = super::data::me();
    let va_clone = clone_pid.map(|pid| {
        k.issue_handle(KernelHandle {
            object: HandleObject::VaClone { pid },
            access: VA_CLONE_ACCESS,
            owner,
        })
    });
    let trace_section = trace.then(|| {
        k.issue_handle(KernelHandle {
            object: HandleObject::TraceSection,
            access: 0x000F_001F,
            owner,
        })
    });
    if let Some(kernel::Object::Snapshot(s)) = k.objects.get_mut(&value) {
        s.va_clone = va_clone;
        s.trace_section = trace_section;
    }
}
