//! What the dump takes from the target's PEB, read through the VA clone: the Windows version
//! and processor count for the system information, and the loader's module list, whose DOS
//! paths name the modules (a snapshot's region names are NT paths,
//! `\Device\HarddiskVolume3\...`).
//!
//! The PEB is this build's architecture's (a 64-bit writer reads a WOW64 target's 64-bit PEB,
//! whose loader list holds the 64-bit modules only). Its layout is not documented beyond
//! `Ldr` and `ProcessParameters`; the offsets here are those every Windows since Vista uses
//! (the public symbols of ntdll), stable because debuggers and the loader depend on them.

use crate::VaClone;

const POINTER: usize = size_of::<usize>();
const WIDE: bool = POINTER == 8;

/// `PEB.Ldr`.
const PEB_LDR: usize = 3 * POINTER;
/// `PEB.NumberOfProcessors`, `OSMajorVersion`, `OSMinorVersion`, `OSBuildNumber` (16 bits),
/// `OSPlatformId`.
const PEB_PROCESSORS: usize = if WIDE { 0xB8 } else { 0x64 };
const PEB_OS_MAJOR: usize = if WIDE { 0x118 } else { 0xA4 };
const PEB_OS_MINOR: usize = PEB_OS_MAJOR + 4;
const PEB_OS_BUILD: usize = PEB_OS_MAJOR + 8;
const PEB_OS_PLATFORM: usize = PEB_OS_MAJOR + 12;
/// The PEB bytes read: up to and including `OSPlatformId`.
const PEB_BYTES: usize = PEB_OS_PLATFORM + 4;

/// `PEB_LDR_DATA.InLoadOrderModuleList`.
const LDR_LOAD_ORDER: usize = if WIDE { 0x10 } else { 0x0C };
/// `LDR_DATA_TABLE_ENTRY.DllBase` and `.FullDllName` (a `UNICODE_STRING`: two 16-bit lengths,
/// then the buffer pointer, aligned).
const ENTRY_DLL_BASE: usize = 6 * POINTER;
const ENTRY_FULL_NAME: usize = if WIDE { 0x48 } else { 0x24 };
const ENTRY_BYTES: usize = ENTRY_FULL_NAME + 2 * POINTER;
/// Entries followed at most: the list is the target's data, and may be long or loop.
const MAX_MODULES: usize = 4096;

/// The PEB's values for the system information.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct System {
    pub processors: u8,
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub platform: u32,
}

fn usize_at(bytes: &[u8], at: usize) -> usize {
    let mut word = [0u8; POINTER];
    word.copy_from_slice(&bytes[at..at + POINTER]);
    usize::from_le_bytes(word)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default())
}

/// The PEB at `peb`: the system values and where the loader data is; `None` if it cannot be
/// read.
pub(super) fn read_peb(clone: &VaClone<'_>, peb: usize) -> Option<(System, usize)> {
    let mut bytes = [0u8; PEB_BYTES];
    clone.read_exact(peb, &mut bytes).ok()?;
    let system = System {
        processors: u32_at(&bytes, PEB_PROCESSORS).min(255) as u8,
        major: u32_at(&bytes, PEB_OS_MAJOR),
        minor: u32_at(&bytes, PEB_OS_MINOR),
        build: u32::from(u16::from_le_bytes([
            bytes[PEB_OS_BUILD],
            bytes[PEB_OS_BUILD + 1],
        ])),
        platform: u32_at(&bytes, PEB_OS_PLATFORM),
    };
    Some((system, usize_at(&bytes, PEB_LDR)))
}

/// The loader's names (DOS paths) of the images at `images` (their bases, in ascending order:
/// the ones the dump lists), as (base, name) in load order, as far as they can be read.
///
/// The list is the target's data, so what following it costs is bounded by the dump, not by
/// the list: a name is read and kept only for an image of `images` not named yet (a name is at
/// most 64 KiB, a `UNICODE_STRING`'s length), and the walk ends where the list comes back to its
/// head, at a NULL or unreadable link, at a loop that does not pass the head again (Brent's
/// cycle detection: no memory, at most about twice the entries up to and around the loop), or
/// after [`MAX_MODULES`] entries.
pub(super) fn loaded_modules(
    clone: &VaClone<'_>,
    ldr: usize,
    images: &[usize],
) -> Vec<(usize, Vec<u16>)> {
    let mut modules = Vec::new();
    let mut named = vec![false; images.len()];
    let Some(head) = ldr.checked_add(LDR_LOAD_ORDER) else {
        return modules;
    };
    let Ok(mut link) = clone.read_value::<usize>(head) else {
        return modules;
    };
    let mut name_bytes = Vec::new();
    // Brent: `tortoise` waits at an entry while `link` walks up to `power` steps from it; a loop
    // brings `link` back to it once `power` reaches the loop's length.
    let (mut tortoise, mut power, mut steps) = (head, 1usize, 0usize);
    for _ in 0..MAX_MODULES {
        if link == head || link == 0 || modules.len() == images.len() {
            break;
        }
        // `InLoadOrderLinks` is the entry's first field, so a link is the entry's address.
        let mut entry = [0u8; ENTRY_BYTES];
        if clone.read_exact(link, &mut entry).is_err() {
            break;
        }
        let base = usize_at(&entry, ENTRY_DLL_BASE);
        if let Ok(i) = images.binary_search(&base) {
            if !named[i] {
                let length = usize::from(u16::from_le_bytes([
                    entry[ENTRY_FULL_NAME],
                    entry[ENTRY_FULL_NAME + 1],
                ]));
                let buffer = usize_at(&entry, ENTRY_FULL_NAME + POINTER);
                name_bytes.clear();
                name_bytes.resize(length & !1, 0);
                if buffer != 0 && clone.read_exact(buffer, &mut name_bytes).is_ok() {
                    let name = name_bytes
                        .chunks_exact(2)
                        .map(|u| u16::from_le_bytes([u[0], u[1]]))
                        .collect();
                    modules.push((base, name));
                    named[i] = true;
                }
            }
        }
        let next = usize_at(&entry, 0);
        if next == tortoise {
            break;
        }
        steps += 1;
        if steps == power {
            (tortoise, power, steps) = (next, power.saturating_mul(2), 0);
        }
        link = next;
    }
    modules
}

/// DOS names for NT paths, learnt from pairs of the same file's two names: an NT path that
/// ends as a DOS path does after its drive (`C:`) maps the rest of the NT path
/// (`\Device\HarddiskVolume3`) to that drive.
#[derive(Debug, Default)]
pub(super) struct DeviceMap {
    /// (NT device prefix, drive), ASCII-lowercased prefix.
    devices: Vec<(Vec<u16>, [u16; 2])>,
}

fn lower(u: u16) -> u16 {
    if (u16::from(b'A')..=u16::from(b'Z')).contains(&u) {
        u + 32
    } else {
        u
    }
}

fn eq_ignore_case(a: &[u16], b: &[u16]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| lower(*x) == lower(*y))
}

impl DeviceMap {
    /// Learns from an NT path and a DOS path of the same file.
    pub(super) fn learn(&mut self, nt: &[u16], dos: &[u16]) {
        let colon = u16::from(b':');
        let is_drive = dos.len() > 3 && dos[1] == colon && dos[2] == u16::from(b'\\');
        if !is_drive || nt.len() <= dos.len() - 2 {
            return;
        }
        let tail = &dos[2..];
        let split = nt.len() - tail.len();
        if !eq_ignore_case(&nt[split..], tail) {
            return;
        }
        let prefix: Vec<u16> = nt[..split].iter().map(|u| lower(*u)).collect();
        if !self.devices.iter().any(|(p, _)| *p == prefix) {
            self.devices.push((prefix, [dos[0], dos[1]]));
        }
    }

    /// The DOS path for `nt`, if its device is known.
    pub(super) fn dos_path(&self, nt: &[u16]) -> Option<Vec<u16>> {
        self.devices.iter().find_map(|(prefix, drive)| {
            let rest = nt.get(prefix.len()..)?;
            let head = &nt[..prefix.len()];
            (eq_ignore_case(head, prefix) && rest.first() == Some(&u16::from(b'\\')))
                .then(|| drive.iter().chain(rest).copied().collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn devices_are_learnt_from_pairs_of_names() {
        let mut map = DeviceMap::default();
        map.learn(
            &w(r"\Device\HarddiskVolume3\Windows\System32\KERNEL32.DLL"),
            &w(r"C:\WINDOWS\System32\kernel32.dll"),
        );
        assert_eq!(
            map.dos_path(&w(r"\Device\HarddiskVolume3\Program Files\a.dll")),
            Some(w(r"C:\Program Files\a.dll"))
        );
        assert_eq!(map.dos_path(&w(r"\Device\HarddiskVolume4\a.dll")), None);
        assert_eq!(map.dos_path(&w(r"\Device\HarddiskVolume30\a.dll")), None);
        // Unrelated names teach nothing.
        map.learn(&w(r"\Device\X\a.dll"), &w(r"D:\b.dll"));
        map.learn(&w(r"\Device\X\a.dll"), &w(r"relative\a.dll"));
        map.learn(&w(r"a"), &w(r"C:\a"));
        assert_eq!(map.dos_path(&w(r"\Device\X\a.dll")), None);
    }
}
