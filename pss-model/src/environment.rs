//! The PEB, its loader data and the TEBs of a model process
//! ([`ProcessSpec::with_peb`](super::ProcessSpec::with_peb)), as Windows lays them out for the
//! host's pointer width (x64 offsets on aarch64 too), in one private region that ends with the
//! PEB's page at [`PEB_ADDRESS`]:
//!
//! | where | what |
//! |---|---|
//! | the region's first pages | `PEB_LDR_DATA`, one `LDR_DATA_TABLE_ENTRY` per image region (the main executable, the one the PEB's `ImageBaseAddress` names, first; the others in address order), then their names |
//! | below the PEB, one [`TEB_SIZE`] apart | each thread's TEB, the first thread's highest ([`ThreadSpec::teb_address`](super::ThreadSpec::teb_address)) |
//! | [`PEB_ADDRESS`] | the PEB: `ImageBaseAddress`, `Ldr`, `ProcessParameters` (a region of its own: `parameters.rs`), and the OS fields ([`OS_MAJOR_VERSION`], ...) |
//!
//! Each TEB holds `NtTib.StackBase` and `StackLimit` (its stack region's end and start), `Self`,
//! `ClientId`, `ProcessEnvironmentBlock` and `LastErrorValue`
//! ([`ThreadSpec::last_error`](super::ThreadSpec::last_error)). The loader's three lists are
//! circular, through the `PEB_LDR_DATA` heads; the initialization-order list leaves the main
//! executable out, as Windows does. `FullDllName` is the DOS path of the region's mapped file
//! ([`dos_path`]), `BaseDllName` its file name (pointing into the same buffer, as on Windows).
//! Without `with_peb` the TEB addresses are still reported, with nothing behind them.

use super::data::{ProcessData, RegionSpec, ThreadSpec, addr};
use super::le::LeBuf;
use super::pe;
use pss_sys::MEM_IMAGE;

/// Where every model process's PEB is (`PSS_PROCESS_INFORMATION.PebBaseAddress`); its memory
/// exists when the spec asks for it ([`ProcessSpec::with_peb`](super::ProcessSpec::with_peb)).
pub const PEB_ADDRESS: usize = addr(0x0000_00D0_0000_0000, 0x7FFD_F000);

/// Where the PEB keeps `ImageBaseAddress`: after two pointer-sized fields (x64 and arm64:
/// `0x10`; x86: `0x08`).
pub const PEB_IMAGE_BASE_OFFSET: usize = 2 * size_of::<usize>();

/// Bytes between one TEB and the next (x64's TEB takes two pages, x86's one).
pub const TEB_SIZE: usize = addr(0x2000, 0x1000);

/// `PEB.NumberOfProcessors` (the model's dumps report the same count).
pub const NUMBER_OF_PROCESSORS: u32 = 8;

/// `PEB.OSMajorVersion`: Windows 10 and 11 both report 10.
pub const OS_MAJOR_VERSION: u32 = 10;

/// `PEB.OSMinorVersion`.
pub const OS_MINOR_VERSION: u32 = 0;

/// `PEB.OSBuildNumber`: Windows 11 24H2.
pub const OS_BUILD_NUMBER: u16 = 26100;

/// `PEB.OSPlatformId`: `VER_PLATFORM_WIN32_NT`.
pub const OS_PLATFORM_ID: u32 = 2;

/// The model's device map: NT device names and the DOS drives they are mounted as, which turns
/// the NT paths of mapped files (`\Device\HarddiskVolume3\Windows\System32\ntdll.dll`) into the
/// DOS paths the loader records (`C:\Windows\System32\ntdll.dll`).
pub const DEVICE_MAP: &[(&str, &str)] = &[(r"\Device\HarddiskVolume3", "C:")];

/// The DOS path of an NT path through [`DEVICE_MAP`] (device names compare case-insensitively,
/// and only as whole path components); a path on no mapped device is returned unchanged.
pub fn dos_path(nt: &str) -> String {
    for (device, drive) in DEVICE_MAP {
        let prefix = nt.get(..device.len());
        let rest = nt.get(device.len()..);
        if let (Some(prefix), Some(rest)) = (prefix, rest) {
            if prefix.eq_ignore_ascii_case(device) && (rest.is_empty() || rest.starts_with('\\')) {
                return format!("{drive}{}", if rest.is_empty() { "\\" } else { rest });
            }
        }
    }
    nt.to_string()
}

/// The TEB of a process's thread number `index` (in its thread list), for TEBs `spacing` bytes
/// apart below the PEB at `peb`.
pub(crate) fn teb_address(peb: usize, spacing: usize, index: usize) -> usize {
    peb.wrapping_sub((index + 1).wrapping_mul(spacing))
}

const PAGE: usize = 0x1000;
const POINTER: usize = size_of::<usize>();
const WIDE: bool = POINTER == 8;

/// Offsets that differ between x64 (and arm64) and x86.
const fn off(x64: usize, x86: usize) -> usize {
    if WIDE { x64 } else { x86 }
}

// PEB
const PEB_LDR: usize = off(0x18, 0x0C);
const PEB_NUMBER_OF_PROCESSORS: usize = off(0xB8, 0x64);
const PEB_OS_MAJOR: usize = off(0x118, 0xA4);
const PEB_OS_MINOR: usize = off(0x11C, 0xA8);
const PEB_OS_BUILD: usize = off(0x120, 0xAC);
const PEB_OS_PLATFORM: usize = off(0x124, 0xB0);
// PEB_LDR_DATA
const LDR_SIZE: usize = off(0x58, 0x30);
const LDR_INITIALIZED: usize = 4;
/// The three list heads: load, memory and initialization order.
const LDR_HEADS: [usize; 3] = [off(0x10, 0x0C), off(0x20, 0x14), off(0x30, 0x1C)];
// LDR_DATA_TABLE_ENTRY
const ENTRY_SIZE: usize = off(0x120, 0xA8);
/// The entry's links in each list, in the order of [`LDR_HEADS`].
const ENTRY_LINKS: [usize; 3] = [0, off(0x10, 0x08), off(0x20, 0x10)];
const ENTRY_DLL_BASE: usize = off(0x30, 0x18);
const ENTRY_ENTRY_POINT: usize = off(0x38, 0x1C);
const ENTRY_SIZE_OF_IMAGE: usize = off(0x40, 0x20);
const ENTRY_FULL_NAME: usize = off(0x48, 0x24);
const ENTRY_BASE_NAME: usize = off(0x58, 0x2C);
/// `UNICODE_STRING.Buffer`, after two `u16` lengths and padding.
const STRING_BUFFER: usize = off(8, 4);
// TEB
const TEB_STACK_BASE: usize = off(0x08, 0x04);
const TEB_STACK_LIMIT: usize = off(0x10, 0x08);
const TEB_SELF: usize = off(0x30, 0x18);
const TEB_PROCESS_ID: usize = off(0x40, 0x20);
const TEB_THREAD_ID: usize = off(0x48, 0x24);
const TEB_PEB: usize = off(0x60, 0x30);
const TEB_LAST_ERROR: usize = off(0x68, 0x34);

/// One module of the loader's list.
struct Module {
    base: usize,
    size: u32,
    entry_point: usize,
    full_name: Vec<u16>,
    /// Where the file name starts in `full_name`, in units.
    base_name_at: usize,
}

fn modules(regions: &[RegionSpec]) -> Vec<Module> {
    // The main executable, then the images of the host's machine: a WOW64 process's 64-bit
    // loader knows nothing of its 32-bit DLLs (`super::wow64`).
    let mut images: Vec<&RegionSpec> = regions
        .iter()
        .filter(|r| r.kind == MEM_IMAGE && r.image.is_some())
        .enumerate()
        .filter(|(i, r)| *i == 0 || r.pe.as_ref().is_none_or(|pe| pe.machine == pe::PE_MACHINE))
        .map(|(_, r)| r)
        .collect();
    if images.len() > 1 {
        images[1..].sort_by_key(|r| r.base);
    }
    images
        .into_iter()
        .map(|r| {
            let full = dos_path(&String::from_utf16_lossy(&r.mapped_name));
            let base_name_at = full.len() - pe::file_name(&full).len();
            Module {
                base: r.base,
                size: r.image.map_or(r.size as u32, |i| i.size_of_image),
                entry_point: match pe::entry_point_rva(r.size) {
                    0 => 0,
                    rva => r.base + rva,
                },
                // The file name's offset in UTF-16 units: the DOS path is ASCII up to it
                // wherever it came from the device map; count units to be exact.
                base_name_at: full[..base_name_at].encode_utf16().count(),
                full_name: full.encode_utf16().collect(),
            }
        })
        .collect()
}

/// The region holding the loader data, the TEBs of `data`'s threads (whose `teb` and
/// `stack_base` are set, `spacing` bytes apart) and its PEB, whose `ImageBaseAddress` is its
/// first image region's base; `None` if so many threads' TEBs would not fit below the PEB.
pub(crate) fn region(data: &ProcessData, spacing: usize) -> Option<RegionSpec> {
    let modules = modules(&data.regions);
    let threads: &[ThreadSpec] = &data.threads;

    // The loader data: PEB_LDR_DATA, the entries, then the names.
    let entries_at = LDR_SIZE.next_multiple_of(16);
    let names_at = entries_at + ENTRY_SIZE * modules.len();
    let mut names = Vec::with_capacity(modules.len());
    let mut end = names_at;
    for m in &modules {
        names.push(end);
        end = (end + 2 * (m.full_name.len() + 1)).next_multiple_of(POINTER);
    }
    let loader_size = end.next_multiple_of(PAGE);
    let tebs_size = spacing.checked_mul(threads.len())?;
    let size = loader_size.checked_add(tebs_size)?.checked_add(PAGE)?;
    let peb_address = data.info.peb;
    let base = peb_address.checked_sub(size - PAGE)?;
    let mut b = LeBuf::default();

    let ldr = 0;
    b.u32(ldr, LDR_SIZE as u32);
    b.u8(ldr + LDR_INITIALIZED, 1);
    for (list, (&head, &links)) in LDR_HEADS.iter().zip(&ENTRY_LINKS).enumerate() {
        // The initialization-order list leaves the main executable out.
        let skip = usize::from(list == 2);
        let mut nodes = vec![base + ldr + head];
        nodes.extend((skip..modules.len()).map(|i| base + entries_at + ENTRY_SIZE * i + links));
        for (i, &node) in nodes.iter().enumerate() {
            let next = nodes[(i + 1) % nodes.len()];
            let previous = nodes[(i + nodes.len() - 1) % nodes.len()];
            b.ptr(node - base, next);
            b.ptr(node - base + POINTER, previous);
        }
    }
    for (i, (m, &name)) in modules.iter().zip(&names).enumerate() {
        let e = entries_at + ENTRY_SIZE * i;
        b.ptr(e + ENTRY_DLL_BASE, m.base);
        b.ptr(e + ENTRY_ENTRY_POINT, m.entry_point);
        b.u32(e + ENTRY_SIZE_OF_IMAGE, m.size);
        let units = m.full_name.len();
        let string = |b: &mut LeBuf, at: usize, units: usize, buffer: usize| {
            // Counted in bytes, without the NUL that `MaximumLength` adds; cut to fit a u16.
            let bytes = (2 * units).min(0xFFFC) as u16;
            b.u16(at, bytes);
            b.u16(at + 2, bytes + 2);
            b.ptr(at + STRING_BUFFER, buffer);
        };
        string(&mut b, e + ENTRY_FULL_NAME, units, base + name);
        string(
            &mut b,
            e + ENTRY_BASE_NAME,
            units - m.base_name_at,
            base + name + 2 * m.base_name_at,
        );
        for (j, unit) in m.full_name.iter().enumerate() {
            b.u16(name + 2 * j, *unit);
        }
    }

    for t in threads {
        let teb = t.teb - base;
        if WIDE {
            b.ptr(teb, 0); // no exception list on x64
        } else {
            b.ptr(teb, usize::MAX); // the end of the SEH chain
        }
        b.ptr(
            teb + TEB_STACK_BASE,
            t.stack_base + super::stack::STACK_SIZE,
        );
        b.ptr(teb + TEB_STACK_LIMIT, t.stack_base);
        b.ptr(teb + TEB_SELF, t.teb);
        b.ptr(teb + TEB_PROCESS_ID, data.info.pid as usize);
        b.ptr(teb + TEB_THREAD_ID, t.tid as usize);
        b.ptr(teb + TEB_PEB, peb_address);
        b.u32(teb + TEB_LAST_ERROR, t.last_error);
    }

    let peb = peb_address - base;
    let main = modules.first().map_or(0, |m| m.base);
    b.ptr(peb + PEB_IMAGE_BASE_OFFSET, main);
    b.ptr(peb + PEB_LDR, base + ldr);
    let parameters = super::parameters::PARAMETERS_ADDRESS;
    b.ptr(peb + super::parameters::PEB_PROCESS_PARAMETERS, parameters);
    b.u32(peb + PEB_NUMBER_OF_PROCESSORS, NUMBER_OF_PROCESSORS);
    b.u32(peb + PEB_OS_MAJOR, OS_MAJOR_VERSION);
    b.u32(peb + PEB_OS_MINOR, OS_MINOR_VERSION);
    b.u16(peb + PEB_OS_BUILD, OS_BUILD_NUMBER);
    b.u32(peb + PEB_OS_PLATFORM, OS_PLATFORM_ID);

    Some(RegionSpec::private(base, size).contents(&b.0))
}

/// Lays out what a spawned process holds in memory beyond its spec's regions: each thread's TEB
/// address, a stack region for each thread with a call stack (its stack and frame pointers
/// set to it), and with `with_peb` the region of [`region`] and the process parameters'.
pub(crate) fn lay_out_process(data: &mut ProcessData, with_peb: bool) {
    lay_out(data, with_peb, TEB_SIZE);
}

/// [`lay_out_process`] with the TEBs `spacing` bytes apart (a WOW64 process keeps each thread's
/// 32-bit TEB after its 64-bit one: `super::wow64`).
pub(crate) fn lay_out(data: &mut ProcessData, with_peb: bool, spacing: usize) {
    let peb = data.info.peb;
    let mut stacks = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for (i, t) in std::sync::Arc::make_mut(&mut data.threads)
        .iter_mut()
        .enumerate()
    {
        t.teb = teb_address(peb, spacing, i);
        t.stack_base = super::stack::stack_base(t.tid);
        let Some(call_stack) = &t.call_stack else {
            continue;
        };
        while !taken.insert(t.stack_base) {
            t.stack_base = super::stack::next_slot(t.stack_base);
        }
        let stack = super::stack::lay_out(t.stack_base, call_stack);
        t.registers[1] = stack.stack_pointer;
        t.registers[2] = stack.frame_pointer;
        stacks.push(stack.region);
    }
    super::crash::lay_out(data, &mut stacks);
    let environment = if with_peb {
        region(data, spacing)
    } else {
        None
    };
    let parameters = environment
        .as_ref()
        .map(|_| super::parameters::region(data));
    let regions = std::sync::Arc::make_mut(&mut data.regions);
    regions.extend(environment);
    regions.extend(parameters);
    regions.extend(stacks);
}
