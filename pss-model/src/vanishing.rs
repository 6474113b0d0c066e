//! Memory that vanishes from a VA clone after it was seen: a thread's plan that lets the first
//! `reads` calls of `ReadProcessMemory` touching a range read it, and fails every later one
//! there, as if its pages were gone. For tests of readers that plan from a first look at the
//! memory and read it again later (a dump writer that checks readability, then copies): what
//! Windows does when a clone's page cannot be read after all (a paging error of its backing
//! file) without a way to make it happen on demand. No evidence grade: it models no call, only
//! a failure `ReadProcessMemory` has (`ERROR_PARTIAL_COPY`, whole chunks reported).

use std::cell::RefCell;

#[derive(Debug)]
struct Vanishing {
    start: usize,
    end: usize,
    reads_left: u64,
}

thread_local! {
    static PLAN: RefCell<Vec<Vanishing>> = const { RefCell::new(Vec::new()) };
}

/// The plan of this thread while it lives; dropping it ends it.
#[must_use = "the memory stays readable once this is dropped"]
#[derive(Debug)]
pub struct VanishingMemory(());

impl Drop for VanishingMemory {
    fn drop(&mut self) {
        PLAN.with(|p| p.borrow_mut().clear());
    }
}

/// After `reads` more calls of `ReadProcessMemory` on this thread that touch
/// `[address, address + len)`, the range cannot be read (by any process's clone or the process
/// itself), until the returned plan is dropped. Several ranges may vanish at once.
pub fn vanish_after(address: usize, len: usize, reads: u64) -> VanishingMemory {
    PLAN.with(|p| {
        p.borrow_mut().push(Vanishing {
            start: address,
            end: address.saturating_add(len),
            reads_left: reads,
        })
    });
    VanishingMemory(())
}

/// How many of the `len` bytes from `address` a read may copy before memory that has vanished
/// (all of them when none has): counts this read against every range it touches.
pub(crate) fn readable(address: usize, len: usize) -> usize {
    let end = address.saturating_add(len);
    PLAN.with(|p| {
        let mut limit = len;
        for range in p.borrow_mut().iter_mut() {
            if range.start >= end || address >= range.end {
                continue;
            }
            if range.reads_left == 0 {
                limit = limit.min(range.start.saturating_sub(address));
            } else {
                range.reads_left -= 1;
            }
        }
        limit
    })
}
