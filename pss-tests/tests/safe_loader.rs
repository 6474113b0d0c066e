//! The process environment read through a snapshot's VA clone, as a debugger or dump tool reads
//! it: each thread entry's `TebBaseAddress` leads to its TEB (its stack bounds, ids, last
//! error and the PEB), the PEB to the loader's data, and its lists to one entry per loaded
//! image, named with DOS paths. The structures' offsets are Windows' (x64 and arm64, and x86),
//! written out here independently of the model's. Model-only: the model's processes say what
//! each thread and image must show.
#![cfg(not(windows))]

use pss::{CaptureFlags, LocalSnapshot, MemoryType, ProcessAccess, VaClone};
use pss_tests::assert_no_leaks;
use pss_tests::model::{self, CURRENT_PID, ThreadSpec};

const WIDE: bool = size_of::<usize>() == 8;

/// An offset on x64 and arm64, or on x86.
const fn off(x64: usize, x86: usize) -> usize {
    if WIDE { x64 } else { x86 }
}

// TEB (NT_TIB first)
const TEB_STACK_BASE: usize = off(0x08, 0x04);
const TEB_STACK_LIMIT: usize = off(0x10, 0x08);
const TEB_SELF: usize = off(0x30, 0x18);
const TEB_PROCESS_ID: usize = off(0x40, 0x20);
const TEB_THREAD_ID: usize = off(0x48, 0x24);
const TEB_PEB: usize = off(0x60, 0x30);
const TEB_LAST_ERROR: usize = off(0x68, 0x34);
// PEB
const PEB_IMAGE_BASE: usize = off(0x10, 0x08);
const PEB_LDR: usize = off(0x18, 0x0C);
const PEB_NUMBER_OF_PROCESSORS: usize = off(0xB8, 0x64);
const PEB_OS_MAJOR: usize = off(0x118, 0xA4);
const PEB_OS_MINOR: usize = off(0x11C, 0xA8);
const PEB_OS_BUILD: usize = off(0x120, 0xAC);
const PEB_OS_PLATFORM: usize = off(0x124, 0xB0);
// PEB_LDR_DATA
const LDR_INITIALIZED: usize = 4;
const LDR_LOAD_ORDER: usize = off(0x10, 0x0C);
const LDR_MEMORY_ORDER: usize = off(0x20, 0x14);
const LDR_INIT_ORDER: usize = off(0x30, 0x1C);
// LDR_DATA_TABLE_ENTRY
const ENTRY_MEMORY_LINKS: usize = off(0x10, 0x08);
const ENTRY_INIT_LINKS: usize = off(0x20, 0x10);
const ENTRY_DLL_BASE: usize = off(0x30, 0x18);
const ENTRY_ENTRY_POINT: usize = off(0x38, 0x1C);
const ENTRY_SIZE_OF_IMAGE: usize = off(0x40, 0x20);
const ENTRY_FULL_NAME: usize = off(0x48, 0x24);
const ENTRY_BASE_NAME: usize = off(0x58, 0x2C);
// UNICODE_STRING
const STRING_BUFFER: usize = off(8, 4);

fn pointer(clone: &VaClone<'_>, at: usize) -> usize {
    clone.read_value(at).unwrap()
}

/// A `UNICODE_STRING` at `at`: its lengths, and its text read from its buffer.
fn unicode_string(clone: &VaClone<'_>, at: usize) -> String {
    let length: u16 = clone.read_value(at).unwrap();
    let maximum: u16 = clone.read_value(at + 2).unwrap();
    assert!(
        length % 2 == 0 && maximum >= length + 2,
        "{length} / {maximum}"
    );
    let mut bytes = vec![0; usize::from(length) + 2];
    clone
        .read_exact(pointer(clone, at + STRING_BUFFER), &mut bytes)
        .unwrap();
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(
        units.last(),
        Some(&0),
        "the buffer holds a NUL after the text"
    );
    String::from_utf16(&units[..units.len() - 1]).unwrap()
}

/// The entries of the circular list whose head is at `head`, for links `links` bytes into each
/// entry: the entries' addresses, each link's `Blink` checked against the one before.
fn list(clone: &VaClone<'_>, head: usize, links: usize) -> Vec<usize> {
    let mut entries = Vec::new();
    let mut previous = head;
    let mut node = pointer(clone, head);
    while node != head {
        assert_eq!(pointer(clone, node + size_of::<usize>()), previous, "Blink");
        entries.push(node - links);
        assert!(entries.len() < 64, "the list comes back to its head");
        previous = node;
        node = pointer(clone, node);
    }
    assert_eq!(
        pointer(clone, head + size_of::<usize>()),
        previous,
        "the head's Blink"
    );
    entries
}

/// One loader entry.
#[derive(Debug, PartialEq, Eq)]
struct Module {
    base: usize,
    size: u32,
    full_name: String,
    base_name: String,
}

/// Captures process `pid` and checks its TEBs against `threads`, its PEB, and its loader list
/// against the image regions of the snapshot's VA space.
fn check(pid: u32, threads: &[ThreadSpec]) {
    let flags = CaptureFlags::VA_CLONE
        | CaptureFlags::VA_SPACE
        | CaptureFlags::VA_SPACE_SECTION_INFORMATION
        | CaptureFlags::THREADS
        | CaptureFlags::THREAD_CONTEXT;
    let process = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&process, flags).unwrap();
    let clone = snapshot.va_clone().unwrap();
    let peb = snapshot.process_information().unwrap().peb_base_address();

    for entry in &snapshot.threads().unwrap() {
        let entry = entry.unwrap();
        let spec = threads
            .iter()
            .find(|t| t.tid() == entry.thread_id())
            .unwrap();
        let teb = entry.as_raw().TebBaseAddress.addr();
        assert_eq!(teb, spec.teb_address());
        assert_ne!(teb, 0);
        assert_eq!(pointer(&clone, teb + TEB_SELF), teb, "NtTib.Self");
        assert_eq!(pointer(&clone, teb + TEB_PROCESS_ID), pid as usize);
        assert_eq!(pointer(&clone, teb + TEB_THREAD_ID), spec.tid() as usize);
        assert_eq!(pointer(&clone, teb + TEB_PEB), peb);
        let last_error: u32 = clone.read_value(teb + TEB_LAST_ERROR).unwrap();
        assert_eq!(last_error, spec.last_error_value());
        if spec.expected_frames().is_some() {
            let (base, limit) = (
                pointer(&clone, teb + TEB_STACK_BASE),
                pointer(&clone, teb + TEB_STACK_LIMIT),
            );
            let sp = entry.stack_pointer().unwrap();
            assert!(
                limit <= sp && sp < base,
                "{limit:#x} <= {sp:#x} < {base:#x}"
            );
        }
    }

    let image_base = pointer(&clone, peb + PEB_IMAGE_BASE);
    assert_eq!(image_base, snapshot.main_image().unwrap().base);
    let processors: u32 = clone.read_value(peb + PEB_NUMBER_OF_PROCESSORS).unwrap();
    let major: u32 = clone.read_value(peb + PEB_OS_MAJOR).unwrap();
    let minor: u32 = clone.read_value(peb + PEB_OS_MINOR).unwrap();
    let build: u16 = clone.read_value(peb + PEB_OS_BUILD).unwrap();
    let platform: u32 = clone.read_value(peb + PEB_OS_PLATFORM).unwrap();
    assert_eq!(
        (processors, major, minor, build, platform),
        (
            model::NUMBER_OF_PROCESSORS,
            model::OS_MAJOR_VERSION,
            model::OS_MINOR_VERSION,
            model::OS_BUILD_NUMBER,
            model::OS_PLATFORM_ID
        )
    );

    let ldr = pointer(&clone, peb + PEB_LDR);
    let initialized: u8 = clone.read_value(ldr + LDR_INITIALIZED).unwrap();
    assert_eq!(initialized, 1);
    let load_order = list(&clone, ldr + LDR_LOAD_ORDER, 0);
    let modules: Vec<Module> = load_order
        .iter()
        .map(|&entry| {
            let base = pointer(&clone, entry + ENTRY_DLL_BASE);
            let size: u32 = clone.read_value(entry + ENTRY_SIZE_OF_IMAGE).unwrap();
            let entry_point = pointer(&clone, entry + ENTRY_ENTRY_POINT);
            assert!(entry_point == 0 || (base..base + size as usize).contains(&entry_point));
            Module {
                base,
                size,
                full_name: unicode_string(&clone, entry + ENTRY_FULL_NAME),
                base_name: unicode_string(&clone, entry + ENTRY_BASE_NAME),
            }
        })
        .collect();
    assert_eq!(
        list(&clone, ldr + LDR_MEMORY_ORDER, ENTRY_MEMORY_LINKS),
        load_order,
        "the memory-order list holds the same entries"
    );
    assert_eq!(
        list(&clone, ldr + LDR_INIT_ORDER, ENTRY_INIT_LINKS),
        load_order[1..],
        "the initialization-order list leaves the main executable out"
    );

    // Every image region of the address space, in the loader's order: the main executable
    // first, the rest by address.
    let mut images: Vec<Module> = snapshot
        .va_space()
        .unwrap()
        .iter()
        .map(Result::unwrap)
        .filter(|r| r.region().kind == MemoryType::Image)
        .map(|r| {
            let nt = r.mapped_file_name().unwrap().to_string_lossy();
            let full_name = model::dos_path(&nt);
            Module {
                base: r.region().base_address,
                size: r.image().unwrap().size_of_image,
                base_name: full_name.rsplit('\\').next().unwrap().to_string(),
                full_name,
            }
        })
        .collect();
    let main = images.iter().position(|m| m.base == image_base).unwrap();
    let main = images.remove(main);
    images.sort_by_key(|m| m.base);
    images.insert(0, main);
    assert!(images.len() >= 2);
    assert!(images.iter().all(|m| m.full_name.starts_with(r"C:\")));
    assert_eq!(modules, images);
    drop((snapshot, process));
    assert_no_leaks();
}

/// This process (the model's current process), on 64-bit and 32-bit hosts alike.
#[test]
fn this_process_reads_its_tebs_peb_and_loader_list() {
    check(CURRENT_PID, &model::process_threads(CURRENT_PID).unwrap());
}

/// The demo process: four threads (two with call stacks and last errors), three images.
#[test]
fn the_demo_process_reads_its_tebs_peb_and_loader_list() {
    let process = model::demo_process().spawn();
    check(process.pid(), &process.threads());
}

/// The device map turns NT paths into DOS paths only at whole components.
#[test]
fn nt_paths_become_dos_paths_through_the_device_map() {
    assert_eq!(
        model::dos_path(r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll"),
        r"C:\Windows\System32\ntdll.dll"
    );
    assert_eq!(
        model::dos_path(r"\device\harddiskvolume3\x.dll"),
        r"C:\x.dll"
    );
    assert_eq!(
        model::dos_path(r"\Device\HarddiskVolume30\x.dll"),
        r"\Device\HarddiskVolume30\x.dll"
    );
    assert_eq!(model::dos_path(r"\Device\X\a.dll"), r"\Device\X\a.dll");
}
