//! `LocalSnapshot`: a snapshot owned by, and living in, this process.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use pss_sys as sys;

use crate::calls::{PssApi, RawSnapshot};
use crate::handle::{AsHandle, BorrowedHandle, ProcessHandle};
use crate::remote::Holds;
use crate::{
    Allocation, CaptureFlags, CaptureOptions, Error, ErrorCode, Function, HeapAllocated,
    RemoteSnapshot, Result, VmAllocated,
};

/// A process snapshot whose handle (`HPSS`) lives in this process, owned: freed exactly once,
/// with [`PssFreeSnapshot`]`(`[`GetCurrentProcess`]`(), handle)`.
///
/// Every snapshot [captured](Self::capture) is local, whatever process it was taken of: the
/// handle lives "in the context of" the process that called `PssCaptureSnapshot`. Duplicates
/// into this process ([`duplicate`](Self::duplicate),
/// [`RemoteSnapshot::duplicate_to_local`]) are local too. (`PssFreeSnapshot`'s parameter text,
/// "captured from the current process", can be misread as "captured *of* the current process";
/// its remarks and Microsoft's dump sample, which captures another process and frees with
/// `GetCurrentProcess()`, settle it.)
///
/// The type parameter records how the snapshot was allocated, at no cost (it is zero-sized;
/// `LocalSnapshot` is the handle and one byte saying whether it may hold kernel handles, two
/// words with padding, and `Option<LocalSnapshot>` too):
/// [`HeapAllocated`] (the default, and what anything not known to be VM-allocated is) or
/// [`VmAllocated`] (captured with `PSS_CREATE_USE_VM_ALLOCATIONS`, through
/// [`capture_vm`](Self::capture_vm)). Only the latter can be [moved](Self::move_into) into
/// another process.
///
/// # Freeing
///
/// Dropping frees the snapshot and ignores a failure (a destructor cannot report one, and
/// retrying could free twice, which is undefined behaviour); [`close`](Self::close) frees it and
/// reports the result. After a failed free the snapshot is considered gone either way: the
/// documentation does not say whether it still exists, so `pss` never frees it again (at worst
/// it leaks). An `HPSS` is not a kernel handle: never put it in an
/// [`OwnedHandle`](crate::handle::OwnedHandle) or pass it to `CloseHandle`.
///
/// # Threads
///
/// `LocalSnapshot` is [`Send`]: the documentation gives a snapshot no thread affinity (the
/// thread rule it states is for walk-marker allocators), so it may be used and freed on any
/// thread. It is not [`Sync`]: freeing and `PSS_DUPLICATE_CLOSE_SOURCE` are documented as
/// unsynchronised, which `pss` meets by requiring ownership (`close`, `move_into` and drop take
/// the snapshot by value), and whether the reading calls (duplicate, queries, walks) may run
/// concurrently on one handle is not documented, so `&LocalSnapshot` cannot be shared between
/// threads. [`Walk`](crate::Walk)s borrow the snapshot and are therefore not `Send` either: to
/// read a snapshot on another thread, send the snapshot.
///
/// # Reading
///
/// Queries (one per `PSS_QUERY_*` class, e.g.
/// [`process_information`](Self::process_information)) and walks (one per `PSS_WALK_*`
/// class, e.g. [`threads`](Self::threads)) are methods of this type; see the crate docs.
///
/// ```compile_fail,E0277
/// # use pss::{CaptureFlags, LocalSnapshot};
/// # fn f() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// std::thread::scope(|scope| {
///     // `LocalSnapshot` is not `Sync`: two threads may not use one snapshot at once.
///     scope.spawn(|| snapshot.duplicate());
///     scope.spawn(|| snapshot.duplicate());
/// });
/// # Ok(()) }
/// ```
///
/// # Misuse the compiler rejects
///
/// Use after free (here, closing twice):
///
/// ```compile_fail,E0382
/// # use pss::{CaptureFlags, LocalSnapshot};
/// # fn f() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// snapshot.close()?;
/// snapshot.close()?; // the snapshot was moved into the first `close`
/// # Ok(()) }
/// ```
///
/// Moving a snapshot that was not captured with `PSS_CREATE_USE_VM_ALLOCATIONS`:
///
/// ```compile_fail,E0599
/// # use pss::{CaptureFlags, LocalSnapshot, handle::OwnedHandle};
/// # fn f(target: OwnedHandle) -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// let remote = snapshot.move_into(target)?; // only `LocalSnapshot<VmAllocated>` has it
/// # Ok(()) }
/// ```
///
/// Using a snapshot after moving it into another process:
///
/// ```compile_fail,E0382
/// # use pss::{CaptureFlags, LocalSnapshot, handle::OwnedHandle};
/// # fn f(target: OwnedHandle) -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current_vm(CaptureFlags::THREADS)?;
/// let remote = snapshot.move_into(target)?;
/// let copy = snapshot.duplicate()?; // the OS freed it in `move_into`
/// # Ok(()) }
/// ```
///
/// [`PssFreeSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot
/// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
#[doc(alias = "HPSS", alias = "PssFreeSnapshot")]
pub struct LocalSnapshot<A: Allocation = HeapAllocated> {
    raw: RawSnapshot,
    allocation: PhantomData<A>,
    /// Whether it may hold kernel handles: the rights a copy in another process needs.
    holds: Holds,
}

// SAFETY: see "Threads" above: a local snapshot has no documented thread affinity, and every
// operation that needs exclusive access takes the snapshot by value. Not `Sync` (not
// implemented; `NonNull` makes the type `!Sync`).
unsafe impl<A: Allocation> Send for LocalSnapshot<A> {}

impl LocalSnapshot<HeapAllocated> {
    /// Takes ownership of a snapshot handle that lives in this process.
    ///
    /// # Safety
    ///
    /// `raw` must be a live snapshot in the context of this process (captured by this process,
    /// or duplicated into it), owned by nothing else, so that it must be freed with
    /// `PssFreeSnapshot(GetCurrentProcess(), raw)` exactly once — which the returned value will
    /// do.
    ///
    /// # Panics
    ///
    /// If `raw` is null.
    #[doc(alias = "HPSS")]
    pub unsafe fn from_raw(raw: sys::HPSS) -> Self {
        Self::from_non_null(
            NonNull::new(raw).expect("LocalSnapshot::from_raw: null HPSS"),
            Holds::KernelHandles, // not known
        )
    }

    /// [`PssCaptureSnapshot`]: captures a snapshot of the process `process` refers to.
    ///
    /// The snapshot lives in this process whatever process it was taken of. `options` are
    /// [`CaptureFlags`], or [`CaptureOptions`] to choose the thread-context flags (default
    /// [`ContextFlags::ALL`](crate::ContextFlags::ALL)). The flags are checked first (see
    /// [`CaptureFlags`]): invalid ones give
    /// [`ErrorKind::InvalidFlags`](crate::ErrorKind::InvalidFlags) without calling the OS. So
    /// does [`CaptureFlags::CREATE_USE_VM_ALLOCATIONS`]: a VM-allocated snapshot is captured
    /// with [`capture_vm`](LocalSnapshot::capture_vm), whose type records it (only such a
    /// snapshot can be [moved](LocalSnapshot::move_into)).
    ///
    /// Rights on `process`: not documented, except `PROCESS_VM_READ` for
    /// [`CaptureFlags::VA_SPACE_SECTION_INFORMATION`]; the OS checks them.
    /// [`ProcessAccess::for_capture`](crate::ProcessAccess::for_capture) derives a set. This
    /// process: [`current_process`](crate::current_process).
    ///
    /// The documentation lists no error codes for this function; any code is reported. Nor does
    /// it say what is written to the handle on failure: `pss` uses it only after
    /// `ERROR_SUCCESS` (a null handle reported as success, also undocumented, becomes
    /// [`ErrorCode::INVALID_HANDLE`](crate::ErrorCode::INVALID_HANDLE)).
    ///
    /// Kernel32 calls: `PssCaptureSnapshot` (after the one-time [probe](crate::is_available)).
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
    ///
    /// # fn main() -> pss::Result<()> {
    /// # let pid = 1234;
    /// let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
    /// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    /// let snapshot = LocalSnapshot::capture(&process, flags)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # References
    ///
    /// - [`PssCaptureSnapshot`]
    /// - [`PSS_CAPTURE_FLAGS`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_capture_flags)
    ///
    /// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
    #[doc(alias = "PssCaptureSnapshot")]
    pub fn capture(process: impl AsHandle, options: impl Into<CaptureOptions>) -> Result<Self> {
        Self::capture_with(|_| process.as_handle(), options.into())
    }

    /// [`PssCaptureSnapshot`]`(`[`GetCurrentProcess`]`(), ...)`: captures this process; the
    /// same as `capture(`[`pss::current_process()`](crate::current_process)`, options)`.
    ///
    /// As [`capture`](Self::capture). Kernel32 calls: `PssCaptureSnapshot` (the pseudo handle
    /// comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssCaptureSnapshot`]
    /// - [`GetCurrentProcess`]
    ///
    /// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
    /// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
    #[doc(alias = "PssCaptureSnapshot", alias = "GetCurrentProcess")]
    pub fn capture_current(options: impl Into<CaptureOptions>) -> Result<Self> {
        Self::capture_with(PssApi::current_process, options.into())
    }
}

impl LocalSnapshot<VmAllocated> {
    /// Takes ownership of a snapshot handle that lives in this process and was captured with
    /// `PSS_CREATE_USE_VM_ALLOCATIONS`.
    ///
    /// # Safety
    ///
    /// As [`LocalSnapshot::from_raw`], and `raw` must have been captured with
    /// `PSS_CREATE_USE_VM_ALLOCATIONS` (which [`move_into`](Self::move_into) relies on).
    ///
    /// # Panics
    ///
    /// If `raw` is null.
    #[doc(alias = "HPSS")]
    pub unsafe fn from_raw_vm(raw: sys::HPSS) -> Self {
        Self::from_non_null(
            NonNull::new(raw).expect("LocalSnapshot::from_raw_vm: null HPSS"),
            Holds::KernelHandles, // not known
        )
    }

    /// [`PssCaptureSnapshot`] with `PSS_CREATE_USE_VM_ALLOCATIONS` added to the flags: a
    /// snapshot that never uses the process heap (e.g. for capture on a crash path, where the
    /// heap may be corrupt), and can be [moved](Self::move_into) into another process.
    ///
    /// **`capture` or `capture_vm`?** Use [`capture`](LocalSnapshot::capture), also to dump
    /// another process: a dump, a walk or a query works the same on both. Use `capture_vm` only
    /// to [move](Self::move_into) the snapshot into another process (a crash reporter's helper,
    /// say), or to capture *this* process on a crash path, where its heap may be corrupt. (The
    /// snapshot lives in this process either way; the flag changes how its memory is
    /// allocated, not what it holds.)
    ///
    /// Otherwise as [`capture`](LocalSnapshot::capture).
    ///
    /// # References
    ///
    /// - [`PssCaptureSnapshot`]
    /// - [`PSS_CAPTURE_FLAGS`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_capture_flags)
    ///
    /// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
    #[doc(alias = "PssCaptureSnapshot", alias = "PSS_CREATE_USE_VM_ALLOCATIONS")]
    pub fn capture_vm(process: impl AsHandle, options: impl Into<CaptureOptions>) -> Result<Self> {
        Self::capture_with(|_| process.as_handle(), options.into())
    }

    /// [`PssCaptureSnapshot`]`(`[`GetCurrentProcess`]`(), ...)` with
    /// `PSS_CREATE_USE_VM_ALLOCATIONS`: captures this process, as
    /// [`capture_vm`](Self::capture_vm).
    ///
    /// Kernel32 calls: `PssCaptureSnapshot` (the pseudo handle comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssCaptureSnapshot`]
    /// - [`GetCurrentProcess`]
    ///
    /// [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
    /// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
    #[doc(alias = "PssCaptureSnapshot", alias = "PSS_CREATE_USE_VM_ALLOCATIONS")]
    pub fn capture_current_vm(options: impl Into<CaptureOptions>) -> Result<Self> {
        Self::capture_with(PssApi::current_process, options.into())
    }

    /// [`PssDuplicateSnapshot`] with `PSS_DUPLICATE_CLOSE_SOURCE`: moves the snapshot into the
    /// process `target` refers to.
    ///
    /// This snapshot is consumed in every case: the OS frees it "even if duplication fails",
    /// so on error it is gone too (and if PSS is [unavailable](crate::is_available), it is
    /// leaked rather than passed to a missing function). `PSS_DUPLICATE_CLOSE_SOURCE` "will only
    /// succeed" for a snapshot captured with `PSS_CREATE_USE_VM_ALLOCATIONS`, which the type
    /// guarantees.
    ///
    /// The result lives in the target and is freed through `target` (which is kept in the
    /// [`RemoteSnapshot`]). Rights: as [`duplicate_into`](LocalSnapshot::duplicate_into)
    /// ([`ProcessAccess::REMOTE_SNAPSHOT`](crate::ProcessAccess::REMOTE_SNAPSHOT), without
    /// `PROCESS_DUP_HANDLE` for a snapshot of process information alone); the source is this
    /// process, with all rights. A [`Process`](crate::Process) `target` lacking any of them is
    /// refused before anything is called
    /// ([`ErrorKind::InsufficientAccess`](crate::ErrorKind::InsufficientAccess); the snapshot
    /// is then freed here).
    ///
    /// Kernel32 calls: `PssDuplicateSnapshot` (the pseudo handle comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssDuplicateSnapshot`]
    ///
    /// [`PssDuplicateSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot
    #[doc(alias = "PssDuplicateSnapshot", alias = "PSS_DUPLICATE_CLOSE_SOURCE")]
    pub fn move_into<P: ProcessHandle>(self, target: P) -> Result<RemoteSnapshot<P>> {
        // Refused before anything is called: this snapshot is then freed here, on drop.
        crate::remote::check_remote_target(&target, self.holds)?;
        let holds = self.holds;
        // The OS frees the source whatever happens: give up ownership before anything else.
        let source = ManuallyDrop::new(self).raw;
        let api = PssApi::get(Function::PssDuplicateSnapshot)?;
        let this_process = api.current_process();
        // SAFETY: `source` is live in this process's context and no longer owned by anyone
        // (its owner was consumed and will not free it), as CLOSE_SOURCE requires.
        let moved = unsafe {
            api.duplicate(
                this_process,
                source,
                target.as_handle(),
                sys::PSS_DUPLICATE_CLOSE_SOURCE,
            )
        }?;
        // SAFETY: `moved` was just created in the context of `target`'s process and is owned by
        // nothing else; `P: ProcessHandle` keeps `target` referring to that process; it holds
        // what its source held.
        Ok(unsafe { RemoteSnapshot::from_parts(target, moved, holds) })
    }
}

impl<A: Allocation> LocalSnapshot<A> {
    fn capture_with<'h>(
        process: impl FnOnce(PssApi) -> BorrowedHandle<'h>,
        options: CaptureOptions,
    ) -> Result<Self> {
        let vm = CaptureFlags::CREATE_USE_VM_ALLOCATIONS;
        if options.flags().contains(vm) && !A::CAPTURE_FLAGS.contains(vm) {
            return Err(Error::invalid_flags(
                Function::PssCaptureSnapshot,
                "PSS_CREATE_USE_VM_ALLOCATIONS: capture with LocalSnapshot::capture_vm, whose \
                 type records it",
            ));
        }
        let options = options.with_flags(A::CAPTURE_FLAGS);
        options
            .flags()
            .check()
            .map_err(|reason| Error::invalid_flags(Function::PssCaptureSnapshot, reason))?;
        let api = PssApi::get(Function::PssCaptureSnapshot)?;
        let process = process(api);
        let flags = options.flags();
        let mut attempts = options.attempts();
        loop {
            match api.capture(process, flags, options.context_flags()) {
                Ok(raw) => return Ok(Self::from_non_null(raw, Holds::of(flags))),
                Err(error) => {
                    let error = explain_capture_failure(error, flags);
                    // A target that has exited fails the same way every time: no retry.
                    if let Some(exited) = recognise_exit(error, flags, process) {
                        return Err(exited);
                    }
                    attempts -= 1;
                    if attempts == 0 || !is_handle_race(&error, flags) {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// [`PssDuplicateSnapshot`]`(GetCurrentProcess(), h, GetCurrentProcess(), ...)`: a second,
    /// independently owned snapshot in this process.
    ///
    /// The two are independent: freeing one leaves the other fully readable. The pages do not
    /// say so; Windows makes the duplicate a new descriptor with its own duplicate of every
    /// handle the snapshot holds, its [VA clone](crate::VaClone) handle included (so the clone
    /// lives until both are freed). Whether a duplicate keeps `PSS_CREATE_USE_VM_ALLOCATIONS`
    /// is not documented, so the duplicate is typed [`HeapAllocated`], the conservative type,
    /// even when this one is [`VmAllocated`].
    ///
    /// Kernel32 calls: `PssDuplicateSnapshot` (the pseudo handle, source and target, comes from
    /// the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssDuplicateSnapshot`]
    ///
    /// [`PssDuplicateSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot
    #[doc(alias = "PssDuplicateSnapshot")]
    pub fn duplicate(&self) -> Result<LocalSnapshot> {
        let api = PssApi::get(Function::PssDuplicateSnapshot)?;
        let this_process = api.current_process();
        // SAFETY: `self.raw` is live in this process's context and borrowed for the call; not
        // `Sync`, so no other thread uses it meanwhile.
        let raw = unsafe {
            api.duplicate(
                this_process,
                self.raw,
                this_process,
                sys::PSS_DUPLICATE_NONE,
            )
        }?;
        Ok(LocalSnapshot::from_non_null(raw, self.holds))
    }

    /// [`PssDuplicateSnapshot`] with `PSS_DUPLICATE_NONE`: copies the snapshot into the process
    /// `target` refers to, keeping this one.
    ///
    /// The copy lives in the target and is "duplicated remotely", so it can be freed from here
    /// through `target` (kept in the [`RemoteSnapshot`]).
    ///
    /// Rights: making the copy needs `PROCESS_VM_OPERATION | PROCESS_VM_WRITE` on `target`,
    /// and `PROCESS_DUP_HANDLE` when the snapshot holds kernel handles
    /// ([`ProcessAccess::DUPLICATE_TARGET`](crate::ProcessAccess::DUPLICATE_TARGET)); freeing
    /// it through the same handle later needs `PROCESS_VM_READ | PROCESS_VM_OPERATION`, and
    /// `PROCESS_DUP_HANDLE` for the kernel handles
    /// ([`REMOTE_FREE`](crate::ProcessAccess::REMOTE_FREE)). Together:
    /// [`ProcessAccess::REMOTE_SNAPSHOT`](crate::ProcessAccess::REMOTE_SNAPSHOT). A snapshot
    /// holds kernel handles (sections, a VA clone) when it was captured with any flag but the
    /// `CREATE_*` ones, or when `pss` cannot know ([`from_raw`](LocalSnapshot::from_raw)); one
    /// captured with [`CaptureFlags::NONE`] holds none and needs no `PROCESS_DUP_HANDLE`.
    ///
    /// A [`Process`](crate::Process) `target`, whose rights `pss` knows, lacking any of these is
    /// refused before anything is called
    /// ([`ErrorKind::InsufficientAccess`](crate::ErrorKind::InsufficientAccess) naming what it
    /// lacks; so is one opened with `DUPLICATE_TARGET` alone, which could make the copy but not
    /// free it), because Windows' remote free would report success and leak the copy (see
    /// [`RemoteSnapshot`]); other handles are checked by the OS alone. On failure `target` is
    /// dropped: pass a reference or a [`BorrowedHandle`] to keep the handle.
    ///
    /// Kernel32 calls: `PssDuplicateSnapshot` (the pseudo handle comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssDuplicateSnapshot`]
    ///
    /// [`PssDuplicateSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot
    #[doc(alias = "PssDuplicateSnapshot")]
    pub fn duplicate_into<P: ProcessHandle>(&self, target: P) -> Result<RemoteSnapshot<P>> {
        crate::remote::check_remote_target(&target, self.holds)?;
        let api = PssApi::get(Function::PssDuplicateSnapshot)?;
        let this_process = api.current_process();
        // SAFETY: `self.raw` is live in this process's context and borrowed for the call; not
        // `Sync`, so no other thread uses it meanwhile.
        let copy = unsafe {
            api.duplicate(
                this_process,
                self.raw,
                target.as_handle(),
                sys::PSS_DUPLICATE_NONE,
            )
        }?;
        // SAFETY: `copy` was just created in the context of `target`'s process and is owned by
        // nothing else; `P: ProcessHandle` keeps `target` referring to that process; it holds
        // what this snapshot holds.
        Ok(unsafe { RemoteSnapshot::from_parts(target, copy, self.holds) })
    }

    /// [`PssFreeSnapshot`]`(`[`GetCurrentProcess`]`(), h)`: frees the snapshot and reports the
    /// result, which dropping cannot.
    ///
    /// Documented failures: [`ErrorCode::INVALID_HANDLE`](crate::ErrorCode::INVALID_HANDLE);
    /// [`Unavailable`](crate::ErrorKind::Unavailable) if PSS is missing (then nothing is
    /// called and the snapshot is leaked). The snapshot is gone either way: it is never freed
    /// twice.
    ///
    /// Kernel32 calls: `PssFreeSnapshot` (the pseudo handle comes from the one-time probe).
    ///
    /// # References
    ///
    /// - [`PssFreeSnapshot`]
    /// - [`GetCurrentProcess`]
    ///
    /// [`PssFreeSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot
    /// [`GetCurrentProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess
    #[doc(alias = "PssFreeSnapshot")]
    pub fn close(self) -> Result<()> {
        let raw = ManuallyDrop::new(self).raw;
        // SAFETY: we owned `raw`, a live snapshot in this process, and gave up the owner above.
        unsafe { free_local(raw) }
    }

    /// The raw snapshot handle, still owned by `self`: valid until `self` is freed, only in
    /// this process. Use it e.g. as the process handle `MiniDumpWriteDump` takes to dump the
    /// snapshot; never free it.
    pub fn as_raw(&self) -> sys::HPSS {
        self.raw.as_ptr()
    }

    /// Gives up ownership: returns the raw handle without freeing it. The caller must free it
    /// with `PssFreeSnapshot(GetCurrentProcess(), raw)` exactly once (or rebuild a
    /// `LocalSnapshot` with [`from_raw`](LocalSnapshot::from_raw) or
    /// [`from_raw_vm`](LocalSnapshot::from_raw_vm)).
    #[must_use = "the snapshot is leaked unless the raw handle is freed"]
    pub fn into_raw(self) -> sys::HPSS {
        ManuallyDrop::new(self).raw.as_ptr()
    }

    /// The snapshot handle, still owned by `self`, for the reading calls (queries, walks).
    pub(crate) fn raw(&self) -> RawSnapshot {
        self.raw
    }

    pub(crate) fn from_non_null(raw: RawSnapshot, holds: Holds) -> Self {
        LocalSnapshot {
            raw,
            allocation: PhantomData,
            holds,
        }
    }
}

/// A capture failure `CaptureOptions::retry_handle_race` retries: `ERROR_BAD_LENGTH` from a
/// capture with `HANDLES` (the handle table grew between Windows' two reads of it).
fn is_handle_race(error: &Error, flags: CaptureFlags) -> bool {
    error.code() == Some(ErrorCode::BAD_LENGTH) && flags.contains(CaptureFlags::HANDLES)
}

/// `error`, from `PssCaptureSnapshot` of `process` with `flags`, as the failure of a target that
/// has exited ([`Error::target_exit_code`]) when its code is one an exit causes for these flags
/// (the parts ntdll captures fail so when the process is gone) and `GetExitCodeProcess` says the
/// process has exited; `None` otherwise. One more call, on this failure path only.
#[cold]
fn recognise_exit(error: Error, flags: CaptureFlags, process: BorrowedHandle<'_>) -> Option<Error> {
    let has = |f: CaptureFlags| flags.contains(f);
    let exit_shaped = match error.code()? {
        ErrorCode::BAD_LENGTH => has(CaptureFlags::HANDLES),
        ErrorCode::INVALID_PARAMETER => has(CaptureFlags::VA_SPACE),
        ErrorCode::ACCESS_DENIED => has(CaptureFlags::VA_CLONE),
        _ => false,
    };
    if !exit_shaped {
        return None;
    }
    let code = crate::process::exit_code(process)?;
    Some(error.with_target_exit_code(
        code,
        "the process has exited (Error::target_exit_code has its exit code): its threads, \
         handle table, address space and memory are gone; only its process information can \
         still be captured (CaptureFlags::NONE)",
    ))
}

/// `error`, from `PssCaptureSnapshot` with `flags`, with [`Error::reason`] naming the causes
/// Windows is seen to have for it (in the decompiled Windows 11 ntdll and kernel).
#[cold]
fn explain_capture_failure(error: Error, flags: CaptureFlags) -> Error {
    let has = |f: CaptureFlags| flags.contains(f);
    let reason = match error.code() {
        Some(ErrorCode::BAD_LENGTH) if has(CaptureFlags::HANDLES) => {
            "the handle table changed while it was being captured (a handle was opened in \
             between: retrying helps, see CaptureOptions::retry_handle_race), or the process has \
             no handles (it has exited: retrying does not help)"
        }
        Some(ErrorCode::INVALID_PARAMETER) if has(CaptureFlags::VA_SPACE) => {
            "the address space could not be read: the process is exiting or has exited"
        }
        // A thread the capture may not open is skipped, not a failure.
        Some(ErrorCode::ACCESS_DENIED) if has(CaptureFlags::VA_CLONE) => {
            "the process handle lacks a right these flags need (see \
             ProcessAccess::for_capture), or the process is exiting or has exited (no VA clone \
             can be made of it)"
        }
        Some(ErrorCode::ACCESS_DENIED) => {
            "the process handle lacks a right these flags need (see ProcessAccess::for_capture)"
        }
        Some(ErrorCode::INVALID_HANDLE) if has(CaptureFlags::THREADS) => {
            "the process handle is not a valid handle, or a handle the capture opened to one of \
             the process's threads was closed while it was queried (by another thread of this \
             process closing handles it does not own; thread capture is all or nothing)"
        }
        Some(ErrorCode::PRIVILEGE_NOT_HELD) => {
            "PSS_CREATE_FORCE_BREAKAWAY needs the Tcb privilege (SeTcbPrivilege)"
        }
        Some(ErrorCode::INVALID_ADDRESS) => {
            "the address space changed while it was being captured: retrying may succeed"
        }
        _ => return error,
    };
    error.with_reason(reason)
}

/// `PssFreeSnapshot(GetCurrentProcess(), raw)`, or nothing if PSS is missing (then no snapshot
/// can have come from it, and calling a missing import would abort).
///
/// # Safety
///
/// `raw` must be a live snapshot in this process, owned by the caller and never used again.
unsafe fn free_local(raw: RawSnapshot) -> Result<()> {
    let api = PssApi::get(Function::PssFreeSnapshot)?;
    // SAFETY: the caller hands over `raw`, live in this process's context, for its one free.
    unsafe { api.free(api.current_process(), raw) }
}

impl<A: Allocation> Drop for LocalSnapshot<A> {
    /// Frees the snapshot as [`close`](Self::close) does, ignoring failure. Never panics.
    fn drop(&mut self) {
        // SAFETY: we own `self.raw`, a live snapshot in this process, and this is its last use.
        let _ = unsafe { free_local(self.raw) };
    }
}

impl<A: Allocation> fmt::Debug for LocalSnapshot<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSnapshot")
            .field("raw", &self.raw)
            .field("vm_allocated", &!A::CAPTURE_FLAGS.is_empty())
            .finish()
    }
}

static_assertions::assert_eq_size!(LocalSnapshot, [usize; 2]);
static_assertions::assert_eq_size!(Option<LocalSnapshot>, [usize; 2]);
static_assertions::assert_eq_size!(LocalSnapshot<VmAllocated>, [usize; 2]);
static_assertions::assert_eq_size!(Option<LocalSnapshot<VmAllocated>>, [usize; 2]);
static_assertions::assert_impl_all!(LocalSnapshot<HeapAllocated>: Send);
static_assertions::assert_impl_all!(LocalSnapshot<VmAllocated>: Send);
static_assertions::assert_not_impl_any!(LocalSnapshot<HeapAllocated>: Sync, Clone, Copy);
static_assertions::assert_not_impl_any!(LocalSnapshot<VmAllocated>: Sync, Clone, Copy);
