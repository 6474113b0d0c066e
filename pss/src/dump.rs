//! Writing a minidump of a snapshot: dbghelp's `MiniDumpWriteDump` (cargo feature `dbghelp`).

use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pss_sys as sys;
use sys::minidump as md;

use crate::handle::{AsHandle, AsRawHandle, FromRawHandle};
use crate::{Allocation, Error, Function, LocalSnapshot, Result};

bitflags::bitflags! {
    /// What `MiniDumpWriteDump` writes: [`MINIDUMP_TYPE`]. [`FULL`](Self::FULL) and
    /// [`THREADS_AND_STACKS`](Self::THREADS_AND_STACKS) are the common dumps.
    ///
    /// Unknown bits are kept ([`from_bits_retain`](Self::from_bits_retain)) and passed on:
    /// dbghelp versions differ in the values they know, and dbghelp checks them.
    ///
    /// # What a dump of a snapshot can hold
    ///
    /// dbghelp reads the snapshot, so what it writes depends on the capture flags:
    ///
    /// | dump content | needs |
    /// |---|---|
    /// | threads, with registers | [`THREADS`](crate::CaptureFlags::THREADS), [`THREAD_CONTEXT`](crate::CaptureFlags::THREAD_CONTEXT); [`THREAD_CONTEXT_EXTENDED`](crate::CaptureFlags::THREAD_CONTEXT_EXTENDED) for [`WITH_AVX_XSTATE_CONTEXT`](Self::WITH_AVX_XSTATE_CONTEXT) |
    /// | modules, by name | [`VA_SPACE`](crate::CaptureFlags::VA_SPACE), [`VA_SPACE_SECTION_INFORMATION`](crate::CaptureFlags::VA_SPACE_SECTION_INFORMATION) |
    /// | any memory: stacks, data segments, [`WITH_FULL_MEMORY`](Self::WITH_FULL_MEMORY) | [`VA_CLONE`](crate::CaptureFlags::VA_CLONE): memory is read from the clone |
    /// | [`WITH_FULL_MEMORY_INFO`](Self::WITH_FULL_MEMORY_INFO) | [`VA_SPACE`](crate::CaptureFlags::VA_SPACE) |
    /// | [`WITH_HANDLE_DATA`](Self::WITH_HANDLE_DATA) | [`HANDLES`](crate::CaptureFlags::HANDLES) and the handle-detail flags |
    ///
    /// [`CaptureFlags::MINIDUMP`](crate::CaptureFlags::MINIDUMP) has all of them. A dump of a
    /// snapshot cannot hold what the snapshot does not: memory the process wrote after the
    /// capture, anonymous shared sections (the VA clone does not hold them: reading them
    /// fails, so [`FULL`](Self::FULL) ignores inaccessible memory), or an exception (no
    /// exception information is passed).
    ///
    /// [`MINIDUMP_TYPE`]: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/ne-minidumpapiset-minidump_type
    #[doc(alias = "MINIDUMP_TYPE")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MinidumpType: u32 {
        /// `MiniDumpWithDataSegs`: the data sections of every loaded module.
        #[doc(alias = "MiniDumpWithDataSegs")]
        const WITH_DATA_SEGS = md::MiniDumpWithDataSegs as u32;
        /// `MiniDumpWithFullMemory`: all accessible memory.
        #[doc(alias = "MiniDumpWithFullMemory")]
        const WITH_FULL_MEMORY = md::MiniDumpWithFullMemory as u32;
        /// `MiniDumpWithHandleData`: the handles.
        #[doc(alias = "MiniDumpWithHandleData")]
        const WITH_HANDLE_DATA = md::MiniDumpWithHandleData as u32;
        /// `MiniDumpFilterMemory`: stack memory filtered to what stack traces need.
        #[doc(alias = "MiniDumpFilterMemory")]
        const FILTER_MEMORY = md::MiniDumpFilterMemory as u32;
        /// `MiniDumpScanMemory`: stack memory scanned for module references.
        #[doc(alias = "MiniDumpScanMemory")]
        const SCAN_MEMORY = md::MiniDumpScanMemory as u32;
        /// `MiniDumpWithUnloadedModules`: recently unloaded modules.
        #[doc(alias = "MiniDumpWithUnloadedModules")]
        const WITH_UNLOADED_MODULES = md::MiniDumpWithUnloadedModules as u32;
        /// `MiniDumpWithIndirectlyReferencedMemory`: memory that stack pointers refer to.
        #[doc(alias = "MiniDumpWithIndirectlyReferencedMemory")]
        const WITH_INDIRECTLY_REFERENCED_MEMORY =
            md::MiniDumpWithIndirectlyReferencedMemory as u32;
        /// `MiniDumpFilterModulePaths`: module names without their paths.
        #[doc(alias = "MiniDumpFilterModulePaths")]
        const FILTER_MODULE_PATHS = md::MiniDumpFilterModulePaths as u32;
        /// `MiniDumpWithProcessThreadData`: the PEB and TEBs.
        #[doc(alias = "MiniDumpWithProcessThreadData")]
        const WITH_PROCESS_THREAD_DATA = md::MiniDumpWithProcessThreadData as u32;
        /// `MiniDumpWithPrivateReadWriteMemory`: private read-write memory.
        #[doc(alias = "MiniDumpWithPrivateReadWriteMemory")]
        const WITH_PRIVATE_READ_WRITE_MEMORY = md::MiniDumpWithPrivateReadWriteMemory as u32;
        /// `MiniDumpWithoutOptionalData`: leave out optional data.
        #[doc(alias = "MiniDumpWithoutOptionalData")]
        const WITHOUT_OPTIONAL_DATA = md::MiniDumpWithoutOptionalData as u32;
        /// `MiniDumpWithFullMemoryInfo`: the address space's region descriptions.
        #[doc(alias = "MiniDumpWithFullMemoryInfo")]
        const WITH_FULL_MEMORY_INFO = md::MiniDumpWithFullMemoryInfo as u32;
        /// `MiniDumpWithThreadInfo`: thread times, affinity and start addresses.
        #[doc(alias = "MiniDumpWithThreadInfo")]
        const WITH_THREAD_INFO = md::MiniDumpWithThreadInfo as u32;
        /// `MiniDumpWithCodeSegs`: the code sections of every loaded module.
        #[doc(alias = "MiniDumpWithCodeSegs")]
        const WITH_CODE_SEGS = md::MiniDumpWithCodeSegs as u32;
        /// `MiniDumpWithoutAuxiliaryState`: no auxiliary data providers.
        #[doc(alias = "MiniDumpWithoutAuxiliaryState")]
        const WITHOUT_AUXILIARY_STATE = md::MiniDumpWithoutAuxiliaryState as u32;
        /// `MiniDumpWithFullAuxiliaryState`: all auxiliary data providers' state.
        #[doc(alias = "MiniDumpWithFullAuxiliaryState")]
        const WITH_FULL_AUXILIARY_STATE = md::MiniDumpWithFullAuxiliaryState as u32;
        /// `MiniDumpWithPrivateWriteCopyMemory`: private write-copy memory.
        #[doc(alias = "MiniDumpWithPrivateWriteCopyMemory")]
        const WITH_PRIVATE_WRITE_COPY_MEMORY = md::MiniDumpWithPrivateWriteCopyMemory as u32;
        /// `MiniDumpIgnoreInaccessibleMemory`: memory that cannot be read does not fail the
        /// dump.
        #[doc(alias = "MiniDumpIgnoreInaccessibleMemory")]
        const IGNORE_INACCESSIBLE_MEMORY = md::MiniDumpIgnoreInaccessibleMemory as u32;
        /// `MiniDumpWithTokenInformation`: the security token.
        #[doc(alias = "MiniDumpWithTokenInformation")]
        const WITH_TOKEN_INFORMATION = md::MiniDumpWithTokenInformation as u32;
        /// `MiniDumpWithModuleHeaders`: module headers.
        #[doc(alias = "MiniDumpWithModuleHeaders")]
        const WITH_MODULE_HEADERS = md::MiniDumpWithModuleHeaders as u32;
        /// `MiniDumpFilterTriage`: filter for triage.
        #[doc(alias = "MiniDumpFilterTriage")]
        const FILTER_TRIAGE = md::MiniDumpFilterTriage as u32;
        /// `MiniDumpWithAvxXStateContext`: the AVX state of thread contexts.
        #[doc(alias = "MiniDumpWithAvxXStateContext")]
        const WITH_AVX_XSTATE_CONTEXT = md::MiniDumpWithAvxXStateContext as u32;
        /// `MiniDumpWithIptTrace`: Intel Processor Trace data.
        #[doc(alias = "MiniDumpWithIptTrace")]
        const WITH_IPT_TRACE = md::MiniDumpWithIptTrace as u32;
        /// `MiniDumpScanInaccessiblePartialPages`: scan partially inaccessible pages.
        #[doc(alias = "MiniDumpScanInaccessiblePartialPages")]
        const SCAN_INACCESSIBLE_PARTIAL_PAGES = md::MiniDumpScanInaccessiblePartialPages as u32;
        /// `MiniDumpFilterWriteCombinedMemory`: leave out write-combined memory.
        #[doc(alias = "MiniDumpFilterWriteCombinedMemory")]
        const FILTER_WRITE_COMBINED_MEMORY = md::MiniDumpFilterWriteCombinedMemory as u32;
    }
}

impl MinidumpType {
    /// `MiniDumpNormal` (0): what stack traces of every thread need.
    #[doc(alias = "MiniDumpNormal")]
    pub const NORMAL: Self = Self::empty();

    /// A full dump: all memory and the metadata (threads with their information, modules,
    /// unloaded modules, the address space's regions, handles, the token), the dump Sysinternals
    /// ProcDump documents for `-ma`. Memory a snapshot's clone cannot read is left out rather
    /// than failing the dump.
    pub const FULL: Self = Self::WITH_FULL_MEMORY
        .union(Self::WITH_HANDLE_DATA)
        .union(Self::WITH_UNLOADED_MODULES)
        .union(Self::WITH_FULL_MEMORY_INFO)
        .union(Self::WITH_THREAD_INFO)
        .union(Self::WITH_TOKEN_INFORMATION)
        .union(Self::IGNORE_INACCESSIBLE_MEMORY);

    /// A small dump: every thread with its registers and stack, the modules, and thread
    /// information: enough for stack traces.
    pub const THREADS_AND_STACKS: Self = Self::NORMAL
        .union(Self::WITH_THREAD_INFO)
        .union(Self::WITH_UNLOADED_MODULES);
}

/// dbghelp is single-threaded: `pss` serialises its own calls into it (calls from other code
/// in the process are the caller's to serialise).
/// Serialises `pss`'s own dbghelp calls (threads of this process that dump at once queue here
/// rather than on the named mutex).
static DBGHELP: Mutex<()> = Mutex::new(());

/// The handle to the named mutex Rust's backtrace code serialises dbghelp with, opened once and
/// kept for the life of the process, as backtrace-rs keeps its own (0: not yet opened).
static BACKTRACE_MUTEX: AtomicUsize = AtomicUsize::new(0);

/// The mutex Rust's backtrace code (backtrace-rs `src/dbghelp.rs`, which std includes) takes
/// around every dbghelp call, held while it lives.
struct BacktraceLock(sys::HANDLE);

impl BacktraceLock {
    /// Opens (the first time) and takes the mutex, waiting for whoever holds it. A mutex whose
    /// owner ended without releasing it (`WAIT_ABANDONED`) is taken all the same: dbghelp's
    /// state does not depend on it.
    fn take() -> Result<BacktraceLock> {
        let mut mutex = BACKTRACE_MUTEX.load(Ordering::Acquire);
        if mutex == 0 {
            // "Local\RustBacktraceMutex" and the process id in 8 uppercase hex digits.
            let mut name = *b"Local\\RustBacktraceMutex00000000\0";
            // SAFETY: no preconditions.
            let mut id = unsafe { sys::GetCurrentProcessId() };
            for digit in name[24..32].iter_mut().rev() {
                *digit = b"0123456789ABCDEF"[(id & 0xF) as usize];
                id >>= 4;
            }
            // SAFETY: `name` is NUL-terminated; no security attributes; not initially owned.
            let created = unsafe { sys::CreateMutexA(core::ptr::null(), 0, name.as_ptr()) };
            if created.is_null() {
                return Err(last_error(Function::CreateMutexA));
            }
            mutex = match BACKTRACE_MUTEX.compare_exchange(
                0,
                created.addr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => created.addr(),
                Err(other) => {
                    // Another thread opened it first: keep theirs.
                    // SAFETY: `created` is our own handle, closed once.
                    unsafe { sys::CloseHandle(created) };
                    other
                }
            };
        }
        let mutex: sys::HANDLE = core::ptr::with_exposed_provenance_mut(mutex);
        // SAFETY: `mutex` is the handle opened above, never closed.
        match unsafe { sys::WaitForSingleObjectEx(mutex, sys::INFINITE, 0) } {
            sys::WAIT_OBJECT_0 | sys::WAIT_ABANDONED => Ok(BacktraceLock(mutex)),
            _ => Err(last_error(Function::WaitForSingleObjectEx)),
        }
    }
}

impl Drop for BacktraceLock {
    fn drop(&mut self) {
        // SAFETY: this thread took the mutex in `take`; a failure cannot be reported here.
        unsafe { sys::ReleaseMutex(self.0) };
    }
}

/// `function` failed and left its code as the thread's last error.
#[cold]
fn last_error(function: Function) -> Error {
    // SAFETY: no preconditions; it reads the code `function` left on this thread.
    Error::os(function, unsafe { sys::GetLastError() })
}

/// The `MINIDUMP_CALLBACK_ROUTINE`: answers `IsProcessSnapshotCallback` with `S_FALSE` (the
/// process handle is a snapshot) and leaves every other callback to dbghelp's default (its
/// output untouched, `TRUE`), as Microsoft's sample does. Never unwinds.
///
/// # Safety
///
/// Called by dbghelp with valid input and output structures.
unsafe extern "system" fn snapshot_callback(
    _param: *mut c_void,
    input: *const md::MINIDUMP_CALLBACK_INPUT,
    output: *mut md::MINIDUMP_CALLBACK_OUTPUT,
) -> sys::BOOL {
    // SAFETY: `input` is valid (dbghelp); the structure is packed, so the field is read
    // unaligned.
    let kind = unsafe { (&raw const (*input).CallbackType).read_unaligned() };
    if kind == md::IsProcessSnapshotCallback as u32 {
        // SAFETY: `output` is valid and writable (dbghelp); `Status` is a plain HRESULT of its
        // union, written unaligned (packed structure).
        unsafe { (&raw mut (*output).Anonymous.Status).write_unaligned(md::S_FALSE) };
    }
    1
}

impl<A: Allocation> LocalSnapshot<A> {
    /// [`CreateFileW`] then [`write_minidump`](Self::write_minidump): writes the dump into a
    /// new file at `path` (an existing one is replaced), the same call on every host.
    ///
    /// The file is created first, so a path that cannot be written fails at once with
    /// [`Function::CreateFileW`] and the code Windows gives (e.g.
    /// `ERROR_PATH_NOT_FOUND`, 3, for a missing directory; `ERROR_ACCESS_DENIED`, 5, for a
    /// directory or a read-only file); off Windows the kernel32 model creates it on the host's
    /// disk and answers the same codes. If the dump fails, the file is left as dbghelp left it.
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, MinidumpType, ProcessAccess};
    ///
    /// # fn main() -> pss::Result<()> {
    /// # let pid = 1234;
    /// let flags = CaptureFlags::MINIDUMP;
    /// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    /// let snapshot = LocalSnapshot::capture(&process, flags)?;
    /// snapshot.write_minidump_to_path("app.dmp", MinidumpType::FULL)?;
    /// # Ok(()) }
    /// ```
    ///
    /// Kernel32 and dbghelp calls: `CreateFileW` (and `GetLastError` if it fails), those of
    /// [`write_minidump`](Self::write_minidump), `CloseHandle`.
    ///
    /// # References
    ///
    /// - [`CreateFileW`]
    ///
    /// [`CreateFileW`]: https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-createfilew
    #[doc(alias = "CreateFileW", alias = "MiniDumpWriteDump")]
    pub fn write_minidump_to_path(
        &self,
        path: impl AsRef<std::path::Path>,
        dump_type: MinidumpType,
    ) -> Result<()> {
        let name = crate::handle::wide_path(path.as_ref());
        // SAFETY: `name` is NUL-terminated; no security attributes or template; the handle a
        // successful call returns is ours to close.
        let file = unsafe {
            sys::CreateFileW(
                name.as_ptr(),
                sys::GENERIC_WRITE,
                0,
                core::ptr::null(),
                sys::CREATE_ALWAYS,
                sys::FILE_ATTRIBUTE_NORMAL,
                core::ptr::null_mut(),
            )
        };
        if file == sys::INVALID_HANDLE_VALUE || file.is_null() {
            return Err(last_error(Function::CreateFileW));
        }
        // SAFETY: a new file handle, owned by nothing else, closed with `CloseHandle`.
        let file = unsafe { crate::handle::OwnedHandle::from_raw_handle(file) };
        self.write_minidump(&file, dump_type)
    }

    /// [`MiniDumpWriteDump`] of this snapshot into `file` (a handle to a file opened for
    /// writing, e.g. a [`std::fs::File`] on Windows), as [`dump_type`](MinidumpType) asks.
    ///
    /// Done as Microsoft documents for snapshots: the snapshot handle is passed as the process
    /// handle, with the captured process's id (read from the snapshot), and a callback answers
    /// `IsProcessSnapshotCallback` with `S_FALSE`. (Passing the [VA clone](crate::VaClone)'s
    /// handle instead would give a dump without threads.) What the dump can hold depends on the
    /// capture flags: see [`MinidumpType`]; [`CaptureFlags::MINIDUMP`](crate::CaptureFlags::MINIDUMP)
    /// has them all.
    ///
    /// dbghelp is single-threaded. Calls through `pss` are serialised with each other and with
    /// Rust's backtrace code (std's panic hook with `RUST_BACKTRACE`, `std::backtrace`, the
    /// `backtrace` crate), which takes a named mutex, `Local\RustBacktraceMutex` and the
    /// process id in 8 hex digits, around every dbghelp call: `pss` takes the same mutex, so
    /// another thread's panic cannot race a dump. (Other code that calls dbghelp without that
    /// mutex is not serialised.) On failure `MiniDumpWriteDump` leaves an `HRESULT` as the last
    /// error; one that wraps a Win32 error (`HRESULT_FROM_WIN32`) is reported as that code, any
    /// other as [`ErrorKind::HResult`](crate::ErrorKind::HResult).
    ///
    /// Any handle to a file opened for writing will do, e.g. a [`std::fs::File`] on Windows;
    /// [`write_minidump_to_path`](Self::write_minidump_to_path) takes a path instead, on every
    /// host:
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, MinidumpType, ProcessAccess};
    ///
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     # let pid = 1234;
    ///     let flags = CaptureFlags::MINIDUMP;
    ///     let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    ///     let snapshot = LocalSnapshot::capture(&process, flags)?;
    ///     #[cfg(windows)]
    ///     snapshot.write_minidump(std::fs::File::create("app.dmp")?, MinidumpType::FULL)?;
    ///     #[cfg(not(windows))] // a `File` is a handle on Windows only
    ///     snapshot.write_minidump_to_path("app.dmp", MinidumpType::FULL)?;
    ///     Ok(())
    /// }
    /// ```
    ///
    /// Kernel32 and dbghelp calls: `PssQuerySnapshot` (the process id), `WaitForSingleObjectEx`
    /// and `ReleaseMutex` on the backtrace mutex (`GetCurrentProcessId` and `CreateMutexA` the
    /// first time), `MiniDumpWriteDump`, and `GetLastError` if it fails.
    ///
    /// # References
    ///
    /// - [`MiniDumpWriteDump`]
    ///
    /// [`MiniDumpWriteDump`]: https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/nf-minidumpapiset-minidumpwritedump
    #[doc(alias = "MiniDumpWriteDump", alias = "IsProcessSnapshotCallback")]
    pub fn write_minidump(&self, file: impl AsHandle, dump_type: MinidumpType) -> Result<()> {
        let process_id = self.process_information()?.process_id();
        let callback = md::MINIDUMP_CALLBACK_INFORMATION {
            CallbackRoutine: Some(snapshot_callback),
            CallbackParam: core::ptr::null_mut(),
        };
        let _dbghelp = DBGHELP
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _backtrace = BacktraceLock::take()?;
        // SAFETY: the snapshot is live in this process for the call (borrowed); `file` is a
        // handle borrowed for the call; no exception or user-stream information is passed;
        // `callback` outlives the call and its routine never unwinds.
        let ok = unsafe {
            md::MiniDumpWriteDump(
                self.as_raw(),
                process_id,
                file.as_handle().as_raw_handle(),
                dump_type.bits() as md::MINIDUMP_TYPE,
                core::ptr::null(),
                core::ptr::null(),
                &callback,
            )
        };
        if ok != 0 {
            return Ok(());
        }
        // SAFETY: no preconditions; it reads the HRESULT `MiniDumpWriteDump` left.
        let hresult = unsafe { sys::GetLastError() };
        Err(Error::hresult(Function::MiniDumpWriteDump, hresult))
    }
}

static_assertions::assert_impl_all!(MinidumpType: Send, Sync, Copy);
