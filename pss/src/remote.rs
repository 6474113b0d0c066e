//! `RemoteSnapshot`: a snapshot living in another process, with the handle it is freed through.

use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};

use pss_sys as sys;

use crate::calls::{PssApi, RawSnapshot};
use crate::handle::{OwnedHandle, ProcessHandle};
use crate::{CaptureFlags, Error, ErrorCode, Function, LocalSnapshot, ProcessAccess, Result};

/// A process snapshot whose handle (`HPSS`) lives in another process, owned, together with the
/// handle to that process it is freed through: [`PssFreeSnapshot`]`(process, handle)`, exactly
/// once.
///
/// A remote handle means nothing in this process, so a `RemoteSnapshot` has no way to read the
/// snapshot (no query or walk methods, ever). It can be:
/// - [duplicated back](Self::duplicate_to_local) into this process as a [`LocalSnapshot`];
/// - freed: dropping ignores a failure, [`close`](Self::close) reports it;
/// - handed over to the other process with [`into_raw_parts`](Self::into_raw_parts), which
///   then owns it (and frees it with `PssFreeSnapshot(GetCurrentProcess(), handle)`).
///
/// It is made by [`LocalSnapshot::duplicate_into`], [`LocalSnapshot::move_into`], or from a
/// handle received from elsewhere with [`from_raw_parts`](Self::from_raw_parts).
///
/// # Freeing from here
///
/// "For remote process frees, only snapshot handles that were created with
/// `PSS_CREATE_USE_VM_ALLOCATIONS` or duplicated remotely can be freed"; any other fails with
/// [`ErrorCode::NOT_SUPPORTED`](crate::ErrorCode::NOT_SUPPORTED) (and the snapshot stays in the
/// other process: it is leaked, never freed twice). Snapshots made by `duplicate_into` and
/// `move_into` are duplicated remotely, so they can be freed. After any failed free the
/// snapshot is considered gone, as for [`LocalSnapshot`].
///
/// # Access rights
///
/// The handle needs `PROCESS_VM_READ | PROCESS_VM_OPERATION | PROCESS_DUP_HANDLE` to free
/// ([`ProcessAccess::REMOTE_FREE`](crate::ProcessAccess::REMOTE_FREE)), `PROCESS_VM_READ |
/// PROCESS_DUP_HANDLE` to duplicate back
/// ([`DUPLICATE_SOURCE`](crate::ProcessAccess::DUPLICATE_SOURCE)), and, to make the snapshot
/// with `duplicate_into`/`move_into`, `PROCESS_VM_OPERATION | PROCESS_VM_WRITE |
/// PROCESS_DUP_HANDLE` ([`DUPLICATE_TARGET`](crate::ProcessAccess::DUPLICATE_TARGET)); all of
/// them: [`REMOTE_SNAPSHOT`](crate::ProcessAccess::REMOTE_SNAPSHOT). `PROCESS_DUP_HANDLE` is
/// for the snapshot's kernel handles (sections, a VA clone): a snapshot captured with
/// [`CaptureFlags::NONE`](crate::CaptureFlags::NONE) holds none, and Windows duplicates and
/// frees it whole without that right.
///
/// For a [`Process`](crate::Process), whose rights `pss` knows,
/// [`duplicate_into`](LocalSnapshot::duplicate_into) and
/// [`move_into`](LocalSnapshot::move_into) refuse a handle that could not free the snapshot
/// again, and [`close`](Self::close) reports a free that left something behind. For other
/// handles `pss` does not check them: kernel32 has no documented function that reads the
/// access granted to a handle (the handle types carry none), so the OS checks and the call
/// fails with the code it reports, typically
/// [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED).
///
/// # Why the handle type is generic
///
/// `P` is how the process handle is held, any [`ProcessHandle`]: an [`OwnedHandle`] (the
/// default; e.g. from [`open_process`](crate::open_process)) makes a self-contained value that
/// can be stored and sent between threads; a [`BorrowedHandle`](crate::handle::BorrowedHandle)
/// or `&Child` lets the caller keep the handle while the compiler ensures it outlives the
/// snapshot; an `Arc<OwnedHandle>` shares one handle among many snapshots. Holding only owned
/// handles would force a `DuplicateHandle` call (or giving the handle up); holding only
/// borrowed ones would prevent storing a snapshot. The bound is [`ProcessHandle`], not just
/// [`AsHandle`](crate::handle::AsHandle), because the snapshot is freed through the handle
/// later and the handle must not change meanwhile.
///
/// # Threads
///
/// `RemoteSnapshot<P>` is [`Send`] when `P` is: freeing it and duplicating it back have no
/// documented thread affinity. It is not [`Sync`], for the same reasons as [`LocalSnapshot`].
///
/// # Handing a snapshot over
///
/// A snapshot in another process is freed by exactly one party: this process through the
/// `RemoteSnapshot`, or the other process with `PssFreeSnapshot(GetCurrentProcess(), handle)`.
/// Two frees corrupt the other process's memory; a missed free leaks a snapshot there until
/// that process ends. When the handle value travels over a channel that can fail, the sender
/// cannot always know whether the receiver got it (an acknowledgement can be lost after the
/// receiver took the handle), so ownership must move *before* the sender could be left in
/// doubt:
///
/// 1. Give up ownership with [`into_raw_parts`](Self::into_raw_parts) before sending: from
///    then on the receiver is the owner, and frees the snapshot when it is done (or when it
///    declines it).
/// 2. Take ownership back ([`from_raw_parts`](Self::from_raw_parts)) only when the send
///    provably delivered nothing, e.g. [`std::io::Write::write`] returned an error (then "no
///    bytes in the buffer were written").
/// 3. In every other failure (partial write, timeout, lost acknowledgement, receiver crashed),
///    do nothing: a leak in a helper process is bounded by its lifetime; a double free is
///    undefined behaviour there.
///
/// Never "free it if the receiver does not confirm": a lost confirmation would free a snapshot
/// the receiver is using.
///
/// ```no_run,standalone_crate
/// use std::io::{self, Write};
/// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess, RemoteSnapshot};
///
/// /// Sends a snapshot of this process to the crash-reporter helper listening on `pipe`.
/// fn hand_over(helper_pid: u32, pipe: &mut impl Write) -> io::Result<()> {
///     let helper = pss::open_process(helper_pid, ProcessAccess::REMOTE_SNAPSHOT)?;
///     let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
///     let snapshot = LocalSnapshot::capture_current_vm(flags)?;
///     let remote = snapshot.move_into(helper)?;
///     // 1. From here on the helper owns the snapshot.
///     let (helper, raw) = remote.into_raw_parts();
///     let message = (raw as usize as u64).to_le_bytes();
///     match pipe.write(&message) {
///         Ok(n) if n == message.len() => Ok(()),
///         // 2. Nothing was written: the helper never saw the handle; free it from here.
///         Err(error) => {
///             // SAFETY: `raw` lives in the helper's process, which `helper` refers to, and
///             // nobody else owns it: it was never delivered.
///             drop(unsafe { RemoteSnapshot::from_raw_parts(helper, raw) });
///             Err(error)
///         }
///         // 3. Part of it was written: the helper may hold the handle. Leave it to the helper.
///         Ok(_) => Err(io::Error::other("partial write: the snapshot is the helper's")),
///     }
/// }
/// ```
///
/// The helper takes the value it received as a snapshot in its own context:
/// `unsafe { LocalSnapshot::from_raw(handle) }` (or
/// [`LocalSnapshot::from_raw_vm`] for one moved in, which it may move on), and drops it
/// when done.
///
/// # Misuse the compiler rejects
///
/// Reading a remote snapshot as if it were local:
///
/// ```compile_fail,E0599
/// # use pss::{RemoteSnapshot, handle::OwnedHandle};
/// # fn f(remote: RemoteSnapshot<OwnedHandle>) -> pss::Result<()> {
/// let copy = remote.duplicate()?; // only a `LocalSnapshot` can be duplicated in place
/// # Ok(()) }
/// ```
///
/// Closing the process handle while a snapshot still needs it:
///
/// ```compile_fail,E0505
/// # use pss::{CaptureFlags, LocalSnapshot, handle::OwnedHandle};
/// # fn f(helper: OwnedHandle) -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// let remote = snapshot.duplicate_into(&helper)?;
/// drop(helper); // `remote` borrows it to free the snapshot later
/// remote.close()?;
/// # Ok(()) }
/// ```
///
/// Sending a snapshot whose handle holder is not `Send`:
///
/// ```compile_fail,E0277
/// # use std::rc::Rc;
/// # use pss::{CaptureFlags, LocalSnapshot, handle::OwnedHandle};
/// # fn f(helper: Rc<OwnedHandle>) -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// let remote = snapshot.duplicate_into(helper)?;
/// std::thread::spawn(move || drop(remote));
/// # Ok(()) }
/// ```
///
/// [`PssFreeSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot
#[doc(alias = "HPSS", alias = "PssFreeSnapshot")]
pub struct RemoteSnapshot<P: ProcessHandle = OwnedHandle> {
    raw: RawSnapshot,
    process: P,
    holds: Holds,
}

// SAFETY: see "Threads" above: the snapshot has no thread affinity and every operation that
// needs exclusive access takes it by value; the process handle holder moves along, hence
// `P: Send`. Not `Sync` (not implemented; `NonNull` makes the type `!Sync`).
unsafe impl<P: ProcessHandle + Send> Send for RemoteSnapshot<P> {}

impl<P: ProcessHandle> RemoteSnapshot<P> {
    /// Takes ownership of a snapshot handle that lives in the process `process` refers to.
    ///
    /// # Safety
    ///
    /// `raw` must be a live snapshot in the context of the process `process` refers to, owned
    /// by nothing else, so that it must be freed with `PssFreeSnapshot(process, raw)` exactly
    /// once — which the returned value will do (passing a handle to any other process is not
    /// described by the documentation). Whether that free can succeed (the snapshot was
    /// VM-allocated or duplicated remotely) is not a safety matter: if not, it fails with
    /// [`ErrorCode::NOT_SUPPORTED`](crate::ErrorCode::NOT_SUPPORTED).
    ///
    /// # Panics
    ///
    /// If `raw` is null.
    #[doc(alias = "HPSS")]
    pub unsafe fn from_raw_parts(process: P, raw: sys::HPSS) -> Self {
        let raw = NonNull::new(raw).expect("RemoteSnapshot::from_raw_parts: null HPSS");
        // SAFETY: the caller's guarantees are those of `from_parts`. What the snapshot holds is
        // not known: it may hold kernel handles.
        unsafe { Self::from_parts(process, raw, Holds::KernelHandles) }
    }

    /// # Safety
    ///
    /// As [`from_raw_parts`](Self::from_raw_parts); `holds` is what the snapshot holds, or
    /// [`Holds::KernelHandles`] if unknown.
    pub(crate) unsafe fn from_parts(process: P, raw: RawSnapshot, holds: Holds) -> Self {
        RemoteSnapshot {
            raw,
            process,
            holds,
        }
    }

    /// Gives up ownership: the process handle holder, and the raw snapshot handle, which is
    /// not freed. Whoever ends up with the handle must free it exactly once: the other process
    /// with `PssFreeSnapshot(GetCurrentProcess(), raw)`, or this one with
    /// `PssFreeSnapshot(process, raw)` (or by rebuilding the `RemoteSnapshot` with
    /// [`from_raw_parts`](Self::from_raw_parts)).
    #[must_use = "the snapshot is leaked unless the raw handle is freed"]
    pub fn into_raw_parts(self) -> (P, sys::HPSS) {
        let (process, raw) = self.into_parts();
        (process, raw.as_ptr())
    }

    fn into_parts(self) -> (P, RawSnapshot) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again, so `process` is moved out exactly once.
        let process = unsafe { ptr::read(&this.process) };
        (process, this.raw)
    }

    /// The raw snapshot handle, still owned by `self`. It is meaningful only in the other
    /// process: send it there, but never use it here.
    pub fn as_raw(&self) -> sys::HPSS {
        self.raw.as_ptr()
    }

    /// The process handle holder the snapshot is freed through.
    pub fn process(&self) -> &P {
        &self.process
    }

    /// [`PssDuplicateSnapshot`]`(process, h, GetCurrentProcess(), ...)` with
    /// `PSS_DUPLICATE_NONE`: copies the snapshot into this process, where it can be read.
    ///
    /// The process handle needs `PROCESS_VM_READ | PROCESS_DUP_HANDLE`
    /// ([`ProcessAccess::DUPLICATE_SOURCE`](crate::ProcessAccess::DUPLICATE_SOURCE)); the OS
    /// checks. (The documentation also calls the source "the process from which the original
    /// snapshot was captured"; `pss` passes the process that contains the snapshot, as "this
    /// handle must be in the context of the source process" requires.) Whether a duplicate
    /// keeps `PSS_CREATE_USE_VM_ALLOCATIONS` is not documented, so the copy is typed
    /// [`HeapAllocated`](crate::HeapAllocated), the conservative type.
    ///
    /// Windows reads the snapshot out of the other process first: a handle that is not a
    /// snapshot living there fails with [`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY)
    /// (nothing, or too little, is mapped at its address there) or
    /// [`ErrorCode::INVALID_HANDLE`](crate::ErrorCode::INVALID_HANDLE) (memory that holds no
    /// snapshot); [`Error::reason`] says so.
    ///
    /// Kernel32 calls: `PssDuplicateSnapshot` (the pseudo handle comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssDuplicateSnapshot`]
    ///
    /// [`PssDuplicateSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot
    #[doc(alias = "PssDuplicateSnapshot")]
    pub fn duplicate_to_local(&self) -> Result<LocalSnapshot> {
        let api = PssApi::get(Function::PssDuplicateSnapshot)?;
        let this_process = api.current_process();
        // SAFETY: `self.raw` is live in the context of `self.process`'s process and borrowed
        // for the call; not `Sync`, so no other thread uses it meanwhile.
        let copy = unsafe {
            api.duplicate(
                self.process.as_handle(),
                self.raw,
                this_process,
                sys::PSS_DUPLICATE_NONE,
            )
        }
        .map_err(explain_remote_failure)?;
        Ok(LocalSnapshot::from_non_null(copy, self.holds))
    }

    /// [`PssFreeSnapshot`]`(process, h)`: frees the snapshot and reports the result, which
    /// dropping cannot; then drops the process handle holder.
    ///
    /// Documented failures: [`ErrorCode::INVALID_HANDLE`](crate::ErrorCode::INVALID_HANDLE);
    /// [`ErrorCode::NOT_SUPPORTED`](crate::ErrorCode::NOT_SUPPORTED) if the snapshot was neither
    /// VM-allocated nor duplicated remotely. Windows reads the snapshot out of the process
    /// first: a handle that is not a snapshot living there fails with
    /// [`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY) (nothing, or too little, is
    /// mapped at its address there) or `INVALID_HANDLE` (memory that holds no snapshot), and
    /// [`Error::reason`] says so. Also [`ErrorCode::ACCESS_DENIED`](crate::ErrorCode::ACCESS_DENIED)
    /// if the handle lacks `PROCESS_VM_READ`, [`ErrorKind::InsufficientAccess`](crate::ErrorKind::InsufficientAccess)
    /// after a free that Windows reported as successful through a [`Process`](crate::Process)
    /// lacking `PROCESS_VM_OPERATION` (it left the snapshot's memory in the process) or
    /// `PROCESS_DUP_HANDLE` when the snapshot may hold kernel handles (it left them open; not
    /// for a snapshot `pss` knows was captured with [`CaptureFlags::NONE`], which holds none;
    /// one taken over with [`from_raw_parts`](Self::from_raw_parts) may; see
    /// [Access rights](Self#access-rights)), and
    /// [`Unavailable`](crate::ErrorKind::Unavailable) if PSS is missing (nothing is called).
    /// The snapshot is gone from this value either way: it is never freed twice.
    ///
    /// Kernel32 calls: `PssFreeSnapshot` (plus whatever dropping `P` does, e.g. `CloseHandle`
    /// for an [`OwnedHandle`]).
    ///
    /// # References
    ///
    /// - [`PssFreeSnapshot`]
    ///
    /// [`PssFreeSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot
    #[doc(alias = "PssFreeSnapshot")]
    pub fn close(self) -> Result<()> {
        let holds = self.holds;
        let (process, raw) = self.into_parts();
        // SAFETY: we owned `raw`, live in the context of `process`'s process, and gave up the
        // owner above.
        unsafe { free_remote(&process, raw) }?;
        match lacking(&process, holds.free_rights()) {
            Some(missing) if !missing.contains(ProcessAccess::VM_READ) => {
                Err(Error::insufficient_access(
                    Function::PssFreeSnapshot,
                    missing,
                    "PssFreeSnapshot reported success, but without PROCESS_DUP_HANDLE Windows \
                     leaves the snapshot's handles (and its VA clone) open in the process, and \
                     without PROCESS_VM_OPERATION its memory",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// What a snapshot holds, as far as its rights are concerned: whether it may hold kernel
/// handles (the sections its parts live in, a VA clone, a trace section). Windows duplicates
/// those with `ZwDuplicateObject`, so putting such a snapshot into another process needs
/// `PROCESS_DUP_HANDLE` there, and freeing it there closes them with it; a snapshot of process
/// information alone is memory only, and needs neither (decompiled ntdll: `ZwDuplicateObject`
/// runs only for non-zero handles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holds {
    /// Captured with no part beyond the process information every snapshot holds
    /// ([`CaptureFlags::NONE`], with `CREATE_*` flags at most): memory only.
    MemoryOnly,
    /// Captured with any part, or not known (a snapshot taken over from a raw handle).
    KernelHandles,
}

impl Holds {
    /// What a snapshot captured with `flags` holds.
    pub(crate) fn of(flags: CaptureFlags) -> Holds {
        let create = CaptureFlags::CREATE_BREAKAWAY_OPTIONAL
            .union(CaptureFlags::CREATE_BREAKAWAY)
            .union(CaptureFlags::CREATE_FORCE_BREAKAWAY)
            .union(CaptureFlags::CREATE_USE_VM_ALLOCATIONS)
            .union(CaptureFlags::CREATE_MEASURE_PERFORMANCE)
            .union(CaptureFlags::CREATE_RELEASE_SECTION);
        if flags.difference(create).is_empty() {
            Holds::MemoryOnly
        } else {
            Holds::KernelHandles
        }
    }

    /// The rights a remote free of such a snapshot needs to leave nothing behind:
    /// [`ProcessAccess::REMOTE_FREE`], without `PROCESS_DUP_HANDLE` for memory only.
    pub(crate) fn free_rights(self) -> ProcessAccess {
        match self {
            Holds::MemoryOnly => ProcessAccess::REMOTE_FREE.difference(ProcessAccess::DUP_HANDLE),
            Holds::KernelHandles => ProcessAccess::REMOTE_FREE,
        }
    }

    /// The rights a handle needs to put such a snapshot into its process and free it there
    /// later: [`ProcessAccess::REMOTE_SNAPSHOT`], without `PROCESS_DUP_HANDLE` for memory only.
    pub(crate) fn remote_rights(self) -> ProcessAccess {
        match self {
            Holds::MemoryOnly => {
                ProcessAccess::REMOTE_SNAPSHOT.difference(ProcessAccess::DUP_HANDLE)
            }
            Holds::KernelHandles => ProcessAccess::REMOTE_SNAPSHOT,
        }
    }
}

/// The rights of `needed` that `process` is known to lack (see
/// [`ProcessHandle::granted_access`]); `None` if it has them all or its rights are unknown.
pub(crate) fn lacking<P: ProcessHandle + ?Sized>(
    process: &P,
    needed: ProcessAccess,
) -> Option<ProcessAccess> {
    let missing = needed.difference(process.granted_access()?);
    (!missing.is_empty()).then_some(missing)
}

/// Refuses, before any call, to put a snapshot that `holds` what it does into a process through
/// `target` when `target` is known to lack what duplicating into it and freeing it there need.
pub(crate) fn check_remote_target<P: ProcessHandle + ?Sized>(
    target: &P,
    holds: Holds,
) -> Result<()> {
    match lacking(target, holds.remote_rights()) {
        None => Ok(()),
        Some(missing) => Err(Error::insufficient_access(
            Function::PssDuplicateSnapshot,
            missing,
            "not called: a snapshot put into the process through this handle could not be \
             freed through it (PssDuplicateSnapshot needs PROCESS_VM_OPERATION and \
             PROCESS_VM_WRITE, PssFreeSnapshot PROCESS_VM_READ and PROCESS_VM_OPERATION, both \
             PROCESS_DUP_HANDLE for a snapshot captured with any flag but CREATE_* ones; \
             without PROCESS_VM_OPERATION or PROCESS_DUP_HANDLE Windows' free reports success \
             and leaves the snapshot there); open the process with \
             ProcessAccess::REMOTE_SNAPSHOT",
        )),
    }
}

/// `PssFreeSnapshot(process, raw)`, or nothing if PSS is missing.
///
/// # Safety
///
/// `raw` must be a live snapshot in the context of `process`'s process, owned by the caller
/// and never used again.
unsafe fn free_remote<P: ProcessHandle>(process: &P, raw: RawSnapshot) -> Result<()> {
    let api = PssApi::get(Function::PssFreeSnapshot)?;
    // SAFETY: the caller hands over `raw`, live in `process`'s context, for its one free.
    unsafe { api.free(process.as_handle(), raw) }.map_err(explain_remote_failure)
}

/// `error`, from `PssFreeSnapshot` or `PssDuplicateSnapshot` through a handle to another
/// process, with the reason its code has there: both read the snapshot's descriptor out of
/// that process first (decompiled Windows 11 ntdll, `PssNtFreeRemoteSnapshot` and
/// `PsspDuplicateSnapshotRemoteToRemote`).
#[cold]
fn explain_remote_failure(error: Error) -> Error {
    let reason = match error.code() {
        Some(ErrorCode::PARTIAL_COPY) => {
            "the process maps nothing (or too little) at the snapshot handle's address: the \
             handle is not a snapshot living in that process"
        }
        Some(ErrorCode::INVALID_HANDLE) => {
            "the process handle is invalid, or the process holds memory at the snapshot \
             handle's address but no snapshot there"
        }
        Some(ErrorCode::NOT_SUPPORTED) => {
            "the snapshot was neither captured with PSS_CREATE_USE_VM_ALLOCATIONS nor duplicated \
             remotely: only its own process can free it"
        }
        _ => return error,
    };
    error.with_reason(reason)
}

impl<P: ProcessHandle> Drop for RemoteSnapshot<P> {
    /// Frees the snapshot as [`close`](Self::close) does, ignoring failure, then drops the
    /// process handle holder. Never panics (unless dropping `P` does).
    fn drop(&mut self) {
        // SAFETY: we own `self.raw`, live in `self.process`'s context, and this is its last use.
        let _ = unsafe { free_remote(&self.process, self.raw) };
    }
}

impl<P: ProcessHandle + fmt::Debug> fmt::Debug for RemoteSnapshot<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSnapshot")
            .field("raw", &self.raw)
            .field("process", &self.process)
            .finish()
    }
}

static_assertions::assert_impl_all!(RemoteSnapshot<OwnedHandle>: Send);
static_assertions::assert_impl_all!(RemoteSnapshot<crate::handle::BorrowedHandle<'static>>: Send);
static_assertions::assert_impl_all!(RemoteSnapshot<std::sync::Arc<OwnedHandle>>: Send);
static_assertions::assert_not_impl_any!(RemoteSnapshot<OwnedHandle>: Sync, Clone, Copy);
static_assertions::assert_not_impl_any!(RemoteSnapshot<std::rc::Rc<OwnedHandle>>: Send, Sync);
