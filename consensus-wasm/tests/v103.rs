//! The spec-103 epoch against its golden vectors (the chain's own code at bf50605d): every
//! field of every vector, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::load_v103_vectors as vectors;
use taoscope_consensus::v103::{EpochInputV103, run_epoch};

#[test]
fn every_v103_vector_matches_field_for_field() {
    let vectors = vectors();
    assert!(vectors.len() >= 30, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    for (name, file) in &vectors {
        assert_eq!(file.schema, "yuma-epoch-vector/v103", "{name}");
        let expected = file.expected.as_ref().unwrap();
        let got = run_epoch(&file.input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let fields = [
            (
                "active",
                format!("{:?}", got.active),
                format!("{:?}", expected.active),
            ),
            (
                "emission",
                format!("{:?}", got.emission),
                format!("{:?}", expected.emission),
            ),
            (
                "rank",
                format!("{:?}", got.rank),
                format!("{:?}", expected.rank),
            ),
            (
                "trust",
                format!("{:?}", got.trust),
                format!("{:?}", expected.trust),
            ),
            (
                "consensus",
                format!("{:?}", got.consensus),
                format!("{:?}", expected.consensus),
            ),
            (
                "incentive",
                format!("{:?}", got.incentive),
                format!("{:?}", expected.incentive),
            ),
            (
                "dividends",
                format!("{:?}", got.dividends),
                format!("{:?}", expected.dividends),
            ),
            (
                "pruning_scores",
                format!("{:?}", got.pruning_scores),
                format!("{:?}", expected.pruning_scores),
            ),
            (
                "validator_trust",
                format!("{:?}", got.validator_trust),
                format!("{:?}", expected.validator_trust),
            ),
            (
                "validator_permit",
                format!("{:?}", got.validator_permit),
                format!("{:?}", expected.validator_permit),
            ),
            (
                "bonds",
                format!("{:?}", got.bonds),
                format!("{:?}", expected.bonds),
            ),
            (
                "bonds_written",
                format!("{:?}", got.bonds_written),
                format!("{:?}", expected.bonds_written),
            ),
            (
                "emission_tuples",
                format!("{:?}", got.emission_tuples),
                format!("{:?}", expected.emission_tuples),
            ),
        ];
        for (field, got, want) in fields {
            if got != want {
                let cut = |s: &str| s.chars().take(300).collect::<String>();
                failures.push(format!(
                    "{name}: {field}\n  got  {}\n  want {}",
                    cut(&got),
                    cut(&want)
                ));
            }
        }
        assert_eq!(&got, expected, "{name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Input the old runtime would have panicked on gets an error naming the field.
#[test]
fn malformed_v103_input_is_refused_by_field() {
    let (_, file) = vectors().into_iter().next().unwrap();
    let mut input: EpochInputV103 = file.input.clone();
    input.last_update.pop();
    let error = run_epoch(&input).unwrap_err().to_string();
    assert!(error.starts_with("last_update:"), "{error}");
    let mut input = file.input.clone();
    input.weights.push((0, vec![(input.n, 1)]));
    let error = run_epoch(&input).unwrap_err().to_string();
    assert!(error.starts_with("weights: row 0 names uid"), "{error}");
}
