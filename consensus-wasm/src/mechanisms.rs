//! Mechanisms (sub-subnets): one subnet's emission split over several epochs that share its
//! uids, keys and stake but have their own weights, bonds and `LastUpdate`
//! (`epoch_with_mechanisms`).
//!
//! Each mechanism runs the ordinary epoch on its share; the per-hotkey results are then folded
//! into one set of subnet-wide values, weighting each mechanism by its share of the emission.
//! With a single mechanism the fold is the identity, which is what every golden vector exercises.

use crate::epoch::run_epoch;

use crate::input::{EpochInput, InputError};
use crate::output::EpochOutput;
use substrate_fixed::types::U64F64;

/// The results of all mechanisms of one subnet epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetEpoch {
    /// What each mechanism persists under its storage index (`Incentive`, `Bonds`).
    pub mechanisms: Vec<EpochOutput>,
    /// What the subnet persists per netuid (`Dividends`, `Consensus`, `ValidatorTrust`,
    /// `StakeWeight`, `Emission`, `Active`, `ValidatorPermit`) and the emission shares that go
    /// back to the coinbase. `bonds` is empty: bonds are per mechanism. `incentive` follows the
    /// chain's fold, which only weights in the first mechanism's term.
    pub aggregated: EpochOutput,
}

/// `split_emissions`: each mechanism's share of `rao_emission`, ⌊alpha · share / 65535⌋ with a
/// split, ⌊alpha / count⌋ without; what truncation loses goes to mechanism 0.
pub fn split_emission(rao_emission: u64, mechanism_count: u8, split: Option<&[u16]>) -> Vec<u64> {
    let count = usize::from(mechanism_count);
    let mut shares: Vec<u64> = match split {
        Some(split) => split
            .iter()
            .map(|&s| {
                let share =
                    u128::from(rao_emission).saturating_mul(u128::from(s)) / u128::from(u16::MAX);
                share as u64 // ≤ rao_emission since s ≤ 65535
            })
            .collect(),
        None => {
            let each = rao_emission
                .checked_div(u64::from(mechanism_count))
                .unwrap_or(0);
            vec![each; count]
        }
    };
    shares.resize(count, 0);
    let given: u64 = shares.iter().fold(0u64, |a, s| a.saturating_add(*s));
    if let Some(first) = shares.first_mut() {
        *first = first.saturating_add(rao_emission.saturating_sub(given));
    }
    shares
}

/// Runs every mechanism on its share of `rao_emission` and folds the results.
///
/// `mechanisms[m]` is mechanism m's input; its `rao_emission` is replaced by the split.
pub fn run_subnet_epoch(
    mechanisms: &[EpochInput],
    rao_emission: u64,
    split: Option<&[u16]>,
) -> Result<SubnetEpoch, InputError> {
    let count = u8::try_from(mechanisms.len()).unwrap_or(u8::MAX);
    if let Some(first) = mechanisms.first() {
        for (m, other) in mechanisms.iter().enumerate().skip(1) {
            let shared = [
                ("n", first.n == other.n),
                ("hotkeys", first.hotkeys == other.hotkeys),
                ("alpha_stake", first.alpha_stake == other.alpha_stake),
                ("tao_stake", first.tao_stake == other.tao_stake),
                (
                    "validator_permit",
                    first.validator_permit == other.validator_permit,
                ),
            ];
            if let Some((field, _)) = shared.iter().find(|(_, same)| !same) {
                return Err(InputError::MechanismMismatch {
                    mechanism: m,
                    field,
                });
            }
        }
    }
    let shares = split_emission(rao_emission, count, split);
    let mut outputs = Vec::with_capacity(mechanisms.len());
    let mut aggregated: Option<EpochOutput> = None;
    for (m, (input, share)) in mechanisms.iter().zip(&shares).enumerate() {
        let mut input = input.clone();
        input.rao_emission = *share;
        let out = run_epoch(&input)?;
        // A mechanism's weight is its share of the emission; with no emission at all the first
        // mechanism counts fully and the others not at all.
        let weight = U64F64::saturating_from_num(*share)
            .checked_div(U64F64::saturating_from_num(rao_emission))
            .unwrap_or_else(|| U64F64::saturating_from_num(u8::from(m == 0)));
        aggregated = Some(match aggregated {
            None => first_terms(&out, weight),
            Some(acc) => fold_terms(acc, &out, weight),
        });
        outputs.push(out);
    }
    Ok(SubnetEpoch {
        mechanisms: outputs,
        aggregated: aggregated.unwrap_or_default(),
    })
}

/// ⌊existing + added · weight⌋ in U64F64.
fn weighted_u16(existing: u16, added: u16, weight: U64F64) -> u16 {
    U64F64::saturating_from_num(existing)
        .saturating_add(U64F64::saturating_from_num(added).saturating_mul(weight))
        .saturating_to_num::<u16>()
}

fn weighted_rao(existing: u64, added: u64, weight: U64F64) -> u64 {
    U64F64::saturating_from_num(existing)
        .saturating_add(U64F64::saturating_from_num(added).saturating_mul(weight))
        .saturating_to_num::<u64>()
}

fn first_terms(out: &EpochOutput, weight: U64F64) -> EpochOutput {
    let w16 = |v: &[u16]| v.iter().map(|&x| weighted_u16(0, x, weight)).collect();
    EpochOutput {
        incentive: w16(&out.incentive),
        dividends: w16(&out.dividends),
        consensus: w16(&out.consensus),
        validator_trust: w16(&out.validator_trust),
        stake_weight: w16(&out.stake_weight),
        active: out.active.clone(),
        validator_permit: out.validator_permit.clone(),
        emission: out
            .emission
            .iter()
            .map(|&x| weighted_rao(0, x, weight))
            .collect(),
        server_emission: out.server_emission.clone(),
        validator_emission: out.validator_emission.clone(),
        server_emission_event: out.server_emission_event.clone(),
        bonds: Vec::new(),
    }
}

fn fold_terms(mut acc: EpochOutput, out: &EpochOutput, weight: U64F64) -> EpochOutput {
    let fold16 = |acc: &mut Vec<u16>, add: &[u16]| {
        for (a, &x) in acc.iter_mut().zip(add) {
            *a = weighted_u16(*a, x, weight);
        }
    };
    fold16(&mut acc.dividends, &out.dividends);
    fold16(&mut acc.consensus, &out.consensus);
    fold16(&mut acc.validator_trust, &out.validator_trust);
    fold16(&mut acc.stake_weight, &out.stake_weight);
    for (a, &x) in acc.emission.iter_mut().zip(&out.emission) {
        *a = weighted_rao(*a, x, weight);
    }
    let add = |acc: &mut Vec<u64>, add: &[u64]| {
        for (a, &x) in acc.iter_mut().zip(add) {
            *a = a.saturating_add(x);
        }
    };
    add(&mut acc.server_emission, &out.server_emission);
    add(&mut acc.validator_emission, &out.validator_emission);
    add(&mut acc.server_emission_event, &out.server_emission_event);
    let or = |acc: &mut Vec<bool>, add: &[bool]| {
        for (a, &x) in acc.iter_mut().zip(add) {
            *a |= x;
        }
    };
    or(&mut acc.active, &out.active);
    or(&mut acc.validator_permit, &out.validator_permit);
    acc
}
