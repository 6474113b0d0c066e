//! A WOW64 thread's x86 registers: `WOW64_CONTEXT`, from its native (x64) context when it was
//! stopped in 32-bit code, else from its CPU area, as Windows' own `Wow64GetThreadContext` does
//! (decompiled `PspWow64GetContextThread`, `RtlpWow64GetContextOnAmd64`,
//! `RtlpWow64CtxFromAmd64`).

use core::fmt;

use super::layout::{Memory, invalid, read_array, u16_at, u32_at, u64_at};
use crate::{Error, ErrorCode, Function, Result};

/// `sizeof(WOW64_CONTEXT)`.
pub const WOW64_CONTEXT_SIZE: usize = 0x2CC;

/// `CONTEXT_i386`, and the register groups this crate fills.
const CONTEXT_I386: u32 = 0x0001_0000;
const CONTROL: u32 = 0x1;
const INTEGER: u32 = 0x2;
const SEGMENTS: u32 = 0x4;

// WOW64_CONTEXT offsets.
const CTX_FLAGS: usize = 0x00;
/// `Dr0`..`Dr7` and `FloatSave`: not filled (zeros).
const CTX_DEBUG_AND_FLOAT: core::ops::Range<usize> = 0x04..0x8C;
const CTX_SEG_GS: usize = 0x8C;
const CTX_SEG_FS: usize = 0x90;
const CTX_SEG_ES: usize = 0x94;
const CTX_SEG_DS: usize = 0x98;
const CTX_EDI: usize = 0x9C;
const CTX_ESI: usize = 0xA0;
const CTX_EBX: usize = 0xA4;
const CTX_EDX: usize = 0xA8;
const CTX_ECX: usize = 0xAC;
const CTX_EAX: usize = 0xB0;
const CTX_EBP: usize = 0xB4;
const CTX_EIP: usize = 0xB8;
const CTX_SEG_CS: usize = 0xBC;
const CTX_EFLAGS: usize = 0xC0;
const CTX_ESP: usize = 0xC4;
const CTX_SEG_SS: usize = 0xC8;
/// `ExtendedRegisters`: not filled (zeros).
const CTX_EXTENDED: core::ops::Range<usize> = 0xCC..WOW64_CONTEXT_SIZE;

// x64 CONTEXT offsets (the native record of a 64-bit capture).
const AMD64_FLAGS: usize = 0x30;
const AMD64_SEG_CS: usize = 0x38;
const AMD64_EFLAGS: usize = 0x44;
const AMD64_RAX: usize = 0x78;
const AMD64_RCX: usize = 0x80;
const AMD64_RDX: usize = 0x88;
const AMD64_RBX: usize = 0x90;
const AMD64_RSP: usize = 0x98;
const AMD64_RBP: usize = 0xA0;
const AMD64_RSI: usize = 0xA8;
const AMD64_RDI: usize = 0xB0;
const AMD64_RIP: usize = 0xF8;
/// The native record bytes read: up to and including `Rip`.
const AMD64_BYTES: usize = AMD64_RIP + 8;
const CONTEXT_AMD64: u32 = 0x0010_0000;
const AMD64_CONTROL: u32 = CONTEXT_AMD64 | 0x1;
const AMD64_INTEGER: u32 = CONTEXT_AMD64 | 0x2;

/// Selectors as WOW64 sets them: 32-bit code, 64-bit code, data and stack, and FS (the TEB).
const CS_X86: u16 = 0x23;
const CS_X64: u16 = 0x33;
const DS_X86: u32 = 0x2B;
const FS_X86: u32 = 0x53;
/// The `EFlags` bits Windows keeps from a CPU area (and the two it sets).
const EFLAGS_KEPT: u32 = 0x003F_0DD5;
const EFLAGS_SET: u32 = 0x202;

/// `IMAGE_FILE_MACHINE_I386`, the CPU area machine this crate reads.
const MACHINE_I386: u16 = 0x014C;

/// Where a thread's [`X86Context`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum X86ContextSource {
    /// The thread was stopped while running 32-bit code (its native context's `SegCs` is
    /// `0x23`): its x86 registers are the low halves of its native registers, and its CPU area
    /// holds an older state.
    NativeContext,
    /// The thread was in the WOW64 layer (`SegCs` `0x33`: a system call, a callback): its x86
    /// registers are where WOW64 saved them when it left 32-bit code, its CPU area.
    CpuArea,
}

/// A WOW64 thread's 32-bit registers: a [`WOW64_CONTEXT`] (x86 `CONTEXT`, 716 bytes), as
/// [`Wow64View::context`](super::Wow64View::context) reads it.
///
/// The record holds the control, integer and segment registers (`ContextFlags`
/// `CONTEXT_i386 | CONTEXT_CONTROL | CONTEXT_SEGMENTS`, with `CONTEXT_INTEGER` when the source
/// had them); the debug, floating-point and extended registers are zeros, and the flags do not
/// claim them. Segment selectors are the ones WOW64 uses (`CS` `0x23`, `SS`, `DS`, `ES`, `GS`
/// `0x2B`, `FS` `0x53`), and from a CPU area `EFlags` is kept to its user bits, as Windows'
/// `Wow64GetThreadContext` reports them. [`as_bytes`](Self::as_bytes) is the record in the
/// layout of the x86 `CONTEXT` a 32-bit minidump's thread list holds.
///
/// [`WOW64_CONTEXT`]: https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-wow64_context
#[doc(
    alias = "WOW64_CONTEXT",
    alias = "Wow64GetThreadContext",
    alias = "CONTEXT"
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct X86Context {
    bytes: [u8; WOW64_CONTEXT_SIZE],
    source: X86ContextSource,
}

impl X86Context {
    fn u32(&self, at: usize) -> u32 {
        u32_at(&self.bytes, at)
    }
    fn put(&mut self, at: usize, value: u32) {
        if let Some(place) = self.bytes.get_mut(at..at + 4) {
            place.copy_from_slice(&value.to_le_bytes());
        }
    }

    /// The `WOW64_CONTEXT` bytes.
    pub fn as_bytes(&self) -> &[u8; WOW64_CONTEXT_SIZE] {
        &self.bytes
    }
    /// Where the registers came from.
    pub fn source(&self) -> X86ContextSource {
        self.source
    }
    /// `ContextFlags`: which register groups the record holds.
    #[doc(alias = "ContextFlags")]
    pub fn context_flags(&self) -> u32 {
        self.u32(CTX_FLAGS)
    }
    /// `Eip`: the instruction pointer.
    pub fn eip(&self) -> u32 {
        self.u32(CTX_EIP)
    }
    /// `Esp`: the stack pointer.
    pub fn esp(&self) -> u32 {
        self.u32(CTX_ESP)
    }
    /// `Ebp`: the frame pointer, where an x86 stack walk starts.
    pub fn ebp(&self) -> u32 {
        self.u32(CTX_EBP)
    }
    /// `EFlags`.
    pub fn eflags(&self) -> u32 {
        self.u32(CTX_EFLAGS)
    }
    /// `Eax`.
    pub fn eax(&self) -> u32 {
        self.u32(CTX_EAX)
    }
    /// `Ebx`.
    pub fn ebx(&self) -> u32 {
        self.u32(CTX_EBX)
    }
    /// `Ecx`.
    pub fn ecx(&self) -> u32 {
        self.u32(CTX_ECX)
    }
    /// `Edx`.
    pub fn edx(&self) -> u32 {
        self.u32(CTX_EDX)
    }
    /// `Esi`.
    pub fn esi(&self) -> u32 {
        self.u32(CTX_ESI)
    }
    /// `Edi`.
    pub fn edi(&self) -> u32 {
        self.u32(CTX_EDI)
    }
    /// `SegCs`.
    pub fn seg_cs(&self) -> u32 {
        self.u32(CTX_SEG_CS)
    }
    /// `SegSs`.
    pub fn seg_ss(&self) -> u32 {
        self.u32(CTX_SEG_SS)
    }
    /// `SegFs` (the 32-bit TEB's selector).
    pub fn seg_fs(&self) -> u32 {
        self.u32(CTX_SEG_FS)
    }

    /// The flat selectors WOW64 runs x86 code with.
    fn set_segments(&mut self) {
        self.put(CTX_SEG_GS, DS_X86);
        self.put(CTX_SEG_FS, FS_X86);
        self.put(CTX_SEG_ES, DS_X86);
        self.put(CTX_SEG_DS, DS_X86);
        self.put(CTX_SEG_CS, CS_X86.into());
        self.put(CTX_SEG_SS, DS_X86);
    }
}

impl fmt::Debug for X86Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X86Context")
            .field("source", &self.source)
            .field(
                "context_flags",
                &format_args!("{:#x}", self.context_flags()),
            )
            .field("eip", &format_args!("{:#x}", self.eip()))
            .field("esp", &format_args!("{:#x}", self.esp()))
            .field("ebp", &format_args!("{:#x}", self.ebp()))
            .field("eflags", &format_args!("{:#x}", self.eflags()))
            .field("eax", &format_args!("{:#x}", self.eax()))
            .field("ebx", &format_args!("{:#x}", self.ebx()))
            .field("ecx", &format_args!("{:#x}", self.ecx()))
            .field("edx", &format_args!("{:#x}", self.edx()))
            .field("esi", &format_args!("{:#x}", self.esi()))
            .field("edi", &format_args!("{:#x}", self.edi()))
            .finish()
    }
}

/// A thread's CPU area (`TEB64.TlsSlots[WOW64_TLS_CPURESERVED]`): the `WOW64_CPURESERVED`
/// header and where its context is, read by [`Wow64View::cpu_area`](super::Wow64View::cpu_area).
#[doc(alias = "WOW64_CPURESERVED", alias = "WOW64_CPU_AREA_INFO")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CpuArea {
    /// Its address.
    pub address: u64,
    /// `WOW64_CPURESERVED.Flags` (`WOW64_CPURESERVED_FLAG_RESET_STATE`, 1: a context was set
    /// and the CPU reloads it).
    pub flags: u16,
    /// `WOW64_CPURESERVED.Machine`: the guest's, `0x14C` (x86).
    pub machine: u16,
    /// Where its `WOW64_CONTEXT` is: after the header, aligned to 4 (the header's 4 bytes on).
    pub context_address: u64,
}

/// The reason for a CPU area of `machine`, which is not x86's.
fn machine_reason(machine: u16) -> &'static str {
    match machine {
        0x01C4 => {
            "the thread's CPU area is an ARM32 guest's (Machine 0x1C4, on ARM64 Windows), not x86's: pss reads x86 contexts only"
        }
        0x8664 | 0xAA64 => {
            "the thread's CPU area is an x64 or ARM64 one (Machine 0x8664 / 0xAA64: emulation of 64-bit code on ARM64), not a WOW64 x86 context"
        }
        _ => {
            "the thread's CPU area names an unknown machine (WOW64_CPURESERVED.Machine is not 0x14C): hostile or corrupt memory, or a layout pss does not know"
        }
    }
}

/// Reads the CPU area at `address`: its header, and for x86 (only) where its context is.
pub(crate) fn read_cpu_area(memory: &dyn Memory, address: u64) -> Result<CpuArea> {
    if address == 0 {
        return Err(invalid(
            "the thread has no CPU area (TEB64.TlsSlots[1] is NULL): it has not run 32-bit code yet",
        ));
    }
    let header: [u8; 4] = read_array(memory, address)?;
    let machine = u16_at(&header, 2);
    if machine != MACHINE_I386 {
        return Err(
            Error::os(Function::ReadProcessMemory, ErrorCode::NOT_SUPPORTED.raw())
                .with_reason(machine_reason(machine)),
        );
    }
    // RtlWow64GetCpuAreaInfo: the context is at the header's end, aligned to the context's
    // alignment (4 for x86).
    let context_address = address
        .checked_add(4 + 3)
        .map(|a| a & !3)
        .filter(|a| a.checked_add(WOW64_CONTEXT_SIZE as u64).is_some())
        .ok_or_else(|| invalid("the CPU area runs past the end of the address space"))?;
    Ok(CpuArea {
        address,
        flags: u16_at(&header, 0),
        machine,
        context_address,
    })
}

/// The x86 context saved in `area`, normalised as Windows reports it.
pub(crate) fn saved_context(memory: &dyn Memory, area: &CpuArea) -> Result<X86Context> {
    let bytes: [u8; WOW64_CONTEXT_SIZE] = read_array(memory, area.context_address)?;
    let mut context = X86Context {
        bytes,
        source: X86ContextSource::CpuArea,
    };
    context.bytes[CTX_DEBUG_AND_FLOAT].fill(0);
    context.bytes[CTX_EXTENDED].fill(0);
    context.put(CTX_FLAGS, CONTEXT_I386 | CONTROL | INTEGER | SEGMENTS);
    context.put(CTX_EFLAGS, context.eflags() & EFLAGS_KEPT | EFLAGS_SET);
    context.set_segments();
    Ok(context)
}

/// A thread's x86 context from its native x64 context record `native` (the snapshot's) and,
/// when that shows the thread in the WOW64 layer, from the CPU area `cpu_area` (read only then).
pub(crate) fn x86_context(
    native: &[u8],
    cpu_area: impl FnOnce() -> Result<X86Context>,
) -> Result<X86Context> {
    if native.len() < AMD64_BYTES || u32_at(native, AMD64_FLAGS) & CONTEXT_AMD64 == 0 {
        return Err(invalid(
            "the thread's native context record is not an x64 CONTEXT (too short, or ContextFlags without CONTEXT_AMD64): the 32-bit registers cannot be told from it",
        ));
    }
    let flags = u32_at(native, AMD64_FLAGS);
    if flags & AMD64_CONTROL != AMD64_CONTROL {
        return Err(invalid(
            "the thread's native context was captured without CONTEXT_CONTROL, so SegCs does not say whether it was running 32-bit code: capture with ContextFlags::CONTROL | ContextFlags::INTEGER",
        ));
    }
    match u16_at(native, AMD64_SEG_CS) {
        CS_X86 => from_native(native, flags),
        CS_X64 => cpu_area(),
        _ => Err(invalid(
            "the thread's native context has a code segment that is neither 32-bit (0x23) nor 64-bit (0x33) user code: hostile or corrupt record",
        )),
    }
}

/// The x86 registers of a thread stopped in 32-bit code: the low halves of its native ones
/// (`RtlpWow64CtxFromAmd64`).
fn from_native(native: &[u8], flags: u32) -> Result<X86Context> {
    if flags & AMD64_INTEGER != AMD64_INTEGER {
        return Err(invalid(
            "the thread was running 32-bit code, but its native context was captured without CONTEXT_INTEGER, which holds EBP: capture with ContextFlags::CONTROL | ContextFlags::INTEGER",
        ));
    }
    let low = |at: usize| u32::try_from(u64_at(native, at)).ok();
    let (Some(eip), Some(esp)) = (low(AMD64_RIP), low(AMD64_RSP)) else {
        return Err(invalid(
            "the thread's native context says 32-bit code (SegCs 0x23) but RIP or RSP does not fit 32 bits: hostile or corrupt record",
        ));
    };
    let mut context = X86Context {
        bytes: [0; WOW64_CONTEXT_SIZE],
        source: X86ContextSource::NativeContext,
    };
    context.put(CTX_FLAGS, CONTEXT_I386 | CONTROL | INTEGER | SEGMENTS);
    context.put(CTX_EIP, eip);
    context.put(CTX_ESP, esp);
    context.put(CTX_EFLAGS, u32_at(native, AMD64_EFLAGS));
    for (x86, amd64) in [
        (CTX_EBP, AMD64_RBP),
        (CTX_EAX, AMD64_RAX),
        (CTX_EBX, AMD64_RBX),
        (CTX_ECX, AMD64_RCX),
        (CTX_EDX, AMD64_RDX),
        (CTX_ESI, AMD64_RSI),
        (CTX_EDI, AMD64_RDI),
    ] {
        // The x86 register is the low half (the high half is zero in 32-bit code).
        context.put(x86, u64_at(native, amd64) as u32);
    }
    context.set_segments();
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An x64 record with `flags`, `cs` and registers at their offsets.
    fn native(flags: u32, cs: u16, rip: u64, rsp: u64, rbp: u64) -> Vec<u8> {
        let mut record = vec![0u8; 0x4D0];
        record[AMD64_FLAGS..AMD64_FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
        record[AMD64_SEG_CS..AMD64_SEG_CS + 2].copy_from_slice(&cs.to_le_bytes());
        record[AMD64_EFLAGS..AMD64_EFLAGS + 4].copy_from_slice(&0x246u32.to_le_bytes());
        for (at, value) in [(AMD64_RIP, rip), (AMD64_RSP, rsp), (AMD64_RBP, rbp)] {
            record[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        record[AMD64_RAX..AMD64_RAX + 8].copy_from_slice(&7u64.to_le_bytes());
        record
    }

    fn no_area() -> Result<X86Context> {
        panic!("the CPU area is not read for a thread in 32-bit code")
    }

    #[test]
    fn a_thread_in_32_bit_code_reads_its_native_registers() {
        let record = native(0x10_0003, 0x23, 0x40_1000, 0x19_ff00, 0x19_ff40);
        let context = x86_context(&record, no_area).unwrap();
        assert_eq!(context.source(), X86ContextSource::NativeContext);
        assert_eq!(
            (context.eip(), context.esp(), context.ebp()),
            (0x40_1000, 0x19_ff00, 0x19_ff40)
        );
        assert_eq!((context.eax(), context.eflags()), (7, 0x246));
        assert_eq!(context.context_flags(), 0x1_0007);
        assert_eq!(
            (context.seg_cs(), context.seg_ss(), context.seg_fs()),
            (0x23, 0x2B, 0x53)
        );
    }

    #[test]
    fn a_thread_in_the_wow64_layer_reads_its_cpu_area() {
        let record = native(0x10_0003, 0x33, 0x7ffb_f000_1783, 0x10_0000, 0);
        let saved = X86Context {
            bytes: [0x11; WOW64_CONTEXT_SIZE],
            source: X86ContextSource::CpuArea,
        };
        let context = x86_context(&record, || Ok(saved)).unwrap();
        assert_eq!(context, saved);
    }

    #[test]
    fn records_that_cannot_say_are_refused() {
        // Too short, not x64, no CONTROL, no INTEGER in 32-bit code, another segment, a 64-bit
        // RIP in 32-bit code.
        let cases = [
            vec![0u8; 0x80],
            native(0x1_0007, 0x23, 0, 0, 0),
            native(0x10_0002, 0x23, 0, 0, 0),
            native(0x10_0001, 0x23, 0x1000, 0x1000, 0),
            native(0x10_0003, 0x10, 0x1000, 0x1000, 0),
            native(0x10_0003, 0x23, 0x1_0000_1000, 0x1000, 0),
        ];
        for record in cases {
            let error = x86_context(&record, no_area).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::NOT_FOUND), "{error}");
            assert!(error.reason().is_some());
        }
    }

    #[test]
    fn the_saved_context_is_normalised_as_windows_reports_it() {
        struct Area([u8; 4 + WOW64_CONTEXT_SIZE]);
        impl Memory for Area {
            fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
                let start = usize::try_from(address.wrapping_sub(0x1000)).unwrap_or(usize::MAX);
                let bytes = self
                    .0
                    .get(start..start.saturating_add(buf.len()))
                    .ok_or_else(|| invalid("outside"))?;
                buf.copy_from_slice(bytes);
                Ok(())
            }
        }
        let mut bytes = [0xFFu8; 4 + WOW64_CONTEXT_SIZE];
        bytes[..4].copy_from_slice(&[0, 0, 0x4C, 0x01]);
        let memory = Area(bytes);
        let area = read_cpu_area(&memory, 0x1000).unwrap();
        assert_eq!((area.machine, area.context_address), (0x14C, 0x1004));
        let context = saved_context(&memory, &area).unwrap();
        assert_eq!(context.context_flags(), 0x1_0007);
        assert_eq!(context.eflags(), EFLAGS_KEPT | EFLAGS_SET);
        assert_eq!((context.eip(), context.seg_cs()), (u32::MAX, 0x23));
        assert!(context.as_bytes()[CTX_EXTENDED].iter().all(|&b| b == 0));

        let mut arm = bytes;
        arm[2..4].copy_from_slice(&0x1C4u16.to_le_bytes());
        let error = read_cpu_area(&Area(arm), 0x1000).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::NOT_SUPPORTED));
        assert!(read_cpu_area(&memory, 0).is_err());
        assert!(read_cpu_area(&memory, u64::MAX - 2).is_err());
    }
}
