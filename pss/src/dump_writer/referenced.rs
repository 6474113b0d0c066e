//! Referenced memory ([`Profile::Referenced`](super::Profile::Referenced)): for every register
//! and every stack word that holds an address of readable memory, a window around it, as
//! dbghelp's `MiniDumpWithIndirectlyReferencedMemory` and crashpad's "memory pointed to by the
//! context and the stack" give: the objects a crashed function was working on.
//!
//! The window is crashpad's: from 128 bytes before the address, 512 bytes in all, cut at the
//! edges of the region holding it. Values below 64 KiB, or within 64 KiB of the top of the
//! address space, are taken for numbers, not addresses (crashpad's rule). Registers come
//! first (every thread's), then each thread's stack from the stack pointer up, until the
//! windows' bytes reach [`referenced_limit`](super::DumpWriter::referenced_limit).

use core::mem::offset_of;

use pss_sys::CONTEXT;

use super::memory::{AddressSpace, Covered, Item, Part};
use super::redact::MemoryContent;
use super::threads::Threads;
use crate::VaClone;

/// Bytes of a window before the address, and in all.
const BEFORE: usize = 128;
const WINDOW: usize = 512;
/// Values this close to 0 or to the top of the address space are not taken for addresses.
const NOT_AN_ADDRESS: usize = 0x1_0000;
/// The most windows looked at: the limit stops sooner unless windows overlap a lot.
const MAX_WINDOWS: usize = 0x1_0000;

const WORD: usize = size_of::<usize>();

/// The general-purpose registers, the stack pointer and the instruction pointer in a
/// `CONTEXT`: (offset, pointer-sized words there).
#[cfg(target_arch = "x86")]
const REGISTERS: &[(usize, usize)] =
    &[(offset_of!(CONTEXT, Edi), 8), (offset_of!(CONTEXT, Esp), 1)];
#[cfg(target_arch = "aarch64")]
const REGISTERS: &[(usize, usize)] = &[(offset_of!(CONTEXT, Anonymous), 33)]; // X0..X28, Fp, Lr, Sp, Pc
#[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
const REGISTERS: &[(usize, usize)] = &[(offset_of!(CONTEXT, Rax), 17)]; // Rax..R15, Rip

/// The windows found so far.
struct Windows<'c, 's> {
    clone: &'c VaClone<'s>,
    space: &'c mut AddressSpace,
    found: Covered,
    bytes: usize,
    count: usize,
    limit: usize,
}

impl Windows<'_, '_> {
    /// Takes the window around `value` if it is an address of readable memory; false once the
    /// limit is reached.
    fn consider(&mut self, value: usize) -> bool {
        if self.count >= MAX_WINDOWS || self.bytes >= self.limit {
            return false;
        }
        if !(NOT_AN_ADDRESS..=usize::MAX - NOT_AN_ADDRESS).contains(&value) {
            return true;
        }
        let Some(region) = self.space.readable_region_at(value) else {
            return true;
        };
        if !self.space.probe(self.clone, region) {
            return true;
        }
        let low = value - BEFORE;
        let start = low.max(self.space.regions[region].base_address);
        let end = low.saturating_add(WINDOW).min(self.space.end(region));
        let mut new = 0;
        if end > start && self.bytes + (end - start) <= self.limit {
            self.found.add(start, end, |s, e| new += e - s);
        } else if end > start {
            self.bytes = self.limit; // the next window might not fit either: stop here
            return false;
        }
        self.bytes += new;
        self.count += 1;
        true
    }
}

/// Adds the windows of referenced memory to `items`: registers of every thread, then the
/// words of each `stacks` item (read through the clone, a chunk at a time), until `limit`
/// bytes.
pub(super) fn windows(
    clone: &VaClone<'_>,
    space: &mut AddressSpace,
    threads: &Threads,
    stacks: &[Item],
    limit: usize,
    chunk: &mut [u8],
    items: &mut Vec<Item>,
) {
    let mut windows = Windows {
        clone,
        space,
        found: Covered::default(),
        bytes: 0,
        count: 0,
        limit,
    };
    'registers: for context in &threads.contexts {
        for &(offset, count) in REGISTERS {
            for i in 0..count {
                let at = offset + i * WORD;
                let Some(word) = context.get(at..at + WORD) else {
                    continue;
                };
                let value = usize::from_le_bytes(word.try_into().unwrap_or([0; WORD]));
                if !windows.consider(value) {
                    break 'registers;
                }
            }
        }
    }
    'stacks: for stack in stacks {
        let mut done = 0;
        while done < stack.size {
            let at = stack.address + done;
            let n = (stack.size - done).min(chunk.len());
            let read = clone.read(at, &mut chunk[..n]).unwrap_or(0).min(n);
            // Aligned words only, as a walker's stack scan reads them.
            let skip = at.checked_next_multiple_of(WORD).map_or(read, |a| a - at);
            for word in chunk[skip.min(read)..read].chunks_exact(WORD) {
                let value = usize::from_le_bytes(word.try_into().unwrap_or([0; WORD]));
                if !windows.consider(value) {
                    break 'stacks;
                }
            }
            if read < n {
                break;
            }
            done += n;
        }
    }
    // The windows as items, one per region they lie in (adjacent windows were joined).
    let Windows { space, found, .. } = windows;
    for (mut start, end) in found.iter() {
        while start < end {
            let Some(region) = space.readable_region_at(start) else {
                break;
            };
            let piece_end = end.min(space.end(region));
            items.push(Item {
                address: start,
                size: piece_end - start,
                content: MemoryContent::Referenced,
                region,
                part: Part::Referenced,
                zeros: false,
                dropped: false,
            });
            start = piece_end;
        }
    }
}
