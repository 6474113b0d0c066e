//! The process's parameters: its command line, image path, current directory and environment,
//! read from the `RTL_USER_PROCESS_PARAMETERS` its PEB points to, through the VA clone.
//!
//! Everything here is read from the target's memory, which may hold anything: every length is
//! checked against what a `UNICODE_STRING` allows, every address is added with checked
//! arithmetic and read through `ReadProcessMemory` (which fails on memory the clone lacks),
//! and the environment is read in bounded chunks up to [`Environment::MAX_SIZE`].

use core::iter::FusedIterator;

use pss_sys as sys;

use crate::{Allocation, Error, Function, LocalSnapshot, Result, VaClone, WideStr};

/// Offsets for this build's pointer width: the target is read in this architecture's layout
/// (x64's on arm64, which shares it). A capture across bitness is issue 24's concern.
const POINTER: usize = size_of::<usize>();
const WIDE: bool = POINTER == 8;

/// An offset on x64 and arm64, or on x86.
const fn off(x64: usize, x86: usize) -> usize {
    if WIDE { x64 } else { x86 }
}

/// `PEB.ProcessParameters` (winternl.h: after two bytes, `BeingDebugged`, a byte, two
/// pointers and `Ldr`).
const PEB_PROCESS_PARAMETERS: usize = off(0x20, 0x10);
// RTL_USER_PROCESS_PARAMETERS
const FLAGS: usize = 0x08;
const CURRENT_DIRECTORY: usize = off(0x38, 0x24);
const DLL_PATH: usize = off(0x50, 0x30);
const IMAGE_PATH_NAME: usize = off(0x60, 0x38);
const COMMAND_LINE: usize = off(0x70, 0x40);
const ENVIRONMENT: usize = off(0x80, 0x48);
const WINDOW_TITLE: usize = off(0xB0, 0x70);
const DESKTOP_INFO: usize = off(0xC0, 0x78);
const ENVIRONMENT_SIZE: usize = off(0x3F0, 0x290);
/// The bytes read of the structure: up to and including `EnvironmentSize`, which every
/// Windows with PSS has there (the whole structure is `0x448` bytes on Windows 11 x64).
const HEADER: usize = ENVIRONMENT_SIZE + POINTER;
/// `UNICODE_STRING.Buffer`, after two `u16` lengths and padding.
const STRING_BUFFER: usize = off(8, 4);
/// `RTL_USER_PROC_PARAMS_NORMALIZED`.
const NORMALIZED: u32 = 1;
/// The environment is read this many bytes at a time (the kernel's copy chunk), stopping at
/// its end.
const ENVIRONMENT_CHUNK: usize = 0x1_0000;

// Every field read lies in the bytes read.
const _: () = assert!(DESKTOP_INFO + STRING_BUFFER + POINTER <= HEADER);

/// What to say when a field cannot be read: the step (the field), the cause, and what helps.
struct Field {
    odd: &'static str,
    too_long: &'static str,
    unreadable: &'static str,
}

macro_rules! field {
    ($name:literal) => {
        Field {
            odd: concat!(
                "RTL_USER_PROCESS_PARAMETERS.",
                $name,
                ".Length is odd, which no UTF-16 string is: the target's parameters are \
                 corrupt or were being written at capture; capture again, or read the other fields"
            ),
            too_long: concat!(
                "RTL_USER_PROCESS_PARAMETERS.",
                $name,
                ".Length is above its MaximumLength: the target's parameters are corrupt or \
                 were being written at capture; capture again, or read the other fields"
            ),
            unreadable: concat!(
                "RTL_USER_PROCESS_PARAMETERS.",
                $name,
                ".Buffer points to memory the VA clone cannot read: the target's parameters \
                 are corrupt or were being written at capture; capture again, or read the other \
                 fields"
            ),
        }
    };
}

const CURRENT_DIRECTORY_FIELD: Field = field!("CurrentDirectory.DosPath");
const DLL_PATH_FIELD: Field = field!("DllPath");
const IMAGE_PATH_NAME_FIELD: Field = field!("ImagePathName");
const COMMAND_LINE_FIELD: Field = field!("CommandLine");
const WINDOW_TITLE_FIELD: Field = field!("WindowTitle");
const DESKTOP_INFO_FIELD: Field = field!("DesktopInfo");

const PEB_UNREADABLE: &str = "PEB.ProcessParameters cannot be read through the VA clone: \
     PSS_PROCESS_INFORMATION.PebBaseAddress is not in it (a process without a PEB, or one of \
     another bitness than this build); nothing to read";
const NO_PARAMETERS: &str = "PEB.ProcessParameters is NULL: the process was captured before \
     it had parameters, or its PEB was overwritten; capture it again once it runs";
const PARAMETERS_UNREADABLE: &str = "PEB.ProcessParameters points to memory the VA clone \
     cannot read: the PEB is corrupt, or the process was captured while being created; capture \
     it again once it runs";
const ENVIRONMENT_UNREADABLE: &str = "RTL_USER_PROCESS_PARAMETERS.Environment points to \
     memory the VA clone cannot read: the target's parameters are corrupt or were being \
     written at capture; capture again, or read the other fields";

/// A `UNICODE_STRING` as the target holds it: lengths in bytes, and where its text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UnicodeString {
    length: u16,
    maximum_length: u16,
    buffer: usize,
}

/// The process parameters of a captured process (`RTL_USER_PROCESS_PARAMETERS`), found by
/// [`LocalSnapshot::process_parameters`]: where they are, and their strings and environment,
/// each read through the VA clone when asked for.
///
/// Each accessor reads its own field and fails on its own (with an error naming the field, why
/// it could not be read and what helps), so a corrupt environment does not hide the command
/// line. The strings are `UNICODE_STRING`s: at most 32,767 UTF-16 units each (the `u16` byte
/// length caps them at 64 KiB), returned exactly as the target holds them, unterminated and
/// not necessarily valid UTF-16 ([`WideStr`]'s conversions say how to take them).
///
/// The values are the target's as of the capture, and they are what the process made of
/// them: a program may rewrite its command line in place, and its current directory and
/// environment change as it runs (`SetCurrentDirectory`, `SetEnvironmentVariable`).
///
/// # Layout
///
/// The structure is read in this build's layout: x64's on 64-bit builds (arm64 shares it),
/// x86's on 32-bit ones, with the offsets Windows 11's kernel and ntdll use (Microsoft's
/// `winternl.h` documents `ImagePathName` and `CommandLine`; the evidence for the others is in
/// `pss-model`'s table of choices). A 64-bit build reading a WOW64 target reads the 64-bit
/// block the kernel made when the process was created, not the 32-bit copy its 32-bit code
/// uses (the 32-bit PEB's), so a current directory or an environment the program changed may
/// show as it was at start; a 32-bit build capturing a 64-bit process cannot read it (issue
/// 24). Buffers are absolute addresses when `Flags` has `RTL_USER_PROC_PARAMS_NORMALIZED`, as
/// in every started process, else offsets from the structure, which are resolved as ntdll's
/// `RtlNormalizeProcessParams` does.
///
/// # References
///
/// - [`RTL_USER_PROCESS_PARAMETERS`], [`PEB`]
///
/// [`RTL_USER_PROCESS_PARAMETERS`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-rtl_user_process_parameters
/// [`PEB`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-peb
#[doc(alias = "RTL_USER_PROCESS_PARAMETERS")]
#[derive(Debug, Clone, Copy)]
pub struct ProcessParameters<'s> {
    clone: VaClone<'s>,
    address: usize,
    flags: u32,
    current_directory: UnicodeString,
    dll_path: UnicodeString,
    image_path: UnicodeString,
    command_line: UnicodeString,
    window_title: UnicodeString,
    desktop_info: UnicodeString,
    environment: usize,
    environment_size: usize,
}

impl<A: Allocation> LocalSnapshot<A> {
    /// The process's parameters (`RTL_USER_PROCESS_PARAMETERS`): its command line, image path,
    /// current directory and environment, read from the snapshot alone while the process runs
    /// on.
    ///
    /// `PSS_PROCESS_INFORMATION` has the PEB's address, and the PEB's `ProcessParameters`
    /// points to the structure, read through the VA clone; its strings and environment are
    /// read when asked for ([`ProcessParameters`]), in this build's layout (see there for
    /// WOW64 targets and other bitness).
    ///
    /// Needs [`CaptureFlags::VA_CLONE`](crate::CaptureFlags::VA_CLONE): without it,
    /// [`ErrorKind::NotCaptured`](crate::ErrorKind::NotCaptured) naming the flag. A PEB, or a
    /// structure, that cannot be read through the clone is `ReadProcessMemory`'s
    /// [`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY), and a NULL
    /// `ProcessParameters` (a process captured while being created)
    /// [`ErrorCode::NOT_FOUND`](crate::ErrorCode::NOT_FOUND), each with a
    /// [reason](Error::reason).
    ///
    /// ```no_run,standalone_crate
    /// use pss::{CaptureFlags, LocalSnapshot, ProcessAccess};
    ///
    /// # fn main() -> pss::Result<()> {
    /// # let pid = 1234;
    /// let flags = CaptureFlags::VA_CLONE;
    /// let process = pss::open_process(pid, ProcessAccess::for_capture(flags))?;
    /// let snapshot = LocalSnapshot::capture(&process, flags)?;
    /// let parameters = snapshot.process_parameters()?;
    /// println!("{}", parameters.command_line()?.display());
    /// println!("in {}", parameters.current_directory()?.display());
    /// if let Some(path) = parameters.environment()?.get("PATH") {
    ///     println!("PATH={}", path.display());
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Kernel32 calls: `PssQuerySnapshot` twice (process and VA-clone information) and
    /// `ReadProcessMemory` twice (the PEB's pointer, the structure), and `GetLastError` if a
    /// read fails.
    ///
    /// # References
    ///
    /// - [`RTL_USER_PROCESS_PARAMETERS`], [`PEB`]
    ///
    /// [`RTL_USER_PROCESS_PARAMETERS`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-rtl_user_process_parameters
    /// [`PEB`]: https://learn.microsoft.com/en-us/windows/win32/api/winternl/ns-winternl-peb
    #[doc(
        alias = "RTL_USER_PROCESS_PARAMETERS",
        alias = "ProcessParameters",
        alias = "PEB"
    )]
    pub fn process_parameters(&self) -> Result<ProcessParameters<'_>> {
        let peb = self.process_information()?.peb_base_address();
        let clone = self.va_clone()?;
        let pointer = peb.checked_add(PEB_PROCESS_PARAMETERS).ok_or_else(|| {
            Error::read_failed(sys::ERROR_PARTIAL_COPY, 0).with_reason(PEB_UNREADABLE)
        })?;
        let address: usize = clone
            .read_value(pointer)
            .map_err(|e| e.with_reason(PEB_UNREADABLE))?;
        if address == 0 {
            return Err(Error::os(Function::ReadProcessMemory, sys::ERROR_NOT_FOUND)
                .with_reason(NO_PARAMETERS));
        }
        let header: [u8; HEADER] = clone
            .read_value(address)
            .map_err(|e| e.with_reason(PARAMETERS_UNREADABLE))?;
        Ok(ProcessParameters::parse(clone, address, &header))
    }
}

/// `N` bytes of `header` at `at`, which every caller passes as a constant inside it.
fn bytes_at<const N: usize>(header: &[u8; HEADER], at: usize) -> [u8; N] {
    let mut bytes = [0; N];
    if let Some(field) = header.get(at..at.saturating_add(N)) {
        bytes.copy_from_slice(field);
    }
    bytes
}

fn usize_at(header: &[u8; HEADER], at: usize) -> usize {
    usize::from_le_bytes(bytes_at(header, at))
}

fn unicode_string_at(header: &[u8; HEADER], at: usize) -> UnicodeString {
    UnicodeString {
        length: u16::from_le_bytes(bytes_at(header, at)),
        maximum_length: u16::from_le_bytes(bytes_at(header, at + 2)),
        buffer: usize_at(header, at + STRING_BUFFER),
    }
}

/// The bytes of `units`, to read UTF-16 into.
fn as_bytes_mut(units: &mut [u16]) -> &mut [u8] {
    let len = units.len() * 2;
    // SAFETY: the `len` bytes of `units` are initialised and exclusively borrowed for the
    // result's life; `u8` needs no alignment, and any bytes written make valid `u16`s.
    unsafe { core::slice::from_raw_parts_mut(units.as_mut_ptr().cast::<u8>(), len) }
}

/// Windows' UTF-16 is little-endian; so is every host `pss` runs on, where this is free.
fn from_le(units: &mut [u16]) {
    for unit in units {
        *unit = u16::from_le(*unit);
    }
}

impl<'s> ProcessParameters<'s> {
    fn parse(clone: VaClone<'s>, address: usize, header: &[u8; HEADER]) -> Self {
        ProcessParameters {
            clone,
            address,
            flags: u32::from_le_bytes(bytes_at(header, FLAGS)),
            current_directory: unicode_string_at(header, CURRENT_DIRECTORY),
            dll_path: unicode_string_at(header, DLL_PATH),
            image_path: unicode_string_at(header, IMAGE_PATH_NAME),
            command_line: unicode_string_at(header, COMMAND_LINE),
            window_title: unicode_string_at(header, WINDOW_TITLE),
            desktop_info: unicode_string_at(header, DESKTOP_INFO),
            environment: usize_at(header, ENVIRONMENT),
            environment_size: usize_at(header, ENVIRONMENT_SIZE),
        }
    }

    /// Where the structure is in the target (the PEB's `ProcessParameters`).
    pub fn address(&self) -> usize {
        self.address
    }

    /// Its `Flags`, as the target holds them: `RTL_USER_PROC_PARAMS_NORMALIZED` (1) in every
    /// started process, and others undocumented.
    #[doc(alias = "Flags")]
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// True when `Flags` has `RTL_USER_PROC_PARAMS_NORMALIZED`: the strings' buffers are
    /// addresses. Without it (a block ntdll has not yet normalised) they are offsets from
    /// [`address`](Self::address), and are read as such.
    pub fn is_normalized(&self) -> bool {
        self.flags & NORMALIZED != 0
    }

    /// `ImagePathName`: the path of the process's executable, a DOS path as its creator gave
    /// it (`C:\Windows\System32\notepad.exe`), unlike the NT paths of mapped files.
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    #[doc(alias = "ImagePathName")]
    pub fn image_path(&self) -> Result<WideStr<'static>> {
        self.read_string(self.image_path, &IMAGE_PATH_NAME_FIELD)
    }

    /// `CommandLine`: the process's command line, as [`GetCommandLineW`] returns it in the
    /// process (the program's name, often quoted, then its arguments), not split into
    /// arguments.
    ///
    /// A program may overwrite its command line in memory, and some hide their arguments that
    /// way: this is what the target held at capture.
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    ///
    /// [`GetCommandLineW`]: https://learn.microsoft.com/en-us/windows/win32/api/processenv/nf-processenv-getcommandlinew
    #[doc(alias = "CommandLine", alias = "GetCommandLineW")]
    pub fn command_line(&self) -> Result<WideStr<'static>> {
        self.read_string(self.command_line, &COMMAND_LINE_FIELD)
    }

    /// `CurrentDirectory.DosPath`: the process's current directory, as [`GetCurrentDirectory`]
    /// gives it in the process but ending in `\` (`C:\Users\me\`), as Windows keeps it.
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    ///
    /// [`GetCurrentDirectory`]: https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-getcurrentdirectory
    #[doc(alias = "CurrentDirectory", alias = "GetCurrentDirectoryW")]
    pub fn current_directory(&self) -> Result<WideStr<'static>> {
        self.read_string(self.current_directory, &CURRENT_DIRECTORY_FIELD)
    }

    /// `DllPath`: the DLL search path the process's creator passed; empty in processes that
    /// `CreateProcess` starts (the loader computes its search path instead).
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    #[doc(alias = "DllPath")]
    pub fn dll_path(&self) -> Result<WideStr<'static>> {
        self.read_string(self.dll_path, &DLL_PATH_FIELD)
    }

    /// `WindowTitle`: `STARTUPINFO.lpTitle` as the creator passed it, or the image path when it
    /// passed none.
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    #[doc(alias = "WindowTitle", alias = "lpTitle")]
    pub fn window_title(&self) -> Result<WideStr<'static>> {
        self.read_string(self.window_title, &WINDOW_TITLE_FIELD)
    }

    /// `DesktopInfo`: the window station and desktop the process started on
    /// (`STARTUPINFO.lpDesktop`, e.g. `Winsta0\Default`).
    ///
    /// Kernel32 calls: `ReadProcessMemory` (none for an empty string), and `GetLastError` if it
    /// fails.
    #[doc(alias = "DesktopInfo", alias = "lpDesktop")]
    pub fn desktop_info(&self) -> Result<WideStr<'static>> {
        self.read_string(self.desktop_info, &DESKTOP_INFO_FIELD)
    }

    /// `Environment`: where the environment block is in the target, as it holds it (NULL if it
    /// has none). [`environment`](Self::environment) reads it.
    #[doc(alias = "Environment")]
    pub fn environment_address(&self) -> usize {
        self.environment
    }

    /// `EnvironmentSize`: the bytes the target says its environment block has, unchecked
    /// (the terminating empty string included, in a started process).
    #[doc(alias = "EnvironmentSize")]
    pub fn environment_size(&self) -> usize {
        self.environment_size
    }

    /// The environment: the process's variables, as [`GetEnvironmentStringsW`] gives them in
    /// the process (`NAME=VALUE`, each NUL-terminated, the block ending with an empty string).
    ///
    /// Read in 64 KiB chunks up to the block's end (its empty string), and never more than
    /// `EnvironmentSize` or [`Environment::MAX_SIZE`] bytes, nor past the memory the clone can
    /// read: a block that does not end within them comes back with
    /// [`is_complete`](Environment::is_complete) false and only its whole variables. A NULL
    /// `Environment` is an empty environment (ntdll gives a process without one an empty
    /// block). Fails only when the block's first bytes cannot be read
    /// ([`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY), with a reason).
    ///
    /// The environment often holds secrets (tokens, passwords, keys): treat it as such.
    ///
    /// Kernel32 calls: one `ReadProcessMemory` per 64 KiB read (one for most environments;
    /// none for a NULL one), and after a short read `GetLastError` and the page-by-page reads of
    /// [`VaClone::read`].
    ///
    /// [`GetEnvironmentStringsW`]: https://learn.microsoft.com/en-us/windows/win32/api/processenv/nf-processenv-getenvironmentstringsw
    #[doc(
        alias = "Environment",
        alias = "EnvironmentSize",
        alias = "GetEnvironmentStringsW"
    )]
    pub fn environment(&self) -> Result<Environment> {
        let mut environment = Environment {
            address: self.environment,
            declared_size: self.environment_size,
            units: Vec::new(),
            complete: false,
        };
        if self.environment == 0 {
            environment.complete = true;
            return Ok(environment);
        }
        let limit = self.environment_size.min(Environment::MAX_SIZE) / 2;
        let units = &mut environment.units;
        while units.len() < limit {
            let start = units.len();
            let want = (limit - start).min(ENVIRONMENT_CHUNK / 2);
            // `start * 2` is at most `MAX_SIZE`: no overflow.
            let Some(at) = self.environment.checked_add(start * 2) else {
                break;
            };
            units.resize(start + want, 0);
            let read = match self.clone.read(at, as_bytes_mut(&mut units[start..])) {
                Ok(read) => read,
                Err(e) if start == 0 => return Err(e.with_reason(ENVIRONMENT_UNREADABLE)),
                // Readable memory ends at a chunk's boundary.
                Err(_) => 0,
            };
            let got = read / 2;
            units.truncate(start + got);
            from_le(&mut units[start..]);
            // The block ends with an empty string: a NUL at its start or after another NUL
            // (which may be the last unit of the chunk before).
            let end =
                (start..units.len()).find(|&i| units[i] == 0 && (i == 0 || units[i - 1] == 0));
            if let Some(end) = end {
                units.truncate(end);
                environment.complete = true;
                break;
            }
            if got < want {
                break;
            }
        }
        environment.units.shrink_to_fit();
        Ok(environment)
    }

    /// Where each of the structure's strings is in the target, for a dump's memory: (address,
    /// bytes), each buffer's `Length` and its NUL where `MaximumLength` has room for it; none
    /// for an empty string, a NULL buffer, or lengths that lie.
    #[cfg(feature = "dump-writer")]
    pub(crate) fn string_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        [
            self.current_directory,
            self.dll_path,
            self.image_path,
            self.command_line,
            self.window_title,
            self.desktop_info,
        ]
        .into_iter()
        .filter_map(|string| {
            if string.length == 0 || string.length % 2 != 0 || string.length > string.maximum_length
            {
                return None;
            }
            let address = match string.buffer {
                0 => None,
                buffer if self.is_normalized() => Some(buffer),
                offset => self.address.checked_add(offset),
            }?;
            let bytes = usize::from(string.length)
                + if string.maximum_length >= string.length.saturating_add(2) {
                    2
                } else {
                    0
                };
            Some((address, bytes))
        })
    }

    /// Reads a `UNICODE_STRING` of the structure, checked.
    fn read_string(&self, string: UnicodeString, field: &Field) -> Result<WideStr<'static>> {
        if string.length % 2 != 0 {
            return Err(
                Error::os(Function::ReadProcessMemory, sys::ERROR_BAD_LENGTH)
                    .with_reason(field.odd),
            );
        }
        if string.length > string.maximum_length {
            return Err(
                Error::os(Function::ReadProcessMemory, sys::ERROR_BAD_LENGTH)
                    .with_reason(field.too_long),
            );
        }
        let len = usize::from(string.length / 2);
        if len == 0 {
            return Ok(WideStr::from_vec(Vec::new()));
        }
        let address = match string.buffer {
            0 => None,
            buffer if self.is_normalized() => Some(buffer),
            offset => self.address.checked_add(offset),
        };
        let Some(address) = address else {
            return Err(
                Error::read_failed(sys::ERROR_PARTIAL_COPY, 0).with_reason(field.unreadable)
            );
        };
        let mut units = vec![0u16; len];
        self.clone
            .read_exact(address, as_bytes_mut(&mut units))
            .map_err(|e| e.with_reason(field.unreadable))?;
        from_le(&mut units);
        Ok(WideStr::from_vec(units))
    }
}

/// A process's environment block, read by [`ProcessParameters::environment`]: its variables,
/// in block order, through [`iter`](Self::iter) or [`get`](Self::get).
///
/// Owned: it holds the units read (the block without its terminating empty string), and its
/// iterator borrows them, allocating nothing per variable.
///
/// # References
///
/// - [Environment Variables](https://learn.microsoft.com/en-us/windows/win32/procthread/environment-variables)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    address: usize,
    declared_size: usize,
    units: Vec<u16>,
    complete: bool,
}

impl Environment {
    /// The most bytes of an environment block `pss` reads: 32 MiB, room for 512 variables of
    /// the largest size a variable may have (32,767 characters). Windows sets no limit on the
    /// block (its ntdll refuses blocks of 2 GiB and more); a target's `EnvironmentSize` is read
    /// as a bound, never trusted beyond this.
    pub const MAX_SIZE: usize = 32 << 20;

    /// Where the block is in the target.
    pub fn address(&self) -> usize {
        self.address
    }

    /// `EnvironmentSize` as the target gave it, unchecked.
    pub fn declared_size(&self) -> usize {
        self.declared_size
    }

    /// True when the block's end (its empty string) was found; false when it was cut by
    /// `EnvironmentSize`, [`MAX_SIZE`](Self::MAX_SIZE) or memory the clone cannot read, in
    /// which case [`iter`](Self::iter) gives the whole variables before the cut and nothing of
    /// the one it split.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The block's UTF-16 units as read: each variable followed by its NUL, without the
    /// terminating empty string (and, for an incomplete block, up to where reading stopped).
    pub fn as_utf16(&self) -> &[u16] {
        &self.units
    }

    /// The variables as `(name, value)`, in block order, borrowed from the block; no
    /// allocation.
    ///
    /// A name may begin with `=` (the per-drive current directories `=C:=C:\work` that
    /// `cmd.exe` keeps): the name ends at the first `=` after its first unit. An entry without
    /// `=`, which Windows never writes, is a name with an empty value.
    pub fn iter(&self) -> EnvironmentVariables<'_> {
        EnvironmentVariables { rest: &self.units }
    }

    /// The value of the variable `name`, compared as Windows compares variable names
    /// (ignoring case, unit by unit); the first one in block order if the block holds the
    /// name twice.
    #[doc(alias = "GetEnvironmentVariableW")]
    pub fn get(&self, name: &str) -> Option<WideStr<'_>> {
        self.iter()
            .find(|(candidate, _)| same_name(candidate.as_utf16(), name))
            .map(|(_, value)| value)
    }
}

impl<'a> IntoIterator for &'a Environment {
    type Item = (WideStr<'a>, WideStr<'a>);
    type IntoIter = EnvironmentVariables<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The upper case of a UTF-16 unit, as ntdll's `RtlUpcaseUnicodeChar` maps one unit to one.
fn upcase(unit: u16) -> u16 {
    if unit < 0x80 {
        return u16::from((unit as u8).to_ascii_uppercase());
    }
    let Some(c) = char::from_u32(u32::from(unit)) else {
        return unit; // a surrogate
    };
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u16::try_from(u32::from(u)).unwrap_or(unit),
        _ => unit,
    }
}

fn same_name(candidate: &[u16], name: &str) -> bool {
    let mut wanted = name.encode_utf16();
    candidate
        .iter()
        .all(|&unit| wanted.next().is_some_and(|w| upcase(w) == upcase(unit)))
        && wanted.next().is_none()
}

/// [`Environment::iter`]: the variables of an environment block as `(name, value)`.
#[derive(Debug, Clone)]
pub struct EnvironmentVariables<'a> {
    rest: &'a [u16],
}

impl<'a> Iterator for EnvironmentVariables<'a> {
    type Item = (WideStr<'a>, WideStr<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let Some(nul) = self.rest.iter().position(|&unit| unit == 0) else {
            // No variable left, or the part of one an incomplete block cut.
            self.rest = &[];
            return None;
        };
        let (entry, rest) = self.rest.split_at(nul);
        self.rest = rest.get(1..).unwrap_or(&[]);
        let equals = entry
            .iter()
            .skip(1)
            .position(|&unit| unit == u16::from(b'='))
            .map_or(entry.len(), |at| at + 1);
        let (name, value) = entry.split_at(equals);
        Some((
            WideStr::from_utf16(name),
            WideStr::from_utf16(value.get(1..).unwrap_or(&[])),
        ))
    }
}

impl FusedIterator for EnvironmentVariables<'_> {}

static_assertions::assert_impl_all!(ProcessParameters<'static>: Send, Sync, Copy);
static_assertions::assert_impl_all!(Environment: Send, Sync, Clone);
static_assertions::assert_impl_all!(EnvironmentVariables<'static>: Send, Sync, Clone);

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Environment {
        Environment {
            address: 0x1000,
            declared_size: 2 * text.len(),
            units: text.encode_utf16().collect(),
            complete: true,
        }
    }

    #[test]
    fn variables_split_at_the_first_equals_after_the_first_unit() {
        let env = block("=C:=C:\\work\0Path=a;b\0EMPTY=\0NOVALUE\0X==y\0");
        let vars: Vec<(String, String)> = env
            .iter()
            .map(|(n, v)| (n.to_string_lossy(), v.to_string_lossy()))
            .collect();
        let expected = [
            ("=C:", "C:\\work"),
            ("Path", "a;b"),
            ("EMPTY", ""),
            ("NOVALUE", ""),
            ("X", "=y"),
        ];
        assert_eq!(vars, expected.map(|(n, v)| (n.to_string(), v.to_string())));
    }

    #[test]
    fn a_cut_variable_is_not_given() {
        let mut env = block("A=1\0B=2");
        env.complete = false;
        assert_eq!(env.iter().count(), 1);
        assert!(block("").iter().next().is_none());
    }

    #[test]
    fn names_compare_ignoring_case() {
        let env = block("Path=p\0\u{e9}t\u{e9}=summer\0");
        assert_eq!(env.get("PATH").unwrap(), "p");
        assert_eq!(env.get("path").unwrap(), "p");
        assert_eq!(env.get("\u{c9}T\u{c9}").unwrap(), "summer");
        assert!(env.get("PAT").is_none());
        assert!(env.get("PATHS").is_none());
    }
}
