//! The process's parameters (`RTL_USER_PROCESS_PARAMETERS`) read through a snapshot's VA clone
//! with `LocalSnapshot::process_parameters`: a child process's command line and this process's
//! parameters against real kernel32 too; on the model, the demo process and spec'd processes
//! read back exactly, the layout checked at Windows' offsets (written out here independently of
//! the model's and of `pss`'s), and hostile layouts (odd lengths, lengths past their maximum,
//! buffers outside readable memory, unterminated and oversized environments, a NULL or
//! unreadable `ProcessParameters`) giving errors or bounded results, never a panic.

use pss::{CaptureFlags, ErrorKind, LocalSnapshot, ProcessAccess};
use pss_tests::*;

fn capture_va_clone(pid: u32) -> LocalSnapshot {
    let flags = CaptureFlags::VA_CLONE;
    let process = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&process, flags).unwrap()
}

/// A child process (on Windows `cmd.exe /D /C pause`, on the model a process with the same
/// command line): its command line names what it runs, its image is cmd.exe, its directory
/// ends in `\`, and its environment, inherited, has a `PATH`.
#[test]
fn a_child_process_shows_its_command_line() {
    require_pss!();
    let child = TestProcess::spawn();
    let snapshot = capture_va_clone(child.pid());
    let parameters = snapshot.process_parameters().unwrap();
    let command_line = parameters.command_line().unwrap().to_string_lossy();
    assert!(command_line.ends_with("pause"), "{command_line}");
    let image = parameters.image_path().unwrap().to_string_lossy();
    assert!(image.to_ascii_lowercase().ends_with(r"\cmd.exe"), "{image}");
    assert!(parameters.is_normalized());
    let directory = parameters.current_directory().unwrap().to_string_lossy();
    assert!(directory.ends_with('\\'), "{directory}");
    #[cfg(windows)]
    {
        // Inherited from this process.
        let ours = std::env::current_dir().unwrap();
        assert_eq!(
            directory.trim_end_matches('\\').to_lowercase(),
            ours.to_string_lossy().trim_end_matches('\\').to_lowercase()
        );
    }
    let environment = parameters.environment().unwrap();
    assert!(environment.is_complete());
    assert!(environment.get("path").is_some_and(|path| !path.is_empty()));
    parameters.window_title().unwrap();
    parameters.desktop_info().unwrap();
    parameters.dll_path().unwrap();
    drop((snapshot, child));
    assert_no_leaks();
}

/// This process reads its own parameters: what the model laid out, or on Windows its own
/// command line (naming the test binary), directory and environment.
#[test]
fn this_process_reads_its_parameters() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_CLONE).unwrap();
    let parameters = snapshot.process_parameters().unwrap();
    let command_line = parameters.command_line().unwrap().to_string_lossy();
    let directory = parameters.current_directory().unwrap().to_string_lossy();
    let environment = parameters.environment().unwrap();
    assert!(environment.is_complete());
    #[cfg(not(windows))]
    {
        let expected = model::process_parameters(model::CURRENT_PID).unwrap();
        assert_eq!(command_line, expected.command_line);
        assert_eq!(directory, expected.current_directory);
        assert_eq!(
            parameters.image_path().unwrap().to_string_lossy(),
            expected.image_path
        );
        let variables: Vec<(String, String)> = environment
            .iter()
            .map(|(name, value)| (name.to_string_lossy(), value.to_string_lossy()))
            .collect();
        assert_eq!(variables, expected.environment);
    }
    #[cfg(windows)]
    {
        let exe = std::env::current_exe().unwrap();
        let stem = exe.file_stem().unwrap().to_string_lossy().to_lowercase();
        assert!(
            command_line.to_lowercase().contains(&stem),
            "{command_line}"
        );
        let ours = std::env::current_dir().unwrap();
        assert_eq!(
            directory.trim_end_matches('\\').to_lowercase(),
            ours.to_string_lossy().trim_end_matches('\\').to_lowercase()
        );
        assert!(environment.get("PATH").is_some());
    }
    drop(snapshot);
    assert_no_leaks();
}

/// Without the VA clone there is nothing to read: `NotCaptured(VA_CLONE)`.
#[test]
fn without_the_va_clone_it_is_not_captured() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let error = snapshot.process_parameters().unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::NotCaptured(CaptureFlags::VA_CLONE),
        "{error}"
    );
    drop(snapshot);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss::{ErrorCode, Function, WideStr};
    use pss_tests::model::{
        self, ModelProcess, PARAMETERS_ADDRESS, PARAMS_NORMALIZED, Parameters, ProcessSpec,
        RegionSpec, demo_process,
    };

    const WIDE: bool = size_of::<usize>() == 8;
    const POINTER: usize = size_of::<usize>();

    /// An offset on x64 and arm64, or on x86.
    const fn off(x64: usize, x86: usize) -> usize {
        if WIDE { x64 } else { x86 }
    }

    const PEB_PROCESS_PARAMETERS: usize = off(0x20, 0x10);
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
    const RUNTIME_DATA: usize = off(0xE0, 0x88);
    const ENVIRONMENT_SIZE: usize = off(0x3F0, 0x290);
    const STRUCTURE_SIZE: usize = off(0x448, 0x2C4);
    const STRING_BUFFER: usize = off(8, 4);
    /// Every `UNICODE_STRING` of the structure, with the buffers the kernel relocates.
    const STRINGS: [(usize, &str); 8] = [
        (CURRENT_DIRECTORY, "CurrentDirectory.DosPath"),
        (DLL_PATH, "DllPath"),
        (IMAGE_PATH_NAME, "ImagePathName"),
        (COMMAND_LINE, "CommandLine"),
        (WINDOW_TITLE, "WindowTitle"),
        (DESKTOP_INFO, "DesktopInfo"),
        (SHELL_INFO, "ShellInfo"),
        (RUNTIME_DATA, "RuntimeData"),
    ];

    fn lossy(string: WideStr<'_>) -> String {
        string.to_string_lossy()
    }

    /// Everything `pss` reads, checked against what the model says it laid out.
    fn assert_reads_back(snapshot: &LocalSnapshot, expected: &Parameters) {
        let parameters = snapshot.process_parameters().unwrap();
        assert_eq!(parameters.address(), PARAMETERS_ADDRESS);
        assert_eq!(parameters.flags(), PARAMS_NORMALIZED);
        assert!(parameters.is_normalized());
        assert_eq!(lossy(parameters.image_path().unwrap()), expected.image_path);
        assert_eq!(
            lossy(parameters.command_line().unwrap()),
            expected.command_line
        );
        assert_eq!(
            lossy(parameters.current_directory().unwrap()),
            expected.current_directory
        );
        assert_eq!(
            lossy(parameters.window_title().unwrap()),
            expected.window_title
        );
        assert_eq!(
            lossy(parameters.desktop_info().unwrap()),
            expected.desktop_info
        );
        assert!(parameters.dll_path().unwrap().is_empty());
        // One read for a block whose size is right.
        let environment = expect::calls(Call::ReadProcessMemory, 1, || {
            parameters.environment().unwrap()
        });
        assert!(environment.is_complete());
        assert_eq!(environment.address(), parameters.environment_address());
        assert_eq!(environment.declared_size(), parameters.environment_size());
        let variables: Vec<(String, String)> = environment
            .iter()
            .map(|(name, value)| (lossy(name), lossy(value)))
            .collect();
        assert_eq!(variables, expected.environment);
        // The size counts every variable, its NUL and the block's final NUL (two when empty).
        let units: usize = expected
            .environment
            .iter()
            .map(|(n, v)| n.encode_utf16().count() + 1 + v.encode_utf16().count() + 1)
            .sum();
        let terminator = if units == 0 { 2 } else { 1 };
        assert_eq!(parameters.environment_size(), 2 * (units + terminator));
        assert_eq!(environment.as_utf16().len(), units);
        for (name, value) in &expected.environment {
            // The first variable of that name (ignoring case) is the one found.
            let first = expected
                .environment
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .unwrap();
            let found = environment.get(&name.to_uppercase()).unwrap();
            assert_eq!(lossy(found), first.1, "{name}={value}");
        }
    }

    /// The demo process: a command line with arguments, a current directory, and an
    /// environment with a per-drive directory (`=C:`) and a secret (`API_TOKEN`).
    #[test]
    fn the_demo_process_reads_back_exactly() {
        let spec = demo_process();
        let expected = spec.parameters();
        assert_eq!(
            expected.command_line,
            r#""C:\Program Files\Contoso\editor.exe" --autosave 5 notes.txt"#
        );
        assert_eq!(expected.current_directory, r"C:\Users\me\Documents\");
        assert!(
            expected
                .environment
                .iter()
                .any(|(name, value)| name == "API_TOKEN" && !value.is_empty())
        );
        let process = spec.spawn();
        let snapshot = capture_va_clone(process.pid());
        assert_reads_back(&snapshot, &expected);
        // The image path is the one PSS reports, as on Windows.
        let info = snapshot.process_information().unwrap();
        let parameters = snapshot.process_parameters().unwrap();
        assert_eq!(
            parameters.image_path().unwrap(),
            info.image_file_name().unwrap()
        );
        let environment = parameters.environment().unwrap();
        assert_eq!(
            environment.get("api_token").unwrap(),
            "ctso_live_5f2b9c41e0d7a3b8"
        );
        assert_eq!(
            environment.get("=c:").unwrap(),
            r"C:\Users\me\Documents",
            "a name that begins with '='"
        );
        drop((snapshot, process));
        assert_no_leaks();
    }

    fn image_process() -> ProcessSpec {
        ProcessSpec::new()
            .region(RegionSpec::image(
                0x40_0000,
                0x2_0000,
                r"\Device\HarddiskVolume3\Tools\Zoë\tool.exe",
            ))
            .with_peb()
    }

    /// Spec'd parameters, non-ASCII and empty values included, read back exactly; a directory
    /// gains its `\`; without a spec the defaults are what Windows' shell would give.
    #[test]
    fn a_specd_process_reads_back_exactly() {
        let spec = image_process()
            .command_line(r#"tool.exe --name "Zoë ✓" --empty "" -x"#)
            .current_directory(r"D:\data\Ünïcode")
            .environment(&[
                ("=D:", r"D:\data"),
                ("EMPTY", ""),
                ("ÉTÉ", "summer ☀"),
                ("Path", r"C:\Windows"),
                ("path", "second of the name"),
            ]);
        let expected = spec.parameters();
        assert_eq!(expected.image_path, r"C:\Tools\Zoë\tool.exe");
        assert_eq!(expected.current_directory, r"D:\data\Ünïcode\");
        let process = spec.spawn();
        let snapshot = capture_va_clone(process.pid());
        assert_reads_back(&snapshot, &expected);
        drop((snapshot, process));

        let spec = image_process();
        let expected = spec.parameters();
        assert_eq!(expected.command_line, r#""C:\Tools\Zoë\tool.exe""#);
        assert_eq!(expected.current_directory, r"C:\Tools\Zoë\");
        assert_eq!(expected.environment, model::default_environment());
        let process = spec.spawn();
        let snapshot = capture_va_clone(process.pid());
        assert_reads_back(&snapshot, &expected);
        drop((snapshot, process));

        let spec = image_process().environment(&[]);
        let expected = spec.parameters();
        assert!(expected.environment.is_empty());
        let process = spec.spawn();
        let snapshot = capture_va_clone(process.pid());
        assert_reads_back(&snapshot, &expected);
        drop((snapshot, process));
        assert_no_leaks();
    }

    fn pointer(clone: &pss::VaClone<'_>, at: usize) -> usize {
        clone.read_value(at).unwrap()
    }

    /// The structure at Windows' offsets, read here field by field: the PEB points to it; it
    /// starts its region; `Flags` is normalized; `MaximumLength` and `Length` cover it and its
    /// strings; each string's buffer lies in that span, 8-byte aligned, NUL-terminated, with
    /// its `MaximumLength` (the directory's 520, the others length + 2); `DllPath` and
    /// `RuntimeData` are empty with NULL buffers, `ShellInfo` empty and of no size; the
    /// environment follows the strings and
    /// `EnvironmentSize` counts it to its final NUL.
    #[test]
    fn the_layout_is_windows() {
        let process = demo_process().spawn();
        let snapshot = capture_va_clone(process.pid());
        let clone = snapshot.va_clone().unwrap();
        let peb = snapshot.process_information().unwrap().peb_base_address();
        let base = pointer(&clone, peb + PEB_PROCESS_PARAMETERS);
        assert_eq!(base, PARAMETERS_ADDRESS);
        assert!(
            process
                .regions()
                .iter()
                .any(|r| r.base() == base && r.size() % 0x1000 == 0),
            "a region of its own"
        );
        let maximum: u32 = clone.read_value(base + MAXIMUM_LENGTH).unwrap();
        let length: u32 = clone.read_value(base + LENGTH).unwrap();
        let flags: u32 = clone.read_value(base + FLAGS).unwrap();
        assert_eq!((maximum, flags), (length, 1));
        let end = base + length as usize;
        for (field, name) in STRINGS {
            let length: u16 = clone.read_value(base + field).unwrap();
            let maximum: u16 = clone.read_value(base + field + 2).unwrap();
            let buffer = pointer(&clone, base + field + STRING_BUFFER);
            match name {
                "DllPath" | "RuntimeData" => {
                    assert_eq!((length, maximum, buffer), (0, 0, 0), "{name}");
                    continue;
                }
                "ShellInfo" => {
                    // Empty, of no size: its buffer is where the next string would go.
                    assert_eq!((length, maximum, buffer), (0, 0, end), "{name}");
                    continue;
                }
                "CurrentDirectory.DosPath" => assert_eq!(maximum, 520),
                _ => assert_eq!(maximum, length + 2, "{name}"),
            }
            assert!(
                buffer >= base + STRUCTURE_SIZE && buffer + usize::from(maximum) <= end,
                "{name} in the block"
            );
            assert_eq!((buffer - base - STRUCTURE_SIZE) % 8, 0, "{name} aligned");
            let nul: u16 = clone.read_value(buffer + usize::from(length)).unwrap();
            assert_eq!(nul, 0, "{name} is NUL-terminated");
        }
        let environment = pointer(&clone, base + ENVIRONMENT);
        assert_eq!(environment, end, "the environment follows the strings");
        let size = pointer(&clone, base + ENVIRONMENT_SIZE);
        let mut units = vec![0u8; size];
        clone.read_exact(environment, &mut units).unwrap();
        let units: Vec<u16> = units
            .chunks(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(
            &units[units.len() - 2..],
            &[0, 0],
            "ends in an empty string"
        );
        assert!(
            units[..units.len() - 2].windows(2).all(|w| w != [0, 0]),
            "and nowhere before"
        );
        assert_eq!(POINTER, size_of::<usize>());
        drop((snapshot, process));
        assert_no_leaks();
    }

    // Hostile layouts: a small process (quick under Miri) whose parameters are rewritten after
    // it was spawned, then captured.

    fn small_process() -> ModelProcess {
        image_process()
            .command_line("tool.exe -v")
            .environment(&[("A", "1"), ("BB", "22"), ("CCC", "333")])
            .spawn()
    }

    fn write_usize(process: &ModelProcess, at: usize, value: usize) {
        process.write_memory(at, &value.to_le_bytes());
    }

    fn write_u16(process: &ModelProcess, at: usize, value: u16) {
        process.write_memory(at, &value.to_le_bytes());
    }

    fn capture(process: &ModelProcess) -> LocalSnapshot {
        capture_va_clone(process.pid())
    }

    #[track_caller]
    fn assert_error(error: pss::Error, code: ErrorCode, field: &str) {
        assert_eq!(error.kind(), ErrorKind::Os(code), "{error}");
        assert_eq!(error.function(), Function::ReadProcessMemory);
        let reason = error.reason().expect("a reason");
        assert!(reason.contains(field), "{reason}");
        assert!(
            reason.contains("capture again"),
            "says what helps: {reason}"
        );
    }

    /// An odd `Length`, and a `Length` above `MaximumLength`, are `ERROR_BAD_LENGTH` naming the
    /// field, without a read; the other fields still read.
    #[test]
    fn bad_lengths_are_errors_naming_the_field() {
        let process = small_process();
        let base = PARAMETERS_ADDRESS;
        write_u16(&process, base + COMMAND_LINE, 11);
        write_u16(&process, base + IMAGE_PATH_NAME, 0x40);
        write_u16(&process, base + IMAGE_PATH_NAME + 2, 0x20);
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        let error = expect::calls(Call::ReadProcessMemory, 0, || {
            parameters.command_line().unwrap_err()
        });
        assert_error(error, ErrorCode::BAD_LENGTH, "CommandLine.Length is odd");
        let error = parameters.image_path().unwrap_err();
        assert_error(
            error,
            ErrorCode::BAD_LENGTH,
            "ImagePathName.Length is above",
        );
        assert!(!parameters.current_directory().unwrap().is_empty());
        assert_eq!(parameters.environment().unwrap().iter().count(), 3);
        drop((snapshot, process));
        assert_no_leaks();
    }

    /// Buffers with no memory behind them (NULL with a length, an unmapped address, the top
    /// of the address space, a string running off its region) are `ERROR_PARTIAL_COPY`
    /// naming the field; a NULL one is refused without a call.
    #[test]
    fn buffers_outside_readable_memory_are_errors() {
        let process = small_process();
        let base = PARAMETERS_ADDRESS;
        let region_end = process
            .regions()
            .iter()
            .find(|r| r.base() == base)
            .map(|r| r.base() + r.size())
            .unwrap();
        write_usize(&process, base + IMAGE_PATH_NAME + STRING_BUFFER, 0);
        write_usize(&process, base + COMMAND_LINE + STRING_BUFFER, 0x10);
        write_usize(
            &process,
            base + WINDOW_TITLE + STRING_BUFFER,
            usize::MAX - 1,
        );
        // The desktop's text starts 4 bytes before the region's end and claims 64 bytes.
        write_u16(&process, base + DESKTOP_INFO, 64);
        write_u16(&process, base + DESKTOP_INFO + 2, 66);
        write_usize(
            &process,
            base + DESKTOP_INFO + STRING_BUFFER,
            region_end - 4,
        );
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        let error = expect::calls(Call::ReadProcessMemory, 0, || {
            parameters.image_path().unwrap_err()
        });
        assert_error(error, ErrorCode::PARTIAL_COPY, "ImagePathName.Buffer");
        assert_eq!(error.bytes_read(), Some(0));
        let error = parameters.command_line().unwrap_err();
        assert_error(error, ErrorCode::PARTIAL_COPY, "CommandLine.Buffer");
        let error = parameters.window_title().unwrap_err();
        assert_error(error, ErrorCode::PARTIAL_COPY, "WindowTitle.Buffer");
        let error = parameters.desktop_info().unwrap_err();
        assert_error(error, ErrorCode::PARTIAL_COPY, "DesktopInfo.Buffer");
        assert_eq!(error.bytes_read(), Some(4));
        assert!(parameters.current_directory().is_ok());
        drop((snapshot, process));
        assert_no_leaks();
    }

    /// A NULL `ProcessParameters` is `ERROR_NOT_FOUND`; one pointing nowhere, and a PEB that
    /// is not there at all, are `ERROR_PARTIAL_COPY`; each with its reason.
    #[test]
    fn a_missing_structure_is_an_error() {
        let process = small_process();
        write_usize(&process, model::PEB_ADDRESS + PEB_PROCESS_PARAMETERS, 0);
        let snapshot = capture(&process);
        let error = snapshot.process_parameters().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Os(ErrorCode::NOT_FOUND), "{error}");
        assert!(error.reason().unwrap().contains("NULL"), "{error}");
        drop(snapshot);

        write_usize(&process, model::PEB_ADDRESS + PEB_PROCESS_PARAMETERS, 0x10);
        let snapshot = capture(&process);
        let error = snapshot.process_parameters().unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Os(ErrorCode::PARTIAL_COPY),
            "{error}"
        );
        assert!(
            error.reason().unwrap().contains("points to memory"),
            "{error}"
        );
        drop((snapshot, process));

        // Without `with_peb` a model process has no PEB in memory.
        let process = ProcessSpec::new()
            .region(RegionSpec::private(0x10_0000, 0x1000))
            .spawn();
        let snapshot = capture(&process);
        let error = snapshot.process_parameters().unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Os(ErrorCode::PARTIAL_COPY),
            "{error}"
        );
        assert!(
            error.reason().unwrap().contains("PebBaseAddress"),
            "{error}"
        );
        drop((snapshot, process));
        assert_no_leaks();
    }

    fn variables(environment: &pss::Environment) -> Vec<String> {
        environment
            .iter()
            .map(|(name, value)| format!("{}={}", lossy(name), lossy(value)))
            .collect()
    }

    /// An `EnvironmentSize` that cuts the block gives its whole variables and says it is
    /// incomplete; an odd one is cut to whole units; a huge one is only a bound (the block's
    /// end stops the read); zero reads nothing.
    #[test]
    fn the_environment_size_bounds_the_read() {
        let process = small_process();
        let size_at = PARAMETERS_ADDRESS + ENVIRONMENT_SIZE;
        // "A=1\0BB=22\0CCC=333\0\0": cut inside "CCC".
        write_usize(&process, size_at, 2 * 12 + 1);
        let snapshot = capture(&process);
        let environment = snapshot
            .process_parameters()
            .unwrap()
            .environment()
            .unwrap();
        assert!(!environment.is_complete());
        assert_eq!(environment.declared_size(), 25);
        assert_eq!(environment.as_utf16().len(), 12);
        assert_eq!(variables(&environment), ["A=1", "BB=22"]);
        drop(snapshot);

        write_usize(&process, size_at, usize::MAX);
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        let environment = parameters.environment().unwrap();
        assert!(environment.is_complete());
        assert_eq!(variables(&environment), ["A=1", "BB=22", "CCC=333"]);
        drop(snapshot);

        write_usize(&process, size_at, 0);
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        let environment = expect::calls(Call::ReadProcessMemory, 0, || {
            parameters.environment().unwrap()
        });
        assert!(!environment.is_complete());
        assert_eq!(environment.iter().count(), 0);
        drop((snapshot, process));
        assert_no_leaks();
    }

    /// A block without its end stops at the memory the clone cannot read, with the variables
    /// before the cut; a NULL `Environment` is an empty environment; one pointing nowhere is
    /// an error.
    #[test]
    fn an_unterminated_environment_stops_at_unreadable_memory() {
        let process = small_process();
        let base = PARAMETERS_ADDRESS;
        let region_end = process
            .regions()
            .iter()
            .find(|r| r.base() == base)
            .map(|r| r.base() + r.size())
            .unwrap();
        let snapshot = capture(&process);
        let start = snapshot.process_parameters().unwrap().environment_address();
        drop(snapshot);
        // Everything after "A=1\0" is 'x' up to the region's end: no NUL, no end.
        let tail = start + 8;
        let filler: Vec<u8> = [b'x', 0].repeat((region_end - tail) / 2);
        process.write_memory(tail, &filler);
        write_usize(&process, base + ENVIRONMENT_SIZE, usize::MAX);
        let snapshot = capture(&process);
        let environment = snapshot
            .process_parameters()
            .unwrap()
            .environment()
            .unwrap();
        assert!(!environment.is_complete());
        assert_eq!(environment.as_utf16().len(), (region_end - start) / 2);
        assert_eq!(variables(&environment), ["A=1"]);
        drop(snapshot);

        write_usize(&process, base + ENVIRONMENT, 0);
        let snapshot = capture(&process);
        let environment = snapshot
            .process_parameters()
            .unwrap()
            .environment()
            .unwrap();
        assert!(environment.is_complete());
        assert_eq!(environment.iter().count(), 0);
        drop(snapshot);

        write_usize(&process, base + ENVIRONMENT, 0x10);
        let snapshot = capture(&process);
        let error = snapshot
            .process_parameters()
            .unwrap()
            .environment()
            .unwrap_err();
        assert_error(error, ErrorCode::PARTIAL_COPY, "Environment points");
        drop((snapshot, process));
        assert_no_leaks();
    }

    /// A block that is not normalized holds offsets from the structure, resolved as ntdll's
    /// `RtlNormalizeProcessParams` resolves them; an offset that overflows is unreadable.
    #[test]
    fn a_block_not_yet_normalized_holds_offsets() {
        let process = small_process();
        let base = PARAMETERS_ADDRESS;
        let expected = model::process_parameters(process.pid()).unwrap();
        let snapshot = capture(&process);
        let clone = snapshot.va_clone().unwrap();
        let buffers: Vec<(usize, usize)> = STRINGS
            .iter()
            .map(|&(field, _)| (field, pointer(&clone, base + field + STRING_BUFFER)))
            .collect();
        drop(snapshot);
        process.write_memory(base + FLAGS, &0u32.to_le_bytes());
        for (field, buffer) in buffers {
            if buffer != 0 {
                write_usize(&process, base + field + STRING_BUFFER, buffer - base);
            }
        }
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        assert!(!parameters.is_normalized());
        assert_eq!(
            lossy(parameters.command_line().unwrap()),
            expected.command_line
        );
        assert_eq!(lossy(parameters.image_path().unwrap()), expected.image_path);
        assert_eq!(
            lossy(parameters.current_directory().unwrap()),
            expected.current_directory
        );
        assert!(parameters.dll_path().unwrap().is_empty());
        assert_eq!(parameters.environment().unwrap().iter().count(), 3);
        drop(snapshot);

        write_usize(&process, base + COMMAND_LINE + STRING_BUFFER, usize::MAX);
        let snapshot = capture(&process);
        let error = snapshot
            .process_parameters()
            .unwrap()
            .command_line()
            .unwrap_err();
        assert_error(error, ErrorCode::PARTIAL_COPY, "CommandLine.Buffer");
        drop((snapshot, process));
        assert_no_leaks();
    }

    /// An error of a field that holds garbage: a bad length or an unreadable buffer, said.
    #[track_caller]
    fn assert_hostile(error: pss::Error) {
        assert!(
            matches!(
                error.kind(),
                ErrorKind::Os(ErrorCode::BAD_LENGTH | ErrorCode::PARTIAL_COPY)
            ),
            "{error}"
        );
        assert!(error.reason().is_some(), "{error}");
    }

    /// Random bytes over the whole structure: every accessor answers, an error or a bounded
    /// value (strings within a `UNICODE_STRING`'s 32,767 units, the environment within its
    /// cap), never a panic.
    #[test]
    fn random_structures_give_errors_or_bounded_values() {
        let process = small_process();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let rounds = if cfg!(miri) { 3 } else { 64 };
        for round in 0..rounds {
            let mut bytes = vec![0u8; STRUCTURE_SIZE];
            for byte in &mut bytes {
                // xorshift64*
                seed ^= seed >> 12;
                seed ^= seed << 25;
                seed ^= seed >> 27;
                *byte = (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
            }
            if round % 2 == 0 {
                // Buffers into the region, so that some reads succeed.
                for (field, _) in STRINGS {
                    let offset = usize::from(bytes[field]) * 8;
                    bytes[field + STRING_BUFFER..field + STRING_BUFFER + POINTER]
                        .copy_from_slice(&(PARAMETERS_ADDRESS + offset).to_le_bytes());
                }
            }
            process.write_memory(PARAMETERS_ADDRESS, &bytes);
            let snapshot = capture(&process);
            let parameters = snapshot.process_parameters().unwrap();
            for string in [
                parameters.image_path(),
                parameters.command_line(),
                parameters.current_directory(),
                parameters.dll_path(),
                parameters.window_title(),
                parameters.desktop_info(),
            ] {
                match string {
                    Ok(string) => assert!(string.len() <= 0x7FFF),
                    Err(error) => assert_hostile(error),
                }
            }
            match parameters.environment() {
                Ok(environment) => {
                    assert!(environment.as_utf16().len() <= pss::Environment::MAX_SIZE / 2);
                    assert!(environment.iter().count() <= environment.as_utf16().len());
                }
                Err(error) => assert_hostile(error),
            }
            drop(snapshot);
        }
        drop(process);
        assert_no_leaks();
    }

    /// An environment that claims more than `Environment::MAX_SIZE` over readable memory
    /// without an end is read to the cap, in 64 KiB reads, and no further.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "reads 32 MiB: the bound is the same code the other environment tests run under Miri"
    )]
    fn the_environment_is_read_to_its_cap_and_no_further() {
        const HUGE: usize = 0x0000_0000_5000_0000;
        let size = pss::Environment::MAX_SIZE + 0x10_0000;
        let process = image_process()
            .region(RegionSpec::private(HUGE, size).contents(&[b'x', 0].repeat(size / 2)))
            .spawn();
        write_usize(&process, PARAMETERS_ADDRESS + ENVIRONMENT, HUGE);
        write_usize(&process, PARAMETERS_ADDRESS + ENVIRONMENT_SIZE, usize::MAX);
        let snapshot = capture(&process);
        let parameters = snapshot.process_parameters().unwrap();
        let environment = expect::calls(
            Call::ReadProcessMemory,
            (pss::Environment::MAX_SIZE / 0x1_0000) as u64,
            || parameters.environment().unwrap(),
        );
        assert!(!environment.is_complete());
        assert_eq!(environment.as_utf16().len(), pss::Environment::MAX_SIZE / 2);
        assert_eq!(environment.iter().count(), 0, "no whole variable");
        drop((snapshot, process));
        assert_no_leaks();
    }
}
