//! The one gateway to kernel32's PSS functions.
//!
//! Every call of a `Pss*` function in this crate goes through [`PssApi`], which can only be
//! obtained after [`is_available`](crate::is_available) said yes: no code path can reach a
//! missing import.

use core::cell::Cell;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};

use pss_sys as sys;

use crate::available::current_process_if_available;
use crate::handle::{AsRawHandle, BorrowedHandle};
use crate::{CaptureFlags, ContextFlags, Error, Function, Result};

thread_local! {
    /// How deep this thread is inside a caller's [`WalkAllocator`](crate::WalkAllocator)
    /// callback, which kernel32 runs in the middle of a PSS call.
    static IN_ALLOCATOR: Cell<u32> = const { Cell::new(0) };
}

/// How many allocator callbacks run right now, on all threads: the fast path of the
/// re-entrancy check. A thread always sees its own increments, so when this is 0 the calling
/// thread is in no callback, and the thread-local is not consulted.
static CALLBACKS_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Marks the calling thread as running a caller's allocator callback while it lives (also
/// through a caught panic).
pub(crate) struct AllocatorCallback(());

impl AllocatorCallback {
    pub(crate) fn enter() -> Self {
        CALLBACKS_RUNNING.fetch_add(1, Ordering::Relaxed);
        IN_ALLOCATOR.with(|depth| depth.set(depth.get() + 1));
        AllocatorCallback(())
    }
}

impl Drop for AllocatorCallback {
    fn drop(&mut self) {
        IN_ALLOCATOR.with(|depth| depth.set(depth.get() - 1));
        CALLBACKS_RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Proof that the PSS functions exist and that this thread ran no allocator callback when it
/// was made (only [`PssApi::walking`] makes one, after checking), for one loop of
/// [`walk`](Walking::walk) steps that runs on this thread and holds no other PSS call open.
/// That suffices: callbacks nest strictly inside PSS calls, so whatever ran between two steps
/// entered and left its callbacks again, and the thread is in the state it was in at the check.
/// Not `Send`: the check was for this thread.
pub(crate) struct Walking(PhantomData<*const ()>);

impl Walking {
    /// `PssWalkSnapshot`, as [`PssApi::walk`] without the per-call re-entrancy check. `out`
    /// is a pointer, not a reference, so that a caller filling memory it shares (a walk's
    /// structure for `Iterator::next`) asserts no exclusive access for the length of the call.
    ///
    /// # Safety
    ///
    /// As [`PssApi::walk`]; `out` points to a writable, aligned `T`.
    #[inline]
    pub(crate) unsafe fn walk<T>(
        &self,
        snapshot: RawSnapshot,
        class: sys::PSS_WALK_INFORMATION_CLASS,
        marker: RawMarker,
        out: *mut T,
    ) -> Result<bool> {
        // SAFETY: the function exists (only a `PssApi` makes a `Walking`); the caller vouches
        // for both handles, for `T` matching `class`, and for `out`, a writable, aligned `T` of
        // exactly the length passed.
        let code = unsafe {
            sys::PssWalkSnapshot(
                snapshot.as_ptr(),
                class,
                marker.as_ptr(),
                out.cast(),
                size_of_u32::<T>(),
            )
        };
        match code {
            sys::ERROR_SUCCESS => Ok(true),
            sys::ERROR_NO_MORE_ITEMS => Ok(false),
            code => Err(Error::os(Function::PssWalkSnapshot, code)),
        }
    }
}

/// Refuses `function` while an allocator callback runs on this thread: the callback runs
/// inside `PssWalkMarkerCreate`, `PssWalkSnapshot` or `PssWalkMarkerFree`, and a PSS call from
/// there would overlap that call on the same thread, which the documents do not allow for (they
/// say nothing of concurrent calls; `pss` requires exclusive use). Safe allocator code can reach
/// a snapshot or walk (through a reference it holds), so this is checked, not assumed.
#[inline]
fn not_in_allocator(function: Function) -> Result<()> {
    if CALLBACKS_RUNNING.load(Ordering::Relaxed) == 0 {
        return Ok(());
    }
    in_allocator_slow(function)
}

/// The thread-local half of [`not_in_allocator`], while some thread runs a callback.
#[cold]
#[inline(never)]
fn in_allocator_slow(function: Function) -> Result<()> {
    if IN_ALLOCATOR.with(Cell::get) == 0 {
        Ok(())
    } else {
        Err(Error::reentrant(function))
    }
}

/// A snapshot handle (`HPSS`) known to be non-null.
pub(crate) type RawSnapshot = NonNull<c_void>;

/// A walk marker handle (`HPSSWALK`) known to be non-null.
pub(crate) type RawMarker = NonNull<c_void>;

/// Proof that kernel32 exports the PSS functions; only [`PssApi::get`] makes one. It carries
/// this process's pseudo handle, fetched once by the probe.
#[derive(Clone, Copy)]
pub(crate) struct PssApi {
    current_process: BorrowedHandle<'static>,
}

impl PssApi {
    /// Probes (once per process) and fails with `Unavailable`, naming `function`, if PSS is
    /// missing.
    pub(crate) fn get(function: Function) -> Result<PssApi> {
        match current_process_if_available() {
            Some(current_process) => Ok(PssApi { current_process }),
            None => Err(Error::unavailable(function)),
        }
    }

    /// `GetCurrentProcess()`, as the probe fetched it: the pseudo handle through which local
    /// snapshots are freed and duplicated. No kernel32 call.
    pub(crate) fn current_process(self) -> BorrowedHandle<'static> {
        self.current_process
    }

    /// `PssCaptureSnapshot`. The new snapshot lives in this process whatever `process` is.
    pub(crate) fn capture(
        self,
        process: BorrowedHandle<'_>,
        flags: CaptureFlags,
        context: ContextFlags,
    ) -> Result<RawSnapshot> {
        not_in_allocator(Function::PssCaptureSnapshot)?;
        let mut snapshot = ptr::null_mut();
        // SAFETY: the function exists (`self`); `process` is a handle borrowed for the call;
        // `snapshot` is a valid place for the one `HPSS` written.
        let code = unsafe {
            sys::PssCaptureSnapshot(
                process.as_raw_handle(),
                flags.bits(),
                context.bits(),
                &mut snapshot,
            )
        };
        created(Function::PssCaptureSnapshot, code, snapshot)
    }

    /// `PssDuplicateSnapshot`: a new snapshot in `target`'s process.
    ///
    /// # Safety
    ///
    /// `snapshot` must be live, in the context of `source`'s process, and not in use by another
    /// thread. With `PSS_DUPLICATE_CLOSE_SOURCE` the call frees `snapshot` whatever it returns:
    /// the caller must already have given up ownership of it.
    pub(crate) unsafe fn duplicate(
        self,
        source: BorrowedHandle<'_>,
        snapshot: RawSnapshot,
        target: BorrowedHandle<'_>,
        flags: sys::PSS_DUPLICATE_FLAGS,
    ) -> Result<RawSnapshot> {
        not_in_allocator(Function::PssDuplicateSnapshot)?;
        let mut duplicate = ptr::null_mut();
        // SAFETY: the function exists (`self`); the caller guarantees `snapshot` is live in
        // `source`'s context and unshared; both process handles are borrowed for the call;
        // `duplicate` is a valid place for the one `HPSS` written.
        let code = unsafe {
            sys::PssDuplicateSnapshot(
                source.as_raw_handle(),
                snapshot.as_ptr(),
                target.as_raw_handle(),
                &mut duplicate,
                flags,
            )
        };
        created(Function::PssDuplicateSnapshot, code, duplicate)
    }

    /// `PssFreeSnapshot(process, snapshot)`.
    ///
    /// # Safety
    ///
    /// `snapshot` must be live, in the context of `process`'s process, owned by the caller, and
    /// never used again, whatever this returns (after a failed free the documentation does not
    /// say whether the snapshot still exists; a second free could be a double free, which is
    /// undefined behaviour, so `pss` never retries).
    pub(crate) unsafe fn free(
        self,
        process: BorrowedHandle<'_>,
        snapshot: RawSnapshot,
    ) -> Result<()> {
        not_in_allocator(Function::PssFreeSnapshot)?;
        // SAFETY: the function exists (`self`); the caller hands over `snapshot`, live in
        // `process`'s context, for its one free.
        let code = unsafe { sys::PssFreeSnapshot(process.as_raw_handle(), snapshot.as_ptr()) };
        match code {
            sys::ERROR_SUCCESS => Ok(()),
            code => Err(Error::os(Function::PssFreeSnapshot, code)),
        }
    }
}

impl PssApi {
    /// `PssQuerySnapshot(snapshot, class, out, sizeof *out)`: one call, with the exact size of
    /// the structure (the only length the documents show; larger ones are not said to be
    /// accepted).
    ///
    /// # Safety
    ///
    /// `snapshot` must be live in this process and not used by another thread meanwhile; `T`
    /// must be the structure the documents give for `class` (plain data: any bytes the OS
    /// writes are a valid `T`).
    pub(crate) unsafe fn query<T>(
        self,
        snapshot: RawSnapshot,
        class: sys::PSS_QUERY_INFORMATION_CLASS,
        out: &mut T,
    ) -> Result<()> {
        not_in_allocator(Function::PssQuerySnapshot)?;
        // SAFETY: the function exists (`self`); the caller vouches for `snapshot` and for `T`
        // matching `class`; `out` is a writable, aligned `T` of exactly the length passed.
        let code = unsafe {
            sys::PssQuerySnapshot(
                snapshot.as_ptr(),
                class,
                ptr::from_mut(out).cast(),
                size_of_u32::<T>(),
            )
        };
        match code {
            sys::ERROR_SUCCESS => Ok(()),
            code => Err(Error::os(Function::PssQuerySnapshot, code)),
        }
    }

    /// `PssWalkSnapshot(snapshot, class, marker, out, sizeof *out)`: one call. `Ok(true)`: `out`
    /// holds the entry at the marker's position and the marker moved on; `Ok(false)`:
    /// `ERROR_NO_MORE_ITEMS`, the walk is complete.
    ///
    /// # Safety
    ///
    /// `snapshot` must be live in this process; `marker` must be live and used for this
    /// (snapshot, class) walk only; neither may be used by another thread meanwhile; `T` must
    /// be the entry structure the documents give for `class`.
    #[inline]
    pub(crate) unsafe fn walk<T>(
        self,
        snapshot: RawSnapshot,
        class: sys::PSS_WALK_INFORMATION_CLASS,
        marker: RawMarker,
        out: &mut T,
    ) -> Result<bool> {
        // SAFETY: forwarded from the caller.
        unsafe { self.walking()?.walk(snapshot, class, marker, out) }
    }

    /// Proof, for a loop of walk steps, that this thread runs no allocator callback (see
    /// [`Walking`]).
    #[inline]
    pub(crate) fn walking(self) -> Result<Walking> {
        not_in_allocator(Function::PssWalkSnapshot)?;
        Ok(Walking(PhantomData))
    }

    /// `PssWalkMarkerCreate(allocator, &marker)`: a new marker, owned by the caller.
    ///
    /// # Safety
    ///
    /// `allocator` is NULL (the process heap) or points to a `PSS_ALLOCATOR` whose routines and
    /// context stay valid, at the same address, until the marker is freed.
    pub(crate) unsafe fn marker_create(
        self,
        allocator: *const sys::PSS_ALLOCATOR,
    ) -> Result<RawMarker> {
        not_in_allocator(Function::PssWalkMarkerCreate)?;
        let mut marker = ptr::null_mut();
        // SAFETY: the function exists (`self`); the caller vouches for `allocator`; `marker` is
        // a valid place for the one `HPSSWALK` written.
        let code = unsafe { sys::PssWalkMarkerCreate(allocator, &mut marker) };
        if code != sys::ERROR_SUCCESS {
            return Err(Error::os(Function::PssWalkMarkerCreate, code));
        }
        // A null marker reported as success is not documented: nothing to free.
        NonNull::new(marker).ok_or(Error::os(
            Function::PssWalkMarkerCreate,
            sys::ERROR_INVALID_HANDLE,
        ))
    }

    /// `PssWalkMarkerFree(marker)`.
    ///
    /// # Safety
    ///
    /// `marker` must be live, owned by the caller, and never used again whatever this returns;
    /// nothing may read entry memory of the marker afterwards.
    pub(crate) unsafe fn marker_free(self, marker: RawMarker) -> Result<()> {
        not_in_allocator(Function::PssWalkMarkerFree)?;
        // SAFETY: the function exists (`self`); the caller hands over `marker` for its one free.
        let code = unsafe { sys::PssWalkMarkerFree(marker.as_ptr()) };
        marker_result(Function::PssWalkMarkerFree, code)
    }

    /// `PssWalkMarkerGetPosition(marker, &position)`.
    ///
    /// # Safety
    ///
    /// `marker` must be live and not used by another thread meanwhile.
    pub(crate) unsafe fn marker_position(self, marker: RawMarker) -> Result<usize> {
        not_in_allocator(Function::PssWalkMarkerGetPosition)?;
        let mut position = 0;
        // SAFETY: the function exists (`self`); the caller vouches for `marker`; `position` is
        // a valid place for the one `ULONG_PTR` written.
        let code = unsafe { sys::PssWalkMarkerGetPosition(marker.as_ptr(), &mut position) };
        marker_result(Function::PssWalkMarkerGetPosition, code).map(|()| position)
    }

    /// `PssWalkMarkerSetPosition(marker, position)`.
    ///
    /// # Safety
    ///
    /// `marker` must be live and not used by another thread meanwhile; `position` must come
    /// from `PssWalkMarkerGetPosition` on the same marker.
    pub(crate) unsafe fn marker_set_position(
        self,
        marker: RawMarker,
        position: usize,
    ) -> Result<()> {
        not_in_allocator(Function::PssWalkMarkerSetPosition)?;
        // SAFETY: the function exists (`self`); the caller vouches for `marker` and `position`.
        let code = unsafe { sys::PssWalkMarkerSetPosition(marker.as_ptr(), position) };
        marker_result(Function::PssWalkMarkerSetPosition, code)
    }

    /// `PssWalkMarkerSeekToBeginning(marker)`.
    ///
    /// # Safety
    ///
    /// `marker` must be live and not used by another thread meanwhile.
    pub(crate) unsafe fn marker_rewind(self, marker: RawMarker) -> Result<()> {
        not_in_allocator(Function::PssWalkMarkerSeekToBeginning)?;
        // SAFETY: the function exists (`self`); the caller vouches for `marker`.
        let code = unsafe { sys::PssWalkMarkerSeekToBeginning(marker.as_ptr()) };
        marker_result(Function::PssWalkMarkerSeekToBeginning, code)
    }
}

/// `size_of::<T>()` as the `DWORD` lengths take it. Every PSS structure is far below 4 GiB.
fn size_of_u32<T>() -> u32 {
    const { assert!(size_of::<T>() <= u32::MAX as usize) };
    size_of::<T>() as u32
}

fn marker_result(function: Function, code: u32) -> Result<()> {
    match code {
        sys::ERROR_SUCCESS => Ok(()),
        code => Err(Error::os(function, code)),
    }
}

/// The `HPSS` a creating call wrote, trusted only after `ERROR_SUCCESS` (what the call writes on
/// failure is not documented). A null handle reported as success is not documented either:
/// there is nothing to free, and it is reported as `ERROR_INVALID_HANDLE`.
fn created(function: Function, code: u32, snapshot: sys::HPSS) -> Result<RawSnapshot> {
    if code != sys::ERROR_SUCCESS {
        return Err(Error::os(function, code));
    }
    NonNull::new(snapshot).ok_or(Error::os(function, sys::ERROR_INVALID_HANDLE))
}
