//! Many threads at once: capturing, walking, duplicating and freeing their own snapshots, while
//! remote snapshots that share one process handle through an `Arc` are sent to another thread
//! and freed there. Nothing leaks, nothing is freed twice or through the wrong process (the
//! model aborts on that), and under Miri (a small case) no data race. Model-only for the
//! accounting; the same calls on Windows are covered by the other suites.
#![cfg(not(windows))]

use std::sync::mpsc;
use std::sync::{Arc, Barrier};

use pss::{CaptureFlags, LocalSnapshot, ProcessAccess, RemoteSnapshot};
use pss_tests::model::{self, HandleSpec, ProcessSpec, RegionSpec, ThreadSpec};

const WORKERS: usize = if cfg!(miri) { 2 } else { 8 };
const ROUNDS: usize = if cfg!(miri) { 2 } else { 25 };

fn target() -> ProcessSpec {
    (0..4).fold(ProcessSpec::new(), |spec, i| {
        spec.thread(ThreadSpec::new(0x400 + 4 * i))
            .handle(HandleSpec::event(0x40 + 4 * i as usize, false, true))
            .region(RegionSpec::private(
                0x50_0000 + 0x1_0000 * i as usize,
                0x1000,
            ))
    })
}

#[test]
fn threads_capture_walk_duplicate_and_free_at_once() {
    let shared = target().spawn();
    let handle: Arc<pss::Process> =
        Arc::new(pss::open_process(shared.pid(), ProcessAccess::all()).unwrap());
    let (send, receive) = mpsc::channel::<RemoteSnapshot<Arc<pss::Process>>>();
    // Frees every remote snapshot it receives, on its own thread.
    let freer = std::thread::spawn(move || {
        let mut freed = 0;
        for remote in receive {
            remote.close().unwrap();
            freed += 1;
        }
        freed
    });
    let start = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (handle, send, start) = (handle.clone(), send.clone(), start.clone());
            std::thread::spawn(move || {
                let own = target().spawn();
                let own_handle =
                    pss::open_process(own.pid(), ProcessAccess::for_capture(CaptureFlags::all()))
                        .unwrap();
                start.wait();
                for round in 0..ROUNDS {
                    let flags =
                        CaptureFlags::THREADS | CaptureFlags::HANDLES | CaptureFlags::VA_SPACE;
                    let snapshot = if (w + round) % 2 == 0 {
                        LocalSnapshot::capture(&own_handle, flags).unwrap()
                    } else {
                        LocalSnapshot::capture(&*handle, flags).unwrap()
                    };
                    assert_eq!(snapshot.threads().unwrap().iter().count(), 4);
                    let copy = snapshot.duplicate().unwrap();
                    assert_eq!(copy.handles().unwrap().iter().count(), 4);
                    send.send(snapshot.duplicate_into(handle.clone()).unwrap())
                        .unwrap();
                    drop(snapshot);
                    copy.close().unwrap();
                }
                drop(own_handle);
                drop(own);
                std::thread::current().id()
            })
        })
        .collect();
    drop(send);
    let ids: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(freer.join().unwrap(), WORKERS * ROUNDS);
    for id in ids {
        assert_eq!(model::leaks_of(id), Vec::<String>::new());
    }
    assert_eq!(model::live_in(shared.pid()).snapshots, 0);
    drop(handle);
    drop(shared);
    pss_tests::assert_no_leaks();
}
