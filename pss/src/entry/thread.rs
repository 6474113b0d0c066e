//! `ThreadEntry`: `PSS_THREAD_ENTRY`, with its context record borrowed from the marker.

use core::fmt;
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use pss_sys as sys;

use super::{RawEntry, bytes, owned};
use crate::ExitStatus;
use crate::time;

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
/// counts them too; `PITFALLS.md` 9). They carry [`ThreadFlags::TERMINATED`]: filter with
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
/// The entry borrows the marker for `'w`. [`into_owned`](Self::into_owned) copies the context
/// record and returns a `ThreadEntry<'static>` (whose raw `ContextRecord` is then NULL).
///
/// The documentation describes `ExitStatus`, `AffinityMask` and `BasePriority` as the
/// process's; they are the thread's, as their names and the structure say.
///
/// [`PSS_THREAD_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_thread_entry
#[doc(alias = "PSS_THREAD_ENTRY")]
#[derive(Clone)]
pub struct ThreadEntry<'w> {
    raw: RawEntry<sys::PSS_THREAD_ENTRY>,
    context: Option<Cow<'w, [u8]>>,
}

impl<'w> ThreadEntry<'w> {
    /// # Safety
    ///
    /// `raw.ContextRecord`, unless NULL, points to `SizeOfContextRecord` bytes valid and
    /// unchanged for `'w`.
    pub(crate) unsafe fn from_raw(raw: sys::PSS_THREAD_ENTRY) -> Self {
        // SAFETY: forwarded from the caller.
        let context = unsafe {
            bytes(
                raw.ContextRecord.cast::<u8>().cast_const(),
                usize::from(raw.SizeOfContextRecord),
            )
        };
        ThreadEntry {
            raw: RawEntry(raw),
            context,
        }
    }

    /// `ProcessId`: the process the thread belongs to.
    #[doc(alias = "ProcessId")]
    pub fn process_id(&self) -> u32 {
        self.raw.0.ProcessId
    }

    /// `ThreadId`: the thread ID.
    #[doc(alias = "ThreadId")]
    pub fn thread_id(&self) -> u32 {
        self.raw.0.ThreadId
    }

    /// `ExitStatus`, with `Flags` and `ExitTime`: running, or exited with a code. A status of
    /// `STILL_ACTIVE` (259) counts as exited when the thread is flagged terminated or has an
    /// exit time (see [`ExitStatus`]).
    #[doc(alias = "ExitStatus", alias = "STILL_ACTIVE")]
    pub fn exit_status(&self) -> ExitStatus {
        let exited = self.is_terminated() || time::ticks(self.raw.0.ExitTime) != 0;
        ExitStatus::decide(self.raw.0.ExitStatus, exited)
    }

    /// `ExitStatus` as the OS wrote it (`STILL_ACTIVE`, 259, while running). Prefer
    /// [`exit_status`](Self::exit_status).
    #[doc(alias = "ExitStatus")]
    pub fn exit_status_raw(&self) -> u32 {
        self.raw.0.ExitStatus
    }

    /// `Flags`: [`ThreadFlags::TERMINATED`] or nothing.
    #[doc(alias = "Flags")]
    pub fn flags(&self) -> ThreadFlags {
        ThreadFlags::from_bits_retain(self.raw.0.Flags as u32)
    }

    /// True if `Flags` has `PSS_THREAD_FLAGS_TERMINATED`: the thread has exited and is only
    /// still there because handles to it are open.
    #[doc(alias = "PSS_THREAD_FLAGS_TERMINATED")]
    pub fn is_terminated(&self) -> bool {
        self.flags().contains(ThreadFlags::TERMINATED)
    }

    /// `AffinityMask`: the processors the thread may run on.
    #[doc(alias = "AffinityMask")]
    pub fn affinity_mask(&self) -> usize {
        self.raw.0.AffinityMask
    }

    /// `Priority`: the dynamic priority level.
    #[doc(alias = "Priority")]
    pub fn priority(&self) -> i32 {
        self.raw.0.Priority
    }

    /// `BasePriority`: the base priority level.
    #[doc(alias = "BasePriority")]
    pub fn base_priority(&self) -> i32 {
        self.raw.0.BasePriority
    }

    /// `SuspendCount`: how many times the thread is suspended.
    #[doc(alias = "SuspendCount")]
    pub fn suspend_count(&self) -> u16 {
        self.raw.0.SuspendCount
    }

    /// `Win32StartAddress`: the thread procedure, an address in the captured process.
    #[doc(alias = "Win32StartAddress")]
    pub fn start_address(&self) -> usize {
        self.raw.0.Win32StartAddress.addr()
    }

    /// `CreateTime`: when the thread was created; `None` if not set.
    #[doc(alias = "CreateTime")]
    pub fn create_time(&self) -> Option<SystemTime> {
        time::system_time(self.raw.0.CreateTime)
    }

    /// `ExitTime`: when the thread exited; `None` if it had not.
    #[doc(alias = "ExitTime")]
    pub fn exit_time(&self) -> Option<SystemTime> {
        time::system_time(self.raw.0.ExitTime)
    }

    /// `KernelTime`: time spent in kernel mode.
    #[doc(alias = "KernelTime")]
    pub fn kernel_time(&self) -> Duration {
        time::duration(self.raw.0.KernelTime)
    }

    /// `UserTime`: time spent in user mode.
    #[doc(alias = "UserTime")]
    pub fn user_time(&self) -> Duration {
        time::duration(self.raw.0.UserTime)
    }

    /// `CaptureTime`: when this thread was captured; `None` if not set.
    #[doc(alias = "CaptureTime")]
    pub fn capture_time(&self) -> Option<SystemTime> {
        time::system_time(self.raw.0.CaptureTime)
    }

    /// `ContextRecord`, `SizeOfContextRecord`: the context record's bytes, exactly
    /// `SizeOfContextRecord` of them; `None` when no context was captured (NULL or empty).
    #[doc(alias = "ContextRecord", alias = "SizeOfContextRecord")]
    pub fn context_bytes(&self) -> Option<&[u8]> {
        self.context.as_deref()
    }

    /// `ContextRecord` as this architecture's [`CONTEXT`]: borrowed when the record is at least
    /// `size_of::<CONTEXT>()` bytes and aligned for it, copied when it is long enough but
    /// misaligned, `None` when it is shorter (or absent).
    ///
    /// Only the first `size_of::<CONTEXT>()` bytes are read; an extended record's XSAVE area
    /// is in [`context_bytes`](Self::context_bytes).
    ///
    /// [`CONTEXT`]: https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-context
    #[doc(alias = "CONTEXT")]
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

    /// An owned copy: the context record is copied, the raw `ContextRecord` set to NULL (and
    /// `SizeOfContextRecord` to 0).
    pub fn into_owned(self) -> ThreadEntry<'static> {
        let mut raw = self.raw;
        raw.0.ContextRecord = core::ptr::null_mut();
        raw.0.SizeOfContextRecord = 0;
        ThreadEntry {
            raw,
            context: self.context.map(owned),
        }
    }

    /// The structure as the OS wrote it. Its `ContextRecord` is valid only while the entry
    /// borrows the marker (NULL in an owned entry); the reserved fields (`TebBaseAddress`,
    /// `LastSyscallFirstArgument`, `LastSyscallNumber`) are only here.
    pub fn as_raw(&self) -> &sys::PSS_THREAD_ENTRY {
        &self.raw.0
    }
}

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
