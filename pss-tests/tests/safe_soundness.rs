//! The three facts the safe layer's soundness rests on, checked wherever PSS exists: against
//! the model, and against real kernel32 on Windows (no part of this file is model-only).
//!
//! 1. Entry memory (names, context records, page contents) stays valid and unchanged across
//!    later walk calls on the same marker and after a rewind: `pss` lets entries borrow the
//!    walk, not the step that produced them.
//! 2. The VA clone handle is the same value on every query and stays usable until the snapshot
//!    is freed: `pss` lends it out for the snapshot's lifetime.
//! 3. A duplicate stays fully readable, its VA clone included, after the original is freed:
//!    `pss` gives each an independent owner.
//!
//! And one of `pss`'s own: the iterators of one walk share the structure `Iterator::next` has
//! kernel32 fill, so what each yields must be its own copy, unchanged by the others' steps,
//! while `next_ref` lends a structure the iterator owns.

use pss::handle::AsRawHandle;
use pss::{CaptureFlags, LocalSnapshot};
use pss_tests::*;

/// What an entry borrowed, copied when the entry was yielded.
type Copied = (Option<Vec<u16>>, Option<Vec<u16>>, Option<Vec<u8>>);

#[test]
fn entry_memory_survives_later_steps_and_rewinds() {
    require_pss!();
    let flags = CaptureFlags::HANDLES
        | CaptureFlags::HANDLE_NAME_INFORMATION
        | CaptureFlags::THREADS
        | CaptureFlags::THREAD_CONTEXT
        | CaptureFlags::VA_SPACE
        | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    let snapshot = LocalSnapshot::capture_current(flags).unwrap();

    let handles = snapshot.handles().unwrap();
    let first: Vec<_> = handles.iter().map(Result::unwrap).collect();
    let copies: Vec<Copied> = first
        .iter()
        .map(|h| {
            (
                h.type_name().map(|n| n.as_utf16().to_vec()),
                h.object_name().map(|n| n.as_utf16().to_vec()),
                None,
            )
        })
        .collect();
    handles.rewind().unwrap();
    let second: Vec<_> = handles.iter().map(Result::unwrap).collect();
    assert_eq!(first.len(), second.len());
    for ((old, copy), new) in first.iter().zip(&copies).zip(&second) {
        let now = (
            old.type_name().map(|n| n.as_utf16().to_vec()),
            old.object_name().map(|n| n.as_utf16().to_vec()),
            None,
        );
        assert_eq!(&now, copy, "an earlier entry changed after later steps");
        assert_eq!(
            (new.type_name(), new.object_name()),
            (old.type_name(), old.object_name())
        );
    }

    let threads = snapshot.threads().unwrap();
    let mut iter = threads.iter();
    let head = iter.next().unwrap().unwrap();
    let context = head.context_bytes().map(<[u8]>::to_vec);
    assert!(context.is_some(), "captured with contexts");
    iter.for_each(|t| drop(t.unwrap()));
    threads.rewind().unwrap();
    threads.iter().for_each(|t| drop(t.unwrap()));
    assert_eq!(head.context_bytes().map(<[u8]>::to_vec), context);

    let regions = snapshot.va_space().unwrap();
    let named: Vec<_> = regions
        .iter()
        .map(Result::unwrap)
        .filter(|r| r.mapped_file_name().is_some())
        .collect();
    let names: Vec<_> = named
        .iter()
        .map(|r| r.mapped_file_name().unwrap().as_utf16().to_vec())
        .collect();
    regions.rewind().unwrap();
    assert_eq!(
        regions.iter().count(),
        snapshot.region_count().unwrap() as usize
    );
    for (region, name) in named.iter().zip(&names) {
        assert_eq!(region.mapped_file_name().unwrap().as_utf16(), &name[..]);
    }
    drop((first, second, head, named));
    drop((handles, threads, regions));
    drop(snapshot);
    assert_no_leaks();
}

#[test]
fn va_clone_handle_is_stable_until_the_snapshot_is_freed() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(
        CaptureFlags::VA_CLONE | CaptureFlags::THREADS | CaptureFlags::VA_SPACE,
    )
    .unwrap();
    let clone = snapshot.va_clone().unwrap();
    let pid = clone.process_id().unwrap();
    assert_ne!(pid, current_pid());
    for _ in 0..3 {
        snapshot.threads().unwrap().iter().for_each(drop);
        snapshot.va_space().unwrap().iter().for_each(drop);
        let again = snapshot.va_clone().unwrap();
        assert_eq!(
            again.handle().as_raw_handle(),
            clone.handle().as_raw_handle(),
            "the same handle on every query"
        );
        assert_eq!(again.process_id().unwrap(), pid);
    }
    let copy = snapshot.duplicate().unwrap();
    drop(copy);
    assert_eq!(
        clone.process_id().unwrap(),
        pid,
        "still usable after a copy is freed"
    );
    snapshot.close().unwrap();
    assert_no_leaks();
}

#[test]
fn duplicate_is_fully_readable_after_the_original_is_freed() {
    require_pss!();
    let flags = CaptureFlags::VA_CLONE
        | CaptureFlags::THREADS
        | CaptureFlags::HANDLES
        | CaptureFlags::VA_SPACE
        | CaptureFlags::HANDLE_NAME_INFORMATION;
    let original = LocalSnapshot::capture_current(flags).unwrap();
    let counts = |s: &LocalSnapshot| {
        (
            s.thread_information().unwrap().threads_captured,
            s.handle_count().unwrap(),
            s.region_count().unwrap(),
        )
    };
    let before = counts(&original);
    let clone_pid = original.va_clone().unwrap().process_id().unwrap();
    let copy = original.duplicate().unwrap();
    assert_ne!(
        copy.va_clone().unwrap().handle().as_raw_handle(),
        original.va_clone().unwrap().handle().as_raw_handle(),
        "each copy holds its own clone handle"
    );
    original.close().unwrap();
    assert_eq!(counts(&copy), before);
    assert_eq!(copy.va_clone().unwrap().process_id().unwrap(), clone_pid);
    expect::process_alive(clone_pid, true);
    let walked = copy.handles().unwrap().iter().map(Result::unwrap).count();
    assert_eq!(walked, before.1 as usize);
    copy.close().unwrap();
    expect::process_alive(clone_pid, false);
    assert_no_leaks();
}

/// A region of the current process as `(base address, mapped file name)`.
fn region_key(entry: &pss::VaSpaceEntry<'_>) -> (usize, Option<Vec<u16>>) {
    (
        entry.region().base_address,
        entry.mapped_file_name().map(|n| n.as_utf16().to_vec()),
    )
}

#[test]
fn iterators_of_one_walk_yield_entries_of_their_own() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_SPACE).unwrap();
    let walk = snapshot.va_space().unwrap();
    let all: Vec<_> = walk.iter().map(|r| region_key(&r.unwrap())).collect();
    assert!(all.len() >= 5, "the current process has a few regions");

    // Three iterators stepping the one marker in turn: `a` and `b` fill the walk's shared
    // structure, `c` lends its own.
    walk.rewind().unwrap();
    let mut a = walk.resume();
    let mut b = walk.resume();
    let mut c = walk.resume();
    let first = a.next().unwrap().unwrap();
    let second = b.next().unwrap().unwrap();
    let lent = c.next_ref().unwrap().unwrap();
    let fourth = a.next().unwrap().unwrap();
    let fifth = b.next().unwrap().unwrap();
    assert_eq!(
        region_key(lent),
        all[2],
        "the lent entry is untouched by other steps"
    );
    let got: Vec<_> = [&first, &second, &fourth, &fifth]
        .into_iter()
        .map(region_key)
        .collect();
    assert_eq!(
        got,
        [&all[0], &all[1], &all[3], &all[4]].map(Clone::clone),
        "each yielded entry is its own copy"
    );
    drop((first, second, fourth, fifth));
    drop((a, b, c));
    drop(walk);
    drop(snapshot);
    assert_no_leaks();
}
