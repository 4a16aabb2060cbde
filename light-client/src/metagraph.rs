//! What the Subnets and subnet pages show, read from one block's verified state: the subnets
//! with their tempo, size, validators and emission, and a subnet's metagraph (one row per uid).
//!
//! Reading is two steps so that this module stays I/O-free: a `*_reads` function says which
//! keys and key prefixes to fetch ([`Reads`]), a transport fetches them with proofs (smoldot-light,
//! verified RPC), and the reader turns the fetched [`Fetched`] state into values. Absent keys
//! read as the runtime's defaults, as the chain itself reads them.
//!
//! Runtimes differ (spec 103 keeps stake in `TotalHotkeyStake`, today's runtime in
//! `TotalHotkeyAlpha` per subnet; only today's stores a `SubnetOwner`), so every entry is looked
//! up in the metadata first: what the runtime does not store is `None` here and "not stored by
//! this runtime" on the page, never a zero.

use crate::metadata::{Metadata, StorageHasher};
use crate::storage::{self, StorageError};
use crate::subnet::{State, read, rows};
use crate::types::Account;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const PALLET: &str = "SubtensorModule";

/// Keys to read (values, or their absence) and prefixes to read every value under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub keys: Vec<Vec<u8>>,
    pub prefixes: Vec<Vec<u8>>,
}

/// Verified state fetched for some [`Reads`]: every present key with its value. A key asked
/// for and absent is simply not here.
pub type Fetched = BTreeMap<Vec<u8>, Vec<u8>>;

impl State for Fetched {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }
}

/// One subnet as the Subnets page lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubnetSummary {
    pub netuid: u16,
    /// The owner's coldkey (SS58), where the runtime stores one.
    pub owner: Option<String>,
    pub tempo: u16,
    /// Registered uids.
    pub n: u16,
    /// Uids holding a validator permit, and how many permits the subnet allows.
    pub validators: u16,
    pub max_validators: u16,
    /// The subnet's emission per block in rao (`EmissionValues`), where the runtime stores it;
    /// its share is this over the sum of all subnets'.
    pub emission: Option<u64>,
}

/// One uid of a subnet's metagraph. Scores are the chain's u16 proportions (65535 = 1).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Neuron {
    pub uid: u16,
    /// SS58 hotkey; `None` for a uid with no key (never the case on a consistent chain).
    pub hotkey: Option<String>,
    /// Stake behind the hotkey in rao (TAO on spec 103; the subnet's alpha on today's runtime).
    pub stake: u64,
    pub rank: Option<u16>,
    pub trust: Option<u16>,
    pub consensus: u16,
    pub incentive: u16,
    pub dividends: u16,
    pub validator_trust: u16,
    /// Rao emitted to the uid at the last epoch.
    pub emission: u64,
    pub active: bool,
    pub validator_permit: bool,
    pub last_update: u64,
}

/// Stored `Weights` or `Bonds` rows: (validator uid, [(uid, u16 value)]), by uid.
pub use taoscope_consensus::v103::Rows;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Metagraph {
    pub netuid: u16,
    pub n: u16,
    /// Which storage entry `stake` comes from, for the page to say what the number means.
    pub stake_entry: Option<String>,
    pub neurons: Vec<Neuron>,
    pub weights: Rows,
    pub bonds: Rows,
}

fn has(metadata: &Metadata, entry: &str) -> bool {
    metadata.storage(PALLET, entry).is_some()
}

fn key(metadata: &Metadata, entry: &str, parts: &[Value]) -> Result<Vec<u8>, StorageError> {
    storage::key(metadata, PALLET, entry, parts)
}

/// Reads `entry[parts]` when the runtime has the entry; `None` when it does not.
fn read_if_stored<T: storage::StorageValue>(
    metadata: &Metadata,
    state: &impl State,
    entry: &str,
    parts: &[Value],
) -> Result<Option<T>, StorageError> {
    if has(metadata, entry) {
        read(metadata, state, entry, parts).map(Some)
    } else {
        Ok(None)
    }
}

/// The SCALE bytes of a map key's last part, from the hashed form that follows `prefix`
/// (only hashers that keep the key readable: identity and the `*Concat` ones).
fn last_key_part<'k>(hasher: &StorageHasher, hashed: &'k [u8]) -> Option<&'k [u8]> {
    match hasher {
        StorageHasher::Identity => Some(hashed),
        StorageHasher::Twox64Concat => hashed.get(8..),
        StorageHasher::Blake2_128Concat => hashed.get(16..),
        _ => None,
    }
}

/// What to read to list the subnets: every `NetworksAdded` entry.
pub fn subnets_reads(metadata: &Metadata) -> Result<Reads, StorageError> {
    Ok(Reads {
        keys: Vec::new(),
        prefixes: vec![key(metadata, "NetworksAdded", &[])?],
    })
}

/// The netuids marked added in `NetworksAdded`, ascending.
pub fn netuids(metadata: &Metadata, state: &Fetched) -> Result<Vec<u16>, StorageError> {
    let prefix = key(metadata, "NetworksAdded", &[])?;
    let (_, entry) = storage::entry(metadata, PALLET, "NetworksAdded")?;
    let hasher = entry.hashers.first();
    let mut netuids = Vec::new();
    for (k, v) in state.range(prefix.clone()..) {
        let Some(hashed) = k.strip_prefix(prefix.as_slice()) else {
            break;
        };
        let part = hasher.and_then(|h| last_key_part(h, hashed));
        let netuid = match part {
            Some([lo, hi]) => u16::from_le_bytes([*lo, *hi]),
            _ => {
                return Err(StorageError::Value {
                    entry: format!("{PALLET}.NetworksAdded"),
                    error: crate::value::ValueError::Invalid {
                        ty: "u16 key".into(),
                        why: format!("a key of {} bytes after the prefix", hashed.len()),
                    },
                });
            }
        };
        if v.as_slice() == [1] {
            netuids.push(netuid);
        }
    }
    netuids.sort_unstable();
    Ok(netuids)
}

const SUBNET_ENTRIES: [&str; 6] = [
    "Tempo",
    "SubnetworkN",
    "MaxAllowedValidators",
    "ValidatorPermit",
    "EmissionValues",
    "SubnetOwner",
];

/// What to read for [`subnet_summaries`] of `netuids`.
pub fn subnet_reads(metadata: &Metadata, netuids: &[u16]) -> Result<Reads, StorageError> {
    let mut keys = Vec::new();
    for netuid in netuids {
        for entry in SUBNET_ENTRIES {
            if has(metadata, entry) {
                keys.push(key(metadata, entry, &[json!(netuid)])?);
            }
        }
    }
    Ok(Reads {
        keys,
        prefixes: Vec::new(),
    })
}

pub fn subnet_summaries(
    metadata: &Metadata,
    state: &impl State,
    netuids: &[u16],
) -> Result<Vec<SubnetSummary>, StorageError> {
    netuids
        .iter()
        .map(|&netuid| {
            let k = [json!(netuid)];
            let permits: Vec<bool> = read(metadata, state, "ValidatorPermit", &k)?;
            let owner: Option<Account> = read_if_stored(metadata, state, "SubnetOwner", &k)?;
            Ok(SubnetSummary {
                netuid,
                owner: owner.map(|a| a.0),
                tempo: read(metadata, state, "Tempo", &k)?,
                n: read(metadata, state, "SubnetworkN", &k)?,
                validators: u16::try_from(permits.iter().filter(|p| **p).count())
                    .unwrap_or(u16::MAX),
                max_validators: read(metadata, state, "MaxAllowedValidators", &k)?,
                emission: read_if_stored(metadata, state, "EmissionValues", &k)?,
            })
        })
        .collect()
}

/// Per-uid vectors of a metagraph; `Rank` and `Trust` only on runtimes that store them.
const VECTOR_ENTRIES: [&str; 11] = [
    "SubnetworkN",
    "Active",
    "Rank",
    "Trust",
    "Consensus",
    "Incentive",
    "Dividends",
    "ValidatorTrust",
    "ValidatorPermit",
    "Emission",
    "LastUpdate",
];

/// What to read first for a metagraph: the per-uid vectors and every `Keys[netuid]`,
/// `Weights[netuid]` and `Bonds[netuid]` entry.
pub fn metagraph_reads(metadata: &Metadata, netuid: u16) -> Result<Reads, StorageError> {
    let mut keys = Vec::new();
    for entry in VECTOR_ENTRIES {
        if has(metadata, entry) {
            keys.push(key(metadata, entry, &[json!(netuid)])?);
        }
    }
    let mut prefixes = Vec::new();
    for entry in ["Keys", "Weights", "Bonds"] {
        prefixes.push(key(metadata, entry, &[json!(netuid)])?);
    }
    Ok(Reads { keys, prefixes })
}

/// The stake entry this runtime keeps per hotkey, and its key for one hotkey.
fn stake_key(
    metadata: &Metadata,
    netuid: u16,
    hotkey: &str,
) -> Result<Option<(&'static str, Vec<u8>)>, StorageError> {
    if has(metadata, "TotalHotkeyStake") {
        return Ok(Some((
            "TotalHotkeyStake",
            key(metadata, "TotalHotkeyStake", &[json!(hotkey)])?,
        )));
    }
    if has(metadata, "TotalHotkeyAlpha") {
        return Ok(Some((
            "TotalHotkeyAlpha",
            key(
                metadata,
                "TotalHotkeyAlpha",
                &[json!(hotkey), json!(netuid)],
            )?,
        )));
    }
    Ok(None)
}

/// The hotkeys of `Keys[netuid][uid]` for uids `0..n`, from a state holding [`metagraph_reads`].
pub fn hotkeys(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<Vec<Option<String>>, StorageError> {
    let n: u16 = read(metadata, state, "SubnetworkN", &[json!(netuid)])?;
    let accounts = crate::epoch_v103::hotkeys(metadata, state, netuid, n)?;
    Ok(accounts.into_iter().map(|a| a.map(|a| a.0)).collect())
}

/// What to read second: the stake of each hotkey.
pub fn stake_reads(
    metadata: &Metadata,
    netuid: u16,
    hotkeys: &[Option<String>],
) -> Result<Reads, StorageError> {
    let mut keys = Vec::new();
    for hotkey in hotkeys.iter().flatten() {
        if let Some((_, k)) = stake_key(metadata, netuid, hotkey)? {
            keys.push(k);
        }
    }
    Ok(Reads {
        keys,
        prefixes: Vec::new(),
    })
}

/// The metagraph of `netuid` from a state holding [`metagraph_reads`] and [`stake_reads`].
pub fn metagraph(
    metadata: &Metadata,
    state: &impl State,
    netuid: u16,
) -> Result<Metagraph, StorageError> {
    let k = [json!(netuid)];
    let n: u16 = read(metadata, state, "SubnetworkN", &k)?;
    let hotkeys = hotkeys(metadata, state, netuid)?;
    let active: Vec<bool> = read(metadata, state, "Active", &k)?;
    let rank: Option<Vec<u16>> = read_if_stored(metadata, state, "Rank", &k)?;
    let trust: Option<Vec<u16>> = read_if_stored(metadata, state, "Trust", &k)?;
    let consensus: Vec<u16> = read(metadata, state, "Consensus", &k)?;
    let incentive: Vec<u16> = read(metadata, state, "Incentive", &k)?;
    let dividends: Vec<u16> = read(metadata, state, "Dividends", &k)?;
    let validator_trust: Vec<u16> = read(metadata, state, "ValidatorTrust", &k)?;
    let permit: Vec<bool> = read(metadata, state, "ValidatorPermit", &k)?;
    let emission: Vec<u64> = read(metadata, state, "Emission", &k)?;
    let last_update: Vec<u64> = read(metadata, state, "LastUpdate", &k)?;
    let mut stake_entry = None;
    let mut neurons = Vec::with_capacity(usize::from(n));
    for (uid, hotkey) in (0..n).zip(hotkeys) {
        let i = usize::from(uid);
        let stake = match &hotkey {
            Some(hotkey) => match stake_key(metadata, netuid, hotkey)? {
                Some((entry, key)) => {
                    stake_entry = Some(entry.to_string());
                    storage::read_typed::<u64>(metadata, PALLET, entry, state.get(&key).as_deref())?
                        .unwrap_or(0)
                }
                None => 0,
            },
            None => 0,
        };
        neurons.push(Neuron {
            uid,
            hotkey,
            stake,
            rank: rank.as_ref().map(|v| v.get(i).copied().unwrap_or(0)),
            trust: trust.as_ref().map(|v| v.get(i).copied().unwrap_or(0)),
            consensus: consensus.get(i).copied().unwrap_or(0),
            incentive: incentive.get(i).copied().unwrap_or(0),
            dividends: dividends.get(i).copied().unwrap_or(0),
            validator_trust: validator_trust.get(i).copied().unwrap_or(0),
            emission: emission.get(i).copied().unwrap_or(0),
            active: active.get(i).copied().unwrap_or(false),
            validator_permit: permit.get(i).copied().unwrap_or(false),
            last_update: last_update.get(i).copied().unwrap_or(0),
        });
    }
    Ok(Metagraph {
        netuid,
        n,
        stake_entry,
        neurons,
        weights: rows(metadata, state, "Weights", netuid, n)?,
        bonds: rows(metadata, state, "Bonds", netuid, n)?,
    })
}

/// Stake a coldkey holds, one hotkey (and, since dynamic TAO, one subnet) at a time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StakePosition {
    pub hotkey: String,
    /// Rao: of TAO where stake is TAO (spec 103's `Stake`), of the subnet's alpha where stake
    /// is held per subnet.
    pub stake: u64,
    /// The subnet it is held on (`None`: a runtime that stakes without subnets).
    #[serde(default)]
    pub netuid: Option<u16>,
    /// What it would fetch in TAO (rao), priced by the runtime's own swap simulation on proven
    /// state; `None` where stake is TAO already or the runtime does not price it.
    #[serde(default)]
    pub tao_value: Option<u64>,
}

/// The positions in `StakeInfoRuntimeApi.get_stake_info_for_coldkey`'s (proven) result, as
/// decoded by the runtime's V15 types: one per hotkey and subnet with stake.
pub fn stake_positions_from_info(infos: &[Value]) -> Result<Vec<StakePosition>, StorageError> {
    let invalid = |why: String| StorageError::Value {
        entry: "StakeInfoRuntimeApi.get_stake_info_for_coldkey".into(),
        error: crate::value::ValueError::Invalid {
            ty: "StakeInfo".into(),
            why,
        },
    };
    let mut positions = Vec::new();
    for info in infos {
        let (Some(hotkey), Some(netuid), Some(stake)) = (
            info["hotkey"].as_str(),
            info["netuid"].as_u64().and_then(|n| u16::try_from(n).ok()),
            info["stake"].as_u64(),
        ) else {
            return Err(invalid(format!("no hotkey, netuid and stake in {info}")));
        };
        if stake > 0 {
            positions.push(StakePosition {
                hotkey: hotkey.into(),
                stake,
                netuid: Some(netuid),
                tao_value: None,
            });
        }
    }
    Ok(positions)
}

/// What to read for [`stake_positions`]: the whole `Stake` map (hotkey → coldkey → rao), where
/// the runtime keeps one. spec 103 keys it hotkey first, so a coldkey's positions are found by
/// reading every entry; the localnet's map is small.
pub fn stake_positions_reads(metadata: &Metadata) -> Result<Reads, StorageError> {
    Ok(Reads {
        keys: Vec::new(),
        prefixes: vec![key(metadata, "Stake", &[])?],
    })
}

/// The positions of `coldkey` (SS58) in a state holding [`stake_positions_reads`].
pub fn stake_positions(
    metadata: &Metadata,
    state: &Fetched,
    coldkey: &str,
) -> Result<Vec<StakePosition>, StorageError> {
    let coldkey_bytes = crate::ss58::decode(coldkey).map_err(|e| StorageError::Value {
        entry: format!("{PALLET}.Stake"),
        error: crate::value::ValueError::Invalid {
            ty: "AccountId".into(),
            why: e.to_string(),
        },
    })?;
    let prefix = key(metadata, "Stake", &[])?;
    let mut positions = Vec::new();
    for (k, v) in state.range(prefix.clone()..) {
        let Some(rest) = k.strip_prefix(prefix.as_slice()) else {
            break;
        };
        // blake2_128(hotkey) ++ hotkey ++ coldkey (Blake2_128Concat, Identity).
        let (Some(hotkey), Some(coldkey)) = (rest.get(16..48), rest.get(48..80)) else {
            continue;
        };
        if coldkey != coldkey_bytes.as_slice() {
            continue;
        }
        let Ok(hotkey) = <[u8; 32]>::try_from(hotkey) else {
            continue;
        };
        let stake = storage::read_typed::<u64>(metadata, PALLET, "Stake", Some(v))?.unwrap_or(0);
        positions.push(StakePosition {
            hotkey: crate::ss58::encode(&hotkey, 42),
            stake,
            netuid: None,
            tao_value: None,
        });
    }
    Ok(positions)
}
