//! The address space and the dump's memory: the memory info list; which ranges a profile puts
//! in the dump (planned before the first byte is written: stacks, environment blocks,
//! referenced memory, regions); and the copy of their bytes from the VA clone, strictly in
//! the planned order, with zeros (and a record of them) where a read fails.

use std::collections::BTreeMap;
use std::io::Write;

use minidump_common::format as md;

use super::file::{CHUNK, DumpFile};
use super::layout::Layout;
use super::redact::{AddressMap, MemoryContent, MemoryRange};
use super::streams::{present, walked};
use super::summary::Part as Listed;
use super::threads::Threads;
use super::unread::Unread;
use super::{DumpError, DumpSummary, Keep, Omission, Profile, Redaction, referenced};
use crate::{
    Allocation, LocalSnapshot, MemoryRegion, MemoryState, MemoryType, ProcessParameters, VaClone,
};

/// The captured address space, in address order, and the image regions' file names.
#[derive(Debug)]
pub(super) struct AddressSpace {
    pub regions: Vec<MemoryRegion>,
    /// (allocation base, NT file name) of each image, from its first named region.
    pub image_names: Vec<(usize, Vec<u16>)>,
    /// Some image region carries its PE values: section information was captured.
    pub section_information: bool,
    /// Whether each region's first byte could be read through the clone (asked once, when a
    /// plan first needs it).
    probes: Vec<Probe>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Unknown,
    Readable,
    Unreadable,
}

impl AddressSpace {
    /// Walks the address space once; `None` (recorded) if it was not captured.
    pub(super) fn read<A: Allocation>(
        snapshot: &LocalSnapshot<A>,
        summary: &mut DumpSummary,
    ) -> Result<Option<Self>, DumpError> {
        let Some(walk) = present(snapshot.va_space(), Listed::AddressSpace, summary)? else {
            return Ok(None);
        };
        let mut space = AddressSpace {
            regions: Vec::new(),
            image_names: Vec::new(),
            section_information: false,
            probes: Vec::new(),
        };
        let result = walk
            .iter()
            .try_for_each_ref(|entry| -> Result<(), DumpError> {
                let region = entry.region();
                if region.kind == MemoryType::Image {
                    space.section_information |= entry.image().is_some();
                    let base = region.allocation_base;
                    let named = space.image_names.iter().any(|(b, _)| *b == base);
                    if let (false, Some(name)) = (named, entry.mapped_file_name()) {
                        space.image_names.push((base, name.as_utf16().to_vec()));
                    }
                }
                space.regions.push(region);
                Ok(())
            });
        let before = summary.omissions.len();
        walked(result, Listed::AddressSpace, summary)?;
        if summary.omissions.len() > before {
            return Ok(None);
        }
        space.regions.sort_by_key(|r| r.base_address);
        space.probes = vec![Probe::Unknown; space.regions.len()];
        Ok(Some(space))
    }

    /// The index of the committed, readable region holding `address`.
    pub(super) fn readable_region_at(&self, address: usize) -> Option<usize> {
        let i = self
            .regions
            .partition_point(|r| r.base_address <= address)
            .checked_sub(1)?;
        let region = &self.regions[i];
        (address - region.base_address < region.region_size && readable(region)).then_some(i)
    }

    /// One past region `index`'s last byte (saturated at the top of the address space).
    pub(super) fn end(&self, index: usize) -> usize {
        let region = &self.regions[index];
        region.base_address.saturating_add(region.region_size)
    }

    /// Whether region `index` is readable through the clone: its protection allows reading,
    /// and its first byte can be read (a region the clone lacks, such as an anonymous shared
    /// section, cannot be read at all). One `ReadProcessMemory` per region, the first time.
    pub(super) fn probe(&mut self, clone: &VaClone<'_>, index: usize) -> bool {
        if self.probes[index] == Probe::Unknown {
            let region = &self.regions[index];
            let mut byte = [0u8; 1];
            let ok = readable(region)
                && region.region_size > 0
                && clone.read(region.base_address, &mut byte).is_ok();
            self.probes[index] = if ok {
                Probe::Readable
            } else {
                Probe::Unreadable
            };
        }
        self.probes[index] == Probe::Readable
    }
}

/// Committed memory whose protection allows reading (and is not a guard page).
pub(super) fn readable(region: &MemoryRegion) -> bool {
    region.state == MemoryState::Commit
        && region.protect.is_readable()
        && !region.protect.contains(crate::MemoryProtection::GUARD)
}

/// The memory info list's size: a 16-byte header, then 48 bytes per region.
pub(super) fn info_list_size(space: &AddressSpace) -> u64 {
    16 + 48 * space.regions.len() as u64
}

/// `MemoryInfoListStream`: every region of the captured address space.
pub(super) fn write_info_list<W: Write>(
    file: &mut DumpFile<'_, W>,
    space: &AddressSpace,
    layout: &Layout,
) -> Result<(), DumpError> {
    let Some(at) = layout.info_list else {
        return Ok(());
    };
    file.step()?;
    file.at(u64::from(at))?;
    file.put(md::MINIDUMP_MEMORY_INFO_LIST {
        size_of_header: 16,
        size_of_entry: 48,
        number_of_entries: space.regions.len() as u64,
    })?;
    for region in &space.regions {
        file.put(md::MINIDUMP_MEMORY_INFO {
            base_address: region.base_address as u64,
            allocation_base: region.allocation_base as u64,
            allocation_protection: region.allocation_protect.bits(),
            __alignment1: 0,
            region_size: region.region_size as u64,
            state: region.state.to_raw(),
            protection: region.protect.bits(),
            _type: region.kind.to_raw(),
            __alignment2: 0,
        })?;
    }
    Ok(())
}

/// How much of a TEB and of the PEB a dump holds: two pages from the TEB (an x64 TEB is
/// 0x1838 bytes), one from the PEB (0x7C8 on x64), each cut at the end of its region.
const TEB_BYTES: usize = 0x2000;
const PEB_BYTES: usize = 0x1000;
/// The most a dump holds of the process parameters' structure and inline strings (`Length`
/// says how much there is: `0x448` bytes of structure on x64, and the strings) and of the
/// environment block (`EnvironmentSize`; what `pss` reads of an environment at most).
const PARAMETERS_BYTES: usize = 0x1_0000;
const ENVIRONMENT_BYTES: usize = crate::Environment::MAX_SIZE;

/// The largest range a 32-bit memory list entry holds: a whole number of pages under 4 GiB.
const MAX_RANGE32: usize = 0xFFFF_F000;

/// Which list the memory goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListKind {
    /// `MemoryListStream` (32-bit offsets and sizes): stacks, environment blocks, referenced
    /// memory; thread stacks point into it.
    Memory32,
    /// `Memory64ListStream`, after everything else: regions; stacks are copied separately,
    /// before it, where the thread list's 32-bit offsets reach them.
    Memory64,
}

/// What the budget treats a range as, in the order it gives bytes (see `budget.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
    /// Thread `index`'s stack.
    Stack(usize),
    /// A TEB or the PEB.
    Environment,
    /// A window of referenced memory.
    Referenced,
    /// A region of a plus or full dump, and its class (lower first).
    Region(u8),
}

impl Part {
    pub(super) fn name(self, content: MemoryContent) -> &'static str {
        match (self, content) {
            (Part::Stack(_), _) => "stack",
            (Part::Environment, MemoryContent::ProcessEnvironment) => "process environment block",
            (Part::Environment, MemoryContent::ProcessParameters) => "process parameters",
            (Part::Environment, MemoryContent::EnvironmentBlock) => "environment block",
            (Part::Environment, _) => "thread environment block",
            (Part::Referenced, _) => "referenced memory",
            (Part::Region(_), _) => "memory",
        }
    }
}

/// One range the profile plans, before redaction and the budget.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item {
    pub address: usize,
    pub size: usize,
    pub content: MemoryContent,
    /// Its region in the address space.
    pub region: usize,
    pub part: Part,
    /// The policy asked for zeros ([`Keep::Zeros`]).
    pub zeros: bool,
    /// The policy left it out ([`Keep::Nothing`]): it gives no piece, and takes its bytes
    /// from the items after it.
    pub dropped: bool,
}

/// A part of an item that no earlier item covers: what is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    pub address: usize,
    pub size: usize,
    /// Its item in [`MemoryPlan::items`].
    pub item: usize,
}

/// The dump's memory, planned.
#[derive(Debug)]
pub(super) struct MemoryPlan {
    pub kind: ListKind,
    pub items: Vec<Item>,
    /// The list's memory: disjoint; in the order items were planned until [`finish`](Self::finish)
    /// sorts them by address.
    pub pieces: Vec<Piece>,
    /// [`ListKind::Memory64`]: each thread's stack copy (with `item` its stack item), in
    /// thread order.
    pub copies: Vec<Piece>,
}

/// What a plan needs to choose memory.
pub(super) struct Sources<'c, 's> {
    pub clone: Option<&'c VaClone<'s>>,
    pub space: Option<&'c mut AddressSpace>,
    pub threads: &'c Threads,
    pub peb: usize,
    pub parameters: Option<&'c ProcessParameters<'s>>,
    pub profile: Profile,
    pub stack_limit: usize,
    pub referenced_limit: usize,
}

/// Which ranges the profile wants, redacted by `redaction`: items and their pieces.
pub(super) fn plan(
    sources: Sources<'_, '_>,
    map: &AddressMap,
    redaction: Option<&dyn Redaction>,
    summary: &mut DumpSummary,
    chunk: &mut [u8],
) -> MemoryPlan {
    let (Some(clone), Some(space)) = (sources.clone, sources.space) else {
        return MemoryPlan {
            kind: ListKind::Memory32,
            items: Vec::new(),
            pieces: Vec::new(),
            copies: Vec::new(),
        };
    };
    let kind = match sources.profile {
        Profile::Small | Profile::Referenced => ListKind::Memory32,
        Profile::Plus | Profile::Full => ListKind::Memory64,
    };
    let threads = sources.threads;
    let mut items = Vec::new();
    // The stacks: from the stack pointer to the end of its region, at most the limit (and
    // under 4 GiB, which a thread's stack descriptor cannot exceed).
    let limit = sources.stack_limit.min(MAX_RANGE32);
    // A limit of 0 asks for no stack memory: nothing is missing.
    for (index, thread) in threads.list.iter().enumerate().filter(|_| limit > 0) {
        let Some(sp) = thread.stack_pointer else {
            continue;
        };
        let region = space.readable_region_at(sp);
        let wanted = region.map_or(0, |r| (space.end(r) - sp).min(limit));
        match region {
            Some(region) if wanted > 0 && space.probe(clone, region) => items.push(Item {
                address: sp,
                size: wanted,
                content: MemoryContent::Stack {
                    thread_id: thread.id,
                },
                region,
                part: Part::Stack(index),
                zeros: false,
                dropped: false,
            }),
            _ => summary.omissions.push(Omission::Stack {
                thread_id: thread.id,
                address: sp,
                wanted,
                read: 0,
            }),
        }
    }
    if kind == ListKind::Memory32 {
        // The TEBs and the PEB, which debuggers read to find a thread's state and the modules.
        let wanted = threads
            .list
            .iter()
            .map(|t| {
                (
                    t.teb,
                    TEB_BYTES,
                    MemoryContent::ThreadEnvironment { thread_id: t.id },
                )
            })
            .chain([(sources.peb, PEB_BYTES, MemoryContent::ProcessEnvironment)]);
        for (address, bytes, content) in wanted {
            let Some(region) = space.readable_region_at(address) else {
                continue;
            };
            if !space.probe(clone, region) {
                continue;
            }
            items.push(Item {
                address,
                size: bytes.min(space.end(region) - address),
                content,
                region,
                part: Part::Environment,
                zeros: false,
                dropped: false,
            });
        }
    }
    // The process parameters, their strings and the environment block, as dbghelp writes
    // them: in every profile, first, so that a policy that leaves one out (the environment)
    // leaves it out of the regions of a plus or full dump too.
    if let Some(parameters) = sources.parameters {
        let block = clone
            .read_value::<[u32; 2]>(parameters.address())
            .map_or(0, |[_, length]| length as usize);
        let ranges = [(parameters.address(), block.min(PARAMETERS_BYTES))]
            .into_iter()
            .chain(parameters.string_ranges())
            .map(|r| (r, MemoryContent::ProcessParameters))
            .chain([(
                (
                    parameters.environment_address(),
                    parameters.environment_size().min(ENVIRONMENT_BYTES),
                ),
                MemoryContent::EnvironmentBlock,
            )]);
        for ((address, bytes), content) in ranges {
            let Some(region) = space.readable_region_at(address) else {
                continue;
            };
            if bytes == 0 || !space.probe(clone, region) {
                continue;
            }
            items.push(Item {
                address,
                size: bytes.min(space.end(region) - address),
                content,
                region,
                part: Part::Environment,
                zeros: false,
                dropped: false,
            });
        }
    }
    if sources.profile == Profile::Referenced {
        let stacks: Vec<Item> = items
            .iter()
            .filter(|i| matches!(i.part, Part::Stack(_)))
            .copied()
            .collect();
        referenced::windows(
            clone,
            space,
            threads,
            &stacks,
            sources.referenced_limit,
            chunk,
            &mut items,
        );
    }
    if kind == ListKind::Memory64 {
        let full = sources.profile == Profile::Full;
        let mut regions: Vec<(u8, usize)> = (0..space.regions.len())
            .filter_map(|i| region_class(&space.regions[i], map, full).map(|class| (class, i)))
            .collect();
        regions.sort_by_key(|&(class, i)| (class, space.regions[i].base_address));
        for (class, index) in regions {
            if !space.probe(clone, index) {
                let region = &space.regions[index];
                summary.omissions.push(Omission::Memory {
                    address: region.base_address,
                    size: region.region_size,
                });
                continue;
            }
            let address = space.regions[index].base_address;
            items.push(Item {
                address,
                size: space.end(index) - address,
                content: MemoryContent::Region,
                region: index,
                part: Part::Region(class),
                zeros: false,
                dropped: false,
            });
        }
    }
    if let Some(policy) = redaction {
        for item in &mut items {
            let range = MemoryRange {
                address: item.address,
                size: item.size,
                content: item.content,
                region: &space.regions[item.region],
                map,
            };
            match policy.keep(&range) {
                Keep::Nothing => {
                    summary.omissions.push(Omission::Redacted {
                        address: item.address,
                        size: item.size,
                    });
                    item.dropped = true;
                }
                Keep::Zeros => item.zeros = true,
                Keep::Bytes => {}
            }
        }
    }
    // Pieces: what each item adds to those before it; an item left out adds nothing, and
    // what it covers stays out of the items after it. In a 64-bit list the stacks are copies
    // of their own, apart from the regions.
    let mut pieces = Vec::new();
    let mut copies = Vec::new();
    let mut covered = Covered::default();
    for (index, item) in items.iter().enumerate() {
        if item.dropped {
            if kind == ListKind::Memory32 || !matches!(item.part, Part::Stack(_)) {
                covered.add(item.address, item.address + item.size, |_, _| {});
            }
            continue;
        }
        if kind == ListKind::Memory64 && matches!(item.part, Part::Stack(_)) {
            copies.push(Piece {
                address: item.address,
                size: item.size,
                item: index,
            });
            continue;
        }
        covered.add(item.address, item.address + item.size, |address, end| {
            pieces.push(Piece {
                address,
                size: end - address,
                item: index,
            });
        });
    }
    MemoryPlan {
        kind,
        items,
        pieces,
        copies,
    }
}

/// Which class of a plus or full dump's regions `region` is in (`None`: not in the dump), in
/// the order the budget keeps them: the regions holding thread state (stacks, TEBs, the PEB),
/// private memory (heaps), the writable pages of images (data sections), other writable
/// memory (mapped sections), and, in a full dump, the rest (code, read-only data, mapped
/// files), which readers load from the files.
fn region_class(region: &MemoryRegion, map: &AddressMap, full: bool) -> Option<u8> {
    if !readable(region) || region.region_size == 0 {
        return None;
    }
    let writable = region.protect.is_writable();
    let range_end = region.base_address.saturating_add(region.region_size);
    let thread_state = map.overlaps_stack(region.base_address, range_end)
        || map.holds_environment(region.base_address, range_end);
    match region.kind {
        _ if thread_state => Some(0),
        MemoryType::Private => Some(1),
        MemoryType::Image if writable => Some(2),
        _ if writable => Some(3),
        _ if full => Some(4),
        _ => None,
    }
}

/// A set of disjoint address ranges.
#[derive(Debug, Default)]
pub(super) struct Covered(BTreeMap<usize, usize>);

impl Covered {
    /// Calls `new` with each part of `[start, end)` not yet in the set, in address order, and
    /// adds the whole range.
    pub(super) fn add(&mut self, start: usize, end: usize, mut new: impl FnMut(usize, usize)) {
        if start >= end {
            return;
        }
        let mut merged = (start, end);
        let mut at = start;
        // The range starting at or before `start`, then every one starting inside.
        let first = self
            .0
            .range(..=start)
            .next_back()
            .map(|(&s, &e)| (s, e))
            .filter(|&(_, e)| e >= start);
        let inside: Vec<(usize, usize)> = first
            .into_iter()
            .chain(
                self.0
                    .range((
                        core::ops::Bound::Excluded(start),
                        core::ops::Bound::Included(end),
                    ))
                    .map(|(&s, &e)| (s, e)),
            )
            .collect();
        for (s, e) in inside {
            if s > at {
                new(at, s.min(end));
            }
            at = at.max(e);
            merged = (merged.0.min(s), merged.1.max(e));
            self.0.remove(&s);
        }
        if at < end {
            new(at, end);
        }
        self.0.insert(merged.0, merged.1);
    }

    /// The ranges, in address order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.0.iter().map(|(&s, &e)| (s, e))
    }
}

/// One entry of a memory list: a run of adjacent pieces.
#[derive(Debug, Clone)]
pub(super) struct Range {
    pub address: usize,
    pub size: usize,
    /// Its pieces in [`MemoryPlan::pieces`].
    pub pieces: core::ops::Range<usize>,
}

impl MemoryPlan {
    /// Sorts the pieces by address and joins adjacent ones into the list's entries.
    pub(super) fn finish(&mut self) -> Vec<Range> {
        self.pieces.sort_by_key(|p| p.address);
        let mut ranges: Vec<Range> = Vec::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            match ranges.last_mut() {
                Some(range)
                    if range.address + range.size == piece.address
                        && (self.kind == ListKind::Memory64
                            || range.size + piece.size <= MAX_RANGE32) =>
                {
                    range.size += piece.size;
                    range.pieces.end = i + 1;
                }
                _ => ranges.push(Range {
                    address: piece.address,
                    size: piece.size,
                    pieces: i..i + 1,
                }),
            }
        }
        ranges
    }
}

/// Copies the planned memory of `pieces` into the dump, chunk by chunk, each read from the
/// clone, scrubbed by the policy, and written; zeros where the policy asked for zeros, and
/// where a read fails (recorded in `unread`).
#[allow(clippy::too_many_arguments)]
pub(super) fn write_pieces<W: Write>(
    file: &mut DumpFile<'_, W>,
    clone: &VaClone<'_>,
    space: &AddressSpace,
    map: &AddressMap,
    plan: &MemoryPlan,
    pieces: &[Piece],
    redaction: Option<&dyn Redaction>,
    unread: &mut Unread,
    chunk: &mut [u8],
) -> Result<(), DumpError> {
    for piece in pieces {
        let item = &plan.items[piece.item];
        if item.zeros {
            let mut left = piece.size;
            while left > 0 {
                file.step()?;
                let n = left.min(chunk.len());
                chunk[..n].fill(0);
                file.bytes(&chunk[..n])?;
                left -= n;
            }
            continue;
        }
        let range = MemoryRange {
            address: item.address,
            size: item.size,
            content: item.content,
            region: &space.regions[item.region],
            map,
        };
        copy(
            file,
            clone,
            piece.address,
            piece.size,
            |address, bytes| {
                if let Some(policy) = redaction {
                    policy.scrub(&range, address, bytes);
                }
            },
            unread,
            chunk,
        )?;
    }
    Ok(())
}

/// The page size of every Windows target: the unit in which memory is readable or not.
const PAGE: usize = 0x1000;

/// Reads `len` bytes of the clone at `address` into the dump, at most a chunk at a time and
/// never across a 64 KiB boundary of the address space (so a chunk holds whole aligned words);
/// a page that cannot be read is written as zeros and recorded.
fn copy<W: Write>(
    file: &mut DumpFile<'_, W>,
    clone: &VaClone<'_>,
    address: usize,
    len: usize,
    mut scrub: impl FnMut(usize, &mut [u8]),
    unread: &mut Unread,
    chunk: &mut [u8],
) -> Result<(), DumpError> {
    let mut done = 0;
    while done < len {
        file.step()?;
        let at = address + done;
        let n = (len - done).min(CHUNK - at % CHUNK).min(chunk.len());
        let bytes = &mut chunk[..n];
        let read = clone.read(at, bytes).unwrap_or(0).min(n);
        let good = if read == n {
            n
        } else {
            // Zeros from the failure to the end of its page (or of the chunk): the next read
            // starts after it.
            let bad_end = ((at + read) & !(PAGE - 1))
                .checked_add(PAGE)
                .map_or(at + n, |end| end.min(at + n));
            bytes[read..bad_end - at].fill(0);
            unread.add(at + read, bad_end - (at + read));
            bad_end - at
        };
        scrub(at, &mut bytes[..read]);
        file.bytes(&bytes[..good])?;
        done += good;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Covered;

    fn add(set: &mut Covered, start: usize, end: usize) -> Vec<(usize, usize)> {
        let mut new = Vec::new();
        set.add(start, end, |s, e| new.push((s, e)));
        new
    }

    #[test]
    fn a_range_gives_the_parts_not_yet_covered_and_joins_the_set() {
        let mut set = Covered::default();
        assert_eq!(add(&mut set, 10, 20), [(10, 20)]);
        assert_eq!(add(&mut set, 30, 40), [(30, 40)]);
        assert_eq!(add(&mut set, 5, 45), [(5, 10), (20, 30), (40, 45)]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [(5, 45)]);
        assert_eq!(add(&mut set, 45, 50), [(45, 50)], "adjacent: joined");
        assert_eq!(set.iter().collect::<Vec<_>>(), [(5, 50)]);
        assert!(add(&mut set, 7, 9).is_empty());
        assert!(add(&mut set, 9, 9).is_empty(), "empty");
        assert_eq!(add(&mut set, 0, 5), [(0, 5)]);
        assert_eq!(
            add(&mut set, usize::MAX - 1, usize::MAX),
            [(usize::MAX - 1, usize::MAX)]
        );
        assert_eq!(set.iter().count(), 2);
    }
}
