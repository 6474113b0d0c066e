//! Redaction: what of the process's memory goes into a dump, decided by the caller. A policy
//! decides at plan time which planned ranges are kept ([`Redaction::keep`]: kept, written as
//! zeros, or left out of the memory lists), and sees every chunk of kept memory before it is
//! written ([`Redaction::scrub`]), where it may change bytes. Two policies are ready-made:
//! [`StackScrubbing`] and [`ModuleAllowList`].

use crate::{MemoryRegion, WideStr};

/// A redaction policy for a dump written by `pss`: [`DumpWriter::redact`](super::DumpWriter::redact).
///
/// Both methods have defaults that change nothing. See [`LocalSnapshot::minidump`](crate::LocalSnapshot::minidump),
/// "Redaction", for what a policy can and cannot remove.
///
/// ```no_run,standalone_crate
/// use pss::{Keep, MemoryContent, MemoryRange, Redaction};
///
/// /// Keeps the stacks and the thread and process environment blocks, nothing else, and
/// /// writes the memory of modules as zeros (their place stays in the memory lists).
/// struct StacksOnly;
///
/// impl Redaction for StacksOnly {
///     fn keep(&self, range: &MemoryRange<'_>) -> Keep {
///         match range.content {
///             MemoryContent::Stack { .. }
///             | MemoryContent::ThreadEnvironment { .. }
///             | MemoryContent::ProcessEnvironment => Keep::Bytes,
///             _ if range.module().is_some() => Keep::Zeros,
///             _ => Keep::Nothing,
///         }
///     }
/// }
/// # fn f(snapshot: &pss::LocalSnapshot) -> Result<(), pss::DumpError> {
/// snapshot.minidump().redact(&StacksOnly).write_to_path("editor.dmp")?;
/// # Ok(()) }
/// ```
pub trait Redaction {
    /// Plan time, before the first byte is written: whether `range` goes into the dump. Called
    /// once for each range the [`Profile`](super::Profile) plans (each stack, TEB, the PEB,
    /// the process parameters and each of their strings, the environment block, each window
    /// of referenced memory, each region), before the byte budget is applied. Where planned
    /// ranges overlap, the one planned first decides for the bytes they share (stacks, then
    /// the TEBs and the PEB, the parameters, the environment block, referenced memory,
    /// regions): a range left out stays out of those planned after it. Default:
    /// [`Keep::Bytes`].
    fn keep(&self, range: &MemoryRange<'_>) -> Keep {
        let _ = range;
        Keep::Bytes
    }

    /// Write time: the bytes of kept memory at `address`, read from the VA clone and about to
    /// be written; change any of them in place. Called for every chunk (at most 64 KiB, never
    /// across a 64 KiB boundary of the address space) of every range kept with
    /// [`Keep::Bytes`], in address order within a range. Default: nothing.
    fn scrub(&self, range: &MemoryRange<'_>, address: usize, bytes: &mut [u8]) {
        let _ = (range, address, bytes);
    }
}

impl<R: Redaction + ?Sized> Redaction for &R {
    fn keep(&self, range: &MemoryRange<'_>) -> Keep {
        (**self).keep(range)
    }

    fn scrub(&self, range: &MemoryRange<'_>, address: usize, bytes: &mut [u8]) {
        (**self).scrub(range, address, bytes);
    }
}

/// Two policies at once: a range is kept as the stricter of the two says
/// ([`Keep::Nothing`] over [`Keep::Zeros`] over [`Keep::Bytes`]), and both scrub, the first
/// first.
impl<A: Redaction, B: Redaction> Redaction for (A, B) {
    fn keep(&self, range: &MemoryRange<'_>) -> Keep {
        self.0.keep(range).stricter(self.1.keep(range))
    }

    fn scrub(&self, range: &MemoryRange<'_>, address: usize, bytes: &mut [u8]) {
        self.0.scrub(range, address, bytes);
        self.1.scrub(range, address, bytes);
    }
}

/// What [`Redaction::keep`] decides for a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Keep {
    /// Its bytes, as read from the VA clone (and [scrubbed](Redaction::scrub)).
    Bytes,
    /// Zeros in its place: the memory lists still name the range, with zeros for its bytes,
    /// and the header flags nothing (only the caller knows they are not the process's bytes).
    Zeros,
    /// Left out of the memory lists, as if the process had no memory there (the memory info
    /// list still describes the region), and named in the summary
    /// ([`Omission::Redacted`](super::Omission::Redacted)).
    Nothing,
}

impl Keep {
    fn stricter(self, other: Keep) -> Keep {
        match (self, other) {
            (Keep::Nothing, _) | (_, Keep::Nothing) => Keep::Nothing,
            (Keep::Zeros, _) | (_, Keep::Zeros) => Keep::Zeros,
            _ => Keep::Bytes,
        }
    }
}

/// What a planned range of memory is: why the profile put it in the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryContent {
    /// A thread's stack, from its stack pointer up (at most
    /// [`stack_limit`](super::DumpWriter::stack_limit)), as the thread list points at it.
    Stack {
        /// The thread.
        thread_id: u32,
    },
    /// A thread's TEB (two pages at most).
    ThreadEnvironment {
        /// The thread.
        thread_id: u32,
    },
    /// The PEB (one page at most).
    ProcessEnvironment,
    /// The process parameters the PEB points to (`RTL_USER_PROCESS_PARAMETERS`), and each of
    /// their strings: the command line, image path, current directory, DLL path, window title
    /// and desktop.
    ProcessParameters,
    /// The environment block the process parameters point to (`NAME=VALUE` strings). It often
    /// holds secrets: [`ModuleAllowList`] leaves it out.
    EnvironmentBlock,
    /// A window around an address a register or a stack word holds
    /// ([`Profile::Referenced`](super::Profile::Referenced)).
    Referenced,
    /// A whole region ([`Profile::Plus`](super::Profile::Plus),
    /// [`Profile::Full`](super::Profile::Full)).
    Region,
}

/// A range of memory the dump plans to hold, as a [`Redaction`] policy sees it: where, what,
/// the region it lies in, and what else the dump knows about the address space (modules,
/// stacks, environment blocks).
#[derive(Clone, Copy)]
pub struct MemoryRange<'p> {
    /// Its first address.
    pub address: usize,
    /// Its size in bytes.
    pub size: usize,
    /// Why the profile planned it.
    pub content: MemoryContent,
    /// The region of the address space it lies in.
    pub region: &'p MemoryRegion,
    pub(super) map: &'p AddressMap,
}

impl core::fmt::Debug for MemoryRange<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryRange")
            .field("address", &format_args!("{:#x}", self.address))
            .field("size", &format_args!("{:#x}", self.size))
            .field("content", &self.content)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl<'p> MemoryRange<'p> {
    /// The module whose image holds the range, if any.
    pub fn module(&self) -> Option<DumpModule<'p>> {
        self.map.module_at(self.address)
    }

    /// The module whose image holds `address`, if any.
    pub fn module_at(&self, address: usize) -> Option<DumpModule<'p>> {
        self.map.module_at(address)
    }

    /// The thread whose stack region (the region holding its stack pointer) holds `address`.
    pub fn stack_at(&self, address: usize) -> Option<u32> {
        self.map.stack_at(address)
    }

    /// Whether the range's region holds a thread's stack, a TEB, the PEB or the process
    /// parameters: the memory a debugger needs to walk threads and find modules and the
    /// command line, whatever else the region holds.
    pub fn holds_thread_state(&self) -> bool {
        self.map.holds_thread_state(self.region)
    }
}

/// A module of the dump, as [`MemoryRange::module`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct DumpModule<'p> {
    /// Its base address.
    pub base: usize,
    /// The bytes its image covers.
    pub size: usize,
    name: &'p [u16],
}

impl<'p> DumpModule<'p> {
    /// Its name as the dump's module list has it: the loader's DOS path, else the NT path of
    /// its mapped file.
    pub fn name(&self) -> WideStr<'p> {
        WideStr::from_utf16(self.name)
    }

    /// Whether `name` names it: its whole path or its file name (the part after the last `\`
    /// or `/`), ignoring ASCII case (`"kernel32.dll"`, `r"C:\Windows\System32\KERNEL32.DLL"`).
    pub fn is_named(&self, name: &str) -> bool {
        let file = match self
            .name
            .iter()
            .rposition(|&u| u == u16::from(b'\\') || u == u16::from(b'/'))
        {
            Some(at) => &self.name[at + 1..],
            None => self.name,
        };
        eq_ignore_ascii_case(self.name, name) || eq_ignore_ascii_case(file, name)
    }
}

fn eq_ignore_ascii_case(units: &[u16], name: &str) -> bool {
    let lower = |u: u16| {
        if (u16::from(b'A')..=u16::from(b'Z')).contains(&u) {
            u + 32
        } else {
            u
        }
    };
    let mut theirs = name.encode_utf16();
    units
        .iter()
        .all(|&u| theirs.next().map(lower) == Some(lower(u)))
        && theirs.next().is_none()
}

/// What the dump knows of the address space, for policies: images, stack regions, environment
/// blocks. Sorted, searched by address.
#[derive(Debug, Default)]
pub(super) struct AddressMap {
    /// (base, end, name) of each module, by base.
    pub modules: Vec<(usize, usize, Vec<u16>)>,
    /// (start, end, thread id) of each thread's stack region, by start.
    pub stacks: Vec<(usize, usize, u32)>,
    /// Addresses of the TEBs, the PEB and the process parameters, sorted.
    pub environment: Vec<usize>,
}

impl AddressMap {
    pub(super) fn sort(&mut self) {
        self.modules.sort_by_key(|m| m.0);
        self.stacks.sort_by_key(|s| s.0);
        self.environment.sort_unstable();
    }

    fn module_at(&self, address: usize) -> Option<DumpModule<'_>> {
        let i = self
            .modules
            .partition_point(|m| m.0 <= address)
            .checked_sub(1)?;
        let (base, end, name) = &self.modules[i];
        (address < *end).then_some(DumpModule {
            base: *base,
            size: end - base,
            name,
        })
    }

    pub(super) fn stack_at(&self, address: usize) -> Option<u32> {
        let i = self
            .stacks
            .partition_point(|s| s.0 <= address)
            .checked_sub(1)?;
        let (_, end, thread) = self.stacks[i];
        (address < end).then_some(thread)
    }

    /// Whether `[start, end)` overlaps a stack region.
    pub(super) fn overlaps_stack(&self, start: usize, end: usize) -> bool {
        let i = self.stacks.partition_point(|s| s.1 <= start);
        self.stacks.get(i).is_some_and(|s| s.0 < end)
    }

    /// Whether `[start, end)` holds a TEB or the PEB.
    pub(super) fn holds_environment(&self, start: usize, end: usize) -> bool {
        let i = self.environment.partition_point(|&a| a < start);
        self.environment.get(i).is_some_and(|&a| a < end)
    }

    fn holds_thread_state(&self, region: &MemoryRegion) -> bool {
        let (start, end) = (
            region.base_address,
            region.base_address.saturating_add(region.region_size),
        );
        self.holds_environment(start, end) || self.overlaps_stack(start, end)
    }
}

/// Stack scrubbing, as crashpad's sanitisation and minidump-writer's `sanitize_stack` do on
/// Linux: in every thread's stack region, each pointer-sized, aligned word that points into a
/// module's image or into a thread's stack is kept, and every other word becomes zero.
///
/// Return addresses (into images) and saved frame pointers (into the stack) survive, so stack
/// walkers still find every frame, by frame pointers or by scanning for return addresses;
/// locals, arguments and spilled registers holding data (keys, passwords, buffers) do not.
/// Applies to stack memory wherever the dump holds it: the stacks of the thread list, and the
/// stack regions of a [`Plus`](super::Profile::Plus) or [`Full`](super::Profile::Full) dump,
/// below the stack pointer too. Nothing is left out: ranges are kept as planned.
///
/// Unlike crashpad, small integers are zeroed too (crashpad keeps words below 4,096 and
/// writes `0x0defaced` over the others): a zero is what a reader sees for memory that held
/// nothing, and a PIN or a length is data.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackScrubbing;

impl Redaction for StackScrubbing {
    fn scrub(&self, range: &MemoryRange<'_>, address: usize, bytes: &mut [u8]) {
        let map = range.map;
        let end = address.saturating_add(bytes.len());
        if !map.overlaps_stack(address, end) {
            return;
        }
        const WORD: usize = size_of::<usize>();
        // Bytes before the first aligned word and after the last belong to words this chunk
        // holds only part of: zero them where they lie in a stack.
        let head = address
            .checked_next_multiple_of(WORD)
            .map_or(bytes.len(), |aligned| aligned - address)
            .min(bytes.len());
        let words = (bytes.len() - head) / WORD;
        let tail = head + words * WORD;
        for i in (0..head).chain(tail..bytes.len()) {
            if map.stack_at(address.wrapping_add(i)).is_some() {
                bytes[i] = 0;
            }
        }
        for (i, word) in bytes[head..tail].chunks_exact_mut(WORD).enumerate() {
            let at = address.wrapping_add(head + i * WORD);
            if map.stack_at(at).is_none() {
                continue;
            }
            let value = usize::from_le_bytes(word.try_into().unwrap_or([0; WORD]));
            if map.module_at(value).is_none() && map.stack_at(value).is_none() {
                word.fill(0);
            }
        }
    }
}

/// Keeps the memory of only the modules a caller names, and the thread and process state:
/// every thread's stack, the TEBs, the PEB and the process parameters with their strings (the
/// command line among them) (and, in [`Plus`](super::Profile::Plus) and
/// [`Full`](super::Profile::Full) dumps, the regions holding them). Everything else (heaps,
/// other modules' pages, mapped files, referenced memory outside those, and the environment
/// block, even inside a region it keeps) is left out ([`Keep::Nothing`]).
///
/// A module is named by its file name or its whole path, ignoring ASCII case
/// ([`DumpModule::is_named`]). Modules left out stay in the module list (readers load their
/// code from the module files); their data (globals, a data section's secrets) is not in the
/// dump. Combine it with [`StackScrubbing`] (`(StackScrubbing, allow_list)`) to clear the
/// stacks of data too.
#[derive(Debug, Clone, Default)]
pub struct ModuleAllowList {
    names: Vec<String>,
}

impl ModuleAllowList {
    /// Keeps the memory of the modules named in `names` (file names or paths).
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            names: names.into_iter().map(Into::into).collect(),
        }
    }
}

impl Redaction for ModuleAllowList {
    fn keep(&self, range: &MemoryRange<'_>) -> Keep {
        match range.content {
            MemoryContent::Stack { .. }
            | MemoryContent::ThreadEnvironment { .. }
            | MemoryContent::ProcessEnvironment
            | MemoryContent::ProcessParameters => Keep::Bytes,
            MemoryContent::EnvironmentBlock => Keep::Nothing,
            _ if range.holds_thread_state() => Keep::Bytes,
            _ => match range.module() {
                Some(module) if self.names.iter().any(|n| module.is_named(n)) => Keep::Bytes,
                _ => Keep::Nothing,
            },
        }
    }
}
