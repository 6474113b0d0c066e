//! `pss`'s minidump writer against what a caller or a target can hand it that is wrong or
//! hostile: a `CONTEXT` whose union holds its smaller variant, PE headers and loader lists that
//! lie, destinations whose writes do not go where they seek, stack limits of 0 and above 4 GiB.
//! Each test here failed before its fix (under Miri where the fault was undefined behaviour, for
//! `i686-unknown-linux-gnu` where it was a 32-bit overflow, with a counting allocator where it
//! was heap); the dump must stay valid (an independent reader, rust-minidump, opens it), the
//! writer's peak heap bounded, and every error must say what happened.

use std::io::Cursor;

use minidump::{Minidump, MinidumpException, MinidumpSystemInfo};
use pss::{CaptureFlags, DumpException, DumpSummary, LocalSnapshot, ProcessAccess};
use pss_sys as sys;
use pss_tests::*;

fn capture(pid: u32, flags: CaptureFlags) -> LocalSnapshot {
    let handle = pss::open_process(pid, ProcessAccess::for_capture(flags)).unwrap();
    LocalSnapshot::capture(&handle, flags).unwrap()
}

/// Writes `writer`'s dump to memory: its bytes and summary.
fn written(writer: pss::DumpWriter<'_>) -> (Vec<u8>, DumpSummary) {
    let mut out = Cursor::new(Vec::new());
    let summary = writer.write_to(&mut out).expect("the dump is written");
    let bytes = out.into_inner();
    assert_eq!(summary.bytes, bytes.len() as u64);
    (bytes, summary)
}

/// A `CONTEXT` as safe code builds one, registers set; on x64 (and arm64ec) with its `Anonymous`
/// union holding `CONTEXT_0_0` (416 bytes), which leaves the union's last 96 bytes (where
/// `XSAVE_FORMAT`, 512 bytes, keeps `Reserved4`) uninitialised.
fn context_built_in_safe_code() -> sys::CONTEXT {
    #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_AMD64,
            Rip: 0x7FF6_1234_5678,
            Rsp: 0x5000_0800,
            Rbp: 0x5000_0900,
            Anonymous: sys::CONTEXT_0 {
                Anonymous: sys::CONTEXT_0_0 {
                    Xmm15: sys::M128A {
                        Low: 0x1111_2222_3333_4444,
                        High: 0x5555_6666_7777_0000,
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }
    }
    #[cfg(target_arch = "x86")]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_X86,
            Eip: 0x7612_3456,
            Esp: 0x5000_0800,
            Ebp: 0x5000_0900,
            ..Default::default()
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        sys::CONTEXT {
            ContextFlags: sys::CONTEXT_ALL_ARM64,
            Pc: 0x7FF6_1234_5678,
            Sp: 0x5000_0800,
            Anonymous: sys::CONTEXT_0 {
                Anonymous: sys::CONTEXT_0_0 {
                    Fp: 0x5000_0900,
                    ..Default::default()
                },
            },
            ..Default::default()
        }
    }
}

/// Bullet 1 of issue 21: `DumpException::context` with a `CONTEXT` built in safe code. Before the
/// fix the writer read all of its bytes as `u8`, the uninitialised ones included; Miri:
/// "constructing invalid value of type [u8; 1232]: at [672], encountered uninitialized memory"
/// (natively, stale stack bytes went into the dump). Now the dump holds the registers, and zeros
/// where the union's smaller variant ends.
#[test]
fn a_context_built_in_safe_code_is_written_without_its_uninitialised_bytes() {
    require_pss!();
    let snapshot = LocalSnapshot::capture_current(CaptureFlags::NONE).unwrap();
    let context = context_built_in_safe_code();
    let exception =
        DumpException::new(7, 0xC000_0005, 0x7FF6_1234_5678_u64 as usize).context(&context);
    let (bytes, _) = written(snapshot.minidump().exception(exception));
    drop(snapshot);
    let dump = Minidump::read(&bytes[..]).expect("an independent reader opens the dump");
    let stream: MinidumpException<'_> = dump.get_stream().unwrap();
    let system: MinidumpSystemInfo = dump.get_stream().unwrap();
    let parsed = stream
        .context(&system, None)
        .expect("the exception's context parses");
    assert_eq!(parsed.get_stack_pointer(), 0x5000_0800);
    assert_eq!(
        parsed.get_instruction_pointer(),
        if cfg!(target_arch = "x86") {
            0x7612_3456
        } else {
            0x7FF6_1234_5678
        }
    );
    let location = stream.raw.thread_context;
    let at = location.rva as usize;
    let record = &bytes[at..at + location.data_size as usize];
    assert_eq!(record.len(), size_of::<sys::CONTEXT>());
    #[cfg(any(target_arch = "x86_64", target_arch = "arm64ec"))]
    {
        // Xmm15 is the smaller variant's last field; the 96 bytes after it are zeros.
        let union_at = core::mem::offset_of!(sys::CONTEXT, Anonymous);
        let xmm15 = union_at + size_of::<sys::CONTEXT_0_0>() - 16;
        assert_eq!(
            record[xmm15..xmm15 + 8],
            0x1111_2222_3333_4444_u64.to_le_bytes()
        );
        let tail = union_at + size_of::<sys::CONTEXT_0_0>()..union_at + size_of::<sys::CONTEXT_0>();
        assert_eq!(tail.len(), 96);
        assert!(record[tail].iter().all(|&b| b == 0));
    }
    assert_no_leaks();
}
