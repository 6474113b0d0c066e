//! Process memory: `ReadProcessMemory` over the model's regions, which is how a VA clone is read.
//!
//! A region reads as its contents (zeros past them) where it is committed and neither
//! `PAGE_NOACCESS` nor `PAGE_GUARD`. A VA clone holds its target's regions as they were at
//! capture (later writes to the target do not show), except anonymous shared sections: those
//! are in its address space but not cloned, and reading them fails (ClrMD hit this on Windows).
//!
//! As the kernel's `MiCopyVirtualMemory`: the copy moves [`ProcessSpec::read_chunk`] bytes at a
//! time; a fault anywhere in a chunk ends the read with `ERROR_PARTIAL_COPY` and a count of the
//! chunks completed before it, not the exact byte (so a read that faults in its first chunk
//! reports 0 bytes, also when its first bytes were readable); and an address that cannot be read
//! at all is `ERROR_PARTIAL_COPY` with 0 bytes too (the access violation is converted), never
//! `ERROR_NOACCESS`, which is for a bad buffer in the caller.
//!
//! [`ProcessSpec::read_chunk`]: super::ProcessSpec::read_chunk

use super::capture::covers;
use super::data::ProcessData;
use super::kernel::{self, misuse};
use super::process::set_last_error;
use pss_sys::*;
use std::ffi::c_void;

/// How many bytes from `address` on can be read, up to `len`.
pub(crate) fn readable_from(process: &ProcessData, address: usize, len: usize) -> usize {
    let mut done = 0;
    while done < len {
        let Some(at) = address.checked_add(done) else {
            break;
        };
        let Some(region) = process.regions.iter().find(|r| r.contains(at)) else {
            break;
        };
        if !region.readable() {
            break;
        }
        done += (region.size - (at - region.base)).min(len - done);
    }
    done
}

/// How a read of `out.len()` bytes at `address` ended: the bytes reported copied, and the error
/// if short. Only the reported bytes are written to `out`.
pub(crate) fn read(process: &ProcessData, address: usize, out: &mut [u8]) -> (usize, Option<u32>) {
    let readable = readable_from(process, address, out.len())
        .min(super::vanishing::readable(address, out.len()));
    let reported = if readable == out.len() {
        readable
    } else {
        readable - readable % process.info.read_chunk
    };
    let mut done = 0;
    while done < reported {
        let at = address + done;
        let region = process
            .regions
            .iter()
            .find(|r| r.contains(at))
            .expect("readable");
        let offset = at - region.base;
        let n = (region.size - offset).min(reported - done);
        region.read_at(offset, &mut out[done..done + n]);
        done += n;
    }
    if reported == out.len() {
        (reported, None)
    } else {
        (reported, Some(ERROR_PARTIAL_COPY))
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
