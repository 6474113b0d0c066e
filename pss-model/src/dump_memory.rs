//! Which memory the model's `MiniDumpWriteDump` reads for each thread, as dbghelp does: the
//! stack, from the stack pointer of the thread's context to the end of the region holding it
//! (at most [`MAX_STACK_DUMP`] bytes), and, in a dump without full memory, the TEB and PEB pages.
//! Memory comes from the VA clone (or the live process); what cannot be read is left out.

use super::data::ProcessData;
use super::environment::TEB_SIZE;
use pss_sys::*;

/// The most stack memory a dump holds for one thread (dbghelp bounds each thread's stack).
pub const MAX_STACK_DUMP: usize = 0x10_0000;

const PAGE: usize = 0x1000;

/// The stack pointer of a context record as the dump holds it: `None` when the record is too
/// short or its flags do not cover the control registers.
pub(crate) fn stack_pointer(record: &[u8]) -> Option<usize> {
    let word = |at: usize, n: usize| -> Option<u64> {
        let bytes = record.get(at..at + n)?;
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(bytes);
        Some(u64::from_le_bytes(le))
    };
    let flags = word(std::mem::offset_of!(CONTEXT, ContextFlags), 4)? as u32;
    #[cfg(target_arch = "x86")]
    let (control, at, n) = (CONTEXT_CONTROL_X86, std::mem::offset_of!(CONTEXT, Esp), 4);
    #[cfg(target_arch = "aarch64")]
    let (control, at, n) = (CONTEXT_CONTROL_ARM64, std::mem::offset_of!(CONTEXT, Sp), 8);
    #[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
    let (control, at, n) = (CONTEXT_CONTROL_AMD64, std::mem::offset_of!(CONTEXT, Rsp), 8);
    if flags & control != control {
        return None;
    }
    usize::try_from(word(at, n)?).ok()
}

/// The stack memory of a thread whose stack pointer is `sp`: from it to the end of the readable
/// region holding it, at most [`MAX_STACK_DUMP`] bytes.
pub(crate) fn stack_range(memory: &ProcessData, sp: usize) -> Option<(usize, usize)> {
    let region = memory.regions.iter().find(|r| r.contains(sp))?;
    if !region.readable() {
        return None;
    }
    let len = (region.base + region.size - sp).min(MAX_STACK_DUMP);
    Some((sp, len))
}

/// `len` bytes at `start`, if all of them can be read.
pub(crate) fn read(memory: &ProcessData, start: usize, len: usize) -> Option<Vec<u8>> {
    let mut bytes = vec![0; len];
    let (done, _) = super::memory::read(memory, start, &mut bytes);
    (done == len).then_some(bytes)
}

/// What a dump without full memory holds: each thread's stack (`stacks`), then each thread's
/// TEB (at `tebs`) and the PEB's page, every range that can be read and overlaps none before
/// it.
pub(crate) fn small_dump_ranges(
    memory: &ProcessData,
    stacks: &[Option<(usize, usize)>],
    tebs: &[usize],
) -> Vec<(usize, Vec<u8>)> {
    let tebs = tebs.iter().map(|&teb| (teb, TEB_SIZE));
    let peb = std::iter::once((memory.info.peb, PAGE));
    let wanted = stacks.iter().flatten().copied().chain(tebs).chain(peb);
    let mut ranges: Vec<(usize, Vec<u8>)> = Vec::new();
    for (start, len) in wanted {
        let overlaps = ranges
            .iter()
            .any(|(s, b)| start < s + b.len() && *s < start.saturating_add(len));
        if overlaps || len == 0 {
            continue;
        }
        if let Some(bytes) = read(memory, start, len) {
            ranges.push((start, bytes));
        }
    }
    ranges
}
