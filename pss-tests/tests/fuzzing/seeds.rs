//! The seed corpus: inputs the fuzzer starts from, each a process worth mutating. Written to
//! `fuzz/corpus/<target>/seed-<name>` (both targets take the same inputs) by
//! `fuzz_regressions::the_seed_corpus_is_current` with `PSS_BLESS=1`, and checked against them
//! otherwise. Laid out for 64-bit hosts (the PEB's, TEBs' and loader's offsets are x64's), where
//! the fuzzer runs.

use super::input::{
    Context, Exception, Handle, Input, Page, Patch, Read, Region, Thread, option, read_mode,
    thread_flag,
};
use super::process::WINDOW;

const PAGE: u32 = 0x1000;

/// Region kinds ([`Region::kind`]).
const PRIVATE: u8 = 0;
const IMAGE: u8 = 1;
const MAPPED: u8 = 2;
const SHARED: u8 = 3;
const RESERVED: u8 = 4;
const NO_ACCESS: u8 = 5;
const GUARD: u8 = 6;
const READ_ONLY: u8 = 7;

/// The window offset of a region's page.
fn at(page: u16) -> u32 {
    u32::from(page) * PAGE
}

/// The window offset of the PEB's page.
const PEB: u32 = WINDOW as u32;

fn region(page: u16, pages: u16, kind: u8, name: &str) -> Region {
    Region {
        page,
        pages: (pages - 1) as u8,
        kind,
        name: name.as_bytes().to_vec(),
    }
}

fn thread(tid: u16) -> Thread {
    Thread {
        tid,
        ..Thread::default()
    }
}

fn handle(kind: u8, value: u16, name: &str) -> Handle {
    Handle {
        kind,
        flags: 0,
        value,
        name: name.as_bytes().to_vec(),
    }
}

fn patch(region: u8, offset: u32, bytes: Vec<u8>) -> Patch {
    Patch {
        region,
        offset,
        bytes,
    }
}

/// Patches of `region` that write the non-zero parts of `bytes` (runs of zeros of 64 bytes
/// or more are left as they are: a region reads as zeros where nothing was written).
fn nonzero_patches(region: u8, bytes: &[u8]) -> Vec<Patch> {
    let mut patches: Vec<Patch> = Vec::new();
    let mut at = 0;
    while let Some(start) = bytes[at..].iter().position(|&b| b != 0).map(|i| at + i) {
        let mut end = start;
        let mut zeros = 0;
        for (i, &b) in bytes.iter().enumerate().skip(start) {
            if b == 0 {
                zeros += 1;
                if zeros == 64 {
                    break;
                }
            } else {
                zeros = 0;
                end = i + 1;
            }
        }
        patches.push(patch(region, start as u32, bytes[start..end].to_vec()));
        at = end;
    }
    patches
}

/// Little-endian bytes laid out at offsets, zeros between.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn put(&mut self, at: usize, bytes: &[u8]) -> &mut Self {
        if self.0.len() < at + bytes.len() {
            self.0.resize(at + bytes.len(), 0);
        }
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }
    fn u16(&mut self, at: usize, v: u16) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn utf16(&mut self, at: usize, text: &str) -> &mut Self {
        let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        self.put(at, &units)
    }
}

/// Every seed, by name.
pub fn seeds() -> Vec<(&'static str, Input)> {
    vec![
        ("demo", demo()),
        ("raw-environment", raw_environment()),
        ("hostile", hostile()),
        ("lying-headers", lying_headers()),
        ("sparse", sparse()),
    ]
}

/// The demo process's shape (`model::demo_process`): an editor, `kernel32.dll` and
/// `ntdll.dll` with the model's PE headers, a mapped file, private memory with contents, an
/// anonymous shared section; four threads (two with call stacks through the images, one with a
/// misaligned context record, one that exited), named; a handle of every type; the model's PEB,
/// loader list and TEBs; two auxiliary pages; an access violation on the main thread.
fn demo() -> Input {
    let (editor, kernel32, ntdll) = (at(0x100), at(0x200), at(0x300));
    let mut main = thread(0x1a8);
    main.flags = thread_flag::CALL_STACK;
    main.instruction = u64::from(ntdll + 0xd0e4);
    main.last_error = 183;
    main.name = b"main".to_vec();
    main.call_stack = Some(vec![kernel32 + 0x2a3e, editor + 0x1c2f, kernel32 + 0x7614]);
    let mut autosave = thread(0x1ac);
    autosave.flags = thread_flag::CALL_STACK | thread_flag::SUSPENDED;
    autosave.instruction = u64::from(editor + 0xa94);
    autosave.last_error = 2;
    autosave.name = b"autosave".to_vec();
    autosave.call_stack = Some(vec![kernel32 + 0x7614, ntdll + 0x26f1]);
    let mut misaligned = thread(0x1b0);
    misaligned.flags = thread_flag::RAW_CONTEXT | thread_flag::MISALIGNED_CONTEXT;
    misaligned.context = Some(Context {
        flags: 0x10_0003,
        length: 0x4D0,
        bytes: Vec::new(),
    });
    let mut exited = thread(0x1b4);
    exited.flags = thread_flag::TERMINATED;
    Input {
        options: option::WITH_PEB
            | option::THREAD_NAMES
            | option::HANDLE_TRACING
            | option::AUXILIARY_PAGES
            | option::EXTENDED_CONTEXT,
        regions: vec![
            region(
                0x100,
                16,
                IMAGE,
                r"\Device\HarddiskVolume3\Program Files\Contoso\editor.exe",
            ),
            region(
                0x180,
                3,
                MAPPED,
                r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
            ),
            region(
                0x200,
                16,
                IMAGE,
                r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
            ),
            region(
                0x300,
                16,
                IMAGE,
                r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll",
            ),
            region(0x400, 16, PRIVATE, ""),
            region(0x500, 1, SHARED, ""),
        ],
        threads: vec![main, autosave, misaligned, exited],
        handles: vec![
            handle(0, 0x1, r"\Device\ConDrv"),
            handle(5, 0x2, r"\BaseNamedObjects\editor-ready"),
            handle(5, 0x3, ""),
            handle(
                4,
                0x4,
                r"\Sessions\1\BaseNamedObjects\editor-single-instance",
            ),
            handle(7, 0x5, ""),
            handle(6, 0x6, r"\BaseNamedObjects\editor-shared"),
            handle(2, 0x7, ""),
            handle(3, 0x8, ""),
            handle(1, 0xa, r"\REGISTRY\USER\S-1-5-21-1000\Software\Contoso"),
        ],
        patches: vec![
            patch(4, 0, b"Dear diary, today I captured a snapshot.".to_vec()),
            patch(5, 0, b"shared".to_vec()),
        ],
        pages: vec![
            Page {
                address: at(0x400),
                contents: vec![0xa5; 256],
            },
            Page {
                address: at(0x401),
                contents: Vec::new(),
            },
        ],
        reads: vec![
            Read {
                mode: 1,
                address: u64::from(editor),
                len: 0x40,
            },
            Read {
                mode: 3,
                address: u64::from(PEB),
                len: 0x200,
            },
        ],
        exception: Some(Exception {
            thread: 0,
            code: 0xC000_0005,
            flags: 0,
            address: 0x10,
            parameters: vec![0, 0x10],
            context: None,
        }),
        ..Input::default()
    }
}

/// The PEB, its loader list and two TEBs written by the input into a raw region below the PEB
/// (x64 offsets): the PEB names the first image as the main executable, the list holds both
/// images with DOS paths; threads with context records of their own (one misaligned, one
/// short) whose stacks are in private memory; reads across regions and near the top of the
/// address space.
fn raw_environment() -> Input {
    // The environment region: six pages below the PEB's page, then the PEB's page.
    let env = PEB - 6 * PAGE;
    let (ldr, entries, names) = (0usize, 0x100usize, 0x400usize);
    let (image0, image1) = (at(0x10), at(0x20));
    let mut b = Bytes::default();
    let base = |offset: usize| pointer(env + offset as u32);
    // PEB_LDR_DATA: Length, Initialized, the load-order list through both entries.
    b.u32(ldr, 0x58).u32(ldr + 4, 1);
    b.u64(ldr + 0x10, base(entries))
        .u64(ldr + 0x18, base(entries + 0x120));
    let paths = [r"C:\fuzz\main.exe", r"C:\Windows\System32\helper.dll"];
    for (i, (image, path)) in [(image0, paths[0]), (image1, paths[1])].iter().enumerate() {
        let e = entries + 0x120 * i;
        let next = if i == 0 {
            base(entries + 0x120)
        } else {
            base(ldr + 0x10)
        };
        let previous = if i == 0 {
            base(ldr + 0x10)
        } else {
            base(entries)
        };
        b.u64(e, next).u64(e + 8, previous);
        b.u64(e + 0x30, pointer(*image)).u32(e + 0x40, 0x4000);
        let name = names + 0x100 * i;
        let bytes = (path.encode_utf16().count() * 2) as u16;
        b.u16(e + 0x48, bytes).u16(e + 0x4A, bytes + 2);
        b.u64(e + 0x50, base(name));
        b.utf16(name, path);
    }
    // Two TEBs: one and two TEB sizes (0x2000) below the PEB.
    for (i, (tid, stack)) in [(0x10u64, at(0x30)), (0x14, at(0x38))].iter().enumerate() {
        let teb = 6 * PAGE as usize - 0x2000 * (i + 1);
        b.u64(teb + 0x08, pointer(stack + 4 * PAGE));
        b.u64(teb + 0x10, pointer(*stack));
        b.u64(teb + 0x30, pointer(env + teb as u32));
        b.u64(teb + 0x40, 0x1234).u64(teb + 0x48, *tid);
        b.u64(teb + 0x60, pointer(PEB)).u32(teb + 0x68, 5);
    }
    // The PEB: ImageBaseAddress, Ldr, processors and version.
    let peb = 6 * PAGE as usize;
    b.u64(peb + 0x10, pointer(image0))
        .u64(peb + 0x18, base(ldr));
    b.u32(peb + 0xB8, 4)
        .u32(peb + 0x118, 10)
        .u16(peb + 0x120, 26100);
    b.u32(peb + 0x124, 2);
    let environment = b.0;

    let mut first = thread(0x10);
    first.flags = thread_flag::RAW_CONTEXT | thread_flag::MISALIGNED_CONTEXT;
    first.instruction = u64::from(image0 + 0x1010);
    first.stack = at(0x30) + 0x3F00;
    first.frame = at(0x30) + 0x3F80;
    first.context = Some(Context {
        flags: 0x10_001F,
        length: 0x4D0,
        bytes: Vec::new(),
    });
    let mut second = thread(0x14);
    second.flags = thread_flag::RAW_CONTEXT;
    second.stack = at(0x38) + 0x100;
    second.context = Some(Context {
        flags: 0x10_0001,
        length: 0x100,
        bytes: vec![1, 2, 3, 4],
    });
    let mut third = thread(0x18);
    third.stack = at(0x38) + 0x3FF8;
    third.name = "ünïcödé".as_bytes().to_vec();
    // Regions in address order: the two images, two stacks, a read-only page; then the
    // environment (index 5).
    Input {
        options: option::THREAD_NAMES,
        environment_pages: 6,
        read_chunk: 64,
        regions: vec![
            region(0x10, 4, IMAGE, r"\Device\HarddiskVolume3\fuzz\main.exe"),
            region(
                0x20,
                4,
                IMAGE,
                r"\Device\HarddiskVolume3\Windows\System32\helper.dll",
            ),
            region(0x30, 4, PRIVATE, ""),
            region(0x38, 4, PRIVATE, ""),
            region(0x40, 1, READ_ONLY, ""),
        ],
        threads: vec![first, second, third],
        handles: vec![handle(0, 0x1, r"\Device\HarddiskVolume3\fuzz\log.txt")],
        patches: nonzero_patches(5, &environment)
            .into_iter()
            .chain([
                patch(2, 0x3F00, (0..0x100).map(|i| i as u8).collect()),
                patch(4, 0, b"read-only".to_vec()),
            ])
            .collect(),
        reads: vec![
            Read {
                mode: 0,
                address: u64::from(at(0x33)),
                len: 0x2000,
            },
            Read {
                mode: 1,
                address: u64::from(at(0x3B) + 0x800),
                len: 0x1800,
            },
            Read {
                mode: 2,
                address: u64::from(PEB + 0x10),
                len: 8,
            },
            Read {
                mode: 3,
                address: u64::from(at(0x40)),
                len: 0x1100,
            },
            Read {
                mode: read_mode::ABSOLUTE | 3,
                address: u64::MAX - 0x800,
                len: 0x1000,
            },
            Read {
                mode: read_mode::ABSOLUTE,
                address: 0,
                len: 16,
            },
        ],
        ..Input::default()
    }
}

/// An address in the window, as the process sees it (the seeds' pointers in memory).
fn pointer(offset: u32) -> u64 {
    super::process::in_window(u64::from(offset)) as u64
}

/// The model's hostile entries: every shape of every class (eight handles, six threads, four
/// regions, three auxiliary pages, thread names), with section information, VM allocations.
fn hostile() -> Input {
    let threads = (0..6)
        .map(|i| {
            let mut t = thread(0x100 + 4 * i);
            t.stack = at(0x10) + 0x800;
            t.name = format!("worker {i}").into_bytes();
            t
        })
        .collect();
    Input {
        options: option::HOSTILE
            | option::THREAD_NAMES
            | option::AUXILIARY_PAGES
            | option::VM_ALLOCATIONS
            | option::WITH_PEB,
        regions: vec![
            region(0x10, 1, PRIVATE, ""),
            region(0x20, 1, IMAGE, r"\Device\HarddiskVolume3\x.dll"),
            region(0x21, 1, IMAGE, r"\Device\HarddiskVolume3\y.dll"),
            region(0x22, 1, MAPPED, r"\Device\HarddiskVolume3\z.dat"),
        ],
        threads,
        handles: (0..8)
            .map(|i| handle(i as u8, 0x10 + i, r"\BaseNamedObjects\h"))
            .collect(),
        pages: (0..3)
            .map(|i| Page {
                address: at(0x10 + i),
                contents: vec![1; 32],
            })
            .collect(),
        ..Input::default()
    }
}

/// Images whose headers lie: `e_lfanew` far outside, a debug directory past the image, a
/// CodeView record cut short, a `SizeOfImage` of 4 GiB with a debug directory at 2.5 GiB, a
/// PDB 2.0 (`NB10`) record, an optional header of an unknown magic.
fn lying_headers() -> Input {
    // The model's headers: e_lfanew 0x80, the optional header at 0x98, data directory 6 at
    // 0x98 + 112 + 48 (PE32+), the debug directory at 0x200, the CodeView record at 0x220.
    let debug_entry = 0x98 + 112 + 48;
    let patches = vec![
        patch(0, 0x3C, 0x7FFF_FFF0u32.to_le_bytes().to_vec()),
        patch(1, debug_entry as u32, 0x10_0000u32.to_le_bytes().to_vec()),
        patch(2, 0x200 + 16, 16u32.to_le_bytes().to_vec()),
        patch(3, 0x98 + 56, u32::MAX.to_le_bytes().to_vec()),
        patch(3, debug_entry as u32, 0xA000_0000u32.to_le_bytes().to_vec()),
        patch(4, 0x220, {
            let mut nb10 = Bytes::default();
            nb10.put(0, b"NB10")
                .u32(4, 0)
                .u32(8, 0x1234_5678)
                .u32(12, 1);
            nb10.put(16, b"old.pdb\0");
            nb10.0
        }),
        patch(4, 0x200 + 16, 24u32.to_le_bytes().to_vec()),
        patch(5, 0x98, 0x777u16.to_le_bytes().to_vec()),
    ];
    let names = ["a.dll", "b.dll", "c.dll", "d.dll", "e.dll", "f.dll"];
    let mut main = thread(0x20);
    main.stack = at(0x80) + 0x100;
    Input {
        options: option::WITH_PEB,
        regions: names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                region(
                    0x10 + 0x10 * i as u16,
                    2,
                    IMAGE,
                    &format!(r"\Device\HarddiskVolume3\lying\{name}"),
                )
            })
            .chain([region(0x80, 1, PRIVATE, "")])
            .collect(),
        threads: vec![main],
        handles: vec![handle(5, 1, "")],
        patches,
        ..Input::default()
    }
}

/// Little of everything, and memory that cannot be read: no PEB, stacks in reserved, guard,
/// no-access and shared regions and at a region's last byte, a stack limit of 0, 64-byte
/// reads, an exception with a context of its own on a thread that is not there.
fn sparse() -> Input {
    let stacks = [
        at(0x10) + 0x10,
        at(0x11) + 0x10,
        at(0x12) + 0x10,
        at(0x13) + 0x10,
        at(0x15) - 1,
    ];
    let threads = stacks
        .iter()
        .enumerate()
        .map(|(i, &stack)| {
            let mut t = thread(0x40 + 4 * i as u16);
            t.stack = stack;
            t
        })
        .collect();
    let mut context = Bytes::default();
    context
        .u32(0x30, 0x10_0001)
        .u64(0x98, 0xDEAD_BEEF)
        .u64(0xF8, 0x1234);
    Input {
        options: option::EXTENDED_CONTEXT | option::NO_SECTION_INFORMATION,
        read_chunk: 1,
        stack_limit: 1,
        regions: vec![
            region(0x10, 1, RESERVED, ""),
            region(0x11, 1, GUARD, ""),
            region(0x12, 1, NO_ACCESS, ""),
            region(0x13, 1, SHARED, ""),
            region(0x14, 1, PRIVATE, ""),
        ],
        threads,
        handles: vec![handle(4, 1, "m")],
        exception: Some(Exception {
            thread: 200,
            code: 0x8000_0003,
            flags: 1,
            address: u64::MAX,
            parameters: (0..20).collect(),
            context: Some(context.0),
        }),
        ..Input::default()
    }
}
