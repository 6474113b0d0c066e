//! Walk markers: the cursor of one walk, the memory behind entry pointers, and the entries.

use super::data::{Captured, RegionSpec};
use super::kernel::misuse;
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

/// Memory a marker owns: everything entry pointers point into.
#[derive(Debug)]
enum Block {
    Heap(*mut u8, Layout),
    Custom(*mut c_void),
}

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
            blocks: Vec::new(),
        })
    }

    /// `PssWalkMarkerFree`: frees every block (poisoned first, so a stale entry pointer reads
    /// 0xDD bytes), the internal structure, and calls FreeRoutine once with NULL, which the
    /// documents say it must accept.
    pub fn free(self) {
        for block in self.blocks {
            match block {
                Block::Heap(ptr, layout) => {
                    // SAFETY: allocated by `alloc` below with this layout, freed once here.
                    unsafe {
                        ptr.write_bytes(0xDD, layout.size());
                        std::alloc::dealloc(ptr, layout);
                    }
                }
                Block::Custom(ptr) => {
                    let a = self
                        .allocator
                        .as_ref()
                        .expect("custom blocks come from an allocator");
                    // SAFETY: `ptr` came from this allocator's AllocRoutine and is freed once.
                    unsafe { (a.free)(a.context, ptr) }
                }
            }
        }
        if let Some(a) = &self.allocator {
            // SAFETY: as above; NULL is documented as acceptable to FreeRoutine.
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

    /// Decodes a position from `PssWalkMarkerGetPosition` on this marker.
    pub fn set_position(&mut self, position: usize) -> Result<(), u32> {
        let raw = position ^ POSITION_SCRAMBLE;
        if raw & 0xFFFF != self.tag {
            return Err(ERROR_INVALID_PARAMETER);
        }
        self.index = raw >> 16;
        Ok(())
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

    /// Allocates `size` bytes (16-aligned) owned by this marker. Custom allocators get exactly
    /// one AllocRoutine call per entry that has variable-length data.
    fn alloc(&mut self, size: usize) -> Result<*mut u8, u32> {
        let size = size.max(1);
        let ptr = match &self.allocator {
            Some(a) => {
                // SAFETY: calling the caller's routine as documented.
                let p = unsafe { (a.alloc)(a.context, size as u32) };
                if p.is_null() {
                    return Err(ERROR_NOT_ENOUGH_MEMORY);
                }
                if p.addr() % 16 != 0 {
                    misuse(
                        "PssWalkSnapshot",
                        "AllocRoutine returned memory that is not 16-byte aligned",
                    );
                }
                self.blocks.push(Block::Custom(p));
                p.cast::<u8>()
            }
            None => {
                let layout = Layout::from_size_align(size, 16).expect("small layout");
                // SAFETY: `layout` has a non-zero size.
                let p = unsafe { std::alloc::alloc(layout) };
                if p.is_null() {
                    return Err(ERROR_NOT_ENOUGH_MEMORY);
                }
                self.blocks.push(Block::Heap(p, layout));
                p
            }
        };
        Ok(ptr)
    }

    /// Copies the variable-length parts into one marker-owned block; returns their addresses.
    fn store(&mut self, parts: &[(&[u8], usize)]) -> Result<Vec<*mut u8>, u32> {
        let mut offsets = Vec::with_capacity(parts.len());
        let mut size = 0usize;
        for (bytes, misalign) in parts {
            size = size.next_multiple_of(16) + misalign;
            offsets.push(size);
            size += bytes.len();
        }
        if size == 0 {
            return Ok(vec![std::ptr::null_mut(); parts.len()]);
        }
        let block = self.alloc(size)?;
        Ok(parts
            .iter()
            .zip(offsets)
            .map(|((bytes, _), offset)| {
                // SAFETY: `offset + bytes.len() <= size`, the block's length.
                unsafe {
                    let dst = block.add(offset);
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
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
            _ => unreachable!("class validated by the caller"),
        };
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
        let [ptr] = self.store(&[(contents, 0)])?[..] else {
            unreachable!()
        };
        let mut entry = PSS_AUXILIARY_PAGE_ENTRY {
            Address: std::ptr::without_provenance_mut(page.address),
            ..Default::default()
        };
        entry.BasicInformation.BaseAddress = entry.Address;
        entry.BasicInformation.AllocationBase = entry.Address;
        entry.BasicInformation.RegionSize = contents.len().max(4096);
        entry.BasicInformation.State = MEM_COMMIT;
        entry.BasicInformation.Protect = PAGE_READWRITE;
        entry.BasicInformation.Type = MEM_PRIVATE;
        entry.CaptureTime = filetime(data.capture_time);
        entry.PageContents = if page.contents.is_some() {
            ptr.cast()
        } else {
            std::ptr::null_mut()
        };
        entry.PageSize = if page.contents.is_some() {
            contents.len() as u32
        } else {
            0
        };
        write(out, entry);
        Ok(())
    }

    fn region(&mut self, data: &Captured, out: *mut PSS_VA_SPACE_ENTRY) -> Result<(), u32> {
        let r: &RegionSpec = &data.regions.as_ref().expect("captured")[self.index];
        let name: &[u16] = if data.section_info {
            &r.mapped_name
        } else {
            &[]
        };
        let [ptr] = self.store(&[(as_bytes(name), 0)])?[..] else {
            unreachable!()
        };
        let base = std::ptr::without_provenance_mut(r.base);
        let mut entry = PSS_VA_SPACE_ENTRY {
            BaseAddress: base,
            AllocationBase: if r.state == MEM_FREE {
                std::ptr::null_mut()
            } else {
                base
            },
            AllocationProtect: if r.state == MEM_FREE { 0 } else { r.protect },
            RegionSize: r.size,
            State: r.state,
            Protect: r.protect,
            Type: r.kind,
            ..Default::default()
        };
        if let (true, Some(image)) = (data.section_info, r.image) {
            entry.TimeDateStamp = image.time_date_stamp;
            entry.SizeOfImage = image.size_of_image;
            entry.ImageBase = std::ptr::without_provenance_mut(image.image_base);
            entry.CheckSum = image.checksum;
        }
        entry.MappedFileNameLength = byte_len(name);
        entry.MappedFileName = if name.is_empty() {
            std::ptr::null()
        } else {
            ptr.cast()
        };
        write(out, entry);
        Ok(())
    }

    fn handle(&mut self, data: &Captured, out: *mut PSS_HANDLE_ENTRY) -> Result<(), u32> {
        let h = &data.handles.as_ref().expect("captured")[self.index];
        let detail = data.handle_detail;
        let typed = detail != 0;
        let named = detail & PSS_CAPTURE_HANDLE_NAME_INFORMATION != 0 && !h.object_name.is_empty();
        let type_name: &[u16] = if typed { &h.type_name } else { &[] };
        let object_name: &[u16] = if named { &h.object_name } else { &[] };
        let ptrs = self.store(&[(as_bytes(type_name), 0), (as_bytes(object_name), 0)])?;
        let mut entry = PSS_HANDLE_ENTRY {
            Handle: std::ptr::without_provenance_mut(h.value),
            CaptureTime: filetime(data.capture_time),
            ..Default::default()
        };
        if typed {
            entry.Flags |= PSS_HANDLE_HAVE_TYPE;
            entry.ObjectType = h.object_type;
            entry.TypeNameLength = byte_len(type_name);
            entry.TypeName = ptrs[0].cast();
        }
        if named {
            entry.Flags |= PSS_HANDLE_HAVE_NAME;
            entry.ObjectNameLength = byte_len(object_name);
            entry.ObjectName = ptrs[1].cast();
        }
        if detail & PSS_CAPTURE_HANDLE_BASIC_INFORMATION != 0 {
            entry.Flags |= PSS_HANDLE_HAVE_BASIC_INFORMATION;
            entry.GrantedAccess = h.granted_access;
            entry.HandleCount = h.handle_count;
            entry.PointerCount = h.pointer_count;
            entry.PagedPoolCharge = 0x98;
            entry.NonPagedPoolCharge = 0x58;
        }
        if detail & PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION != 0 {
            use super::data::TypeInfo;
            let info = &mut entry.TypeSpecificInformation;
            let have = match h.info {
                TypeInfo::None => false,
                TypeInfo::Process {
                    pid,
                    parent,
                    exit_status,
                } => {
                    info.Process = PSS_HANDLE_ENTRY_0_0 {
                        ExitStatus: exit_status,
                        ProcessId: pid,
                        ParentProcessId: parent,
                        BasePriority: 8,
                        ..Default::default()
                    };
                    true
                }
                TypeInfo::Thread {
                    pid,
                    tid,
                    exit_status,
                } => {
                    info.Thread = PSS_HANDLE_ENTRY_0_1 {
                        ExitStatus: exit_status,
                        ProcessId: pid,
                        ThreadId: tid,
                        Priority: 8,
                        BasePriority: 8,
                        ..Default::default()
                    };
                    true
                }
                TypeInfo::Mutant {
                    count,
                    abandoned,
                    owner_pid,
                    owner_tid,
                } => {
                    info.Mutant = PSS_HANDLE_ENTRY_0_2 {
                        CurrentCount: count,
                        Abandoned: abandoned.into(),
                        OwnerProcessId: owner_pid,
                        OwnerThreadId: owner_tid,
                    };
                    true
                }
                TypeInfo::Event {
                    manual_reset,
                    signaled,
                } => {
                    info.Event = PSS_HANDLE_ENTRY_0_3 {
                        ManualReset: manual_reset.into(),
                        Signaled: signaled.into(),
                    };
                    true
                }
                TypeInfo::Section {
                    base,
                    attributes,
                    maximum_size,
                } => {
                    info.Section = PSS_HANDLE_ENTRY_0_4 {
                        BaseAddress: std::ptr::without_provenance_mut(base),
                        AllocationAttributes: attributes,
                        MaximumSize: maximum_size,
                    };
                    true
                }
                TypeInfo::Semaphore { count, maximum } => {
                    info.Semaphore = PSS_HANDLE_ENTRY_0_5 {
                        CurrentCount: count,
                        MaximumCount: maximum,
                    };
                    true
                }
            };
            if have {
                entry.Flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
            }
        }
        write(out, entry);
        Ok(())
    }

    fn thread(&mut self, data: &Captured, out: *mut PSS_THREAD_ENTRY) -> Result<(), u32> {
        let t = &data.threads.as_ref().expect("captured")[self.index];
        let default_context;
        let (context, misalign): (&[u8], usize) = match (&data.context_length, &t.context) {
            (None, _) => (&[], 0),
            (Some(_), Some((bytes, misalign))) => (bytes, *misalign),
            (Some(length), None) => {
                default_context = vec![0u8; *length as usize];
                (&default_context, 0)
            }
        };
        let [ptr] = self.store(&[(context, misalign)])?[..] else {
            unreachable!()
        };
        let entry = PSS_THREAD_ENTRY {
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
            CaptureTime: filetime(data.capture_time),
            Flags: if t.terminated {
                PSS_THREAD_FLAGS_TERMINATED
            } else {
                PSS_THREAD_FLAGS_NONE
            },
            SuspendCount: t.suspend_count,
            SizeOfContextRecord: context.len() as u16,
            ContextRecord: if context.is_empty() {
                std::ptr::null_mut()
            } else {
                ptr.cast()
            },
            ..Default::default()
        };
        write(out, entry);
        Ok(())
    }
}

/// How many entries a walk of `class` has, or `None` if it was not captured.
pub fn captured_count(data: &Captured, class: PSS_WALK_INFORMATION_CLASS) -> Option<usize> {
    match class {
        PSS_WALK_AUXILIARY_PAGES => data.aux_pages.as_ref().map(Vec::len),
        PSS_WALK_VA_SPACE => data.regions.as_ref().map(Vec::len),
        PSS_WALK_HANDLES => data.handles.as_ref().map(Vec::len),
        PSS_WALK_THREADS => data.threads.as_ref().map(Vec::len),
        _ => None,
    }
}

fn count(data: &Captured, class: PSS_WALK_INFORMATION_CLASS) -> usize {
    captured_count(data, class).unwrap_or(0)
}

/// The entry size `PssWalkSnapshot` accepts for `class`.
pub fn entry_size(class: PSS_WALK_INFORMATION_CLASS) -> Option<usize> {
    Some(match class {
        PSS_WALK_AUXILIARY_PAGES => size_of::<PSS_AUXILIARY_PAGE_ENTRY>(),
        PSS_WALK_VA_SPACE => size_of::<PSS_VA_SPACE_ENTRY>(),
        PSS_WALK_HANDLES => size_of::<PSS_HANDLE_ENTRY>(),
        PSS_WALK_THREADS => size_of::<PSS_THREAD_ENTRY>(),
        _ => return None,
    })
}

pub fn entry_align(class: PSS_WALK_INFORMATION_CLASS) -> usize {
    match class {
        PSS_WALK_AUXILIARY_PAGES => align_of::<PSS_AUXILIARY_PAGE_ENTRY>(),
        PSS_WALK_VA_SPACE => align_of::<PSS_VA_SPACE_ENTRY>(),
        PSS_WALK_HANDLES => align_of::<PSS_HANDLE_ENTRY>(),
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

/// Byte length as the WORD fields carry it; longer names are cut at a whole UTF-16 unit.
fn byte_len(units: &[u16]) -> u16 {
    (size_of_val(units).min(u16::MAX as usize - 1)) as u16
}

fn write<T>(out: *mut T, value: T) {
    // SAFETY: the caller checked `out` is non-null, aligned and `size_of::<T>()` long.
    unsafe { out.write(value) }
}
