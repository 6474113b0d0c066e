//! Thread contexts in the dump's format, and the processor architecture they belong to.
//!
//! A snapshot's context records are this build's `CONTEXT` (PSS captures in the caller's
//! architecture), and a minidump's x64 (`CONTEXT_AMD64`, 1,232 bytes), x86 (`CONTEXT_X86`, 716)
//! and arm64 (`CONTEXT_ARM64`, 912) contexts are the same structures as Windows lays them out,
//! so a record goes into the dump as its first `size_of::<CONTEXT>()` bytes, with its flags
//! cleaned (below).

use pss_sys as sys;

/// `PROCESSOR_ARCHITECTURE_*` of this build: what the dump's contexts are.
pub(super) const PROCESSOR_ARCHITECTURE: u16 = if cfg!(target_arch = "x86") {
    0 // PROCESSOR_ARCHITECTURE_INTEL
} else if cfg!(target_arch = "aarch64") {
    12 // PROCESSOR_ARCHITECTURE_ARM64
} else {
    9 // PROCESSOR_ARCHITECTURE_AMD64 (x86_64, and arm64ec, whose CONTEXT is x64's)
};

/// The architecture bit of `ContextFlags` (`CONTEXT_AMD64`, `CONTEXT_i386`, `CONTEXT_ARM64`).
const CONTEXT_ARCHITECTURE: u32 = if cfg!(target_arch = "x86") {
    0x0001_0000
} else if cfg!(target_arch = "aarch64") {
    0x0040_0000
} else {
    0x0010_0000
};

/// `CONTEXT_XSTATE`'s own bit (x86 and x64): the record's extended state, which the dump does
/// not carry.
const XSTATE_BIT: u32 = 0x40;

/// The `ContextFlags` a dump's context carries for a record's `flags`: the architecture and the
/// register groups (the low byte on every architecture), without the other bits: those Windows
/// sets for its own use (`CONTEXT_EXCEPTION_ACTIVE` .. `CONTEXT_EXCEPTION_REPORTING`,
/// `0x0800_0000` up) and any other architecture's bit (`0x1_0000` .. `0x80_0000`: `CONTEXT_i386`,
/// `CONTEXT_ARM64`, ...) a record may claim, which readers take for that architecture
/// (rust-minidump rejects such a context: the fuzzer found records whose flags claim every bit
/// written so); and without `CONTEXT_XSTATE` on x86 and x64, since the extended state is not
/// written.
pub(super) fn dump_flags(flags: u32) -> u32 {
    let groups = flags & 0xFF;
    let groups = if cfg!(any(target_arch = "aarch64")) {
        groups
    } else {
        groups & !XSTATE_BIT
    };
    CONTEXT_ARCHITECTURE | groups
}

/// Where `ContextFlags` is in a `CONTEXT` (0x30 on x64, after the six home addresses; 0
/// elsewhere).
const FLAGS_OFFSET: usize = core::mem::offset_of!(sys::CONTEXT, ContextFlags);

/// The bytes of a context record as the dump carries it, or `None` when the record is shorter
/// than a `CONTEXT` (it cannot be one).
pub(super) fn dump_context(record: &[u8]) -> Option<[u8; size_of::<sys::CONTEXT>()]> {
    let mut context: [u8; size_of::<sys::CONTEXT>()] =
        record.get(..size_of::<sys::CONTEXT>())?.try_into().ok()?;
    let at = FLAGS_OFFSET..FLAGS_OFFSET + 4;
    let flags = u32::from_le_bytes(context[at.clone()].try_into().ok()?);
    context[at].copy_from_slice(&dump_flags(flags).to_le_bytes());
    Some(context)
}

/// The bytes of a caller's `CONTEXT` as the dump carries it.
pub(super) fn context_bytes(context: &sys::CONTEXT) -> [u8; size_of::<sys::CONTEXT>()] {
    // SAFETY: `CONTEXT` is `#[repr(C)]` plain integers (and unions of them) with no padding
    // bytes on any Windows target (the layout assertions in pss-sys check every offset and the
    // size, which leave no gaps), so its `size_of` bytes are initialised and may be read as
    // `u8`s for as long as `context` is borrowed.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            (context as *const sys::CONTEXT).cast::<u8>(),
            size_of::<sys::CONTEXT>(),
        )
    };
    let mut out = [0u8; size_of::<sys::CONTEXT>()];
    out.copy_from_slice(bytes);
    let at = FLAGS_OFFSET..FLAGS_OFFSET + 4;
    out[at].copy_from_slice(&dump_flags(context.ContextFlags).to_le_bytes());
    out
}
