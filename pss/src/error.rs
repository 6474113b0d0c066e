//! The one error type: which function failed, and why.

use core::fmt;
use std::io;

use pss_sys as sys;

use crate::CaptureFlags;

/// `Result<T, pss::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

/// A failed (or refused) call: the kernel32 function, and why.
///
/// Every PSS function returns its Win32 error code directly; [`OpenProcess`] reports it through
/// [`GetLastError`]. Both end up here, with the code in [`Error::code`] and a typed
/// [`Error::kind`]. Two kinds carry no code because `pss` did not call the function at all:
/// [`ErrorKind::Unavailable`] and [`ErrorKind::InvalidFlags`] (and
/// [`ErrorKind::ForeignPosition`], a misuse caught before calling).
///
/// Converting into [`std::io::Error`] keeps the Win32 code (see the [`From`] impl).
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
}

impl Error {
    /// An error code returned by (or, for `OpenProcess`, left behind by) `function`. Cold and
    /// out of line, so the success paths that might call it stay small enough to inline.
    #[cold]
    #[inline(never)]
    pub(crate) fn os(function: Function, code: u32) -> Self {
        Error {
            function,
            kind: ErrorKind::from_code(code),
            reason: None,
            bytes_read: None,
        }
    }

    /// `ReadProcessMemory` failed with `code` after copying `read` bytes.
    pub(crate) fn read_failed(code: u32, read: usize) -> Self {
        Error {
            bytes_read: Some(read),
            ..Error::os(Function::ReadProcessMemory, code)
        }
    }

    #[cfg(feature = "minidump")]
    /// `function` failed and left `hresult` as the thread's last error (as `MiniDumpWriteDump`
    /// does): a wrapped Win32 error (`HRESULT_FROM_WIN32`) is typed by its code; any other
    /// `HRESULT` is kept whole as [`ErrorKind::Other`].
    pub(crate) fn hresult(function: Function, hresult: u32) -> Self {
        const FACILITY_WIN32: u32 = 0x8007_0000;
        let code = if hresult & 0xFFFF_0000 == FACILITY_WIN32 {
            hresult & 0xFFFF
        } else {
            hresult
        };
        Error::os(function, code)
    }

    /// `function` was not called because kernel32 does not export the PSS functions.
    pub(crate) fn unavailable(function: Function) -> Self {
        Error {
            function,
            kind: ErrorKind::Unavailable,
            reason: None,
            bytes_read: None,
        }
    }

    /// `function` answered `ERROR_NOT_FOUND` for information that only `flags` would have
    /// captured.
    pub(crate) fn not_captured(function: Function, flags: CaptureFlags) -> Self {
        Error {
            function,
            kind: ErrorKind::NotCaptured(flags),
            reason: None,
            bytes_read: None,
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
            function,
            kind: ErrorKind::Reentrant,
            reason: Some("called from inside a WalkAllocator callback"),
            bytes_read: None,
        }
    }

    /// `PssWalkMarkerSetPosition` was not called: the position belongs to another walk.
    pub(crate) fn foreign_position() -> Self {
        Error {
            function: Function::PssWalkMarkerSetPosition,
            kind: ErrorKind::ForeignPosition,
            reason: Some("a position can only be restored on the walk that saved it"),
            bytes_read: None,
        }
    }

    /// `function` was not called because its flags break a documented rule.
    pub(crate) fn invalid_flags(function: Function, reason: &'static str) -> Self {
        Error {
            function,
            kind: ErrorKind::InvalidFlags,
            reason: Some(reason),
            bytes_read: None,
        }
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
    /// [`ForeignPosition`](ErrorKind::ForeignPosition)).
    pub fn code(&self) -> Option<u32> {
        self.kind.code()
    }

    /// The Win32 error code as [`std::io::Error::raw_os_error`] would report it.
    pub fn raw_os_error(&self) -> Option<i32> {
        // Win32 codes are DWORDs; io::Error stores them as i32 (same bits, as std does).
        self.code().map(|code| code as i32)
    }

    /// Why `pss` refused the call, for [`InvalidFlags`](ErrorKind::InvalidFlags),
    /// [`ForeignPosition`](ErrorKind::ForeignPosition) and [`Reentrant`](ErrorKind::Reentrant);
    /// for [`NotFound`](ErrorKind::NotFound) from a query or walk, the likely causes where
    /// there is more than one (e.g. threads: not captured, or the process had exited).
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
        } = self.0;
        match kind.code() {
            Some(_) => write!(f, "{function} failed: {kind}")?,
            None => write!(f, "{function} not called: {kind}")?,
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

/// Keeps the Win32 code: [`io::Error::from_raw_os_error`] whenever there is one, so
/// `raw_os_error()` still answers. (On a non-Windows host, where only the test model runs, the
/// host interprets that number as an `errno` for `kind()` and `Display`.) Without a code:
/// [`Unavailable`](ErrorKind::Unavailable) becomes [`io::ErrorKind::Unsupported`];
/// [`InvalidFlags`](ErrorKind::InvalidFlags) and [`ForeignPosition`](ErrorKind::ForeignPosition)
/// become [`io::ErrorKind::InvalidInput`]; [`Reentrant`](ErrorKind::Reentrant) becomes
/// [`io::ErrorKind::ResourceBusy`]; each wraps this error.
impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        match (error.raw_os_error(), error.kind) {
            (Some(code), _) => io::Error::from_raw_os_error(code),
            (None, ErrorKind::InvalidFlags | ErrorKind::ForeignPosition) => {
                io::Error::new(io::ErrorKind::InvalidInput, error)
            }
            (None, ErrorKind::Reentrant) => io::Error::new(io::ErrorKind::ResourceBusy, error),
            (None, _) => io::Error::new(io::ErrorKind::Unsupported, error),
        }
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
            Function::MiniDumpWriteDump => "MiniDumpWriteDump",
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call failed: one variant per code the PSS pages document, any other Win32 code, and
/// the two refusals `pss` makes before calling.
///
/// The PSS pages say "all error codes are defined in winerror.h": the documented codes are not
/// a closed set, so anything else is kept as [`Other`](ErrorKind::Other). Codes are listed on
/// [System Error Codes].
///
/// [System Error Codes]: https://learn.microsoft.com/en-us/windows/win32/debug/system-error-codes--0-499-
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ERROR_INVALID_HANDLE` (6): a handle argument is invalid (the pages do not say which one).
    #[doc(alias = "ERROR_INVALID_HANDLE")]
    InvalidHandle,
    /// `ERROR_NOT_SUPPORTED` (50): e.g. a remote free of a snapshot that was neither
    /// VM-allocated nor duplicated remotely.
    #[doc(alias = "ERROR_NOT_SUPPORTED")]
    NotSupported,
    /// `ERROR_BAD_LENGTH` (24): a buffer length is invalid.
    #[doc(alias = "ERROR_BAD_LENGTH")]
    BadLength,
    /// `ERROR_INVALID_PARAMETER` (87): e.g. an invalid information class or process ID.
    #[doc(alias = "ERROR_INVALID_PARAMETER")]
    InvalidParameter,
    /// `ERROR_NOT_FOUND` (1168): the requested information is not in the snapshot, where a
    /// missing capture flag is not the only possible cause ([`Error::reason`] names the causes;
    /// queries and walks report [`NotCaptured`](ErrorKind::NotCaptured) instead wherever the
    /// flag is the only one).
    #[doc(alias = "ERROR_NOT_FOUND")]
    NotFound,
    /// `ERROR_NOT_FOUND` (1168) from [`PssQuerySnapshot`] or [`PssWalkSnapshot`]: the snapshot
    /// was captured without the flag(s) carried here, which would have provided the
    /// information.
    ///
    /// Used where the flag is the only cause: the VA clone ([`CaptureFlags::VA_CLONE`]), the
    /// auxiliary pages ([`CaptureFlags::AUXILIARY_PAGES`]), the address space
    /// ([`CaptureFlags::VA_SPACE`]) and the handles ([`CaptureFlags::HANDLES`]). Threads and the
    /// handle trace can be missing for other reasons too, and are reported as
    /// [`NotFound`](ErrorKind::NotFound) with those reasons.
    ///
    /// [`PssQuerySnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot
    /// [`PssWalkSnapshot`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot
    #[doc(alias = "ERROR_NOT_FOUND")]
    NotCaptured(CaptureFlags),
    /// `ERROR_NOT_ENOUGH_MEMORY` (8).
    #[doc(alias = "ERROR_NOT_ENOUGH_MEMORY")]
    NotEnoughMemory,
    /// `ERROR_ACCESS_DENIED` (5): the process handle lacks a right the call needs, or the
    /// caller may not open the process.
    #[doc(alias = "ERROR_ACCESS_DENIED")]
    AccessDenied,
    /// `ERROR_MORE_DATA` (234): a walk probe with no buffer found an entry.
    #[doc(alias = "ERROR_MORE_DATA")]
    MoreData,
    /// `ERROR_NO_MORE_ITEMS` (259): a walk is complete.
    #[doc(alias = "ERROR_NO_MORE_ITEMS")]
    NoMoreItems,
    /// `ERROR_PARTIAL_COPY` (299): a memory read stopped part-way, at memory it could not read
    /// ([`Error::bytes_read`] says how far it got); from a VA clone, also memory the clone does
    /// not hold (anonymous shared sections).
    #[doc(alias = "ERROR_PARTIAL_COPY")]
    PartialCopy,
    /// `ERROR_NOACCESS` (998): the memory at the address cannot be read at all.
    #[doc(alias = "ERROR_NOACCESS")]
    NoAccess,
    /// Any other Win32 error code.
    Other(u32),
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
    /// Not called: a [`WalkAllocator`](crate::WalkAllocator) callback, which kernel32 runs in
    /// the middle of a PSS call, tried to make another PSS call on the same thread. A free
    /// refused this way leaks the snapshot or marker instead.
    Reentrant,
}

impl ErrorKind {
    fn from_code(code: u32) -> Self {
        match code {
            sys::ERROR_INVALID_HANDLE => ErrorKind::InvalidHandle,
            sys::ERROR_NOT_SUPPORTED => ErrorKind::NotSupported,
            sys::ERROR_BAD_LENGTH => ErrorKind::BadLength,
            sys::ERROR_INVALID_PARAMETER => ErrorKind::InvalidParameter,
            sys::ERROR_NOT_FOUND => ErrorKind::NotFound,
            sys::ERROR_NOT_ENOUGH_MEMORY => ErrorKind::NotEnoughMemory,
            sys::ERROR_ACCESS_DENIED => ErrorKind::AccessDenied,
            sys::ERROR_MORE_DATA => ErrorKind::MoreData,
            sys::ERROR_NO_MORE_ITEMS => ErrorKind::NoMoreItems,
            sys::ERROR_PARTIAL_COPY => ErrorKind::PartialCopy,
            sys::ERROR_NOACCESS => ErrorKind::NoAccess,
            other => ErrorKind::Other(other),
        }
    }

    /// The Win32 error code of this kind, `None` for the kinds where nothing was called.
    pub fn code(self) -> Option<u32> {
        Some(match self {
            ErrorKind::InvalidHandle => sys::ERROR_INVALID_HANDLE,
            ErrorKind::NotSupported => sys::ERROR_NOT_SUPPORTED,
            ErrorKind::BadLength => sys::ERROR_BAD_LENGTH,
            ErrorKind::InvalidParameter => sys::ERROR_INVALID_PARAMETER,
            ErrorKind::NotFound | ErrorKind::NotCaptured(_) => sys::ERROR_NOT_FOUND,
            ErrorKind::NotEnoughMemory => sys::ERROR_NOT_ENOUGH_MEMORY,
            ErrorKind::AccessDenied => sys::ERROR_ACCESS_DENIED,
            ErrorKind::MoreData => sys::ERROR_MORE_DATA,
            ErrorKind::NoMoreItems => sys::ERROR_NO_MORE_ITEMS,
            ErrorKind::PartialCopy => sys::ERROR_PARTIAL_COPY,
            ErrorKind::NoAccess => sys::ERROR_NOACCESS,
            ErrorKind::Other(code) => code,
            ErrorKind::Unavailable
            | ErrorKind::InvalidFlags
            | ErrorKind::ForeignPosition
            | ErrorKind::Reentrant => {
                return None;
            }
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::InvalidHandle => "the handle is invalid (ERROR_INVALID_HANDLE)",
            ErrorKind::NotSupported => "not supported (ERROR_NOT_SUPPORTED)",
            ErrorKind::BadLength => "the buffer length is invalid (ERROR_BAD_LENGTH)",
            ErrorKind::InvalidParameter => "a parameter is invalid (ERROR_INVALID_PARAMETER)",
            ErrorKind::NotFound => "the information is not in the snapshot (ERROR_NOT_FOUND)",
            ErrorKind::NotEnoughMemory => "not enough memory (ERROR_NOT_ENOUGH_MEMORY)",
            ErrorKind::AccessDenied => "access is denied (ERROR_ACCESS_DENIED)",
            ErrorKind::MoreData => "more data is available (ERROR_MORE_DATA)",
            ErrorKind::NoMoreItems => "no more items (ERROR_NO_MORE_ITEMS)",
            ErrorKind::PartialCopy => "only part of the memory was read (ERROR_PARTIAL_COPY)",
            ErrorKind::NoAccess => "the memory cannot be read (ERROR_NOACCESS)",
            ErrorKind::Other(code) => return write!(f, "Win32 error {code}"),
            ErrorKind::NotCaptured(flags) => {
                f.write_str("not in the snapshot: it was captured without ")?;
                bitflags::parser::to_writer(flags, &mut *f)?;
                return f.write_str(" (ERROR_NOT_FOUND)");
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

static_assertions::assert_impl_all!(Error: Send, Sync, Unpin, std::error::Error);
static_assertions::assert_impl_all!(ErrorKind: Send, Sync, Copy);
static_assertions::assert_impl_all!(Function: Send, Sync, Copy);
