//! The address space: the memory info list, the memory list of a small dump (stacks, TEBs,
//! the PEB), and the Memory64 list of a full one.

use std::io::{Seek, Write};

use minidump_common::format as md;

use super::file::DumpFile;
use super::streams::{copy_memory, present, walked};
use super::summary::Part;
use super::threads::Written;
use super::{DumpError, DumpSummary, Omission};
use crate::{Allocation, LocalSnapshot, MemoryRegion, MemoryState, MemoryType, VaClone};

/// The captured address space, in address order, and the image regions' file names.
#[derive(Debug)]
pub(super) struct AddressSpace {
    pub regions: Vec<MemoryRegion>,
    /// (allocation base, NT file name) of each image, from its first named region.
    pub image_names: Vec<(usize, Vec<u16>)>,
    /// Some image region carries its PE values: section information was captured.
    pub section_information: bool,
}

impl AddressSpace {
    /// Walks the address space once; `None` (recorded) if it was not captured.
    pub(super) fn read<A: Allocation>(
        snapshot: &LocalSnapshot<A>,
        summary: &mut DumpSummary,
    ) -> Result<Option<Self>, DumpError> {
        let Some(walk) = present(snapshot.va_space(), Part::AddressSpace, summary)? else {
            return Ok(None);
        };
        let mut space = AddressSpace {
            regions: Vec::new(),
            image_names: Vec::new(),
            section_information: false,
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
        walked(result, Part::AddressSpace, summary)?;
        if summary.omissions.len() > before {
            return Ok(None);
        }
        space.regions.sort_by_key(|r| r.base_address);
        Ok(Some(space))
    }

    /// The committed, readable region holding `address`.
    pub(super) fn readable_region_at(&self, address: usize) -> Option<&MemoryRegion> {
        let i = self
            .regions
            .partition_point(|r| r.base_address <= address)
            .checked_sub(1)?;
        let region = &self.regions[i];
        (address - region.base_address < region.region_size && readable(region)).then_some(region)
    }
}

/// Committed memory whose protection allows reading (and is not a guard page).
pub(super) fn readable(region: &MemoryRegion) -> bool {
    region.state == MemoryState::Commit
        && region.protect.is_readable()
        && !region.protect.contains(crate::MemoryProtection::GUARD)
}

/// `MemoryInfoListStream`: every region of the captured address space.
pub(super) fn info_list<W: Write + Seek>(
    file: &mut DumpFile<W>,
    space: &AddressSpace,
) -> Result<(), DumpError> {
    file.align(8)?;
    let rva = file.rva()?;
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
    file.stream(md::MINIDUMP_STREAM_TYPE::MemoryInfoListStream, rva)
}

/// How much of a TEB and of the PEB a small dump holds: two pages from the TEB (an x64 TEB is
/// 0x1838 bytes), one from the PEB (0x7C8 on x64), each cut at the end of its region.
const TEB_BYTES: usize = 0x2000;
const PEB_BYTES: usize = 0x1000;

/// `MemoryListStream` of a small dump: the stacks (already written with the threads), and the
/// TEBs and the PEB, which debuggers read to find a process's modules and a thread's state.
pub(super) fn small_list<W: Write + Seek>(
    file: &mut DumpFile<W>,
    clone: Option<&VaClone<'_>>,
    space: Option<&AddressSpace>,
    written: &Written,
    peb: usize,
    summary: &mut DumpSummary,
) -> Result<(), DumpError> {
    let mut ranges: Vec<md::MINIDUMP_MEMORY_DESCRIPTOR> = written
        .threads
        .iter()
        .map(|t| t.stack)
        .filter(|d| d.memory.data_size > 0)
        .collect();
    if let (Some(clone), Some(space)) = (clone, space) {
        let wanted = written
            .threads
            .iter()
            .map(|t| (t.teb, TEB_BYTES))
            .chain([(peb, PEB_BYTES)]);
        let mut buffer = vec![0u8; TEB_BYTES];
        for (address, bytes) in wanted {
            let Some(region) = space.readable_region_at(address) else {
                continue;
            };
            let len = bytes.min(region.base_address.saturating_add(region.region_size) - address);
            let end = address.saturating_add(len);
            // Readers drop overlapping ranges: a TEB inside a stack (or twice) is skipped.
            let overlaps = ranges.iter().any(|d| {
                let start = d.start_of_memory_range;
                (address as u64) < start.saturating_add(u64::from(d.memory.data_size))
                    && start < end as u64
            });
            if overlaps {
                continue;
            }
            let Ok(read) = clone.read(address, &mut buffer[..len]) else {
                continue;
            };
            let rva = file.rva()?;
            file.bytes(&buffer[..read])?;
            ranges.push(md::MINIDUMP_MEMORY_DESCRIPTOR {
                start_of_memory_range: address as u64,
                memory: md::MINIDUMP_LOCATION_DESCRIPTOR {
                    data_size: read as u32,
                    rva,
                },
            });
        }
    }
    file.align(4)?;
    let rva = file.rva()?;
    file.u32(ranges.len() as u32)?;
    summary.memory_ranges = ranges.len();
    summary.memory_bytes = ranges.iter().map(|d| u64::from(d.memory.data_size)).sum();
    for range in ranges {
        file.put(range)?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::MemoryListStream, rva)
}

/// `Memory64ListStream` of a full dump, and the memory: every readable committed region, read
/// through the clone and written as it is read. The list's descriptors are reserved first (one
/// per region) and filled in afterwards with what could be read; the memory follows them.
pub(super) fn full_list<W: Write + Seek>(
    file: &mut DumpFile<W>,
    directory: u32,
    clone: &VaClone<'_>,
    space: &AddressSpace,
    summary: &mut DumpSummary,
    chunk: &mut [u8],
) -> Result<(), DumpError> {
    let planned = space.regions.iter().filter(|r| readable(r)).count();
    file.align(8)?;
    let list = file.rva()?;
    file.zeros(16 + 16 * planned)?;
    let base = file.offset();
    let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(planned);
    for region in space.regions.iter().filter(|r| readable(r)) {
        let read = copy_memory(file, clone, region.base_address, region.region_size, chunk)?;
        if read < region.region_size {
            summary.omissions.push(Omission::Memory {
                address: region.base_address + read,
                size: region.region_size - read,
            });
        }
        if read > 0 {
            ranges.push((region.base_address as u64, read as u64));
        }
    }
    let mut header = Vec::with_capacity(16 + 16 * ranges.len());
    header.extend_from_slice(&(ranges.len() as u64).to_le_bytes());
    header.extend_from_slice(&base.to_le_bytes());
    for (start, size) in &ranges {
        header.extend_from_slice(&start.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
    }
    file.patch(u64::from(list), &header, "filling in the memory list")?;
    file.fill_reserved(
        directory,
        md::MINIDUMP_STREAM_TYPE::Memory64ListStream,
        md::MINIDUMP_LOCATION_DESCRIPTOR {
            data_size: header.len() as u32,
            rva: list,
        },
    )?;
    summary.memory_ranges = ranges.len();
    summary.memory_bytes = ranges.iter().map(|(_, size)| size).sum();
    Ok(())
}
