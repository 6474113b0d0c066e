//! What a written dump holds, what it could not hold, and why a dump could not be written.

use std::fmt;
use std::io;

use crate::{CaptureFlags, Error};

/// What [`DumpWriter::write_to`](super::DumpWriter::write_to) wrote, and what it left out.
///
/// A dump is written from whatever the snapshot holds and the VA clone can give. What could
/// not be read (a stack whose pages are gone, a module whose headers are malformed, memory a
/// full dump could not read) is left out of the dump and listed in
/// [`omissions`](Self::omissions); the dump is still valid and complete in every other respect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpSummary {
    /// The dump's size in bytes.
    pub bytes: u64,
    /// Threads in the thread list.
    pub threads: usize,
    /// Modules in the module list.
    pub modules: usize,
    /// Modules whose CodeView record (PDB name, GUID and age) is in the dump.
    pub modules_with_codeview: usize,
    /// Handles in the handle data.
    pub handles: usize,
    /// Memory ranges in the memory list (stacks, TEBs, the PEB) or, in a full dump, the
    /// Memory64 list.
    pub memory_ranges: usize,
    /// Bytes of process memory in those ranges.
    pub memory_bytes: u64,
    /// What could not be read, one entry per cause.
    pub omissions: Vec<Omission>,
}

impl DumpSummary {
    /// True when nothing was left out: every part the snapshot was captured with is in the
    /// dump (stacks as far as the [`stack_limit`](super::DumpWriter::stack_limit) asks).
    pub fn is_complete(&self) -> bool {
        self.omissions.is_empty()
    }
}

/// One thing a dump could not hold, in [`DumpSummary::omissions`].
///
/// `Debug` prints addresses (`address`, `base`) in hex, as every address is printed.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Omission {
    /// The snapshot was captured without these flags, so the streams they feed are empty or
    /// absent (threads, handles, the memory description, any memory).
    NotCaptured(CaptureFlags),
    /// The snapshot's threads, handles, address space or VA clone could not be listed for
    /// another reason (a process that had exited: [`Error::reason`] says), so that stream is
    /// empty (without the VA clone: the dump holds no memory).
    Unlisted {
        /// The part: `"threads"`, `"handles"`, `"address space"` or `"VA clone"`.
        part: &'static str,
        /// The error the snapshot gave.
        error: Error,
    },
    /// A thread has no usable context record (none was captured for it, or it is shorter than
    /// a `CONTEXT`): it is in the dump without registers, and without stack memory.
    ThreadContext {
        /// The thread.
        thread_id: u32,
    },
    /// A thread's stack memory could not be read in full: the dump holds `read` of the
    /// `wanted` bytes from `address` (the stack pointer) on; `wanted` is 0 when no readable
    /// region of the address space holds the stack pointer. (What the
    /// [`stack_limit`](super::DumpWriter::stack_limit) cuts is not missing: it was not asked
    /// for; a limit of 0 writes no stacks and records none of these.)
    Stack {
        /// The thread.
        thread_id: u32,
        /// Its stack pointer.
        address: usize,
        /// The bytes from the stack pointer to the end of its region (at most the stack
        /// limit).
        wanted: usize,
        /// The bytes that could be read.
        read: usize,
    },
    /// A module's PE headers, debug directory or CodeView record could not be read or are
    /// malformed: it is in the dump with what could be read (its name, base and size from the
    /// address space), without the rest.
    ModuleHeaders {
        /// The module's base address.
        base: usize,
        /// What was wrong.
        problem: &'static str,
    },
    /// Memory a full dump should hold could not be read through the VA clone (memory the clone
    /// does not hold, such as anonymous shared sections).
    Memory {
        /// The first byte that could not be read.
        address: usize,
        /// The bytes left out from there.
        size: usize,
    },
    /// The PEB could not be read through the VA clone: the system information has no
    /// Windows version or processor count, and module names are NT paths.
    ProcessEnvironment,
}

impl fmt::Debug for Omission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Omission::NotCaptured(flags) => f.debug_tuple("NotCaptured").field(flags).finish(),
            Omission::Unlisted { part, error } => f
                .debug_struct("Unlisted")
                .field("part", part)
                .field("error", error)
                .finish(),
            Omission::ThreadContext { thread_id } => f
                .debug_struct("ThreadContext")
                .field("thread_id", thread_id)
                .finish(),
            Omission::Stack {
                thread_id,
                address,
                wanted,
                read,
            } => f
                .debug_struct("Stack")
                .field("thread_id", thread_id)
                .field("address", &format_args!("{address:#x}"))
                .field("wanted", wanted)
                .field("read", read)
                .finish(),
            Omission::ModuleHeaders { base, problem } => f
                .debug_struct("ModuleHeaders")
                .field("base", &format_args!("{base:#x}"))
                .field("problem", problem)
                .finish(),
            Omission::Memory { address, size } => f
                .debug_struct("Memory")
                .field("address", &format_args!("{address:#x}"))
                .field("size", size)
                .finish(),
            Omission::ProcessEnvironment => f.write_str("ProcessEnvironment"),
        }
    }
}

/// A part of the snapshot an [`Omission::Unlisted`] names: the one place its names are spelt,
/// so the code records only the names the docs list (a test compares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Threads,
    Handles,
    AddressSpace,
    VaClone,
}

impl Part {
    #[cfg(test)]
    const ALL: [Part; 4] = [
        Part::Threads,
        Part::Handles,
        Part::AddressSpace,
        Part::VaClone,
    ];

    /// Its name in [`Omission::Unlisted::part`].
    pub(super) const fn name(self) -> &'static str {
        match self {
            Part::Threads => "threads",
            Part::Handles => "handles",
            Part::AddressSpace => "address space",
            Part::VaClone => "VA clone",
        }
    }
}

impl fmt::Display for Omission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Omission::NotCaptured(flags) => write!(f, "not captured: {flags:?}"),
            Omission::Unlisted { part, error } => write!(f, "no {part}: {error}"),
            Omission::ThreadContext { thread_id } => {
                write!(f, "thread {thread_id}: no usable context record")
            }
            Omission::Stack {
                thread_id,
                address,
                wanted: 0,
                ..
            } => write!(
                f,
                "thread {thread_id}: no readable region holds its stack pointer {address:#x}"
            ),
            Omission::Stack {
                thread_id,
                address,
                wanted,
                read,
            } => write!(
                f,
                "thread {thread_id}: {read} of {wanted} stack bytes from {address:#x} could be read"
            ),
            Omission::ModuleHeaders { base, problem } => {
                write!(f, "module at {base:#x}: {problem}")
            }
            Omission::Memory { address, size } => {
                write!(
                    f,
                    "{size} bytes of memory at {address:#x} could not be read"
                )
            }
            Omission::ProcessEnvironment => {
                write!(
                    f,
                    "the PEB could not be read: no Windows version, NT module paths"
                )
            }
        }
    }
}

/// Why a dump could not be written. What was written to the destination is then not a dump:
/// its header, written last, is zeros, so no reader takes it for one.
/// ([`DumpWriter::write_to_path`](super::DumpWriter::write_to_path) removes the file.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// A query or walk of the snapshot failed with an error other than "not captured" (which
    /// is an [`Omission`]).
    #[error("reading the snapshot: {0}")]
    Snapshot(#[from] Error),
    /// Writing to (or seeking in) the destination failed.
    #[error("writing the dump: {0}")]
    Write(#[from] io::Error),
    /// The streams before the memory would pass 4 GiB, which the format's 32-bit offsets
    /// cannot address (only the memory of a full dump may lie beyond), at `part`. What fills
    /// them: thread stacks (`stack_bytes`; up to [`stack_limit`](super::DumpWriter::stack_limit)
    /// bytes each), and, far behind, the records of threads and handles (millions of either),
    /// modules and memory regions. Lower the stack limit, or capture without what fills them. A
    /// stack that cannot fit is refused before it is copied (`part` is then `"the thread
    /// stacks"`).
    #[error(
        "writing {part}: the dump's streams would pass the 4 GiB the minidump format's 32-bit \
         offsets address, with {stack_bytes} bytes of thread stacks (each at most \
         DumpWriter::stack_limit); lower the stack limit, or capture fewer threads or handles"
    )]
    TooLarge {
        /// What was being written: `"the thread stacks"`, `"the thread list"`, `"the handle
        /// data"`, ... (one per stream).
        part: &'static str,
        /// Bytes of thread stacks in the dump by then (with the one refused, if it was a
        /// stack).
        stack_bytes: u64,
    },
    /// The destination's writes do not go where it seeks: at `step`, the writer sought to (or
    /// wrote up to) `expected`, and the destination was at `found`. A file opened in append mode
    /// does this (every write goes to its end), or a `Seek` that does not move the writes. The
    /// writer seeks back to fill in the header (and a full dump's memory list), so it needs a
    /// destination whose writes go where it seeks: open the file without append
    /// ([`File::create`](std::fs::File::create), or `OpenOptions` with `write`), or write to a
    /// [`Cursor`](std::io::Cursor) and append its bytes. The check runs once at the start, so
    /// it fails before the dump is written.
    #[error(
        "writing the dump ({step}): the destination reports offset {found} where the writer \
         expected {expected}: its writes do not go where it seeks (as in a file opened in append \
         mode); open it for writing without append, or write to a Cursor and append that"
    )]
    Position {
        /// What the writer was doing: `"checking that writes go where it seeks"`, `"filling in
        /// the memory list"`, `"filling in the stream directory"`, `"filling in the header"`.
        step: &'static str,
        /// The offset in the destination (from its start, not the dump's) it should be at.
        expected: u64,
        /// The offset the destination reported.
        found: u64,
    },
}

impl From<DumpError> for io::Error {
    /// The destination's own error as it was; a snapshot error as `From<Error> for io::Error`
    /// makes it (its Win32 code as the raw OS error, on Windows); the others as an
    /// [`io::Error`] whose source is the [`DumpError`].
    fn from(error: DumpError) -> Self {
        match error {
            DumpError::Write(error) => error,
            DumpError::Snapshot(error) => error.into(),
            DumpError::TooLarge { .. } => io::Error::new(io::ErrorKind::FileTooLarge, error),
            DumpError::Position { .. } => io::Error::new(io::ErrorKind::NotSeekable, error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names `Omission::Unlisted` records are the ones its docs list: the writer once
    /// recorded "memory", which they did not.
    #[test]
    fn the_unlisted_parts_recorded_are_the_ones_documented() {
        let doc = include_str!("summary.rs")
            .lines()
            .find(|line| line.trim_start().starts_with("/// The part: `"))
            .expect("the part's doc line");
        let documented: Vec<&str> = doc
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|name| name.trim_matches('"'))
            .collect();
        assert_eq!(documented, Part::ALL.map(Part::name));
    }
}
