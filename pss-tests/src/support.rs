//! Helpers for tests that run against the model and against real kernel32 alike.
//!
//! They take `HANDLE`, `HPSS` and `HPSSWALK` values as raw pointers without being `unsafe`:
//! those are opaque descriptors that kernel32 (or the model) validates, and the contract suite
//! exists to hand it wrong ones.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use pss_sys::*;

/// True if kernel32 exports `PssCaptureSnapshot` (probed without calling it).
pub fn pss_present() -> bool {
    let name: Vec<u16> = "kernel32.dll\0".encode_utf16().collect();
    // SAFETY: `name` is NUL-terminated; the module handle is only passed to GetProcAddress.
    unsafe {
        let kernel32 = GetModuleHandleW(name.as_ptr());
        !kernel32.is_null()
            && GetProcAddress(kernel32, c"PssCaptureSnapshot".as_ptr().cast()).is_some()
    }
}

/// Returns from the calling test, printing `skipped: <test>: kernel32 has no PSS`, where
/// kernel32 lacks PSS (Wine, Windows before 8.1). `cargo xtask wine` counts these lines.
#[macro_export]
macro_rules! require_pss {
    () => {
        if !$crate::pss_present() {
            eprintln!(
                "skipped: {}: kernel32 has no PSS",
                ::std::thread::current().name().unwrap_or("?")
            );
            return;
        }
    };
}

/// Asserts that the calling test leaked nothing, where that can be measured: against the model
/// (its per-thread accounting). Against real kernel32 there is no such accounting, and this
/// checks nothing; it says so once per test on standard error.
#[track_caller]
pub fn assert_no_leaks() {
    #[cfg(not(windows))]
    {
        let leaks = crate::model::leaks();
        assert!(leaks.is_empty(), "leaked:\n  {}", leaks.join("\n  "));
    }
    #[cfg(windows)]
    eprintln!(
        "note: {}: leak accounting exists only in the model",
        std::thread::current().name().unwrap_or("?")
    );
}

/// This process's id as kernel32 reports it: `std::process::id()` on Windows, the model's
/// current process elsewhere.
pub fn current_pid() -> u32 {
    #[cfg(windows)]
    return std::process::id();
    #[cfg(not(windows))]
    return crate::model::CURRENT_PID;
}

/// `GetCurrentProcess()`.
pub fn current_process() -> HANDLE {
    // SAFETY: no preconditions.
    unsafe { GetCurrentProcess() }
}

/// Captures the current process with `flags` and asserts success.
#[track_caller]
pub fn capture_current(flags: PSS_CAPTURE_FLAGS) -> HPSS {
    let mut snapshot = std::ptr::null_mut();
    // SAFETY: valid pseudo handle and out-pointer.
    let code = unsafe { PssCaptureSnapshot(current_process(), flags, 0, &mut snapshot) };
    assert_eq!(code, ERROR_SUCCESS, "PssCaptureSnapshot({flags:#x})");
    snapshot
}

/// Frees a local snapshot and asserts success.
#[track_caller]
pub fn free_local(snapshot: HPSS) {
    // SAFETY: the caller owns `snapshot`, which lives in this process.
    let code = unsafe { PssFreeSnapshot(current_process(), snapshot) };
    assert_eq!(code, ERROR_SUCCESS, "PssFreeSnapshot");
}

/// Creates a walk marker with the default allocator and asserts success.
#[track_caller]
pub fn new_marker() -> HPSSWALK {
    let mut marker = std::ptr::null_mut();
    // SAFETY: NULL allocator means the process heap; valid out-pointer.
    let code = unsafe { PssWalkMarkerCreate(std::ptr::null(), &mut marker) };
    assert_eq!(code, ERROR_SUCCESS, "PssWalkMarkerCreate");
    marker
}

/// Frees a walk marker and asserts success.
#[track_caller]
pub fn free_marker(marker: HPSSWALK) {
    // SAFETY: the caller owns `marker`.
    let code = unsafe { PssWalkMarkerFree(marker) };
    assert_eq!(code, ERROR_SUCCESS, "PssWalkMarkerFree");
}

/// Queries `class` into a `T`; returns the code and the value (zeroed unless successful).
pub fn query<T: Default>(snapshot: HPSS, class: PSS_QUERY_INFORMATION_CLASS) -> (u32, T) {
    let mut value = T::default();
    // SAFETY: `value` is a writable T of exactly the length passed.
    let code = unsafe {
        PssQuerySnapshot(
            snapshot,
            class,
            (&raw mut value).cast(),
            size_of::<T>() as u32,
        )
    };
    (code, value)
}

/// One `PssWalkSnapshot` call into a `T`; returns the code and the entry.
pub fn walk_one<T: Default>(
    snapshot: HPSS,
    class: PSS_WALK_INFORMATION_CLASS,
    marker: HPSSWALK,
) -> (u32, T) {
    let mut entry = T::default();
    // SAFETY: `entry` is a writable T of exactly the length passed.
    let code = unsafe {
        PssWalkSnapshot(
            snapshot,
            class,
            marker,
            (&raw mut entry).cast(),
            size_of::<T>() as u32,
        )
    };
    (code, entry)
}

/// Walks `class` to the end with a fresh marker, as the overview's loop does, and returns
/// every entry; panics on any code but `ERROR_SUCCESS` and a final `ERROR_NO_MORE_ITEMS`.
#[track_caller]
pub fn walk_all<T: Default>(snapshot: HPSS, class: PSS_WALK_INFORMATION_CLASS) -> Vec<T> {
    let marker = new_marker();
    let mut entries = Vec::new();
    loop {
        match walk_one::<T>(snapshot, class, marker) {
            (ERROR_SUCCESS, entry) => entries.push(entry),
            (ERROR_NO_MORE_ITEMS, _) => break,
            (code, _) => panic!("PssWalkSnapshot(class {class}) returned {code}"),
        }
    }
    free_marker(marker);
    entries
}

/// Reads a counted UTF-16 string (`length` in bytes, no terminator) from a walk entry.
///
/// # Safety
///
/// `ptr` must point to `length` readable bytes (or be NULL with `length` 0), owned by a walk
/// marker that is still alive.
pub unsafe fn utf16_at(ptr: *const u16, length: u16) -> String {
    if ptr.is_null() || length == 0 {
        return String::new();
    }
    // SAFETY: guaranteed by the caller.
    let units = unsafe { std::slice::from_raw_parts(ptr, usize::from(length) / 2) };
    String::from_utf16_lossy(units)
}

/// `PssCaptureSnapshot(process, flags, context_flags, &out)`: the code and the out value.
pub fn capture(process: HANDLE, flags: PSS_CAPTURE_FLAGS, context_flags: u32) -> (u32, HPSS) {
    let mut snapshot = std::ptr::null_mut();
    // SAFETY: a raw call with a valid out-pointer; kernel32 validates the handle and flags.
    let code = unsafe { PssCaptureSnapshot(process, flags, context_flags, &mut snapshot) };
    (code, snapshot)
}

/// `PssDuplicateSnapshot`: the code and the out value.
pub fn duplicate(
    source: HANDLE,
    snapshot: HPSS,
    target: HANDLE,
    flags: PSS_DUPLICATE_FLAGS,
) -> (u32, HPSS) {
    let mut out = std::ptr::null_mut();
    // SAFETY: a raw call with a valid out-pointer; the test owns `snapshot` (or tests misuse).
    let code = unsafe { PssDuplicateSnapshot(source, snapshot, target, &mut out, flags) };
    (code, out)
}

/// `PssFreeSnapshot(process, snapshot)`.
pub fn free(process: HANDLE, snapshot: HPSS) -> u32 {
    // SAFETY: the test owns `snapshot` and names the process whose context holds it (or tests
    // exactly that rule against the model).
    unsafe { PssFreeSnapshot(process, snapshot) }
}

/// `OpenProcess(access, FALSE, pid)`: the handle, or the `GetLastError` code.
pub fn open_process(pid: u32, access: PROCESS_ACCESS_RIGHTS) -> Result<HANDLE, u32> {
    // SAFETY: plain value arguments.
    let handle = unsafe { OpenProcess(access, 0, pid) };
    if handle.is_null() {
        // SAFETY: no preconditions.
        Err(unsafe { GetLastError() })
    } else {
        Ok(handle)
    }
}

/// `CloseHandle(handle)`, asserting success.
#[track_caller]
pub fn close_handle(handle: HANDLE) {
    // SAFETY: the test owns `handle`, a kernel handle.
    assert_ne!(unsafe { CloseHandle(handle) }, 0, "CloseHandle");
}

/// One `PssWalkSnapshot` call with a NULL buffer: the presence probe.
pub fn walk_probe(snapshot: HPSS, class: PSS_WALK_INFORMATION_CLASS, marker: HPSSWALK) -> u32 {
    // SAFETY: a NULL buffer is documented (ERROR_MORE_DATA probe).
    unsafe { PssWalkSnapshot(snapshot, class, marker, std::ptr::null_mut(), 0) }
}

/// One `PssWalkSnapshot` call into a buffer of `T` that claims `length` bytes (`<=` its size).
pub fn walk_with_length<T: Default>(
    snapshot: HPSS,
    class: PSS_WALK_INFORMATION_CLASS,
    marker: HPSSWALK,
    length: u32,
) -> u32 {
    assert!(length as usize <= size_of::<T>());
    let mut entry = T::default();
    // SAFETY: `entry` is writable for `length` bytes.
    unsafe { PssWalkSnapshot(snapshot, class, marker, (&raw mut entry).cast(), length) }
}

/// `PssQuerySnapshot` into a buffer of `T` that claims `length` bytes (`<=` its size).
pub fn query_with_length<T: Default>(
    snapshot: HPSS,
    class: PSS_QUERY_INFORMATION_CLASS,
    length: u32,
) -> u32 {
    assert!(length as usize <= size_of::<T>());
    let mut value = T::default();
    // SAFETY: `value` is writable for `length` bytes.
    unsafe { PssQuerySnapshot(snapshot, class, (&raw mut value).cast(), length) }
}

/// `PssWalkMarkerGetPosition`, asserting success.
#[track_caller]
pub fn marker_position(marker: HPSSWALK) -> usize {
    let mut position = 0;
    // SAFETY: valid marker and out-pointer.
    let code = unsafe { PssWalkMarkerGetPosition(marker, &mut position) };
    assert_eq!(code, ERROR_SUCCESS);
    position
}

/// `PssWalkMarkerSetPosition`.
pub fn set_marker_position(marker: HPSSWALK, position: usize) -> u32 {
    // SAFETY: the test owns `marker`; the position is validated by kernel32.
    unsafe { PssWalkMarkerSetPosition(marker, position) }
}

/// `PssWalkMarkerSeekToBeginning`.
pub fn rewind_marker(marker: HPSSWALK) -> u32 {
    // SAFETY: the test owns `marker`.
    unsafe { PssWalkMarkerSeekToBeginning(marker) }
}

/// Runs `body` in a child process (this test binary, filtered to the calling test) and asserts
/// that it aborts with `pss-tests model: misuse in <call>`. The child is the same test: when
/// `PSS_MISUSE_CHILD` names it, `body` runs and a missed misuse exits 0, failing the parent.
/// Miri cannot spawn processes: there the test says it is skipped.
#[cfg(not(windows))]
#[track_caller]
pub fn expect_misuse(call: crate::Call, body: impl FnOnce()) {
    let test = std::thread::current()
        .name()
        .expect("libtest names test threads")
        .to_string();
    if std::env::var("PSS_MISUSE_CHILD").as_deref() == Ok(test.as_str()) {
        body();
        eprintln!("misuse in {call} was not detected");
        std::process::exit(0);
    }
    if cfg!(miri) {
        eprintln!(
            "skipped: {test}: misuse aborts the process, and Miri cannot spawn the child that would observe it"
        );
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary path"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env("PSS_MISUSE_CHILD", &test)
        .output()
        .expect("spawn the child test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the misuse did not abort the child:\n{stderr}"
    );
    let wanted = format!("pss-tests model: misuse in {call}: ");
    assert!(
        stderr.contains(&wanted),
        "expected `{wanted}...` in the child's stderr:\n{stderr}"
    );
}

/// `GetLastError()`.
pub fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// `PSS_ALLOCATOR.AllocRoutine` as C declares it.
pub type AllocRoutine =
    unsafe extern "system" fn(*mut std::ffi::c_void, u32) -> *mut std::ffi::c_void;
/// `PSS_ALLOCATOR.FreeRoutine` as C declares it.
pub type FreeRoutine = unsafe extern "system" fn(*mut std::ffi::c_void, *mut std::ffi::c_void);

/// A `PSS_ALLOCATOR` on the heap whose routines are stored as function pointers. The metadata
/// types those fields as `isize`; writing the pointers into them in place (never through an
/// integer) keeps their provenance, which Miri checks when kernel32's model calls them.
pub fn pss_allocator(
    context: *mut std::ffi::c_void,
    alloc: AllocRoutine,
    free: FreeRoutine,
) -> Box<PSS_ALLOCATOR> {
    let mut allocator = Box::new(PSS_ALLOCATOR::default());
    let p: *mut PSS_ALLOCATOR = &raw mut *allocator;
    // SAFETY: `p` is valid for writes; a function pointer has the size and alignment of the
    // `isize` fields it is written into.
    unsafe {
        (&raw mut (*p).Context).write(context);
        (&raw mut (*p).AllocRoutine)
            .cast::<AllocRoutine>()
            .write(alloc);
        (&raw mut (*p).FreeRoutine)
            .cast::<FreeRoutine>()
            .write(free);
    }
    allocator
}

/// `spec` spawned in the model and captured raw with `flags` through a handle with all access;
/// the process must outlive the snapshot's use.
#[cfg(not(windows))]
#[track_caller]
pub fn spawn_and_capture_raw(
    spec: crate::model::ProcessSpec,
    flags: PSS_CAPTURE_FLAGS,
) -> (crate::model::ModelProcess, HPSS) {
    let process = spec.spawn();
    let handle = open_process(process.pid(), PROCESS_ALL_ACCESS).expect("OpenProcess");
    let (code, snapshot) = capture(handle, flags, 0);
    assert_eq!(code, ERROR_SUCCESS, "PssCaptureSnapshot({flags:#x})");
    close_handle(handle);
    (process, snapshot)
}

/// `spec` spawned in the model, opened with the rights `flags` need
/// ([`pss::ProcessAccess::for_capture`]) and captured with `flags` through `pss`.
#[cfg(not(windows))]
#[track_caller]
pub fn spawn_and_capture(
    spec: crate::model::ProcessSpec,
    flags: pss::CaptureFlags,
) -> (crate::model::ModelProcess, pss::LocalSnapshot) {
    let process = spec.spawn();
    let handle = pss::open_process(process.pid(), pss::ProcessAccess::for_capture(flags))
        .expect("open_process");
    let snapshot = pss::LocalSnapshot::capture(&handle, flags).expect("capture");
    (process, snapshot)
}

/// A process the tests can capture and put snapshots into, other than this one: a model process
/// (one thread) on hosts without kernel32; on Windows a child process the test spawns
/// (`cmd.exe /D /C pause`, waiting on a pipe), killed when this value drops.
pub struct TestProcess {
    #[cfg(not(windows))]
    model: crate::model::ModelProcess,
    #[cfg(windows)]
    child: std::process::Child,
}

impl TestProcess {
    /// Starts the process (on the model: one thread, two handles and five regions, an image,
    /// private memory, the thread's stack, the PEB's region with its TEB and the process
    /// parameters, whose command line is the Windows child's, as a console program has at
    /// least; the thread's frames chain through the image).
    #[track_caller]
    pub fn spawn() -> Self {
        #[cfg(not(windows))]
        let image = 0x7FF6_1000_0000_u64 as usize;
        #[cfg(not(windows))]
        return TestProcess {
            model: crate::model::ProcessSpec::new()
                .thread(
                    crate::model::ThreadSpec::new(4)
                        .executing_at(image + 0x1_2340)
                        .call_stack(&[image + 0x1_8a2c, image + 0x2_0f11]),
                )
                .handle(crate::model::HandleSpec::other(0x4, "File").named(r"\Device\ConDrv"))
                .handle(crate::model::HandleSpec::event(0x8, true, false))
                .region(crate::model::RegionSpec::image(
                    image,
                    0x6_0000,
                    r"\Device\HarddiskVolume3\Windows\System32\cmd.exe",
                ))
                .region(crate::model::RegionSpec::private(0x10_0000, 0x1_0000))
                .command_line(r#""C:\Windows\System32\cmd.exe" /D /C pause"#)
                .with_peb()
                .spawn(),
        };
        #[cfg(windows)]
        {
            let shell = std::env::var_os("ComSpec").unwrap_or_else(|| "cmd.exe".into());
            let child = std::process::Command::new(shell)
                .args(["/D", "/C", "pause"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn a child process");
            TestProcess { child }
        }
    }

    /// Starts a process that exits at once with `code`; the process object stays (this value
    /// holds a handle to it), so it can still be opened and captured.
    #[track_caller]
    pub fn exited(code: u32) -> Self {
        #[cfg(not(windows))]
        {
            let process = Self::spawn();
            process.model.exit(code);
            process
        }
        #[cfg(windows)]
        {
            let shell = std::env::var_os("ComSpec").unwrap_or_else(|| "cmd.exe".into());
            let mut child = std::process::Command::new(shell)
                .args(["/D", "/C", &format!("exit {code}")])
                .spawn()
                .expect("spawn a child process");
            child.wait().expect("the child exits");
            TestProcess { child }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        #[cfg(not(windows))]
        return self.model.pid();
        #[cfg(windows)]
        return self.child.id();
    }

    /// The model process behind it (hosts without kernel32 only).
    #[cfg(not(windows))]
    pub fn model(&self) -> &crate::model::ModelProcess {
        &self.model
    }
}

#[cfg(windows)]
impl Drop for TestProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Model-only assertions on live objects: against the model they check its accounting; against
/// real kernel32, which keeps none, they check nothing (the test's other assertions still run).
pub mod expect {
    /// This thread holds `n` live snapshots.
    #[track_caller]
    pub fn live_snapshots(n: usize) {
        #[cfg(not(windows))]
        assert_eq!(
            crate::model::live().snapshots,
            n,
            "live snapshots of this thread"
        );
        #[cfg(windows)]
        let _ = n;
    }

    /// This thread holds `n` live walk markers.
    #[track_caller]
    pub fn live_markers(n: usize) {
        #[cfg(not(windows))]
        assert_eq!(
            crate::model::live().markers,
            n,
            "live markers of this thread"
        );
        #[cfg(windows)]
        let _ = n;
    }

    /// `n` snapshots live in process `pid`'s context.
    #[track_caller]
    pub fn snapshots_in(pid: u32, n: usize) {
        #[cfg(not(windows))]
        assert_eq!(
            crate::model::live_in(pid).snapshots,
            n,
            "snapshots in {pid:#x}"
        );
        #[cfg(windows)]
        let _ = (pid, n);
    }

    /// Runs `f`, during which this thread calls the kernel32 function `call` exactly `n` times.
    ///
    /// ```
    /// use pss::{CaptureFlags, LocalSnapshot};
    /// use pss_tests::{Call, expect};
    ///
    /// let snapshot = expect::calls(Call::PssCaptureSnapshot, 1, || {
    ///     LocalSnapshot::capture_current(CaptureFlags::NONE)
    /// });
    /// # let _ = snapshot;
    /// ```
    #[track_caller]
    pub fn calls<T>(call: crate::Call, n: u64, f: impl FnOnce() -> T) -> T {
        #[cfg(not(windows))]
        {
            let before = crate::model::call_count(call);
            let result = f();
            assert_eq!(
                crate::model::call_count(call) - before,
                n,
                "calls to {call}"
            );
            result
        }
        #[cfg(windows)]
        {
            let _ = (call, n);
            f()
        }
    }

    /// Process `pid` still exists (a VA clone ends with the last handle to it).
    #[track_caller]
    pub fn process_alive(pid: u32, alive: bool) {
        #[cfg(not(windows))]
        assert_eq!(crate::model::process_alive(pid), alive, "process {pid:#x}");
        #[cfg(windows)]
        let _ = (pid, alive);
    }
}
