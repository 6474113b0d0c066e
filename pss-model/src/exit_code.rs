//! `GetExitCodeProcess`: how `pss` tells a capture that failed because its target had exited
//! from one that failed for another reason, without a second capture.

use super::capture::covers;
use super::kernel;
use super::process::set_last_error;
use pss_sys::*;

/// `GetExitCodeProcess(process, &code)`: the exit code of an exited process, `STILL_ACTIVE`
/// (259) for a running one. Needs `PROCESS_QUERY_LIMITED_INFORMATION` (else
/// `ERROR_ACCESS_DENIED`); an invalid handle, or a NULL out-pointer, is `ERROR_INVALID_HANDLE`
/// / `ERROR_NOACCESS`, `FALSE` and the code in the last error, as on Windows.
#[unsafe(no_mangle)]
pub extern "system" fn GetExitCodeProcess(hprocess: HANDLE, lpexitcode: *mut u32) -> BOOL {
    let mut e = kernel::enter("GetExitCodeProcess");
    let call = e.call;
    let k = e.k();
    let result = match k.process_handle(call, hprocess.addr()) {
        Ok((pid, access)) if covers(access, PROCESS_QUERY_LIMITED_INFORMATION) => Ok(k
            .processes
            .get(&pid)
            .and_then(|p| p.info.exit)
            .unwrap_or(STILL_ACTIVE as u32)),
        Ok(_) => Err(ERROR_ACCESS_DENIED),
        Err(code) => Err(code),
    };
    match result {
        Ok(_) if lpexitcode.is_null() => {
            set_last_error(ERROR_NOACCESS);
            0
        }
        Ok(code) => {
            // SAFETY: checked non-null; the caller passes a writable u32.
            unsafe { lpexitcode.write(code) };
            1
        }
        Err(code) => {
            set_last_error(code);
            0
        }
    }
}
