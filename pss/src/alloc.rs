//! Custom walk-marker allocators: the safe [`WalkAllocator`] trait and the `PSS_ALLOCATOR`
//! trampolines that call it without ever unwinding into kernel32.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use std::panic::{AssertUnwindSafe, catch_unwind};

use pss_sys as sys;

use crate::calls::AllocatorCallback;

/// The alignment every block a [`WalkAllocator`] returns must have: 16 bytes.
///
/// kernel32 stores entry data (pointers, `CONTEXT` records) in these blocks; the documents do
/// not state an alignment, so `pss` asks for `MEMORY_ALLOCATION_ALIGNMENT` of 64-bit Windows
/// (what `HeapAlloc` gives there), on every target. The `pss-tests` model checks it too.
pub const WALK_ALLOCATION_ALIGNMENT: usize = 16;

/// Where a walk marker allocates its internal structures and entry data: a safe Rust interface
/// to [`PSS_ALLOCATOR`], for [`LocalSnapshot::walk_with`](crate::LocalSnapshot::walk_with).
///
/// Without one, markers use the process heap ([`ProcessHeap`]). A custom allocator lets a
/// marker avoid that heap, e.g. on a crash path where it may be corrupt, or count and bound
/// what a walk uses.
///
/// # The contract, and why it is a safe trait
///
/// kernel32 writes into every block [`allocate`](Self::allocate) returns. The method therefore
/// returns the block as `&mut [MaybeUninit<u8>]` borrowed from the allocator: safe code can
/// only produce such a slice for memory that really is writable, unaliased and alive as long
/// as the allocator is borrowed, so a safe implementation cannot hand kernel32 a bad pointer.
/// `pss` keeps the allocator alive, at a fixed address and never mutably borrowed, from
/// marker creation until after `PssWalkMarkerFree` (the documents require it to "remain valid
/// for the lifetime of the walk marker").
///
/// Each block is asked for [`WALK_ALLOCATION_ALIGNMENT`] (16) bytes larger than kernel32's
/// request: `pss` keeps the block's length in that prefix, so that
/// [`deallocate`](Self::deallocate) receives exactly the slice `allocate` returned (address,
/// length, and the pointer's provenance), and needs no header or table of its own. A block is
/// refused (handed straight back to `deallocate`, and kernel32 told the allocation failed)
/// when it is shorter than asked or not aligned to [`WALK_ALLOCATION_ALIGNMENT`].
///
/// # Calls
///
/// kernel32 calls the routines on the thread that creates, walks or frees the marker, "and
/// therefore need not be multi-threaded": the trait does not require `Sync`, and a
/// [`Walk`](crate::Walk) with a custom allocator is not [`Send`]. Which calls happen when is
/// not documented (the `pss-tests` model: one allocation at creation, one per entry that has
/// variable-length data, all freed by `PssWalkMarkerFree`, which also frees NULL once; `pss`
/// does not pass NULL on to [`deallocate`](Self::deallocate)).
///
/// # Re-entrancy
///
/// The callbacks run in the middle of a PSS call. A PSS call made from inside them (for
/// example through a snapshot or walk the allocator holds a reference to) is refused with
/// [`ErrorKind::Reentrant`](crate::ErrorKind::Reentrant) instead of reaching kernel32; a
/// snapshot or walk dropped there is leaked, not freed.
///
/// # Panics
///
/// A panic must not unwind into kernel32. A panic in [`allocate`](Self::allocate) is caught
/// and reported to kernel32 as a failed allocation (NULL, which it turns into
/// `ERROR_NOT_ENOUGH_MEMORY`); its payload is dropped there and then, still inside the callback,
/// so a PSS call from the payload's `Drop` (say, a payload owning a snapshot) is refused as
/// above and leaks what it would have freed; a payload whose own drop panics is leaked. A panic
/// in [`deallocate`](Self::deallocate) aborts the process, since kernel32 has no way to hear
/// that a free failed; its payload is not dropped.
///
/// ```no_run,standalone_crate
/// use std::alloc::{Layout, alloc, dealloc};
/// use std::mem::MaybeUninit;
/// use std::ptr::NonNull;
///
/// /// Blocks from the global allocator (which `pss` otherwise never uses for markers).
/// struct Global;
///
/// impl pss::WalkAllocator for Global {
///     fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
///         let layout = Layout::from_size_align(size.max(1), 16).ok()?;
///         // SAFETY: a non-zero size; the block is ours until `deallocate`.
///         let block = NonNull::new(unsafe { alloc(layout) })?;
///         // SAFETY: `layout.size()` writable bytes, unaliased, alive until deallocated.
///         Some(unsafe { std::slice::from_raw_parts_mut(block.as_ptr().cast(), layout.size()) })
///     }
///
///     unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
///         let layout = Layout::from_size_align(block.len(), 16).unwrap();
///         // SAFETY: exactly the block `allocate` made with this layout (the caller).
///         unsafe { dealloc(block.as_ptr().cast(), layout) }
///     }
/// }
///
/// # fn main() {}
/// ```
///
/// [`PSS_ALLOCATOR`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_allocator
#[doc(alias = "PSS_ALLOCATOR", alias = "AllocRoutine", alias = "FreeRoutine")]
pub trait WalkAllocator {
    /// `PSS_ALLOCATOR.AllocRoutine`: a block of at least `size` bytes aligned to
    /// [`WALK_ALLOCATION_ALIGNMENT`], or `None` if there is no memory.
    #[allow(clippy::mut_from_ref)] // a fresh block per call, owned by kernel32 until freed
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]>;

    /// `PSS_ALLOCATOR.FreeRoutine`: releases a block. Never called with NULL.
    ///
    /// # Safety
    ///
    /// `block` is exactly a slice that [`allocate`](Self::allocate) returned on this
    /// allocator (same address, length and provenance), not yet deallocated; nothing uses it
    /// afterwards.
    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>);
}

impl<T: WalkAllocator + ?Sized> WalkAllocator for &T {
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        (**self).allocate(size)
    }

    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
        // SAFETY: forwarded unchanged; the caller's promise is about the same allocator.
        unsafe { (**self).deallocate(block) }
    }
}

/// The default: no `PSS_ALLOCATOR` (NULL), so the marker uses the process heap.
///
/// The type parameter of a [`Walk`](crate::Walk) made by
/// [`LocalSnapshot::walk`](crate::LocalSnapshot::walk) and the convenience walks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessHeap;

/// `PSS_ALLOCATOR` as C declares it, with real function pointers. The metadata types the two
/// routines as `isize`; this mirror has the same layout (asserted below), so the routines are
/// stored as function pointers in place and never pass through an integer.
#[repr(C)]
struct AllocatorAbi {
    context: *mut c_void,
    alloc: unsafe extern "system" fn(*mut c_void, u32) -> *mut c_void,
    free: unsafe extern "system" fn(*mut c_void, *mut c_void),
}

static_assertions::assert_eq_size!(AllocatorAbi, sys::PSS_ALLOCATOR);
static_assertions::assert_eq_align!(AllocatorAbi, sys::PSS_ALLOCATOR);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(AllocatorAbi, context),
    core::mem::offset_of!(sys::PSS_ALLOCATOR, Context)
);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(AllocatorAbi, alloc),
    core::mem::offset_of!(sys::PSS_ALLOCATOR, AllocRoutine)
);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(AllocatorAbi, free),
    core::mem::offset_of!(sys::PSS_ALLOCATOR, FreeRoutine)
);

/// An allocator installed for one marker: the `PSS_ALLOCATOR` kernel32 reads, and the Rust
/// allocator its context points to. Lives on the heap, reached only through the raw pointer
/// in [`Installed`], so its address never changes and no unique borrow of it exists while the
/// marker may call it.
struct Block<W> {
    abi: AllocatorAbi,
    allocator: W,
}

/// Owner of an installed allocator (a `Box` turned into a raw pointer, so that moving the
/// owner does not assert uniqueness over memory kernel32 is holding on to).
pub(crate) struct Installed<W> {
    block: NonNull<Block<W>>,
    /// Routines run on the creating thread: never `Send` (nor `Sync`).
    _thread_bound: PhantomData<*mut W>,
}

impl<W: WalkAllocator> Installed<W> {
    /// Moves `allocator` to the heap behind a `PSS_ALLOCATOR` whose context points to it.
    pub(crate) fn new(allocator: W) -> Self {
        let block = Box::into_raw(Box::new(Block {
            abi: AllocatorAbi {
                context: ptr::null_mut(),
                alloc: alloc_routine::<W>,
                free: free_routine::<W>,
            },
            allocator,
        }));
        // SAFETY: `block` is a valid, uniquely owned allocation; the context is set once,
        // before anything can read it, to the block itself (the routines find the allocator
        // from there).
        unsafe { (*block).abi.context = block.cast() };
        Installed {
            // SAFETY: `Box::into_raw` never returns null.
            block: unsafe { NonNull::new_unchecked(block) },
            _thread_bound: PhantomData,
        }
    }
}

impl<W> Installed<W> {
    /// The `PSS_ALLOCATOR` to pass to `PssWalkMarkerCreate`, valid until `self` is dropped.
    pub(crate) fn as_pss_allocator(&self) -> *const sys::PSS_ALLOCATOR {
        // SAFETY: the block is live while `self` is; `abi` has `PSS_ALLOCATOR`'s layout.
        unsafe { &raw const (*self.block.as_ptr()).abi }.cast()
    }

    /// The allocator.
    pub(crate) fn allocator(&self) -> &W {
        // SAFETY: the block is live while `self` is, and only ever borrowed shared.
        unsafe { &(*self.block.as_ptr()).allocator }
    }
}

impl<W> Drop for Installed<W> {
    /// Frees the block. Only after the marker is freed (the walk sees to it).
    fn drop(&mut self) {
        // SAFETY: the block came from `Box::into_raw` and is released once, here.
        drop(unsafe { Box::from_raw(self.block.as_ptr()) });
    }
}

/// Bytes `pss` puts before what kernel32 gets: the length of the caller's block, kept so
/// that `deallocate` gets the whole slice back. A multiple of the alignment, so kernel32's part
/// stays aligned.
const PREFIX: usize = WALK_ALLOCATION_ALIGNMENT;

/// `AllocRoutine`: calls `W::allocate` for `PREFIX + size` bytes, records the block's length
/// in the prefix and returns what follows it; NULL for no memory, a panic, or a block that is
/// too short or misaligned (which goes straight back to `W::deallocate`).
///
/// # Safety
///
/// `context` is the `Block<W>` of a live [`Installed<W>`].
unsafe extern "system" fn alloc_routine<W: WalkAllocator>(
    context: *mut c_void,
    size: u32,
) -> *mut c_void {
    // SAFETY: the caller (kernel32, passing back our context) vouches for the block; it is
    // only ever borrowed shared.
    let allocator = unsafe { &(*context.cast::<Block<W>>()).allocator };
    let Some(wanted) = usize::try_from(size)
        .ok()
        .and_then(|size| size.checked_add(PREFIX))
    else {
        return ptr::null_mut();
    };
    // The guard covers the call and, if it panics, the payload's drop too: a payload may own
    // anything, a snapshot included, whose drop must not reach kernel32 from inside its call.
    let callback = AllocatorCallback::enter();
    let block = match catch_unwind(AssertUnwindSafe(|| {
        allocator.allocate(wanted).map(NonNull::from)
    })) {
        Ok(Some(block)) => block,
        Ok(None) => return ptr::null_mut(),
        Err(payload) => {
            drop_payload(payload);
            return ptr::null_mut();
        }
    };
    drop(callback);
    let start = block.cast::<u8>();
    if block.len() < wanted || start.as_ptr().addr() % WALK_ALLOCATION_ALIGNMENT != 0 {
        // SAFETY: exactly the slice `allocate` returned, never handed out.
        free_or_abort(|| unsafe { allocator.deallocate(block) });
        return ptr::null_mut();
    }
    // SAFETY: the block is at least `PREFIX + size` writable bytes, aligned for `usize`;
    // kernel32 gets the part after the prefix, derived from the same pointer.
    unsafe {
        start.cast::<usize>().write(block.len());
        start.add(PREFIX).as_ptr().cast()
    }
}

/// `FreeRoutine`: rebuilds the block from its prefix and calls `W::deallocate`; NULL is
/// accepted and ignored (documented: it must be). A panic aborts.
///
/// # Safety
///
/// `context` is the `Block<W>` of a live [`Installed<W>`]; `address` is NULL or a pointer
/// `alloc_routine` returned on it, freed once.
unsafe extern "system" fn free_routine<W: WalkAllocator>(
    context: *mut c_void,
    address: *mut c_void,
) {
    let Some(address) = NonNull::new(address.cast::<u8>()) else {
        return;
    };
    // SAFETY: as in `alloc_routine`.
    let allocator = unsafe { &(*context.cast::<Block<W>>()).allocator };
    // SAFETY: `address` is `PREFIX` bytes into a block `alloc_routine` prepared (the caller),
    // derived from the block's own pointer; the prefix holds the block's length.
    let block = unsafe {
        let start = address.sub(PREFIX);
        let len = start.cast::<usize>().read();
        NonNull::slice_from_raw_parts(start.cast::<MaybeUninit<u8>>(), len)
    };
    // SAFETY: exactly the slice `allocate` returned; kernel32 frees each block once.
    free_or_abort(|| unsafe { allocator.deallocate(block) });
}

/// Runs a deallocation; a panic in it aborts the process rather than unwind into kernel32.
fn free_or_abort(free: impl FnOnce()) {
    let _callback = AllocatorCallback::enter();
    if let Err(payload) = catch_unwind(AssertUnwindSafe(free)) {
        // Never dropped: whatever it owns must not run in the middle of kernel32's call, and the
        // process ends here anyway.
        core::mem::forget(payload);
        std::process::abort();
    }
}

/// Drops the payload of a panic caught in an allocator callback while the callback guard is
/// still held (the caller's), so that a PSS call from its `Drop` (a payload owning a snapshot
/// frees it) is refused as [`Reentrant`](crate::ErrorKind::Reentrant) instead of re-entering
/// kernel32. A payload whose drop panics again is forgotten (leaked): nothing may unwind into
/// kernel32.
#[cold]
fn drop_payload(payload: Box<dyn core::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(again);
    }
}
