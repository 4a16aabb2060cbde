//! Random epochs: the engine never panics, and what the chain guarantees holds.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use proptest::prelude::*;
use taoscope_consensus::epoch::epoch_terms;
use taoscope_consensus::fixed::{I32F32, ONE, wrapping_sum32};
use taoscope_consensus::mechanisms::{run_subnet_epoch, split_emission};
use taoscope_consensus::{EpochInput, VectorFile, run_epoch};

mod common;

use common::{Rng, random_epoch, random_epoch_with, random_rows};

fn at_most_one(v: &[I32F32]) -> bool {
    let sum: i128 = v.iter().map(|x| i128::from(x.to_bits())).sum();
    sum <= i128::from(ONE.to_bits())
}

fn check_invariants(input: &EpochInput) -> Result<(), TestCaseError> {
    let out =
        run_epoch(input).map_err(|e| TestCaseError::fail(format!("valid input rejected: {e}")))?;
    let terms = epoch_terms(input);
    for (name, v) in [
        ("stake", &terms.stake),
        ("active_stake", &terms.active_stake),
        ("incentive", &terms.incentive),
        ("dividends", &terms.dividends),
    ] {
        prop_assert!(
            at_most_one(v),
            "{name} sums above 1: {:?}",
            wrapping_sum32(v.iter())
        );
    }
    let total = |v: &[u64]| v.iter().map(|&x| u128::from(x)).sum::<u128>();
    let budget = u128::from(input.rao_emission);
    prop_assert!(
        total(&out.emission) <= budget,
        "emission {} > {budget}",
        total(&out.emission)
    );
    prop_assert!(total(&out.server_emission) + total(&out.validator_emission) <= budget);
    let permits = out.validator_permit.iter().filter(|&&p| p).count();
    prop_assert!(
        permits <= usize::from(input.max_allowed_validators) + 1,
        "{permits} permits"
    );
    let keyed = input.hotkeys.iter().filter(|h| h.is_some()).count();
    for len in [
        out.incentive.len(),
        out.dividends.len(),
        out.emission.len(),
        out.bonds.len(),
        out.active.len(),
    ] {
        prop_assert_eq!(len, keyed);
    }
    for (uid, row) in &out.bonds {
        prop_assert!(
            row.is_empty() || terms.new_permits[usize::from(*uid)],
            "bonds without a permit"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn small_random_epochs_hold_the_invariants(seed in any::<u64>(), n in 1u16..=48, dense in any::<bool>()) {
        check_invariants(&random_epoch(seed, n, dense))?;
    }

    #[test]
    fn one_mechanism_is_the_identity(seed in any::<u64>(), n in 1u16..=48) {
        let input = random_epoch(seed, n, false);
        let single = run_epoch(&input).unwrap();
        let subnet = run_subnet_epoch(std::slice::from_ref(&input), input.rao_emission, None).unwrap();
        let mut folded = subnet.aggregated.clone();
        folded.bonds = single.bonds.clone();
        prop_assert_eq!(&folded, &single);
        prop_assert_eq!(&subnet.mechanisms[0], &single);
    }

    #[test]
    fn mechanisms_split_all_emission_and_or_their_flags(seed in any::<u64>(), n in 1u16..=32, count in 2usize..=4, split in any::<bool>()) {
        let base = random_epoch(seed, n, false);
        let mut rng = Rng::new(seed ^ 0x5eed, false);
        let mechanisms: Vec<EpochInput> = (0..count).map(|m| {
            let mut input = base.clone();
            input.mechid = m as u8;
            input.weights = random_rows(&mut rng, n, false, 50);
            input.bonds = random_rows(&mut rng, n, false, 30);
            input
        }).collect();
        let shares: Option<Vec<u16>> = split.then(|| {
            let mut s: Vec<u16> = (0..count - 1).map(|_| (rng.next() % 20_000) as u16).collect();
            let used: u32 = s.iter().map(|&x| u32::from(x)).sum();
            s.push((65_535 - used) as u16);
            s
        });
        let rao = base.rao_emission;
        let parts = split_emission(rao, count as u8, shares.as_deref());
        prop_assert_eq!(parts.iter().map(|&p| u128::from(p)).sum::<u128>(), u128::from(rao));
        let subnet = run_subnet_epoch(&mechanisms, rao, shares.as_deref()).unwrap();
        let total = |v: &[u64]| v.iter().map(|&x| u128::from(x)).sum::<u128>();
        let server: u128 = subnet.mechanisms.iter().map(|m| total(&m.server_emission)).sum();
        prop_assert_eq!(total(&subnet.aggregated.server_emission), server);
        prop_assert!(total(&subnet.aggregated.server_emission) + total(&subnet.aggregated.validator_emission) <= u128::from(rao));
        for uid in 0..subnet.aggregated.active.len() {
            let any_active = subnet.mechanisms.iter().any(|m| m.active[uid]);
            let any_permit = subnet.mechanisms.iter().any(|m| m.validator_permit[uid]);
            prop_assert_eq!(subnet.aggregated.active[uid], any_active);
            prop_assert_eq!(subnet.aggregated.validator_permit[uid], any_permit);
        }
    }

    #[test]
    fn extreme_stakes_and_parameters_never_panic(seed in any::<u64>(), n in 1u16..=64, dense in any::<bool>()) {
        let input = random_epoch_with(Rng::new(seed, true), n, dense);
        let out = run_epoch(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(out.incentive.len(), input.hotkeys.iter().flatten().count());
    }

    #[test]
    fn garbage_files_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(VectorFile::from_json(&text).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn large_random_epochs_hold_the_invariants(seed in any::<u64>(), n in 49u16..=512, dense in any::<bool>()) {
        check_invariants(&random_epoch(seed, n, dense))?;
    }
}

#[test]
fn mismatched_lengths_and_bad_uids_name_the_field() {
    let mut input = random_epoch(7, 8, false);
    input.alpha_stake.pop();
    assert_eq!(
        run_epoch(&input).unwrap_err().to_string(),
        "input.alpha_stake: has 7 entries, expected n = 8 (one per uid)"
    );
    let mut input = random_epoch(7, 8, false);
    input.weights = vec![(2, vec![(9, 100)])];
    assert!(
        run_epoch(&input)
            .unwrap_err()
            .to_string()
            .starts_with("input.weights[0] (row of uid 2, entry 0): uid 9 is out of range")
    );
    let mut input = random_epoch(7, 8, false);
    input.owner_uid = Some(8);
    assert!(
        run_epoch(&input)
            .unwrap_err()
            .to_string()
            .starts_with("input.owner_uid: uid 8 is out of range")
    );
}

#[test]
fn wrong_types_name_the_json_path() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/yuma/000_pub_small_2uid_one_validator.json"
    ))
    .unwrap();
    let broken = text.replacen("\"kappa\":32767", "\"kappa\":\"high\"", 1);
    assert_ne!(broken, text, "fixture layout changed");
    let err = VectorFile::from_json(&broken).unwrap_err().to_string();
    assert!(
        err.starts_with("input.kappa: invalid type: string \"high\""),
        "{err}"
    );
    let err =
        VectorFile::from_json(&text.replacen("yuma-epoch-vector/v1", "yuma-epoch-vector/v9", 1))
            .unwrap_err()
            .to_string();
    assert!(err.contains("not supported"), "{err}");
}
