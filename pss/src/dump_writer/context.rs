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

/// The bytes of a `CONTEXT` that not every way of building one initialises: on x64 (and
/// arm64ec) the end of the `Anonymous` union, where `XSAVE_FORMAT` (512 bytes) keeps
/// `Reserved4` and the other variant, `CONTEXT_0_0` (416 bytes), has ended. A `CONTEXT` built in
/// safe code with that variant leaves these 96 bytes uninitialised, and reading them is undefined
/// behaviour, so the dump carries zeros there (reserved bytes: no register is lost). No other
/// architecture's `CONTEXT` has a union whose variants differ in size.
#[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
const UNINITIALISED: core::ops::Range<usize> = {
    let union_at = core::mem::offset_of!(sys::CONTEXT, Anonymous);
    union_at + size_of::<sys::CONTEXT_0_0>()..union_at + size_of::<sys::CONTEXT_0>()
};
#[cfg(not(any(target_arch = "x86_64", target_arch = "arm64ec")))]
const UNINITIALISED: core::ops::Range<usize> = size_of::<sys::CONTEXT>()..size_of::<sys::CONTEXT>();

// The range lies inside the structure, and (x64) the union's larger variant is XSAVE_FORMAT.
const _: () = assert!(UNINITIALISED.start <= UNINITIALISED.end);
const _: () = assert!(UNINITIALISED.end <= size_of::<sys::CONTEXT>());
#[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
const _: () = assert!(
    size_of::<sys::CONTEXT_0>() == size_of::<sys::XSAVE_FORMAT>()
        && UNINITIALISED.end - UNINITIALISED.start == 96
);

/// The bytes of a caller's `CONTEXT` as the dump carries it: every byte that any way of building
/// one initialises, zeros in [`UNINITIALISED`].
pub(super) fn context_bytes(context: &sys::CONTEXT) -> [u8; size_of::<sys::CONTEXT>()] {
    let mut out = [0u8; size_of::<sys::CONTEXT>()];
    let base = (context as *const sys::CONTEXT).cast::<u8>();
    for range in [0..UNINITIALISED.start, UNINITIALISED.end..out.len()] {
        // SAFETY: `range` lies within the `size_of::<CONTEXT>()` bytes `context` borrows (the
        // assertions above). Those bytes are initialised: `CONTEXT` is `#[repr(C)]` plain
        // integers with no padding on any Windows target (the layout assertions in pss-sys check
        // every offset and the size, which leave no gaps), and its one union is initialised
        // through either variant, the smaller of which covers everything before
        // `UNINITIALISED`. So they may be read as `u8`s while `context` is borrowed.
        let bytes = unsafe { core::slice::from_raw_parts(base.add(range.start), range.len()) };
        out[range].copy_from_slice(bytes);
    }
    let at = FLAGS_OFFSET..FLAGS_OFFSET + 4;
    out[at].copy_from_slice(&dump_flags(context.ContextFlags).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `CONTEXT` whose union holds its smaller variant (x64) is read without its uninitialised
    /// bytes: Miri found "constructing invalid value of type [u8; 1232]: at [672], encountered
    /// uninitialized memory" before only initialised bytes were read.
    #[test]
    fn a_context_built_in_safe_code_is_read_without_its_uninitialised_bytes() {
        #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
        let context = sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_AMD64 | 0x4000_0000,
            Rsp: 0x5000_0800,
            Anonymous: sys::CONTEXT_0 {
                Anonymous: sys::CONTEXT_0_0 {
                    Xmm15: sys::M128A {
                        Low: 0x1111_2222_3333_4444,
                        High: 0x5555_6666_7777_0000,
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "arm64ec")))]
        let context = sys::CONTEXT {
            ContextFlags: CONTEXT_ARCHITECTURE | 0x4000_0000,
            ..Default::default()
        };
        let bytes = context_bytes(&context);
        let flags = u32::from_le_bytes(bytes[FLAGS_OFFSET..FLAGS_OFFSET + 4].try_into().unwrap());
        assert_eq!(flags, dump_flags(context.ContextFlags));
        assert!(bytes[UNINITIALISED].iter().all(|&b| b == 0));
        #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
        {
            let rsp = core::mem::offset_of!(sys::CONTEXT, Rsp);
            assert_eq!(bytes[rsp..rsp + 8], 0x5000_0800_u64.to_le_bytes());
            let xmm15 = UNINITIALISED.start - 16;
            assert_eq!(
                bytes[xmm15..UNINITIALISED.start],
                [
                    0x1111_2222_3333_4444_u64.to_le_bytes(),
                    0x5555_6666_7777_0000_u64.to_le_bytes()
                ]
                .concat()[..]
            );
        }
    }
}
