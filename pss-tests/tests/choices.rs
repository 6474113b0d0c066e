//! Every row of the model's table of silent-document choices (`pss-model/src/lib.rs`) names a test
//! that exists, in the file it says.
#![cfg(not(windows))]

const MODEL_DOCS: &str = include_str!("../../pss-model/src/lib.rs");
const FILES: [(&str, &str); 20] = [
    ("absent", include_str!("absent.rs")),
    ("accounting", include_str!("accounting.rs")),
    ("capture", include_str!("capture.rs")),
    ("churn", include_str!("churn.rs")),
    ("duplicate", include_str!("duplicate.rs")),
    ("free", include_str!("free.rs")),
    ("marker", include_str!("marker.rs")),
    ("misuse", include_str!("misuse.rs")),
    ("process", include_str!("process.rs")),
    ("query", include_str!("query.rs")),
    ("safe_clone_memory", include_str!("safe_clone_memory.rs")),
    (
        "safe_dump_exception",
        include_str!("safe_dump_exception.rs"),
    ),
    ("safe_loader", include_str!("safe_loader.rs")),
    ("safe_minidump", include_str!("safe_minidump.rs")),
    ("safe_parameters", include_str!("safe_parameters.rs")),
    ("safe_soundness", include_str!("safe_soundness.rs")),
    ("safe_walk", include_str!("safe_walk.rs")),
    ("targets", include_str!("targets.rs")),
    ("walk", include_str!("walk.rs")),
    ("safe_wow64", include_str!("safe_wow64.rs")),
];

#[test]
#[cfg_attr(
    miri,
    ignore = "text only, no unsafe code to check: Miri would spend a minute on string searches the host run already made"
)]
fn every_choice_row_points_at_an_existing_test() {
    // The table sits under its own heading; other tables (the sources) have other columns.
    let rows: Vec<&str> = MODEL_DOCS
        .lines()
        .skip_while(|l| !l.starts_with("//! # Choices"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! # "))
        .filter(|l| l.starts_with("//! | ") && !l.contains("---") && !l.contains("| behaviour |"))
        .collect();
    assert!(rows.len() >= 45, "the table has {} rows", rows.len());
    for row in rows {
        let columns: Vec<&str> = row
            .trim_start_matches("//! | ")
            .trim_end_matches(" |")
            .split(" | ")
            .collect();
        assert_eq!(columns.len(), 5, "five columns: {row}");
        let evidence = columns[3];
        // A row the evidence contradicts is fixed (CHANGED) or moved to the list of what the
        // model does not do: never left standing.
        assert!(
            !evidence.contains("CONTRADICTED"),
            "a contradicted row: {row}"
        );
        assert!(
            ["CONFIRMED", "CHANGED", "PLAUSIBLE", "NO EVIDENCE"]
                .iter()
                .any(|grade| evidence.starts_with(grade)),
            "no evidence grade: {row}"
        );
        let pinned = columns[4];
        let tests: Vec<&str> = pinned.split(", ").map(|t| t.trim_matches('`')).collect();
        assert!(!tests.is_empty(), "row without a test: {row}");
        for test in tests {
            let (file, name) = test
                .split_once("::")
                .unwrap_or_else(|| panic!("`{test}` is not file::name in: {row}"));
            let source = FILES
                .iter()
                .find(|(f, _)| *f == file)
                .unwrap_or_else(|| panic!("no test file {file}.rs: {row}"))
                .1;
            assert!(
                source.contains(&format!("fn {name}()")),
                "{file}.rs has no test `{name}`: {row}"
            );
        }
    }
}
