//! The spec-103 epoch read from chain state: its input at the block before an epoch block, and
//! what the runtime persisted at the epoch block (for an audit to compare, value by value).
//!
//! Spec 103 keys everything by `netuid` (no mechanisms) and takes stake from the global
//! `TotalHotkeyStake`. The epoch runs in `on_initialize` of block B when
//! `(B + netuid + 1) % (tempo + 1) == 0`, before any transaction of B: so its input is the
//! state after block B − 1, with `current_block = B`, and the emission it shares is the pending
//! emission plus the subnet's emission value for B (queued in the same `on_initialize`).

use crate::metadata::Metadata;
use crate::metagraph::Reads;
use crate::storage::{self, StorageError};
use crate::subnet::{State, read, rows};
use crate::types::Account;
use serde_json::{Value, json};
use taoscope_consensus::v103::{EpochInputV103, EpochOutputV103, HotkeyId};

const PALLET: &str = "SubtensorModule";

fn present(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    keys: &[Value],
) -> Result<bool, StorageError> {
    let key = storage::key(metadata, PALLET, entry, keys)?;
    Ok(state.get(&key).is_some())
}

/// Whether block `block` runs subnet `netuid`'s epoch: spec 103's `blocks_until_next_epoch`,
/// `tempo − (block + netuid + 1) mod (tempo + 1)`, is zero (a tempo of 0 never steps). The
/// live chain agrees: its `LastMechansimStepBlock` moves exactly on these blocks (the golden
/// vectors' `current_block`s follow another, informational rule; the epoch does not read it).
pub fn is_epoch_block(netuid: u16, tempo: u16, block: u64) -> bool {
    let tempo = u64::from(tempo);
    tempo != 0 && (block + u64::from(netuid) + 1) % (tempo + 1) == tempo
}

/// The values keyed by the netuid alone that an audit reads: the epoch's input at B − 1, the
/// step block on both sides, and what the epoch stored at B.
const SUBNET_VALUES: &[&str] = &[
    "SubnetworkN",
    "Tempo",
    "ActivityCutoff",
    "PendingEmission",
    "EmissionValues",
    "LastUpdate",
    "ValidatorPermit",
    "MaxAllowedValidators",
    "Kappa",
    "Rho",
    "BondsMovingAverage",
    "LastMechansimStepBlock",
    "LoadedEmission",
    "Active",
    "Emission",
    "Rank",
    "Trust",
    "Consensus",
    "Incentive",
    "Dividends",
    "PruningScores",
    "ValidatorTrust",
];

/// The double maps whose first key is the netuid: all of the subnet's rows, one prefix each.
const SUBNET_ROWS: &[&str] = &["Keys", "BlockAtRegistration", "Weights", "Bonds"];

/// What an audit of `netuid` reads at either of its two blocks: the subnet's own values and
/// rows, and the stake of every hotkey (`TotalHotkeyStake` is keyed by hotkey alone, so the
/// subnet's share of it cannot be named before its `Keys` are read). What is proven grows with
/// the subnet and the chain's hotkeys, not with the whole pallet. One read of the stake map
/// rather than a key per hotkey: one storage operation instead of hundreds (over smoldot-light
/// each operation is a request to a peer).
pub fn subnet_reads(metadata: &Metadata, netuid: u16) -> Result<Reads, StorageError> {
    let k = [json!(netuid)];
    let mut prefixes: Vec<Vec<u8>> = SUBNET_ROWS
        .iter()
        .map(|entry| storage::key(metadata, PALLET, entry, &k))
        .collect::<Result<_, _>>()?;
    prefixes.push(storage::key(metadata, PALLET, "TotalHotkeyStake", &[])?);
    Ok(Reads {
        keys: SUBNET_VALUES
            .iter()
            .map(|entry| storage::key(metadata, PALLET, entry, &k))
            .collect::<Result<_, _>>()?,
        prefixes,
    })
}

/// `LastMechansimStepBlock[netuid]` (sic): the last block that ran the subnet's epoch.
pub fn last_step(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<u64, StorageError> {
    read(metadata, state, "LastMechansimStepBlock", &[json!(netuid)])
}

/// The hotkeys of `Keys[netuid][uid]` for uids 0..n (`None` where a uid has no key).
pub fn hotkeys(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
    n: u16,
) -> Result<Vec<Option<Account>>, StorageError> {
    (0..n)
        .map(|uid| {
            let keys = [json!(netuid), json!(uid)];
            if present(metadata, state, "Keys", &keys)? {
                read::<Account>(metadata, state, "Keys", &keys).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect()
}

/// The epoch input of `netuid` for epoch block `current_block`, from the state after
/// `current_block − 1`.
pub fn epoch_input(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
    current_block: u64,
) -> Result<EpochInputV103, StorageError> {
    let k = [json!(netuid)];
    let n: u16 = read(metadata, state, "SubnetworkN", &k)?;
    let accounts = hotkeys(metadata, state, netuid, n)?;
    let mut total_hotkey_stake = Vec::with_capacity(usize::from(n));
    let mut block_at_registration = Vec::with_capacity(usize::from(n));
    for (uid, account) in (0..n).zip(&accounts) {
        match account {
            Some(account) => {
                total_hotkey_stake.push(read::<u64>(
                    metadata,
                    state,
                    "TotalHotkeyStake",
                    &[json!(account.0)],
                )?);
                block_at_registration.push(read::<u64>(
                    metadata,
                    state,
                    "BlockAtRegistration",
                    &[json!(netuid), json!(uid)],
                )?);
            }
            None => {
                total_hotkey_stake.push(0);
                block_at_registration.push(0);
            }
        }
    }
    let pending: u64 = read(metadata, state, "PendingEmission", &k)?;
    let queued: u64 = read(metadata, state, "EmissionValues", &k)?;
    Ok(EpochInputV103 {
        netuid,
        n,
        current_block,
        tempo: read(metadata, state, "Tempo", &k)?,
        activity_cutoff: read(metadata, state, "ActivityCutoff", &k)?,
        rao_emission: pending.wrapping_add(queued),
        hotkeys: accounts
            .into_iter()
            .map(|a| a.map(|a| HotkeyId::Account(a.0)))
            .collect(),
        total_hotkey_stake,
        last_update: read(metadata, state, "LastUpdate", &k)?,
        block_at_registration,
        validator_permit: read(metadata, state, "ValidatorPermit", &k)?,
        max_allowed_validators: read(metadata, state, "MaxAllowedValidators", &k)?,
        kappa: read(metadata, state, "Kappa", &k)?,
        rho: read(metadata, state, "Rho", &k)?,
        bonds_moving_average: read(metadata, state, "BondsMovingAverage", &k)?,
        weights: rows(metadata, state, "Weights", netuid, n)?,
        bonds: rows(metadata, state, "Bonds", netuid, n)?,
    })
}

/// What the runtime persisted for `netuid` at an epoch block, in the engine's output shape.
/// `bonds_written` is not stored anywhere and stays empty; `emission_tuples` are
/// `LoadedEmission`, where the epoch puts its tuples for `drain_emission` to pay in the next
/// block.
pub fn persisted(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<EpochOutputV103, StorageError> {
    let k = [json!(netuid)];
    let n: u16 = read(metadata, state, "SubnetworkN", &k)?;
    let loaded_key = storage::key(metadata, PALLET, "LoadedEmission", &k)?;
    let loaded = storage::read(
        metadata,
        PALLET,
        "LoadedEmission",
        state.get(&loaded_key).as_deref(),
    )?;
    // `None` (nothing loaded) is no tuples; a tuple that does not read is an error, never
    // skipped (the audit compares tuples by position).
    let emission_tuples = match loaded.as_array() {
        None => Vec::new(),
        Some(tuples) => tuples
            .iter()
            .map(|t| {
                let account = t.get(0).and_then(Value::as_str).map(str::to_string);
                let rao = t.get(1).and_then(Value::as_u64);
                account
                    .zip(rao)
                    .map(|(account, rao)| (HotkeyId::Account(account), rao))
                    .ok_or_else(|| StorageError::Layout {
                        entry: "LoadedEmission".into(),
                        spec_version: metadata.runtime_version().map_or(0, |(_, v)| v),
                        runtime: t.to_string(),
                        expected: "(account, rao) tuples".into(),
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(EpochOutputV103 {
        active: read(metadata, state, "Active", &k)?,
        emission: read(metadata, state, "Emission", &k)?,
        rank: read(metadata, state, "Rank", &k)?,
        trust: read(metadata, state, "Trust", &k)?,
        consensus: read(metadata, state, "Consensus", &k)?,
        incentive: read(metadata, state, "Incentive", &k)?,
        dividends: read(metadata, state, "Dividends", &k)?,
        pruning_scores: read(metadata, state, "PruningScores", &k)?,
        validator_trust: read(metadata, state, "ValidatorTrust", &k)?,
        validator_permit: read(metadata, state, "ValidatorPermit", &k)?,
        bonds: rows(metadata, state, "Bonds", netuid, n)?,
        bonds_written: Vec::new(),
        emission_tuples,
    })
}
