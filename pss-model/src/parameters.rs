//! The process's parameters: the `RTL_USER_PROCESS_PARAMETERS` block the PEB's
//! `ProcessParameters` points to, laid out in a model process with
//! [`ProcessSpec::with_peb`](super::ProcessSpec::with_peb) as Windows lays it out for the host's
//! pointer width (x64's offsets on aarch64 too), in one private region of its own at
//! [`PARAMETERS_ADDRESS`]:
//!
//! | where | what |
//! |---|---|
//! | the region's start | the structure (`0x448` bytes on x64 and arm64, `0x2C4` on x86): `MaximumLength` and `Length` (the structure and its strings), `Flags` = `RTL_USER_PROC_PARAMS_NORMALIZED` (buffers are absolute addresses), the strings' `UNICODE_STRING`s, `Environment`, `EnvironmentSize` |
//! | after it | the strings, each `MaximumLength` bytes rounded up to 8, NUL-terminated: `CurrentDirectory.DosPath` (`MaximumLength` 520, `MAX_PATH` units), `ImagePathName`, `CommandLine`, `WindowTitle`, `DesktopInfo`, `ShellInfo` (empty); `DllPath` and `RuntimeData` are empty with a NULL buffer |
//! | after the strings | the environment: `NAME=VALUE\0` per variable, then `\0` (`\0\0` when empty); `EnvironmentSize` counts it all |
//!
//! This is the block `RtlCreateProcessParametersInternal` builds and the kernel copies into a
//! new process (`PspCopyAndFixupParameters`: the structure, its strings and the environment,
//! `MaximumLength + EnvironmentSize` bytes, pointers relocated). A started process's ntdll then
//! moves the environment into the process heap (`RtlpInitEnvironmentBlock`, which sets
//! `EnvironmentSize` to the block's exact size, as here); the model keeps it in place.

use super::data::{ProcessData, ProcessInfo, ProcessSpec, RegionSpec, addr};
use super::environment::dos_path;
use super::le::LeBuf;
use pss_sys::MEM_IMAGE;
use std::sync::Arc;

/// Where every model process with a PEB keeps its `RTL_USER_PROCESS_PARAMETERS` (the PEB's
/// `ProcessParameters`): a private region of its own, as the kernel allocates it in a new
/// process.
pub const PARAMETERS_ADDRESS: usize = addr(0x0000_00E0_0000_0000, 0x7000_0000);

/// `RTL_USER_PROC_PARAMS_NORMALIZED`: the strings' buffers are addresses, not offsets from
/// the structure.
pub const PARAMS_NORMALIZED: u32 = 1;

/// The longest string a `UNICODE_STRING` holds with its NUL: `MaximumLength` is a `u16` of bytes.
pub const MAX_STRING_UNITS: usize = 0x7FFE;

const POINTER: usize = size_of::<usize>();
const WIDE: bool = POINTER == 8;
const PAGE: usize = 0x1000;

/// Offsets that differ between x64 (and arm64) and x86.
const fn off(x64: usize, x86: usize) -> usize {
    if WIDE { x64 } else { x86 }
}

/// `PEB.ProcessParameters`.
pub(crate) const PEB_PROCESS_PARAMETERS: usize = off(0x20, 0x10);
// RTL_USER_PROCESS_PARAMETERS
const MAXIMUM_LENGTH: usize = 0x00;
const LENGTH: usize = 0x04;
const FLAGS: usize = 0x08;
const CURRENT_DIRECTORY: usize = off(0x38, 0x24);
const DLL_PATH: usize = off(0x50, 0x30);
const IMAGE_PATH_NAME: usize = off(0x60, 0x38);
const COMMAND_LINE: usize = off(0x70, 0x40);
const ENVIRONMENT: usize = off(0x80, 0x48);
const WINDOW_TITLE: usize = off(0xB0, 0x70);
const DESKTOP_INFO: usize = off(0xC0, 0x78);
const SHELL_INFO: usize = off(0xD0, 0x80);
const ENVIRONMENT_SIZE: usize = off(0x3F0, 0x290);
/// `sizeof(RTL_USER_PROCESS_PARAMETERS)` on Windows 11.
const STRUCTURE_SIZE: usize = off(0x448, 0x2C4);
/// `UNICODE_STRING.Buffer`, after two `u16` lengths and padding.
const STRING_BUFFER: usize = off(8, 4);
/// `CurrentDirectory.DosPath.MaximumLength`: `MAX_PATH` units, whatever the path's length.
const CURRENT_DIRECTORY_MAXIMUM: usize = 520;
/// The desktop a process of an interactive session starts on.
const DESKTOP: &str = r"Winsta0\Default";

/// What a spec asked for; `None` takes the default (see [`Parameters`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ParametersSpec {
    command_line: Option<String>,
    current_directory: Option<String>,
    environment: Option<Vec<(String, String)>>,
}

/// What a model process's `RTL_USER_PROCESS_PARAMETERS` hold, with the defaults applied: what
/// a reader of its memory must find ([`ProcessSpec::parameters`], [`process_parameters`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameters {
    /// `ImagePathName`: the DOS path of the main executable (the first image region's mapped
    /// file through the device map, [`dos_path`]), or the spec's
    /// [`image`](ProcessSpec::image) name if it has no image region.
    pub image_path: String,
    /// `CommandLine` ([`ProcessSpec::command_line`]); by default the image path in quotes, as
    /// a shell starts a program.
    pub command_line: String,
    /// `CurrentDirectory.DosPath`, ending in `\` as Windows keeps it
    /// ([`ProcessSpec::current_directory`]); by default the image's directory.
    pub current_directory: String,
    /// `WindowTitle`: the image path (what `CreateProcess` puts there without a title in
    /// `STARTUPINFO`).
    pub window_title: String,
    /// `DesktopInfo`: `Winsta0\Default`.
    pub desktop_info: String,
    /// The environment's variables, in block order ([`ProcessSpec::environment`]); by default
    /// [`default_environment`].
    pub environment: Vec<(String, String)>,
}

/// The environment of a model process whose spec names none: what a program started from
/// Explorer by user `me` on machine `MODEL-PC` has (a few of its variables), with the host's
/// `PROCESSOR_ARCHITECTURE`.
pub fn default_environment() -> Vec<(String, String)> {
    let architecture = if cfg!(target_arch = "x86") {
        "x86"
    } else if cfg!(target_arch = "aarch64") {
        "ARM64"
    } else {
        "AMD64"
    };
    [
        ("ALLUSERSPROFILE", r"C:\ProgramData"),
        ("COMPUTERNAME", "MODEL-PC"),
        ("ComSpec", r"C:\Windows\system32\cmd.exe"),
        ("OS", "Windows_NT"),
        (
            "Path",
            r"C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem",
        ),
        ("PROCESSOR_ARCHITECTURE", architecture),
        ("SystemDrive", "C:"),
        ("SystemRoot", r"C:\Windows"),
        ("TEMP", r"C:\Users\me\AppData\Local\Temp"),
        ("USERNAME", "me"),
        ("USERPROFILE", r"C:\Users\me"),
        ("windir", r"C:\Windows"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

fn resolve(info: &ProcessInfo, regions: &[RegionSpec]) -> Parameters {
    let spec = info.parameters.as_deref().cloned().unwrap_or_default();
    let image_path = match regions.iter().find(|r| r.kind == MEM_IMAGE) {
        Some(main) => dos_path(&main.mapped_name()),
        None => String::from_utf16_lossy(&info.image),
    };
    let directory = match image_path.rfind('\\') {
        Some(end) => image_path[..=end].to_string(),
        None => r"C:\".to_string(),
    };
    let mut current_directory = spec.current_directory.unwrap_or(directory);
    if !current_directory.ends_with('\\') {
        current_directory.push('\\');
    }
    Parameters {
        command_line: spec
            .command_line
            .unwrap_or_else(|| format!("\"{image_path}\"")),
        current_directory,
        window_title: image_path.clone(),
        desktop_info: DESKTOP.to_string(),
        environment: spec.environment.unwrap_or_else(default_environment),
        image_path,
    }
}

/// UTF-16 that fits a `UNICODE_STRING` with its NUL (longer text, which the builders refuse, is
/// cut, as for a mapped file's name).
fn units(text: &str) -> Vec<u16> {
    text.encode_utf16().take(MAX_STRING_UNITS - 1).collect()
}

/// Writes the `UNICODE_STRING` at `field` and its text at `*at` (followed by NULs up to
/// `maximum` bytes, at least one), and moves `*at` past it, rounded up to 8 as ntdll's
/// `RtlpCopyProcString` does.
fn string(b: &mut LeBuf, base: usize, field: usize, text: &[u16], maximum: usize, at: &mut usize) {
    let length = 2 * text.len();
    let maximum = maximum.max(length + 2);
    b.u16(field, length as u16);
    b.u16(field + 2, maximum as u16);
    b.ptr(field + STRING_BUFFER, base + *at);
    for (i, unit) in text.iter().enumerate() {
        b.u16(*at + 2 * i, *unit);
    }
    b.u16(*at + length, 0);
    *at += maximum.next_multiple_of(8);
}

/// The region holding the process's `RTL_USER_PROCESS_PARAMETERS`, its strings and its
/// environment, at [`PARAMETERS_ADDRESS`].
pub(crate) fn region(data: &ProcessData) -> RegionSpec {
    let p = resolve(&data.info, &data.regions);
    let base = PARAMETERS_ADDRESS;
    let mut b = LeBuf::default();
    let mut at = STRUCTURE_SIZE;
    let directory = units(&p.current_directory);
    string(
        &mut b,
        base,
        CURRENT_DIRECTORY,
        &directory,
        CURRENT_DIRECTORY_MAXIMUM,
        &mut at,
    );
    let image = units(&p.image_path);
    string(&mut b, base, IMAGE_PATH_NAME, &image, 0, &mut at);
    let command_line = units(&p.command_line);
    string(&mut b, base, COMMAND_LINE, &command_line, 0, &mut at);
    string(
        &mut b,
        base,
        WINDOW_TITLE,
        &units(&p.window_title),
        0,
        &mut at,
    );
    string(
        &mut b,
        base,
        DESKTOP_INFO,
        &units(&p.desktop_info),
        0,
        &mut at,
    );
    // ShellInfo: empty, its buffer where the next string would go.
    b.ptr(SHELL_INFO + STRING_BUFFER, base + at);
    // DllPath: none (ntdll copies one only when the creator passes it): lengths 0, NULL.
    b.ptr(DLL_PATH + STRING_BUFFER, 0);
    b.u32(MAXIMUM_LENGTH, at as u32);
    b.u32(LENGTH, at as u32);
    b.u32(FLAGS, PARAMS_NORMALIZED);

    let environment = at;
    for (name, value) in &p.environment {
        for unit in format!("{name}={value}").encode_utf16().chain([0]) {
            b.u16(at, unit);
            at += 2;
        }
    }
    if p.environment.is_empty() {
        b.u16(at, 0); // an empty block is two NULs
        at += 2;
    }
    b.u16(at, 0);
    at += 2;
    b.ptr(ENVIRONMENT, base + environment);
    b.ptr(ENVIRONMENT_SIZE, at - environment);
    RegionSpec::private(base, at.next_multiple_of(PAGE)).contents(&b.0)
}

impl ProcessSpec {
    /// The process's command line (`RTL_USER_PROCESS_PARAMETERS.CommandLine`, what
    /// `GetCommandLineW` returns in it), exactly as given: the program's name and its
    /// arguments, quoted as a shell would. Default: the image path in quotes. Laid out with
    /// [`with_peb`](Self::with_peb) (see the model's crate docs, "The process's parameters").
    ///
    /// # Panics
    ///
    /// If it has more than 32,766 UTF-16 units, which a `UNICODE_STRING` cannot hold with its
    /// NUL (`CreateProcess` allows 32,767 characters with it).
    pub fn command_line(mut self, command_line: &str) -> Self {
        assert!(
            command_line.encode_utf16().count() < MAX_STRING_UNITS,
            "a command line of at most 32,766 UTF-16 units"
        );
        self.parameters_mut().command_line = Some(command_line.to_string());
        self
    }

    /// The process's current directory (`CurrentDirectory.DosPath`), a DOS path; a `\` is
    /// added at its end if it has none, as Windows keeps it. Default: the main image's
    /// directory.
    ///
    /// # Panics
    ///
    /// If it has more than 32,765 UTF-16 units.
    pub fn current_directory(mut self, directory: &str) -> Self {
        assert!(
            directory.encode_utf16().count() < MAX_STRING_UNITS - 1,
            "a directory of at most 32,765 UTF-16 units"
        );
        self.parameters_mut().current_directory = Some(directory.to_string());
        self
    }

    /// The process's environment: these variables, in this order, replace the default ones
    /// ([`default_environment`]); an empty list is an empty block. A name may begin with `=`
    /// (as the per-drive directories `=C:=C:\...` that `cmd.exe` keeps do), and must not
    /// otherwise contain `=`.
    ///
    /// # Panics
    ///
    /// If a name is empty, contains `=` after its first character, or a name or value
    /// contains a NUL (none of which a block can hold).
    pub fn environment(mut self, variables: &[(&str, &str)]) -> Self {
        for (name, value) in variables {
            assert!(
                !name.is_empty() && !name.chars().skip(1).any(|c| c == '='),
                "a variable name is not empty and has no '=' after its first character: {name:?}"
            );
            assert!(
                !name.contains('\0') && !value.contains('\0'),
                "no NUL in a variable: {name:?}"
            );
        }
        self.parameters_mut().environment = Some(
            variables
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        );
        self
    }

    /// What its `RTL_USER_PROCESS_PARAMETERS` will hold once spawned with
    /// [`with_peb`](Self::with_peb), defaults applied.
    pub fn parameters(&self) -> Parameters {
        resolve(&self.data.info, &self.data.regions)
    }

    fn parameters_mut(&mut self) -> &mut ParametersSpec {
        Arc::make_mut(self.data.info.parameters.get_or_insert_default())
    }
}

/// What the `RTL_USER_PROCESS_PARAMETERS` of process `pid` (the current process:
/// [`CURRENT_PID`](crate::CURRENT_PID)) hold, defaults applied; `None` for a pid not in the
/// process table. Only processes with a PEB have them in memory.
pub fn process_parameters(pid: u32) -> Option<Parameters> {
    super::kernel::lock()
        .processes
        .get(&pid)
        .map(|p| resolve(&p.info, &p.regions))
}
