//! `pss::WalkAllocator` against the model: called and freed exactly as often as the model's
//! table says, failures and panics turned into `ERROR_NOT_ENOUGH_MEMORY`, bad blocks refused and
//! handed back, and a panic while freeing aborting instead of unwinding into kernel32
//! (PSS-CONTRACT.md 3.6, 3.7, 6).
#![cfg(not(windows))]

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use pss::handle::OwnedHandle;
use pss::{
    CaptureFlags, ContextFlags, ErrorKind, Function, LocalSnapshot, ProcessAccess, VaSpaceClass,
    WalkAllocator,
};
use pss_tests::model::*;
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

/// A snapshot of two named regions (image, mapped) and one free region.
fn three_regions() -> (ModelProcess, LocalSnapshot) {
    let process = ProcessSpec::new()
        .region(RegionSpec::image(0x40_0000, 0x1000, r"\Device\X\a.dll"))
        .region(RegionSpec::free(0x40_1000, 0x1000))
        .region(RegionSpec::mapped(0x50_0000, 0x1000, r"\Device\X\b.dat"))
        .spawn();
    let flags = CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    let handle: OwnedHandle =
        pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&handle, flags, ContextFlags::NONE).unwrap();
    (process, snapshot)
}

/// The model's table: one allocation at creation and one per entry with variable-length data;
/// `PssWalkMarkerFree` frees each (and NULL once, which `pss` does not pass on) (6).
#[test]
fn custom_allocator_calls_match_the_model() {
    let (_process, snapshot) = three_regions();
    let allocator = Counting::new();
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    assert_eq!(allocator.counts(), (1, 0), "the marker itself");
    assert!(walk.allocator().is_some());
    let names: Vec<_> = walk
        .iter()
        .map(|e| e.unwrap().mapped_file_name().map(|n| n.to_string_lossy()))
        .collect();
    assert_eq!(names.iter().flatten().count(), 2);
    assert_eq!(allocator.counts(), (3, 0), "and the two named regions");
    walk.close().unwrap();
    assert_eq!(
        allocator.counts(),
        (3, 3),
        "each freed once; NULL not passed on"
    );
    drop(snapshot);
    assert_no_leaks();
}

/// An allocator with no memory makes creation fail with `NotEnoughMemory` (documented, 3.6).
#[test]
fn allocator_failure_at_creation_is_not_enough_memory() {
    let (_process, snapshot) = three_regions();
    let allocator = Counting::new();
    allocator.mode.set(Mode::Fail);
    let error = snapshot
        .walk_with::<VaSpaceClass, _>(&allocator)
        .unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (Function::PssWalkMarkerCreate, ErrorKind::NotEnoughMemory)
    );
    assert_eq!(allocator.counts(), (0, 0));
    drop(snapshot);
    assert_no_leaks();
}

/// An allocator failing during a walk ends the iteration with one `NotEnoughMemory`; the marker
/// does not move, so a later iterator yields the same entry (model choice, 6).
#[test]
fn allocator_failure_during_a_walk_is_not_enough_memory() {
    let (_process, snapshot) = three_regions();
    let allocator = Counting::new();
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    allocator.mode.set(Mode::Fail);
    let mut iter = walk.iter();
    let error = iter.next().unwrap().unwrap_err();
    assert_eq!(
        (error.function(), error.kind()),
        (Function::PssWalkSnapshot, ErrorKind::NotEnoughMemory)
    );
    assert!(iter.next().is_none(), "stops after the error");
    allocator.mode.set(Mode::Serve);
    let first = walk.iter().next().unwrap().unwrap();
    assert_eq!(first.mapped_file_name().unwrap(), r"\Device\X\a.dll");
    drop(first);
    drop(walk);
    assert_eq!(allocator.allocations.get(), allocator.frees.get());
    drop(snapshot);
    assert_no_leaks();
}

/// A panic in `allocate` never unwinds into kernel32: it becomes a failed allocation (6).
#[test]
fn allocate_panic_becomes_not_enough_memory() {
    let (_process, snapshot) = three_regions();
    let allocator = Counting::new();
    allocator.mode.set(Mode::Panic);
    let error = snapshot
        .walk_with::<VaSpaceClass, _>(&allocator)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotEnoughMemory);
    drop(snapshot);
    assert_no_leaks();
}

/// A block that is misaligned or too short is handed straight back to `deallocate` and kernel32
/// is told the allocation failed.
#[test]
fn misaligned_or_short_blocks_are_refused_and_returned() {
    for mode in [Mode::Misaligned, Mode::Short] {
        let (_process, snapshot) = three_regions();
        let allocator = Counting::new();
        allocator.mode.set(mode);
        let error = snapshot
            .walk_with::<VaSpaceClass, _>(&allocator)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotEnoughMemory);
        assert_eq!(allocator.counts(), (1, 1), "returned, not leaked");
        drop(snapshot);
    }
    assert_no_leaks();
}

/// A panic in `deallocate` aborts the process rather than unwind into kernel32. Runs the body
/// in a child process (this test, filtered); Miri cannot spawn one.
#[test]
fn deallocate_panic_aborts() {
    const CHILD: &str = "PSS_DEALLOCATE_PANIC_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let (_process, snapshot) = three_regions();
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
    let (_process, snapshot) = three_regions();
    let allocator = Reentrant {
        snapshot: &snapshot,
        inner: Counting::new(),
        answers: RefCell::new(Vec::new()),
    };
    let walk = snapshot.walk_with::<VaSpaceClass, _>(&allocator).unwrap();
    assert_eq!(walk.iter().filter_map(Result::ok).count(), 3);
    walk.close().unwrap();
    assert_eq!(
        *allocator.answers.borrow(),
        [ErrorKind::Reentrant; 3],
        "creation and two named regions"
    );
    assert_eq!(
        snapshot.region_count().unwrap(),
        3,
        "outside the callback, calls work again"
    );
    drop(snapshot);
    assert_no_leaks();
}
