//! The watchdog's tests, as an application author writes them. The first two run unchanged on
//! every host: they build their target with the test kit's portable fixture (a model process
//! off Windows, a real child process on Windows). The rest need what only the kernel32 model
//! can do (a handle table that changes during a capture, injected failures, the leak and call
//! accounting), so they are model tests.

use pss::ExitStatus;
use pss_tests::{FixtureSpec, ObjectKind, require_pss};
use watchdog::{Report, Watchdog};

fn dump_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("watchdog-{}-{name}.dmp", std::process::id()))
}

/// A process with threads, handles of four kinds and memory: the report lists its threads and
/// counts its handles by type, and the dump is written.
#[test]
fn reports_a_process_and_writes_a_dump() {
    let target = FixtureSpec::new()
        .threads(2)
        .handle(ObjectKind::Event)
        .handle(ObjectKind::Mutex)
        .handle(ObjectKind::Section { size: 0x1_0000 })
        .handle(ObjectKind::File)
        .region(b"the watched process's state")
        .spawn()
        .unwrap();
    require_pss!();
    let watchdog = Watchdog::watch(target.pid()).unwrap();
    let dump = dump_path("running");
    let Report::Running(report) = watchdog.report(Some(&dump)).unwrap() else {
        panic!("the process runs")
    };
    assert_eq!(report.pid, target.pid());
    for tid in target.threads() {
        assert!(
            report.threads.iter().any(|(id, ..)| id == tid),
            "thread {tid} in {:?}",
            report.threads
        );
    }
    for handle in target.handles() {
        let type_name = handle.kind().type_name();
        let count = report.handles.get(type_name).copied().unwrap_or(0);
        let asked = target
            .handles()
            .iter()
            .filter(|h| h.kind().type_name() == type_name)
            .count();
        assert!(count >= asked, "{type_name}: {count} of {asked}");
    }
    assert!(report.main_image.is_some(), "the main image's header");
    let bytes = std::fs::read(&dump).unwrap();
    assert!(bytes.starts_with(b"MDMP"), "a minidump");
    let _ = std::fs::remove_file(dump);
    drop(watchdog);
    pss_tests::assert_no_leaks();
}

/// A target that has exited since the watch started is reported with its exit code.
#[test]
fn an_exited_target_is_reported_not_an_error() {
    let target = FixtureSpec::new().threads(1).spawn().unwrap();
    require_pss!();
    let watchdog = Watchdog::watch(target.pid()).unwrap();
    target.exit(7).unwrap();
    match watchdog.report(None).unwrap() {
        Report::Exited { pid, status } => {
            assert_eq!((pid, status), (target.pid(), ExitStatus::Exited(7)));
        }
        report => panic!("{report:?}"),
    }
    drop(watchdog);
    pss_tests::assert_no_leaks();
}

/// Off Windows, what only the model can do; only this module names `pss_tests::model`.
#[cfg(not(windows))]
mod model {
    use super::*;
    use pss::ErrorCode;
    use pss_tests::Call;
    use pss_tests::model::{call_count, demo_process, faults};

    #[test]
    fn reports_the_demo_process_in_detail() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        let Report::Running(report) = watchdog.report(None).unwrap() else {
            panic!("the process runs")
        };
        assert_eq!(report.threads.len(), 4);
        assert!(
            report
                .threads
                .iter()
                .any(|(_, ip, sp)| ip.is_some() && sp.is_some())
        );
        assert_eq!(report.handles.get("Event"), Some(&2));
        assert_eq!(report.handles.get("File"), Some(&2));
        assert_eq!(report.largest_regions.len(), 3);
        assert_eq!(
            report.main_image.map(|(base, _)| base),
            Some(0x7ff6_0000_0000)
        );
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }

    #[test]
    fn a_busy_target_is_captured_on_a_retry() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        target.race_handle_table(2);
        let before = call_count(Call::PssCaptureSnapshot);
        assert!(matches!(watchdog.report(None).unwrap(), Report::Running(_)));
        assert_eq!(
            call_count(Call::PssCaptureSnapshot) - before,
            3,
            "two races, then success"
        );
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }

    #[test]
    fn injected_failures_come_back_as_errors_and_leak_nothing() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        {
            let _plan =
                faults::fail_nth(Call::PssCaptureSnapshot, 1, ErrorCode::NO_SYSTEM_RESOURCES)
                    .unwrap();
            let error = watchdog.report(None).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::NO_SYSTEM_RESOURCES));
        }
        // The probability is per call: a report makes about 35 calls that can fail, so at
        // 1 % about one report in three fails, and both outcomes occur over 50 seeds.
        let (mut failed, mut succeeded) = (0, 0);
        for seed in 0..50 {
            let plan = faults::fail_randomly(seed, 0.01).unwrap();
            match watchdog.report(None) {
                Ok(_) => succeeded += 1,
                Err(_) => failed += 1, // whatever fails, fails cleanly
            }
            drop(plan);
            let live = pss_tests::model::live();
            assert_eq!((live.snapshots, live.markers), (0, 0), "seed {seed}");
        }
        assert!(
            failed > 0 && succeeded > 0,
            "{failed} failed, {succeeded} ran"
        );
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }
}
