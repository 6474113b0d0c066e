//! How long a captured context record is: a plain `CONTEXT`, or with
//! `PSS_CAPTURE_THREAD_CONTEXT_EXTENDED` what `RtlGetExtendedContextLength` answers for the
//! capture's `ThreadContextFlags` on the process's CPU (decompiled 24H2 ntdll
//! `PsspCaptureThreadInformation`, `RtlGetExtendedContextLength`, `RtlGetExtendedContextLength2`,
//! `PsspInitializeContextOrExtendedContext`).

use super::data::ProcessSpec;
use pss_sys::*;

/// The extended processor state the CPU (and Windows) enables, as `KUSER_SHARED_DATA.XState`
/// describes it: what a context captured with `CONTEXT_XSTATE` holds beyond the `CONTEXT`. The
/// sizes are the XSAVE area's in compacted form (XSAVEC), as Windows 10 and later lay it out
/// where the CPU supports it: 512 bytes of legacy state and a 64-byte header, then each
/// enabled component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "XSTATE_CONFIGURATION", alias = "CONTEXT_XSTATE")]
pub enum XState {
    /// No XSAVE support (`EnabledFeatures` 0): `RtlGetExtendedContextLength` refuses flags
    /// with `CONTEXT_XSTATE` (`STATUS_NOT_SUPPORTED`), so such a record is a plain `CONTEXT`
    /// whose flags drop the XSTATE bit.
    None,
    /// x87, SSE and AVX (an XSAVE area of 832 bytes): most x64 CPUs. The default.
    #[default]
    Avx,
    /// AVX and AVX-512 (opmask, ZMM_Hi256 and Hi16_ZMM: an XSAVE area of 2,432 bytes).
    Avx512,
}

impl XState {
    /// The enabled components above SSE, by XSAVE feature bit, with their sizes.
    fn components(self) -> &'static [(u32, u32)] {
        const AVX: (u32, u32) = (2, 256);
        match self {
            XState::None => &[],
            XState::Avx => &[AVX],
            XState::Avx512 => &[AVX, (5, 64), (6, 512), (7, 1024)],
        }
    }
}

impl ProcessSpec {
    /// The CPU's extended state, which sizes the context records of a capture with
    /// `PSS_CAPTURE_THREAD_CONTEXT_EXTENDED` and `ThreadContextFlags` naming `CONTEXT_XSTATE`
    /// ([`extended_context_length`]); default [`XState::Avx`].
    pub fn xstate(mut self, xstate: XState) -> Self {
        self.data.info.xstate = xstate;
        self
    }
}

/// The architecture `ThreadContextFlags` name, as `RtlGetExtendedContextLength2` checks them:
/// the `CONTEXT` size, its alignment, the XSTATE bit, and the XSAVE components it can hold.
struct Architecture {
    context: u32,
    align: u32,
    xstate_bit: u32,
    components: &'static [u32],
}

fn architecture(flags: u32) -> Option<Architecture> {
    const X86: &[u32] = &[2, 5, 6, 7];
    Some(if flags & 0x27FF_FF80 == 0x1_0000 {
        Architecture {
            context: 716,
            align: 4,
            xstate_bit: 0x40,
            components: X86,
        }
    } else if flags & 0x07FF_FF20 == 0x10_0000 {
        Architecture {
            context: 1232,
            align: 16,
            xstate_bit: 0x40,
            components: X86,
        }
    } else if flags & 0x07FF_FFF0 == 0x20_0000 {
        Architecture {
            context: 416,
            align: 8,
            xstate_bit: 0,
            components: &[],
        }
    } else if flags & 0x07FF_FF00 == 0x40_0000 {
        Architecture {
            context: 912,
            align: 16,
            xstate_bit: 0x20,
            components: &[2],
        }
    } else {
        return None;
    })
}

/// What `RtlGetExtendedContextLength(flags)` answers on a CPU with `xstate`: `None` where it
/// fails (flags naming no architecture, or asking for XSTATE a CPU without it cannot give, or
/// x64's kernel CET state). Otherwise the `CONTEXT` of the flags' architecture, the 32-byte
/// `CONTEXT_EX` and room to align them, plus with XSTATE the XSAVE area beyond the legacy
/// state the `CONTEXT` already holds: on x64, 1,279 bytes for `CONTEXT_ALL`, 1,647 for
/// `CONTEXT_ALL | CONTEXT_XSTATE` with [`XState::Avx`], 3,247 with [`XState::Avx512`].
#[doc(alias = "RtlGetExtendedContextLength")]
pub fn extended_context_length(flags: u32, xstate: XState) -> Option<u32> {
    let arch = architecture(flags)?;
    let wants_xstate = arch.xstate_bit != 0 && flags & arch.xstate_bit != 0;
    if wants_xstate && xstate == XState::None {
        return None; // STATUS_NOT_SUPPORTED
    }
    if flags & 0x10_0080 == 0x10_0080 {
        return None; // x64 kernel CET state: STATUS_NOT_SUPPORTED
    }
    let with_ex = arch.context + 32;
    Some(if wants_xstate {
        let xsave = 576
            + xstate
                .components()
                .iter()
                .filter(|(bit, _)| arch.components.contains(bit))
                .map(|(_, size)| size)
                .sum::<u32>();
        with_ex.next_multiple_of(arch.align) - 448 + xsave - 1
    } else {
        arch.align + with_ex - 1
    })
}

/// The length of each context record of a capture with `THREAD_CONTEXT`, and whether it is an
/// extended one (which keeps its flags unsanitised): a plain `CONTEXT` without
/// `THREAD_CONTEXT_EXTENDED`, and where `RtlGetExtendedContextLength` fails (ntdll then uses
/// the plain length, `v15 = 1232` on x64).
pub(crate) fn context_length(context_flags: u32, extended: bool, xstate: XState) -> (u32, bool) {
    let plain = size_of::<CONTEXT>() as u32;
    match extended
        .then(|| extended_context_length(context_flags, xstate))
        .flatten()
    {
        Some(length) => (length, true),
        None => (plain, false),
    }
}
