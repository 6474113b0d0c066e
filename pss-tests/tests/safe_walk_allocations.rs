//! `pss` walks allocate nothing per entry: with a counting global allocator, iterating a
//! `pss::Walk` allocates exactly what the raw `PssWalkSnapshot` loop over the same entries
//! allocates, for any number of entries.
//!
//! The raw loop is the baseline because the kernel32 model itself allocates on the heap for
//! every entry (the memory behind entry pointers, which real kernel32 also keeps per marker):
//! that part grows with N whatever the caller does, and is what this test subtracts. Against
//! real kernel32 (which allocates nothing through Rust's allocator) both counts are those of
//! the Rust code alone. Counts are kept per thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pss::{CaptureFlags, LocalSnapshot};
use pss_sys::*;
use pss_tests::*;

/// The system allocator, counting the allocations of threads that asked to be counted.
struct CountingAllocator;

thread_local! {
    /// Whether this thread counts, and its count: per thread, so tests may run in parallel.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

const FLAGS: CaptureFlags = CaptureFlags::HANDLES
    .union(CaptureFlags::HANDLE_NAME_INFORMATION)
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::THREAD_CONTEXT);

/// A model process with `n` named handles (each entry has variable-length data) and `n`
/// threads, captured.
#[cfg(not(windows))]
fn captured(n: usize) -> (pss_tests::model::ModelProcess, LocalSnapshot) {
    use pss_tests::model::*;
    let spec = (0..n).fold(ProcessSpec::new(), |spec, i| {
        spec.handle(HandleSpec::event(4 + 4 * i, false, false).named("name"))
            .thread(ThreadSpec::new(0x100 + 4 * i as u32))
    });
    spawn_and_capture(spec, FLAGS)
}

/// Allocations of the raw loop and of a `pss` walk over this snapshot's handles and threads
/// (warmed up first), with the name units and context bytes `pss` read.
fn compare(snapshot: &LocalSnapshot) -> [(usize, usize, usize); 2] {
    // Warm up per-thread bookkeeping (the model's first calls insert map entries).
    raw_walk::<PSS_HANDLE_ENTRY>(snapshot, PSS_WALK_HANDLES);
    raw_walk::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS);
    let raw = raw_walk::<PSS_HANDLE_ENTRY>(snapshot, PSS_WALK_HANDLES);
    let (safe, names) =
        pss_walk::<pss::HandleClass>(snapshot, |e| e.object_name().map_or(0, |name| name.len()));
    let handles = (raw, safe, names);
    let raw = raw_walk::<PSS_THREAD_ENTRY>(snapshot, PSS_WALK_THREADS);
    let (safe, bytes) = pss_walk::<pss::ThreadClass>(snapshot, |e| {
        e.context()
            .map_or(0, |_| e.context_bytes().map_or(0, <[u8]>::len))
    });
    [handles, (raw, safe, bytes)]
}

/// Walking this process's handles and threads through `pss` allocates exactly what the raw
/// loop allocates.
#[test]
fn walks_of_this_process_allocate_what_the_raw_loop_does() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(FLAGS).unwrap();
    let [(raw, safe, names), (raw_t, safe_t, bytes)] = compare(&snapshot);
    assert!(names > 0, "names were read");
    assert_eq!(
        safe, raw,
        "handles: pss allocated {safe}, the raw loop {raw}"
    );
    assert!(bytes > 0, "contexts were read");
    assert_eq!(
        safe_t, raw_t,
        "threads: pss allocated {safe_t}, the raw loop {raw_t}"
    );
    drop(snapshot);
    assert_no_leaks();
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
#[cfg(not(windows))]
#[test]
fn walks_allocate_nothing_per_entry() {
    let mut raw_by_n = Vec::new();
    for n in [1, 6] {
        let (_process, snapshot) = captured(n);
        let [(raw, safe, names), (raw_t, safe_t, bytes)] = compare(&snapshot);
        assert_eq!(names, 4 * n, "the names were read");
        assert_eq!(
            safe, raw,
            "handles, n = {n}: pss allocated {safe}, the raw loop {raw}"
        );
        assert_eq!(bytes, n * size_of::<CONTEXT>(), "the contexts were read");
        assert_eq!(
            safe_t, raw_t,
            "threads, n = {n}: pss allocated {safe_t}, the raw loop {raw_t}"
        );
        raw_by_n.push(raw_t);
        drop(snapshot);
    }
    assert!(
        raw_by_n[1] > raw_by_n[0],
        "the baseline does grow with N (the model allocates per entry): {raw_by_n:?}"
    );
    assert_no_leaks();
}
