//! The thread list (ids, contexts, stack memory, TEBs), the thread info list, and thread names.

use std::io::{Seek, Write};

use minidump_common::format as md;

use super::file::DumpFile;
use super::memory::AddressSpace;
use super::streams::{copy_memory, present, walked};
use super::summary::Part;
use super::{DumpError, DumpSummary, Omission, context};
use crate::{Allocation, CaptureFlags, FileTime, LocalSnapshot, VaClone, time};

/// What the thread list needs besides the threads.
pub(super) struct Sources<'c, 's> {
    pub clone: Option<&'c VaClone<'s>>,
    pub space: Option<&'c AddressSpace>,
    pub stack_limit: usize,
    pub priority_class: u32,
}

/// What later streams need of the threads: where their contexts and stacks are, their TEBs.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub threads: Vec<Thread>,
    /// When the first thread was captured (PSS records a time per thread).
    pub captured: Option<FileTime>,
}

#[derive(Debug)]
pub(super) struct Thread {
    pub id: u32,
    pub context: md::MINIDUMP_LOCATION_DESCRIPTOR,
    pub stack: md::MINIDUMP_MEMORY_DESCRIPTOR,
    pub teb: usize,
}

impl Written {
    /// Where thread `id`'s context is in the dump (empty if it has none).
    pub(super) fn context_of(&self, id: u32) -> md::MINIDUMP_LOCATION_DESCRIPTOR {
        self.threads
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.context)
            .unwrap_or_default()
    }
}

/// `MINIDUMP_THREAD_INFO.DumpFlags`.
const INFO_EXITED_THREAD: u32 = 0x4;
const INFO_INVALID_CONTEXT: u32 = 0x10;

/// Writes every thread's context and stack, then the thread list and the thread info list
/// (empty lists without threads: readers require a thread list).
pub(super) fn write<A: Allocation, W: Write + Seek>(
    file: &mut DumpFile<W>,
    snapshot: &LocalSnapshot<A>,
    sources: Sources<'_, '_>,
    summary: &mut DumpSummary,
    chunk: &mut [u8],
) -> Result<Written, DumpError> {
    file.part("the thread contexts and stacks");
    let mut written = Written::default();
    let mut records: Vec<(md::MINIDUMP_THREAD, md::MINIDUMP_THREAD_INFO)> = Vec::new();
    let mut without_context = Vec::new();
    if let Some(walk) = present(snapshot.threads(), Part::Threads, summary)? {
        let result = walk
            .iter()
            .try_for_each_ref(|thread| -> Result<(), DumpError> {
                let id = thread.thread_id();
                let raw = thread.as_raw();
                let context = match thread.context_bytes().and_then(context::dump_context) {
                    Some(bytes) => {
                        file.align(16)?;
                        let rva = file.rva()?;
                        file.bytes(&bytes)?;
                        md::MINIDUMP_LOCATION_DESCRIPTOR {
                            data_size: bytes.len() as u32,
                            rva,
                        }
                    }
                    None => {
                        without_context.push(id);
                        md::MINIDUMP_LOCATION_DESCRIPTOR::default()
                    }
                };
                let stack = match (sources.clone, sources.space, thread.stack_pointer()) {
                    (Some(clone), Some(space), Some(sp)) if context.data_size > 0 => stack(
                        file,
                        clone,
                        space,
                        id,
                        sp,
                        sources.stack_limit,
                        summary,
                        chunk,
                    )?,
                    _ => md::MINIDUMP_MEMORY_DESCRIPTOR::default(),
                };
                let teb = thread.teb_base_address().unwrap_or(0);
                let mut dump_flags = 0;
                if thread.is_terminated() {
                    dump_flags |= INFO_EXITED_THREAD;
                }
                if context.data_size == 0 {
                    dump_flags |= INFO_INVALID_CONTEXT;
                }
                records.push((
                    md::MINIDUMP_THREAD {
                        thread_id: id,
                        suspend_count: u32::from(thread.suspend_count()),
                        priority_class: sources.priority_class,
                        priority: thread.priority() as u32,
                        teb: teb as u64,
                        stack,
                        thread_context: context,
                    },
                    md::MINIDUMP_THREAD_INFO {
                        thread_id: id,
                        dump_flags,
                        dump_error: 0,
                        exit_status: thread.exit_status_raw(),
                        create_time: time::ticks(raw.CreateTime),
                        exit_time: time::ticks(raw.ExitTime),
                        kernel_time: time::ticks(raw.KernelTime),
                        user_time: time::ticks(raw.UserTime),
                        start_address: thread.start_address() as u64,
                        affinity: thread.affinity_mask() as u64,
                    },
                ));
                written.threads.push(Thread {
                    id,
                    context,
                    stack,
                    teb,
                });
                Ok(())
            });
        walked(result, Part::Threads, summary)?;
    }
    if !records.is_empty() && without_context.len() == records.len() {
        summary
            .omissions
            .push(Omission::NotCaptured(CaptureFlags::THREAD_CONTEXT));
    } else {
        summary.omissions.extend(
            without_context
                .into_iter()
                .map(|thread_id| Omission::ThreadContext { thread_id }),
        );
    }
    summary.threads = records.len();

    file.part("the thread list");
    file.align(4)?;
    let rva = file.rva()?;
    file.u32(records.len() as u32)?;
    for (thread, _) in &records {
        file.put(thread.clone())?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::ThreadListStream, rva)?;

    let rva = file.rva()?;
    file.u32(12)?; // SizeOfHeader
    file.u32(64)?; // SizeOfEntry
    file.u32(records.len() as u32)?;
    for (_, info) in records {
        file.put(info)?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::ThreadInfoListStream, rva)?;
    Ok(written)
}

/// The most stack bytes written for one thread, whatever the limit: a memory range's size in
/// the format is a 32-bit field.
const MAX_STACK_BYTES: usize = u32::MAX as usize;

/// Writes thread `id`'s stack memory, from `sp` to the end of the region holding it (at most
/// `limit` bytes), and returns its descriptor. A limit of 0 asks for none: nothing is read, and
/// nothing is missing. A stack that would carry the dump past the 4 GiB its offsets address is
/// refused before it is copied ([`DumpError::TooLarge`], at the thread stacks).
#[allow(clippy::too_many_arguments)]
fn stack<W: Write + Seek>(
    file: &mut DumpFile<W>,
    clone: &VaClone<'_>,
    space: &AddressSpace,
    id: u32,
    sp: usize,
    limit: usize,
    summary: &mut DumpSummary,
    chunk: &mut [u8],
) -> Result<md::MINIDUMP_MEMORY_DESCRIPTOR, DumpError> {
    if limit == 0 {
        return Ok(md::MINIDUMP_MEMORY_DESCRIPTOR::default());
    }
    #[allow(
        clippy::unnecessary_min_or_max,
        reason = "no effect on 32-bit targets, where usize::MAX is u32::MAX"
    )]
    let limit = limit.min(MAX_STACK_BYTES);
    let wanted = space.readable_region_at(sp).map_or(0, |r| {
        (r.base_address.saturating_add(r.region_size) - sp).min(limit)
    });
    let rva = file.rva()?;
    file.stack_bytes += wanted as u64;
    if u64::from(rva) + wanted as u64 > u64::from(u32::MAX) {
        return Err(file.too_large("the thread stacks"));
    }
    let read = copy_memory(file, clone, sp, wanted, chunk)?;
    file.stack_bytes -= (wanted - read) as u64;
    if read < wanted || wanted == 0 {
        summary.omissions.push(Omission::Stack {
            thread_id: id,
            address: sp,
            wanted,
            read,
        });
    }
    Ok(md::MINIDUMP_MEMORY_DESCRIPTOR {
        start_of_memory_range: sp as u64,
        memory: md::MINIDUMP_LOCATION_DESCRIPTOR {
            data_size: read as u32,
            rva: if read == 0 { 0 } else { rva },
        },
    })
}

/// `ThreadNamesStream`, where kernel32 answers the thread-name walk (24H2) and a thread has a
/// name. Elsewhere nothing: older kernel32s do not know the class, which is no loss of what was
/// captured, so it is not an omission.
///
/// A `PSS_THREAD_NAME` has no thread id: ntdll keeps each name in its thread's record
/// (decompiled ntdll), so the name walk follows the thread walk's order, and names are paired
/// with threads by position. A walk of another length than the threads' is not paired at all.
pub(super) fn write_names<A: Allocation, W: Write + Seek>(
    file: &mut DumpFile<W>,
    snapshot: &LocalSnapshot<A>,
    written: &Written,
) -> Result<(), DumpError> {
    let Ok(walk) = snapshot.thread_names() else {
        return Ok(());
    };
    let mut names: Vec<(usize, Vec<u16>)> = Vec::new();
    let mut count = 0;
    let walked = walk.iter().try_for_each_ref(|entry| {
        if let Some(name) = entry.name() {
            names.push((count, name.as_utf16().to_vec()));
        }
        count += 1;
        crate::Result::Ok(())
    });
    if walked.is_err() || count != written.threads.len() || names.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::with_capacity(names.len());
    for (index, name) in names {
        let rva = file.string(&name)?;
        entries.push(md::MINIDUMP_THREAD_NAME {
            thread_id: written.threads[index].id,
            thread_name_rva: u64::from(rva),
        });
    }
    file.align(4)?;
    let rva = file.rva()?;
    file.u32(entries.len() as u32)?;
    for entry in entries {
        file.put(entry)?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::ThreadNamesStream, rva)
}
