//! The 32-bit view of a WOW64 process, read from a snapshot: its 32-bit PEB and loader list,
//! each thread's 32-bit TEB and x86 registers, its x86 images. What a 32-bit dump, or a stack
//! walk of the x86 code, needs, from a 64-bit capturer with no 32-bit helper.
//!
//! # Where the 32-bit view is
//!
//! A WOW64 process (a 32-bit process on 64-bit Windows: [`ProcessFlags::WOW64`] in the
//! snapshot's process information, `PSS_PROCESS_FLAGS_WOW64`, which ntdll takes from the
//! process's extended basic information) has two of everything, and PSS, called from a 64-bit
//! process, captures the native ones: the 64-bit PEB (`PebBaseAddress`), each thread's 64-bit
//! TEB (`TebBaseAddress`) and native context. The 32-bit ones are in the target's memory, which
//! the VA clone holds:
//!
//! - the 32-bit PEB is one page after the 64-bit one, and names the same `ImageBaseAddress`;
//! - each thread's 32-bit TEB is at its 64-bit TEB + `WowTebOffset` (`0x2000`), which
//!   `NtTib.ExceptionList` of the 64-bit TEB also holds;
//! - each thread's CPU area is at `TEB64.TlsSlots[1]` (`WOW64_TLS_CPURESERVED`): a
//!   `WOW64_CPURESERVED` header (`Flags`, `Machine`), then, aligned to 4, the `WOW64_CONTEXT`
//!   WOW64 saved when the thread last left 32-bit code;
//! - a thread stopped while it ran 32-bit code has its x86 registers in its native context
//!   instead (code segment `0x23`, the registers' low halves), and its CPU area is stale.
//!   Windows' `Wow64GetThreadContext` decides on the native `SegCs` the same way.
//!
//! The evidence for each of these (decompiled Windows 11 kernel and ntdll, Wine's conformance
//! tests run on Windows, System Informer's headers) is in the model's table of choices
//! (`pss-model`, "Choices").
//!
//! # What is supported
//!
//! - An x64 build reading an x86 process on x64 Windows: everything.
//! - x86 code on ARM64 Windows runs under an emulator (`xtajit.dll`) that keeps its registers in
//!   a form no public source documents; the 32-bit TEBs, PEB, loader list and images read the
//!   same, but [`Wow64View::context`] refuses with [`ErrorCode::NOT_SUPPORTED`] (never a wrong
//!   context), and so does an arm64 build. [`Wow64View::cpu`] tells which CPU it is.
//! - A 32-bit (x86) build captures a WOW64 target in its own 32-bit view already (its thread
//!   entries' TEBs and contexts, the process information's PEB); [`LocalSnapshot::wow64`]
//!   refuses there.
//!
//! Everything read is the target's data: pointers, lengths and lists are checked and bounded
//! (a loader list that loops is found and reported), and a structure that does not hold what it
//! should is an error with its reason, never a panic or a guess.

mod context;
mod layout;

pub use context::{CpuArea, WOW64_CONTEXT_SIZE, X86Context, X86ContextSource};
pub use layout::{Image32, Module32, Modules32, Peb32, Teb32, UnicodeString32, Wow64Cpu};

use crate::{
    Allocation, CaptureFlags, Error, ErrorCode, Function, LocalSnapshot, ProcessFlags, Result,
    ThreadEntry, VaClone, WideStr,
};

/// A WOW64 process's 32-bit view, read through a snapshot's VA clone
/// ([`LocalSnapshot::wow64`]): its 32-bit PEB and loader list, and, given a thread's 64-bit TEB
/// (its entry's `TebBaseAddress`), the thread's 32-bit TEB and x86 registers. See the
/// [module docs](self) for where each is and what is supported.
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
///
/// # fn main() -> pss::Result<()> {
/// # let pid = 1234;
/// let flags = CaptureFlags::VA_CLONE | CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
/// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
/// let snapshot = LocalSnapshot::capture(&process, flags)?;
/// let view = snapshot.wow64()?;
/// for module in view.modules() {
///     let module = module?;
///     println!("{:#010x} {}", module.base, view.string(&module.full_name)?.display());
/// }
/// for thread in &snapshot.threads()? {
///     let thread = thread?;
///     let teb = view.thread_teb(&thread)?;
///     match view.thread_context(&thread) {
///         Ok(context) => println!("{}: EIP {:#010x}, stack {:#x}..{:#x}", thread.thread_id(),
///             context.eip(), teb.stack_limit, teb.stack_base),
///         Err(error) => println!("{}: {error}", thread.thread_id()),
///     }
/// }
/// # Ok(()) }
/// ```
#[doc(
    alias = "WOW64",
    alias = "IsWow64Process",
    alias = "PEB32",
    alias = "TEB32"
)]
#[derive(Debug, Clone, Copy)]
pub struct Wow64View<'s> {
    clone: VaClone<'s>,
    peb64: usize,
    peb: Peb32,
    cpu: Wow64Cpu,
}

impl<A: Allocation> LocalSnapshot<A> {
    /// The 32-bit view of a WOW64 target ([`Wow64View`]): its 32-bit PEB, loader list, TEBs and
    /// x86 registers, read through the VA clone.
    ///
    /// The target is WOW64 when its process information has [`ProcessFlags::WOW64`]
    /// (`PSS_PROCESS_FLAGS_WOW64`): for any other, [`ErrorCode::NOT_FOUND`] with the reason
    /// (it has no 32-bit view; read it natively). Needs [`CaptureFlags::VA_CLONE`]
    /// ([`ErrorKind::NotCaptured`](crate::ErrorKind::NotCaptured) without it); thread
    /// information needs [`CaptureFlags::THREADS`] and, for registers,
    /// [`CaptureFlags::THREAD_CONTEXT`] with `CONTEXT_CONTROL | CONTEXT_INTEGER` (the default).
    /// A 32-bit build is refused with [`ErrorCode::NOT_SUPPORTED`]: what it captures of a WOW64
    /// target is the 32-bit view already. A 32-bit PEB that is not where it should be, or does
    /// not name the 64-bit PEB's image, is [`ErrorCode::NOT_FOUND`] with the reason.
    ///
    /// Kernel32 calls: `PssQuerySnapshot` twice (process and VA-clone information), and
    /// `ReadProcessMemory` for the two PEBs and each entry of the 64-bit loader list until the
    /// WOW64 CPU's DLL (a handful).
    ///
    /// # References
    ///
    /// - [`IsWow64Process`](https://learn.microsoft.com/en-us/windows/win32/api/wow64apiset/nf-wow64apiset-iswow64process)
    /// - [`PSS_PROCESS_FLAGS`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_process_flags)
    /// - [`PEB`](https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-peb)
    #[doc(
        alias = "PSS_PROCESS_FLAGS_WOW64",
        alias = "IsWow64Process",
        alias = "PEB32"
    )]
    pub fn wow64(&self) -> Result<Wow64View<'_>> {
        let information = self.process_information()?;
        if !information.flags().contains(ProcessFlags::WOW64) {
            return Err(
                Error::os(Function::PssQuerySnapshot, ErrorCode::NOT_FOUND.raw()).with_reason(
                    "the process is not a WOW64 process (PSS_PROCESS_FLAGS_WOW64 is not set): it has no 32-bit view; read it natively",
                ),
            );
        }
        if usize::BITS < 64 {
            return Err(
                Error::os(Function::PssQuerySnapshot, ErrorCode::NOT_SUPPORTED.raw()).with_reason(
                    "this is a 32-bit build: what it captures of a WOW64 process (the PEB, the thread entries' TEBs and contexts) is the 32-bit view already",
                ),
            );
        }
        Wow64View::new(self.va_clone()?, information.peb_base_address())
    }
}

impl<'s> Wow64View<'s> {
    /// The 32-bit view of the WOW64 process whose memory `clone` holds and whose 64-bit PEB is
    /// at `peb64` (`PSS_PROCESS_INFORMATION.PebBaseAddress`): what [`LocalSnapshot::wow64`]
    /// returns after its checks. It reads the 64-bit PEB, the 32-bit PEB one page after it
    /// (which must name the same `ImageBaseAddress`, else [`ErrorCode::NOT_FOUND`] with the
    /// reason), and the 64-bit loader list until the WOW64 CPU's DLL ([`cpu`](Self::cpu)).
    ///
    /// The structures read are Windows' on every build, so this works on any (tests lay out a
    /// process's memory by hand and read it here on 32-bit hosts too).
    pub fn new(clone: VaClone<'s>, peb64: usize) -> Result<Self> {
        let (peb, ldr64) = layout::read_pebs(&clone, peb64 as u64)?;
        let cpu = layout::find_cpu(&clone, ldr64);
        Ok(Wow64View {
            clone,
            peb64,
            peb,
            cpu,
        })
    }

    /// The VA clone it reads.
    pub fn va_clone(&self) -> VaClone<'s> {
        self.clone
    }

    /// The 64-bit PEB's address.
    pub fn peb64(&self) -> usize {
        self.peb64
    }

    /// The 32-bit PEB.
    #[doc(alias = "PEB32", alias = "PEB")]
    pub fn peb(&self) -> &Peb32 {
        &self.peb
    }

    /// Which WOW64 CPU runs the x86 code (found by its DLL in the 64-bit loader list): whether
    /// [`context`](Self::context) can read registers.
    pub fn cpu(&self) -> Wow64Cpu {
        self.cpu
    }

    /// The 32-bit loader's modules, in load order (the main executable first), from
    /// `PEB32.Ldr`'s `InLoadOrderModuleList`: one `ReadProcessMemory` per entry, no allocation;
    /// at most 4,096; a list that loops without coming back to its head, breaks (a NULL link) or
    /// cannot be read ends with an error.
    #[doc(
        alias = "PEB_LDR_DATA",
        alias = "InLoadOrderModuleList",
        alias = "LDR_DATA_TABLE_ENTRY"
    )]
    pub fn modules(&self) -> Modules32<'_> {
        Modules32::new(&self.clone, self.peb.ldr)
    }

    /// The text of a `UNICODE_STRING32` of the target (a module's names): at most 32,767 units;
    /// lengths that lie (odd, longer than the buffer) or a NULL buffer are
    /// [`ErrorCode::NOT_FOUND`] with the reason.
    pub fn string(&self, string: &UnicodeString32) -> Result<WideStr<'static>> {
        layout::read_string(&self.clone, string).map(WideStr::from_vec)
    }

    /// The PE32 headers of the x86 image at `base` (a module's `base`): machine, time stamp,
    /// size, checksum. Something else there is [`ErrorCode::NOT_FOUND`] with the reason.
    #[doc(alias = "IMAGE_NT_HEADERS32")]
    pub fn image(&self, base: u32) -> Result<Image32> {
        layout::read_image(&self.clone, base)
    }

    /// The main executable's headers: [`image`](Self::image) at the 32-bit PEB's
    /// `ImageBaseAddress`.
    #[doc(alias = "ImageBaseAddress")]
    pub fn main_image(&self) -> Result<Image32> {
        self.image(self.peb.image_base_address)
    }

    /// The 32-bit TEB of the thread whose 64-bit TEB is at `teb64`: found through the TEB64's
    /// `WowTebOffset` and `NtTib.ExceptionList`, each TEB checked to point at itself
    /// (`NtTib.Self`). Two `ReadProcessMemory` calls.
    #[doc(alias = "TEB32", alias = "TEB", alias = "WowTebOffset")]
    pub fn teb(&self, teb64: usize) -> Result<Teb32> {
        let teb = layout::read_teb64(&self.clone, teb64 as u64)?;
        layout::read_teb32(&self.clone, teb.teb32)
    }

    /// The CPU area of the thread whose 64-bit TEB is at `teb64`
    /// (`TEB64.TlsSlots[WOW64_TLS_CPURESERVED]`): its header, and where its context is.
    /// NULL is [`ErrorCode::NOT_FOUND`]; a machine other than x86 (`0x14C`) is
    /// [`ErrorCode::NOT_SUPPORTED`], each with the reason.
    #[doc(alias = "WOW64_CPURESERVED", alias = "RtlWow64GetCpuAreaInfo")]
    pub fn cpu_area(&self, teb64: usize) -> Result<CpuArea> {
        let teb = layout::read_teb64(&self.clone, teb64 as u64)?;
        context::read_cpu_area(&self.clone, teb.cpu_area)
    }

    /// The x86 registers of the thread whose 64-bit TEB is at `teb64` and whose native context
    /// record (an x64 `CONTEXT`, as a 64-bit capture holds it) is `native`: from `native` when
    /// its code segment says the thread was running 32-bit code (`0x23`), else (`0x33`) from
    /// the CPU area, as Windows' `Wow64GetThreadContext` decides ([`X86Context::source`]).
    ///
    /// Refused with [`ErrorCode::NOT_SUPPORTED`] unless the WOW64 CPU is `wow64cpu.dll`
    /// ([`Wow64Cpu::X64`]); with [`ErrorCode::NOT_FOUND`] and the reason when `native` cannot
    /// tell (not an x64 record, no `CONTEXT_CONTROL`, or in 32-bit code without
    /// `CONTEXT_INTEGER`), or the CPU area is missing or not x86's (see
    /// [`cpu_area`](Self::cpu_area)).
    ///
    /// # References
    ///
    /// - [`Wow64GetThreadContext`](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-wow64getthreadcontext)
    /// - [`WOW64_CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-wow64_context)
    #[doc(alias = "Wow64GetThreadContext", alias = "WOW64_CONTEXT")]
    pub fn context(&self, teb64: usize, native: &[u8]) -> Result<X86Context> {
        self.context_of(native, || layout::read_teb64(&self.clone, teb64 as u64))
    }

    /// [`context`](Self::context), with the 64-bit TEB read by `teb64` if it is needed.
    fn context_of(
        &self,
        native: &[u8],
        teb64: impl FnOnce() -> Result<layout::Teb64>,
    ) -> Result<X86Context> {
        match self.cpu {
            Wow64Cpu::X64 => {}
            Wow64Cpu::Arm64Emulator => {
                return Err(unsupported(
                    "x86 code on ARM64 Windows runs under the xtajit.dll emulator, which keeps its registers in a form no public source documents: pss reads no x86 context there (use the native view)",
                ));
            }
            Wow64Cpu::Unknown => {
                return Err(unsupported(
                    "the 64-bit loader list names no WOW64 CPU (wow64cpu.dll): pss cannot tell how the x86 registers are kept (the process may not have started 32-bit code yet); use the native view",
                ));
            }
        }
        context::x86_context(native, || {
            let area = context::read_cpu_area(&self.clone, teb64()?.cpu_area)?;
            context::saved_context(&self.clone, &area)
        })
    }

    /// A captured thread's 32-bit side, its [`thread_teb`](Self::thread_teb) and
    /// [`thread_context`](Self::thread_context), reading its 64-bit TEB once: what a 32-bit
    /// dump's thread list needs (each part may fail on its own).
    ///
    /// Kernel32 calls: `ReadProcessMemory` for the 64-bit TEB, the 32-bit TEB, and for a thread
    /// in the WOW64 layer the CPU area's header and context.
    #[doc(alias = "Wow64GetThreadContext", alias = "TEB32")]
    pub fn thread(&self, thread: &ThreadEntry<'_>) -> Wow64Thread {
        let teb64 = teb_of(thread).and_then(|teb| layout::read_teb64(&self.clone, teb as u64));
        let teb = teb64.and_then(|teb| layout::read_teb32(&self.clone, teb.teb32));
        let context = native_of(thread).and_then(|native| self.context_of(native, || teb64));
        Wow64Thread {
            thread_id: thread.thread_id(),
            teb,
            context,
        }
    }

    /// [`teb`](Self::teb) of a captured thread, by its entry's `TebBaseAddress` (a thread
    /// without one is [`ErrorCode::NOT_FOUND`]).
    pub fn thread_teb(&self, thread: &ThreadEntry<'_>) -> Result<Teb32> {
        self.teb(teb_of(thread)?)
    }

    /// [`context`](Self::context) of a captured thread: its entry's TEB and context record.
    ///
    /// On an x64 build. An arm64 build's records are ARM64 contexts, of an emulated thread:
    /// refused with [`ErrorCode::NOT_SUPPORTED`]. A thread without a context record is
    /// [`ErrorCode::NOT_FOUND`] with [`Error::missing_flags`]
    /// [`CaptureFlags::THREAD_CONTEXT`] (Windows may also have failed to read it).
    #[doc(alias = "Wow64GetThreadContext", alias = "WOW64_CONTEXT")]
    pub fn thread_context(&self, thread: &ThreadEntry<'_>) -> Result<X86Context> {
        let native = native_of(thread)?;
        self.context(teb_of(thread)?, native)
    }
}

/// A captured thread's 32-bit side ([`Wow64View::thread`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Wow64Thread {
    /// Its thread id.
    pub thread_id: u32,
    /// Its 32-bit TEB ([`Wow64View::thread_teb`]).
    pub teb: Result<Teb32>,
    /// Its x86 registers ([`Wow64View::thread_context`]).
    pub context: Result<X86Context>,
}

/// A thread entry's native context record, on a build that can read it as x64's.
fn native_of<'e>(thread: &'e ThreadEntry<'_>) -> Result<&'e [u8]> {
    if !cfg!(target_arch = "x86_64") {
        return Err(unsupported(
            "only an x64 build reads x86 contexts: this build's context records are not x64 ones, and x86 code on ARM64 Windows runs under an emulator whose registers no public source documents (use the native view)",
        ));
    }
    thread.context_bytes().ok_or_else(|| {
        Error::os(Function::PssWalkSnapshot, ErrorCode::NOT_FOUND.raw())
            .with_missing_flags(CaptureFlags::THREAD_CONTEXT)
            .with_reason(
                "the thread has no context record: the snapshot was captured without THREAD_CONTEXT, or Windows could not read this thread's context",
            )
    })
}

/// A thread entry's `TebBaseAddress`, or the error for a thread without one.
fn teb_of(thread: &ThreadEntry<'_>) -> Result<usize> {
    thread.teb_base_address().ok_or_else(|| {
        Error::os(Function::PssWalkSnapshot, ErrorCode::NOT_FOUND.raw())
            .with_reason("the thread entry has no TEB address (TebBaseAddress is NULL)")
    })
}

/// Reading x86 registers is not supported here, with `reason`.
fn unsupported(reason: &'static str) -> Error {
    Error::os(Function::ReadProcessMemory, ErrorCode::NOT_SUPPORTED.raw()).with_reason(reason)
}

static_assertions::assert_impl_all!(Wow64View<'static>: Send, Sync, Copy);
static_assertions::assert_impl_all!(X86Context: Send, Sync, Copy);
static_assertions::assert_impl_all!(Teb32: Send, Sync, Copy);
static_assertions::assert_impl_all!(Peb32: Send, Sync, Copy);
static_assertions::assert_impl_all!(Module32: Send, Sync, Copy);
static_assertions::assert_impl_all!(Image32: Send, Sync, Copy);
static_assertions::assert_impl_all!(CpuArea: Send, Sync, Copy);
static_assertions::assert_impl_all!(Wow64Thread: Send, Sync, Copy);
