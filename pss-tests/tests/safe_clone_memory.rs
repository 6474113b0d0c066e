//! Reading a snapshot's VA clone through `pss::VaClone`: whole reads, short reads at memory that
//! cannot be read, unreadable addresses, plain values, and an `io::Read + Seek` cursor. The
//! tests on this process run against real kernel32 too; those that need a model process with
//! particular memory (contents, a later write, an anonymous shared section) are model-only.

use std::io::{Read, Seek, SeekFrom};

use pss::{CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, MemoryState};
use pss_tests::*;

/// The first committed, readable region of this process's snapshot: its base and size.
fn readable_region(snapshot: &LocalSnapshot) -> (usize, usize) {
    let regions = snapshot.va_space().unwrap();
    regions
        .iter()
        .map(Result::unwrap)
        .map(|entry| entry.region())
        .find(|r| {
            r.state == MemoryState::Commit
                && r.protect.is_readable()
                && r.region_size >= 64
                && r.kind == pss::MemoryType::Private
        })
        .map(|r| (r.base_address, r.region_size))
        .expect("a readable private region")
}

/// A committed region of this process reads through the clone, whole and as a plain value; an
/// address with no memory at all cannot be read (3.4; ReadProcessMemory).
#[test]
fn this_process_reads_through_its_clone() {
    require_pss!();
    let snapshot =
        LocalSnapshot::capture_current(CaptureFlags::VA_CLONE | CaptureFlags::VA_SPACE).unwrap();
    let (base, _) = readable_region(&snapshot);
    let clone = snapshot.va_clone().unwrap();
    let mut bytes = [0xCCu8; 64];
    assert_eq!(clone.read(base, &mut bytes).unwrap(), 64);
    let mut again = [0u8; 64];
    clone.read_exact(base, &mut again).unwrap();
    assert_eq!(bytes, again);
    let word: u64 = clone.read_value(base).unwrap();
    assert_eq!(word.to_le_bytes(), bytes[..8]);
    assert_eq!(clone.read(base, &mut []).unwrap(), 0, "nothing to read");
    let error = clone.read(0, &mut bytes).unwrap_err();
    assert_eq!(error.function(), Function::ReadProcessMemory);
    // Memory of another process that cannot be read is a partial copy of 0 bytes, never
    // ERROR_NOACCESS (WINDOWS-EVIDENCE Second audit: `MiCopyVirtualMemory`).
    assert_eq!(
        error.kind(),
        ErrorKind::Os(ErrorCode::PARTIAL_COPY),
        "{error}"
    );
    assert_eq!(error.bytes_read(), Some(0));
    drop(snapshot);
    assert_no_leaks();
}

/// The main image: its load address comes from the PEB (read through the clone), its regions
/// and file from the VA-space walk; its first bytes are a DOS header. Without the clone or the
/// VA space, the flag that is missing is named.
#[test]
fn the_main_image_is_found_through_the_peb() {
    require_pss!();
    let flags = CaptureFlags::VA_CLONE
        | CaptureFlags::VA_SPACE
        | CaptureFlags::VA_SPACE_SECTION_INFORMATION;
    let snapshot = LocalSnapshot::capture_current(flags).unwrap();
    assert_ne!(
        snapshot.process_information().unwrap().peb_base_address(),
        0
    );
    let image = snapshot.main_image().unwrap();
    assert!(image.size >= 0x1000 && image.regions >= 1, "{image:?}");
    let name = image.file_name.as_ref().unwrap().to_string_lossy();
    assert!(name.to_lowercase().ends_with(".exe"), "{name}");
    let magic: [u8; 2] = snapshot.va_clone().unwrap().read_value(image.base).unwrap();
    assert_eq!(&magic, b"MZ");
    drop(snapshot);
    let without = LocalSnapshot::capture_current(CaptureFlags::VA_SPACE).unwrap();
    assert_eq!(
        without.main_image().unwrap_err().missing_flags(),
        Some(CaptureFlags::VA_CLONE)
    );
    drop(without);
    assert_no_leaks();
}

/// The clone is a copy at capture time: memory this process changes afterwards still reads as
/// it was (Windows only: the model's current process has no real memory to change).
#[cfg(windows)]
#[test]
fn the_clone_keeps_what_was_captured() {
    require_pss!();
    let mut value = Box::new(0x1111_2222_3333_4444u64);
    let address = std::ptr::addr_of!(*value).addr();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::VA_CLONE).unwrap();
    **std::hint::black_box(&mut value) = 0; // this process changes it after the capture
    let clone = snapshot.va_clone().unwrap();
    assert_eq!(
        clone.read_value::<u64>(address).unwrap(),
        0x1111_2222_3333_4444
    );
    drop(snapshot);
}

/// The reader seeks to an address and reads from there; reading where nothing is readable is
/// an `io::Error` with the Win32 code as its raw OS error.
#[test]
fn the_reader_seeks_and_reads() {
    require_pss!();
    let snapshot =
        LocalSnapshot::capture_current(CaptureFlags::VA_CLONE | CaptureFlags::VA_SPACE).unwrap();
    let (base, _) = readable_region(&snapshot);
    let clone = snapshot.va_clone().unwrap();
    let mut direct = [0u8; 32];
    clone.read_exact(base, &mut direct).unwrap();
    let mut reader = clone.reader();
    assert_eq!(
        reader.seek(SeekFrom::Start(base as u64)).unwrap(),
        base as u64
    );
    let mut first = [0u8; 16];
    reader.read_exact(&mut first).unwrap();
    let mut second = [0u8; 16];
    reader.read_exact(&mut second).unwrap();
    assert_eq!([first, second].concat(), direct);
    assert_eq!(
        reader.seek(SeekFrom::Current(-32)).unwrap(),
        base as u64,
        "back to the start"
    );
    assert!(reader.seek(SeekFrom::Current(-(base as i64) - 1)).is_err());
    reader.seek(SeekFrom::Start(0)).unwrap();
    let error = reader.read(&mut first).unwrap_err();
    // The Win32 code: the raw OS error on Windows; elsewhere (no errno) the source's.
    let code = error.raw_os_error().or_else(|| {
        let source = error.get_ref()?.downcast_ref::<pss::Error>()?;
        source.raw_os_error()
    });
    assert_eq!(code, Some(299), "ERROR_PARTIAL_COPY: {error}");
    drop(snapshot);
    assert_no_leaks();
}

#[cfg(not(windows))]
mod model_processes {
    use super::*;
    use pss_tests::model::*;

    const BASE: usize = 0x40_0000;

    fn memory() -> ProcessSpec {
        ProcessSpec::new()
            .region(RegionSpec::private(BASE, 0x1000).contents(b"captured contents"))
            .region(RegionSpec::private(BASE + 0x1000, 0x1000).protection(pss_sys::PAGE_NOACCESS))
            .region(RegionSpec::shared(BASE + 0x2000, 0x1000).contents(b"shared"))
            .region(RegionSpec::image(BASE + 0x3000, 0x1000, r"\Device\X\a.dll").contents(b"MZ"))
    }

    /// The clone holds the target's memory as captured: a later write to the target does not
    /// show; image memory is there too (WINDOWS-EVIDENCE Known pitfalls; 3.4).
    #[test]
    fn the_clone_keeps_what_was_captured() {
        let (process, snapshot) = spawn_and_capture(memory(), CaptureFlags::VA_CLONE);
        process.write_memory(BASE, b"changed later");
        let clone = snapshot.va_clone().unwrap();
        let mut bytes = [0u8; 17];
        clone.read_exact(BASE, &mut bytes).unwrap();
        assert_eq!(&bytes, b"captured contents");
        assert_eq!(clone.read_value::<[u8; 2]>(BASE + 0x3000).unwrap(), *b"MZ");
        drop(snapshot);
        assert_no_leaks();
    }

    /// A read that runs into memory it cannot read stops there: `read` returns the short count,
    /// `read_exact` fails with `PartialCopy` and says how far it got.
    #[test]
    fn reads_stop_at_unreadable_memory() {
        let (_process, snapshot) = spawn_and_capture(memory(), CaptureFlags::VA_CLONE);
        let clone = snapshot.va_clone().unwrap();
        let mut bytes = vec![0u8; 0x20];
        let start = BASE + 0x1000 - 0x10;
        assert_eq!(clone.read(start, &mut bytes).unwrap(), 0x10);
        let error = clone.read_exact(start, &mut bytes).unwrap_err();
        assert_eq!(
            (
                error.function(),
                error.kind(),
                error.code().map(ErrorCode::raw)
            ),
            (
                Function::ReadProcessMemory,
                ErrorKind::Os(ErrorCode::PARTIAL_COPY),
                Some(299)
            )
        );
        assert_eq!(error.bytes_read(), Some(0x10));
        assert!(error.to_string().contains("after 16 bytes"), "{error}");
        let error = clone.read(BASE + 0x1000, &mut bytes).unwrap_err();
        assert_eq!(
            (error.kind(), error.bytes_read()),
            (ErrorKind::Os(ErrorCode::PARTIAL_COPY), Some(0))
        );
        drop(snapshot);
        assert_no_leaks();
    }

    /// Raw `ReadProcessMemory` as the kernel answers it: an address that cannot be read is
    /// `ERROR_PARTIAL_COPY` with 0 bytes (not `ERROR_NOACCESS`), and a read that faults part-way
    /// reports only the whole chunks it copied before the fault ([`ProcessSpec::read_chunk`];
    /// WINDOWS-EVIDENCE Second audit: `MiCopyVirtualMemory`).
    #[test]
    fn raw_reads_report_whole_chunks() {
        let spec = memory().read_chunk(0x400);
        let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::VA_CLONE);
        let clone = snapshot.va_clone().unwrap();
        let raw = |address: usize, len: usize| {
            let mut buf = vec![0u8; len];
            let mut read = usize::MAX;
            // SAFETY: a read of the clone into a local buffer of `len` bytes.
            let ok = unsafe {
                pss_sys::ReadProcessMemory(
                    pss::handle::AsRawHandle::as_raw_handle(&clone.handle()),
                    std::ptr::without_provenance(address),
                    buf.as_mut_ptr().cast(),
                    len,
                    &mut read,
                )
            };
            (ok != 0, read, if ok == 0 { last_error() } else { 0 })
        };
        assert_eq!(raw(BASE, 0x1000), (true, 0x1000, 0));
        assert_eq!(raw(BASE + 0x1000, 8), (false, 0, 299), "nothing readable");
        // 0xA00 readable bytes, then the fault: two whole 0x400 chunks are reported.
        assert_eq!(raw(BASE + 0x600, 0x1000), (false, 0x800, 299));
        // A fault in the first chunk reports nothing, though 0x10 bytes were readable.
        assert_eq!(raw(BASE + 0xFF0, 0x20), (false, 0, 299));
        drop(snapshot);
        assert_no_leaks();
    }

    /// `read` and `read_exact` deliver every readable byte although the kernel reports whole
    /// chunks: after a short report they continue page by page to the first unreadable page,
    /// in as few calls as that takes.
    #[test]
    fn reads_deliver_every_readable_byte_across_chunks() {
        let spec = ProcessSpec::new()
            .region(RegionSpec::private(BASE, 0x3000).contents(&[7; 0x3000]))
            .region(RegionSpec::reserved(BASE + 0x3000, 0x1000))
            .read_chunk(0x1000);
        let (_process, snapshot) = spawn_and_capture(spec, CaptureFlags::VA_CLONE);
        let clone = snapshot.va_clone().unwrap();
        let mut buf = vec![0u8; 0x4000];
        // One call reports 0x2000 (two chunks); one more reads the rest of that page (0x800);
        // one more finds the next page unreadable.
        let read = expect::calls(Call::ReadProcessMemory, 3, || {
            clone.read(BASE + 0x800, &mut buf)
        });
        assert_eq!(read.unwrap(), 0x2800);
        assert!(buf[..0x2800].iter().all(|&b| b == 7));
        let error = clone.read_exact(BASE + 0x800, &mut buf).unwrap_err();
        assert_eq!(
            (error.kind(), error.bytes_read()),
            (ErrorKind::Os(ErrorCode::PARTIAL_COPY), Some(0x2800))
        );
        // A range that is all readable is one call.
        expect::calls(Call::ReadProcessMemory, 1, || {
            clone.read_exact(BASE, &mut buf[..0x3000])
        })
        .unwrap();
        // Ending in the page the short report stopped in costs no second call there.
        let mut short = [0u8; 0x20];
        let read = expect::calls(Call::ReadProcessMemory, 1, || {
            clone.read(BASE + 0x3000 - 0x10 + 0x10, &mut short)
        });
        assert_eq!(read.unwrap_err().bytes_read(), Some(0));
        drop(snapshot);
        assert_no_leaks();
    }

    /// `SeekFrom::End` counts from the top of the address space, and distinct offsets are
    /// distinct positions (`End(0)` is not `End(-1)`); reading at the end reads nothing.
    #[test]
    fn seeking_from_the_end_is_exact() {
        let (_process, snapshot) = spawn_and_capture(memory(), CaptureFlags::VA_CLONE);
        let clone = snapshot.va_clone().unwrap();
        let mut reader = clone.reader();
        let end = reader.seek(SeekFrom::End(0)).unwrap();
        let before = reader.seek(SeekFrom::End(-1)).unwrap();
        assert_eq!(before + 1, end);
        assert_eq!(end, if usize::BITS < 64 { 1 << 32 } else { u64::MAX });
        reader.seek(SeekFrom::End(0)).unwrap();
        assert_eq!(
            reader.read(&mut [0u8; 4]).unwrap(),
            0,
            "nothing past the end"
        );
        assert!(reader.seek(SeekFrom::End(1)).is_err());
        drop(snapshot);
        assert_no_leaks();
    }

    /// Anonymous shared sections are not in the clone: reading them fails with
    /// `ERROR_PARTIAL_COPY`, though the target itself reads them (ClrMD #1334, PR #1441).
    #[test]
    fn anonymous_shared_sections_are_not_in_the_clone() {
        let (process, snapshot) = spawn_and_capture(memory(), CaptureFlags::VA_CLONE);
        let clone = snapshot.va_clone().unwrap();
        let error = clone.read_value::<[u8; 6]>(BASE + 0x2000).unwrap_err();
        assert_eq!(
            (error.kind(), error.bytes_read()),
            (ErrorKind::Os(ErrorCode::PARTIAL_COPY), Some(0))
        );
        let handle = pss::open_process(process.pid(), pss::ProcessAccess::VM_READ).unwrap();
        let mut direct = [0u8; 6];
        let mut read = 0;
        // SAFETY: a read of the live model process into a local buffer.
        let ok = unsafe {
            pss_sys::ReadProcessMemory(
                pss::handle::AsRawHandle::as_raw_handle(&handle),
                std::ptr::without_provenance(BASE + 0x2000),
                direct.as_mut_ptr().cast(),
                6,
                &mut read,
            )
        };
        assert_ne!(ok, 0);
        assert_eq!(&direct, b"shared");
        drop((handle, snapshot));
        assert_no_leaks();
    }
}
