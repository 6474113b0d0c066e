//! Safe, ownership-typed interface to the Windows [Process Snapshotting] API (PSS), available
//! in kernel32 since Windows 8.1.
//!
//! # What a snapshot is
//!
//! [`PssCaptureSnapshot`] records the state of a process — its threads (and their register
//! contexts), handles, address-space layout, and optionally a copy-on-write clone of its
//! memory (the "VA clone") — while the process keeps running. Tools then read the snapshot
//! instead of the live process: crash reporters, diagnostics and dump tools (a snapshot can be
//! given to `MiniDumpWriteDump`), process monitors.
//!
//! The result is a snapshot handle, `HPSS`. It is not a kernel handle: it is a descriptor in
//! the address space of one process, must be freed exactly once with [`PssFreeSnapshot`]
//! through a handle to *that* process, and freeing it twice is undefined behaviour. This crate
//! makes those rules impossible to break without `unsafe`.
//!
//! # Local and remote snapshots
//!
//! - A [`LocalSnapshot`] lives in this process. Every captured snapshot is local, whatever
//!   process it was taken of. It is freed with `PssFreeSnapshot(GetCurrentProcess(), h)`, and
//!   it can be read: queries and walks, below.
//! - A [`RemoteSnapshot`] lives in another process, where
//!   [`duplicate_into`](LocalSnapshot::duplicate_into) or [`move_into`](LocalSnapshot::move_into)
//!   put it. It holds the handle to that process and is freed through it. It cannot be read
//!   from here, only duplicated back, freed, or handed over.
//!
//! A type parameter records whether a local snapshot was captured with
//! `PSS_CREATE_USE_VM_ALLOCATIONS` ([`VmAllocated`]) or not ([`HeapAllocated`]); only the former
//! can be *moved* into another process, and the compiler checks it.
//!
//! # Reading a snapshot
//!
//! - **Queries** (single-instance data, one `PssQuerySnapshot` call each) are methods of
//!   [`LocalSnapshot`]: [`process_information`](LocalSnapshot::process_information),
//!   [`va_clone`](LocalSnapshot::va_clone), [`auxiliary_page_count`](LocalSnapshot::auxiliary_page_count),
//!   [`region_count`](LocalSnapshot::region_count), [`handle_count`](LocalSnapshot::handle_count),
//!   [`thread_information`](LocalSnapshot::thread_information),
//!   [`handle_trace`](LocalSnapshot::handle_trace),
//!   [`performance_counters`](LocalSnapshot::performance_counters). Information the snapshot
//!   was captured without is [`ErrorKind::NotCaptured`], naming the flag that would have
//!   provided it; where another cause is possible too (threads of a process that had exited,
//!   a handle trace the process never kept), [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND) with the causes in
//!   [`Error::reason`].
//! - **Walks** (multi-instance data) own a walk marker and borrow the snapshot:
//!   [`threads`](LocalSnapshot::threads), [`handles`](LocalSnapshot::handles),
//!   [`va_space`](LocalSnapshot::va_space), [`auxiliary_pages`](LocalSnapshot::auxiliary_pages)
//!   and, where kernel32 knows the class (Windows 11 24H2 and later, plausibly),
//!   [`thread_names`](LocalSnapshot::thread_names) give a [`Walk`], whose [`iter`](Walk::iter) makes one `PssWalkSnapshot` call per entry and
//!   allocates nothing, at close to the cost of a raw loop ([`Entries::try_for_each_ref`],
//!   [`Entries::next_ref`]). Entries are the structure kernel32 filled: their strings, context
//!   records and page contents stay in the marker's memory, for as long as the documents
//!   guarantee them, and are read only when asked for; `into_owned` copies them. Times are
//!   [`FileTime`]s, exact and converted only on request.
//!   Positions can be saved and restored on the same walk, and a walk can use a custom
//!   [`WalkAllocator`].
//! - **Through the VA clone**, the PEB and what it points to, read as hostile memory:
//!   [`main_image`](LocalSnapshot::main_image), and
//!   [`process_parameters`](LocalSnapshot::process_parameters) (command line, image path,
//!   current directory, environment).
//! - **The 32-bit view of a WOW64 target** (a 32-bit process captured by a 64-bit one):
//!   [`wow64`](LocalSnapshot::wow64) reads its 32-bit PEB, loader list, TEBs and x86 registers
//!   through the VA clone ([`Wow64View`], module [`wow64`]).
//!
//! # Freeing
//!
//! Drop a snapshot to free it; a failure is ignored. Call `close` to free it and see the result.
//! Either way it is freed once: after a failed free it is considered gone (it may leak), never
//! freed again.
//!
//! # Programs
//!
//! Three complete programs, for what `pss` is most often for.
//!
//! **The parent of a process** (one capture with no flags, one query):
//!
//! ```no_run,standalone_crate
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let pid: u32 = match std::env::args().nth(1) {
//!         Some(pid) => pid.parse()?,
//!         None => std::process::id(),
//!     };
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(CaptureFlags::NONE))?;
//!     let snapshot = LocalSnapshot::capture(&process, CaptureFlags::NONE)?;
//!     let info = snapshot.process_information()?;
//!     let image = info.image_file_name().map_or("?".into(), |name| name.to_string_lossy());
//!     println!("{pid} ({image}): parent {}", info.parent_process_id());
//!     Ok(())
//! }
//! ```
//!
//! **The threads of another process**, with where each one is (thread contexts) and the
//! terminated ones that open handles keep alive:
//!
//! ```no_run,standalone_crate
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     if !pss::is_available() {
//!         return Err("this Windows has no Process Snapshotting API (before 8.1)".into());
//!     }
//!     let pid: u32 = std::env::args().nth(1).ok_or("usage: threads <pid>")?.parse()?;
//!     let flags = CaptureFlags::THREADS | CaptureFlags::THREAD_CONTEXT;
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
//!     let snapshot = LocalSnapshot::capture(&process, flags)?;
//!     for thread in &snapshot.threads()? {
//!         let thread = thread?;
//!         let created = thread.create_time().map_or("?".into(), |t| t.to_string());
//!         match thread.instruction_pointer() {
//!             _ if thread.is_terminated() => {
//!                 println!("{:>6} {:?}", thread.thread_id(), thread.exit_status());
//!             }
//!             Some(ip) => println!("{:>6} at {ip:#x}, since {created}", thread.thread_id()),
//!             None => println!("{:>6} (no context), since {created}", thread.thread_id()),
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! **A minidump of a process** (feature `dbghelp`; see
//! [`LocalSnapshot::write_minidump`](LocalSnapshot#method.write_minidump)): the process runs on
//! while the dump is written from the snapshot. The same code on every host (off Windows, it
//! runs against the kernel32 model of `pss-tests`):
//!
//! ```no_run,standalone_crate
//! # #[cfg(feature = "dbghelp")]
//! use pss::{CaptureFlags, LocalSnapshot, MinidumpType, ProcessAccess};
//!
//! # #[cfg(feature = "dbghelp")]
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let pid: u32 = std::env::args().nth(1).ok_or("usage: dump <pid> <file>")?.parse()?;
//!     let path = std::env::args().nth(2).ok_or("usage: dump <pid> <file>")?;
//!     let flags = CaptureFlags::MINIDUMP;
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
//!     let snapshot = LocalSnapshot::capture(&process, flags)?;
//!     snapshot.write_minidump_to_path(&path, MinidumpType::FULL)?;
//!     println!("wrote {path}");
//!     Ok(())
//! }
//! # #[cfg(not(feature = "dbghelp"))]
//! # fn main() {}
//! ```
//!
//! # Recipes
//!
//! **A crash watchdog.** It watches another process and, when that one hangs or crashes,
//! records where every thread was, what it held, and a dump. Which flags: what it will read,
//! and no more ([`CaptureFlags::DIAGNOSTICS`]: threads with contexts, handles, the address
//! space, no memory; [`CaptureFlags::MINIDUMP`] adds the VA clone, for stacks and a full dump).
//! Which rights: [`ProcessAccess::for_capture`] of those flags, asked once, when the watch
//! starts (a process that is dying may not be openable any more). Which capture:
//! [`LocalSnapshot::capture`], not `capture_vm`: the snapshot lives in the watchdog, which is
//! healthy (`capture_vm` is for moving a snapshot into another process, or for capturing
//! yourself on a crash path). And every way a dying target fails, handled in one place:
//!
//! ```no_run,standalone_crate
//! use pss::{CaptureFlags, CaptureOptions, LocalSnapshot, Process, ProcessAccess};
//!
//! /// Captures `process` for a report; `None` if it is gone, with its exit code printed.
//! fn capture_for_report(process: &Process) -> pss::Result<Option<LocalSnapshot>> {
//!     let full = CaptureOptions::new(CaptureFlags::MINIDUMP).retry_handle_race(3);
//!     match LocalSnapshot::capture(process, full) {
//!         Ok(snapshot) => Ok(Some(snapshot)),
//!         // Exited: its memory, handles and address space are gone, and the error says so
//!         // (no second capture needed to tell it from missing rights or a busy handle table).
//!         Err(e) => match e.target_exit_code() {
//!             Some(code) => {
//!                 eprintln!("the process ended with exit code {code}");
//!                 Ok(None)
//!             }
//!             None => Err(e),
//!         },
//!     }
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let pid: u32 = std::env::args().nth(1).ok_or("usage: watchdog <pid>")?.parse()?;
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(CaptureFlags::MINIDUMP))?;
//!     // ... wait until the process hangs or crashes, then:
//!     if let Some(snapshot) = capture_for_report(&process)? {
//!         for thread in &snapshot.threads()? {
//!             let thread = thread?;
//!             let ip = thread.instruction_pointer().unwrap_or(0);
//!             let sp = thread.stack_pointer().unwrap_or(0);
//!             println!("thread {:>6}: ip {ip:#x} sp {sp:#x}", thread.thread_id());
//!         }
//!         let image = snapshot.main_image()?;
//!         println!("main image at {:#x}, {} bytes", image.base, image.size);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! **A process monitor.** It captures many processes often, so each capture must be cheap:
//! [`CaptureFlags::NONE`] (process information: times, memory counters, the parent) or
//! `THREADS` and `HANDLES` for counts. `VA_CLONE` only for a sample that must read memory (the
//! main image, [`main_image`](LocalSnapshot::main_image), reads the PEB through it): it costs
//! the target copy-on-write memory until the snapshot is freed. Open with
//! [`ProcessAccess::for_capture`] of those flags (for `NONE`,
//! [`ProcessAccess::QUERY_LIMITED_INFORMATION`], which even protected processes grant), and
//! free each snapshot before the next (the command line needs `VA_CLONE` too: read it once per
//! process):
//!
//! ```no_run,standalone_crate
//! use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
//!
//! fn sample(pid: u32) -> pss::Result<(u32, usize)> {
//!     let flags = CaptureFlags::THREADS;
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
//!     let snapshot = LocalSnapshot::capture(&process, flags)?;
//!     let threads = snapshot.thread_information()?.threads_captured;
//!     let working_set = snapshot.process_information()?.memory().working_set_size;
//!     snapshot.close()?; // freed before the next sample, reporting a failure
//!     Ok((threads, working_set))
//! }
//!
//! /// The command line, read once per process (it needs the VA clone, which a sample avoids).
//! fn command_line(pid: u32) -> pss::Result<String> {
//!     let process = pss::open_process(pid, ProcessAccess::for_capture(CaptureFlags::VA_CLONE))?;
//!     let snapshot = LocalSnapshot::capture(&process, CaptureFlags::VA_CLONE)?;
//!     Ok(snapshot.process_parameters()?.command_line()?.to_string_lossy())
//! }
//! # fn main() {}
//! ```
//!
//! **A dump tool** (feature `dbghelp`): capture with [`CaptureFlags::MINIDUMP`], then
//! [`write_minidump_to_path`](LocalSnapshot#method.write_minidump_to_path), as the third program
//! above; or, with the feature `dump-writer`, `snapshot.minidump().write_to_path(path)`, `pss`'s
//! own writer (no dbghelp, several dumps at once, any `Write`, profiles, a budget, redaction; see
//! [`LocalSnapshot::minidump`](LocalSnapshot#method.minidump) for what it holds and how it
//! compares). The [`pssdump`](https://github.com/pss-rs/pss/blob/main/pss/examples/pssdump.rs)
//! example is a complete one, with either writer. Dumps hold everything the process held, secrets included: see
//! [Dual use](#dual-use).
//!
//! **An out-of-process crash handler** (feature `dump-writer`), built as crashpad, Breakpad and
//! WER are: a small client in the application catches the crash (an unhandled-exception filter
//! or a vectored handler), tells a handler process "thread T faulted, its `EXCEPTION_POINTERS`
//! are at A" (its own `GetCurrentThreadId()` and pointer, through a pipe or shared memory) and
//! waits. The handler opened the application with [`ProcessAccess::for_capture`] when it
//! started (a crashing process may no longer be openable); on the message it captures, reads the
//! exception from the snapshot with `TargetException::read` (in the target's layout: a WOW64
//! target's structures are 32-bit), writes the dump with it, and releases the client. The VA
//! clone keeps what the pointers point at, so the client may go on (or the process end) as soon
//! as the capture returns. rust-minidump's processor then reports the crash reason and address
//! and walks the crashing thread from the fault's registers, not from the handler's wait (for a
//! WOW64 target the dump is the native view, which has the record but walks the thread's
//! captured 64-bit context):
//!
//! ```no_run,standalone_crate
//! # #[cfg(feature = "dump-writer")]
//! use pss::{CaptureFlags, LocalSnapshot, Process, TargetException};
//!
//! /// The client's message: thread `thread_id` faulted, its EXCEPTION_POINTERS are at `pointers`.
//! # #[cfg(feature = "dump-writer")]
//! fn on_crash(process: &Process, thread_id: u32, pointers: usize) -> Result<(), Box<dyn std::error::Error>> {
//!     let snapshot = LocalSnapshot::capture(process, CaptureFlags::MINIDUMP)?;
//!     // (Release the client here: the snapshot holds what it pointed at.)
//!     let crash = TargetException::read(&snapshot, thread_id, pointers)?;
//!     let record = crash.record();
//!     eprintln!("thread {thread_id}: exception {:#x} at {:#x}", record.code(), record.address());
//!     let dump = snapshot.minidump().exception(crash.dump_exception());
//!     dump.write_to_path(format!("crash-{thread_id}.dmp"))?;
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! The client's memory is not trusted: a pointer that leads nowhere, a record that claims more
//! than 15 parameters, a nested-record chain that loops give an `ExceptionError` naming the
//! structure and its address (never a panic), and the handler can still write the dump, with a
//! `DumpException` it builds itself or without one.
//!
//! Duplicating and freeing: `snapshot.duplicate()?` makes a second, independent owner;
//! `snapshot.close()?` frees and reports the result; dropping frees and ignores it.
//!
//! # Capturing processes that are exiting or busy
//!
//! A crash reporter's target is often on its way out, and a monitor's is often busy. Windows
//! captures a process part by part (process information, auxiliary pages, address space, VA
//! clone, handles, threads), without stopping it, and the first part that fails fails the whole
//! capture; nothing is left behind. What is seen to fail, and what helps
//! ([`Error::reason`] names these causes when the code and flags point to them):
//!
//! | target | flags | error | what helps |
//! |---|---|---|---|
//! | opened a handle while being captured | `HANDLES` | [`ErrorCode::BAD_LENGTH`] (Windows reads the handle table's size, then the table, and fails if it grew) | retrying: [`CaptureOptions::retry_handle_race`] retries exactly this, a bounded number of times |
//! | has exited (its threads, handle table and address space are gone) | `HANDLES` | [`ErrorCode::BAD_LENGTH`] (an empty handle table fails the same way), with [`Error::target_exit_code`] | nothing: capture without `HANDLES` |
//! | has exited | `VA_SPACE` | [`ErrorCode::INVALID_PARAMETER`], with [`Error::target_exit_code`] | nothing: capture without `VA_SPACE` |
//! | has exited | `VA_CLONE` | [`ErrorCode::ACCESS_DENIED`] (no process can be created with it as the parent), with [`Error::target_exit_code`] | nothing |
//! | has exited | `THREADS` | the capture succeeds; [`threads`](LocalSnapshot::threads) and [`thread_information`](LocalSnapshot::thread_information) then give [`ErrorCode::NOT_FOUND`] with a reason | nothing: the threads are gone |
//! | has exited | none of these | the capture succeeds: process information (with the exit status) is always captured | — |
//! | one thread cannot be opened (e.g. protected) | `THREADS` | none: Windows skips that thread, silently | nothing: it is not in the snapshot |
//! | a thread exits while being captured | `THREADS` | none: it is captured as terminated, without a context | — |
//! | a thread is named while being captured | `THREADS` | none: the last threads' records may be missing, silently (the names took their room); [`thread_information`](LocalSnapshot::thread_information) counts what is there | capture again if you need them |
//! | threads start while being captured | `THREADS` | none: the new threads may be missing, silently | capture again if you need them |
//! | its address space changes while being captured | `VA_SPACE` | [`ErrorCode::INVALID_ADDRESS`] (seen) | retrying may succeed |
//!
//! An exit is recognisable from the failed capture alone: when the code is one an exit causes
//! for the flags, `pss` asks `GetExitCodeProcess`, and [`Error::target_exit_code`] gives the
//! exit code ([`Error::reason`] says so too); the same codes from a busy handle table or
//! missing rights leave it `None`.
//!
//! So a crash reporter that must get *something* captures what it needs most first: one
//! capture with process information and threads (which works on an exiting process as long as
//! it has threads), and the memory and handles as a second step that may fail. Codes that
//! Windows returns for other reasons (rights, resources) are passed through unchanged.
//!
//! # Availability
//!
//! [`is_available`] probes kernel32 once per process. Every function that would call a PSS
//! function returns [`ErrorKind::Unavailable`] instead when they are missing (Wine has none),
//! so the program gets an error rather than a call into a missing import.
//!
//! # Errors
//!
//! One [`Error`] type names the failed [`Function`], its Win32 [`ErrorCode`] and an
//! [`ErrorKind`]. It converts into [`std::io::Error`] by its Win32 code, so `raw_os_error()`
//! answers as it does for std's own errors; an error where nothing was called becomes the io
//! error's source, whole (see [`Error`]'s `From` conversion for the trade-off).
//!
//! # Dual use
//!
//! A snapshot exposes everything the target process holds: with `VA_CLONE`, all of its
//! memory, including passwords, keys and tokens; with `HANDLES`, the objects it can reach.
//! Snapshotting a process and writing a minidump from it is also a well-known way to steal
//! credentials (e.g. from `lsass.exe`), which security products detect and block. This crate is
//! for diagnosing processes you are responsible for: capture only what you need, treat the
//! data and any dump made from it as secret, and free snapshots promptly (a VA clone also costs
//! the target copy-on-write memory while it lives).
//!
//! # Platforms
//!
//! `pss` is for Windows. On other hosts it builds, with same-named stand-ins for the handle
//! types (see [`handle`]), so that code using it can be tested there (next section). Without
//! the test kit, a program off Windows that calls `pss` fails to link (the kernel32 symbols are
//! missing): `pss` never pretends to work there.
//!
//! # Using pss off Windows
//!
//! A dev-dependency on `pss-tests` is all it takes: it turns on this crate's feature `model`
//! (for test builds only, and no other feature), with which `pss` links a model of kernel32
//! (the `pss-model` crate) in place of the real one. Tests build the processes they capture
//! with `pss_tests::FixtureSpec` (a model process off Windows, a real child process on
//! Windows), check that nothing leaked, and run unchanged on both; tests that need what only
//! the model can do (injected failures, call and leak accounting, processes built to the byte)
//! use `pss_tests::model` and are model tests.
//!
//! [Process Snapshotting]: https://learn.microsoft.com/en-us/previous-versions/windows/desktop/proc_snap/process-snapshotting-portal
//! [`PssCaptureSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot
//! [`PssFreeSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot

mod alloc;
mod allocation;
mod available;
mod calls;
mod clone_memory;
#[cfg(feature = "dbghelp")]
mod dump;
#[cfg(feature = "dump-writer")]
mod dump_writer;
mod entry;
mod error;
mod flags;
pub mod handle;
mod image;
mod info;
mod local;
mod memory;
mod parameters;
mod process;
mod query;
mod remote;
mod time;
mod walk;
mod wide;
pub mod wow64;

pub use alloc::{ProcessHeap, WALK_ALLOCATION_ALIGNMENT, WalkAllocator};
pub use allocation::{Allocation, HeapAllocated, VmAllocated};
pub use available::is_available;
pub use clone_memory::{CloneReader, PlainData};
#[cfg(feature = "dbghelp")]
pub use dump::MinidumpType;
#[cfg(feature = "dump-writer")]
pub use dump_writer::{
    DEFAULT_REFERENCED_LIMIT, DEFAULT_STACK_LIMIT, DUMP_INFO_STREAM, DumpError, DumpException,
    DumpInfo, DumpModule, DumpProgress, DumpSummary, DumpWriter, Keep, MemoryContent, MemoryRange,
    ModuleAllowList, Omission, Profile, Redaction, StackScrubbing,
};
// The exception an out-of-process crash handler reads from the target (`dump_writer/exception.rs`).
#[cfg(feature = "dump-writer")]
pub use dump_writer::{
    ChainEnd, EXCEPTION_MAXIMUM_PARAMETERS, ExceptionContext, ExceptionError, ExceptionLayout,
    ExceptionRecord, ExceptionStructure, MAX_NESTED_RECORDS, TargetException,
};
pub use entry::{
    AuxiliaryPageEntry, EventObject, HandleBasicInformation, HandleEntry, HandleFlags,
    ImageInformation, MutantObject, ObjectType, ProcessObject, SectionObject, SemaphoreObject,
    ThreadEntry, ThreadFlags, ThreadNameEntry, ThreadObject, TypeSpecific, VaSpaceEntry,
};
pub use error::{Error, ErrorCode, ErrorKind, Function, Result};
pub use flags::{CaptureFlags, CaptureOptions, ContextFlags, ProcessAccess};
pub use image::MainImage;
pub use info::{
    CaptureCost, ExitStatus, HandleTrace, MemoryCounters, PerformanceCounters, ProcessFlags,
    ProcessInformation, ThreadInformation, VaClone,
};
pub use local::LocalSnapshot;
pub use memory::{MemoryProtection, MemoryRegion, MemoryState, MemoryType};
pub use parameters::{Environment, EnvironmentVariables, ProcessParameters};
pub use process::{Process, current_process, open_process};
pub use remote::RemoteSnapshot;
pub use time::FileTime;
pub use walk::{
    AuxiliaryPageClass, Entries, HandleClass, ThreadClass, ThreadNameClass, VaSpaceClass, Walk,
    WalkClass, WalkPosition,
};
pub use wide::{WideDisplay, WideStr};
pub use wow64::Wow64View;

/// The raw bindings this crate is built on ([`pss_sys`]).
pub use pss_sys as sys;

// Off Windows, feature `model` (which a dependency on `pss-tests` turns on) links the kernel32
// model in place of the real kernel32: nothing else of it is used here.
#[cfg(all(not(windows), feature = "model"))]
use pss_model as _;

// Every owned value `pss` returns can be sent to and shared with other threads (a crash
// reporter collects on one thread and writes on another). Snapshots, walks and iterators are
// checked in their modules: they have thread rules of their own.
static_assertions::assert_impl_all!(
    ProcessInformation: Send, Sync, Clone
);
static_assertions::assert_impl_all!(ThreadInformation: Send, Sync, Clone);
static_assertions::assert_impl_all!(PerformanceCounters: Send, Sync, Clone);
static_assertions::assert_impl_all!(MemoryCounters: Send, Sync, Clone);
static_assertions::assert_impl_all!(CaptureCost: Send, Sync, Clone);
static_assertions::assert_impl_all!(ExitStatus: Send, Sync, Copy);
static_assertions::assert_impl_all!(ProcessFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(VaClone<'static>: Send, Sync);
static_assertions::assert_impl_all!(HandleTrace<'static>: Send, Sync);
static_assertions::assert_impl_all!(HandleEntry<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(ThreadEntry<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(VaSpaceEntry<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(AuxiliaryPageEntry<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(ThreadNameEntry<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(HandleBasicInformation: Send, Sync, Copy);
static_assertions::assert_impl_all!(TypeSpecific: Send, Sync, Copy);
static_assertions::assert_impl_all!(ObjectType: Send, Sync, Copy);
static_assertions::assert_impl_all!(HandleFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(ThreadFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(ImageInformation: Send, Sync, Copy);
static_assertions::assert_impl_all!(MemoryRegion: Send, Sync, Copy);
static_assertions::assert_impl_all!(MemoryState: Send, Sync, Copy);
static_assertions::assert_impl_all!(MemoryType: Send, Sync, Copy);
static_assertions::assert_impl_all!(MemoryProtection: Send, Sync, Copy);
static_assertions::assert_impl_all!(WideStr<'static>: Send, Sync, Clone);
static_assertions::assert_impl_all!(FileTime: Send, Sync, Copy);
static_assertions::assert_impl_all!(CaptureOptions: Send, Sync, Copy);
static_assertions::assert_impl_all!(CaptureFlags: Send, Sync, Copy);
static_assertions::assert_impl_all!(Error: Send, Sync, Copy);

/// The README's example, compiled (for Windows targets: run) with the other doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
