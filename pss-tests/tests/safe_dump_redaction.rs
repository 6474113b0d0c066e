//! `DumpWriter::redact`: a policy decides at plan time which memory goes in (kept, zeros, or
//! left out of the memory lists) and scrubs every chunk before it is written. The ready-made
//! policies, stack scrubbing and a module allow-list, remove a secret planted in a model
//! process's heap, stacks and a module's data from the dump's bytes, while every thread still
//! walks to its frames. Model processes only (the secret must be planted).

#![cfg(not(windows))]

#[allow(dead_code)] // only the processor's walk is used here
mod unwind;

use std::cell::Cell;

use minidump::{Minidump, MinidumpMemory64List};
use minidump_unwind::FrameTrust;
use pss::{
    CaptureFlags, DumpInfo, DumpSummary, Keep, LocalSnapshot, MemoryContent, MemoryRange,
    ModuleAllowList, Omission, ProcessAccess, Profile, Redaction, StackScrubbing,
};
use pss_tests::model::*;
use pss_tests::*;

const PROFILES: [Profile; 4] = [
    Profile::Small,
    Profile::Referenced,
    Profile::Plus,
    Profile::Full,
];

/// The secret: 32 bytes no word of which points anywhere.
const SECRET: &[u8; 32] = b"TOP-SECRET:hunter2:0123456789ABC";

fn capture(pid: u32) -> LocalSnapshot {
    let flags = CaptureFlags::MINIDUMP;
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&handle, flags).unwrap()
}

fn dump(
    snapshot: &LocalSnapshot,
    profile: Profile,
    policy: Option<&dyn Redaction>,
) -> (Vec<u8>, DumpSummary) {
    let mut bytes = Vec::new();
    let writer = snapshot.minidump().profile(profile);
    let writer = match policy {
        Some(policy) => writer.redact(policy),
        None => writer,
    };
    let summary = writer.write_to(&mut bytes).expect("the dump is written");
    (bytes, summary)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs rust-minidump's processor on `dump` and checks every thread of `process` with a call
/// stack walks to exactly its frames.
fn assert_walks(dump: &Minidump<'static, Vec<u8>>, process: &ModelProcess, what: &str) {
    let symbols = minidump_unwind::MultiSymbolProvider::new();
    let state = unwind::block_on(minidump_processor::process_minidump(dump, &symbols))
        .unwrap_or_else(|e| panic!("{what}: the processor fails: {e}"));
    for spec in process.threads() {
        let Some(expected) = spec.expected_frames() else {
            continue;
        };
        let thread = state
            .threads
            .iter()
            .find(|t| t.thread_id == spec.tid())
            .unwrap_or_else(|| panic!("{what}: thread {:#x}", spec.tid()));
        let found: Vec<(u64, FrameTrust)> = thread
            .frames
            .iter()
            .map(|f| (f.resume_address, f.trust))
            .collect();
        let wanted: Vec<(u64, FrameTrust)> = expected
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let trust = if i == 0 {
                    FrameTrust::Context
                } else {
                    FrameTrust::FramePointer
                };
                (a as u64, trust)
            })
            .collect();
        assert_eq!(found, wanted, "{what}: thread {:#x}", spec.tid());
    }
}

/// A secret in the environment, as UTF-16 (the block's encoding).
const TOKEN: &str = "API_TOKEN=tok_3a7f9c2e5b1d";

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The service process with the secret in its heap, in each thread's stack (among the locals
/// above the stack pointer, and below it, where a returned function left it), and in a DLL's
/// data section; and a token in its environment.
fn process_with_secrets() -> ModelProcess {
    let (name, value) = TOKEN.split_once('=').unwrap();
    let process = service_process(0x10_0000)
        .environment(&[("PATH", r"C:\Windows\System32"), (name, value)])
        .spawn();
    let heap = process
        .regions()
        .into_iter()
        .find(|r| r.image_info().is_none() && r.size() == 0x2_0000)
        .expect("a heap region")
        .base();
    process.write_memory(heap + 0x1234, SECRET);
    for thread in process.threads() {
        let sp = thread.register_values()[1];
        process.write_memory(sp + 0x20, SECRET);
        process.write_memory(sp - 0x400, SECRET);
    }
    let engine = process
        .regions()
        .into_iter()
        .find(|r| r.mapped_name().ends_with("engine.dll") && r.image_info().is_some())
        .expect("engine.dll")
        .base();
    let (data, _) = data_section(engine, 0x8_0000);
    process.write_memory(data + 0x100, SECRET);
    process
}

/// Without a policy, the secret is in the dumps (the test can fail), and the token in the
/// environment too; with stack scrubbing and an allow-list naming the executable only, neither
/// is anywhere in the bytes of any profile's dump (the environment left out even where the
/// region holding it is kept), the command line is, every thread still walks to the frames
/// laid out, the dump says a policy was applied, and the memory left out is named.
#[test]
fn stack_scrubbing_and_an_allow_list_remove_a_planted_secret() {
    let process = process_with_secrets();
    let snapshot = capture(process.pid());
    let (small, _) = dump(&snapshot, Profile::Small, None);
    assert!(contains(&small, SECRET), "the secret is on the stacks");
    // Plus and full dumps of the service process copy 4 MiB, which takes Miri about ten
    // seconds a dump: under Miri the small and referenced ones (the native run covers all).
    let profiles = if cfg!(miri) {
        eprintln!("skipped under Miri: the plus and full dumps (the native run covers them)");
        &PROFILES[..2]
    } else {
        &PROFILES[..]
    };
    let (full, _) = dump(&snapshot, *profiles.last().unwrap(), None);
    assert!(contains(&full, SECRET), "and in the largest dump");
    assert!(
        contains(&small, &utf16(TOKEN)),
        "the environment is in a small dump"
    );
    let command_line = utf16(
        &snapshot
            .process_parameters()
            .unwrap()
            .command_line()
            .unwrap()
            .to_string_lossy(),
    );

    // Each policy alone leaves some of it: the heap's and engine.dll's copies without the
    // allow-list, the stacks' without scrubbing.
    if !cfg!(miri) {
        let (bytes, _) = dump(&snapshot, Profile::Full, Some(&StackScrubbing));
        assert!(contains(&bytes, SECRET));
    }
    let allow_list = ModuleAllowList::new(["service.exe"]);
    let (bytes, _) = dump(&snapshot, Profile::Small, Some(&allow_list));
    assert!(contains(&bytes, SECRET));

    let policy = (StackScrubbing, allow_list);
    for &profile in profiles {
        let (bytes, summary) = dump(&snapshot, profile, Some(&policy));
        assert!(
            !contains(&bytes, SECRET),
            "{profile:?}: the secret is in the dump"
        );
        assert!(
            !contains(&bytes, &utf16(TOKEN)),
            "{profile:?}: the environment is left out"
        );
        assert!(
            contains(&bytes, &command_line),
            "{profile:?}: the command line is kept"
        );
        // Nor a word of it.
        assert!(!contains(&bytes, &SECRET[8..16]), "{profile:?}");
        let info = DumpInfo::read(&bytes).unwrap();
        assert!(info.redacted && info.is_complete());
        if matches!(profile, Profile::Plus | Profile::Full) {
            assert!(
                summary
                    .omissions
                    .iter()
                    .any(|o| matches!(o, Omission::Redacted { .. })),
                "{profile:?}: the heap is left out: {:?}",
                summary.omissions
            );
        }
        let dump = Minidump::read(bytes).unwrap();
        assert_walks(&dump, &process, &format!("{profile:?}, redacted"));
    }
    // The allowed module's data stays: its name starts its data section.
    if cfg!(miri) {
        drop(snapshot);
        assert_no_leaks();
        return;
    }
    let (bytes, _) = dump(&snapshot, Profile::Plus, Some(&policy));
    assert!(contains(&bytes, b"service.exe"));
    assert!(
        !contains(&bytes, b"engine.dll\0"),
        "engine.dll's data is left out"
    );
    drop(snapshot);
    assert_no_leaks();
}

/// Stack scrubbing alone leaves out nothing: the same ranges, the frame records (saved frame
/// pointers and return addresses) kept, everything else on the stacks zero.
#[test]
fn stack_scrubbing_keeps_the_frame_records_and_zeros_the_rest() {
    let process = process_with_secrets();
    let snapshot = capture(process.pid());
    let (plain, plain_summary) = dump(&snapshot, Profile::Small, None);
    let (scrubbed, summary) = dump(&snapshot, Profile::Small, Some(&StackScrubbing));
    assert_eq!(plain.len(), scrubbed.len(), "nothing is left out");
    assert_eq!(summary.memory_ranges, plain_summary.memory_ranges);
    let dump = Minidump::read(scrubbed).unwrap();
    assert_walks(&dump, &process, "scrubbed");
    let memory = dump.get_memory().unwrap();
    for thread in process.threads() {
        let sp = thread.register_values()[1] as u64;
        let range = memory.memory_at_address(sp).unwrap();
        let frames = thread.expected_frames().unwrap();
        let word = size_of::<usize>();
        let words: Vec<u64> = range.bytes()[(sp - range.base_address()) as usize..]
            .chunks_exact(word)
            .map(|w| {
                let mut full = [0u8; 8];
                full[..word].copy_from_slice(w);
                u64::from_le_bytes(full)
            })
            .collect();
        let nonzero: Vec<u64> = words.iter().copied().filter(|&w| w != 0).collect();
        // Each frame record: a saved frame pointer (into the stack) and a return address.
        assert_eq!(nonzero.len(), 2 * (frames.len() - 1), "{nonzero:#x?}");
        for ret in &frames[1..] {
            assert!(nonzero.contains(&(*ret as u64)));
        }
    }
    drop(snapshot);
    assert_no_leaks();
}

/// A policy of the caller's: the heap as zeros (its place kept in the memory list), the
/// writable mapped section left out (in no list, named in the summary); its scrub hook sees
/// every other byte of memory once, in chunks within 64 KiB boundaries, before it is written.
#[test]
fn a_callers_policy_keeps_zeros_drops_and_sees_every_chunk() {
    struct Policy {
        heap: usize,
        section: usize,
        scrubbed: Cell<u64>,
    }
    impl Redaction for Policy {
        fn keep(&self, range: &MemoryRange<'_>) -> Keep {
            match range.region.base_address {
                _ if range.content != MemoryContent::Region => Keep::Bytes,
                b if b >= self.heap && b < self.heap + 0x10_0000 => Keep::Zeros,
                b if b == self.section => Keep::Nothing,
                _ => Keep::Bytes,
            }
        }
        fn scrub(&self, _: &MemoryRange<'_>, address: usize, bytes: &mut [u8]) {
            assert!(!bytes.is_empty());
            assert_eq!(address / 0x1_0000, (address + bytes.len() - 1) / 0x1_0000);
            self.scrubbed.set(self.scrubbed.get() + bytes.len() as u64);
        }
    }
    if cfg!(miri) {
        eprintln!(
            "skipped: a_callers_policy_keeps_zeros_drops_and_sees_every_chunk: a full dump of \
             4 MiB takes Miri minutes with its checks (the native run covers it)"
        );
        return;
    }
    let process = process_with_secrets();
    let snapshot = capture(process.pid());
    let regions = process.regions();
    let heap = regions
        .iter()
        .filter(|r| r.image_info().is_none() && r.size() == 0x2_0000)
        .map(|r| r.base())
        .min()
        .unwrap();
    let section = regions
        .iter()
        .find(|r| r.mapped_name().ends_with("cache.bin"))
        .unwrap()
        .base();
    let policy = Policy {
        heap,
        section,
        scrubbed: Cell::new(0),
    };
    let (bytes, summary) = dump(&snapshot, Profile::Full, Some(&policy));
    assert!(
        summary.omissions.contains(&Omission::Redacted {
            address: section,
            size: 0x2000
        }),
        "{:?}",
        summary.omissions
    );
    let dump = Minidump::read(bytes).unwrap();
    let memory: MinidumpMemory64List<'_> = dump.get_stream().unwrap();
    assert!(memory.memory_at_address(section as u64).is_none());
    let heap_range = memory.memory_at_address(heap as u64).unwrap();
    assert_eq!(heap_range.size, 0x10_0000, "the heap's place is kept");
    assert!(heap_range.bytes.iter().all(|&b| b == 0));
    let stacks: u64 = {
        let threads: minidump::MinidumpThreadList<'_> = dump.get_stream().unwrap();
        threads
            .threads
            .iter()
            .map(|t| u64::from(t.raw.stack.memory.data_size))
            .sum()
    };
    assert_eq!(
        policy.scrubbed.get(),
        summary.memory_bytes - 0x10_0000 + stacks,
        "every byte read is scrubbed once (the heap, zeros, is not read)"
    );
    drop(snapshot);
    assert_no_leaks();
}
