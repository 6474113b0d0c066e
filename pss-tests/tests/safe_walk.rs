//! `pss`'s walks: every `PSS_WALK_*` class; one `PssWalkSnapshot` call per entry; entries
//! typed, each part only under its flag, borrowed from the marker and copied on request;
//! positions and rewind (PSS-CONTRACT.md 2.2, 3.5-3.10, 5, 8). Tests on this process run
//! against real kernel32 too; those that need a model process with particular contents, or the
//! model's call counters, are model-only (`model_processes`).

use pss::{
    CaptureFlags, CaptureOptions, ContextFlags, ErrorCode, ErrorKind, Function, LocalSnapshot,
    MemoryType, ThreadEntry,
};
use pss_tests::*;

/// Everything a walk can yield.
const WALKABLE: CaptureFlags = CaptureFlags::AUXILIARY_PAGES
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::HANDLES)
    .union(CaptureFlags::VA_SPACE);

const HANDLE_DETAIL: CaptureFlags = CaptureFlags::HANDLES
    .union(CaptureFlags::HANDLE_NAME_INFORMATION)
    .union(CaptureFlags::HANDLE_BASIC_INFORMATION)
    .union(CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION);

/// Every class, with every part an entry can borrow (names, contexts, page contents).
const EVERY_PART: CaptureFlags = WALKABLE
    .union(HANDLE_DETAIL)
    .union(CaptureFlags::THREAD_CONTEXT)
    .union(CaptureFlags::VA_SPACE_SECTION_INFORMATION);

/// Every class walks this process; each walk's length equals its query's count; every thread
/// belongs to this process; names come without the NUL Windows counts (3.5, 7.3, 8).
#[test]
fn every_walk_class_walks_this_process() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(EVERY_PART).unwrap();
    let thread_walk = snapshot.threads().unwrap();
    let threads: Vec<ThreadEntry<'_>> = thread_walk.iter().map(Result::unwrap).collect();
    assert_eq!(
        threads.len(),
        snapshot.thread_information().unwrap().threads_captured as usize
    );
    assert!(threads.iter().all(|t| t.process_id() == current_pid()));
    assert!(threads.iter().any(|t| t.context_bytes().is_some()));
    drop(threads);
    drop(thread_walk);
    let handles = snapshot.handles().unwrap();
    let mut count = 0;
    for handle in &handles {
        let handle = handle.unwrap();
        count += 1;
        for name in [handle.type_name(), handle.object_name()]
            .into_iter()
            .flatten()
        {
            assert_ne!(
                name.as_utf16().last(),
                Some(&0),
                "{name:?}: the counted NUL is dropped"
            );
        }
        if handle.type_name().is_some_and(|t| t == "File") {
            assert!(handle.object_name().is_none(), "File objects have no name");
        }
    }
    assert_eq!(count, snapshot.handle_count().unwrap() as usize);
    let regions = snapshot.va_space().unwrap();
    let mut count = 0;
    let mut named_images = 0;
    for region in &regions {
        let region = region.unwrap();
        count += 1;
        if let Some(name) = region.mapped_file_name() {
            assert_ne!(name.as_utf16().last(), Some(&0), "{name:?}");
            named_images += usize::from(region.region().kind == MemoryType::Image);
        }
    }
    assert_eq!(count, snapshot.region_count().unwrap() as usize);
    assert!(named_images > 0, "this program's image is mapped");
    let pages = snapshot.auxiliary_pages().unwrap();
    assert_eq!(
        pages.iter().map(Result::unwrap).count(),
        snapshot.auxiliary_page_count().unwrap() as usize
    );
    drop((handles, regions, pages));
    drop(snapshot);
    assert_no_leaks();
}

/// A class that was not captured yields one error, after one call, and then nothing:
/// `NotCaptured` naming the flag, or for threads `NotFound` with the causes (3.5).
#[test]
fn walk_of_an_uncaptured_class_yields_one_error() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let cases = [
        (
            snapshot
                .handles()
                .map(|w| w.iter().map(|e| e.map(drop)).collect::<Vec<_>>()),
            CaptureFlags::HANDLES,
        ),
        (
            snapshot
                .va_space()
                .map(|w| w.iter().map(|e| e.map(drop)).collect()),
            CaptureFlags::VA_SPACE,
        ),
        (
            snapshot
                .auxiliary_pages()
                .map(|w| w.iter().map(|e| e.map(drop)).collect()),
            CaptureFlags::AUXILIARY_PAGES,
        ),
    ];
    for (items, flag) in cases {
        let items = items.unwrap();
        assert_eq!(items.len(), 1, "stops after the first error");
        let error = items[0].unwrap_err();
        assert_eq!(error.function(), Function::PssWalkSnapshot);
        assert_eq!(error.kind(), ErrorKind::NotCaptured(flag));
    }
    let bare = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let walk = bare.threads().unwrap();
    let mut iter = walk.iter();
    let error = expect::calls(Call::PssWalkSnapshot, 1, || {
        let error = iter.next().unwrap().unwrap_err();
        assert!(iter.next().is_none());
        error
    });
    assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND));
    assert!(error.reason().unwrap().contains("PSS_CAPTURE_THREADS"));
    drop(walk);
    drop((snapshot, bare));
    assert_no_leaks();
}

/// A saved position replays the same entry (`resume` continues from it); rewind starts over;
/// after the end `resume` yields nothing until the marker is moved back, while `iter` starts
/// over by itself (3.8-3.10).
#[test]
fn position_save_restore_and_rewind() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_SPACE).unwrap();
    let walk = snapshot.va_space().unwrap();
    let base = |e: pss::Result<pss::VaSpaceEntry<'_>>| e.unwrap().region().base_address;
    let mut iter = walk.iter();
    let first = base(iter.next().unwrap());
    let saved = walk.position().unwrap();
    let second = base(iter.next().unwrap());
    assert_ne!(first, second);
    iter.by_ref().for_each(drop);
    assert_eq!(walk.resume().count(), 0, "the walk is at its end");
    walk.set_position(saved).unwrap();
    assert_eq!(base(walk.resume().next().unwrap()), second);
    walk.rewind().unwrap();
    assert_eq!(base(walk.resume().next().unwrap()), first);
    assert_eq!(base(walk.iter().next().unwrap()), first, "iter starts over");
    drop(walk);
    drop(snapshot);
    assert_no_leaks();
}

/// A second `for` loop over the same walk sees every entry again: `iter` (and `&walk`) rewinds
/// a marker that moved, with one `PssWalkMarkerSeekToBeginning`, and on a fresh walk calls
/// nothing extra.
#[test]
fn a_second_for_loop_sees_every_entry() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_SPACE).unwrap();
    let walk = snapshot.va_space().unwrap();
    let first = expect::calls(Call::PssWalkMarkerSeekToBeginning, 0, || {
        let mut n = 0;
        for entry in &walk {
            entry.unwrap();
            n += 1;
        }
        n
    });
    assert!(first > 0);
    let second = expect::calls(Call::PssWalkMarkerSeekToBeginning, 1, || {
        let mut n = 0;
        for entry in &walk {
            entry.unwrap();
            n += 1;
        }
        n
    });
    assert_eq!(second, first);
    drop(walk);
    drop(snapshot);
    assert_no_leaks();
}

/// A position saved on one walk cannot be restored on another: refused before kernel32 is
/// called (3.9, 11.14).
#[test]
fn position_from_another_walk_is_refused() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_SPACE).unwrap();
    let (a, b) = (snapshot.va_space().unwrap(), snapshot.va_space().unwrap());
    a.iter().next();
    let from_a = a.position().unwrap();
    let error = expect::calls(Call::PssWalkMarkerSetPosition, 0, || {
        b.set_position(from_a).unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::ForeignPosition);
    assert_eq!(error.function(), Function::PssWalkMarkerSetPosition);
    assert_eq!(error.code(), None);
    a.set_position(from_a).unwrap();
    drop((a, b));
    drop(snapshot);
    assert_no_leaks();
}

/// `into_owned` copies names, contexts and contents, so owned entries outlive the walk and
/// its snapshot, equal to what was borrowed.
#[test]
fn owned_entries_outlive_the_walk() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(EVERY_PART).unwrap();
    let threads = snapshot.threads().unwrap();
    let thread = threads.iter().next().unwrap().unwrap();
    let context = thread.context_bytes().map(<[u8]>::to_vec);
    let thread = thread.into_owned();
    drop(threads);
    let handles = snapshot.handles().unwrap();
    let handle = handles
        .iter()
        .map(Result::unwrap)
        .find(|h| h.object_name().is_some())
        .expect("a named handle");
    let name = handle.object_name().unwrap().to_string_lossy();
    let handle = handle.into_owned();
    drop(handles);
    let regions = snapshot.va_space().unwrap();
    let region = regions
        .iter()
        .map(Result::unwrap)
        .find(|r| r.mapped_file_name().is_some())
        .expect("a mapped region");
    let path = region.mapped_file_name().unwrap().to_string_lossy();
    let region = region.into_owned();
    drop(regions);
    let pages = snapshot.auxiliary_pages().unwrap();
    let page = pages.iter().next().map(|p| p.unwrap().into_owned());
    drop(pages);
    snapshot.close().unwrap();
    assert_no_leaks();
    assert_eq!(thread.context_bytes().map(<[u8]>::to_vec), context);
    // The raw pointers now point to the entries' own copies; a context record stays 16-byte
    // aligned, as Windows aligns it.
    let record = thread.as_raw().ContextRecord;
    assert_eq!(record.is_null(), context.is_none());
    assert_eq!(record.addr() % 16, 0);
    assert_eq!(
        thread.context_bytes().map(<[u8]>::as_ptr),
        context.as_ref().map(|_| record.cast::<u8>().cast_const())
    );
    assert_eq!(handle.object_name().unwrap().to_string_lossy(), name);
    assert_eq!(
        handle.as_raw().ObjectName,
        handle.object_name().unwrap().as_utf16().as_ptr()
    );
    assert_eq!(region.mapped_file_name().unwrap().to_string_lossy(), path);
    // A clone of an owned entry copies the parts again: it outlives the original.
    let copy = handle.clone();
    assert_ne!(copy.as_raw().ObjectName, handle.as_raw().ObjectName);
    drop(handle);
    assert_eq!(copy.object_name().unwrap().to_string_lossy(), name);
    // Owned entries move to other threads with their parts.
    let send = std::thread::spawn(move || {
        let page = page.map(|p| (p.page_size(), p.contents().map(<[u8]>::len)));
        (
            thread.thread_id(),
            thread.context_bytes().map(<[u8]>::len),
            page,
        )
    });
    let (thread_id, context_len, page) = send.join().unwrap();
    assert_ne!(thread_id, 0);
    assert_eq!(context_len, context.map(|c| c.len()));
    if let Some((size, contents)) = page {
        assert_eq!(contents.unwrap_or(0), size as usize);
    }
}

/// Thread-context flags are an option of the capture: `ContextFlags::ALL` by default with
/// `THREAD_CONTEXT`, the caller's own with `CaptureOptions::context` (which adds the flag); the
/// register accessors read only what the record's own flags say it holds.
#[test]
fn context_flags_are_an_option_and_registers_follow_them() {
    require_pss!();
    let first_thread = |options: pss::CaptureOptions| {
        let snapshot = LocalSnapshot::capture(pss::current_process(), options).unwrap();
        let walk = snapshot.threads().unwrap();
        let thread = walk.iter().next().unwrap().unwrap();
        thread.into_owned()
    };
    let all = first_thread((CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT).into());
    let flags = ContextFlags::from_bits_retain(all.context().unwrap().ContextFlags);
    assert!(flags.contains(ContextFlags::ALL), "{flags:?}");
    assert!(all.instruction_pointer().is_some());
    assert!(all.stack_pointer().is_some_and(|sp| sp != 0));
    assert!(all.frame_pointer().is_some());

    let options = CaptureOptions::new(CaptureFlags::THREADS).context(ContextFlags::CONTROL);
    assert!(options.flags().contains(CaptureFlags::THREAD_CONTEXT));
    assert_eq!(options.context_flags(), ContextFlags::CONTROL);
    let control = first_thread(options);
    let flags = ContextFlags::from_bits_retain(control.context().unwrap().ContextFlags);
    assert!(flags.contains(ContextFlags::CONTROL), "{flags:?}");
    assert!(control.instruction_pointer().is_some());
    assert!(control.stack_pointer().is_some());
    // On x64 the frame pointer, Rbp, is an integer register: not in a control-only record.
    let x64 = cfg!(not(any(target_arch = "x86", target_arch = "aarch64")));
    assert_eq!(control.frame_pointer().is_some(), !x64);

    let none = first_thread(CaptureFlags::THREADS.into());
    assert_eq!(
        CaptureOptions::new(CaptureFlags::THREADS).context_flags(),
        ContextFlags::NONE
    );
    assert!(none.context_bytes().is_none());
    assert_eq!(
        (
            none.instruction_pointer(),
            none.stack_pointer(),
            none.frame_pointer()
        ),
        (None, None, None)
    );
    assert_no_leaks();
}

/// `current_process()` is this process: capturing through it is capturing this process.
#[test]
fn current_process_is_this_process() {
    require_pss!();
    let snapshot = LocalSnapshot::capture(pss::current_process(), CaptureFlags::NONE).unwrap();
    assert_eq!(
        snapshot.process_information().unwrap().process_id(),
        current_pid()
    );
    // A snapshot duplicated into this process through it is a remote snapshot of this process,
    // which can be duplicated back.
    let remote = snapshot.duplicate_into(pss::current_process()).unwrap();
    let back = remote.duplicate_to_local().unwrap();
    assert_eq!(
        back.process_information().unwrap().process_id(),
        current_pid()
    );
    drop((snapshot, remote, back));
    assert_no_leaks();
}

/// Borrowed entries are copies of the structure: cloning one, or copying it out of the
/// iterator, allocates nothing and keeps it borrowing the walk; `into_owned` of an owned entry
/// copies nothing more.
#[test]
fn lent_and_cloned_entries_borrow_the_walk() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(EVERY_PART).unwrap();
    let handles = snapshot.handles().unwrap();
    let mut entries = handles.iter();
    let mut kept = Vec::new();
    while let Some(entry) = entries.next_ref() {
        kept.push(entry.unwrap().clone());
    }
    let walked: Vec<_> = {
        handles.rewind().unwrap();
        handles.iter().map(Result::unwrap).collect()
    };
    assert_eq!(kept.len(), walked.len());
    for (lent, copied) in kept.iter().zip(&walked) {
        assert_eq!(lent.handle_value(), copied.handle_value());
        assert_eq!(lent.type_name(), copied.type_name());
        // Not copied: the name is read where the structure points, in the marker's memory.
        if let Some(name) = lent.type_name() {
            assert_eq!(name.as_utf16().as_ptr(), lent.as_raw().TypeName);
        }
    }
    let owned = walked[0].clone().into_owned();
    let name = owned.as_raw().TypeName;
    assert_eq!(owned.into_owned().as_raw().TypeName, name);
}

/// `try_for_each_ref` visits what the iterator yields, stops at the caller's error, and turns
/// the walk's own error into the caller's error type.
#[test]
fn try_for_each_ref_visits_every_entry_and_stops_on_errors() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(EVERY_PART).unwrap();
    let threads = snapshot.threads().unwrap();
    let ids: Vec<u32> = threads.iter().map(|t| t.unwrap().thread_id()).collect();
    threads.rewind().unwrap();
    let mut visited = Vec::new();
    threads
        .iter()
        .try_for_each_ref(|t| {
            visited.push(t.thread_id());
            pss::Result::Ok(())
        })
        .unwrap();
    assert_eq!(visited, ids);
    // Stopped by the caller after the first entry: the next call goes on from the second.
    threads.rewind().unwrap();
    let mut entries = threads.iter();
    /// The caller's own error type.
    #[derive(Debug, PartialEq)]
    enum Stop {
        Here,
        Walk,
    }
    impl From<pss::Error> for Stop {
        fn from(_: pss::Error) -> Stop {
            Stop::Walk
        }
    }
    assert_eq!(
        entries.try_for_each_ref(|_| Err(Stop::Here)),
        Err(Stop::Here)
    );
    let rest: Vec<u32> = entries.map(|t| t.unwrap().thread_id()).collect();
    assert_eq!(rest, ids[1..]);
    // A class that was not captured: the walk's error, converted.
    let plain = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let handles = plain.handles().unwrap();
    let mut entries = handles.iter();
    let error = entries
        .try_for_each_ref(|_| Ok::<(), pss::Error>(()))
        .unwrap_err();
    assert_eq!(
        error.kind(),
        pss::ErrorKind::NotCaptured(CaptureFlags::HANDLES)
    );
    assert!(entries.next().is_none(), "ended after the error");
}

/// `close` frees the marker and reports success; dropping a walk frees it too.
#[test]
fn close_and_drop_free_the_marker() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::THREADS).unwrap();
    let walk = snapshot.threads().unwrap();
    expect::live_markers(1);
    walk.close().unwrap();
    expect::live_markers(0);
    let walk = snapshot.threads().unwrap();
    drop(walk);
    expect::live_markers(0);
    drop(snapshot);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss::{
        EventObject, ExitStatus, HandleFlags, MemoryProtection, MemoryState, MutantObject,
        ObjectType, SemaphoreObject, ThreadFlags, TypeSpecific,
    };
    use pss_tests::model::*;
    use std::borrow::Cow;

    /// A process with `n` threads, handles, regions and auxiliary pages.
    fn with_entries(n: usize) -> ProcessSpec {
        (0..n).fold(ProcessSpec::new(), |spec, i| {
            spec.thread(ThreadSpec::new(0x100 + 4 * i as u32))
                .handle(HandleSpec::event(0x40 + 4 * i, false, false))
                .region(RegionSpec::private(0x10_0000 + 0x1000 * i, 0x1000))
                .aux_page(AuxPageSpec::with_contents(
                    0x10_0000 + 0x1000 * i,
                    vec![i as u8; 8],
                ))
        })
    }

    /// The register accessors return the registers of the captured record: the model writes
    /// the thread's instruction, stack and frame pointers where the record's flags cover them.
    #[test]
    fn registers_come_from_the_context_record() {
        let spec =
            ProcessSpec::new().thread(ThreadSpec::new(0x100).registers(0x1234, 0x5678, 0x9abc));
        let (_process, snapshot) =
            spawn_and_capture(spec, CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT);
        let walk = snapshot.threads().unwrap();
        let thread = walk.iter().next().unwrap().unwrap();
        assert_eq!(thread.instruction_pointer(), Some(0x1234));
        assert_eq!(thread.stack_pointer(), Some(0x5678));
        assert_eq!(thread.frame_pointer(), Some(0x9abc));
        assert_eq!(
            thread.context().unwrap().ContextFlags,
            ContextFlags::ALL.bits()
        );
    }

    /// Every class walks processes with one and many entries; the count equals the query's
    /// (3.5, 7.3). (Zero entries: `parts_without_entries`.)
    #[test]
    fn every_walk_class_yields_one_and_many_entries() {
        for n in [1, 5] {
            let (_process, snapshot) = spawn_and_capture(with_entries(n), WALKABLE);
            let threads = snapshot.threads().unwrap();
            assert_eq!(threads.iter().map(Result::unwrap).count(), n);
            assert_eq!(
                snapshot.thread_information().unwrap().threads_captured as usize,
                n
            );
            let handles = snapshot.handles().unwrap();
            assert_eq!(handles.iter().map(Result::unwrap).count(), n);
            assert_eq!(snapshot.handle_count().unwrap() as usize, n);
            let regions = snapshot.va_space().unwrap();
            assert_eq!(regions.iter().map(Result::unwrap).count(), n);
            assert_eq!(snapshot.region_count().unwrap() as usize, n);
            let pages = snapshot.auxiliary_pages().unwrap();
            let entries: Vec<_> = pages.iter().map(Result::unwrap).collect();
            assert_eq!(entries.len(), n);
            assert_eq!(snapshot.auxiliary_page_count().unwrap() as usize, n);
            for (i, page) in entries.iter().enumerate() {
                assert_eq!(page.contents(), Some(&[i as u8; 8][..]));
            }
            drop(entries);
            drop((threads, handles, regions, pages));
            drop(snapshot);
        }
        assert_no_leaks();
    }

    /// What Windows does where a part has no entries (WINDOWS-EVIDENCE Second audit): no
    /// threads enumerated is no thread data at all (`NOT_FOUND`, with the causes as the reason);
    /// no handles fails a capture with `HANDLES` (`BAD_LENGTH`); no regions fails one with
    /// `VA_SPACE` (`INVALID_PARAMETER`); an auxiliary page that cannot be queried is not
    /// counted, and the walk is empty.
    #[test]
    fn parts_without_entries() {
        let spec = ProcessSpec::new()
            .region(RegionSpec::private(0x10_0000, 0x1000))
            .aux_page_unqueryable();
        let flags = CaptureFlags::THREADS | CaptureFlags::AUXILIARY_PAGES | CaptureFlags::VA_SPACE;
        let (process, snapshot) = spawn_and_capture(spec, flags);
        let threads = snapshot.threads().unwrap();
        let error = threads.iter().next().unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND));
        assert!(error.reason().is_some());
        drop(threads);
        assert_eq!(snapshot.auxiliary_page_count().unwrap(), 0);
        assert_eq!(snapshot.auxiliary_pages().unwrap().iter().count(), 0);
        let handle =
            pss::open_process(process.pid(), pss::ProcessAccess::for_capture(WALKABLE)).unwrap();
        let error = LocalSnapshot::capture(&handle, CaptureFlags::HANDLES).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::BAD_LENGTH));
        drop(handle);
        let empty = ProcessSpec::new().spawn();
        let handle =
            pss::open_process(empty.pid(), pss::ProcessAccess::for_capture(WALKABLE)).unwrap();
        let error = LocalSnapshot::capture(&handle, CaptureFlags::VA_SPACE).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::INVALID_PARAMETER));
        drop((handle, snapshot));
        assert_no_leaks();
    }

    /// `thread_names` pairs with `threads` by order, and a kernel32 that does not know the
    /// class gives one `INVALID_PARAMETER` whose reason says so.
    #[test]
    fn thread_names_walk_in_thread_order() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4).named("main"))
            .thread(ThreadSpec::new(8))
            .thread_names();
        let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::THREADS);
        let threads = snapshot.threads().unwrap();
        let names = snapshot.thread_names().unwrap();
        let pairs: Vec<(u32, Option<String>)> = threads
            .iter()
            .zip(names.iter())
            .map(|(t, n)| {
                let name = n.unwrap().name().map(|w| w.to_string_lossy());
                (t.unwrap().thread_id(), name)
            })
            .collect();
        assert_eq!(pairs, [(4, Some("main".into())), (8, None)]);
        let owned = names
            .rewind()
            .map(|()| names.iter().next().unwrap().unwrap().into_owned());
        drop((threads, names));
        assert_eq!(owned.unwrap().name().unwrap().to_string_lossy(), "main");
        let old = snapshot_of_this_process(CaptureFlags::THREADS);
        let error = old
            .thread_names()
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::INVALID_PARAMETER));
        assert!(error.reason().unwrap().contains("PSS_WALK_THREAD_NAME"));
        drop((snapshot, old));
        assert_no_leaks();
    }

    fn snapshot_of_this_process(flags: CaptureFlags) -> LocalSnapshot {
        LocalSnapshot::capture_current(flags).unwrap()
    }

    /// A walk of N entries costs exactly: one `PssWalkMarkerCreate`, N + 1 `PssWalkSnapshot` (the
    /// last one answering `ERROR_NO_MORE_ITEMS`), one `PssWalkMarkerFree`; nothing else (3.5).
    #[test]
    fn walk_makes_one_kernel32_call_per_entry() {
        pss::is_available();
        for n in [1, 4] {
            let (_process, snapshot) = spawn_and_capture(with_entries(n), WALKABLE);
            reset_calls();
            let walk = snapshot.handles().unwrap();
            let mut seen = 0;
            for entry in &walk {
                entry.unwrap();
                seen += 1;
                assert_eq!(
                    call_count(Call::PssWalkSnapshot),
                    seen,
                    "one call per entry"
                );
            }
            assert_eq!(
                walk.resume().count(),
                0,
                "resumed after the end: nothing, for one more call"
            );
            drop(walk);
            let expected = std::collections::BTreeMap::from([
                (Call::PssWalkMarkerCreate, 1),
                (Call::PssWalkMarkerFree, 1),
                (Call::PssWalkSnapshot, n as u64 + 2),
            ]);
            assert_eq!(calls(), expected, "n = {n}");
            drop(snapshot);
        }
        assert_no_leaks();
    }

    /// Thread entries are typed; terminated threads that still have handles are walked and
    /// flagged (8; PITFALLS 9).
    #[test]
    fn thread_entries_flag_terminated_threads() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .thread(ThreadSpec::new(8).terminated(259).suspended(2));
        let (process, snapshot) = spawn_and_capture(spec, CaptureFlags::THREADS);
        let walk = snapshot.threads().unwrap();
        let threads: Vec<_> = walk.iter().map(Result::unwrap).collect();
        let (running, gone) = (&threads[0], &threads[1]);
        assert_eq!(
            (running.thread_id(), running.process_id()),
            (4, process.pid())
        );
        assert!(!running.is_terminated());
        assert_eq!(running.exit_status(), ExitStatus::Running);
        assert_eq!(running.exit_time(), None);
        assert!(running.create_time().is_some() && running.capture_time().is_some());
        assert_ne!(running.start_address(), 0);
        assert_eq!(gone.flags(), ThreadFlags::TERMINATED);
        assert!(gone.is_terminated());
        assert_eq!(
            gone.exit_status(),
            ExitStatus::Exited(259),
            "not STILL_ACTIVE"
        );
        assert_eq!(gone.suspend_count(), 2);
        assert_eq!(running.context_bytes(), None, "no context captured");
        assert!(running.context().is_none());
        drop(threads);
        drop(walk);
        drop(snapshot);
        assert_no_leaks();
    }

    /// Context records: a full aligned record is borrowed as `&CONTEXT`; a full misaligned one is
    /// copied; a short one gives its bytes but no `CONTEXT`; bytes are never read past
    /// `SizeOfContextRecord` (8, 11.16; PITFALLS 7).
    #[test]
    fn context_records_borrowed_copied_or_too_short() {
        let full = size_of::<pss_sys::CONTEXT>();
        let pattern: Vec<u8> = (0..full).map(|i| i as u8).collect();
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(4))
            .thread(ThreadSpec::new(8).context_record(pattern.clone(), 1))
            .thread(ThreadSpec::new(12).context_record(vec![7; 40], 0));
        let (_process, snapshot) =
            spawn_and_capture(spec, CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT);
        let walk = snapshot.threads().unwrap();
        let threads: Vec<_> = walk.iter().map(Result::unwrap).collect();
        assert_eq!(threads[0].context_bytes().map(<[u8]>::len), Some(full));
        assert!(matches!(threads[0].context(), Some(Cow::Borrowed(_))));
        assert_eq!(threads[1].context_bytes(), Some(&pattern[..]));
        let copied = threads[1].context().unwrap();
        assert!(matches!(copied, Cow::Owned(_)), "misaligned: copied");
        // SAFETY: `CONTEXT` is plain data; view the copy's bytes to compare them.
        let copy_bytes =
            unsafe { std::slice::from_raw_parts((&raw const *copied).cast::<u8>(), full) };
        assert_eq!(copy_bytes, &pattern[..]);
        assert_eq!(threads[2].context_bytes(), Some(&[7u8; 40][..]));
        assert!(threads[2].context().is_none(), "too short for CONTEXT");
        drop(threads);
        drop(walk);
        drop(snapshot);
        assert_no_leaks();
    }

    /// Handle entries: without detail flags only the value; with them type, names, basic and
    /// type-specific information, each arm typed (7.4, 8).
    #[test]
    fn handle_entries_expose_parts_only_under_their_flags() {
        let spec = ProcessSpec::new()
            .handle(HandleSpec::event(4, true, true).named(r"\BaseNamedObjects\ready"))
            .handle(HandleSpec::mutant(8, 1, true))
            .handle(HandleSpec::semaphore(12, 2, 5))
            .handle(HandleSpec::process(16, 77, 70))
            .handle(HandleSpec::thread(20, 77, 78))
            .handle(HandleSpec::section(24, 0x2000))
            .handle(HandleSpec::other(28, "File").named(r"\Device\HarddiskVolume3\log.txt"));
        let (_a, bare) = spawn_and_capture(spec.clone(), CaptureFlags::HANDLES);
        let walk = bare.handles().unwrap();
        for entry in &walk {
            // HANDLES alone: the type name, nothing else (WINDOWS-EVIDENCE Walk, Handle type).
            let entry = entry.unwrap();
            assert_eq!(entry.flags(), HandleFlags::HAVE_TYPE);
            assert_eq!(entry.object_type(), Some(ObjectType::Unknown));
            assert!(entry.type_name().is_some() && entry.object_name().is_none());
            assert!(entry.basic_information().is_none() && entry.type_specific().is_none());
        }
        drop(walk);
        let (_b, full) = spawn_and_capture(spec, HANDLE_DETAIL);
        let walk = full.handles().unwrap();
        let e: Vec<_> = walk.iter().map(Result::unwrap).collect();
        assert_eq!(e[0].handle_value(), 4);
        assert_eq!(e[0].object_type(), Some(ObjectType::Event));
        assert_eq!(e[0].type_name().unwrap(), "Event");
        assert_eq!(e[0].object_name().unwrap(), r"\BaseNamedObjects\ready");
        let basic = e[0].basic_information().unwrap();
        assert_eq!((basic.granted_access, basic.handle_count), (0x001F_0003, 1));
        assert!(matches!(
            e[0].type_specific(),
            Some(TypeSpecific::Event(EventObject {
                manual_reset: true,
                signaled: true,
                ..
            }))
        ));
        assert!(matches!(
            e[1].type_specific(),
            Some(TypeSpecific::Mutant(MutantObject {
                abandoned: true,
                current_count: 1,
                ..
            }))
        ));
        assert_eq!(e[1].object_name(), None, "unnamed");
        assert!(matches!(
            e[2].type_specific(),
            Some(TypeSpecific::Semaphore(SemaphoreObject {
                current_count: 2,
                maximum_count: 5,
                ..
            }))
        ));
        let Some(TypeSpecific::Process(p)) = e[3].type_specific() else {
            panic!()
        };
        assert_eq!(
            (p.process_id, p.parent_process_id, p.exit_status_raw),
            (77, 70, 259)
        );
        let Some(TypeSpecific::Thread(t)) = e[4].type_specific() else {
            panic!()
        };
        assert_eq!((t.process_id, t.thread_id), (77, 78));
        let Some(TypeSpecific::Section(s)) = e[5].type_specific() else {
            panic!()
        };
        assert_eq!(s.maximum_size, 0x2000);
        assert_eq!(e[6].object_type(), Some(ObjectType::Unknown));
        assert_eq!(e[6].type_name().unwrap(), "File");
        assert_eq!(e[6].object_name(), None, "File objects are never named");
        assert_eq!(e[6].type_specific(), None, "no type-specific data for File");
        drop(e);
        drop(walk);
        drop((bare, full));
        assert_no_leaks();
    }

    /// An empty name is no name (`None`), for every name accessor; names are read exactly to
    /// their byte count (8).
    #[test]
    fn empty_names_are_none_and_counted_names_read_exactly() {
        let long = "x".repeat(250);
        let spec = ProcessSpec::new()
            .handle(HandleSpec::other(4, ""))
            .handle(HandleSpec::other(8, "Key").named(&long));
        let (_process, snapshot) = spawn_and_capture(spec, HANDLE_DETAIL);
        let walk = snapshot.handles().unwrap();
        let e: Vec<_> = walk.iter().map(Result::unwrap).collect();
        assert_eq!(e[0].type_name(), None);
        assert!(
            e[0].flags().contains(pss::HandleFlags::HAVE_TYPE),
            "flagged, yet empty"
        );
        assert_eq!(e[0].object_name(), None);
        assert_eq!(e[1].object_name().unwrap().len(), 250);
        assert_eq!(
            usize::from(e[1].as_raw().ObjectNameLength),
            2 * 251,
            "Windows counts the NUL"
        );
        assert_eq!(e[1].object_name().unwrap().try_to_string().unwrap(), long);
        drop(e);
        drop(walk);
        drop(snapshot);
        assert_no_leaks();
    }

    /// VA entries: typed state, protection and type; PE values and the NT-namespace mapped file
    /// name only with section information, a name filling its WORD count exactly included (8).
    #[test]
    fn va_entries_carry_image_values_and_nt_paths() {
        // The longest name a WORD byte count can carry with its NUL: 32766 units (Miri: a
        // shorter one, to keep the run light).
        let units = if cfg!(miri) { 300 } else { 32766 };
        let longest = format!(r"\Device\HarddiskVolume3\{}", "d".repeat(units - 24));
        let spec = ProcessSpec::new()
            .region(RegionSpec::image(
                0x40_0000,
                0x2_0000,
                r"\Device\HarddiskVolume3\app.exe",
            ))
            .region(RegionSpec::free(0x42_0000, 0x1000))
            .region(RegionSpec::mapped(0x50_0000, 0x3000, &longest));
        let (_a, plain) = spawn_and_capture(spec.clone(), CaptureFlags::VA_SPACE);
        let walk = plain.va_space().unwrap();
        let e: Vec<_> = walk.iter().map(Result::unwrap).collect();
        assert_eq!(e[0].region().kind, MemoryType::Image);
        assert_eq!(e[0].image(), None, "no section information");
        assert!(e[0].mapped_file_name().is_none());
        drop(e);
        drop(walk);
        let (_b, sections) = spawn_and_capture(
            spec,
            CaptureFlags::VA_SPACE | CaptureFlags::VA_SPACE_SECTION_INFORMATION,
        );
        let walk = sections.va_space().unwrap();
        let e: Vec<_> = walk.iter().map(Result::unwrap).collect();
        let image = e[0].region();
        assert_eq!(
            (image.base_address, image.region_size),
            (0x40_0000, 0x2_0000)
        );
        assert_eq!(image.range(), 0x40_0000..0x42_0000);
        assert_eq!(image.state, MemoryState::Commit);
        assert_eq!(image.protect, MemoryProtection::EXECUTE_READ);
        assert_eq!(image.protect.to_string(), "r-x");
        let pe = e[0].image().unwrap();
        assert_eq!((pe.size_of_image, pe.image_base), (0x2_0000, 0x40_0000));
        assert_eq!(
            e[0].mapped_file_name().unwrap(),
            r"\Device\HarddiskVolume3\app.exe"
        );
        let free = e[1].region();
        assert_eq!(
            (free.state, free.kind, free.allocation_base),
            (MemoryState::Free, MemoryType::None, 0)
        );
        assert!(e[1].mapped_file_name().is_none() && e[1].image().is_none());
        assert_eq!(e[2].region().kind, MemoryType::Mapped);
        assert_eq!(
            usize::from(e[2].as_raw().MappedFileNameLength),
            2 * (units + 1),
            "the name and its counted NUL"
        );
        assert_eq!(e[2].mapped_file_name().unwrap().len(), units);
        assert_eq!(
            e[2].mapped_file_name().unwrap().try_to_string().unwrap(),
            longest
        );
        drop(e);
        drop(walk);
        drop((plain, sections));
        assert_no_leaks();
    }

    /// Auxiliary pages: contents borrowed from the marker, exactly `PageSize` bytes, or none (8).
    #[test]
    fn auxiliary_page_entries_borrow_their_contents() {
        let spec = ProcessSpec::new()
            .region(RegionSpec::private(0x5000, 0x1000))
            .aux_page(AuxPageSpec::with_contents(0x5000, vec![9; 4096]))
            .aux_page(AuxPageSpec::without_contents(0x6000));
        let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::AUXILIARY_PAGES);
        let walk = snapshot.auxiliary_pages().unwrap();
        let e: Vec<_> = walk.iter().map(Result::unwrap).collect();
        assert_eq!((e[0].address(), e[0].page_size()), (0x5000, 4096));
        assert_eq!(e[0].contents(), Some(&[9u8; 4096][..]));
        assert_eq!(e[0].basic_information().kind, MemoryType::Private);
        assert!(e[0].capture_time().is_some());
        assert_eq!((e[1].address(), e[1].contents()), (0x6000, None));
        drop(e);
        drop(walk);
        drop(snapshot);
        assert_no_leaks();
    }

    /// Entries borrow the walk, not the iterator: they stay valid across later steps, a rewind and
    /// a second pass (2.2, 11.8).
    #[test]
    fn entries_stay_valid_across_later_steps_and_rewind() {
        let spec = ProcessSpec::new()
            .handle(HandleSpec::event(4, false, false).named("first"))
            .handle(HandleSpec::event(8, false, false).named("second"));
        let (_process, snapshot) = spawn_and_capture(spec, HANDLE_DETAIL);
        let walk = snapshot.handles().unwrap();
        let first_pass: Vec<_> = walk.iter().map(Result::unwrap).collect();
        walk.rewind().unwrap();
        let second_pass: Vec<_> = walk.iter().map(Result::unwrap).collect();
        for pass in [&first_pass, &second_pass] {
            let names: Vec<String> = pass
                .iter()
                .map(|e| e.object_name().unwrap().try_to_string().unwrap())
                .collect();
            assert_eq!(names, ["first", "second"]);
        }
        drop(first_pass);
        drop(second_pass);
        drop(walk);
        drop(snapshot);
        assert_no_leaks();
    }
}
