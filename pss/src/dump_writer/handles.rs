//! The handle data stream: every captured handle, with its type and object names.

use std::io::{Seek, Write};

use minidump_common::format as md;

use super::file::DumpFile;
use super::streams::{present, walked};
use super::summary::Part;
use super::{DumpError, DumpSummary};
use crate::{Allocation, LocalSnapshot};

/// Writes the handles' names, then `HandleDataStream` (`MINIDUMP_HANDLE_DESCRIPTOR`s); returns
/// whether there was one (the snapshot has handles).
pub(super) fn write<A: Allocation, W: Write + Seek>(
    file: &mut DumpFile<W>,
    snapshot: &LocalSnapshot<A>,
    summary: &mut DumpSummary,
) -> Result<bool, DumpError> {
    let Some(walk) = present(snapshot.handles(), Part::Handles, summary)? else {
        return Ok(false);
    };
    let mut descriptors: Vec<md::MINIDUMP_HANDLE_DESCRIPTOR> = Vec::new();
    let result = walk
        .iter()
        .try_for_each_ref(|handle| -> Result<(), DumpError> {
            let type_name_rva = match handle.type_name() {
                Some(name) => file.string(name.as_utf16())?,
                None => 0,
            };
            let object_name_rva = match handle.object_name() {
                Some(name) => file.string(name.as_utf16())?,
                None => 0,
            };
            let basic = handle.basic_information();
            descriptors.push(md::MINIDUMP_HANDLE_DESCRIPTOR {
                handle: handle.handle_value() as u64,
                type_name_rva,
                object_name_rva,
                attributes: basic.map_or(0, |b| b.attributes),
                granted_access: basic.map_or(0, |b| b.granted_access),
                handle_count: basic.map_or(0, |b| b.handle_count),
                pointer_count: basic.map_or(0, |b| b.pointer_count),
            });
            Ok(())
        });
    let before = summary.omissions.len();
    walked(result, Part::Handles, summary)?;
    if summary.omissions.len() > before {
        return Ok(false);
    }
    file.align(4)?;
    let rva = file.rva()?;
    file.put(md::MINIDUMP_HANDLE_DATA_STREAM {
        size_of_header: 16,
        size_of_descriptor: 32,
        number_of_descriptors: descriptors.len() as u32,
        reserved: 0,
    })?;
    summary.handles = descriptors.len();
    for descriptor in descriptors {
        file.put(descriptor)?;
    }
    file.stream(md::MINIDUMP_STREAM_TYPE::HandleDataStream, rva)?;
    Ok(true)
}
