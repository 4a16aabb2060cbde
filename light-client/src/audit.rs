//! The audit of one subnet epoch: the epoch recomputed from the proven state of the block before
//! it, with the algorithm of the runtime that ran it, and every value the runtime stored at the
//! epoch block compared with ours.
//!
//! Pure: the caller ([`crate::client::BittensorClient::audit_epoch`]) fetches both states through
//! a transport that proves them and says which runtime was in force; this module only reads,
//! recomputes and compares. What it is told about blocks and runtimes goes into the result as
//! is, so that a report says exactly what was checked.
//!
//! An epoch's input is the state after block B − 1 and its results are the state after B: the
//! epoch runs in B's `on_initialize`, executed by the code in force after B − 1, so that code's
//! version picks the algorithm and each state is read with its own runtime's metadata.

use crate::client::BlockRef;
use crate::epoch_v103;
use crate::metadata::Metadata;
use crate::runtime_spec::RuntimeSpec;
use crate::subnet::State;
use serde::{Deserialize, Serialize};
use std::fmt;
use taoscope_consensus::compare::compare_stored_v103;
use taoscope_consensus::runtime::{Algorithm, algorithm_for};
use taoscope_consensus::v103::{self, EpochInputV103, EpochOutputV103, HotkeyId};

/// The version of [`AuditReport`]'s JSON shape.
pub const REPORT_SCHEMA: &str = "taoscope-audit-report/v1";

/// One subnet epoch, audited.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochAudit {
    pub netuid: u16,
    /// The epoch block: its state holds what the runtime stored.
    pub block: BlockRef,
    /// The block before it: its state is the epoch's input.
    pub input_block: BlockRef,
    /// The runtime that ran the epoch (in force after `input_block`).
    pub runtime: RuntimeSpec,
    /// The algorithm it was recomputed with, in words.
    pub algorithm: String,
    /// Input values changed on purpose before recomputing (`what if`); empty for an audit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub what_if: Vec<WhatIf>,
    /// Stored values compared.
    pub checked: usize,
    /// Every stored value that differs from ours.
    pub mismatches: Vec<AuditMismatch>,
    /// The epoch's input as read from the chain (for the "why" of each uid).
    pub input: EpochInputV103,
    /// What the runtime stored at the epoch block (bonds after, ranks, emission …).
    pub stored: EpochOutputV103,
}

impl EpochAudit {
    pub fn matched(&self) -> usize {
        self.checked.saturating_sub(self.mismatches.len())
    }

    pub fn is_exact(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// "114 of 114 values match".
    pub fn verdict(&self) -> String {
        format!("{} of {} values match", self.matched(), self.checked)
    }
}

/// One stored value that our recomputation does not reproduce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditMismatch {
    pub field: String,
    /// `None` where a whole field differs (its length, a bonds row count).
    pub uid: Option<u16>,
    /// The uid's hotkey (SS58), where it has one.
    pub hotkey: Option<String>,
    /// What the chain stored.
    pub chain: String,
    /// What we recomputed.
    pub recomputed: String,
    /// `recomputed − chain`, where both are numbers.
    pub difference: Option<String>,
}

impl fmt::Display for AuditMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        if let Some(uid) = self.uid {
            write!(f, "[uid {uid}")?;
            if let Some(hotkey) = &self.hotkey {
                write!(f, ", {hotkey}")?;
            }
            write!(f, "]")?;
        }
        write!(f, ": chain {}, recomputed {}", self.chain, self.recomputed)?;
        if let Some(difference) = &self.difference {
            write!(f, " (difference {difference})")?;
        }
        Ok(())
    }
}

/// One epoch input set to another value before recomputing: "what if kappa were 0?". An audit
/// has none; with one, the comparison shows what that input changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIf {
    pub input: String,
    pub value: u64,
}

/// The inputs a [`WhatIf`] may name.
pub const WHAT_IF_INPUTS: &[&str] = &[
    "kappa",
    "bonds_moving_average",
    "activity_cutoff",
    "max_allowed_validators",
    "rao_emission",
];

impl WhatIf {
    /// Parses `NAME=VALUE`.
    pub fn parse(text: &str) -> Result<Self, AuditError> {
        let (input, value) = text
            .split_once('=')
            .ok_or_else(|| AuditError::WhatIf(format!("{text:?}: expected NAME=VALUE")))?;
        let input = input.trim().to_string();
        if !WHAT_IF_INPUTS.contains(&input.as_str()) {
            return Err(AuditError::WhatIf(format!(
                "{input:?} is not an input that can be changed (one of: {})",
                WHAT_IF_INPUTS.join(", ")
            )));
        }
        let value = value
            .trim()
            .parse()
            .map_err(|_| AuditError::WhatIf(format!("{input}: {value:?} is not a whole number")))?;
        Ok(WhatIf { input, value })
    }

    fn apply(&self, input: &mut EpochInputV103) -> Result<(), AuditError> {
        let narrow = |v: u64| {
            u16::try_from(v).map_err(|_| {
                AuditError::WhatIf(format!("{}: {v} does not fit in a u16", self.input))
            })
        };
        match self.input.as_str() {
            "kappa" => input.kappa = narrow(self.value)?,
            "activity_cutoff" => input.activity_cutoff = narrow(self.value)?,
            "max_allowed_validators" => input.max_allowed_validators = narrow(self.value)?,
            "bonds_moving_average" => input.bonds_moving_average = self.value,
            "rao_emission" => input.rao_emission = self.value,
            other => return Err(AuditError::WhatIf(format!("{other:?} cannot be changed"))),
        }
        Ok(())
    }
}

/// Why an epoch could not be audited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditError {
    /// No algorithm has been verified for the runtime that ran the epoch.
    Unsupported(String),
    /// The proven state does not read as the runtime's metadata says.
    Storage(String),
    /// The state is input the runtime would have refused (named by field).
    Input(String),
    /// A what-if that names no input or no valid value.
    WhatIf(String),
    /// The block is no epoch block of the subnet (its last step is not this block).
    NotAnEpoch { netuid: u16, block: u64 },
    /// The runtime's code changed at the epoch block or the block before it: the input state is
    /// not what the epoch read (migrations ran first) or the results are in other layouts.
    Upgrade(u64),
    /// The runtime stored no value to compare (a subnet without uids).
    Empty,
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Unsupported(why) => write!(f, "{why}"),
            AuditError::Storage(why) => write!(f, "the epoch's state: {why}"),
            AuditError::Input(why) => write!(f, "the epoch's input as stored: {why}"),
            AuditError::WhatIf(why) => write!(f, "what if: {why}"),
            AuditError::NotAnEpoch { netuid, block } => write!(
                f,
                "block {block} did not run subnet {netuid}'s epoch (its last step block is \
                 another)"
            ),
            AuditError::Upgrade(block) => write!(
                f,
                "the runtime was upgraded at or just before block {block}: that epoch ran on \
                 state the upgrade migrated first, so it is not audited"
            ),
            AuditError::Empty => write!(f, "the subnet stored no value to compare"),
        }
    }
}

impl std::error::Error for AuditError {}

/// The two proven states of an epoch, each with its runtime's metadata.
pub struct EpochStates<'a, S: State> {
    pub before: (&'a Metadata, &'a S),
    pub after: (&'a Metadata, &'a S),
}

/// The algorithm that recomputes `runtime`'s epochs from chain state, or why there is none: to
/// be asked before any state is fetched.
pub fn algorithm(runtime: &RuntimeSpec) -> Result<Algorithm, AuditError> {
    let algorithm = algorithm_for(&runtime.spec_name, runtime.spec_version)
        .map_err(|e| AuditError::Unsupported(e.to_string()))?;
    if algorithm != Algorithm::Spec103 {
        return Err(AuditError::Unsupported(format!(
            "{} {} runs {}, whose input is not read from chain state here yet (its stake and \
             emission come from other runtime logic); only spec 103's epoch is audited from a chain",
            runtime.spec_name,
            runtime.spec_version,
            algorithm.describe()
        )));
    }
    Ok(algorithm)
}

/// Audits subnet `netuid`'s epoch at `block` (see the module docs).
pub fn audit_epoch<S: State>(
    states: EpochStates<'_, S>,
    netuid: u16,
    block: &BlockRef,
    input_block: &BlockRef,
    runtime: &RuntimeSpec,
    what_if: &[WhatIf],
) -> Result<EpochAudit, AuditError> {
    let algorithm = algorithm(runtime)?;
    let storage = |e: crate::storage::StorageError| AuditError::Storage(e.to_string());
    // The chain's own word that B ran the epoch: its last step is B, and was earlier before it.
    let (metadata, state) = states.before;
    let stepped_before = epoch_v103::last_step(metadata, state, netuid).map_err(storage)?;
    let input = epoch_v103::epoch_input(metadata, state, netuid, block.number).map_err(storage)?;
    let (metadata, state) = states.after;
    let stepped = epoch_v103::last_step(metadata, state, netuid).map_err(storage)?;
    if stepped != block.number || stepped_before >= block.number {
        return Err(AuditError::NotAnEpoch {
            netuid,
            block: block.number,
        });
    }
    let stored = epoch_v103::persisted(metadata, state, netuid).map_err(storage)?;

    let mut altered = input.clone();
    for change in what_if {
        change.apply(&mut altered)?;
    }
    let recomputed = v103::run_epoch(&altered).map_err(|e| AuditError::Input(e.to_string()))?;
    let comparison = compare_stored_v103(&stored, &recomputed);
    if comparison.checked == 0 {
        return Err(AuditError::Empty);
    }
    let text = |id: &HotkeyId| match id {
        HotkeyId::Account(account) => account.clone(),
        HotkeyId::Number(n) => n.to_string(),
    };
    let hotkey = |uid: u16| {
        input
            .hotkeys
            .get(usize::from(uid))
            .and_then(Option::as_ref)
            .map(text)
    };
    // The comparison numbers list positions; bond rows and emission tuples are lists of their
    // own, so their positions are turned into the uid (and hotkey) they are of.
    let locate = |field: &str, position: Option<u16>| -> (Option<u16>, Option<String>) {
        let Some(position) = position else {
            return (None, None);
        };
        let at = usize::from(position);
        match field {
            "bonds" => match stored.bonds.get(at) {
                Some((uid, _)) => (Some(*uid), hotkey(*uid)),
                None => (None, None),
            },
            "emission_tuples" => match stored.emission_tuples.get(at) {
                Some((id, _)) => {
                    let uid = input
                        .hotkeys
                        .iter()
                        .position(|h| h.as_ref() == Some(id))
                        .and_then(|u| u16::try_from(u).ok());
                    (uid, Some(text(id)))
                }
                None => (None, None),
            },
            _ => (Some(position), hotkey(position)),
        }
    };
    let mismatches = comparison
        .mismatches
        .iter()
        .map(|m| {
            let (uid, hotkey) = locate(m.field, m.uid);
            AuditMismatch {
                field: m.field.to_string(),
                uid,
                hotkey,
                chain: m.expected.clone(),
                recomputed: m.actual.clone(),
                difference: difference(&m.expected, &m.actual),
            }
        })
        .collect();
    Ok(EpochAudit {
        netuid,
        block: block.clone(),
        input_block: input_block.clone(),
        runtime: runtime.clone(),
        algorithm: algorithm.describe().to_string(),
        what_if: what_if.to_vec(),
        checked: comparison.checked,
        mismatches,
        input,
        stored,
    })
}

fn difference(chain: &str, recomputed: &str) -> Option<String> {
    let (chain, recomputed) = (
        chain.parse::<i128>().ok()?,
        recomputed.parse::<i128>().ok()?,
    );
    let d = recomputed - chain;
    Some(if d > 0 {
        format!("+{d}")
    } else {
        d.to_string()
    })
}

/// What `taoscope audit` prints with `--json` and `taoscope audit verify` reads back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// [`REPORT_SCHEMA`].
    pub schema: String,
    /// The network, as the user named it.
    pub network: String,
    /// The chain's genesis hash (`0x…`).
    pub genesis_hash: String,
    /// What was trusted: the checkpoint (block number and hash, set id).
    pub trusted: String,
    /// The finalized block the audit started from.
    pub at: BlockRef,
    pub epochs: Vec<EpochAudit>,
    /// Epochs found and not audited, with why (a runtime upgrade next to them, a runtime with
    /// no verified algorithm).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_audited: Vec<NotAudited>,
}

/// An epoch block that was found and not audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAudited {
    pub block: u64,
    pub why: String,
}

impl AuditReport {
    /// Whether at least one epoch was audited and every value of every epoch matched, with no
    /// input changed.
    pub fn is_exact(&self) -> bool {
        !self.epochs.is_empty()
            && self
                .epochs
                .iter()
                .all(|e| e.is_exact() && e.what_if.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_ifs_are_checked_by_name_and_range() {
        assert_eq!(
            WhatIf::parse("kappa=0").unwrap(),
            WhatIf {
                input: "kappa".into(),
                value: 0
            }
        );
        assert!(WhatIf::parse("kappa").is_err());
        assert!(
            WhatIf::parse("stake=5")
                .unwrap_err()
                .to_string()
                .contains("one of")
        );
        assert!(WhatIf::parse("kappa=-1").is_err());
        let mut input: EpochInputV103 = serde_json::from_value(serde_json::json!({
            "netuid": 1, "n": 0, "current_block": 10, "activity_cutoff": 5000,
            "rao_emission": 0, "hotkeys": [], "total_hotkey_stake": [], "last_update": [],
            "block_at_registration": [], "validator_permit": [], "max_allowed_validators": 64,
            "kappa": 32767, "bonds_moving_average": 900000, "weights": [], "bonds": []
        }))
        .unwrap();
        assert!(
            WhatIf::parse("kappa=70000")
                .unwrap()
                .apply(&mut input)
                .is_err()
        );
        WhatIf::parse("kappa=1").unwrap().apply(&mut input).unwrap();
        assert_eq!(input.kappa, 1);
    }

    #[test]
    fn differences_are_signed() {
        assert_eq!(difference("10", "7").as_deref(), Some("-3"));
        assert_eq!(difference("7", "10").as_deref(), Some("+3"));
        assert_eq!(difference("true", "false"), None);
    }
}
