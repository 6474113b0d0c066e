//! A plausible process for demonstrations (`psscap`, `pssdump`) and tests that want everything
//! at once: a text editor.

use super::data::{AuxPageSpec, HandleSpec, ProcessSpec, RegionSpec, ThreadSpec};
use super::kernel::CURRENT_PID;

/// A text editor: a few threads (one suspended, one whose context record is misaligned, one
/// that exited but is still referenced), handles of every type PSS describes and two it does
/// not, handle tracing enabled, an address space with two images (whose first bytes are a PE
/// header's `MZ`), a mapped file, private memory with contents, an anonymous shared section
/// (which a VA clone does not hold) and free space, and two auxiliary pages. 64-bit addresses.
pub fn demo_process() -> ProcessSpec {
    let context = vec![0; size_of::<pss_sys::CONTEXT>()];
    ProcessSpec::new()
        .image(r"C:\Program Files\Contoso\editor.exe")
        .handle_tracing()
        .thread(ThreadSpec::new(0x1a8))
        .thread(ThreadSpec::new(0x1ac).suspended(1))
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
        .region(RegionSpec::free(0x0, 0x7ffe_0000))
        .region(RegionSpec::private(0x7ffe_0000, 0x2000).contents(&[0xa5; 0x100]))
        .region(
            RegionSpec::private(address(0x0000_01f0_0000_0000), 0x1_0000)
                .contents(b"Dear diary, today I captured a snapshot."),
        )
        .region(RegionSpec::shared(address(0x0000_01f0_1000_0000), 0x1000).contents(b"shared"))
        .region(
            RegionSpec::image(
                address(0x7ff6_0000_0000),
                0x4_0000,
                r"\Device\HarddiskVolume3\Program Files\Contoso\editor.exe",
            )
            .contents(b"MZ"),
        )
        .region(RegionSpec::mapped(
            address(0x7ff6_1000_0000),
            0x3000,
            r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
        ))
        .region(
            RegionSpec::image(
                address(0x7ffb_0000_0000),
                0xc_0000,
                r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
            )
            .contents(b"MZ"),
        )
        .region(RegionSpec::free(address(0x7ffb_000c_0000), 0x4_0000))
        .aux_page(AuxPageSpec::with_contents(0x7ffe_0000, vec![0xa5; 4096]))
        .aux_page(AuxPageSpec::without_contents(0x7ffe_1000))
        .with_peb()
}

/// A 64-bit address, folded into 32 bits on 32-bit hosts.
fn address(wide: u64) -> usize {
    wide as usize
}
