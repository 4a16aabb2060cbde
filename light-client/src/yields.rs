//! Where to stake: what each validator's stakers were paid, per unit of stake, over a subnet's
//! audited epochs, and that rate annualized.
//!
//! Pure, in the two steps of [`crate::metagraph`]: [`payout_reads`] names what to prove at an
//! epoch block, [`epoch_payouts`] reads it beside the epoch's audit, [`subnet_yields`] puts a
//! subnet's epochs together. Nothing here is an estimate of the chain's: the emission each
//! validator got is the audited epoch's `LoadedEmission` tuple (compared by the audit with our
//! recomputation, whose verdict each epoch carries; what `drain_emission` pays in the next block),
//! its take and stake are proven state of the epoch block (what the drain reads, before any
//! transaction of the next block), and the split is the runtime's own rule
//! ([`taoscope_consensus::v103::payout`]). What is
//! derived is said: the per-epoch yield is `to_stakers / stake`, its mean over the epochs is
//! annualized without compounding by the epochs a year holds at the runtime's block time.
//!
//! Spec 103 only: its stake is TAO on a hotkey, paid at the next block. Today's runtime pays
//! alpha per subnet through its coinbase; yields from it wait for its audit (see
//! [`crate::audit::algorithm`]).

use crate::audit::EpochAudit;
use crate::metadata::Metadata;
use crate::metagraph::{Fetched, Reads};
use crate::storage::{self, StorageError};
use crate::subnet::read;
use crate::types::Account;
use serde::{Deserialize, Serialize};
use serde_json::json;
use taoscope_consensus::v103::HotkeyId;
use taoscope_consensus::v103::payout::payout;

const PALLET: &str = "SubtensorModule";

/// The version of [`YieldsReport`]'s JSON shape.
pub const YIELDS_SCHEMA: &str = "taoscope-yields/v1";

/// How many of a subnet's latest epochs the yields rest on, unless asked otherwise.
pub const DEFAULT_EPOCHS: usize = 4;

/// Milliseconds in a year of 365.25 days.
pub const MS_PER_YEAR: u64 = 31_557_600_000;

/// A subnet's validators as paid at one audited epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochPayouts {
    pub netuid: u16,
    /// The epoch block (its state is what the next block's drain reads).
    pub block: u64,
    /// Whether every value the epoch stored matched our recomputation.
    pub exact: bool,
    /// "114 of 114 values match".
    pub verdict: String,
    pub tempo: u16,
    /// `EmissionValues[netuid]` and `BlockEmission` (rao per block): the subnet's share.
    pub emission_value: u64,
    pub block_emission: u64,
    /// Σ `TotalHotkeyStake` of the subnet's hotkeys (global stake: a hotkey on two subnets
    /// counts on both).
    pub total_stake: u64,
    /// Every uid holding a validator permit after the epoch, in uid order.
    pub validators: Vec<ValidatorPayout>,
}

/// One validator at one epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorPayout {
    pub uid: u16,
    pub hotkey: String,
    /// The hotkey's owner coldkey.
    pub owner: String,
    /// `Delegates[hotkey]` (65535 = 100%); `None`: not a delegate, so no one else may stake on
    /// it and everything goes to the owner.
    pub delegate_take: Option<u16>,
    /// `TotalHotkeyStake[hotkey]` at the epoch block: what the drain divides by.
    pub stake: u64,
    /// Coldkeys other than the owner with stake on the hotkey.
    pub nominators: u32,
    /// The epoch's emission for the hotkey (`LoadedEmission`; 0 where nothing was loaded).
    pub emission: u64,
    /// Kept by the delegate (its take).
    pub take: u64,
    /// Shared over its stakers, the owner included.
    pub to_stakers: u64,
    pub validator_trust: u16,
    pub last_update: u64,
}

impl ValidatorPayout {
    /// Whether a coldkey other than its owner may stake on it: spec 103's `add_stake` takes
    /// stake only on a delegate or on the caller's own hotkey.
    pub fn open_to_nominators(&self) -> bool {
        self.delegate_take.is_some()
    }

    /// What one unit of stake earned this epoch (0 without stake).
    pub fn epoch_yield(&self) -> f64 {
        if self.stake == 0 {
            0.0
        } else {
            self.to_stakers as f64 / self.stake as f64
        }
    }
}

/// What [`epoch_payouts`] reads at `audit`'s epoch block: the subnet's tempo and emission, the
/// total stake of each of its hotkeys (by key: at most a subnet's uids), and each validator's
/// take, owner and stakers (the stakers' prefix only counts nominators).
pub fn payout_reads(metadata: &Metadata, audit: &EpochAudit) -> Result<Reads, StorageError> {
    let n = [json!(audit.netuid)];
    let mut keys = vec![
        storage::key(metadata, PALLET, "Tempo", &n)?,
        storage::key(metadata, PALLET, "EmissionValues", &n)?,
        storage::key(metadata, PALLET, "BlockEmission", &[])?,
    ];
    for hotkey in audit.input.hotkeys.iter().flatten() {
        if let HotkeyId::Account(hotkey) = hotkey {
            keys.push(storage::key(
                metadata,
                PALLET,
                "TotalHotkeyStake",
                &[json!(hotkey)],
            )?);
        }
    }
    let mut prefixes = Vec::new();
    for (_, hotkey) in validators(audit) {
        let h = [json!(hotkey)];
        keys.push(storage::key(metadata, PALLET, "Delegates", &h)?);
        keys.push(storage::key(metadata, PALLET, "Owner", &h)?);
        prefixes.push(storage::key(metadata, PALLET, "Stake", &h)?);
    }
    Ok(Reads { keys, prefixes })
}

/// The hotkeys holding a validator permit after `audit`'s epoch, by uid.
pub fn validators(audit: &EpochAudit) -> Vec<(u16, String)> {
    audit
        .stored
        .validator_permit
        .iter()
        .enumerate()
        .filter(|(_, permit)| **permit)
        .filter_map(|(uid, _)| {
            let uid = u16::try_from(uid).ok()?;
            match audit.input.hotkeys.get(usize::from(uid))? {
                Some(HotkeyId::Account(hotkey)) => Some((uid, hotkey.clone())),
                _ => None,
            }
        })
        .collect()
}

/// Each validator's payout at `audit`'s epoch, from the epoch block's `state` (read with
/// [`payout_reads`] for [`validators`]).
pub fn epoch_payouts(
    metadata: &Metadata,
    state: &Fetched,
    audit: &EpochAudit,
) -> Result<EpochPayouts, StorageError> {
    if !audit.what_if.is_empty() {
        return Err(what_if_refused());
    }
    let netuid = audit.netuid;
    let n = [json!(netuid)];
    let stake_of =
        |hotkey: &str| read::<u64>(metadata, state, "TotalHotkeyStake", &[json!(hotkey)]);
    let mut total_stake = 0u64;
    for hotkey in audit.input.hotkeys.iter().flatten() {
        if let HotkeyId::Account(hotkey) = hotkey {
            total_stake = total_stake.saturating_add(stake_of(hotkey)?);
        }
    }
    let mut out = Vec::new();
    for (uid, hotkey) in validators(audit) {
        let h = [json!(hotkey)];
        let take_key = storage::key(metadata, PALLET, "Delegates", &h)?;
        // Absent is "not a delegate" (`hotkey_is_delegate` is `contains_key`), not the default.
        let delegate_take = match state.get(&take_key) {
            Some(_) => Some(read::<u16>(metadata, state, "Delegates", &h)?),
            None => None,
        };
        // A registered hotkey has an owner; an absent one must not read as the zero account.
        let owner_key = storage::key(metadata, PALLET, "Owner", &h)?;
        if state.get(&owner_key).is_none() {
            return Err(StorageError::Value {
                entry: format!("{PALLET}.Owner"),
                error: crate::value::ValueError::Invalid {
                    ty: "AccountId".into(),
                    why: format!("validator {hotkey} has no owner in the proven state"),
                },
            });
        }
        let owner = read::<Account>(metadata, state, "Owner", &h)?.0;
        let emission = audit
            .stored
            .emission_tuples
            .iter()
            .find(|(id, _)| matches!(id, HotkeyId::Account(a) if *a == hotkey))
            .map_or(0, |(_, rao)| *rao);
        let split = payout(delegate_take, emission);
        out.push(ValidatorPayout {
            uid,
            nominators: nominators(metadata, state, &hotkey, &owner)?,
            stake: stake_of(&hotkey)?,
            owner,
            hotkey,
            delegate_take,
            emission,
            take: split.take,
            to_stakers: split.to_stakers,
            validator_trust: audit
                .stored
                .validator_trust
                .get(usize::from(uid))
                .copied()
                .unwrap_or(0),
            last_update: audit
                .input
                .last_update
                .get(usize::from(uid))
                .copied()
                .unwrap_or(0),
        });
    }
    Ok(EpochPayouts {
        netuid,
        block: audit.block.number,
        exact: audit.is_exact(),
        verdict: audit.verdict(),
        tempo: read(metadata, state, "Tempo", &n)?,
        emission_value: read(metadata, state, "EmissionValues", &n)?,
        block_emission: read(metadata, state, "BlockEmission", &[])?,
        total_stake,
        validators: out,
    })
}

fn what_if_refused() -> StorageError {
    StorageError::Value {
        entry: "yields".into(),
        error: crate::value::ValueError::Invalid {
            ty: "EpochAudit".into(),
            why: "an audit with inputs changed (what if) is not what the chain paid".into(),
        },
    }
}

/// Why payouts are not made of a what-if audit, as the client says it.
pub fn epoch_payouts_refused() -> crate::client::ClientError {
    what_if_refused().into()
}

/// Coldkeys other than `owner` with stake on `hotkey`: the entries under `Stake[hotkey]`, whose
/// second key (Identity-hashed) is the coldkey itself.
fn nominators(
    metadata: &Metadata,
    state: &Fetched,
    hotkey: &str,
    owner: &str,
) -> Result<u32, StorageError> {
    let prefix = storage::key(metadata, PALLET, "Stake", &[json!(hotkey)])?;
    let owner = crate::ss58::decode(owner).ok();
    let mut count = 0u32;
    for (key, value) in state.range(prefix.clone()..) {
        let Some(coldkey) = key.strip_prefix(prefix.as_slice()) else {
            break;
        };
        let stake = storage::read_typed::<u64>(metadata, PALLET, "Stake", Some(value))?;
        if coldkey.len() == 32 && Some(coldkey) != owner.as_ref().map(|o| o.as_slice()) {
            count += u32::from(stake.unwrap_or(0) > 0);
        }
    }
    Ok(count)
}

/// The runtime's block time: Aura's slot, twice `Timestamp.MinimumPeriod` (a constant of the
/// proven runtime's metadata). `None` where the runtime has no such constant.
pub fn block_time_ms(metadata: &Metadata) -> Option<u64> {
    let value = &metadata.constant("Timestamp", "MinimumPeriod")?.value;
    let period = u64::from_le_bytes(<[u8; 8]>::try_from(value.as_slice()).ok()?);
    period.checked_mul(2).filter(|ms| *ms > 0)
}

/// A subnet's validators over its audited epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubnetYields {
    pub netuid: u16,
    /// The newest epoch's block, tempo and emission share.
    pub block: u64,
    pub tempo: u16,
    pub emission_value: u64,
    pub block_emission: u64,
    pub total_stake: u64,
    /// The newest epoch's verdict.
    pub verdict: String,
    /// The epoch blocks the yields rest on, newest first.
    pub epochs: Vec<u64>,
    /// Whether every one of them matched.
    pub all_exact: bool,
    pub block_time_ms: u64,
    /// `MS_PER_YEAR / (block_time_ms × (tempo + 1))`.
    pub epochs_per_year: f64,
    /// The validators of the newest epoch, by uid.
    pub validators: Vec<ValidatorYield>,
}

/// One validator of a subnet over the epochs it was paid in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidatorYield {
    /// The newest epoch's view of it.
    pub latest: ValidatorPayout,
    /// Its payout at each epoch it validated in, newest first.
    pub epochs: Vec<EpochYield>,
    /// Whether every one of those epochs matched.
    pub all_exact: bool,
    /// Mean of `to_stakers / stake` over those epochs.
    pub mean_epoch_yield: f64,
    /// `mean_epoch_yield × epochs_per_year`: simple, not compounded.
    pub annual_yield: f64,
}

/// One validator's payout at one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochYield {
    pub block: u64,
    pub exact: bool,
    pub emission: u64,
    pub take: u64,
    pub to_stakers: u64,
    pub stake: u64,
    pub epoch_yield: f64,
}

/// Puts a subnet's epochs together (`epochs` in any order; one subnet). `None` without an epoch.
pub fn subnet_yields(epochs: &[EpochPayouts], block_time_ms: u64) -> Option<SubnetYields> {
    let mut sorted: Vec<&EpochPayouts> = epochs.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.block));
    sorted.dedup_by_key(|e| e.block);
    let newest = *sorted.first()?;
    let epoch_blocks = block_time_ms.saturating_mul(u64::from(newest.tempo) + 1);
    let epochs_per_year = if epoch_blocks == 0 {
        0.0
    } else {
        MS_PER_YEAR as f64 / epoch_blocks as f64
    };
    let validators = newest
        .validators
        .iter()
        .map(|latest| {
            let paid: Vec<EpochYield> = sorted
                .iter()
                .filter_map(|epoch| {
                    let v = epoch
                        .validators
                        .iter()
                        .find(|v| v.hotkey == latest.hotkey)?;
                    Some(EpochYield {
                        block: epoch.block,
                        exact: epoch.exact,
                        emission: v.emission,
                        take: v.take,
                        to_stakers: v.to_stakers,
                        stake: v.stake,
                        epoch_yield: v.epoch_yield(),
                    })
                })
                .collect();
            let mean_epoch_yield =
                paid.iter().map(|e| e.epoch_yield).sum::<f64>() / paid.len().max(1) as f64;
            ValidatorYield {
                latest: latest.clone(),
                all_exact: paid.iter().all(|e| e.exact),
                annual_yield: mean_epoch_yield * epochs_per_year,
                mean_epoch_yield,
                epochs: paid,
            }
        })
        .collect();
    Some(SubnetYields {
        netuid: newest.netuid,
        block: newest.block,
        tempo: newest.tempo,
        emission_value: newest.emission_value,
        block_emission: newest.block_emission,
        total_stake: newest.total_stake,
        verdict: newest.verdict.clone(),
        epochs: sorted.iter().map(|e| e.block).collect(),
        all_exact: sorted.iter().all(|e| e.exact),
        block_time_ms,
        epochs_per_year,
        validators,
    })
}

/// Each hotkey's yearly yield over every subnet it validates on, where that is more than one:
/// its stakers are paid from each subnet's emission, all over the one `TotalHotkeyStake`, so the
/// subnets' yields add up (`hotkey → (sum, subnets)`).
pub fn across_subnets(
    subnets: &[SubnetYields],
) -> std::collections::BTreeMap<String, (f64, usize)> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut all = BTreeMap::<String, (f64, BTreeSet<u16>)>::new();
    for subnet in subnets {
        for v in &subnet.validators {
            let entry = all.entry(v.latest.hotkey.clone()).or_default();
            // One subnet counts once, whatever its list holds.
            if entry.1.insert(subnet.netuid) {
                entry.0 += v.annual_yield;
            }
        }
    }
    all.into_iter()
        .filter(|(_, (_, netuids))| netuids.len() > 1)
        .map(|(hotkey, (sum, netuids))| (hotkey, (sum, netuids.len())))
        .collect()
}

/// What a staker of `amount` rao on `validator` would get, if the hotkey's emission stayed at
/// its mean over these epochs: its share of the stake after staking and the stakers' part.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// The amount's share of the hotkey's stake after staking it.
    pub share: f64,
    /// Rao per epoch to the amount.
    pub per_epoch: f64,
    /// Rao per year (simple).
    pub per_year: f64,
}

/// See [`Expected`]. More stake also moves a validator's dividends in the next epochs; that is
/// not modelled (the page says so).
pub fn expected(validator: &ValidatorYield, epochs_per_year: f64, amount: u64) -> Expected {
    let after = validator.latest.stake as f64 + amount as f64;
    let share = if after > 0.0 {
        amount as f64 / after
    } else {
        0.0
    };
    let mean_to_stakers = validator
        .epochs
        .iter()
        .map(|e| e.to_stakers as f64)
        .sum::<f64>()
        / validator.epochs.len().max(1) as f64;
    let per_epoch = mean_to_stakers * share;
    Expected {
        share,
        per_epoch,
        per_year: per_epoch * epochs_per_year,
    }
}

/// What `taoscope yields --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YieldsReport {
    /// [`YIELDS_SCHEMA`].
    pub schema: String,
    pub network: String,
    pub genesis_hash: String,
    /// The finalized block the walk started from.
    pub at: u64,
    pub subnets: Vec<SubnetYields>,
    /// Epochs found and not used, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_used: Vec<crate::audit::NotAudited>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(hotkey: &str, stake: u64, to_stakers: u64) -> ValidatorPayout {
        ValidatorPayout {
            uid: 0,
            hotkey: hotkey.into(),
            owner: "owner".into(),
            delegate_take: None,
            stake,
            nominators: 0,
            emission: to_stakers,
            take: 0,
            to_stakers,
            validator_trust: 0,
            last_update: 0,
        }
    }

    fn epoch(block: u64, exact: bool, validators: Vec<ValidatorPayout>) -> EpochPayouts {
        EpochPayouts {
            netuid: 1,
            block,
            exact,
            verdict: String::new(),
            tempo: 9,
            emission_value: 1,
            block_emission: 1,
            total_stake: 0,
            validators,
        }
    }

    #[test]
    fn yields_follow_the_newest_epochs_validators() {
        let epochs = [
            epoch(
                10,
                true,
                vec![validator("a", 1000, 10), validator("b", 0, 5)],
            ),
            epoch(20, false, vec![validator("a", 2000, 10)]),
        ];
        let subnet = subnet_yields(&epochs, 12_000).unwrap();
        assert_eq!(subnet.block, 20);
        assert_eq!(subnet.epochs, vec![20, 10]);
        assert!(!subnet.all_exact);
        assert_eq!(subnet.epochs_per_year, 31_557_600_000.0 / 120_000.0);
        assert_eq!(subnet.validators.len(), 1);
        let a = &subnet.validators[0];
        assert_eq!(a.epochs.len(), 2);
        assert_eq!(a.mean_epoch_yield, (0.005 + 0.01) / 2.0);
        assert!(!a.all_exact);
        let e = expected(a, subnet.epochs_per_year, 2000);
        assert_eq!(e.share, 0.5);
        assert_eq!(e.per_epoch, 5.0);
        assert!(subnet_yields(&[], 12_000).is_none());
        // No stake is no yield, not a division by zero.
        assert_eq!(validator("b", 0, 5).epoch_yield(), 0.0);
        // A hotkey on two subnets: its stakers are paid from both.
        let mut other = epoch(30, true, vec![validator("a", 2000, 20)]);
        other.netuid = 2;
        let both = [subnet.clone(), subnet_yields(&[other], 12_000).unwrap()];
        let across = across_subnets(&both);
        assert_eq!(across.len(), 1);
        assert_eq!(
            across["a"],
            (a.annual_yield + 0.01 * subnet.epochs_per_year, 2)
        );
    }
}
