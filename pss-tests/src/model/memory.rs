//! Process memory: `ReadProcessMemory` over the model's regions, which is how a VA clone is read.
//!
//! A region reads as its contents (zeros past them) where it is committed and neither
//! `PAGE_NOACCESS` nor `PAGE_GUARD`. A VA clone holds its target's regions as they were at
//! capture (later writes to the target do not show), except anonymous shared sections: those
//! are in its address space but not cloned, and reading them fails with `ERROR_PARTIAL_COPY`
//! (ClrMD hit this on Windows).

use super::capture::covers;
use super::data::ProcessData;
use super::kernel::{self, misuse};
use super::process::set_last_error;
use pss_sys::*;
use std::ffi::c_void;

/// How a read of `len` bytes at `address` ended: the bytes copied, and the error if short.
pub(crate) fn read(process: &ProcessData, address: usize, out: &mut [u8]) -> (usize, Option<u32>) {
    let mut done = 0;
    while done < out.len() {
        let at = address.wrapping_add(done);
        let Some(region) = process.regions.iter().find(|r| r.contains(at)) else {
            break;
        };
        if !region.readable() {
            if done == 0 && region.not_cloned {
                // A section the clone does not hold: Windows reports a partial copy.
                return (0, Some(ERROR_PARTIAL_COPY));
            }
            break;
        }
        let offset = at - region.base;
        let n = (region.size - offset).min(out.len() - done);
        region.read_at(offset, &mut out[done..done + n]);
        done += n;
    }
    match done {
        _ if done == out.len() => (done, None),
        // Nothing readable at the address itself: an access violation.
        0 => (0, Some(ERROR_NOACCESS)),
        _ => (done, Some(ERROR_PARTIAL_COPY)),
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn ReadProcessMemory(
    hprocess: HANDLE,
    lpbaseaddress: *const c_void,
    lpbuffer: *mut c_void,
    nsize: usize,
    lpnumberofbytesread: *mut usize,
) -> BOOL {
    let mut e = kernel::enter("ReadProcessMemory");
    let call = e.call;
    let k = e.k();
    let result = k
        .process_handle(call, hprocess.addr())
        .and_then(|(pid, access)| {
            if covers(access, PROCESS_VM_READ) {
                Ok(pid)
            } else {
                Err(ERROR_ACCESS_DENIED)
            }
        });
    let pid = match result {
        Ok(pid) => pid,
        Err(code) => {
            set_last_error(code);
            return 0;
        }
    };
    if nsize > 0 && lpbuffer.is_null() {
        misuse(call, "NULL buffer with a non-zero size");
    }
    let out: &mut [u8] = if nsize == 0 {
        &mut []
    } else {
        // SAFETY: the caller passes a buffer of `nsize` writable bytes (documented).
        unsafe { std::slice::from_raw_parts_mut(lpbuffer.cast(), nsize) }
    };
    let (done, error) = read(&k.processes[&pid], lpbaseaddress.addr(), out);
    if !lpnumberofbytesread.is_null() {
        // SAFETY: an optional out-parameter, written when given.
        unsafe { lpnumberofbytesread.write(done) };
    }
    match error {
        None => 1,
        Some(code) => {
            set_last_error(code);
            0
        }
    }
}
