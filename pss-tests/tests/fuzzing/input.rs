//! The fuzz input: bytes read as the description of a model process (its layout, knobs and the
//! contents of its memory), and written back from one (for the seed corpus).
//!
//! Every byte string decodes: a read past the end gives zeros, lengths are taken modulo their
//! bound, and records past a list's bound are read and dropped. The fields keep the raw values
//! read; [`super::process`] interprets them (addresses modulo the window, sizes clamped), so
//! `decode(encode(input)) == input` for any input whose byte strings are within their bounds.
//!
//! Layout, little-endian:
//!
//! | field | bytes |
//! |---|---|
//! | [`Input::options`] | 2 |
//! | [`Input::read_chunk`], [`Input::stack_limit`], [`Input::environment_pages`] | 1 each |
//! | records, to the end: a tag byte (mod 7: region, thread, handle, patch, auxiliary page, read, exception), then the record | |
//!
//! A byte string is a 16-bit length (modulo its bound plus one) and that many bytes (fewer when
//! the input ends). Memory contents are such strings, so the fuzzer mutates them as raw bytes.

/// The most regions, threads, handles, patches, auxiliary pages and reads an input describes:
/// enough for every shape, few enough that a model process and its dumps stay small (the heap
/// bounds of [`super::heap`] assume them).
pub const MAX_REGIONS: usize = 16;
pub const MAX_THREADS: usize = 8;
pub const MAX_HANDLES: usize = 16;
pub const MAX_PATCHES: usize = 32;
pub const MAX_PAGES: usize = 4;
pub const MAX_READS: usize = 16;
/// Longest name (region, thread, handle), in bytes of UTF-8 (read lossily).
pub const MAX_NAME: usize = 255;
/// Longest patch of memory contents, auxiliary page and context record.
pub const MAX_BLOB: usize = 4096;
/// Most return addresses on a laid-out call stack, and exception parameters.
pub const MAX_CALL_STACK: usize = 8;
pub const MAX_PARAMETERS: usize = 20;

/// [`Input::options`] bits.
pub mod option {
    /// Walks hand out the model's hostile entries (`ProcessSpec::hostile`).
    pub const HOSTILE: u16 = 1 << 0;
    /// kernel32 answers the thread-name walk.
    pub const THREAD_NAMES: u16 = 1 << 1;
    /// The model lays out the PEB, the loader list and the TEBs (`ProcessSpec::with_peb`).
    pub const WITH_PEB: u16 = 1 << 2;
    /// Capture without the VA clone (so nothing is read from memory).
    pub const NO_VA_CLONE: u16 = 1 << 3;
    /// Capture without the address space.
    pub const NO_VA_SPACE: u16 = 1 << 4;
    /// Capture without section information (no image names and PE values).
    pub const NO_SECTION_INFORMATION: u16 = 1 << 5;
    /// Capture without handles.
    pub const NO_HANDLES: u16 = 1 << 6;
    /// Capture without threads.
    pub const NO_THREADS: u16 = 1 << 7;
    /// Capture without thread contexts.
    pub const NO_THREAD_CONTEXT: u16 = 1 << 8;
    /// Capture extended contexts.
    pub const EXTENDED_CONTEXT: u16 = 1 << 9;
    /// Capture the auxiliary pages (flag `0x2`).
    pub const AUXILIARY_PAGES: u16 = 1 << 10;
    /// The process has handle tracing enabled.
    pub const HANDLE_TRACING: u16 = 1 << 11;
    /// The snapshot's entries live in VM allocations (`capture_vm`).
    pub const VM_ALLOCATIONS: u16 = 1 << 12;
}

/// [`Thread::flags`] bits.
pub mod thread_flag {
    pub const TERMINATED: u8 = 1 << 0;
    pub const SUSPENDED: u8 = 1 << 1;
    pub const CONTEXT_UNREADABLE: u8 = 1 << 2;
    /// A context record follows ([`Thread::context`]).
    pub const RAW_CONTEXT: u8 = 1 << 3;
    /// The context record starts 8 bytes past a 16-byte boundary.
    pub const MISALIGNED_CONTEXT: u8 = 1 << 4;
    /// A call stack follows ([`Thread::call_stack`]): the model lays out its stack.
    pub const CALL_STACK: u8 = 1 << 5;
}

/// [`Read::mode`] bits: which reader, and how the address is taken.
pub mod read_mode {
    /// `VaClone::read` (the other modes: `read_exact`, `read_value::<u64>`, the `io::Read`
    /// cursor after a seek), by the low two bits.
    pub const HOW: u8 = 0x3;
    /// The address is [`Read::address`] itself, not an offset into the window.
    pub const ABSOLUTE: u8 = 0x80;
}

/// A region of the address space.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// Its first page, in pages from the window's start (modulo the window).
    pub page: u16,
    /// Its size in pages, minus one (modulo 16: at most 64 KiB, so a full dump of 16 regions
    /// stays near 1 MiB and the fuzzer fast).
    pub pages: u8,
    /// What it is (modulo 8): private read-write, image, mapped file, anonymous shared,
    /// reserved, no-access, guard, read-only.
    pub kind: u8,
    /// Its mapped file's NT path (an image's or a mapped file's), UTF-8; empty: a default.
    pub name: Vec<u8>,
}

/// A thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thread {
    pub tid: u16,
    /// [`thread_flag`] bits.
    pub flags: u8,
    pub instruction: u64,
    /// Stack and frame pointer, as offsets into the window.
    pub stack: u32,
    pub frame: u32,
    pub last_error: u32,
    /// Its name (`SetThreadDescription`), UTF-8.
    pub name: Vec<u8>,
    /// With [`thread_flag::RAW_CONTEXT`]: the record's `ContextFlags`, its length (modulo a
    /// `CONTEXT` plus 1 KiB, plus one) and bytes laid over it from its start.
    pub context: Option<Context>,
    /// With [`thread_flag::CALL_STACK`]: return addresses, as offsets into the window.
    pub call_stack: Option<Vec<u32>>,
}

/// A thread's own context record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub flags: u32,
    pub length: u16,
    pub bytes: Vec<u8>,
}

/// A handle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handle {
    /// Its type (modulo 8): file, key, process, thread, mutant, event, section, semaphore.
    pub kind: u8,
    /// Bit 0: not duplicable; bit 1: type not queryable; bit 2: no type-specific data.
    pub flags: u8,
    pub value: u16,
    pub name: Vec<u8>,
}

/// Bytes written into the memory of a spawned process's region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    /// The region, by its place in the spawned process's list (modulo its length): the input's
    /// regions in address order, then the model's (the PEB's, the stacks).
    pub region: u8,
    /// Where in it (modulo its size); bytes past its end are cut.
    pub offset: u32,
    pub bytes: Vec<u8>,
}

/// An auxiliary page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Its address, as an offset into the window.
    pub address: u32,
    pub contents: Vec<u8>,
}

/// A read of the VA clone (by the readers' target).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// [`read_mode`] bits.
    pub mode: u8,
    pub address: u64,
    pub len: u16,
}

/// The exception a crash reporter passes the dump writer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exception {
    /// The thread, by its place in the list (an id not in the list past it).
    pub thread: u8,
    pub code: u32,
    pub flags: u32,
    pub address: u64,
    pub parameters: Vec<u64>,
    /// The `CONTEXT` at the fault: these bytes from its start, zeros after; `None`: the
    /// thread's captured one.
    pub context: Option<Vec<u8>>,
}

/// A whole input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// [`option`] bits.
    pub options: u16,
    /// `ReadProcessMemory`'s chunk: 0 the default, else this times 64 bytes.
    pub read_chunk: u8,
    /// The dump's stack limit: 0 the default, 1 none (0 bytes), else this times 256 bytes.
    pub stack_limit: u8,
    /// Without [`option::WITH_PEB`]: pages of a private region below the PEB's page (which it
    /// ends with); 0: no such region.
    pub environment_pages: u8,
    pub regions: Vec<Region>,
    pub threads: Vec<Thread>,
    pub handles: Vec<Handle>,
    pub patches: Vec<Patch>,
    pub pages: Vec<Page>,
    pub reads: Vec<Read>,
    pub exception: Option<Exception>,
}

const TAGS: u8 = 7;

/// Reads the input's fields; zeros past the end.
struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn string(&mut self, max: usize) -> Vec<u8> {
        let len = (usize::from(self.u16()) % (max + 1)).min(self.bytes.len());
        let (string, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        string.to_vec()
    }
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Writes fields as [`Decoder`] reads them.
#[derive(Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, bytes: &[u8], max: usize) {
        assert!(bytes.len() <= max, "a string of at most {max} bytes");
        self.u16(bytes.len() as u16);
        self.0.extend_from_slice(bytes);
    }
}

fn push<T>(list: &mut Vec<T>, max: usize, item: T) {
    if list.len() < max {
        list.push(item);
    }
}

impl Input {
    /// The input these bytes describe (any bytes describe one).
    pub fn decode(bytes: &[u8]) -> Input {
        let mut d = Decoder { bytes };
        let mut input = Input {
            options: d.u16(),
            read_chunk: d.u8(),
            stack_limit: d.u8(),
            environment_pages: d.u8(),
            ..Input::default()
        };
        while !d.is_empty() {
            match d.u8() % TAGS {
                0 => {
                    let region = Region {
                        page: d.u16(),
                        pages: d.u8(),
                        kind: d.u8(),
                        name: d.string(MAX_NAME),
                    };
                    push(&mut input.regions, MAX_REGIONS, region);
                }
                1 => {
                    let mut thread = Thread {
                        tid: d.u16(),
                        flags: d.u8(),
                        instruction: d.u64(),
                        stack: d.u32(),
                        frame: d.u32(),
                        last_error: d.u32(),
                        name: d.string(MAX_NAME),
                        ..Thread::default()
                    };
                    if thread.flags & thread_flag::RAW_CONTEXT != 0 {
                        thread.context = Some(Context {
                            flags: d.u32(),
                            length: d.u16(),
                            bytes: d.string(MAX_BLOB),
                        });
                    }
                    if thread.flags & thread_flag::CALL_STACK != 0 {
                        let n = usize::from(d.u8()) % (MAX_CALL_STACK + 1);
                        thread.call_stack = Some((0..n).map(|_| d.u32()).collect());
                    }
                    push(&mut input.threads, MAX_THREADS, thread);
                }
                2 => {
                    let handle = Handle {
                        kind: d.u8(),
                        flags: d.u8(),
                        value: d.u16(),
                        name: d.string(MAX_NAME),
                    };
                    push(&mut input.handles, MAX_HANDLES, handle);
                }
                3 => {
                    let patch = Patch {
                        region: d.u8(),
                        offset: d.u32(),
                        bytes: d.string(MAX_BLOB),
                    };
                    push(&mut input.patches, MAX_PATCHES, patch);
                }
                4 => {
                    let page = Page {
                        address: d.u32(),
                        contents: d.string(MAX_BLOB),
                    };
                    push(&mut input.pages, MAX_PAGES, page);
                }
                5 => {
                    let read = Read {
                        mode: d.u8(),
                        address: d.u64(),
                        len: d.u16(),
                    };
                    push(&mut input.reads, MAX_READS, read);
                }
                _ => {
                    let mut exception = Exception {
                        thread: d.u8(),
                        code: d.u32(),
                        flags: d.u32(),
                        address: d.u64(),
                        ..Exception::default()
                    };
                    let n = usize::from(d.u8()) % (MAX_PARAMETERS + 1);
                    exception.parameters = (0..n).map(|_| d.u64()).collect();
                    if d.u8() & 1 != 0 {
                        exception.context = Some(d.string(MAX_BLOB));
                    }
                    // The last one counts.
                    input.exception = Some(exception);
                }
            }
        }
        input
    }

    /// The bytes that decode to this input.
    ///
    /// # Panics
    ///
    /// If a list or byte string is longer than its bound (it would not decode the same).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        e.u16(self.options);
        e.u8(self.read_chunk);
        e.u8(self.stack_limit);
        e.u8(self.environment_pages);
        assert!(self.regions.len() <= MAX_REGIONS && self.threads.len() <= MAX_THREADS);
        assert!(self.handles.len() <= MAX_HANDLES && self.patches.len() <= MAX_PATCHES);
        assert!(self.pages.len() <= MAX_PAGES && self.reads.len() <= MAX_READS);
        for r in &self.regions {
            e.u8(0);
            e.u16(r.page);
            e.u8(r.pages);
            e.u8(r.kind);
            e.string(&r.name, MAX_NAME);
        }
        for t in &self.threads {
            e.u8(1);
            assert_eq!(
                (t.context.is_some(), t.call_stack.is_some()),
                (
                    t.flags & thread_flag::RAW_CONTEXT != 0,
                    t.flags & thread_flag::CALL_STACK != 0
                ),
                "a thread's flags say what follows it"
            );
            e.u16(t.tid);
            e.u8(t.flags);
            e.u64(t.instruction);
            e.u32(t.stack);
            e.u32(t.frame);
            e.u32(t.last_error);
            e.string(&t.name, MAX_NAME);
            if let Some(c) = &t.context {
                e.u32(c.flags);
                e.u16(c.length);
                e.string(&c.bytes, MAX_BLOB);
            }
            if let Some(call_stack) = &t.call_stack {
                assert!(call_stack.len() <= MAX_CALL_STACK);
                e.u8(call_stack.len() as u8);
                for &address in call_stack {
                    e.u32(address);
                }
            }
        }
        for h in &self.handles {
            e.u8(2);
            e.u8(h.kind);
            e.u8(h.flags);
            e.u16(h.value);
            e.string(&h.name, MAX_NAME);
        }
        for p in &self.patches {
            e.u8(3);
            e.u8(p.region);
            e.u32(p.offset);
            e.string(&p.bytes, MAX_BLOB);
        }
        for p in &self.pages {
            e.u8(4);
            e.u32(p.address);
            e.string(&p.contents, MAX_BLOB);
        }
        for r in &self.reads {
            e.u8(5);
            e.u8(r.mode);
            e.u64(r.address);
            e.u16(r.len);
        }
        if let Some(x) = &self.exception {
            e.u8(6);
            e.u8(x.thread);
            e.u32(x.code);
            e.u32(x.flags);
            e.u64(x.address);
            assert!(x.parameters.len() <= MAX_PARAMETERS);
            e.u8(x.parameters.len() as u8);
            for &p in &x.parameters {
                e.u64(p);
            }
            match &x.context {
                Some(bytes) => {
                    e.u8(1);
                    e.string(bytes, MAX_BLOB);
                }
                None => e.u8(0),
            }
        }
        e.0
    }
}
