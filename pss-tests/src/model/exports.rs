//! The kernel32 functions pss-sys declares, defined with `#[unsafe(no_mangle)]` so the unchanged
//! `pss` code links against the model on non-Windows hosts. Each is a thin shell: count the
//! call, lock the state, validate like the documents say (or, where they are silent, as the
//! table in the module docs says), act.

use super::data::{self, me};
use super::kernel::{
    self, CURRENT_PID, CURRENT_PROCESS, FAILED_HPSS, HandleObject, KERNEL32, KernelHandle, Object,
    Snapshot, handle, misuse,
};
use super::walk::{self, Marker};
use pss_sys::*;
use std::cell::Cell;
use std::ffi::c_void;

const ERROR_MOD_NOT_FOUND: u32 = 126;
const ERROR_PROC_NOT_FOUND: u32 = 127;
const ERROR_PRIVILEGE_NOT_HELD: u32 = 1314;

thread_local! {
    static LAST_ERROR: Cell<u32> = const { Cell::new(0) };
}

fn set_last_error(code: u32) {
    LAST_ERROR.with(|e| e.set(code));
}

/// Documented capture flags; every other bit (including the three reserved ones) is invalid.
const KNOWN_CAPTURE_FLAGS: u32 = PSS_CAPTURE_VA_CLONE
    | PSS_CAPTURE_HANDLES
    | PSS_CAPTURE_HANDLE_NAME_INFORMATION
    | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
    | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION
    | PSS_CAPTURE_HANDLE_TRACE
    | PSS_CAPTURE_THREADS
    | PSS_CAPTURE_THREAD_CONTEXT
    | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
    | PSS_CAPTURE_VA_SPACE
    | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION
    | PSS_CAPTURE_IPT_TRACE
    | PSS_CREATE_BREAKAWAY_OPTIONAL
    | PSS_CREATE_BREAKAWAY
    | PSS_CREATE_FORCE_BREAKAWAY
    | PSS_CREATE_USE_VM_ALLOCATIONS
    | PSS_CREATE_MEASURE_PERFORMANCE
    | PSS_CREATE_RELEASE_SECTION;

/// The access the model demands on `PssCaptureSnapshot`'s process handle for `flags`. Only
/// `PROCESS_VM_READ` for section information is documented; the rest is the model's strict
/// reading of what each part needs (see the table in the module docs).
pub fn capture_access(flags: u32) -> u32 {
    let has = |f: u32| flags & f != 0;
    let mut access = PROCESS_QUERY_LIMITED_INFORMATION;
    if has(PSS_CAPTURE_VA_CLONE) {
        access |= PROCESS_CREATE_PROCESS;
    }
    if has(PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_TRACE) {
        access |= PROCESS_DUP_HANDLE | PROCESS_QUERY_INFORMATION;
    }
    if has(PSS_CAPTURE_THREADS
        | PSS_CAPTURE_THREAD_CONTEXT
        | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
        | PSS_CAPTURE_VA_SPACE)
    {
        access |= PROCESS_QUERY_INFORMATION;
    }
    if has(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION) {
        access |= PROCESS_VM_READ;
    }
    access
}

/// `granted` covers `required`; full query rights imply limited ones, as on Windows.
fn covers(granted: u32, required: u32) -> bool {
    let granted = if granted & PROCESS_QUERY_INFORMATION != 0 {
        granted | PROCESS_QUERY_LIMITED_INFORMATION
    } else {
        granted
    };
    granted & required == required
}

fn pss(call: &'static str) -> kernel::Entered {
    let mut entered = kernel::enter(call);
    if entered.k().pss_absent {
        misuse(
            call,
            "kernel32 has no PSS here (set_pss_absent): Windows before 8.1 fails to load, Wine aborts",
        );
    }
    entered
}

#[unsafe(no_mangle)]
pub extern "system" fn PssCaptureSnapshot(
    processhandle: HANDLE,
    captureflags: PSS_CAPTURE_FLAGS,
    threadcontextflags: u32,
    snapshothandle: *mut HPSS,
) -> u32 {
    let mut e = pss("PssCaptureSnapshot");
    let result = capture(
        e.k(),
        processhandle.addr(),
        captureflags,
        threadcontextflags,
    );
    out_hpss(e.call, snapshothandle, result)
}

fn capture(
    k: &mut kernel::Kernel,
    process: usize,
    flags: u32,
    _context_flags: u32,
) -> Result<usize, u32> {
    let (pid, access) = k.process_handle("PssCaptureSnapshot", process)?;
    let has = |f: u32| flags & f != 0;
    if flags & !KNOWN_CAPTURE_FLAGS != 0
        || (has(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION) && !has(PSS_CAPTURE_VA_SPACE))
        || (has(PSS_CREATE_BREAKAWAY_OPTIONAL)
            && !has(PSS_CREATE_BREAKAWAY | PSS_CREATE_FORCE_BREAKAWAY))
    {
        return Err(ERROR_INVALID_PARAMETER);
    }
    if has(PSS_CREATE_FORCE_BREAKAWAY) {
        return Err(ERROR_PRIVILEGE_NOT_HELD);
    }
    if !covers(access, capture_access(flags)) {
        return Err(ERROR_ACCESS_DENIED);
    }
    let data = std::sync::Arc::new(data::capture(&k.processes[&pid], flags));
    let value = k.issue_snapshot(Snapshot {
        context: CURRENT_PID,
        flags,
        vm_allocated: has(PSS_CREATE_USE_VM_ALLOCATIONS),
        duplicated_remotely: false,
        data,
        va_clone: None,
        trace_section: None,
        owner: me(),
    });
    let clone_pid = has(PSS_CAPTURE_VA_CLONE).then(|| {
        let mut clone = k.processes[&pid].clone();
        clone.pid = k.next_pid;
        clone.parent = pid;
        k.next_pid += 4;
        k.processes.insert(clone.pid, clone);
        k.next_pid - 4
    });
    attach_owned_handles(k, value, clone_pid, has(PSS_CAPTURE_HANDLE_TRACE));
    Ok(value)
}

/// Gives the local snapshot `value` its VA clone and trace-section handles in this process.
fn attach_owned_handles(k: &mut kernel::Kernel, value: usize, clone_pid: Option<u32>, trace: bool) {
    let va_clone = clone_pid.map(|pid| {
        k.issue_handle(KernelHandle {
            object: HandleObject::VaClone { pid },
            access: PROCESS_ALL_ACCESS,
            owner: me(),
        })
    });
    let trace_section = trace.then(|| {
        k.issue_handle(KernelHandle {
            object: HandleObject::TraceSection,
            access: 0x000F_001F,
            owner: me(),
        })
    });
    if let Some(Object::Snapshot(s)) = k.objects.get_mut(&value) {
        s.va_clone = va_clone;
        s.trace_section = trace_section;
    }
}

/// The pid of the clone process behind a snapshot's VA clone handle.
fn va_clone_pid(k: &kernel::Kernel, va_clone: Option<usize>) -> Option<u32> {
    va_clone.and_then(|h| match k.objects.get(&h) {
        Some(Object::Handle(KernelHandle {
            object: HandleObject::VaClone { pid, .. },
            ..
        })) => Some(*pid),
        _ => None,
    })
}

fn clone_shell(s: &Snapshot) -> Snapshot {
    Snapshot {
        data: s.data.clone(),
        ..*s
    }
}

/// Writes a new descriptor on success and [`FAILED_HPSS`] on failure, so a caller that uses the
/// out-parameter after a failure is caught.
fn out_hpss(call: &'static str, out: *mut HPSS, result: Result<usize, u32>) -> u32 {
    if out.is_null() {
        return match result {
            Ok(_) => misuse(call, "NULL out-parameter after success"),
            Err(code) => code,
        };
    }
    let (value, code) = match result {
        Ok(value) => (value, ERROR_SUCCESS),
        Err(code) => (FAILED_HPSS, code),
    };
    // SAFETY: the caller passes a writable HPSS, as the documents require.
    unsafe { out.write(handle(value)) };
    code
}

#[unsafe(no_mangle)]
pub extern "system" fn PssDuplicateSnapshot(
    sourceprocesshandle: HANDLE,
    snapshothandle: HPSS,
    targetprocesshandle: HANDLE,
    targetsnapshothandle: *mut HPSS,
    flags: PSS_DUPLICATE_FLAGS,
) -> u32 {
    let mut e = pss("PssDuplicateSnapshot");
    let call = e.call;
    let k = e.k();
    let source = snapshothandle.addr();
    let close_source = flags == PSS_DUPLICATE_CLOSE_SOURCE;
    let result = (|| {
        if flags & !PSS_DUPLICATE_CLOSE_SOURCE != 0 {
            return Err(ERROR_INVALID_PARAMETER);
        }
        if targetsnapshothandle.is_null() {
            return Err(ERROR_INVALID_PARAMETER);
        }
        let (src_pid, src_access) = k.process_handle(call, sourceprocesshandle.addr())?;
        let (dst_pid, dst_access) = k.process_handle(call, targetprocesshandle.addr())?;
        let snapshot = k.snapshot(call, source)?;
        if snapshot.context != src_pid {
            return Err(ERROR_INVALID_HANDLE);
        }
        if !covers(src_access, PROCESS_VM_READ | PROCESS_DUP_HANDLE)
            || !covers(
                dst_access,
                PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE,
            )
        {
            return Err(ERROR_ACCESS_DENIED);
        }
        if close_source && !snapshot.vm_allocated {
            return Err(ERROR_NOT_SUPPORTED);
        }
        let mut copy = clone_shell(snapshot);
        copy.context = dst_pid;
        copy.duplicated_remotely = dst_pid != CURRENT_PID;
        copy.owner = me();
        copy.va_clone = None;
        copy.trace_section = None;
        let (va_clone, has_trace) = (snapshot.va_clone, snapshot.trace_section.is_some());
        let clone_pid = va_clone_pid(k, va_clone);
        let value = k.issue_snapshot(copy);
        if dst_pid == CURRENT_PID {
            attach_owned_handles(k, value, clone_pid, has_trace);
        }
        Ok(value)
    })();
    // "The source handle is freed even if duplication fails" -- once it is known to be one.
    if close_source && matches!(k.objects.get(&source), Some(Object::Snapshot(_))) {
        free(k, source, call);
    }
    out_hpss(call, targetsnapshothandle, result)
}

/// Retires a snapshot and the handles it owns.
fn free(k: &mut kernel::Kernel, value: usize, call: &'static str) {
    if let Some(Object::Snapshot(s)) = k.retire(value, "snapshot", call) {
        for h in [s.va_clone, s.trace_section].into_iter().flatten() {
            if let Some(Object::Handle(KernelHandle {
                object: HandleObject::VaClone { pid, .. },
                ..
            })) = k.retire(h, "handle", call)
            {
                if let Some(clone) = k.processes.get_mut(&pid) {
                    clone.exit = Some(0);
                }
            }
        }
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssFreeSnapshot(processhandle: HANDLE, snapshothandle: HPSS) -> u32 {
    let mut e = pss("PssFreeSnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    let result = (|| {
        let (pid, access) = k.process_handle(call, processhandle.addr())?;
        let snapshot = k.snapshot(call, value)?;
        if snapshot.context != pid {
            misuse(
                call,
                format!(
                    "HPSS {value:#x} lives in process {:#x}'s context, freed through a handle to process {pid:#x}",
                    snapshot.context
                ),
            );
        }
        if !covers(
            access,
            PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE,
        ) {
            return Err(ERROR_ACCESS_DENIED);
        }
        if pid != CURRENT_PID && !snapshot.vm_allocated && !snapshot.duplicated_remotely {
            return Err(ERROR_NOT_SUPPORTED);
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            free(k, value, call);
            ERROR_SUCCESS
        }
        Err(code) => code,
    }
}

/// The local snapshot behind `value` for query and walk: a snapshot in another process's
/// context has no meaning here.
fn local_snapshot<'k>(
    k: &'k mut kernel::Kernel,
    call: &'static str,
    value: usize,
) -> Result<&'k mut Snapshot, u32> {
    let snapshot = k.snapshot(call, value)?;
    if snapshot.context != CURRENT_PID {
        misuse(
            call,
            format!(
                "HPSS {value:#x} lives in process {:#x}'s context and cannot be read from this one",
                snapshot.context
            ),
        );
    }
    Ok(snapshot)
}

fn check_buffer(call: &str, buffer: *mut c_void, align: usize) {
    if buffer.addr() % align != 0 {
        misuse(call, format!("buffer {buffer:p} is not aligned to {align}"));
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssQuerySnapshot(
    snapshothandle: HPSS,
    informationclass: PSS_QUERY_INFORMATION_CLASS,
    buffer: *mut c_void,
    bufferlength: u32,
) -> u32 {
    let mut e = pss("PssQuerySnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    let snapshot = match local_snapshot(k, call, value) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (va_clone, trace) = (snapshot.va_clone, snapshot.trace_section);
    let data = snapshot.data.clone();
    macro_rules! answer {
        ($ty:ty, $present:expr, $value:expr) => {{
            if bufferlength as usize != size_of::<$ty>() {
                return ERROR_BAD_LENGTH;
            }
            if buffer.is_null() {
                return ERROR_INVALID_PARAMETER;
            }
            check_buffer(call, buffer, align_of::<$ty>());
            if !$present {
                return ERROR_NOT_FOUND;
            }
            let v: $ty = $value;
            // SAFETY: non-null, aligned and exactly `size_of::<$ty>()` bytes, checked above.
            unsafe { buffer.cast::<$ty>().write(v) };
            ERROR_SUCCESS
        }};
    }
    match informationclass {
        PSS_QUERY_PROCESS_INFORMATION => {
            answer!(PSS_PROCESS_INFORMATION, true, process_information(&data))
        }
        PSS_QUERY_VA_CLONE_INFORMATION => answer!(
            PSS_VA_CLONE_INFORMATION,
            va_clone.is_some(),
            PSS_VA_CLONE_INFORMATION {
                VaCloneHandle: handle(va_clone.unwrap_or(0))
            }
        ),
        PSS_QUERY_AUXILIARY_PAGES_INFORMATION => answer!(
            PSS_AUXILIARY_PAGES_INFORMATION,
            data.aux_pages.is_some(),
            PSS_AUXILIARY_PAGES_INFORMATION {
                AuxPagesCaptured: data.aux_pages.as_ref().map_or(0, Vec::len) as u32
            }
        ),
        PSS_QUERY_VA_SPACE_INFORMATION => answer!(
            PSS_VA_SPACE_INFORMATION,
            data.regions.is_some(),
            PSS_VA_SPACE_INFORMATION {
                RegionCount: data.regions.as_ref().map_or(0, Vec::len) as u32
            }
        ),
        PSS_QUERY_HANDLE_INFORMATION => answer!(
            PSS_HANDLE_INFORMATION,
            data.handles.is_some(),
            PSS_HANDLE_INFORMATION {
                HandlesCaptured: data.handles.as_ref().map_or(0, Vec::len) as u32
            }
        ),
        PSS_QUERY_THREAD_INFORMATION => answer!(
            PSS_THREAD_INFORMATION,
            data.threads.is_some(),
            PSS_THREAD_INFORMATION {
                ThreadsCaptured: data.threads.as_ref().map_or(0, Vec::len) as u32,
                ContextLength: data.context_length.unwrap_or(0)
            }
        ),
        PSS_QUERY_HANDLE_TRACE_INFORMATION => answer!(
            PSS_HANDLE_TRACE_INFORMATION,
            trace.is_some(),
            PSS_HANDLE_TRACE_INFORMATION {
                SectionHandle: handle(trace.unwrap_or(0)),
                Size: 0x1000
            }
        ),
        PSS_QUERY_PERFORMANCE_COUNTERS => answer!(
            PSS_PERFORMANCE_COUNTERS,
            data.performance,
            performance_counters()
        ),
        _ => ERROR_INVALID_PARAMETER,
    }
}

fn process_information(data: &data::Captured) -> PSS_PROCESS_INFORMATION {
    let p = &data.process;
    let mut info = PSS_PROCESS_INFORMATION {
        ExitStatus: p.exit.unwrap_or(STILL_ACTIVE as u32),
        AffinityMask: 0xFF,
        BasePriority: 8,
        ProcessId: p.pid,
        ParentProcessId: p.parent,
        Flags: p.flags,
        CreateTime: walk::filetime(data.capture_time - 9_000_000),
        ExitTime: if p.exit.is_some() {
            walk::filetime(data.capture_time - 2_000)
        } else {
            FILETIME::default()
        },
        KernelTime: walk::filetime(156_250),
        UserTime: walk::filetime(312_500),
        PriorityClass: 0x20,
        PeakVirtualSize: 0x0900_0000,
        VirtualSize: 0x0800_0000,
        PageFaultCount: 1234,
        PeakWorkingSetSize: 0x0060_0000,
        WorkingSetSize: 0x0050_0000,
        QuotaPeakPagedPoolUsage: 0x1_0000,
        QuotaPagedPoolUsage: 0x8000,
        QuotaPeakNonPagedPoolUsage: 0x2000,
        QuotaNonPagedPoolUsage: 0x1000,
        PagefileUsage: 0x0030_0000,
        PeakPagefileUsage: 0x0040_0000,
        PrivateUsage: 0x0030_0000,
        ..Default::default()
    };
    // Cut at MAX_PATH units; a name that fills the buffer has no terminator.
    let n = p.image.len().min(info.ImageFileName.len());
    info.ImageFileName[..n].copy_from_slice(&p.image[..n]);
    info
}

fn performance_counters() -> PSS_PERFORMANCE_COUNTERS {
    PSS_PERFORMANCE_COUNTERS {
        TotalCycleCount: 9_000_000,
        TotalWallClockPeriod: 30_000,
        VaCloneCycleCount: 1_000_000,
        VaCloneWallClockPeriod: 4_000,
        VaSpaceCycleCount: 2_000_000,
        VaSpaceWallClockPeriod: 6_000,
        AuxPagesCycleCount: 500_000,
        AuxPagesWallClockPeriod: 2_000,
        HandlesCycleCount: 3_000_000,
        HandlesWallClockPeriod: 10_000,
        ThreadsCycleCount: 2_500_000,
        ThreadsWallClockPeriod: 8_000,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkSnapshot(
    snapshothandle: HPSS,
    informationclass: PSS_WALK_INFORMATION_CLASS,
    walkmarkerhandle: HPSSWALK,
    buffer: *mut c_void,
    bufferlength: u32,
) -> u32 {
    let mut e = pss("PssWalkSnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    let data = match local_snapshot(k, call, value) {
        Ok(s) => s.data.clone(),
        Err(code) => return code,
    };
    let marker = k.marker(call, walkmarkerhandle.addr());
    let Some(size) = walk::entry_size(informationclass) else {
        return ERROR_INVALID_PARAMETER;
    };
    if walk::captured_count(&data, informationclass).is_none() {
        return ERROR_NOT_FOUND;
    }
    marker.bind(value, informationclass);
    if buffer.is_null() {
        return if marker.has_entry(&data, informationclass) {
            ERROR_MORE_DATA
        } else {
            ERROR_NO_MORE_ITEMS
        };
    }
    if bufferlength as usize != size {
        return ERROR_BAD_LENGTH;
    }
    check_buffer(call, buffer, walk::entry_align(informationclass));
    marker.next(&data, informationclass, buffer)
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerCreate(
    allocator: *const PSS_ALLOCATOR,
    walkmarkerhandle: *mut HPSSWALK,
) -> u32 {
    let mut e = pss("PssWalkMarkerCreate");
    let k = e.k();
    if walkmarkerhandle.is_null() {
        return ERROR_INVALID_PARAMETER;
    }
    match Marker::create(allocator) {
        Ok(marker) => {
            let value = k.issue_marker(marker);
            // SAFETY: the caller passes a writable HPSSWALK.
            unsafe { walkmarkerhandle.write(handle(value)) };
            ERROR_SUCCESS
        }
        Err(code) => code,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerFree(walkmarkerhandle: HPSSWALK) -> u32 {
    let mut e = pss("PssWalkMarkerFree");
    let call = e.call;
    let k = e.k();
    let value = walkmarkerhandle.addr();
    k.marker(call, value);
    if let Some(Object::Marker(marker)) = k.retire(value, "marker", call) {
        marker.free();
    }
    ERROR_SUCCESS
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerGetPosition(
    walkmarkerhandle: HPSSWALK,
    position: *mut usize,
) -> u32 {
    let mut e = pss("PssWalkMarkerGetPosition");
    let call = e.call;
    let marker = e.k().marker(call, walkmarkerhandle.addr());
    if position.is_null() {
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: the caller passes a writable ULONG_PTR.
    unsafe { position.write(marker.position()) };
    ERROR_SUCCESS
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerSetPosition(
    walkmarkerhandle: HPSSWALK,
    position: usize,
) -> u32 {
    let mut e = pss("PssWalkMarkerSetPosition");
    let call = e.call;
    match e
        .k()
        .marker(call, walkmarkerhandle.addr())
        .set_position(position)
    {
        Ok(()) => ERROR_SUCCESS,
        Err(code) => code,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerSeekToBeginning(walkmarkerhandle: HPSSWALK) -> u32 {
    let mut e = pss("PssWalkMarkerSeekToBeginning");
    let call = e.call;
    e.k().marker(call, walkmarkerhandle.addr()).rewind();
    ERROR_SUCCESS
}

#[unsafe(no_mangle)]
pub extern "system" fn GetCurrentProcess() -> HANDLE {
    let _e = kernel::enter("GetCurrentProcess");
    handle(CURRENT_PROCESS)
}

#[unsafe(no_mangle)]
pub extern "system" fn GetLastError() -> WIN32_ERROR {
    let _e = kernel::enter("GetLastError");
    LAST_ERROR.with(Cell::get)
}

#[unsafe(no_mangle)]
pub extern "system" fn GetProcessId(process: HANDLE) -> u32 {
    let mut e = kernel::enter("GetProcessId");
    let call = e.call;
    let k = e.k();
    let value = process.addr();
    match k.process_handle(call, value) {
        Ok((pid, access)) if covers(access, PROCESS_QUERY_LIMITED_INFORMATION) => pid,
        Ok(_) => {
            set_last_error(ERROR_ACCESS_DENIED);
            0
        }
        Err(code) => {
            set_last_error(code);
            0
        }
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn OpenProcess(
    dwdesiredaccess: PROCESS_ACCESS_RIGHTS,
    _binherithandle: BOOL,
    dwprocessid: u32,
) -> HANDLE {
    let mut e = kernel::enter("OpenProcess");
    let k = e.k();
    let Some(process) = k.processes.get(&dwprocessid) else {
        set_last_error(ERROR_INVALID_PARAMETER);
        return std::ptr::null_mut();
    };
    if !covers(process.grantable, dwdesiredaccess) {
        set_last_error(ERROR_ACCESS_DENIED);
        return std::ptr::null_mut();
    }
    handle(k.issue_handle(KernelHandle {
        object: HandleObject::Process(dwprocessid),
        access: dwdesiredaccess,
        owner: me(),
    }))
}

#[unsafe(no_mangle)]
pub extern "system" fn CloseHandle(hobject: HANDLE) -> BOOL {
    let mut e = kernel::enter("CloseHandle");
    let call = e.call;
    let k = e.k();
    let value = hobject.addr();
    if value == CURRENT_PROCESS {
        return 1; // Closing the pseudo handle has no effect (documented for GetCurrentProcess).
    }
    match k.objects.get(&value) {
        Some(Object::Handle(KernelHandle {
            object: HandleObject::Process(_),
            ..
        })) => {
            k.retire(value, "handle", call);
            1
        }
        Some(Object::Handle(KernelHandle {
            object: HandleObject::VaClone { .. } | HandleObject::TraceSection,
            ..
        })) => misuse(
            call,
            format!(
                "handle {value:#x} belongs to a snapshot (VA clone or trace section); PssFreeSnapshot closes it"
            ),
        ),
        Some(Object::Snapshot(_)) => misuse(
            call,
            format!("{value:#x} is an HPSS: free it with PssFreeSnapshot, never CloseHandle"),
        ),
        Some(Object::Marker(_)) => misuse(
            call,
            format!("{value:#x} is an HPSSWALK: free it with PssWalkMarkerFree"),
        ),
        Some(Object::Freed { by, .. }) => misuse(
            call,
            format!("handle {value:#x} was already closed by {by}"),
        ),
        None => {
            set_last_error(ERROR_INVALID_HANDLE);
            0
        }
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn DuplicateHandle(
    hsourceprocesshandle: HANDLE,
    hsourcehandle: HANDLE,
    htargetprocesshandle: HANDLE,
    lptargethandle: *mut HANDLE,
    dwdesiredaccess: u32,
    _binherithandle: BOOL,
    dwoptions: DUPLICATE_HANDLE_OPTIONS,
) -> BOOL {
    let mut e = kernel::enter("DuplicateHandle");
    let call = e.call;
    let k = e.k();
    let result = (|| {
        let (src_pid, src_access) = k.process_handle(call, hsourceprocesshandle.addr())?;
        let (dst_pid, dst_access) = k.process_handle(call, htargetprocesshandle.addr())?;
        if src_pid != CURRENT_PID || dst_pid != CURRENT_PID {
            return Err(ERROR_NOT_SUPPORTED); // The model keeps handle tables for this process only.
        }
        if !covers(src_access & dst_access, PROCESS_DUP_HANDLE) {
            return Err(ERROR_ACCESS_DENIED);
        }
        if lptargethandle.is_null() {
            return Err(ERROR_INVALID_PARAMETER);
        }
        let source = hsourcehandle.addr();
        let (pid, access) = k.process_handle(call, source)?;
        let access = if dwoptions & DUPLICATE_SAME_ACCESS != 0 {
            access
        } else {
            dwdesiredaccess
        };
        if !covers(k.processes.get(&pid).map_or(0, |p| p.grantable), access) && pid != CURRENT_PID {
            return Err(ERROR_ACCESS_DENIED);
        }
        if dwoptions & DUPLICATE_CLOSE_SOURCE != 0
            && matches!(k.objects.get(&source), Some(Object::Handle(_)))
        {
            k.retire(source, "handle", call);
        }
        Ok(k.issue_handle(KernelHandle {
            object: HandleObject::Process(pid),
            access,
            owner: me(),
        }))
    })();
    match result {
        Ok(value) => {
            // SAFETY: checked non-null; the caller passes a writable HANDLE.
            unsafe { lptargethandle.write(handle(value)) };
            1
        }
        Err(code) => {
            set_last_error(code);
            0
        }
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn GetModuleHandleW(lpmodulename: PCWSTR) -> HMODULE {
    let _e = kernel::enter("GetModuleHandleW");
    if lpmodulename.is_null() {
        return handle(0x7FF6_0000_0000); // The executable's module.;
    }
    // SAFETY: a non-NULL module name is a NUL-terminated UTF-16 string (documented).
    let name = unsafe { wide(lpmodulename) }.to_ascii_lowercase();
    if name == "kernel32.dll" || name == "kernel32" {
        handle(KERNEL32)
    } else {
        set_last_error(ERROR_MOD_NOT_FOUND);
        std::ptr::null_mut()
    }
}

unsafe fn wide(mut p: PCWSTR) -> String {
    let mut units = Vec::new();
    // SAFETY: the caller guarantees a NUL-terminated string.
    unsafe {
        while *p != 0 {
            units.push(*p);
            p = p.add(1);
        }
    }
    String::from_utf16_lossy(&units)
}

#[unsafe(no_mangle)]
pub extern "system" fn GetProcAddress(hmodule: HMODULE, lpprocname: PCSTR) -> FARPROC {
    let mut e = kernel::enter("GetProcAddress");
    let absent = e.k().pss_absent;
    if hmodule.addr() != KERNEL32 {
        set_last_error(ERROR_MOD_NOT_FOUND);
        return None;
    }
    if lpprocname.addr() < 0x1_0000 {
        set_last_error(ERROR_PROC_NOT_FOUND); // Ordinals: not modelled.
        return None;
    }
    // SAFETY: a name (not an ordinal) is a NUL-terminated ANSI string (documented).
    let name = unsafe { std::ffi::CStr::from_ptr(lpprocname.cast()) };
    let found = super::EXPORTS
        .iter()
        .find(|(n, _)| n.as_bytes() == name.to_bytes());
    match found {
        Some((n, _)) if absent && n.starts_with("Pss") => {
            set_last_error(ERROR_PROC_NOT_FOUND);
            None
        }
        Some((_, f)) => Some(*f),
        None => {
            set_last_error(ERROR_PROC_NOT_FOUND);
            None
        }
    }
}
