//! What the model's processes hold, how tests describe them, and what a snapshot copies.

use super::kernel::{self, CURRENT_PID, Object};
use pss_sys::*;
use std::thread::ThreadId;

/// UTF-16 without a terminator, as PSS returns names.
fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// One thread of a model process.
#[derive(Clone, Debug)]
pub struct ThreadSpec {
    pub(crate) tid: u32,
    pub(crate) exit_status: u32,
    pub(crate) terminated: bool,
    pub(crate) suspend_count: u16,
    pub(crate) priority: i32,
    pub(crate) start_address: usize,
    /// Bytes returned as the context record instead of a zeroed `CONTEXT`, and how many bytes
    /// past an aligned address they start.
    pub(crate) context: Option<(Vec<u8>, usize)>,
}

impl ThreadSpec {
    /// A running thread with id `tid`.
    pub fn new(tid: u32) -> Self {
        Self {
            tid,
            exit_status: STILL_ACTIVE as u32,
            terminated: false,
            suspend_count: 0,
            priority: 8,
            start_address: 0x7FF6_0000_1000,
            context: None,
        }
    }
    /// A thread that exited with `code` but still has open handles, so capture still sees it.
    pub fn terminated(mut self, code: u32) -> Self {
        self.terminated = true;
        self.exit_status = code;
        self
    }
    /// Suspend count.
    pub fn suspended(mut self, count: u16) -> Self {
        self.suspend_count = count;
        self
    }
    /// Returns `bytes` as this thread's context record, starting `misalign` bytes past a
    /// 16-byte boundary.
    pub fn context_record(mut self, bytes: Vec<u8>, misalign: usize) -> Self {
        self.context = Some((bytes, misalign));
        self
    }
}

/// The type-specific part of a handle (`PSS_HANDLE_ENTRY.TypeSpecificInformation`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum TypeInfo {
    /// No type-specific information exists for this object type.
    None,
    /// A process object: its pid, parent pid and exit status.
    Process {
        pid: u32,
        parent: u32,
        exit_status: u32,
    },
    /// A thread object.
    Thread {
        pid: u32,
        tid: u32,
        exit_status: u32,
    },
    /// A mutant (mutex).
    Mutant {
        count: i32,
        abandoned: bool,
        owner_pid: u32,
        owner_tid: u32,
    },
    /// An event.
    Event { manual_reset: bool, signaled: bool },
    /// A section (file mapping).
    Section {
        base: usize,
        attributes: u32,
        maximum_size: i64,
    },
    /// A semaphore.
    Semaphore { count: i32, maximum: i32 },
}

/// One handle in a model process's handle table.
#[derive(Clone, Debug)]
pub struct HandleSpec {
    pub(crate) value: usize,
    pub(crate) object_type: PSS_OBJECT_TYPE,
    pub(crate) type_name: Vec<u16>,
    pub(crate) object_name: Vec<u16>,
    pub(crate) granted_access: u32,
    pub(crate) handle_count: u32,
    pub(crate) pointer_count: u32,
    pub(crate) info: TypeInfo,
}

impl HandleSpec {
    fn new(value: usize, object_type: PSS_OBJECT_TYPE, type_name: &str, info: TypeInfo) -> Self {
        Self {
            value,
            object_type,
            type_name: utf16(type_name),
            object_name: Vec::new(),
            granted_access: 0x001F_0003,
            handle_count: 1,
            pointer_count: 32769,
            info,
        }
    }
    /// A handle of a type PSS does not describe (`PSS_OBJECT_TYPE_UNKNOWN`), e.g. `"File"`.
    pub fn other(value: usize, type_name: &str) -> Self {
        Self::new(value, PSS_OBJECT_TYPE_UNKNOWN, type_name, TypeInfo::None)
    }
    /// A process handle.
    pub fn process(value: usize, pid: u32, parent: u32) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_PROCESS,
            "Process",
            TypeInfo::Process {
                pid,
                parent,
                exit_status: STILL_ACTIVE as u32,
            },
        )
    }
    /// A thread handle.
    pub fn thread(value: usize, pid: u32, tid: u32) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_THREAD,
            "Thread",
            TypeInfo::Thread {
                pid,
                tid,
                exit_status: STILL_ACTIVE as u32,
            },
        )
    }
    /// A mutant (mutex) handle.
    pub fn mutant(value: usize, count: i32, abandoned: bool) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_MUTANT,
            "Mutant",
            TypeInfo::Mutant {
                count,
                abandoned,
                owner_pid: 0,
                owner_tid: 0,
            },
        )
    }
    /// An event handle.
    pub fn event(value: usize, manual_reset: bool, signaled: bool) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_EVENT,
            "Event",
            TypeInfo::Event {
                manual_reset,
                signaled,
            },
        )
    }
    /// A section handle.
    pub fn section(value: usize, maximum_size: i64) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_SECTION,
            "Section",
            TypeInfo::Section {
                base: 0,
                attributes: 0x0800_0000,
                maximum_size,
            },
        )
    }
    /// A semaphore handle.
    pub fn semaphore(value: usize, count: i32, maximum: i32) -> Self {
        Self::new(
            value,
            PSS_OBJECT_TYPE_SEMAPHORE,
            "Semaphore",
            TypeInfo::Semaphore { count, maximum },
        )
    }
    /// The object's name (e.g. `\BaseNamedObjects\ready`).
    pub fn named(mut self, name: &str) -> Self {
        self.object_name = utf16(name);
        self
    }
}

/// PE values of an image region (`PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION`).
#[derive(Clone, Copy, Debug)]
pub struct ImageInfo {
    /// `IMAGE_FILE_HEADER.TimeDateStamp`.
    pub time_date_stamp: u32,
    /// `SizeOfImage`.
    pub size_of_image: u32,
    /// `ImageBase`.
    pub image_base: usize,
    /// `CheckSum`.
    pub checksum: u32,
}

/// One region of a model process's address space.
#[derive(Clone, Debug)]
pub struct RegionSpec {
    pub(crate) base: usize,
    pub(crate) size: usize,
    pub(crate) state: u32,
    pub(crate) protect: u32,
    pub(crate) kind: u32,
    pub(crate) image: Option<ImageInfo>,
    pub(crate) mapped_name: Vec<u16>,
}

impl RegionSpec {
    /// Committed private read-write memory.
    pub fn private(base: usize, size: usize) -> Self {
        Self {
            base,
            size,
            state: MEM_COMMIT,
            protect: PAGE_READWRITE,
            kind: MEM_PRIVATE,
            image: None,
            mapped_name: Vec::new(),
        }
    }
    /// Free address space.
    pub fn free(base: usize, size: usize) -> Self {
        Self {
            base,
            size,
            state: MEM_FREE,
            protect: PAGE_NOACCESS,
            kind: 0,
            image: None,
            mapped_name: Vec::new(),
        }
    }
    /// A mapped image, with its PE values and file name (an NT-namespace path, as PSS gives).
    pub fn image(base: usize, size: usize, name: &str) -> Self {
        let image = ImageInfo {
            time_date_stamp: 0x6512_3456,
            size_of_image: size as u32,
            image_base: base,
            checksum: 0x000A_BCDE,
        };
        Self {
            base,
            size,
            state: MEM_COMMIT,
            protect: PAGE_EXECUTE_READ,
            kind: MEM_IMAGE,
            image: Some(image),
            mapped_name: utf16(name),
        }
    }
    /// A mapped data file.
    pub fn mapped(base: usize, size: usize, name: &str) -> Self {
        Self {
            base,
            size,
            state: MEM_COMMIT,
            protect: PAGE_READONLY,
            kind: MEM_MAPPED,
            image: None,
            mapped_name: utf16(name),
        }
    }
}

/// One auxiliary page (address and, when captured, its contents).
#[derive(Clone, Debug)]
pub struct AuxPageSpec {
    pub(crate) address: usize,
    pub(crate) contents: Option<Vec<u8>>,
}

impl AuxPageSpec {
    /// A page at `address` whose contents were captured.
    pub fn with_contents(address: usize, contents: Vec<u8>) -> Self {
        Self {
            address,
            contents: Some(contents),
        }
    }
    /// A page at `address` whose contents were not captured (`PageContents` is NULL).
    pub fn without_contents(address: usize) -> Self {
        Self {
            address,
            contents: None,
        }
    }
}

/// A process of the model.
#[derive(Clone, Debug)]
pub struct ProcessData {
    pub(crate) pid: u32,
    pub(crate) parent: u32,
    pub(crate) image: Vec<u16>,
    pub(crate) flags: PSS_PROCESS_FLAGS,
    pub(crate) exit: Option<u32>,
    pub(crate) threads: Vec<ThreadSpec>,
    pub(crate) handles: Vec<HandleSpec>,
    pub(crate) regions: Vec<RegionSpec>,
    pub(crate) aux_pages: Vec<AuxPageSpec>,
    /// The most a handle opened by `OpenProcess` may be granted.
    pub(crate) grantable: u32,
}

/// The current process as the model shows it: a small, plausible program.
pub(crate) fn current_process() -> ProcessData {
    ProcessData {
        pid: CURRENT_PID,
        parent: 0x0F0,
        image: utf16(r"C:\pss\target\debug\deps\contract.exe"),
        flags: PSS_PROCESS_FLAGS_NONE,
        exit: None,
        threads: vec![ThreadSpec::new(0x1A8), ThreadSpec::new(0x1AC).suspended(0)],
        handles: vec![
            HandleSpec::other(0x04, "File").named(r"\Device\ConDrv"),
            HandleSpec::event(0x08, true, false),
            HandleSpec::section(0x0C, 0x1000).named(r"\BaseNamedObjects\pss-tests"),
            HandleSpec::thread(0x10, CURRENT_PID, 0x1A8),
        ],
        regions: vec![
            RegionSpec::free(0x0, 0x7FFE_0000),
            RegionSpec::private(0x7FFE_0000, 0x1000),
            RegionSpec::image(
                0x7FF6_0000_0000,
                0x20_000,
                r"\Device\HarddiskVolume3\pss\target\debug\deps\contract.exe",
            ),
            RegionSpec::mapped(
                0x7FF6_1000_0000,
                0x3000,
                r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
            ),
        ],
        aux_pages: vec![AuxPageSpec::with_contents(0x7FFE_0000, vec![0xA5; 4096])],
        grantable: PROCESS_ALL_ACCESS,
    }
}

/// Describes a model process; `spawn` adds it to the process table.
#[derive(Clone, Debug)]
pub struct ProcessSpec(ProcessData);

impl Default for ProcessSpec {
    fn default() -> Self {
        Self(ProcessData {
            pid: 0,
            parent: CURRENT_PID,
            image: utf16(r"C:\Windows\System32\notepad.exe"),
            flags: PSS_PROCESS_FLAGS_NONE,
            exit: None,
            threads: Vec::new(),
            handles: Vec::new(),
            regions: Vec::new(),
            aux_pages: Vec::new(),
            grantable: PROCESS_ALL_ACCESS,
        })
    }
}

impl ProcessSpec {
    /// An empty process (no threads, handles, regions or auxiliary pages), child of the
    /// current process, image `C:\Windows\System32\notepad.exe`, all access grantable.
    pub fn new() -> Self {
        Self::default()
    }
    /// The image file name, as `PSS_PROCESS_INFORMATION.ImageFileName` will report it (cut to
    /// `MAX_PATH` UTF-16 units, without a terminator when it fills the buffer).
    pub fn image(mut self, name: &str) -> Self {
        self.0.image = utf16(name);
        self
    }
    /// The parent pid.
    pub fn parent(mut self, pid: u32) -> Self {
        self.0.parent = pid;
        self
    }
    /// Adds `PSS_PROCESS_FLAGS_WOW64`.
    pub fn wow64(mut self) -> Self {
        self.0.flags |= PSS_PROCESS_FLAGS_WOW64;
        self
    }
    /// Adds `PSS_PROCESS_FLAGS_FROZEN`.
    pub fn frozen(mut self) -> Self {
        self.0.flags |= PSS_PROCESS_FLAGS_FROZEN;
        self
    }
    /// The process has exited with `code` (its object is still referenced by a handle).
    pub fn exited(mut self, code: u32) -> Self {
        self.0.exit = Some(code);
        self
    }
    /// Adds a thread.
    pub fn thread(mut self, thread: ThreadSpec) -> Self {
        self.0.threads.push(thread);
        self
    }
    /// Adds a handle.
    pub fn handle(mut self, handle: HandleSpec) -> Self {
        self.0.handles.push(handle);
        self
    }
    /// Adds a region.
    pub fn region(mut self, region: RegionSpec) -> Self {
        self.0.regions.push(region);
        self
    }
    /// Adds an auxiliary page.
    pub fn aux_page(mut self, page: AuxPageSpec) -> Self {
        self.0.aux_pages.push(page);
        self
    }
    /// Limits what `OpenProcess` grants: asking for any other right fails with
    /// `ERROR_ACCESS_DENIED`.
    pub fn grantable(mut self, access: u32) -> Self {
        self.0.grantable = access;
        self
    }
    /// Adds the process to the model and returns it.
    pub fn spawn(self) -> ModelProcess {
        let mut k = kernel::lock();
        let pid = k.next_pid;
        k.next_pid += 4;
        let mut data = self.0;
        data.pid = pid;
        k.processes.insert(pid, data);
        ModelProcess { pid }
    }
}

/// A process in the model, removed (like an exit that releases the process object) on drop.
#[derive(Debug)]
pub struct ModelProcess {
    pid: u32,
}

impl ModelProcess {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Marks it exited with `code`: capture still works and reports the exit status.
    pub fn exit(&self, code: u32) {
        if let Some(p) = kernel::lock().processes.get_mut(&self.pid) {
            p.exit = Some(code);
        }
    }

    /// A snapshot that this process captured of itself, in its own context, as if its raw value
    /// had been sent to us. `vm` chooses `PSS_CREATE_USE_VM_ALLOCATIONS`.
    pub fn own_snapshot(&self, flags: u32, vm: bool) -> HPSS {
        let mut k = kernel::lock();
        let flags = if vm {
            flags | PSS_CREATE_USE_VM_ALLOCATIONS
        } else {
            flags
        };
        let data = std::sync::Arc::new(capture(&k.processes[&self.pid], flags));
        let snapshot = kernel::Snapshot {
            context: self.pid,
            flags,
            vm_allocated: vm,
            duplicated_remotely: false,
            data,
            va_clone: None,
            trace_section: None,
            owner: std::thread::current().id(),
        };
        kernel::handle(k.issue_snapshot(snapshot))
    }
}

impl Drop for ModelProcess {
    fn drop(&mut self) {
        let mut k = kernel::lock();
        k.processes.remove(&self.pid);
        let gone: Vec<usize> = k
            .objects
            .iter()
            .filter(|(_, o)| matches!(o, Object::Snapshot(s) if s.context == self.pid))
            .map(|(v, _)| *v)
            .collect();
        for value in gone {
            k.retire(value, "snapshot", "the exit of the process that held it");
        }
    }
}

/// What one snapshot holds: copies of exactly what its flags asked for.
#[derive(Debug)]
pub struct Captured {
    pub(crate) process: ProcessData,
    pub(crate) aux_pages: Option<Vec<AuxPageSpec>>,
    pub(crate) regions: Option<Vec<RegionSpec>>,
    pub(crate) section_info: bool,
    pub(crate) handles: Option<Vec<HandleSpec>>,
    pub(crate) handle_detail: u32,
    pub(crate) threads: Option<Vec<ThreadSpec>>,
    /// Bytes per context record, when contexts were captured.
    pub(crate) context_length: Option<u32>,
    pub(crate) performance: bool,
    pub(crate) capture_time: u64,
}

/// Size of a full context record in the model: the host's `CONTEXT`, plus an XSAVE area of
/// 1024 bytes with `PSS_CAPTURE_THREAD_CONTEXT_EXTENDED`.
pub(crate) fn context_length(flags: u32) -> u32 {
    let base = size_of::<CONTEXT>() as u32;
    if flags & PSS_CAPTURE_THREAD_CONTEXT_EXTENDED != 0 {
        base + 1024
    } else {
        base
    }
}

/// Copies what `flags` asks for out of `process`.
pub(crate) fn capture(process: &ProcessData, flags: u32) -> Captured {
    let has = |f: u32| flags & f != 0;
    let threads_wanted =
        has(PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED);
    let handles_wanted = has(PSS_CAPTURE_HANDLES);
    static CLOCK: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(133_500_000_000_000_000);
    Captured {
        process: ProcessData {
            threads: Vec::new(),
            handles: Vec::new(),
            regions: Vec::new(),
            aux_pages: Vec::new(),
            ..process.clone()
        },
        aux_pages: has(PSS_CAPTURE_VA_CLONE).then(|| process.aux_pages.clone()),
        regions: has(PSS_CAPTURE_VA_SPACE).then(|| process.regions.clone()),
        section_info: has(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION),
        handles: handles_wanted.then(|| process.handles.clone()),
        handle_detail: flags
            & (PSS_CAPTURE_HANDLE_NAME_INFORMATION
                | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
                | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION),
        // An exited process has no threads left to capture.
        threads: threads_wanted.then(|| {
            if process.exit.is_some() {
                Vec::new()
            } else {
                process.threads.clone()
            }
        }),
        context_length: has(PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED)
            .then(|| context_length(flags)),
        performance: has(PSS_CREATE_MEASURE_PERFORMANCE),
        capture_time: CLOCK.fetch_add(10_000, std::sync::atomic::Ordering::Relaxed),
    }
}

/// Who owns what the calling thread creates.
pub(crate) fn me() -> ThreadId {
    std::thread::current().id()
}
