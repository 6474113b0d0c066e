//! Where everything goes: every object of the plan gets its size and its offset before the
//! first byte is written (crashpad's size and offset steps), in the order the file is written:
//!
//! | | |
//! |---|---|
//! | header, directory | the directory has room for every stream the dump could have |
//! | system information, misc information, the dump information stream | |
//! | thread list, thread info list, thread names | |
//! | module list, module names, CodeView records | |
//! | exception (and its context) | |
//! | the threads' contexts | 16-byte aligned |
//! | memory info list, handle data (and names) | what the budget keeps |
//! | memory list, or Memory64 list | |
//! | memory | a 32-bit list's ranges; or the stack copies, then the Memory64 ranges |
//! | the unread table | the dump's last bytes ([`DUMP_INFO_STREAM`](super::DUMP_INFO_STREAM)) |
//!
//! Everything up to the memory of a 64-bit list lies within the first 4 GiB, which the
//! format's 32-bit offsets address.

use minidump_common::format as md;
use scroll::LE;
use scroll::ctx::SizeWith;

use super::file::{Cursor, rva};
use super::memory::{self, ListKind, Part};
use super::plan::Plan;
use super::threads::{self, CONTEXT_SIZE};
use super::unread::{STREAM_SIZE, TABLE_SIZE};
use super::{DUMP_INFO_STREAM, DumpError, handles, modules};

const HEADER: u64 = 32;
/// The most streams a dump has: system, misc, dump information, thread list, thread info,
/// thread names, module list, exception, memory info list, handle data, memory list.
const MAX_STREAMS: u64 = 11;

/// The offsets of a dump: 32-bit ones where the format addresses them so.
#[derive(Debug, Default)]
pub(super) struct Layout {
    pub directory: Vec<md::MINIDUMP_DIRECTORY>,
    pub directory_at: u32,
    pub system: u32,
    pub csd: u32,
    pub misc: u32,
    pub info: u32,
    pub thread_list: u32,
    pub thread_info: u32,
    /// The names stream and each name's string.
    pub names: Option<(u32, Vec<u64>)>,
    pub module_list: u32,
    pub module_names: Vec<u32>,
    pub codeviews: Vec<Option<u32>>,
    /// The exception stream, and the caller's context.
    pub exception: Option<(u32, Option<u32>)>,
    pub contexts: Vec<u32>,
    pub info_list: Option<u32>,
    /// The handle data stream and each string.
    pub handles: Option<(u32, Vec<u32>)>,
    pub memory_list: u32,
    /// Where each memory list entry's bytes are.
    pub ranges: Vec<u64>,
    /// Where each stack copy is (a 64-bit list).
    pub copies: Vec<u32>,
    /// The Memory64 list's `BaseRva`: its ranges follow one another from there.
    pub memory64_base: u64,
    /// Each thread's stack memory, as its thread list entry gives it.
    pub thread_stacks: Vec<md::MINIDUMP_MEMORY_DESCRIPTOR>,
    pub unread: u64,
    /// The dump's size.
    pub total: u64,
}

impl Layout {
    /// Lays `plan` out.
    pub(super) fn new(plan: &Plan<'_>) -> Result<Self, DumpError> {
        let mut layout = Layout::default();
        // What an offset past 4 GiB reports: the part laid out, and the stacks planned (what
        // fills the 32-bit part of a dump first).
        let stack_bytes: u64 = match plan.memory.kind {
            ListKind::Memory32 => plan
                .memory
                .pieces
                .iter()
                .filter(|p| matches!(plan.memory.items[p.item].part, Part::Stack(_)))
                .map(|p| p.size as u64)
                .sum(),
            ListKind::Memory64 => plan.memory.copies.iter().map(|p| p.size as u64).sum(),
        };
        let rva = |offset: u64, part: &'static str| rva(offset, part, stack_bytes);
        let mut c = Cursor::at(HEADER);
        let mut streams: Vec<(u32, u32, u64)> = Vec::new();
        let mut stream = |kind: u32, at: u32, size: u64| streams.push((kind, at, size));
        use md::MINIDUMP_STREAM_TYPE as T;
        layout.directory_at = rva(c.place(4, 12 * MAX_STREAMS), "the stream directory")?;

        let size = md::MINIDUMP_SYSTEM_INFO::size_with(&LE) as u64;
        layout.system = rva(c.place(4, size), "the system information")?;
        stream(T::SystemInfoStream.into(), layout.system, size);
        layout.csd = rva(
            c.place(4, super::file::string_size(&[])),
            "the system information",
        )?;
        let size = md::MINIDUMP_MISC_INFO::size_with(&LE) as u64;
        layout.misc = rva(c.place(4, size), "the misc information")?;
        stream(T::MiscInfoStream.into(), layout.misc, size);
        layout.info = rva(c.place(4, STREAM_SIZE), "the dump information")?;
        stream(DUMP_INFO_STREAM, layout.info, STREAM_SIZE);

        let size = threads::list_size(&plan.threads);
        layout.thread_list = rva(c.place(4, size), "the thread list")?;
        stream(T::ThreadListStream.into(), layout.thread_list, size);
        let size = threads::info_list_size(&plan.threads);
        layout.thread_info = rva(c.place(4, size), "the thread info list")?;
        stream(T::ThreadInfoListStream.into(), layout.thread_info, size);
        if !plan.names.is_empty() {
            let size = threads::names_size(&plan.names);
            let list = rva(c.place(4, size), "the thread names")?;
            stream(T::ThreadNamesStream.into(), list, size);
            layout.names = Some((list, threads::lay_out_names(&plan.names, &mut c)));
        }

        let size = modules::list_size(&plan.modules);
        layout.module_list = rva(c.place(4, size), "the module list")?;
        stream(T::ModuleListStream.into(), layout.module_list, size);
        let (names, records) = modules::lay_out(&plan.modules, &mut c);
        let names_rva = |offset| rva(offset, "the module list");
        layout.module_names = names.into_iter().map(names_rva).collect::<Result<_, _>>()?;
        layout.codeviews = records
            .into_iter()
            .map(|r| r.map(names_rva).transpose())
            .collect::<Result<_, _>>()?;

        if let Some(exception) = &plan.exception {
            let size = md::MINIDUMP_EXCEPTION_STREAM::size_with(&LE) as u64;
            let at = rva(c.place(4, size), "the exception")?;
            stream(T::ExceptionStream.into(), at, size);
            let context = match exception.context {
                Some(_) => Some(rva(c.place(16, CONTEXT_SIZE as u64), "the exception")?),
                None => None,
            };
            layout.exception = Some((at, context));
        }
        layout.contexts = (0..plan.threads.contexts.len())
            .map(|_| rva(c.place(16, CONTEXT_SIZE as u64), "the thread contexts"))
            .collect::<Result<_, _>>()?;

        if let (true, Some(space)) = (plan.streams.info_list, &plan.space) {
            let size = memory::info_list_size(space);
            let at = rva(c.place(8, size), "the memory info list")?;
            stream(T::MemoryInfoListStream.into(), at, size);
            layout.info_list = Some(at);
        }
        if let (true, Some(handles)) = (plan.streams.handles, &plan.handles) {
            let (at, strings) = handles::lay_out(handles, &mut c);
            let size = 16 + 32 * handles.descriptors.len() as u64;
            let at = rva(at, "the handle data")?;
            stream(T::HandleDataStream.into(), at, size);
            let strings = strings
                .into_iter()
                .map(|offset| rva(offset, "the handle data"))
                .collect::<Result<_, _>>()?;
            layout.handles = Some((at, strings));
        }

        let memory = &plan.memory;
        let ranges = &plan.ranges;
        layout.thread_stacks = vec![Default::default(); plan.threads.list.len()];
        match memory.kind {
            ListKind::Memory32 => {
                let size = 4 + 16 * ranges.len() as u64;
                layout.memory_list = rva(c.place(4, size), "the memory list")?;
                stream(T::MemoryListStream.into(), layout.memory_list, size);
                for range in ranges {
                    let at = c.place(1, range.size as u64);
                    let stacks = memory.pieces[range.pieces.clone()]
                        .iter()
                        .any(|p| matches!(memory.items[p.item].part, Part::Stack(_)));
                    let part = if stacks {
                        "the thread stacks"
                    } else {
                        "the memory list's memory"
                    };
                    rva(at, part)?;
                    rva(c.offset.saturating_sub(1), part)?;
                    layout.ranges.push(at);
                }
                // A thread's stack: the bytes from its stack pointer on that the list holds
                // contiguously, up to its stack's planned size.
                for item in memory.items.iter().filter(|i| !i.dropped) {
                    let Part::Stack(thread) = item.part else {
                        continue;
                    };
                    let i = ranges.partition_point(|r| r.address <= item.address);
                    let Some(r) = i.checked_sub(1) else {
                        continue;
                    };
                    let range = &ranges[r];
                    let offset = item.address - range.address;
                    if offset >= range.size {
                        continue;
                    }
                    layout.thread_stacks[thread] = md::MINIDUMP_MEMORY_DESCRIPTOR {
                        start_of_memory_range: item.address as u64,
                        memory: md::MINIDUMP_LOCATION_DESCRIPTOR {
                            data_size: item.size.min(range.size - offset) as u32,
                            rva: rva(layout.ranges[r] + offset as u64, "the thread stacks")?,
                        },
                    };
                }
            }
            ListKind::Memory64 => {
                let size = 16 + 16 * ranges.len() as u64;
                layout.memory_list = rva(c.place(8, size), "the memory list")?;
                stream(T::Memory64ListStream.into(), layout.memory_list, size);
                for copy in &memory.copies {
                    let at = rva(c.place(1, copy.size as u64), "the thread stacks")?;
                    rva(c.offset.saturating_sub(1), "the thread stacks")?;
                    layout.copies.push(at);
                    if let Part::Stack(thread) = memory.items[copy.item].part {
                        layout.thread_stacks[thread] = md::MINIDUMP_MEMORY_DESCRIPTOR {
                            start_of_memory_range: copy.address as u64,
                            memory: md::MINIDUMP_LOCATION_DESCRIPTOR {
                                data_size: copy.size as u32,
                                rva: at,
                            },
                        };
                    }
                }
                layout.memory64_base = c.offset;
                for range in ranges {
                    layout.ranges.push(c.place(1, range.size as u64));
                }
            }
        }
        layout.unread = c.place(8, TABLE_SIZE);
        layout.total = c.offset;

        layout.directory = streams
            .into_iter()
            .map(|(stream_type, at, size)| md::MINIDUMP_DIRECTORY {
                stream_type,
                location: md::MINIDUMP_LOCATION_DESCRIPTOR {
                    data_size: size as u32,
                    rva: at,
                },
            })
            .collect();
        Ok(layout)
    }
}
