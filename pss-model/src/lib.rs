//! A model of kernel32's Process Snapshotting API, for hosts that are not Windows.
//!
//! `pss-sys` declares kernel32's functions as `extern "system"` items; this module defines every
//! one of them with `#[unsafe(no_mangle)]` (the PSS functions in `exports.rs`, the process and
//! handle functions around them in `process.rs`, `ReadProcessMemory` in `memory.rs`, the named
//! mutexes that serialise dbghelp in `mutex.rs`, `CreateFileW` and `FormatMessageW` in
//! `files.rs`, and dbghelp's `MiniDumpWriteDump` in `dump.rs`), so unchanged `pss` code links against it. It
//! answers from real state (no canned replies) and is loud about misuse: a double free, a use
//! after free, a free through `GetCurrentProcess()` of a snapshot that lives in another process,
//! a snapshot handle given to `CloseHandle` and the like print `pss-tests model: misuse in <Call>: ...` and abort the process.
//!
//! # What it follows
//!
//! Where public evidence shows what Windows really does (decompiled Windows 11 ntdll and kernel,
//! Microsoft's samples, tests run on Windows, production users: the sources below), the model
//! does that. Elsewhere it takes the strictest plausible reading of Microsoft's pages. Every such
//! choice is a row of the table below, with its evidence, and a test of the repository's
//! contract suite pins each.
//!
//! # Sources
//!
//! | tag | what | where |
//! |---|---|---|
//! | ND | decompiled Windows 11 ntdll (`PssNtCaptureSnapshot`, `PssNtQuerySnapshot`, `PssNtWalkSnapshot`, `PssNtFreeRemoteSnapshot`, `PssNtDuplicateSnapshot` and their helpers, e.g. `PsspCaptureThreadInformation`, `PsspDumpThread`, `RtlGetExtendedContextLength2`) | GitHub `nohuto/decompiled-pseudocode` (commit `68087ba3`), e.g. `11-24H2/ntdll/PssNtWalkSnapshot.c` |
//! | NK | decompiled Windows 11 23H2 and 24H2 kernel (`MmQueryVirtualMemory`, `MiCopyVirtualMemory`, `PspAllocateProcess`, `NtGetNextThread`, `NtQueryInformationThread`, `PspQueryLastCallThread`, `PspGetContextThreadInternal`, `KeRundownApcQueues`) | the same repository, ntoskrnl |
//! | GK | Microsoft's 2013 samples psscap.c and pssdump.c | GitHub `genghiskMSFT/psswin32` |
//! | SDK | the SDK header, 10.0.26100 (`PSS_WALK_THREAD_NAME`, `PSS_THREAD_NAME`) | `microsoft/win32metadata`, `generation/WinSDK/RecompiledIdlHeaders/um/ProcessSnapshot.h` |
//! | PHNT | native definitions | `winsiderss/systeminformer`, `phnt/include/ntpsapi.h` |
//! | VAN | unit tests run on real Windows | `dahall/Vanara`, `UnitTests/PInvoke/Kernel32/ProcessSnapshotTests.cs` |
//! | WER | Windows Error Reporting's own capture | disassembly listings in public code search |
//! | CLRMD | VA-clone readers in production | `microsoft/clrmd` issues #91, #903, #925, #1334, PR #1441 |
//! | KUDU | snapshot → `MiniDumpWriteDump` in production | `projectkudu/kudu` PR #2930 |
//! | CPY | `os.getppid` on Windows | `python/cpython`, `Modules/posixmodule.c` |
//! | DD | own-process thread metrics | `DataDog/dd-trace-dotnet`, `ProcessSnapshotRuntimeInformation.cs` |
//! | WINTERNL | Microsoft's documented part of the PEB and the process parameters | learn.microsoft.com, `winternl.h`: `PEB`, `RTL_USER_PROCESS_PARAMETERS` |
//! | MDPY | a reader of the PEB and the process parameters in minidumps (x86 and x64 offsets) | Python's `minidump` package, `skelsec/minidump`, `minidump/structures/peb.py` |
//! | WINE-T | Wine's conformance tests, which run on Windows (`broken()` marks Windows' own variations): a 64-bit process reading a WOW64 child's TEBs and PEBs, `RtlWow64GetCpuAreaInfo` per machine | `wine-mirror/wine`, `dlls/ntdll/tests/wow64.c` (`test_peb_teb`, `test_cpu_area`) |
//! | WINE | Wine's WOW64 (`RtlWow64GetCpuAreaInfo`, the CPU DLL per machine, `ProcessBasicInformation` for 32-bit callers) | `wine-mirror/wine`, `dlls/ntdll/process.c`, `dlls/wow64/syscall.c`, `dlls/wow64/process.c` |
//! | PHNTW | WOW64 layouts (`TEB32`, `PEB32`, `LDR_DATA_TABLE_ENTRY32` with offset asserts; `WOW64_GET_TEB32`, `WOW64_TEB32_POINTER_ADDRESS`, `Wow64CurrentGuestTeb` from the SDK's `wow64t.h`) | `winsiderss/phnt`, `ntwow64.h`, `ntpebteb.h` |
//! | ARM | Microsoft's "How emulation works on Arm" | `learn.microsoft.com/windows/arm/apps-on-arm-x86-emulation` |
//!
//! # What it holds
//!
//! - A process table: the current process ([`CURRENT_PID`], pseudo handle `-1`; two threads
//!   with call stacks and last errors, four handles, its image, `kernel32.dll` and `ntdll.dll`,
//!   a mapped file, the shared user-data page, the threads' stacks, its PEB with the loader
//!   list, TEBs and process parameters) and processes a test
//!   creates with [`ProcessSpec`] (with knobs for what Windows varies: the image-name limit,
//!   handle tracing and its size, the CPU's extended state ([`XState`], which sizes extended
//!   contexts), jobs that forbid breakaway, a handle table that changes during capture, a
//!   kernel32 that knows thread names, the `ReadProcessMemory` chunk; per thread, an unreadable
//!   context, an unopenable thread, a name, a running thread, and threads that change while a
//!   capture runs: one that exits, one renamed, one whose handle is closed under the capture;
//!   per handle, one that cannot be duplicated, one whose type cannot be queried, one without
//!   type-specific data). Exited processes ([`ModelProcess::exit`]) have no threads, handles or
//!   address space left. VA clones join the table while any handle to them is open.
//!   Images may be laid out in sections, one region each, as the loader maps them
//!   ([`ProcessSpec::image_in_sections`], and [`service_process`], a process with a heap and
//!   four such images); memory may vanish between two reads ([`vanish_after`]).
//! - Kernel handles of the current process, with granted access: `OpenProcess` grants only
//!   what the target's [`ProcessSpec::grantable`] allows.
//! - Snapshots living in one process's context, each sharing (`Arc`) exactly the parts its flags
//!   asked for; walk markers with opaque positions that own the memory every entry pointer
//!   points into.
//! - Per-thread call counters ([`calls`]) and per-thread and per-process live-object counts
//!   ([`live`], [`live_in`], [`leaks`]). libtest runs each test on its own thread, so
//!   a test sees only its own calls and objects even though all share the current process.
//!
//! It builds and runs on 32-bit hosts too (Miri runs the safe-crate tests for `i686`).
//!
//! # What model processes hold in memory
//!
//! Enough of what real processes hold for dumps of them to be worth reading: a reader (the
//! model's own `MiniDumpWriteDump`, a minidump writer under test, rust-minidump's stack walker)
//! finds modules by their CodeView records, walks stacks without symbols, and follows the TEB,
//! the PEB and the loader's list. What was laid out can be read back: [`RegionSpec`]'s and
//! [`ThreadSpec`]'s getters, [`process_regions`] and [`process_threads`] for a spawned process.
//!
//! ## Images
//!
//! An image region ([`RegionSpec::image`]) starts with real PE headers, all in its first page:
//! a DOS header (`MZ`, `e_lfanew`), `PE\0\0`, an `IMAGE_FILE_HEADER` for the host's machine
//! ([`PE_MACHINE`]) with the region's `TimeDateStamp`, an optional header (PE32+ on 64-bit
//! hosts, PE32 on 32-bit ones) whose `ImageBase`, `SizeOfImage` and `CheckSum` are its
//! [`ImageInfo`], a `.text` section header, and data directory 6 leading to an
//! `IMAGE_DEBUG_DIRECTORY` ([`DEBUG_DIRECTORY_RVA`]) of type CodeView whose PDB 7.0 (`RSDS`)
//! record ([`CODEVIEW_RVA`]) is [`codeview_of`] its name (a GUID hashed from the file name,
//! age 1, the file's stem with `.pdb`) or what [`RegionSpec::codeview`] says.
//! [`RegionSpec::malformed_pe`] makes headers that lie ([`PeFault`]);
//! [`RegionSpec::expected_codeview`] says what a reader must find.
//!
//! ## Stacks
//!
//! A thread with a call stack ([`ThreadSpec::call_stack`]: return addresses, innermost first,
//! each inside an image) gets, when its process is spawned, a private read-write region of
//! [`STACK_SIZE`] bytes at its stack slot (`0xC0_0000_0000 + 0x1_0000 × (tid mod 0x100)`, on
//! 32-bit hosts `0x80_0000 + ...`; the next free slot if another thread of the process has it).
//! Near its top, frame records of two pointers, `[saved frame pointer, return address]` (x64:
//! `[rbp]`, `[rbp+8]`; x86: `[ebp]`, `[ebp+4]`; aarch64: `[x29]`, `[x29+8]`), one per return
//! address, `0x40` bytes apart, each saved frame pointer pointing at the next (higher) record,
//! and a last record of zeros; nothing but zeros above it, so a walker that scans for return
//! addresses finds none. The thread's frame pointer points at the first record, its stack
//! pointer `0x80` bytes below. [`ThreadSpec::executing_at`] sets the context's instruction
//! pointer; [`ThreadSpec::expected_frames`] lists what a walker must find.
//!
//! ## The PEB and TEBs
//!
//! Every thread has a TEB address ([`ThreadSpec::teb_address`], its entry's `TebBaseAddress`):
//! one [`TEB_SIZE`] below the PEB per place in the thread list. With
//! [`ProcessSpec::with_peb`] they exist, in one private region that ends with the PEB's page at
//! [`PEB_ADDRESS`] and begins with the loader's data, at Windows' offsets for the host's
//! pointer width (x64's on aarch64 too):
//!
//! - the PEB: `ImageBaseAddress` (the first image region, the main executable), `Ldr`,
//!   `NumberOfProcessors` ([`NUMBER_OF_PROCESSORS`]), `OSMajorVersion`, `OSMinorVersion`,
//!   `OSBuildNumber`, `OSPlatformId` ([`OS_MAJOR_VERSION`], [`OS_MINOR_VERSION`],
//!   [`OS_BUILD_NUMBER`], [`OS_PLATFORM_ID`]);
//! - `PEB_LDR_DATA` (`Length`, `Initialized`, the three list heads) and one
//!   `LDR_DATA_TABLE_ENTRY` per image region, the main executable first and the others in
//!   address order, in circular load-order and memory-order lists (the
//!   initialization-order list leaves the main executable out, as on Windows): `DllBase`,
//!   `EntryPoint`, `SizeOfImage`, `FullDllName` (the DOS path of the mapped file through the
//!   model's device map, [`DEVICE_MAP`], [`dos_path`]: `\Device\HarddiskVolume3` is `C:`),
//!   `BaseDllName` (its file name), the strings in the region too;
//! - each TEB: `NtTib.StackBase` and `StackLimit` (its stack region's end and start), `Self`,
//!   `ClientId`, `ProcessEnvironmentBlock`, `LastErrorValue` ([`ThreadSpec::last_error`]).
//!
//! Without `with_peb` the addresses are reported and nothing is behind them.
//!
//! ## The process's parameters
//!
//! With [`ProcessSpec::with_peb`], the PEB's `ProcessParameters` points to an
//! `RTL_USER_PROCESS_PARAMETERS` in a private region of its own at [`PARAMETERS_ADDRESS`], laid
//! out as the kernel copies it into a new process (`PspCopyAndFixupParameters`): the structure
//! (Windows 11's, `0x448` bytes on x64 and arm64, `0x2C4` on x86), then its strings, then the
//! environment, every buffer an absolute address (`Flags` = [`PARAMS_NORMALIZED`]):
//!
//! - `ImagePathName`: the DOS path of the main executable (the first image region, as the
//!   loader's list has it); `CommandLine` ([`ProcessSpec::command_line`], by default the image
//!   path in quotes); `CurrentDirectory.DosPath` ([`ProcessSpec::current_directory`], ending in
//!   `\`, `MaximumLength` 520; by default the image's directory); `WindowTitle` (the image
//!   path); `DesktopInfo` (`Winsta0\Default`); `DllPath` and `RuntimeData` empty with NULL
//!   buffers, `ShellInfo` empty; each string NUL-terminated, `MaximumLength` its length plus
//!   the NUL, placed 8-byte aligned as ntdll's `RtlpCopyProcString` places them;
//! - `Environment` and `EnvironmentSize`: `NAME=VALUE\0` per variable, then `\0`
//!   ([`ProcessSpec::environment`], by default [`default_environment`]); the size counts the
//!   whole block, as a started process's ntdll sets it.
//!
//! [`ProcessSpec::parameters`] and [`process_parameters`] give what a reader must find.
//!
//! ## WOW64 processes
//!
//! [`ProcessSpec::wow64_layout`] (64-bit hosts) lays a process out as 64-bit Windows holds a
//! 32-bit one, both views in memory: the native view as above (the 64-bit PEB at
//! [`WOW64_PEB64`], below 4 GiB, its loader list of the main executable and the 64-bit images,
//! the 64-bit TEBs [`WOW64_TEB_SPACING`] apart, native contexts in the WOW64 layer, whose
//! images, [`WOW64_NTDLL`], [`WOW64_DLL`], [`WOW64WIN_DLL`] and [`WOW64_CPU_DLL`], are added),
//! and the 32-bit view: x86 images ([`RegionSpec::image_x86`]: PE32 headers, machine
//! [`X86_MACHINE`]), the 32-bit PEB [`PEB32_OFFSET`] after the 64-bit one with its 32-bit
//! loader list (`PEB_LDR_DATA32`, `LDR_DATA_TABLE_ENTRY32`, `UNICODE_STRING32` DOS paths), per
//! thread a 32-bit TEB [`TEB32_OFFSET`] after its 64-bit one, a CPU area
//! (`TEB64.TlsSlots[1]`: `WOW64_CPURESERVED`, then its `WOW64_CONTEXT`) and an x86 stack whose
//! frames chain through EBP ([`X86ThreadSpec`]). [`ModelProcess::wow64_layout`] says where
//! everything went; [`wow64_demo_process`] is a complete one.
//!
//! ## A crashed thread
//!
//! With [`ProcessSpec::crash`] ([`CrashSpec`]: the thread, the exception code, its
//! `ExceptionAddress` in an image, its parameters, and the fault's return addresses), the
//! thread's stack region holds the exception as Windows' dispatch leaves it for a crash
//! handler: from its top down, the fault's frame records (the fault context's frame pointer at
//! the first), the structures the kernel copies below the fault's stack pointer for
//! `KiUserExceptionDispatcher` (`MACHINE_FRAME`, `EXCEPTION_RECORD`, `CONTEXT_EX`, `CONTEXT` on
//! 64-bit hosts; on x86 the `CONTEXT`, the record cut to its parameters and the dispatcher's two
//! arguments), the `EXCEPTION_POINTERS` an exception filter is given, and, `0x800` bytes of
//! zeros lower, the thread's own frames ([`ThreadSpec::call_stack`]: where it waits at capture,
//! in the handler). [`CrashSpec::x86`] lays out the 32-bit structures of a WOW64 process's
//! filter instead: in a WOW64 process on the thread's x86 stack (its own x86 frames below
//! them), elsewhere (64-bit hosts) in a region of their own at [`X86_CRASH_STACK`].
//! [`ModelProcess::crash`] (and [`process_crash`]) gives where each structure is and the frames a
//! walker from the fault's context must find; [`crashed_demo_process`] is the demo process after
//! an access violation in its main thread, `crashed_wow64_demo_process` (64-bit hosts) the WOW64
//! demo's after one in its 32-bit code.
//!
//! # Choices, and the evidence for each
//!
//! Evidence: **CONFIRMED** (a source shows Windows does this), **CHANGED** (a source showed the
//! opposite of the model's earlier choice, which now follows it), **PLAUSIBLE** (consistent
//! with the sources, not shown), **NO EVIDENCE**. Source tags as in [Sources](#sources). The
//! contract column gives the section of the repository's digest of Microsoft's pages; the
//! "pinned by" column names a test of the repository's contract suite (`pss-tests/tests`).
//!
//! | behaviour | reason | contract | evidence | pinned by |
//! |---|---|---|---|---|
//! | Capture rejects bits `0x03FF8000`, and `BREAKAWAY_OPTIONAL` as the only breakaway bit, with `ERROR_INVALID_PARAMETER`, before looking at anything else | invalid combinations are named, their result is not | 7.1, 11.3 | CHANGED (reserved bits and section information without `VA_SPACE` were rejected): ND | `capture::rejected_flag_bits_are_invalid_parameter` |
//! | The reserved bits `0x2`, `0x400`, `0x4000` are accepted and act: auxiliary pages, each thread's last system call, a bulk VA query (no visible effect) | "do not use" | 7.1, 11.4 | CHANGED: ND, WER | `capture::reserved_flags_are_accepted_and_0x2_captures_auxiliary_pages`, `walk::flag_0x400_records_the_last_system_call` |
//! | `VA_SPACE_SECTION_INFORMATION` without `VA_SPACE` is ignored | "only valid with" `VA_SPACE` | 7.1, 11.3 | CHANGED: ND | `capture::section_information_without_va_space_is_ignored` |
//! | Breakaway flags are read only with `VA_CLONE`; with `BREAKAWAY_OPTIONAL` a refused clone is retried without force, then without breakaway | the combination rules are named, their effect is not | 7.1 | CONFIRMED: ND | `capture::breakaway_flags_only_matter_for_the_va_clone`, `capture::breakaway_from_a_job_that_forbids_it` |
//! | A clone with `FORCE_BREAKAWAY` fails with `ERROR_PRIVILEGE_NOT_HELD` (nothing here holds the Tcb privilege); `BREAKAWAY` in a job that forbids it ([`ProcessSpec::breakaway_forbidden`]) with `ERROR_ACCESS_DENIED` | the privilege is documented, the codes are not | 7.1 | CONFIRMED (1314): NK `PspAllocateProcess`; PLAUSIBLE (the job code) | `capture::force_breakaway_needs_tcb_privilege`, `capture::breakaway_from_a_job_that_forbids_it` |
//! | Process information is always captured, even with `PSS_CAPTURE_NONE` and for an exited process; a capture fails if it cannot be read | no flag is named for it | 7.2, 11.4 | CONFIRMED: ND, CPY, DD | `capture::process_information_is_always_captured` |
//! | Capture needs `PROCESS_QUERY_LIMITED_INFORMATION` always and `PROCESS_CREATE_PROCESS` for `VA_CLONE`, else `ERROR_ACCESS_DENIED` | only `PROCESS_VM_READ` is documented | 3.1, 11.1 | CONFIRMED: ND | `capture::capture_without_rights_is_access_denied` |
//! | The parts are captured in ntdll's order (process information, auxiliary pages, VA space, VA clone, handles, threads) and the first that fails fails the capture, leaving nothing behind: `HANDLES` of a process with no handles (exited, a VA clone) or whose table grows between the count and table queries ([`ProcessSpec::handle_table_races`], [`ModelProcess::race_handle_table`]) gives `ERROR_BAD_LENGTH`; `VA_SPACE` of an exited process (or one without regions) `ERROR_INVALID_PARAMETER`; `VA_CLONE` of an exited process `ERROR_ACCESS_DENIED`; a per-thread query that fails fails `THREADS`: a thread whose handle is closed under ntdll ([`ThreadSpec::handle_closed_during_capture`]) with `ERROR_INVALID_HANDLE` | unstated | 3.1, 7.1 | CHANGED (all of these captured; then a thread that could not be opened failed it): ND `PsspCaptureHandleInformation`, `PsspCaptureThreadInformation` (`if ( v22 < 0 )` after `PsspDumpThread` unmaps and returns it), NK class-58 query, `MmQueryVirtualMemory`, `MiCreatePagingFileMap`; PLAUSIBLE (the clone's code: `STATUS_PROCESS_IS_TERMINATING`; a closed handle as the one way left for a thread query to fail: NK `NtQueryInformationThread` reads the referenced thread object for every class `PsspDumpThread` asks) | `targets::an_exited_process_captures_only_its_process_information`, `targets::the_first_failing_part_fails_the_capture`, `targets::a_handle_table_that_changes_during_capture_fails_it`, `targets::an_empty_handle_table_fails_a_capture_with_handles`, `churn::a_thread_whose_handle_is_closed_during_capture_fails_it` |
//! | Threads and handles need `PROCESS_QUERY_INFORMATION` ([`capture_access`]), else `ERROR_ACCESS_DENIED`; the VA space needs only `PROCESS_QUERY_LIMITED_INFORMATION`; `THREAD_CONTEXT` alone (which captures no thread) needs nothing more | rights are not documented (`VirtualQueryEx`'s page names `PROCESS_QUERY_INFORMATION`) | 3.1, 11.1 | CHANGED (the VA space needed `PROCESS_QUERY_INFORMATION`): NK `MmQueryVirtualMemory`; PLAUSIBLE (threads, handles: not visible) | `capture::capture_without_rights_is_access_denied`, `targets::the_va_space_needs_only_limited_query_rights` |
//! | Without `PROCESS_DUP_HANDLE` every handle keeps only its value and capture time (`Flags` 0), and so does a handle that cannot be duplicated ([`HandleSpec::not_duplicable`]); the capture succeeds | rights are not documented | 3.1, 11.1 | CHANGED (the capture failed): ND | `capture::handles_without_dup_handle_keep_only_values`, `walk::handle_entry_flags_follow_capture_flags` |
//! | Without `PROCESS_VM_READ`, section information keeps the mapped file names and zeroes the image values; the capture succeeds | `PROCESS_VM_READ` is documented as needed | 3.1 | CHANGED (the capture failed): ND | `capture::section_information_without_vm_read_zeroes_image_values` |
//! | A handle trace exists only when the process has handle tracing enabled ([`ProcessSpec::handle_tracing`]); otherwise the trace query gives `ERROR_NOT_FOUND` and the capture succeeds; its size is the trace length queried ([`ProcessSpec::handle_trace_size`], `176 + 160 × traces` on Windows) | unstated | 7.2 | CONFIRMED: VAN, ND; CHANGED (the size was a constant): ND | `query::handle_trace_needs_tracing_in_the_process`, `query::trace_size_and_unqueryable_auxiliary_page` |
//! | A bad process handle gives `ERROR_INVALID_HANDLE` from capture | capture documents no failure codes | 3.1, 11.2 | CONFIRMED: ND | `capture::invalid_process_handle_is_invalid_handle_and_leaves_null` |
//! | The capture's out-parameter is written only on success; whatever it holds on entry is ignored | its state on failure is unstated | 3.1, 11.2 | CHANGED (a non-NULL value on entry was misuse): GK (the samples pass an uninitialised `HPSS`), ND (kernel32 must pass ntdll a slot of its own: INFER) | `capture::invalid_process_handle_is_invalid_handle_and_leaves_null`, `capture::an_uninitialised_out_parameter_is_overwritten` |
//! | Threads are captured only with `THREADS` (`THREAD_CONTEXT` alone captures none); when none is enumerated (an exited process, a process without threads, a VA clone, one whose every thread the capture may not open) there is no thread data at all: the thread query and walk give `ERROR_NOT_FOUND`, not a count of 0 | unstated | 3.1, 8 | CHANGED (`THREAD_CONTEXT` alone captured threads; an exited process gave a count of 0): ND `PssNtCaptureSnapshot` (`if ( (CaptureFlags & 0x80u) != 0 )`), `PsspCaptureThreadInformation` (`if ( v9 )`) | `targets::thread_context_alone_captures_no_threads`, `targets::no_threads_enumerated_is_no_thread_data`, `capture::capture_of_an_exited_process_still_yields_process_information`, `targets::a_thread_that_cannot_be_opened_is_skipped` |
//! | A thread the capture may not open ([`ThreadSpec::unopenable`], e.g. a protected one) is skipped: neither counted nor walked; the capture succeeds | unstated | 3.1, 8 | CHANGED (it failed the capture with `ERROR_ACCESS_DENIED`): NK `NtGetNextThread`, 23H2 and 24H2 (`if ( v12 != -1073741790 )` ends the call only for errors other than `STATUS_ACCESS_DENIED`; that one moves on to the next thread), so ntdll's `ZwGetNextThread` loop never sees it | `targets::a_thread_that_cannot_be_opened_is_skipped` |
//! | A thread that exits after the enumeration opened it ([`ThreadSpec::exits_during_capture`]) is recorded, terminated (flag, exit code, exit time), and stays terminated; a terminated thread's entry has no context record (NULL, size 0) and, with flag `0x400`, no last system call; the capture succeeds | unstated | 3.1, 8 | CHANGED (a terminated thread had a context; the third audit's "typically a thread that exits between enumeration and query" as the cause of a failing query is not borne out): NK `NtQueryInformationThread` (classes 0, 1, 9, 20, 35, the ones `PsspDumpThread` must pass, read the thread object the handle references, with no check of termination), `KeRundownApcQueues` at exit (`*(_DWORD *)(a1 + 116) &= ~0x4000u`, `ApcQueueable`), `KeInsertQueueApc` (refuses then), `PspGetContextThreadInternal` (`return 3221225473LL`, `STATUS_UNSUCCESSFUL`); ND `PsspDumpThread` (a context that cannot be read: `v11 = 128`, no record) | `churn::a_thread_that_exits_during_capture_is_recorded_terminated`, `churn::a_failed_last_system_call_query_records_0xffff` |
//! | With flag `0x400` a thread not waiting in a system call made from user mode (running: [`ThreadSpec::running`]; terminated; the capturing thread itself) records `LastSyscallNumber` `0xFFFF` ([`LAST_SYSCALL_UNAVAILABLE`]) and a first argument of 0, and the capture succeeds; a waiting thread records [`LAST_SYSCALL_NUMBER`] | reserved flag | 7.1, 8 | CHANGED (every thread had a number): ND `PsspDumpThread` (`if ( (a2 & 0x400) != 0 && ZwQueryInformationThread(ThreadHandle, ThreadLastSystemCall, (PVOID)(v9 + 48), 0x18u, ...) < 0 ) *(_WORD *)(v9 + 56) = -1;`: `+56` is the `SystemCallNumber` of the `THREAD_LAST_SYSCALL_INFORMATION` at `+48`, which becomes the entry's `LastSyscallNumber`), NK `PspQueryLastCallThread` (`STATUS_UNSUCCESSFUL` unless the state is `Waiting` and the previous mode `UserMode`; `STATUS_INVALID_PARAMETER` for the calling thread); PLAUSIBLE (kernel32's field mapping is not visible) | `churn::a_failed_last_system_call_query_records_0xffff`, `churn::a_thread_not_waiting_records_no_last_system_call`, `walk::flag_0x400_records_the_last_system_call` |
//! | Thread records are written into a view of a section sized by the thread names seen when the threads were enumerated, the view rounded up to whole pages: a thread named during the capture ([`ThreadSpec::renamed_during_capture`]) keeps its new name only if it still fits; when a later record no longer fits, the records end there (`STATUS_BUFFER_TOO_SMALL`) and the capture succeeds with fewer, counted as such | unstated | 3.1, 8 | CHANGED (a capture recorded every thread): ND `PsspCaptureThreadInformation` (`v10 += (ThreadInformation[0] + 15) & 0xFFFFFFF0` sizes the names; `if ( v22 == -1073741789 ) break;` then success with the count written so far), `PsspDumpThread` (`if ( v13 + v11 > *((_DWORD *)a1 + 2) ) return -1073741789;`; a name that does not fit: `v11 = v15`); PLAUSIBLE (the view's size is the section's rounded to pages: `ZwMapViewOfSection` with a view size of 0) | `churn::a_thread_renamed_during_capture_can_end_the_records_early` |
//! | Auxiliary pages come with flag `0x2` only, not with `VA_CLONE`: one 4,096-byte page, the shared user-data page at `0x7FFE0000` ([`AuxPageSpec::shared_user_data`]: its first `0xA80` bytes, then zeros), always with contents, counted only when the target's query of it succeeds ([`ProcessSpec::aux_page_unqueryable`], an exited process); [`ProcessSpec::aux_page`] replaces it with test pages | no flag is named for them | 7.2, 11.4 | CHANGED (they came with `VA_CLONE`; then any pages a spec named): ND, VAN, WER | `query::auxiliary_pages_come_with_flag_0x2`, `query::the_auxiliary_page_is_the_shared_user_data_page`, `query::trace_size_and_unqueryable_auxiliary_page` |
//! | The auxiliary page's `BasicInformation` is the target's answer for that page, the one its VA-space walk shows (`AllocationProtect` included; the model's shared user-data page is read-only); where a model process has no region there, free memory up to its next region | unstated | 8 | CHANGED (`AllocationProtect` was 0, the rest fixed values): ND `PsspCaptureAuxiliaryPages` (`ZwQueryVirtualMemory(a2, *a4, MemoryBasicInformation, (char *)Heap + 8, 0x30uLL, 0LL)` in the target) | `query::the_auxiliary_page_information_is_the_va_walks`, `query::the_auxiliary_page_of_a_process_without_that_region_is_free_memory` |
//! | `ImageFileName` is empty for paths of [`ProcessSpec::image_name_limit`] units or more (default [`IMAGE_NAME_LIMIT`], 128); with the limit lifted, a name filling `MAX_PATH` has no terminator | termination and truncation are unstated | 8, 11.17 | PLAUSIBLE: ND (a small buffer), the threshold inferred | `query::long_image_name_is_empty`, `query::image_name_filling_the_buffer_has_no_terminator` |
//! | PSS functions leave the thread's last-error value untouched | unstated | 1, 11.2 | NO EVIDENCE for kernel32 (ntdll's `RtlNtStatusToDosError` writes only `Teb->LastStatusValue`) | `capture::pss_functions_do_not_set_last_error` |
//! | Query and walk accept only the exact size of the structure `pss-sys` declares for the class, else `ERROR_BAD_LENGTH` (for process information Windows also knows a larger, undeclared `PSS_PROCESS_INFORMATION_2`: not modelled, see below); query checks handle, class, length, presence in that order | larger buffers are not said to be accepted | 4, 11.5 | CONFIRMED: ND, GK | `query::buffer_length_must_be_exact`, `query::short_buffer_is_bad_length`, `query::unknown_class_is_invalid_parameter` |
//! | A NULL query buffer of the right length gives `ERROR_NOT_FOUND` for a class that was not captured (presence is checked before anything is written); for captured data, and for the performance counters (no presence check), it is misuse (Windows writes through it) | no NULL probe is documented for query | 4 | CHANGED (it gave `ERROR_INVALID_PARAMETER`; then every NULL buffer was misuse): ND `PssNtQuerySnapshot` (the length, then `if ( *(_QWORD *)(a1 + 872) )` ... `return (unsigned int)-1073741275;`, the buffer never checked) | `query::a_null_buffer_finds_absent_data_not_found`, `misuse::null_query_buffer_is_misuse` |
//! | A NULL `HPSS` gives `ERROR_INVALID_HANDLE`; any other value that is not a live snapshot is misuse wherever it is read in this process (query, walk, the local free and duplicate); through a real process handle it is read in that process (the remote rows below) | "the handle is invalid" | 3.3, 3.4, 3.5 | CHANGED (any unknown value gave the code): ND `PssNtValidateDescriptor` raises `STATUS_INVALID_HANDLE` | `query::null_snapshot_is_invalid_handle`, `walk::null_snapshot_is_invalid_handle`, `misuse::garbage_snapshot_handle_is_misuse` |
//! | Performance counters have no presence check: zeros with success when not measured; wall-clock periods in microseconds; a measured capture writes the pairs of the parts it ran and the total, and leaves the other pairs zero; the threads' pair whenever the thread part ran, even when it found no thread | documented as needing the flag, in FILETIME units | 7.2, 11.15 | CHANGED (`ERROR_NOT_FOUND`; then every pair was written; then the threads' pair needed threads): ND `PssNtCaptureSnapshot` (each pair after its part succeeds; `*((_QWORD *)BaseAddress + 139) = ThreadInformation - v22;` after `PsspCaptureThreadInformation`) | `query::unmeasured_performance_counters_are_zeros`, `query::measured_counters_cover_only_the_parts_captured`, `query::thread_counters_are_written_when_no_thread_was_found` |
//! | The undocumented classes 8, 9, 10 give `ERROR_INVALID_PARAMETER` | not documented | 7.2 | NO EVIDENCE for kernel32 (ntdll answers them) | `query::undocumented_classes_are_invalid_parameter` |
//! | The VA clone handle belongs to the snapshot: the same value on every query, access `0x1418` ([`VA_CLONE_ACCESS`], no `PROCESS_TERMINATE`); closing it is misuse; the free closes it | ownership is unstated | 2.1, 11.9 | CONFIRMED: ND | `query::va_clone_handle_is_the_same_on_every_query`, `query::va_clone_handle_names_a_clone_process`, `misuse::closing_the_va_clone_handle_is_misuse` |
//! | Querying or walking a snapshot that lives in another process is misuse | only handles in the caller's context are meaningful | 3.4 | PLAUSIBLE: ND `PssNtQuerySnapshot`, `PssNtWalkSnapshot` validate the value as a descriptor in this process's memory (`PssNtValidateDescriptor`), which it is not | `misuse::querying_a_remote_snapshot_is_misuse` |
//! | Context records are the host's `CONTEXT`; with `THREAD_CONTEXT_EXTENDED` (which does nothing without `THREAD_CONTEXT`) as long as `RtlGetExtendedContextLength` answers for the capture's context flags on the process's CPU ([`extended_context_length`], [`ProcessSpec::xstate`]: on x64 1,279 bytes for `CONTEXT_ALL`, 1,647 with `CONTEXT_XSTATE` and AVX), and the plain length where it fails (flags naming no architecture, XSTATE on a CPU without it); `ContextLength` and each record's `SizeOfContextRecord` are that length | layout and length are unstated | 8, 11.16 | CHANGED (one length per process whatever the flags): ND `PsspCaptureThreadInformation` (`RtlGetExtendedContextLength(ContextFlags, &ContextLength)`, `v15 = 1232` when it fails), `RtlGetExtendedContextLength`, `RtlGetExtendedContextLength2` (`*ContextLength = v9 + v12 - 1`); PLAUSIBLE (the XSAVE sizes are the compacted ones; `SizeOfContextRecord` unrounded: kernel32's translation is not visible) | `query::extended_context_length_follows_the_context_flags`, `query::extended_context_length_follows_the_flags_and_the_cpu`, `query::thread_information_counts_terminated_threads` |
//! | A record's `ContextFlags` are the capture's `ThreadContextFlags`, sanitised as `PsspInitializeContextOrExtendedContext` does ([`sanitise_context_flags`]: a plain `CONTEXT`, which an extended record whose length could not be computed is too, keeps only the `CONTEXT_ALL` bits of its architecture; an extended record keeps them all), and it holds the registers those flags cover (the model fills the instruction, stack and frame pointers: [`ThreadSpec::registers`]) | "the CONTEXT record flags to capture" | 8 | CHANGED (the flags were kept unchanged): ND `PsspInitializeContextOrExtendedContext` (`v3 &= 0x10001Fu` on the plain path) | `walk::context_flags_are_sanitised_as_ntdll_does`, `query::extended_context_length_follows_the_flags_and_the_cpu`, `safe_walk::registers_come_from_the_context_record`, `safe_walk::context_flags_are_an_option_and_registers_follow_them` |
//! | Walk checks handle, class, length (only for a non-NULL buffer), presence, marker, end, then the NULL-buffer probe: `ERROR_BAD_LENGTH` comes before `ERROR_NOT_FOUND`, and a probe at the end gives `ERROR_NO_MORE_ITEMS` | the order is unstated | 3.5 | CHANGED (presence came first): ND | `walk::bad_length_comes_before_not_found`, `walk::null_buffer_probe_reports_presence` |
//! | A marker maps the snapshot's view on its first walk call, probe or not, and keeps it: a mapping failure (injected by [`faults`]) happens only until one succeeded, leaves the marker where it was, and never hits a mapped marker's later calls | unstated | 3.5 | CHANGED (any call with a buffer could fail): ND `PssNtWalkSnapshot` (`if ( *a3 )` uses the view, else `ZwMapViewOfSection`, whose failure is returned before the marker moves) | `marker::mapping_fails_only_on_a_markers_first_call` |
//! | The walk marker does not advance on any failure; after `ERROR_NO_MORE_ITEMS` it stays at the end | unstated | 3.5, 11.6 | CONFIRMED: ND | `walk::failed_calls_do_not_advance_the_marker` |
//! | A marker serves one walk: using it for another snapshot or class is misuse | reuse across walks is unstated | 5, 11.7 | PLAUSIBLE as a check: Windows does not notice and reads the wrong data (ND, VAN) | `misuse::marker_reused_for_another_class_is_misuse` |
//! | Positions are opaque and tied to their marker; another marker's position is misuse | the page promises error codes and lists none | 3.9, 11.14 | CHANGED (it gave `ERROR_INVALID_PARAMETER`): ND takes any value as a raw offset | `misuse::position_from_another_marker_is_misuse` |
//! | Entry memory lives until `PssWalkMarkerFree`, across later walk calls and rewinds, independent of the snapshot's free, and is poisoned with `0xDD` when freed | "valid for the lifetime of the walk marker" | 2.2, 11.8 | CONFIRMED: ND | `walk::entry_pointers_live_as_long_as_the_marker`, `safe_soundness::entry_memory_survives_later_steps_and_rewinds` |
//! | Handle type and object names and mapped file names end in a NUL that their byte length counts | names "may not be terminated" | 8, 11.17 | CHANGED (never terminated): ND, GK | `walk::entry_pointers_live_as_long_as_the_marker`, `walk::va_entries_carry_section_information_only_when_captured` |
//! | Handle entries: the type name (`HAVE_TYPE`) with `HANDLES` alone; `ObjectType` and the union only with `HANDLE_TYPE_SPECIFIC_INFORMATION`, for the six described types, and only when that type's query returned data ([`HandleSpec::no_type_specific_data`]); a handle whose object type cannot be queried is dropped from the snapshot ([`HandleSpec::type_unqueryable`]); File objects are never named; names too long for ntdll's 0x210-byte buffer are not captured | no flag covers `TypeName` | 7.4, 8 | CHANGED (type with any detail flag only; then every handle kept and typed): ND | `walk::handle_entry_flags_follow_capture_flags`, `walk::overlong_object_names_are_not_captured`, `walk::handle_entries_follow_what_each_query_returned` |
//! | Mapped file names for image and mapped regions, PE values for image regions only, both with section information | PE values only "for images" | 8 | CONFIRMED: ND | `walk::va_entries_carry_section_information_only_when_captured` |
//! | Context records are 16-byte aligned; `ContextRecord` is NULL (size 0) without `THREAD_CONTEXT`, for a thread whose context could not be read ([`ThreadSpec::context_unreadable`]) and for a terminated one | NULL-ness is unstated | 8, 11.16 | CONFIRMED: ND `PsspDumpThread`, NK `PspGetContextThreadInternal` | `walk::thread_context_records_follow_capture_flags`, `churn::a_thread_that_exits_during_capture_is_recorded_terminated` |
//! | `PSS_WALK_THREAD_NAME` (4, SDK 10.0.26100) gives `ERROR_INVALID_PARAMETER`, unless the process's kernel32 is 24H2-like ([`ProcessSpec::thread_names`]): then one `PSS_THREAD_NAME` per captured thread, in thread order, unterminated, its size in bytes ([`ThreadSpec::named`]; NULL and 0 without a name) | not in Microsoft's pages | 7.3 | CONFIRMED (ntdll refuses the class in every build): ND, SDK; PLAUSIBLE (24H2's kernel32 answers it: its ntdll captures the names; the entry shape is the model's choice) | `walk::thread_name_class_is_answered_or_refused`, `walk::thread_names_come_one_per_thread_in_order` |
//! | A thread name over 256 UTF-16 units ([`THREAD_NAME_LIMIT`]) is not captured: the thread has none | not in Microsoft's pages | 7.3, 8 | CHANGED (any length was returned): ND `PsspDumpThread` (`ZwQueryInformationThread(ThreadHandle, ThreadNameInformation, &v24, 0x210u, &ReturnLength) >= 0 && v24`), NK `NtQueryInformationThread` class 38 (`v62 = v61 + 16; if ( v62 <= (unsigned int)v5 )` ... else `-1073741789`) | `churn::thread_names_over_256_units_are_not_captured` |
//! | A custom allocator serves the marker's own structure only: one `AllocRoutine` call at creation, none per entry; the free calls `FreeRoutine` for it, then once with NULL | which allocations happen is unstated; NULL must be accepted | 6 | CHANGED (one call per entry with data): ND; the NULL call NO EVIDENCE | `marker::custom_allocator_calls_are_counted_exactly`, `marker::allocator_failure_after_creation_does_not_affect_walks` |
//! | Allocator callbacks run without the model's lock: other kernel32 calls from them are served; a PSS call from one is misuse | callbacks run inside Create/Free; re-entry is unstated | 6 | NO EVIDENCE | `marker::allocator_callbacks_may_call_other_kernel32_functions`, `misuse::pss_call_from_allocator_callback_is_misuse` |
//! | Double free or use of a freed marker is misuse | only the snapshot double free is documented as undefined | 11.12 | NO EVIDENCE | `misuse::marker_double_free_is_misuse` |
//! | A misaligned buffer is misuse (stricter than Windows, which copies through it) | C callers pass the structure itself | 4 | NO EVIDENCE | `misuse::misaligned_buffer_is_misuse` |
//! | A free through a real process handle of a value that is not a snapshot in that process fails with what reading its descriptor there finds, freeing nothing: `ERROR_PARTIAL_COPY` where the process maps nothing (or too little) there (NULL; this process's snapshot given with another process's handle, which real code does by mistake), `ERROR_INVALID_HANDLE` where it maps memory without the signature; through the pseudo handle, a snapshot that lives elsewhere is misuse | unstated | 3.3, 11.11 | CHANGED (misuse): ND `PssNtFreeRemoteSnapshot` (`ZwReadVirtualMemory(ProcessHandle, BaseAddress, &Buffer, 0x478uLL, &RegionSize)`, then `RegionSize == 1144` else `-2147483635`, `Buffer == 1146311504` else `-1073741816`), NK `MiCopyVirtualMemory` (a fault becomes `STATUS_PARTIAL_COPY`); PLAUSIBLE (kernel32 passes NULL to the remote free: not visible) | `free::a_remote_free_of_what_is_not_a_snapshot_there_fails_with_the_read`, `misuse::local_free_of_a_remote_snapshot_is_misuse` |
//! | A failed free frees nothing (the snapshot stays owned) | unstated | 3.3, 11.11 | CONFIRMED: ND | `free::failed_free_leaves_the_snapshot_owned` |
//! | A local free (through the pseudo handle) checks no rights; a free through any real handle, even one to this process, is the remote free: it needs `PROCESS_VM_READ` to read the descriptor (else `ERROR_ACCESS_DENIED`, nothing freed), and without `PROCESS_DUP_HANDLE` or `PROCESS_VM_OPERATION` it still reports success, leaving the snapshot's handles (and VA clone) or memory in the process, which the model's leak accounting shows until that process exits | rights are documented, the code is not | 3.3 | CONFIRMED (local; the remote free's ignored results): ND `PssNtFreeRemoteSnapshot`; PLAUSIBLE (kernel32 frees locally only for the pseudo handle, as ntdll's duplicate decides) | `duplicate::remote_free_checks_rights_local_free_does_not`, `duplicate::remote_free_without_rights_succeeds_and_leaks`, `duplicate::a_real_handle_to_this_process_frees_remotely`, `free::remote_free_without_rights_is_access_denied` |
//! | A remote free refuses a snapshot on its process's heap (neither captured with `PSS_CREATE_USE_VM_ALLOCATIONS` nor a duplicate) with `ERROR_NOT_SUPPORTED`, freeing nothing | documented | 2.1, 3.3 | CONFIRMED: ND `PssNtFreeRemoteSnapshot` (`if ( (v8 & 1) == 0 \|\| (v8 & 2) != 0 ) return -1073741637;`); PLAUSIBLE (a heap descriptor has flag 1 clear: kernel32 allocates it itself, INFER) | `free::remote_free_of_a_heap_snapshot_is_not_supported`, `duplicate::a_real_handle_to_this_process_frees_remotely` |
//! | `PSS_DUPLICATE_CLOSE_SOURCE` from this process (the pseudo handle) frees the source after success or failure and does not check `PSS_CREATE_USE_VM_ALLOCATIONS`; through a real source handle it runs the remote free on the source, ignoring its result, so a heap snapshot stays in that process | "will only succeed" with VM allocations | 2.1, 11.10 | CHANGED (`ERROR_NOT_SUPPORTED`): ND, WER | `duplicate::close_source_without_vm_allocations_succeeds_and_frees`, `duplicate::close_source_through_the_remote_path_skips_a_heap_snapshot` |
//! | Duplicates are independent; each holds its own same-access duplicate of the VA clone (and trace) handle, locally or in another process; a clone lives while any handle to it is open and leaves the process table with the last | unstated | 2.1, 11.9, 11.10 | CONFIRMED: ND, CLRMD | `duplicate::duplicate_and_original_are_freed_independently`, `duplicate::every_copy_holds_its_own_clone_handle`, `query::va_clone_handle_names_a_clone_process` |
//! | Only the pseudo handle as the source is the local path: a value that is not a live local snapshot is misuse there (ntdll raises or reads garbage); any real handle, even one to this process, is the remote path, which needs `PROCESS_VM_READ` on the source and reads the descriptor there first: `ERROR_PARTIAL_COPY` for a value the source maps nothing (or too little) at, `ERROR_INVALID_HANDLE` for memory without the signature | which handle is invalid is unstated | 3.2, 11.11 | CHANGED (any handle to this process was local; then every bad remote value gave `ERROR_INVALID_HANDLE`): ND `PssNtDuplicateSnapshot` (`if ( a1 == (void *)-1LL )`), `PsspDuplicateSnapshotRemoteToRemote` (`ZwReadVirtualMemory(ProcessHandle, BaseAddress, Buffer, 0x478uLL, &BufferSize)`, `BufferSize == 1144` else `-2147483635`, `Buffer[0] == 1146311504` else `-1073741816`), NK `MiCopyVirtualMemory` | `duplicate::snapshot_outside_source_context_is_partial_copy`, `duplicate::a_remote_duplicate_of_what_is_not_a_snapshot_there_fails_with_the_read`, `duplicate::a_real_handle_to_this_process_is_the_remote_path`, `misuse::duplicate_of_a_remote_snapshot_as_local_is_misuse` |
//! | Duplicating needs `PROCESS_VM_OPERATION \| PROCESS_VM_WRITE` on the target, and `PROCESS_DUP_HANDLE` on the source and the target only when the snapshot holds kernel handles (a clone or a section: any part beyond process information); each missing one is `ERROR_ACCESS_DENIED` | rights are documented (`DUP_HANDLE` always), the code is not | 3.2 | CHANGED (`DUP_HANDLE` was always needed): ND (`ZwDuplicateObject` only for non-zero handles); PLAUSIBLE (the code) | `duplicate::missing_rights_are_access_denied`, `targets::duplicating_into_a_process_needs_dup_handle_only_for_handles` |
//! | A failed duplicate leaves its out-parameter as it was on the local path, and NULL on the remote path | unstated | 3.2 | CHANGED (as it was on both): ND (`PsspDuplicateSnapshotRemoteToRemote` begins `*a4 = 0`; the local path writes it only on success) | `duplicate::failed_local_duplicate_leaves_the_out_parameter_alone`, `duplicate::a_real_handle_to_this_process_is_the_remote_path` |
//! | Duplicate flags other than `PSS_DUPLICATE_CLOSE_SOURCE` (bit 0) are ignored | unstated | 7.4 | CHANGED (`ERROR_INVALID_PARAMETER`): ND `PsspDuplicateSnapshotLocalToRemote`, `PsspDuplicateSnapshotRemoteToRemote` test only `a5 & 1`; PLAUSIBLE for kernel32 (its own check is not visible; it passes the capture flags through unchecked) | `duplicate::unknown_duplicate_flags_are_ignored` |
//! | `ReadProcessMemory` needs `PROCESS_VM_READ`; memory reads as its contents where it is committed and neither `PAGE_NOACCESS` nor `PAGE_GUARD`; a read that cannot copy everything fails with `ERROR_PARTIAL_COPY` and reports only the whole chunks ([`ProcessSpec::read_chunk`], 64 KiB) it copied before the fault, 0 bytes when not even the first could be read (never `ERROR_NOACCESS`) | documented function, codes per case unstated | — | CHANGED (`ERROR_NOACCESS` at the first byte; counts exact to the byte): NK `MiCopyVirtualMemory` (the code CONFIRMED, the chunking PLAUSIBLE) | `safe_clone_memory::reads_stop_at_unreadable_memory`, `safe_clone_memory::raw_reads_report_whole_chunks`, `safe_clone_memory::reads_deliver_every_readable_byte_across_chunks` |
//! | A VA clone holds the target's memory as of the capture (later writes do not show), no threads and no handles; anonymous shared sections are not cloned and read as `ERROR_PARTIAL_COPY` | unstated | 7.1 | CONFIRMED: CLRMD (#1334, PR #1441); no threads: GK (a dump of the clone has none) | `safe_clone_memory::the_clone_keeps_what_was_captured`, `safe_clone_memory::anonymous_shared_sections_are_not_in_the_clone` |
//! | `MiniDumpWriteDump` of a snapshot needs the `HPSS` as the process handle, the snapshot's process id and a callback answering `IsProcessSnapshotCallback` with `S_FALSE`; anything else, a read-only or invalid file, or an overlapping call is misuse | the protocol is documented; dbghelp is single-threaded | 10 | CONFIRMED (the protocol): GK, KUDU | `misuse::dump_of_a_snapshot_without_a_callback_is_misuse`, `misuse::a_callback_that_does_not_answer_is_misuse`, `misuse::a_process_id_that_is_not_the_snapshots_is_misuse`, `misuse::a_handle_that_is_neither_snapshot_nor_process_is_misuse`, `misuse::dump_to_a_read_only_file_is_misuse`, `misuse::overlapping_dumps_are_misuse` |
//! | A dump holds the snapshot's threads (contexts, TEB addresses, and with a VA clone each thread's stack from its context's stack pointer to the end of the region holding it, at most [`MAX_STACK_DUMP`]), one module per image region (named with section information; with a VA clone, `TimeDateStamp`, `CheckSum`, `SizeOfImage` and the CodeView record read from its PE headers there, no record where they lie; without one, the snapshot's PE values), its regions (`WithFullMemoryInfo`), handles (`WithHandleData`), and with `WithFullMemory` every committed readable range of the VA clone | what dbghelp reads from a snapshot is unstated | 10 | NO EVIDENCE (the format is dbghelp's, read back with rust-minidump; stacks, TEBs and CodeView records are what its dumps of live processes hold) | `safe_minidump::full_and_small_dumps_hold_what_the_snapshot_held`, `safe_minidump::the_full_dump_holds_the_clone_as_captured`, `safe_minidump::every_thread_walks_to_the_frames_laid_out`, `safe_minidump::modules_carry_the_codeview_records_of_their_headers`, `safe_minidump::hostile_images_give_no_codeview_record` |
//! | Without `WithFullMemory` (and with a VA clone) a dump holds a memory list of each thread's stack, its TEB's pages ([`TEB_SIZE`]) and the PEB's page; with it, each thread's stack descriptor points at its bytes inside the Memory64 data (no second copy; an RVA of 0 past 4 GiB); a context's `ContextFlags` keep only their low 24 bits (the high byte's exception and service state bits are no register set, and readers take them for another architecture's) | the PEB and TEBs are documented under `MiniDumpWithProcessThreadData`; what a small dump of a snapshot holds is unstated | 10 | NO EVIDENCE (chosen so that readers find stacks and last errors in both kinds of dump) | `safe_minidump::every_thread_walks_to_the_frames_laid_out`, `safe_minidump::full_and_small_dumps_hold_what_the_snapshot_held` |
//! | A thread entry's `TebBaseAddress` (a reserved field) is the thread's TEB; a model process's TEBs lie below its PEB, one [`TEB_SIZE`] apart in thread order, and exist with [`ProcessSpec::with_peb`], as do the PEB's loader data and their names (DOS paths through [`DEVICE_MAP`]) | reserved | 8 | CONFIRMED (the field): ND `PsspDumpThread` queries `ThreadBasicInformation` into the entry; PLAUSIBLE (the layout: offsets are Windows', addresses the model's) | `safe_loader::this_process_reads_its_tebs_peb_and_loader_list`, `safe_loader::the_demo_process_reads_its_tebs_peb_and_loader_list`, `walk::thread_entries_carry_their_teb` |
//! | A full-memory dump of a snapshot without a VA clone fails with `HRESULT_FROM_WIN32(ERROR_NOT_FOUND)`; memory the clone cannot read fails it with `HRESULT_FROM_WIN32(ERROR_PARTIAL_COPY)` unless `MiniDumpIgnoreInaccessibleMemory`; failures leave the `HRESULT` as the last error | the last-error `HRESULT` is documented; the rest is not | 10 | CONFIRMED (`HRESULT` in the last error): GK; NO EVIDENCE (the codes) | `safe_minidump::failures_decode_the_hresult`, `safe_minidump::inaccessible_memory_fails_a_dump_that_does_not_ignore_it` |
//! | A model process's PEB `ProcessParameters` (x64 and arm64 `0x20`, x86 `0x10`) points to an `RTL_USER_PROCESS_PARAMETERS` at Windows 11's offsets (x64 and arm64 / x86): `MaximumLength` 0 / 0, `Length` 4 / 4, `Flags` 8 / 8, `DebugFlags` 0xC / 0xC, `ConsoleHandle` 0x10 / 0x10, `ConsoleFlags` 0x18 / 0x14, `StandardInput`, `StandardOutput`, `StandardError` 0x20, 0x28, 0x30 / 0x18, 0x1C, 0x20, `CurrentDirectory` (`CURDIR`: `DosPath`, then `Handle`) 0x38 / 0x24, `DllPath` 0x50 / 0x30, `ImagePathName` 0x60 / 0x38, `CommandLine` 0x70 / 0x40, `Environment` 0x80 / 0x48, `WindowTitle` 0xB0 / 0x70, `DesktopInfo` 0xC0 / 0x78, `ShellInfo` 0xD0 / 0x80, `RuntimeData` 0xE0 / 0x88, `EnvironmentSize` 0x3F0 / 0x290, `EnvironmentVersion` 0x3F8 / 0x294, 0x448 / 0x2C4 bytes in all; a `UNICODE_STRING`'s `Buffer` at 8 / 4 | `winternl.h` documents `PEB.ProcessParameters` and the structure's `ImagePathName` and `CommandLine` (after `Reserved1[16]` and `Reserved2[10]`); the rest is reserved | — | CONFIRMED (x64): NK `PspCopyAndFixupParameters` (relocates the buffers at 0x40, 0x58, 0x68, 0x78, 0xB8, 0xC8, 0xD8, 0xE8, 0x418, 0x428 and `Environment` at 0x80, duplicates the handles at 0x10 and 0x20–0x30, copies `MaximumLength` + `EnvironmentSize` (0x3F0) bytes, stores the copy's address at PEB + 0x20), ND `RtlCreateProcessParametersInternal` (clears 0x448 bytes, reads `EnvironmentSize` at 0x3F0), WINTERNL, MDPY, PHNT (`ntrtl.h`); CONFIRMED (x86): NK `PspWow64ThunkProcessParameters` (copies each x64 field to its x86 offset above for a WOW64 process's 32-bit PEB, whose `ProcessParameters` is at 0x10; strings from 0x2C4), WINTERNL, MDPY, PHNT (`ntwow64.h`, `RTL_USER_PROCESS_PARAMETERS32`); PLAUSIBLE (arm64 = x64: the same LLP64 types, no architecture-specific member; MDPY reads every non-x86 dump at x64's offsets) | `safe_parameters::the_layout_is_windows`, `safe_parameters::the_demo_process_reads_back_exactly`, `safe_parameters::a_child_process_shows_its_command_line` |
//! | The structure is a private region of its own ([`PARAMETERS_ADDRESS`]): `MaximumLength` = `Length` = the structure and its strings; `Flags` = [`PARAMS_NORMALIZED`] (absolute buffers); the strings after the structure in ntdll's order, each NUL-terminated and 8-byte aligned, `MaximumLength` its length + 2 (`CurrentDirectory.DosPath`: 520, ending in `\`); `DllPath` and `RuntimeData` zero with NULL buffers, `ShellInfo` of no size; then the environment (`NAME=VALUE\0` each, then `\0`; `\0\0` when empty), `EnvironmentSize` its exact size; `ImagePathName` and `WindowTitle` the main image's DOS path, `DesktopInfo` `Winsta0\Default`; by default the quoted image path as [`ProcessSpec::command_line`], the image's directory as [`ProcessSpec::current_directory`], [`default_environment`] as [`ProcessSpec::environment`] | undocumented | — | CONFIRMED (one allocation, the strings' order, rounding and `MaximumLength`s, the 520-byte directory with its `\`, the environment after the strings, `Flags` 1 when normalized and buffers as offsets otherwise): ND `RtlCreateProcessParametersInternal`, `RtlpCopyProcString`, `RtlNormalizeProcessParams`, NK `PspCopyAndFixupParameters`; CONFIRMED (`EnvironmentSize` exact, counting the final NUL; an empty block of 4 bytes): ND `RtlpInitEnvironmentBlock`, `RtlpGetBlockSizeEx`; PLAUSIBLE (the environment left after the strings, where a started process's ntdll copies it into its heap; the `WindowTitle` and `DesktopInfo` values; no `DllPath`; the defaults) | `safe_parameters::the_layout_is_windows`, `safe_parameters::a_specd_process_reads_back_exactly`, `safe_parameters::this_process_reads_its_parameters` |
//! | A WOW64 process ([`ProcessSpec::wow64_layout`]; [`ProcessSpec::wow64`] sets only the flag) reports `PSS_PROCESS_FLAGS_WOW64`; its `PebBaseAddress` is the 64-bit PEB, its threads' `TebBaseAddress` the 64-bit TEBs, their context records native (the host's `CONTEXT`) | the flag is documented; which PEB, TEB and context a 64-bit caller gets is not | 7.4, 8, 11.16 | CONFIRMED: the flag's page ("a 32-bit process running on a 64-bit native OS"); ND (`PsspCaptureProcessInformation` queries the extended `ProcessBasicInformation`, whose `Flags` bit 1 is `IsWow64Process`, PHNT; `PsspDumpThread` takes `ThreadBasicInformation` and `ZwGetContextThread` with the native `CONTEXT`); WINE-T (a WOW64 child's basic information gives the 64-bit PEB and TEB) | `safe_wow64::native_contexts_are_in_the_wow64_layer`, `query::process_information_reports_the_process` |
//! | A WOW64 thread's 32-bit TEB is its 64-bit TEB + `0x2000` ([`TEB32_OFFSET`]): the TEB64's `WowTebOffset` (`+0x180C`) holds `0x2000` and its `NtTib.ExceptionList` the TEB32's address, the TEB32's `WowTebOffset` (`+0xFDC`) `-0x2000`; each TEB's `NtTib.Self` is its address, and the TEB32 holds the x86 stack bounds, ids, the 32-bit PEB and `LastErrorValue` at x86 offsets | TEBs are reserved | — | CONFIRMED: WINE-T (`teb64 + 0x2000 == teb32`, `teb64->WowTebOffset`, `Tib.ExceptionList == teb32`; `WowTebOffset` 0 or 1 before Windows 10, where `ExceptionList` alone finds it), PHNTW (`WOW64_GET_TEB32`, `WOW64_TEB32_POINTER_ADDRESS`, `Wow64CurrentGuestTeb`; `TEB32` offsets asserted; `WowTebOffset` at `0x180C` from the 24H2 TEB's fields) | `safe_wow64::the_demo_process_reads_back_exactly`, `safe_wow64::tebs_that_lie_are_refused` |
//! | The 32-bit PEB is the 64-bit one + `0x1000` ([`PEB32_OFFSET`]), names the same `ImageBaseAddress` and is every TEB32's `ProcessEnvironmentBlock`; its loader data is 32-bit (`PEB_LDR_DATA32`, `LDR_DATA_TABLE_ENTRY32`, `UNICODE_STRING32`, x86 offsets) and lists the x86 images (DOS paths in `SysWOW64`), the main executable first, while the 64-bit PEB's lists the main executable and the 64-bit images | the PEB is reserved | — | CONFIRMED: WINE-T (`teb32.Peb == teb.Peb + 0x1000`, broken only on Vista; both PEBs' `ImageBaseAddress` agree), WINE (a 32-bit caller's `PebBaseAddress` of a WOW64 process is the 64-bit one + `0x1000`), PHNTW (the 32-bit layouts; `WOW64_GET_PEB32`); PLAUSIBLE (which modules each list holds: the 64-bit loader loads the WOW64 DLLs, the 32-bit one the x86 images) | `safe_wow64::the_demo_process_reads_back_exactly`, `safe_wow64::native_contexts_are_in_the_wow64_layer`, `safe_wow64::a_peb32_that_does_not_match_is_refused`, `safe_wow64::a_loader_list_that_loops_or_breaks_ends_in_an_error` |
//! | A WOW64 thread's CPU area is `TEB64.TlsSlots[1]` (`WOW64_TLS_CPURESERVED`, `+0x1488`): `WOW64_CPURESERVED` (`USHORT Flags`, `USHORT Machine`, [`X86_MACHINE`] for x86), then the `WOW64_CONTEXT` ([`WOW64_CONTEXT_SIZE`] bytes) aligned to 4, at +4; other machines lay it out otherwise (ARM32 `0x1C4`: `0x1A0` bytes aligned to 8; x64, ARM64) and a reader refuses them | not documented | — | CONFIRMED: NK (`PspWow64InitThread` stores the area at TEB `+0x1488` and writes `Machine << 16` first; `PspWow64ReadOrWriteThreadCpuArea` reads it there through `RtlWow64GetCpuAreaInfo`; `RtlpGetLegacyContextLength`: x86 716 bytes aligned 4), ND (24H2 `RtlWow64GetCurrentCpuArea`: `NtCurrentTeb()->TlsSlots[1]`, the machine at +2), WINE-T (`test_cpu_area`: x86 aligned 4, `0x2CC` bytes, flags at 0; ARM32 8, `0x1A0`; other machines `STATUS_INVALID_PARAMETER`), WINE | `safe_wow64::hand_laid_structures_read_back`, `safe_wow64::a_cpu_area_of_another_machine_is_refused`, `safe_wow64::a_missing_or_unmapped_cpu_area_is_refused` |
//! | A WOW64 thread stopped in 32-bit code has its x86 registers in its native context (`SegCs` `0x23`, the registers' low halves: [`X86ThreadSpec::in_x86_code`]) and a stale CPU area; in the WOW64 layer (`SegCs` `0x33`: a system call; the model's native registers are in [`WOW64_CPU_DLL`]) they are in the CPU area; segments read as `0x23`/`0x2B`/`0x53`, a CPU area's `EFlags` as its user bits | `Wow64GetThreadContext` is documented, how it decides is not | 11.16 | CONFIRMED: NK (`PspWow64GetContextThread` → `RtlpWow64GetContextOnAmd64`: a native `SegCs` other than `0x23` takes the control, integer and segment registers from the CPU area, else `RtlpWow64CtxFromAmd64` maps `Rip`, `Rsp`, `Rbp`, `EFlags`, `Rax`..`Rdi` down; segments forced, `EFlags & 0x3F0DD5 \| 0x202`); PLAUSIBLE (where in the WOW64 layer a waiting thread's native context is) | `safe_wow64::the_demo_process_reads_back_exactly`, `safe_wow64::hostile_memory_in_a_wow64_process_gives_errors`, `safe_wow64::native_records_that_cannot_say_are_refused` |
//! | x86 code on ARM64 Windows runs under `xtajit.dll` in place of `wow64cpu.dll` (in the 64-bit loader list; the model's aarch64 hosts lay it out, [`ProcessSpec::wow64_cpu_dll`] any host), with its registers in the emulator while it runs: no x86 context is read there (nor by an arm64 build), the 32-bit TEBs, PEB and modules are | not documented | — | CONFIRMED (the emulator's DLL): WINE (`get_cpu_dll_name`: `xtajit.dll` for x86 on a native ARM64 machine, `wow64cpu.dll` otherwise, `wowarmhw.dll` for ARM32), ARM ("the WOW64 layer of Windows allows x86 code to run on the Arm64 version of Windows", compiling x86 blocks to Arm64); NO EVIDENCE where its registers are: refused, never guessed | `safe_wow64::an_emulated_wow64_process_gives_no_x86_context`, `safe_wow64::without_a_wow64_cpu_there_is_no_x86_context` |
//! | A crashed thread's exception ([`ProcessSpec::crash`]) lies on its stack as the kernel's `KiDispatchException` leaves it for `KiUserExceptionDispatcher`: on x64 (and, with its `CONTEXT`, arm64) a `MACHINE_FRAME` (`Rip`, `SegCs`, `EFlags`, `Rsp`, `SegSs`) at `(Rsp − 0x28) & ~0xF` of the fault's `Rsp`, the `EXCEPTION_RECORD` `0xA0` below it, the `CONTEXT_EX` (`All`, `Legacy` = the `CONTEXT`'s `−0x4D0`, `0x4D0`; no `XState`) `0xC0` below it, the `CONTEXT` `0x4D0` below that, where the dispatcher's `Rsp` points (the record at `Rsp + 0x4F0`); on x86 the `CONTEXT` just below the 4-aligned `Esp`, the record below it cut to `NumberParameters`, and the dispatcher's two arguments (record, context) below; the `EXCEPTION_POINTERS` the filter is given `0x100` below the dispatcher's stack pointer, 16-aligned | undocumented (only `EXCEPTION_POINTERS`, `EXCEPTION_RECORD` and `CONTEXT` themselves are) | — | CONFIRMED (x64): NK `KiDispatchException` (the frame at `(v36 - 40) & ~0xF`, `v38[3]` = the fault's `Rsp`, `v38[0]` = `Rip`; `KeCopyExceptionRecord(v38 - 20, ...)`; `CONTEXT_EX` at `v38 - 24` filled with `-1232`, `0x4D0`; the new `Rsp` `77` × 16 bytes below the `CONTEXT_EX`), ND `KiUserExceptionDispatcher` (`RtlDispatchException(&STACK[0x4F0], rsp)`); PLAUSIBLE (x86: 32-bit Windows' `KiDispatchException` as ReactOS reimplements it; arm64: x64's order with arm64's `CONTEXT`; where the filter's `EXCEPTION_POINTERS` lie, which depends on the frames between; a WOW64 thread's 32-bit structures on its x86 stack as x86 Windows leaves them, which WOW64's dispatch to the 32-bit `KiUserExceptionDispatcher` reproduces) | `safe_dump_exception::the_processor_reports_the_crash_and_walks_from_the_fault`, `safe_dump_exception::x86_structures_read_back`, `safe_dump_exception::a_wow64_crash_reads_its_32_bit_structures` |
//!
//! # What the evidence shows that the model does not do, and why
//!
//! - Threads created while a capture runs (after ntdll's enumeration passed them they are not
//!   seen on Windows either), and handle records or names truncated when ntdll's handle section
//!   runs out of room (ND): model processes change during a capture only through the knobs
//!   above (the handle-table race; threads that exit, are renamed or lose their handle).
//! - Handle and pointer counts including PSS's own temporary duplicate (ND): the counts are what
//!   a [`HandleSpec`] says; a test wanting Windows' numbers adds one.
//! - Per-thread query failures other than a closed handle (ND fails the capture for any):
//!   none is reachable (NK: the queries read the thread object the handle references, with
//!   access granted at open), so there is no knob for them.
//! - The thread section's size limits (`STATUS_INTEGER_OVERFLOW`, `ERROR_ARITHMETIC_OVERFLOW`,
//!   for threads × record size over 4 GiB; ND `PsspCaptureThreadInformation`): unreachable with
//!   the processes a test builds; [`faults`] injects the code.
//! - 24H2's thread-name quirk (ND: a thread whose context could not be read has its name
//!   written after the context area but read from the start of it): the model's names are
//!   always where the entry points.
//! - Inside an extended context record, the `CONTEXT_EX` header and the XSAVE data (the
//!   model's record is the `CONTEXT`, then zeros); XSAVE sizes in the standard (uncompacted)
//!   form of CPUs without XSAVEC, and components beyond AVX-512 (MPX, CET, AMX): [`XState`]
//!   offers the compacted sizes of the common CPUs. Context flags naming another architecture
//!   than the host's: the model fills the host's `CONTEXT` under them (what
//!   `ZwGetContextThread` does with them is not shown).
//! - `PSS_PROCESS_INFORMATION_2`, the larger process information with a `Cookie` that
//!   Microsoft's samples ask for and 24H2's ntdll still fills (GK, ND): no released header
//!   declares it (nor does `pss-sys`), its layout is not shown, and kernel32's length check for
//!   it is not visible; the model accepts only `PSS_PROCESS_INFORMATION`'s size.
//! - The remote duplicate's validation of a descriptor beyond its signature
//!   (`PssValidateSnapshotDescriptor`): a live model snapshot is always valid, and readable
//!   memory that is not one always fails the signature check, whatever a test wrote there.
//! - Contexts taken after the clone (capture order within a part) (ND): not observable here.
//! - Capture across bitness failing (error 18136): the model has no bitness.
//! - A WOW64 process's second parameter block (NK `PspWow64ThunkProcessParameters` copies the
//!   64-bit one into x86's layout for the 32-bit PEB, and the 32-bit code then changes only
//!   that copy), and a started process's environment moved into its heap (ND
//!   `RtlpInitEnvironmentBlock`): the model has no bitness, and keeps the block where the
//!   kernel copied it. Its `CurrentDirectory.Handle`, console and standard handles are 0 (no
//!   such handle is in its handle table).
//! - In WOW64 processes: the CPU area at the top of the thread's 64-bit stack (NK
//!   `PspWow64SetupCpuArea`; the model keeps it in the 32-bit region), the extended (XSTATE)
//!   context after the CPU area's context (ND 24H2 `RtlWow64GetCpuAreaInfo` sizes it from the
//!   shared user data's XState features), floating-point state in the contexts, CHPE x86 images
//!   (machine `0x3A64`, Windows 10 on ARM64, which NK `RtlWow64GetEquivalentMachineCHPE` treats
//!   as x86), `wow64con.dll`, and a thread that has not yet run 32-bit code (no CPU area): the
//!   model's WOW64 threads all have their x86 state.
//! - The error codes seen from real captures without a cause the model has
//!   (`ERROR_NO_SYSTEM_RESOURCES`, `ERROR_ARITHMETIC_OVERFLOW`, `ERROR_INVALID_ADDRESS`,
//!   `ERROR_PARTIAL_COPY`): injected by [`faults`], with only the effects such a failure has.
//! - Windows' own slips in failure paths: a failed duplicate freeing the new descriptor in the
//!   calling process instead of the target, the remote free never closing the IPT section (ND):
//!   `pss` never depends on them.
//! - Everything dbghelp writes beyond the streams above (thread information, unloaded modules,
//!   tokens, data segments, the loader data with `WithProcessThreadData`): the model writes the
//!   streams a reader needs to check what `pss` passes and to walk stacks.
//! - Images of more than one region (one per section, as Windows maps them), unwind data
//!   (`.pdata`), import and export tables: model images are one region whose headers say where
//!   the CodeView record is; a walker without symbols needs no more.
//! - The undocumented exports `PssWalkMarkerRewind`, `PssWalkMarkerSeek`, `PssWalkMarkerTell`,
//!   and the query classes 8–10 ntdll answers: `pss-sys` does not declare them.

// Windows has the real kernel32: there the crate is empty, so depending on it everywhere is
// harmless.
#![cfg(not(windows))]

mod capture;
mod churn;
mod crash;
mod data;
mod demo;
mod dump;
mod dump_memory;
mod environment;
mod exit_code;
mod exports;
pub mod faults;
mod files;
mod freed;
mod hostile;
mod kernel;
mod le;
mod memory;
mod memory_info;
mod mutex;
mod names;
mod parameters;
mod pe;
mod preset;
mod process;
mod profiles;
mod remote;
mod stack;
mod vanishing;
mod walk;
mod wow64;
mod xstate;

pub use capture::{AUXILIARY_PAGES, REJECTED_FLAGS, capture_access, sanitise_context_flags};
pub use churn::{LAST_SYSCALL_UNAVAILABLE, THREAD_NAME_LIMIT};
#[cfg(target_pointer_width = "64")]
pub use crash::crashed_wow64_demo_process;
pub use crash::{
    Crash, CrashSpec, EXCEPTION_ACCESS_VIOLATION, X86_CRASH_STACK, crashed_demo_process,
    process_crash,
};
pub use data::{
    AuxPageSpec, HANDLE_TRACE_SIZE, HandleSpec, IMAGE_NAME_LIMIT, ImageInfo, ModelProcess,
    ProcessSpec, READ_CHUNK, RegionSpec, SHARED_USER_DATA, SHARED_USER_DATA_COPIED, ThreadSpec,
};
pub use demo::demo_process;
#[cfg(target_pointer_width = "64")]
pub use demo::wow64_demo_process;
pub use dump::{ModelFile, create_file, open_file_read_only};
pub use dump_memory::MAX_STACK_DUMP;
pub use environment::{
    DEVICE_MAP, NUMBER_OF_PROCESSORS, OS_BUILD_NUMBER, OS_MAJOR_VERSION, OS_MINOR_VERSION,
    OS_PLATFORM_ID, PEB_ADDRESS, PEB_IMAGE_BASE_OFFSET, TEB_SIZE, dos_path,
};
pub use freed::forget_freed;
pub use kernel::{CURRENT_PID, Live, VA_CLONE_ACCESS};
pub use mutex::{backtrace_mutex_name, mutex_owner, mutex_waiters};
pub use parameters::{
    MAX_STRING_UNITS, PARAMETERS_ADDRESS, PARAMS_NORMALIZED, Parameters, default_environment,
    process_parameters,
};
pub use pe::{
    CODEVIEW_RVA, CodeView, DEBUG_DIRECTORY_RVA, Guid, MAX_PDB_NAME, PE_MACHINE, PeFault,
    codeview_of,
};
pub use profiles::{Section, data_section, service_process, typical_sections};
pub use stack::{MAX_CALL_STACK, STACK_SIZE};
pub use vanishing::{VanishingMemory, vanish_after};
pub use walk::{LAST_SYSCALL_NUMBER, MARKER_INTERNAL_SIZE};
pub use wow64::{
    PEB32_OFFSET, TEB32_OFFSET, WOW64_CONTEXT_SIZE, WOW64_CPU_DLL, WOW64_CPU_NAME, WOW64_DLL,
    WOW64_NTDLL, WOW64_PEB64, WOW64_TEB_SPACING, WOW64WIN_DLL, Wow64Layout, X86_MACHINE,
    X86_STACKS, X86Module, X86ThreadSpec,
};
pub use xstate::{XState, extended_context_length};

use kernel::Object;
use std::collections::BTreeMap;

/// Calls this thread made to each kernel32 function, by name.
pub fn calls() -> BTreeMap<&'static str, u64> {
    kernel::lock()
        .calls
        .get(&std::thread::current().id())
        .cloned()
        .unwrap_or_default()
}

/// How often this thread called the kernel32 function `name`.
pub fn call_count(name: &str) -> u64 {
    calls().get(name).copied().unwrap_or(0)
}

/// Forgets this thread's call counts.
pub fn reset_calls() {
    kernel::lock().calls.remove(&std::thread::current().id());
}

/// Objects this thread created that are still alive.
pub fn live() -> Live {
    kernel::lock().live_for(std::thread::current().id())
}

/// Objects alive in process `pid`'s context (snapshots), or, for [`CURRENT_PID`], also the
/// markers and handles of the current process.
pub fn live_in(pid: u32) -> Live {
    kernel::lock().live_in(pid)
}

/// The snapshots, markers and process handles this thread created that are still alive,
/// described one per line (`pss_tests::assert_no_leaks` asserts there are none).
pub fn leaks() -> Vec<String> {
    leaks_of(std::thread::current().id())
}

/// [`leaks`] of the thread `thread` (which may have ended): what it created that is still alive.
pub fn leaks_of(thread: std::thread::ThreadId) -> Vec<String> {
    let k = kernel::lock();
    let me = thread;
    let mut leaks: Vec<String> = k
        .objects
        .iter()
        .filter_map(|(value, object)| match object {
            Object::Snapshot(s) if s.owner == me => Some(format!(
                "HPSS {value:#x} in process {:#x}'s context (flags {})",
                s.context,
                names::capture_flags(s.flags)
            )),
            Object::Marker(m) if m.owner == me => Some(format!("HPSSWALK {value:#x}")),
            Object::Handle(h)
                if h.owner == me
                    && matches!(
                        h.object,
                        kernel::HandleObject::Process(_) | kernel::HandleObject::File { .. }
                    ) =>
            {
                Some(format!("handle {value:#x} ({:?})", h.object))
            }
            _ => None,
        })
        .chain(
            k.stranded
                .iter()
                .filter(|s| s.owner == me)
                .map(|s| s.what.clone()),
        )
        .collect();
    leaks.sort();
    leaks
}

/// The threads of process `pid` (the current process: [`CURRENT_PID`]) as the model holds them
/// after spawning: TEB addresses assigned, stack and frame pointers of threads with call stacks
/// set; `None` for a pid not in the process table.
pub fn process_threads(pid: u32) -> Option<Vec<ThreadSpec>> {
    kernel::lock()
        .processes
        .get(&pid)
        .map(|p| p.threads.to_vec())
}

/// The regions of process `pid` as the model holds them after spawning (with the stacks of
/// threads with call stacks and the PEB's region); `None` for a pid not in the process table.
pub fn process_regions(pid: u32) -> Option<Vec<RegionSpec>> {
    kernel::lock()
        .processes
        .get(&pid)
        .map(|p| p.regions.to_vec())
}

/// True while process `pid` is in the model's process table (a VA clone leaves it when the
/// last handle to it closes).
pub fn process_alive(pid: u32) -> bool {
    kernel::lock().processes.contains_key(&pid)
}

/// The access a kernel handle of this process was granted, or `None` if `handle` is not one.
pub fn handle_access(handle: pss_sys::HANDLE) -> Option<u32> {
    match kernel::lock().objects.get(&handle.addr()) {
        Some(Object::Handle(h)) => Some(h.access),
        _ => None,
    }
}

/// Makes kernel32 export no PSS function, for the rest of this process: `GetProcAddress` finds
/// none, and calling one anyway is misuse (Wine aborts there). Use it in a test binary of its
/// own; it cannot be undone.
pub fn set_pss_absent() {
    kernel::lock().pss_absent = true;
}

type FarProc = unsafe extern "system" fn() -> isize;

macro_rules! exports {
    ($($module:ident::$name:ident),+ $(,)?) => {
        /// Every function the model defines, as `GetProcAddress` returns them.
        pub(crate) static EXPORTS: &[(&str, FarProc)] = &[$(
            // SAFETY: only the address is handed out; callers cast it back to the real
            // signature before calling, as with any GetProcAddress result.
            (stringify!($name), unsafe { std::mem::transmute::<*const (), FarProc>($module::$name as *const ()) }),
        )+];
    };
}

exports!(
    exports::PssCaptureSnapshot,
    exports::PssDuplicateSnapshot,
    exports::PssFreeSnapshot,
    exports::PssQuerySnapshot,
    exports::PssWalkSnapshot,
    exports::PssWalkMarkerCreate,
    exports::PssWalkMarkerFree,
    exports::PssWalkMarkerGetPosition,
    exports::PssWalkMarkerSetPosition,
    exports::PssWalkMarkerSeekToBeginning,
    process::GetCurrentProcess,
    process::GetProcessId,
    exit_code::GetExitCodeProcess,
    process::OpenProcess,
    process::CloseHandle,
    process::DuplicateHandle,
    process::GetLastError,
    process::GetModuleHandleW,
    process::GetProcAddress,
    memory::ReadProcessMemory,
    mutex::GetCurrentProcessId,
    mutex::CreateMutexA,
    mutex::WaitForSingleObjectEx,
    mutex::ReleaseMutex,
    files::CreateFileW,
    files::FormatMessageW,
);
