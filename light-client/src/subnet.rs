//! A subnet's state as the product reads it: hyperparameters and per-uid vectors, each entry
//! checked against the runtime's layout before it is decoded (see [`crate::storage::read_typed`]).
//!
//! Reading goes through [`State`], the storage of one block that the light client has already
//! proven; this module decides which keys to ask for and what their bytes mean, never where they
//! came from.

use crate::metadata::Metadata;
use crate::storage::{self, StorageError, StorageValue};
use crate::types::Account;
use serde_json::{Value, json};
use std::collections::HashMap;
use taoscope_consensus::v103::Rows;

/// Verified storage of one block: the value at a key, `None` when absent.
pub trait State {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

impl State for HashMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        HashMap::get(self, key).cloned()
    }
}

const PALLET: &str = "SubtensorModule";

/// Reads `SubtensorModule.entry[keys]` as `T`; absent values are the runtime's default.
pub fn read<T: StorageValue>(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    keys: &[Value],
) -> Result<T, StorageError> {
    let key = storage::key(metadata, PALLET, entry, keys)?;
    let bytes = state.get(&key);
    storage::read_typed::<T>(metadata, PALLET, entry, bytes.as_deref())?.ok_or_else(|| {
        StorageError::Value {
            entry: format!("{PALLET}.{entry}"),
            error: crate::value::ValueError::Invalid {
                ty: T::LAYOUT.into(),
                why: "absent, and the entry has no default".into(),
            },
        }
    })
}

/// The hyperparameters a Yuma epoch reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hyperparameters {
    pub tempo: u16,
    pub kappa: u16,
    pub rho: u16,
    pub activity_cutoff_factor_milli: u32,
    pub max_allowed_validators: u16,
    pub bonds_moving_average: u64,
    pub bonds_penalty: u16,
    pub liquid_alpha_enabled: bool,
    pub alpha_values: (u16, u16),
    pub alpha_sigmoid_steepness: i16,
    pub yuma3_enabled: bool,
    pub commit_reveal_enabled: bool,
    pub reveal_period_epochs: u64,
}

pub fn hyperparameters(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<Hyperparameters, StorageError> {
    let k = [json!(netuid)];
    Ok(Hyperparameters {
        tempo: read(metadata, state, "Tempo", &k)?,
        kappa: read(metadata, state, "Kappa", &k)?,
        rho: read(metadata, state, "Rho", &k)?,
        activity_cutoff_factor_milli: read(metadata, state, "ActivityCutoffFactorMilli", &k)?,
        max_allowed_validators: read(metadata, state, "MaxAllowedValidators", &k)?,
        bonds_moving_average: read(metadata, state, "BondsMovingAverage", &k)?,
        bonds_penalty: read(metadata, state, "BondsPenalty", &k)?,
        liquid_alpha_enabled: read(metadata, state, "LiquidAlphaOn", &k)?,
        alpha_values: read(metadata, state, "AlphaValues", &k)?,
        alpha_sigmoid_steepness: read(metadata, state, "AlphaSigmoidSteepness", &k)?,
        yuma3_enabled: read(metadata, state, "Yuma3On", &k)?,
        commit_reveal_enabled: read(metadata, state, "CommitRevealWeightsEnabled", &k)?,
        reveal_period_epochs: read(metadata, state, "RevealPeriodEpochs", &k)?,
    })
}

/// The per-uid vectors the chain stores after each epoch, and the registration data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UidVectors {
    pub n: u16,
    pub active: Vec<bool>,
    pub consensus: Vec<u16>,
    pub incentive: Vec<u16>,
    pub dividends: Vec<u16>,
    pub validator_trust: Vec<u16>,
    pub validator_permit: Vec<bool>,
    pub emission: Vec<u64>,
    pub stake_weight: Vec<u16>,
    pub last_update: Vec<u64>,
}

pub fn uid_vectors(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<UidVectors, StorageError> {
    let k = [json!(netuid)];
    Ok(UidVectors {
        n: read(metadata, state, "SubnetworkN", &k)?,
        active: read(metadata, state, "Active", &k)?,
        consensus: read(metadata, state, "Consensus", &k)?,
        incentive: read(metadata, state, "Incentive", &k)?,
        dividends: read(metadata, state, "Dividends", &k)?,
        validator_trust: read(metadata, state, "ValidatorTrust", &k)?,
        validator_permit: read(metadata, state, "ValidatorPermit", &k)?,
        emission: read(metadata, state, "Emission", &k)?,
        stake_weight: read(metadata, state, "StakeWeight", &k)?,
        last_update: read(metadata, state, "LastUpdate", &k)?,
    })
}

/// The hotkey registered at `uid`, and the block it registered at.
pub fn neuron(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
    uid: u16,
) -> Result<(Account, u64), StorageError> {
    let k = [json!(netuid), json!(uid)];
    Ok((
        read(metadata, state, "Keys", &k)?,
        read(metadata, state, "BlockAtRegistration", &k)?,
    ))
}

/// One validator's `Weights` or `Bonds` row (`entry`), keyed by the mechanism storage index
/// (the netuid for mechanism 0).
pub fn row(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    netuid_index: u16,
    uid: u16,
) -> Result<Vec<(u16, u16)>, StorageError> {
    read(metadata, state, entry, &[json!(netuid_index), json!(uid)])
}

/// The stored rows of a `(netuid, uid) → Vec<(u16, u16)>` map (`Weights`, `Bonds`) for uids
/// `0..n`, in uid order; absent rows are skipped (for bonds, an absent row and a stored empty
/// one differ in what survives an epoch).
pub fn rows(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    netuid: u16,
    n: u16,
) -> Result<Rows, StorageError> {
    let mut out = Vec::new();
    for uid in 0..n {
        let keys = [json!(netuid), json!(uid)];
        let key = storage::key(metadata, PALLET, entry, &keys)?;
        if state.get(&key).is_some() {
            out.push((uid, read(metadata, state, entry, &keys)?));
        }
    }
    Ok(out)
}
