//! Randomized operation sequences through `pss`, against the kernel32 model with faults
//! injected (`model::faults`): captures (this process and model processes, heap or VM, any
//! valid flags), duplicates, duplicates into other processes and back, moves, closes and drops,
//! every query, walks of every class with positions, rewinds, owned copies and custom
//! allocators (some failing), snapshots sent to other threads, target processes exiting, handle
//! tables changing during captures (with and without `retry_handle_race`), and capture flags
//! that `pss` refuses (`THREAD_CONTEXT` without `THREADS`).
//!
//! A reference model ([`Reference`]) follows what each operation should leave behind, updated
//! from the results `pss` reports; after every step the kernel model must agree with it (which
//! snapshots are alive, and in which process; no marker left open), every error must be one the
//! operation can have, and every injected fault must come back as exactly one error (none
//! lost). After every case nothing has leaked. A misuse the model detects aborts the run. Failing
//! cases shrink to a minimal sequence, which proptest keeps in `tests/stress.regressions` and
//! replays first on every later run.
//!
//! `cargo xtask stress [--cases N]` runs it (256 cases by default, a fixed seed) and prints
//! one line of figures.
#![cfg(not(windows))]

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use pss::Process;
use pss::{
    CaptureFlags, CaptureOptions, ErrorCode, ErrorKind, HeapAllocated, LocalSnapshot,
    ProcessAccess, RemoteSnapshot, VmAllocated, WalkAllocator,
};
use pss_tests::model::{self, faults};
use pss_tests::model::{
    AuxPageSpec, HandleSpec, ModelProcess, ProcessSpec, RegionSpec, ThreadSpec,
};

/// The fixed seed of the default run.
const SEED: [u8; 32] = *b"pss stress: a fixed seed, v1....";

/// One step of a sequence. Indexes pick among what exists (modulo), and a step with nothing
/// to act on is skipped.
#[derive(Clone, Debug)]
enum Op {
    Capture {
        target: u8,
        flags: u16,
        vm: bool,
        /// Captures in all with `retry_handle_race` (0, 1: none).
        retries: u8,
    },
    Duplicate(u8),
    DuplicateInto {
        snapshot: u8,
        process: u8,
    },
    MoveInto {
        snapshot: u8,
        process: u8,
    },
    DuplicateBack(u8),
    Close(u8),
    Drop(u8),
    CloseRemote(u8),
    DropRemote(u8),
    Query {
        snapshot: u8,
        class: u8,
    },
    Walk {
        snapshot: u8,
        class: u8,
        steps: u8,
        reposition: u8,
        allocator: u8,
    },
    OnAnotherThread(u8),
    Exit(u8),
    /// The next `n % 3 + 1` captures of a process with `HANDLES` meet a handle opened while
    /// its table is read.
    Race {
        process: u8,
        n: u8,
    },
}

/// The capture flags a sequence draws from (bit i of `Op::Capture::flags` adds entry i).
const FLAGS: [CaptureFlags; 10] = [
    CaptureFlags::THREADS,
    CaptureFlags::THREAD_CONTEXT,
    CaptureFlags::HANDLES,
    CaptureFlags::HANDLE_NAME_INFORMATION,
    CaptureFlags::HANDLE_BASIC_INFORMATION,
    CaptureFlags::HANDLE_TYPE_SPECIFIC_INFORMATION,
    CaptureFlags::VA_SPACE,
    CaptureFlags::VA_SPACE_SECTION_INFORMATION,
    CaptureFlags::VA_CLONE,
    CaptureFlags::AUXILIARY_PAGES,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), any::<u16>(), any::<bool>(), 0u8..4)
            .prop_map(|(target, flags, vm, retries)| Op::Capture { target, flags, vm, retries }),
        1 => any::<u8>().prop_map(Op::Duplicate),
        1 => (any::<u8>(), any::<u8>())
            .prop_map(|(snapshot, process)| Op::DuplicateInto { snapshot, process }),
        1 => (any::<u8>(), any::<u8>())
            .prop_map(|(snapshot, process)| Op::MoveInto { snapshot, process }),
        1 => any::<u8>().prop_map(Op::DuplicateBack),
        1 => any::<u8>().prop_map(Op::Close),
        1 => any::<u8>().prop_map(Op::Drop),
        1 => any::<u8>().prop_map(Op::CloseRemote),
        1 => any::<u8>().prop_map(Op::DropRemote),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(snapshot, class)| Op::Query { snapshot, class }),
        4 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(
            |(snapshot, class, steps, reposition, allocator)| Op::Walk {
                snapshot,
                class,
                steps,
                reposition,
                allocator,
            }
        ),
        1 => any::<u8>().prop_map(Op::OnAnotherThread),
        1 => any::<u8>().prop_map(Op::Exit),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(process, n)| Op::Race { process, n }),
    ]
}

/// A case: the fault plan's seed and probability, and the operations.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    /// Fault probability in percent.
    faults: u8,
    ops: Vec<Op>,
}

fn case() -> impl Strategy<Value = Case> {
    (any::<u64>(), 0u8..=20, prop::collection::vec(op(), 1..40))
        .prop_map(|(seed, faults, ops)| Case { seed, faults, ops })
}

/// The model processes of a case, with known contents.
const PROCESSES: usize = 2;

fn model_process(i: usize) -> ProcessSpec {
    let n = 2 + 3 * i;
    (0..n).fold(ProcessSpec::new(), |spec, j| {
        spec.thread(ThreadSpec::new(0x200 + 4 * j as u32))
            .handle(
                HandleSpec::event(0x40 + 4 * j, j % 2 == 0, false).named(r"\BaseNamedObjects\s"),
            )
            .region(RegionSpec::private(0x20_0000 + 0x1_0000 * j, 0x1000))
            .aux_page(AuxPageSpec::with_contents(
                0x20_0000 + 0x1_0000 * j,
                vec![j as u8; 16],
            ))
    })
}

enum Local {
    Heap(LocalSnapshot<HeapAllocated>),
    Vm(LocalSnapshot<VmAllocated>),
}

/// Runs `f` on the snapshot whatever its allocation type.
fn read<R>(local: &Local, f: impl FnOnce(&dyn Reader) -> R) -> R {
    match local {
        Local::Heap(s) => f(s),
        Local::Vm(s) => f(s),
    }
}

/// What the steps need of a `LocalSnapshot<A>`, object-safe.
trait Reader {
    fn query(&self, class: u8) -> pss::Result<()>;
    fn walk(&self, class: u8, steps: u8, reposition: u8, allocator: u8) -> pss::Result<Walked>;
    fn duplicate(&self) -> pss::Result<LocalSnapshot>;
    fn duplicate_into(&self, target: Arc<Process>) -> pss::Result<RemoteSnapshot<Arc<Process>>>;
}

/// What a walk saw.
struct Walked {
    entries: usize,
    /// Completed: the walk reached its end.
    complete: bool,
}

/// An allocator that serves blocks from the system allocator, or refuses them all.
struct Allocator {
    refuse: bool,
    live: Cell<usize>,
}

impl WalkAllocator for Allocator {
    fn allocate(&self, size: usize) -> Option<&mut [MaybeUninit<u8>]> {
        if self.refuse {
            return None;
        }
        let layout = std::alloc::Layout::from_size_align(size.max(1), 16).ok()?;
        // SAFETY: a non-zero size.
        let block = NonNull::new(unsafe { std::alloc::alloc(layout) })?;
        self.live.set(self.live.get() + 1);
        // SAFETY: `size` writable bytes, unaliased, until deallocated.
        Some(unsafe { std::slice::from_raw_parts_mut(block.as_ptr().cast(), size) })
    }

    unsafe fn deallocate(&self, block: NonNull<[MaybeUninit<u8>]>) {
        self.live.set(self.live.get() - 1);
        let layout = std::alloc::Layout::from_size_align(block.len().max(1), 16).unwrap();
        // SAFETY: a block `allocate` made with this layout (the caller's promise).
        unsafe { std::alloc::dealloc(block.as_ptr().cast(), layout) }
    }
}

impl<A: pss::Allocation> Reader for LocalSnapshot<A> {
    fn query(&self, class: u8) -> pss::Result<()> {
        match class % 8 {
            0 => self.process_information().map(drop),
            1 => self.va_clone().map(drop),
            2 => self.auxiliary_page_count().map(drop),
            3 => self.region_count().map(drop),
            4 => self.handle_count().map(drop),
            5 => self.thread_information().map(drop),
            6 => self.handle_trace().map(drop),
            _ => self.performance_counters().map(drop),
        }
    }

    fn walk(&self, class: u8, steps: u8, reposition: u8, allocator: u8) -> pss::Result<Walked> {
        macro_rules! walk_class {
            ($class:ty, $walk:ident, $count:ident) => {{
                let expected = self.$count();
                let walked = match allocator % 4 {
                    0 => {
                        let allocator = Allocator {
                            refuse: allocator % 8 == 0,
                            live: Cell::new(0),
                        };
                        let walk = self.walk_with::<$class, _>(allocator);
                        walk_steps(walk, steps, reposition)
                    }
                    _ => walk_steps(self.$walk(), steps, reposition),
                }?;
                if walked.complete {
                    if let Ok(expected) = expected {
                        assert_eq!(walked.entries as u64, u64::from(expected), "entries");
                    }
                }
                Ok(walked)
            }};
        }
        match class % 4 {
            0 => walk_class!(pss::ThreadClass, threads, thread_count),
            1 => walk_class!(pss::HandleClass, handles, handle_count),
            2 => walk_class!(pss::VaSpaceClass, va_space, region_count),
            _ => walk_class!(
                pss::AuxiliaryPageClass,
                auxiliary_pages,
                auxiliary_page_count
            ),
        }
    }

    fn duplicate(&self) -> pss::Result<LocalSnapshot> {
        LocalSnapshot::duplicate(self)
    }

    fn duplicate_into(&self, target: Arc<Process>) -> pss::Result<RemoteSnapshot<Arc<Process>>> {
        LocalSnapshot::duplicate_into(self, target)
    }
}

/// The thread count as the query reports it, named like the other counts for `walk_class!`.
trait ThreadCount {
    fn thread_count(&self) -> pss::Result<u32>;
}

impl<A: pss::Allocation> ThreadCount for LocalSnapshot<A> {
    fn thread_count(&self) -> pss::Result<u32> {
        self.thread_information().map(|t| t.threads_captured)
    }
}

/// Walks up to `steps` entries (255: to the end), repositioning as `reposition` says, with
/// owned copies along the way; then closes the walk.
fn walk_steps<C: pss::WalkClass, W>(
    walk: pss::Result<pss::Walk<'_, C, W>>,
    steps: u8,
    reposition: u8,
) -> pss::Result<Walked>
where
    for<'w> C::Entry<'w>: Owned,
{
    let walk = walk?;
    let mut entries = 0;
    let mut complete = false;
    let saved = if reposition % 3 == 1 {
        Some(walk.position()?)
    } else {
        None
    };
    let mut kept = Vec::new();
    {
        let mut iter = walk.iter();
        let limit = if steps > 200 {
            usize::MAX
        } else {
            usize::from(steps)
        };
        while entries < limit {
            match iter.next_ref() {
                Some(Ok(entry)) => {
                    entries += 1;
                    if entries % 3 == 0 {
                        kept.push(entry.clone().own());
                    }
                }
                Some(Err(error)) => return Err(error),
                None => {
                    complete = true;
                    break;
                }
            }
        }
    }
    match reposition % 3 {
        1 => walk.set_position(saved.expect("saved"))?,
        2 => walk.rewind()?,
        _ => {}
    }
    walk.close()?;
    // Owned copies outlive the walk, with every part readable.
    for entry in &kept {
        let _ = format!("{entry:?}");
    }
    Ok(Walked { entries, complete })
}

/// `into_owned` of each entry type, for the generic walk.
trait Owned {
    type Owned: std::fmt::Debug + 'static;
    fn own(self) -> Self::Owned;
}

macro_rules! owned {
    ($($entry:ident),+) => {$(
        impl Owned for pss::$entry<'_> {
            type Owned = pss::$entry<'static>;
            fn own(self) -> Self::Owned {
                self.into_owned()
            }
        }
    )+};
}

owned!(ThreadEntry, HandleEntry, VaSpaceEntry, AuxiliaryPageEntry);

/// What should be alive: the reference the kernel model is compared with.
#[derive(Default)]
struct Reference {
    locals: Vec<Local>,
    /// Remote snapshots, with the model process (index) each lives in.
    remotes: Vec<(RemoteSnapshot<Arc<Process>>, usize)>,
    /// Snapshots left in a model process after a free of them failed (pss gives them up; the
    /// process's end frees them).
    abandoned: [usize; PROCESSES],
}

/// Figures over the whole run.
static CASES: AtomicU64 = AtomicU64::new(0);
static OPERATIONS: AtomicU64 = AtomicU64::new(0);
static FAULTS: AtomicU64 = AtomicU64::new(0);

/// The errors an operation may report: injected ones, and those the model gives for what the
/// sequence did (classes not captured, rights, a walk of an exited process's threads).
fn expected_error(error: &pss::Error) -> bool {
    match error.kind() {
        ErrorKind::NotCaptured(_) => true,
        ErrorKind::Os(code) => [
            ErrorCode::ACCESS_DENIED,
            ErrorCode::INVALID_HANDLE,
            ErrorCode::NO_SYSTEM_RESOURCES,
            ErrorCode::INVALID_ADDRESS,
            ErrorCode::ARITHMETIC_OVERFLOW,
            ErrorCode::PARTIAL_COPY,
            ErrorCode::NOT_ENOUGH_MEMORY,
            ErrorCode::NOT_FOUND,
            ErrorCode::NOT_SUPPORTED,
        ]
        .contains(&code),
        _ => false,
    }
}

/// The errors a capture with `flags` may report besides those: `pss` refusing `THREAD_CONTEXT`
/// without `THREADS` (and nothing else), a handle table that changed or is gone
/// (`BAD_LENGTH`, only with `HANDLES`), an address space that is gone (`INVALID_PARAMETER`,
/// only with `VA_SPACE`), each with its reason.
fn expected_capture_error(error: &pss::Error, flags: CaptureFlags) -> bool {
    let refused =
        flags.contains(CaptureFlags::THREAD_CONTEXT) && !flags.contains(CaptureFlags::THREADS);
    match error.kind() {
        ErrorKind::InvalidFlags => refused,
        _ if refused => false,
        ErrorKind::Os(ErrorCode::BAD_LENGTH) => {
            flags.contains(CaptureFlags::HANDLES) && error.reason().is_some()
        }
        ErrorKind::Os(ErrorCode::INVALID_PARAMETER) => {
            flags.contains(CaptureFlags::VA_SPACE) && error.reason().is_some()
        }
        _ => expected_error(error),
    }
}

fn run_case(case: &Case) -> Result<(), TestCaseError> {
    // What earlier (failed, shrinking) cases may have left behind is not this case's.
    let base_leaks = model::leaks().len();
    let processes: Vec<ModelProcess> = (0..PROCESSES).map(|i| model_process(i).spawn()).collect();
    let handles: Vec<Arc<Process>> = processes
        .iter()
        .map(|p| Arc::new(pss::open_process(p.pid(), ProcessAccess::all()).unwrap()))
        .collect();
    let base = model::live();
    let mut r = Reference::default();
    let plan = faults::fail_randomly(case.seed, f64::from(case.faults) / 100.0)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for op in &case.ops {
        let before = plan.injected();
        let mut errors = 0u64;
        let mut note = |result: Result<(), pss::Error>| -> Result<(), TestCaseError> {
            if let Err(error) = result {
                prop_assert!(
                    expected_error(&error),
                    "unexpected error in {op:?}: {error}"
                );
                errors += 1;
            }
            Ok(())
        };
        let pick = |i: u8, n: usize| (n > 0).then(|| usize::from(i) % n);
        let mut swallowed = false;
        match *op {
            Op::Capture {
                target,
                flags,
                vm,
                retries,
            } => {
                let flags = FLAGS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| flags & (1 << i) != 0)
                    .fold(CaptureFlags::NONE, |all, (_, f)| all | *f);
                // Valid flags only: section information comes with the address space.
                let flags = if flags.contains(CaptureFlags::VA_SPACE_SECTION_INFORMATION) {
                    flags | CaptureFlags::VA_SPACE
                } else {
                    flags
                };
                let process = usize::from(target) % (PROCESSES + 1);
                let handle = (process < PROCESSES).then(|| handles[process].clone());
                let options = CaptureOptions::new(flags).retry_handle_race(retries);
                let captured = match (handle, vm) {
                    (Some(h), false) => LocalSnapshot::capture(&*h, options).map(Local::Heap),
                    (Some(h), true) => LocalSnapshot::capture_vm(&*h, options).map(Local::Vm),
                    (None, false) => LocalSnapshot::capture_current(options).map(Local::Heap),
                    (None, true) => LocalSnapshot::capture_current_vm(options).map(Local::Vm),
                };
                match captured {
                    Ok(local) => r.locals.push(local),
                    Err(error) => {
                        prop_assert!(
                            expected_capture_error(&error, flags),
                            "unexpected error in {op:?}: {error}"
                        );
                        errors += 1;
                    }
                }
            }
            Op::Duplicate(i) => {
                if let Some(i) = pick(i, r.locals.len()) {
                    match read(&r.locals[i], |s| s.duplicate()) {
                        Ok(copy) => r.locals.push(Local::Heap(copy)),
                        Err(error) => note(Err(error))?,
                    }
                }
            }
            Op::DuplicateInto { snapshot, process } => {
                if let Some(i) = pick(snapshot, r.locals.len()) {
                    let p = usize::from(process) % PROCESSES;
                    match read(&r.locals[i], |s| s.duplicate_into(handles[p].clone())) {
                        Ok(remote) => r.remotes.push((remote, p)),
                        Err(error) => note(Err(error))?,
                    }
                }
            }
            Op::MoveInto { snapshot, process } => {
                if let Some(i) = pick(snapshot, r.locals.len()) {
                    if matches!(r.locals[i], Local::Vm(_)) {
                        let Local::Vm(local) = r.locals.swap_remove(i) else {
                            unreachable!()
                        };
                        let p = usize::from(process) % PROCESSES;
                        // Consumed either way: on failure the OS freed the source.
                        match local.move_into(handles[p].clone()) {
                            Ok(remote) => r.remotes.push((remote, p)),
                            Err(error) => note(Err(error))?,
                        }
                    }
                }
            }
            Op::DuplicateBack(i) => {
                if let Some(i) = pick(i, r.remotes.len()) {
                    match r.remotes[i].0.duplicate_to_local() {
                        Ok(local) => r.locals.push(Local::Heap(local)),
                        Err(error) => note(Err(error))?,
                    }
                }
            }
            Op::Close(i) => {
                if let Some(i) = pick(i, r.locals.len()) {
                    let result = match r.locals.swap_remove(i) {
                        Local::Heap(s) => s.close(),
                        Local::Vm(s) => s.close(),
                    };
                    // A local free of a valid snapshot never fails.
                    prop_assert!(result.is_ok(), "{result:?}");
                }
            }
            Op::Drop(i) => {
                if let Some(i) = pick(i, r.locals.len()) {
                    drop(r.locals.swap_remove(i));
                }
            }
            Op::CloseRemote(i) | Op::DropRemote(i) => {
                if let Some(i) = pick(i, r.remotes.len()) {
                    let (remote, p) = r.remotes.swap_remove(i);
                    let injected = plan.injected();
                    let result = if matches!(op, Op::CloseRemote(_)) {
                        remote.close()
                    } else {
                        swallowed = true;
                        drop(remote);
                        Ok(())
                    };
                    if plan.injected() > injected {
                        r.abandoned[p] += 1; // the free failed: left in the process
                    }
                    note(result)?;
                }
            }
            Op::Query { snapshot, class } => {
                if let Some(i) = pick(snapshot, r.locals.len()) {
                    note(read(&r.locals[i], |s| s.query(class)))?;
                }
            }
            Op::Walk {
                snapshot,
                class,
                steps,
                reposition,
                allocator,
            } => {
                if let Some(i) = pick(snapshot, r.locals.len()) {
                    let walked = read(&r.locals[i], |s| {
                        s.walk(class, steps, reposition, allocator)
                    });
                    note(walked.map(drop))?;
                }
            }
            Op::OnAnotherThread(i) => {
                if let Some(i) = pick(i, r.locals.len()) {
                    // Sent to another thread (no fault plan there), walked, and sent back.
                    // Its result is checked here like any other step's.
                    let local = r.locals.swap_remove(i);
                    let (local, walked) = std::thread::spawn(move || {
                        let walked = read(&local, |s| s.walk(0, 255, 0, 1));
                        (local, walked)
                    })
                    .join()
                    .map_err(|_| TestCaseError::fail("a pss call panicked on another thread"))?;
                    r.locals.push(local);
                    note(walked.map(drop))?;
                }
            }
            Op::Exit(p) => processes[usize::from(p) % PROCESSES].exit(3),
            Op::Race { process, n } => {
                processes[usize::from(process) % PROCESSES].race_handle_table(u32::from(n % 3) + 1)
            }
        }
        // Every injected fault comes back as the operation's one error (a dropped remote
        // snapshot's failed free is ignored by design); other errors are the documented ones.
        let injected = plan.injected() - before;
        prop_assert!(errors <= 1, "{errors} errors from one operation: {op:?}");
        if !swallowed {
            prop_assert!(injected <= errors, "a fault was lost in {:?}", op);
        }
        FAULTS.fetch_add(injected, Ordering::Relaxed);
        OPERATIONS.fetch_add(1, Ordering::Relaxed);
        // The kernel model agrees with the reference.
        let live = model::live();
        let remote_total: usize = r.remotes.len() + r.abandoned.iter().sum::<usize>();
        prop_assert_eq!(
            live.snapshots - base.snapshots,
            r.locals.len() + remote_total,
            "after {:?}",
            op
        );
        prop_assert_eq!(
            live.markers,
            base.markers,
            "a marker is open after {:?}",
            op
        );
        for (p, process) in processes.iter().enumerate() {
            let here = r.remotes.iter().filter(|(_, q)| *q == p).count() + r.abandoned[p];
            prop_assert_eq!(
                model::live_in(process.pid()).snapshots,
                here,
                "in process {}",
                p
            );
        }
    }
    drop(plan);
    drop(r);
    drop(handles);
    drop(processes);
    let leaks = model::leaks();
    prop_assert!(leaks.len() == base_leaks, "leaked: {leaks:?}");
    CASES.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[test]
fn random_sequences_keep_every_promise() {
    let cases = std::env::var("PSS_STRESS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if cfg!(miri) { 2 } else { 256 });
    let config = Config {
        cases,
        source_file: Some(file!()),
        // Miri isolates the file system: no regression file there.
        failure_persistence: (!cfg!(miri))
            .then(|| Box::new(FileFailurePersistence::WithSource("regressions")) as _),
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let result = runner.run(&case(), |case| run_case(&case));
    if let Err(error) = result {
        panic!("{error}");
    }
    println!(
        "stress: cases {}, operations {}, faults injected {}, leaks 0, misuse 0, panics 0",
        CASES.load(Ordering::Relaxed),
        OPERATIONS.load(Ordering::Relaxed),
        FAULTS.load(Ordering::Relaxed)
    );
}
