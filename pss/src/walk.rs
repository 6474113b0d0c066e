//! Walks: a walk marker (`HPSSWALK`) owned for one (snapshot, class) walk, the zero-copy
//! iterator over its entries, and saved positions.

use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};

use pss_sys as sys;

use crate::alloc::Installed;
use crate::calls::{PssApi, RawMarker, RawSnapshot};
use crate::entry::Copies;
use crate::query::{Missing, THREADS_MISSING};
use crate::{
    Allocation, AuxiliaryPageEntry, CaptureFlags, Error, Function, HandleEntry, LocalSnapshot,
    ProcessHeap, Result, ThreadEntry, ThreadNameEntry, VaSpaceEntry, WalkAllocator,
};

/// One of the `PSS_WALK_*` information classes: [`ThreadClass`], [`HandleClass`],
/// [`VaSpaceClass`], [`AuxiliaryPageClass`], and [`ThreadNameClass`] (SDK 10.0.26100). Sealed.
///
/// A class fixes the entry structure `PssWalkSnapshot` fills, and the type of the items a
/// [`Walk`] yields, [`Entry`](Self::Entry).
///
/// See [`PSS_WALK_INFORMATION_CLASS`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_walk_information_class).
#[doc(alias = "PSS_WALK_INFORMATION_CLASS")]
pub trait WalkClass: sealed::Sealed + 'static {
    /// What the walk yields, borrowing the marker's memory for `'w`.
    type Entry<'w>: Clone;
}

mod sealed {
    use super::*;

    /// What a walk needs of its class; private, so that nothing outside `pss` can call it.
    pub trait Sealed {
        /// The entry structure `PssWalkSnapshot` fills: plain data (integers and pointers).
        type Raw: Copy + Default;
        /// The class value.
        const CLASS: sys::PSS_WALK_INFORMATION_CLASS;
        /// What `ERROR_NOT_FOUND` means for this class.
        const MISSING: Missing;
        /// An entry with a zeroed structure (NULL pointers, nothing to read), borrowing
        /// nothing.
        fn empty<'w>() -> <Self as WalkClass>::Entry<'w>
        where
            Self: WalkClass;
        /// The structure inside a borrowed entry, for `PssWalkSnapshot` to fill in place.
        ///
        /// # Safety
        ///
        /// What is written must be an entry `PssWalkSnapshot` filled for this class, whose
        /// pointers point to memory valid and unchanged for `'w`; `entry` keeps nothing of its
        /// own (it came from [`empty`](Self::empty)).
        unsafe fn raw_mut<'a, 'w>(
            entry: &'a mut <Self as WalkClass>::Entry<'w>,
        ) -> &'a mut Self::Raw
        where
            Self: WalkClass;
        /// True if every name pointer of `raw` is aligned for `u16` (or NULL): see
        /// [`yielded`](Self::yielded).
        fn names_aligned(raw: &Self::Raw) -> bool;
        /// The entry [`Iterator::next`] yields for a structure `PssWalkSnapshot` filled whose
        /// name pointers are aligned (or NULL), which the entry knows (see `Kept`).
        ///
        /// # Safety
        ///
        /// `raw` was filled by `PssWalkSnapshot` for this class, its pointers point to memory
        /// valid and unchanged for `'w`, and [`names_aligned`](Self::names_aligned) holds.
        unsafe fn yielded<'w>(raw: Self::Raw) -> <Self as WalkClass>::Entry<'w>
        where
            Self: WalkClass;
        /// Points each misaligned name pointer of the structure at `raw` to an aligned copy
        /// that `copies` keeps (see [`Copies`]), or to NULL where no accessor reads it, so that
        /// [`yielded`](Self::yielded) may take it. Cold, out of line; it may allocate. Reads and
        /// writes the structure through `raw` only.
        ///
        /// # Safety
        ///
        /// `raw` points to a structure `PssWalkSnapshot` filled for this class, valid for reads
        /// and writes, whose pointers point to memory valid and unchanged for `'w`, which
        /// `copies` outlives.
        unsafe fn align_names_at(raw: *mut Self::Raw, copies: &Copies);
    }

    macro_rules! class {
        ($class:ty, $entry:ident, $raw:ty, $value:expr, $missing:expr) => {
            impl Sealed for $class {
                type Raw = $raw;
                const CLASS: sys::PSS_WALK_INFORMATION_CLASS = $value;
                const MISSING: Missing = $missing;
                #[inline]
                fn empty<'w>() -> $entry<'w> {
                    // SAFETY: a zeroed structure has NULL pointers: nothing to read.
                    unsafe { $entry::from_raw(<$raw>::default()) }
                }
                #[inline]
                unsafe fn raw_mut<'a, 'w>(entry: &'a mut $entry<'w>) -> &'a mut $raw {
                    // SAFETY: forwarded from the caller.
                    unsafe { entry.raw_mut() }
                }
                #[inline(always)]
                fn names_aligned(raw: &$raw) -> bool {
                    $entry::names_aligned(raw)
                }
                #[inline(always)]
                unsafe fn yielded<'w>(raw: $raw) -> $entry<'w> {
                    // SAFETY: forwarded from the caller.
                    unsafe { $entry::yielded(raw) }
                }
                #[inline(always)]
                unsafe fn align_names_at(raw: *mut $raw, copies: &Copies) {
                    // SAFETY: forwarded from the caller.
                    unsafe { $entry::align_names_at(raw, copies) }
                }
            }
            impl WalkClass for $class {
                type Entry<'w> = $entry<'w>;
            }
        };
    }

    class!(
        ThreadClass,
        ThreadEntry,
        sys::PSS_THREAD_ENTRY,
        sys::PSS_WALK_THREADS,
        THREADS_MISSING
    );
    class!(
        HandleClass,
        HandleEntry,
        sys::PSS_HANDLE_ENTRY,
        sys::PSS_WALK_HANDLES,
        Missing::Flag(CaptureFlags::HANDLES)
    );
    class!(
        VaSpaceClass,
        VaSpaceEntry,
        sys::PSS_VA_SPACE_ENTRY,
        sys::PSS_WALK_VA_SPACE,
        Missing::Flag(CaptureFlags::VA_SPACE)
    );
    class!(
        AuxiliaryPageClass,
        AuxiliaryPageEntry,
        sys::PSS_AUXILIARY_PAGE_ENTRY,
        sys::PSS_WALK_AUXILIARY_PAGES,
        Missing::Flag(CaptureFlags::AUXILIARY_PAGES)
    );
    class!(
        ThreadNameClass,
        ThreadNameEntry,
        sys::PSS_THREAD_NAME,
        sys::PSS_WALK_THREAD_NAME,
        Missing::ThreadNames
    );
}

/// `PSS_WALK_THREADS`: threads, as [`ThreadEntry`]; captured with [`CaptureFlags::THREADS`].
///
/// Includes threads that have terminated but still have open handles (see
/// [`ThreadEntry::is_terminated`]). A snapshot of a process that had exited has no thread data
/// at all: its walk yields one [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND) (see
/// [`LocalSnapshot::thread_information`]).
#[doc(alias = "PSS_WALK_THREADS")]
#[derive(Debug)]
pub enum ThreadClass {}

/// `PSS_WALK_HANDLES`: handles, as [`HandleEntry`]; captured with [`CaptureFlags::HANDLES`].
#[doc(alias = "PSS_WALK_HANDLES")]
#[derive(Debug)]
pub enum HandleClass {}

/// `PSS_WALK_VA_SPACE`: address-space regions, as [`VaSpaceEntry`]; captured with
/// [`CaptureFlags::VA_SPACE`].
#[doc(alias = "PSS_WALK_VA_SPACE")]
#[derive(Debug)]
pub enum VaSpaceClass {}

/// `PSS_WALK_AUXILIARY_PAGES`: auxiliary pages, as [`AuxiliaryPageEntry`]; captured with
/// [`CaptureFlags::AUXILIARY_PAGES`] (reserved in Microsoft's pages, which name no flag for
/// them; see there).
#[doc(alias = "PSS_WALK_AUXILIARY_PAGES")]
#[derive(Debug)]
pub enum AuxiliaryPageClass {}

/// `PSS_WALK_THREAD_NAME` (4, SDK 10.0.26100): thread names, as [`ThreadNameEntry`], one per
/// captured thread in the order of the [`ThreadClass`] walk; captured with
/// [`CaptureFlags::THREADS`].
///
/// Microsoft's pages do not describe it. Windows 11 24H2's ntdll captures thread names, and its
/// kernel32 plausibly answers this class; every older kernel32 (and, in every build seen, ntdll
/// itself) answers `ERROR_INVALID_PARAMETER`, which the walk yields as
/// [`ErrorCode::INVALID_PARAMETER`](crate::ErrorCode::INVALID_PARAMETER) with an
/// [`Error::reason`](crate::Error::reason) saying this kernel32 does not know the class. Treat
/// that as "no names", not as a failure of the snapshot.
#[doc(alias = "PSS_WALK_THREAD_NAME")]
#[derive(Debug)]
pub enum ThreadNameClass {}

/// A walk over one class of a snapshot's multi-instance data: an owned walk marker
/// ([`PssWalkMarkerCreate`] .. [`PssWalkMarkerFree`]) used for exactly one (snapshot, class)
/// walk, borrowing the snapshot for `'s`.
///
/// Made by [`LocalSnapshot::threads`], [`handles`](LocalSnapshot::handles),
/// [`va_space`](LocalSnapshot::va_space), [`auxiliary_pages`](LocalSnapshot::auxiliary_pages),
/// or the generic [`walk`](LocalSnapshot::walk) and [`walk_with`](LocalSnapshot::walk_with)
/// (custom allocator `W`).
///
/// # Reading
///
/// [`iter`](Self::iter) (and a `for` loop over `&walk`) yields the entries from the first on:
/// exactly one `PssWalkSnapshot` call per entry, into a structure the walk keeps (no heap
/// allocation), and one more whose `ERROR_NO_MORE_ITEMS` ends it. A `for` loop yields a copy
/// of each entry, which costs nothing more where the loop's body is inlined (the copy is read
/// where kernel32 wrote it); [`Entries::next_ref`] lends the iterator's own structure instead,
/// and [`Entries::try_for_each_ref`] runs the whole loop, each at close to the cost of a raw
/// loop (see [`Entries`]). The first error ends it too, after being yielded: walking a class
/// that was not captured yields one [`ErrorKind::NotCaptured`](crate::ErrorKind::NotCaptured)
/// (or, for threads, `NotFound`; see [`ThreadClass`]), and no extra call is spent probing for
/// it up front.
///
/// The walk's marker is the cursor every iterator moves. [`iter`](Self::iter) and `for e in
/// &walk` start from the first entry every time, moving the marker back first (one
/// [`PssWalkMarkerSeekToBeginning`] call) when an earlier iterator or
/// [`set_position`](Self::set_position) moved it, so a second loop over the same walk sees every
/// entry again; on a fresh walk that costs nothing. [`resume`](Self::resume) continues where the
/// marker is instead: after [`set_position`](Self::set_position), or where a loop stopped early.
///
/// [`PssWalkMarkerSeekToBeginning`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerseektobeginning
///
/// # Lifetimes
///
/// Entries borrow the walk (`'w`), not the iterator: the documents guarantee their strings,
/// context records and page contents "for the lifetime of the walk marker", so entries stay
/// usable across later steps, rewinds and further iterators, until the walk is freed. The
/// compiler enforces it; `into_owned` on an entry copies what it borrows:
///
/// ```compile_fail,E0505
/// # use pss::{CaptureFlags, LocalSnapshot};
/// # fn f() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// let walk = snapshot.threads()?;
/// let first = walk.iter().next().unwrap()?;
/// drop(walk); // frees the marker, and with it the entry's memory
/// println!("{:?}", first.context_bytes()); // so the entry may not be used any more
/// # Ok(()) }
/// ```
///
/// And the walk cannot outlive its snapshot:
///
/// ```compile_fail,E0505
/// # use pss::{CaptureFlags, LocalSnapshot};
/// # fn f() -> pss::Result<()> {
/// let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS)?;
/// let walk = snapshot.threads()?;
/// drop(snapshot);
/// for thread in &walk {}
/// # Ok(()) }
/// ```
///
/// # Threads
///
/// A `Walk` is neither [`Send`] nor [`Sync`]. It borrows the snapshot, which is not `Sync`
/// (concurrent use of one snapshot is not documented), and it is the marker's cursor, which
/// every call moves. With a custom allocator there is a second reason: kernel32 calls the
/// allocator on the thread that uses the marker. To walk on another thread, send the
/// [`LocalSnapshot`] there and walk it there.
///
/// # Freeing
///
/// Dropping frees the marker and ignores a failure; [`close`](Self::close) reports it. Either
/// way the marker is never used again, and a custom allocator is dropped only after the marker
/// is freed (and leaked if the free failed, since the marker might still refer to it).
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, LocalSnapshot};
///
/// fn main() -> pss::Result<()> {
///     let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
///     let snapshot = LocalSnapshot::capture_current(flags)?;
///     let threads = snapshot.threads()?;
///     for thread in &threads {
///         let thread = thread?;
///         if thread.is_terminated() {
///             continue; // exited, but still referenced by a handle
///         }
///         let bytes = thread.context_bytes().map_or(0, <[u8]>::len);
///         println!("thread {}: {bytes} context bytes", thread.thread_id());
///     }
///     Ok(())
/// }
/// ```
///
/// [`PssWalkMarkerCreate`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkercreate
/// [`PssWalkMarkerFree`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerfree
#[doc(
    alias = "HPSSWALK",
    alias = "PssWalkMarkerCreate",
    alias = "PssWalkMarkerFree"
)]
#[doc(alias = "PssWalkSnapshot")]
pub struct Walk<'s, C: WalkClass, W = ProcessHeap> {
    api: PssApi,
    snapshot: RawSnapshot,
    marker: RawMarker,
    /// Distinguishes this walk's positions from every other walk's.
    id: u64,
    /// The custom allocator, if any; dropped after the marker is freed.
    allocator: Option<Installed<W>>,
    /// The marker may have left the beginning (an iterator ran, or a position was set), so
    /// [`iter`](Self::iter) must rewind it first.
    moved: Cell<bool>,
    /// Aligned copies of misaligned names, for the entries `for` loops yield (see [`Copies`]).
    copies: Copies,
    /// The structure [`Iterator::next`] has `PssWalkSnapshot` fill, shared by the walk's
    /// iterators: zeroed once, then holding the last entry, so no field is ever uninitialised
    /// whatever kernel32 leaves unwritten. Each `next` reads and writes it through a pointer
    /// only and yields a copy (see there), so no entry points into it. Outside the iterator,
    /// so that the iterator's own fields stay in registers across the kernel32 call: a pointer
    /// kernel32 gets may reach the whole object it points into, which is then reloaded from
    /// memory after every step.
    step: UnsafeCell<<C as sealed::Sealed>::Raw>,
    /// Borrows the snapshot; neither `Send` nor `Sync` (see "Threads").
    _snapshot: PhantomData<(&'s (), *const ())>,
    _class: PhantomData<C>,
}

/// A saved walk position: [`PssWalkMarkerGetPosition`]'s opaque value, tied to the walk it
/// came from.
///
/// Its only use is [`Walk::set_position`] on the same walk (a position from another walk is
/// refused with [`ErrorKind::ForeignPosition`](crate::ErrorKind::ForeignPosition) before
/// kernel32 is called). The documents say comparing positions has no meaning, so this type
/// implements no comparison.
///
/// [`PssWalkMarkerGetPosition`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkergetposition
#[doc(alias = "PssWalkMarkerGetPosition")]
#[derive(Debug, Clone, Copy)]
pub struct WalkPosition {
    raw: usize,
    walk: u64,
}

impl WalkPosition {
    /// The raw `ULONG_PTR` kernel32 returned (opaque).
    pub fn as_raw(&self) -> usize {
        self.raw
    }
}

impl<A: Allocation> LocalSnapshot<A> {
    /// [`PssWalkMarkerCreate`]`(NULL, ...)`: a walk of class `C` with a new marker that uses
    /// the process heap.
    ///
    /// Kernel32 calls: `PssWalkMarkerCreate` (then one `PssWalkSnapshot` per step, and
    /// `PssWalkMarkerFree` when the walk is dropped or closed).
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerCreate`]
    ///
    /// [`PssWalkMarkerCreate`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkercreate
    #[doc(alias = "PssWalkMarkerCreate")]
    pub fn walk<C: WalkClass>(&self) -> Result<Walk<'_, C>> {
        Walk::create(self.raw(), None)
    }

    /// [`PssWalkMarkerCreate`]`(allocator, ...)`: a walk of class `C` whose marker allocates
    /// through `allocator` (see [`WalkAllocator`]). The walk keeps the allocator, at a fixed
    /// address, until after the marker is freed; [`Walk::allocator`] borrows it.
    ///
    /// Fails with [`ErrorCode::NOT_ENOUGH_MEMORY`](crate::ErrorCode::NOT_ENOUGH_MEMORY) if the allocator
    /// fails at creation; the allocator is dropped then.
    ///
    /// Kernel32 calls: `PssWalkMarkerCreate`.
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerCreate`]
    ///
    /// [`PssWalkMarkerCreate`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkercreate
    #[doc(alias = "PssWalkMarkerCreate", alias = "PSS_ALLOCATOR")]
    pub fn walk_with<C: WalkClass, W: WalkAllocator>(
        &self,
        allocator: W,
    ) -> Result<Walk<'_, C, W>> {
        Walk::create(self.raw(), Some(Installed::new(allocator)))
    }

    /// `PSS_WALK_THREADS`: a walk over the captured threads ([`ThreadEntry`]), as
    /// [`walk`](Self::walk).
    ///
    /// Snapshots captured with [`CaptureFlags::THREADS`] include threads that have
    /// terminated but still have open handles; [`ThreadEntry::is_terminated`] tells them
    /// apart.
    #[doc(alias = "PSS_WALK_THREADS", alias = "PSS_THREAD_ENTRY")]
    pub fn threads(&self) -> Result<Walk<'_, ThreadClass>> {
        self.walk()
    }

    /// `PSS_WALK_THREAD_NAME`: a walk over the captured threads' names ([`ThreadNameEntry`]),
    /// in thread order, as [`walk`](Self::walk); on a kernel32 that does not know the class
    /// (before Windows 11 24H2) its first item is an `ERROR_INVALID_PARAMETER` saying so (see
    /// [`ThreadNameClass`]).
    #[doc(alias = "PSS_WALK_THREAD_NAME", alias = "PSS_THREAD_NAME")]
    pub fn thread_names(&self) -> Result<Walk<'_, ThreadNameClass>> {
        self.walk()
    }

    /// `PSS_WALK_HANDLES`: a walk over the captured handles ([`HandleEntry`]), as
    /// [`walk`](Self::walk).
    #[doc(alias = "PSS_WALK_HANDLES", alias = "PSS_HANDLE_ENTRY")]
    pub fn handles(&self) -> Result<Walk<'_, HandleClass>> {
        self.walk()
    }

    /// `PSS_WALK_VA_SPACE`: a walk over the captured address-space regions
    /// ([`VaSpaceEntry`]), as [`walk`](Self::walk).
    #[doc(alias = "PSS_WALK_VA_SPACE", alias = "PSS_VA_SPACE_ENTRY")]
    pub fn va_space(&self) -> Result<Walk<'_, VaSpaceClass>> {
        self.walk()
    }

    /// `PSS_WALK_AUXILIARY_PAGES`: a walk over the captured auxiliary pages
    /// ([`AuxiliaryPageEntry`]), as [`walk`](Self::walk).
    #[doc(alias = "PSS_WALK_AUXILIARY_PAGES", alias = "PSS_AUXILIARY_PAGE_ENTRY")]
    pub fn auxiliary_pages(&self) -> Result<Walk<'_, AuxiliaryPageClass>> {
        self.walk()
    }
}

impl<'s, C: WalkClass, W> Walk<'s, C, W> {
    fn create(snapshot: RawSnapshot, allocator: Option<Installed<W>>) -> Result<Self> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let api = PssApi::get(Function::PssWalkMarkerCreate)?;
        let pss_allocator = allocator
            .as_ref()
            .map_or(core::ptr::null(), Installed::as_pss_allocator);
        // SAFETY: NULL, or the installed allocator, which the walk keeps alive and in place
        // until after the marker is freed (dropped here on failure, when no marker exists).
        let marker = unsafe { api.marker_create(pss_allocator) }?;
        Ok(Walk {
            api,
            snapshot,
            marker,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            allocator,
            moved: Cell::new(false),
            copies: Copies::default(),
            step: UnsafeCell::new(Default::default()),
            _snapshot: PhantomData,
            _class: PhantomData,
        })
    }

    /// The entries from the first on; see "Reading" above. If the marker has moved (an
    /// earlier iterator, [`set_position`](Self::set_position)), it is rewound first, with one
    /// [`PssWalkMarkerSeekToBeginning`] call (a failure of it is the iterator's one item); on a
    /// fresh walk nothing is called. [`resume`](Self::resume) continues from the marker instead.
    ///
    /// Each step is one [`PssWalkSnapshot`] call with the class's entry structure (exact
    /// size), zeroed once and reused as a raw loop does (the walk's, of which
    /// [`Iterator::next`] yields a copy, or the iterator's own, which [`Entries::next_ref`]
    /// lends): no heap allocation per entry, and nothing decoded until an accessor asks.
    /// `Some(Ok(entry))` on `ERROR_SUCCESS`; `None` on `ERROR_NO_MORE_ITEMS`; on any other
    /// code, `Some(Err(..))` once (`ERROR_NOT_FOUND` as
    /// [`NotCaptured`](crate::ErrorKind::NotCaptured) where the capture flag is the only cause,
    /// else as `NotFound` with the causes in [`Error::reason`]), then `None`.
    ///
    /// # References
    ///
    /// - [`PssWalkSnapshot`]
    /// - [`PssWalkMarkerSeekToBeginning`]
    ///
    /// [`PssWalkSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot
    /// [`PssWalkMarkerSeekToBeginning`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerseektobeginning
    #[doc(alias = "PssWalkSnapshot")]
    pub fn iter(&self) -> Entries<'_, C> {
        let failed = if self.moved.get() {
            self.rewind().err()
        } else {
            None
        };
        self.entries(failed)
    }

    /// The entries from the marker's current position on: where an earlier iterator stopped,
    /// or where [`set_position`](Self::set_position) put it (after the end, none). Otherwise
    /// as [`iter`](Self::iter), without its rewind.
    ///
    /// # References
    ///
    /// - [`PssWalkSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot)
    #[doc(alias = "PssWalkSnapshot")]
    pub fn resume(&self) -> Entries<'_, C> {
        self.entries(None)
    }

    /// An iterator from the marker's position, or one that yields `failed` and ends.
    fn entries(&self, failed: Option<Error>) -> Entries<'_, C> {
        self.moved.set(true);
        Entries {
            api: self.api,
            snapshot: self.snapshot,
            marker: self.marker,
            done: failed.is_some(),
            failed,
            copies: &self.copies,
            step: &self.step,
            entry: ManuallyDrop::new(C::empty()),
            _walk: PhantomData,
        }
    }

    /// [`PssWalkMarkerGetPosition`]: the marker's position, to return to with
    /// [`set_position`](Self::set_position) on this walk.
    ///
    /// Kernel32 calls: `PssWalkMarkerGetPosition`.
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerGetPosition`]
    ///
    /// [`PssWalkMarkerGetPosition`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkergetposition
    #[doc(alias = "PssWalkMarkerGetPosition")]
    pub fn position(&self) -> Result<WalkPosition> {
        // SAFETY: the marker is live (owned by `self`), and the walk is not `Sync`.
        let raw = unsafe { self.api.marker_position(self.marker) }?;
        Ok(WalkPosition { raw, walk: self.id })
    }

    /// [`PssWalkMarkerSetPosition`]: moves the marker back (or forth) to a position saved on
    /// this walk; the next step yields the entry that followed it.
    ///
    /// A position saved on another walk fails with
    /// [`ForeignPosition`](crate::ErrorKind::ForeignPosition) without calling kernel32 (the
    /// documents allow only positions from the same marker and say nothing of others). The
    /// page announces error codes and lists none: any code is reported.
    ///
    /// Entries already yielded stay valid (they live as long as the marker).
    ///
    /// Kernel32 calls: `PssWalkMarkerSetPosition` (none for a foreign position).
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerSetPosition`]
    ///
    /// [`PssWalkMarkerSetPosition`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkersetposition
    #[doc(alias = "PssWalkMarkerSetPosition")]
    pub fn set_position(&self, position: WalkPosition) -> Result<()> {
        if position.walk != self.id {
            return Err(Error::foreign_position());
        }
        self.moved.set(true);
        // SAFETY: the marker is live and not shared across threads; the position came from
        // `PssWalkMarkerGetPosition` on this very marker (same walk id).
        unsafe { self.api.marker_set_position(self.marker, position.raw) }
    }

    /// [`PssWalkMarkerSeekToBeginning`]: moves the marker back to where a new marker starts.
    /// Entries already yielded stay valid.
    ///
    /// Kernel32 calls: `PssWalkMarkerSeekToBeginning`.
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerSeekToBeginning`]
    ///
    /// [`PssWalkMarkerSeekToBeginning`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerseektobeginning
    #[doc(alias = "PssWalkMarkerSeekToBeginning")]
    pub fn rewind(&self) -> Result<()> {
        // SAFETY: the marker is live (owned by `self`), and the walk is not `Sync`.
        unsafe { self.api.marker_rewind(self.marker) }?;
        self.moved.set(false);
        Ok(())
    }

    /// The custom allocator the marker uses, or `None` for the process heap.
    pub fn allocator(&self) -> Option<&W> {
        self.allocator.as_ref().map(Installed::allocator)
    }

    /// The raw marker handle, still owned by the walk: valid until the walk is freed.
    #[doc(alias = "HPSSWALK")]
    pub fn as_raw(&self) -> sys::HPSSWALK {
        self.marker.as_ptr()
    }

    /// [`PssWalkMarkerFree`]: frees the marker (every entry's memory with it) and reports the
    /// result, which dropping cannot. No failure is documented. The marker is never used
    /// again either way.
    ///
    /// Kernel32 calls: `PssWalkMarkerFree`.
    ///
    /// # References
    ///
    /// - [`PssWalkMarkerFree`]
    ///
    /// [`PssWalkMarkerFree`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerfree
    #[doc(alias = "PssWalkMarkerFree")]
    pub fn close(self) -> Result<()> {
        let mut this = core::mem::ManuallyDrop::new(self);
        this.free()
    }

    /// Frees the marker once, then the allocator (leaked if the free failed), and the copies
    /// of misaligned names (which `close` would otherwise never drop).
    fn free(&mut self) -> Result<()> {
        // SAFETY: the marker is owned by the walk and never used again (callers: `close`,
        // which consumed the walk, and `drop`); no entry outlives the walk.
        let result = unsafe { self.api.marker_free(self.marker) };
        match (&result, self.allocator.take()) {
            (Ok(()), allocator) => drop(allocator),
            (Err(_), allocator) => core::mem::forget(allocator),
        }
        drop(core::mem::take(&mut self.copies));
        result
    }
}

impl<C: WalkClass, W> Drop for Walk<'_, C, W> {
    /// Frees the marker as [`close`](Self::close) does, ignoring failure. Never panics.
    fn drop(&mut self) {
        let _ = self.free();
    }
}

impl<C: WalkClass, W> fmt::Debug for Walk<'_, C, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walk")
            .field("class", &core::any::type_name::<C>())
            .field("marker", &self.marker)
            .field("custom_allocator", &self.allocator.is_some())
            .finish_non_exhaustive()
    }
}

impl<'w, C: WalkClass, W> IntoIterator for &'w Walk<'_, C, W> {
    type Item = Result<C::Entry<'w>>;
    type IntoIter = Entries<'w, C>;

    fn into_iter(self) -> Entries<'w, C> {
        self.iter()
    }
}

/// The iterator of [`Walk::iter`]: one `PssWalkSnapshot` call per step, items borrowing the
/// walk (`'w`), fused after the end or the first error.
///
/// # Stepping
///
/// Each step has kernel32 fill an entry structure that is zeroed once and then reused, as a
/// raw `PssWalkSnapshot` loop does. [`Iterator::next`] fills one the walk keeps and yields a
/// copy of it, as an iterator must: where the loop's body is inlined, the copy is read where
/// kernel32 wrote it and costs nothing more, and where the entry is passed by reference to
/// code that is not inlined, the copy of the structure (100 to 140 bytes) is the extra cost.
/// [`next_ref`](Self::next_ref) lends the iterator's own structure instead, and
/// [`try_for_each_ref`](Self::try_for_each_ref) runs the whole loop in registers. `cargo xtask
/// bench` measures all three against a raw loop (see the README's "Performance"):
///
/// ```no_run,standalone_crate
/// use pss::{CaptureFlags, LocalSnapshot};
///
/// fn main() -> pss::Result<()> {
///     let snapshot = LocalSnapshot::capture_current(CaptureFlags::HANDLES)?;
///     let walk = snapshot.handles()?;
///     let mut entries = walk.iter();
///     let mut files = 0;
///     while let Some(handle) = entries.next_ref() {
///         if handle?.type_name().is_some_and(|name| name == "File") {
///             files += 1;
///         }
///     }
///     println!("{files} file handles");
///     Ok(())
/// }
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Entries<'w, C: WalkClass> {
    api: PssApi,
    snapshot: RawSnapshot,
    marker: RawMarker,
    done: bool,
    /// The rewind [`Walk::iter`] could not make: yielded once, instead of any entry.
    failed: Option<Error>,
    /// The walk's copies of misaligned names (see [`Copies`]).
    copies: &'w Copies,
    /// The walk's structure for [`Iterator::next`] (see [`Walk`]'s `step`).
    step: &'w UnsafeCell<<C as sealed::Sealed>::Raw>,
    /// The entry [`next_ref`](Self::next_ref) has kernel32 fill in place and lends: zeroed
    /// once, then holding the previous entry, so no field is ever uninitialised whatever
    /// kernel32 leaves unwritten. It keeps nothing of its own; its pointers point into the
    /// marker's memory. (Kernel32 getting its address, the whole iterator is then reloaded
    /// from memory after each step: `Iterator::next` uses the walk's `step` instead.)
    ///
    /// Never dropped: it keeps nothing to drop (filling it writes only the structure), and no
    /// drop code then follows a loop over the walk.
    entry: ManuallyDrop<C::Entry<'w>>,
    _walk: PhantomData<&'w ()>,
}

impl<'w, C: WalkClass> Entries<'w, C> {
    /// The next entry, lent until the next step: `Some(Ok(entry))`, `None` at the end, and
    /// `Some(Err(..))` once on an error, exactly as [`Iterator::next`] yields them, but without
    /// copying the entry out of the iterator. [`Clone`] it to keep it (a copy of the structure
    /// that still borrows the walk for `'w`; nothing is allocated).
    ///
    /// Kernel32 calls: one `PssWalkSnapshot` (none once the iterator has ended).
    ///
    /// # References
    ///
    /// - [`PssWalkSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot)
    #[doc(alias = "PssWalkSnapshot")]
    #[inline]
    pub fn next_ref(&mut self) -> Option<Result<&C::Entry<'w>>> {
        if self.done {
            return self.failed.take().map(Err);
        }
        // SAFETY: the structure is filled only by the `PssWalkSnapshot` call below, for this
        // class, and read (through the entry) only after it succeeded; its pointers then point
        // into the marker's memory, valid "for the lifetime of the walk marker", which the
        // borrow `'w` of the walk keeps alive, and which kernel32 does not change once
        // returned. `self.entry` came from `empty` and keeps nothing.
        let raw = unsafe { C::raw_mut(&mut self.entry) };
        // SAFETY: the snapshot outlives the walk, which outlives `'w` and owns the marker, used
        // only for this (snapshot, class) walk; neither is shared across threads; `raw` is the
        // class's entry structure.
        let step = unsafe { self.api.walk(self.snapshot, C::CLASS, self.marker, raw) };
        match step {
            Ok(true) => Some(Ok(&*self.entry)),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(C::MISSING.explain(error)))
            }
        }
    }
}

impl<'w, C: WalkClass> Entries<'w, C> {
    /// Calls `f` with each remaining entry, lent for the call, until the end (`Ok(())`), the
    /// first error of the walk (converted into `E`, the iterator then ended) or of `f`
    /// (returned as it is; the iterator continues after that entry if used again). The fastest
    /// way through a walk: the loop holds everything in registers and checks once, not per
    /// entry, that it is not running inside an allocator callback.
    ///
    /// Kernel32 calls: one `PssWalkSnapshot` per entry, and one that ends the walk.
    ///
    /// # References
    ///
    /// - [`PssWalkSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot)
    #[doc(alias = "PssWalkSnapshot")]
    #[inline]
    pub fn try_for_each_ref<E: From<Error>>(
        &mut self,
        mut f: impl FnMut(&C::Entry<'w>) -> core::result::Result<(), E>,
    ) -> core::result::Result<(), E> {
        if self.done {
            return self.failed.take().map_or(Ok(()), |error| Err(error.into()));
        }
        let walking = match self.api.walking() {
            Ok(walking) => walking,
            Err(error) => {
                self.done = true;
                return Err(error.into());
            }
        };
        // Never dropped, as `Entries::entry`.
        let mut entry = ManuallyDrop::new(C::empty());
        loop {
            // SAFETY: as in `next_ref`, for this local entry.
            let raw = unsafe { C::raw_mut(&mut entry) };
            // SAFETY: as in `next_ref`.
            let step = unsafe { walking.walk(self.snapshot, C::CLASS, self.marker, raw) };
            match step {
                Ok(true) => f(&entry)?,
                Ok(false) => {
                    self.done = true;
                    return Ok(());
                }
                Err(error) => {
                    self.done = true;
                    return Err(C::MISSING.explain(error).into());
                }
            }
        }
    }
}

impl<'w, C: WalkClass> Iterator for Entries<'w, C> {
    type Item = Result<C::Entry<'w>>;

    /// The next entry: a copy of the structure kernel32 filled (see "Stepping" above, and
    /// [`next_ref`](Self::next_ref)).
    ///
    /// Where kernel32 gives a name pointer that is not 2-byte aligned (never seen from
    /// Windows; not excluded by the documents), the copy points to an aligned copy of the name
    /// instead, which the walk keeps until it is freed (one per name however often it is
    /// walked; the one case that allocates), so that the copy's name accessors borrow without
    /// testing alignment; a misaligned name pointer whose flag is not set is NULL in the copy.
    /// Entries lent by [`next_ref`](Self::next_ref) and
    /// [`try_for_each_ref`](Self::try_for_each_ref) keep kernel32's pointers, and their name
    /// accessors copy such a name (an owned [`WideStr`](crate::WideStr)) when asked.
    // Always inlined: the entry costs nothing to yield only where the loop reads it (its
    // fields are read where kernel32 wrote them, and the compiler sees the entry's names are
    // aligned; see `Kept`), and the step with its error paths is over the size the inliner
    // takes on its own.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return self.failed.take().map(Err);
        }
        // Refused inside an allocator callback, before the walk's structure is touched: the
        // callback may run inside another `next` of this walk, which is filling it.
        let walking = match self.api.walking() {
            Ok(walking) => walking,
            Err(error) => {
                self.done = true;
                return Some(Err(C::MISSING.explain(error)));
            }
        };
        // The walk's structure, shared by its iterators, is accessed through this pointer only,
        // never through a reference, and only within this call: no access claims it beyond one
        // read or write, and no entry yielded points into it.
        let out = self.step.get();
        // SAFETY: the snapshot outlives the walk, which outlives `'w` and owns the marker, used
        // only for this (snapshot, class) walk; neither is shared across threads (the walk is
        // not `Sync`); `out` points to the class's entry structure, in an `UnsafeCell` of the
        // walk (which `'w` borrows), writable and aligned.
        let step = unsafe { walking.walk(self.snapshot, C::CLASS, self.marker, out) };
        match step {
            Ok(true) => {
                // `*out` was filled by `PssWalkSnapshot` for this class just now: its pointers
                // point into the marker's memory, valid and unchanged "for the lifetime of the
                // walk marker", which the borrow `'w` of the walk keeps alive, as it does the
                // walk's `copies`. No code runs between that call and the reads below, but for
                // `align_names_at`, which may allocate (and an allocator may run any code, even
                // another `next` of this walk, refilling the structure): it holds no reference
                // across that, and writes back the whole structure it read, names aligned.
                //
                // SAFETY: see above; the shared reference lives for the test only.
                if !C::names_aligned(unsafe { &*out }) {
                    // SAFETY: see above; `out` is valid for reads and writes.
                    unsafe { C::align_names_at(out, self.copies) };
                }
                // SAFETY: see above; every name pointer is aligned or NULL now.
                Some(Ok(unsafe { C::yielded(out.read()) }))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(C::MISSING.explain(error)))
            }
        }
    }
}

impl<C: WalkClass> FusedIterator for Entries<'_, C> {}

impl<C: WalkClass> fmt::Debug for Entries<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("class", &core::any::type_name::<C>())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

static_assertions::assert_not_impl_any!(Walk<'static, ThreadClass>: Send, Sync);
// A custom allocator is called on the thread that created the walk (documented): never Send.
static_assertions::assert_not_impl_any!(Walk<'static, ThreadClass, &'static dyn WalkAllocator>: Send, Sync);
static_assertions::assert_not_impl_any!(Entries<'static, ThreadClass>: Send, Sync);
static_assertions::assert_impl_all!(WalkPosition: Send, Sync, Copy);
