//! Named mutexes (`CreateMutexA`, `WaitForSingleObjectEx`, `ReleaseMutex`) and
//! `GetCurrentProcessId`: what Rust programs use to serialise dbghelp, which is single-threaded.
//! Rust's backtrace code (std's panic hook with `RUST_BACKTRACE`, `std::backtrace`, the
//! `backtrace` crate) takes the mutex named [`backtrace_mutex_name`] around every dbghelp call;
//! the model's `MiniDumpWriteDump` requires its caller to hold it (see `dump.rs`).
//!
//! A wait blocks the calling thread (without the model's lock) until the mutex is free; an
//! owner may take it again (a count); `ReleaseMutex` by a thread that does not own it fails with
//! `ERROR_NOT_OWNER`. Handles to mutexes are not counted as leaks: backtrace code keeps its one
//! handle open for the life of the process, and so does `pss`.

use super::data::me;
use super::kernel::{self, CURRENT_PID, HandleObject, KernelHandle, Object, handle};
use super::process::set_last_error;
use pss_sys::*;
use std::collections::HashMap;
use std::sync::{Condvar, LazyLock, Mutex, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

const ERROR_NOT_OWNER: u32 = 288;
const WAIT_TIMEOUT: u32 = 258;

#[derive(Default)]
struct State {
    owner: Option<ThreadId>,
    count: u32,
    waiters: usize,
}

static MUTEXES: LazyLock<Mutex<HashMap<String, State>>> = LazyLock::new(Mutex::default);
static RELEASED: Condvar = Condvar::new();

fn mutexes() -> std::sync::MutexGuard<'static, HashMap<String, State>> {
    MUTEXES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The name of the mutex Rust's backtrace code takes around dbghelp in this process:
/// `Local\RustBacktraceMutex` and the process id in 8 uppercase hex digits (backtrace-rs,
/// `src/dbghelp.rs`).
pub fn backtrace_mutex_name() -> String {
    format!("Local\\RustBacktraceMutex{CURRENT_PID:08X}")
}

/// The thread that owns the mutex `name`, if any.
pub fn mutex_owner(name: &str) -> Option<ThreadId> {
    mutexes().get(name).and_then(|m| m.owner)
}

/// How many threads wait for the mutex `name` right now.
pub fn mutex_waiters(name: &str) -> usize {
    mutexes().get(name).map_or(0, |m| m.waiters)
}

/// The mutex name behind `value`, a handle of this process.
fn named(call: &'static str, value: usize) -> Option<String> {
    let mut e = kernel::enter(call);
    match e.k().objects.get(&value) {
        Some(Object::Handle(KernelHandle {
            object: HandleObject::Mutex { name },
            ..
        })) => Some(name.clone()),
        Some(Object::Freed { by, .. }) => kernel::misuse(
            call,
            format!("handle {value:#x} was already closed by {by}"),
        ),
        _ => None,
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn GetCurrentProcessId() -> u32 {
    let _e = kernel::enter("GetCurrentProcessId");
    CURRENT_PID
}

#[unsafe(no_mangle)]
pub extern "system" fn CreateMutexA(
    _lpmutexattributes: *const SECURITY_ATTRIBUTES,
    binitialowner: BOOL,
    lpname: PCSTR,
) -> HANDLE {
    let name = if lpname.is_null() {
        static UNNAMED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = UNNAMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("<unnamed mutex {n}>")
    } else {
        // SAFETY: a non-NULL name is a NUL-terminated ANSI string (documented).
        let name = unsafe { std::ffi::CStr::from_ptr(lpname.cast()) };
        name.to_string_lossy().into_owned()
    };
    {
        let mut all = mutexes();
        let created = !all.contains_key(&name);
        let state = all.entry(name.clone()).or_default();
        if created && binitialowner != 0 {
            state.owner = Some(me());
            state.count = 1;
        }
    }
    let mut e = kernel::enter("CreateMutexA");
    handle(e.k().issue_handle(KernelHandle {
        object: HandleObject::Mutex { name },
        access: 0x001F_0001, // MUTEX_ALL_ACCESS
        owner: me(),
    }))
}

#[unsafe(no_mangle)]
pub extern "system" fn WaitForSingleObjectEx(
    hhandle: HANDLE,
    dwmilliseconds: u32,
    _balertable: BOOL,
) -> WAIT_EVENT {
    let Some(name) = named("WaitForSingleObjectEx", hhandle.addr()) else {
        set_last_error(ERROR_INVALID_HANDLE);
        return WAIT_FAILED;
    };
    let me = me();
    let mut all = mutexes();
    let deadline = (dwmilliseconds != INFINITE)
        .then(|| std::time::Instant::now() + Duration::from_millis(dwmilliseconds.into()));
    loop {
        let state = all.get_mut(&name).expect("created with its handle");
        if state.owner.is_none() || state.owner == Some(me) {
            state.owner = Some(me);
            state.count += 1;
            return WAIT_OBJECT_0;
        }
        let left = match deadline {
            None => Duration::MAX,
            Some(at) => match at.checked_duration_since(std::time::Instant::now()) {
                Some(left) if !left.is_zero() => left,
                _ => return WAIT_TIMEOUT,
            },
        };
        state.waiters += 1;
        all = RELEASED
            .wait_timeout(all, left.min(Duration::from_secs(3600)))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        all.get_mut(&name).expect("still there").waiters -= 1;
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn ReleaseMutex(hmutex: HANDLE) -> BOOL {
    let Some(name) = named("ReleaseMutex", hmutex.addr()) else {
        set_last_error(ERROR_INVALID_HANDLE);
        return 0;
    };
    let mut all = mutexes();
    let state = all.get_mut(&name).expect("created with its handle");
    if state.owner != Some(me()) {
        set_last_error(ERROR_NOT_OWNER);
        return 0;
    }
    state.count -= 1;
    if state.count == 0 {
        state.owner = None;
        RELEASED.notify_all();
    }
    1
}
