//! The ten PSS functions, defined with `#[unsafe(no_mangle)]` so the unchanged `pss` code links
//! against the model on non-Windows hosts. Each is a thin shell: count the call, lock the state,
//! validate in ntdll's order (or, where nothing shows it, as the table in the module docs says),
//! act. The other kernel32 functions are in `process.rs`.

use super::capture::{self, Captured, covers};
use super::data::me;
use super::faults;
use super::kernel::{self, CURRENT_PID, Object, Snapshot, handle, misuse};
use super::walk::{self, Marker};
use pss_sys::*;
use std::ffi::c_void;

#[unsafe(no_mangle)]
pub extern "system" fn PssCaptureSnapshot(
    processhandle: HANDLE,
    captureflags: PSS_CAPTURE_FLAGS,
    threadcontextflags: u32,
    snapshothandle: *mut HPSS,
) -> u32 {
    let mut e = kernel::enter_pss("PssCaptureSnapshot");
    let call = e.call;
    if let Err(code) = capture::check_flags(captureflags) {
        return code; // before ntdll looks at the out-parameter: it stays as it was
    }
    if snapshothandle.is_null() {
        misuse(
            call,
            "NULL SnapshotHandle (kernel32 writes the new HPSS through it)",
        );
    }
    // Whatever it holds on entry is ignored: Microsoft's samples pass an uninitialised HPSS,
    // so kernel32 cannot hand it to ntdll (which would build the snapshot in memory it points
    // to); it is written only on success.
    match capture::capture(
        e.k(),
        processhandle.addr(),
        captureflags,
        threadcontextflags,
    ) {
        Ok(value) => {
            // SAFETY: as above.
            unsafe { snapshothandle.write(handle(value)) };
            ERROR_SUCCESS
        }
        // ntdll frees what it built; the out-parameter is not written.
        Err(code) => code,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssDuplicateSnapshot(
    sourceprocesshandle: HANDLE,
    snapshothandle: HPSS,
    targetprocesshandle: HANDLE,
    targetsnapshothandle: *mut HPSS,
    flags: PSS_DUPLICATE_FLAGS,
) -> u32 {
    let mut e = kernel::enter_pss("PssDuplicateSnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    if targetsnapshothandle.is_null() {
        return ERROR_INVALID_PARAMETER;
    }
    // ntdll tests only bit 0 (`a5 & 1`); other bits are ignored, as kernel32 passes the
    // capture flags through too.
    let close_source = flags & PSS_DUPLICATE_CLOSE_SOURCE != 0;
    // Only the pseudo handle selects ntdll's local path; any real handle, even one to this
    // process, is the remote path, which reads the descriptor out of the source process.
    let local = sourceprocesshandle.addr() == kernel::CURRENT_PROCESS;
    let result = if local {
        // The descriptor is validated in this process's memory: NULL is ERROR_INVALID_HANDLE
        // (and frees nothing); anything but a live local snapshot raises STATUS_INVALID_HANDLE
        // or reads garbage.
        if value == 0 {
            return ERROR_INVALID_HANDLE;
        }
        let snapshot = match k.snapshot(call, value) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if snapshot.context != CURRENT_PID {
            misuse(
                call,
                format!(
                    "HPSS {value:#x} lives in process {:#x}'s context, but the source is this process (GetCurrentProcess()): ntdll validates it as local memory",
                    snapshot.context
                ),
            );
        }
        let result = duplicate_into(k, call, value, targetprocesshandle.addr());
        // CLOSE_SOURCE frees the local source on success and failure alike (it does not check
        // PSS_CREATE_USE_VM_ALLOCATIONS, which the page says it needs).
        if close_source {
            k.retire(value, "snapshot", call);
        }
        result
    } else {
        // PsspDuplicateSnapshotRemoteToRemote clears the out-parameter first.
        // SAFETY: checked non-NULL; the caller passes a writable HPSS.
        unsafe { targetsnapshothandle.write(std::ptr::null_mut()) };
        let source = k.process_handle(call, sourceprocesshandle.addr());
        let result = source.and_then(|(src_pid, src_access)| {
            if !covers(src_access, PROCESS_VM_READ) {
                return Err(ERROR_ACCESS_DENIED); // the descriptor cannot be read
            }
            super::remote::read_descriptor(k, call, value, src_pid)?;
            if k.snapshot_data(value).holds_kernel_handles()
                && !covers(src_access, PROCESS_DUP_HANDLE)
            {
                return Err(ERROR_ACCESS_DENIED);
            }
            duplicate_into(k, call, value, targetprocesshandle.addr())
        });
        // CLOSE_SOURCE runs the remote free on every path, its result ignored.
        if close_source {
            if let Ok((src_pid, src_access)) = source {
                if covers(src_access, PROCESS_VM_READ)
                    && super::remote::read_descriptor(k, call, value, src_pid).is_ok()
                {
                    let _ = free_remote(k, call, value, src_access);
                }
            }
        }
        result
    };
    match result {
        Ok(copy) => {
            // SAFETY: checked non-NULL; the caller passes a writable HPSS.
            unsafe { targetsnapshothandle.write(handle(copy)) };
            ERROR_SUCCESS
        }
        Err(code) => code, // local path: left as it was; remote path: NULL
    }
}

/// Copies the snapshot `value` into the process `target` refers to: an independent descriptor
/// with the same data and its own duplicate of every kernel handle the source holds. The target
/// needs `PROCESS_VM_OPERATION | PROCESS_VM_WRITE` (the copy is allocated and written there),
/// and `PROCESS_DUP_HANDLE` only when there are handles to duplicate.
fn duplicate_into(
    k: &mut kernel::Kernel,
    call: &'static str,
    value: usize,
    target: usize,
) -> Result<usize, u32> {
    let (dst_pid, dst_access) = k.process_handle(call, target)?;
    let data = k.snapshot_data(value);
    let mut needed = PROCESS_VM_OPERATION | PROCESS_VM_WRITE;
    if data.holds_kernel_handles() {
        needed |= PROCESS_DUP_HANDLE;
    }
    if !covers(dst_access, needed) {
        return Err(ERROR_ACCESS_DENIED);
    }
    if let Some(code) = faults::take(call) {
        return Err(code); // nothing is created
    }
    let Some(Object::Snapshot(source)) = k.objects.get(&value) else {
        unreachable!("checked by the caller")
    };
    let copy = Snapshot {
        context: dst_pid,
        flags: source.flags,
        vm_descriptor: true,
        data: source.data.clone(),
        clone_pid: source.clone_pid,
        va_clone: None,
        trace_section: None,
        owner: me(),
    };
    let (clone_pid, trace) = (copy.clone_pid, copy.data.trace);
    let copy_value = k.issue_snapshot(copy);
    if dst_pid == CURRENT_PID {
        capture::attach_local_handles(k, copy_value, clone_pid, trace);
    }
    Ok(copy_value)
}

/// `PssNtFreeRemoteSnapshot` on the live snapshot `value` that [`remote::read_descriptor`]
/// found, through a handle granted `access` to the process that holds it (`PROCESS_VM_READ`,
/// checked by the caller): a snapshot on that process's heap (neither VM-allocated nor a
/// duplicate) cannot be released from here (`ERROR_NOT_SUPPORTED`, nothing freed); otherwise
/// its handles are closed there (`PROCESS_DUP_HANDLE`) and its memory released
/// (`PROCESS_VM_OPERATION`), each failure ignored, and the call reports success.
///
/// [`remote::read_descriptor`]: super::remote::read_descriptor
fn free_remote(
    k: &mut kernel::Kernel,
    call: &'static str,
    value: usize,
    access: u32,
) -> Result<(), u32> {
    let Some(Object::Snapshot(snapshot)) = k.objects.get(&value) else {
        unreachable!("checked by the caller")
    };
    if !snapshot.vm_descriptor {
        return Err(ERROR_NOT_SUPPORTED);
    }
    k.retire_remote(
        value,
        call,
        covers(access, PROCESS_DUP_HANDLE),
        covers(access, PROCESS_VM_OPERATION),
    );
    Ok(())
}

#[unsafe(no_mangle)]
pub extern "system" fn PssFreeSnapshot(processhandle: HANDLE, snapshothandle: HPSS) -> u32 {
    let mut e = kernel::enter_pss("PssFreeSnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    let (pid, access) = match k.process_handle(call, processhandle.addr()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // kernel32 frees locally only through the pseudo handle (as ntdll's duplicate chooses its
    // path); any real handle, even one to this process, takes the remote free.
    if processhandle.addr() == kernel::CURRENT_PROCESS {
        // Validated in this process's memory: NULL is ERROR_INVALID_HANDLE; anything but a live
        // local snapshot raises or corrupts.
        let snapshot = match k.snapshot(call, value) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if snapshot.context != CURRENT_PID {
            misuse(
                call,
                format!(
                    "HPSS {value:#x} lives in process {:#x}'s context, freed through GetCurrentProcess() (ntdll validates it as local memory)",
                    snapshot.context
                ),
            );
        }
        k.retire(value, "snapshot", call); // a local free checks no rights (never injected)
        return ERROR_SUCCESS;
    }
    // The remote free reads the descriptor out of that process first: without PROCESS_VM_READ
    // it cannot (ERROR_ACCESS_DENIED); a value it does not map is ERROR_PARTIAL_COPY, one
    // without the signature ERROR_INVALID_HANDLE. A failed free frees nothing.
    if !covers(access, PROCESS_VM_READ) {
        return ERROR_ACCESS_DENIED;
    }
    if let Err(code) = super::remote::read_descriptor(k, call, value, pid) {
        return code;
    }
    if let Some(code) = faults::take(call) {
        return code;
    }
    match free_remote(k, call, value, access) {
        Ok(()) => ERROR_SUCCESS,
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
    if buffer.is_null() {
        misuse(call, "NULL buffer (ntdll writes through it unchecked)");
    }
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
    let mut e = kernel::enter_pss("PssQuerySnapshot");
    let call = e.call;
    let k = e.k();
    let snapshot = match local_snapshot(k, call, snapshothandle.addr()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (va_clone, trace) = (snapshot.va_clone, snapshot.trace_section);
    let data = &*snapshot.data;
    // ntdll's order: handle, class, length, presence; the buffer is never checked, so a NULL
    // one gives ERROR_NOT_FOUND for what was not captured and is written through otherwise.
    macro_rules! answer {
        ($ty:ty, $present:expr, $value:expr) => {{
            if bufferlength as usize != size_of::<$ty>() {
                return ERROR_BAD_LENGTH;
            }
            if !$present {
                return ERROR_NOT_FOUND;
            }
            check_buffer(call, buffer, align_of::<$ty>());
            let v: $ty = $value;
            // SAFETY: non-null, aligned and exactly `size_of::<$ty>()` bytes, checked above.
            unsafe { buffer.cast::<$ty>().write(v) };
            ERROR_SUCCESS
        }};
    }
    match informationclass {
        PSS_QUERY_PROCESS_INFORMATION => {
            answer!(PSS_PROCESS_INFORMATION, true, process_information(data))
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
                AuxPagesCaptured: data.aux_pages.as_ref().map_or(0, |p| p.len()) as u32
            }
        ),
        PSS_QUERY_VA_SPACE_INFORMATION => answer!(
            PSS_VA_SPACE_INFORMATION,
            data.regions.is_some(),
            PSS_VA_SPACE_INFORMATION {
                RegionCount: data.regions.as_ref().map_or(0, |r| r.len()) as u32
            }
        ),
        PSS_QUERY_HANDLE_INFORMATION => answer!(
            PSS_HANDLE_INFORMATION,
            data.handles.is_some(),
            PSS_HANDLE_INFORMATION {
                HandlesCaptured: data.handles.as_ref().map_or(0, |h| h.len()) as u32
            }
        ),
        PSS_QUERY_THREAD_INFORMATION => answer!(
            PSS_THREAD_INFORMATION,
            data.threads.is_some(),
            PSS_THREAD_INFORMATION {
                ThreadsCaptured: data.threads.as_ref().map_or(0, |t| t.len()) as u32,
                ContextLength: data.context_length.unwrap_or(0)
            }
        ),
        PSS_QUERY_HANDLE_TRACE_INFORMATION => answer!(
            PSS_HANDLE_TRACE_INFORMATION,
            trace.is_some(),
            PSS_HANDLE_TRACE_INFORMATION {
                SectionHandle: handle(trace.unwrap_or(0)),
                Size: data.process.handle_trace_size
            }
        ),
        // No presence check: zeros unless the capture was measured.
        PSS_QUERY_PERFORMANCE_COUNTERS => answer!(
            PSS_PERFORMANCE_COUNTERS,
            true,
            if data.performance {
                performance_counters(data)
            } else {
                PSS_PERFORMANCE_COUNTERS::default()
            }
        ),
        _ => ERROR_INVALID_PARAMETER,
    }
}

fn process_information(data: &Captured) -> PSS_PROCESS_INFORMATION {
    let p = &data.process;
    let mut info = PSS_PROCESS_INFORMATION {
        ExitStatus: p.exit.unwrap_or(STILL_ACTIVE as u32),
        PebBaseAddress: std::ptr::without_provenance_mut(p.peb),
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
    // Empty when the path reaches the process's limit (ntdll's small buffer); otherwise cut at
    // MAX_PATH units, with no terminator when it fills the buffer.
    if p.image.len() < p.image_name_limit {
        let n = p.image.len().min(info.ImageFileName.len());
        info.ImageFileName[..n].copy_from_slice(&p.image[..n]);
    }
    info
}

/// The counters of a measured capture: cycles, and wall-clock periods in microseconds; only
/// the pairs of the parts actually captured are written, the rest stay zero.
fn performance_counters(data: &Captured) -> PSS_PERFORMANCE_COUNTERS {
    let pair = |captured: bool, cycles: u64, micros: u64| {
        if captured { (cycles, micros) } else { (0, 0) }
    };
    let va_clone = pair(data.va_clone, 1_000_000, 400);
    let va_space = pair(data.regions.is_some(), 2_000_000, 600);
    let aux_pages = pair(data.aux_pages.is_some(), 500_000, 200);
    let handles = pair(data.handles.is_some(), 3_000_000, 1_000);
    // Written whenever the thread part ran, even when it found no thread (ND: `+139`).
    let threads = pair(data.thread_part, 2_500_000, 800);
    let parts = [va_clone, va_space, aux_pages, handles, threads];
    PSS_PERFORMANCE_COUNTERS {
        TotalCycleCount: 1_000_000 + parts.iter().map(|p| p.0).sum::<u64>(),
        TotalWallClockPeriod: 100 + parts.iter().map(|p| p.1).sum::<u64>(),
        VaCloneCycleCount: va_clone.0,
        VaCloneWallClockPeriod: va_clone.1,
        VaSpaceCycleCount: va_space.0,
        VaSpaceWallClockPeriod: va_space.1,
        AuxPagesCycleCount: aux_pages.0,
        AuxPagesWallClockPeriod: aux_pages.1,
        HandlesCycleCount: handles.0,
        HandlesWallClockPeriod: handles.1,
        ThreadsCycleCount: threads.0,
        ThreadsWallClockPeriod: threads.1,
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
    let mut e = kernel::enter_pss("PssWalkSnapshot");
    let call = e.call;
    let k = e.k();
    let value = snapshothandle.addr();
    // ntdll's order: handle, class, length (only for a buffer), presence, marker, end, probe.
    let data = match local_snapshot(k, call, value) {
        Ok(s) => s.data.clone(),
        Err(code) => return code,
    };
    let Some(size) = walk::entry_size(informationclass, data.process.thread_names) else {
        return ERROR_INVALID_PARAMETER;
    };
    if !buffer.is_null() && bufferlength as usize != size {
        return ERROR_BAD_LENGTH;
    }
    if walk::captured_count(&data, informationclass).is_none() {
        return ERROR_NOT_FOUND;
    }
    let marker_value = walkmarkerhandle.addr();
    if marker_value == 0 {
        return ERROR_INVALID_PARAMETER;
    }
    let mut marker = k.take_marker(call, marker_value);
    marker.bind(value, informationclass);
    // The view is mapped on the marker's first call (ntdll: `if ( !*a3 )`), probe or not: only
    // then can mapping fail, and a failed map is retried by the next call.
    let fault = if marker.mapped {
        None
    } else {
        faults::take(call)
    };
    marker.mapped = fault.is_none();
    let code = if let Some(code) = fault {
        code // the marker does not advance
    } else if !marker.has_entry(&data, informationclass) {
        ERROR_NO_MORE_ITEMS
    } else if buffer.is_null() {
        ERROR_MORE_DATA
    } else {
        check_buffer(call, buffer, walk::entry_align(informationclass));
        marker.next(&data, informationclass, buffer) // entry data never uses the allocator
    };
    e.k().put_marker(marker_value, marker);
    code
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerCreate(
    allocator: *const PSS_ALLOCATOR,
    walkmarkerhandle: *mut HPSSWALK,
) -> u32 {
    let e = kernel::enter_pss("PssWalkMarkerCreate");
    if walkmarkerhandle.is_null() {
        return ERROR_INVALID_PARAMETER;
    }
    if let Some(code) = faults::take(e.call) {
        return code; // no marker
    }
    drop(e); // the allocator runs without the lock
    match Marker::create(allocator) {
        Ok(marker) => {
            let value = kernel::lock().issue_marker(marker);
            // SAFETY: the caller passes a writable HPSSWALK.
            unsafe { walkmarkerhandle.write(handle(value)) };
            ERROR_SUCCESS
        }
        Err(code) => code,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerFree(walkmarkerhandle: HPSSWALK) -> u32 {
    let mut e = kernel::enter_pss("PssWalkMarkerFree");
    let call = e.call;
    let value = walkmarkerhandle.addr();
    let marker = e.k().take_marker(call, value);
    e.k().retire(value, "marker", call);
    drop(e); // the allocator's FreeRoutine runs without the lock
    marker.free();
    ERROR_SUCCESS
}

/// Runs `f` on the marker behind `value`, which stays in the table's keeping.
fn with_marker<T>(call: &'static str, value: HPSSWALK, f: impl FnOnce(&mut Marker) -> T) -> T {
    let mut e = kernel::enter_pss(call);
    let mut marker = e.k().take_marker(call, value.addr());
    let result = f(&mut marker);
    e.k().put_marker(value.addr(), marker);
    result
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerGetPosition(
    walkmarkerhandle: HPSSWALK,
    position: *mut usize,
) -> u32 {
    with_marker("PssWalkMarkerGetPosition", walkmarkerhandle, |marker| {
        if position.is_null() {
            return ERROR_INVALID_PARAMETER;
        }
        // SAFETY: the caller passes a writable ULONG_PTR.
        unsafe { position.write(marker.position()) };
        ERROR_SUCCESS
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerSetPosition(
    walkmarkerhandle: HPSSWALK,
    position: usize,
) -> u32 {
    with_marker("PssWalkMarkerSetPosition", walkmarkerhandle, |marker| {
        marker.set_position(position);
        ERROR_SUCCESS
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn PssWalkMarkerSeekToBeginning(walkmarkerhandle: HPSSWALK) -> u32 {
    with_marker("PssWalkMarkerSeekToBeginning", walkmarkerhandle, |marker| {
        marker.rewind();
        ERROR_SUCCESS
    })
}
