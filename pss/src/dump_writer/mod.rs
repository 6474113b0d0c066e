//! `pss`'s own minidump writer (cargo feature `dump-writer`): from a snapshot to any
//! [`Write`] + [`Seek`], without dbghelp.

mod context;
mod file;
mod handles;
mod loader;
mod memory;
mod modules;
mod pe;
mod streams;
mod summary;
mod threads;

use std::fs::File;
use std::io::{Seek, Write};
use std::path::Path;

use pss_sys as sys;

use crate::{Allocation, HeapAllocated, LocalSnapshot};

pub use summary::{DumpError, DumpSummary, Omission};

/// The exception a crash reporter has in hand, for a dump's exception stream: which thread
/// faulted, the exception record, and optionally the context at the fault.
///
/// The snapshot itself holds no exception: a crash reporter gets it from the crashing process
/// (an `EXCEPTION_POINTERS` it sends, or reads through the VA clone).
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

/// A minidump of a snapshot, written by `pss` itself: [`LocalSnapshot::minidump`] makes one,
/// [`write_to`](Self::write_to) writes it.
///
/// See [`LocalSnapshot::minidump`] for what the dump holds and when to prefer it to dbghelp.
#[derive(Debug, Clone, Copy)]
#[must_use = "a DumpWriter writes nothing until write_to is called"]
pub struct DumpWriter<'a, A: Allocation = HeapAllocated> {
    snapshot: &'a LocalSnapshot<A>,
    full_memory: bool,
    stack_limit: usize,
    exception: Option<DumpException<'a>>,
}

/// The default [`DumpWriter::stack_limit`]: 1 MiB, the default stack reservation of a Windows
/// thread, so a whole default stack fits.
pub const DEFAULT_STACK_LIMIT: usize = 0x10_0000;

impl<'a, A: Allocation> DumpWriter<'a, A> {
    /// Every readable committed byte of the address space, as a Memory64 list (dbghelp's
    /// `MiniDumpWithFullMemory`), instead of the stacks, TEBs and PEB alone. Needs
    /// [`VA_SPACE`](crate::CaptureFlags::VA_SPACE) and
    /// [`VA_CLONE`](crate::CaptureFlags::VA_CLONE).
    pub fn full_memory(mut self) -> Self {
        self.full_memory = true;
        self
    }

    /// Stack memory is written from each thread's stack pointer to the end of the region
    /// holding it, at most `bytes` (default [`DEFAULT_STACK_LIMIT`]).
    ///
    /// `0` writes no stack memory (the threads keep their contexts; nothing is reported
    /// missing). A stack's size in the format is a 32-bit field, so no stack is written beyond
    /// 4 GiB − 1 bytes whatever the limit (`usize::MAX`: whole stacks). All stacks together
    /// must fit the dump's first 4 GiB: a stack that would not is refused before it is copied,
    /// [`DumpError::TooLarge`] at `"the thread stacks"`.
    pub fn stack_limit(mut self, bytes: usize) -> Self {
        self.stack_limit = bytes;
        self
    }

    /// Adds an exception stream: the fault a crash reporter is reporting.
    pub fn exception(mut self, exception: DumpException<'a>) -> Self {
        self.exception = Some(exception);
        self
    }

    /// Writes the dump to `out`, from its current position on, and says what it holds.
    ///
    /// `out`'s writes must go where it seeks: the writer seeks back to fill in the header (and a
    /// full dump's memory list). A destination whose writes do not (a file opened in append
    /// mode) is [`DumpError::Position`], found before the dump is written; the positions are
    /// checked again at every seek.
    ///
    /// Memory is read from the VA clone and written in 64 KiB chunks, never buffered whole:
    /// the writer's memory use does not grow with the dump. Everything but the memory of a full
    /// dump must fit in the first 4 GiB (the format's offsets are 32-bit): thread stacks (up to
    /// the [`stack_limit`](Self::stack_limit) each) can fill it, or, far behind, a snapshot of
    /// millions of handles or threads ([`DumpError::TooLarge`] says where and how much of it is
    /// stacks).
    ///
    /// What cannot be read (unreadable stacks, malformed module headers, memory the clone
    /// lacks) is left out and listed in [`DumpSummary::omissions`]; the dump is valid. An error
    /// means no dump: a failed query or walk of the snapshot, or a failed write. What was
    /// written then has a header of zeros (the header is written last), which no reader takes
    /// for a minidump.
    ///
    /// Kernel32 calls: the queries and walks the dump needs (process information, VA clone,
    /// threads, thread names, handles, address space), and `ReadProcessMemory` of the clone:
    /// the PEB, its loader list and module names, each module's headers, debug directory and
    /// CodeView record, each thread's stack and TEB, and in a full dump every readable region,
    /// 64 KiB at a time.
    pub fn write_to<W: Write + Seek>(&self, out: W) -> Result<DumpSummary, DumpError> {
        streams::write(self, out)
    }

    /// Creates (or truncates) the file at `path` and [writes](Self::write_to) the dump to it;
    /// if that fails, removes the file.
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
    /// | memory list: stacks, TEBs, the PEB; or, with [`full_memory`](DumpWriter::full_memory), a Memory64 list of every readable committed region | the VA clone | `VA_CLONE`, `VA_SPACE` |
    /// | handle data: values, types, names, attributes, access, counts | the handle walk | `HANDLES` and the handle-detail flags |
    /// | exception | [`DumpWriter::exception`] | — |
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
    /// # Which writer
    ///
    /// dbghelp's `MiniDumpWriteDump` (feature `dbghelp`,
    /// `write_minidump`) is the reference, writes more streams (module version resources,
    /// unloaded modules, the extended context) and every dbghelp version's quirks. This writer
    /// needs no dbghelp: it writes to anything (a socket, a compressor, an upload), runs on
    /// several threads at once (every dbghelp function is single-threaded, and races every
    /// other user of dbghelp in the process), behaves the same whatever dbghelp is installed,
    /// and is tested off Windows against the kernel32 model with rust-minidump's reader and
    /// stack walker.
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
    /// - **Streams**: pss always writes the thread info list, and the handle data and memory
    ///   info list whenever the snapshot has them, also in a small dump; dbghelp writes what its
    ///   `MINIDUMP_TYPE` asks for, and streams pss does not write (module version resources,
    ///   unloaded modules, the token, the extended context).
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
    /// tokens, documents), a small one its stacks, which hold some of it. Store and send dumps
    /// as the secrets they are: restrictive file permissions, encrypted transport, limited
    /// retention, and the user's consent where they leave the machine.
    ///
    /// # References
    ///
    /// - [`MINIDUMP_HEADER`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ns-minidumpapiset-minidump_header) and the structures it links
    #[doc(alias = "MiniDumpWriteDump", alias = "MINIDUMP_HEADER")]
    pub fn minidump(&self) -> DumpWriter<'_, A> {
        DumpWriter {
            snapshot: self,
            full_memory: false,
            stack_limit: DEFAULT_STACK_LIMIT,
            exception: None,
        }
    }
}
