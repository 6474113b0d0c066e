//! The module list: one module per image in the address space, described by its PE headers
//! and CodeView record (read through the VA clone) and named by the loader.

use std::io::{Seek, Write};

use minidump_common::format as md;

use super::file::DumpFile;
use super::loader::DeviceMap;
use super::memory::AddressSpace;
use super::{DumpError, DumpSummary, Omission, pe};
use crate::{CaptureFlags, MemoryType, VaClone};

/// One image: its allocation base and the bytes its regions cover.
struct Image {
    base: usize,
    extent: usize,
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

/// Writes every module's name and CodeView record, then `ModuleListStream`.
pub(super) fn write<W: Write + Seek>(
    file: &mut DumpFile<W>,
    clone: Option<&VaClone<'_>>,
    space: &AddressSpace,
    loaded: &[(usize, Vec<u16>)],
    devices: &mut DeviceMap,
    summary: &mut DumpSummary,
) -> Result<(), DumpError> {
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
    for image in &images {
        if let (Some(nt), Some(dos)) = (nt_name(image.base), dos_name(image.base)) {
            devices.learn(nt, dos);
        }
    }
    let mut page = vec![0u8; pe::HEADER_BYTES];
    let mut modules = Vec::with_capacity(images.len());
    for image in &images {
        let name = match (dos_name(image.base), nt_name(image.base)) {
            (Some(dos), _) => file.string(dos)?,
            (None, Some(nt)) => match devices.dos_path(nt) {
                Some(dos) => file.string(&dos)?,
                None => file.string(nt)?,
            },
            (None, None) => file.string(&[])?,
        };
        let mut module = md::MINIDUMP_MODULE {
            base_of_image: image.base as u64,
            size_of_image: u32::try_from(image.extent).unwrap_or(u32::MAX),
            module_name_rva: name,
            ..Default::default()
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
                        Ok(Some(record)) => {
                            file.align(4)?;
                            let rva = file.rva()?;
                            file.bytes(&record)?;
                            module.cv_record = md::MINIDUMP_LOCATION_DESCRIPTOR {
                                data_size: record.len() as u32,
                                rva,
                            };
                            summary.modules_with_codeview += 1;
                        }
                        Ok(None) => {}
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
    file.align(4)?;
    let rva = file.rva()?;
    file.u32(modules.len() as u32)?;
    summary.modules = modules.len();
    for module in modules {
        file.put(module)?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::ModuleListStream, rva)
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
