//! The handle data stream: every captured handle, with its type and object names. Type names
//! repeat (`File`, `Event`, `Key`): each distinct one is written once and shared.

use std::io::Write;

use minidump_common::format as md;

use super::file::{Cursor, DumpFile, string_size};
use super::layout::Layout;
use super::streams::{present, walked};
use super::summary::Part;
use super::{DumpError, DumpSummary};
use crate::{Allocation, LocalSnapshot};

/// No string.
const NONE: u32 = u32::MAX;

/// The handles as the dump holds them: descriptors whose name fields index `strings`.
#[derive(Debug, Default)]
pub(super) struct Handles {
    /// The descriptors, with `type_name_rva` and `object_name_rva` holding string indices
    /// ([`NONE`] for none) until written.
    pub descriptors: Vec<md::MINIDUMP_HANDLE_DESCRIPTOR>,
    /// Every string's units, one after the other.
    units: Vec<u16>,
    /// (start, length) of each string in `units`.
    pub strings: Vec<(usize, usize)>,
}

impl Handles {
    fn string(&self, index: usize) -> &[u16] {
        let (start, len) = self.strings[index];
        &self.units[start..start + len]
    }

    fn add(&mut self, name: &[u16]) -> u32 {
        self.units.extend_from_slice(name);
        self.strings
            .push((self.units.len() - name.len(), name.len()));
        (self.strings.len() - 1) as u32
    }

    /// A type name, shared with an earlier handle of the same type (a handful of types).
    fn add_type(&mut self, name: &[u16], types: &mut Vec<u32>) -> u32 {
        if let Some(&index) = types.iter().find(|&&i| self.string(i as usize) == name) {
            return index;
        }
        let index = self.add(name);
        types.push(index);
        index
    }
}

/// Walks the handles; `None` (recorded) without any.
pub(super) fn plan<A: Allocation>(
    snapshot: &LocalSnapshot<A>,
    summary: &mut DumpSummary,
) -> Result<Option<Handles>, DumpError> {
    let Some(walk) = present(snapshot.handles(), Part::Handles, summary)? else {
        return Ok(None);
    };
    let mut handles = Handles::default();
    let mut types = Vec::new();
    let result = walk
        .iter()
        .try_for_each_ref(|handle| -> Result<(), DumpError> {
            let type_name = match handle.type_name() {
                Some(name) => handles.add_type(name.as_utf16(), &mut types),
                None => NONE,
            };
            let object_name = match handle.object_name() {
                Some(name) => handles.add(name.as_utf16()),
                None => NONE,
            };
            let basic = handle.basic_information();
            handles.descriptors.push(md::MINIDUMP_HANDLE_DESCRIPTOR {
                handle: handle.handle_value() as u64,
                type_name_rva: type_name,
                object_name_rva: object_name,
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
        return Ok(None);
    }
    Ok(Some(handles))
}

/// `MINIDUMP_HANDLE_DATA_STREAM` (16 bytes), then 32 bytes per descriptor.
fn list_size(handles: &Handles) -> u64 {
    16 + 32 * handles.descriptors.len() as u64
}

/// Where the stream and its strings go from `cursor` on: (stream, each string).
pub(super) fn lay_out(handles: &Handles, cursor: &mut Cursor) -> (u64, Vec<u64>) {
    let stream = cursor.place(4, list_size(handles));
    let strings = (0..handles.strings.len())
        .map(|i| cursor.place(4, string_size(handles.string(i))))
        .collect();
    (stream, strings)
}

/// The bytes the stream and its strings take, aligned from `start`.
pub(super) fn size(handles: &Handles, start: u64) -> u64 {
    let mut cursor = Cursor::at(start);
    lay_out(handles, &mut cursor);
    cursor.offset - start
}

/// Writes `HandleDataStream` (`MINIDUMP_HANDLE_DESCRIPTOR`s), then the names.
pub(super) fn write<W: Write>(
    file: &mut DumpFile<'_, W>,
    handles: &Handles,
    layout: &Layout,
) -> Result<(), DumpError> {
    let Some((stream, strings)) = &layout.handles else {
        return Ok(());
    };
    file.step()?;
    file.at(u64::from(*stream))?;
    file.put(md::MINIDUMP_HANDLE_DATA_STREAM {
        size_of_header: 16,
        size_of_descriptor: 32,
        number_of_descriptors: handles.descriptors.len() as u32,
        reserved: 0,
    })?;
    let rva = |index: u32| strings.get(index as usize).copied().unwrap_or(0);
    for descriptor in &handles.descriptors {
        let mut descriptor = descriptor.clone();
        descriptor.type_name_rva = rva(descriptor.type_name_rva);
        descriptor.object_name_rva = rva(descriptor.object_name_rva);
        file.put(descriptor)?;
    }
    for (i, rva) in strings.iter().enumerate() {
        file.string(u64::from(*rva), handles.string(i))?;
    }
    Ok(())
}
