//! The plan: everything the dump holds, read from the snapshot before the first byte is
//! written (crashpad's freeze step). The snapshot and its VA clone are frozen, so the walks,
//! the region list and each region's readability give the whole dump in advance: every
//! stream's contents, and which memory ranges go in. Only the memory's bytes are left to
//! read, while writing.

use std::time::{SystemTime, UNIX_EPOCH};

use super::budget::{self, Streams};
use super::handles::{self, Handles};
use super::layout::Layout;
use super::loader::{self, System};
use super::memory::{self, AddressSpace, MemoryPlan, Range};
use super::modules::{self, Module};
use super::redact::AddressMap;
use super::streams::present;
use super::summary::Part;
use super::threads::{self, CONTEXT_SIZE, Threads};
use super::unread::{FLAG_OVER_BUDGET, FLAG_REDACTED};
use super::{DumpError, DumpSummary, DumpWriter, Omission, Profile, context};
use crate::{Allocation, VaClone};

/// The process facts of the misc information stream.
#[derive(Debug, Default)]
pub(super) struct Process {
    pub pid: u32,
    pub created: u32,
    pub user: u32,
    pub kernel: u32,
    pub priority_class: u32,
}

/// The exception stream, as the dump holds it.
#[derive(Debug)]
pub(super) struct Exception {
    pub thread_id: u32,
    pub code: u32,
    pub flags: u32,
    pub address: u64,
    pub parameters: [u64; 15],
    pub count: u32,
    /// The caller's context; `None`: the thread's captured one.
    pub context: Option<[u8; CONTEXT_SIZE]>,
}

/// Everything the dump holds but the memory's bytes.
pub(super) struct Plan<'s> {
    pub profile: Profile,
    pub clone: Option<VaClone<'s>>,
    pub space: Option<AddressSpace>,
    pub process: Process,
    pub system: System,
    /// The header's time stamp (`time_t`).
    pub time: u32,
    pub threads: Threads,
    pub names: Vec<(usize, Vec<u16>)>,
    pub modules: Vec<Module>,
    pub handles: Option<Handles>,
    pub exception: Option<Exception>,
    pub memory: MemoryPlan,
    /// The memory list's entries, in address order.
    pub ranges: Vec<Range>,
    /// Which optional streams the budget kept.
    pub streams: Streams,
    pub map: AddressMap,
    /// The dump information stream's flags.
    pub flags: u32,
    pub summary: DumpSummary,
}

/// Reads the snapshot, chooses the memory, applies the policy and the budget, and lays the
/// dump out. Nothing is written.
pub(super) fn plan<'a, A: Allocation>(
    writer: &DumpWriter<'a, A>,
    chunk: &mut [u8],
) -> Result<(Plan<'a>, Layout), DumpError> {
    let snapshot = writer.snapshot;
    let mut summary = DumpSummary::default();
    let information = snapshot.process_information()?;
    let clone = present(snapshot.va_clone(), Part::VaClone, &mut summary)?;
    let mut space = AddressSpace::read(snapshot, &mut summary)?;
    let peb = clone
        .as_ref()
        .and_then(|clone| loader::read_peb(clone, information.peb_base_address()));
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
    let created = information
        .create_time()
        .and_then(|t| t.to_system_time())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as u32);
    let process = Process {
        pid: information.process_id(),
        created,
        user: information.user_time().as_secs() as u32,
        kernel: information.kernel_time().as_secs() as u32,
        priority_class: information.priority_class(),
    };

    let threads = threads::plan(snapshot, &mut summary)?;
    let names = threads::plan_names(snapshot, threads.list.len());
    let modules = match &space {
        Some(space) => modules::plan(clone.as_ref(), space, &loaded, &mut summary),
        None => Vec::new(),
    };
    let handles = handles::plan(snapshot, &mut summary)?;
    summary.handles = handles.as_ref().map_or(0, |h| h.descriptors.len());
    let exception = writer.exception.as_ref().map(|e| {
        let mut parameters = [0u64; 15];
        for (slot, value) in parameters.iter_mut().zip(e.parameters) {
            *slot = *value as u64;
        }
        Exception {
            thread_id: e.thread_id,
            code: e.code,
            flags: e.flags,
            address: e.address as u64,
            parameters,
            count: e.parameters.len().min(parameters.len()) as u32,
            context: e.context.map(context::context_bytes),
        }
    });

    // What redaction policies know of the address space.
    let mut map = AddressMap {
        modules: modules
            .iter()
            .map(|m| (m.base, m.base.saturating_add(m.extent), m.name.clone()))
            .collect(),
        ..Default::default()
    };
    if let Some(space) = &space {
        for thread in &threads.list {
            if let Some(region) = thread
                .stack_pointer
                .and_then(|sp| space.readable_region_at(sp))
            {
                let start = space.regions[region].base_address;
                map.stacks.push((start, space.end(region), thread.id));
            }
        }
    }
    // The process parameters, as dbghelp's small dumps hold them (not captured without a
    // clone; a PEB that has none, or cannot be read, gives none).
    let parameters = snapshot.process_parameters().ok();
    map.environment = threads
        .list
        .iter()
        .map(|t| t.teb)
        .filter(|&teb| teb != 0)
        .chain([information.peb_base_address()])
        .chain(parameters.as_ref().map(|p| p.address()))
        .collect();
    map.sort();

    let mut memory = memory::plan(
        memory::Sources {
            clone: clone.as_ref(),
            space: space.as_mut(),
            threads: &threads,
            peb: information.peb_base_address(),
            parameters: parameters.as_ref(),
            profile: writer.profile,
            stack_limit: writer.stack_limit,
            referenced_limit: writer.referenced_limit,
        },
        &map,
        writer.redaction,
        &mut summary,
        chunk,
    );
    // The header's time: when the snapshot was taken, as its threads record it; else now
    // (Miri's isolation has no clock: 0 there).
    let time = threads
        .captured
        .and_then(|t| t.to_system_time())
        .or_else(|| (!cfg!(miri)).then(SystemTime::now))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as u32);
    let mut flags = if writer.redaction.is_some() {
        FLAG_REDACTED
    } else {
        0
    };

    let mut plan = Plan {
        profile: writer.profile,
        clone,
        space,
        process,
        system: peb.map(|(system, _)| system).unwrap_or_default(),
        time,
        threads,
        names,
        modules,
        handles,
        exception,
        memory: MemoryPlan {
            kind: memory.kind,
            items: Vec::new(),
            pieces: Vec::new(),
            copies: Vec::new(),
        },
        ranges: Vec::new(),
        streams: Streams {
            info_list: false,
            handles: false,
        },
        map,
        flags,
        summary,
    };
    let streams = Streams {
        info_list: plan.space.is_some(),
        handles: plan.handles.is_some(),
    };
    if let Some(max) = writer.max_bytes {
        // What is never left out: everything but the memory and the optional streams.
        let fixed = Layout::new(&plan)?.total;
        let optional = budget::Optional {
            info_list: streams
                .info_list
                .then(|| plan.space.as_ref().map_or(0, memory::info_list_size)),
            handles: plan
                .handles
                .as_ref()
                .filter(|_| streams.handles)
                .map(|h| handles::size(h, 0)),
        };
        let before = plan.summary.omissions.len();
        plan.streams = budget::apply(&mut memory, optional, fixed, max, &mut plan.summary)?;
        if plan.summary.omissions.len() > before {
            flags |= FLAG_OVER_BUDGET;
        }
    } else {
        plan.streams = streams;
    }
    plan.flags = flags;
    plan.ranges = memory.finish();
    plan.memory = memory;
    plan.summary.memory_ranges = plan.ranges.len();
    plan.summary.memory_bytes = plan.ranges.iter().map(|r| r.size as u64).sum();
    let layout = Layout::new(&plan)?;
    if let Some(max) = writer.max_bytes {
        if layout.total > max {
            return Err(DumpError::Write(std::io::Error::other(format!(
                "pss's dump writer planned {} bytes for a budget of {max} (a bug in pss: please \
                 report it)",
                layout.total
            ))));
        }
    }
    Ok((plan, layout))
}
