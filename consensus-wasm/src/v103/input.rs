//! What the spec-103 epoch reads from storage, and the checks that stand in for the old
//! runtime's panics.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stored `(uid, [(uid, u16)])` rows of a `Weights` or `Bonds` double map.
pub type Rows = Vec<(u16, Vec<(u16, u16)>)>;

/// A hotkey as an opaque id: the vectors number them (1 000 000 + uid); read from a chain they
/// are account ids (SS58 or hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HotkeyId {
    Number(u64),
    Account(String),
}

/// `yuma-epoch-vector/v103` `input`: one subnet, one call of `epoch(netuid, rao_emission)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInputV103 {
    pub netuid: u16,
    pub n: u16,
    pub current_block: u64,
    /// Not read by the epoch; kept to say which block was an epoch block.
    #[serde(default)]
    pub tempo: u16,
    pub activity_cutoff: u16,
    pub rao_emission: u64,
    /// `Keys[netuid][uid]`; `None` where a uid has no key.
    pub hotkeys: Vec<Option<HotkeyId>>,
    /// `TotalHotkeyStake[hotkey]` (rao; global across subnets).
    pub total_hotkey_stake: Vec<u64>,
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    /// `ValidatorPermit[netuid]` before the epoch.
    pub validator_permit: Vec<bool>,
    pub max_allowed_validators: u16,
    pub kappa: u16,
    /// Not read by the epoch.
    #[serde(default)]
    pub rho: u16,
    pub bonds_moving_average: u64,
    /// `Weights[netuid][uid]` rows: (uid, [(uid, weight)]), entries in stored order.
    pub weights: Rows,
    /// `Bonds[netuid][uid]` rows before the epoch.
    pub bonds: Rows,
}

/// Input the old runtime would have panicked on (an invalid block), named by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputErrorV103 {
    /// A per-uid vector whose length is not `n`.
    Length {
        field: &'static str,
        len: usize,
        n: u16,
    },
    /// A weights or bonds entry naming a uid ≥ n.
    UidOutOfRange {
        field: &'static str,
        row: u16,
        uid: u16,
        n: u16,
    },
}

impl fmt::Display for InputErrorV103 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputErrorV103::Length { field, len, n } => {
                write!(f, "{field}: {len} entries, but the subnet has n = {n} uids")
            }
            InputErrorV103::UidOutOfRange { field, row, uid, n } => write!(
                f,
                "{field}: row {row} names uid {uid}, but the subnet has n = {n} uids"
            ),
        }
    }
}

impl std::error::Error for InputErrorV103 {}

impl EpochInputV103 {
    /// The preconditions of `epoch()` (SCHEMA.md): per-uid vectors of length n, every row and
    /// column uid below n.
    pub fn validate(&self) -> Result<(), InputErrorV103> {
        let n = self.n;
        let lengths: [(&'static str, usize); 5] = [
            ("hotkeys", self.hotkeys.len()),
            ("total_hotkey_stake", self.total_hotkey_stake.len()),
            ("last_update", self.last_update.len()),
            ("block_at_registration", self.block_at_registration.len()),
            ("validator_permit", self.validator_permit.len()),
        ];
        for (field, len) in lengths {
            if len != usize::from(n) {
                return Err(InputErrorV103::Length { field, len, n });
            }
        }
        for (field, rows) in [("weights", &self.weights), ("bonds", &self.bonds)] {
            for (row, entries) in rows {
                let out_of_range = std::iter::once(*row)
                    .chain(entries.iter().map(|(uid, _)| *uid))
                    .find(|&uid| uid >= n);
                if let Some(uid) = out_of_range {
                    return Err(InputErrorV103::UidOutOfRange {
                        field,
                        row: *row,
                        uid,
                        n,
                    });
                }
            }
        }
        Ok(())
    }
}
