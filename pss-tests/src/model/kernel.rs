//! The model's state: one table of every object ever issued, per-thread call counters, and the
//! loud misuse report.
//!
//! Values are never reused, so a freed snapshot, marker or handle stays known as freed and a
//! second free or a late use is caught exactly.

use super::data::{Captured, ProcessData};
use pss_sys::HANDLE;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// The pid the model gives the calling (current) process.
pub const CURRENT_PID: u32 = 0x1A4;
/// `GetCurrentProcess()`'s pseudo handle, `(HANDLE)-1`.
pub const CURRENT_PROCESS: usize = usize::MAX;
/// The value written to `*SnapshotHandle` when capture or duplicate fails: any later use of it
/// is reported as misuse (the documents say nothing about the out-parameter on failure).
pub const FAILED_HPSS: usize = 0x00BA_D055;
/// The module handle `GetModuleHandleW("kernel32.dll")` returns.
pub const KERNEL32: usize = 0x7FF8_0000;

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
    pub vm_allocated: bool,
    /// Created in another process's context by PssDuplicateSnapshot.
    pub duplicated_remotely: bool,
    pub data: std::sync::Arc<Captured>,
    /// VA clone and trace section handles this snapshot owns in the current process.
    pub va_clone: Option<usize>,
    pub trace_section: Option<usize>,
    pub owner: ThreadId,
}

#[derive(Debug)]
pub enum Object {
    Snapshot(Snapshot),
    Marker(super::walk::Marker),
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

#[derive(Default)]
pub struct Kernel {
    pub objects: HashMap<usize, Object>,
    pub processes: BTreeMap<u32, ProcessData>,
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
    static INSIDE: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Enters the model for `call`: counts the call for this thread and locks the state. A call
/// made while another model call is in progress on this thread (from an allocator callback) is
/// reported as misuse: a PSS call there re-enters the walk-marker code that is running the
/// callback, and the model, which runs callbacks with its state locked, cannot serve any call.
pub fn enter(call: &'static str) -> Entered {
    if let Some(outer) = INSIDE.with(|i| i.get()) {
        misuse(
            call,
            format!("called from inside {outer} (an allocator callback must not call PSS)"),
        );
    }
    INSIDE.with(|i| i.set(Some(call)));
    let mut kernel = lock();
    *kernel
        .calls
        .entry(std::thread::current().id())
        .or_default()
        .entry(call)
        .or_default() += 1;
    Entered { kernel, call }
}

/// The locked kernel for one exported call. Allocator callbacks run with it held: the
/// re-entrancy check in [`enter`] turns a PSS call from a callback into a misuse report
/// instead of a deadlock.
pub struct Entered {
    kernel: MutexGuard<'static, Kernel>,
    pub call: &'static str,
}

impl Entered {
    pub fn k(&mut self) -> &mut Kernel {
        &mut self.kernel
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        INSIDE.with(|i| i.set(None));
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
        self.next_handle += 1;
        let value = HANDLE_BASE + self.next_handle * 4;
        self.objects.insert(value, Object::Handle(handle));
        value
    }

    /// Marks `value` freed by `call`, returning what it was.
    pub fn retire(
        &mut self,
        value: usize,
        kind: &'static str,
        call: &'static str,
    ) -> Option<Object> {
        self.objects.insert(value, Object::Freed { kind, by: call })
    }

    /// The snapshot behind `value` for `call`: `Err(ERROR_INVALID_HANDLE)` for a value never
    /// issued; misuse for a freed one or the value a failed call wrote.
    pub fn snapshot(&mut self, call: &'static str, value: usize) -> Result<&mut Snapshot, u32> {
        self.check_not_failed(call, value, "HPSS");
        match self.objects.get_mut(&value) {
            Some(Object::Snapshot(s)) => Ok(s),
            Some(Object::Freed {
                kind: "snapshot",
                by,
            }) => misuse(
                call,
                format!("HPSS {value:#x} was already freed by {by} (use after free / double free)"),
            ),
            _ => Err(pss_sys::ERROR_INVALID_HANDLE),
        }
    }

    pub fn marker(&mut self, call: &'static str, value: usize) -> &mut super::walk::Marker {
        match self.objects.get_mut(&value) {
            Some(Object::Marker(m)) => m,
            Some(Object::Freed { kind: "marker", by }) => misuse(
                call,
                format!(
                    "HPSSWALK {value:#x} was already freed by {by} (use after free / double free)"
                ),
            ),
            _ => misuse(call, format!("{value:#x} is not a walk marker")),
        }
    }

    /// Resolves a process handle to (pid, granted access). The pseudo handle has all access; a
    /// snapshot's VA clone handle is a handle to the clone process (borrowed from the snapshot).
    pub fn process_handle(&self, call: &'static str, value: usize) -> Result<(u32, u32), u32> {
        self.check_not_failed(call, value, "HANDLE");
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

    fn check_not_failed(&self, call: &'static str, value: usize, what: &str) {
        if value == FAILED_HPSS {
            misuse(
                call,
                format!(
                    "{what} {value:#x} is the value a failed PssCaptureSnapshot/PssDuplicateSnapshot left in its out-parameter"
                ),
            );
        }
    }

    pub fn live_for(&self, owner: ThreadId) -> Live {
        let mut live = Live::default();
        for object in self.objects.values() {
            match object {
                Object::Snapshot(s) if s.owner == owner => live.snapshots += 1,
                Object::Marker(m) if m.owner == owner => live.markers += 1,
                Object::Handle(KernelHandle {
                    object: HandleObject::Process(_),
                    owner: o,
                    ..
                }) if *o == owner => live.handles += 1,
                _ => {}
            }
        }
        live
    }

    pub fn live_in(&self, pid: u32) -> Live {
        let mut live = Live::default();
        for object in self.objects.values() {
            match object {
                Object::Snapshot(s) if s.context == pid => live.snapshots += 1,
                Object::Marker(_) if pid == CURRENT_PID => live.markers += 1,
                Object::Handle(KernelHandle {
                    object: HandleObject::Process(_),
                    ..
                }) if pid == CURRENT_PID => live.handles += 1,
                _ => {}
            }
        }
        live
    }
}
