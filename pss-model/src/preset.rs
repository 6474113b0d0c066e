//! A preset that looks like a real process: [`ProcessSpec::console`].
//!
//! [`ProcessSpec::new`] is empty, and a capture with `HANDLES` of a process without handles fails
//! with `ERROR_BAD_LENGTH`, as Windows fails it for an exited process (a running one always has
//! handles): every `MINIDUMP` or `DIAGNOSTICS` capture of it fails. Tests that want "a process"
//! start here instead.

use super::data::{HandleSpec, ProcessSpec, RegionSpec, ThreadSpec, addr};

impl ProcessSpec {
    /// A small console program, as the least a real process holds, which every capture flag can
    /// capture: its image `C:\Windows\System32\cmd.exe`; one thread (tid `0x2c4`) waiting in
    /// `ntdll.dll` under `kernel32.dll`, called from the program, with a stack whose frames chain
    /// through those images; three handles (the console, `File` `\Device\ConDrv`, twice, and an
    /// unnamed auto-reset `Event`); the shared user-data page, the executable, `kernel32.dll` and
    /// `ntdll.dll` as images with PE headers, 64 KiB of private memory (its heap), free space
    /// below them, the thread's stack and the PEB's region with its loader list and TEB
    /// ([`with_peb`](Self::with_peb)). 64-bit addresses (32-bit hosts get addresses of their
    /// own).
    ///
    /// Add what a test needs with the builder methods; they add to what is here. For a process
    /// with everything at once (handles of every type, several threads, hostile records), see
    /// [`demo_process`](crate::demo_process).
    pub fn console() -> Self {
        let exe = addr(0x7ff7_2000_0000, 0x0040_0000);
        let kernel32 = addr(0x7ffb_0000_0000, 0x7600_0000);
        let ntdll = addr(0x7ffc_0000_0000, 0x7700_0000);
        let heap = addr(0x0000_0210_0000_0000, 0x0060_0000);
        ProcessSpec::new()
            .image(r"C:\Windows\System32\cmd.exe")
            .thread(
                ThreadSpec::new(0x2c4)
                    .executing_at(ntdll + 0x9_d0e4) // in NtReadFile, reading the console
                    .call_stack(&[
                        kernel32 + 0x2_5f11, // ReadConsoleW
                        exe + 0x1_4c80,      // the command loop
                        kernel32 + 0x1_7614, // BaseThreadInitThunk
                        ntdll + 0x5_26f1,    // RtlUserThreadStart
                    ])
                    .last_error(0),
            )
            .handle(HandleSpec::other(0x4, "File").named(r"\Device\ConDrv"))
            .handle(HandleSpec::other(0x8, "File").named(r"\Device\ConDrv"))
            .handle(HandleSpec::event(0xc, false, false))
            .region(RegionSpec::free(0x0, addr(0x7ffe_0000, 0x0040_0000)))
            .region(RegionSpec::private(0x7ffe_0000, 0x1000))
            .region(RegionSpec::private(heap, 0x1_0000))
            .region(RegionSpec::image(
                exe,
                0x5_0000,
                r"\Device\HarddiskVolume3\Windows\System32\cmd.exe",
            ))
            .region(RegionSpec::image(
                kernel32,
                0xc_0000,
                r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
            ))
            .region(RegionSpec::image(
                ntdll,
                0x1f_0000,
                r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll",
            ))
            .with_peb()
    }
}
