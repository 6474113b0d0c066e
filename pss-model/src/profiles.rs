//! Images laid out in sections, as the loader maps them (headers, code, read-only data,
//! writable data, each a region of its own with its protection, all of one allocation), and a
//! process that has them with a large heap: what a dump's memory profiles choose between
//! (private and writable memory, the writable pages of images, code and read-only pages).

use super::data::{HandleSpec, ProcessSpec, RegionSpec, ThreadSpec, addr};
use pss_sys::*;

/// Where an image's sections start, and the bytes of its headers region.
const HEADERS: usize = 0x1000;

/// One section of an image: its RVA, size and protection.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    /// Its offset from the image's base (a multiple of the page size).
    pub rva: usize,
    /// Its size in bytes (a multiple of the page size).
    pub size: usize,
    /// Its protection (`PAGE_EXECUTE_READ` for code, `PAGE_READONLY`, `PAGE_READWRITE` or
    /// `PAGE_WRITECOPY` for data).
    pub protect: u32,
}

/// The sections most images have, in `size` bytes of image: code (half, after the headers),
/// read-only data (a quarter), writable data (the rest).
pub fn typical_sections(size: usize) -> [Section; 3] {
    let page = |n: usize| n & !0xFFF;
    let code = page((size - HEADERS) / 2).max(0x1000);
    let rdata = page((size - HEADERS) / 4).max(0x1000);
    let data = size - HEADERS - code - rdata;
    [
        Section {
            rva: HEADERS,
            size: code,
            protect: PAGE_EXECUTE_READ,
        },
        Section {
            rva: HEADERS + code,
            size: rdata,
            protect: PAGE_READONLY,
        },
        Section {
            rva: HEADERS + code + rdata,
            size: data,
            protect: PAGE_READWRITE,
        },
    ]
}

impl RegionSpec {
    /// A section of the image at `image_base`: a region of type `MEM_IMAGE` at
    /// `image_base + section.rva` whose allocation base is the image's (so readers see one
    /// image in several regions), with the image's file name and no PE values of its own (the
    /// headers' region has them).
    pub fn image_section(image_base: usize, name: &str, section: Section) -> Self {
        let mut region = RegionSpec::private(image_base + section.rva, section.size);
        region.kind = MEM_IMAGE;
        region.protect = section.protect;
        region.mapped_name = name.encode_utf16().collect();
        region.allocation_base = Some(image_base);
        region
    }
}

impl ProcessSpec {
    /// Adds an image of `size` bytes at `base`, as the loader maps it: a read-only region of
    /// headers ([`RegionSpec::image`]'s: PE headers, debug directory, CodeView record; with
    /// `SizeOfImage` the whole image), then one region per section ([`typical_sections`]), of
    /// one allocation. The writable data section starts with the image's file name.
    pub fn image_in_sections(mut self, base: usize, size: usize, name: &str) -> Self {
        let mut headers = RegionSpec::image(base, size, name);
        headers.size = HEADERS;
        headers.protect = PAGE_READONLY;
        headers.contents.truncate(HEADERS);
        self = self.region(headers);
        for section in typical_sections(size) {
            let region = RegionSpec::image_section(base, name, section);
            // Writable data starts with the image's file name, so tests can find it.
            let file = name.rsplit('\\').next().unwrap_or(name);
            self = self.region(if section.protect == PAGE_READWRITE {
                region.contents(file.as_bytes())
            } else {
                region
            });
        }
        self
    }
}

/// A service as the profiles table measures it: a heap of `heap` bytes (eight private
/// regions, the first starting with `b"heap"`), four images in sections (the executable and
/// three DLLs; every image's `.data` starts with its name), two threads whose frames chain
/// through the executable's and the DLLs' code, a read-only mapped file, a named writable
/// section (`PAGE_READWRITE`, `MEM_MAPPED`), a few handles and the PEB. 64-bit addresses (32-bit
/// hosts get addresses of their own, and a heap of at most 256 MiB).
pub fn service_process(heap: usize) -> ProcessSpec {
    let exe = addr(0x7ff6_0000_0000, 0x0040_0000);
    let dlls = [
        (
            addr(0x7ffa_0000_0000, 0x6000_0000),
            0x8_0000,
            r"\Device\HarddiskVolume3\Program Files\Contoso\engine.dll",
        ),
        (
            addr(0x7ffb_0000_0000, 0x7600_0000),
            0xc_0000,
            r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
        ),
        (
            addr(0x7ffc_0000_0000, 0x7700_0000),
            0x1f_0000,
            r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll",
        ),
    ];
    let exe_name = r"\Device\HarddiskVolume3\Program Files\Contoso\service.exe";
    let code = |base: usize, offset: usize| base + HEADERS + offset;
    let mut spec = ProcessSpec::new()
        .image(r"C:\Program Files\Contoso\service.exe")
        .thread(
            ThreadSpec::new(0x2a0)
                .executing_at(code(dlls[2].0, 0x9_d0e4))
                .call_stack(&[
                    code(dlls[1].0, 0x1_2a3e),
                    code(dlls[0].0, 0x2_0450),
                    code(exe, 0x1_1c2f),
                ]),
        )
        .thread(
            ThreadSpec::new(0x2a4)
                .executing_at(code(dlls[0].0, 0x3_1000))
                .call_stack(&[code(exe, 0x1_0a94), code(dlls[1].0, 0x1_7614)]),
        )
        .handle(HandleSpec::other(0x4, "File").named(r"\Device\ConDrv"))
        .handle(HandleSpec::event(0x8, true, false))
        .handle(HandleSpec::section(0xc, 0x1_0000).named(r"\BaseNamedObjects\service-shared"))
        .image_in_sections(exe, 0x4_0000, exe_name);
    for (base, size, name) in dlls {
        spec = spec.image_in_sections(base, size, name);
    }
    let heap_base = addr(0x0000_0200_0000_0000, 0x1000_0000);
    let part = (heap / 8) & !0xFFF;
    for i in 0..8 {
        let region = RegionSpec::private(heap_base + i * part, part);
        spec = spec.region(if i == 0 {
            region.contents(b"heap")
        } else {
            region
        });
    }
    spec.region(RegionSpec::mapped(
        addr(0x7ff6_1000_0000, 0x2100_0000),
        0x3000,
        r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
    ))
    .region(
        RegionSpec::mapped(
            addr(0x0000_01f0_1000_0000, 0x2200_0000),
            0x2000,
            r"\Device\HarddiskVolume3\ProgramData\Contoso\cache.bin",
        )
        .protection(PAGE_READWRITE),
    )
    .with_peb()
}

/// The writable data section of an image laid out by [`ProcessSpec::image_in_sections`] at
/// `base` with `size` bytes: its address and size.
pub fn data_section(base: usize, size: usize) -> (usize, usize) {
    let data = typical_sections(size)[2];
    (base + data.rva, data.size)
}
