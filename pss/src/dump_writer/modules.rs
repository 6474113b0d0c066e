//! The module list: one module per image in the address space, described by its PE headers
//! and CodeView record (read through the VA clone) and named by the loader.

use std::io::Write;

use minidump_common::format as md;

use super::file::{Cursor, DumpFile, string_size};
use super::layout::Layout;
use super::loader::DeviceMap;
use super::memory::AddressSpace;
use super::{DumpError, DumpSummary, Omission, pe};
use crate::{CaptureFlags, MemoryType, VaClone};

/// One image: its allocation base and the bytes its regions cover.
struct Image {
    base: usize,
    extent: usize,
}

/// A module as the dump holds it.
#[derive(Debug)]
pub(super) struct Module {
    pub base: usize,
    pub size_of_image: u32,
    pub time_date_stamp: u32,
    pub checksum: u32,
    /// Its name as written (a DOS path where one is known).
    pub name: Vec<u16>,
    /// Its CodeView record, ready for the dump.
    pub codeview: Option<Vec<u8>>,
    /// The bytes its image regions cover, as the kernel reports them (not its headers, which
    /// the target could make lie): what redaction takes for the module.
    pub extent: usize,
}

/// The images of the address space, in address order: runs of image regions sharing an
/// allocation base.
fn images(space: &AddressSpace) -> Vec<Image> {
    let mut images: Vec<Image> = Vec::new();
    for region in space.regions.iter().filter(|r| r.kind == MemoryType::Image) {
        let base = region.allocation_base;
        // Sizes from the snapshot, checked all the same: an extent that would not fit the
        // address space is cut to it.
        let end = region.base_address.saturating_add(region.region_size);
        match images.last_mut() {
            Some(image) if image.base == base => image.extent = end - base,
            _ if base <= region.base_address => images.push(Image {
                base,
                extent: end - base,
            }),
            _ => {}
        }
    }
    images
}

/// The bases of the images the module list holds, ascending.
pub(super) fn image_bases(space: &AddressSpace) -> Vec<usize> {
    let mut bases: Vec<usize> = images(space).iter().map(|image| image.base).collect();
    bases.sort_unstable();
    bases.dedup();
    bases
}

/// Describes every image: name, headers, CodeView record.
pub(super) fn plan(
    clone: Option<&VaClone<'_>>,
    space: &AddressSpace,
    loaded: &[(usize, Vec<u16>)],
    summary: &mut DumpSummary,
) -> Vec<Module> {
    let images = images(space);
    if !images.is_empty() && !space.section_information && space.image_names.is_empty() {
        summary.omissions.push(Omission::NotCaptured(
            CaptureFlags::VA_SPACE_SECTION_INFORMATION,
        ));
    }
    let nt_name = |base: usize| {
        space
            .image_names
            .iter()
            .find(|(b, _)| *b == base)
            .map(|(_, n)| n.as_slice())
    };
    let dos_name = |base: usize| {
        loaded
            .iter()
            .find(|(b, _)| *b == base)
            .map(|(_, n)| n.as_slice())
    };
    let mut devices = DeviceMap::default();
    for image in &images {
        if let (Some(nt), Some(dos)) = (nt_name(image.base), dos_name(image.base)) {
            devices.learn(nt, dos);
        }
    }
    let mut page = vec![0u8; pe::HEADER_BYTES];
    let mut modules = Vec::with_capacity(images.len());
    for image in &images {
        let name = match (dos_name(image.base), nt_name(image.base)) {
            (Some(dos), _) => dos.to_vec(),
            (None, Some(nt)) => devices.dos_path(nt).unwrap_or_else(|| nt.to_vec()),
            (None, None) => Vec::new(),
        };
        let mut module = Module {
            base: image.base,
            size_of_image: u32::try_from(image.extent).unwrap_or(u32::MAX),
            time_date_stamp: 0,
            checksum: 0,
            name,
            codeview: None,
            extent: image.extent,
        };
        if let Some(clone) = clone {
            match described(clone, image, &mut page) {
                Ok((headers, codeview)) => {
                    module.time_date_stamp = headers.time_date_stamp;
                    module.checksum = headers.checksum;
                    // The headers' size where it fits the image's regions (it is theirs, for
                    // a true header): a larger one lies, and would claim others' addresses.
                    if headers.size_of_image != 0 && headers.size_of_image as usize <= image.extent
                    {
                        module.size_of_image = headers.size_of_image;
                    }
                    match codeview {
                        Ok(record) => module.codeview = record,
                        Err(problem) => summary.omissions.push(Omission::ModuleHeaders {
                            base: image.base,
                            problem,
                        }),
                    }
                }
                Err(problem) => summary.omissions.push(Omission::ModuleHeaders {
                    base: image.base,
                    problem,
                }),
            }
        }
        modules.push(module);
    }
    summary.modules = modules.len();
    summary.modules_with_codeview = modules.iter().filter(|m| m.codeview.is_some()).count();
    modules
}

/// An image's headers and CodeView record (or what was wrong with the record).
type Described = (pe::Headers, Result<Option<Vec<u8>>, &'static str>);

fn described(
    clone: &VaClone<'_>,
    image: &Image,
    page: &mut [u8],
) -> Result<Described, &'static str> {
    let len = page.len().min(image.extent);
    let read = clone
        .read(image.base, &mut page[..len])
        .map_err(|_| "the headers cannot be read")?;
    let headers = pe::headers(&page[..read])?;
    // RVAs are checked against what the snapshot says the image covers, never against the
    // headers' own `SizeOfImage` (the target's data: it may lie); within both where both exist.
    let extent = match headers.size_of_image {
        0 => image.extent,
        size => image.extent.min(size as usize),
    };
    Ok((headers, pe::codeview(clone, image.base, &headers, extent)))
}

/// The module list's size: its count, then 108 bytes per module.
pub(super) fn list_size(modules: &[Module]) -> u64 {
    4 + 108 * modules.len() as u64
}

/// Where the names and the CodeView records go, after the list: (names, records).
pub(super) fn lay_out(modules: &[Module], cursor: &mut Cursor) -> (Vec<u64>, Vec<Option<u64>>) {
    let names = modules
        .iter()
        .map(|m| cursor.place(4, string_size(&m.name)))
        .collect();
    let records = modules
        .iter()
        .map(|m| {
            m.codeview
                .as_ref()
                .map(|record| cursor.place(4, record.len() as u64))
        })
        .collect();
    (names, records)
}

/// Writes `ModuleListStream`, then the names and CodeView records.
pub(super) fn write<W: Write>(
    file: &mut DumpFile<'_, W>,
    modules: &[Module],
    layout: &Layout,
) -> Result<(), DumpError> {
    file.step()?;
    file.at(u64::from(layout.module_list))?;
    file.u32(modules.len() as u32)?;
    for (i, module) in modules.iter().enumerate() {
        let cv_record = match (&module.codeview, layout.codeviews[i]) {
            (Some(record), Some(rva)) => md::MINIDUMP_LOCATION_DESCRIPTOR {
                data_size: record.len() as u32,
                rva,
            },
            _ => md::MINIDUMP_LOCATION_DESCRIPTOR::default(),
        };
        file.put(md::MINIDUMP_MODULE {
            base_of_image: module.base as u64,
            size_of_image: module.size_of_image,
            checksum: module.checksum,
            time_date_stamp: module.time_date_stamp,
            module_name_rva: layout.module_names[i],
            cv_record,
            ..Default::default()
        })?;
    }
    for (module, rva) in modules.iter().zip(&layout.module_names) {
        file.string(u64::from(*rva), &module.name)?;
    }
    for (module, rva) in modules.iter().zip(&layout.codeviews) {
        if let (Some(record), Some(rva)) = (&module.codeview, rva) {
            file.at(u64::from(*rva))?;
            file.bytes(record)?;
        }
    }
    Ok(())
}
