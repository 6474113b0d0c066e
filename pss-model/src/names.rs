//! Flags by name, for the model's reports (the leak list): `VA_CLONE | THREADS`, not `0x81`.

use pss_sys::*;

/// The `PSS_CAPTURE_*` / `PSS_CREATE_*` names of `flags`, without their prefixes, joined with
/// ` | `; bits no name covers are added in hex; `NONE` for 0.
pub(crate) fn capture_flags(flags: u32) -> String {
    const NAMES: [(u32, &str); 21] = [
        (PSS_CAPTURE_VA_CLONE, "VA_CLONE"),
        (PSS_CAPTURE_RESERVED_00000002, "AUXILIARY_PAGES"),
        (PSS_CAPTURE_HANDLES, "HANDLES"),
        (
            PSS_CAPTURE_HANDLE_NAME_INFORMATION,
            "HANDLE_NAME_INFORMATION",
        ),
        (
            PSS_CAPTURE_HANDLE_BASIC_INFORMATION,
            "HANDLE_BASIC_INFORMATION",
        ),
        (
            PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION,
            "HANDLE_TYPE_SPECIFIC_INFORMATION",
        ),
        (PSS_CAPTURE_HANDLE_TRACE, "HANDLE_TRACE"),
        (PSS_CAPTURE_THREADS, "THREADS"),
        (PSS_CAPTURE_THREAD_CONTEXT, "THREAD_CONTEXT"),
        (
            PSS_CAPTURE_THREAD_CONTEXT_EXTENDED,
            "THREAD_CONTEXT_EXTENDED",
        ),
        (PSS_CAPTURE_RESERVED_00000400, "RESERVED_00000400"),
        (PSS_CAPTURE_VA_SPACE, "VA_SPACE"),
        (
            PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
            "VA_SPACE_SECTION_INFORMATION",
        ),
        (PSS_CAPTURE_IPT_TRACE, "IPT_TRACE"),
        (PSS_CAPTURE_RESERVED_00004000, "RESERVED_00004000"),
        (PSS_CREATE_BREAKAWAY_OPTIONAL, "CREATE_BREAKAWAY_OPTIONAL"),
        (PSS_CREATE_BREAKAWAY, "CREATE_BREAKAWAY"),
        (PSS_CREATE_FORCE_BREAKAWAY, "CREATE_FORCE_BREAKAWAY"),
        (PSS_CREATE_USE_VM_ALLOCATIONS, "CREATE_USE_VM_ALLOCATIONS"),
        (PSS_CREATE_MEASURE_PERFORMANCE, "CREATE_MEASURE_PERFORMANCE"),
        (PSS_CREATE_RELEASE_SECTION, "CREATE_RELEASE_SECTION"),
    ];
    if flags == 0 {
        return "NONE".into();
    }
    let mut names: Vec<String> = NAMES
        .iter()
        .filter(|(bit, _)| flags & bit == *bit)
        .map(|(_, name)| (*name).to_string())
        .collect();
    let known = NAMES.iter().fold(0, |all, (bit, _)| all | bit);
    if flags & !known != 0 {
        names.push(format!("{:#x}", flags & !known));
    }
    names.join(" | ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_are_named() {
        use pss_sys::*;
        assert_eq!(super::capture_flags(0), "NONE");
        assert_eq!(
            super::capture_flags(PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_THREADS | 0x0100_0000),
            "VA_CLONE | THREADS | 0x1000000"
        );
    }
}
