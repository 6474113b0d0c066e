//! A small crash watchdog, written against `pss`'s public API the way its docs teach: it
//! captures a process that misbehaves (threads with contexts, handles, the address space, the
//! VA clone), reports where each thread is, what the process holds open, its largest regions
//! and its main image, and writes a minidump. A target that has exited is reported, not an
//! error: its failed capture says so (`Error::target_exit_code`).

use std::collections::BTreeMap;
use std::path::Path;

use pss::{
    CaptureFlags, CaptureOptions, ExitStatus, LocalSnapshot, MinidumpType, Process, ProcessAccess,
};

/// What the watchdog found.
#[derive(Debug)]
pub enum Report {
    /// The process was running: its threads, handles, regions and main image.
    Running(Running),
    /// The process had exited (only its process information could be captured).
    Exited { pid: u32, status: ExitStatus },
}

/// A report on a running process.
#[derive(Debug, Default)]
pub struct Running {
    pub pid: u32,
    /// (thread id, instruction pointer, stack pointer), in capture order.
    pub threads: Vec<(u32, Option<usize>, Option<usize>)>,
    /// Handle counts by type name (`"?"` for handles whose type was not captured).
    pub handles: BTreeMap<String, usize>,
    /// The three largest committed regions: (base, size).
    pub largest_regions: Vec<(usize, usize)>,
    /// The main image's load address and the offset of its PE header (`e_lfanew`).
    pub main_image: Option<(usize, u32)>,
}

/// The watchdog for one process: the handle is opened once, when watching starts (a process
/// that is dying may not be openable later).
pub struct Watchdog {
    pid: u32,
    process: Process,
}

/// What the watchdog captures: everything a report and a full dump need.
pub const FLAGS: CaptureFlags = CaptureFlags::MINIDUMP;

impl Watchdog {
    /// Starts watching `pid`, with the least rights the capture needs.
    pub fn watch(pid: u32) -> pss::Result<Watchdog> {
        let process = pss::open_process(pid, ProcessAccess::for_capture(FLAGS))?;
        Ok(Watchdog { pid, process })
    }

    /// Captures the process now and reports on it; with `dump`, also writes a full minidump
    /// there. Every way a dying target fails is handled here, in one place.
    pub fn report(&self, dump: Option<&Path>) -> pss::Result<Report> {
        let options = CaptureOptions::new(FLAGS).retry_handle_race(3);
        let snapshot = match LocalSnapshot::capture(&self.process, options) {
            Ok(snapshot) => snapshot,
            // Exited: no threads, handles, address space or clone to capture, and the error
            // says so, with the exit code.
            Err(e) => match e.target_exit_code() {
                Some(code) => {
                    return Ok(Report::Exited {
                        pid: self.pid,
                        status: ExitStatus::Exited(code),
                    });
                }
                None => return Err(e),
            },
        };
        let mut running = Running {
            pid: snapshot.process_information()?.process_id(),
            ..Running::default()
        };
        for thread in &snapshot.threads()? {
            let thread = thread?;
            running.threads.push((
                thread.thread_id(),
                thread.instruction_pointer(),
                thread.stack_pointer(),
            ));
        }
        for handle in &snapshot.handles()? {
            let handle = handle?;
            let name = handle
                .type_name()
                .map_or("?".to_string(), |name| name.to_string_lossy());
            *running.handles.entry(name).or_default() += 1;
        }
        let mut regions: Vec<(usize, usize)> = Vec::new();
        for entry in &snapshot.va_space()? {
            let region = entry?.region();
            if region.state == pss::MemoryState::Commit {
                regions.push((region.base_address, region.region_size));
            }
        }
        regions.sort_by_key(|&(_, size)| std::cmp::Reverse(size));
        regions.truncate(3);
        running.largest_regions = regions;
        // The main image's header, read through the VA clone while the process runs on.
        if let Ok(image) = snapshot.main_image() {
            let clone = snapshot.va_clone()?;
            let magic: [u8; 2] = clone.read_value(image.base)?;
            if &magic == b"MZ" {
                let e_lfanew: u32 = clone.read_value(image.base + 0x3c)?;
                running.main_image = Some((image.base, e_lfanew));
            }
        }
        if let Some(path) = dump {
            snapshot.write_minidump_to_path(path, MinidumpType::FULL)?;
        }
        snapshot.close()?;
        Ok(Report::Running(running))
    }
}
