//! The thread list (ids, contexts, stack memory, TEBs), the thread info list, and thread names:
//! planned from the thread walks, then written where the layout put them.

use std::io::Write;

use minidump_common::format as md;

use super::file::{DumpFile, string_size};
use super::layout::Layout;
use super::streams::{present, walked};
use super::summary::Part;
use super::{DumpError, DumpSummary, Omission, context};
use crate::{Allocation, CaptureFlags, FileTime, LocalSnapshot, time};

/// The bytes of a context in the dump: this build's `CONTEXT`.
pub(super) const CONTEXT_SIZE: usize = size_of::<pss_sys::CONTEXT>();

/// The threads as the dump holds them.
#[derive(Debug, Default)]
pub(super) struct Threads {
    pub list: Vec<Thread>,
    /// The context records, cleaned for the dump; a thread's `context` indexes this.
    pub contexts: Vec<[u8; CONTEXT_SIZE]>,
    /// When the first thread was captured (PSS records a time per thread).
    pub captured: Option<FileTime>,
}

#[derive(Debug)]
pub(super) struct Thread {
    pub id: u32,
    pub suspend_count: u32,
    pub priority: u32,
    pub teb: usize,
    /// Its stack pointer, when it has a usable context.
    pub stack_pointer: Option<usize>,
    /// Its context in [`Threads::contexts`].
    pub context: Option<usize>,
    pub info: md::MINIDUMP_THREAD_INFO,
}

impl Threads {
    /// The index of thread `id`.
    pub(super) fn index_of(&self, id: u32) -> Option<usize> {
        self.list.iter().position(|t| t.id == id)
    }
}

/// `MINIDUMP_THREAD_INFO.DumpFlags`.
const INFO_EXITED_THREAD: u32 = 0x4;
const INFO_INVALID_CONTEXT: u32 = 0x10;

/// Walks the threads: ids, contexts, stack pointers, TEBs, times.
pub(super) fn plan<A: Allocation>(
    snapshot: &LocalSnapshot<A>,
    summary: &mut DumpSummary,
) -> Result<Threads, DumpError> {
    let mut threads = Threads::default();
    let mut without_context = Vec::new();
    if let Some(walk) = present(snapshot.threads(), Part::Threads, summary)? {
        let result = walk
            .iter()
            .try_for_each_ref(|thread| -> Result<(), DumpError> {
                let id = thread.thread_id();
                let raw = thread.as_raw();
                let context = match thread.context_bytes().and_then(context::dump_context) {
                    Some(bytes) => {
                        threads.contexts.push(bytes);
                        Some(threads.contexts.len() - 1)
                    }
                    None => {
                        without_context.push(id);
                        None
                    }
                };
                if threads.captured.is_none() {
                    threads.captured = thread.capture_time();
                }
                let mut dump_flags = 0;
                if thread.is_terminated() {
                    dump_flags |= INFO_EXITED_THREAD;
                }
                if context.is_none() {
                    dump_flags |= INFO_INVALID_CONTEXT;
                }
                threads.list.push(Thread {
                    id,
                    suspend_count: u32::from(thread.suspend_count()),
                    priority: thread.priority() as u32,
                    teb: thread.teb_base_address().unwrap_or(0),
                    stack_pointer: context.and(thread.stack_pointer()),
                    context,
                    info: md::MINIDUMP_THREAD_INFO {
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
                });
                Ok(())
            });
        walked(result, Part::Threads, summary)?;
    }
    if !threads.list.is_empty() && without_context.len() == threads.list.len() {
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
    summary.threads = threads.list.len();
    Ok(threads)
}

/// The thread names, where kernel32 answers the thread-name walk (24H2) and a thread has a
/// name: (index in the thread list, name). Elsewhere none: older kernel32s do not know the
/// class, which is no loss of what was captured, so it is not an omission.
///
/// A `PSS_THREAD_NAME` has no thread id: ntdll keeps each name in its thread's record
/// (decompiled ntdll), so the name walk follows the thread walk's order, and names are paired
/// with threads by position. A walk of another length than the threads' is not paired at all.
pub(super) fn plan_names<A: Allocation>(
    snapshot: &LocalSnapshot<A>,
    threads: usize,
) -> Vec<(usize, Vec<u16>)> {
    let Ok(walk) = snapshot.thread_names() else {
        return Vec::new();
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
    if walked.is_err() || count != threads {
        return Vec::new();
    }
    names
}

/// The thread list's size: its count, then one `MINIDUMP_THREAD` (48 bytes) per thread.
pub(super) fn list_size(threads: &Threads) -> u64 {
    4 + 48 * threads.list.len() as u64
}

/// The thread info list's size: a 12-byte header, then 64 bytes per thread.
pub(super) fn info_list_size(threads: &Threads) -> u64 {
    12 + 64 * threads.list.len() as u64
}

/// The thread names stream's size: its count, then 12 bytes per name.
pub(super) fn names_size(names: &[(usize, Vec<u16>)]) -> u64 {
    4 + 12 * names.len() as u64
}

/// Where thread `index`'s context is in the dump (empty if it has none).
pub(super) fn context_location(
    threads: &Threads,
    layout: &Layout,
    index: usize,
) -> md::MINIDUMP_LOCATION_DESCRIPTOR {
    match threads.list[index].context {
        Some(context) => md::MINIDUMP_LOCATION_DESCRIPTOR {
            data_size: CONTEXT_SIZE as u32,
            rva: layout.contexts[context],
        },
        None => md::MINIDUMP_LOCATION_DESCRIPTOR::default(),
    }
}

/// Writes the thread list and the thread info list (empty lists without threads: readers
/// require a thread list).
pub(super) fn write_lists<W: Write>(
    file: &mut DumpFile<'_, W>,
    threads: &Threads,
    layout: &Layout,
    priority_class: u32,
) -> Result<(), DumpError> {
    file.step()?;
    file.at(u64::from(layout.thread_list))?;
    file.u32(threads.list.len() as u32)?;
    for (i, thread) in threads.list.iter().enumerate() {
        file.put(md::MINIDUMP_THREAD {
            thread_id: thread.id,
            suspend_count: thread.suspend_count,
            priority_class,
            priority: thread.priority,
            teb: thread.teb as u64,
            stack: layout.thread_stacks[i],
            thread_context: context_location(threads, layout, i),
        })?;
    }
    file.at(u64::from(layout.thread_info))?;
    file.u32(12)?; // SizeOfHeader
    file.u32(64)?; // SizeOfEntry
    file.u32(threads.list.len() as u32)?;
    for thread in &threads.list {
        file.put(thread.info.clone())?;
    }
    Ok(())
}

/// Writes `ThreadNamesStream` and its strings.
pub(super) fn write_names<W: Write>(
    file: &mut DumpFile<'_, W>,
    threads: &Threads,
    names: &[(usize, Vec<u16>)],
    layout: &Layout,
) -> Result<(), DumpError> {
    let Some((list, strings)) = &layout.names else {
        return Ok(());
    };
    file.step()?;
    file.at(u64::from(*list))?;
    file.u32(names.len() as u32)?;
    for ((index, _), rva) in names.iter().zip(strings) {
        file.put(md::MINIDUMP_THREAD_NAME {
            thread_id: threads.list[*index].id,
            thread_name_rva: *rva,
        })?;
    }
    for ((_, name), rva) in names.iter().zip(strings) {
        file.string(*rva, name)?;
    }
    Ok(())
}

/// The offsets of the names stream's strings, after the list at `cursor`.
pub(super) fn lay_out_names(
    names: &[(usize, Vec<u16>)],
    cursor: &mut super::file::Cursor,
) -> Vec<u64> {
    names
        .iter()
        .map(|(_, name)| cursor.place(4, string_size(name)))
        .collect()
}
