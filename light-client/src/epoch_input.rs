//! The complete input of one Yuma epoch (the consensus engine's [`EpochInput`]), read from the
//! storage the epoch read: the state of the parent of the block it ran in.
//!
//! Two quantities are not storage items but products of other runtime logic, and come from the
//! caller: each uid's inherited stake (own alpha minus what it gives to child keys plus what
//! it receives from parents, and the same for root TAO) and the alpha emission handed to this
//! mechanism's epoch. Everything else is read here, entry by entry, with the runtime's layout
//! checked before decoding (see [`crate::subnet::read`]).
//!
//! Hotkeys become the engine's opaque ids as the first eight bytes of the account, little-endian.
//! Two hotkeys of one subnet sharing those bytes make the input invalid (the engine refuses
//! duplicate ids), an error rather than a wrong epoch.

use crate::metadata::Metadata;
use crate::storage::{self, StorageError, StorageValue};
use crate::subnet::{self, State};
use crate::types::Account;
use serde_json::{Value, json};
use std::fmt;
use taoscope_consensus::{CommitReveal, EpochInput, TimelockedCommits, WeightCommits};

/// The most commit epochs one epoch reads timelocked commits from (the reveal window plus the
/// current epoch); real subnets reveal within a few epochs.
pub const MAX_REVEAL_EPOCHS: u64 = 256;

/// What the epoch is, and what the caller derived outside storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochContext {
    pub netuid: u16,
    pub mechid: u8,
    /// The block the epoch runs in (the state read is its parent's).
    pub current_block: u64,
    /// Alpha (rao) handed to this mechanism's epoch.
    pub rao_emission: u64,
    /// Inherited alpha stake per uid (rao), `n` entries.
    pub alpha_stake: Vec<u64>,
    /// Inherited root TAO stake per uid (rao), `n` entries.
    pub tao_stake: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EpochInputError {
    Storage(StorageError),
    /// The caller's stake vectors do not have one entry per uid.
    StakeLength {
        field: &'static str,
        expected: usize,
        found: usize,
    },
    RevealPeriodTooLong(u64),
}

impl fmt::Display for EpochInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpochInputError::Storage(e) => e.fmt(f),
            EpochInputError::StakeLength {
                field,
                expected,
                found,
            } => write!(
                f,
                "{field}: {found} entries for a subnet of {expected} uids"
            ),
            EpochInputError::RevealPeriodTooLong(epochs) => write!(
                f,
                "a reveal period of {epochs} epochs is more than this build reads ({MAX_REVEAL_EPOCHS})"
            ),
        }
    }
}

impl std::error::Error for EpochInputError {}

impl From<StorageError> for EpochInputError {
    fn from(e: StorageError) -> Self {
        EpochInputError::Storage(e)
    }
}

/// The engine's opaque id of a hotkey: its first eight bytes, little-endian.
pub fn hotkey_id(account: &[u8; 32]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(account.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(head)
}

fn account_bytes(account: &Account) -> Option<[u8; 32]> {
    crate::ss58::decode(&account.0).ok()
}

/// `SubtensorModule.entry[keys]` when it is present in the state; `None` when absent, rather
/// than the entry's default (a `Keys` default is the all-zero account, not "no key").
fn read_present<T: StorageValue>(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    keys: &[Value],
) -> Result<Option<T>, StorageError> {
    let key = storage::key(metadata, "SubtensorModule", entry, keys)?;
    match state.get(&key) {
        Some(bytes) => storage::read_typed(metadata, "SubtensorModule", entry, Some(&bytes)),
        None => Ok(None),
    }
}

/// Reads the epoch's input. See the module docs for what the caller supplies.
pub fn epoch_input(
    metadata: &Metadata,
    state: &impl State,
    context: &EpochContext,
) -> Result<EpochInput, EpochInputError> {
    use subnet::read;
    let netuid = context.netuid;
    let index = u16::from(context.mechid)
        .saturating_mul(4096)
        .saturating_add(netuid);
    let k = [json!(netuid)];
    let ki = [json!(index)];

    let n: u16 = read(metadata, state, "SubnetworkN", &k)?;
    let nu = usize::from(n);
    for (field, v) in [
        ("alpha_stake", &context.alpha_stake),
        ("tao_stake", &context.tao_stake),
    ] {
        if v.len() != nu {
            return Err(EpochInputError::StakeLength {
                field,
                expected: nu,
                found: v.len(),
            });
        }
    }

    // Keys, registration blocks, and the hotkeys' accounts (for commits).
    let mut hotkeys = Vec::with_capacity(nu);
    let mut accounts = Vec::new();
    let mut block_at_registration = Vec::with_capacity(nu);
    for uid in 0..n {
        let keys = [json!(netuid), json!(uid)];
        let account: Option<Account> = read_present(metadata, state, "Keys", &keys)?;
        let hotkey = account.and_then(|account| {
            account_bytes(&account).map(|bytes| {
                accounts.push((account, bytes));
                hotkey_id(&bytes)
            })
        });
        hotkeys.push(hotkey);
        block_at_registration.push(read::<u64>(metadata, state, "BlockAtRegistration", &keys)?);
    }

    // The owner's uid: its hotkey must be stored and registered on the subnet.
    let owner: Option<Account> = read_present(metadata, state, "SubnetOwnerHotkey", &k)?;
    let owner_uid = match owner {
        Some(owner) => {
            read_present::<u16>(metadata, state, "Uids", &[json!(netuid), json!(owner.0)])?
        }
        None => None,
    };

    // Weights and bonds rows, every uid (empty rows are dropped: they weigh nothing).
    let mut weights = Vec::new();
    let mut bonds = Vec::new();
    for uid in 0..n {
        let w = subnet::row(metadata, state, "Weights", index, uid)?;
        if !w.is_empty() {
            weights.push((uid, w));
        }
        let b = subnet::row(metadata, state, "Bonds", index, uid)?;
        if !b.is_empty() {
            bonds.push((uid, b));
        }
    }

    let commit_reveal = commit_reveal(metadata, state, netuid, index, &accounts)?;
    let params = subnet::hyperparameters(metadata, state, netuid)?;
    Ok(EpochInput {
        netuid,
        mechid: context.mechid,
        n,
        current_block: context.current_block,
        tempo: params.tempo,
        activity_cutoff_factor_milli: params.activity_cutoff_factor_milli,
        rao_emission: context.rao_emission,
        hotkeys,
        last_update: read(metadata, state, "LastUpdate", &ki)?,
        block_at_registration,
        alpha_stake: context.alpha_stake.clone(),
        tao_stake: context.tao_stake.clone(),
        tao_weight: read(metadata, state, "TaoWeight", &[])?,
        stake_threshold: read(metadata, state, "StakeThreshold", &[])?,
        owner_uid,
        validator_permit: read(metadata, state, "ValidatorPermit", &k)?,
        max_allowed_validators: params.max_allowed_validators,
        kappa: params.kappa,
        rho: params.rho,
        bonds_penalty: params.bonds_penalty,
        bonds_moving_average: params.bonds_moving_average,
        liquid_alpha_enabled: params.liquid_alpha_enabled,
        alpha_values: params.alpha_values,
        alpha_sigmoid_steepness: params.alpha_sigmoid_steepness,
        yuma3_enabled: params.yuma3_enabled,
        last_mechanism_step_block: read(metadata, state, "LastMechansimStepBlock", &k)?,
        commit_reveal,
        weights,
        bonds,
    })
}

/// `WeightCommits` value: (hash, commit_epoch, commit_block, reveal_block) in deque order.
type V2Commit = (String, u64, u64, u64);
/// `TimelockedWeightCommits` value: (hotkey, commit_block, ciphertext, round).
type TimelockedCommit = (String, u64, String, u64);

fn commit_reveal(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
    index: u16,
    accounts: &[(Account, [u8; 32])],
) -> Result<CommitReveal, EpochInputError> {
    use subnet::read;
    let k = [json!(netuid)];
    let enabled: bool = read(metadata, state, "CommitRevealWeightsEnabled", &k)?;
    let reveal_period: u64 = read(metadata, state, "RevealPeriodEpochs", &k)?;
    // The epoch runs at the end of its block, after the epoch index has moved on.
    let current_epoch_with_lookahead =
        read::<u64>(metadata, state, "SubnetEpochIndex", &k)?.saturating_add(1);
    if !enabled {
        return Ok(CommitReveal {
            enabled,
            current_epoch_with_lookahead,
            reveal_period,
            ..CommitReveal::default()
        });
    }
    if reveal_period >= MAX_REVEAL_EPOCHS {
        return Err(EpochInputError::RevealPeriodTooLong(reveal_period));
    }
    let mut weight_commits = Vec::new();
    for (account, bytes) in accounts {
        let key = storage::key(
            metadata,
            "SubtensorModule",
            "WeightCommits",
            &[json!(index), json!(account.0)],
        )?;
        let raw = state.get(&key);
        let value = storage::read(metadata, "SubtensorModule", "WeightCommits", raw.as_deref())?;
        let commits: Vec<V2Commit> = decode_json(value, "SubtensorModule.WeightCommits")?;
        if !commits.is_empty() {
            weight_commits.push(WeightCommits {
                hotkey: hotkey_id(bytes),
                commits: commits.into_iter().map(|(_, e, b, r)| (e, b, r)).collect(),
            });
        }
    }
    let mut timelocked_commits = Vec::new();
    let first = current_epoch_with_lookahead.saturating_sub(reveal_period);
    for commit_epoch in first..=current_epoch_with_lookahead {
        let key = storage::key(
            metadata,
            "SubtensorModule",
            "TimelockedWeightCommits",
            &[json!(index), json!(commit_epoch)],
        )?;
        let raw = state.get(&key);
        let value = storage::read(
            metadata,
            "SubtensorModule",
            "TimelockedWeightCommits",
            raw.as_deref(),
        )?;
        let entries: Vec<TimelockedCommit> =
            decode_json(value, "SubtensorModule.TimelockedWeightCommits")?;
        if !entries.is_empty() {
            let entries = entries
                .into_iter()
                .filter_map(|(hotkey, block, _, round)| {
                    let bytes = crate::ss58::decode(&hotkey).ok()?;
                    Some((hotkey_id(&bytes), block, round))
                })
                .collect();
            timelocked_commits.push(TimelockedCommits {
                commit_epoch,
                entries,
            });
        }
    }
    Ok(CommitReveal {
        enabled,
        current_epoch_with_lookahead,
        reveal_period,
        weight_commits,
        timelocked_commits,
    })
}

/// A dynamic value as a Rust type (null, an absent optional entry, as its default).
fn decode_json<T: serde::de::DeserializeOwned + Default>(
    value: Value,
    entry: &str,
) -> Result<T, EpochInputError> {
    if value.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(value).map_err(|e| {
        EpochInputError::Storage(StorageError::Value {
            entry: entry.into(),
            error: crate::value::ValueError::Invalid {
                ty: entry.into(),
                why: e.to_string(),
            },
        })
    })
}
