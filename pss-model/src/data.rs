//! What the model's processes hold and how tests describe them.
//!
//! A process's threads, handles, regions and auxiliary pages are shared (`Arc`) between the
//! process and every snapshot that captured them, so a capture copies nothing but a few words;
//! the model's own API changes a process only through `Arc::make_mut`, which leaves earlier
//! snapshots (and VA clones) with what they captured.

use super::environment::PEB_ADDRESS;
use super::kernel::{self, CURRENT_PID};
use super::pe::{CodeView, PeFault};
use pss_sys::*;
use std::sync::Arc;

/// UTF-16 without a terminator (the model adds the NUL Windows counts when it returns names).
pub(crate) fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// An address in a model process: the 64-bit one where `usize` holds it, else a 32-bit one
/// (the model also runs on 32-bit hosts, under Miri for `i686`).
pub(crate) const fn addr(wide: u64, narrow: u32) -> usize {
    if usize::BITS >= 64 {
        wide as usize
    } else {
        narrow as usize
    }
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
    /// past a 16-byte boundary they start (Windows always aligns records to 16: a non-zero
    /// value is hostile data).
    pub(crate) context: Option<(Vec<u8>, usize)>,
    /// `GetThreadContext` fails for this thread: no context record, whatever the flags.
    pub(crate) context_unreadable: bool,
    /// Instruction, stack and frame pointer, written into the context record where its flags
    /// cover them.
    pub(crate) registers: [usize; 3],
    /// `ZwGetNextThread` is denied access to it: the kernel skips it, so no capture sees it.
    pub(crate) unopenable: bool,
    /// What happens to it while a capture runs (`churn.rs`).
    pub(crate) churn: super::churn::ThreadChurn,
    /// Its name (`SetThreadDescription`), as 24H2 captures it for `PSS_WALK_THREAD_NAME`.
    pub(crate) name: Vec<u16>,
    /// Return addresses, innermost first, laid out on a stack of its own at spawn.
    pub(crate) call_stack: Option<Vec<usize>>,
    /// `TEB.LastErrorValue`.
    pub(crate) last_error: u32,
    /// Its TEB's address, assigned at spawn (by its place in the thread list).
    pub(crate) teb: usize,
    /// Where its stack region starts (assigned at spawn; the region exists only with a call
    /// stack).
    pub(crate) stack_base: usize,
    /// Its 32-bit side in a WOW64 process ([`ThreadSpec::x86`], `super::wow64`).
    pub(crate) x86: Option<Box<super::wow64::X86ThreadSpec>>,
}

impl ThreadSpec {
    /// A live thread with id `tid`, waiting in a system call (as most threads of a process
    /// are: see [`running`](Self::running)).
    pub fn new(tid: u32) -> Self {
        Self {
            tid,
            exit_status: STILL_ACTIVE as u32,
            terminated: false,
            suspend_count: 0,
            priority: 8,
            start_address: addr(0x7FF6_0000_1000, 0x0040_1000),
            context: None,
            context_unreadable: false,
            unopenable: false,
            churn: Default::default(),
            name: Vec::new(),
            registers: [
                addr(0x7FF6_0000_1040, 0x0040_1040),
                super::stack::stack_base(tid),
                super::stack::stack_base(tid) + 0x80,
            ],
            call_stack: None,
            last_error: 0,
            teb: 0,
            stack_base: super::stack::stack_base(tid),
            x86: None,
        }
    }
    /// Its instruction, stack and frame pointer, as a captured context record holds them (with
    /// a [`call_stack`](Self::call_stack), spawning sets the stack and frame pointers).
    pub fn registers(mut self, instruction: usize, stack: usize, frame: usize) -> Self {
        self.registers = [instruction, stack, frame];
        self
    }
    /// A thread that exited with `code` but still has open handles, so capture still sees it:
    /// its entry is flagged `PSS_THREAD_FLAGS_TERMINATED`, has no context record (the kernel
    /// cannot queue the APC that reads one: `KeRundownApcQueues` cleared `ApcQueueable` at its
    /// exit) and, with flag `0x400`, no last system call
    /// ([`LAST_SYSCALL_UNAVAILABLE`](crate::LAST_SYSCALL_UNAVAILABLE)).
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
    /// Its context cannot be read (`ZwGetContextThread` fails): Windows then gives the entry a
    /// NULL `ContextRecord` and a `SizeOfContextRecord` of 0, and the capture succeeds. (A
    /// [`terminated`](Self::terminated) thread's context can never be read.)
    pub fn context_unreadable(mut self) -> Self {
        self.context_unreadable = true;
        self
    }
    /// The capture may not open it (`ZwGetNextThread` at `THREAD_QUERY_INFORMATION`, plus
    /// `THREAD_GET_CONTEXT` with contexts, is denied: e.g. a protected thread): the kernel's
    /// `NtGetNextThread` then skips it and opens the next thread (`if ( v12 != -1073741790 )`,
    /// `STATUS_ACCESS_DENIED` continues the loop), so a capture with `THREADS` succeeds without
    /// it: it is neither counted nor walked (and, if no thread could be opened, there is no
    /// thread data at all). Other ways a thread fails the whole capture:
    /// [`handle_closed_during_capture`](Self::handle_closed_during_capture).
    pub fn unopenable(mut self) -> Self {
        self.unopenable = true;
        self
    }
    /// Its name, as `SetThreadDescription` gave it: what a kernel32 that answers
    /// `PSS_WALK_THREAD_NAME` ([`ProcessSpec::thread_names`]) reports, if it has at most
    /// [`THREAD_NAME_LIMIT`](crate::THREAD_NAME_LIMIT) UTF-16 units (a longer one is not
    /// captured).
    pub fn named(mut self, name: &str) -> Self {
        self.name = utf16(name);
        self
    }
    /// Its instruction pointer (the context frame's), keeping the other registers.
    pub fn executing_at(mut self, instruction: usize) -> Self {
        self.registers[0] = instruction;
        self
    }
    /// The return addresses on its stack, innermost first (each inside an image region, for a
    /// walker to accept them). When the process is spawned, the thread gets a stack region of
    /// its own whose frame records chain through frame pointers to exactly these, and its stack
    /// and frame pointers are set into it (whatever [`registers`](Self::registers) said; the
    /// instruction pointer stays): see the model's crate docs, "Stacks". A stack walker then
    /// finds [`expected_frames`](Self::expected_frames).
    ///
    /// # Panics
    ///
    /// With more than [`MAX_CALL_STACK`](crate::MAX_CALL_STACK) addresses.
    pub fn call_stack(mut self, return_addresses: &[usize]) -> Self {
        assert!(
            return_addresses.len() <= super::stack::MAX_CALL_STACK,
            "a call stack of at most MAX_CALL_STACK return addresses"
        );
        self.call_stack = Some(return_addresses.to_vec());
        self
    }
    /// `LastErrorValue` in its TEB (`GetLastError()` as the thread would see it; 0 unless set).
    pub fn last_error(mut self, code: u32) -> Self {
        self.last_error = code;
        self
    }

    /// Its thread id.
    pub fn tid(&self) -> u32 {
        self.tid
    }
    /// The frames a stack walker must find for it, innermost first: the context's instruction
    /// pointer, then each return address of its [`call_stack`](Self::call_stack); `None`
    /// without a call stack.
    pub fn expected_frames(&self) -> Option<Vec<usize>> {
        let call_stack = self.call_stack.as_ref()?;
        Some(
            std::iter::once(self.registers[0])
                .chain(call_stack.iter().copied())
                .collect(),
        )
    }
    /// Its TEB's `LastErrorValue` ([`last_error`](Self::last_error)).
    pub fn last_error_value(&self) -> u32 {
        self.last_error
    }
    /// Its TEB's address, as its thread entry's `TebBaseAddress` reports it: assigned when the
    /// process is spawned (0 before), one [`TEB_SIZE`](crate::TEB_SIZE) below the PEB per place
    /// in the thread list. Read a spawned process's threads with [`process_threads`](crate::process_threads).
    pub fn teb_address(&self) -> usize {
        self.teb
    }
    /// Its instruction, stack and frame pointers (after spawn, the stack and frame pointers of
    /// a thread with a call stack point into its laid-out stack).
    pub fn register_values(&self) -> [usize; 3] {
        self.registers
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
    /// Capture cannot duplicate it out of the process: its entry keeps only value and time.
    pub(crate) duplicable: bool,
    /// `ObjectTypeInformation` fails on the duplicate: ntdll drops the entry entirely.
    pub(crate) type_unqueryable: bool,
    /// The type-specific query returns no data: no `TypeSpecificInformation` for it.
    pub(crate) type_specific_empty: bool,
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
            duplicable: true,
            type_unqueryable: false,
            type_specific_empty: false,
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
    /// The object's name (e.g. `\BaseNamedObjects\ready`). File objects are never named in a
    /// snapshot, whatever this says (Windows skips their name query).
    pub fn named(mut self, name: &str) -> Self {
        self.object_name = utf16(name);
        self
    }
    /// Capture cannot duplicate this handle out of the process (e.g. a protected object): its
    /// entry has `Flags` 0, only the value and capture time.
    pub fn not_duplicable(mut self) -> Self {
        self.duplicable = false;
        self
    }
    /// The object's type cannot be queried (`ObjectTypeInformation` fails on the duplicate):
    /// ntdll leaves the handle out of the snapshot altogether, so it is neither counted nor
    /// walked. (A handle that cannot be duplicated at all is kept, with only its value.)
    pub fn type_unqueryable(mut self) -> Self {
        self.type_unqueryable = true;
        self
    }
    /// Its type-specific query returns no data: with `HANDLE_TYPE_SPECIFIC_INFORMATION` the entry
    /// still has no `ObjectType` and no `TypeSpecificInformation` (ntdll fills them only `if`
    /// the query returned data).
    pub fn no_type_specific_data(mut self) -> Self {
        self.type_specific_empty = true;
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
    /// The first bytes of the region (the rest reads as zeros).
    pub(crate) contents: Vec<u8>,
    /// In a VA clone: this region was not cloned (anonymous shared memory), so reading it
    /// fails with `ERROR_PARTIAL_COPY`.
    pub(crate) not_cloned: bool,
    /// For an image region: what its PE headers were built from.
    pub(crate) pe: Option<PeLayout>,
    /// The allocation it belongs to, when it is not its own (an image's section after the
    /// headers: [`RegionSpec::image_section`]).
    pub(crate) allocation_base: Option<usize>,
}

/// What an image region's headers say ([`super::pe`]).
#[derive(Clone, Debug)]
pub(crate) struct PeLayout {
    pub(crate) codeview: CodeView,
    pub(crate) fault: Option<PeFault>,
    /// The contents are still the headers built from this (no [`RegionSpec::contents`] since).
    pub(crate) laid_out: bool,
    /// `IMAGE_FILE_HEADER.Machine` (the host's, or x86's: [`RegionSpec::image_x86`]).
    pub(crate) machine: u16,
}

impl RegionSpec {
    fn new(base: usize, size: usize, state: u32, protect: u32, kind: u32) -> Self {
        Self {
            base,
            size,
            state,
            protect,
            kind,
            image: None,
            mapped_name: Vec::new(),
            contents: Vec::new(),
            not_cloned: false,
            pe: None,
            allocation_base: None,
        }
    }
    /// Committed private read-write memory.
    pub fn private(base: usize, size: usize) -> Self {
        Self::new(base, size, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE)
    }
    /// Free address space.
    pub fn free(base: usize, size: usize) -> Self {
        Self::new(base, size, MEM_FREE, PAGE_NOACCESS, 0)
    }
    /// Reserved, not committed, address space (unreadable).
    pub fn reserved(base: usize, size: usize) -> Self {
        Self::new(base, size, MEM_RESERVE, PAGE_NOACCESS, MEM_PRIVATE)
    }
    /// A mapped image, with its PE values and file name (an NT-namespace path, as PSS gives).
    /// Its memory starts with real PE headers (see the model's crate docs, "Images"): a DOS
    /// header, NT headers consistent with its [`ImageInfo`], and a debug directory leading to
    /// the CodeView record [`codeview_of`](crate::codeview_of)`(name)` (change it with
    /// [`codeview`](Self::codeview), break it with [`malformed_pe`](Self::malformed_pe)).
    pub fn image(base: usize, size: usize, name: &str) -> Self {
        let image = ImageInfo {
            time_date_stamp: 0x6512_3456,
            size_of_image: size as u32,
            image_base: base,
            checksum: 0x000A_BCDE,
        };
        Self {
            image: Some(image),
            mapped_name: utf16(name),
            pe: Some(PeLayout {
                codeview: super::pe::codeview_of(name),
                fault: None,
                laid_out: true,
                machine: super::pe::PE_MACHINE,
            }),
            ..Self::new(base, size, MEM_COMMIT, PAGE_EXECUTE_READ, MEM_IMAGE)
        }
        .with_headers()
    }
    /// Rebuilds an image region's contents from its [`PeLayout`].
    pub(crate) fn with_headers(mut self) -> Self {
        if let (Some(pe), Some(info)) = (&mut self.pe, &self.image) {
            let name = String::from_utf16_lossy(&self.mapped_name);
            self.contents =
                super::pe::headers(self.size, &name, info, &pe.codeview, pe.fault, pe.machine);
            pe.laid_out = true;
        }
        self
    }
    /// The CodeView record its headers hold, instead of the one derived from its name (an image
    /// region only: elsewhere this does nothing). Rebuilds the headers, replacing any
    /// [`contents`](Self::contents).
    ///
    /// # Panics
    ///
    /// If the PDB name is longer than [`MAX_PDB_NAME`](crate::MAX_PDB_NAME) bytes (the record
    /// must fit in the image's first page).
    pub fn codeview(mut self, codeview: CodeView) -> Self {
        assert!(
            codeview.pdb.len() <= super::pe::MAX_PDB_NAME,
            "a PDB name of at most MAX_PDB_NAME bytes"
        );
        if let Some(pe) = &mut self.pe {
            pe.codeview = codeview;
        }
        self.with_headers()
    }
    /// A hostile image (an image region only: elsewhere this does nothing): its headers lie as
    /// `fault` says, so a reader finds no CodeView record (or no NT headers) and must not trust
    /// what it reads. Rebuilds the headers, replacing any [`contents`](Self::contents).
    pub fn malformed_pe(mut self, fault: PeFault) -> Self {
        if let Some(pe) = &mut self.pe {
            pe.fault = Some(fault);
        }
        self.with_headers()
    }
    /// A mapped data file.
    pub fn mapped(base: usize, size: usize, name: &str) -> Self {
        Self {
            mapped_name: utf16(name),
            ..Self::new(base, size, MEM_COMMIT, PAGE_READONLY, MEM_MAPPED)
        }
    }
    /// Anonymous shared memory (a pagefile-backed section mapped read-write): readable in the
    /// process, but not part of a VA clone (reads there fail with `ERROR_PARTIAL_COPY`).
    pub fn shared(base: usize, size: usize) -> Self {
        Self::new(base, size, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED)
    }
    /// Its first bytes (the rest of the region reads as zeros). For an image region these
    /// replace its PE headers.
    pub fn contents(mut self, bytes: &[u8]) -> Self {
        assert!(bytes.len() <= self.size, "contents larger than the region");
        self.contents = bytes.to_vec();
        if let Some(pe) = &mut self.pe {
            pe.laid_out = false;
        }
        self
    }
    /// Its protection, e.g. `PAGE_NOACCESS` (unreadable) or `PAGE_GUARD`.
    pub fn protection(mut self, protect: u32) -> Self {
        self.protect = protect;
        self
    }

    /// Its base address.
    pub fn base(&self) -> usize {
        self.base
    }
    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }
    /// Its PE values, for an image region.
    pub fn image_info(&self) -> Option<ImageInfo> {
        self.image
    }
    /// Its mapped file's name (an NT path; empty for private memory).
    pub fn mapped_name(&self) -> String {
        String::from_utf16_lossy(&self.mapped_name)
    }
    /// The CodeView record a reader of its memory finds: for an image region whose headers are
    /// the ones the model built, tell no lie ([`malformed_pe`](Self::malformed_pe)) and fit in
    /// it; `None` otherwise (and after [`contents`](Self::contents) replaced them).
    pub fn expected_codeview(&self) -> Option<&CodeView> {
        self.pe
            .as_ref()
            .filter(|pe| pe.laid_out && pe.fault.is_none())
            .filter(|pe| super::pe::CODEVIEW_RVA + pe.codeview.to_bytes().len() <= self.size)
            .map(|pe| &pe.codeview)
    }

    pub(crate) fn contains(&self, address: usize) -> bool {
        address >= self.base && address - self.base < self.size
    }

    /// Readable memory: committed, neither no-access nor guard, and present (in a clone).
    pub(crate) fn readable(&self) -> bool {
        self.state == MEM_COMMIT
            && self.protect & (PAGE_NOACCESS | PAGE_GUARD) == 0
            && !self.not_cloned
    }

    /// Anonymous shared memory, which a VA clone does not hold.
    pub(crate) fn anonymous_shared(&self) -> bool {
        self.kind == MEM_MAPPED && self.mapped_name.is_empty()
    }

    /// Copies the region's bytes from `offset` into `out` (zeros past its contents).
    pub(crate) fn read_at(&self, offset: usize, out: &mut [u8]) {
        let stored = self.contents.get(offset..).unwrap_or(&[]);
        let n = stored.len().min(out.len());
        out[..n].copy_from_slice(&stored[..n]);
        out[n..].fill(0);
    }
}

/// Where Windows maps the shared user-data page (`KUSER_SHARED_DATA`), the one auxiliary page
/// 24H2 captures.
pub const SHARED_USER_DATA: usize = 0x7FFE_0000;

/// Bytes of the shared user-data page ntdll copies into the auxiliary page (the rest of the
/// 4,096-byte page is zero).
pub const SHARED_USER_DATA_COPIED: usize = 0xA80;

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
    /// Windows 11 always captures contents: this is for tests of readers that must cope.
    pub fn without_contents(address: usize) -> Self {
        Self {
            address,
            contents: None,
        }
    }
    /// The page Windows captures with flag `0x2`: the shared user-data page at
    /// [`SHARED_USER_DATA`], 4,096 bytes of which the first [`SHARED_USER_DATA_COPIED`] are the
    /// calling process's shared user data (here a fixed pattern) and the rest zero.
    pub fn shared_user_data() -> Self {
        let mut contents = vec![0u8; 4096];
        for (i, byte) in contents[..SHARED_USER_DATA_COPIED].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(31) ^ 0x5A;
        }
        Self::with_contents(SHARED_USER_DATA, contents)
    }
}

/// The process-wide facts of a model process: what `PSS_PROCESS_INFORMATION` reports and the
/// knobs that change how capture treats it.
#[derive(Clone, Debug)]
pub(crate) struct ProcessInfo {
    pub(crate) pid: u32,
    pub(crate) parent: u32,
    pub(crate) image: Vec<u16>,
    pub(crate) flags: PSS_PROCESS_FLAGS,
    pub(crate) exit: Option<u32>,
    /// The most a handle opened by `OpenProcess` may be granted.
    pub(crate) grantable: u32,
    /// Image paths of this many UTF-16 units or more come back as an empty `ImageFileName`.
    pub(crate) image_name_limit: usize,
    /// Handle tracing is enabled in the process, so `PSS_CAPTURE_HANDLE_TRACE` finds data.
    pub(crate) handle_tracing: bool,
    /// The CPU's extended state, which sizes context records captured with
    /// `PSS_CAPTURE_THREAD_CONTEXT_EXTENDED` and `CONTEXT_XSTATE` (`xstate.rs`).
    pub(crate) xstate: super::xstate::XState,
    /// The process is in a job that does not allow its VA clone to break away.
    pub(crate) breakaway_forbidden: bool,
    /// Walks hand out hostile but legal-looking entries (see `model::hostile`).
    pub(crate) hostile: bool,
    /// Bytes of the handle-trace section (ntdll sizes it by the queried trace length).
    pub(crate) handle_trace_size: u32,
    /// kernel32 answers `PSS_WALK_THREAD_NAME` (24H2 and later, plausibly).
    pub(crate) thread_names: bool,
    /// `ReadProcessMemory` copies this many bytes at a time; after a fault it reports only the
    /// chunks completed.
    pub(crate) read_chunk: usize,
    /// `ZwQueryVirtualMemory` of the shared user-data page fails, so flag `0x2` counts no page.
    pub(crate) aux_page_unqueryable: bool,
    /// The process's PEB: its address, reported by `PSS_PROCESS_INFORMATION`.
    pub(crate) peb: usize,
    /// What its `RTL_USER_PROCESS_PARAMETERS` hold beyond the defaults (`parameters.rs`).
    pub(crate) parameters: Option<Arc<super::parameters::ParametersSpec>>,
    /// What its WOW64 layout laid out ([`ProcessSpec::wow64_layout`]), read back by
    /// [`ModelProcess::wow64_layout`].
    pub(crate) wow64: Option<Arc<super::wow64::Wow64Layout>>,
    /// The exception one of its threads raised, laid out at spawn (`crash.rs`).
    pub(crate) crash: Option<Arc<super::crash::CrashSpec>>,
}

/// A process of the model.
#[derive(Clone, Debug)]
pub struct ProcessData {
    pub(crate) info: ProcessInfo,
    /// How many of the next captures with `HANDLES` see a handle opened between ntdll's two
    /// handle-table queries (and fail with `ERROR_BAD_LENGTH`).
    pub(crate) handle_races: u32,
    pub(crate) threads: Arc<Vec<ThreadSpec>>,
    pub(crate) handles: Arc<Vec<HandleSpec>>,
    pub(crate) regions: Arc<Vec<RegionSpec>>,
    pub(crate) aux_pages: Arc<Vec<AuxPageSpec>>,
}

/// What `ImageFileName` holds by default: paths this long or longer come back empty, as
/// ntdll captures the name through a buffer much smaller than `MAX_PATH` (about 128 units).
pub const IMAGE_NAME_LIMIT: usize = 128;

fn default_info() -> ProcessInfo {
    ProcessInfo {
        pid: 0,
        parent: CURRENT_PID,
        image: utf16(r"C:\Windows\System32\notepad.exe"),
        flags: PSS_PROCESS_FLAGS_NONE,
        exit: None,
        grantable: PROCESS_ALL_ACCESS,
        image_name_limit: IMAGE_NAME_LIMIT,
        handle_tracing: false,
        xstate: super::xstate::XState::Avx,
        breakaway_forbidden: false,
        hostile: false,
        handle_trace_size: HANDLE_TRACE_SIZE,
        thread_names: false,
        read_chunk: READ_CHUNK,
        aux_page_unqueryable: false,
        peb: PEB_ADDRESS,
        parameters: None,
        wow64: None,
        crash: None,
    }
}

/// The handle-trace section size a model process with handle tracing reports by default.
pub const HANDLE_TRACE_SIZE: u32 = 0x4_0040;

/// How many bytes `ReadProcessMemory` copies at a time by default: the kernel's mapped copy
/// moves up to 64 KiB per step (reads of 512 bytes or less go through one stack buffer, which
/// is one chunk either way).
pub const READ_CHUNK: usize = 0x1_0000;

/// The current process as the model shows it: a small, plausible program.
pub(crate) fn current_process() -> ProcessData {
    let exe = addr(0x7FF6_0000_0000, 0x0040_0000);
    let nls = addr(0x7FF6_1000_0000, 0x1000_0000);
    let kernel32 = addr(0x7FFB_0000_0000, 0x7600_0000);
    let ntdll = addr(0x7FFC_0000_0000, 0x7700_0000);
    // Return addresses as a test binary's threads have them: the main thread waits in ntdll
    // under kernel32, called from the test harness's main; the other thread runs a test.
    let base_thread_init_thunk = kernel32 + 0x1_7614;
    let rtl_user_thread_start = ntdll + 0x5_26f1;
    let mut data = ProcessData {
        info: ProcessInfo {
            pid: CURRENT_PID,
            parent: 0x0F0,
            image: utf16(r"C:\pss\target\debug\deps\contract.exe"),
            ..default_info()
        },
        threads: Arc::new(vec![
            ThreadSpec::new(0x1A8)
                .executing_at(ntdll + 0x9_d0e4)
                .call_stack(&[
                    kernel32 + 0x1_2a3e,
                    exe + 0x1_1c2f,
                    base_thread_init_thunk,
                    rtl_user_thread_start,
                ])
                .last_error(0),
            ThreadSpec::new(0x1AC)
                .suspended(0)
                .running()
                .executing_at(exe + 0x1_2f00)
                .call_stack(&[
                    exe + 0x1_3a10,
                    base_thread_init_thunk,
                    rtl_user_thread_start,
                ])
                .last_error(2), // ERROR_FILE_NOT_FOUND: a probe for a missing file
        ]),
        handles: Arc::new(vec![
            HandleSpec::other(0x04, "File").named(r"\Device\ConDrv"),
            HandleSpec::event(0x08, true, false),
            HandleSpec::section(0x0C, 0x1000).named(r"\BaseNamedObjects\pss-tests"),
            HandleSpec::thread(0x10, CURRENT_PID, 0x1A8),
        ]),
        regions: Arc::new(vec![
            // Up to the executable (on 32-bit hosts everything else lies above it too).
            RegionSpec::free(0x0, addr(0x7FFE_0000, 0x0040_0000)),
            // KUSER_SHARED_DATA, mapped read-only in every process.
            RegionSpec::private(0x7FFE_0000, 0x1000).protection(PAGE_READONLY),
            RegionSpec::image(
                exe,
                0x20_000,
                r"\Device\HarddiskVolume3\pss\target\debug\deps\contract.exe",
            ),
            RegionSpec::mapped(
                nls,
                0x3000,
                r"\Device\HarddiskVolume3\Windows\System32\locale.nls",
            ),
            RegionSpec::image(
                kernel32,
                0xC_0000,
                r"\Device\HarddiskVolume3\Windows\System32\kernel32.dll",
            ),
            RegionSpec::image(
                ntdll,
                0x1F_0000,
                r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll",
            ),
        ]),
        aux_pages: Arc::new(vec![AuxPageSpec::shared_user_data()]),
        handle_races: 0,
    };
    super::environment::lay_out_process(&mut data, true);
    data
}

/// Describes a model process; `spawn` adds it to the process table.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    pub(crate) data: ProcessData,
    /// [`aux_page`](Self::aux_page) replaced Windows' one page.
    custom_aux_pages: bool,
    /// [`with_peb`](Self::with_peb): a PEB region is added when spawned.
    pub(crate) with_peb: bool,
    /// [`wow64_layout`](Self::wow64_layout): laid out as 64-bit Windows holds a 32-bit process.
    pub(crate) wow64: Option<super::wow64::Wow64Options>,
}

impl Default for ProcessSpec {
    fn default() -> Self {
        Self {
            data: ProcessData {
                info: default_info(),
                threads: Arc::default(),
                handles: Arc::default(),
                regions: Arc::default(),
                aux_pages: Arc::new(vec![AuxPageSpec::shared_user_data()]),
                handle_races: 0,
            },
            custom_aux_pages: false,
            with_peb: false,
            wow64: None,
        }
    }
}

impl ProcessSpec {
    /// An empty process (no threads, handles or regions; the one auxiliary page Windows
    /// captures, [`AuxPageSpec::shared_user_data`]), child of the current process, image
    /// `C:\Windows\System32\notepad.exe`, all access grantable. Note that a capture with
    /// `HANDLES` of a process without handles fails with `ERROR_BAD_LENGTH`, as on Windows (so
    /// does every `MINIDUMP` or `DIAGNOSTICS` capture of it): for a process that looks like a
    /// real one, start from [`ProcessSpec::console`].
    pub fn new() -> Self {
        Self::default()
    }
    /// The image file name, as `PSS_PROCESS_INFORMATION.ImageFileName` will report it: empty
    /// if it has [`image_name_limit`](Self::image_name_limit) units or more, else cut to
    /// `MAX_PATH` units, without a terminator when it fills the buffer.
    pub fn image(mut self, name: &str) -> Self {
        self.data.info.image = utf16(name);
        self
    }
    /// Image names of `units` UTF-16 units or more are captured empty (default
    /// [`IMAGE_NAME_LIMIT`]); `usize::MAX` captures every name, cut at `MAX_PATH`.
    pub fn image_name_limit(mut self, units: usize) -> Self {
        self.data.info.image_name_limit = units;
        self
    }
    /// The parent pid.
    pub fn parent(mut self, pid: u32) -> Self {
        self.data.info.parent = pid;
        self
    }
    /// Adds `PSS_PROCESS_FLAGS_WOW64`, and nothing else: for a process laid out as 64-bit
    /// Windows holds a 32-bit one, see [`wow64_layout`](Self::wow64_layout).
    pub fn wow64(mut self) -> Self {
        self.data.info.flags |= PSS_PROCESS_FLAGS_WOW64;
        self
    }
    /// Adds `PSS_PROCESS_FLAGS_FROZEN`.
    pub fn frozen(mut self) -> Self {
        self.data.info.flags |= PSS_PROCESS_FLAGS_FROZEN;
        self
    }
    /// The process has exited with `code` (its object is still referenced by a handle): see
    /// [`ModelProcess::exit`] for what a capture of it gives.
    pub fn exited(mut self, code: u32) -> Self {
        self.data.info.exit = Some(code);
        self
    }
    /// Its walks hand out hostile but legal-looking entries: odd byte counts, NULL names with a
    /// length, names of 0 and 32,767 units, unpaired surrogates, missing and extra NULs,
    /// misaligned and short context records, zero-size regions, flags that claim absent fields
    /// and pointers no flag vouches for (see `model::hostile` for which entry gets which).
    pub fn hostile(mut self) -> Self {
        self.data.info.hostile = true;
        self
    }
    /// Handle tracing is enabled, so `PSS_CAPTURE_HANDLE_TRACE` captures a trace section
    /// (without it, the trace query gives `ERROR_NOT_FOUND`, as on Windows).
    pub fn handle_tracing(mut self) -> Self {
        self.data.info.handle_tracing = true;
        self
    }
    /// The process is in a job that does not let its VA clone break away:
    /// `PSS_CREATE_BREAKAWAY` fails with `ERROR_ACCESS_DENIED` unless
    /// `PSS_CREATE_BREAKAWAY_OPTIONAL` lets the clone stay in the job.
    pub fn breakaway_forbidden(mut self) -> Self {
        self.data.info.breakaway_forbidden = true;
        self
    }
    /// Adds a thread.
    pub fn thread(mut self, thread: ThreadSpec) -> Self {
        Arc::make_mut(&mut self.data.threads).push(thread);
        self
    }
    /// Adds a handle.
    pub fn handle(mut self, handle: HandleSpec) -> Self {
        Arc::make_mut(&mut self.data.handles).push(handle);
        self
    }
    /// Adds a region.
    pub fn region(mut self, region: RegionSpec) -> Self {
        Arc::make_mut(&mut self.data.regions).push(region);
        self
    }
    /// Adds an auxiliary page. The first call replaces the one page Windows 11 captures
    /// ([`AuxPageSpec::shared_user_data`]): processes with other pages, or several, are for
    /// tests of walks and readers, not what Windows gives.
    pub fn aux_page(mut self, page: AuxPageSpec) -> Self {
        if !self.custom_aux_pages {
            self.custom_aux_pages = true;
            self.data.aux_pages = Arc::default();
        }
        Arc::make_mut(&mut self.data.aux_pages).push(page);
        self
    }
    /// `ZwQueryVirtualMemory` of the auxiliary page fails (as for a process whose address space
    /// is gone): flag `0x2` still succeeds, with no page counted.
    pub fn aux_page_unqueryable(mut self) -> Self {
        self.data.info.aux_page_unqueryable = true;
        self
    }
    /// The handle-trace section's size in bytes (default [`HANDLE_TRACE_SIZE`]); ntdll sizes
    /// it by the trace length it queried, so it varies with the process.
    pub fn handle_trace_size(mut self, bytes: u32) -> Self {
        self.data.info.handle_trace_size = bytes;
        self
    }
    /// kernel32 answers `PSS_WALK_THREAD_NAME` (4) for this process's snapshots, as 24H2's
    /// plausibly does (its ntdll captures thread names); without this, the walk gives
    /// `ERROR_INVALID_PARAMETER`, as every older kernel32 does.
    pub fn thread_names(mut self) -> Self {
        self.data.info.thread_names = true;
        self
    }
    /// `ReadProcessMemory` of this process (and of its VA clones) copies `bytes` at a time
    /// (default [`READ_CHUNK`]); a read that faults reports only the chunks it completed.
    pub fn read_chunk(mut self, bytes: usize) -> Self {
        assert!(bytes > 0, "a chunk of at least one byte");
        self.data.info.read_chunk = bytes;
        self
    }
    /// Gives the process a PEB in its memory, at [`PEB_ADDRESS`] (where every model process
    /// reports it), whose `ImageBaseAddress` (at [`PEB_IMAGE_BASE_OFFSET`](crate::PEB_IMAGE_BASE_OFFSET))
    /// is the base of its first image region, its main executable, as on Windows; and with it,
    /// in the same private region, the PEB's loader data (one entry per image region) and every
    /// thread's TEB: see the model's crate docs, "The PEB and TEBs"; and in a region of its own
    /// the process parameters the PEB points to (two more regions in all; "The process's
    /// parameters"). Without it the addresses are reported but nothing is there (reads fail),
    /// which keeps region counts small for tests that count them.
    pub fn with_peb(mut self) -> Self {
        self.with_peb = true;
        self
    }
    /// The next `captures` captures with `HANDLES` race a handle being opened between ntdll's
    /// handle-count and handle-table queries, and fail with `ERROR_BAD_LENGTH` (see also
    /// [`ModelProcess::race_handle_table`]).
    pub fn handle_table_races(mut self, captures: u32) -> Self {
        self.data.handle_races = captures;
        self
    }
    /// Limits what `OpenProcess` grants: asking for any other right fails with
    /// `ERROR_ACCESS_DENIED`. `access` is a `pss::ProcessAccess` or its bits.
    pub fn grantable(mut self, access: impl Into<u32>) -> Self {
        self.data.info.grantable = access.into();
        self
    }
    /// Adds the process to the model and returns it.
    pub fn spawn(self) -> ModelProcess {
        let mut k = kernel::lock();
        let pid = k.next_pid;
        k.next_pid += 4;
        let mut data = self.data;
        data.info.pid = pid;
        if let Some(options) = &self.wow64 {
            super::wow64::lay_out_process(&mut data, options);
        } else {
            super::environment::lay_out_process(&mut data, self.with_peb);
        }
        k.processes.insert(pid, data);
        ModelProcess { pid }
    }

    /// Its threads, as added.
    pub fn threads(&self) -> &[ThreadSpec] {
        &self.data.threads
    }
    /// Its regions, as added (spawning adds the stacks of threads with call stacks and, with
    /// [`with_peb`](Self::with_peb), the PEB's region: see [`process_regions`](crate::process_regions)).
    pub fn regions(&self) -> &[RegionSpec] {
        &self.data.regions
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

    /// Its threads as spawned: TEB addresses assigned, stack and frame pointers of threads
    /// with call stacks set ([`process_threads`](crate::process_threads) of its pid).
    pub fn threads(&self) -> Vec<ThreadSpec> {
        crate::process_threads(self.pid).unwrap_or_default()
    }

    /// Its regions as spawned, stacks and the PEB's region included
    /// ([`process_regions`](crate::process_regions) of its pid).
    pub fn regions(&self) -> Vec<RegionSpec> {
        crate::process_regions(self.pid).unwrap_or_default()
    }

    /// The next `captures` captures with `HANDLES` race a handle being opened between ntdll's
    /// two handle-table queries, and fail with `ERROR_BAD_LENGTH`.
    pub fn race_handle_table(&self, captures: u32) {
        if let Some(p) = kernel::lock().processes.get_mut(&self.pid) {
            p.handle_races = captures;
        }
    }

    /// Marks it exited with `code`: its threads, handle table and address space are gone, so a
    /// capture still gives process information (with the exit status), while `HANDLES`,
    /// `VA_SPACE` and `VA_CLONE` fail, and threads are not found.
    pub fn exit(&self, code: u32) {
        if let Some(p) = kernel::lock().processes.get_mut(&self.pid) {
            p.info.exit = Some(code);
        }
    }

    /// Writes `bytes` at `address` in its memory, as the process itself would (the region must
    /// exist and hold the whole range). Snapshots and VA clones taken before keep what they
    /// captured.
    pub fn write_memory(&self, address: usize, bytes: &[u8]) {
        let mut k = kernel::lock();
        let process = k
            .processes
            .get_mut(&self.pid)
            .expect("a live model process");
        let regions = Arc::make_mut(&mut process.regions);
        let region = regions
            .iter_mut()
            .find(|r| r.contains(address))
            .expect("the address is in a region");
        let offset = address - region.base;
        assert!(
            offset + bytes.len() <= region.size,
            "the write crosses a region"
        );
        if region.contents.len() < offset + bytes.len() {
            region.contents.resize(offset + bytes.len(), 0);
        }
        region.contents[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// A snapshot that this process captured of itself, in its own context, as if its raw value
    /// had been sent to us. `vm` chooses `PSS_CREATE_USE_VM_ALLOCATIONS`. No VA clone or trace
    /// section is made.
    pub fn own_snapshot(&self, flags: u32, vm: bool) -> HPSS {
        let mut k = kernel::lock();
        let flags = if vm {
            flags | PSS_CREATE_USE_VM_ALLOCATIONS
        } else {
            flags
        };
        let flags = flags & !(PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLE_TRACE);
        let data = Arc::new(super::capture::contents(
            &k.processes[&self.pid],
            flags,
            HOST_CONTEXT_ALL,
            PROCESS_ALL_ACCESS,
        ));
        let snapshot = kernel::Snapshot {
            context: self.pid,
            flags,
            vm_descriptor: vm,
            data,
            clone_pid: None,
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
            .filter(|(_, o)| matches!(o, kernel::Object::Snapshot(s) if s.context == self.pid))
            .map(|(v, _)| *v)
            .collect();
        for value in gone {
            k.retire(value, "snapshot", "the exit of the process that held it");
        }
        k.release_stranded_in(self.pid);
    }
}

/// Who owns what the calling thread creates.
pub(crate) fn me() -> std::thread::ThreadId {
    std::thread::current().id()
}

/// `CONTEXT_ALL` of the host's architecture (the model's `CONTEXT` is the host's).
pub(crate) const HOST_CONTEXT_ALL: u32 = if cfg!(target_arch = "x86") {
    CONTEXT_ALL_X86
} else if cfg!(target_arch = "aarch64") {
    CONTEXT_ALL_ARM64
} else {
    CONTEXT_ALL_AMD64
};

/// [`context_record`] of `thread`'s registers, with what a WOW64 thread's native context adds
/// (its code segment and, in 32-bit code, its x86 registers: `super::wow64`).
pub(crate) fn context_record_of(length: usize, flags: u32, thread: &ThreadSpec) -> Vec<u8> {
    let mut record = context_record(length, flags, thread.registers);
    if let Some(x86) = &thread.x86 {
        x86.patch_native_context(&mut record, flags);
    }
    record
}

/// A context record of `length` bytes as `GetThreadContext` leaves it for `flags`: the host's
/// `CONTEXT` with `ContextFlags` set to `flags` and, of the three registers the model knows,
/// those the flags cover (`CONTEXT_CONTROL`: instruction and stack pointer, and the frame
/// pointer on x86 and aarch64; `CONTEXT_INTEGER`: `Rbp` on x64); zeros elsewhere, and after
/// the `CONTEXT` in an extended record.
pub(crate) fn context_record(length: usize, flags: u32, registers: [usize; 3]) -> Vec<u8> {
    // Built in zeroed memory and written field by field, never copied as a whole `CONTEXT`,
    // so every byte, padding included, is initialised when the bytes are read out.
    let mut record = std::mem::MaybeUninit::<CONTEXT>::zeroed();
    let context = record.as_mut_ptr();
    let [ip, sp, fp] = registers;
    // SAFETY: `context` points to a zeroed, aligned `CONTEXT` (all fields plain integers,
    // valid when zero); each write goes to one of its fields.
    unsafe {
        (&raw mut (*context).ContextFlags).write(flags);
        #[cfg(target_arch = "x86")]
        if flags & CONTEXT_CONTROL_X86 == CONTEXT_CONTROL_X86 {
            (&raw mut (*context).Eip).write(ip as u32);
            (&raw mut (*context).Esp).write(sp as u32);
            (&raw mut (*context).Ebp).write(fp as u32);
        }
        #[cfg(target_arch = "aarch64")]
        if flags & CONTEXT_CONTROL_ARM64 == CONTEXT_CONTROL_ARM64 {
            (&raw mut (*context).Pc).write(ip as u64);
            (&raw mut (*context).Sp).write(sp as u64);
            (&raw mut (*context).Anonymous.Anonymous.Fp).write(fp as u64);
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "aarch64")))]
        {
            if flags & CONTEXT_CONTROL_AMD64 == CONTEXT_CONTROL_AMD64 {
                (&raw mut (*context).Rip).write(ip as u64);
                (&raw mut (*context).Rsp).write(sp as u64);
            }
            if flags & CONTEXT_INTEGER_AMD64 == CONTEXT_INTEGER_AMD64 {
                (&raw mut (*context).Rbp).write(fp as u64);
            }
        }
    }
    let mut bytes = vec![0u8; length];
    let n = length.min(size_of::<CONTEXT>());
    // SAFETY: the record's `size_of::<CONTEXT>()` bytes are all initialised (see above); `n`
    // of them are copied into `bytes`, which has at least `n`.
    unsafe { std::ptr::copy_nonoverlapping(record.as_ptr().cast::<u8>(), bytes.as_mut_ptr(), n) };
    bytes
}
