//! Every golden vector from the chain's own code must be reproduced exactly, field for field.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use std::path::{Path, PathBuf};
use taoscope_consensus::{VectorFile, compare_outputs, run_epoch};

fn vector_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (tests read ../shared/ beside the repo)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn check_all(dir: &str) {
    let files = vector_files(dir);
    assert!(!files.is_empty(), "no vectors in {dir}");
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let vector =
            VectorFile::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected = vector.expected.expect("golden vectors carry expected");
        let actual = run_epoch(&vector.input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cmp = compare_outputs(&expected, &actual);
        if !cmp.is_exact() {
            let shown: Vec<String> = cmp
                .mismatches
                .iter()
                .take(8)
                .map(|m| format!("    {m}"))
                .collect();
            failures.push(format!(
                "{}: {} of {} values differ\n{}",
                path.file_name().unwrap().to_string_lossy(),
                cmp.mismatches.len(),
                cmp.checked,
                shown.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_vectors_match_the_chain() {
    check_all("yuma");
}

#[test]
fn bench_vectors_match_the_chain() {
    check_all("yuma-bench");
}
