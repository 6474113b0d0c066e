//! Hostile but legal-looking entries (`ProcessSpec::hostile`, shapes listed in
//! `model::hostile`): every accessor of every entry returns a value or `None`, never panics,
//! and never reads past a length or follows a pointer no flag vouches for. Every hostile buffer
//! is its own allocation of exactly its length, so under Miri (which runs this file for 64- and
//! 32-bit targets) any such read is reported. Model-only: Windows cannot be made to hand these
//! out.
#![cfg(not(windows))]

use pss::{
    AuxiliaryPageEntry, CaptureFlags, HandleEntry, LocalSnapshot, ThreadEntry, ThreadNameEntry,
    TypeSpecific, VaSpaceEntry, WideStr,
};
use pss_tests::model::*;
use pss_tests::*;

/// Entries per class: every hostile shape of each class (8 handle, 6 thread, 4 region and 3
/// page shapes) twice, or once under Miri (a reduced case count).
const ROUNDS: usize = if cfg!(miri) { 1 } else { 2 };
const HANDLES: usize = 8 * ROUNDS;
const THREADS: usize = 6 * ROUNDS;
const REGIONS: usize = 4 * ROUNDS;
const PAGES: usize = 3 * ROUNDS;

fn hostile_process() -> ProcessSpec {
    let mut spec = ProcessSpec::new().hostile();
    for i in 0..HANDLES {
        spec =
            spec.handle(HandleSpec::event(0x40 + 4 * i, true, false).named(r"\BaseNamedObjects\h"));
    }
    for i in 0..THREADS {
        spec = spec.thread(ThreadSpec::new(0x300 + 4 * i as u32));
    }
    for i in 0..REGIONS {
        spec = spec.region(RegionSpec::image(
            0x40_0000 + 0x1_0000 * i,
            0x1000,
            r"\Device\HarddiskVolume3\x.dll",
        ));
    }
    for i in 0..PAGES {
        spec = spec.aux_page(AuxPageSpec::with_contents(
            0x40_0000 + 0x1000 * i,
            vec![1; 32],
        ));
    }
    spec
}

const EVERYTHING: CaptureFlags = CaptureFlags::THREADS
    .union(CaptureFlags::THREAD_CONTEXT)
    .union(CaptureFlags::HANDLES)
    .union(CaptureFlags::HANDLE_NAME_INFORMATION)
    .union(CaptureFlags::HANDLE_BASIC_INFORMATION)
    .union(CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION)
    .union(CaptureFlags::VA_SPACE)
    .union(CaptureFlags::VA_SPACE_SECTION_INFORMATION)
    .union(CaptureFlags::AUXILIARY_PAGES);

/// Under Miri, names longer than this are read by their units only: formatting 32,767 units
/// one character at a time takes Miri many minutes, and the bounds that matter are those of
/// the units themselves (and of `into_owned`'s copy), which are read in full.
const MIRI_FORMAT_LIMIT: usize = 256;

fn formatted(len: usize) -> bool {
    !cfg!(miri) || len <= MIRI_FORMAT_LIMIT
}

/// A name as read: its length in units, and its lossy text (or, for a long name under Miri, a
/// sum of its units).
type Read = Option<(usize, String)>;

/// Every conversion of a name, which must stay within its units.
fn read_name(name: Option<WideStr<'_>>) -> Read {
    let name = name?;
    let sum: u32 = name.as_utf16().iter().map(|&u| u32::from(u)).sum();
    if !formatted(name.len()) {
        return Some((name.len(), format!("{sum}")));
    }
    let _ = name.try_to_string();
    let _ = name.to_os_string();
    let _ = name.to_path_buf();
    let _ = format!("{name:?}");
    let lossy = name.to_string_lossy();
    assert_eq!(lossy, name.display().to_string());
    Some((name.len(), lossy))
}

fn read_handle(e: &HandleEntry<'_>) -> (Read, Read) {
    let _ = (
        e.handle_value(),
        e.flags(),
        e.object_type(),
        e.capture_time(),
    );
    let _ = (e.basic_information(), e.type_specific(), e.as_raw().Flags);
    if formatted(e.object_name().map_or(0, |n| n.len())) {
        let _ = format!("{e:?}");
    }
    (read_name(e.type_name()), read_name(e.object_name()))
}

fn read_thread(e: &ThreadEntry<'_>) -> Option<usize> {
    let _ = (
        e.process_id(),
        e.thread_id(),
        e.exit_status(),
        e.exit_status_raw(),
    );
    let _ = (
        e.flags(),
        e.is_terminated(),
        e.affinity_mask(),
        e.priority(),
    );
    let _ = (e.base_priority(), e.suspend_count(), e.start_address());
    for time in [e.create_time(), e.exit_time(), e.capture_time()]
        .into_iter()
        .flatten()
    {
        let _ = (time.to_system_time(), time.to_string());
    }
    let _ = (e.kernel_time(), e.user_time());
    let _ = (
        e.context(),
        e.instruction_pointer(),
        e.stack_pointer(),
        e.frame_pointer(),
    );
    let _ = format!("{e:?}");
    e.context_bytes().map(<[u8]>::len)
}

fn read_region(e: &VaSpaceEntry<'_>) -> Read {
    let region = e.region();
    let _ = (region.range(), e.image(), format!("{e:?}"));
    read_name(e.mapped_file_name())
}

fn read_page(e: &AuxiliaryPageEntry<'_>) -> Option<usize> {
    let _ = (e.address(), e.basic_information().range(), e.capture_time());
    let _ = (e.page_size(), format!("{e:?}"));
    e.contents().map(<[u8]>::len)
}

/// Every entry of every class is read through every accessor, borrowed, cloned and owned; the
/// hostile shapes come out as documented.
#[test]
fn every_accessor_survives_hostile_entries() {
    let (process, snapshot) = spawn_and_capture(hostile_process(), EVERYTHING);
    let walk = snapshot.handles().unwrap();
    let handles: Vec<HandleEntry<'_>> = walk.iter().map(Result::unwrap).collect();
    assert_eq!(handles.len(), HANDLES);
    let names: Vec<_> = handles.iter().map(read_handle).collect();
    // 0: an odd byte count reads the whole units only.
    assert_eq!(names[0].0, Some((5, "Event".into())));
    // 1: HAVE_NAME with a NULL name and a length: no name.
    assert_eq!(names[1].1, None);
    // 2: lengths of 0: an empty name is no name, type and object alike.
    assert_eq!((names[2].0.clone(), names[2].1.clone()), (None, None));
    // 3: 32,767 units, no NUL: all of them.
    assert_eq!(names[3].1.as_ref().map(|n| n.0), Some(32_767));
    // 4: unpaired surrogates kept (lossy shows U+FFFD); one of the two NULs dropped.
    let surrogates = handles[4].object_name().unwrap();
    assert!(surrogates.try_to_string().is_err());
    assert_eq!(surrogates.as_utf16(), [0x41, 0xD800, 0x42, 0xDC00, 0]);
    // 5: no NUL to drop, misaligned: copied unit by unit.
    assert_eq!(names[5].0, Some((3, "Key".into())));
    // 6: every flag but no names (an empty name, type or object, is none); an unknown object
    // type has no union arm to read.
    assert_eq!(names[6], (None, None));
    assert!(matches!(
        handles[6].type_specific(),
        Some(TypeSpecific::Unknown(_))
    ));
    // 7: no flags: the unmapped name pointers are never followed.
    assert_eq!(names[7], (None, None));
    let owned: Vec<HandleEntry<'static>> = handles
        .iter()
        .cloned()
        .map(HandleEntry::into_owned)
        .collect();
    drop(handles);
    drop(walk);
    for (entry, name) in owned.iter().zip(&names) {
        assert_eq!(&read_handle(entry), name, "owned copies read the same");
    }

    let walk = snapshot.threads().unwrap();
    let threads: Vec<ThreadEntry<'_>> = walk.iter().map(Result::unwrap).collect();
    assert_eq!(threads.len(), THREADS);
    let contexts: Vec<Option<usize>> = threads.iter().map(read_thread).collect();
    assert_eq!(contexts[0], Some(8));
    assert!(threads[0].context().is_none(), "too short for CONTEXT");
    assert_eq!(threads[0].instruction_pointer(), None);
    assert_eq!(
        threads[1].instruction_pointer(),
        Some(1),
        "misaligned: copied"
    );
    assert_eq!((contexts[2], contexts[3]), (None, None), "NULL, and size 0");
    assert_eq!(threads[5].stack_pointer(), Some(5));
    let owned: Vec<ThreadEntry<'static>> = threads
        .iter()
        .cloned()
        .map(ThreadEntry::into_owned)
        .collect();
    drop(threads);
    drop(walk);
    assert_eq!(owned.iter().map(read_thread).collect::<Vec<_>>(), contexts);

    let walk = snapshot.va_space().unwrap();
    let regions: Vec<VaSpaceEntry<'_>> = walk.iter().map(Result::unwrap).collect();
    let files: Vec<_> = regions.iter().map(read_region).collect();
    assert_eq!(regions[0].region().range().len(), 0);
    assert_eq!(files[1], None, "NULL with a length");
    assert_eq!(files[2], Some((2, "C:".into())), "5 bytes: two whole units");
    assert_eq!(regions[3].image(), None, "an image region without values");
    drop(regions);
    drop(walk);

    let walk = snapshot.auxiliary_pages().unwrap();
    let pages: Vec<Option<usize>> = walk.iter().map(|p| read_page(&p.unwrap())).collect();
    assert_eq!(&pages[..3], [None, None, Some(32)]);
    drop(walk);

    drop(owned);
    drop(snapshot);
    drop(process);
    assert_no_leaks();
}

/// Hostile entries through the zero-copy forms too: lent entries, and copies made from them.
#[test]
fn lent_hostile_entries_read_the_same() {
    let (_process, snapshot) = spawn_and_capture(hostile_process(), EVERYTHING);
    let walk = snapshot.handles().unwrap();
    let mut lent = Vec::new();
    walk.iter()
        .try_for_each_ref(|entry| {
            lent.push(read_handle(entry));
            pss::Result::Ok(())
        })
        .unwrap();
    walk.rewind().unwrap();
    let copied: Vec<_> = walk.iter().map(|e| read_handle(&e.unwrap())).collect();
    assert_eq!(lent, copied);
    let _ = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
}

/// A `for` loop's copy of an entry with a misaligned name points to an aligned copy of it that
/// the walk keeps, and reads as the lent entry does (which keeps kernel32's pointer); a
/// misaligned pointer no flag vouches for is NULL in the copy, never followed. (The model
/// hands out new buffers at every step, so pointers are compared within one step only.)
#[test]
fn for_loops_read_misaligned_names_from_copies_the_walk_keeps() {
    let (process, snapshot) = spawn_and_capture(hostile_process().thread_names(), EVERYTHING);

    let walk = snapshot.handles().unwrap();
    let mut lent = Vec::new();
    walk.iter()
        .try_for_each_ref(|e| {
            let raw = e.as_raw();
            lent.push((raw.TypeName.is_aligned(), read_handle(e)));
            pss::Result::Ok(())
        })
        .unwrap();
    assert_eq!(
        lent.iter().map(|(aligned, _)| !aligned).collect::<Vec<_>>(),
        (0..HANDLES)
            .map(|i| i % 8 == 5 || i % 8 == 7)
            .collect::<Vec<_>>(),
        "lent entries keep kernel32's misaligned pointers"
    );
    walk.rewind().unwrap();
    let copies: Vec<HandleEntry<'_>> = walk.iter().map(Result::unwrap).collect();
    for (i, (copy, (_, read))) in copies.iter().zip(&lent).enumerate() {
        assert_eq!(&read_handle(copy), read, "entry {i} reads as lent");
        let raw = copy.as_raw();
        assert!(raw.TypeName.is_aligned() && raw.ObjectName.is_aligned());
        match i % 8 {
            5 => assert!(!raw.TypeName.is_null(), "flagged: copied"),
            7 => {
                assert!(raw.TypeName.is_null(), "not flagged: NULL");
                assert_eq!(raw.ObjectName.addr(), 0x10, "aligned: as written");
            }
            _ => {}
        }
    }
    // Clones and owned copies of the loop's copies read the same, the owned ones after the
    // walk (and its copies) are gone.
    let cloned: Vec<HandleEntry<'_>> = copies.to_vec();
    assert_eq!(cloned[5].as_raw().TypeName, copies[5].as_raw().TypeName);
    let owned: Vec<HandleEntry<'static>> =
        copies.into_iter().map(HandleEntry::into_owned).collect();
    drop(cloned);
    drop(walk);
    for (entry, (_, read)) in owned.iter().zip(&lent) {
        assert_eq!(&read_handle(entry), read);
    }

    let walk = snapshot.va_space().unwrap();
    let mut lent = Vec::new();
    walk.iter()
        .try_for_each_ref(|e| {
            lent.push((e.as_raw().MappedFileName.is_aligned(), read_region(e)));
            pss::Result::Ok(())
        })
        .unwrap();
    assert!(!lent[2].0, "lent: kernel32's misaligned pointer");
    walk.rewind().unwrap();
    for (i, (copy, (_, read))) in walk.iter().map(Result::unwrap).zip(&lent).enumerate() {
        assert_eq!(&read_region(&copy), read, "region {i} reads as lent");
        assert!(copy.as_raw().MappedFileName.is_aligned());
    }
    // Closing frees the walk's copies too (Miri reports any leak).
    walk.close().unwrap();

    let walk = snapshot.thread_names().unwrap();
    let mut lent = Vec::new();
    walk.iter()
        .try_for_each_ref(|e| {
            lent.push((e.as_raw().ThreadName.is_aligned(), read_name(e.name())));
            pss::Result::Ok(())
        })
        .unwrap();
    assert!(!lent[2].0, "lent: kernel32's misaligned pointer");
    walk.rewind().unwrap();
    let copies: Vec<ThreadNameEntry<'_>> = walk.iter().map(Result::unwrap).collect();
    for (i, (copy, (_, read))) in copies.iter().zip(&lent).enumerate() {
        assert_eq!(
            &read_name(copy.name()),
            read,
            "thread name {i} reads as lent"
        );
        assert!(copy.as_raw().ThreadName.is_aligned());
    }
    drop(copies);
    drop(walk);
    drop(snapshot);
    drop(process);
    assert_no_leaks();
}
