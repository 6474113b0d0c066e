//! The watchdog's tests, as an application author writes them: against the kernel32 model of
//! `pss-tests` off Windows (model processes, injected faults, leak accounting), against a child
//! process and the real kernel32 on Windows.

use watchdog::{Report, Watchdog};

fn dump_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("watchdog-{}-{name}.dmp", std::process::id()))
}

#[cfg(windows)]
#[test]
fn reports_a_child_process() {
    pss_tests::require_pss!();
    let child = pss_tests::TestProcess::spawn();
    let watchdog = Watchdog::watch(child.pid()).unwrap();
    let dump = dump_path("child");
    let Report::Running(report) = watchdog.report(Some(&dump)).unwrap() else {
        panic!("the child runs")
    };
    assert!(!report.threads.is_empty());
    assert!(std::fs::read(&dump).unwrap().starts_with(b"MDMP"));
    let _ = std::fs::remove_file(dump);
}

/// Off Windows, the model's processes stand in for real ones; only this module names
/// `pss_tests::model`, to build them, inject faults and check for leaks.
#[cfg(not(windows))]
mod model {
    use super::*;
    use pss::ExitStatus;
    use pss_tests::model::{call_count, demo_process, faults};

    #[test]
    fn reports_a_running_process_and_writes_a_dump() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        let dump = dump_path("running");
        let Report::Running(report) = watchdog.report(Some(&dump)).unwrap() else {
            panic!("the process runs")
        };
        assert_eq!(report.pid, target.pid());
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
        let bytes = std::fs::read(&dump).unwrap();
        assert!(bytes.starts_with(b"MDMP"), "a minidump");
        let _ = std::fs::remove_file(dump);
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }

    #[test]
    fn an_exited_target_is_reported_not_an_error() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        target.exit(7);
        match watchdog.report(None).unwrap() {
            Report::Exited { pid, status } => {
                assert_eq!((pid, status), (target.pid(), ExitStatus::Exited(7)));
            }
            report => panic!("{report:?}"),
        }
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }

    #[test]
    fn a_busy_target_is_captured_on_a_retry() {
        let target = demo_process().spawn();
        let watchdog = Watchdog::watch(target.pid()).unwrap();
        target.race_handle_table(2);
        let before = call_count("PssCaptureSnapshot");
        assert!(matches!(watchdog.report(None).unwrap(), Report::Running(_)));
        assert_eq!(
            call_count("PssCaptureSnapshot") - before,
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
                faults::fail_nth("PssCaptureSnapshot", 1, pss::sys::ERROR_NO_SYSTEM_RESOURCES);
            let error = watchdog.report(None).unwrap_err();
            assert_eq!(error.code(), Some(pss::ErrorCode::NO_SYSTEM_RESOURCES));
        }
        for seed in 0..50 {
            let plan = faults::fail_randomly(seed, 0.2);
            let _ = watchdog.report(None); // whatever fails, fails cleanly
            drop(plan);
            let live = pss_tests::model::live();
            assert_eq!((live.snapshots, live.markers), (0, 0), "seed {seed}");
        }
        drop(watchdog);
        pss_tests::assert_no_leaks();
    }
}
