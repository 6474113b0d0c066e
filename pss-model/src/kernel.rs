//! The model's state: one table of every object ever issued, the process table, VA-clone
//! lifetimes, per-thread call counters, and the loud misuse report.
//!
//! Values are never reused, so a freed snapshot, marker or handle stays known as freed and a
//! second free or a late use is caught exactly.

use super::capture::Captured;
use super::data::ProcessData;
use pss_sys::HANDLE;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// The pid the model gives the calling (current) process.
pub const CURRENT_PID: u32 = 0x1A4;
/// `GetCurrentProcess()`'s pseudo handle, `(HANDLE)-1`.
pub const CURRENT_PROCESS: usize = usize::MAX;
/// The module handle `GetModuleHandleW("kernel32.dll")` returns.
pub const KERNEL32: usize = 0x7FF8_0000;
/// The access a VA clone handle has, as ntdll opens it: `PROCESS_QUERY_INFORMATION |
/// PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ | PROCESS_VM_OPERATION`, no
/// `PROCESS_TERMINATE` (ND).
pub const VA_CLONE_ACCESS: u32 = 0x1418;

const SNAPSHOT_BASE: usize = 0x5500_0000;
const MARKER_BASE: usize = 0x6600_0000;
const HANDLE_BASE: usize = 0x100;

/// What a kernel handle in the current process refers to.
#[derive(Clone, Debug)]
pub enum HandleObject {
    /// A process, by pid.
    Process(u32),
    /// A snapshot's VA clone process: owned by that snapshot, closed when it is freed.
    VaClone { pid: u32 },
    /// A snapshot's handle-trace section: owned by that snapshot, closed when it is freed.
    TraceSection,
    /// A named mutex (`CreateMutexA`), by name.
    Mutex { name: String },
    /// A file on the host's disk (see `model::create_file`), for `MiniDumpWriteDump`.
    File {
        path: std::path::PathBuf,
        writable: bool,
    },
}

#[derive(Debug)]
pub struct KernelHandle {
    pub object: HandleObject,
    pub access: u32,
    pub owner: ThreadId,
}

#[derive(Debug)]
pub struct Snapshot {
    /// The process whose context holds this descriptor.
    pub context: u32,
    pub flags: u32,
    /// ntdll's descriptor flag 1 without flag 2: the descriptor and everything it points to
    /// were allocated with `ZwAllocateVirtualMemory`, so a remote free can release them:
    /// captured with `PSS_CREATE_USE_VM_ALLOCATIONS`, or a duplicate (ntdll rewrites a copy's
    /// flags to `& ~7 | 1` and puts its auxiliary-page array inside the descriptor). Otherwise
    /// a remote free refuses with `ERROR_NOT_SUPPORTED` (flag 2, an auxiliary-page array on the
    /// process heap, is shown; that kernel32 allocates a heap descriptor itself, leaving flag 1
    /// clear, is inferred from the documented rule).
    pub vm_descriptor: bool,
    pub data: std::sync::Arc<Captured>,
    /// The VA clone process this descriptor holds a handle to (in its context's handle table):
    /// every descriptor, original or duplicate, local or remote, holds its own.
    pub clone_pid: Option<u32>,
    /// That handle's value, when the descriptor lives in this process.
    pub va_clone: Option<usize>,
    /// The trace-section handle, when the descriptor lives in this process and has one.
    pub trace_section: Option<usize>,
    pub owner: ThreadId,
}

#[derive(Debug)]
pub enum Object {
    Snapshot(Snapshot),
    Marker(super::walk::Marker),
    /// A marker taken out of the table by a call that runs allocator callbacks (without the
    /// lock held); it goes back when that call ends.
    MarkerInUse {
        call: &'static str,
    },
    Handle(KernelHandle),
    /// Freed: what it was and which call freed it.
    Freed {
        kind: &'static str,
        by: &'static str,
    },
}

/// Live objects of one thread or one process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Live {
    /// Snapshot descriptors not yet freed.
    pub snapshots: usize,
    /// Walk markers not yet freed.
    pub markers: usize,
    /// Kernel handles not yet closed (VA clone and trace-section handles count with their
    /// snapshot, not here).
    pub handles: usize,
}

/// Something a call reported as freed but left behind in a process, as Windows does when a
/// remote free lacks rights (its `ZwDuplicateObject` and `ZwFreeVirtualMemory` results are
/// ignored): what [`crate::leaks`] reports for the thread that owned it.
#[derive(Debug)]
pub struct Stranded {
    pub owner: ThreadId,
    /// The process it was left in.
    pub pid: u32,
    /// A descriptor (counted by `live_in(pid)`), not only its handles.
    pub descriptor: bool,
    /// The VA clone a handle left open keeps alive.
    pub clone: Option<u32>,
    pub what: String,
}

#[derive(Default)]
pub struct Kernel {
    /// Leaks of remote frees that reported success.
    pub stranded: Vec<Stranded>,
    pub objects: HashMap<usize, Object>,
    pub processes: BTreeMap<u32, ProcessData>,
    /// VA clone processes, with how many references (snapshot descriptors, process handles)
    /// keep each alive. A clone leaves the process table with its last reference.
    pub clones: HashMap<u32, usize>,
    pub calls: HashMap<ThreadId, BTreeMap<&'static str, u64>>,
    next_snapshot: usize,
    next_marker: usize,
    next_handle: usize,
    pub next_pid: u32,
    /// `set_pss_absent`: kernel32 exports no PSS function.
    pub pss_absent: bool,
}

static KERNEL: LazyLock<Mutex<Kernel>> = LazyLock::new(|| {
    let mut kernel = Kernel {
        next_pid: 0x2000,
        ..Kernel::default()
    };
    kernel
        .processes
        .insert(CURRENT_PID, super::data::current_process());
    Mutex::new(kernel)
});

thread_local! {
    /// The PSS call whose allocator callback this thread is running, if any.
    static IN_CALLBACK: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Enters the model for `call`: counts the call for this thread and locks the state.
pub fn enter(call: &'static str) -> Entered {
    let mut kernel = lock();
    *kernel
        .calls
        .entry(std::thread::current().id())
        .or_default()
        .entry(call)
        .or_default() += 1;
    Entered { kernel, call }
}

/// Enters the model for the PSS function `call`. A PSS call from inside an allocator callback
/// is misuse: it re-enters the walk-marker code that is running the callback. (Other kernel32
/// calls from a callback are served: callbacks run without the model's lock.)
pub fn enter_pss(call: &'static str) -> Entered {
    if let Some(outer) = IN_CALLBACK.with(|c| c.get()) {
        misuse(
            call,
            format!(
                "called from inside {outer}'s allocator callback (a callback must not call PSS)"
            ),
        );
    }
    let entered = enter(call);
    if entered.kernel.pss_absent {
        misuse(
            call,
            "kernel32 has no PSS here (set_pss_absent): Windows before 8.1 fails to load, Wine aborts",
        );
    }
    entered
}

/// Marks this thread as running an allocator callback of `call` while it lives. The model's
/// lock is not held meanwhile.
pub struct InCallback(Option<&'static str>);

pub fn in_callback(call: &'static str) -> InCallback {
    InCallback(IN_CALLBACK.with(|c| c.replace(Some(call))))
}

impl Drop for InCallback {
    fn drop(&mut self) {
        IN_CALLBACK.with(|c| c.set(self.0));
    }
}

/// The locked kernel for one exported call.
pub struct Entered {
    kernel: MutexGuard<'static, Kernel>,
    pub call: &'static str,
}

impl Entered {
    pub fn k(&mut self) -> &mut Kernel {
        &mut self.kernel
    }
}

/// The state, for the model's own Rust API (not counted as a kernel32 call).
pub fn lock() -> MutexGuard<'static, Kernel> {
    KERNEL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reports misuse of the API and aborts the process: a double free, a use after free, a free in
/// the wrong process context, and the like. Undefined behaviour on Windows; loud here.
pub fn misuse(call: &str, what: impl std::fmt::Display) -> ! {
    eprintln!("pss-tests model: misuse in {call}: {what}");
    std::process::abort()
}

pub fn handle(value: usize) -> HANDLE {
    std::ptr::without_provenance_mut(value)
}

impl Kernel {
    pub fn issue_snapshot(&mut self, snapshot: Snapshot) -> usize {
        if let Some(pid) = snapshot.clone_pid {
            self.hold_clone(pid);
        }
        self.next_snapshot += 1;
        let value = SNAPSHOT_BASE + self.next_snapshot * 16;
        self.objects.insert(value, Object::Snapshot(snapshot));
        value
    }

    pub fn issue_marker(&mut self, marker: super::walk::Marker) -> usize {
        self.next_marker += 1;
        let value = MARKER_BASE + self.next_marker * 16;
        self.objects.insert(value, Object::Marker(marker));
        value
    }

    pub fn issue_handle(&mut self, handle: KernelHandle) -> usize {
        if let HandleObject::Process(pid) = handle.object {
            if self.clones.contains_key(&pid) {
                self.hold_clone(pid);
            }
        }
        self.next_handle += 1;
        let value = HANDLE_BASE + self.next_handle * 4;
        self.objects.insert(value, Object::Handle(handle));
        value
    }

    /// Adds `data` to the process table as a new VA clone process (no references yet).
    pub fn create_clone(&mut self, mut data: ProcessData) -> u32 {
        let pid = self.next_pid;
        self.next_pid += 4;
        data.info.pid = pid;
        self.processes.insert(pid, data);
        self.clones.insert(pid, 0);
        pid
    }

    fn hold_clone(&mut self, pid: u32) {
        *self.clones.get_mut(&pid).expect("a VA clone") += 1;
    }

    /// Drops one reference to `pid` if it is a VA clone; the last one ends the clone process.
    fn release_clone(&mut self, pid: u32) {
        if let Some(refs) = self.clones.get_mut(&pid) {
            *refs -= 1;
            if *refs == 0 {
                self.clones.remove(&pid);
                self.processes.remove(&pid);
            }
        }
    }

    /// Marks `value` freed by `call`, returning what it was. A snapshot takes its own handles
    /// (VA clone, trace section) with it, and every reference to a VA clone is released.
    pub fn retire(
        &mut self,
        value: usize,
        kind: &'static str,
        call: &'static str,
    ) -> Option<Object> {
        let old = self.objects.insert(value, Object::Freed { kind, by: call });
        match &old {
            Some(Object::Snapshot(s)) => {
                for h in [s.va_clone, s.trace_section].into_iter().flatten() {
                    self.objects.insert(
                        h,
                        Object::Freed {
                            kind: "handle",
                            by: call,
                        },
                    );
                }
                if let Some(pid) = s.clone_pid {
                    self.release_clone(pid);
                }
            }
            Some(Object::Handle(KernelHandle {
                object: HandleObject::Process(pid),
                ..
            })) => self.release_clone(*pid),
            _ => {}
        }
        old
    }

    /// A remote free that Windows reports as successful: the snapshot `value` is gone for the
    /// caller, but without `PROCESS_DUP_HANDLE` its handles stay open in the process (its VA
    /// clone lives on), and without `PROCESS_VM_OPERATION` its descriptor stays in the
    /// process's memory; both are recorded as [`Stranded`].
    pub fn retire_remote(
        &mut self,
        value: usize,
        call: &'static str,
        closes_handles: bool,
        frees_memory: bool,
    ) {
        let Some(Object::Snapshot(s)) = self.objects.get(&value) else {
            unreachable!("checked by the caller")
        };
        let (pid, owner, clone_pid) = (s.context, s.owner, s.clone_pid);
        let holds_handles = s.data.holds_kernel_handles();
        if !closes_handles && holds_handles {
            if let Some(clone) = clone_pid {
                self.hold_clone(clone); // the handle in the process keeps the clone alive
            }
            self.stranded.push(Stranded {
                owner,
                pid,
                descriptor: false,
                clone: clone_pid,
                what: format!(
                    "the handles of HPSS {value:#x} (sections{}) left open in process {pid:#x}: {call} had no PROCESS_DUP_HANDLE and reported success",
                    clone_pid.map_or(String::new(), |c| format!(", VA clone {c:#x}"))
                ),
            });
        }
        if !frees_memory {
            self.stranded.push(Stranded {
                owner,
                pid,
                descriptor: true,
                clone: None,
                what: format!(
                    "HPSS {value:#x} left in process {pid:#x}'s memory: {call} had no PROCESS_VM_OPERATION and reported success"
                ),
            });
        }
        self.retire(value, "snapshot", call);
    }

    /// Process `pid` is gone: what was stranded in it goes with it (its handles close, its
    /// memory is released).
    pub fn release_stranded_in(&mut self, pid: u32) {
        let (gone, kept): (Vec<Stranded>, Vec<Stranded>) = std::mem::take(&mut self.stranded)
            .into_iter()
            .partition(|s| s.pid == pid);
        self.stranded = kept;
        for clone in gone.into_iter().filter_map(|s| s.clone) {
            self.release_clone(clone);
        }
    }

    /// The captured data of the live snapshot `value` (checked by the caller).
    pub fn snapshot_data(&self, value: usize) -> std::sync::Arc<Captured> {
        match self.objects.get(&value) {
            Some(Object::Snapshot(s)) => s.data.clone(),
            _ => unreachable!("checked by the caller"),
        }
    }

    /// The snapshot behind `value` for `call`: `Err(ERROR_INVALID_HANDLE)` for NULL (what
    /// ntdll checks); misuse for a freed descriptor or a value never issued (ntdll raises
    /// `STATUS_INVALID_HANDLE` or reads garbage there, never returning a code).
    pub fn snapshot(&mut self, call: &'static str, value: usize) -> Result<&mut Snapshot, u32> {
        if value == 0 {
            return Err(pss_sys::ERROR_INVALID_HANDLE);
        }
        match self.objects.get_mut(&value) {
            Some(Object::Snapshot(s)) => Ok(s),
            Some(Object::Freed {
                kind: "snapshot",
                by,
            }) => misuse(
                call,
                format!("HPSS {value:#x} was already freed by {by} (use after free / double free)"),
            ),
            _ => misuse(
                call,
                format!(
                    "{value:#x} is not an HPSS (Windows raises STATUS_INVALID_HANDLE or reads garbage; only NULL gives ERROR_INVALID_HANDLE)"
                ),
            ),
        }
    }

    /// Takes the marker behind `value` out of the table for `call`, which puts it back with
    /// [`put_marker`](Self::put_marker) (or retires it); misuse for anything else.
    pub fn take_marker(&mut self, call: &'static str, value: usize) -> super::walk::Marker {
        // Replaced in place, never inserted: an insert may grow the table, which would make the
        // model's own allocations depend on how many objects exist (tests count allocations).
        let slot = self.objects.get_mut(&value);
        if let Some(slot @ Object::Marker(_)) = slot {
            let Object::Marker(m) = std::mem::replace(slot, Object::MarkerInUse { call }) else {
                unreachable!()
            };
            return m;
        }
        let what = match slot {
            Some(Object::Freed { kind: "marker", by }) => format!(
                "HPSSWALK {value:#x} was already freed by {by} (use after free / double free)"
            ),
            Some(Object::MarkerInUse { call: busy }) => format!(
                "HPSSWALK {value:#x} is in use by {busy} (the same marker used by two calls at once)"
            ),
            _ => format!("{value:#x} is not a walk marker"),
        };
        misuse(call, what)
    }

    pub fn put_marker(&mut self, value: usize, marker: super::walk::Marker) {
        let slot = self.objects.get_mut(&value).expect("taken by take_marker");
        *slot = Object::Marker(marker);
    }

    /// Resolves a process handle to (pid, granted access). The pseudo handle has all access; a
    /// snapshot's VA clone handle is a handle to the clone process (borrowed from the snapshot).
    pub fn process_handle(&self, call: &'static str, value: usize) -> Result<(u32, u32), u32> {
        if value == CURRENT_PROCESS {
            return Ok((CURRENT_PID, pss_sys::PROCESS_ALL_ACCESS));
        }
        match self.objects.get(&value) {
            Some(Object::Handle(KernelHandle {
                object: HandleObject::Process(pid) | HandleObject::VaClone { pid },
                access,
                ..
            })) => {
                if self.processes.contains_key(pid) {
                    Ok((*pid, *access))
                } else {
                    Err(pss_sys::ERROR_INVALID_HANDLE)
                }
            }
            Some(Object::Freed { kind: "handle", by }) => misuse(
                call,
                format!("process handle {value:#x} was already closed by {by}"),
            ),
            Some(Object::Snapshot(_)) => {
                misuse(call, format!("{value:#x} is an HPSS, not a process handle"))
            }
            _ => Err(pss_sys::ERROR_INVALID_HANDLE),
        }
    }

    pub fn live_for(&self, owner: ThreadId) -> Live {
        let mut live = Live::default();
        for object in self.objects.values() {
            match object {
                Object::Snapshot(s) if s.owner == owner => live.snapshots += 1,
                Object::Marker(m) if m.owner == owner => live.markers += 1,
                Object::Handle(KernelHandle {
                    object: HandleObject::Process(_) | HandleObject::File { .. },
                    owner: o,
                    ..
                }) if *o == owner => live.handles += 1,
                _ => {}
            }
        }
        live
    }

    pub fn live_in(&self, pid: u32) -> Live {
        let mut live = Live {
            snapshots: self
                .stranded
                .iter()
                .filter(|s| s.descriptor && s.pid == pid)
                .count(),
            ..Live::default()
        };
        for object in self.objects.values() {
            match object {
                Object::Snapshot(s) if s.context == pid => live.snapshots += 1,
                Object::Marker(_) if pid == CURRENT_PID => live.markers += 1,
                Object::Handle(KernelHandle {
                    object: HandleObject::Process(_) | HandleObject::File { .. },
                    ..
                }) if pid == CURRENT_PID => live.handles += 1,
                _ => {}
            }
        }
        live
    }
}
