//! `pss::WalkAllocator`: used for the marker's own structure only (never per entry), balanced
//! by `PssWalkMarkerFree`, failures and panics turned into `ERROR_NOT_ENOUGH_MEMORY`, bad blocks
//! refused and handed back, a panic while freeing aborting instead of unwinding into kernel32,
//! PSS calls from callbacks refused and other kernel32 calls served (PSS-CONTRACT.md 3.6, 3.7,
//! 6). Runs against real kernel32 too; exact call counts are the model's.

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use pss::{
    CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, Process, ProcessAccess,
    RemoteSnapshot, VaClone, VaSpaceClass, WalkAllocator,
};
use pss_tests::*;

/// What the test allocator does on the next `allocate`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Serve,
    Fail,
    Panic,
    /// A block one byte past 16-byte alignment.
    Misaligned,
    /// A block one byte shorter than asked.
    Short,
    /// `deallocate` panics.
    PanicOnFree,
}

/// Counts its calls; blocks come from the global allocator, recorded in a table (address ->
/// allocation) so `deallocate` frees them through the pointer `alloc` returned.
struct Counting {
    mode: Cell<Mode>,
    allocations: Cell<usize>,
    frees: Cell<usize>,
    blocks: RefCell<Vec<(usize, *mut u8, Layout)>>,
}

impl Counting {
    fn new() -> Self {
        Counting {
            mode: Cell::new(Mode::Serve),
            allocations: Cell::new(0),
            frees: Cell::new(0),
            blocks: RefCell::new(Vec::new()),
        }
    }

    fn counts(&self) -> (usize, usize) {
        (self.allocations.get(), self.frees.get())
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        assert!(self.blocks.borrow().is_empty(), "blocks never freed");
    }
}

impl WalkAllocator for Counting {
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        let (skew, len) = match self.mode.get() {
            Mode::Fail => return None,
            Mode::Panic => panic!("test allocator: allocate panics"),
            Mode::Misaligned => (1, size),
            Mode::Short => (0, size - 1),
            Mode::Serve | Mode::PanicOnFree => (0, size),
        };
        self.allocations.set(self.allocations.get() + 1);
        let layout = Layout::from_size_align(size + 1, 16).unwrap();
        // SAFETY: a non-zero size; the returned slice lies within the new block, which stays
        // ours until `deallocate`.
        unsafe {
            let base = std::alloc::alloc(layout);
            assert!(!base.is_null());
            let start = base.add(skew);
            self.blocks.borrow_mut().push((start.addr(), base, layout));
            Some(std::slice::from_raw_parts_mut(start.cast(), len))
        }
    }

    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
        self.frees.set(self.frees.get() + 1);
        if self.mode.get() == Mode::PanicOnFree {
            panic!("test allocator: deallocate panics");
        }
        let mut blocks = self.blocks.borrow_mut();
        let at = blocks
            .iter()
            .position(|(addr, _, _)| *addr == block.cast::<u8>().as_ptr().addr())
            .expect("deallocate got a block allocate never returned");
        let (_, base, layout) = blocks.swap_remove(at);
        // SAFETY: `base` and `layout` are the allocation this block came from, freed once.
        unsafe { std::alloc::dealloc(base, layout) };
    }
}

/// A snapshot of this process's address space, with section information (named regions).
fn regions() -> LocalSnapshot {
    let flags = CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    LocalSnapshot::capture_current(flags).unwrap()
}

/// The allocator serves the marker's own structure at creation, never an entry (Windows keeps
/// entry data in a mapped view; WINDOWS-EVIDENCE Walk), and `PssWalkMarkerFree` frees what it
/// allocated (and NULL, which `pss` does not pass on) (6). The model allocates exactly once.
#[test]
fn custom_allocator_serves_the_marker_only() {
    require_pss!();
    let snapshot = regions();
    let allocator = Counting::new();
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    let (created, _) = allocator.counts();
    assert!(created >= 1, "the marker itself");
    #[cfg(not(windows))]
    assert_eq!(created, 1, "the model: exactly one block");
    assert!(walk.allocator().is_some());
    let names = walk
        .iter()
        .filter(|e| e.as_ref().unwrap().mapped_file_name().is_some())
        .count();
    assert!(names > 0);
    assert_eq!(allocator.counts(), (created, 0), "no allocation per entry");
    walk.close().unwrap();
    assert_eq!(
        allocator.counts(),
        (created, created),
        "each freed once; NULL not passed on"
    );
    drop(snapshot);
    assert_no_leaks();
}

/// An allocator with no memory makes creation fail with `NotEnoughMemory` (documented, 3.6).
#[test]
fn allocator_failure_at_creation_is_not_enough_memory() {
    require_pss!();
    let snapshot = regions();
    let allocator = Counting::new();
    allocator.mode.set(Mode::Fail);
    let error = snapshot
        .walk_with::<VaSpaceClass, _>(&allocator)
        .unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (
            Function::PssWalkMarkerCreate,
            ErrorKind::Os(ErrorCode::NOT_ENOUGH_MEMORY)
        )
    );
    assert_eq!(allocator.counts(), (0, 0));
    drop(snapshot);
    assert_no_leaks();
}

/// An allocator that fails after creation does not affect walks, which never allocate through
/// it (WINDOWS-EVIDENCE Walk).
#[test]
fn allocator_failure_after_creation_does_not_affect_walks() {
    require_pss!();
    let snapshot = regions();
    let allocator = Counting::new();
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    allocator.mode.set(Mode::Fail);
    assert_eq!(
        walk.iter().map(Result::unwrap).count(),
        snapshot.region_count().unwrap() as usize
    );
    allocator.mode.set(Mode::Serve);
    drop(walk);
    assert_eq!(allocator.allocations.get(), allocator.frees.get());
    drop(snapshot);
    assert_no_leaks();
}

/// A panic in `allocate` never unwinds into kernel32: it becomes a failed allocation (6).
#[test]
fn allocate_panic_becomes_not_enough_memory() {
    require_pss!();
    let snapshot = regions();
    let allocator = Counting::new();
    allocator.mode.set(Mode::Panic);
    let error = snapshot
        .walk_with::<VaSpaceClass, _>(&allocator)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_ENOUGH_MEMORY));
    drop(snapshot);
    assert_no_leaks();
}

/// An allocator that panics with a payload that owns a snapshot: the payload is dropped while
/// the callback still runs inside kernel32, so the snapshot's free is refused (`Reentrant`,
/// leaking it) instead of re-entering kernel32, which the model would abort as misuse.
struct PanicsWithASnapshot(RefCell<Option<LocalSnapshot>>);

impl WalkAllocator for PanicsWithASnapshot {
    fn allocate(&self, _size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        std::panic::panic_any(self.0.borrow_mut().take())
    }

    unsafe fn deallocate(&self, _block: NonNull<[MaybeUninit<u8>]>) {
        unreachable!("nothing was allocated")
    }
}

/// A panic payload owning a snapshot, raised in `allocate`, is dropped inside the callback
/// guard: its free is refused, the snapshot leaks, and nothing re-enters kernel32 (the model
/// would abort: `misuse::pss_call_from_allocator_callback_is_misuse`).
#[test]
fn a_panic_payload_owning_a_snapshot_does_not_reenter_kernel32() {
    require_pss!();
    let snapshot = regions();
    let payload = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let allocator = PanicsWithASnapshot(RefCell::new(Some(payload)));
    let error = expect::calls(Call::PssFreeSnapshot, 0, || {
        snapshot.walk_with::<VaSpaceClass, _>(&allocator).map(drop)
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_ENOUGH_MEMORY));
    assert!(allocator.0.borrow().is_none(), "the payload took it");
    drop(snapshot);
    // The payload's snapshot could not be freed from inside the callback: it leaked, as the
    // docs say (on the model, one snapshot of this thread is still alive).
    expect::live_snapshots(1);
}

/// A block that is misaligned or too short is handed straight back to `deallocate` and kernel32
/// is told the allocation failed.
#[test]
fn misaligned_or_short_blocks_are_refused_and_returned() {
    require_pss!();
    for mode in [Mode::Misaligned, Mode::Short] {
        let snapshot = regions();
        let allocator = Counting::new();
        allocator.mode.set(mode);
        let error = snapshot
            .walk_with::<VaSpaceClass, _>(&allocator)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_ENOUGH_MEMORY));
        assert_eq!(allocator.counts(), (1, 1), "returned, not leaked");
        drop(snapshot);
    }
    assert_no_leaks();
}

/// A panic in `deallocate` aborts the process rather than unwind into kernel32. Runs the body
/// in a child process (this test, filtered); Miri cannot spawn one.
#[test]
fn deallocate_panic_aborts() {
    require_pss!();
    const CHILD: &str = "PSS_DEALLOCATE_PANIC_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let snapshot = regions();
        let allocator = Counting::new();
        let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
        allocator.mode.set(Mode::PanicOnFree);
        drop(walk);
        eprintln!("deallocate panicked and the process went on");
        std::process::exit(0);
    }
    if cfg!(miri) {
        eprintln!("skipped: deallocate_panic_aborts: Miri cannot spawn the child");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["deallocate_panic_aborts", "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child went on:\n{stderr}");
    assert!(
        stderr.contains("test allocator: deallocate panics"),
        "{stderr}"
    );
    assert!(!stderr.contains("went on"), "{stderr}");
    assert_no_leaks();
}

/// Serves blocks like `Counting`, but first tries a PSS call on the snapshot it holds, as safe
/// allocator code can, and records what `pss` answered.
struct Reentrant<'s> {
    snapshot: &'s LocalSnapshot,
    inner: Counting,
    answers: RefCell<Vec<ErrorKind>>,
}

impl WalkAllocator for Reentrant<'_> {
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        if let Err(error) = self.snapshot.region_count() {
            self.answers.borrow_mut().push(error.kind());
        }
        self.inner.allocate(size)
    }

    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
        // SAFETY: forwarded: `block` came from `self.inner.allocate`.
        unsafe { self.inner.deallocate(block) }
    }
}

/// A PSS call from inside an allocator callback (here a query on the snapshot being walked) is
/// refused with `Reentrant`, without reaching kernel32 in the middle of its own call (the
/// model would report that as misuse).
#[test]
fn pss_calls_from_allocator_callbacks_are_refused() {
    require_pss!();
    let snapshot = regions();
    let allocator = Reentrant {
        snapshot: &snapshot,
        inner: Counting::new(),
        answers: RefCell::new(Vec::new()),
    };
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    let regions = snapshot.region_count().unwrap() as usize;
    assert_eq!(walk.iter().filter_map(Result::ok).count(), regions);
    walk.close().unwrap();
    let answers = allocator.answers.borrow();
    assert!(!answers.is_empty(), "creation allocates");
    assert!(answers.iter().all(|&kind| kind == ErrorKind::Reentrant));
    assert_eq!(
        snapshot.region_count().unwrap() as usize,
        regions,
        "outside the callback, calls work again"
    );
    drop(snapshot);
    assert_no_leaks();
}

/// Serves blocks like `Counting`, but first runs what safe code may do in a callback without
/// calling PSS itself: drop an `OwnedHandle` (`CloseHandle`), ask a VA clone its process id
/// (`GetProcessId`), and drop a `RemoteSnapshot` (whose free `pss` refuses there, leaking it,
/// and whose handle it closes).
struct KernelCalls<'s> {
    clone: VaClone<'s>,
    target: u32,
    remote: RefCell<Option<RemoteSnapshot<Process>>>,
    inner: Counting,
    clone_pids: RefCell<Vec<u32>>,
}

impl WalkAllocator for KernelCalls<'_> {
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        drop(pss::open_process(self.target, ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap());
        self.clone_pids
            .borrow_mut()
            .push(self.clone.process_id().unwrap());
        drop(self.remote.borrow_mut().take());
        self.inner.allocate(size)
    }

    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
        drop(pss::open_process(self.target, ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap());
        // SAFETY: forwarded: `block` came from `self.inner.allocate`.
        unsafe { self.inner.deallocate(block) }
    }
}

/// Kernel32 calls other than PSS ones work from inside allocator callbacks: only re-entering
/// PSS is refused (6; the model serves them, its lock not being held during callbacks).
#[test]
fn other_kernel32_calls_from_allocator_callbacks_work() {
    require_pss!();
    let process = TestProcess::spawn();
    let handle = pss::open_process(process.pid(), ProcessAccess::REMOTE_SNAPSHOT).unwrap();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_CLONE).unwrap();
    let remote = snapshot.duplicate_into(handle).unwrap();
    let clone = snapshot.va_clone().unwrap();
    let allocator = KernelCalls {
        clone,
        target: process.pid(),
        remote: RefCell::new(Some(remote)),
        inner: Counting::new(),
        clone_pids: RefCell::new(Vec::new()),
    };
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    assert!(
        allocator.remote.borrow().is_none(),
        "dropped in the callback"
    );
    assert_eq!(
        allocator.clone_pids.borrow()[0],
        clone.process_id().unwrap()
    );
    walk.close().unwrap();
    drop(allocator);
    drop(snapshot);
    drop(process); // the remote snapshot `pss` could not free there goes with its process
    assert_no_leaks();
}
