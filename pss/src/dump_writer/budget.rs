//! The byte budget ([`max_bytes`](super::DumpWriter::max_bytes)): what a dump leaves out to
//! stay within it, in a fixed priority order. Never left out: the header, the directory, the
//! system and misc information, the dump information stream, the thread list with every
//! context, the thread info list and names, the module list with names and CodeView records,
//! and the exception. Then, in the order the budget gives them bytes (what comes last is left
//! out first):
//!
//! 1. the stacks, innermost bytes first, round-robin over the threads (each thread's first
//!    4 KiB, then up to 16 KiB, then 64 KiB, then the rest), so every thread keeps its
//!    innermost frames before any keeps its deep ones;
//! 2. the TEBs, the PEB, the process parameters (each string) and the environment block, each
//!    whole or not at all;
//! 3. the memory info list, then the handle data, each whole or not at all;
//! 4. referenced memory, each window whole or not at all, in address order;
//! 5. regions of a plus or full dump: those holding thread state, private memory, writable
//!    image pages, other writable memory, then the rest; each whole, or the pages of it that
//!    fit.
//!
//! Each range or stream left out is named in the summary ([`Omission::OverBudget`]).

use super::memory::{ListKind, MemoryPlan, Part, Piece};
use super::{DumpError, DumpSummary, Omission};

/// Which optional streams are in the dump.
#[derive(Debug, Clone, Copy)]
pub(super) struct Streams {
    pub info_list: bool,
    pub handles: bool,
}

/// The optional streams' sizes (`None`: not in the dump anyway).
pub(super) struct Optional {
    pub info_list: Option<u64>,
    pub handles: Option<u64>,
}

/// Room kept for the alignment padding before the optional streams, the memory list and the
/// unread table, which moves with what is kept (at most 3 + 7 + 7 + 7 bytes).
const SLACK: u64 = 32;
/// A memory list entry.
const DESCRIPTOR: u64 = 16;
const PAGE: usize = 0x1000;

/// Keeps what fits in `max` bytes, given that everything never left out takes `fixed`:
/// trims `memory`'s pieces and copies, says which optional streams stay, and names what was
/// left out.
pub(super) fn apply(
    memory: &mut MemoryPlan,
    optional: Optional,
    fixed: u64,
    max: u64,
    summary: &mut DumpSummary,
) -> Result<Streams, DumpError> {
    if fixed > max {
        return Err(DumpError::OverBudget {
            needed: fixed,
            budget: max,
        });
    }
    let mut left = (max - fixed).saturating_sub(SLACK);
    let part = |memory: &MemoryPlan, piece: &Piece| memory.items[piece.item].part;

    // 1. The stacks: the list's pieces in a 32-bit list, the copies in a 64-bit one (which
    // need no list entry).
    let (stacks, overhead): (&[Piece], u64) = match memory.kind {
        ListKind::Memory32 => (&memory.pieces, DESCRIPTOR),
        ListKind::Memory64 => (&memory.copies, 0),
    };
    let mut granted = vec![0usize; stacks.len()];
    let threads: Vec<usize> = {
        let mut items: Vec<usize> = stacks
            .iter()
            .filter(|p| matches!(memory.items[p.item].part, Part::Stack(_)))
            .map(|p| p.item)
            .collect();
        items.dedup();
        items
    };
    for cap in [0x1000, 0x4000, 0x1_0000, usize::MAX] {
        for &item in &threads {
            let mut want = cap;
            for (piece, granted) in stacks.iter().zip(granted.iter_mut()) {
                if piece.item != item {
                    continue;
                }
                let had = *granted;
                let take = piece.size.min(want);
                want -= take;
                if take > had {
                    grant(granted, take - had, overhead, &mut left);
                }
                if want == 0 {
                    break;
                }
            }
        }
    }

    // 2. The TEBs and the PEB, each whole; 4. referenced memory, each piece whole; 5.
    // regions, each whole or the pages that fit. 3. (the streams) goes between 2 and 4.
    if memory.kind == ListKind::Memory32 {
        let mut items: Vec<usize> = memory
            .pieces
            .iter()
            .filter(|p| part(memory, p) == Part::Environment)
            .map(|p| p.item)
            .collect();
        items.dedup();
        for item in items {
            let cost: u64 = memory
                .pieces
                .iter()
                .filter(|p| p.item == item)
                .map(|p| p.size as u64 + DESCRIPTOR)
                .sum();
            if cost <= left {
                left -= cost;
                for (piece, granted) in memory.pieces.iter().zip(granted.iter_mut()) {
                    if piece.item == item {
                        *granted = piece.size;
                    }
                }
            }
        }
    }
    let mut streams = Streams {
        info_list: false,
        handles: false,
    };
    for (size, kept, part) in [
        (
            optional.info_list,
            &mut streams.info_list,
            "memory info list",
        ),
        (optional.handles, &mut streams.handles, "handle data"),
    ] {
        let Some(size) = size else {
            continue;
        };
        if size + 8 <= left {
            left -= size + 8;
            *kept = true;
        } else {
            summary.omissions.push(Omission::OverBudget {
                part,
                address: 0,
                size,
            });
        }
    }
    if memory.kind == ListKind::Memory32 {
        for (piece, granted) in memory.pieces.iter().zip(granted.iter_mut()) {
            let cost = piece.size as u64 + DESCRIPTOR;
            if part(memory, piece) == Part::Referenced && cost <= left {
                left -= cost;
                *granted = piece.size;
            }
        }
    }
    let mut region_granted = vec![0usize; memory.pieces.len()];
    if memory.kind == ListKind::Memory64 {
        for (piece, granted) in memory.pieces.iter().zip(region_granted.iter_mut()) {
            if left <= DESCRIPTOR {
                break;
            }
            let room = left - DESCRIPTOR;
            let take = if piece.size as u64 <= room {
                piece.size
            } else {
                (room as usize / PAGE) * PAGE
            };
            if take > 0 {
                left -= take as u64 + DESCRIPTOR;
                *granted = take;
            }
        }
    }

    // Cut every piece to what it was granted; name the rest.
    let trim = |pieces: &mut Vec<Piece>,
                granted: &[usize],
                summary: &mut DumpSummary,
                items: &[super::memory::Item]| {
        let mut kept = Vec::with_capacity(pieces.len());
        for (piece, &granted) in pieces.iter().zip(granted) {
            if granted < piece.size {
                let item = &items[piece.item];
                summary.omissions.push(Omission::OverBudget {
                    part: item.part.name(item.content),
                    address: piece.address + granted,
                    size: (piece.size - granted) as u64,
                });
            }
            if granted > 0 {
                kept.push(Piece {
                    size: granted,
                    ..*piece
                });
            }
        }
        *pieces = kept;
    };
    match memory.kind {
        ListKind::Memory32 => trim(&mut memory.pieces, &granted, summary, &memory.items),
        ListKind::Memory64 => {
            trim(&mut memory.copies, &granted, summary, &memory.items);
            trim(&mut memory.pieces, &region_granted, summary, &memory.items);
        }
    }
    Ok(streams)
}

/// Grants up to `bytes` more to a piece that has `granted`, paying `overhead` for its list
/// entry when it gets its first byte.
fn grant(granted: &mut usize, bytes: usize, overhead: u64, left: &mut u64) {
    let entry = if *granted == 0 { overhead } else { 0 };
    if *left <= entry {
        return;
    }
    let take = (bytes as u64).min(*left - entry);
    *left -= take + entry;
    *granted += take as usize;
}
