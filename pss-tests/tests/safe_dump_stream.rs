//! `DumpWriter::write_to` into any `Write`, strictly forward: a destination that cannot seek, a
//! compressor (flate2), a file opened for appending; what a failed or cancelled write leaves;
//! progress; memory that cannot be read when it is written. Dumps are read back with
//! rust-minidump, and on the model walked by rust-minidump's processor.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use minidump::{Minidump, MinidumpMemoryList, MinidumpThreadList};
use pss::{CaptureFlags, DumpError, DumpInfo, DumpProgress, LocalSnapshot, ProcessAccess, Profile};
use pss_tests::*;

#[cfg(not(windows))]
#[allow(dead_code)] // the walk of one thread at a time is not needed here
mod unwind;

fn capture(pid: u32) -> LocalSnapshot {
    let flags = CaptureFlags::MINIDUMP;
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&handle, flags).unwrap()
}

/// A destination that implements `Write` and nothing else, as a pipe or a request body.
#[derive(Default)]
struct WriteOnly {
    bytes: Vec<u8>,
    calls: usize,
}

impl Write for WriteOnly {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The compression level: the fastest, or under Miri none (stored blocks: the same encoder and
/// format, without the search, which takes Miri minutes).
fn level() -> Compression {
    if cfg!(miri) {
        Compression::none()
    } else {
        Compression::fast()
    }
}

/// A dump of `snapshot` with `profile`, written to a `Vec`.
fn to_vec(snapshot: &LocalSnapshot, profile: Profile) -> Vec<u8> {
    let mut bytes = Vec::new();
    let summary = snapshot
        .minidump()
        .profile(profile)
        .write_to(&mut bytes)
        .unwrap();
    assert_eq!(summary.bytes, bytes.len() as u64);
    bytes
}

/// A dump goes into a destination that can only be written, and through a compressor; what
/// comes out (decompressed) is byte for byte the dump written to a `Vec`, which an
/// independent reader opens, and which says it is whole.
#[test]
fn dumps_stream_into_write_only_destinations_and_compressors() {
    require_pss!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid());
    for profile in [Profile::Small, Profile::Full] {
        let expected = to_vec(&snapshot, profile);
        let mut plain = WriteOnly::default();
        let summary = snapshot
            .minidump()
            .profile(profile)
            .write_to(&mut plain)
            .unwrap();
        assert_eq!(plain.bytes, expected, "{profile:?}: write-only");
        assert_eq!(summary.bytes, expected.len() as u64);

        let mut encoder = DeflateEncoder::new(WriteOnly::default(), level());
        snapshot
            .minidump()
            .profile(profile)
            .write_to(&mut encoder)
            .unwrap();
        let compressed = encoder.finish().unwrap().bytes;
        let mut decompressed = Vec::new();
        DeflateDecoder::new(&compressed[..])
            .read_to_end(&mut decompressed)
            .unwrap();
        assert_eq!(decompressed, expected, "{profile:?}: compressed");
        let info = DumpInfo::read(&decompressed).expect("pss's stream");
        assert!(info.is_complete() && info.unread.is_empty(), "{info:?}");
        assert_eq!(info.profile, profile);
        let dump = Minidump::read(decompressed).expect("an independent reader opens it");
        let threads: MinidumpThreadList<'_> = dump.get_stream().unwrap();
        assert_eq!(threads.threads.len(), summary.threads);
    }
    drop(snapshot);
    assert_no_leaks();
}

/// A write that fails is an error, and the destination has received a prefix of the dump and
/// no more: shorter than the size the dump's own stream records, so a consumer that checks it
/// ([`DumpInfo::is_complete`]) does not take it for a dump.
#[test]
fn a_failed_write_leaves_a_prefix_that_says_it_is_cut() {
    require_pss!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid());
    let whole = to_vec(&snapshot, Profile::Full);
    let lefts = if cfg!(miri) {
        vec![0, 5_000, whole.len() - 1]
    } else {
        vec![0, 100, 5_000, 70_000, whole.len() - 1]
    };
    for left in lefts {
        let mut out = Failing {
            bytes: Vec::new(),
            left,
        };
        match snapshot.minidump().full_memory().write_to(&mut out) {
            Err(DumpError::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
            other => panic!("after {left} bytes: {other:?}"),
        }
        assert!(out.bytes.len() <= left, "after {left} bytes");
        assert_eq!(out.bytes[..], whole[..out.bytes.len()], "a prefix");
        if let Some(info) = DumpInfo::read(&out.bytes) {
            assert!(!info.is_complete(), "after {left} bytes");
            assert_eq!(info.dump_size, whole.len() as u64);
        }
    }
    drop(snapshot);
    assert_no_leaks();
}

/// A destination that fails after `left` bytes.
struct Failing {
    bytes: Vec<u8>,
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The progress callback sees the bytes written grow to the planned total, which is the
/// dump's size, and is never called with all of it written; stopping it at any call is
/// `Cancelled`, with a prefix of the dump written and no more.
#[test]
fn progress_reports_and_cancels() {
    require_pss!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid());
    let whole = to_vec(&snapshot, Profile::Full);
    let reports = std::cell::RefCell::new(Vec::new());
    let record = |p: DumpProgress| {
        reports.borrow_mut().push(p);
        ControlFlow::Continue(())
    };
    let summary = snapshot
        .minidump()
        .full_memory()
        .progress(&record)
        .write_to(io::sink())
        .unwrap();
    let reports = reports.into_inner();
    assert!(reports.len() > 3, "{reports:?}");
    assert_eq!(reports[0].written, 0);
    assert!(reports.iter().all(|p| p.total == summary.bytes));
    assert!(reports.windows(2).all(|w| w[0].written <= w[1].written));
    assert!(reports.iter().all(|p| p.written < p.total));

    let stops = if cfg!(miri) {
        vec![0, reports.len() / 2]
    } else {
        vec![0, 1, reports.len() / 2, reports.len() - 1]
    };
    for stop in stops {
        let calls = Cell::new(0);
        let cancel = |_: DumpProgress| {
            calls.set(calls.get() + 1);
            if calls.get() > stop {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let mut out = Vec::new();
        let result = snapshot
            .minidump()
            .full_memory()
            .progress(&cancel)
            .write_to(&mut out);
        assert!(
            matches!(result, Err(DumpError::Cancelled)),
            "stopped at {stop}: {result:?}"
        );
        assert!(out.len() < whole.len());
        assert_eq!(out[..], whole[..out.len()], "a prefix");
        assert!(DumpInfo::read(&out).is_none_or(|info| !info.is_complete()));
        if stop == 0 {
            assert!(out.is_empty(), "cancelled before the first byte");
        }
    }
    drop(snapshot);
    assert_no_leaks();
}

/// Returns from the calling test, saying why, under Miri: its isolation has no file system.
macro_rules! require_files {
    () => {
        if cfg!(miri) {
            eprintln!(
                "skipped: {}: Miri's isolation has no file system to write dumps to",
                ::std::thread::current().name().unwrap_or("?")
            );
            return;
        }
    };
}

/// A file opened for appending gets the dump from where it ended (the writer never asks where
/// it is, nor seeks), so an empty one holds a valid dump and a non-empty one holds the dump
/// after its old bytes; `write_to_path` leaves no file when the write is cancelled.
#[test]
fn files_opened_for_appending_get_the_dump_and_cancelled_paths_no_file() {
    require_pss!();
    require_files!();
    let process = TestProcess::spawn();
    let snapshot = capture(process.pid());
    let whole = to_vec(&snapshot, Profile::Small);
    let path = std::env::temp_dir().join(format!("pss-tests-{}-append.dmp", std::process::id()));
    for prefix in [&b""[..], b"an earlier log line\n"] {
        std::fs::write(&path, prefix).unwrap();
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        snapshot.minidump().write_to(file).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..prefix.len()], prefix);
        assert_eq!(bytes[prefix.len()..], whole[..]);
        if prefix.is_empty() {
            let dump = Minidump::read(bytes).expect("a valid dump");
            assert!(dump.get_stream::<MinidumpMemoryList<'_>>().is_ok());
        }
    }
    let _ = std::fs::remove_file(&path);
    let cancel = |p: DumpProgress| {
        if p.written > 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let result = snapshot
        .minidump()
        .full_memory()
        .progress(&cancel)
        .write_to_path(&path);
    assert!(matches!(result, Err(DumpError::Cancelled)), "{result:?}");
    assert!(!path.exists(), "a cancelled dump leaves no file");
    drop(snapshot);
    assert_no_leaks();
}

/// Model processes give what Windows cannot be made to give on demand: memory that vanishes
/// between the plan and the write, and call stacks whose frames are known.
#[cfg(not(windows))]
mod model {
    use super::*;
    use minidump::MinidumpMemory64List;
    use minidump_unwind::FrameTrust;
    use pss::Omission;
    use pss_tests::model::*;

    /// rust-minidump's processor (what `minidump-stackwalk` runs) walks every thread of the
    /// demo process, in dumps of every profile decompressed from flate2, to exactly the frames
    /// the model laid out.
    #[test]
    fn the_processor_walks_every_thread_of_compressed_dumps() {
        let process = demo_process().spawn();
        let snapshot = capture(process.pid());
        let profiles: &[Profile] = if cfg!(miri) {
            eprintln!(
                "skipped under Miri: the plus and full dumps of the demo process (3 MiB each; \
                 the native run covers them)"
            );
            &[Profile::Small, Profile::Referenced]
        } else {
            &[
                Profile::Small,
                Profile::Referenced,
                Profile::Plus,
                Profile::Full,
            ]
        };
        for &profile in profiles {
            let mut encoder = DeflateEncoder::new(
                WriteOnly::default(),
                if cfg!(miri) {
                    Compression::none()
                } else {
                    Compression::default()
                },
            );
            snapshot
                .minidump()
                .profile(profile)
                .write_to(&mut encoder)
                .unwrap();
            let compressed = encoder.finish().unwrap().bytes;
            let mut bytes = Vec::new();
            DeflateDecoder::new(&compressed[..])
                .read_to_end(&mut bytes)
                .unwrap();
            assert_eq!(bytes, to_vec(&snapshot, profile));
            let dump = Minidump::read(bytes).unwrap();
            assert_walks(&dump, &process, &format!("{profile:?}"));
        }
        drop(snapshot);
        assert_no_leaks();
    }

    /// Runs rust-minidump's processor on `dump` and checks every thread of `process` with a
    /// call stack walks to exactly its frames.
    pub fn assert_walks(dump: &Minidump<'static, Vec<u8>>, process: &ModelProcess, what: &str) {
        let symbols = minidump_unwind::MultiSymbolProvider::new();
        let state = unwind::block_on(minidump_processor::process_minidump(dump, &symbols))
            .unwrap_or_else(|e| panic!("{what}: the processor fails: {e}"));
        for spec in process.threads() {
            let thread = state
                .threads
                .iter()
                .find(|t| t.thread_id == spec.tid())
                .unwrap_or_else(|| panic!("{what}: thread {:#x}", spec.tid()));
            let Some(expected) = spec.expected_frames() else {
                continue;
            };
            let found: Vec<(u64, FrameTrust)> = thread
                .frames
                .iter()
                .map(|f| (f.resume_address, f.trust))
                .collect();
            let wanted: Vec<(u64, FrameTrust)> = expected
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let trust = if i == 0 {
                        FrameTrust::Context
                    } else {
                        FrameTrust::FramePointer
                    };
                    (a as u64, trust)
                })
                .collect();
            assert_eq!(found, wanted, "{what}: thread {:#x}", spec.tid());
        }
    }

    /// Memory the plan found readable that cannot be read when written: the dump keeps its
    /// layout (the region is still in the memory list, where the plan put it), holds zeros
    /// there, and says so in the summary and in its own stream; the rest is intact.
    #[test]
    fn memory_that_vanishes_while_written_is_zeros_and_named() {
        let spec = ProcessSpec::new()
            .thread(ThreadSpec::new(0x10))
            .handle(HandleSpec::event(0x4, true, false))
            .region(RegionSpec::private(0x5000_0000, 0x4000).contents(&[0xAB; 0x4000]))
            .region(RegionSpec::private(0x5100_0000, 0x2000).contents(b"kept"));
        let process = spec.spawn();
        let snapshot = capture(process.pid());
        // The plan reads the region's first byte only: its second page, which every read
        // fails from now on, looks as readable as the rest.
        let gone = vanish_after(0x5000_1000, 0x1000, 0);
        let mut bytes = Vec::new();
        let summary = snapshot
            .minidump()
            .full_memory()
            .write_to(&mut bytes)
            .unwrap();
        drop(gone);
        assert!(
            summary.omissions.contains(&Omission::ZeroFilled {
                address: 0x5000_1000,
                size: 0x1000
            }),
            "{:?}",
            summary.omissions
        );
        let info = DumpInfo::read(&bytes).unwrap();
        assert!(info.is_complete());
        assert_eq!(info.unread, [(0x5000_1000, 0x1000)]);
        let dump = Minidump::read(bytes).unwrap();
        let memory: MinidumpMemory64List<'_> = dump.get_stream().unwrap();
        let region = memory.memory_at_address(0x5000_0000).unwrap();
        assert_eq!(region.size, 0x4000, "the planned layout is kept");
        assert!(region.bytes[..0x1000].iter().all(|&b| b == 0xAB));
        assert!(region.bytes[0x1000..0x2000].iter().all(|&b| b == 0));
        assert!(region.bytes[0x2000..].iter().all(|&b| b == 0xAB));
        let kept = memory.memory_at_address(0x5100_0000).unwrap();
        assert_eq!(&kept.bytes[..4], b"kept");
        drop(snapshot);
        assert_no_leaks();
    }
}
