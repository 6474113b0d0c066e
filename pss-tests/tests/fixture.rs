//! The portable fixture: one description, a model process off Windows and a real child process
//! on Windows, holding what it asked for. The first test captures it (PSS needed); the second
//! checks the child without PSS, so it runs under Wine too.

use pss::{CaptureFlags, LocalSnapshot, MemoryState, MemoryType, ProcessAccess};
use pss_tests::*;

fn spec(name: &str) -> FixtureSpec {
    FixtureSpec::new()
        .threads(2)
        .named_handle(ObjectKind::Event, name)
        .handle(ObjectKind::Mutex)
        .handle(ObjectKind::Section { size: 0x2000 })
        .handle(ObjectKind::File)
        .region(b"first region")
        .region(&[0x5a; 0x1800])
}

/// A unique object name: named objects are shared by every process of a Windows session.
fn unique(what: &str) -> String {
    format!("pss-tests-{what}-{}", std::process::id())
}

/// Captured with every preset, the process holds each thread, handle and region the spec asked
/// for: thread ids, handle types and names, regions with their contents through the VA clone.
#[test]
fn a_fixture_is_captured_with_what_it_asked_for() {
    let name = unique("captured");
    let target = spec(&name).spawn().unwrap();
    require_pss!();
    let flags = CaptureFlags::MINIDUMP;
    let process = pss::open_process(target.pid(), ProcessAccess::for_capture(flags)).unwrap();
    let snapshot = LocalSnapshot::capture(&process, flags).unwrap();
    let mut threads = Vec::new();
    for thread in &snapshot.threads().unwrap() {
        threads.push(thread.unwrap().thread_id());
    }
    assert_eq!(target.threads().len(), 2);
    for tid in target.threads() {
        assert!(threads.contains(tid), "thread {tid} in {threads:?}");
    }
    let mut found = 0;
    for handle in &snapshot.handles().unwrap() {
        let handle = handle.unwrap();
        let Some(asked) = target
            .handles()
            .iter()
            .find(|h| h.value() == handle.handle_value())
        else {
            continue;
        };
        found += 1;
        let type_name = handle.type_name().map(|t| t.to_string_lossy());
        assert_eq!(type_name.as_deref(), Some(asked.kind().type_name()));
        if let Some(name) = asked.name() {
            let object = handle.object_name().map(|n| n.to_string_lossy());
            let suffix = format!(r"\BaseNamedObjects\{name}");
            assert!(object.unwrap().ends_with(&suffix), "{suffix}");
        }
    }
    assert_eq!(found, 4, "every handle asked for");
    let clone = snapshot.va_clone().unwrap();
    for region in target.regions() {
        let mut walked = None;
        for entry in &snapshot.va_space().unwrap() {
            let entry = entry.unwrap().region();
            if entry.base_address == region.base() {
                walked = Some(entry);
            }
        }
        let walked = walked.expect("a region at the fixture's base");
        assert_eq!(
            (walked.state, walked.kind, walked.region_size),
            (MemoryState::Commit, MemoryType::Private, region.size())
        );
        let mut bytes = vec![0; region.contents().len()];
        clone.read_exact(region.base(), &mut bytes).unwrap();
        assert_eq!(bytes, region.contents());
    }
    drop((snapshot, process));
    assert_no_leaks();
}

/// A named file is refused on every host: files have no object name.
#[test]
fn a_named_file_is_refused() {
    let error = FixtureSpec::new()
        .handle(ObjectKind::File)
        .named_handle(ObjectKind::File, "no")
        .spawn()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

/// Without PSS (this runs under Wine): the child holds every handle the spec asked for (each
/// duplicates back out of it), its regions hold their contents, its threads run, `exit` ends it
/// with the code, and dropping the fixture terminates it.
#[cfg(windows)]
#[test]
fn the_child_holds_what_it_asked_for_and_ends_on_drop() {
    use pss_sys::*;

    mod kernel32 {
        use pss_sys::{BOOL, HANDLE};
        windows_targets::link!("kernel32.dll" "system" fn OpenThread(dwdesiredaccess: u32, binherithandle: BOOL, dwthreadid: u32) -> HANDLE);
        windows_targets::link!("kernel32.dll" "system" fn GetExitCodeThread(hthread: HANDLE, lpexitcode: *mut u32) -> BOOL);
    }
    const THREAD_QUERY_LIMITED_INFORMATION: u32 = 0x0800;
    const STILL: u32 = STILL_ACTIVE as u32;

    let exit_code = |process: HANDLE| {
        let mut code = 0;
        // SAFETY: a process handle this test owns; `code` is writable.
        assert_ne!(unsafe { GetExitCodeProcess(process, &mut code) }, 0);
        code
    };
    let target = spec(&unique("held")).spawn().unwrap();
    let child = open_process(
        target.pid(),
        PROCESS_DUP_HANDLE | PROCESS_VM_READ | PROCESS_QUERY_LIMITED_INFORMATION,
    )
    .unwrap();
    for handle in target.handles() {
        let mut copy = std::ptr::null_mut();
        // SAFETY: `child` has PROCESS_DUP_HANDLE; the value is the child's; `copy` is writable.
        let ok = unsafe {
            DuplicateHandle(
                child,
                handle.value() as HANDLE,
                current_process(),
                &mut copy,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        assert_ne!(ok, 0, "{handle:?} is not a handle of the child");
        close_handle(copy);
    }
    for region in target.regions() {
        let mut bytes = vec![0u8; region.size()];
        let mut read = 0;
        // SAFETY: `child` has PROCESS_VM_READ; `bytes` is writable for its length.
        let ok = unsafe {
            ReadProcessMemory(
                child,
                region.base() as *const _,
                bytes.as_mut_ptr().cast(),
                bytes.len(),
                &mut read,
            )
        };
        assert!(ok != 0 && read == bytes.len(), "{region:?}");
        let (head, tail) = bytes.split_at(region.contents().len());
        assert_eq!(head, region.contents());
        assert!(tail.iter().all(|&b| b == 0));
    }
    for &tid in target.threads() {
        // SAFETY: plain values; the handle is closed below.
        let thread = unsafe { kernel32::OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, tid) };
        assert!(!thread.is_null(), "thread {tid} of the child");
        let mut code = 0;
        // SAFETY: a thread handle just opened; `code` is writable.
        assert_ne!(unsafe { kernel32::GetExitCodeThread(thread, &mut code) }, 0);
        assert_eq!(code, STILL, "thread {tid} runs");
        close_handle(thread);
    }
    assert_eq!(exit_code(child), STILL, "the child runs");
    drop(target);
    assert_ne!(
        exit_code(child),
        STILL,
        "dropping the fixture ends the child"
    );
    close_handle(child);

    let target = FixtureSpec::new().spawn().unwrap();
    let child = open_process(target.pid(), PROCESS_QUERY_LIMITED_INFORMATION).unwrap();
    target.exit(42).unwrap();
    assert_eq!(exit_code(child), 42);
    drop(target);
    close_handle(child);
}
