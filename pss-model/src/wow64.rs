//! WOW64 processes: a 32-bit process as 64-bit Windows holds it
//! ([`ProcessSpec::wow64_layout`]), with both of its views in memory.
//!
//! The native (64-bit) view is what every model process has: its threads' contexts (here in the
//! WOW64 layer), the 64-bit PEB at [`WOW64_PEB64`] with its loader list and one 64-bit TEB per
//! thread; the images of the WOW64 layer (64-bit `ntdll.dll`, `wow64.dll`, `wow64win.dll` and
//! the WOW64 CPU, `wow64cpu.dll` on x86_64 hosts, `xtajit.dll` on aarch64 ones) are added at
//! spawn. The 32-bit view is what the x86 code sees:
//!
//! | where | what |
//! |---|---|
//! | TEB64 + [`TEB32_OFFSET`] | each thread's 32-bit TEB: `NtTib.ExceptionList` (`0xFFFFFFFF`), `StackBase`, `StackLimit`, `Self`, `ClientId`, `ProcessEnvironmentBlock`, `LastErrorValue`, `GdiBatchCount` (the TEB64), `WowTebOffset` (`-0x2000`) |
//! | TEB64 | `NtTib.ExceptionList` = the TEB32, `TlsSlots[1]` (`WOW64_TLS_CPURESERVED`) = the CPU area, `WowTebOffset` = `0x2000` |
//! | PEB64 + [`PEB32_OFFSET`] | the 32-bit PEB (`ImageBaseAddress`, `Ldr`, processors, OS version), then its `PEB_LDR_DATA32` and one 32-bit `LDR_DATA_TABLE_ENTRY` per x86 image (the main executable first, then by address; three circular lists, the initialization-order one without the executable), `UNICODE_STRING32` names (DOS paths), then the CPU areas |
//! | the CPU area | `WOW64_CPURESERVED` (`Flags` 0, `Machine` [`X86_MACHINE`]), then at +4 the thread's `WOW64_CONTEXT` ([`WOW64_CONTEXT_SIZE`] bytes: control, integer and segment registers, `ContextFlags` `0x10007`) |
//! | [`X86_STACKS`] + `0x1_0000` × (tid mod `0x100`) | each thread's x86 stack, [`STACK_SIZE`](crate::STACK_SIZE) bytes: frame records of two 32-bit words, `[saved EBP, return address]`, chained through EBP as the model's native stacks are (see the crate docs, "Stacks") |
//!
//! The 64-bit loader list holds the main executable and the 64-bit images only; the 32-bit one
//! the x86 images ([`RegionSpec::image_x86`]). A thread waiting in a system call is in the
//! WOW64 layer: its native context has `SegCs` `0x33` and the registers its spec gives (in
//! `wow64cpu.dll`, say), and its x86 registers are in the CPU area. A thread interrupted while it
//! ran 32-bit code ([`X86ThreadSpec::in_x86_code`]) has them in its native context (`SegCs`
//! `0x23`, the x86 registers in the low halves), and its CPU area holds the state of its last
//! transition, which is stale: what Windows' `Wow64GetThreadContext` decides between
//! (`RtlpWow64GetContextOnAmd64`).
//!
//! Where Windows keeps the CPU area, at the top of the thread's 64-bit stack
//! (`PspWow64SetupCpuArea`), the model keeps it in the 32-bit region instead: a reader follows
//! the pointer either way, and the native stacks keep their zeros above the last frame.

use super::data::{ModelProcess, ProcessData, ProcessSpec, RegionSpec, ThreadSpec, addr};
use super::environment::{self, dos_path};
use super::le::LeBuf;
use super::{kernel, pe};
use pss_sys::{MEM_IMAGE, PSS_PROCESS_FLAGS_WOW64};
use std::collections::BTreeSet;
use std::sync::Arc;

/// `IMAGE_FILE_MACHINE_I386`: the machine of a WOW64 process's 32-bit images and of its CPU
/// area's `WOW64_CPURESERVED.Machine`.
pub const X86_MACHINE: u16 = 0x014C;

/// `sizeof(WOW64_CONTEXT)`: the x86 context in a CPU area.
pub const WOW64_CONTEXT_SIZE: usize = 0x2CC;

/// Where a WOW64 process's 64-bit PEB is (`PSS_PROCESS_INFORMATION.PebBaseAddress`): below
/// 4 GiB, as Windows puts it, so that the 32-bit PEB and TEBs after it have 32-bit addresses.
pub const WOW64_PEB64: usize = 0x7FF0_0000;

/// The 32-bit PEB is this many bytes after the 64-bit one.
pub const PEB32_OFFSET: usize = 0x1000;

/// A thread's 32-bit TEB is this many bytes after its 64-bit TEB (its `WowTebOffset`).
pub const TEB32_OFFSET: usize = 0x2000;

/// Bytes between one thread's 64-bit TEB and the next: two pages of TEB64, one of TEB32.
pub const WOW64_TEB_SPACING: usize = 0x3000;

/// Where the x86 stacks' slots start (one per thread id modulo `0x100`, `0x1_0000` apart).
pub const X86_STACKS: usize = 0x0100_0000;

/// The WOW64 layer's 64-bit images a WOW64 process gets at spawn, by name and base: `ntdll.dll`
/// (the 64-bit one, in `System32`), `wow64.dll`, `wow64win.dll` and the WOW64 CPU
/// ([`WOW64_CPU_DLL`]).
pub const WOW64_NTDLL: usize = addr(0x7FFC_0000_0000, 0);
/// Base of `wow64.dll` in a WOW64 process.
pub const WOW64_DLL: usize = addr(0x7FFB_D000_0000, 0);
/// Base of `wow64win.dll` in a WOW64 process.
pub const WOW64WIN_DLL: usize = addr(0x7FFB_E000_0000, 0);
/// Base of the WOW64 CPU DLL in a WOW64 process ([`WOW64_CPU_NAME`], or what
/// [`ProcessSpec::wow64_cpu_dll`] names).
pub const WOW64_CPU_DLL: usize = addr(0x7FFB_F000_0000, 0);

/// The WOW64 CPU DLL by default: `wow64cpu.dll` on x86_64 hosts (x86 code runs on the processor
/// itself), `xtajit.dll` on aarch64 ones (the x86 emulator of Windows on Arm).
pub const WOW64_CPU_NAME: &str = if cfg!(target_arch = "aarch64") {
    "xtajit.dll"
} else {
    "wow64cpu.dll"
};

const PAGE: usize = 0x1000;
const SYSTEM32: &str = r"\Device\HarddiskVolume3\Windows\System32\";
/// Bytes between CPU areas in the 32-bit region (16-aligned, room for the header and context).
const CPU_AREA_SPACING: usize = 0x300;
/// `CONTEXT_i386 | CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS`: the registers a CPU
/// area's context holds here.
const X86_CONTEXT_FULL: u32 = 0x0001_0007;
/// x86 selectors as WOW64 sets them: 32-bit code, data (and stack), and the TEB's (FS).
const CS_X86: u16 = 0x23;
const CS_X64: u16 = 0x33;
const DS_X86: u16 = 0x2B;
const FS_X86: u16 = 0x53;
/// x86 frame records: `0x40` apart, the stack pointer `0x80` below the first, zeros above the
/// last (as the native stacks: `super::stack`).
const SPACING: usize = 0x40;
const TOP_GAP: usize = 0x100;
const LOCALS: u32 = 0x80;

// TEB64 (x64 and arm64)
const TEB64_EXCEPTION_LIST: usize = 0x0;
const TEB64_TLS_CPURESERVED: usize = 0x1480 + 8; // TlsSlots[WOW64_TLS_CPURESERVED = 1]
const TEB64_WOW_TEB_OFFSET: usize = 0x180C;
// TEB32
const TEB32_STACK_BASE: usize = 0x04;
const TEB32_STACK_LIMIT: usize = 0x08;
const TEB32_SELF: usize = 0x18;
const TEB32_PROCESS_ID: usize = 0x20;
const TEB32_THREAD_ID: usize = 0x24;
const TEB32_PEB: usize = 0x30;
const TEB32_LAST_ERROR: usize = 0x34;
const TEB32_GDI_BATCH_COUNT: usize = 0xF70;
const TEB32_WOW_TEB_OFFSET: usize = 0xFDC;
// PEB32
const PEB32_IMAGE_BASE: usize = 0x08;
const PEB32_LDR: usize = 0x0C;
const PEB32_NUMBER_OF_PROCESSORS: usize = 0x64;
const PEB32_OS_MAJOR: usize = 0xA4;
const PEB32_OS_MINOR: usize = 0xA8;
const PEB32_OS_BUILD: usize = 0xAC;
const PEB32_OS_PLATFORM: usize = 0xB0;
// PEB_LDR_DATA32 and LDR_DATA_TABLE_ENTRY32
const LDR32_SIZE: usize = 0x30;
const LDR32_HEADS: [usize; 3] = [0x0C, 0x14, 0x1C];
const ENTRY32_SIZE: usize = 0xA8;
const ENTRY32_LINKS: [usize; 3] = [0x00, 0x08, 0x10];
const ENTRY32_DLL_BASE: usize = 0x18;
const ENTRY32_ENTRY_POINT: usize = 0x1C;
const ENTRY32_SIZE_OF_IMAGE: usize = 0x20;
const ENTRY32_FULL_NAME: usize = 0x24;
const ENTRY32_BASE_NAME: usize = 0x2C;
// WOW64_CONTEXT
const CTX_SEG_GS: usize = 0x8C;
const CTX_SEG_FS: usize = 0x90;
const CTX_SEG_ES: usize = 0x94;
const CTX_SEG_DS: usize = 0x98;
const CTX_EDI: usize = 0x9C;
const CTX_EBP: usize = 0xB4;
const CTX_EIP: usize = 0xB8;
const CTX_SEG_CS: usize = 0xBC;
const CTX_EFLAGS: usize = 0xC0;
const CTX_ESP: usize = 0xC4;
const CTX_SEG_SS: usize = 0xC8;

/// What [`ProcessSpec::wow64_layout`] asked for.
#[derive(Clone, Debug)]
pub(crate) struct Wow64Options {
    /// The WOW64 CPU DLL's file name.
    cpu_dll: String,
}

/// The 32-bit side of a thread of a WOW64 process ([`ThreadSpec::x86`]): its x86 registers and
/// call stack, its 32-bit TEB's last error, and whether it was running 32-bit code when it was
/// stopped. A thread without one gets the default ([`X86ThreadSpec::new`]) in a process laid out
/// with [`ProcessSpec::wow64_layout`]; elsewhere it is ignored.
#[derive(Clone, Debug, Default)]
pub struct X86ThreadSpec {
    pub(crate) eip: u32,
    /// `Eax`, `Ebx`, `Ecx`, `Edx`, `Esi`, `Edi`.
    pub(crate) integer: [u32; 6],
    pub(crate) eflags: u32,
    pub(crate) call_stack: Option<Vec<u32>>,
    pub(crate) last_error: u32,
    /// Interrupted in x86 code: the EIP its CPU area still holds from its last transition.
    pub(crate) in_x86_code: Option<u32>,
    // Assigned at spawn.
    pub(crate) esp: u32,
    pub(crate) ebp: u32,
    /// The stack region: (start, end).
    pub(crate) stack: (u32, u32),
    pub(crate) teb32: u32,
    pub(crate) cpu_area: usize,
}

impl X86ThreadSpec {
    /// A thread at EIP 0 with no call stack (its x86 stack holds only the last, zero, frame
    /// record), `EFLAGS` `0x246`, integer registers `0x1000_0000 + n` (`Eax` n = 0 to `Edi`
    /// n = 5), last error 0, stopped in the WOW64 layer.
    pub fn new() -> Self {
        Self {
            integer: std::array::from_fn(|n| 0x1000_0000 + n as u32),
            eflags: 0x246,
            ..Self::default()
        }
    }
    /// Its EIP.
    pub fn executing_at(mut self, eip: u32) -> Self {
        self.eip = eip;
        self
    }
    /// Its integer registers, `Eax`, `Ebx`, `Ecx`, `Edx`, `Esi`, `Edi`.
    pub fn integer_registers(mut self, registers: [u32; 6]) -> Self {
        self.integer = registers;
        self
    }
    /// The return addresses on its x86 stack, innermost first (each inside an x86 image, for a
    /// walker to accept them): at spawn its stack gets frame records chaining through EBP to
    /// exactly these, and its ESP and EBP point into it.
    ///
    /// # Panics
    ///
    /// With more than [`MAX_CALL_STACK`](crate::MAX_CALL_STACK) addresses.
    pub fn call_stack(mut self, return_addresses: &[u32]) -> Self {
        assert!(
            return_addresses.len() <= super::stack::MAX_CALL_STACK,
            "a call stack of at most MAX_CALL_STACK return addresses"
        );
        self.call_stack = Some(return_addresses.to_vec());
        self
    }
    /// `LastErrorValue` in its 32-bit TEB (what the x86 code's `GetLastError()` returns).
    pub fn last_error(mut self, code: u32) -> Self {
        self.last_error = code;
        self
    }
    /// It was stopped while running x86 code (on an x86_64 host): its native context holds the
    /// x86 registers (`SegCs` `0x23`, `Rip` = EIP, `Rsp` = ESP, `Rbp` = EBP, the integer
    /// registers zero-extended, `EFlags`), whatever [`ThreadSpec::registers`] said, and its
    /// CPU area still holds its last transition to the WOW64 layer, at `last_transition_eip`
    /// (with ESP and EBP `0x40` higher): stale, as Windows leaves it.
    pub fn in_x86_code(mut self, last_transition_eip: u32) -> Self {
        self.in_x86_code = Some(last_transition_eip);
        self
    }

    /// Its EIP.
    pub fn eip(&self) -> u32 {
        self.eip
    }
    /// Its ESP (assigned at spawn: [`process_threads`](crate::process_threads)).
    pub fn esp(&self) -> u32 {
        self.esp
    }
    /// Its EBP (assigned at spawn).
    pub fn ebp(&self) -> u32 {
        self.ebp
    }
    /// Its `EFlags`.
    pub fn eflags(&self) -> u32 {
        self.eflags
    }
    /// Its integer registers, `Eax`, `Ebx`, `Ecx`, `Edx`, `Esi`, `Edi`.
    pub fn integer_register_values(&self) -> [u32; 6] {
        self.integer
    }
    /// Whether it was stopped in x86 code, and the EIP its CPU area holds then.
    pub fn stopped_in_x86_code(&self) -> Option<u32> {
        self.in_x86_code
    }
    /// The frames a stack walker must find, innermost first: EIP, then each return address of
    /// its [`call_stack`](Self::call_stack); `None` without a call stack.
    pub fn expected_frames(&self) -> Option<Vec<u32>> {
        let call_stack = self.call_stack.as_ref()?;
        Some(
            std::iter::once(self.eip)
                .chain(call_stack.iter().copied())
                .collect(),
        )
    }
    /// `LastErrorValue` of its 32-bit TEB.
    pub fn last_error_value(&self) -> u32 {
        self.last_error
    }
    /// Its 32-bit TEB's address (assigned at spawn: its TEB64 + [`TEB32_OFFSET`]).
    pub fn teb32_address(&self) -> u32 {
        self.teb32
    }
    /// Its CPU area's address (`TEB64.TlsSlots[1]`; assigned at spawn).
    pub fn cpu_area_address(&self) -> usize {
        self.cpu_area
    }
    /// Its x86 stack region, `(StackLimit, StackBase)` of its 32-bit TEB: start and end.
    pub fn stack_range(&self) -> (u32, u32) {
        self.stack
    }

    /// Writes what a WOW64 thread's native context holds beyond the model's three registers
    /// into `record` (a host `CONTEXT` whose `ContextFlags` are `flags`): its code and stack
    /// selectors, and in x86 code its `EFlags` and integer registers. x86_64 hosts only: an
    /// arm64 thread's context has no selectors.
    pub(crate) fn patch_native_context(&self, record: &mut [u8], flags: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use pss_sys::{CONTEXT, CONTEXT_CONTROL_AMD64, CONTEXT_INTEGER_AMD64};
            use std::mem::offset_of;
            let mut put = |at: usize, bytes: &[u8]| {
                if let Some(place) = record.get_mut(at..at + bytes.len()) {
                    place.copy_from_slice(bytes);
                }
            };
            if flags & CONTEXT_CONTROL_AMD64 == CONTEXT_CONTROL_AMD64 {
                let cs = if self.in_x86_code.is_some() {
                    CS_X86
                } else {
                    CS_X64
                };
                put(offset_of!(CONTEXT, SegCs), &cs.to_le_bytes());
                put(offset_of!(CONTEXT, SegSs), &DS_X86.to_le_bytes());
                if self.in_x86_code.is_some() {
                    put(offset_of!(CONTEXT, EFlags), &self.eflags.to_le_bytes());
                }
            }
            if self.in_x86_code.is_some() && flags & CONTEXT_INTEGER_AMD64 == CONTEXT_INTEGER_AMD64
            {
                let [eax, ebx, ecx, edx, esi, edi] = self.integer.map(u64::from);
                put(offset_of!(CONTEXT, Rax), &eax.to_le_bytes());
                put(offset_of!(CONTEXT, Rbx), &ebx.to_le_bytes());
                put(offset_of!(CONTEXT, Rcx), &ecx.to_le_bytes());
                put(offset_of!(CONTEXT, Rdx), &edx.to_le_bytes());
                put(offset_of!(CONTEXT, Rsi), &esi.to_le_bytes());
                put(offset_of!(CONTEXT, Rdi), &edi.to_le_bytes());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (record, flags);
    }

    /// The `WOW64_CONTEXT` its CPU area holds: its registers, or in x86 code its last
    /// transition's.
    fn cpu_area_context(&self) -> [u8; WOW64_CONTEXT_SIZE] {
        let mut b = LeBuf::default();
        let (eip, esp, ebp) = match self.in_x86_code {
            Some(eip) => (
                eip,
                self.esp.wrapping_add(0x40),
                self.ebp.wrapping_add(0x40),
            ),
            None => (self.eip, self.esp, self.ebp),
        };
        b.u32(0, X86_CONTEXT_FULL);
        b.u32(CTX_SEG_GS, DS_X86.into());
        b.u32(CTX_SEG_FS, FS_X86.into());
        b.u32(CTX_SEG_ES, DS_X86.into());
        b.u32(CTX_SEG_DS, DS_X86.into());
        // Edi, Esi, Ebx, Edx, Ecx, Eax: the reverse of `integer`'s order, one word apart.
        let [eax, ebx, ecx, edx, esi, edi] = self.integer;
        for (i, value) in [edi, esi, ebx, edx, ecx, eax].into_iter().enumerate() {
            b.u32(CTX_EDI + 4 * i, value);
        }
        b.u32(CTX_EBP, ebp);
        b.u32(CTX_EIP, eip);
        b.u32(CTX_SEG_CS, CS_X86.into());
        b.u32(CTX_EFLAGS, self.eflags);
        b.u32(CTX_ESP, esp);
        b.u32(CTX_SEG_SS, DS_X86.into());
        let mut context = [0; WOW64_CONTEXT_SIZE];
        context[..b.0.len()].copy_from_slice(&b.0);
        context
    }
}

impl ThreadSpec {
    /// Its 32-bit side, in a process laid out with [`ProcessSpec::wow64_layout`] (ignored
    /// elsewhere): see [`X86ThreadSpec`].
    pub fn x86(mut self, x86: X86ThreadSpec) -> Self {
        self.x86 = Some(Box::new(x86));
        self
    }
    /// Its 32-bit side, as given or (after spawn, in a WOW64 process) as laid out.
    pub fn x86_state(&self) -> Option<&X86ThreadSpec> {
        self.x86.as_deref()
    }
}

impl RegionSpec {
    /// A mapped x86 image (`IMAGE_FILE_MACHINE_I386`, PE32 headers), as a WOW64 process maps its
    /// executable and 32-bit DLLs (`\Device\HarddiskVolume3\Windows\SysWOW64\...`): otherwise
    /// as [`image`](Self::image), CodeView record included. In a WOW64 process's loader lists
    /// it is in the 32-bit one (the main executable in both).
    pub fn image_x86(base: usize, size: usize, name: &str) -> Self {
        let mut region = Self::image(base, size, name);
        if let Some(pe) = &mut region.pe {
            pe.machine = X86_MACHINE;
        }
        region.with_headers()
    }
}

impl ProcessSpec {
    /// Lays the process out as 64-bit Windows holds a 32-bit process, both views in memory (see
    /// `model::wow64`'s docs, and the crate docs' "WOW64 processes"): `PSS_PROCESS_FLAGS_WOW64`,
    /// the 64-bit PEB at [`WOW64_PEB64`] with its loader list and TEBs (as
    /// [`with_peb`](Self::with_peb)), the WOW64 layer's 64-bit images, and for each thread a
    /// 32-bit TEB, a CPU area with its x86 context and an x86 stack ([`ThreadSpec::x86`]); the
    /// 32-bit PEB and its loader list of the x86 images ([`RegionSpec::image_x86`]). The first
    /// image region is the main executable (an x86 image, in both loader lists).
    ///
    /// 64-bit hosts only (the 32-bit structures sit below 4 GiB, the 64-bit ones hold 64-bit
    /// pointers): on a 32-bit host the model's processes are already 32-bit, and this method
    /// does not exist.
    #[cfg(target_pointer_width = "64")]
    pub fn wow64_layout(mut self) -> Self {
        self.data.info.flags |= PSS_PROCESS_FLAGS_WOW64;
        self.with_peb = true;
        self.wow64 = Some(Wow64Options {
            cpu_dll: WOW64_CPU_NAME.to_string(),
        });
        self
    }
    /// The WOW64 CPU DLL's file name, instead of [`WOW64_CPU_NAME`] (e.g. `xtajit.dll`, the x86
    /// emulator of Windows on Arm, on an x86_64 host): for tests of readers that must tell them
    /// apart.
    ///
    /// # Panics
    ///
    /// Unless the process has a [`wow64_layout`](Self::wow64_layout).
    pub fn wow64_cpu_dll(mut self, name: &str) -> Self {
        let options = self
            .wow64
            .as_mut()
            .expect("wow64_cpu_dll needs wow64_layout first");
        options.cpu_dll = name.to_string();
        self
    }
}

/// One module of a WOW64 process's 32-bit loader list ([`Wow64Layout::modules`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X86Module {
    /// `DllBase`.
    pub base: u32,
    /// `SizeOfImage`.
    pub size: u32,
    /// `FullDllName`: the DOS path.
    pub full_name: String,
    /// `BaseDllName`: the file name.
    pub base_name: String,
}

/// Where a WOW64 process's 32-bit view is ([`ModelProcess::wow64_layout`]).
#[derive(Clone, Debug)]
pub struct Wow64Layout {
    peb64: usize,
    peb32: u32,
    ldr32: u32,
    entries32: Vec<u32>,
    modules32: Vec<X86Module>,
    cpu_dll: String,
}

impl Wow64Layout {
    /// The 64-bit PEB's address (`PSS_PROCESS_INFORMATION.PebBaseAddress`).
    pub fn peb64(&self) -> usize {
        self.peb64
    }
    /// The 32-bit PEB's address (the 64-bit one + [`PEB32_OFFSET`]).
    pub fn peb32(&self) -> u32 {
        self.peb32
    }
    /// `PEB32.Ldr`.
    pub fn ldr32(&self) -> u32 {
        self.ldr32
    }
    /// The 32-bit loader entries' addresses, in load order (the main executable first).
    pub fn loader_entries(&self) -> &[u32] {
        &self.entries32
    }
    /// The 32-bit loader list's modules, in load order.
    pub fn modules(&self) -> &[X86Module] {
        &self.modules32
    }
    /// The WOW64 CPU DLL's file name (in the 64-bit loader list).
    pub fn cpu_dll(&self) -> &str {
        &self.cpu_dll
    }
}

impl ModelProcess {
    /// What its [`ProcessSpec::wow64_layout`] laid out; `None` for another process.
    pub fn wow64_layout(&self) -> Option<Wow64Layout> {
        kernel::lock()
            .processes
            .get(&self.pid())
            .and_then(|p| p.info.wow64.as_deref().cloned())
    }
}

/// The x86 stack slot of thread `tid`.
fn x86_stack_base(tid: u32) -> usize {
    X86_STACKS + 0x1_0000 * (tid as usize % 0x100)
}

/// An x86 stack at `base` whose return addresses, innermost first, are `call_stack`: its region,
/// ESP and EBP.
fn lay_out_x86_stack(base: usize, call_stack: &[u32]) -> (RegionSpec, u32, u32) {
    let size = super::stack::STACK_SIZE;
    let top = size - TOP_GAP;
    let record = |i: usize| top - SPACING * (call_stack.len() - i);
    let mut b = LeBuf::default();
    for (i, &return_address) in call_stack.iter().enumerate() {
        b.u32(record(i), (base + record(i + 1)) as u32);
        b.u32(record(i) + 4, return_address);
    }
    b.u32(top + 4, 0); // the last record: zeros, up to its end
    let ebp = (base + record(0)) as u32;
    (
        RegionSpec::private(base, size).contents(&b.0),
        ebp - LOCALS,
        ebp,
    )
}

/// Writes `bytes` at `offset` of `region`'s contents, extending them with zeros.
fn patch(region: &mut RegionSpec, offset: usize, bytes: &[u8]) {
    let end = offset + bytes.len();
    if region.contents.len() < end {
        region.contents.resize(end, 0);
    }
    region.contents[offset..end].copy_from_slice(bytes);
}

/// The x86 images of `regions`, the main executable (the first image) first, the others by
/// address.
fn x86_images(regions: &[RegionSpec]) -> Vec<&RegionSpec> {
    let mut images: Vec<&RegionSpec> = regions
        .iter()
        .filter(|r| r.kind == MEM_IMAGE)
        .enumerate()
        .filter(|(i, r)| *i == 0 || r.pe.as_ref().is_some_and(|pe| pe.machine == X86_MACHINE))
        .map(|(_, r)| r)
        .collect();
    if images.len() > 1 {
        images[1..].sort_by_key(|r| r.base);
    }
    images
}

/// Lays out a spawned WOW64 process ([`ProcessSpec::wow64_layout`]).
pub(crate) fn lay_out_process(data: &mut ProcessData, options: &Wow64Options) {
    data.info.peb = WOW64_PEB64;
    let images = [
        (WOW64_NTDLL, 0x1F_0000, "ntdll.dll"),
        (WOW64_DLL, 0x5_9000, "wow64.dll"),
        (WOW64WIN_DLL, 0x8_0000, "wow64win.dll"),
        (WOW64_CPU_DLL, 0xA000, options.cpu_dll.as_str()),
    ];
    Arc::make_mut(&mut data.regions).extend(
        images
            .iter()
            .map(|&(base, size, name)| RegionSpec::image(base, size, &format!("{SYSTEM32}{name}"))),
    );
    for t in Arc::make_mut(&mut data.threads) {
        t.x86.get_or_insert_with(|| Box::new(X86ThreadSpec::new()));
    }

    environment::lay_out(data, true, WOW64_TEB_SPACING);

    // The x86 stacks, and the native registers of threads stopped in x86 code.
    let mut stacks = Vec::new();
    let mut taken = BTreeSet::new();
    for t in Arc::make_mut(&mut data.threads) {
        let tid = t.tid;
        let teb = t.teb;
        let x86 = t.x86.as_mut().expect("given above");
        let mut base = x86_stack_base(tid);
        while !taken.insert(base) {
            base += 0x1_0000;
        }
        let call_stack = x86.call_stack.clone().unwrap_or_default();
        // A crashed thread's x86 stack also holds its exception (`super::crash`).
        let (region, esp, ebp) = super::crash::lay_out_x86(&mut data.info, tid, base, &call_stack)
            .unwrap_or_else(|| lay_out_x86_stack(base, &call_stack));
        x86.esp = esp;
        x86.ebp = ebp;
        x86.stack = (base as u32, (base + region.size) as u32);
        x86.teb32 = (teb + TEB32_OFFSET) as u32;
        if x86.in_x86_code.is_some() && cfg!(target_arch = "x86_64") {
            t.registers = [x86.eip as usize, esp as usize, ebp as usize];
        }
        stacks.push(region);
    }

    // The 32-bit region: PEB32, the loader data and names, the CPU areas.
    let modules: Vec<(X86Module, usize)> = x86_images(&data.regions)
        .into_iter()
        .map(|r| {
            let full = dos_path(&String::from_utf16_lossy(&r.mapped_name));
            let base_name = pe::file_name(&full).to_string();
            let entry_point = match pe::entry_point_rva(r.size) {
                0 => 0,
                rva => r.base + rva,
            };
            let module = X86Module {
                base: r.base as u32,
                size: r.image.map_or(r.size as u32, |i| i.size_of_image),
                full_name: full,
                base_name,
            };
            (module, entry_point)
        })
        .collect();
    let peb32 = WOW64_PEB64 + PEB32_OFFSET;
    let ldr = PAGE; // after the PEB32's page
    let entries_at = ldr + LDR32_SIZE.next_multiple_of(16);
    let mut end = entries_at + ENTRY32_SIZE * modules.len();
    let mut b = LeBuf::default();
    let at = |offset: usize| (peb32 + offset) as u32;
    for (list, (&head, &links)) in LDR32_HEADS.iter().zip(&ENTRY32_LINKS).enumerate() {
        let skip = usize::from(list == 2);
        let mut nodes = vec![ldr + head];
        nodes.extend((skip..modules.len()).map(|i| entries_at + ENTRY32_SIZE * i + links));
        for (i, &node) in nodes.iter().enumerate() {
            b.u32(node, at(nodes[(i + 1) % nodes.len()]));
            b.u32(node + 4, at(nodes[(i + nodes.len() - 1) % nodes.len()]));
        }
    }
    b.u32(ldr, LDR32_SIZE as u32);
    b.u8(ldr + 4, 1); // Initialized
    for (i, (m, entry_point)) in modules.iter().enumerate() {
        let e = entries_at + ENTRY32_SIZE * i;
        b.u32(e + ENTRY32_DLL_BASE, m.base);
        b.u32(e + ENTRY32_ENTRY_POINT, *entry_point as u32);
        b.u32(e + ENTRY32_SIZE_OF_IMAGE, m.size);
        let full: Vec<u16> = m.full_name.encode_utf16().collect();
        let base_units = m.base_name.encode_utf16().count();
        let name = end;
        for (j, unit) in full.iter().enumerate() {
            b.u16(name + 2 * j, *unit);
        }
        b.u16(name + 2 * full.len(), 0);
        end = (name + 2 * (full.len() + 1)).next_multiple_of(4);
        let mut string = |at_offset: usize, units: usize, buffer: usize| {
            let bytes = (2 * units).min(0xFFFC) as u16;
            b.u16(at_offset, bytes);
            b.u16(at_offset + 2, bytes + 2);
            b.u32(at_offset + 4, at(buffer));
        };
        string(e + ENTRY32_FULL_NAME, full.len(), name);
        string(
            e + ENTRY32_BASE_NAME,
            base_units,
            name + 2 * (full.len() - base_units),
        );
    }
    let main = modules.first().map_or(0, |(m, _)| m.base);
    b.u32(PEB32_IMAGE_BASE, main);
    b.u32(PEB32_LDR, at(ldr));
    b.u32(
        PEB32_NUMBER_OF_PROCESSORS,
        environment::NUMBER_OF_PROCESSORS,
    );
    b.u32(PEB32_OS_MAJOR, environment::OS_MAJOR_VERSION);
    b.u32(PEB32_OS_MINOR, environment::OS_MINOR_VERSION);
    b.u16(PEB32_OS_BUILD, environment::OS_BUILD_NUMBER);
    b.u32(PEB32_OS_PLATFORM, environment::OS_PLATFORM_ID);
    let cpu_areas = end.next_multiple_of(16);
    for (i, t) in Arc::make_mut(&mut data.threads).iter_mut().enumerate() {
        let area = cpu_areas + CPU_AREA_SPACING * i;
        let x86 = t.x86.as_mut().expect("given above");
        x86.cpu_area = peb32 + area;
        b.u16(area, 0); // Flags
        b.u16(area + 2, X86_MACHINE);
        b.bytes(area + 4, &x86.cpu_area_context());
    }
    let size = (cpu_areas + CPU_AREA_SPACING * data.threads.len()).next_multiple_of(PAGE);
    let region32 = RegionSpec::private(peb32, size).contents(&b.0);

    // The TEBs: the 64-bit ones' WOW64 fields, and the 32-bit ones after them, in the region
    // the environment laid out (which ends with the PEB64's page).
    let pid = data.info.pid;
    let threads = Arc::clone(&data.threads);
    let regions = Arc::make_mut(&mut data.regions);
    if let Some(environment) = regions.iter_mut().find(|r| r.contains(WOW64_PEB64)) {
        let base = environment.base;
        for t in threads.iter() {
            let x86 = t.x86.as_ref().expect("given above");
            let teb64 = t.teb - base;
            let teb32 = teb64 + TEB32_OFFSET;
            patch(
                environment,
                teb64 + TEB64_EXCEPTION_LIST,
                &u64::from(x86.teb32).to_le_bytes(),
            );
            patch(
                environment,
                teb64 + TEB64_TLS_CPURESERVED,
                &(x86.cpu_area as u64).to_le_bytes(),
            );
            patch(
                environment,
                teb64 + TEB64_WOW_TEB_OFFSET,
                &(TEB32_OFFSET as i32).to_le_bytes(),
            );
            let mut b = LeBuf::default();
            b.u32(0, u32::MAX); // the end of the SEH chain
            b.u32(TEB32_STACK_BASE, x86.stack.1);
            b.u32(TEB32_STACK_LIMIT, x86.stack.0);
            b.u32(TEB32_SELF, x86.teb32);
            b.u32(TEB32_PROCESS_ID, pid);
            b.u32(TEB32_THREAD_ID, t.tid);
            b.u32(TEB32_PEB, peb32 as u32);
            b.u32(TEB32_LAST_ERROR, x86.last_error);
            b.u32(TEB32_GDI_BATCH_COUNT, t.teb as u32);
            b.u32(TEB32_WOW_TEB_OFFSET, (-(TEB32_OFFSET as i32)) as u32);
            patch(environment, teb32, &b.0);
        }
    }
    let entries32 = (0..modules.len())
        .map(|i| at(entries_at + ENTRY32_SIZE * i))
        .collect();
    regions.push(region32);
    regions.extend(stacks);
    data.info.wow64 = Some(Arc::new(Wow64Layout {
        peb64: WOW64_PEB64,
        peb32: peb32 as u32,
        ldr32: at(ldr),
        entries32,
        modules32: modules.into_iter().map(|(m, _)| m).collect(),
        cpu_dll: options.cpu_dll.clone(),
    }));
}
