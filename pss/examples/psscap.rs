//! `psscap`: capture a process with everything the Process Snapshotting API offers, query every
//! information class, walk every walk class, print a readable report, and free the snapshot.
//!
//! ```text
//! psscap [PID]
//! ```
//!
//! On Windows it snapshots process `PID` (default: itself) through the real kernel32. On any
//! other host there is no kernel32: it runs against the `pss-tests` model of kernel32 instead,
//! on a model process it builds itself, and says so on the first lines of its output. Run it
//! with `cargo xtask demo`.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

use pss::{
    CaptureFlags, ErrorCode, ErrorKind, ExitStatus, HandleEntry, LocalSnapshot, MemoryType,
    ProcessAccess, ThreadEntry, TypeSpecific, VaSpaceEntry,
};

/// Everything a snapshot can hold (the breakaway flags only matter inside jobs).
const FLAGS: CaptureFlags = CaptureFlags::VA_CLONE
    .union(CaptureFlags::AUXILIARY_PAGES)
    .union(CaptureFlags::HANDLES)
    .union(CaptureFlags::HANDLE_NAME_INFORMATION)
    .union(CaptureFlags::HANDLE_BASIC_INFORMATION)
    .union(CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION)
    .union(CaptureFlags::HANDLE_TRACE)
    .union(CaptureFlags::THREADS)
    .union(CaptureFlags::THREAD_CONTEXT)
    .union(CaptureFlags::VA_SPACE)
    .union(CaptureFlags::VA_SPACE_SECTION_INFORMATION)
    .union(CaptureFlags::CREATE_MEASURE_PERFORMANCE);

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

#[path = "common/target.rs"]
mod target;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("psscap: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > 1 {
        return Err("usage: psscap [PID]".into());
    }
    let target = target::choose(args.first().map(String::as_str))?;
    println!("psscap: a Process Snapshotting report");
    println!("kernel:  {}", target::KERNEL);
    println!("target:  {}", target.describe());
    if !pss::is_available() {
        return Err("this kernel32 has no Process Snapshotting API \
                    (it needs Windows 8.1 or later; Wine has none)"
            .into());
    }
    let process = pss::open_process(target.pid(), ProcessAccess::for_capture(FLAGS))?;
    let snapshot = LocalSnapshot::capture(&process, FLAGS)?;
    println!("capture: {}", flag_names(FLAGS));

    process_section(&snapshot)?;
    queries_section(&snapshot)?;
    threads_section(&snapshot)?;
    handles_section(&snapshot)?;
    regions_section(&snapshot)?;
    auxiliary_pages_section(&snapshot)?;

    snapshot.close()?;
    println!("\nsnapshot freed (PssFreeSnapshot); its VA clone ends with the last handle to it");
    Ok(()) // `target` (on other hosts, the model process) goes last
}

/// `Ok(Some(value))`, or `Ok(None)` after printing what is not in the snapshot and why (not
/// captured; for threads and the handle trace, possibly another cause); other errors pass.
fn captured<T>(label: &str, result: pss::Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::NotCaptured(_) | ErrorKind::Os(ErrorCode::NOT_FOUND)
            ) =>
        {
            println!("  {label:<14} not in the snapshot: {error}");
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

fn process_section(snapshot: &LocalSnapshot) -> Result {
    let info = snapshot.process_information()?;
    println!("\n== process");
    println!(
        "  {:<14} {} (parent {})",
        "pid",
        info.process_id(),
        info.parent_process_id()
    );
    match info.image_file_name() {
        Some(image) => println!("  {:<14} {}", "image", image.display()),
        None => println!(
            "  {:<14} (not captured: Windows leaves long paths empty)",
            "image"
        ),
    }
    parameters_lines(snapshot);
    let status = match info.exit_status() {
        ExitStatus::Running => "running".to_string(),
        ExitStatus::Exited(code) => format!("exited with {code}"),
    };
    println!("  {:<14} {status}", "status");
    let flags = info.flags();
    let flags = if flags.is_empty() {
        "none".to_string()
    } else {
        format!("{flags:?}")
    };
    println!("  {:<14} {flags}", "flags");
    if let Some(created) = info.create_time() {
        println!("  {:<14} {}", "created", created);
    }
    println!(
        "  {:<14} kernel {:?}, user {:?}",
        "cpu time",
        info.kernel_time(),
        info.user_time()
    );
    let memory = info.memory();
    println!(
        "  {:<14} working set {} (peak {}), private {}, virtual {}, {} page faults",
        "memory",
        size(memory.working_set_size),
        size(memory.peak_working_set_size),
        size(memory.private_usage),
        size(memory.virtual_size),
        memory.page_fault_count
    );
    Ok(())
}

/// The command line, current directory and environment, from the process parameters the PEB
/// points to (read through the VA clone); what cannot be read is said, not fatal.
fn parameters_lines(snapshot: &LocalSnapshot) {
    let parameters = match snapshot.process_parameters() {
        Ok(parameters) => parameters,
        Err(error) => return println!("  {:<14} unreadable: {error}", "parameters"),
    };
    let strings = [
        ("command line", parameters.command_line()),
        ("directory", parameters.current_directory()),
    ];
    for (label, string) in strings {
        match string {
            Ok(string) => println!("  {label:<14} {}", string.display()),
            Err(error) => println!("  {label:<14} unreadable: {error}"),
        }
    }
    match parameters.environment() {
        // Names only: values hold secrets often enough (tokens, passwords).
        Ok(environment) => {
            let names: Vec<String> = environment
                .iter()
                .map(|(name, _)| name.to_string_lossy())
                .collect();
            println!(
                "  {:<14} {} variables{}: {}",
                "environment",
                names.len(),
                if environment.is_complete() {
                    ""
                } else {
                    " (cut)"
                },
                names.join(" ")
            );
        }
        Err(error) => println!("  {:<14} unreadable: {error}", "environment"),
    }
}

fn queries_section(snapshot: &LocalSnapshot) -> Result {
    println!("\n== queries");
    if let Some(threads) = captured("threads", snapshot.thread_information())? {
        println!(
            "  {:<14} {} captured (terminated ones included), context records of {} bytes",
            "threads", threads.threads_captured, threads.context_length
        );
    }
    if let Some(count) = captured("handles", snapshot.handle_count())? {
        println!("  {:<14} {count}", "handles");
    }
    if let Some(count) = captured("regions", snapshot.region_count())? {
        println!("  {:<14} {count}", "regions");
    }
    if let Some(count) = captured("aux pages", snapshot.auxiliary_page_count())? {
        println!("  {:<14} {count}", "aux pages");
    }
    if let Some(clone) = captured("va clone", snapshot.va_clone())? {
        println!(
            "  {:<14} process {} (handle borrowed from the snapshot)",
            "va clone",
            clone.process_id()?
        );
    }
    if let Some(trace) = captured("handle trace", snapshot.handle_trace())? {
        println!(
            "  {:<14} section of {}",
            "handle trace",
            size(trace.size() as usize)
        );
    }
    if let Some(cost) = captured("capture cost", snapshot.performance_counters())? {
        let parts = [
            ("va clone", cost.va_clone()),
            ("va space", cost.va_space()),
            ("aux pages", cost.auxiliary_pages()),
            ("handles", cost.handles()),
            ("threads", cost.threads()),
        ];
        let mut line = format!(
            "{:?} ({} cycles):",
            cost.total().wall_clock,
            cost.total().cycles
        );
        for (part, cost) in parts {
            write!(line, " {part} {:?},", cost.wall_clock)?;
        }
        println!("  {:<14} {}", "capture cost", line.trim_end_matches(','));
    }
    Ok(())
}

fn threads_section(snapshot: &LocalSnapshot) -> Result {
    println!("\n== threads");
    let walk = snapshot.threads()?;
    let Some(threads) = collect("threads", &walk)? else {
        return Ok(());
    };
    let terminated = threads.iter().filter(|t| t.is_terminated()).count();
    println!(
        "  {} threads, {terminated} of them terminated but still referenced by a handle",
        threads.len()
    );
    println!(
        "  {:<8} {:<14} {:>4} {:>7}  {:<18} context",
        "tid", "state", "prio", "suspend", "start"
    );
    for thread in &threads {
        let state = match thread.exit_status() {
            ExitStatus::Running if thread.suspend_count() > 0 => "suspended".to_string(),
            ExitStatus::Running => "running".to_string(),
            ExitStatus::Exited(code) => format!("exited ({code})"),
        };
        println!(
            "  {:<8} {:<14} {:>4} {:>7}  {:<18} {}",
            format!("{:#x}", thread.thread_id()),
            state,
            thread.priority(),
            thread.suspend_count(),
            format!("{:#x}", thread.start_address()),
            context(thread)
        );
    }
    walk.close()?;
    Ok(())
}

/// What a thread's context record holds, and how `pss` could read it.
fn context(thread: &ThreadEntry<'_>) -> String {
    let Some(bytes) = thread.context_bytes() else {
        return "none".into();
    };
    let how = match thread.context() {
        None => return format!("{} bytes (too short for CONTEXT)", bytes.len()),
        Some(std::borrow::Cow::Borrowed(_)) => "borrowed",
        Some(std::borrow::Cow::Owned(_)) => "copied: misaligned",
    };
    let register = |value: Option<usize>| value.map_or("-".into(), |v| format!("{v:#x}"));
    format!(
        "{} bytes ({how}), ip={} sp={} fp={}",
        bytes.len(),
        register(thread.instruction_pointer()),
        register(thread.stack_pointer()),
        register(thread.frame_pointer())
    )
}

fn handles_section(snapshot: &LocalSnapshot) -> Result {
    println!("\n== handles, by type");
    let walk = snapshot.handles()?;
    let Some(handles) = collect("handles", &walk)? else {
        return Ok(());
    };
    let mut by_type: BTreeMap<String, Vec<&HandleEntry<'_>>> = BTreeMap::new();
    for handle in &handles {
        let name = match handle.type_name() {
            Some(name) if !name.is_empty() => name.to_string_lossy(),
            _ => "(type not captured)".to_string(),
        };
        by_type.entry(name).or_default().push(handle);
    }
    for (type_name, handles) in &by_type {
        println!("  {type_name} ({})", handles.len());
        for handle in handles {
            let name = handle
                .object_name()
                .map_or_else(|| "(unnamed)".to_string(), |n| n.to_string_lossy());
            let access = handle
                .basic_information()
                .map_or(String::new(), |b| format!("access {:#x}", b.granted_access));
            let line = format!(
                "    {:<6} {:<56} {:<18} {}",
                format!("{:#x}", handle.handle_value()),
                name,
                access,
                type_specific(handle.type_specific())
            );
            println!("{}", line.trim_end());
        }
    }
    Ok(())
}

fn type_specific(info: Option<TypeSpecific>) -> String {
    match info {
        None => String::new(),
        Some(TypeSpecific::Process(p)) => {
            format!("process {} (parent {})", p.process_id, p.parent_process_id)
        }
        Some(TypeSpecific::Thread(t)) => {
            format!("thread {} of process {}", t.thread_id, t.process_id)
        }
        Some(TypeSpecific::Mutant(m)) => format!(
            "count {}{}",
            m.current_count,
            if m.abandoned { ", abandoned" } else { "" }
        ),
        Some(TypeSpecific::Event(e)) => format!(
            "{}, {}",
            if e.manual_reset {
                "manual reset"
            } else {
                "auto reset"
            },
            if e.signaled {
                "signaled"
            } else {
                "not signaled"
            }
        ),
        Some(TypeSpecific::Section(s)) => format!("maximum size {}", size(s.maximum_size as usize)),
        Some(TypeSpecific::Semaphore(s)) => {
            format!("count {} of {}", s.current_count, s.maximum_count)
        }
        Some(TypeSpecific::Unknown(object_type)) => format!("{object_type:?}"),
    }
}

fn regions_section(snapshot: &LocalSnapshot) -> Result {
    println!("\n== regions, by type");
    let walk = snapshot.va_space()?;
    let Some(regions) = collect("regions", &walk)? else {
        return Ok(());
    };
    let mut by_type: BTreeMap<MemoryType, Vec<&VaSpaceEntry<'_>>> = BTreeMap::new();
    for region in &regions {
        by_type
            .entry(region.region().kind)
            .or_default()
            .push(region);
    }
    for (kind, regions) in &by_type {
        let total: usize = regions.iter().map(|r| r.region().region_size).sum();
        let label = match kind {
            MemoryType::None => "Free".to_string(),
            other => format!("{other:?}"),
        };
        println!("  {label} ({}, {})", regions.len(), size(total));
        for entry in regions {
            let region = entry.region();
            let mut line = format!(
                "    {:#014x}-{:#014x} {:<7} {:<4}",
                region.base_address,
                region.range().end,
                format!("{:?}", region.state),
                region.protect.to_string()
            );
            if let Some(file) = entry.mapped_file_name() {
                write!(line, " {}", file.display())?;
            }
            if let Some(image) = entry.image() {
                write!(
                    line,
                    " (image base {:#x}, size {}, timestamp {:#010x})",
                    image.image_base,
                    size(image.size_of_image as usize),
                    image.time_date_stamp
                )?;
            }
            println!("{}", line.trim_end());
        }
    }
    Ok(())
}

fn auxiliary_pages_section(snapshot: &LocalSnapshot) -> Result {
    println!("\n== auxiliary pages");
    let walk = snapshot.auxiliary_pages()?;
    let Some(pages) = collect("aux pages", &walk)? else {
        return Ok(());
    };
    for page in &pages {
        match page.contents() {
            Some(contents) => println!(
                "  {:#014x} {} captured, first bytes {:02x?}",
                page.address(),
                size(contents.len()),
                &contents[..contents.len().min(4)]
            ),
            None => println!("  {:#014x} contents not captured", page.address()),
        }
    }
    Ok(())
}

/// Every entry of a walk, borrowed from it; `None` (after saying so) if the class was not
/// captured.
fn collect<'w, C: pss::WalkClass, W>(
    label: &str,
    walk: &'w pss::Walk<'_, C, W>,
) -> Result<Option<Vec<C::Entry<'w>>>> {
    captured(label, walk.iter().collect::<pss::Result<Vec<_>>>())
}

fn flag_names(flags: CaptureFlags) -> String {
    flags
        .iter_names()
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join(" | ")
}

fn size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
