//! The test kit as an application author meets it: what the dependency turns on, the preset
//! process, typed faults and call names.

/// The kit asks `pss` for its feature `model` and nothing else: a feature the kit turned on
/// would exist in the user's test builds and not in their normal build (`cargo test` passing
/// where `cargo build` fails). Read from the kit's manifest, the one place that decides it.
#[test]
fn the_kit_turns_on_no_pss_feature_but_model() {
    let manifest = include_str!("../Cargo.toml");
    let dependencies = manifest
        .split("\n[")
        .find(|section| section.starts_with("dependencies]"))
        .expect("a [dependencies] section");
    let pss = dependencies
        .lines()
        .find(|line| line.starts_with("pss ="))
        .expect("a dependency on pss");
    assert!(
        pss.contains(r#"features = ["model"]"#),
        "the kit's pss dependency: {pss}"
    );
    let sys = dependencies
        .lines()
        .find(|line| line.starts_with("pss-sys"))
        .expect("a dependency on pss-sys");
    assert!(
        !sys.contains("features"),
        "the kit's pss-sys dependency: {sys}"
    );
}

/// Every function the kit names is one the model defines (and counts) under that name, or
/// dbghelp's.
#[cfg(not(windows))]
#[test]
fn every_call_is_a_function_of_the_model() {
    use pss_tests::Call;
    let kernel32: Vec<u16> = "kernel32.dll\0".encode_utf16().collect();
    for &call in Call::ALL {
        if call == Call::MiniDumpWriteDump {
            continue; // dbghelp's, not kernel32's
        }
        let name = std::ffi::CString::new(call.name()).unwrap();
        // SAFETY: NUL-terminated names; the module handle is only passed to GetProcAddress.
        let found = unsafe {
            let module = pss_sys::GetModuleHandleW(kernel32.as_ptr());
            pss_sys::GetProcAddress(module, name.as_ptr().cast()).is_some()
        };
        assert!(found, "{call} is not a function of the model");
        assert_eq!(Call::from_name(call.name()), Some(call));
    }
}

#[cfg(not(windows))]
mod model {
    use pss::{CaptureFlags, ErrorCode, ErrorKind, Function, LocalSnapshot, ProcessAccess};
    use pss_tests::model::{ProcessSpec, faults};
    use pss_tests::{Call, assert_no_leaks, expect};

    /// `ProcessSpec::new()` is empty, and a capture with handles of it fails as Windows fails
    /// one of a process without handles; the preset `console()` captures with every preset.
    #[test]
    fn the_console_preset_captures_with_every_preset_and_the_empty_spec_does_not() {
        let empty = ProcessSpec::new().spawn();
        let process = pss::open_process(empty.pid(), ProcessAccess::all()).unwrap();
        for flags in [CaptureFlags::DIAGNOSTICS, CaptureFlags::MINIDUMP] {
            let error = LocalSnapshot::capture(&process, flags).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::INVALID_PARAMETER), "{error}");
        }
        let error = LocalSnapshot::capture(&process, CaptureFlags::HANDLES).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::BAD_LENGTH));
        drop(process);
        let console = ProcessSpec::console().spawn();
        let process = pss::open_process(console.pid(), ProcessAccess::all()).unwrap();
        for flags in [
            CaptureFlags::NONE,
            CaptureFlags::DIAGNOSTICS,
            CaptureFlags::MINIDUMP,
            CaptureFlags::MINIDUMP | CaptureFlags::AUXILIARY_PAGES,
        ] {
            let snapshot = LocalSnapshot::capture(&process, flags).unwrap();
            if flags.contains(CaptureFlags::THREADS) {
                assert_eq!(snapshot.thread_information().unwrap().threads_captured, 1);
                assert_eq!(snapshot.handle_count().unwrap(), 3);
            }
            if flags.contains(CaptureFlags::VA_CLONE) {
                let image = snapshot.main_image().unwrap();
                let name = image.file_name.map(|n| n.to_string_lossy());
                assert!(name.unwrap().ends_with(r"\cmd.exe"));
            }
        }
        drop(process);
        assert_no_leaks();
    }

    /// Faults are named by `Call` and `ErrorCode`; a failure Windows does not have is refused,
    /// and so is a second plan.
    #[test]
    fn fault_plans_outside_the_table_are_refused() {
        assert_eq!(
            faults::codes(Call::OpenProcess),
            [ErrorCode::ACCESS_DENIED, ErrorCode::INVALID_PARAMETER]
        );
        assert!(faults::codes(Call::PssQuerySnapshot).is_empty());
        let refused = faults::fail_nth(Call::PssQuerySnapshot, 1, ErrorCode::ACCESS_DENIED);
        assert!(refused.unwrap_err().to_string().contains("no faults"));
        let refused = faults::fail_nth(Call::PssCaptureSnapshot, 1, ErrorCode::NOT_FOUND);
        assert!(refused.unwrap_err().to_string().contains("codes are"));
        assert!(faults::fail_nth(Call::PssCaptureSnapshot, 0, ErrorCode::ACCESS_DENIED).is_err());
        assert!(faults::fail_randomly(1, 2.0).is_err());
        let plan = faults::fail_randomly(1, 0.0).unwrap();
        assert!(
            faults::fail_randomly(1, 0.0).is_err(),
            "one plan per thread"
        );
        drop(plan);
        assert!(
            faults::fail_randomly(1, 0.0).is_ok(),
            "the plan ended on drop"
        );
    }

    /// `OpenProcess` fails as injected: no handle, the code through `GetLastError`.
    #[test]
    fn open_process_faults_are_injected() {
        let target = ProcessSpec::console().spawn();
        for code in faults::codes(Call::OpenProcess) {
            let plan = faults::fail_nth(Call::OpenProcess, 2, code).unwrap();
            let first = pss::open_process(target.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION);
            assert!(first.is_ok(), "the first call is not the second");
            drop(first);
            let error = expect::calls(Call::OpenProcess, 1, || {
                pss::open_process(target.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION)
            })
            .unwrap_err();
            assert_eq!(
                (error.function(), error.kind()),
                (Function::OpenProcess, ErrorKind::Os(code))
            );
            assert_eq!(plan.injected(), 1);
        }
        assert_no_leaks();
    }

    /// The probability is per call: at 0.2 a capture (one call) fails about one time in five,
    /// and a walk about one time in three: of its calls, only the marker's creation and its
    /// first walk call can fail (a marker maps its view once, as Windows does), each with
    /// probability 0.2 (1 - 0.8² = 0.36); both outcomes occur over 100 seeds.
    #[test]
    fn fail_randomly_is_per_call() {
        let target = ProcessSpec::console().spawn();
        let process = pss::open_process(target.pid(), ProcessAccess::all()).unwrap();
        let mut capture_failures = 0;
        let mut walk_failures = 0;
        for seed in 0..100 {
            let _plan = faults::fail_randomly(seed, 0.2).unwrap();
            match LocalSnapshot::capture(&process, CaptureFlags::VA_SPACE) {
                Err(_) => capture_failures += 1,
                Ok(snapshot) => {
                    // The console program has 8 regions: a marker and 9 walk calls, of which
                    // only the marker and the first walk call can fail.
                    let walked: pss::Result<Vec<_>> = snapshot.va_space().and_then(|walk| {
                        walk.iter().map(|entry| entry.map(|e| e.region())).collect()
                    });
                    walk_failures += usize::from(walked.is_err());
                }
            }
        }
        assert!((5..=40).contains(&capture_failures), "{capture_failures}");
        let walks = 100 - capture_failures;
        assert!(
            walk_failures * 100 >= walks * 15 && walk_failures * 100 <= walks * 60,
            "{walk_failures} of {walks}"
        );
        drop(process);
        assert_no_leaks();
    }

    /// Typed rights: `grantable` takes a `ProcessAccess`, `granted_access` gives one.
    #[test]
    fn rights_are_typed() {
        let target = ProcessSpec::console()
            .grantable(ProcessAccess::QUERY_LIMITED_INFORMATION)
            .spawn();
        let process =
            pss::open_process(target.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap();
        assert_eq!(
            pss_tests::model::granted_access(&process),
            Some(ProcessAccess::QUERY_LIMITED_INFORMATION)
        );
        let error = pss::open_process(target.pid(), ProcessAccess::all()).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::ACCESS_DENIED));
    }
}
