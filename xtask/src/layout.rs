//! `cargo xtask layout [--check]`: the layout numbers in pss-sys/src/layout.rs, re-derived from
//! C declarations written from Microsoft's documentation (pss-sys/layout/probe.c).
//!
//! The probe is compiled for each Windows architecture, never run: by the mingw-w64 gcc for
//! i686 and x86_64, and by clang (`--target=aarch64-w64-mingw32`, with the mingw-w64 headers)
//! for aarch64. Its `.pss_layout` section holds 128-byte records, a NUL-padded 124-byte key and
//! a little-endian `u32`. Keys are `Struct#size`, `Struct#align` and `Struct.field.path` (an
//! offset). The section is read straight out of the COFF object file (see [`coff_section`]):
//! `objcopy -O binary` does not work for every architecture (llvm-objcopy 14 copies a whole
//! aarch64 COFF object).

use crate::{Result, run};
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

const PROBE: &str = "pss-sys/layout/probe.c";
/// The probe for the `dbghelp` feature's structures; its assertions are feature-gated.
const MINIDUMP_PROBE: &str = "pss-sys/layout/probe-minidump.c";
const LAYOUT: &str = "pss-sys/src/layout.rs";
const RECORD: usize = 128;
const KEY: usize = 124;

pub fn main(args: &[String]) -> Result {
    let [check] = crate::flags(args, ["--check"])?;
    let probed = |arch: Arch| -> Result<Probed> {
        Ok(Probed {
            pss: probe(arch, PROBE)?,
            minidump: probe(arch, MINIDUMP_PROBE)?,
        })
    };
    let fresh = rustfmt(&render(
        &probed(Arch::X86)?,
        &probed(Arch::X64)?,
        &probed(Arch::Arm64)?,
    ))?;
    if check {
        run::check_same(Path::new(LAYOUT), &fresh, "cargo xtask layout")
    } else {
        std::fs::write(LAYOUT, fresh)?;
        eprintln!("wrote {LAYOUT}");
        Ok(())
    }
}

/// The compilers the probe is compiled with.
#[derive(Clone, Copy)]
enum Arch {
    X86,
    X64,
    Arm64,
}

impl Arch {
    fn name(self) -> &'static str {
        match self {
            Arch::X86 => "i686",
            Arch::X64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// The compiler command for this architecture.
    fn compiler(self) -> Command {
        match self {
            Arch::X86 | Arch::X64 => Command::new(format!("{}-w64-mingw32-gcc", self.name())),
            Arch::Arm64 => {
                let mut clang = Command::new("clang");
                clang.args([
                    "--target=aarch64-w64-mingw32",
                    "-isystem",
                    "/usr/share/mingw-w64/include",
                ]);
                clang
            }
        }
    }
}

/// The records of both probes for one architecture.
struct Probed {
    pss: Vec<(String, u32)>,
    minidump: Vec<(String, u32)>,
}

/// Compiles `source` for `arch` and returns its records in order.
fn probe(arch: Arch, source: &str) -> Result<Vec<(String, u32)>> {
    let dir = Path::new("target/xtask/layout");
    std::fs::create_dir_all(dir)?;
    let stem = Path::new(source)
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("probe file name")?;
    let object = dir.join(format!("{stem}-{}.o", arch.name()));
    run::run(
        arch.compiler()
            .args([
                "-std=c11", "-Wall", "-Wextra", "-Werror", "-c", source, "-o",
            ])
            .arg(&object),
    )?;
    let file = std::fs::read(&object)?;
    let bytes =
        coff_section(&file, ".pss_layout").map_err(|e| format!("{}: {e}", object.display()))?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(format!(
            "{}: {} bytes is not a whole number of records",
            object.display(),
            bytes.len()
        )
        .into());
    }
    bytes
        .chunks(RECORD)
        .map(|record| {
            let key = &record[..KEY];
            let key = &key[..key.iter().position(|&b| b == 0).unwrap_or(KEY)];
            let key = String::from_utf8(key.to_vec())?;
            let value = u32::from_le_bytes(record[KEY..].try_into()?);
            Ok((key, value))
        })
        .collect()
}

/// The raw data of the section `name` of a COFF object file (the PE/COFF specification:
/// a 20-byte file header, the 40-byte section headers after the optional header, and names
/// longer than 8 bytes as `/offset` into the string table that follows the symbol table).
fn coff_section<'a>(file: &'a [u8], name: &str) -> Result<&'a [u8]> {
    let u16_at = |at: usize| -> Result<u16> {
        Ok(u16::from_le_bytes(
            file.get(at..at + 2).ok_or("truncated")?.try_into()?,
        ))
    };
    let u32_at = |at: usize| -> Result<u32> {
        Ok(u32::from_le_bytes(
            file.get(at..at + 4).ok_or("truncated")?.try_into()?,
        ))
    };
    let sections = usize::from(u16_at(2)?);
    let symbols_at = u32_at(8)? as usize;
    let symbols = u32_at(12)? as usize;
    let strings_at = symbols_at + 18 * symbols;
    let headers_at = 20 + usize::from(u16_at(16)?);
    for i in 0..sections {
        let header = headers_at + 40 * i;
        let raw_name = file.get(header..header + 8).ok_or("truncated")?;
        let short = &raw_name[..raw_name.iter().position(|&b| b == 0).unwrap_or(8)];
        let section_name = match short.strip_prefix(b"/") {
            Some(offset) => {
                let at = strings_at + std::str::from_utf8(offset)?.parse::<usize>()?;
                let rest = file.get(at..).ok_or("truncated")?;
                &rest[..rest
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or("unterminated name")?]
            }
            None => short,
        };
        if section_name == name.as_bytes() {
            let size = u32_at(header + 16)? as usize;
            let at = u32_at(header + 20)? as usize;
            return Ok(file.get(at..at + size).ok_or("truncated section")?);
        }
    }
    Err(format!("no section {name}").into())
}

/// Formats `source` as `cargo fmt` would, so the committed file passes `cargo fmt --check`.
fn rustfmt(source: &str) -> Result<String> {
    use std::io::Write as _;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin")?
        .write_all(source.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("rustfmt failed: {}", out.status).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The Rust source of pss-sys/src/layout.rs.
fn render(x86: &Probed, x64: &Probed, arm64: &Probed) -> String {
    let mut out = String::from(
        "// @generated by `cargo xtask layout` from pss-sys/layout/probe.c. Do not edit.
//
// Expected sizes, alignments and field offsets of every PSS structure, compiled from C
// declarations written from Microsoft's documentation, by the mingw-w64 gcc (x86, x86_64) and
// clang (aarch64), and read out of the object files (nothing was run). Each line fails the
// build of pss-sys on a target whose generated bindings disagree.

#![allow(unused_imports)] // a target without assertions (e.g. 32-bit non-Windows) uses none

use crate::*;
use core::mem::{align_of, offset_of, size_of};
use static_assertions::const_assert_eq;

/// 32-bit x86 Windows (numbers from i686-w64-mingw32-gcc). Not asserted on other 32-bit
/// systems, whose C ABIs align 64-bit integers differently.
#[cfg(all(target_arch = \"x86\", windows))]
mod x86 {
    use super::*;
",
    );
    assertions(&mut out, &x86.pss);
    minidump(&mut out, &x86.minidump);
    out.push_str(
        "}

/// x86_64 Windows, and arm64ec, whose structures are x64's (numbers from
/// x86_64-w64-mingw32-gcc). They also hold on x86_64 non-Windows hosts, where the pss-tests
/// kernel model fills these structures, and are asserted there.
#[cfg(any(target_arch = \"x86_64\", target_arch = \"arm64ec\"))]
mod x64 {
    use super::*;
",
    );
    assertions(&mut out, &x64.pss);
    minidump(&mut out, &x64.minidump);
    out.push_str(
        "}

/// aarch64 Windows (numbers from clang --target=aarch64-w64-mingw32). Also asserted on aarch64
/// non-Windows hosts, which run the pss-tests kernel model.
#[cfg(target_arch = \"aarch64\")]
mod aarch64 {
    use super::*;
",
    );
    assertions(&mut out, &arm64.pss);
    minidump(&mut out, &arm64.minidump);
    out.push_str("}\n");
    out
}

/// The `dbghelp` feature's assertions, in a module that exists only with the feature.
fn minidump(out: &mut String, records: &[(String, u32)]) {
    out.push_str(
        "
    /// dbghelp's callback structures (feature `dbghelp`; pss-sys/layout/probe-minidump.c).
    #[cfg(feature = \"dbghelp\")]
    mod minidump {
        use super::*;
        use crate::minidump::*;
",
    );
    assertions(out, records);
    out.push_str("    }\n");
}

fn assertions(out: &mut String, records: &[(String, u32)]) {
    for (key, value) in records {
        let line = if let Some(ty) = key.strip_suffix("#size") {
            format!("const_assert_eq!(size_of::<{ty}>(), {value});")
        } else if let Some(ty) = key.strip_suffix("#align") {
            format!("const_assert_eq!(align_of::<{ty}>(), {value});")
        } else {
            let (ty, path) = key.split_once('.').expect("probe keys are Type.path");
            format!("const_assert_eq!(offset_of!({ty}, {path}), {value});")
        };
        writeln!(out, "    {line}").expect("writing to a String cannot fail");
    }
}
