//! The exception a crashed thread raised, read out of the target through the VA clone: what an
//! out-of-process crash handler is told ("thread T faulted, its `EXCEPTION_POINTERS` are at
//! address A in the target"), turned into owned data for the dump's exception stream.
//!
//! Everything read is target memory, so hostile: each pointer is checked for NULL and for room
//! below the top of the address space, `NumberParameters` is bounded by the format's 15, and the
//! chain of nested records is followed at most [`MAX_NESTED_RECORDS`] steps, each address
//! compared with those already read, so it cannot loop or grow. Each read is one
//! `ReadProcessMemory` of the clone; a record is read whole at once and parsed from the bytes.

use core::fmt;

use pss_sys as sys;

use super::DumpException;
use crate::{Allocation, Error, LocalSnapshot, ProcessFlags, VaClone};

/// `EXCEPTION_MAXIMUM_PARAMETERS`: the most `ExceptionInformation` values a record (and a
/// minidump's `MINIDUMP_EXCEPTION`) holds.
pub const EXCEPTION_MAXIMUM_PARAMETERS: usize = 15;

/// The most nested exception records [`TargetException::read`] follows past the first (the
/// `ExceptionRecord` chain of an exception raised while another was being handled). Windows
/// nests them one or two deep; a longer chain is cut ([`ChainEnd::Limit`]).
pub const MAX_NESTED_RECORDS: usize = 8;

/// `sizeof(WOW64_CONTEXT)`, the x86 `CONTEXT`.
const X86_CONTEXT_SIZE: usize = 0x2CC;

/// The largest structure read whole: a 64-bit `EXCEPTION_RECORD`.
const RECORD64_SIZE: usize = 0x98;

/// The architecture bits of `ContextFlags` (`CONTEXT_i386` `0x10000` up to `CONTEXT_ARM64`
/// `0x400000`), and the one each layout's `CONTEXT` names.
const ARCHITECTURE_MASK: u32 = 0x007F_0000;
const CONTEXT_I386: u32 = 0x0001_0000;
const CONTEXT_NATIVE: u32 = if cfg!(target_arch = "x86") {
    CONTEXT_I386
} else if cfg!(target_arch = "aarch64") {
    0x0040_0000 // CONTEXT_ARM64
} else {
    0x0010_0000 // CONTEXT_AMD64 (x86_64, and arm64ec, whose CONTEXT is x64's)
};
/// `CONTEXT_CONTROL` and `CONTEXT_INTEGER`'s own bits (the same on every architecture).
const CONTROL: u32 = 0x1;
const INTEGER: u32 = 0x2;

/// Which structures an exception is read as: the pointer width of `EXCEPTION_POINTERS` and
/// `EXCEPTION_RECORD`, and which `CONTEXT`. The target's own: the structures its
/// `KiUserExceptionDispatcher` built and its exception filter was given.
///
/// [`TargetException::read`] takes [`X86`](Self::X86) for a WOW64 target (a 32-bit process on
/// 64-bit Windows, [`ProcessFlags::WOW64`]) captured by a 64-bit build, else
/// [`NATIVE`](Self::NATIVE).
///
/// # References
///
/// - [`EXCEPTION_POINTERS`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_pointers)
/// - [`EXCEPTION_RECORD`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_record),
///   [`EXCEPTION_RECORD32`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_record32),
///   [`EXCEPTION_RECORD64`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_record64)
/// - [`CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context),
///   [`WOW64_CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-wow64_context)
#[doc(
    alias = "EXCEPTION_RECORD32",
    alias = "EXCEPTION_RECORD64",
    alias = "WOW64_CONTEXT"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExceptionLayout {
    /// 64-bit pointers (`EXCEPTION_POINTERS` of 16 bytes, `EXCEPTION_RECORD64` of `0x98`) and
    /// this build's 64-bit `CONTEXT` (x64's `0x4D0` bytes, arm64's `0x390`): a native process
    /// of a 64-bit build. A 32-bit build cannot read it
    /// ([`ExceptionError::Unsupported`]).
    Bits64,
    /// 32-bit pointers (`EXCEPTION_POINTERS32` of 8 bytes, `EXCEPTION_RECORD32` of `0x50`) and
    /// the x86 `CONTEXT` (`WOW64_CONTEXT`, `0x2CC` bytes): a WOW64 process, or any process of
    /// a 32-bit (x86) build.
    X86,
}

impl ExceptionLayout {
    /// This build's own layout: [`Bits64`](Self::Bits64) on 64-bit builds, [`X86`](Self::X86)
    /// on x86.
    pub const NATIVE: Self = if cfg!(target_pointer_width = "64") {
        ExceptionLayout::Bits64
    } else {
        ExceptionLayout::X86
    };

    fn pointer(self) -> usize {
        match self {
            ExceptionLayout::Bits64 => 8,
            ExceptionLayout::X86 => 4,
        }
    }

    /// `EXCEPTION_RECORD` up to `ExceptionInformation`.
    fn record_header(self) -> usize {
        match self {
            ExceptionLayout::Bits64 => 0x20,
            ExceptionLayout::X86 => 0x14,
        }
    }

    fn record_size(self) -> usize {
        self.record_header() + EXCEPTION_MAXIMUM_PARAMETERS * self.pointer()
    }

    #[cfg(test)]
    fn context_size(self) -> usize {
        match self {
            ExceptionLayout::Bits64 => size_of::<sys::CONTEXT>(),
            ExceptionLayout::X86 => X86_CONTEXT_SIZE,
        }
    }

    /// Where `ContextFlags` is (x64: after the six home addresses; elsewhere first).
    fn flags_offset(self) -> usize {
        match self {
            ExceptionLayout::Bits64 => core::mem::offset_of!(sys::CONTEXT, ContextFlags),
            ExceptionLayout::X86 => 0,
        }
    }

    fn context_architecture(self) -> u32 {
        match self {
            ExceptionLayout::Bits64 => CONTEXT_NATIVE,
            ExceptionLayout::X86 => CONTEXT_I386,
        }
    }

    /// Is this layout's `CONTEXT` this build's `sys::CONTEXT`?
    fn is_native(self) -> bool {
        self == Self::NATIVE
    }

    /// Offsets of the instruction, stack and frame pointer in this layout's `CONTEXT`, and
    /// the register group that holds the frame pointer.
    fn registers(self) -> ([usize; 3], u32) {
        match self {
            ExceptionLayout::X86 => ([0xB8, 0xC4, 0xB4], CONTROL), // Eip, Esp, Ebp
            ExceptionLayout::Bits64 if cfg!(target_arch = "aarch64") => {
                ([0x108, 0x100, 0xF0], CONTROL) // Pc, Sp, Fp (X29)
            }
            ExceptionLayout::Bits64 => ([0xF8, 0x98, 0xA0], INTEGER), // Rip, Rsp, Rbp
        }
    }
}

impl fmt::Display for ExceptionLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExceptionLayout::Bits64 => "64-bit",
            ExceptionLayout::X86 => "32-bit (x86)",
        })
    }
}

// The native offsets above are this build's `CONTEXT`'s.
#[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
const _: () = assert!(
    core::mem::offset_of!(sys::CONTEXT, Rip) == 0xF8
        && core::mem::offset_of!(sys::CONTEXT, Rsp) == 0x98
        && core::mem::offset_of!(sys::CONTEXT, Rbp) == 0xA0
        && size_of::<sys::CONTEXT>() == 0x4D0
);
#[cfg(target_arch = "aarch64")]
const _: () = assert!(
    core::mem::offset_of!(sys::CONTEXT, Pc) == 0x108
        && core::mem::offset_of!(sys::CONTEXT, Sp) == 0x100
        && core::mem::offset_of!(sys::CONTEXT, Anonymous)
            + core::mem::offset_of!(sys::CONTEXT_0_0, Fp)
            == 0xF0
        && size_of::<sys::CONTEXT>() == 0x390
);
#[cfg(target_arch = "x86")]
const _: () = assert!(
    core::mem::offset_of!(sys::CONTEXT, Eip) == 0xB8
        && core::mem::offset_of!(sys::CONTEXT, Esp) == 0xC4
        && core::mem::offset_of!(sys::CONTEXT, Ebp) == 0xB4
        && size_of::<sys::CONTEXT>() == X86_CONTEXT_SIZE
);

/// Which structure an [`ExceptionError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExceptionStructure {
    /// `EXCEPTION_POINTERS` (`ExceptionRecord`, `ContextRecord`): where the crash handler was
    /// told to look.
    #[doc(alias = "EXCEPTION_POINTERS")]
    ExceptionPointers,
    /// The first `EXCEPTION_RECORD`, which `EXCEPTION_POINTERS.ExceptionRecord` points to.
    #[doc(alias = "EXCEPTION_RECORD")]
    ExceptionRecord,
    /// A nested `EXCEPTION_RECORD` (`ExceptionRecord.ExceptionRecord`, and so on): the `n`th past
    /// the first, from 1.
    NestedRecord(usize),
    /// The `CONTEXT`, which `EXCEPTION_POINTERS.ContextRecord` points to.
    #[doc(alias = "CONTEXT", alias = "WOW64_CONTEXT")]
    Context,
}

impl fmt::Display for ExceptionStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExceptionStructure::ExceptionPointers => f.write_str("EXCEPTION_POINTERS"),
            ExceptionStructure::ExceptionRecord => f.write_str("EXCEPTION_RECORD"),
            ExceptionStructure::NestedRecord(n) => write!(f, "nested EXCEPTION_RECORD {n}"),
            ExceptionStructure::Context => f.write_str("CONTEXT"),
        }
    }
}

/// Why [`TargetException::read`] could not read the exception: the step, the structure and its
/// address in the target, and the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExceptionError {
    /// The snapshot could not give what reading needs: the thread list, the process
    /// information, or the VA clone. [`Error::missing_flags`] names the capture flags that
    /// would have helped (`THREADS`, `VA_CLONE`: [`CaptureFlags::MINIDUMP`](crate::CaptureFlags::MINIDUMP)
    /// has both).
    #[error("reading the exception: {step}: {error}")]
    Snapshot {
        /// What was being done: `"listing the threads"`, `"querying the process information"`,
        /// `"querying the VA clone"`.
        step: &'static str,
        /// The snapshot's error.
        error: Error,
    },
    /// The thread is not in the snapshot: not the id of a thread of the captured process (the
    /// crashing process's own `GetCurrentThreadId()` is), or it was not captured.
    #[error(
        "reading the exception: thread {thread_id} is not in the snapshot (pass the id of the \
         thread that faulted, as the crashing process's GetCurrentThreadId() gives it)"
    )]
    ThreadNotFound {
        /// The id asked for.
        thread_id: u32,
    },
    /// A pointer to `structure` is NULL: the crashing process sent an `EXCEPTION_POINTERS`
    /// whose `ExceptionRecord` or `ContextRecord` is not set, or the address given is not of an
    /// `EXCEPTION_POINTERS`.
    #[error(
        "reading the exception: the {structure} pointer at {at:#x} is NULL (is {at:#x} the \
         address of the faulting thread's EXCEPTION_POINTERS?)"
    )]
    Null {
        /// The structure the pointer should point to.
        structure: ExceptionStructure,
        /// Where the NULL pointer is (in the `EXCEPTION_POINTERS`, or the record holding it).
        at: usize,
    },
    /// `structure` at `address` could not be read through the VA clone: the address is not
    /// readable memory of the captured process (memory the process never had, freed, or that
    /// the clone does not hold), or it ends in such memory ([`Error::bytes_read`] says how far
    /// it got).
    #[error(
        "reading the exception: the {structure} at {address:#x} could not be read: {error} (is \
         the address right, and the structures' layout the target's?)"
    )]
    Unreadable {
        /// The structure.
        structure: ExceptionStructure,
        /// Its address in the target.
        address: usize,
        /// The read's error.
        error: Error,
    },
    /// `structure` at `address` would run past the top of the address space: no structure of
    /// a process lies there.
    #[error(
        "reading the exception: the {structure} at {address:#x} would run past the end of the \
         address space (the pointer is not one to a {structure})"
    )]
    OutOfRange {
        /// The structure.
        structure: ExceptionStructure,
        /// Its address in the target.
        address: usize,
    },
    /// The record at `address` says it holds `count` parameters, more than the 15
    /// (`EXCEPTION_MAXIMUM_PARAMETERS`) a record has room for: it is not an `EXCEPTION_RECORD`
    /// (or not of this layout).
    #[error(
        "reading the exception: the {structure} at {address:#x} claims {count} parameters, more \
         than the 15 (EXCEPTION_MAXIMUM_PARAMETERS) a record holds (is it one, of this layout?)"
    )]
    TooManyParameters {
        /// The record.
        structure: ExceptionStructure,
        /// Its address in the target.
        address: usize,
        /// Its `NumberParameters`.
        count: u32,
    },
    /// The `CONTEXT` at `address` does not name the layout's architecture in its
    /// `ContextFlags` (x64 `CONTEXT_AMD64`, arm64 `CONTEXT_ARM64`, x86 `CONTEXT_i386`): it is
    /// not a `CONTEXT` of that layout. A WOW64 target's structures are 32-bit
    /// ([`ExceptionLayout::X86`]), a native one's 64-bit.
    #[error(
        "reading the exception: the CONTEXT at {address:#x} has ContextFlags {flags:#x}, which do \
         not name the {layout} layout's architecture (is the target's layout {layout}?)"
    )]
    WrongArchitecture {
        /// Its address in the target.
        address: usize,
        /// Its `ContextFlags`.
        flags: u32,
        /// The layout it was read as.
        layout: ExceptionLayout,
    },
    /// A 32-bit build cannot read a 64-bit target's structures (nor capture such a target).
    #[error("reading the exception: a 32-bit build cannot read the {layout} layout")]
    Unsupported {
        /// The layout asked for.
        layout: ExceptionLayout,
    },
}

/// One `EXCEPTION_RECORD` read from the target, owned: what happened, where, with which
/// parameters.
///
/// # References
///
/// - [`EXCEPTION_RECORD`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_record)
#[doc(alias = "EXCEPTION_RECORD")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExceptionRecord {
    record_address: usize,
    code: u32,
    flags: u32,
    nested: usize,
    address: usize,
    count: u8,
    parameters: [usize; EXCEPTION_MAXIMUM_PARAMETERS],
}

impl ExceptionRecord {
    /// Where the record is in the target.
    pub fn record_address(&self) -> usize {
        self.record_address
    }
    /// `ExceptionCode`: what happened (`0xC0000005`, `EXCEPTION_ACCESS_VIOLATION`; `0xE06D7363`,
    /// a C++ exception; ...).
    #[doc(alias = "ExceptionCode")]
    pub fn code(&self) -> u32 {
        self.code
    }
    /// `ExceptionFlags` (`EXCEPTION_NONCONTINUABLE` is 1).
    #[doc(alias = "ExceptionFlags")]
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// `ExceptionAddress`: where it happened, an address in the target (for a fault, the
    /// faulting instruction).
    #[doc(alias = "ExceptionAddress")]
    pub fn address(&self) -> usize {
        self.address
    }
    /// `ExceptionRecord`: the address in the target of the record this one was raised while
    /// handling (0: none).
    #[doc(alias = "ExceptionRecord")]
    pub fn nested_record(&self) -> usize {
        self.nested
    }
    /// `ExceptionInformation`, its first `NumberParameters` values (at most 15). For an access
    /// violation: `[0]` is 0 for a read, 1 for a write, 8 for an execution (DEP), `[1]` the
    /// address accessed.
    #[doc(alias = "ExceptionInformation", alias = "NumberParameters")]
    pub fn parameters(&self) -> &[usize] {
        &self.parameters[..usize::from(self.count)]
    }
}

impl fmt::Debug for ExceptionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptionRecord")
            .field(
                "record_address",
                &format_args!("{:#x}", self.record_address),
            )
            .field("code", &format_args!("{:#x}", self.code))
            .field("flags", &self.flags)
            .field("address", &format_args!("{:#x}", self.address))
            .field("nested_record", &format_args!("{:#x}", self.nested))
            .field("parameters", &format_args!("{:#x?}", self.parameters()))
            .finish()
    }
}

/// Where the chain of nested records ([`TargetException::nested`]) ends, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainEnd {
    /// The last record read has no nested record (`ExceptionRecord` is NULL): the whole chain
    /// was read.
    Complete,
    /// [`MAX_NESTED_RECORDS`] nested records were read and the last points to another, at
    /// `next`, which was not read.
    Limit {
        /// The next record's address.
        next: usize,
    },
    /// The last record read points back to a record already read, at `address`: the chain
    /// loops. Each record is kept once.
    Loop {
        /// The address it points back to.
        address: usize,
    },
    /// The next record could not be read (unreadable, out of range, too many parameters): the
    /// error says which and why. The records before it are kept.
    Broken(ExceptionError),
}

/// The `CONTEXT` an exception was raised with (the registers at the fault), owned, in the
/// target's layout.
#[doc(alias = "CONTEXT", alias = "WOW64_CONTEXT")]
#[derive(Clone)]
pub struct ExceptionContext {
    address: usize,
    layout: ExceptionLayout,
    record: ContextRecord,
}

#[derive(Clone)]
enum ContextRecord {
    /// This build's `CONTEXT`, every byte of it read from the target (never built in safe
    /// code, so no byte of it is uninitialised, and it is never changed).
    Native(Box<sys::CONTEXT>),
    /// An x86 `CONTEXT` read by a 64-bit build.
    X86(Box<[u8; X86_CONTEXT_SIZE]>),
}

impl ExceptionContext {
    /// Where the `CONTEXT` is in the target.
    pub fn address(&self) -> usize {
        self.address
    }
    /// Which `CONTEXT` it is.
    pub fn layout(&self) -> ExceptionLayout {
        self.layout
    }
    /// This build's [`CONTEXT`](sys::CONTEXT), when the layout is this build's own
    /// ([`ExceptionLayout::NATIVE`]); `None` for an x86 context read by a 64-bit build.
    pub fn native(&self) -> Option<&sys::CONTEXT> {
        match &self.record {
            ContextRecord::Native(context) => Some(context),
            ContextRecord::X86(_) => None,
        }
    }
    /// The structure's bytes as read (x64: `0x4D0`, arm64: `0x390`, x86: `0x2CC`).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.record {
            ContextRecord::Native(context) => {
                let context: &sys::CONTEXT = context;
                // SAFETY: the `CONTEXT` was made by writing all its `size_of` bytes (zeroed,
                // then read over: `read_context`), is private and never changed, so every byte
                // is initialised; the slice borrows it for as long as `self`.
                unsafe {
                    core::slice::from_raw_parts(
                        (context as *const sys::CONTEXT).cast::<u8>(),
                        size_of::<sys::CONTEXT>(),
                    )
                }
            }
            ContextRecord::X86(bytes) => &bytes[..],
        }
    }
    /// `ContextFlags`: which register groups the record holds, as the target wrote them.
    #[doc(alias = "ContextFlags")]
    pub fn flags(&self) -> u32 {
        word(self.as_bytes(), self.layout.flags_offset(), 4) as u32
    }
    /// The instruction pointer at the fault (`Rip`, `Pc`, `Eip`), if the flags claim
    /// `CONTEXT_CONTROL`.
    #[doc(alias = "Rip", alias = "Eip", alias = "Pc")]
    pub fn instruction_pointer(&self) -> Option<usize> {
        self.register(0, CONTROL)
    }
    /// The stack pointer at the fault (`Rsp`, `Sp`, `Esp`), if the flags claim
    /// `CONTEXT_CONTROL`.
    #[doc(alias = "Rsp", alias = "Esp", alias = "Sp")]
    pub fn stack_pointer(&self) -> Option<usize> {
        self.register(1, CONTROL)
    }
    /// The frame pointer at the fault (`Rbp`, under `CONTEXT_INTEGER`; `Fp` and `Ebp`, under
    /// `CONTEXT_CONTROL`), if the flags claim its group.
    #[doc(alias = "Rbp", alias = "Ebp", alias = "Fp")]
    pub fn frame_pointer(&self) -> Option<usize> {
        let (_, group) = self.layout.registers();
        self.register(2, group)
    }

    fn register(&self, which: usize, group: u32) -> Option<usize> {
        if self.flags() & group != group {
            return None;
        }
        let (offsets, _) = self.layout.registers();
        let value = word(self.as_bytes(), offsets[which], self.layout.pointer());
        usize::try_from(value).ok()
    }
}

impl fmt::Debug for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |v: Option<usize>| v.map(|v| format!("{v:#x}"));
        f.debug_struct("ExceptionContext")
            .field("address", &format_args!("{:#x}", self.address))
            .field("layout", &self.layout)
            .field("flags", &format_args!("{:#x}", self.flags()))
            .field("instruction_pointer", &hex(self.instruction_pointer()))
            .field("stack_pointer", &hex(self.stack_pointer()))
            .field("frame_pointer", &hex(self.frame_pointer()))
            .finish_non_exhaustive()
    }
}

/// A crashed thread's exception, read from the target through the snapshot's VA clone:
/// [`read`](Self::read) it from the address of the thread's `EXCEPTION_POINTERS`, then give
/// [`dump_exception`](Self::dump_exception) to [`DumpWriter::exception`](super::DumpWriter::exception).
/// What `MiniDumpWriteDump` does with a `MINIDUMP_EXCEPTION_INFORMATION` whose
/// `ClientPointers` is `TRUE`, and crashpad's handler with the address its client sends.
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, LocalSnapshot, TargetException};
///
/// # fn f(process: &pss::Process, thread_id: u32, pointers: usize) -> Result<(), Box<dyn std::error::Error>> {
/// // Told by the crashing process: thread `thread_id` faulted, its EXCEPTION_POINTERS are at
/// // `pointers` (its own address, as its exception filter got it).
/// let snapshot = LocalSnapshot::capture(process, CaptureFlags::MINIDUMP)?;
/// let crash = TargetException::read(&snapshot, thread_id, pointers)?;
/// eprintln!("exception {:#x} at {:#x}", crash.record().code(), crash.record().address());
/// snapshot.minidump().exception(crash.dump_exception()).write_to_path("crash.dmp")?;
/// # Ok(()) }
/// ```
///
/// Owns everything it read: it borrows neither the snapshot nor the target, and outlives both.
///
/// # References
///
/// - [`MINIDUMP_EXCEPTION_INFORMATION`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_exception_information)
/// - [`EXCEPTION_POINTERS`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_pointers)
#[doc(alias = "EXCEPTION_POINTERS", alias = "MINIDUMP_EXCEPTION_INFORMATION")]
#[derive(Debug, Clone)]
pub struct TargetException {
    thread_id: u32,
    layout: ExceptionLayout,
    pointers: usize,
    record: ExceptionRecord,
    nested: Vec<ExceptionRecord>,
    chain: ChainEnd,
    context: ExceptionContext,
}

impl TargetException {
    /// Reads the exception thread `thread_id` raised, from its `EXCEPTION_POINTERS` at
    /// `exception_pointers` (an address in the target), in the target's layout:
    /// [`ExceptionLayout::X86`] for a WOW64 target captured by a 64-bit build
    /// ([`ProcessFlags::WOW64`]), else this build's ([`read_as`](Self::read_as) chooses).
    ///
    /// Reads, through the VA clone: the `EXCEPTION_POINTERS`; the `EXCEPTION_RECORD` it points to
    /// (with its `NumberParameters` parameters); the nested records it chains to, at most
    /// [`MAX_NESTED_RECORDS`] (a minidump holds only the first: the others are for the caller,
    /// [`nested`](Self::nested), and a nested record that cannot be read only ends the chain,
    /// [`ChainEnd`]); and the `CONTEXT`, whose `ContextFlags` must name the layout's
    /// architecture. The snapshot needs [`THREADS`](crate::CaptureFlags::THREADS) (the thread
    /// must be in it) and [`VA_CLONE`](crate::CaptureFlags::VA_CLONE);
    /// [`CaptureFlags::MINIDUMP`](crate::CaptureFlags::MINIDUMP) has both.
    ///
    /// Capture the snapshot while the faulting thread waits for the handler (as crash
    /// reporters' clients do in their exception filter): the clone keeps the structures, which
    /// live on the thread's stack, after it resumes or the process ends.
    ///
    /// Kernel32 calls: the process information query (for the layout), the thread walk (to
    /// find the thread), the VA clone query, and `ReadProcessMemory`: the pointers, the record,
    /// the context, one per nested record.
    ///
    /// # Errors
    ///
    /// [`ExceptionError`]: the snapshot lacks a part; the thread is not in it; a pointer is
    /// NULL; a structure cannot be read, or would run past the address space; a record claims
    /// more than 15 parameters; the context is not of the layout. Each names the structure and
    /// its address.
    pub fn read<A: Allocation>(
        snapshot: &LocalSnapshot<A>,
        thread_id: u32,
        exception_pointers: usize,
    ) -> Result<Self, ExceptionError> {
        let information =
            snapshot
                .process_information()
                .map_err(|error| ExceptionError::Snapshot {
                    step: "querying the process information",
                    error,
                })?;
        let layout = if cfg!(target_pointer_width = "64")
            && information.flags().contains(ProcessFlags::WOW64)
        {
            ExceptionLayout::X86
        } else {
            ExceptionLayout::NATIVE
        };
        Self::read_as(snapshot, thread_id, exception_pointers, layout)
    }

    /// [`read`](Self::read), with the structures read as `layout` whatever the snapshot says
    /// of the target (e.g. a 64-bit handler of a WOW64 target whose client sent the address of
    /// its 64-bit `EXCEPTION_POINTERS`: [`ExceptionLayout::Bits64`]).
    ///
    /// Kernel32 calls: as [`read`](Self::read), without the process information query.
    pub fn read_as<A: Allocation>(
        snapshot: &LocalSnapshot<A>,
        thread_id: u32,
        exception_pointers: usize,
        layout: ExceptionLayout,
    ) -> Result<Self, ExceptionError> {
        if !supported(layout) {
            return Err(ExceptionError::Unsupported { layout });
        }
        find_thread(snapshot, thread_id)?;
        let clone = snapshot
            .va_clone()
            .map_err(|error| ExceptionError::Snapshot {
                step: "querying the VA clone",
                error,
            })?;
        read_from(&clone, thread_id, exception_pointers, layout)
    }

    /// The thread that raised it.
    pub fn thread_id(&self) -> u32 {
        self.thread_id
    }
    /// The layout it was read in.
    pub fn layout(&self) -> ExceptionLayout {
        self.layout
    }
    /// Where its `EXCEPTION_POINTERS` are in the target.
    pub fn exception_pointers(&self) -> usize {
        self.pointers
    }
    /// The record `EXCEPTION_POINTERS.ExceptionRecord` points to: the exception.
    pub fn record(&self) -> &ExceptionRecord {
        &self.record
    }
    /// The nested records it chains to (`ExceptionRecord.ExceptionRecord` and on), outermost
    /// first, at most [`MAX_NESTED_RECORDS`]; [`chain_end`](Self::chain_end) says why the chain
    /// stops. Not in a minidump, whose exception stream holds one record.
    pub fn nested(&self) -> &[ExceptionRecord] {
        &self.nested
    }
    /// Why [`nested`](Self::nested) ends where it does.
    pub fn chain_end(&self) -> ChainEnd {
        self.chain
    }
    /// The `CONTEXT` `EXCEPTION_POINTERS.ContextRecord` points to: the registers at the fault.
    pub fn context(&self) -> &ExceptionContext {
        &self.context
    }

    /// The exception as a dump's exception stream holds it: the thread, the first record's
    /// code, flags, address and parameters, and the context, for
    /// [`DumpWriter::exception`](super::DumpWriter::exception). rust-minidump's processor then
    /// reports the crash reason and address, and walks the thread from the fault's context.
    ///
    /// The writer writes this build's architecture (see
    /// [`LocalSnapshot::minidump`]): an x86 context read by a 64-bit build (a WOW64 target) is
    /// not written, and the stream points at the thread's captured (64-bit) context instead; the
    /// record's values are zero-extended. [`context`](Self::context) keeps the x86 registers.
    pub fn dump_exception(&self) -> DumpException<'_> {
        DumpException {
            thread_id: self.thread_id,
            code: self.record.code,
            flags: self.record.flags,
            address: self.record.address,
            parameters: self.record.parameters(),
            context: self.context.native(),
        }
    }
}

impl<'a> From<&'a TargetException> for DumpException<'a> {
    /// [`TargetException::dump_exception`].
    fn from(exception: &'a TargetException) -> Self {
        exception.dump_exception()
    }
}

/// Can this build read `layout`?
fn supported(layout: ExceptionLayout) -> bool {
    layout == ExceptionLayout::X86 || cfg!(target_pointer_width = "64")
}

/// Is `thread_id` in the snapshot's thread list? One walk, no entry copied.
fn find_thread<A: Allocation>(
    snapshot: &LocalSnapshot<A>,
    thread_id: u32,
) -> Result<(), ExceptionError> {
    let step = |error| ExceptionError::Snapshot {
        step: "listing the threads",
        error,
    };
    let walk = snapshot.threads().map_err(step)?;
    let mut entries = walk.iter();
    while let Some(entry) = entries.next_ref() {
        if entry.map_err(step)?.thread_id() == thread_id {
            return Ok(());
        }
    }
    Err(ExceptionError::ThreadNotFound { thread_id })
}

/// Memory of the target: the VA clone, or bytes in the unit tests.
trait Target {
    /// Reads up to `buf.len()` bytes at `address`: how many (all, or every byte before
    /// unreadable memory), or the error when not even the first can be read.
    fn read(&self, address: usize, buf: &mut [u8]) -> Result<usize, Error>;
}

impl Target for VaClone<'_> {
    fn read(&self, address: usize, buf: &mut [u8]) -> Result<usize, Error> {
        VaClone::read(self, address, buf)
    }
}

/// The little-endian value of `width` (4 or 8) bytes at `at` (0 if they are not there, which
/// the callers' lengths rule out).
fn word(bytes: &[u8], at: usize, width: usize) -> u64 {
    let mut value = [0u8; 8];
    if let Some(field) = at
        .checked_add(width)
        .and_then(|end| bytes.get(at..end))
        .filter(|_| width <= 8)
    {
        value[..width].copy_from_slice(field);
    }
    u64::from_le_bytes(value)
}

/// A pointer-sized field as an address of this build (the layouts this build reads have
/// pointers no wider than its own: see [`supported`]).
fn pointer_at(bytes: &[u8], at: usize, layout: ExceptionLayout) -> usize {
    word(bytes, at, layout.pointer()) as usize
}

/// How many bytes from `address` up to the top of the address space, at most `len`
/// (`address` is not 0).
fn room(address: usize, len: usize) -> usize {
    len.min((usize::MAX - address).saturating_add(1))
}

/// Fills `buf` from `address`, or says why it cannot.
fn read_exact(
    target: &impl Target,
    structure: ExceptionStructure,
    address: usize,
    buf: &mut [u8],
) -> Result<(), ExceptionError> {
    if room(address, buf.len()) < buf.len() {
        return Err(ExceptionError::OutOfRange { structure, address });
    }
    match target.read(address, buf) {
        Ok(read) if read == buf.len() => Ok(()),
        Ok(read) => Err(ExceptionError::Unreadable {
            structure,
            address,
            error: Error::read_failed(sys::ERROR_PARTIAL_COPY, read),
        }),
        Err(error) => Err(ExceptionError::Unreadable {
            structure,
            address,
            error,
        }),
    }
}

/// Reads the record at `address` (not 0): one read of the whole structure, then as much of it
/// as `NumberParameters` says must be there.
fn read_record(
    target: &impl Target,
    structure: ExceptionStructure,
    address: usize,
    layout: ExceptionLayout,
) -> Result<ExceptionRecord, ExceptionError> {
    let header = layout.record_header();
    let mut bytes = [0u8; RECORD64_SIZE];
    let buf = &mut bytes[..room(address, layout.record_size())];
    if buf.len() < header {
        return Err(ExceptionError::OutOfRange { structure, address });
    }
    // A record may be laid out only as far as its parameters go (x86 Windows copies it so),
    // so it may end in unreadable memory sooner than its full size: what counts is below.
    let read = target
        .read(address, buf)
        .map_err(|error| ExceptionError::Unreadable {
            structure,
            address,
            error,
        })?;
    if read < header {
        return Err(ExceptionError::Unreadable {
            structure,
            address,
            error: Error::read_failed(sys::ERROR_PARTIAL_COPY, read),
        });
    }
    let p = layout.pointer();
    // Code, Flags, ExceptionRecord, ExceptionAddress, then NumberParameters.
    let count = word(&bytes, 8 + 2 * p, 4) as u32;
    let wanted = usize::try_from(count)
        .ok()
        .filter(|&n| n <= EXCEPTION_MAXIMUM_PARAMETERS)
        .ok_or(ExceptionError::TooManyParameters {
            structure,
            address,
            count,
        })?;
    if read < header + wanted * p {
        return Err(ExceptionError::Unreadable {
            structure,
            address,
            error: Error::read_failed(sys::ERROR_PARTIAL_COPY, read),
        });
    }
    let mut parameters = [0usize; EXCEPTION_MAXIMUM_PARAMETERS];
    for (i, slot) in parameters.iter_mut().take(wanted).enumerate() {
        *slot = pointer_at(&bytes, header + i * p, layout);
    }
    Ok(ExceptionRecord {
        record_address: address,
        code: word(&bytes, 0, 4) as u32,
        flags: word(&bytes, 4, 4) as u32,
        nested: pointer_at(&bytes, 8, layout),
        address: pointer_at(&bytes, 8 + p, layout),
        count: wanted as u8,
        parameters,
    })
}

/// Follows the record chain from `first` at most [`MAX_NESTED_RECORDS`] steps, never to an
/// address already read.
fn read_chain(
    target: &impl Target,
    first: &ExceptionRecord,
    layout: ExceptionLayout,
) -> (Vec<ExceptionRecord>, ChainEnd) {
    let mut nested = Vec::new();
    let mut seen = [0usize; MAX_NESTED_RECORDS + 1];
    seen[0] = first.record_address;
    let mut next = first.nested;
    loop {
        if next == 0 {
            return (nested, ChainEnd::Complete);
        }
        let read = &seen[..=nested.len()];
        if read.contains(&next) {
            return (nested, ChainEnd::Loop { address: next });
        }
        if nested.len() == MAX_NESTED_RECORDS {
            return (nested, ChainEnd::Limit { next });
        }
        let structure = ExceptionStructure::NestedRecord(nested.len() + 1);
        match read_record(target, structure, next, layout) {
            Ok(record) => {
                next = record.nested;
                nested.push(record);
                seen[nested.len()] = record.record_address;
            }
            Err(error) => return (nested, ChainEnd::Broken(error)),
        }
    }
}

/// Reads the `CONTEXT` at `address` (not 0) and checks its architecture.
fn read_context(
    target: &impl Target,
    address: usize,
    layout: ExceptionLayout,
) -> Result<ExceptionContext, ExceptionError> {
    let structure = ExceptionStructure::Context;
    let record = if layout.is_native() {
        // Zeroed, then read over: every byte of the `CONTEXT` is initialised before and after.
        let mut context = Box::new(core::mem::MaybeUninit::<sys::CONTEXT>::zeroed());
        // SAFETY: the box holds `size_of::<CONTEXT>()` zeroed bytes, initialised `u8`s, which
        // the slice borrows (exclusively) only while they are read into.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(
                context.as_mut_ptr().cast::<u8>(),
                size_of::<sys::CONTEXT>(),
            )
        };
        read_exact(target, structure, address, bytes)?;
        // SAFETY: every byte is initialised (zeroed, then read), and `CONTEXT` is plain
        // integers (and unions of them), valid for any bytes.
        ContextRecord::Native(unsafe { context.assume_init() })
    } else {
        let mut bytes = Box::new([0u8; X86_CONTEXT_SIZE]);
        read_exact(target, structure, address, &mut bytes[..])?;
        ContextRecord::X86(bytes)
    };
    let context = ExceptionContext {
        address,
        layout,
        record,
    };
    let flags = context.flags();
    if flags & ARCHITECTURE_MASK != layout.context_architecture() {
        return Err(ExceptionError::WrongArchitecture {
            address,
            flags,
            layout,
        });
    }
    Ok(context)
}

/// Reads the whole exception from `target`.
fn read_from(
    target: &impl Target,
    thread_id: u32,
    pointers: usize,
    layout: ExceptionLayout,
) -> Result<TargetException, ExceptionError> {
    let p = layout.pointer();
    let structure = ExceptionStructure::ExceptionPointers;
    if pointers == 0 {
        return Err(ExceptionError::Null { structure, at: 0 });
    }
    let mut bytes = [0u8; 16];
    read_exact(target, structure, pointers, &mut bytes[..2 * p])?;
    let record_at = pointer_at(&bytes, 0, layout);
    let context_at = pointer_at(&bytes, p, layout);
    if record_at == 0 {
        return Err(ExceptionError::Null {
            structure: ExceptionStructure::ExceptionRecord,
            at: pointers,
        });
    }
    if context_at == 0 {
        return Err(ExceptionError::Null {
            structure: ExceptionStructure::Context,
            at: pointers + p,
        });
    }
    let record = read_record(
        target,
        ExceptionStructure::ExceptionRecord,
        record_at,
        layout,
    )?;
    let context = read_context(target, context_at, layout)?;
    let (nested, chain) = read_chain(target, &record, layout);
    Ok(TargetException {
        thread_id,
        layout,
        pointers,
        record,
        nested,
        chain,
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Target memory for the tests: readable ranges of bytes; everything else unreadable.
    #[derive(Default)]
    struct Bytes(Vec<(usize, Vec<u8>)>);

    impl Bytes {
        fn put(&mut self, address: usize, bytes: &[u8]) {
            for (base, data) in &mut self.0 {
                if address >= *base && address + bytes.len() <= *base + data.len() {
                    let at = address - *base;
                    data[at..at + bytes.len()].copy_from_slice(bytes);
                    return;
                }
            }
            panic!("no range holds {address:#x}");
        }
    }

    impl Target for Bytes {
        fn read(&self, address: usize, buf: &mut [u8]) -> Result<usize, Error> {
            for (base, data) in &self.0 {
                if address >= *base && address < *base + data.len() {
                    let at = address - *base;
                    let n = buf.len().min(data.len() - at);
                    buf[..n].copy_from_slice(&data[at..at + n]);
                    return Ok(n);
                }
            }
            Err(Error::read_failed(sys::ERROR_PARTIAL_COPY, 0))
        }
    }

    /// The bytes of a record of `layout`.
    fn record_bytes(
        layout: ExceptionLayout,
        code: u32,
        nested: usize,
        parameters: &[usize],
        count: u32,
    ) -> Vec<u8> {
        let p = layout.pointer();
        let mut bytes = vec![0u8; layout.record_size()];
        bytes[0..4].copy_from_slice(&code.to_le_bytes());
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        bytes[8..8 + p].copy_from_slice(&nested.to_le_bytes()[..p]);
        bytes[8 + p..8 + 2 * p].copy_from_slice(&0x40_1234usize.to_le_bytes()[..p]);
        bytes[8 + 2 * p..12 + 2 * p].copy_from_slice(&count.to_le_bytes());
        for (i, v) in parameters.iter().enumerate() {
            let at = layout.record_header() + i * p;
            bytes[at..at + p].copy_from_slice(&v.to_le_bytes()[..p]);
        }
        bytes
    }

    /// A record of `layout` at `address` in `memory`.
    fn record(
        memory: &mut Bytes,
        layout: ExceptionLayout,
        address: usize,
        code: u32,
        nested: usize,
        parameters: &[usize],
        count: u32,
    ) {
        memory.put(
            address,
            &record_bytes(layout, code, nested, parameters, count),
        );
    }

    /// Memory with an `EXCEPTION_POINTERS` at `0x1000`, its record at `0x1100` and its context at
    /// `0x2000`, of `layout`.
    fn crash(layout: ExceptionLayout) -> Bytes {
        let p = layout.pointer();
        let mut memory = Bytes(vec![(0x1000, vec![0; 0x2000])]);
        let mut pointers = [0u8; 16];
        pointers[..p].copy_from_slice(&0x1100usize.to_le_bytes()[..p]);
        pointers[p..2 * p].copy_from_slice(&0x2000usize.to_le_bytes()[..p]);
        memory.put(0x1000, &pointers[..2 * p]);
        record(&mut memory, layout, 0x1100, 0xC000_0005, 0, &[1, 0x18], 2);
        let mut context = vec![0u8; layout.context_size()];
        let flags = layout.context_architecture() | CONTROL | INTEGER;
        let at = layout.flags_offset();
        context[at..at + 4].copy_from_slice(&flags.to_le_bytes());
        let (registers, _) = layout.registers();
        for (offset, value) in registers.iter().zip([0x40_1234usize, 0x1800, 0x1880]) {
            context[*offset..*offset + p].copy_from_slice(&value.to_le_bytes()[..p]);
        }
        memory.put(0x2000, &context);
        memory
    }

    fn layouts() -> Vec<ExceptionLayout> {
        [ExceptionLayout::Bits64, ExceptionLayout::X86]
            .into_iter()
            .filter(|&l| supported(l))
            .collect()
    }

    #[test]
    fn every_layout_reads_back() {
        for layout in layouts() {
            let read = read_from(&crash(layout), 7, 0x1000, layout).unwrap();
            assert_eq!(read.thread_id(), 7);
            assert_eq!(read.record().code(), 0xC000_0005);
            assert_eq!(read.record().flags(), 1);
            assert_eq!(read.record().address(), 0x40_1234);
            assert_eq!(read.record().parameters(), &[1, 0x18]);
            assert_eq!(read.chain_end(), ChainEnd::Complete);
            let context = read.context();
            assert_eq!(context.as_bytes().len(), layout.context_size());
            assert_eq!(context.instruction_pointer(), Some(0x40_1234));
            assert_eq!(context.stack_pointer(), Some(0x1800));
            assert_eq!(context.frame_pointer(), Some(0x1880));
            assert_eq!(context.native().is_some(), layout.is_native());
            let dump = read.dump_exception();
            assert_eq!(dump.parameters, &[1, 0x18]);
            assert_eq!(dump.context.is_some(), layout.is_native());
        }
    }

    #[test]
    fn hostile_structures_are_named_errors() {
        for layout in layouts() {
            let p = layout.pointer();
            // No EXCEPTION_POINTERS there.
            let e = read_from(&crash(layout), 7, 0x9000, layout).unwrap_err();
            assert!(matches!(
                e,
                ExceptionError::Unreadable {
                    structure: ExceptionStructure::ExceptionPointers,
                    address: 0x9000,
                    ..
                }
            ));
            // NumberParameters over 15.
            let mut memory = crash(layout);
            record(&mut memory, layout, 0x1100, 0xC000_0005, 0, &[], 16);
            let e = read_from(&memory, 7, 0x1000, layout).unwrap_err();
            assert_eq!(
                e,
                ExceptionError::TooManyParameters {
                    structure: ExceptionStructure::ExceptionRecord,
                    address: 0x1100,
                    count: 16
                }
            );
            // A NULL context pointer.
            let mut memory = crash(layout);
            memory.put(0x1000 + p, &[0; 8][..p]);
            let e = read_from(&memory, 7, 0x1000, layout).unwrap_err();
            assert_eq!(
                e,
                ExceptionError::Null {
                    structure: ExceptionStructure::Context,
                    at: 0x1000 + p
                }
            );
            // A record whose second parameter lies in unreadable memory.
            let mut memory = crash(layout);
            let header = layout.record_header();
            let at = 0x3000 - header - p;
            let bytes = record_bytes(layout, 0xC000_0005, 0, &[1], 2);
            memory.put(at, &bytes[..header + p]);
            memory.put(0x1000, &at.to_le_bytes()[..p]);
            let e = read_from(&memory, 7, 0x1000, layout).unwrap_err();
            assert!(
                matches!(
                    e,
                    ExceptionError::Unreadable {
                        structure: ExceptionStructure::ExceptionRecord,
                        address,
                        error,
                    } if address == at && error.bytes_read() == Some(header + p)
                ),
                "{e:?}"
            );
            // A context of another architecture.
            let mut memory = crash(layout);
            let flags_at = 0x2000 + layout.flags_offset();
            memory.put(flags_at, &0x0020_0007u32.to_le_bytes());
            let e = read_from(&memory, 7, 0x1000, layout).unwrap_err();
            assert!(matches!(
                e,
                ExceptionError::WrongArchitecture {
                    address: 0x2000,
                    flags: 0x0020_0007,
                    ..
                }
            ));
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn pointers_at_the_top_of_the_address_space_are_out_of_range() {
        for layout in layouts() {
            let e = read_from(&crash(layout), 7, usize::MAX - 2, layout).unwrap_err();
            assert!(matches!(e, ExceptionError::OutOfRange { .. }), "{e:?}");
        }
    }

    #[test]
    fn nested_chains_are_bounded_and_never_loop() {
        for layout in layouts() {
            // first -> A -> B -> A: a loop, each record kept once.
            let mut memory = crash(layout);
            record(&mut memory, layout, 0x1100, 0xC000_0005, 0x1200, &[], 0);
            record(&mut memory, layout, 0x1200, 0xC000_0026, 0x1300, &[], 0);
            record(&mut memory, layout, 0x1300, 0xC000_0025, 0x1200, &[], 0);
            let read = read_from(&memory, 7, 0x1000, layout).unwrap();
            assert_eq!(read.nested().len(), 2);
            assert_eq!(read.chain_end(), ChainEnd::Loop { address: 0x1200 });
            // A record pointing to itself.
            let mut memory = crash(layout);
            record(&mut memory, layout, 0x1100, 0xC000_0005, 0x1100, &[], 0);
            let read = read_from(&memory, 7, 0x1000, layout).unwrap();
            assert!(read.nested().is_empty());
            assert_eq!(read.chain_end(), ChainEnd::Loop { address: 0x1100 });
            // A chain longer than the limit.
            let mut memory = crash(layout);
            let at = |i: usize| 0x1100 + 0x100 * i;
            for i in 0..=MAX_NESTED_RECORDS + 2 {
                record(&mut memory, layout, at(i), 0xC000_0005, at(i + 1), &[], 0);
            }
            let read = read_from(&memory, 7, 0x1000, layout).unwrap();
            assert_eq!(read.nested().len(), MAX_NESTED_RECORDS);
            assert_eq!(
                read.chain_end(),
                ChainEnd::Limit {
                    next: at(MAX_NESTED_RECORDS + 1)
                }
            );
            // A chain into unreadable memory: the exception is still read.
            let mut memory = crash(layout);
            record(&mut memory, layout, 0x1100, 0xC000_0005, 0x8000, &[], 0);
            let read = read_from(&memory, 7, 0x1000, layout).unwrap();
            assert!(matches!(
                read.chain_end(),
                ChainEnd::Broken(ExceptionError::Unreadable {
                    structure: ExceptionStructure::NestedRecord(1),
                    address: 0x8000,
                    ..
                })
            ));
        }
    }
}
