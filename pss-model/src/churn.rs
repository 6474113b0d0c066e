//! Thread capture while threads change, as ntdll's two passes over a process's threads make it
//! (decompiled 24H2 ntdll `PsspCaptureThreadInformation` and `PsspDumpThread`, 23H2/24H2 kernel
//! `NtGetNextThread`, `NtQueryInformationThread`, `PspQueryLastCallThread`,
//! `PspGetContextThreadInternal`, `KeRundownApcQueues`):
//!
//! 1. The first pass opens every thread with `ZwGetNextThread` (a thread the caller may not
//!    open is skipped by the kernel) and queries each one's name into a 0x210-byte buffer to
//!    size the section: `threads × (context slot + 128)` plus each name that fit, rounded to
//!    16 bytes. Any other enumeration error fails the capture.
//! 2. The second pass (`PsspDumpThread`) queries each opened thread again into a view of that
//!    section, rounded up to whole pages. A failing query of basic information, times, start
//!    address, termination or suspend count fails the whole capture; a thread whose context
//!    cannot be read gets no context (and takes only the 128-byte header); a failed last
//!    system call query records [`LAST_SYSCALL_UNAVAILABLE`]; a name that no longer fits is
//!    dropped; a record that no longer fits (`STATUS_BUFFER_TOO_SMALL`) ends the loop, and the
//!    capture succeeds with the records written so far.
//!
//! The queries read the thread object the handle keeps alive, so a thread that exits between
//! the passes is still recorded, as a terminated thread.

use super::data::{ProcessData, ThreadSpec, utf16};
use pss_sys::*;
use std::sync::Arc;

/// `LastSyscallNumber` (and a `LastSyscallFirstArgument` of 0) in the entry of a thread whose
/// last system call could not be queried with flag `0x400` (`PsspDumpThread`:
/// `*(_WORD *)(v9 + 56) = -1` when `ThreadLastSystemCall` fails). The kernel answers only for a
/// thread waiting in a system call made from user mode (`PspQueryLastCallThread` checks its
/// state is `Waiting` and its previous mode `UserMode`), and never for the calling thread: so a
/// running, ready or terminated thread ([`ThreadSpec::running`], [`ThreadSpec::terminated`])
/// records this.
pub const LAST_SYSCALL_UNAVAILABLE: u16 = 0xFFFF;

/// The longest thread name a capture keeps, in UTF-16 units: ntdll queries
/// `ThreadNameInformation` into a 0x210-byte buffer whose first 16 bytes are the
/// `UNICODE_STRING`, and the kernel answers `STATUS_BUFFER_TOO_SMALL` for a longer name, so the
/// thread is captured without one.
pub const THREAD_NAME_LIMIT: usize = 256;

/// ntdll's per-thread record ahead of its context slot.
const RECORD_HEADER: u64 = 128;

/// The section's view is mapped whole pages at a time.
const PAGE: u64 = 4096;

/// What happens to one thread while a capture runs (see the knobs on [`ThreadSpec`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ThreadChurn {
    /// Its name between ntdll's sizing pass and its dump pass.
    renamed: Option<Vec<u16>>,
    /// It exits, with this code, after the enumeration opened it.
    exits: Option<u32>,
    /// Its handle is closed under ntdll before the dump pass queries it.
    handle_closed: bool,
    /// It is running or ready, not waiting in a system call.
    running: bool,
}

impl ThreadSpec {
    /// It is running (or ready to run), not waiting in a system call: with flag `0x400` its
    /// entry records [`LAST_SYSCALL_UNAVAILABLE`] instead of its last system call (the kernel
    /// answers `ThreadLastSystemCall` only for a thread waiting in user mode's system call;
    /// ntdll records the failure and the capture succeeds). Threads are waiting by default, as
    /// most threads of a process are.
    pub fn running(mut self) -> Self {
        self.churn.running = true;
        self
    }

    /// It exits, with `code`, during the next capture that takes threads, after ntdll's
    /// enumeration opened it: the handle keeps the thread object, whose basic information,
    /// times, start address, termination and suspend count still answer, so the capture
    /// succeeds and records it as a [`terminated`](Self::terminated) thread (flagged, with
    /// `code` and an exit time, no context record, no last system call). From then on the
    /// process holds it terminated. (A per-thread query that *fails* fails the whole capture:
    /// [`handle_closed_during_capture`](Self::handle_closed_during_capture).)
    pub fn exits_during_capture(mut self, code: u32) -> Self {
        self.churn.exits = Some(code);
        self
    }

    /// Between ntdll's pass that sizes the thread section (by each thread's name then) and the
    /// pass that fills it, in every capture, the thread is named (or renamed) `name`: the
    /// record holds `name` if it still fits in the section's view (the section rounded up to
    /// whole pages), else no name; and when the names written so far leave no room for a later
    /// thread's record, `PsspDumpThread` returns `STATUS_BUFFER_TOO_SMALL`, which ends the
    /// loop: the capture succeeds with fewer records than threads (the thread query counts
    /// only those). Names over [`THREAD_NAME_LIMIT`] units are never captured.
    pub fn renamed_during_capture(mut self, name: &str) -> Self {
        self.churn.renamed = Some(utf16(name));
        self
    }

    /// In every capture that takes threads, the handle ntdll opened to this thread is closed
    /// before its queries (by another thread of the capturing process closing handle values it
    /// does not own): `ZwQueryInformationThread` fails with `STATUS_INVALID_HANDLE`, and a
    /// failing per-thread query fails the whole capture (`PsspCaptureThreadInformation`:
    /// `if ( v22 < 0 )` unmaps and returns it), with `ERROR_INVALID_HANDLE` (the standard
    /// conversion), nothing left behind. No other failure of those queries is reachable: they
    /// read the thread object the handle holds, which stays queryable after the thread exits.
    pub fn handle_closed_during_capture(mut self) -> Self {
        self.churn.handle_closed = true;
        self
    }
}

/// Whether `GetThreadContext` can read `thread`'s context: not when the knob says so, and never
/// for a terminated thread (no APC can be queued to it).
pub(crate) fn context_readable(thread: &ThreadSpec) -> bool {
    !thread.context_unreadable && !thread.terminated
}

/// The `LastSyscallNumber` a capture with flag `0x400` records for `thread`.
pub(crate) fn last_syscall_number(thread: &ThreadSpec) -> u16 {
    if thread.terminated || thread.churn.running {
        LAST_SYSCALL_UNAVAILABLE
    } else {
        super::walk::LAST_SYSCALL_NUMBER
    }
}

/// The part of `name` a capture keeps: all of it up to [`THREAD_NAME_LIMIT`] units, else none.
pub(crate) fn captured_name(name: &[u16]) -> &[u16] {
    if name.len() <= THREAD_NAME_LIMIT {
        name
    } else {
        &[]
    }
}

/// The thread part of a capture of the live `process` starts: threads marked to exit do so
/// (after the enumeration opened them), then a thread whose handle is closed under ntdll fails
/// the part with `ERROR_INVALID_HANDLE`.
pub(crate) fn run_thread_part(process: &mut ProcessData) -> Result<(), u32> {
    if process.threads.iter().any(|t| t.churn.exits.is_some()) {
        for thread in Arc::make_mut(&mut process.threads) {
            if let Some(code) = thread.churn.exits.take() {
                thread.terminated = true;
                thread.exit_status = code;
            }
        }
    }
    let opened = process.threads.iter().filter(|t| !t.unopenable);
    if opened.clone().any(|t| t.churn.handle_closed) {
        return Err(ERROR_INVALID_HANDLE);
    }
    Ok(())
}

fn align16(bytes: u64) -> u64 {
    bytes.next_multiple_of(16)
}

/// The thread records a capture holds, in order, each with the name it captured; `None` when
/// no thread could be opened (no thread section at all). `context_length` is the length of
/// each context record, when contexts are captured. Shares `threads` when nothing changes
/// during the capture (no thread skipped or renamed): then every record fits.
pub(crate) fn dump(
    threads: &Arc<Vec<ThreadSpec>>,
    context_length: Option<u32>,
) -> Option<Arc<Vec<ThreadSpec>>> {
    let quiet = threads
        .iter()
        .all(|t| !t.unopenable && t.churn.renamed.is_none());
    if quiet {
        return (!threads.is_empty()).then(|| threads.clone());
    }
    let opened = || threads.iter().filter(|t| !t.unopenable);
    let count = opened().count() as u64;
    if count == 0 {
        return None;
    }
    let name_bytes = |name: &[u16]| align16(2 * captured_name(name).len() as u64);
    let slot = context_length.map_or(0, |l| align16(u64::from(l)));
    let section =
        count * (slot + RECORD_HEADER) + opened().map(|t| name_bytes(&t.name)).sum::<u64>();
    let view = section.next_multiple_of(PAGE);
    let mut used = 0;
    let mut records = Vec::with_capacity(count as usize);
    for thread in opened() {
        let fixed = slot + RECORD_HEADER;
        if used + fixed > view {
            break; // STATUS_BUFFER_TOO_SMALL: the loop ends, the capture succeeds
        }
        let mut size = if context_length.is_some() && !context_readable(thread) {
            RECORD_HEADER
        } else {
            fixed
        };
        let name = captured_name(thread.churn.renamed.as_deref().unwrap_or(&thread.name));
        let mut record = ThreadSpec {
            name: Vec::new(),
            churn: ThreadChurn {
                renamed: None,
                ..thread.churn.clone()
            },
            ..thread.clone()
        };
        if !name.is_empty() && used + size + name_bytes(name) <= view {
            size += name_bytes(name);
            record.name = name.to_vec();
        }
        used += size;
        records.push(record);
    }
    Some(Arc::new(records))
}
