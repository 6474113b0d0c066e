//! The one error type: which function failed, and why.

use core::fmt;
use std::io;

use pss_sys as sys;

use crate::{CaptureFlags, ProcessAccess};

/// `Result<T, pss::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

/// A failed (or refused) call: the kernel32 function, and why.
///
/// Every PSS function returns its Win32 error code directly; [`OpenProcess`] reports it through
/// [`GetLastError`]. Both end up here, with the code in [`Error::code`] (an [`ErrorCode`]) and
/// [`Error::kind`] saying what it means. Some kinds carry no code because `pss` did not call
/// the function at all: [`ErrorKind::Unavailable`], [`ErrorKind::InvalidFlags`],
/// [`ErrorKind::ForeignPosition`] and [`ErrorKind::Reentrant`].
///
/// ```
/// use pss::{ErrorCode, ErrorKind};
///
/// fn explain(error: &pss::Error) -> &'static str {
///     match error.kind() {
///         ErrorKind::Os(ErrorCode::ACCESS_DENIED) => "ask for more rights",
///         ErrorKind::NotCaptured(_) => "capture with more flags",
///         ErrorKind::Os(_) => "the OS refused",
///         _ => "pss refused",
///     }
/// }
/// ```
///
/// Converting into [`std::io::Error`] gives the Win32 code's kind ([`ErrorCode::io_error_kind`])
/// and, on Windows, keeps the code as its `raw_os_error`; elsewhere, and where there is no code,
/// this whole error is its source (see the [`From`] impl).
///
/// # What `Display` prints
///
/// One line, everything the error knows, so print it once (printing [`reason`](Self::reason)
/// as well repeats it):
///
/// - `{function} failed: {kind}` when the function was called and failed: `PssCaptureSnapshot
///   failed: access is denied (ERROR_ACCESS_DENIED)`. The kind is the code's text and name for
///   the codes `pss` names ([`ErrorCode`]), the system's message text and number for the
///   others (`... (Win32 error 1314)`), `HRESULT 0x...` for an [`HResult`](ErrorKind::HResult).
/// - `{function} not called: {kind}` when `pss` refused before calling:
///   `PssCaptureSnapshot not called: invalid flags`.
/// - `{function}: the process handle lacks ...` for
///   [`InsufficientAccess`](ErrorKind::InsufficientAccess) (called or not: the reason says).
/// - then ` after {n} bytes` for a memory read that stopped part-way, and `: {reason}` when
///   there is a reason: `... (ERROR_BAD_LENGTH): the handle table changed while it was being
///   captured ...`.
///
/// [`OpenProcess`]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess
/// [`GetLastError`]: https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-getlasterror
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", Message(self))]
pub struct Error {
    function: Function,
    kind: ErrorKind,
    reason: Option<&'static str>,
    /// Bytes a memory read copied before it stopped.
    bytes_read: Option<usize>,
    /// Capture flags without which a snapshot lacks the information asked for.
    missing_flags: Option<CaptureFlags>,
    /// The exit code of a capture's target that had exited.
    target_exit_code: Option<u32>,
}

impl Error {
    /// An error of `kind` from `function`, with nothing else to say.
    const fn new(function: Function, kind: ErrorKind) -> Self {
        Error {
            function,
            kind,
            reason: None,
            bytes_read: None,
            missing_flags: None,
            target_exit_code: None,
        }
    }

    /// An error code returned by (or, for `OpenProcess`, left behind by) `function`. Cold and
    /// out of line, so the success paths that might call it stay small enough to inline.
    #[cold]
    #[inline(never)]
    pub(crate) fn os(function: Function, code: u32) -> Self {
        Error::new(function, ErrorKind::Os(ErrorCode(code)))
    }

    /// `ReadProcessMemory` failed with `code` after copying `read` bytes.
    pub(crate) fn read_failed(code: u32, read: usize) -> Self {
        Error {
            bytes_read: Some(read),
            ..Error::os(Function::ReadProcessMemory, code)
        }
    }

    #[cfg(feature = "dbghelp")]
    /// `function` failed and left `hresult` as the thread's last error (as `MiniDumpWriteDump`
    /// does): a wrapped Win32 error (`HRESULT_FROM_WIN32`) is typed by its code; any other
    /// `HRESULT` is kept whole as the code.
    pub(crate) fn hresult(function: Function, hresult: u32) -> Self {
        const FACILITY_WIN32: u32 = 0x8007_0000;
        if hresult & 0xFFFF_0000 == FACILITY_WIN32 {
            return Error::os(function, hresult & 0xFFFF);
        }
        Error::new(function, ErrorKind::HResult(hresult))
    }

    /// `function` was not called because kernel32 does not export the PSS functions.
    pub(crate) fn unavailable(function: Function) -> Self {
        Error::new(function, ErrorKind::Unavailable)
    }

    /// This error, naming `flags` as capture flags whose absence is one cause of it.
    pub(crate) fn with_missing_flags(self, flags: CaptureFlags) -> Self {
        Error {
            missing_flags: Some(flags),
            ..self
        }
    }

    /// `function` answered `ERROR_NOT_FOUND` for information that only `flags` would have
    /// captured.
    pub(crate) fn not_captured(function: Function, flags: CaptureFlags) -> Self {
        Error::new(function, ErrorKind::NotCaptured(flags))
    }

    /// This error from a capture whose target had exited with `code`, with `reason`.
    pub(crate) fn with_target_exit_code(self, code: u32, reason: &'static str) -> Self {
        Error {
            target_exit_code: Some(code),
            reason: Some(reason),
            ..self
        }
    }

    /// This error, with `reason` saying what it likely means.
    pub(crate) fn with_reason(self, reason: &'static str) -> Self {
        Error {
            reason: Some(reason),
            ..self
        }
    }

    /// `function` was not called: an allocator callback made it, in the middle of a PSS call.
    #[cold]
    #[inline(never)]
    pub(crate) fn reentrant(function: Function) -> Self {
        Error {
            reason: Some("called from inside a WalkAllocator callback"),
            ..Error::new(function, ErrorKind::Reentrant)
        }
    }

    /// `PssWalkMarkerSetPosition` was not called: the position belongs to another walk.
    pub(crate) fn foreign_position() -> Self {
        Error {
            reason: Some("a position can only be restored on the walk that saved it"),
            ..Error::new(
                Function::PssWalkMarkerSetPosition,
                ErrorKind::ForeignPosition,
            )
        }
    }

    /// The process handle lacks `missing`, known from its [`Process`](crate::Process); `reason`
    /// says whether `function` was called.
    pub(crate) fn insufficient_access(
        function: Function,
        missing: ProcessAccess,
        reason: &'static str,
    ) -> Self {
        Error {
            reason: Some(reason),
            ..Error::new(function, ErrorKind::InsufficientAccess(missing))
        }
    }

    /// `function` was not called because its flags break a documented rule.
    pub(crate) fn invalid_flags(function: Function, reason: &'static str) -> Self {
        Error {
            reason: Some(reason),
            ..Error::new(function, ErrorKind::InvalidFlags)
        }
    }

    /// Would capturing with more flags help? The capture flags without which a snapshot lacks
    /// the information asked for: for [`ErrorKind::NotCaptured`], its flags (the only cause);
    /// for [`ErrorCode::NOT_FOUND`] from threads, thread names or the handle trace, `THREADS`
    /// or `HANDLE_TRACE`, one possible cause of several ([`reason`](Self::reason) names the
    /// others: a process that had exited, tracing that was off). `None` for every other error.
    ///
    /// ```
    /// # fn f(snapshot: &pss::LocalSnapshot) -> pss::Result<()> {
    /// match snapshot.thread_information() {
    ///     Ok(info) => println!("{} threads", info.threads_captured),
    ///     Err(e) if e.missing_flags().is_some() => println!("capture with {:?}", e.missing_flags()),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn missing_flags(&self) -> Option<CaptureFlags> {
        match self.kind {
            ErrorKind::NotCaptured(flags) => Some(flags),
            _ => self.missing_flags,
        }
    }

    /// Had the capture's target exited? Its exit code, for a
    /// [`LocalSnapshot::capture`](crate::LocalSnapshot::capture) that failed because the
    /// process had exited (its handle table, address space or memory were gone:
    /// [`ErrorCode::BAD_LENGTH`] with `HANDLES`, [`ErrorCode::INVALID_PARAMETER`] with
    /// `VA_SPACE`, [`ErrorCode::ACCESS_DENIED`] with `VA_CLONE`). `None` for every other error,
    /// and for a process that exited with code 259 (`STILL_ACTIVE`, which reads as running).
    ///
    /// One call tells an exited target from the other causes of those codes (a handle table
    /// that changed, missing rights): `pss` asks `GetExitCodeProcess` when a capture fails with
    /// one of them, and [`reason`](Self::reason) then says so. Only the process information is
    /// left to capture ([`CaptureFlags::NONE`]).
    ///
    /// ```
    /// # fn f(process: &pss::Process) -> pss::Result<()> {
    /// use pss::{CaptureFlags, LocalSnapshot};
    ///
    /// match LocalSnapshot::capture(process, CaptureFlags::DIAGNOSTICS) {
    ///     Ok(snapshot) => println!("{} threads", snapshot.thread_information()?.threads_captured),
    ///     Err(e) if e.target_exit_code().is_some() => {
    ///         println!("exited with {:?}", e.target_exit_code())
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn target_exit_code(&self) -> Option<u32> {
        self.target_exit_code
    }

    /// For a failed memory read ([`VaClone::read_exact`](crate::VaClone::read_exact) and the
    /// like): how many bytes were copied before it stopped (`ReadProcessMemory`'s
    /// `lpNumberOfBytesRead`). `None` for every other error.
    pub fn bytes_read(&self) -> Option<usize> {
        self.bytes_read
    }

    /// The kernel32 function that failed, or that `pss` refused to call.
    pub fn function(&self) -> Function {
        self.function
    }

    /// What went wrong, typed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The Win32 error code, or `None` if no function was called
    /// ([`Unavailable`](ErrorKind::Unavailable), [`InvalidFlags`](ErrorKind::InvalidFlags),
    /// [`ForeignPosition`](ErrorKind::ForeignPosition), [`Reentrant`](ErrorKind::Reentrant)).
    pub fn code(&self) -> Option<ErrorCode> {
        self.kind.code()
    }

    /// The Win32 error code as an `i32`, as [`std::io::Error::raw_os_error`] reports it on
    /// Windows. It is a Win32 code on every host: off Windows (against the model) it is not an
    /// `errno`, so do not make an [`io::Error`] of it with
    /// [`from_raw_os_error`](io::Error::from_raw_os_error) there (convert the `pss::Error`).
    pub fn raw_os_error(&self) -> Option<i32> {
        // Win32 codes are DWORDs; io::Error stores them as i32 (same bits, as std does).
        self.code().map(|code| code.raw() as i32)
    }

    /// Why `pss` refused the call, for [`InvalidFlags`](ErrorKind::InvalidFlags),
    /// [`ForeignPosition`](ErrorKind::ForeignPosition) and [`Reentrant`](ErrorKind::Reentrant);
    /// for [`ErrorCode::NOT_FOUND`] from a query or walk, the likely causes where there is more
    /// than one (e.g. threads: not captured, or the process had exited).
    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }
}

struct Message<'a>(&'a Error);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error {
            function,
            kind,
            reason,
            bytes_read,
            missing_flags: _,
            target_exit_code: _,
        } = self.0;
        match kind {
            ErrorKind::Unavailable
            | ErrorKind::InvalidFlags
            | ErrorKind::ForeignPosition
            | ErrorKind::Reentrant => write!(f, "{function} not called: {kind}")?,
            // Called or not: the reason says.
            ErrorKind::InsufficientAccess(_) => write!(f, "{function}: {kind}")?,
            ErrorKind::Os(_) | ErrorKind::NotCaptured(_) | ErrorKind::HResult(_) => {
                write!(f, "{function} failed: {kind}")?
            }
        }
        if let Some(read) = bytes_read {
            write!(f, " after {read} bytes")?;
        }
        match reason {
            Some(reason) => write!(f, ": {reason}"),
            None => Ok(()),
        }
    }
}

/// Follows the convention of `std` and `rustix`: on Windows an error with a Win32 code
/// ([`Os`](ErrorKind::Os), and [`NotCaptured`](ErrorKind::NotCaptured), which is
/// `ERROR_NOT_FOUND`) becomes [`io::Error::from_raw_os_error`], so `?` into an
/// `io::Result` and then matching [`raw_os_error`](io::Error::raw_os_error)`() == Some(5)`
/// works, and the io error's kind and message are the system's for that code.
///
/// Off Windows (tests against the model) a Win32 code is not an `errno` (5 would be `EIO`, 4
/// `EINTR`, which `read_exact` and `io::copy` retry forever), so the io error has no
/// `raw_os_error` there: its kind is the code's kind ([`ErrorCode::io_error_kind`], the table
/// `std` uses on Windows, so the same on every host) and its source is the whole `pss::Error`,
/// whose [`code`](Error::code) is the Win32 code. No Win32 code gives
/// [`Interrupted`](io::ErrorKind::Interrupted) on any host.
///
/// The kinds where no Win32 code exists keep the whole `pss::Error` as the io error's source
/// ([`io::Error::get_ref`]) on every host, under the closest [`io::ErrorKind`]:
/// [`InvalidFlags`](ErrorKind::InvalidFlags) and [`ForeignPosition`](ErrorKind::ForeignPosition)
/// are `InvalidInput`, [`Unavailable`](ErrorKind::Unavailable) is `Unsupported`,
/// [`InsufficientAccess`](ErrorKind::InsufficientAccess) is `PermissionDenied`,
/// [`Reentrant`](ErrorKind::Reentrant) is `ResourceBusy`, [`HResult`](ErrorKind::HResult) is
/// `Other`.
///
/// The trade-off: an io error made from a code keeps only the code, not the function, the
/// reason, the bytes read or the capture flags. To keep all of it, convert with
/// [`io::Error::other`] instead (its `raw_os_error` is then `None`), or keep the `pss::Error`.
///
/// ```
/// # fn f(error: pss::Error) {
/// let io = std::io::Error::from(error);
/// match error.code() {
///     Some(code) if cfg!(windows) => assert_eq!(io.raw_os_error(), Some(code.raw() as i32)),
///     Some(code) => assert_eq!(io.kind(), code.io_error_kind()),
///     None => {
///         let back = io.get_ref().and_then(|e| e.downcast_ref::<pss::Error>());
///         assert_eq!(back, Some(&error));
///     }
/// }
/// # }
/// ```
impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match error.kind {
            ErrorKind::Os(_) | ErrorKind::NotCaptured(_) => {
                let code = error.code().unwrap_or(ErrorCode::NOT_FOUND);
                #[cfg(windows)]
                {
                    // Win32 codes are DWORDs; io::Error stores them as i32 (same bits, as std
                    // does). std's kind for a Win32 code is never Interrupted today; should a
                    // std ever say so, the code's kind from the table is given instead.
                    let io = io::Error::from_raw_os_error(code.raw() as i32);
                    if io.kind() != io::ErrorKind::Interrupted {
                        return io;
                    }
                }
                code.io_error_kind()
            }
            ErrorKind::InvalidFlags | ErrorKind::ForeignPosition => io::ErrorKind::InvalidInput,
            ErrorKind::Unavailable => io::ErrorKind::Unsupported,
            ErrorKind::InsufficientAccess(_) => io::ErrorKind::PermissionDenied,
            ErrorKind::Reentrant => io::ErrorKind::ResourceBusy,
            ErrorKind::HResult(_) => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

/// The kernel32 function an [`Error`] comes from, named as in C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// [`PssCaptureSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot)
    PssCaptureSnapshot,
    /// [`PssDuplicateSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot)
    PssDuplicateSnapshot,
    /// [`PssFreeSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot)
    PssFreeSnapshot,
    /// [`PssQuerySnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot)
    PssQuerySnapshot,
    /// [`PssWalkSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot)
    PssWalkSnapshot,
    /// [`PssWalkMarkerCreate`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkercreate)
    PssWalkMarkerCreate,
    /// [`PssWalkMarkerFree`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerfree)
    PssWalkMarkerFree,
    /// [`PssWalkMarkerGetPosition`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkergetposition)
    PssWalkMarkerGetPosition,
    /// [`PssWalkMarkerSetPosition`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkersetposition)
    PssWalkMarkerSetPosition,
    /// [`PssWalkMarkerSeekToBeginning`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerseektobeginning)
    PssWalkMarkerSeekToBeginning,
    /// [`OpenProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess)
    OpenProcess,
    /// [`GetProcessId`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getprocessid)
    GetProcessId,
    /// [`ReadProcessMemory`](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory)
    ReadProcessMemory,
    /// [`CreateMutexA`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-createmutexa)
    /// (the lock Rust's backtrace code serialises dbghelp with)
    CreateMutexA,
    /// [`WaitForSingleObjectEx`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-waitforsingleobjectex)
    WaitForSingleObjectEx,
    /// [`CreateFileW`](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-createfilew)
    /// (the file a dump is written to)
    CreateFileW,
    /// [`MiniDumpWriteDump`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/nf-minidumpapiset-minidumpwritedump)
    /// (dbghelp)
    MiniDumpWriteDump,
}

impl Function {
    /// The C name, e.g. `"PssFreeSnapshot"`.
    pub fn name(self) -> &'static str {
        match self {
            Function::PssCaptureSnapshot => "PssCaptureSnapshot",
            Function::PssDuplicateSnapshot => "PssDuplicateSnapshot",
            Function::PssFreeSnapshot => "PssFreeSnapshot",
            Function::PssQuerySnapshot => "PssQuerySnapshot",
            Function::PssWalkSnapshot => "PssWalkSnapshot",
            Function::PssWalkMarkerCreate => "PssWalkMarkerCreate",
            Function::PssWalkMarkerFree => "PssWalkMarkerFree",
            Function::PssWalkMarkerGetPosition => "PssWalkMarkerGetPosition",
            Function::PssWalkMarkerSetPosition => "PssWalkMarkerSetPosition",
            Function::PssWalkMarkerSeekToBeginning => "PssWalkMarkerSeekToBeginning",
            Function::OpenProcess => "OpenProcess",
            Function::GetProcessId => "GetProcessId",
            Function::ReadProcessMemory => "ReadProcessMemory",
            Function::CreateMutexA => "CreateMutexA",
            Function::WaitForSingleObjectEx => "WaitForSingleObjectEx",
            Function::CreateFileW => "CreateFileW",
            Function::MiniDumpWriteDump => "MiniDumpWriteDump",
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call failed: the Win32 error code kernel32 returned, or a refusal of `pss`'s own.
///
/// Codes are an open set (the PSS pages say only "all error codes are defined in
/// winerror.h"), so they are an [`ErrorCode`], matched by its named constants; a code named
/// in a later version matches its new constant and still matches `Os(_)`, so no existing
/// `match` arm changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The function returned this Win32 error code.
    Os(ErrorCode),
    /// `ERROR_NOT_FOUND` (1168) from [`PssQuerySnapshot`] or [`PssWalkSnapshot`]: the snapshot
    /// was captured without the flag(s) carried here, which would have provided the
    /// information.
    ///
    /// Used where the flag is the only cause: the VA clone ([`CaptureFlags::VA_CLONE`]), the
    /// auxiliary pages ([`CaptureFlags::AUXILIARY_PAGES`]), the address space
    /// ([`CaptureFlags::VA_SPACE`]) and the handles ([`CaptureFlags::HANDLES`]). Threads and the
    /// handle trace can be missing for other reasons too, and are reported as
    /// `Os(ErrorCode::NOT_FOUND)` with those reasons in [`Error::reason`].
    /// [`Error::missing_flags`] answers "would more flags help?" for both shapes.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    /// [`PssWalkSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot
    #[doc(alias = "ERROR_NOT_FOUND")]
    NotCaptured(CaptureFlags),
    /// An `HRESULT` that does not wrap a Win32 error code (not `FACILITY_WIN32`), as dbghelp's
    /// `MiniDumpWriteDump` leaves in the last error; printed in hex. One that wraps a Win32 code
    /// (`HRESULT_FROM_WIN32`) is reported as [`Os`](Self::Os) with that code instead.
    #[doc(alias = "HRESULT")]
    HResult(u32),
    /// Not called: this kernel32 does not export the Process Snapshotting functions (before
    /// Windows 8.1, or under Wine). See [`is_available`](crate::is_available).
    Unavailable,
    /// Not called: the flags break a rule of the documentation (see [`Error::reason`]).
    InvalidFlags,
    /// Not called: a [`WalkPosition`](crate::WalkPosition) was given to a walk other than the
    /// one that saved it. `PssWalkMarkerSetPosition` only takes positions from
    /// `PssWalkMarkerGetPosition` on the same marker; what it does with another marker's is not
    /// documented, so `pss` checks first.
    ForeignPosition,
    /// The process handle, a [`Process`](crate::Process) whose rights are known, lacks these
    /// rights, without which the call would fail or, worse, leak without saying so.
    ///
    /// A snapshot put into another process ([`LocalSnapshot::duplicate_into`](crate::LocalSnapshot::duplicate_into),
    /// [`move_into`](crate::LocalSnapshot::move_into)) is refused before any call unless the
    /// handle could also free it: Windows' remote free reports success without
    /// `PROCESS_VM_OPERATION` or `PROCESS_DUP_HANDLE` and leaves the snapshot (or its handles
    /// and VA clone) in that process. A [`RemoteSnapshot::close`](crate::RemoteSnapshot::close)
    /// through such a handle (made with `from_raw_parts`) frees what it can and reports this
    /// kind, although the OS said success. [`Error::reason`] says which.
    InsufficientAccess(ProcessAccess),
    /// Not called: a [`WalkAllocator`](crate::WalkAllocator) callback, which kernel32 runs in
    /// the middle of a PSS call, tried to make another PSS call on the same thread. A free
    /// refused this way leaks the snapshot or marker instead.
    Reentrant,
}

impl ErrorKind {
    /// The Win32 error code of this kind, `None` for the kinds where nothing was called.
    pub fn code(self) -> Option<ErrorCode> {
        match self {
            ErrorKind::Os(code) => Some(code),
            ErrorKind::NotCaptured(_) => Some(ErrorCode::NOT_FOUND),
            ErrorKind::Unavailable
            | ErrorKind::InvalidFlags
            | ErrorKind::ForeignPosition
            | ErrorKind::InsufficientAccess(_)
            | ErrorKind::HResult(_)
            | ErrorKind::Reentrant => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::Os(code) => return fmt::Display::fmt(code, f),
            ErrorKind::NotCaptured(flags) => {
                f.write_str("not in the snapshot: it was captured without ")?;
                bitflags::parser::to_writer(flags, &mut *f)?;
                return f.write_str(" (ERROR_NOT_FOUND)");
            }
            ErrorKind::HResult(hresult) => return write!(f, "HRESULT {hresult:#010X}"),
            ErrorKind::InsufficientAccess(missing) => {
                f.write_str("the process handle lacks ")?;
                bitflags::parser::to_writer(missing, &mut *f)?;
                return Ok(());
            }
            ErrorKind::ForeignPosition => "the position was saved on another walk",
            ErrorKind::Reentrant => "a PSS call from inside a walk allocator callback",
            ErrorKind::Unavailable => {
                "kernel32 has no Process Snapshotting API (it needs Windows 8.1 or later)"
            }
            ErrorKind::InvalidFlags => "invalid flags",
        };
        f.write_str(text)
    }
}

/// A Win32 error code, as the PSS functions return them (and `GetLastError` reports them):
/// a number, with the codes the PSS pages document (and the few others `pss`'s calls return)
/// named as constants, as `rustix::io::Errno` names `errno` values.
///
/// Match on the constants; any other code is just as valid (see [`System Error Codes`]).
///
/// ```
/// use pss::ErrorCode;
///
/// let code = ErrorCode::from_raw(5);
/// assert_eq!(code, ErrorCode::ACCESS_DENIED);
/// assert_eq!(code.name(), Some("ERROR_ACCESS_DENIED"));
/// assert_eq!(ErrorCode::from_raw(1234).name(), None);
/// ```
///
/// [`System Error Codes`]: https://learn.microsoft.com/en-us/windows/win32/debug/system-error-codes--0-499-
#[doc(alias = "GetLastError")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct ErrorCode(u32);

/// The named codes: constant, C name, what it means here.
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $sys:ident ($c_name:literal), $text:literal;)+) => {
        impl ErrorCode {
            $(
                $(#[$doc])*
                #[doc(alias = $c_name)]
                pub const $name: ErrorCode = ErrorCode(sys::$sys);
            )+

            /// The C name of a named code (`"ERROR_ACCESS_DENIED"`), `None` for the others.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(ErrorCode::$name => Some($c_name),)+
                    _ => None,
                }
            }

            /// What a named code means, `None` for the others.
            fn text(self) -> Option<&'static str> {
                match self {
                    $(ErrorCode::$name => Some($text),)+
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// `ERROR_ACCESS_DENIED` (5): the process handle lacks a right the call needs, or the
    /// caller may not open the process.
    ACCESS_DENIED = ERROR_ACCESS_DENIED ("ERROR_ACCESS_DENIED"), "access is denied";
    /// `ERROR_INVALID_HANDLE` (6): a handle argument is invalid (the pages do not say which one).
    INVALID_HANDLE = ERROR_INVALID_HANDLE ("ERROR_INVALID_HANDLE"), "the handle is invalid";
    /// `ERROR_NOT_ENOUGH_MEMORY` (8).
    NOT_ENOUGH_MEMORY = ERROR_NOT_ENOUGH_MEMORY ("ERROR_NOT_ENOUGH_MEMORY"), "not enough memory";
    /// `ERROR_BAD_LENGTH` (24): a buffer length is invalid.
    BAD_LENGTH = ERROR_BAD_LENGTH ("ERROR_BAD_LENGTH"), "the buffer length is invalid";
    /// `ERROR_NOT_SUPPORTED` (50): e.g. a remote free of a snapshot that was neither
    /// VM-allocated nor duplicated remotely.
    NOT_SUPPORTED = ERROR_NOT_SUPPORTED ("ERROR_NOT_SUPPORTED"), "not supported";
    /// `ERROR_INVALID_PARAMETER` (87): e.g. an invalid information class or process ID.
    INVALID_PARAMETER = ERROR_INVALID_PARAMETER ("ERROR_INVALID_PARAMETER"), "a parameter is invalid";
    /// `ERROR_MORE_DATA` (234): a walk probe with no buffer found an entry.
    MORE_DATA = ERROR_MORE_DATA ("ERROR_MORE_DATA"), "more data is available";
    /// `ERROR_NO_MORE_ITEMS` (259): a walk is complete.
    NO_MORE_ITEMS = ERROR_NO_MORE_ITEMS ("ERROR_NO_MORE_ITEMS"), "no more items";
    /// `ERROR_PARTIAL_COPY` (299): a memory read stopped part-way, at memory it could not read
    /// ([`Error::bytes_read`] says how far it got); from a VA clone, also memory the clone does
    /// not hold (anonymous shared sections).
    PARTIAL_COPY = ERROR_PARTIAL_COPY ("ERROR_PARTIAL_COPY"), "only part of the memory was read";
    /// `ERROR_NOACCESS` (998): a buffer of the caller's is not valid memory. (Memory of another
    /// process that cannot be read is [`PARTIAL_COPY`](Self::PARTIAL_COPY), even when not one
    /// byte could be read.)
    NOACCESS = ERROR_NOACCESS ("ERROR_NOACCESS"), "invalid access to a memory location";
    /// `ERROR_PRIVILEGE_NOT_HELD` (1314): the caller lacks a privilege the call needs, e.g. the
    /// Tcb privilege for `PSS_CREATE_FORCE_BREAKAWAY`.
    PRIVILEGE_NOT_HELD = ERROR_PRIVILEGE_NOT_HELD ("ERROR_PRIVILEGE_NOT_HELD"), "a required privilege is not held";
    /// `ERROR_INVALID_ADDRESS` (487): a capture met an address it could not use (seen from
    /// `PssCaptureSnapshot` on Windows, e.g. while reading the target's address space).
    INVALID_ADDRESS = ERROR_INVALID_ADDRESS ("ERROR_INVALID_ADDRESS"), "an address is invalid";
    /// `ERROR_ARITHMETIC_OVERFLOW` (534): a size computed while capturing overflowed (seen from
    /// `PssCaptureSnapshot` on Windows).
    ARITHMETIC_OVERFLOW = ERROR_ARITHMETIC_OVERFLOW ("ERROR_ARITHMETIC_OVERFLOW"), "arithmetic overflow";
    /// `ERROR_NO_SYSTEM_RESOURCES` (1450): the system is short of a resource (memory, address
    /// space, a section view); retrying later may succeed.
    NO_SYSTEM_RESOURCES = ERROR_NO_SYSTEM_RESOURCES ("ERROR_NO_SYSTEM_RESOURCES"), "insufficient system resources";
    /// `ERROR_NOT_FOUND` (1168): the requested information is not in the snapshot, where a
    /// missing capture flag is not the only possible cause ([`Error::reason`] names the causes;
    /// queries and walks report [`ErrorKind::NotCaptured`] instead wherever the flag is the
    /// only one).
    NOT_FOUND = ERROR_NOT_FOUND ("ERROR_NOT_FOUND"), "the information is not in the snapshot";
}

impl ErrorCode {
    /// The [`io::ErrorKind`] of this code, the same on every host: the table `std` applies to
    /// Win32 codes on Windows (`ERROR_ACCESS_DENIED` is `PermissionDenied`,
    /// `ERROR_INVALID_PARAMETER` `InvalidInput`, `ERROR_NOT_ENOUGH_MEMORY` `OutOfMemory`, the
    /// timeouts `TimedOut`, ...), and [`Other`](io::ErrorKind::Other) for every code it leaves
    /// uncategorized (and for `ERROR_CANT_RESOLVE_FILENAME`, whose `FilesystemLoop` is not yet
    /// stable). Never [`Interrupted`](io::ErrorKind::Interrupted): no Win32 code means "try
    /// again at once", and `read_exact` and `io::copy` retry an interrupted call forever.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use pss::ErrorCode;
    ///
    /// assert_eq!(ErrorCode::ACCESS_DENIED.io_error_kind(), ErrorKind::PermissionDenied);
    /// assert_eq!(ErrorCode::NOT_FOUND.io_error_kind(), ErrorKind::Other);
    /// ```
    pub const fn io_error_kind(self) -> io::ErrorKind {
        use io::ErrorKind::*;
        match self.0 {
            5 | 10013 => PermissionDenied, // ERROR_ACCESS_DENIED, WSAEACCES
            80 | 183 => AlreadyExists,     // ERROR_FILE_EXISTS, ERROR_ALREADY_EXISTS
            // ERROR_BROKEN_PIPE, ERROR_NO_DATA (std leaves WSAESHUTDOWN uncategorised: Other here)
            109 | 232 => BrokenPipe,
            // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_INVALID_DRIVE,
            // ERROR_BAD_NETPATH, ERROR_BAD_NET_NAME
            2 | 3 | 15 | 53 | 67 => NotFound,
            // ERROR_INVALID_NAME, ERROR_BAD_PATHNAME, ERROR_FILENAME_EXCED_RANGE: std says
            // `InvalidFilename`, stable only since Rust 1.87, after this crate's rust-version
            // (1.85); `Other` here until the MSRV reaches it.
            87 | 10022 => InvalidInput, // ERROR_INVALID_PARAMETER, WSAEINVAL
            8 | 14 => OutOfMemory,      // ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY
            // ERROR_SEM_TIMEOUT, WAIT_TIMEOUT, ERROR_DRIVER_CANCEL_TIMEOUT,
            // ERROR_OPERATION_ABORTED, ERROR_SERVICE_REQUEST_TIMEOUT, ERROR_COUNTER_TIMEOUT,
            // ERROR_TIMEOUT, ERROR_RESOURCE_CALL_TIMED_OUT, ERROR_CTX_MODEM_RESPONSE_TIMEOUT,
            // ERROR_CTX_CLIENT_QUERY_TIMEOUT, FRS_ERR_SYSVOL_POPULATE_TIMEOUT,
            // ERROR_DS_TIMELIMIT_EXCEEDED, DNS_ERROR_RECORD_TIMED_OUT, ERROR_IPSEC_IKE_TIMED_OUT,
            // ERROR_RUNLEVEL_SWITCH_TIMEOUT, ERROR_RUNLEVEL_SWITCH_AGENT_TIMEOUT, WSAETIMEDOUT
            121 | 258 | 594 | 995 | 1053 | 1121 | 1460 | 5910 | 7012 | 7040 | 8014 | 8226
            | 9705 | 13805 | 15402 | 15403 | 10060 => TimedOut,
            120 => Unsupported,                 // ERROR_CALL_NOT_IMPLEMENTED
            1232 | 10065 => HostUnreachable,    // ERROR_HOST_UNREACHABLE, WSAEHOSTUNREACH
            1231 | 10051 => NetworkUnreachable, // ERROR_NETWORK_UNREACHABLE, WSAENETUNREACH
            10050 => NetworkDown,               // WSAENETDOWN
            267 => NotADirectory,               // ERROR_DIRECTORY
            336 => IsADirectory,                // ERROR_DIRECTORY_NOT_SUPPORTED
            145 => DirectoryNotEmpty,           // ERROR_DIR_NOT_EMPTY
            19 => ReadOnlyFilesystem,           // ERROR_WRITE_PROTECT
            112 | 39 => StorageFull,            // ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL
            132 => NotSeekable,                 // ERROR_SEEK_ON_DEVICE
            1295 | 10069 => QuotaExceeded,      // ERROR_DISK_QUOTA_EXCEEDED, WSAEDQUOT
            223 => FileTooLarge,                // ERROR_FILE_TOO_LARGE
            170 => ResourceBusy,                // ERROR_BUSY
            1131 => Deadlock,                   // ERROR_POSSIBLE_DEADLOCK
            17 => CrossesDevices,               // ERROR_NOT_SAME_DEVICE
            1142 => TooManyLinks,               // ERROR_TOO_MANY_LINKS
            10048 => AddrInUse,                 // WSAEADDRINUSE
            10049 => AddrNotAvailable,          // WSAEADDRNOTAVAIL
            10053 => ConnectionAborted,         // WSAECONNABORTED
            10061 => ConnectionRefused,         // WSAECONNREFUSED
            10054 => ConnectionReset,           // WSAECONNRESET
            10057 => NotConnected,              // WSAENOTCONN
            10035 => WouldBlock,                // WSAEWOULDBLOCK
            _ => Other,
        }
    }

    /// The code for a raw Win32 error value.
    pub const fn from_raw(code: u32) -> ErrorCode {
        ErrorCode(code)
    }

    /// The raw Win32 error value.
    pub const fn raw(self) -> u32 {
        self.0
    }
}

/// `ErrorCode::ACCESS_DENIED` for named codes, `ErrorCode(1234)` for the others.
impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "ErrorCode::{}", &name["ERROR_".len()..]),
            None => write!(f, "ErrorCode({})", self.0),
        }
    }
}

/// `access is denied (ERROR_ACCESS_DENIED)` for the named codes; for the others the system's
/// message text where it has one, `The system cannot find the path specified. (Win32 error 3)`,
/// else `Win32 error 1234`. The system's text comes from `FormatMessageW` (in the user's
/// language), into a buffer on the stack: no allocation.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(text), Some(name)) = (self.text(), self.name()) {
            return write!(f, "{text} ({name})");
        }
        let mut buffer = [0u16; 512];
        match system_message(self.0, &mut buffer) {
            Some(text) => {
                for c in char::decode_utf16(text.iter().copied()) {
                    fmt::Write::write_char(f, c.unwrap_or(char::REPLACEMENT_CHARACTER))?;
                }
                write!(f, " (Win32 error {})", self.0)
            }
            None => write!(f, "Win32 error {}", self.0),
        }
    }
}

/// [`FormatMessageW`]'s text for `code`, without the line break it ends with; `None` if the
/// system has none (or it does not fit `buffer`).
///
/// [`FormatMessageW`]: https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-formatmessagew
fn system_message(code: u32, buffer: &mut [u16; 512]) -> Option<&[u16]> {
    // SAFETY: the message is written into `buffer`, whose size is passed; no inserts are
    // read (`IGNORE_INSERTS`), and no source is needed for system messages.
    let written = unsafe {
        sys::FormatMessageW(
            sys::FORMAT_MESSAGE_FROM_SYSTEM | sys::FORMAT_MESSAGE_IGNORE_INSERTS,
            core::ptr::null(),
            code,
            0,
            buffer.as_mut_ptr(),
            buffer.len() as u32,
            core::ptr::null(),
        )
    };
    let text = buffer.get(..written as usize)?;
    let end = text
        .iter()
        .rposition(|&unit| !matches!(unit, 0x0D | 0x0A | 0x20))?;
    Some(&text[..=end])
}

static_assertions::assert_impl_all!(Error: Send, Sync, Unpin, std::error::Error);
static_assertions::assert_impl_all!(ErrorKind: Send, Sync, Copy);
static_assertions::assert_impl_all!(ErrorCode: Send, Sync, Copy);
static_assertions::assert_impl_all!(Function: Send, Sync, Copy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_and_described() {
        assert_eq!(ErrorCode::from_raw(1168), ErrorCode::NOT_FOUND);
        assert_eq!(ErrorCode::NOT_FOUND.raw(), 1168);
        assert_eq!(
            format!("{:?}", ErrorCode::ACCESS_DENIED),
            "ErrorCode::ACCESS_DENIED"
        );
        assert_eq!(
            format!("{:?}", ErrorCode::from_raw(1234)),
            "ErrorCode(1234)"
        );
        assert_eq!(
            ErrorCode::PARTIAL_COPY.to_string(),
            "only part of the memory was read (ERROR_PARTIAL_COPY)"
        );
        // A code pss does not name: the system's message where it has one (Windows does for
        // 1234, the model does not), then the number.
        let text = ErrorCode::from_raw(1234).to_string();
        assert!(
            text == "Win32 error 1234"
                || text
                    .strip_suffix(" (Win32 error 1234)")
                    .is_some_and(|message| !message.is_empty()),
            "{text}"
        );
        #[cfg(not(windows))]
        assert_eq!(ErrorCode::from_raw(1234).to_string(), "Win32 error 1234");
        // A code pss does not name, with a system message (the model's copy of Windows' text).
        #[cfg(not(windows))]
        assert_eq!(
            ErrorCode::from_raw(3).to_string(),
            "The system cannot find the path specified. (Win32 error 3)"
        );
    }

    #[test]
    fn io_errors_keep_the_os_code_or_the_whole_error() {
        let os = |code| Error::os(Function::PssCaptureSnapshot, code);
        for (error, code) in [
            (os(sys::ERROR_ACCESS_DENIED), 5),
            (os(sys::ERROR_NOT_FOUND), 1168),
            (
                Error::not_captured(Function::PssQuerySnapshot, CaptureFlags::VA_CLONE),
                1168,
            ),
            (os(1234), 1234),
        ] {
            let io = io::Error::from(error);
            if cfg!(windows) {
                assert_eq!(io.raw_os_error(), Some(code), "{error}");
            } else {
                // A Win32 code is no errno: the kind is the code's, the source the whole error.
                assert_eq!(io.raw_os_error(), None, "{error}");
                assert_eq!(io.kind(), ErrorCode::from_raw(code as u32).io_error_kind());
                let back = io.get_ref().and_then(|e| e.downcast_ref::<Error>());
                assert_eq!(back, Some(&error));
            }
        }
        let cases = [
            (
                Error::invalid_flags(Function::PssCaptureSnapshot, "test"),
                io::ErrorKind::InvalidInput,
            ),
            (Error::foreign_position(), io::ErrorKind::InvalidInput),
            (
                Error::unavailable(Function::PssCaptureSnapshot),
                io::ErrorKind::Unsupported,
            ),
            (
                Error::reentrant(Function::PssWalkSnapshot),
                io::ErrorKind::ResourceBusy,
            ),
            (
                Error::insufficient_access(
                    Function::PssDuplicateSnapshot,
                    ProcessAccess::VM_READ,
                    "test",
                ),
                io::ErrorKind::PermissionDenied,
            ),
        ];
        for (error, kind) in cases {
            let io = io::Error::from(error);
            assert_eq!(io.kind(), kind, "{error}");
            assert_eq!(io.raw_os_error(), None);
            assert_eq!(
                io.get_ref().and_then(|e| e.downcast_ref::<Error>()),
                Some(&error)
            );
            assert_eq!(io.to_string(), error.to_string());
        }
    }

    /// Off Windows a Win32 code was taken for an errno: `ERROR_ACCESS_DENIED` (5) became
    /// `EIO`, code 4 (`ERROR_TOO_MANY_OPEN_FILES`) became `EINTR`, `Interrupted`, which
    /// `read_exact` and `io::copy` retry forever. Every host now gives the kind of the Win32
    /// code, and no code gives `Interrupted`.
    #[test]
    fn io_error_kinds_are_the_win32_codes_kinds_and_never_interrupted() {
        let kind = |code| io::Error::from(Error::os(Function::ReadProcessMemory, code)).kind();
        assert_eq!(
            kind(sys::ERROR_ACCESS_DENIED),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind(sys::ERROR_INVALID_PARAMETER),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(sys::ERROR_NOT_ENOUGH_MEMORY),
            io::ErrorKind::OutOfMemory
        );
        assert_ne!(kind(4), io::ErrorKind::Interrupted);
        // Every 16-bit code (Win32 codes are), and beyond; a sample of them under Miri.
        let step = if cfg!(miri) { 251 } else { 1 };
        let codes =
            (0..=0xFFFF_u32)
                .step_by(step)
                .chain([4, 10004, 0x8007_0005, 0xC000_0005, u32::MAX]);
        for code in codes {
            assert_ne!(kind(code), io::ErrorKind::Interrupted, "code {code}");
            let table = ErrorCode::from_raw(code).io_error_kind();
            assert_ne!(table, io::ErrorKind::Interrupted, "code {code}");
            // On Windows the io error is std's, whose table this one is: the same kind, or a
            // kind only std may name (`Uncategorized`, `FilesystemLoop`, and `InvalidFilename`, newer than
            // the MSRV) where this says Other.
            let std = kind(code);
            let unnameable = matches!(
                format!("{std:?}").as_str(),
                "Uncategorized" | "FilesystemLoop" | "InvalidFilename"
            );
            assert!(
                std == table || (table == io::ErrorKind::Other && unnameable),
                "code {code}: {std:?} from the io error, {table:?} from the table"
            );
        }
    }

    #[cfg(feature = "dbghelp")]
    #[test]
    fn hresults_that_wrap_no_win32_code_have_their_own_kind() {
        let wrapped = Error::hresult(Function::MiniDumpWriteDump, 0x8007_0005);
        assert_eq!(wrapped.kind(), ErrorKind::Os(ErrorCode::ACCESS_DENIED));
        let other = Error::hresult(Function::MiniDumpWriteDump, 0x8000_FFFF);
        assert_eq!(other.kind(), ErrorKind::HResult(0x8000_FFFF));
        assert_eq!(other.code(), None);
        assert_eq!(
            other.to_string(),
            "MiniDumpWriteDump failed: HRESULT 0x8000FFFF"
        );
    }

    #[test]
    fn messages_name_the_function_and_the_code() {
        let error = Error::os(Function::PssWalkSnapshot, sys::ERROR_BAD_LENGTH);
        assert_eq!(
            error.to_string(),
            "PssWalkSnapshot failed: the buffer length is invalid (ERROR_BAD_LENGTH)"
        );
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::BAD_LENGTH));
        assert_eq!(error.raw_os_error(), Some(24));
        let refused = Error::foreign_position();
        assert_eq!(refused.code(), None);
        assert!(
            refused
                .to_string()
                .starts_with("PssWalkMarkerSetPosition not called")
        );
    }
}
