//! Every typed reader `pss` offers over a snapshot of an input's process: each walk's entries
//! through every accessor, read the four ways `pss` hands them out (a `for` loop's copies,
//! `try_for_each_ref`, `next_ref`, owned copies after the walk), which must agree, and again
//! from a saved position; the queries; `main_image`; and reads of the VA clone by every reader
//! (`read`, `read_exact`, `read_value`, the `io::Read` + `Seek` cursor), which must agree on
//! how much of a range is readable. Each walk's heap, and the reads', is bounded.

use std::io::{Read as _, Seek, SeekFrom};

use pss::{
    Allocation, AuxiliaryPageEntry, ContextFlags, HandleEntry, LocalSnapshot, ThreadEntry,
    ThreadNameEntry, VaClone, VaSpaceEntry, WideStr,
};

use super::heap::{self, HEAP_BOUND};
use super::input::{self, Input, read_mode};
use super::process::in_window;

/// Reads one walk four ways and from a saved position; all must give the same facts. A walk
/// the snapshot was captured without gives an error in every way, which is a fact too.
macro_rules! compare_walk {
    ($walk:expr, $entry:ident, $facts:expr) => {{
        let facts: fn(&$entry<'_>, bool) -> String = $facts;
        let mut entries_read = 0;
        if let Ok(walk) = $walk {
            // 1. A `for` loop: copies of the entries.
            let mut copied = Vec::new();
            for entry in walk.iter() {
                match entry {
                    Ok(entry) => copied.push(facts(&entry, true)),
                    Err(e) => copied.push(format!("error: {e}")),
                }
            }
            // 2. try_for_each_ref: entries lent in place.
            let mut lent = Vec::new();
            let end = walk.iter().try_for_each_ref(|entry| {
                lent.push(facts(entry, false));
                pss::Result::Ok(())
            });
            if let Err(e) = end {
                lent.push(format!("error: {e}"));
            }
            assert_eq!(copied, lent, "a for loop and try_for_each_ref");
            // 3. next_ref, keeping a position after the first entry.
            let mut by_ref = Vec::new();
            let mut position = None;
            let mut entries = walk.iter();
            while let Some(entry) = entries.next_ref() {
                match entry {
                    Ok(entry) => by_ref.push(facts(entry, false)),
                    Err(e) => by_ref.push(format!("error: {e}")),
                }
                if position.is_none() && !by_ref[0].starts_with("error: ") {
                    position = Some(walk.position());
                }
            }
            assert_eq!(copied, by_ref, "a for loop and next_ref");
            // 4. From the saved position: the entries after the first.
            if let Some(Ok(position)) = position {
                walk.set_position(position)
                    .expect("a position of this walk");
                let rest: Vec<String> = walk
                    .resume()
                    .map(|entry| match entry {
                        Ok(entry) => facts(&entry, false),
                        Err(e) => format!("error: {e}"),
                    })
                    .collect();
                assert_eq!(&copied[1..], &rest[..], "resumed from the second entry");
            }
            // 5. Owned copies, read after the walk is gone.
            let owned: Vec<pss::Result<$entry<'static>>> =
                walk.iter().map(|e| e.map($entry::into_owned)).collect();
            drop(walk);
            let owned: Vec<String> = owned
                .iter()
                .map(|entry| match entry {
                    Ok(entry) => facts(entry, false),
                    Err(e) => format!("error: {e}"),
                })
                .collect();
            assert_eq!(copied, owned, "borrowed and owned entries");
            entries_read = copied.iter().filter(|f| !f.starts_with("error: ")).count();
        }
        entries_read
    }};
}

/// What was read: entries of each walk (threads, thread names, handles, regions, auxiliary
/// pages), whether the main image was found, and the bytes the clone's readers read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Readings {
    pub entries: [usize; 5],
    pub main_image: bool,
    pub bytes_read: usize,
}

/// Reads everything (see the module docs); panics on a finding.
pub fn check<A: Allocation>(snapshot: &LocalSnapshot<A>, input: &Input) -> Readings {
    queries(snapshot);
    let entries = [
        bounded("the thread walk", || {
            compare_walk!(snapshot.threads(), ThreadEntry, thread_facts)
        }),
        bounded("the thread-name walk", || {
            compare_walk!(snapshot.thread_names(), ThreadNameEntry, name_facts)
        }),
        bounded("the handle walk", || {
            compare_walk!(snapshot.handles(), HandleEntry, handle_facts)
        }),
        bounded("the address-space walk", || {
            compare_walk!(snapshot.va_space(), VaSpaceEntry, region_facts)
        }),
        bounded("the auxiliary-page walk", || {
            compare_walk!(snapshot.auxiliary_pages(), AuxiliaryPageEntry, page_facts)
        }),
    ];
    let main_image = bounded("main_image", || match snapshot.main_image() {
        Ok(image) => {
            assert!(image.regions > 0, "a main image of no region: {image:?}");
            true
        }
        Err(_) => false,
    });
    let mut bytes_read = 0;
    if let Ok(clone) = snapshot.va_clone() {
        let _ = clone.process_id();
        for read in &input.reads {
            bytes_read += bounded("reads of the VA clone", || clone_read(&clone, read));
        }
    }
    Readings {
        entries,
        main_image,
        bytes_read,
    }
}

/// Runs `f`, which must not hold more than [`HEAP_BOUND`] at once.
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (result, peak) = heap::measure(f);
    assert!(
        peak <= HEAP_BOUND,
        "{what} held {peak} bytes of heap at once (bound {HEAP_BOUND})"
    );
    result
}

fn queries<A: Allocation>(snapshot: &LocalSnapshot<A>) {
    if let Ok(p) = snapshot.process_information() {
        let _ = (p.process_id(), p.peb_base_address(), p.parent_process_id());
        let _ = (p.exit_status(), p.exit_status_raw(), p.affinity_mask());
        let _ = (p.base_priority(), p.priority_class(), p.flags());
        let _ = (
            p.create_time(),
            p.exit_time(),
            p.kernel_time(),
            p.user_time(),
        );
        let _ = (
            p.memory(),
            p.image_file_name_fills_buffer(),
            format!("{p:?}"),
        );
        let _ = read_name(p.image_file_name(), true);
    }
    let _ = snapshot.thread_information().map(|t| format!("{t:?}"));
    let _ = snapshot
        .handle_trace()
        .map(|t| (t.size(), t.section_handle()));
    let _ = snapshot.performance_counters().map(|c| format!("{c:?}"));
    let _ = (snapshot.region_count(), snapshot.handle_count());
    let _ = snapshot.auxiliary_page_count();
}

/// Names longer than this (in units) are read by their units only: converting the model's
/// hostile 32,767-unit names a character at a time, under the fuzzer's instrumentation of every
/// comparison, takes a large part of a second, and the bounds that matter are the units'.
const CONVERTED: usize = 4096;

/// A name's length and a digest of its units (facts compared across the ways of reading an
/// entry, without copying long names around), after every conversion of it when `convert`
/// (the first way of reading) and it is not longer than [`CONVERTED`].
fn read_name(name: Option<WideStr<'_>>, convert: bool) -> Option<(usize, u64)> {
    let name = name?;
    let units = name.as_utf16();
    let digest = units.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &u| {
        (h ^ u64::from(u)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    if !convert || units.len() > CONVERTED {
        return Some((name.len(), digest));
    }
    let lossy = name.to_string_lossy();
    assert_eq!(lossy, name.display().to_string(), "lossy text and display");
    if let Ok(text) = name.try_to_string() {
        assert_eq!(text, lossy, "valid UTF-16 converts as its lossy text");
    }
    let _ = (name.to_os_string(), name.to_path_buf(), name.is_empty());
    let owned = name.clone().into_owned();
    assert_eq!(
        owned.as_utf16(),
        units,
        "an owned name holds the same units"
    );
    let _ = format!("{name:?}");
    Some((name.len(), digest))
}

fn digest(bytes: &[u8]) -> (usize, u64) {
    let h = bytes.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    (bytes.len(), h)
}

/// The entry's `Debug` text, where its names are short enough to convert ([`CONVERTED`]).
fn debug(e: &dyn std::fmt::Debug, names: &[Option<WideStr<'_>>]) {
    if names.iter().flatten().all(|n| n.len() <= CONVERTED) {
        let _ = format!("{e:?}");
    }
}

fn thread_facts(e: &ThreadEntry<'_>, convert: bool) -> String {
    let context = e.context_bytes();
    if let Some(bytes) = context {
        assert_eq!(bytes.len(), usize::from(e.as_raw().SizeOfContextRecord));
    }
    let typed = e.context().map(|c| c.ContextFlags);
    // The registers are there exactly when the record's flags say so.
    let control =
        typed.is_some_and(|f| ContextFlags::from_bits_retain(f).contains(ContextFlags::CONTROL));
    assert_eq!(
        e.instruction_pointer().is_some(),
        control,
        "Rip with CONTEXT_CONTROL"
    );
    assert_eq!(
        e.stack_pointer().is_some(),
        control,
        "Rsp with CONTEXT_CONTROL"
    );
    if convert {
        for time in [e.create_time(), e.exit_time(), e.capture_time()]
            .into_iter()
            .flatten()
        {
            let _ = (time.to_system_time(), time.to_string());
        }
        debug(e, &[]);
    }
    format!(
        "{:?}",
        (
            (
                e.process_id(),
                e.thread_id(),
                e.exit_status(),
                e.exit_status_raw()
            ),
            (
                e.flags(),
                e.is_terminated(),
                e.affinity_mask(),
                e.priority()
            ),
            (e.base_priority(), e.suspend_count(), e.teb_base_address()),
            (
                e.start_address(),
                e.create_time(),
                e.exit_time(),
                e.capture_time()
            ),
            (e.kernel_time(), e.user_time(), context.map(digest), typed),
            (
                e.instruction_pointer(),
                e.stack_pointer(),
                e.frame_pointer()
            ),
        )
    )
}

fn name_facts(e: &ThreadNameEntry<'_>, convert: bool) -> String {
    if convert {
        debug(e, &[e.name()]);
    }
    format!("{:?}", read_name(e.name(), convert))
}

fn handle_facts(e: &HandleEntry<'_>, convert: bool) -> String {
    if convert {
        debug(e, &[e.type_name(), e.object_name()]);
    }
    format!(
        "{:?}",
        (
            (
                e.handle_value(),
                e.flags(),
                e.object_type(),
                e.capture_time()
            ),
            (e.basic_information(), e.type_specific()),
            (
                read_name(e.type_name(), convert),
                read_name(e.object_name(), convert)
            ),
        )
    )
}

fn region_facts(e: &VaSpaceEntry<'_>, convert: bool) -> String {
    let region = e.region();
    let _ = region.range();
    if convert {
        debug(e, &[e.mapped_file_name()]);
    }
    format!(
        "{:?}",
        (region, e.image(), read_name(e.mapped_file_name(), convert))
    )
}

fn page_facts(e: &AuxiliaryPageEntry<'_>, convert: bool) -> String {
    let _ = e.basic_information().range();
    if convert {
        debug(e, &[]);
    }
    if let Some(contents) = e.contents() {
        assert_eq!(
            contents.len(),
            e.page_size() as usize,
            "contents of PageSize bytes"
        );
    }
    format!(
        "{:?}",
        (
            e.address(),
            e.basic_information(),
            e.capture_time(),
            e.page_size(),
            e.contents().map(digest),
        )
    )
}

/// One read of the clone, by the reader its mode names; every reader must agree with `read`
/// on how many bytes from the address are readable, and on their values. Returns how many
/// were.
fn clone_read(clone: &VaClone<'_>, read: &input::Read) -> usize {
    let address = if read.mode & read_mode::ABSOLUTE != 0 {
        read.address as usize
    } else {
        in_window(read.address)
    };
    let len = usize::from(read.len);
    let mut first = vec![0u8; len];
    // How much `read` finds readable: the reference for the others.
    let readable = match clone.read(address, &mut first) {
        Ok(n) => {
            assert!(n <= len, "read {n} of {len} bytes");
            assert!(n > 0 || len == 0, "Ok(0) for a read of {len} bytes");
            n
        }
        Err(e) => {
            assert_eq!(e.bytes_read().unwrap_or(0), 0, "a failed read read nothing");
            0
        }
    };
    let mut again = vec![0u8; len];
    match read.mode & read_mode::HOW {
        0 => {
            let n = clone.read(address, &mut again).unwrap_or(0);
            assert_eq!(n, readable, "two reads of the same range");
        }
        1 => match clone.read_exact(address, &mut again) {
            Ok(()) => assert_eq!(readable, len, "read_exact read what read could not"),
            Err(e) => {
                assert!(
                    readable < len,
                    "read_exact failed where read read it all: {e}"
                );
                assert_eq!(e.bytes_read(), Some(readable), "read_exact's count: {e}");
            }
        },
        2 => {
            let value = clone.read_value::<u64>(address);
            let expected = (len >= 8 && readable >= 8)
                .then(|| u64::from_le_bytes(first[..8].try_into().unwrap()));
            if let Some(expected) = expected {
                assert_eq!(value.ok(), Some(expected), "read_value at {address:#x}");
            } else if len >= 8 {
                assert!(value.is_err(), "read_value of bytes read could not read");
            }
        }
        _ => {
            let mut reader = clone.reader();
            let at = reader
                .seek(SeekFrom::Start(address as u64))
                .expect("a seek");
            assert_eq!(at, address as u64);
            let mut n = 0;
            while n < len {
                match reader.read(&mut again[n..]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            assert_eq!(n, readable, "the cursor read what read reads");
            assert_eq!(reader.position(), address as u64 + n as u64);
            let _ = reader.seek(SeekFrom::End(-(len as i64)));
            let _ = reader.seek(SeekFrom::Current(len as i64));
        }
    }
    if read.mode & read_mode::HOW != 2 {
        assert_eq!(first[..readable], again[..readable], "the same bytes twice");
    }
    readable
}
