//! The order a dump is written in, and the small streams (system, misc, exception).
//!
//! Layout: the header (zeros until the end), then every stream and what they point at
//! (strings, contexts, stacks, CodeView records), then the directory; in a full dump the
//! Memory64 list and the memory last, so only the memory may lie beyond 4 GiB.

use std::io::{Seek, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use minidump_common::format as md;

use super::file::{CHUNK, DumpFile};
use super::loader::{self, DeviceMap, System};
use super::memory::{self, AddressSpace};
use super::summary::Part;
use super::{DumpError, DumpSummary, DumpWriter, Omission, context, handles, modules, threads};
use crate::{Allocation, ErrorCode, ErrorKind, VaClone};

/// `MiniDumpWithFullMemory`, `MiniDumpWithHandleData`, `MiniDumpWithFullMemoryInfo`,
/// `MiniDumpWithThreadInfo`: the header's flags say what the dump holds, as dbghelp's do.
const WITH_FULL_MEMORY: u64 = 0x2;
const WITH_HANDLE_DATA: u64 = 0x4;
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

/// Writes the whole dump.
pub(super) fn write<A: Allocation, W: Write + Seek>(
    writer: &DumpWriter<'_, A>,
    out: W,
) -> Result<DumpSummary, DumpError> {
    let snapshot = writer.snapshot;
    let mut summary = DumpSummary::default();
    let mut file = DumpFile::start(out)?;
    let mut chunk = vec![0u8; CHUNK];

    let process = snapshot.process_information()?;
    let clone = present(snapshot.va_clone(), Part::VaClone, &mut summary)?;
    let space = AddressSpace::read(snapshot, &mut summary)?;
    let peb = clone
        .as_ref()
        .and_then(|clone| loader::read_peb(clone, process.peb_base_address()));
    if clone.is_some() && peb.is_none() {
        summary.omissions.push(Omission::ProcessEnvironment);
    }
    // Names only for the images the module list will hold (none without an address space).
    let loaded = match (&clone, peb, &space) {
        (Some(clone), Some((_, ldr)), Some(space)) => {
            loader::loaded_modules(clone, ldr, &modules::image_bases(space))
        }
        _ => Vec::new(),
    };
    let mut flags = WITH_FULL_MEMORY_INFO | WITH_THREAD_INFO;

    file.part("the system information");
    system_info(&mut file, peb.map(|(system, _)| system).unwrap_or_default())?;
    file.part("the misc information");
    misc_info(&mut file, &process)?;
    let written = threads::write(
        &mut file,
        snapshot,
        threads::Sources {
            clone: clone.as_ref(),
            space: space.as_ref(),
            stack_limit: writer.stack_limit,
            priority_class: process.priority_class(),
        },
        &mut summary,
        &mut chunk,
    )?;
    file.part("the thread names");
    threads::write_names(&mut file, snapshot, &written)?;
    let mut devices = DeviceMap::default();
    if let Some(space) = &space {
        file.part("the module list");
        modules::write(
            &mut file,
            clone.as_ref(),
            space,
            &loaded,
            &mut devices,
            &mut summary,
        )?;
    }
    file.part("the handle data");
    if handles::write(&mut file, snapshot, &mut summary)? {
        flags |= WITH_HANDLE_DATA;
    }
    if let Some(space) = &space {
        file.part("the memory info list");
        memory::info_list(&mut file, space)?;
    }
    if let Some(exception) = &writer.exception {
        file.part("the exception");
        exception_stream(&mut file, exception, &written)?;
    }
    let full = writer.full_memory && clone.is_some() && space.is_some();
    if !full {
        file.part("the memory list (TEBs and the PEB)");
        memory::small_list(
            &mut file,
            clone.as_ref(),
            space.as_ref(),
            &written,
            process.peb_base_address(),
            &mut summary,
        )?;
    }
    file.part("the stream directory");
    let directory = file.directory(usize::from(full))?;
    if let (true, Some(clone), Some(space)) = (full, &clone, &space) {
        file.part("the Memory64 list");
        memory::full_list(&mut file, directory, clone, space, &mut summary, &mut chunk)?;
        flags |= WITH_FULL_MEMORY;
    }
    // The header's time: when the snapshot was taken, as its threads record it; else now
    // (Miri's isolation has no clock: 0 there).
    let time = written
        .captured
        .and_then(|t| t.to_system_time())
        .or_else(|| (!cfg!(miri)).then(SystemTime::now))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as u32);
    summary.bytes = file.finish(directory, time, flags)?;
    Ok(summary)
}

/// `SystemInfoStream`: this build's architecture (the contexts'), the Windows version and
/// processor count from the PEB (zeros when it could not be read), and the CPU's
/// identification (the snapshot's process runs on this machine).
fn system_info<W: Write + Seek>(file: &mut DumpFile<W>, system: System) -> Result<(), DumpError> {
    let csd = file.string(&[])?;
    let (level, revision, cpu) = cpu_information();
    file.align(4)?;
    let rva = file.rva()?;
    file.put(md::MINIDUMP_SYSTEM_INFO {
        processor_architecture: context::PROCESSOR_ARCHITECTURE,
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
        csd_version_rva: csd,
        suite_mask: 0,
        reserved2: 0,
        cpu,
    })?;
    file.stream(md::MINIDUMP_STREAM_TYPE::SystemInfoStream, rva)
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
fn misc_info<W: Write + Seek>(
    file: &mut DumpFile<W>,
    process: &crate::ProcessInformation,
) -> Result<(), DumpError> {
    const PROCESS_ID: u32 = 0x1;
    const PROCESS_TIMES: u32 = 0x2;
    let created = process
        .create_time()
        .and_then(|t| t.to_system_time())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as u32);
    let rva = file.rva()?;
    file.put(md::MINIDUMP_MISC_INFO {
        size_of_info: 24,
        flags1: PROCESS_ID | PROCESS_TIMES,
        process_id: process.process_id(),
        process_create_time: created,
        process_user_time: process.user_time().as_secs() as u32,
        process_kernel_time: process.kernel_time().as_secs() as u32,
    })?;
    file.stream(md::MINIDUMP_STREAM_TYPE::MiscInfoStream, rva)
}

/// `ExceptionStream`: the caller's exception, with its context, or the thread's captured one.
fn exception_stream<W: Write + Seek>(
    file: &mut DumpFile<W>,
    exception: &super::DumpException<'_>,
    written: &threads::Written,
) -> Result<(), DumpError> {
    let thread_context = match exception.context {
        Some(context) => {
            file.align(16)?;
            let rva = file.rva()?;
            let bytes = context::context_bytes(context);
            file.bytes(&bytes)?;
            md::MINIDUMP_LOCATION_DESCRIPTOR {
                data_size: bytes.len() as u32,
                rva,
            }
        }
        None => written.context_of(exception.thread_id),
    };
    let mut information = [0u64; 15];
    let count = exception.parameters.len().min(information.len());
    for (slot, value) in information.iter_mut().zip(exception.parameters) {
        *slot = *value as u64;
    }
    file.align(4)?;
    let rva = file.rva()?;
    file.put(md::MINIDUMP_EXCEPTION_STREAM {
        thread_id: exception.thread_id,
        __align: 0,
        exception_record: md::MINIDUMP_EXCEPTION {
            exception_code: exception.code,
            exception_flags: exception.flags,
            exception_record: 0,
            exception_address: exception.address as u64,
            number_parameters: count as u32,
            __align: 0,
            exception_information: information,
        },
        thread_context,
    })?;
    file.stream(md::MINIDUMP_STREAM_TYPE::ExceptionStream, rva)
}

/// Reads `len` bytes of the clone at `address` into the dump, a chunk at a time, up to the
/// first that cannot be read; returns how many were written.
pub(super) fn copy_memory<W: Write + Seek>(
    file: &mut DumpFile<W>,
    clone: &VaClone<'_>,
    address: usize,
    len: usize,
    chunk: &mut [u8],
) -> Result<usize, DumpError> {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        let read = clone
            .read(address.wrapping_add(done), &mut chunk[..n])
            .unwrap_or_default();
        file.bytes(&chunk[..read])?;
        done += read;
        if read < n {
            break;
        }
    }
    Ok(done)
}
