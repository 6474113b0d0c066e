//! Heap accounting: a global allocator that counts, per thread, the bytes live since a
//! measurement started and their peak, so a check can bound what one call (the dump writer, a
//! walk) allocates while the model process around it, and other tests' threads, allocate as
//! they like. The binary that uses the harness installs it:
//!
//! ```ignore
//! #[global_allocator]
//! static HEAP: fuzzing::heap::Counting = fuzzing::heap::Counting;
//! ```
//!
//! Without it installed, [`measure`] sees nothing and reports a peak of 0, so every check
//! passes: the binaries that use the harness install it and check that it counts
//! ([`installed`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Cursor, Seek, SeekFrom, Write};

/// The most heap the dump writer may hold at once while writing a dump of an input's process
/// (both kinds of dump), and the readers while reading it. What it covers: the writer's two
/// 64 KiB buffers (the memory chunk and the file's), its per-thread, per-module and
/// per-region records and the loader's names, and the model's entries of one walk at a time
/// (the marker keeps them until the walk ends): at most 16 handles whose names the model's
/// hostile shapes make 64 KiB long, two such thread names, and names of at most 255 bytes
/// otherwise. About 0.5 MiB at the inputs' bounds; 4 MiB leaves room, and is still far below
/// what a bug that copies per loop iteration reaches (a loader list followed 4,096 times with a
/// 64 KiB name held 257 MiB).
pub const HEAP_BOUND: usize = 4 << 20;

thread_local! {
    /// Bytes allocated minus bytes freed on this thread since [`measure`] started (negative
    /// when it frees what was allocated before).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The most [`LIVE`] reached.
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// Allocations not counted (the dump's own bytes, in [`Sink`]).
    static PAUSED: Cell<bool> = const { Cell::new(false) };
    /// Some allocation was counted since the thread started.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// The counting allocator: the system allocator, plus per-thread counters.
pub struct Counting;

fn count(bytes: isize) {
    // `try_with`: the thread's locals may be gone while it exits (then nothing is counted).
    let _ = PAUSED.try_with(|paused| {
        if paused.get() {
            return;
        }
        let _ = LIVE.try_with(|live| {
            let now = live.get() + bytes;
            live.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
        let _ = COUNTED.try_with(|counted| counted.set(true));
    });
}

// SAFETY: every call goes to the system allocator with the caller's arguments unchanged; the
// counting touches only this thread's `Cell`s (const-initialised, without destructors, so
// reading them allocates nothing and cannot recurse).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc_zeroed`'s.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System.dealloc`'s.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System.realloc`'s.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Both blocks may exist at once: count the new one before freeing the old.
            count(new_size as isize);
            count(-(layout.size() as isize));
        }
        new
    }
}

/// Runs `f` and returns its result and the most heap (in bytes) this thread held at once
/// during it, beyond what it held before.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.with(|live| live.set(0));
    PEAK.with(|peak| peak.set(0));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak).unwrap_or(0))
}

/// Runs `f` without counting what it allocates or frees.
pub fn unmeasured<T>(f: impl FnOnce() -> T) -> T {
    let before = PAUSED.with(|paused| paused.replace(true));
    let result = f();
    PAUSED.with(|paused| paused.set(before));
    result
}

/// True if the counting allocator is this binary's global allocator (it has counted an
/// allocation of this thread).
pub fn installed() -> bool {
    drop(std::hint::black_box(vec![0u8; 1]));
    COUNTED.with(Cell::get)
}

/// An in-memory destination for a dump whose growth is not counted: the dump's bytes are the
/// output, not the writer's heap.
#[derive(Default)]
pub struct Sink(Cursor<Vec<u8>>);

impl Sink {
    /// The bytes written.
    pub fn into_inner(self) -> Vec<u8> {
        self.0.into_inner()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        unmeasured(|| self.0.write(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Sink {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.0.seek(to)
    }
}
