//! A plausible process for demonstrations (`psscap`, `pssdump`) and tests that want everything
//! at once: a text editor.

use super::data::{AuxPageSpec, HandleSpec, ProcessSpec, RegionSpec, ThreadSpec, addr};
use super::kernel::CURRENT_PID;

/// A text editor: four threads (the main thread waiting in ntdll for a message, called from the
/// editor's main loop; a suspended autosave worker; one whose context record is misaligned;
/// one that exited but is still referenced), the first two with call stacks through its images
/// and last-error values; handles of every type PSS describes and two it does not, handle
/// tracing enabled; an address space with three images (`editor.exe`, `kernel32.dll`,
/// `ntdll.dll`, with PE headers and CodeView records), a mapped file, private memory with
/// contents, an anonymous shared section (which a VA clone does not hold), free space, the two
/// threads' stacks and the PEB's region (with the loader list and the TEBs); its parameters (a
/// command line opening a file, a current directory, and an environment that holds a secret,
/// `API_TOKEN`, as real ones do); and two auxiliary pages. 64-bit addresses (32-bit hosts get
/// addresses of their own).
pub fn demo_process() -> ProcessSpec {
    let context = vec![0; size_of::<pss_sys::CONTEXT>()];
    let editor = addr(0x7ff6_0000_0000, 0x0040_0000);
    let kernel32 = addr(0x7ffb_0000_0000, 0x7600_0000);
    let ntdll = addr(0x7ffc_0000_0000, 0x7700_0000);
    let base_thread_init_thunk = kernel32 + 0x1_7614;
    let rtl_user_thread_start = ntdll + 0x5_26f1;
    ProcessSpec::new()
        .image(r"C:\Program Files\Contoso\editor.exe")
        .command_line(r#""C:\Program Files\Contoso\editor.exe" --autosave 5 notes.txt"#)
        .current_directory(r"C:\Users\me\Documents")
        .environment(&[
            // cmd.exe, which started it, keeps each drive's directory in a variable.
            ("=C:", r"C:\Users\me\Documents"),
            ("ALLUSERSPROFILE", r"C:\ProgramData"),
            ("API_TOKEN", "ctso_live_5f2b9c41e0d7a3b8"),
            ("COMPUTERNAME", "MODEL-PC"),
            ("EDITOR_THEME", "solarized"),
            (
                "Path",
                r"C:\Windows\system32;C:\Windows;C:\Program Files\Contoso",
            ),
            ("SystemRoot", r"C:\Windows"),
            ("TEMP", r"C:\Users\me\AppData\Local\Temp"),
            ("USERNAME", "me"),
            ("USERPROFILE", r"C:\Users\me"),
        ])
        .handle_tracing()
        .thread(
            ThreadSpec::new(0x1a8)
                .executing_at(ntdll + 0x9_d0e4) // in NtWaitForSingleObject
                .call_stack(&[
                    kernel32 + 0x1_2a3e, // WaitForSingleObjectEx
                    editor + 0x1_1c2f,   // the main loop
                    base_thread_init_thunk,
                ])
                // CreateMutex of the single-instance mutex found it: another editor runs.
                .last_error(183), // ERROR_ALREADY_EXISTS
        )
        .thread(
            ThreadSpec::new(0x1ac)
                .suspended(1)
                .executing_at(editor + 0x2_0a94) // the autosave thread's procedure
                .call_stack(&[base_thread_init_thunk, rtl_user_thread_start])
                .last_error(2), // ERROR_FILE_NOT_FOUND: no autosave file yet
        )
        .thread(ThreadSpec::new(0x1b0).context_record(context, 4))
        .thread(ThreadSpec::new(0x1b4).terminated(0))
        .handle(HandleSpec::other(0x4, "File").named(r"\Device\ConDrv"))
        .handle(HandleSpec::event(0x8, true, false).named(r"\BaseNamedObjects\editor-ready"))
        .handle(HandleSpec::event(0xc, false, true))
        .handle(
            HandleSpec::mutant(0x10, 0, false)
                .named(r"\Sessions\1\BaseNamedObjects\editor-single-instance"),
        )
        .handle(HandleSpec::semaphore(0x14, 2, 8))
        .handle(HandleSpec::section(0x18, 0x1_0000).named(r"\BaseNamedObjects\editor-shared"))
        .handle(HandleSpec::process(0x1c, CURRENT_PID, 0xf0))
        .handle(HandleSpec::thread(0x20, CURRENT_PID, 0x1a8))
        .handle(
            HandleSpec::other(0x24, "File")
                .named(r"\Device\HarddiskVolume3\Users\me\Documents\notes.txt"),
        )
        .handle(
            HandleSpec::other(0x28, "Key").named(r"\REGISTRY\USER\S-1-5-21-1000\Software\Contoso"),
        )
        .region(RegionSpec::free(0x0, addr(0x7ffe_0000, 0x0040_0000)))
        .region(RegionSpec::private(0x7ffe_0000, 0x2000).contents(&[0xa5; 0x100]))
        .region(
            RegionSpec::private(addr(0x0000_01f0_0000_0000, 0x0200_0000), 0x1_0000)
                .contents(b"Dear diary, today I captured a snapshot."),
        )
        .region(
            RegionSpec::shared(addr(0x0000_01f0_1000_0000, 0x0300_0000), 0x1000)
                .contents(b"shared"),
        )
        .region(RegionSpec::image(
            editor,
            0x4_0000,
            r"\Device\HarddiskVolume3\Program Files\Contoso\editor.exe",
        ))
        .region(RegionSpec::mapped(
            addr(0x7ff6_1000_0000, 0x1000_0000),
            0x3000,
            r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
        ))
        .region(RegionSpec::image(
            kernel32,
            0xc_0000,
            r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
        ))
        .region(RegionSpec::free(kernel32 + 0xc_0000, 0x4_0000))
        .region(RegionSpec::image(
            ntdll,
            0x1f_0000,
            r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll",
        ))
        .aux_page(AuxPageSpec::with_contents(0x7ffe_0000, vec![0xa5; 4096]))
        .aux_page(AuxPageSpec::without_contents(0x7ffe_1000))
        .with_peb()
}

/// A legacy 32-bit text editor as 64-bit Windows holds it ([`ProcessSpec::wow64_layout`]), for
/// `pssdump --demo wow64` and the WOW64 tests: x86 images (`legacy.exe` and the `SysWOW64`
/// `ntdll.dll`, `kernel32.dll`, `KernelBase.dll`, with PE32 headers and CodeView records) and
/// the WOW64 layer's 64-bit images; two threads with x86 call stacks through those images and
/// 32-bit last errors: the main thread waits in a system call (its native context in
/// `wow64cpu.dll`, called from `wow64.dll`, its x86 registers in its CPU area), a worker was
/// stopped while it ran x86 code (its x86 registers in its native context, its CPU area stale);
/// a few handles, a data region. 64-bit hosts only (see `wow64_layout`).
#[cfg(target_pointer_width = "64")]
pub fn wow64_demo_process() -> ProcessSpec {
    use super::wow64::{WOW64_CPU_DLL, WOW64_DLL, WOW64_NTDLL, X86ThreadSpec};
    const SYSWOW64: &str = r"\Device\HarddiskVolume3\Windows\SysWOW64\";
    let exe: u32 = 0x0040_0000;
    let kernelbase: u32 = 0x7500_0000;
    let kernel32: u32 = 0x7600_0000;
    let ntdll: u32 = 0x7700_0000;
    let base_thread_init_thunk = kernel32 + 0x1_fa29;
    let rtl_user_thread_start = ntdll + 0x6_7b6e;
    // The WOW64 layer under every thread's system calls.
    let run_cpu_simulation = WOW64_DLL + 0x7_7c3;
    let wow64_ldrp_initialize = WOW64_DLL + 0x1_a2d5;
    let ldr_initialize_thunk = WOW64_NTDLL + 0x6_e3f1;
    ProcessSpec::new()
        .image(r"C:\Program Files (x86)\Contoso\legacy.exe")
        .wow64_layout()
        .thread(
            ThreadSpec::new(0x2a0)
                .executing_at(WOW64_CPU_DLL + 0x1_783) // the turbo thunk's dispatch
                .call_stack(&[
                    run_cpu_simulation,
                    wow64_ldrp_initialize,
                    ldr_initialize_thunk,
                ])
                .x86(
                    X86ThreadSpec::new()
                        .executing_at(ntdll + 0x7_3a3c) // NtWaitForSingleObject, after the call
                        .call_stack(&[
                            kernelbase + 0x1_1fc5, // WaitForSingleObjectEx
                            exe + 0x1_2a40,        // the main loop
                            base_thread_init_thunk,
                            rtl_user_thread_start,
                        ])
                        .last_error(183), // ERROR_ALREADY_EXISTS: another instance runs
                ),
        )
        .thread(
            ThreadSpec::new(0x2a4).x86(
                X86ThreadSpec::new()
                    .executing_at(exe + 0x2_31f0) // the spell checker
                    .call_stack(&[
                        exe + 0x2_2e10,
                        base_thread_init_thunk,
                        rtl_user_thread_start,
                    ])
                    .integer_registers([0x57, 0x0019_fe40, 0x10, 0x0, 0x0066_1000, 0x0066_2000])
                    .in_x86_code(ntdll + 0x7_2b1c) // its last system call: NtDelayExecution
                    .last_error(2), // ERROR_FILE_NOT_FOUND: no dictionary yet
            ),
        )
        .handle(HandleSpec::other(0x4, "File").named(r"\Device\ConDrv"))
        .handle(HandleSpec::event(0x8, true, false))
        .handle(HandleSpec::thread(0xc, CURRENT_PID, 0x2a0))
        .region(RegionSpec::free(0x0, 0x0040_0000))
        .region(RegionSpec::image_x86(
            exe as usize,
            0x6_0000,
            r"\Device\HarddiskVolume3\Program Files (x86)\Contoso\legacy.exe",
        ))
        .region(RegionSpec::private(0x0066_0000, 0x1_0000).contents(b"Lorem ipsum, 1998 edition."))
        .region(RegionSpec::image_x86(
            kernelbase as usize,
            0x23_0000,
            &format!("{SYSWOW64}KernelBase.dll"),
        ))
        .region(RegionSpec::image_x86(
            kernel32 as usize,
            0xF_0000,
            &format!("{SYSWOW64}kernel32.dll"),
        ))
        .region(RegionSpec::image_x86(
            ntdll as usize,
            0x1A_0000,
            &format!("{SYSWOW64}ntdll.dll"),
        ))
}
