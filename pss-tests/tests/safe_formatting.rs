//! What `pss`'s values print for a reader: addresses in hex.

/// `Omission`'s `Debug` prints its addresses in hex, not decimal.
#[test]
fn omissions_print_addresses_in_hex() {
    let omission = pss::Omission::Memory {
        address: 0x7ff6_1000,
        size: 4096,
    };
    assert_eq!(
        format!("{omission:?}"),
        "Memory { address: 0x7ff61000, size: 4096 }"
    );
    let headers = pss::Omission::ModuleHeaders {
        base: 0x40_0000,
        problem: "no NT headers",
    };
    assert_eq!(
        format!("{headers:?}"),
        r#"ModuleHeaders { base: 0x400000, problem: "no NT headers" }"#
    );
    let stack = pss::Omission::Stack {
        thread_id: 4,
        address: 0xc0_0000,
        wanted: 16,
        read: 0,
    };
    assert!(format!("{stack:?}").contains("address: 0xc00000"));
}
