//! Thread stacks whose frames chain through frame pointers
//! ([`ThreadSpec::call_stack`](super::ThreadSpec::call_stack)), laid out when a process is
//! spawned so that a stack walker without symbols finds exactly the frames the spec names.
//!
//! A thread with a call stack gets a private read-write region of [`STACK_SIZE`] bytes, at
//! `0xC0_0000_0000 + 0x1_0000 × (tid mod 0x100)` (32-bit hosts: `0x80_0000 + ...`; the next free
//! slot when two threads of a process would share one). Near its top lie the frame records, one
//! per return address and a last one of zeros, each a pair of pointers `[saved frame pointer,
//! return address]` (what `push rbp; mov rbp, rsp` leaves on x64, `push ebp; mov ebp, esp` on
//! x86, `stp x29, x30, [sp, #-16]!; mov x29, sp` on aarch64), `0x40` bytes apart (the callee's
//! locals between them); each record's saved frame pointer points at the next, higher one. The
//! thread's frame pointer points at the first record and its stack pointer `0x80` bytes below
//! it. Everything else in the region is zero, so a walker that scans above the last record for
//! return addresses (rust-minidump scans 40 to 160 pointer slots) finds none.

use super::data::{RegionSpec, addr};

/// Bytes of a thread's stack region (committed, read-write).
pub const STACK_SIZE: usize = 0x8000;

/// The most return addresses a call stack may have: what fits in [`STACK_SIZE`].
pub const MAX_CALL_STACK: usize = 256;

/// Where stack slots start; one slot per thread id modulo 0x100.
const STACKS: usize = addr(0x0000_00C0_0000_0000, 0x0080_0000);
const SLOT: usize = 0x1_0000;
/// Bytes between one frame record and the next (the callee's locals, then the record).
const SPACING: usize = 0x40;
/// Zeros above the last record, so even the frame-pointer scan of Windows x64 unwinding
/// (15 steps of 16 bytes) reads only zeros before the end of the region.
const TOP_GAP: usize = 0x100;
/// The innermost function's locals: the stack pointer is this far below the first record.
const LOCALS: usize = 0x80;

/// The stack slot of thread `tid`: today's default stack pointer, and where its stack region
/// starts when it has a call stack.
pub(crate) const fn stack_base(tid: u32) -> usize {
    STACKS + SLOT * (tid as usize % 0x100)
}

/// The next slot after `base`, for a thread whose slot another thread of its process took.
pub(crate) const fn next_slot(base: usize) -> usize {
    base.wrapping_add(SLOT)
}

/// A laid-out stack: its region and the thread's stack and frame pointers.
pub(crate) struct Stack {
    pub(crate) region: RegionSpec,
    pub(crate) stack_pointer: usize,
    pub(crate) frame_pointer: usize,
}

/// The stack at `base` of a thread whose return addresses, innermost first, are `call_stack`
/// (at most [`MAX_CALL_STACK`]).
pub(crate) fn lay_out(base: usize, call_stack: &[usize]) -> Stack {
    let pointer = size_of::<usize>();
    let top = STACK_SIZE - TOP_GAP;
    // Offsets in the region of records 0 (innermost) ..= n (the last, zeros).
    let record = |i: usize| top - SPACING * (call_stack.len() - i);
    let mut contents = vec![0u8; top + 2 * pointer];
    for (i, &return_address) in call_stack.iter().enumerate() {
        let at = record(i);
        let saved = base + record(i + 1);
        contents[at..at + pointer].copy_from_slice(&saved.to_le_bytes());
        contents[at + pointer..at + 2 * pointer].copy_from_slice(&return_address.to_le_bytes());
    }
    let frame_pointer = base + record(0);
    Stack {
        region: RegionSpec::private(base, STACK_SIZE).contents(&contents),
        stack_pointer: frame_pointer - LOCALS,
        frame_pointer,
    }
}
