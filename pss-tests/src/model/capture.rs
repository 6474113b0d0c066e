//! `PssCaptureSnapshot`: which flags are accepted, which rights each part needs, what a snapshot
//! holds, and how the VA clone is made (WINDOWS-EVIDENCE.md, Capture).

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

const ERROR_PRIVILEGE_NOT_HELD: u32 = 1314;

/// The flag checks ntdll makes first, in its order.
pub(crate) fn check_flags(flags: u32) -> Result<(), u32> {
    if flags & REJECTED_FLAGS != 0 || flags & BREAKAWAY_BITS == PSS_CREATE_BREAKAWAY_OPTIONAL {
        return Err(ERROR_INVALID_PARAMETER);
    }
    Ok(())
}

/// The access the model demands on `PssCaptureSnapshot`'s process handle for `flags`: without
/// it the capture fails with `ERROR_ACCESS_DENIED`. Process information (always captured) needs
/// `PROCESS_QUERY_LIMITED_INFORMATION` and the VA clone `PROCESS_CREATE_PROCESS` (shown in
/// ntdll); threads, handles and the VA space need `PROCESS_QUERY_INFORMATION` (inferred). What
/// only loses detail is not demanded: `PROCESS_DUP_HANDLE` (handles keep only their values),
/// `PROCESS_VM_READ` (section information keeps names, zeroes the image fields), and whatever
/// the handle trace needs (its failure is ignored).
pub fn capture_access(flags: u32) -> u32 {
    let has = |f: u32| flags & f != 0;
    let mut access = PROCESS_QUERY_LIMITED_INFORMATION;
    if has(PSS_CAPTURE_VA_CLONE) {
        access |= PROCESS_CREATE_PROCESS;
    }
    if has(PSS_CAPTURE_HANDLES
        | PSS_CAPTURE_THREADS
        | PSS_CAPTURE_THREAD_CONTEXT
        | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
        | PSS_CAPTURE_VA_SPACE)
    {
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
    pub(crate) regions: Option<Arc<Vec<RegionSpec>>>,
    /// Mapped file names (and, with `image_fields`, PE values) for image and mapped regions.
    pub(crate) section_info: bool,
    /// The PE values could be read (`PROCESS_VM_READ`); else they are zero.
    pub(crate) image_fields: bool,
    pub(crate) handles: Option<Arc<Vec<HandleSpec>>>,
    /// The handle-detail capture flags.
    pub(crate) handle_detail: u32,
    /// Handles could be duplicated out of the process (`PROCESS_DUP_HANDLE`), so entries have
    /// their type name and details; else only values.
    pub(crate) handle_duplication: bool,
    pub(crate) threads: Option<Arc<Vec<ThreadSpec>>>,
    /// Bytes per context record, when contexts were captured.
    pub(crate) context_length: Option<u32>,
    /// The `ThreadContextFlags` the capture asked for: each record's `ContextFlags`, and which
    /// registers it holds.
    pub(crate) context_flags: u32,
    /// `0x400`: each thread's last system call.
    pub(crate) last_syscall: bool,
    /// A handle-trace section was captured.
    pub(crate) trace: bool,
    pub(crate) performance: bool,
    pub(crate) capture_time: u64,
}

/// What a capture of `process` with `flags`, through a handle granted `access`, holds. Copies
/// nothing but `Arc`s and the process-wide facts.
pub(crate) fn contents(process: &ProcessData, flags: u32, access: u32) -> Captured {
    let has = |f: u32| flags & f != 0;
    static CLOCK: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(133_500_000_000_000_000);
    let exited = process.info.exit.is_some();
    let section_info = has(PSS_CAPTURE_VA_SPACE) && has(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION);
    Captured {
        process: process.info.clone(),
        aux_pages: has(AUXILIARY_PAGES).then(|| process.aux_pages.clone()),
        regions: has(PSS_CAPTURE_VA_SPACE).then(|| process.regions.clone()),
        section_info,
        image_fields: section_info && covers(access, PROCESS_VM_READ),
        handles: has(PSS_CAPTURE_HANDLES).then(|| process.handles.clone()),
        handle_detail: flags
            & (PSS_CAPTURE_HANDLE_NAME_INFORMATION
                | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
                | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION),
        handle_duplication: covers(access, PROCESS_DUP_HANDLE),
        // An exited process has no threads left: no thread data at all (the query then gives
        // ERROR_NOT_FOUND, not a count of 0).
        threads: (has(PSS_CAPTURE_THREADS
            | PSS_CAPTURE_THREAD_CONTEXT
            | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED)
            && !exited)
            .then(|| process.threads.clone()),
        // THREAD_CONTEXT_EXTENDED without THREAD_CONTEXT captures no contexts.
        context_length: has(PSS_CAPTURE_THREAD_CONTEXT).then(|| {
            if has(PSS_CAPTURE_THREAD_CONTEXT_EXTENDED) {
                process.info.extended_context_length
            } else {
                size_of::<CONTEXT>() as u32
            }
        }),
        context_flags: super::data::HOST_CONTEXT_ALL,
        last_syscall: has(PSS_CAPTURE_RESERVED_00000400),
        trace: has(PSS_CAPTURE_HANDLE_TRACE) && process.info.handle_tracing,
        performance: has(PSS_CREATE_MEASURE_PERFORMANCE),
        capture_time: CLOCK.fetch_add(10_000, std::sync::atomic::Ordering::Relaxed),
    }
}

/// Creates the VA clone of `pid` as ntdll does, breakaway rules included: `FORCE_BREAKAWAY`
/// needs the Tcb privilege (never held here), `BREAKAWAY` fails in a job that forbids it, and
/// with `BREAKAWAY_OPTIONAL` a refused attempt is retried without force, then without breakaway.
fn create_clone(k: &mut kernel::Kernel, pid: u32, flags: u32) -> Result<u32, u32> {
    let optional = flags & PSS_CREATE_BREAKAWAY_OPTIONAL != 0;
    let mut force = flags & PSS_CREATE_FORCE_BREAKAWAY != 0;
    let mut breakaway = flags & PSS_CREATE_BREAKAWAY != 0;
    loop {
        let refused = if force {
            Some(ERROR_PRIVILEGE_NOT_HELD)
        } else if breakaway && k.processes[&pid].info.breakaway_forbidden {
            Some(ERROR_ACCESS_DENIED)
        } else {
            None
        };
        match refused {
            None => break,
            Some(_) if optional && force => force = false,
            Some(_) if optional && breakaway => breakaway = false,
            Some(code) => return Err(code),
        }
    }
    // The clone holds the target's memory as it is now (shared, copy-on-write), except
    // anonymous shared sections, and has no threads or handles of its own.
    let target = &k.processes[&pid];
    let mut clone = ProcessData {
        threads: Arc::default(),
        handles: Arc::default(),
        ..target.clone()
    };
    clone.info.parent = pid;
    if clone.regions.iter().any(RegionSpec::anonymous_shared) {
        for region in Arc::make_mut(&mut clone.regions) {
            region.not_cloned |= region.anonymous_shared();
        }
    }
    Ok(k.create_clone(clone))
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
    let data = Arc::new(Captured {
        context_flags,
        ..contents(&k.processes[&pid], flags, access)
    });
    let clone_pid = if flags & PSS_CAPTURE_VA_CLONE != 0 {
        Some(create_clone(k, pid, flags)?)
    } else {
        None
    };
    let trace = data.trace;
    let value = k.issue_snapshot(Snapshot {
        context: CURRENT_PID,
        flags,
        vm_allocated: flags & PSS_CREATE_USE_VM_ALLOCATIONS != 0,
        duplicated_remotely: false,
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
