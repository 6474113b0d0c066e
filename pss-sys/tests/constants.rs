//! Every PSS constant equals the value Microsoft documents (the
//! `ne-processsnapshot-*` pages), has the documented enum type, and the generated bindings hold
//! exactly the documented set: none missing, none extra.

use pss_sys::*;

/// `documented!(TYPE: NAME = value, ...)` checks each constant's type and value and yields
/// the names checked.
macro_rules! documented {
    ($ty:ident: $($name:ident = $value:expr),+ $(,)?) => {{
        $(
            let typed: $ty = $name;
            assert_eq!(typed, $value, concat!(stringify!($name), " differs from the documented value"));
        )+
        [$(stringify!($name)),+]
    }};
}

fn documented_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    names.extend(documented!(PSS_CAPTURE_FLAGS:
        PSS_CAPTURE_NONE = 0x0000_0000,
        PSS_CAPTURE_VA_CLONE = 0x0000_0001,
        PSS_CAPTURE_RESERVED_00000002 = 0x0000_0002,
        PSS_CAPTURE_HANDLES = 0x0000_0004,
        PSS_CAPTURE_HANDLE_NAME_INFORMATION = 0x0000_0008,
        PSS_CAPTURE_HANDLE_BASIC_INFORMATION = 0x0000_0010,
        PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION = 0x0000_0020,
        PSS_CAPTURE_HANDLE_TRACE = 0x0000_0040,
        PSS_CAPTURE_THREADS = 0x0000_0080,
        PSS_CAPTURE_THREAD_CONTEXT = 0x0000_0100,
        PSS_CAPTURE_THREAD_CONTEXT_EXTENDED = 0x0000_0200,
        PSS_CAPTURE_RESERVED_00000400 = 0x0000_0400,
        PSS_CAPTURE_VA_SPACE = 0x0000_0800,
        PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION = 0x0000_1000,
        PSS_CAPTURE_IPT_TRACE = 0x0000_2000,
        // Not on the page; 0x4000 is the value in mingw-w64's header .
        PSS_CAPTURE_RESERVED_00004000 = 0x0000_4000,
        PSS_CREATE_BREAKAWAY_OPTIONAL = 0x0400_0000,
        PSS_CREATE_BREAKAWAY = 0x0800_0000,
        PSS_CREATE_FORCE_BREAKAWAY = 0x1000_0000,
        PSS_CREATE_USE_VM_ALLOCATIONS = 0x2000_0000,
        PSS_CREATE_MEASURE_PERFORMANCE = 0x4000_0000,
        PSS_CREATE_RELEASE_SECTION = 0x8000_0000,
    ));
    names.extend(documented!(PSS_QUERY_INFORMATION_CLASS:
        PSS_QUERY_PROCESS_INFORMATION = 0,
        PSS_QUERY_VA_CLONE_INFORMATION = 1,
        PSS_QUERY_AUXILIARY_PAGES_INFORMATION = 2,
        PSS_QUERY_VA_SPACE_INFORMATION = 3,
        PSS_QUERY_HANDLE_INFORMATION = 4,
        PSS_QUERY_THREAD_INFORMATION = 5,
        PSS_QUERY_HANDLE_TRACE_INFORMATION = 6,
        PSS_QUERY_PERFORMANCE_COUNTERS = 7,
    ));
    names.extend(documented!(PSS_WALK_INFORMATION_CLASS:
        PSS_WALK_AUXILIARY_PAGES = 0,
        PSS_WALK_VA_SPACE = 1,
        PSS_WALK_HANDLES = 2,
        PSS_WALK_THREADS = 3,
    ));
    names.extend(documented!(PSS_DUPLICATE_FLAGS:
        PSS_DUPLICATE_NONE = 0x00,
        PSS_DUPLICATE_CLOSE_SOURCE = 0x01,
    ));
    names.extend(documented!(PSS_HANDLE_FLAGS:
        PSS_HANDLE_NONE = 0x00,
        PSS_HANDLE_HAVE_TYPE = 0x01,
        PSS_HANDLE_HAVE_NAME = 0x02,
        PSS_HANDLE_HAVE_BASIC_INFORMATION = 0x04,
        PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION = 0x08,
    ));
    names.extend(documented!(PSS_OBJECT_TYPE:
        PSS_OBJECT_TYPE_UNKNOWN = 0,
        PSS_OBJECT_TYPE_PROCESS = 1,
        PSS_OBJECT_TYPE_THREAD = 2,
        PSS_OBJECT_TYPE_MUTANT = 3,
        PSS_OBJECT_TYPE_EVENT = 4,
        PSS_OBJECT_TYPE_SECTION = 5,
        PSS_OBJECT_TYPE_SEMAPHORE = 6,
    ));
    names.extend(documented!(PSS_PROCESS_FLAGS:
        PSS_PROCESS_FLAGS_NONE = 0x0000_0000,
        PSS_PROCESS_FLAGS_PROTECTED = 0x0000_0001,
        PSS_PROCESS_FLAGS_WOW64 = 0x0000_0002,
        PSS_PROCESS_FLAGS_RESERVED_03 = 0x0000_0004,
        PSS_PROCESS_FLAGS_RESERVED_04 = 0x0000_0008,
        PSS_PROCESS_FLAGS_FROZEN = 0x0000_0010,
    ));
    names.extend(documented!(PSS_THREAD_FLAGS:
        PSS_THREAD_FLAGS_NONE = 0x0000,
        PSS_THREAD_FLAGS_TERMINATED = 0x0001,
    ));
    // "The resolution in microseconds of the performance counters" (constants page).
    let resolution: u32 = PSS_PERF_RESOLUTION;
    assert_eq!(resolution, 1_000_000);
    names.push("PSS_PERF_RESOLUTION");
    names
}

#[test]
fn every_pss_constant_has_its_documented_type_and_value() {
    // 22 capture flags, 8 query classes, 4 walk classes, 2 duplicate flags, 5 handle flags,
    // 7 object types, 6 process flags, 2 thread flags and the performance-counter resolution.
    assert_eq!(documented_names().len(), 57);
}

/// The generated file holds no `PSS_*` constant that the documents do not name, and misses none.
#[test]
fn generated_pss_constants_are_exactly_the_documented_set() {
    let source = include_str!("../src/bindings.rs");
    let mut generated: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("pub const "))
        .filter(|rest| rest.starts_with("PSS_"))
        .map(|rest| &rest[..rest.find(':').expect("`pub const NAME: TYPE = value;`")])
        .collect();
    generated.sort_unstable();
    let mut documented = documented_names();
    documented.sort_unstable();
    assert_eq!(generated, documented);
}

/// The error codes the PSS pages name, and those PssCaptureSnapshot is seen to return, with
/// their winerror.h values.
#[test]
fn error_codes_equal_winerror_values() {
    let codes: [(WIN32_ERROR, u32); 15] = [
        (ERROR_SUCCESS, 0),
        (ERROR_ACCESS_DENIED, 5),
        (ERROR_INVALID_HANDLE, 6),
        (ERROR_NOT_ENOUGH_MEMORY, 8),
        (ERROR_BAD_LENGTH, 24),
        (ERROR_NOT_SUPPORTED, 50),
        (ERROR_INVALID_PARAMETER, 87),
        (ERROR_MORE_DATA, 234),
        (ERROR_NO_MORE_ITEMS, 259),
        (ERROR_NOT_FOUND, 1168),
        (ERROR_PARTIAL_COPY, 299),
        (ERROR_NOACCESS, 998),
        (ERROR_INVALID_ADDRESS, 487),
        (ERROR_ARITHMETIC_OVERFLOW, 534),
        (ERROR_NO_SYSTEM_RESOURCES, 1450),
    ];
    for (generated, documented) in codes {
        assert_eq!(generated, documented);
    }
    // STILL_ACTIVE, the ExitStatus of a running process, shares its value with ERROR_NO_MORE_ITEMS.
    assert_eq!(STILL_ACTIVE as u32, 259);
    assert_eq!(MAX_PATH, 260);
}

/// The access rights the pages of PssDuplicateSnapshot and PssFreeSnapshot name.
#[test]
fn process_access_rights_equal_winnt_values() {
    let rights: [(PROCESS_ACCESS_RIGHTS, u32); 4] = [
        (PROCESS_VM_OPERATION, 0x0008),
        (PROCESS_VM_READ, 0x0010),
        (PROCESS_VM_WRITE, 0x0020),
        (PROCESS_DUP_HANDLE, 0x0040),
    ];
    for (generated, documented) in rights {
        assert_eq!(generated, documented);
    }
}

/// The dbghelp values a snapshot dump needs, as minidumpapiset.h gives them (feature
/// `dbghelp`): the callback type PSS answers, its answer, and the dump types.
#[cfg(feature = "dbghelp")]
#[test]
fn minidump_values_equal_the_header() {
    use pss_sys::minidump::*;
    assert_eq!(IsProcessSnapshotCallback, 16);
    assert_eq!(S_FALSE, 1);
    let types = [
        (MiniDumpNormal, 0x0),
        (MiniDumpWithDataSegs, 0x1),
        (MiniDumpWithFullMemory, 0x2),
        (MiniDumpWithHandleData, 0x4),
        (MiniDumpWithUnloadedModules, 0x20),
        (MiniDumpWithFullMemoryInfo, 0x800),
        (MiniDumpWithThreadInfo, 0x1000),
        (MiniDumpIgnoreInaccessibleMemory, 0x2_0000),
        (MiniDumpWithTokenInformation, 0x4_0000),
        (MiniDumpWithAvxXStateContext, 0x20_0000),
        (MiniDumpValidTypeFlags, 0x1FF_FFFF),
    ];
    for (value, expected) in types {
        assert_eq!(value, expected);
    }
}
