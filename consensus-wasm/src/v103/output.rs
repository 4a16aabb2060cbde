//! What the spec-103 epoch writes (and returns), in the storage types of that runtime.

use super::input::{HotkeyId, Rows};
use serde::{Deserialize, Serialize};

/// `yuma-epoch-vector/v103` `expected`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutputV103 {
    pub active: Vec<bool>,
    pub emission: Vec<u64>,
    pub rank: Vec<u16>,
    pub trust: Vec<u16>,
    pub consensus: Vec<u16>,
    pub incentive: Vec<u16>,
    pub dividends: Vec<u16>,
    pub pruning_scores: Vec<u16>,
    pub validator_trust: Vec<u16>,
    /// New permits.
    pub validator_permit: Vec<bool>,
    /// The whole `Bonds[netuid]` prefix after the epoch, ascending uid.
    pub bonds: Rows,
    /// Rows the epoch wrote.
    pub bonds_written: Vec<u16>,
    /// `(hotkey, rao)` in `Keys` storage order: what the caller loads for payment.
    pub emission_tuples: Vec<(HotkeyId, u64)>,
}
