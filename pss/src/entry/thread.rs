//! `ThreadEntry`: `PSS_THREAD_ENTRY`, with its context record borrowed from the marker.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::time::Duration;

use pss_sys as sys;

use super::{Kept, Part, RawEntry, bytes};
use crate::time::{self, FileTime};
use crate::{ContextFlags, ExitStatus};

bitflags::bitflags! {
    /// Flags about a thread: [`PSS_THREAD_FLAGS`]. Unknown bits are kept.
    ///
    /// [`PSS_THREAD_FLAGS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_thread_flags
    #[doc(alias = "PSS_THREAD_FLAGS")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ThreadFlags: u32 {
        /// `PSS_THREAD_FLAGS_TERMINATED`: the thread has terminated (it is still in the
        /// snapshot because handles to it are open).
        #[doc(alias = "PSS_THREAD_FLAGS_TERMINATED")]
        const TERMINATED = sys::PSS_THREAD_FLAGS_TERMINATED as u32;
    }
}

/// One captured thread: [`PSS_THREAD_ENTRY`], from a [`ThreadClass`](crate::ThreadClass)
/// walk.
///
/// # Terminated threads
///
/// A snapshot captured with [`CaptureFlags::THREADS`](crate::CaptureFlags::THREADS) includes
/// threads that have terminated but are still referenced by open handles (`ThreadsCaptured`
/// counts them too). They carry [`ThreadFlags::TERMINATED`]: filter with
/// [`is_terminated`](Self::is_terminated).
///
/// # Context record
///
/// With [`CaptureFlags::THREAD_CONTEXT`](crate::CaptureFlags::THREAD_CONTEXT), each entry points
/// to the thread's context record, `SizeOfContextRecord` bytes owned by the walk marker
/// (16-byte aligned on Windows). A thread whose context Windows could not read has none, even
/// in a snapshot captured with contexts: [`context_bytes`](Self::context_bytes) is `None`.
/// [`context_bytes`](Self::context_bytes) borrows exactly those bytes (never more);
/// [`context`](Self::context) reads them as this architecture's `CONTEXT`, borrowed when they are
/// long and aligned enough, copied when misaligned, `None` when too short. Extended contexts
/// are longer than `CONTEXT` (an XSAVE area follows); for a WOW64 target the layout a 64-bit
/// caller gets is not documented.
///
/// # Owned copies
///
/// The entry is the structure kernel32 filled plus the lifetime `'w` of the walk: the context
/// record stays in the marker's memory. [`into_owned`](Self::into_owned) copies it into the
/// entry (16-byte aligned, as Windows aligns it) and returns a `ThreadEntry<'static>`.
///
/// The documentation describes `ExitStatus`, `AffinityMask` and `BasePriority` as the
/// process's; they are the thread's, as their names and the structure say.
///
/// [`PSS_THREAD_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_thread_entry
#[doc(alias = "PSS_THREAD_ENTRY")]
pub struct ThreadEntry<'w> {
    raw: RawEntry<sys::PSS_THREAD_ENTRY>,
    /// The context record's copy in an owned entry (see [`Kept`]).
    kept: Kept,
    _marker: PhantomData<&'w [u8]>,
}

impl<'w> ThreadEntry<'w> {
    /// # Safety
    ///
    /// `raw.ContextRecord`, unless NULL, points to `SizeOfContextRecord` bytes valid and
    /// unchanged for `'w`.
    /// The structure, for `PssWalkSnapshot` to fill in place.
    ///
    /// # Safety
    ///
    /// The entry keeps nothing of its own, and what is written is an entry whose pointers
    /// satisfy [`from_raw`](Self::from_raw)'s contract.
    #[inline]
    pub(crate) unsafe fn raw_mut(&mut self) -> &mut sys::PSS_THREAD_ENTRY {
        &mut self.raw.0
    }

    #[inline]
    pub(crate) unsafe fn from_raw(raw: sys::PSS_THREAD_ENTRY) -> Self {
        ThreadEntry {
            raw: RawEntry(raw),
            kept: Kept::default(),
            _marker: PhantomData,
        }
    }

    /// True: the structure has no name pointer (see
    /// [`HandleEntry`](crate::HandleEntry)'s).
    #[inline(always)]
    pub(crate) fn names_aligned(_raw: &sys::PSS_THREAD_ENTRY) -> bool {
        true
    }

    /// The entry [`Iterator::next`](crate::Entries) yields: [`from_raw`](Self::from_raw).
    ///
    /// # Safety
    ///
    /// As [`from_raw`](Self::from_raw).
    #[inline(always)]
    pub(crate) unsafe fn yielded(raw: sys::PSS_THREAD_ENTRY) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw(raw) }
    }

    /// Nothing to align (no name; never called, as [`names_aligned`](Self::names_aligned) is
    /// true).
    ///
    /// # Safety
    ///
    /// As the other classes' (the walk calls each class's alike); this one does nothing.
    #[inline]
    pub(crate) unsafe fn align_names_at(
        _raw: *mut sys::PSS_THREAD_ENTRY,
        _copies: &'w super::Copies,
    ) {
    }

    /// `ProcessId`: the process the thread belongs to.
    #[doc(alias = "ProcessId")]
    #[inline]
    pub fn process_id(&self) -> u32 {
        self.raw.0.ProcessId
    }

    /// `ThreadId`: the thread ID.
    #[doc(alias = "ThreadId")]
    #[inline]
    pub fn thread_id(&self) -> u32 {
        self.raw.0.ThreadId
    }

    /// `ExitStatus`, with `Flags` and `ExitTime`: running, or exited with a code. A status of
    /// `STILL_ACTIVE` (259) counts as exited when the thread is flagged terminated or has an
    /// exit time (see [`ExitStatus`]).
    #[doc(alias = "ExitStatus", alias = "STILL_ACTIVE")]
    #[inline]
    pub fn exit_status(&self) -> ExitStatus {
        let exited = self.is_terminated() || time::ticks(self.raw.0.ExitTime) != 0;
        ExitStatus::decide(self.raw.0.ExitStatus, exited)
    }

    /// `ExitStatus` as the OS wrote it (`STILL_ACTIVE`, 259, while running). Prefer
    /// [`exit_status`](Self::exit_status).
    #[doc(alias = "ExitStatus")]
    #[inline]
    pub fn exit_status_raw(&self) -> u32 {
        self.raw.0.ExitStatus
    }

    /// `Flags`: [`ThreadFlags::TERMINATED`] or nothing.
    #[doc(alias = "Flags")]
    #[inline]
    pub fn flags(&self) -> ThreadFlags {
        ThreadFlags::from_bits_retain(self.raw.0.Flags as u32)
    }

    /// True if `Flags` has `PSS_THREAD_FLAGS_TERMINATED`: the thread has exited and is only
    /// still there because handles to it are open.
    #[doc(alias = "PSS_THREAD_FLAGS_TERMINATED")]
    #[inline]
    pub fn is_terminated(&self) -> bool {
        self.flags().contains(ThreadFlags::TERMINATED)
    }

    /// `AffinityMask`: the processors the thread may run on.
    #[doc(alias = "AffinityMask")]
    #[inline]
    pub fn affinity_mask(&self) -> usize {
        self.raw.0.AffinityMask
    }

    /// `Priority`: the dynamic priority level.
    #[doc(alias = "Priority")]
    #[inline]
    pub fn priority(&self) -> i32 {
        self.raw.0.Priority
    }

    /// `BasePriority`: the base priority level.
    #[doc(alias = "BasePriority")]
    #[inline]
    pub fn base_priority(&self) -> i32 {
        self.raw.0.BasePriority
    }

    /// `SuspendCount`: how many times the thread is suspended.
    #[doc(alias = "SuspendCount")]
    #[inline]
    pub fn suspend_count(&self) -> u16 {
        self.raw.0.SuspendCount
    }

    /// `TebBaseAddress`: the thread's TEB, an address in the captured process; `None` when 0.
    ///
    /// The documents call the field reserved; ntdll fills it from `ThreadBasicInformation` as
    /// it captures the thread (decompiled ntdll, `PsspDumpThread`), and debuggers and minidumps
    /// use the TEB to find the thread's stack bounds, its last error and the PEB. Its layout is
    /// not documented beyond the `NT_TIB` at its start.
    #[doc(alias = "TebBaseAddress", alias = "TEB")]
    #[inline]
    pub fn teb_base_address(&self) -> Option<usize> {
        let teb = self.raw.0.TebBaseAddress.addr();
        (teb != 0).then_some(teb)
    }

    /// `Win32StartAddress`: the thread procedure, an address in the captured process.
    #[doc(alias = "Win32StartAddress")]
    #[inline]
    pub fn start_address(&self) -> usize {
        self.raw.0.Win32StartAddress.addr()
    }

    /// `CreateTime`: when the thread was created; `None` if not set.
    #[doc(alias = "CreateTime")]
    #[inline]
    pub fn create_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.0.CreateTime)
    }

    /// `ExitTime`: when the thread exited; `None` if it had not.
    #[doc(alias = "ExitTime")]
    #[inline]
    pub fn exit_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.0.ExitTime)
    }

    /// `KernelTime`: time spent in kernel mode.
    #[doc(alias = "KernelTime")]
    #[inline]
    pub fn kernel_time(&self) -> Duration {
        time::duration(self.raw.0.KernelTime)
    }

    /// `UserTime`: time spent in user mode.
    #[doc(alias = "UserTime")]
    #[inline]
    pub fn user_time(&self) -> Duration {
        time::duration(self.raw.0.UserTime)
    }

    /// `CaptureTime`: when this thread was captured; `None` if not set.
    #[doc(alias = "CaptureTime")]
    #[inline]
    pub fn capture_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.0.CaptureTime)
    }

    /// `ContextRecord`, `SizeOfContextRecord`: the context record's bytes, exactly
    /// `SizeOfContextRecord` of them; `None` when no context was captured (NULL or empty).
    #[doc(alias = "ContextRecord", alias = "SizeOfContextRecord")]
    #[inline]
    pub fn context_bytes(&self) -> Option<&[u8]> {
        let r = &self.raw.0;
        // SAFETY: the record is valid for `'w`, or kept by `self` (see `Kept`), so for as long
        // as `self` is borrowed.
        unsafe {
            bytes(
                r.ContextRecord.cast::<u8>().cast_const(),
                usize::from(r.SizeOfContextRecord),
            )
        }
    }

    /// `ContextRecord` as this architecture's [`CONTEXT`]: borrowed when the record is at least
    /// `size_of::<CONTEXT>()` bytes and aligned for it, copied when it is long enough but
    /// misaligned, `None` when it is shorter (or absent).
    ///
    /// Only the first `size_of::<CONTEXT>()` bytes are read; an extended record's XSAVE area
    /// is in [`context_bytes`](Self::context_bytes).
    ///
    /// # References
    ///
    /// - [`CONTEXT`]
    ///
    /// [`CONTEXT`]: https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context
    #[doc(alias = "CONTEXT")]
    #[inline]
    pub fn context(&self) -> Option<Cow<'_, sys::CONTEXT>> {
        let bytes = self.context_bytes()?;
        if bytes.len() < size_of::<sys::CONTEXT>() {
            return None;
        }
        let record = bytes.as_ptr().cast::<sys::CONTEXT>();
        if record.is_aligned() {
            // SAFETY: aligned, `size_of::<CONTEXT>()` readable bytes borrowed from `self`;
            // `CONTEXT` is plain integers (and unions of them), valid for any bytes.
            Some(Cow::Borrowed(unsafe { &*record }))
        } else {
            // SAFETY: as above, read without alignment.
            Some(Cow::Owned(unsafe { record.read_unaligned() }))
        }
    }

    /// The instruction pointer (`Rip` on x64 and arm64ec, `Eip` on x86, `Pc` on aarch64) from
    /// the context record; `None` without a record, or one captured without
    /// [`ContextFlags::CONTROL`](crate::ContextFlags::CONTROL) (the record's own
    /// `ContextFlags` say what it holds). An address in the captured process.
    ///
    /// The register is read as this architecture's `CONTEXT` lays it out: for a WOW64 target
    /// (a 32-bit process captured from a 64-bit one) the layout is not documented.
    ///
    /// # References
    ///
    /// - [`CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context)
    #[doc(alias = "Rip", alias = "Eip", alias = "Pc")]
    #[inline]
    pub fn instruction_pointer(&self) -> Option<usize> {
        self.register(Register::Instruction)
    }

    /// The stack pointer (`Rsp` on x64 and arm64ec, `Esp` on x86, `Sp` on aarch64), as
    /// [`instruction_pointer`](Self::instruction_pointer) (it needs `CONTEXT_CONTROL` too).
    ///
    /// # References
    ///
    /// - [`CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context)
    #[doc(alias = "Rsp", alias = "Esp", alias = "Sp")]
    #[inline]
    pub fn stack_pointer(&self) -> Option<usize> {
        self.register(Register::Stack)
    }

    /// The frame pointer (`Rbp` on x64 and arm64ec, which `CONTEXT_INTEGER` covers; `Ebp` on
    /// x86 and `Fp`, X29, on aarch64, which `CONTEXT_CONTROL` covers), as
    /// [`instruction_pointer`](Self::instruction_pointer). Optimised x64 code often uses `Rbp`
    /// as an ordinary register.
    ///
    /// # References
    ///
    /// - [`CONTEXT`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context)
    #[doc(alias = "Rbp", alias = "Ebp", alias = "Fp")]
    #[inline]
    pub fn frame_pointer(&self) -> Option<usize> {
        self.register(Register::Frame)
    }

    /// One register from the context record, if the record says it holds it.
    #[inline]
    fn register(&self, register: Register) -> Option<usize> {
        let bytes = self.context_bytes()?;
        if bytes.len() < size_of::<sys::CONTEXT>() {
            return None;
        }
        // Two fields read where they are, without alignment: no copy of the record (as
        // `context` makes of a misaligned one), and the same code for every record.
        let record = bytes.as_ptr().cast::<sys::CONTEXT>();
        let needed = match register {
            Register::Frame if cfg!(not(any(target_arch = "x86", target_arch = "aarch64"))) => {
                ContextFlags::INTEGER
            }
            _ => ContextFlags::CONTROL,
        };
        // SAFETY: `size_of::<CONTEXT>()` readable bytes at `record`, borrowed from `self`; the
        // field is a plain integer, read without alignment.
        let flags = unsafe { (&raw const (*record).ContextFlags).read_unaligned() };
        // SAFETY: as above. Read whatever the flags say (any bits are a valid integer), so
        // that choosing costs no branch.
        let value = unsafe { arch_register(record, register) };
        ContextFlags::from_bits_retain(flags)
            .contains(needed)
            .then_some(value)
    }

    /// A copy that keeps its own context record.
    fn copy_parts(&self) -> ThreadEntry<'static> {
        let mut raw = self.raw;
        let r = &mut raw.0;
        let part = Part {
            ptr: r.ContextRecord.cast::<u8>().cast_const(),
            len: usize::from(r.SizeOfContextRecord),
        };
        // SAFETY: the record is valid for its length while `self` is borrowed.
        let (kept, [context]) = unsafe { Kept::copy([part]) };
        r.ContextRecord = context.cast_mut().cast();
        if context.is_null() {
            r.SizeOfContextRecord = 0;
        }
        ThreadEntry {
            raw,
            kept,
            _marker: PhantomData,
        }
    }

    /// The structure as the OS wrote it. Its `ContextRecord` points into the marker's memory
    /// (valid while the entry borrows it) or, in an owned entry, to the entry's own copy
    /// (valid while it lives); the reserved fields
    /// `LastSyscallFirstArgument` and `LastSyscallNumber` are only here.
    #[inline]
    pub fn as_raw(&self) -> &sys::PSS_THREAD_ENTRY {
        &self.raw.0
    }
}

super::owned_entry!(
    ThreadEntry,
    "An owned copy: the context record is copied into the entry, and its raw \
     `ContextRecord` points to the copy (NULL, with `SizeOfContextRecord` 0, if there is \
     none). Owned already: no copy.",
    "A borrowed entry copies the structure; an owned one its context record too."
);

impl fmt::Debug for ThreadEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadEntry")
            .field("process_id", &self.process_id())
            .field("thread_id", &self.thread_id())
            .field("exit_status", &self.exit_status())
            .field("flags", &self.flags())
            .field("suspend_count", &self.suspend_count())
            .field("priority", &self.priority())
            .field(
                "start_address",
                &format_args!("{:#x}", self.start_address()),
            )
            .field("context_bytes", &self.context_bytes().map(<[u8]>::len))
            .finish_non_exhaustive()
    }
}

/// The registers [`ThreadEntry`] reads by name.
#[derive(Clone, Copy)]
enum Register {
    Instruction,
    Stack,
    Frame,
}

/// One register of the record at `context`, read without alignment.
///
/// # Safety
///
/// `context` points to `size_of::<CONTEXT>()` readable bytes.
#[cfg(target_arch = "x86")]
#[inline]
unsafe fn arch_register(context: *const sys::CONTEXT, register: Register) -> usize {
    // SAFETY: in bounds of the record (the caller); plain integers, read without alignment.
    unsafe {
        (match register {
            Register::Instruction => (&raw const (*context).Eip).read_unaligned(),
            Register::Stack => (&raw const (*context).Esp).read_unaligned(),
            Register::Frame => (&raw const (*context).Ebp).read_unaligned(),
        }) as usize
    }
}

/// One register of the record at `context`, read without alignment.
///
/// # Safety
///
/// `context` points to `size_of::<CONTEXT>()` readable bytes.
#[cfg(target_arch = "aarch64")]
#[inline]
unsafe fn arch_register(context: *const sys::CONTEXT, register: Register) -> usize {
    // SAFETY: in bounds of the record (the caller); plain integers, read without alignment.
    // Both arms of the union are plain `u64`s over the same bytes (`X[29]` is `Fp`).
    unsafe {
        (match register {
            Register::Instruction => (&raw const (*context).Pc).read_unaligned(),
            Register::Stack => (&raw const (*context).Sp).read_unaligned(),
            Register::Frame => (&raw const (*context).Anonymous.Anonymous.Fp).read_unaligned(),
        }) as usize
    }
}

/// One register of the record at `context`, read without alignment.
///
/// # Safety
///
/// `context` points to `size_of::<CONTEXT>()` readable bytes.
#[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
#[inline]
unsafe fn arch_register(context: *const sys::CONTEXT, register: Register) -> usize {
    // SAFETY: in bounds of the record (the caller); plain integers, read without alignment.
    unsafe {
        (match register {
            Register::Instruction => (&raw const (*context).Rip).read_unaligned(),
            Register::Stack => (&raw const (*context).Rsp).read_unaligned(),
            Register::Frame => (&raw const (*context).Rbp).read_unaligned(),
        }) as usize
    }
}
