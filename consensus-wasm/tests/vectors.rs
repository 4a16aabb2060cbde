//! Every golden vector from the chain's own code must be reproduced exactly, field for field.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

mod common;

use taoscope_consensus::run_epoch;

fn check_all(dir: &str) {
    let (count, failures) = common::check_vectors(dir, |input| {
        run_epoch(input).unwrap_or_else(|e| panic!("{e}"))
    });
    assert!(count > 0, "no vectors in {dir}");
    assert!(
        failures.is_empty(),
        "{} of {count} vectors differ:\n{}",
        failures.len(),
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
