//! What one epoch persists, per uid present in `Keys` (ascending uid), in the field order of
//! `yuma-epoch-vector/v1`'s `expected` object.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutput {
    /// `Incentive[netuid_index]`: ⌊I · 65535⌋.
    pub incentive: Vec<u16>,
    /// `Dividends[netuid]`.
    pub dividends: Vec<u16>,
    /// `Consensus[netuid]`: the stake-weighted median weight of each uid.
    pub consensus: Vec<u16>,
    /// `ValidatorTrust[netuid]`: the sum of a validator's clipped weights.
    pub validator_trust: Vec<u16>,
    /// `StakeWeight[netuid]`: the normalised (filtered) stake.
    pub stake_weight: Vec<u16>,
    /// `Active[netuid]`.
    pub active: Vec<bool>,
    /// `ValidatorPermit[netuid]`: the new permits, used to mask the next epoch.
    pub validator_permit: Vec<bool>,
    /// `Emission[netuid]`, rao.
    pub emission: Vec<u64>,
    /// Miner share, rao (returned to the coinbase).
    pub server_emission: Vec<u64>,
    /// Validator share, rao, before take and nominator split.
    pub validator_emission: Vec<u64>,
    /// Payload of `Event::IncentiveAlphaEmittedToMiners` (equals `server_emission`).
    pub server_emission_event: Vec<u64>,
    /// `Bonds[netuid_index][uid]` for every uid (an empty row is written too).
    pub bonds: Vec<(u16, Vec<(u16, u16)>)>,
}

impl EpochOutput {
    /// The field names, in order, for reports that walk every field.
    pub const FIELDS: [&'static str; 12] = [
        "incentive",
        "dividends",
        "consensus",
        "validator_trust",
        "stake_weight",
        "active",
        "validator_permit",
        "emission",
        "server_emission",
        "validator_emission",
        "server_emission_event",
        "bonds",
    ];

    /// Number of uids in the output.
    pub fn len(&self) -> usize {
        self.incentive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.incentive.is_empty()
    }
}
