//! Walk markers: PssWalkMarkerCreate, PssWalkMarkerFree, PssWalkMarkerGetPosition,
//! PssWalkMarkerSetPosition, PssWalkMarkerSeekToBeginning and PSS_ALLOCATOR
//! (PSS-CONTRACT.md 2.2, 3.6-3.10, 5, 6).

use pss_sys::*;
use pss_tests::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A saved position replays the same entry after the walk moved on (documented, 3.8, 3.9).
#[test]
fn saved_position_replays_the_same_entry() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE);
    let marker = new_marker();
    let (code, _) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    assert_eq!(code, ERROR_SUCCESS);
    let saved = marker_position(marker);
    let (_, second) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    while walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker).0 == ERROR_SUCCESS {}
    assert_eq!(set_marker_position(marker, saved), ERROR_SUCCESS);
    let (code, again) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        (again.BaseAddress, again.RegionSize),
        (second.BaseAddress, second.RegionSize)
    );
    free_marker(marker);
    free_local(snapshot);
    assert_no_leaks();
}

/// Seeking to the beginning rewinds to where a new marker starts (documented, 3.10).
#[test]
fn seek_to_beginning_rewinds() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE);
    let marker = new_marker();
    let (_, first) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    while walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker).0 == ERROR_SUCCESS {}
    assert_eq!(rewind_marker(marker), ERROR_SUCCESS);
    let (code, again) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(again.BaseAddress, first.BaseAddress);
    free_marker(marker);
    free_local(snapshot);
    assert_no_leaks();
}

/// Counts the calls a test allocator receives. Routines run on the creating thread (6), but
/// the counters are atomics so a misbehaving kernel could not make the test unsound.
#[derive(Default)]
struct Counts {
    allocs: AtomicUsize,
    frees: AtomicUsize,
    null_frees: AtomicUsize,
    fail: AtomicBool,
}

extern "system" fn test_alloc(context: *mut c_void, size: u32) -> *mut c_void {
    // SAFETY: `context` is the `Counts` the test put in the PSS_ALLOCATOR, alive for the marker.
    let counts = unsafe { &*context.cast::<Counts>() };
    if counts.fail.load(Ordering::Relaxed) {
        return std::ptr::null_mut();
    }
    counts.allocs.fetch_add(1, Ordering::Relaxed);
    let layout = std::alloc::Layout::from_size_align(size as usize + 16, 16).unwrap();
    // SAFETY: non-zero size; the size is stored in the first 16 bytes for the free routine.
    unsafe {
        let p = std::alloc::alloc(layout);
        assert!(!p.is_null());
        p.cast::<usize>().write(size as usize);
        p.add(16).cast()
    }
}

extern "system" fn test_free(context: *mut c_void, address: *mut c_void) {
    // SAFETY: as in `test_alloc`.
    let counts = unsafe { &*context.cast::<Counts>() };
    if address.is_null() {
        counts.null_frees.fetch_add(1, Ordering::Relaxed);
        return;
    }
    counts.frees.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `address` came from `test_alloc`, 16 bytes past the start of its block.
    unsafe {
        let p = address.cast::<u8>().sub(16);
        let size = p.cast::<usize>().read();
        std::alloc::dealloc(
            p,
            std::alloc::Layout::from_size_align(size + 16, 16).unwrap(),
        );
    }
}

fn allocator(counts: &Counts) -> Box<PSS_ALLOCATOR> {
    pss_allocator(
        std::ptr::from_ref(counts).cast_mut().cast(),
        test_alloc,
        test_free,
    )
}

fn create_with(allocator: &PSS_ALLOCATOR) -> (u32, HPSSWALK) {
    let mut marker = std::ptr::null_mut();
    // SAFETY: `allocator` and the `Counts` it points to outlive the marker in each test.
    let code = unsafe { PssWalkMarkerCreate(allocator, &mut marker) };
    (code, marker)
}

/// A custom allocator is used for the marker and every allocation is freed by
/// `PssWalkMarkerFree` (documented, 3.6, 3.7, 6).
#[test]
fn custom_allocator_is_used_and_balanced() {
    require_pss!();
    let counts = Counts::default();
    let alloc = allocator(&counts);
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION);
    let (code, marker) = create_with(&alloc);
    assert_eq!(code, ERROR_SUCCESS);
    while walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker).0 == ERROR_SUCCESS {}
    assert!(counts.allocs.load(Ordering::Relaxed) >= 1);
    free_marker(marker);
    assert_eq!(
        counts.allocs.load(Ordering::Relaxed),
        counts.frees.load(Ordering::Relaxed)
    );
    free_local(snapshot);
    assert_no_leaks();
}

/// The allocator serves the marker's own structure only: one AllocRoutine call at creation and
/// none per entry, whatever the entries hold (WINDOWS-EVIDENCE Walk: entry data is in a mapped
/// view); FreeRoutine frees it, plus once with NULL, which it must accept (model choice; 6).
#[test]
#[cfg(not(windows))]
fn custom_allocator_calls_are_counted_exactly() {
    use pss_tests::model::*;
    let target = ProcessSpec::new()
        .region(RegionSpec::image(0x40_0000, 0x1000, r"\Device\X\a.dll"))
        .region(RegionSpec::free(0x40_1000, 0x1000))
        .region(RegionSpec::mapped(0x50_0000, 0x1000, r"\Device\X\b.dat"))
        .spawn();
    let process = open_process(target.pid(), PROCESS_ALL_ACCESS).unwrap();
    let (_, snapshot) = capture(
        process,
        PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
        0,
    );
    let counts = Counts::default();
    let alloc = allocator(&counts);
    let (_, marker) = create_with(&alloc);
    assert_eq!(counts.allocs.load(Ordering::Relaxed), 1);
    let mut named = 0;
    loop {
        match walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker) {
            (ERROR_SUCCESS, entry) => named += usize::from(entry.MappedFileNameLength > 0),
            (code, _) => break assert_eq!(code, ERROR_NO_MORE_ITEMS),
        }
    }
    assert_eq!(named, 2);
    assert_eq!(
        counts.allocs.load(Ordering::Relaxed),
        1,
        "entries never use the allocator"
    );
    free_marker(marker);
    assert_eq!(
        (
            counts.frees.load(Ordering::Relaxed),
            counts.null_frees.load(Ordering::Relaxed)
        ),
        (1, 1)
    );
    free_local(snapshot);
    close_handle(process);
    assert_no_leaks();
}

/// An allocator that returns NULL makes creation fail with `ERROR_NOT_ENOUGH_MEMORY`
/// (documented, 3.6, 6).
#[test]
fn allocator_failure_is_not_enough_memory() {
    require_pss!();
    let counts = Counts::default();
    counts.fail.store(true, Ordering::Relaxed);
    let alloc = allocator(&counts);
    assert_eq!(create_with(&alloc).0, ERROR_NOT_ENOUGH_MEMORY);
    assert_no_leaks();
}

/// An allocator that fails after creation does not affect walks: they allocate nothing
/// through it (WINDOWS-EVIDENCE Walk).
#[test]
fn allocator_failure_after_creation_does_not_affect_walks() {
    require_pss!();
    let counts = Counts::default();
    let alloc = allocator(&counts);
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION);
    let (code, marker) = create_with(&alloc);
    assert_eq!(code, ERROR_SUCCESS);
    counts.fail.store(true, Ordering::Relaxed);
    let mut entries = 0;
    loop {
        match walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker).0 {
            ERROR_SUCCESS => entries += 1,
            code => break assert_eq!(code, ERROR_NO_MORE_ITEMS),
        }
    }
    assert!(entries > 0);
    free_marker(marker);
    free_local(snapshot);
    assert_no_leaks();
}

/// Any number of markers may walk one snapshot at once, each with its own position (2.2).
#[test]
fn markers_walk_independently() {
    require_pss!();
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE);
    let (a, b) = (new_marker(), new_marker());
    let (_, a1) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, a);
    let (_, a2) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, a);
    let (_, b1) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, b);
    assert_eq!(a1.BaseAddress, b1.BaseAddress);
    assert_ne!(a1.BaseAddress, a2.BaseAddress);
    free_marker(a);
    free_marker(b);
    free_local(snapshot);
    assert_no_leaks();
}

/// What `kernel32_calling_alloc` saw.
static PID_SEEN: AtomicUsize = AtomicUsize::new(0);

/// `AllocRoutine` that makes other kernel32 calls (not PSS ones) before allocating like
/// `test_alloc`: it records `GetProcessId(GetCurrentProcess())`.
extern "system" fn kernel32_calling_alloc(context: *mut c_void, size: u32) -> *mut c_void {
    // SAFETY: plain kernel32 calls with a valid pseudo handle.
    let pid = unsafe { GetProcessId(GetCurrentProcess()) };
    PID_SEEN.store(pid as usize, Ordering::Relaxed);
    test_alloc(context, size)
}

/// Allocator callbacks may call kernel32 functions other than PSS ones: the routines run inside
/// `PssWalkMarkerCreate`/`Free`, and only re-entering PSS is ruled out (6; the model runs them
/// without its lock).
#[test]
fn allocator_callbacks_may_call_other_kernel32_functions() {
    require_pss!();
    let counts = Counts::default();
    let alloc = pss_allocator(
        std::ptr::from_ref(&counts).cast_mut().cast(),
        kernel32_calling_alloc,
        test_free,
    );
    let (code, marker) = create_with(&alloc);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(PID_SEEN.load(Ordering::Relaxed), current_pid() as usize);
    free_marker(marker);
    assert_eq!(
        counts.allocs.load(Ordering::Relaxed),
        counts.frees.load(Ordering::Relaxed)
    );
    assert_no_leaks();
}

/// A marker maps the snapshot's view on its first walk call, probe or not, and never again
/// (ND `PssNtWalkSnapshot`: `if ( *a3 )` uses the view, else `ZwMapViewOfSection`): a mapping
/// failure (injected) can happen only until it succeeds, leaves the marker where it was, and
/// the next call maps again. Once mapped, no later call of that marker can fail so; another
/// marker maps anew.
#[test]
#[cfg(not(windows))]
fn mapping_fails_only_on_a_markers_first_call() {
    use pss_tests::model::faults;
    let snapshot = capture_current(PSS_CAPTURE_VA_SPACE);
    let all = walk_all::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE);
    assert!(all.len() >= 2);
    let (marker, other) = (new_marker(), new_marker());
    let mapping_failure =
        |code| code == ERROR_NOT_ENOUGH_MEMORY || code == ERROR_NO_SYSTEM_RESOURCES;
    {
        let plan = faults::fail_randomly(7, 1.0).unwrap(); // every call that can fail does
        let code = walk_probe(snapshot, PSS_WALK_VA_SPACE, marker);
        assert!(mapping_failure(code), "the probe maps too: {code}");
        let (code, _) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
        assert!(mapping_failure(code), "not mapped yet: {code}");
        assert_eq!(plan.injected(), 2);
    }
    let (code, first) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
    assert_eq!(code, ERROR_SUCCESS);
    assert_eq!(
        first.BaseAddress, all[0].BaseAddress,
        "the failures did not advance it"
    );
    {
        let plan = faults::fail_randomly(7, 1.0).unwrap();
        for expected in &all[1..] {
            let (code, entry) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker);
            assert_eq!(code, ERROR_SUCCESS);
            assert_eq!(entry.BaseAddress, expected.BaseAddress);
        }
        assert_eq!(
            walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, marker).0,
            ERROR_NO_MORE_ITEMS
        );
        assert_eq!(plan.injected(), 0, "a mapped marker does not map again");
        let (code, _) = walk_one::<PSS_VA_SPACE_ENTRY>(snapshot, PSS_WALK_VA_SPACE, other);
        assert!(mapping_failure(code), "another marker maps anew: {code}");
        assert_eq!(plan.injected(), 1);
    }
    free_marker(other);
    free_marker(marker);
    free_local(snapshot);
    assert_no_leaks();
}
