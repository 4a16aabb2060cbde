//! Every golden epoch, written into a spec-461 storage state with the runtime's own key and
//! value layouts, reads back as an input whose epoch gives exactly what the chain persisted.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use std::collections::HashMap;
use taoscope_light_client::epoch_input::{EpochContext, EpochInputError, epoch_input};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::{ss58, storage, value};

type State = HashMap<Vec<u8>, Vec<u8>>;

fn put(md: &Metadata, state: &mut State, entry: &str, keys: &[Value], v: Value) {
    let key = storage::key(md, "SubtensorModule", entry, keys).unwrap();
    let (_, e) = storage::entry(md, "SubtensorModule", entry).unwrap();
    let mut bytes = Vec::new();
    value::encode(&md.types, e.value_ty, &v, &mut bytes)
        .unwrap_or_else(|err| panic!("{entry}: {err}"));
    state.insert(key, bytes);
}

/// The account whose first eight bytes are the vector's opaque hotkey id.
fn account(id: u64) -> String {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&id.to_le_bytes());
    bytes[8] = 0x5a; // not the all-zero default account
    ss58::encode(&bytes, 42)
}

fn state_of(md: &Metadata, input: &taoscope_consensus::EpochInput) -> State {
    let mut s = State::new();
    let netuid = input.netuid;
    let index = u16::from(input.mechid) * 4096 + netuid;
    let k = [json!(netuid)];
    let ki = [json!(index)];
    put(md, &mut s, "SubnetworkN", &k, json!(input.n));
    for (uid, hotkey) in input.hotkeys.iter().enumerate() {
        let keys = [json!(netuid), json!(uid)];
        if let Some(h) = hotkey {
            put(md, &mut s, "Keys", &keys, json!(account(*h)));
        }
        put(
            md,
            &mut s,
            "BlockAtRegistration",
            &keys,
            json!(input.block_at_registration[uid]),
        );
    }
    if let Some(owner) = input.owner_uid {
        let hotkey = account(input.hotkeys[usize::from(owner)].unwrap());
        put(md, &mut s, "SubnetOwnerHotkey", &k, json!(hotkey));
        put(
            md,
            &mut s,
            "Uids",
            &[json!(netuid), json!(hotkey)],
            json!(owner),
        );
    }
    for (entry, rows) in [("Weights", &input.weights), ("Bonds", &input.bonds)] {
        for (uid, row) in rows {
            put(md, &mut s, entry, &[json!(index), json!(uid)], json!(row));
        }
    }
    put(md, &mut s, "LastUpdate", &ki, json!(input.last_update));
    put(
        md,
        &mut s,
        "ValidatorPermit",
        &k,
        json!(input.validator_permit),
    );
    put(md, &mut s, "TaoWeight", &[], json!(input.tao_weight));
    put(
        md,
        &mut s,
        "StakeThreshold",
        &[],
        json!(input.stake_threshold),
    );
    for (entry, v) in [
        ("Tempo", json!(input.tempo)),
        ("Kappa", json!(input.kappa)),
        ("Rho", json!(input.rho)),
        (
            "ActivityCutoffFactorMilli",
            json!(input.activity_cutoff_factor_milli),
        ),
        ("MaxAllowedValidators", json!(input.max_allowed_validators)),
        ("BondsMovingAverage", json!(input.bonds_moving_average)),
        ("BondsPenalty", json!(input.bonds_penalty)),
        ("LiquidAlphaOn", json!(input.liquid_alpha_enabled)),
        (
            "AlphaValues",
            json!([input.alpha_values.0, input.alpha_values.1]),
        ),
        (
            "AlphaSigmoidSteepness",
            json!(input.alpha_sigmoid_steepness),
        ),
        ("Yuma3On", json!(input.yuma3_enabled)),
        (
            "LastMechansimStepBlock",
            json!(input.last_mechanism_step_block),
        ),
        (
            "CommitRevealWeightsEnabled",
            json!(input.commit_reveal.enabled),
        ),
        (
            "RevealPeriodEpochs",
            json!(input.commit_reveal.reveal_period),
        ),
        (
            "SubnetEpochIndex",
            json!(
                input
                    .commit_reveal
                    .current_epoch_with_lookahead
                    .saturating_sub(1)
            ),
        ),
    ] {
        put(md, &mut s, entry, &k, v);
    }
    let hash = format!("0x{}", "ab".repeat(32));
    for account_commits in &input.commit_reveal.weight_commits {
        let commits: Vec<Value> = account_commits
            .commits
            .iter()
            .map(|(e, b, r)| json!([hash, e, b, r]))
            .collect();
        put(
            md,
            &mut s,
            "WeightCommits",
            &[json!(index), json!(account(account_commits.hotkey))],
            json!(commits),
        );
    }
    for epoch in &input.commit_reveal.timelocked_commits {
        let entries: Vec<Value> = epoch
            .entries
            .iter()
            .map(|(h, b, r)| json!([account(*h), b, "0x01", r]))
            .collect();
        put(
            md,
            &mut s,
            "TimelockedWeightCommits",
            &[json!(index), json!(epoch.commit_epoch)],
            json!(entries),
        );
    }
    s
}

#[test]
fn every_golden_epoch_reads_back_from_storage_and_matches_the_chain() {
    let md = common::metadata("localnet_spec461_metadata_v14.hex");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/yuma");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let vector =
            taoscope_consensus::VectorFile::from_json(&std::fs::read_to_string(path).unwrap())
                .unwrap();
        let input = &vector.input;
        let state = state_of(&md, input);
        let context = EpochContext {
            netuid: input.netuid,
            mechid: input.mechid,
            current_block: input.current_block,
            rao_emission: input.rao_emission,
            alpha_stake: input.alpha_stake.clone(),
            tao_stake: input.tao_stake.clone(),
        };
        let read = epoch_input(&md, &state, &context).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Everything but the commit lists (only live ones of registered hotkeys are read) and
        // the empty rows (never stored) is the vector's input itself.
        let strip = |i: &taoscope_consensus::EpochInput| {
            let mut i = i.clone();
            i.commit_reveal.weight_commits.clear();
            if !i.commit_reveal.enabled {
                i.commit_reveal.current_epoch_with_lookahead = 0; // not read by the epoch
            }
            i.commit_reveal.timelocked_commits.clear();
            i.weights.retain(|(_, r)| !r.is_empty());
            i.bonds.retain(|(_, r)| !r.is_empty());
            i
        };
        if strip(&read) != strip(input) {
            let (a, b) = (
                serde_json::to_value(strip(&read)).unwrap(),
                serde_json::to_value(strip(input)).unwrap(),
            );
            let fields: Vec<String> = a
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| b.get(k.as_str()) != Some(v))
                .map(|(k, v)| {
                    format!(
                        "{k}: read {} vs {}",
                        common::short(v),
                        common::short(&b[k.as_str()])
                    )
                })
                .collect();
            failures.push(format!("{name}: input differs in {}", fields.join("; ")));
            continue;
        }
        let output = taoscope_consensus::run_epoch(&read).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(report) = common_report(&name, &vector, &output) {
            failures.push(report);
        }
    }
    assert!(paths.len() >= 40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn common_report(
    name: &str,
    vector: &taoscope_consensus::VectorFile,
    output: &taoscope_consensus::EpochOutput,
) -> Option<String> {
    let cmp = taoscope_consensus::compare_outputs(vector.expected.as_ref().unwrap(), output);
    (!cmp.is_exact()).then(|| {
        format!(
            "{name}: {} values differ, first {}",
            cmp.mismatches.len(),
            cmp.mismatches[0]
        )
    })
}

#[test]
fn wrong_stake_lengths_and_missing_entries_are_errors() {
    let md = common::metadata("localnet_spec461_metadata_v14.hex");
    let mut state = State::new();
    put(&md, &mut state, "SubnetworkN", &[json!(1)], json!(3));
    let context = EpochContext {
        netuid: 1,
        mechid: 0,
        current_block: 10,
        rao_emission: 0,
        alpha_stake: vec![0; 2],
        tao_stake: vec![0; 3],
    };
    let e = epoch_input(&md, &state, &context).unwrap_err();
    assert_eq!(
        e,
        EpochInputError::StakeLength {
            field: "alpha_stake",
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "alpha_stake: 2 entries for a subnet of 3 uids"
    );
    // Before dynamic TAO there was no TaoWeight: the error names the entry and spec.
    let old = common::metadata("finney_spec219_block4898328_metadata_v14.hex");
    let context = EpochContext {
        alpha_stake: vec![0; 3],
        ..context
    };
    let e = epoch_input(&old, &state, &context).unwrap_err().to_string();
    assert!(e.contains("spec 219"), "{e}");
}
