//! Field-by-field comparison of a recomputed epoch with what the chain persisted.

use crate::output::EpochOutput;
use std::fmt;

/// One value that differs. `uid` is `None` when a whole field differs in length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub field: &'static str,
    pub uid: Option<u16>,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.uid {
            Some(uid) => write!(
                f,
                "{}[uid {}]: chain {}, recomputed {}",
                self.field, uid, self.expected, self.actual
            ),
            None => write!(
                f,
                "{}: chain {}, recomputed {}",
                self.field, self.expected, self.actual
            ),
        }
    }
}

/// Summary of a comparison: how many per-uid values matched, and every one that did not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub checked: usize,
    pub mismatches: Vec<Mismatch>,
}

impl Comparison {
    pub fn matched(&self) -> usize {
        self.checked - self.mismatches.len().min(self.checked)
    }

    pub fn is_exact(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Compares every field of every uid (bonds row by row).
pub fn compare_outputs(expected: &EpochOutput, actual: &EpochOutput) -> Comparison {
    let mut cmp = Comparison::default();
    field(
        &mut cmp,
        "incentive",
        &expected.incentive,
        &actual.incentive,
    );
    field(
        &mut cmp,
        "dividends",
        &expected.dividends,
        &actual.dividends,
    );
    field(
        &mut cmp,
        "consensus",
        &expected.consensus,
        &actual.consensus,
    );
    field(
        &mut cmp,
        "validator_trust",
        &expected.validator_trust,
        &actual.validator_trust,
    );
    field(
        &mut cmp,
        "stake_weight",
        &expected.stake_weight,
        &actual.stake_weight,
    );
    field(&mut cmp, "active", &expected.active, &actual.active);
    field(
        &mut cmp,
        "validator_permit",
        &expected.validator_permit,
        &actual.validator_permit,
    );
    field(&mut cmp, "emission", &expected.emission, &actual.emission);
    field(
        &mut cmp,
        "server_emission",
        &expected.server_emission,
        &actual.server_emission,
    );
    field(
        &mut cmp,
        "validator_emission",
        &expected.validator_emission,
        &actual.validator_emission,
    );
    field(
        &mut cmp,
        "server_emission_event",
        &expected.server_emission_event,
        &actual.server_emission_event,
    );
    let rows = |o: &EpochOutput| {
        o.bonds
            .iter()
            .map(|(uid, row)| (*uid, row.clone()))
            .collect::<Vec<_>>()
    };
    let (e_rows, a_rows) = (rows(expected), rows(actual));
    if e_rows.len() != a_rows.len() {
        cmp.checked += 1;
        cmp.mismatches.push(Mismatch {
            field: "bonds",
            uid: None,
            expected: format!("{} rows", e_rows.len()),
            actual: format!("{} rows", a_rows.len()),
        });
    }
    for ((e_uid, e_row), (_, a_row)) in e_rows.iter().zip(&a_rows) {
        cmp.checked += 1;
        if e_row != a_row {
            cmp.mismatches.push(Mismatch {
                field: "bonds",
                uid: Some(*e_uid),
                expected: format!("{e_row:?}"),
                actual: format!("{a_row:?}"),
            });
        }
    }
    cmp
}

pub(crate) fn field<T: PartialEq + fmt::Debug>(
    cmp: &mut Comparison,
    name: &'static str,
    expected: &[T],
    actual: &[T],
) {
    if expected.len() != actual.len() {
        cmp.checked += 1;
        cmp.mismatches.push(Mismatch {
            field: name,
            uid: None,
            expected: format!("{} uids", expected.len()),
            actual: format!("{} uids", actual.len()),
        });
    }
    for (uid, (e, a)) in expected.iter().zip(actual).enumerate() {
        cmp.checked += 1;
        if e != a {
            cmp.mismatches.push(Mismatch {
                field: name,
                uid: Some(uid as u16),
                expected: format!("{e:?}"),
                actual: format!("{a:?}"),
            });
        }
    }
}

/// Compares every value a spec-103 epoch writes (bonds row by row, the emission tuples one by
/// one).
pub fn compare_outputs_v103(
    expected: &crate::v103::EpochOutputV103,
    actual: &crate::v103::EpochOutputV103,
) -> Comparison {
    compare_v103(expected, actual, true)
}

/// Compares what a runtime stored for a spec-103 epoch with a recomputation of it: every value
/// but which bond rows the epoch wrote, which is not stored anywhere (the rows themselves are
/// compared).
pub fn compare_stored_v103(
    stored: &crate::v103::EpochOutputV103,
    recomputed: &crate::v103::EpochOutputV103,
) -> Comparison {
    compare_v103(stored, recomputed, false)
}

fn compare_v103(
    expected: &crate::v103::EpochOutputV103,
    actual: &crate::v103::EpochOutputV103,
    bonds_written: bool,
) -> Comparison {
    let mut cmp = Comparison::default();
    field(&mut cmp, "active", &expected.active, &actual.active);
    field(&mut cmp, "emission", &expected.emission, &actual.emission);
    field(&mut cmp, "rank", &expected.rank, &actual.rank);
    field(&mut cmp, "trust", &expected.trust, &actual.trust);
    field(
        &mut cmp,
        "consensus",
        &expected.consensus,
        &actual.consensus,
    );
    field(
        &mut cmp,
        "incentive",
        &expected.incentive,
        &actual.incentive,
    );
    field(
        &mut cmp,
        "dividends",
        &expected.dividends,
        &actual.dividends,
    );
    field(
        &mut cmp,
        "pruning_scores",
        &expected.pruning_scores,
        &actual.pruning_scores,
    );
    field(
        &mut cmp,
        "validator_trust",
        &expected.validator_trust,
        &actual.validator_trust,
    );
    field(
        &mut cmp,
        "validator_permit",
        &expected.validator_permit,
        &actual.validator_permit,
    );
    field(&mut cmp, "bonds", &expected.bonds, &actual.bonds);
    if bonds_written {
        field(
            &mut cmp,
            "bonds_written",
            &expected.bonds_written,
            &actual.bonds_written,
        );
    }
    field(
        &mut cmp,
        "emission_tuples",
        &expected.emission_tuples,
        &actual.emission_tuples,
    );
    cmp
}
