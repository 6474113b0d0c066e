//! Walk markers: the cursor of one walk, the memory behind entry pointers, and the entries.
//!
//! A marker's allocator callbacks run without the model's lock (the exported functions take the
//! marker out of the table first), so a callback may make other kernel32 calls; a PSS call from
//! one is misuse ([`kernel::enter_pss`]).

use super::capture::Captured;
use super::data::{HandleSpec, RegionSpec};
use super::kernel::{self, misuse};
use pss_sys::*;
use std::alloc::Layout;
use std::ffi::c_void;
use std::thread::ThreadId;

type AllocRoutine = unsafe extern "system" fn(*mut c_void, u32) -> *mut c_void;
type FreeRoutine = unsafe extern "system" fn(*mut c_void, *mut c_void);

/// A caller's `PSS_ALLOCATOR`, copied at `PssWalkMarkerCreate`.
#[derive(Debug)]
pub struct Allocator {
    context: *mut c_void,
    alloc: AllocRoutine,
    free: FreeRoutine,
}

/// `PSS_ALLOCATOR` as C declares it.
#[repr(C)]
struct AllocatorAbi {
    context: *mut c_void,
    alloc: Option<AllocRoutine>,
    free: Option<FreeRoutine>,
}

const _: () = assert!(size_of::<AllocatorAbi>() == size_of::<PSS_ALLOCATOR>());
const _: () = assert!(
    std::mem::offset_of!(AllocatorAbi, alloc) == std::mem::offset_of!(PSS_ALLOCATOR, AllocRoutine)
);
const _: () = assert!(
    std::mem::offset_of!(AllocatorAbi, free) == std::mem::offset_of!(PSS_ALLOCATOR, FreeRoutine)
);

/// Memory a marker owns: everything entry pointers point into (on Windows, the snapshot's
/// sections mapped into a read-only view; never the caller's allocator).
#[derive(Debug)]
struct Block(*mut u8, Layout);

#[derive(Debug)]
pub struct Marker {
    pub owner: ThreadId,
    allocator: Option<Allocator>,
    /// The marker's internal structure, from the caller's AllocRoutine.
    internal: *mut c_void,
    /// The (snapshot, class) of the first walk: a marker serves one walk.
    bound: Option<(usize, PSS_WALK_INFORMATION_CLASS)>,
    index: usize,
    /// Distinguishes this marker's positions from every other marker's.
    tag: usize,
    /// Its first walk call mapped the snapshot's view (only then can mapping fail).
    pub(crate) mapped: bool,
    blocks: Vec<Block>,
}

// SAFETY: the raw pointers are memory this marker owns (or the caller's allocator context,
// which PssWalkMarkerCreate's contract says stays valid for the marker's life); the model only
// touches them under the kernel lock.
unsafe impl Send for Marker {}

const POSITION_SCRAMBLE: usize = 0x5A5A_0000;

/// Size the model asks the caller's AllocRoutine for, for a marker's internal structure.
pub const MARKER_INTERNAL_SIZE: u32 = 64;

impl Marker {
    /// `PssWalkMarkerCreate`. With an allocator: one AllocRoutine call for the marker itself;
    /// NULL from it gives `ERROR_NOT_ENOUGH_MEMORY`.
    pub fn create(allocator: *const PSS_ALLOCATOR) -> Result<Marker, u32> {
        // The metadata types the two routines as `isize`; C declares function pointers of the
        // same size. Reading them as function pointers keeps the provenance of callers that
        // stored real function pointers, so the model never turns an integer into a pointer.
        // SAFETY: a non-NULL allocator points to a PSS_ALLOCATOR (documented), and
        // `AllocatorAbi` has its layout (asserted below).
        let allocator =
            unsafe { allocator.cast::<AllocatorAbi>().as_ref() }.map(|a| match (a.alloc, a.free) {
                (Some(alloc), Some(free)) => Allocator {
                    context: a.context,
                    alloc,
                    free,
                },
                _ => misuse("PssWalkMarkerCreate", "PSS_ALLOCATOR with a NULL routine"),
            });
        let mut internal = std::ptr::null_mut();
        if let Some(a) = &allocator {
            let _callback = kernel::in_callback("PssWalkMarkerCreate");
            // SAFETY: calling the caller's routine as documented, on the creating thread.
            internal = unsafe { (a.alloc)(a.context, MARKER_INTERNAL_SIZE) };
            if internal.is_null() {
                return Err(ERROR_NOT_ENOUGH_MEMORY);
            }
        }
        static TAGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let tag = TAGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 0xFFFF + 1;
        Ok(Marker {
            owner: std::thread::current().id(),
            allocator,
            internal,
            bound: None,
            index: 0,
            tag,
            mapped: false,
            blocks: Vec::new(),
        })
    }

    /// `PssWalkMarkerFree`: frees every block (poisoned first, so a stale entry pointer reads
    /// 0xDD bytes), the internal structure, and calls FreeRoutine once with NULL, which the
    /// documents say it must accept.
    pub fn free(self) {
        let _callback = kernel::in_callback("PssWalkMarkerFree");
        for Block(ptr, layout) in self.blocks {
            // SAFETY: allocated by `alloc` below with this layout, freed once here.
            unsafe {
                ptr.write_bytes(0xDD, layout.size());
                std::alloc::dealloc(ptr, layout);
            }
        }
        if let Some(a) = &self.allocator {
            // SAFETY: `internal` came from this allocator's AllocRoutine and is freed once; NULL
            // is documented as acceptable to FreeRoutine.
            unsafe {
                (a.free)(a.context, self.internal);
                (a.free)(a.context, std::ptr::null_mut());
            }
        }
    }

    /// Opaque: the index and this marker's tag, scrambled.
    pub fn position(&self) -> usize {
        ((self.index << 16) | self.tag) ^ POSITION_SCRAMBLE
    }

    /// Decodes a position from `PssWalkMarkerGetPosition` on this marker. Windows takes any
    /// value as a raw offset into its view and reads whatever is there: a position from another
    /// marker is misuse here.
    pub fn set_position(&mut self, position: usize) {
        let raw = position ^ POSITION_SCRAMBLE;
        if raw & 0xFFFF != self.tag {
            misuse(
                "PssWalkMarkerSetPosition",
                format!(
                    "position {position:#x} did not come from this marker (Windows would read from an unrelated offset)"
                ),
            );
        }
        self.index = raw >> 16;
    }

    pub fn rewind(&mut self) {
        self.index = 0;
    }

    /// Binds the marker to its first walk; another snapshot or class later is misuse.
    pub fn bind(&mut self, snapshot: usize, class: PSS_WALK_INFORMATION_CLASS) {
        match self.bound {
            None => self.bound = Some((snapshot, class)),
            Some(b) if b == (snapshot, class) => {}
            Some((s, c)) => misuse(
                "PssWalkSnapshot",
                format!(
                    "marker was walking class {c} of HPSS {s:#x}, now class {class} of {snapshot:#x}; the documents define one walk per marker"
                ),
            ),
        }
    }

    /// Allocates `size` bytes (16-aligned) owned by this marker, for entry data. Not from the
    /// caller's allocator: Windows keeps entry data in a mapped view, and the allocator sees
    /// only the marker's own structure (ND).
    pub(super) fn alloc(&mut self, size: usize) -> Result<*mut u8, u32> {
        let layout = Layout::from_size_align(size.max(1), 16).expect("small layout");
        // SAFETY: `layout` has a non-zero size.
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            return Err(ERROR_NOT_ENOUGH_MEMORY);
        }
        self.blocks.push(Block(p, layout));
        Ok(p)
    }

    /// Copies the variable-length parts into one marker-owned block; returns their addresses
    /// (NULL for an empty part). Each part starts `misalign` bytes past a 16-byte boundary; a
    /// [`Part::Name`] gets a NUL after it, as Windows stores names.
    fn store(&mut self, parts: &[Part<'_>]) -> Result<Vec<*mut u8>, u32> {
        let mut offsets = Vec::with_capacity(parts.len());
        let mut size = 0usize;
        for part in parts {
            size = size.next_multiple_of(16) + part.misalign();
            offsets.push(size);
            size += part.stored_len();
        }
        if size == 0 {
            return Ok(vec![std::ptr::null_mut(); parts.len()]);
        }
        let block = self.alloc(size)?;
        Ok(parts
            .iter()
            .zip(offsets)
            .map(|(part, offset)| {
                let bytes = part.bytes();
                if part.stored_len() == 0 {
                    return std::ptr::null_mut();
                }
                // SAFETY: `offset + stored_len <= size`, the block's length.
                unsafe {
                    let dst = block.add(offset);
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
                    if let Part::Name(_) = part {
                        dst.add(bytes.len()).cast::<u16>().write_unaligned(0);
                    }
                    dst
                }
            })
            .collect())
    }

    /// The entry at the cursor, written to `buffer`; advances on success.
    pub fn next(
        &mut self,
        data: &Captured,
        class: PSS_WALK_INFORMATION_CLASS,
        buffer: *mut c_void,
    ) -> u32 {
        if self.index >= count(data, class) {
            return ERROR_NO_MORE_ITEMS;
        }
        let result = match class {
            PSS_WALK_AUXILIARY_PAGES => self.aux_page(data, buffer.cast()),
            PSS_WALK_VA_SPACE => self.region(data, buffer.cast()),
            PSS_WALK_HANDLES => self.handle(data, buffer.cast()),
            PSS_WALK_THREADS => self.thread(data, buffer.cast()),
            PSS_WALK_THREAD_NAME => self.thread_name(data, buffer.cast()),
            _ => unreachable!("class validated by the caller"),
        };
        let result = result.and_then(|()| {
            if data.process.hostile {
                self.make_hostile(class, buffer, self.index)
            } else {
                Ok(())
            }
        });
        match result {
            Ok(()) => {
                self.index += 1;
                ERROR_SUCCESS
            }
            Err(code) => code,
        }
    }

    pub fn has_entry(&self, data: &Captured, class: PSS_WALK_INFORMATION_CLASS) -> bool {
        self.index < count(data, class)
    }

    fn aux_page(&mut self, data: &Captured, out: *mut PSS_AUXILIARY_PAGE_ENTRY) -> Result<(), u32> {
        let page = &data.aux_pages.as_ref().expect("captured")[self.index];
        let contents = page.contents.as_deref().unwrap_or(&[]);
        let [ptr] = self.store(&[Part::Bytes(contents, 0)])?[..] else {
            unreachable!()
        };
        let space = data.aux_space.as_deref().map_or(&[][..], |r| &r[..]);
        let mut entry = PSS_AUXILIARY_PAGE_ENTRY {
            Address: std::ptr::without_provenance_mut(page.address),
            // The target's answer for the page, as its VA-space walk shows it.
            BasicInformation: super::memory_info::at(space, page.address),
            ..Default::default()
        };
        entry.CaptureTime = filetime(data.capture_time);
        entry.PageContents = ptr.cast();
        entry.PageSize = if ptr.is_null() {
            0
        } else {
            contents.len() as u32
        };
        write(out, entry);
        Ok(())
    }

    fn region(&mut self, data: &Captured, out: *mut PSS_VA_SPACE_ENTRY) -> Result<(), u32> {
        let r: &RegionSpec = &data.regions.as_ref().expect("captured")[self.index];
        // Names for image and mapped regions, with section information; cut to nothing when
        // the counted length would not fit the WORD field.
        let named = data.section_info
            && (r.kind == MEM_IMAGE || r.kind == MEM_MAPPED)
            && name_fits(&r.mapped_name, u16::MAX as usize);
        let name: &[u16] = if named { &r.mapped_name } else { &[] };
        let [ptr] = self.store(&[Part::Name(name)])?[..] else {
            unreachable!()
        };
        let info = super::memory_info::of_region(r);
        let mut entry = PSS_VA_SPACE_ENTRY {
            BaseAddress: info.BaseAddress,
            AllocationBase: info.AllocationBase,
            AllocationProtect: info.AllocationProtect,
            RegionSize: info.RegionSize,
            State: info.State,
            Protect: info.Protect,
            Type: info.Type,
            ..Default::default()
        };
        if let (true, MEM_IMAGE, Some(image)) = (data.image_fields, r.kind, r.image) {
            entry.TimeDateStamp = image.time_date_stamp;
            entry.SizeOfImage = image.size_of_image;
            entry.ImageBase = std::ptr::without_provenance_mut(image.image_base);
            entry.CheckSum = image.checksum;
        }
        entry.MappedFileNameLength = counted_len(name);
        entry.MappedFileName = ptr.cast_const().cast();
        write(out, entry);
        Ok(())
    }

    /// As ntdll: a handle that cannot be duplicated out of the process keeps only its value and
    /// capture time; otherwise it has its type name (`HAVE_TYPE`) with `HANDLES` alone, its
    /// object name with `HANDLE_NAME_INFORMATION` (never for File objects, nor for names too
    /// long for ntdll's 0x210-byte query buffer), basic information with
    /// `HANDLE_BASIC_INFORMATION`, and its `ObjectType` value and union arm only with
    /// `HANDLE_TYPE_SPECIFIC_INFORMATION` for the six types PSS describes.
    fn handle(&mut self, data: &Captured, out: *mut PSS_HANDLE_ENTRY) -> Result<(), u32> {
        let h = &data.handles.as_ref().expect("captured")[self.index];
        let detail = data.handle_detail;
        let typed = data.handle_duplication && h.duplicable;
        let (type_name, object_name) = captured_names(data, h);
        let ptrs = self.store(&[Part::Name(type_name), Part::Name(object_name)])?;
        let mut entry = PSS_HANDLE_ENTRY {
            Handle: std::ptr::without_provenance_mut(h.value),
            CaptureTime: filetime(data.capture_time),
            ..Default::default()
        };
        if !typed {
            write(out, entry);
            return Ok(());
        }
        entry.Flags |= PSS_HANDLE_HAVE_TYPE;
        entry.TypeNameLength = counted_len(type_name);
        entry.TypeName = ptrs[0].cast_const().cast();
        if !object_name.is_empty() {
            entry.Flags |= PSS_HANDLE_HAVE_NAME;
            entry.ObjectNameLength = counted_len(object_name);
            entry.ObjectName = ptrs[1].cast_const().cast();
        }
        if detail & PSS_CAPTURE_HANDLE_BASIC_INFORMATION != 0 {
            entry.Flags |= PSS_HANDLE_HAVE_BASIC_INFORMATION;
            entry.GrantedAccess = h.granted_access;
            entry.HandleCount = h.handle_count;
            entry.PointerCount = h.pointer_count;
            entry.PagedPoolCharge = 0x98;
            entry.NonPagedPoolCharge = 0x58;
        }
        if detail & PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION != 0
            && !h.type_specific_empty
            && type_specific(h.info, &mut entry.TypeSpecificInformation)
        {
            entry.ObjectType = h.object_type;
            entry.Flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
        }
        write(out, entry);
        Ok(())
    }

    /// A thread's name (`PSS_WALK_THREAD_NAME`), in the order of the thread walk: the entry has
    /// no thread id, so order is the only way to pair them (the model's choice). The name is
    /// not terminated and its size counts bytes (as ntdll stores it); an unnamed thread has a
    /// NULL name of size 0.
    fn thread_name(&mut self, data: &Captured, out: *mut PSS_THREAD_NAME) -> Result<(), u32> {
        let t = &data.threads.as_ref().expect("captured")[self.index];
        let name = super::churn::captured_name(&t.name);
        let [ptr] = self.store(&[Part::Bytes(as_bytes(name), 0)])?[..] else {
            unreachable!()
        };
        write(
            out,
            PSS_THREAD_NAME {
                ThreadNameSize: size_of_val(name) as u16,
                ThreadName: ptr.cast_const().cast(),
            },
        );
        Ok(())
    }

    fn thread(&mut self, data: &Captured, out: *mut PSS_THREAD_ENTRY) -> Result<(), u32> {
        let t = &data.threads.as_ref().expect("captured")[self.index];
        let default_context;
        let (context, misalign): (&[u8], usize) = match (
            &data.context_length,
            &t.context,
            super::churn::context_readable(t),
        ) {
            (None, _, _) | (_, _, false) => (&[], 0),
            (Some(_), Some((bytes, misalign)), true) => (bytes, *misalign),
            (Some(length), None, true) => {
                default_context =
                    super::data::context_record_of(*length as usize, data.context_flags, t);
                (&default_context, 0)
            }
        };
        let [ptr] = self.store(&[Part::Bytes(context, misalign)])?[..] else {
            unreachable!()
        };
        let mut entry = PSS_THREAD_ENTRY {
            ExitStatus: t.exit_status,
            ProcessId: data.process.pid,
            ThreadId: t.tid,
            AffinityMask: 0xFF,
            Priority: t.priority,
            BasePriority: t.priority,
            CreateTime: filetime(data.capture_time - 5_000_000),
            ExitTime: if t.terminated {
                filetime(data.capture_time - 1000)
            } else {
                FILETIME::default()
            },
            Win32StartAddress: std::ptr::without_provenance_mut(t.start_address),
            TebBaseAddress: std::ptr::without_provenance_mut(t.teb),
            CaptureTime: filetime(data.capture_time),
            Flags: if t.terminated {
                PSS_THREAD_FLAGS_TERMINATED
            } else {
                PSS_THREAD_FLAGS_NONE
            },
            SuspendCount: t.suspend_count,
            SizeOfContextRecord: context.len() as u16,
            ContextRecord: ptr.cast(),
            ..Default::default()
        };
        if data.last_syscall {
            entry.LastSyscallNumber = super::churn::last_syscall_number(t);
        }
        write(out, entry);
        Ok(())
    }
}

/// The system call number the model reports with flag `0x400` as the last one of every
/// thread waiting in a system call (others record
/// [`LAST_SYSCALL_UNAVAILABLE`](crate::LAST_SYSCALL_UNAVAILABLE)).
pub const LAST_SYSCALL_NUMBER: u16 = 0x0004;

/// The buffer ntdll queries an object's name into (`OBJECT_NAME_INFORMATION`, whose
/// `UNICODE_STRING` header takes two pointers' worth): longer names are not captured.
const OBJECT_NAME_BUFFER: usize = 0x210;

/// True if `name` and its NUL fit in `capacity` bytes.
fn name_fits(name: &[u16], capacity: usize) -> bool {
    size_of_val(name) + 2 <= capacity
}

/// A variable-length part of an entry, as [`Marker::store`] keeps it.
enum Part<'a> {
    /// Raw bytes (context record, page contents), `misalign` bytes past a 16-byte boundary.
    Bytes(&'a [u8], usize),
    /// A name, stored with a NUL that its counted length includes; empty is no name at all.
    Name(&'a [u16]),
}

impl Part<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Part::Bytes(bytes, _) => bytes,
            Part::Name(units) => as_bytes(units),
        }
    }
    fn misalign(&self) -> usize {
        match self {
            Part::Bytes(_, misalign) => *misalign,
            Part::Name(_) => 0,
        }
    }
    fn stored_len(&self) -> usize {
        match self {
            Part::Bytes(bytes, _) => bytes.len(),
            Part::Name([]) => 0,
            Part::Name(units) => size_of_val(*units) + 2,
        }
    }
}

/// Fills the union arm for `info`; false for a type PSS has no arm for.
fn type_specific(info: super::data::TypeInfo, out: &mut PSS_HANDLE_ENTRY_0) -> bool {
    use super::data::TypeInfo;
    match info {
        TypeInfo::None => return false,
        TypeInfo::Process {
            pid,
            parent,
            exit_status,
        } => {
            out.Process = PSS_HANDLE_ENTRY_0_0 {
                ExitStatus: exit_status,
                ProcessId: pid,
                ParentProcessId: parent,
                BasePriority: 8,
                ..Default::default()
            }
        }
        TypeInfo::Thread {
            pid,
            tid,
            exit_status,
        } => {
            out.Thread = PSS_HANDLE_ENTRY_0_1 {
                ExitStatus: exit_status,
                ProcessId: pid,
                ThreadId: tid,
                Priority: 8,
                BasePriority: 8,
                ..Default::default()
            }
        }
        TypeInfo::Mutant {
            count,
            abandoned,
            owner_pid,
            owner_tid,
        } => {
            out.Mutant = PSS_HANDLE_ENTRY_0_2 {
                CurrentCount: count,
                Abandoned: abandoned.into(),
                OwnerProcessId: owner_pid,
                OwnerThreadId: owner_tid,
            }
        }
        TypeInfo::Event {
            manual_reset,
            signaled,
        } => {
            out.Event = PSS_HANDLE_ENTRY_0_3 {
                ManualReset: manual_reset.into(),
                Signaled: signaled.into(),
            }
        }
        TypeInfo::Section {
            base,
            attributes,
            maximum_size,
        } => {
            out.Section = PSS_HANDLE_ENTRY_0_4 {
                BaseAddress: std::ptr::without_provenance_mut(base),
                AllocationAttributes: attributes,
                MaximumSize: maximum_size,
            }
        }
        TypeInfo::Semaphore { count, maximum } => {
            out.Semaphore = PSS_HANDLE_ENTRY_0_5 {
                CurrentCount: count,
                MaximumCount: maximum,
            }
        }
    }
    true
}

/// How many entries a walk of `class` has, or `None` if it was not captured.
pub fn captured_count(data: &Captured, class: PSS_WALK_INFORMATION_CLASS) -> Option<usize> {
    match class {
        PSS_WALK_AUXILIARY_PAGES => data.aux_pages.as_ref().map(|parts| parts.len()),
        PSS_WALK_VA_SPACE => data.regions.as_ref().map(|parts| parts.len()),
        PSS_WALK_HANDLES => data.handles.as_ref().map(|parts| parts.len()),
        PSS_WALK_THREADS | PSS_WALK_THREAD_NAME => data.threads.as_ref().map(|parts| parts.len()),
        _ => None,
    }
}

fn count(data: &Captured, class: PSS_WALK_INFORMATION_CLASS) -> usize {
    captured_count(data, class).unwrap_or(0)
}

/// The entry size `PssWalkSnapshot` accepts for `class`, or `None` for a class this kernel32
/// does not know: `PSS_WALK_THREAD_NAME` only where `thread_names` (24H2-like).
pub fn entry_size(class: PSS_WALK_INFORMATION_CLASS, thread_names: bool) -> Option<usize> {
    Some(match class {
        PSS_WALK_AUXILIARY_PAGES => size_of::<PSS_AUXILIARY_PAGE_ENTRY>(),
        PSS_WALK_VA_SPACE => size_of::<PSS_VA_SPACE_ENTRY>(),
        PSS_WALK_HANDLES => size_of::<PSS_HANDLE_ENTRY>(),
        PSS_WALK_THREADS => size_of::<PSS_THREAD_ENTRY>(),
        PSS_WALK_THREAD_NAME if thread_names => size_of::<PSS_THREAD_NAME>(),
        _ => return None,
    })
}

pub fn entry_align(class: PSS_WALK_INFORMATION_CLASS) -> usize {
    match class {
        PSS_WALK_AUXILIARY_PAGES => align_of::<PSS_AUXILIARY_PAGE_ENTRY>(),
        PSS_WALK_VA_SPACE => align_of::<PSS_VA_SPACE_ENTRY>(),
        PSS_WALK_HANDLES => align_of::<PSS_HANDLE_ENTRY>(),
        PSS_WALK_THREAD_NAME => align_of::<PSS_THREAD_NAME>(),
        _ => align_of::<PSS_THREAD_ENTRY>(),
    }
}

pub fn filetime(t: u64) -> FILETIME {
    FILETIME {
        dwLowDateTime: t as u32,
        dwHighDateTime: (t >> 32) as u32,
    }
}

fn as_bytes(units: &[u16]) -> &[u8] {
    // SAFETY: u16 has no padding; the byte view covers exactly the same memory.
    unsafe { std::slice::from_raw_parts(units.as_ptr().cast(), size_of_val(units)) }
}

/// A stored name's counted length in bytes, its NUL included (0 for no name).
fn counted_len(units: &[u16]) -> u16 {
    Part::Name(units).stored_len() as u16
}

fn write<T>(out: *mut T, value: T) {
    // SAFETY: the caller checked `out` is non-null, aligned and `size_of::<T>()` long.
    unsafe { out.write(value) }
}

/// The type and object names a capture holds for handle `h`, as ntdll captures them: the type
/// name for a handle it could duplicate, the object name too with
/// `HANDLE_NAME_INFORMATION`, except for File objects and names too long for ntdll's 0x210-byte
/// query buffer. (dbghelp reads them from the snapshot, so its dump has the same.)
pub(crate) fn captured_names<'h>(data: &Captured, h: &'h HandleSpec) -> (&'h [u16], &'h [u16]) {
    let typed = data.handle_duplication && h.duplicable;
    let is_file = String::from_utf16_lossy(&h.type_name).eq_ignore_ascii_case("File");
    let named = typed
        && data.handle_detail & PSS_CAPTURE_HANDLE_NAME_INFORMATION != 0
        && !is_file
        && !h.object_name.is_empty()
        && name_fits(&h.object_name, OBJECT_NAME_BUFFER - 2 * size_of::<usize>());
    (
        if typed { &h.type_name } else { &[] },
        if named { &h.object_name } else { &[] },
    )
}
