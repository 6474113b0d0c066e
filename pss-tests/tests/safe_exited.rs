//! A capture whose target has exited is recognisable from its error alone
//! (`Error::target_exit_code`), without a second capture; other failures with the same codes
//! are not mistaken for it.

use pss::{CaptureFlags, CaptureOptions, LocalSnapshot, ProcessAccess};
use pss_tests::*;

/// Every part an exit takes away fails the capture with the exit code attached, at once (no
/// retry of a "handle race" that is an exit), for one more call: `GetExitCodeProcess`.
#[test]
fn an_exited_target_is_recognised_in_one_call() {
    require_pss!();
    let target = FixtureSpec::new().threads(1).spawn().unwrap();
    let access = ProcessAccess::for_capture(CaptureFlags::MINIDUMP);
    let process = pss::open_process(target.pid(), access).unwrap();
    target.exit(7).unwrap();
    for flags in [
        CaptureFlags::HANDLES,
        CaptureFlags::VA_SPACE,
        CaptureFlags::VA_CLONE,
        CaptureFlags::DIAGNOSTICS,
        CaptureFlags::MINIDUMP,
    ] {
        let options = CaptureOptions::new(flags).retry_handle_race(3);
        let error = expect::calls(Call::PssCaptureSnapshot, 1, || {
            expect::calls(Call::GetExitCodeProcess, 1, || {
                LocalSnapshot::capture(&process, options)
            })
        })
        .unwrap_err();
        assert_eq!(error.target_exit_code(), Some(7), "{flags:?}: {error}");
        assert!(
            error
                .reason()
                .unwrap()
                .starts_with("the process has exited"),
            "{flags:?}: {error}"
        );
    }
    // What is left: the process information, with the same exit code.
    let snapshot = LocalSnapshot::capture(&process, CaptureFlags::NONE).unwrap();
    let status = snapshot.process_information().unwrap().exit_status();
    assert_eq!(status, pss::ExitStatus::Exited(7));
    drop((snapshot, process));
    assert_no_leaks();
}

/// A running target's failures keep `target_exit_code` empty.
#[cfg(not(windows))]
mod model {
    use super::*;
    use pss::ErrorCode;
    use pss_tests::model::ProcessSpec;

    /// A handle table that changed is not an exit: retried, and recognised as running each time.
    #[test]
    fn a_handle_race_is_not_an_exit() {
        let target = ProcessSpec::console().handle_table_races(1).spawn();
        let process = pss::open_process(target.pid(), ProcessAccess::all()).unwrap();
        let error = LocalSnapshot::capture(&process, CaptureFlags::HANDLES).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::BAD_LENGTH));
        assert_eq!(error.target_exit_code(), None);
        target.race_handle_table(2);
        let options = CaptureOptions::new(CaptureFlags::HANDLES).retry_handle_race(3);
        let snapshot = expect::calls(Call::GetExitCodeProcess, 2, || {
            expect::calls(Call::PssCaptureSnapshot, 3, || {
                LocalSnapshot::capture(&process, options)
            })
        });
        drop((snapshot.unwrap(), process));
        assert_no_leaks();
    }

    /// Rights a VA clone needs, missing: `ACCESS_DENIED`, and the process runs.
    #[test]
    fn missing_rights_are_not_an_exit() {
        let target = ProcessSpec::console().spawn();
        let process =
            pss::open_process(target.pid(), ProcessAccess::QUERY_LIMITED_INFORMATION).unwrap();
        let error = LocalSnapshot::capture(&process, CaptureFlags::VA_CLONE).unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::ACCESS_DENIED));
        assert_eq!(error.target_exit_code(), None);
        assert!(
            !error
                .reason()
                .unwrap()
                .starts_with("the process has exited")
        );
    }

    /// A process that exited with 259 (`STILL_ACTIVE`) reads as running, as
    /// `GetExitCodeProcess` documents: not recognised.
    #[test]
    fn an_exit_code_of_259_reads_as_running() {
        let target = ProcessSpec::console().spawn();
        let process = pss::open_process(target.pid(), ProcessAccess::all()).unwrap();
        target.exit(259);
        let error = LocalSnapshot::capture(&process, CaptureFlags::HANDLES).unwrap_err();
        assert_eq!(error.target_exit_code(), None);
    }
}
