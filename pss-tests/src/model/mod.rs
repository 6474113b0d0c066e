//! A model of kernel32's Process Snapshotting API, for hosts that are not Windows.
//!
//! `pss-sys` declares kernel32's functions as `extern "system"` items; this module defines every
//! one of them with `#[unsafe(no_mangle)]` (in `exports.rs`), so unchanged `pss` code links against
//! it. It follows `PSS-CONTRACT.md` and Microsoft's pages, answers from real state (no canned
//! replies), and is loud about misuse: a double free, a use after free, a free through the wrong
//! process, a snapshot handle given to `CloseHandle` and the like print
//! `pss-tests model: misuse in <Call>: ...` and abort the process.
//!
//! # What it holds
//!
//! - A process table: the current process ([`CURRENT_PID`], pseudo handle `-1`; two threads,
//!   four handles, its image, a mapped file, one auxiliary page) and processes a test creates
//!   with [`ProcessSpec`].
//! - Kernel handles of the current process, with granted access: `OpenProcess` grants only
//!   what the target's [`ProcessSpec::grantable`] allows.
//! - Snapshots living in one process's context, each a copy of exactly what its flags asked for;
//!   walk markers with opaque positions that own the memory every entry pointer points into.
//! - Per-thread call counters ([`calls`]) and per-thread and per-process live-object counts
//!   ([`live`], [`live_in`], [`leaks`]). libtest runs each test on its own thread, so
//!   a test sees only its own calls and objects even though all share the current process.
//!
//! # Where the documents are silent
//!
//! The model picks the strictest plausible behaviour. Every such choice, so each can be checked
//! against real Windows; the test that pins it is in `pss-tests/tests/`.
//!
//! | behaviour | reason | contract | pinned by |
//! |---|---|---|---|
//! | On failure, capture and duplicate write the poison value `0x00BAD055` to the out-parameter; any later use of it is misuse | the out-parameter's state on failure is unstated: only read it after `ERROR_SUCCESS` | 3.1, 11.2 | `misuse::hpss_from_failed_capture_is_never_valid` |
//! | Capture fails with `ERROR_INVALID_PARAMETER` for reserved or unknown flag bits, section information without `VA_SPACE`, and `BREAKAWAY_OPTIONAL` without a breakaway flag | invalid combinations are named but their result is not | 7.1, 11.3 | `capture::invalid_flag_combinations_are_rejected` |
//! | `FORCE_BREAKAWAY` fails with `ERROR_PRIVILEGE_NOT_HELD` (no Tcb privilege here) | Tcb is documented as required; the code is not | 7.1, 11.3 | `capture::force_breakaway_needs_tcb_privilege` |
//! | Capture demands the rights [`capture_access`] derives from the flags, else `ERROR_ACCESS_DENIED` | only `PROCESS_VM_READ` for section information is documented | 3.1, 11.1 | `capture::capture_without_rights_is_access_denied` |
//! | A bad process handle gives `ERROR_INVALID_HANDLE` from capture | capture documents no failure codes | 3.1, 11.2 | `capture::invalid_process_handle_is_invalid_handle` |
//! | Process information is always captured, even with `PSS_CAPTURE_NONE` and for an exited process | unstated which flag provides it | 7.2, 11.4 | `capture::process_information_is_always_captured` |
//! | Auxiliary pages are captured with `PSS_CAPTURE_VA_CLONE` only | no flag is named for them | 7.2, 11.4 | `query::auxiliary_pages_come_with_va_clone` |
//! | Handle type (`HAVE_TYPE`, `TypeName`) is given with any handle-detail flag; names only with `HANDLE_NAME_INFORMATION` | no flag covers `TypeName` | 7.4 | `walk::handle_entry_flags_follow_capture_flags` |
//! | Query and walk accept only the exact structure size, else `ERROR_BAD_LENGTH` | larger buffers are not said to be accepted | 4, 11.5 | `query::buffer_length_must_be_exact`, `walk::buffer_length_must_be_exact` |
//! | A NULL query buffer of the right length gives `ERROR_INVALID_PARAMETER` | no NULL probe is documented for query | 4 | `query::null_buffer_is_invalid_parameter` |
//! | A misaligned buffer is misuse | C callers pass the structure itself | 4 | `misuse::misaligned_buffer_is_misuse` |
//! | The walk marker does not advance on `ERROR_MORE_DATA`, `ERROR_BAD_LENGTH` or any failure; after `ERROR_NO_MORE_ITEMS` it stays at the end | unstated | 3.5, 11.6 | `walk::failed_calls_do_not_advance_the_marker` |
//! | A marker serves one walk: using it for another snapshot or class is misuse | reuse across walks is unstated | 5, 11.7 | `misuse::marker_reused_for_another_class_is_misuse` |
//! | Positions are opaque and tied to their marker; another marker's position gives `ERROR_INVALID_PARAMETER` | the page promises error codes and lists none | 3.9, 11.14 | `marker::position_from_another_marker_is_rejected` |
//! | Entry memory lives until `PssWalkMarkerFree` (not invalidated by the next walk call), is poisoned with `0xDD` when freed | "valid for the lifetime of the walk marker" | 2.2, 11.8 | `walk::entry_pointers_live_as_long_as_the_marker` |
//! | Names are never NUL-terminated; `ImageFileName` that fills `MAX_PATH` has no terminator | termination is unstated | 8, 11.17 | `query::image_name_filling_the_buffer_has_no_terminator` |
//! | A custom allocator gets one `AllocRoutine` call at marker creation and one per entry that has variable-length data; free calls `FreeRoutine` for each, then once with NULL | which allocations happen is unstated; NULL must be accepted | 6 | `marker::custom_allocator_calls_are_counted_exactly` |
//! | `AllocRoutine` returning NULL gives `ERROR_NOT_ENOUGH_MEMORY` from create and walk | documented for create only | 3.6, 6 | `marker::allocator_failure_is_not_enough_memory`, `marker::allocator_failure_during_a_walk_is_not_enough_memory` |
//! | Freeing through a process that does not hold the snapshot is misuse | unstated | 3.3, 11.11 | `misuse::free_through_the_wrong_process_is_misuse` |
//! | A failed free leaves the snapshot live (still owned by the caller) | unstated | 3.3, 11.11 | `free::failed_free_leaves_the_snapshot_owned` |
//! | `PSS_DUPLICATE_CLOSE_SOURCE` without `PSS_CREATE_USE_VM_ALLOCATIONS` fails with `ERROR_NOT_SUPPORTED` and still frees the source | the code is unstated; "freed even if duplication fails" | 2.1, 11.10 | `duplicate::close_source_without_vm_allocations_fails_and_frees` |
//! | A snapshot not in the source process's context gives `ERROR_INVALID_HANDLE` from duplicate | which handle is invalid is unstated | 3.2, 11.11 | `duplicate::snapshot_outside_source_context_is_invalid_handle` |
//! | Missing process rights give `ERROR_ACCESS_DENIED` from duplicate and free | rights are documented, the failure code is not | 3.2, 3.3 | `duplicate::missing_rights_are_access_denied`, `free::remote_free_without_rights_is_access_denied` |
//! | Original and duplicate are independent: each must be freed | unstated | 2.1, 11.10 | `duplicate::duplicate_and_original_are_freed_independently` |
//! | The VA clone and trace-section handles belong to the snapshot: closing them is misuse; freeing the snapshot closes them | ownership is unstated | 2.1, 11.9 | `misuse::closing_the_va_clone_handle_is_misuse` |
//! | Querying or walking a snapshot that lives in another process is misuse | only handles in the caller's context are meaningful | 3.4 | `misuse::querying_a_remote_snapshot_is_misuse` |
//! | PSS functions leave the thread's last-error value untouched | unstated | 1, 11.2 | `capture::pss_functions_do_not_set_last_error` |
//! | Double free or use of a freed marker is misuse | only the snapshot double free is documented as undefined | 11.12 | `misuse::marker_double_free_is_misuse` |
//! | A PSS call from inside an allocator callback is misuse (the model also serves no other kernel32 call there) | callbacks run inside Create/Free/Walk | 6 | `misuse::pss_call_from_allocator_callback_is_misuse` |
//! | `PSS_WALK_THREAD_NAME` (4, header-only) gives `ERROR_INVALID_PARAMETER` | not in Microsoft's documents | 7.3 | `walk::unknown_class_is_invalid_parameter` |
//! | Thread contexts are the host's `CONTEXT` (plus 1024 bytes with `THREAD_CONTEXT_EXTENDED`); `ContextRecord` is NULL without context flags | layout and NULL-ness are unstated | 8, 11.16 | `walk::thread_context_records_follow_capture_flags` |

mod capture;
mod data;
mod exports;
mod kernel;
mod process;
mod walk;

pub use capture::{AUXILIARY_PAGES, REJECTED_FLAGS, capture_access};
pub use data::{
    AuxPageSpec, EXTENDED_CONTEXT_EXTRA, HandleSpec, IMAGE_NAME_LIMIT, ImageInfo, ModelProcess,
    ProcessSpec, RegionSpec, ThreadSpec,
};
pub use kernel::{CURRENT_PID, Live, VA_CLONE_ACCESS};
pub use walk::{LAST_SYSCALL_NUMBER, MARKER_INTERNAL_SIZE};

use kernel::Object;
use std::collections::BTreeMap;

/// Calls this thread made to each kernel32 function, by name.
pub fn calls() -> BTreeMap<&'static str, u64> {
    kernel::lock()
        .calls
        .get(&std::thread::current().id())
        .cloned()
        .unwrap_or_default()
}

/// How often this thread called the kernel32 function `name`.
pub fn call_count(name: &str) -> u64 {
    calls().get(name).copied().unwrap_or(0)
}

/// Forgets this thread's call counts.
pub fn reset_calls() {
    kernel::lock().calls.remove(&std::thread::current().id());
}

/// Objects this thread created that are still alive.
pub fn live() -> Live {
    kernel::lock().live_for(std::thread::current().id())
}

/// Objects alive in process `pid`'s context (snapshots), or, for [`CURRENT_PID`], also the
/// markers and handles of the current process.
pub fn live_in(pid: u32) -> Live {
    kernel::lock().live_in(pid)
}

/// The snapshots, markers and process handles this thread created that are still alive,
/// described one per line (see [`crate::assert_no_leaks`]).
pub fn leaks() -> Vec<String> {
    let k = kernel::lock();
    let me = std::thread::current().id();
    let mut leaks: Vec<String> = k
        .objects
        .iter()
        .filter_map(|(value, object)| match object {
            Object::Snapshot(s) if s.owner == me => Some(format!(
                "HPSS {value:#x} in process {:#x}'s context (flags {:#x})",
                s.context, s.flags
            )),
            Object::Marker(m) if m.owner == me => Some(format!("HPSSWALK {value:#x}")),
            Object::Handle(h)
                if h.owner == me && matches!(h.object, kernel::HandleObject::Process(_)) =>
            {
                Some(format!("process handle {value:#x} ({:?})", h.object))
            }
            _ => None,
        })
        .collect();
    leaks.sort();
    leaks
}

/// True while process `pid` is in the model's process table (a VA clone leaves it when the
/// last handle to it closes).
pub fn process_alive(pid: u32) -> bool {
    kernel::lock().processes.contains_key(&pid)
}

/// The access a kernel handle of this process was granted, or `None` if `handle` is not one.
pub fn handle_access(handle: pss_sys::HANDLE) -> Option<u32> {
    match kernel::lock().objects.get(&handle.addr()) {
        Some(Object::Handle(h)) => Some(h.access),
        _ => None,
    }
}

/// Makes kernel32 export no PSS function, for the rest of this process: `GetProcAddress` finds
/// none, and calling one anyway is misuse (Wine aborts there). Use it in a test binary of its
/// own; it cannot be undone.
pub fn set_pss_absent() {
    kernel::lock().pss_absent = true;
}

type FarProc = unsafe extern "system" fn() -> isize;

macro_rules! exports {
    ($($module:ident::$name:ident),+ $(,)?) => {
        /// Every function the model defines, as `GetProcAddress` returns them.
        pub(crate) static EXPORTS: &[(&str, FarProc)] = &[$(
            // SAFETY: only the address is handed out; callers cast it back to the real
            // signature before calling, as with any GetProcAddress result.
            (stringify!($name), unsafe { std::mem::transmute::<*const (), FarProc>($module::$name as *const ()) }),
        )+];
    };
}

exports!(
    exports::PssCaptureSnapshot,
    exports::PssDuplicateSnapshot,
    exports::PssFreeSnapshot,
    exports::PssQuerySnapshot,
    exports::PssWalkSnapshot,
    exports::PssWalkMarkerCreate,
    exports::PssWalkMarkerFree,
    exports::PssWalkMarkerGetPosition,
    exports::PssWalkMarkerSetPosition,
    exports::PssWalkMarkerSeekToBeginning,
    process::GetCurrentProcess,
    process::GetProcessId,
    process::OpenProcess,
    process::CloseHandle,
    process::DuplicateHandle,
    process::GetLastError,
    process::GetModuleHandleW,
    process::GetProcAddress,
);
