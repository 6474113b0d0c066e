//! `CreateFileW`, for the files `MiniDumpWriteDump` writes to, and `FormatMessageW`, the system's
//! message text for an error code.
//!
//! A file is created (or truncated) on the host's disk when `CreateFileW` is called, as Windows
//! does, so a path that cannot be written fails there, with the code Windows gives for the same
//! cause, not later in the dump: a missing directory is `ERROR_PATH_NOT_FOUND`, a directory or a
//! file without write permission `ERROR_ACCESS_DENIED`, a read-only file system
//! `ERROR_WRITE_PROTECT`, a name too long `ERROR_FILENAME_EXCED_RANGE`. Only what `pss` passes
//! is modelled: `GENERIC_WRITE` with `CREATE_ALWAYS`; anything else is misuse.

use super::kernel::{self, misuse};
use super::process::set_last_error;
use pss_sys::*;
use std::path::PathBuf;

const ERROR_WRITE_PROTECT: u32 = 19;
const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
const ERROR_INVALID_NAME: u32 = 123;
const ERROR_FILENAME_EXCED_RANGE: u32 = 206;

/// The Windows code for what went wrong creating a file on the host.
fn windows_code(error: &std::io::Error) -> u32 {
    match error.raw_os_error() {
        Some(2 | 20) => ERROR_PATH_NOT_FOUND, // ENOENT, ENOTDIR: a directory on the way is missing
        Some(1 | 13 | 21) => ERROR_ACCESS_DENIED, // EPERM, EACCES, EISDIR
        Some(30) => ERROR_WRITE_PROTECT,      // EROFS
        Some(36) => ERROR_FILENAME_EXCED_RANGE, // ENAMETOOLONG
        _ => ERROR_INVALID_NAME,
    }
}

/// Reads a NUL-terminated UTF-16 path.
///
/// # Safety
///
/// `path` is NUL-terminated and readable up to the NUL.
unsafe fn wide_path(path: PCWSTR) -> PathBuf {
    let mut units = Vec::new();
    let mut p = path;
    // SAFETY: the caller vouches for a NUL-terminated string.
    unsafe {
        while *p != 0 {
            units.push(*p);
            p = p.add(1);
        }
    }
    PathBuf::from(String::from_utf16_lossy(&units))
}

#[unsafe(no_mangle)]
pub extern "system" fn CreateFileW(
    lpfilename: PCWSTR,
    dwdesiredaccess: u32,
    _dwsharemode: FILE_SHARE_MODE,
    _lpsecurityattributes: *const SECURITY_ATTRIBUTES,
    dwcreationdisposition: FILE_CREATION_DISPOSITION,
    _dwflagsandattributes: FILE_FLAGS_AND_ATTRIBUTES,
    _htemplatefile: HANDLE,
) -> HANDLE {
    let _e = kernel::enter("CreateFileW");
    if lpfilename.is_null() {
        misuse("CreateFileW", "NULL file name");
    }
    if dwdesiredaccess != GENERIC_WRITE || dwcreationdisposition != CREATE_ALWAYS {
        misuse(
            "CreateFileW",
            "the model creates files for writing only (GENERIC_WRITE, CREATE_ALWAYS)",
        );
    }
    // SAFETY: a non-NULL file name is NUL-terminated (documented).
    let path = unsafe { wide_path(lpfilename) };
    drop(_e);
    match std::fs::File::create(&path) {
        Ok(_) => super::dump::file_handle(&path, true),
        Err(error) => {
            set_last_error(windows_code(&error));
            INVALID_HANDLE_VALUE
        }
    }
}

/// The message texts the model knows (Windows' English text), for codes `pss` does not name.
const MESSAGES: [(u32, &str); 5] = [
    (2, "The system cannot find the file specified."),
    (3, "The system cannot find the path specified."),
    (19, "The media is write protected."),
    (
        32,
        "The process cannot access the file because it is being used by another process.",
    ),
    (1314, "A required privilege is not held by the client."),
];

#[unsafe(no_mangle)]
pub extern "system" fn FormatMessageW(
    dwflags: FORMAT_MESSAGE_OPTIONS,
    _lpsource: *const std::ffi::c_void,
    dwmessageid: u32,
    _dwlanguageid: u32,
    lpbuffer: PWSTR,
    nsize: u32,
    _arguments: *const *const i8,
) -> u32 {
    let _e = kernel::enter("FormatMessageW");
    if dwflags & FORMAT_MESSAGE_FROM_SYSTEM == 0 || lpbuffer.is_null() {
        misuse(
            "FormatMessageW",
            "the model formats system messages into a caller's buffer only",
        );
    }
    let Some((_, text)) = MESSAGES.iter().find(|(code, _)| *code == dwmessageid) else {
        set_last_error(317); // ERROR_MR_MID_NOT_FOUND
        return 0;
    };
    // Windows ends system messages with CR LF.
    let units: Vec<u16> = text.encode_utf16().chain([13, 10]).collect();
    if units.len() + 1 > nsize as usize {
        set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    // SAFETY: the caller's buffer holds `nsize` units (documented), more than written here.
    unsafe {
        std::ptr::copy_nonoverlapping(units.as_ptr(), lpbuffer, units.len());
        lpbuffer.add(units.len()).write(0);
    }
    units.len() as u32
}
