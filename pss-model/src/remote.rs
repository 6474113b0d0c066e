//! The remote path's first step: reading a snapshot descriptor out of another process (decompiled
//! 24H2 ntdll `PsspDuplicateSnapshotRemoteToRemote` and `PssNtFreeRemoteSnapshot` both begin
//! with `ZwReadVirtualMemory` of `0x478` bytes at the handle's value in the source process,
//! then check the count and the `PSSD` signature).

use super::kernel::{Kernel, Object, misuse};
use pss_sys::*;

/// Bytes of a snapshot descriptor the remote path reads (`0x478`, x64 ntdll).
const DESCRIPTOR_SIZE: usize = 0x478;

/// What the remote path finds at `value` in process `pid` (whose handle the caller resolved):
/// `Ok` for a live snapshot in that process's context; `ERROR_PARTIAL_COPY` when the process
/// does not map the whole descriptor there (`ZwReadVirtualMemory` fails or reads short: NULL,
/// a value never mapped there, this process's snapshot given with another process's handle);
/// `ERROR_INVALID_HANDLE` when it is readable there but holds no snapshot (no signature). A
/// snapshot already freed is misuse (a use after free: Windows would read whatever that memory
/// holds now).
pub(crate) fn read_descriptor(
    k: &Kernel,
    call: &'static str,
    value: usize,
    pid: u32,
) -> Result<(), u32> {
    match k.objects.get(&value) {
        Some(Object::Snapshot(s)) if s.context == pid => return Ok(()),
        Some(Object::Freed {
            kind: "snapshot",
            by,
        }) => misuse(
            call,
            format!("HPSS {value:#x} was already freed by {by} (use after free / double free)"),
        ),
        _ => {}
    }
    let process = k.processes.get(&pid).expect("a resolved process handle");
    if super::memory::readable_from(process, value, DESCRIPTOR_SIZE) < DESCRIPTOR_SIZE {
        Err(ERROR_PARTIAL_COPY)
    } else {
        Err(ERROR_INVALID_HANDLE)
    }
}
