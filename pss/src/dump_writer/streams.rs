//! The order a dump is written in (the layout's, strictly forward), and the small streams
//! (system, misc, exception).

use std::io::Write;

use minidump_common::format as md;

use super::file::{self, CHUNK, DumpFile};
use super::layout::Layout;
use super::loader::System;
use super::memory::{self, ListKind};
use super::plan::{self, Plan};
use super::summary::Part;
use super::unread::{self, Unread};
use super::{
    DumpError, DumpSummary, DumpWriter, Omission, Profile, Redaction, handles, modules, threads,
};
use crate::{Allocation, ErrorCode, ErrorKind};

/// `MiniDumpWithDataSegs`, `MiniDumpWithFullMemory`, `MiniDumpWithHandleData`,
/// `MiniDumpWithIndirectlyReferencedMemory`, `MiniDumpWithPrivateReadWriteMemory`,
/// `MiniDumpWithFullMemoryInfo`, `MiniDumpWithThreadInfo`: the header's flags say what the dump
/// holds, as dbghelp's do.
const WITH_DATA_SEGS: u64 = 0x1;
const WITH_FULL_MEMORY: u64 = 0x2;
const WITH_HANDLE_DATA: u64 = 0x4;
const WITH_INDIRECTLY_REFERENCED_MEMORY: u64 = 0x40;
const WITH_PRIVATE_READ_WRITE_MEMORY: u64 = 0x200;
const WITH_FULL_MEMORY_INFO: u64 = 0x800;
const WITH_THREAD_INFO: u64 = 0x1000;

/// `VER_PLATFORM_WIN32_NT`, what every Windows PSS runs on reports.
const PLATFORM_WIN32_NT: u32 = 2;

/// A query's or walk's result when the part may be missing: the value, or `None` with the
/// reason recorded (not captured, or not found for another reason such as an exited process).
/// Other errors end the dump.
pub(super) fn present<T>(
    result: crate::Result<T>,
    part: Part,
    summary: &mut DumpSummary,
) -> Result<Option<T>, DumpError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) => missing(error.into(), part, summary).map(|()| None),
    }
}

/// A walk's end: fine, or a part found missing at its first entry (a walk marker is made
/// before the snapshot is asked for the class), recorded as [`present`] does.
pub(super) fn walked(
    result: Result<(), DumpError>,
    part: Part,
    summary: &mut DumpSummary,
) -> Result<(), DumpError> {
    result.or_else(|error| missing(error, part, summary))
}

fn missing(error: DumpError, part: Part, summary: &mut DumpSummary) -> Result<(), DumpError> {
    let DumpError::Snapshot(error) = error else {
        return Err(error);
    };
    match error.kind() {
        ErrorKind::NotCaptured(flags) => {
            summary.omissions.push(Omission::NotCaptured(flags));
            Ok(())
        }
        ErrorKind::Os(ErrorCode::NOT_FOUND) => {
            summary.omissions.push(Omission::Unlisted {
                part: part.name(),
                error,
            });
            Ok(())
        }
        _ => Err(error.into()),
    }
}

/// Plans the whole dump, then writes it, strictly forward.
pub(super) fn write<A: Allocation, W: Write>(
    writer: &DumpWriter<'_, A>,
    out: W,
) -> Result<DumpSummary, DumpError> {
    let mut chunk = vec![0u8; CHUNK];
    let (plan, layout) = plan::plan(writer, &mut chunk)?;
    let mut file = DumpFile::new(out, layout.total, writer.progress);
    let mut unread = Unread::default();
    match write_planned(
        &mut file,
        &plan,
        &layout,
        writer.redaction,
        &mut unread,
        &mut chunk,
    ) {
        Ok(()) => {
            let bytes = file.finish()?;
            let mut summary = plan.summary;
            unread.report(&mut summary);
            summary.bytes = bytes;
            Ok(summary)
        }
        Err(error) => {
            file.abandon();
            Err(error)
        }
    }
}

/// Writes every object of `plan` where `layout` put it.
fn write_planned<W: Write>(
    file: &mut DumpFile<'_, W>,
    plan: &Plan<'_>,
    layout: &Layout,
    redaction: Option<&dyn Redaction>,
    unread: &mut Unread,
    chunk: &mut [u8],
) -> Result<(), DumpError> {
    file.step()?;
    header(file, plan, layout)?;
    system_info(file, plan.system, layout)?;
    misc_info(file, &plan.process, layout)?;
    unread::write_stream(
        file,
        u64::from(layout.info),
        &unread::Info {
            dump_size: layout.total,
            table: layout.unread,
            profile: plan.profile,
            flags: plan.flags,
        },
    )?;
    threads::write_lists(file, &plan.threads, layout, plan.process.priority_class)?;
    threads::write_names(file, &plan.threads, &plan.names, layout)?;
    modules::write(file, &plan.modules, layout)?;
    if let Some(exception) = &plan.exception {
        exception_stream(file, exception, plan, layout)?;
    }
    for (context, at) in plan.threads.contexts.iter().zip(&layout.contexts) {
        file.at(u64::from(*at))?;
        file.bytes(context)?;
    }
    if let Some(space) = &plan.space {
        memory::write_info_list(file, space, layout)?;
    }
    if let Some(handles) = &plan.handles {
        handles::write(file, handles, layout)?;
    }
    memory_lists(file, plan, layout, redaction, unread, chunk)?;
    unread::write_table(file, layout.unread, unread)
}

/// The header and the directory.
fn header<W: Write>(
    file: &mut DumpFile<'_, W>,
    plan: &Plan<'_>,
    layout: &Layout,
) -> Result<(), DumpError> {
    let mut flags = WITH_THREAD_INFO;
    if layout.info_list.is_some() {
        flags |= WITH_FULL_MEMORY_INFO;
    }
    if layout.handles.is_some() {
        flags |= WITH_HANDLE_DATA;
    }
    flags |= match (plan.profile, plan.memory.kind) {
        (Profile::Referenced, _) => WITH_INDIRECTLY_REFERENCED_MEMORY,
        (Profile::Plus, ListKind::Memory64) => WITH_PRIVATE_READ_WRITE_MEMORY | WITH_DATA_SEGS,
        (Profile::Full, ListKind::Memory64) => WITH_FULL_MEMORY,
        _ => 0,
    };
    file.put(md::MINIDUMP_HEADER {
        signature: md::MINIDUMP_SIGNATURE,
        version: md::MINIDUMP_VERSION,
        stream_count: layout.directory.len() as u32,
        stream_directory_rva: layout.directory_at,
        checksum: 0,
        time_date_stamp: plan.time,
        flags,
    })?;
    file.at(u64::from(layout.directory_at))?;
    for entry in &layout.directory {
        file.put(entry.clone())?;
    }
    Ok(())
}

/// The memory list (or the Memory64 list) and the memory.
fn memory_lists<W: Write>(
    file: &mut DumpFile<'_, W>,
    plan: &Plan<'_>,
    layout: &Layout,
    redaction: Option<&dyn Redaction>,
    unread: &mut Unread,
    chunk: &mut [u8],
) -> Result<(), DumpError> {
    file.step()?;
    file.at(u64::from(layout.memory_list))?;
    match plan.memory.kind {
        ListKind::Memory32 => {
            file.u32(plan.ranges.len() as u32)?;
            for (range, at) in plan.ranges.iter().zip(&layout.ranges) {
                file.put(md::MINIDUMP_MEMORY_DESCRIPTOR {
                    start_of_memory_range: range.address as u64,
                    memory: md::MINIDUMP_LOCATION_DESCRIPTOR {
                        data_size: range.size as u32,
                        // Checked when laid out.
                        rva: file::rva(*at, "the memory list's memory", 0)?,
                    },
                })?;
            }
        }
        ListKind::Memory64 => {
            file.u64(plan.ranges.len() as u64)?;
            file.u64(layout.memory64_base)?;
            for range in &plan.ranges {
                file.u64(range.address as u64)?;
                file.u64(range.size as u64)?;
            }
        }
    }
    let (Some(clone), Some(space)) = (&plan.clone, &plan.space) else {
        return Ok(());
    };
    let memory = &plan.memory;
    for (copy, at) in memory.copies.iter().zip(&layout.copies) {
        file.at(u64::from(*at))?;
        memory::write_pieces(
            file,
            clone,
            space,
            &plan.map,
            memory,
            core::slice::from_ref(copy),
            redaction,
            unread,
            chunk,
        )?;
    }
    for (range, at) in plan.ranges.iter().zip(&layout.ranges) {
        file.at(*at)?;
        memory::write_pieces(
            file,
            clone,
            space,
            &plan.map,
            memory,
            &memory.pieces[range.pieces.clone()],
            redaction,
            unread,
            chunk,
        )?;
    }
    Ok(())
}

/// `SystemInfoStream`: this build's architecture (the contexts'), the Windows version and
/// processor count from the PEB (zeros when it could not be read), and the CPU's
/// identification (the snapshot's process runs on this machine).
fn system_info<W: Write>(
    file: &mut DumpFile<'_, W>,
    system: System,
    layout: &Layout,
) -> Result<(), DumpError> {
    let (level, revision, cpu) = cpu_information();
    file.at(u64::from(layout.system))?;
    file.put(md::MINIDUMP_SYSTEM_INFO {
        processor_architecture: super::context::PROCESSOR_ARCHITECTURE,
        processor_level: level,
        processor_revision: revision,
        number_of_processors: system.processors,
        product_type: 0,
        major_version: system.major,
        minor_version: system.minor,
        build_number: system.build,
        platform_id: if system.platform == 0 {
            PLATFORM_WIN32_NT
        } else {
            system.platform
        },
        csd_version_rva: layout.csd,
        suite_mask: 0,
        reserved2: 0,
        cpu,
    })?;
    file.string(u64::from(layout.csd), &[])
}

/// The processor level and revision, and the `CPU_INFORMATION` union, as dbghelp derives them
/// from `cpuid` on x86 and x64: family; model and stepping; vendor, version and features.
/// Zeros elsewhere (and under Miri, which has no `cpuid`).
fn cpu_information() -> (u16, u16, md::CPU_INFORMATION) {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri)))]
    {
        #[cfg(target_arch = "x86")]
        use core::arch::x86::__cpuid;
        #[cfg(target_arch = "x86_64")]
        use core::arch::x86_64::__cpuid;
        // SAFETY: `cpuid` exists on every x86 and x64 processor Windows runs on, and leaves 0
        // and 1 are defined on all of them; it reads no memory. (`__cpuid` is a safe function
        // in newer Rust, hence the allowance.)
        #[allow(unused_unsafe)]
        let (vendor, version) = unsafe { (__cpuid(0), __cpuid(1)) };
        let mut data = [0u8; 24];
        for (i, word) in [vendor.ebx, vendor.edx, vendor.ecx, version.eax, version.edx]
            .iter()
            .enumerate()
        {
            data[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        let family = (version.eax >> 8) & 0xF;
        let model = (version.eax >> 4) & 0xF;
        let (family, model) = if family == 0xF {
            (
                family + ((version.eax >> 20) & 0xFF),
                model | ((version.eax >> 12) & 0xF0),
            )
        } else if family == 0x6 {
            (family, model | ((version.eax >> 12) & 0xF0))
        } else {
            (family, model)
        };
        let stepping = version.eax & 0xF;
        (
            family as u16,
            ((model << 8) | stepping) as u16,
            md::CPU_INFORMATION { data },
        )
    }
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri))))]
    {
        (0, 0, md::CPU_INFORMATION { data: [0; 24] })
    }
}

/// `MiscInfoStream` (`MINIDUMP_MISC_INFO`): the process id, its creation time (`time_t`) and
/// CPU times in seconds.
fn misc_info<W: Write>(
    file: &mut DumpFile<'_, W>,
    process: &plan::Process,
    layout: &Layout,
) -> Result<(), DumpError> {
    const PROCESS_ID: u32 = 0x1;
    const PROCESS_TIMES: u32 = 0x2;
    file.at(u64::from(layout.misc))?;
    file.put(md::MINIDUMP_MISC_INFO {
        size_of_info: 24,
        flags1: PROCESS_ID | PROCESS_TIMES,
        process_id: process.pid,
        process_create_time: process.created,
        process_user_time: process.user,
        process_kernel_time: process.kernel,
    })
}

/// `ExceptionStream`: the caller's exception, with its context, or the thread's captured one.
fn exception_stream<W: Write>(
    file: &mut DumpFile<'_, W>,
    exception: &plan::Exception,
    plan: &Plan<'_>,
    layout: &Layout,
) -> Result<(), DumpError> {
    let Some((at, context_at)) = layout.exception else {
        return Ok(());
    };
    let thread_context = match (&exception.context, context_at) {
        (Some(_), Some(rva)) => md::MINIDUMP_LOCATION_DESCRIPTOR {
            data_size: threads::CONTEXT_SIZE as u32,
            rva,
        },
        _ => plan
            .threads
            .index_of(exception.thread_id)
            .map(|i| threads::context_location(&plan.threads, layout, i))
            .unwrap_or_default(),
    };
    file.step()?;
    file.at(u64::from(at))?;
    file.put(md::MINIDUMP_EXCEPTION_STREAM {
        thread_id: exception.thread_id,
        __align: 0,
        exception_record: md::MINIDUMP_EXCEPTION {
            exception_code: exception.code,
            exception_flags: exception.flags,
            exception_record: 0,
            exception_address: exception.address,
            number_parameters: exception.count,
            __align: 0,
            exception_information: exception.parameters,
        },
        thread_context,
    })?;
    if let (Some(context), Some(rva)) = (&exception.context, context_at) {
        file.at(u64::from(rva))?;
        file.bytes(context)?;
    }
    Ok(())
}
