//! `DumpWriter::profile` and `max_bytes`: what each profile's dump holds of a model process
//! with a heap, images in sections (headers, code, read-only and writable data), stacks and
//! mapped files, against what its address space says; budgets, randomized, never exceeded;
//! the stacks still walking under the smallest budget that holds them. Model processes only
//! (the regions and frames must be known).

#![cfg(not(windows))]

#[allow(dead_code)] // only the processor's walk is used here
mod unwind;

use std::collections::BTreeSet;

use minidump::{
    Minidump, MinidumpMemory64List, MinidumpMemoryList, MinidumpModuleList, MinidumpThreadList,
};
use minidump_unwind::FrameTrust;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use pss::{
    CaptureFlags, DumpError, DumpSummary, LocalSnapshot, MemoryRegion, MemoryState, MemoryType,
    Omission, ProcessAccess, Profile,
};
use pss_tests::model::*;
use pss_tests::*;

const PROFILES: [Profile; 4] = [
    Profile::Small,
    Profile::Referenced,
    Profile::Plus,
    Profile::Full,
];

/// The profiles a test that writes many dumps runs: all of them, or under Miri the small and
/// referenced ones (a plus or full dump of the service process copies 4 MiB, which takes Miri
/// about ten seconds a dump; the native run covers them).
fn profiles_here() -> &'static [Profile] {
    if cfg!(miri) {
        eprintln!(
            "skipped under Miri: {}: plus and full (the native run covers them)",
            std::thread::current().name().unwrap_or("?")
        );
        &PROFILES[..2]
    } else {
        &PROFILES
    }
}

fn capture(pid: u32) -> LocalSnapshot {
    let flags = CaptureFlags::MINIDUMP;
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&handle, flags).unwrap()
}

/// A dump of `snapshot`, as bytes, and its summary.
fn dump(snapshot: &LocalSnapshot, profile: Profile, budget: Option<u64>) -> (Vec<u8>, DumpSummary) {
    let mut bytes = Vec::new();
    let writer = snapshot.minidump().profile(profile);
    let writer = match budget {
        Some(max) => writer.max_bytes(max),
        None => writer,
    };
    let summary = writer.write_to(&mut bytes).expect("the dump is written");
    assert_eq!(summary.bytes, bytes.len() as u64);
    (bytes, summary)
}

/// Every memory range of a dump: (start, end).
fn ranges(dump: &Minidump<'static, Vec<u8>>) -> Vec<(u64, u64)> {
    if let Ok(list) = dump.get_stream::<MinidumpMemory64List<'_>>() {
        return list
            .iter()
            .map(|r| (r.base_address, r.base_address + r.size))
            .collect();
    }
    let list: MinidumpMemoryList<'_> = dump.get_stream().unwrap();
    list.iter()
        .map(|r| (r.base_address, r.base_address + r.size))
        .collect()
}

/// Whether the dump holds every byte of `[start, end)` (in one range or several adjacent).
fn holds(ranges: &[(u64, u64)], start: u64, end: u64) -> bool {
    let mut at = start;
    let mut sorted = ranges.to_vec();
    sorted.sort();
    for (s, e) in sorted {
        if s <= at && at < e {
            at = e;
        }
    }
    at >= end
}

/// Whether the dump holds any byte of `[start, end)`.
fn touches(ranges: &[(u64, u64)], start: u64, end: u64) -> bool {
    ranges.iter().any(|&(s, e)| s < end && start < e)
}

/// Runs rust-minidump's processor on `dump` and checks every thread of `process` with a call
/// stack walks to exactly its frames.
fn assert_walks(dump: &Minidump<'static, Vec<u8>>, process: &ModelProcess, what: &str) {
    let symbols = minidump_unwind::MultiSymbolProvider::new();
    let state = unwind::block_on(minidump_processor::process_minidump(dump, &symbols))
        .unwrap_or_else(|e| panic!("{what}: the processor fails: {e}"));
    for spec in process.threads() {
        let thread = state
            .threads
            .iter()
            .find(|t| t.thread_id == spec.tid())
            .unwrap_or_else(|| panic!("{what}: thread {:#x}", spec.tid()));
        let Some(expected) = spec.expected_frames() else {
            continue;
        };
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

/// The command line as a reader finds it in a dump's memory (Python's `minidump` package,
/// a debugger's `!peb`): the first thread's TEB, its PEB pointer, `PEB.ProcessParameters`, then
/// `CommandLine` (Windows' offsets, written out here independently of the writer); its UTF-16
/// bytes.
fn command_line_in(dump: &Minidump<'static, Vec<u8>>) -> Option<Vec<u8>> {
    let wide = size_of::<usize>() == 8;
    let pointer = size_of::<usize>();
    let memory = dump.get_memory()?;
    let read = |address: u64, len: usize| -> Option<Vec<u8>> {
        let region = memory.memory_at_address(address)?;
        let start = usize::try_from(address - region.base_address()).ok()?;
        region.bytes().get(start..start + len).map(<[u8]>::to_vec)
    };
    let word = |address: u64| -> Option<u64> {
        let mut full = [0u8; 8];
        full[..pointer].copy_from_slice(&read(address, pointer)?);
        Some(u64::from_le_bytes(full))
    };
    let threads: MinidumpThreadList<'_> = dump.get_stream().ok()?;
    let teb = threads.threads.first()?.raw.teb;
    let peb = word(teb + if wide { 0x60 } else { 0x30 })?;
    let parameters = word(peb + if wide { 0x20 } else { 0x10 })?;
    let string = parameters + if wide { 0x70 } else { 0x40 };
    let length = u16::from_le_bytes(read(string, 2)?.try_into().ok()?);
    let buffer = word(string + if wide { 8 } else { 4 })?;
    read(buffer, usize::from(length))
}

fn readable(r: &MemoryRegion) -> bool {
    r.state == MemoryState::Commit
        && r.protect.is_readable()
        && !r.protect.contains(pss::MemoryProtection::GUARD)
}

/// The regions each profile holds whole, and leaves out, as the snapshot's address space
/// describes them: a small dump holds stacks from the stack pointer, the TEBs, the PEB, the
/// process parameters with their strings (the command line) and the environment, and nothing
/// of heaps, images or mapped files; referenced memory adds windows around the code
/// addresses the threads hold (instruction pointers, return addresses), not the heap, which
/// nothing points to; plus holds every private or writable region (heap, stacks, the PEB's,
/// images' data sections, the writable mapped section) whole and no code, read-only image
/// pages or read-only mapped file; full holds every readable region.
#[test]
fn each_profile_holds_what_it_should() {
    let process = service_process(0x10_0000).spawn();
    let snapshot = capture(process.pid());
    let regions: Vec<MemoryRegion> = snapshot
        .va_space()
        .unwrap()
        .iter()
        .map(|r| r.unwrap().region())
        .collect();
    let threads = process.threads();
    let peb = snapshot.process_information().unwrap().peb_base_address() as u64;
    let parameters = snapshot.process_parameters().unwrap();
    let block = parameters.address() as u64;
    let environment = (
        parameters.environment_address() as u64,
        (parameters.environment_address() + parameters.environment_size()) as u64,
    );
    let command_line: Vec<u8> = parameters
        .command_line()
        .unwrap()
        .as_utf16()
        .iter()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert!(command_line.len() > 8);
    let stack_of = |t: &ThreadSpec| {
        let sp = t.register_values()[1];
        let r = regions
            .iter()
            .find(|r| r.range().contains(&sp))
            .expect("a stack region");
        (sp as u64, (r.base_address + r.region_size) as u64)
    };
    let code: Vec<u64> = threads
        .iter()
        .flat_map(|t| t.expected_frames().unwrap())
        .map(|a| a as u64)
        .collect();
    for profile in PROFILES {
        let (bytes, summary) = dump(&snapshot, profile, None);
        assert!(
            summary.is_complete(),
            "{profile:?}: {:?}",
            summary.omissions
        );
        assert!(
            bytes.windows(command_line.len()).any(|w| w == command_line),
            "{profile:?}: the command line"
        );
        let dump = Minidump::read(bytes).unwrap();
        assert_walks(&dump, &process, &format!("{profile:?}"));
        assert_eq!(
            command_line_in(&dump).as_deref(),
            Some(&command_line[..]),
            "{profile:?}: TEB -> PEB -> ProcessParameters -> CommandLine, as readers find it"
        );
        let held = ranges(&dump);
        for t in &threads {
            let (sp, end) = stack_of(t);
            assert!(
                holds(&held, sp, end),
                "{profile:?}: thread {:#x}'s stack",
                t.tid()
            );
            let teb = t.teb_address() as u64;
            assert!(holds(&held, teb, teb + 0x100), "{profile:?}: TEB");
        }
        assert!(holds(&held, peb, peb + 0x100), "{profile:?}: PEB");
        assert!(
            holds(&held, block, block + 0x100),
            "{profile:?}: parameters"
        );
        assert!(
            holds(&held, environment.0, environment.1),
            "{profile:?}: environment"
        );
        for r in regions.iter().filter(|r| readable(r)) {
            let (start, end) = (
                r.base_address as u64,
                (r.base_address + r.region_size) as u64,
            );
            let what = format!("{profile:?}: {:?} {:?} at {start:#x}", r.kind, r.protect);
            let is_stack = threads.iter().any(|t| stack_of(t).1 == end);
            let private_or_writable = r.kind == MemoryType::Private || r.protect.is_writable();
            match profile {
                Profile::Small | Profile::Referenced if r.kind != MemoryType::Private => {
                    // Referenced memory reaches images' code only around the code addresses.
                    let near_code = code.iter().any(|&a| start <= a && a < end);
                    if profile == Profile::Small || !near_code {
                        assert!(!touches(&held, start, end), "{what}: left out");
                    }
                }
                Profile::Small | Profile::Referenced => {
                    let holds_thread_state = is_stack
                        || (start..end).contains(&peb)
                        || (start..end).contains(&block)
                        || threads
                            .iter()
                            .any(|t| (start..end).contains(&(t.teb_address() as u64)));
                    if !holds_thread_state {
                        assert!(!touches(&held, start, end), "{what}: the heap is left out");
                    }
                }
                Profile::Plus if private_or_writable => {
                    assert!(holds(&held, start, end), "{what}: in a plus dump")
                }
                Profile::Plus => assert!(!touches(&held, start, end), "{what}: not in plus"),
                _ => assert!(holds(&held, start, end), "{what}: in a full dump"),
            }
        }
        if profile == Profile::Referenced {
            for &a in &code {
                assert!(holds(&held, a - 128, a + 384), "{profile:?}: around {a:#x}");
            }
        }
    }
    // The images' writable data sections are the plus dump's, with their bytes.
    let (bytes, _) = dump(&snapshot, Profile::Plus, None);
    let plus = Minidump::read(bytes).unwrap();
    let memory: MinidumpMemory64List<'_> = plus.get_stream().unwrap();
    let modules: MinidumpModuleList = plus.get_stream().unwrap();
    for module in modules.iter() {
        let (data, _) = data_section(
            module.raw.base_of_image as usize,
            module.raw.size_of_image as usize,
        );
        let range = memory
            .memory_at_address(data as u64)
            .expect("the data section");
        let at = (data as u64 - range.base_address) as usize;
        let file = module.name.rsplit('\\').next().unwrap().to_string();
        assert_eq!(&range.bytes[at..at + file.len()], file.as_bytes());
    }
    drop(snapshot);
    assert_no_leaks();
}

/// `referenced_limit` bounds the referenced memory: a referenced dump holds at most that
/// many bytes more than a small one.
#[test]
fn referenced_memory_stays_within_its_limit() {
    let process = demo_process().spawn();
    let snapshot = capture(process.pid());
    let (_, small) = dump(&snapshot, Profile::Small, None);
    for limit in [0, 512, 2048, 1 << 20] {
        let mut bytes = Vec::new();
        let summary = snapshot
            .minidump()
            .profile(Profile::Referenced)
            .referenced_limit(limit)
            .write_to(&mut bytes)
            .unwrap();
        let extra = summary.memory_bytes - small.memory_bytes;
        assert!(
            extra <= limit as u64,
            "{extra} bytes for a limit of {limit}"
        );
        if limit >= 2048 {
            assert!(extra > 0, "limit {limit}");
        }
    }
    drop(snapshot);
    assert_no_leaks();
}

/// The smallest budget is what is never left out (threads, contexts, modules): one byte less
/// is an error naming it, before anything is written.
#[test]
fn a_budget_below_what_is_never_left_out_is_an_error() {
    let process = service_process(0x10_0000).spawn();
    let snapshot = capture(process.pid());
    for profile in PROFILES {
        let needed = match snapshot
            .minidump()
            .profile(profile)
            .max_bytes(0)
            .write_to(Vec::new())
        {
            Err(DumpError::OverBudget { needed, budget: 0 }) => needed,
            other => panic!("{profile:?}: {other:?}"),
        };
        let mut out = Vec::new();
        let result = snapshot
            .minidump()
            .profile(profile)
            .max_bytes(needed - 1)
            .write_to(&mut out);
        assert!(
            matches!(result, Err(DumpError::OverBudget { .. })),
            "{result:?}"
        );
        assert!(out.is_empty(), "nothing is written");
        let (bytes, summary) = dump(&snapshot, profile, Some(needed));
        assert!(bytes.len() as u64 <= needed);
        let dump = Minidump::read(bytes).unwrap();
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        assert_eq!(threads.threads.len(), 2);
        let modules: MinidumpModuleList = dump.get_stream().unwrap();
        assert_eq!(modules.iter().count(), 4);
        assert!(
            summary
                .omissions
                .iter()
                .any(|o| matches!(o, Omission::OverBudget { .. }))
        );
    }
    drop(snapshot);
    assert_no_leaks();
}

/// For every profile and a random budget between the smallest and more than the whole dump,
/// the dump is never larger than the budget, an independent reader opens it with its threads
/// and modules, and what was left out is named; with room for all, nothing is.
#[test]
fn randomized_budgets_are_never_exceeded() {
    let process = service_process(0x10_0000).spawn();
    let snapshot = capture(process.pid());
    let profiles = profiles_here();
    let bounds: Vec<(u64, u64)> = profiles
        .iter()
        .map(|&p| {
            let needed = match snapshot
                .minidump()
                .profile(p)
                .max_bytes(0)
                .write_to(Vec::new())
            {
                Err(DumpError::OverBudget { needed, .. }) => needed,
                other => panic!("{other:?}"),
            };
            (needed, dump(&snapshot, p, None).0.len() as u64)
        })
        .collect();
    let cases = if cfg!(miri) { 3 } else { 96 };
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    runner
        .run(&(0..profiles.len(), 0.0..1.1f64), |(p, fraction)| {
            let (needed, whole) = bounds[p];
            let budget = needed + ((whole - needed) as f64 * fraction) as u64;
            let (bytes, summary) = dump(&snapshot, profiles[p], Some(budget));
            prop_assert!(bytes.len() as u64 <= budget, "{} > {budget}", bytes.len());
            let left_out = summary
                .omissions
                .iter()
                .any(|o| matches!(o, Omission::OverBudget { .. }));
            prop_assert_eq!(left_out, budget < whole, "{:?}", summary.omissions);
            let dump = Minidump::read(bytes).unwrap();
            let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
            prop_assert_eq!(threads.threads.len(), 2);
            let modules: MinidumpModuleList = dump.get_stream().unwrap();
            prop_assert_eq!(modules.iter().count(), 4);
            prop_assert!(holds_its_ranges(&dump));
            Ok(())
        })
        .unwrap();
    drop(snapshot);
    assert_no_leaks();
}

/// Every range of the memory list lies within the dump (rust-minidump would have refused it).
fn holds_its_ranges(dump: &Minidump<'static, Vec<u8>>) -> bool {
    dump.get_memory()
        .is_some_and(|m| m.iter().all(|r| r.bytes().len() as u64 == r.size()))
}

/// Under the smallest budget that keeps every stack whole (found by bisection), every thread
/// still walks to exactly the frames laid out; one that keeps the innermost 4 KiB of each does
/// too (the frames lie near the stack pointer), as the budget gives every thread its
/// innermost bytes before any its deeper ones.
#[test]
fn stacks_walk_under_the_smallest_budget_that_holds_them() {
    let process = service_process(0x10_0000).spawn();
    let snapshot = capture(process.pid());
    let profiles = if cfg!(miri) {
        eprintln!(
            "skipped under Miri: stacks_walk_under_the_smallest_budget_that_holds_them: all but \
             the small profile (twenty dumps each; the native run covers them)"
        );
        &PROFILES[..1]
    } else {
        &PROFILES[..]
    };
    for &profile in profiles {
        let mut low = match snapshot
            .minidump()
            .profile(profile)
            .max_bytes(0)
            .write_to(Vec::new())
        {
            Err(DumpError::OverBudget { needed, .. }) => needed,
            other => panic!("{other:?}"),
        };
        let mut high = dump(&snapshot, profile, None).0.len() as u64;
        let stack_cut = |summary: &DumpSummary| {
            summary
                .omissions
                .iter()
                .any(|o| matches!(o, Omission::OverBudget { part: "stack", .. }))
        };
        assert!(stack_cut(&dump(&snapshot, profile, Some(low)).1));
        while low + 1 < high {
            let mid = (low + high) / 2;
            if stack_cut(&dump(&snapshot, profile, Some(mid)).1) {
                low = mid;
            } else {
                high = mid;
            }
        }
        let (bytes, summary) = dump(&snapshot, profile, Some(high));
        assert!(!stack_cut(&summary));
        assert!(
            bytes.len() as u64 <= high,
            "{profile:?}: {} > {high}",
            bytes.len()
        );
        let dump = Minidump::read(bytes).unwrap();
        assert_walks(&dump, &process, &format!("{profile:?} at {high} bytes"));
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        let stacks: BTreeSet<u32> = threads
            .threads
            .iter()
            .filter(|t| t.raw.stack.memory.data_size > 0)
            .map(|t| t.raw.thread_id)
            .collect();
        assert_eq!(stacks.len(), 2, "{profile:?}");
    }
    drop(snapshot);
    assert_no_leaks();
}
