//! The golden vectors, run by the engine compiled to wasm32 in headless Chromium.
//!
//! The files are compiled in from `../shared/` (the browser has no file system); nothing is copied
//! into the repository.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use taoscope_consensus::compare::compare_outputs_v103;
use taoscope_consensus::{AnyVector, VectorFile, compare_outputs, run_epoch, v103};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! vector {
    ($path:literal) => {
        (
            $path,
            include_str!(concat!("../../../shared/vectors/", $path)),
        )
    };
}

const GOLDEN: &[(&str, &str)] = &[
    vector!("yuma/000_pub_small_2uid_one_validator.json"),
    vector!("yuma/001_pub_small_3uid_two_val_agree.json"),
    vector!("yuma/002_pub_small_4uid_disagree_with_bonds.json"),
    vector!("yuma/003_pub_edge_zero_stake.json"),
    vector!("yuma/004_pub_edge_all_weights_zero.json"),
    vector!("yuma/005_pub_edge_self_weights.json"),
    vector!("yuma/006_pub_edge_owner_self_weight_kept.json"),
    vector!("yuma/007_pub_edge_outdated_past_cutoff.json"),
    vector!("yuma/008_pub_edge_validator_without_permit.json"),
    vector!("yuma/009_pub_edge_registered_after_update.json"),
    vector!("yuma/010_pub_edge_median_tie.json"),
    vector!("yuma/011_pub_edge_kappa_0_2.json"),
    vector!("yuma/012_pub_edge_kappa_0_8.json"),
    vector!("yuma/013_pub_edge_yuma3_liquid_alpha.json"),
    vector!("yuma/014_pub_edge_yuma3_no_liquid.json"),
    vector!("yuma/015_pub_edge_yuma2_liquid_flag_ignored.json"),
    vector!("yuma/016_pub_edge_max_validators_2.json"),
    vector!("yuma/017_pub_edge_tao_weight_stake.json"),
    vector!("yuma/018_pub_edge_stake_threshold.json"),
    vector!("yuma/019_pub_edge_bonds_penalty0_bma05.json"),
    vector!("yuma/020_pub_n64_v16_base.json"),
    vector!("yuma/021_pub_n64_v16_yuma3_liquid.json"),
    vector!("yuma/022_pub_n64_v16_yuma3.json"),
    vector!("yuma/023_pub_n64_v16_kappa.json"),
    vector!("yuma/024_pub_n64_v16_ties_cr.json"),
    vector!("yuma/025_pub_n256_v64_base.json"),
    vector!("yuma/026_pub_n256_v64_yuma3_liquid.json"),
    vector!("yuma/027_pub_n256_v64_yuma3.json"),
    vector!("yuma/028_pub_n256_v64_kappa.json"),
    vector!("yuma/029_pub_n256_v64_ties_cr.json"),
    vector!("yuma/030_pub_n1024_v64_base.json"),
    vector!("yuma/031_pub_n1024_v64_yuma3_liquid.json"),
    vector!("yuma/032_pub_n1024_v64_yuma3.json"),
    vector!("yuma/033_pub_n1024_v64_kappa.json"),
    vector!("yuma/034_pub_n1024_v64_ties_cr.json"),
    vector!("yuma/035_pub_n100_v40_base.json"),
    vector!("yuma/036_pub_n100_v40_yuma3_liquid.json"),
    vector!("yuma/037_pub_n100_v40_yuma3.json"),
    vector!("yuma/038_pub_n100_v40_kappa.json"),
    vector!("yuma/039_pub_n100_v40_ties_cr.json"),
];

/// One large case as well: 1024 uids, Yuma3 bonds with liquid alpha, from the bench set.
const LARGE: &[(&str, &str)] = &[
    vector!("yuma-bench/bench_n1024_y3la.json"),
    vector!("yuma-bench/bench_n1024_y2.json"),
];

/// Every spec-103 vector (the localnet's runtime), through the same `AnyVector` entry the app
/// and `yuma` use.
const V103: &[(&str, &str)] = &[
    vector!("yuma-v103/public_00_one_validator.json"),
    vector!("yuma-v103/public_01_two_validators_agree.json"),
    vector!("yuma-v103/public_02_two_validators_disagree_bonds.json"),
    vector!("yuma-v103/public_03_zero_stake_validator.json"),
    vector!("yuma-v103/public_04_all_stake_zero.json"),
    vector!("yuma-v103/public_05_no_weights.json"),
    vector!("yuma-v103/public_06_self_weights.json"),
    vector!("yuma-v103/public_07_outdated_weights.json"),
    vector!("yuma-v103/public_08_inactive_validator.json"),
    vector!("yuma-v103/public_09_all_inactive.json"),
    vector!("yuma-v103/public_10_no_permits.json"),
    vector!("yuma-v103/public_11_topk_ties.json"),
    vector!("yuma-v103/public_12_kappa_zero.json"),
    vector!("yuma-v103/public_13_kappa_max.json"),
    vector!("yuma-v103/public_14_kappa_0_2.json"),
    vector!("yuma-v103/public_15_bma_zero.json"),
    vector!("yuma-v103/public_16_bma_one.json"),
    vector!("yuma-v103/public_17_bma_half.json"),
    vector!("yuma-v103/public_18_median_equal_stake.json"),
    vector!("yuma-v103/public_19_bond_rows_retained.json"),
    vector!("yuma-v103/public_20_keys_gap.json"),
    vector!("yuma-v103/public_21_unsorted_rows_zeros.json"),
    vector!("yuma-v103/public_22_tiny_emission.json"),
    vector!("yuma-v103/public_23_huge_stake.json"),
    vector!("yuma-v103/public_24_realistic_n64_v16_s7000.json"),
    vector!("yuma-v103/public_25_realistic_n64_v32_s7001.json"),
    vector!("yuma-v103/public_26_realistic_n256_v64_s7002.json"),
    vector!("yuma-v103/public_27_realistic_n256_v128_s7003.json"),
    vector!("yuma-v103/public_28_realistic_n1024_v128_s7004.json"),
    vector!("yuma-v103/public_29_realistic_n1024_v64_s7005.json"),
];

fn check(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (name, text) in cases {
        let vector = VectorFile::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = vector.expected.expect("golden vectors carry expected");
        let actual = run_epoch(&vector.input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cmp = compare_outputs(&expected, &actual);
        if !cmp.is_exact() {
            failures.push(format!(
                "{name}: {} of {} differ, first: {}",
                cmp.mismatches.len(),
                cmp.checked,
                cmp.mismatches[0]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[wasm_bindgen_test]
fn every_public_golden_vector_matches_in_the_browser() {
    check(GOLDEN);
}

#[wasm_bindgen_test]
fn a_1024_uid_epoch_matches_in_the_browser() {
    check(LARGE);
}

#[wasm_bindgen_test]
fn every_spec_103_vector_matches_in_the_browser() {
    let mut failures = Vec::new();
    for (name, text) in V103 {
        let AnyVector::V103(vector) =
            AnyVector::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"))
        else {
            panic!("{name}: not read as a v103 vector");
        };
        let expected = vector
            .expected
            .clone()
            .expect("golden vectors carry expected");
        let actual = v103::run_epoch(&vector.input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cmp = compare_outputs_v103(&expected, &actual);
        if !cmp.is_exact() {
            failures.push(format!(
                "{name}: {} of {} differ, first: {}",
                cmp.mismatches.len(),
                cmp.checked,
                cmp.mismatches[0]
            ));
        }
    }
    assert_eq!(V103.len(), 30);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
