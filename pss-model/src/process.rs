//! The kernel32 functions around PSS that `pss` and the tests use: process handles
//! (`GetCurrentProcess`, `OpenProcess`, `GetProcessId`, `CloseHandle`, `DuplicateHandle`), the
//! last-error value, and the availability probe (`GetModuleHandleW`, `GetProcAddress`). None of
//! them is a PSS function, so allocator callbacks may call them.

use super::capture::covers;
use super::data::me;
use super::kernel::{
    self, CURRENT_PID, CURRENT_PROCESS, HandleObject, KERNEL32, KernelHandle, Object, handle,
    misuse,
};
use pss_sys::*;
use std::cell::Cell;

const ERROR_MOD_NOT_FOUND: u32 = 126;
const ERROR_PROC_NOT_FOUND: u32 = 127;

thread_local! {
    static LAST_ERROR: Cell<u32> = const { Cell::new(0) };
}

pub(crate) fn set_last_error(code: u32) {
    LAST_ERROR.with(|e| e.set(code));
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
    // An injected failure (`faults`): no handle, the code as the last error.
    if let Some(code) = super::faults::take(e.call) {
        set_last_error(code);
        return std::ptr::null_mut();
    }
    let k = e.k();
    let Some(process) = k.processes.get(&dwprocessid) else {
        set_last_error(ERROR_INVALID_PARAMETER);
        return std::ptr::null_mut();
    };
    if !covers(process.info.grantable, dwdesiredaccess) {
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
            object:
                HandleObject::Process(_) | HandleObject::File { .. } | HandleObject::Mutex { .. },
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
        Some(Object::Marker(_) | Object::MarkerInUse { .. }) => misuse(
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
        if !covers(
            k.processes.get(&pid).map_or(0, |p| p.info.grantable),
            access,
        ) && pid != CURRENT_PID
        {
            return Err(ERROR_ACCESS_DENIED);
        }
        if dwoptions & DUPLICATE_CLOSE_SOURCE != 0 {
            match k.objects.get(&source) {
                Some(Object::Handle(KernelHandle {
                    object: HandleObject::Process(_),
                    ..
                })) => {
                    k.retire(source, "handle", call);
                }
                Some(Object::Handle(_)) => misuse(
                    call,
                    format!(
                        "DUPLICATE_CLOSE_SOURCE on handle {source:#x}, which belongs to a snapshot (PssFreeSnapshot closes it)"
                    ),
                ),
                _ => {}
            }
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
        return handle(0x0040_0000); // The executable's module.
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
