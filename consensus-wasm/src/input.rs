//! What one mechanism epoch reads from chain storage, and the checks it must pass first.
//!
//! Field names and integer types are those of the chain (see `yuma-epoch-vector/v1`): the light
//! client fills this struct from verified storage, and vector files deserialize straight into it.
//! Hotkeys are opaque `u64` ids: the epoch only needs to know which uids have a `Keys` entry and
//! which uid a commit's account maps to, not the 32-byte account itself.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A sparse row as stored: `(uid_i, [(uid_j, value), ...])`, entries in storage order.
pub type SparseRowU16 = (u16, Vec<(u16, u16)>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInput {
    pub netuid: u16,
    pub mechid: u8,
    /// `SubnetworkN`.
    pub n: u16,
    pub current_block: u64,
    pub tempo: u16,
    /// `ActivityCutoffFactorMilli`: the activity cutoff is `max(1, factor · tempo / 1000)` blocks.
    pub activity_cutoff_factor_milli: u32,
    /// Alpha (rao) handed to this mechanism's epoch.
    pub rao_emission: u64,
    /// `Keys[netuid][uid]` as opaque ids; `None` where the uid has no key.
    pub hotkeys: Vec<Option<u64>>,
    /// `LastUpdate`, possibly shorter than `n` (the chain pads with 0).
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    /// Inherited alpha stake per uid, rao.
    pub alpha_stake: Vec<u64>,
    /// Inherited root TAO stake per uid, rao.
    pub tao_stake: Vec<u64>,
    /// `TaoWeight`: the fraction `tao_weight / u64::MAX` of TAO stake that counts.
    pub tao_weight: u64,
    /// `StakeThreshold`: minimum stake (rao) to count, except for the subnet owner.
    pub stake_threshold: u64,
    pub owner_uid: Option<u16>,
    /// `ValidatorPermit` as stored *before* this epoch (it masks this epoch).
    pub validator_permit: Vec<bool>,
    pub max_allowed_validators: u16,
    pub kappa: u16,
    /// Not used by the sparse epoch; kept so that a vector round-trips.
    pub rho: u16,
    pub bonds_penalty: u16,
    /// Parts per million.
    pub bonds_moving_average: u64,
    pub liquid_alpha_enabled: bool,
    /// `AlphaValues`: (low, high).
    pub alpha_values: (u16, u16),
    pub alpha_sigmoid_steepness: i16,
    pub yuma3_enabled: bool,
    /// `LastMechansimStepBlock` (the chain's spelling).
    pub last_mechanism_step_block: u64,
    pub commit_reveal: CommitReveal,
    /// `Weights` rows, values max-upscaled u16, entries in caller order (not sorted).
    pub weights: Vec<SparseRowU16>,
    /// `Bonds` rows of the previous epoch.
    pub bonds: Vec<SparseRowU16>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitReveal {
    pub enabled: bool,
    /// `SubnetEpochIndex` (+1 when the epoch runs in this block).
    pub current_epoch_with_lookahead: u64,
    pub reveal_period: u64,
    pub weight_commits: Vec<WeightCommits>,
    pub timelocked_commits: Vec<TimelockedCommits>,
}

/// `WeightCommits[netuid_index][hotkey]`: `(commit_epoch, commit_block, reveal_block)` in deque order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightCommits {
    pub hotkey: u64,
    pub commits: Vec<(u64, u64, u64)>,
}

/// `TimelockedWeightCommits[netuid_index][commit_epoch]`: `(hotkey, commit_block, round)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelockedCommits {
    pub commit_epoch: u64,
    pub entries: Vec<(u64, u64, u64)>,
}

/// Why an input cannot be an epoch of a subnet of `n` uids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputError {
    /// A per-uid vector that must have exactly `n` entries has another length.
    LengthMismatch {
        field: &'static str,
        expected: usize,
        found: usize,
    },
    /// A per-uid vector that may be shorter than `n` is longer.
    TooLong {
        field: &'static str,
        max: usize,
        found: usize,
    },
    /// A uid (a row, a column or the owner) is not below `n`.
    UidOutOfRange { field: String, uid: u16, n: u16 },
    /// Two rows of one storage map for the same uid: storage cannot hold that.
    DuplicateRow { field: &'static str, uid: u16 },
    /// Two uids with one hotkey: a hotkey registers once per subnet.
    DuplicateHotkey {
        hotkey: u64,
        first_uid: u16,
        second_uid: u16,
    },
    /// Mechanisms of one subnet share its uids, keys and stake; these inputs do not.
    MechanismMismatch {
        mechanism: usize,
        field: &'static str,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::LengthMismatch {
                field,
                expected,
                found,
            } => write!(
                f,
                "input.{field}: has {found} entries, expected n = {expected} (one per uid)"
            ),
            InputError::TooLong { field, max, found } => {
                write!(f, "input.{field}: has {found} entries, more than n = {max}")
            }
            InputError::UidOutOfRange { field, uid, n } => write!(
                f,
                "input.{field}: uid {uid} is out of range, the subnet has n = {n} uids (0..{n})"
            ),
            InputError::DuplicateRow { field, uid } => {
                write!(
                    f,
                    "input.{field}: uid {uid} has two rows; storage holds one per uid"
                )
            }
            InputError::DuplicateHotkey {
                hotkey,
                first_uid,
                second_uid,
            } => write!(
                f,
                "input.hotkeys: hotkey {hotkey} is registered at uid {first_uid} and uid {second_uid}"
            ),
            InputError::MechanismMismatch { mechanism, field } => write!(
                f,
                "mechanism {mechanism}: input.{field} differs from mechanism 0, but mechanisms share it"
            ),
        }
    }
}

impl std::error::Error for InputError {}

impl EpochInput {
    /// Checks every length and uid against `n`. After this, the epoch may index any per-uid
    /// vector by any uid it finds in a row without a bounds failure.
    pub fn validate(&self) -> Result<(), InputError> {
        let n = usize::from(self.n);
        let exact = [
            ("hotkeys", self.hotkeys.len()),
            ("block_at_registration", self.block_at_registration.len()),
            ("alpha_stake", self.alpha_stake.len()),
            ("tao_stake", self.tao_stake.len()),
        ];
        for (field, found) in exact {
            if found != n {
                return Err(InputError::LengthMismatch {
                    field,
                    expected: n,
                    found,
                });
            }
        }
        let at_most = [
            ("last_update", self.last_update.len()),
            ("validator_permit", self.validator_permit.len()),
        ];
        for (field, found) in at_most {
            if found > n {
                return Err(InputError::TooLong {
                    field,
                    max: n,
                    found,
                });
            }
        }
        if let Some(owner) = self.owner_uid
            && owner >= self.n
        {
            return Err(InputError::UidOutOfRange {
                field: "owner_uid".into(),
                uid: owner,
                n: self.n,
            });
        }
        let mut seen_hotkeys: HashMap<u64, u16> = HashMap::new();
        for (uid, hotkey) in self.hotkeys.iter().enumerate() {
            let uid = uid as u16; // n is a u16, so every index fits
            if let Some(hotkey) = hotkey
                && let Some(first_uid) = seen_hotkeys.insert(*hotkey, uid)
            {
                return Err(InputError::DuplicateHotkey {
                    hotkey: *hotkey,
                    first_uid,
                    second_uid: uid,
                });
            }
        }
        check_rows("weights", &self.weights, self.n)?;
        check_rows("bonds", &self.bonds, self.n)
    }

    /// `LastUpdate` padded with zeros to `n`, as the chain reads it.
    pub fn last_update_padded(&self) -> Vec<u64> {
        let mut padded = self.last_update.clone();
        padded.resize(usize::from(self.n), 0);
        padded
    }

    /// The activity cutoff in blocks: `max(1, ⌊factor · tempo / 1000⌋)`.
    pub fn activity_cutoff_blocks(&self) -> u64 {
        (u64::from(self.activity_cutoff_factor_milli).saturating_mul(u64::from(self.tempo)) / 1000)
            .max(1)
    }
}

fn check_rows(field: &'static str, rows: &[SparseRowU16], n: u16) -> Result<(), InputError> {
    let mut seen = vec![false; usize::from(n)];
    for (position, (uid_i, row)) in rows.iter().enumerate() {
        match seen.get_mut(usize::from(*uid_i)) {
            None => {
                return Err(InputError::UidOutOfRange {
                    field: format!("{field}[{position}] (row uid)"),
                    uid: *uid_i,
                    n,
                });
            }
            Some(true) => return Err(InputError::DuplicateRow { field, uid: *uid_i }),
            Some(slot) => *slot = true,
        }
        if let Some((entry, (uid_j, _))) = row.iter().enumerate().find(|(_, (j, _))| *j >= n) {
            return Err(InputError::UidOutOfRange {
                field: format!("{field}[{position}] (row of uid {uid_i}, entry {entry})"),
                uid: *uid_j,
                n,
            });
        }
    }
    Ok(())
}
