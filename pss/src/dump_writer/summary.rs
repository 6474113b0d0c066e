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
    /// A thread's stack memory could not be read: the dump holds `read` of the `wanted` bytes
    /// from `address` (the stack pointer) on; `wanted` is 0 when no readable region of the
    /// address space holds the stack pointer. (A stack whose region the plan found readable is
    /// planned whole; pages of it that fail when written are zeros,
    /// [`Omission::ZeroFilled`]. What the [`stack_limit`](super::DumpWriter::stack_limit) cuts
    /// is not missing: it was not asked for; a limit of 0 writes no stacks and records none of
    /// these.)
    Stack {
        /// The thread.
        thread_id: u32,
        /// Its stack pointer.
        address: usize,
        /// The bytes from the stack pointer to the end of its region (at most the stack
        /// limit).
        wanted: usize,
        /// The bytes that could be read (0: the region holding the stack pointer cannot be
        /// read through the clone).
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
    /// A region a plus or full dump should hold cannot be read through the VA clone (memory
    /// the clone does not hold, such as anonymous shared sections): it is left out.
    Memory {
        /// The first byte that could not be read.
        address: usize,
        /// The bytes left out from there.
        size: usize,
    },
    /// The PEB could not be read through the VA clone: the system information has no
    /// Windows version or processor count, and module names are NT paths.
    ProcessEnvironment,
    /// Memory the plan found readable could not be read when it was written: the dump holds
    /// zeros there, and says so in its own pss stream (see
    /// [`LocalSnapshot::minidump`](crate::LocalSnapshot::minidump), "Memory that could not be
    /// read").
    ZeroFilled {
        /// The first byte written as zeros.
        address: usize,
        /// How many.
        size: usize,
    },
    /// The [`Redaction`](super::Redaction) policy left this memory out
    /// ([`Keep::Nothing`](super::Keep::Nothing)): it is in no memory list.
    Redacted {
        /// The first byte left out.
        address: usize,
        /// How many.
        size: usize,
    },
    /// [`max_bytes`](super::DumpWriter::max_bytes) left this out to keep the dump within its
    /// budget: memory (`address` and `size`), or a whole stream (`address` 0, `size` its
    /// bytes).
    OverBudget {
        /// What: `"stack"`, `"thread environment block"`, `"process environment block"`,
        /// `"process parameters"`, `"environment block"`, `"referenced memory"`, `"memory"`,
        /// `"memory info list"` or `"handle data"`.
        part: &'static str,
        /// The first byte left out (0 for a stream).
        address: usize,
        /// How many.
        size: u64,
    },
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
            Omission::ZeroFilled { address, size } => f
                .debug_struct("ZeroFilled")
                .field("address", &format_args!("{address:#x}"))
                .field("size", size)
                .finish(),
            Omission::Redacted { address, size } => f
                .debug_struct("Redacted")
                .field("address", &format_args!("{address:#x}"))
                .field("size", size)
                .finish(),
            Omission::OverBudget {
                part,
                address,
                size,
            } => f
                .debug_struct("OverBudget")
                .field("part", part)
                .field("address", &format_args!("{address:#x}"))
                .field("size", size)
                .finish(),
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
            Omission::ZeroFilled { address, size } => write!(
                f,
                "{size} bytes of memory at {address:#x} could not be read when written: zeros \
                 in the dump, listed in its pss stream"
            ),
            Omission::Redacted { address, size } => {
                write!(f, "{size} bytes of memory at {address:#x} redacted")
            }
            Omission::OverBudget {
                part,
                address: 0,
                size,
            } => write!(f, "the {part} ({size} bytes) left out to fit the budget"),
            Omission::OverBudget {
                part,
                address,
                size,
            } => write!(
                f,
                "{size} bytes of {part} at {address:#x} left out to fit the budget"
            ),
        }
    }
}

/// Why a dump could not be written.
///
/// What the destination received then is not a dump: nothing, or a prefix of the planned dump,
/// shorter than the size the dump's pss stream records (see
/// [`DumpWriter::write_to`](super::DumpWriter::write_to), "Errors").
/// [`DumpWriter::write_to_path`](super::DumpWriter::write_to_path) removes the file.
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
    /// cannot address (only the memory of a plus or full dump may lie beyond), at `part`,
    /// found when the dump is laid out, before anything is written. What fills
    /// them: thread stacks (`stack_bytes`; up to [`stack_limit`](super::DumpWriter::stack_limit)
    /// bytes each), and, far behind, the records of threads and handles (millions of either),
    /// modules and memory regions. Lower the stack limit, or capture without what fills them (`part`
    /// is `"the thread stacks"` when the stacks pass it).
    #[error(
        "laying out {part}: the dump's streams would pass the 4 GiB the minidump format's 32-bit \
         offsets address, with {stack_bytes} bytes of thread stacks (each at most \
         DumpWriter::stack_limit); lower the stack limit, or capture fewer threads or handles"
    )]
    TooLarge {
        /// What was being written: `"the thread stacks"`, `"the thread list"`, `"the handle
        /// data"`, ... (one per stream).
        part: &'static str,
        /// Bytes of thread stacks the dump plans (32-bit lists and stack copies).
        stack_bytes: u64,
    },
    /// [`max_bytes`](super::DumpWriter::max_bytes) is smaller than what a dump never leaves
    /// out (header, system and process information, the thread list with every context, the
    /// modules): raise the budget to at least `needed` bytes.
    #[error(
        "planning the dump: the parts never left out (threads, contexts, modules) need {needed} \
         bytes, more than the budget of {budget} (max_bytes): raise it to at least {needed}"
    )]
    OverBudget {
        /// What the parts never left out take.
        needed: u64,
        /// The budget given.
        budget: u64,
    },
    /// The progress callback asked to stop ([`ControlFlow::Break`](core::ops::ControlFlow)).
    #[error("writing the dump: cancelled by the progress callback")]
    Cancelled,
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
            DumpError::OverBudget { .. } => io::Error::new(io::ErrorKind::InvalidInput, error),
            DumpError::Cancelled => io::Error::other(error),
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
