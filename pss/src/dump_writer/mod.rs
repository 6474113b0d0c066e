//! `pss`'s own minidump writer (cargo feature `dump-writer`): from a snapshot to any
//! [`Write`], strictly forward, without dbghelp.
//!
//! A dump is planned whole before its first byte is written (`plan.rs`: the snapshot's walks,
//! the memory a profile chooses, the redaction policy's decisions, the budget), laid out
//! (`layout.rs`: every object's size and offset), then written forward (`streams.rs`), the
//! memory read from the VA clone a chunk at a time as it is written (`memory.rs`).

mod budget;
mod context;
mod exception;
mod file;
mod handles;
mod layout;
mod loader;
mod memory;
mod modules;
mod pe;
mod plan;
mod redact;
mod referenced;
mod streams;
mod summary;
mod threads;
mod unread;

use std::fs::File;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

use pss_sys as sys;

use crate::{Allocation, HeapAllocated, LocalSnapshot};

pub use exception::{
    ChainEnd, EXCEPTION_MAXIMUM_PARAMETERS, ExceptionContext, ExceptionError, ExceptionLayout,
    ExceptionRecord, ExceptionStructure, MAX_NESTED_RECORDS, TargetException,
};
pub use redact::{
    DumpModule, Keep, MemoryContent, MemoryRange, ModuleAllowList, Redaction, StackScrubbing,
};
pub use summary::{DumpError, DumpSummary, Omission};
pub use unread::{DUMP_INFO_STREAM, DumpInfo};

/// The exception a crash reporter has in hand, for a dump's exception stream: which thread
/// faulted, the exception record, and optionally the context at the fault.
///
/// The snapshot itself holds no exception: a crash reporter gets it from the crashing process
/// (an `EXCEPTION_POINTERS` it sends), or reads it through the VA clone from the address the
/// crashing thread gives: [`TargetException::read`], then
/// [`dump_exception`](TargetException::dump_exception).
///
/// # References
///
/// - [`MINIDUMP_EXCEPTION_STREAM`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_exception_stream)
/// - [`EXCEPTION_RECORD`](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-exception_record)
#[doc(alias = "MINIDUMP_EXCEPTION_STREAM", alias = "EXCEPTION_RECORD")]
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct DumpException<'a> {
    /// The thread that raised it.
    pub thread_id: u32,
    /// `ExceptionCode` (e.g. `0xC0000005`, an access violation).
    pub code: u32,
    /// `ExceptionFlags` (`EXCEPTION_NONCONTINUABLE` is 1).
    pub flags: u32,
    /// `ExceptionAddress`: where it happened, in the captured process.
    pub address: usize,
    /// `ExceptionInformation`: at most 15 (`EXCEPTION_MAXIMUM_PARAMETERS`); more are cut.
    pub parameters: &'a [usize],
    /// The thread's registers at the fault. `None`: the context the snapshot captured for the
    /// thread (where the thread was at the capture, usually in the crash handler).
    ///
    /// Any `CONTEXT` will do: one the OS filled, or one built in safe code. On x64 the last 96
    /// bytes of its `Anonymous` union (`XSAVE_FORMAT.Reserved4`, past the end of the union's
    /// other variant, which safe code may have built instead) are written as zeros.
    pub context: Option<&'a sys::CONTEXT>,
}

impl core::fmt::Debug for DumpException<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DumpException")
            .field("thread_id", &self.thread_id)
            .field("code", &format_args!("{:#x}", self.code))
            .field("flags", &self.flags)
            .field("address", &format_args!("{:#x}", self.address))
            .field("parameters", &self.parameters)
            .field("context", &self.context.map(|_| "CONTEXT { .. }"))
            .finish()
    }
}

impl<'a> DumpException<'a> {
    /// An exception `code` at `address` on thread `thread_id`, without flags, parameters or
    /// context.
    pub fn new(thread_id: u32, code: u32, address: usize) -> Self {
        Self {
            thread_id,
            code,
            flags: 0,
            address,
            parameters: &[],
            context: None,
        }
    }

    /// With these `ExceptionInformation` values.
    pub fn parameters(mut self, parameters: &'a [usize]) -> Self {
        self.parameters = parameters;
        self
    }

    /// With the registers at the fault.
    pub fn context(mut self, context: &'a sys::CONTEXT) -> Self {
        self.context = Some(context);
        self
    }
}

/// What of the process's memory a dump holds, in the terms of dbghelp's `MINIDUMP_TYPE` and
/// ProcDump's switches. Every profile holds the same streams besides the memory (threads with
/// contexts, modules, handles, the memory description, ...): see
/// [`LocalSnapshot::minidump`], "Profiles".
///
/// # References
///
/// - [`MINIDUMP_TYPE`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ne-minidumpapiset-minidump_type)
/// - [ProcDump](https://learn.microsoft.com/en-us/sysinternals/downloads/procdump)
#[doc(alias = "MINIDUMP_TYPE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// Each thread's stack (from its stack pointer, at most
    /// [`stack_limit`](DumpWriter::stack_limit)), the TEBs and the PEB: what a crash pipeline
    /// needs to walk every thread (ProcDump `-mm`; dbghelp's `MiniDumpNormal` with the thread,
    /// handle and memory information).
    #[default]
    Small,
    /// [`Small`](Self::Small), and for each register and stack word that holds an address of
    /// readable memory, a window around it (128 bytes before, 512 in all, as crashpad), at
    /// most [`referenced_limit`](DumpWriter::referenced_limit) bytes: the objects the threads
    /// were working on (dbghelp's `MiniDumpWithIndirectlyReferencedMemory`).
    #[doc(alias = "MiniDumpWithIndirectlyReferencedMemory")]
    Referenced,
    /// Every private or writable committed region (heaps, stacks, TEBs, the PEB, writable
    /// mapped sections) and the writable pages of images (their data sections), but not code
    /// or read-only image pages or mapped files, which readers load from the files (ProcDump
    /// `-mp`, "MiniPlus"; dbghelp's `MiniDumpWithPrivateReadWriteMemory |
    /// MiniDumpWithDataSegs`). A Memory64 list, as a full dump's.
    #[doc(
        alias = "MiniDumpWithPrivateReadWriteMemory",
        alias = "MiniDumpWithDataSegs"
    )]
    Plus,
    /// Every readable committed byte of the address space, as a Memory64 list (ProcDump
    /// `-ma`; dbghelp's `MiniDumpWithFullMemory`).
    #[doc(alias = "MiniDumpWithFullMemory")]
    Full,
}

/// How far a dump has been written, for a progress callback
/// ([`DumpWriter::progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpProgress {
    /// The bytes written so far.
    pub written: u64,
    /// The bytes of the whole dump, as planned before the first was written.
    pub total: u64,
}

/// A minidump of a snapshot, written by `pss` itself: [`LocalSnapshot::minidump`] makes one,
/// the builder methods choose what it holds, [`write_to`](Self::write_to) writes it.
///
/// See [`LocalSnapshot::minidump`] for what the dump holds and when to prefer it to dbghelp.
#[derive(Clone, Copy)]
#[must_use = "a DumpWriter writes nothing until write_to is called"]
pub struct DumpWriter<'a, A: Allocation = HeapAllocated> {
    snapshot: &'a LocalSnapshot<A>,
    profile: Profile,
    stack_limit: usize,
    referenced_limit: usize,
    max_bytes: Option<u64>,
    exception: Option<DumpException<'a>>,
    redaction: Option<&'a dyn Redaction>,
    progress: Option<&'a dyn Fn(DumpProgress) -> ControlFlow<()>>,
}

impl<A: Allocation> core::fmt::Debug for DumpWriter<'_, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DumpWriter")
            .field("profile", &self.profile)
            .field("stack_limit", &self.stack_limit)
            .field("referenced_limit", &self.referenced_limit)
            .field("max_bytes", &self.max_bytes)
            .field("exception", &self.exception)
            .field("redaction", &self.redaction.is_some())
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

/// The default [`DumpWriter::stack_limit`]: 1 MiB, the default stack reservation of a Windows
/// thread, so a whole default stack fits.
pub const DEFAULT_STACK_LIMIT: usize = 0x10_0000;

/// The default [`DumpWriter::referenced_limit`]: 4 MiB of referenced memory at most (8,192
/// windows of 512 bytes).
pub const DEFAULT_REFERENCED_LIMIT: usize = 0x40_0000;

impl<'a, A: Allocation> DumpWriter<'a, A> {
    /// The memory the dump holds (default [`Profile::Small`]).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Every readable committed byte of the address space: [`Profile::Full`]
    /// (`.profile(Profile::Full)`; dbghelp's `MiniDumpWithFullMemory`). Needs
    /// [`VA_SPACE`](crate::CaptureFlags::VA_SPACE) and
    /// [`VA_CLONE`](crate::CaptureFlags::VA_CLONE).
    pub fn full_memory(self) -> Self {
        self.profile(Profile::Full)
    }

    /// Stack memory is written from each thread's stack pointer to the end of the region
    /// holding it, at most `bytes` (default [`DEFAULT_STACK_LIMIT`]).
    ///
    /// `0` writes no stack memory (the threads keep their contexts; nothing is reported
    /// missing). A stack's size in the format is a 32-bit field, so no stack is written beyond
    /// 4 GiB less a page whatever the limit (`usize::MAX`: whole stacks). All stacks together
    /// must fit the dump's first 4 GiB (a 64-bit list's regions aside): a dump whose stacks
    /// would not is [`DumpError::TooLarge`] at `"the thread stacks"`, found when it is laid out,
    /// before anything is read or written.
    pub fn stack_limit(mut self, bytes: usize) -> Self {
        self.stack_limit = bytes;
        self
    }

    /// [`Profile::Referenced`] holds at most `bytes` of referenced memory (default
    /// [`DEFAULT_REFERENCED_LIMIT`]).
    pub fn referenced_limit(mut self, bytes: usize) -> Self {
        self.referenced_limit = bytes;
        self
    }

    /// The whole dump is at most `bytes` long: memory (and the memory info list and handle
    /// data) is left out in a fixed order until it fits, and each part left out is named in
    /// [`DumpSummary::omissions`] ([`Omission::OverBudget`]). The thread list, the contexts
    /// and the modules are never left out: a budget smaller than they need is
    /// [`DumpError::OverBudget`], before anything is written. See
    /// [`LocalSnapshot::minidump`], "Size".
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Applies `policy` to the dump's memory: it decides, before the first byte is written,
    /// which planned ranges are kept, and may change every chunk of memory before it is
    /// written. See [`Redaction`], the ready-made [`StackScrubbing`] and [`ModuleAllowList`]
    /// (a pair of policies is a policy), and [`LocalSnapshot::minidump`], "Redaction".
    pub fn redact(mut self, policy: &'a dyn Redaction) -> Self {
        self.redaction = Some(policy);
        self
    }

    /// Calls `callback` as the dump is written: before the first byte, before each stream
    /// and before each chunk of memory (at most 64 KiB apart), with the bytes written so far
    /// and the planned total. Returning [`ControlFlow::Break`] cancels the write:
    /// [`DumpError::Cancelled`], and no valid dump (it is never called once the last byte is
    /// written). dbghelp's `CancelCallback` does the same.
    ///
    /// ```no_run,standalone_crate
    /// use std::ops::ControlFlow;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// # fn f(snapshot: &pss::LocalSnapshot, out: std::fs::File) -> Result<(), pss::DumpError> {
    /// let cancel = AtomicBool::new(false); // set by another thread, e.g. on shutdown
    /// let progress = |p: pss::DumpProgress| {
    ///     eprint!("\r{} of {} bytes", p.written, p.total);
    ///     if cancel.load(Ordering::Relaxed) {
    ///         ControlFlow::Break(())
    ///     } else {
    ///         ControlFlow::Continue(())
    ///     }
    /// };
    /// snapshot.minidump().full_memory().progress(&progress).write_to(out)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "CancelCallback")]
    pub fn progress(mut self, callback: &'a dyn Fn(DumpProgress) -> ControlFlow<()>) -> Self {
        self.progress = Some(callback);
        self
    }

    /// Adds an exception stream: the fault a crash reporter is reporting.
    pub fn exception(mut self, exception: DumpException<'a>) -> Self {
        self.exception = Some(exception);
        self
    }

    /// Writes the dump to `out`, strictly forward, and says what it holds.
    ///
    /// `out` is any [`Write`]: a file, a pipe, stdout, a socket, an HTTP request body, a
    /// compressor (`flate2`'s and `zstd`'s encoders). Nothing is asked of it but writes: the
    /// dump is planned whole before the first byte (streams, memory ranges, the policy's and
    /// the budget's decisions, every offset), then written from its header to its end, and
    /// its offsets count from the first byte written (a file opened for appending gets a dump
    /// from where it ended). `out` is written through an 8 KiB buffer, memory in chunks of at
    /// most 64 KiB; nothing is buffered whole, so the writer's memory does not grow with the
    /// dump (its plan grows with the threads, modules, handles and regions). Wrap a
    /// destination that is slow per call in a [`BufWriter`](std::io::BufWriter) of its own
    /// only if it needs more.
    ///
    /// Everything but the memory of a 64-bit list must lie in the first 4 GiB (the format's
    /// offsets are 32-bit): thread stacks (up to the [`stack_limit`](Self::stack_limit) each)
    /// can fill it, or, far behind, a snapshot of millions of handles or threads
    /// ([`DumpError::TooLarge`], before anything is written, says where and how much of it is
    /// stacks).
    ///
    /// What cannot be read (unreadable stacks, malformed module headers, memory the clone
    /// lacks) is left out and listed in [`DumpSummary::omissions`]; the dump is valid. Memory
    /// the plan found readable but that cannot be read when it is written is written as zeros,
    /// listed in the summary ([`Omission::ZeroFilled`]) and in the dump's own stream
    /// ([`DUMP_INFO_STREAM`], read with [`DumpInfo::read`]).
    ///
    /// # Errors
    ///
    /// Before the first byte: a failed query or walk of the snapshot ([`DumpError::Snapshot`]),
    /// [`DumpError::TooLarge`], [`DumpError::OverBudget`]; nothing was written. After it: a
    /// failed write ([`DumpError::Write`]) or a cancellation ([`DumpError::Cancelled`]). The
    /// destination has then received a prefix of the dump (what was flushed before the error;
    /// the rest is dropped), which is not a dump: it is shorter than the size its
    /// [`DUMP_INFO_STREAM`] records ([`DumpInfo::is_complete`] is false), and its memory lists
    /// point past its end. A stream cannot be taken back: a consumer forwarding the bytes (an
    /// upload) must abort it when `write_to` fails; [`write_to_path`](Self::write_to_path)
    /// removes its file.
    ///
    /// Kernel32 calls: the queries and walks the dump needs (process information, VA clone,
    /// threads, thread names, handles, address space), and `ReadProcessMemory` of the clone:
    /// the PEB, its loader list and module names, each module's headers, debug directory and
    /// CodeView record, one byte of each region the dump takes memory from (is it in the
    /// clone?), each stack again with [`Profile::Referenced`] (to find the addresses it holds), and then the memory itself, 64 KiB
    /// at a time.
    pub fn write_to<W: Write>(&self, out: W) -> Result<DumpSummary, DumpError> {
        streams::write(self, out)
    }

    /// Creates (or truncates) the file at `path` and [writes](Self::write_to) the dump to it;
    /// if that fails or is cancelled, removes the file.
    pub fn write_to_path(&self, path: impl AsRef<Path>) -> Result<DumpSummary, DumpError> {
        let path = path.as_ref();
        let result = File::create(path)
            .map_err(DumpError::from)
            .and_then(|file| self.write_to(file));
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

impl<A: Allocation> LocalSnapshot<A> {
    /// A minidump of this snapshot, written by `pss` (feature `dump-writer`):
    /// `snapshot.minidump().write_to(file)`.
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let pid = 1234;
    /// let flags = CaptureFlags::MINIDUMP;
    /// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    /// let snapshot = LocalSnapshot::capture(&process, flags)?;
    /// let summary = snapshot.minidump().write_to_path("editor.dmp")?;
    /// for omission in &summary.omissions {
    ///     eprintln!("not in the dump: {omission}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// A crash pipeline's upload: the plus profile, at most 8 MiB, stacks scrubbed and only the
    /// application's own modules' data, streamed into a compressor in front of the request
    /// body (any [`Write`]: nothing is buffered whole, and no temporary file is needed):
    ///
    /// ```no_run,standalone_crate
    /// use pss::{ModuleAllowList, Profile, StackScrubbing};
    ///
    /// # fn f(snapshot: &pss::LocalSnapshot, request_body: impl std::io::Write) -> Result<(), pss::DumpError> {
    /// let policy = (StackScrubbing, ModuleAllowList::new(["editor.exe", "editor-core.dll"]));
    /// let summary = snapshot
    ///     .minidump()
    ///     .profile(Profile::Plus)
    ///     .max_bytes(8 << 20)
    ///     .redact(&policy)
    ///     .write_to(request_body)?; // e.g. flate2::write::GzEncoder::new(body, ..)
    /// # Ok(()) }
    /// ```
    ///
    /// # What the dump holds
    ///
    /// | stream | from | needs |
    /// |---|---|---|
    /// | system information: architecture, Windows version, processors | this build's architecture; the PEB, through the VA clone; the CPU (`cpuid`, x86 and x64) | `VA_CLONE` for the version |
    /// | misc information: process id, creation time, CPU times | process information | — |
    /// | thread list: ids, suspend counts, priorities, TEB addresses, contexts, stack memory (from the stack pointer to the end of its region, at most [`stack_limit`](DumpWriter::stack_limit)) | the thread walk; stacks through the VA clone | `THREADS`, `THREAD_CONTEXT`; `VA_SPACE` and `VA_CLONE` for stacks |
    /// | thread info list: times, start address, affinity, exit status | the thread walk | `THREADS` |
    /// | thread names | the thread-name walk, where kernel32 knows it (24H2) | `THREADS` |
    /// | module list: base, size, time stamp, checksum, CodeView record (PDB name, GUID, age), name | image regions; PE headers and the debug directory through the VA clone; names from the loader's list (DOS paths), else the regions' (NT paths, turned into DOS paths where the loader's names show the device's drive) | `VA_SPACE`, `VA_SPACE_SECTION_INFORMATION`; `VA_CLONE` for headers and DOS names |
    /// | memory info list | the address-space walk | `VA_SPACE` |
    /// | memory list (small, referenced): stacks, TEBs, the PEB, the process parameters and their strings, the environment block, referenced memory; or Memory64 list (plus, full): regions (see "Profiles") | the VA clone ([`LocalSnapshot::process_parameters`] for the parameters) | `VA_CLONE`, `VA_SPACE` |
    /// | handle data: values, types, names, attributes, access, counts | the handle walk | `HANDLES` and the handle-detail flags |
    /// | exception | [`DumpWriter::exception`]: one the caller builds, or reads from the target with [`TargetException::read`] | `THREADS` and `VA_CLONE` to read one |
    /// | dump information ([`DUMP_INFO_STREAM`], a user stream): the complete dump's size, the profile, whether a budget or a policy left memory out, the memory written as zeros | the writer | — |
    ///
    /// [`CaptureFlags::MINIDUMP`](crate::CaptureFlags::MINIDUMP) has every flag the
    /// table names. A part the snapshot was captured without is left out and named in
    /// [`DumpSummary::omissions`] ([`Omission::NotCaptured`]).
    ///
    /// Contexts are written without the extended (AVX) state. A WOW64 target (a 32-bit process
    /// captured by a 64-bit one) is written in the native view PSS captures: 64-bit contexts
    /// (the threads as the WOW64 layer sees them, not the 32-bit code's registers), every
    /// image, 32- and 64-bit, in the module list, and the 64-bit PEB's names. Stack walkers
    /// that follow the 64-bit contexts stop at the WOW64 layer; the 32-bit stacks are in a
    /// full dump's memory.
    ///
    /// # Profiles
    ///
    /// [`DumpWriter::profile`] chooses the memory, in the terms of dbghelp's `MINIDUMP_TYPE` and
    /// ProcDump's switches; every profile holds the same streams besides. Sizes for the
    /// kernel32 model's `service_process` (a 256 MiB heap in eight regions, four images in
    /// sections, two threads, a read-only mapped file and a writable section; `cargo xtask
    /// bench --dump` prints them):
    ///
    /// | [`Profile`] | memory | dbghelp | ProcDump | size |
    /// |---|---|---|---|---:|
    /// | [`Small`](Profile::Small) (default) | each stack from its stack pointer (at most [`stack_limit`](DumpWriter::stack_limit)), the TEBs, the PEB, the process parameters with their strings (command line, image path, current directory, ...) and the environment block | `MiniDumpNormal` | `-mm` | 30,256 bytes |
    /// | [`Referenced`](Profile::Referenced) | and 512 bytes around each address a register or stack word holds (at most [`referenced_limit`](DumpWriter::referenced_limit)) | `MiniDumpWithIndirectlyReferencedMemory` | — | 34,208 bytes |
    /// | [`Plus`](Profile::Plus) | every private or writable committed region, and images' writable pages; no code, read-only image pages or mapped files | `MiniDumpWithPrivateReadWriteMemory` \| `MiniDumpWithDataSegs` | `-mp` | 269,462,712 bytes |
    /// | [`Full`](Profile::Full) | every readable committed region | `MiniDumpWithFullMemory` | `-ma` | 272,161,992 bytes |
    ///
    /// Small and referenced dumps hold a memory list (readers drop overlapping ranges: the
    /// writer joins adjacent ones and never lists a byte twice); plus and full dumps a Memory64
    /// list, with each thread's stack copied once more before it (see "Compared with dbghelp").
    ///
    /// # Size
    ///
    /// [`DumpWriter::max_bytes`]`(n)` keeps the whole dump at or under `n` bytes (plus, at a
    /// quarter of its size above: 67,361,896 bytes of a budget of 67,365,678). Never left out:
    /// the header and directory, the system, misc and dump information, the thread list with
    /// every context, the thread info list and names, the module list with names and CodeView
    /// records, the exception; a budget below them is [`DumpError::OverBudget`] before
    /// anything is written, naming what they need. Then the budget gives bytes, in this order
    /// (what comes last is left out first):
    ///
    /// 1. the stacks, innermost bytes first and round-robin over the threads (each thread's
    ///    first 4 KiB, then up to 16 KiB, 64 KiB, then the rest): every thread keeps its
    ///    innermost frames before any keeps deeper ones;
    /// 2. the TEBs, the PEB, the process parameters (each string) and the environment block,
    ///    each whole or not at all;
    /// 3. the memory info list, then the handle data, each whole or not at all;
    /// 4. referenced memory, each window whole or not at all, in address order;
    /// 5. the regions of a plus or full dump: those holding a stack, a TEB or the PEB, then
    ///    private memory, images' writable pages, other writable memory, and the rest; each
    ///    whole, or as many of its pages as fit.
    ///
    /// Each range or stream left out is named in [`DumpSummary::omissions`]
    /// ([`Omission::OverBudget`]) and flagged in the dump's [`DUMP_INFO_STREAM`].
    ///
    /// # Streaming
    ///
    /// [`DumpWriter::write_to`] writes strictly forward into any [`Write`]: the dump is planned
    /// whole first (every stream, every memory range, the policy's and the budget's
    /// decisions, every offset: crashpad's writer does the same), then written from its first
    /// byte to its last, the memory read from the VA clone in chunks of at most 64 KiB as it
    /// is written. The heap it uses grows with the threads, modules, handles and regions, not
    /// with the dump (84,287 bytes at 16 MiB as at 256 MiB in the benchmark), and a full dump
    /// costs what an `io::copy` of its memory out of the clone costs (`cargo xtask bench`:
    /// 1.10x at most, enforced, plain and into a compressor). [`DumpWriter::progress`]
    /// reports the bytes written against the planned total, and can cancel.
    ///
    /// A write that fails or is cancelled leaves the destination with a prefix of the dump,
    /// which is not a dump: see [`DumpWriter::write_to`], "Errors".
    ///
    /// # Memory that could not be read
    ///
    /// The plan reads one byte of each region the dump takes memory from (a region the clone
    /// lacks, such as an anonymous shared section, is left out and named:
    /// [`Omission::Memory`]). Should a read still fail when the memory is written, the dump
    /// keeps its planned layout and holds zeros there, and says so twice: in
    /// [`DumpSummary::omissions`] ([`Omission::ZeroFilled`]) and in the dump itself, in the
    /// unread table its [`DUMP_INFO_STREAM`] points to ([`DumpInfo::read`] reads it). No dump
    /// claims bytes it did not read without saying so.
    ///
    /// # Redaction
    ///
    /// [`DumpWriter::redact`] applies a [`Redaction`] policy to the memory: at plan time it
    /// keeps each planned range, writes zeros in its place, or leaves it out (out of every
    /// memory list, so the dump never shows zeros as the process's bytes unless the policy
    /// asked for zeros); at write time it sees every chunk of kept memory, and may change it.
    /// Ready-made: [`StackScrubbing`] (crashpad's and minidump-writer's stack sanitisation: in
    /// every stack, each word that points into a module or a stack is kept, the rest zeroed)
    /// and [`ModuleAllowList`] (the stacks, TEBs, PEB and process parameters, and the named
    /// modules' memory; no heap, no other module's data, no mapped file, no environment block).
    /// A range a policy leaves out is left out of everything planned after it too: the
    /// environment block stays out of a plus or full dump even where the region holding it is
    /// kept.
    ///
    /// What it guarantees: every byte of the dump's memory lists (the thread list's stacks
    /// included) is one the policy kept and then saw, and nothing the policy left out is in
    /// them; with both ready-made policies, a secret in the heap, in the environment, in any
    /// module's data but the named ones', or in a stack word that does not look like an
    /// address is not in the dump (the tests plant one and search the dump's bytes).
    ///
    /// What it does not: redaction works on memory only. The thread contexts (and the
    /// exception's) hold every register as it was, and registers can hold secrets; module
    /// paths and CodeView records (user and build-machine names), handle names (file paths,
    /// registry keys, named objects), thread names, the memory description (the layout of
    /// the address space) and the exception record are written as they are. Stack scrubbing
    /// keeps a word that happens to look like an address of a module or stack (more likely
    /// in a 32-bit process, whose addresses are 4 bytes any text can resemble); the TEBs, the
    /// PEB and the process parameters are kept by the allow-list (thread-local pointers, the
    /// last error; the command line, which some programs are given passwords on: a policy of
    /// your own can leave [`MemoryContent::ProcessParameters`] out). Compression is not
    /// encryption.
    ///
    /// # Which writer
    ///
    /// dbghelp's `MiniDumpWriteDump` (feature `dbghelp`,
    /// `write_minidump`) is the reference, writes more streams (module version resources,
    /// unloaded modules, the extended context) and every dbghelp version's quirks. This writer
    /// needs no dbghelp: it writes to anything (a pipe, a socket, a compressor, an upload,
    /// strictly forward), keeps a dump within a budget, redacts it, runs on several threads
    /// at once (every dbghelp function is single-threaded, and races every other user of
    /// dbghelp in the process), behaves the same whatever dbghelp is installed, and is tested
    /// off Windows against the kernel32 model with rust-minidump's reader and stack walker.
    ///
    /// # Compared with dbghelp
    ///
    /// `cargo xtask dump` writes both dumps of one snapshot and compares them stream by stream
    /// (on Windows through the real dbghelp, here through the kernel32 model's stand-in). The
    /// system information, process, threads (TEBs, registers, stacks), module sizes, time
    /// stamps, checksums and CodeView records, memory description, handles and memory bytes
    /// are the same. The differences, all intended:
    ///
    /// - **Module names**: pss names a module with the loader's DOS path (`C:\...`), or the
    ///   region's NT path (`\Device\HarddiskVolume3\...`) turned into one, as debuggers show
    ///   them; the model's stand-in writes the NT paths the snapshot holds. What the real
    ///   dbghelp writes for a snapshot is not documented: `cargo xtask windows` shows it.
    /// - **Streams**: pss always writes the thread info list, its own dump information stream
    ///   ([`DUMP_INFO_STREAM`]), and the handle data and memory info list whenever the snapshot
    ///   has them (and the budget keeps them), also in a small dump; dbghelp writes what its
    ///   `MINIDUMP_TYPE` asks for, and streams pss does not write (module version resources,
    ///   unloaded modules, the token, the extended context).
    /// - **Small dumps' ranges**: pss joins adjacent ranges and lists each byte once (a TEB
    ///   inside a stack is part of the stack's range); where both hold bytes they are the
    ///   same.
    /// - **Stack bounds**: pss writes a stack from the stack pointer to the end of its region
    ///   (at most [`stack_limit`](DumpWriter::stack_limit)); another writer may start lower or
    ///   stop sooner. Where both hold bytes they are the same.
    /// - **Stacks in a full dump**: pss writes each stack once more before the memory, so a
    ///   thread's stack stays addressable by the format's 32-bit offsets however large the
    ///   memory; dbghelp points into the memory. The bytes are the same.
    /// - **Context flags**: pss clears the bits Windows sets above the architecture's (and
    ///   `CONTEXT_XSTATE`), which readers reject; the registers are the same.
    ///
    /// # Security
    ///
    /// A dump holds the process's memory: a full dump everything it had (keys, passwords,
    /// tokens, documents), a small one its stacks, which hold some of it. Redaction (above)
    /// removes what a policy names from the memory, not from the registers, names and paths.
    /// Store and send dumps as the secrets they are: restrictive file permissions, encrypted
    /// transport, limited retention, and the user's consent where they leave the machine.
    ///
    /// # References
    ///
    /// - [`MINIDUMP_HEADER`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_header) and the structures it links
    #[doc(alias = "MiniDumpWriteDump", alias = "MINIDUMP_HEADER")]
    pub fn minidump(&self) -> DumpWriter<'_, A> {
        DumpWriter {
            snapshot: self,
            profile: Profile::Small,
            stack_limit: DEFAULT_STACK_LIMIT,
            referenced_limit: DEFAULT_REFERENCED_LIMIT,
            max_bytes: None,
            exception: None,
            redaction: None,
            progress: None,
        }
    }
}
