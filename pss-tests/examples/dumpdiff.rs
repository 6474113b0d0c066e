//! `dumpdiff A.dmp B.dmp`: compare two minidumps of the same snapshot stream by stream, as read
//! by an independent reader (rust-minidump): the system, the process, threads and their
//! contexts and stacks, modules and their CodeView records, the memory description, handles,
//! and the memory itself. `cargo xtask dump` runs it on dbghelp's dump (A) and pss's (B).
//!
//! Each stream is `same`, `explained` (a difference the pss docs explain: see "Compared with
//! dbghelp" in `LocalSnapshot::minidump`), or `DIFFERS`; any `DIFFERS` makes the exit status 1.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::process::ExitCode;

use minidump::{
    Minidump, MinidumpHandleDataStream, MinidumpMemory64List, MinidumpMemoryInfoList,
    MinidumpMemoryList, MinidumpMiscInfo, MinidumpModuleList, MinidumpSystemInfo,
    MinidumpThreadList, Module,
};

type Dump = Minidump<'static, Vec<u8>>;
/// A region as the memory info list describes it: base, size, state, protection, type.
type Region = (u64, u64, u32, u32, u32);
/// A handle: value, type name, object name.
type Handle = (u64, Option<String>, Option<String>);

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("dumpdiff: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A stream's verdict.
enum Verdict {
    Same(String),
    Explained(String),
    Differs(String),
}

fn run() -> Result<bool, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b] = args.as_slice() else {
        return Err("usage: dumpdiff A.dmp B.dmp".into());
    };
    let (bytes_a, bytes_b) = (std::fs::read(a)?, std::fs::read(b)?);
    let (dump_a, dump_b) = (
        Minidump::read(bytes_a.clone())?,
        Minidump::read(bytes_b.clone())?,
    );
    println!("dumpdiff: A {a}\n          B {b}");
    let mut clean = true;
    let streams: [(&str, Verdict); 8] = [
        ("system", system(&dump_a, &dump_b)?),
        ("process", process(&dump_a, &dump_b)),
        (
            "threads",
            threads((&dump_a, &bytes_a), (&dump_b, &bytes_b))?,
        ),
        ("modules", modules(&dump_a, &dump_b)?),
        ("memory info", memory_info(&dump_a, &dump_b)),
        ("handles", handles(&dump_a, &dump_b)),
        ("memory", memory(&dump_a, &dump_b)),
        ("streams", stream_types(&dump_a, &dump_b)),
    ];
    for (name, verdict) in streams {
        let (word, text) = match verdict {
            Verdict::Same(text) => ("same", text),
            Verdict::Explained(text) => ("explained", text),
            Verdict::Differs(text) => {
                clean = false;
                ("DIFFERS", text)
            }
        };
        println!("{name:<12} {word:<9} {text}");
    }
    Ok(clean)
}

fn system(a: &Dump, b: &Dump) -> Result<Verdict, Box<dyn Error>> {
    let (a, b): (MinidumpSystemInfo, MinidumpSystemInfo) = (a.get_stream()?, b.get_stream()?);
    if a.raw.processor_architecture != b.raw.processor_architecture {
        return Ok(Verdict::Differs(format!(
            "architecture {} / {}",
            a.raw.processor_architecture, b.raw.processor_architecture
        )));
    }
    let version =
        |s: &MinidumpSystemInfo| (s.raw.major_version, s.raw.minor_version, s.raw.build_number);
    Ok(if version(&a) == version(&b) {
        Verdict::Same(format!("{:?}, Windows {:?}", a.cpu, version(&a)))
    } else {
        Verdict::Explained(format!(
            "{:?}; Windows version {:?} / {:?} (pss reads it from the target's PEB)",
            a.cpu,
            version(&a),
            version(&b)
        ))
    })
}

fn process(a: &Dump, b: &Dump) -> Verdict {
    let pid = |d: &Dump| {
        d.get_stream::<MinidumpMiscInfo>()
            .ok()
            .and_then(|m| m.raw.process_id().copied())
    };
    match (pid(a), pid(b)) {
        (Some(x), Some(y)) if x == y => Verdict::Same(format!("process {x}")),
        (x, y) => Verdict::Differs(format!("process ids {x:?} / {y:?}")),
    }
}

/// The bytes a location names.
fn slice(bytes: &[u8], rva: u32, size: u32) -> &[u8] {
    bytes
        .get(rva as usize..rva as usize + size as usize)
        .unwrap_or(&[])
}

fn threads(
    (a, bytes_a): (&Dump, &[u8]),
    (b, bytes_b): (&Dump, &[u8]),
) -> Result<Verdict, Box<dyn Error>> {
    let (ta, tb): (MinidumpThreadList<'_>, MinidumpThreadList<'_>) =
        (a.get_stream()?, b.get_stream()?);
    let system: MinidumpSystemInfo = a.get_stream()?;
    // Where ContextFlags is: after the six home addresses on x64, first elsewhere.
    let flags = if system.raw.processor_architecture == 9 {
        0x30..0x34
    } else {
        0..4
    };
    let by_id =
        |list: &MinidumpThreadList<'_>| -> BTreeMap<u32, minidump::format::MINIDUMP_THREAD> {
            list.threads
                .iter()
                .map(|t| (t.raw.thread_id, t.raw.clone()))
                .collect()
        };
    let (ma, mb) = (by_id(&ta), by_id(&tb));
    if ma.keys().ne(mb.keys()) {
        return Ok(Verdict::Differs(format!(
            "thread ids {:?} / {:?}",
            ma.keys().collect::<Vec<_>>(),
            mb.keys().collect::<Vec<_>>()
        )));
    }
    let mut stacks_cut = 0;
    for (id, x) in &ma {
        let y = &mb[id];
        if x.teb != y.teb {
            return Ok(Verdict::Differs(format!(
                "thread {id:#x}: TEB {:#x} / {:#x}",
                x.teb, y.teb
            )));
        }
        // The registers: the CONTEXT both hold, but for ContextFlags (pss clears the bits
        // readers reject, and dbghelp may add an extended part after it).
        let ca = slice(bytes_a, x.thread_context.rva, x.thread_context.data_size);
        let cb = slice(bytes_b, y.thread_context.rva, y.thread_context.data_size);
        let n = ca.len().min(cb.len());
        let registers = |c: &[u8]| -> Vec<u8> {
            c[..n]
                .iter()
                .enumerate()
                .filter(|(i, _)| !flags.contains(i))
                .map(|(_, b)| *b)
                .collect()
        };
        if (ca.is_empty() != cb.is_empty()) || registers(ca) != registers(cb) {
            return Ok(Verdict::Differs(format!("thread {id:#x}: registers")));
        }
        // The stacks: equal where both hold bytes (a writer may start below the stack pointer
        // or stop sooner); other bounds are counted, and explained in the pss docs.
        let (sa, sb) = (&x.stack, &y.stack);
        if sa.memory.data_size > 0 && sb.memory.data_size > 0 {
            let (ba, bb) = (
                slice(bytes_a, sa.memory.rva, sa.memory.data_size),
                slice(bytes_b, sb.memory.rva, sb.memory.data_size),
            );
            let (start_a, start_b) = (sa.start_of_memory_range, sb.start_of_memory_range);
            let lo = start_a.max(start_b);
            let hi = (start_a + ba.len() as u64).min(start_b + bb.len() as u64);
            if lo >= hi {
                return Ok(Verdict::Differs(format!(
                    "thread {id:#x}: stacks do not overlap"
                )));
            }
            let part_a = &ba[(lo - start_a) as usize..(hi - start_a) as usize];
            let part_b = &bb[(lo - start_b) as usize..(hi - start_b) as usize];
            if part_a != part_b {
                return Ok(Verdict::Differs(format!("thread {id:#x}: stack bytes")));
            }
            if start_a != start_b || ba.len() != bb.len() {
                stacks_cut += 1;
            }
        } else if (sa.memory.data_size > 0) != (sb.memory.data_size > 0) {
            return Ok(Verdict::Differs(format!(
                "thread {id:#x}: stack in one dump only"
            )));
        }
    }
    let text = format!("{} threads: TEBs, registers and stacks", ma.len());
    Ok(if stacks_cut == 0 {
        Verdict::Same(text)
    } else {
        Verdict::Explained(format!(
            "{text}; {stacks_cut} stacks with other bounds (equal where both hold bytes)"
        ))
    })
}

fn modules(a: &Dump, b: &Dump) -> Result<Verdict, Box<dyn Error>> {
    let (la, lb): (MinidumpModuleList, MinidumpModuleList) = (a.get_stream()?, b.get_stream()?);
    let by_base = |l: &MinidumpModuleList| -> BTreeMap<u64, minidump::MinidumpModule> {
        l.iter().map(|m| (m.raw.base_of_image, m.clone())).collect()
    };
    let (ma, mb) = (by_base(&la), by_base(&lb));
    if ma.keys().ne(mb.keys()) {
        return Ok(Verdict::Differs("module bases".into()));
    }
    let mut names_differ = Vec::new();
    let mut with_codeview = 0;
    for (base, x) in &ma {
        let y = &mb[base];
        let fields = |m: &minidump::MinidumpModule| {
            (
                m.raw.size_of_image,
                m.raw.time_date_stamp,
                m.raw.checksum,
                m.debug_identifier(),
                m.debug_file().map(|f| f.into_owned()),
            )
        };
        if fields(x) != fields(y) {
            return Ok(Verdict::Differs(format!(
                "module {base:#x}: {:?} / {:?}",
                fields(x),
                fields(y)
            )));
        }
        with_codeview += usize::from(x.debug_identifier().is_some());
        if x.name != y.name {
            // The same file under an NT and a DOS path: equal after the device or drive.
            let tail = |n: &str| n.rsplit('\\').next().unwrap_or(n).to_ascii_lowercase();
            if tail(&x.name) != tail(&y.name) {
                return Ok(Verdict::Differs(format!(
                    "module {base:#x}: {} / {}",
                    x.name, y.name
                )));
            }
            names_differ.push(format!("{} / {}", x.name, y.name));
        }
    }
    let text = format!(
        "{} modules: sizes, time stamps, checksums, {with_codeview} CodeView records",
        ma.len()
    );
    Ok(if names_differ.is_empty() {
        Verdict::Same(text)
    } else {
        Verdict::Explained(format!(
            "{text}; {} names written as NT and DOS paths of the same file, e.g. {}",
            names_differ.len(),
            names_differ[0]
        ))
    })
}

fn memory_info(a: &Dump, b: &Dump) -> Verdict {
    let list = |d: &Dump| -> Option<Vec<Region>> {
        let l: MinidumpMemoryInfoList<'_> = d.get_stream().ok()?;
        let mut regions: Vec<_> = l
            .iter()
            .map(|i| {
                (
                    i.raw.base_address,
                    i.raw.region_size,
                    i.raw.state,
                    i.raw.protection,
                    i.raw._type,
                )
            })
            .collect();
        regions.sort();
        Some(regions)
    };
    match (list(a), list(b)) {
        (Some(x), Some(y)) if x == y => Verdict::Same(format!("{} regions", x.len())),
        (None, None) => Verdict::Same("none".into()),
        (None, Some(y)) => Verdict::Explained(format!(
            "{} regions in B only (the dump types ask for different streams)",
            y.len()
        )),
        (Some(x), None) => Verdict::Explained(format!(
            "{} regions in A only (the dump types ask for different streams)",
            x.len()
        )),
        (Some(x), Some(y)) if x.len() == y.len() => {
            let (p, q) = x
                .iter()
                .zip(&y)
                .find(|(p, q)| p != q)
                .expect("a difference");
            Verdict::Differs(format!("{p:x?} / {q:x?}"))
        }
        (x, y) => Verdict::Differs(format!(
            "{:?} / {:?} regions",
            x.map(|v| v.len()),
            y.map(|v| v.len())
        )),
    }
}

fn handles(a: &Dump, b: &Dump) -> Verdict {
    let list = |d: &Dump| -> Option<BTreeSet<Handle>> {
        let l: MinidumpHandleDataStream = d.get_stream().ok()?;
        Some(
            l.handles
                .iter()
                .map(|h| {
                    let raw = match &h.raw {
                        minidump::RawHandleDescriptor::HandleDescriptor(d) => d.handle,
                        minidump::RawHandleDescriptor::HandleDescriptor2(d) => d.handle,
                    };
                    (raw, h.type_name.clone(), h.object_name.clone())
                })
                .collect(),
        )
    };
    match (list(a), list(b)) {
        (Some(x), Some(y)) if x == y => {
            Verdict::Same(format!("{} handles, types and names", x.len()))
        }
        (None, None) => Verdict::Same("none".into()),
        (None, Some(y)) => Verdict::Explained(format!(
            "{} handles in B only (the dump types ask for different streams)",
            y.len()
        )),
        (Some(x), None) => Verdict::Explained(format!(
            "{} handles in A only (the dump types ask for different streams)",
            x.len()
        )),
        (Some(x), Some(y)) => Verdict::Differs(format!(
            "e.g. {:?} / {:?}",
            x.difference(&y).next(),
            y.difference(&x).next()
        )),
    }
}

/// Every range and its bytes: a full dump's Memory64 list, or a small one's memory list.
fn ranges(d: &Dump) -> BTreeMap<u64, Vec<u8>> {
    if let Ok(list) = d.get_stream::<MinidumpMemory64List<'_>>() {
        return list
            .iter()
            .map(|r| (r.base_address, r.bytes.to_vec()))
            .collect();
    }
    if let Ok(list) = d.get_stream::<MinidumpMemoryList<'_>>() {
        return list
            .iter()
            .map(|r| (r.base_address, r.bytes.to_vec()))
            .collect();
    }
    BTreeMap::new()
}

fn memory(a: &Dump, b: &Dump) -> Verdict {
    let (ra, rb) = (ranges(a), ranges(b));
    let bytes = |r: &BTreeMap<u64, Vec<u8>>| r.values().map(Vec::len).sum::<usize>();
    if ra == rb {
        return Verdict::Same(format!("{} ranges, {} bytes, equal", ra.len(), bytes(&ra)));
    }
    // Where both hold an address, they must hold the same byte there.
    for (start, x) in &ra {
        for (other, y) in rb.range(..start + x.len() as u64) {
            let (lo, hi) = (
                (*start).max(*other),
                (start + x.len() as u64).min(other + y.len() as u64),
            );
            if lo < hi {
                let xa = &x[(lo - start) as usize..(hi - start) as usize];
                let yb = &y[(lo - other) as usize..(hi - other) as usize];
                if xa != yb {
                    return Verdict::Differs(format!("bytes at {lo:#x}"));
                }
            }
        }
    }
    Verdict::Explained(format!(
        "{} / {} ranges, {} / {} bytes, equal where both hold memory (the writers choose different ranges for a small dump)",
        ra.len(),
        rb.len(),
        bytes(&ra),
        bytes(&rb)
    ))
}

fn stream_types(a: &Dump, b: &Dump) -> Verdict {
    let types = |d: &Dump| -> BTreeSet<u32> { d.all_streams().map(|s| s.stream_type).collect() };
    let (ta, tb) = (types(a), types(b));
    if ta == tb {
        return Verdict::Same(format!("{} streams", ta.len()));
    }
    let only = |x: &BTreeSet<u32>, y: &BTreeSet<u32>| {
        x.difference(y)
            .map(|t| name(*t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (in_a, in_b) = (only(&ta, &tb), only(&tb, &ta));
    Verdict::Explained(format!("only in A: [{in_a}]; only in B: [{in_b}]"))
}

fn name(stream_type: u32) -> String {
    use minidump::format::MINIDUMP_STREAM_TYPE as T;
    let known = [
        (T::ThreadListStream, "ThreadList"),
        (T::ModuleListStream, "ModuleList"),
        (T::MemoryListStream, "MemoryList"),
        (T::ExceptionStream, "Exception"),
        (T::SystemInfoStream, "SystemInfo"),
        (T::Memory64ListStream, "Memory64List"),
        (T::HandleDataStream, "HandleData"),
        (T::UnloadedModuleListStream, "UnloadedModuleList"),
        (T::MiscInfoStream, "MiscInfo"),
        (T::MemoryInfoListStream, "MemoryInfoList"),
        (T::ThreadInfoListStream, "ThreadInfoList"),
        (T::TokenStream, "Token"),
        (T::ThreadNamesStream, "ThreadNames"),
    ];
    if stream_type == pss::DUMP_INFO_STREAM {
        return "PssDumpInfo".into();
    }
    known
        .iter()
        .find(|(t, _)| u32::from(*t) == stream_type)
        .map_or_else(|| format!("{stream_type:#x}"), |(_, n)| (*n).to_string())
}
