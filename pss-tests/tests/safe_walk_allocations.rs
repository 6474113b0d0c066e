//! `pss` walks allocate nothing per entry: with a counting global allocator, iterating a
//! `pss::Walk` allocates exactly what the raw `PssWalkSnapshot` loop over the same entries
//! allocates, for any number of entries.
//!
//! The raw loop is the baseline because the kernel32 model itself allocates on the heap for
//! every entry (the memory behind entry pointers, which real kernel32 also keeps per marker):
//! that part grows with N whatever the caller does, and is what this test subtracts. Its own
//! test binary, so no other test allocates while it counts.
#![cfg(not(windows))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use pss::handle::OwnedHandle;
use pss::{CaptureFlags, ContextFlags, LocalSnapshot, ProcessAccess};
use pss_sys::*;
use pss_tests::model::*;
use pss_tests::*;

/// The system allocator, counting the allocations of threads that asked to be counted.
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count_one() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches no allocation.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Heap allocations (and reallocations) this thread makes during `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// A process with `n` named handles (each entry has variable-length data) and `n` threads.
fn captured(n: usize) -> (ModelProcess, LocalSnapshot) {
    let spec = (0..n).fold(ProcessSpec::new(), |spec, i| {
        spec.handle(HandleSpec::event(4 + 4 * i, false, false).named("name"))
            .thread(ThreadSpec::new(0x100 + 4 * i as u32))
    });
    let process = spec.spawn();
    let flags = CaptureFlags::HANDLES
        | CaptureFlags::HANDLE_NAME_INFORMATION
        | CaptureFlags::THREADS
        | CaptureFlags::THREAD_CONTEXT;
    let handle: OwnedHandle =
        pss::open_process(process.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&handle, flags, ContextFlags::ALL).unwrap();
    (process, snapshot)
}

/// Allocations while iterating a `pss` walk of `T`'s class to its end (marker creation and
/// free are outside the count), and what was read.
fn pss_walk<C: pss::WalkClass>(
    snapshot: &LocalSnapshot,
    read: impl Fn(C::Entry<'_>) -> usize,
) -> (usize, usize) {
    let walk = snapshot.walk::<C>().unwrap();
    let mut total = 0;
    let allocations = allocations_during(|| {
        for entry in &walk {
            total += read(entry.unwrap());
        }
    });
    drop(walk);
    (allocations, total)
}

/// Allocations while running the documented raw loop over `class` (marker creation and free
/// outside the count).
fn raw_walk<T: Default>(snapshot: &LocalSnapshot, class: PSS_WALK_INFORMATION_CLASS) -> usize {
    let marker = new_marker();
    let allocations = allocations_during(|| {
        while walk_one::<T>(snapshot.as_raw(), class, marker).0 == ERROR_SUCCESS {}
    });
    free_marker(marker);
    allocations
}

/// Iterating a walk of N entries allocates exactly what the raw loop allocates: `pss` adds no
/// heap allocation per entry (nor per walk step), for N = 1 and N = 6, for handle entries
/// (names) and thread entries (context records).
#[test]
fn walks_allocate_nothing_per_entry() {
    let mut raw_by_n = Vec::new();
    for n in [1, 6] {
        let (_process, snapshot) = captured(n);
        // Warm up the model's per-thread bookkeeping (first calls insert map entries).
        raw_walk::<PSS_HANDLE_ENTRY>(&snapshot, PSS_WALK_HANDLES);
        raw_walk::<PSS_THREAD_ENTRY>(&snapshot, PSS_WALK_THREADS);

        let raw = raw_walk::<PSS_HANDLE_ENTRY>(&snapshot, PSS_WALK_HANDLES);
        let (safe, names) = pss_walk::<pss::HandleClass>(&snapshot, |e| {
            e.object_name().map_or(0, |name| name.len())
        });
        assert_eq!(names, 4 * n, "the names were read");
        assert_eq!(
            safe, raw,
            "handles, n = {n}: pss allocated {safe}, the raw loop {raw}"
        );

        let raw = raw_walk::<PSS_THREAD_ENTRY>(&snapshot, PSS_WALK_THREADS);
        let (safe, bytes) = pss_walk::<pss::ThreadClass>(&snapshot, |e| {
            e.context()
                .map_or(0, |_| e.context_bytes().map_or(0, <[u8]>::len))
        });
        assert_eq!(bytes, n * size_of::<CONTEXT>(), "the contexts were read");
        assert_eq!(
            safe, raw,
            "threads, n = {n}: pss allocated {safe}, the raw loop {raw}"
        );
        raw_by_n.push(raw);
        drop(snapshot);
    }
    assert!(
        raw_by_n[1] > raw_by_n[0],
        "the baseline does grow with N (the model allocates per entry): {raw_by_n:?}"
    );
    assert_no_leaks();
}
