//! The epoch of subtensor spec_version 103 (March 2023), the runtime of the Bittensor testnet
//! genesis that the localnet runs. See `shared/docs/yuma-epoch-spec-v103.md`.
//!
//! An older Yuma, not a configuration of today's: inputs keyed by netuid only, the global
//! `TotalHotkeyStake`, no stake threshold or owner rules, trust and rank still written, one
//! classic bond EMA, and different arithmetic. The old code has no saturating or checked
//! operation: `+`, `-`, `*`, `/` are plain, and the runtime is a release build, so they wrap;
//! every division is behind a "divisor is not zero" test. This module does the same with
//! `wrapping_*` operations, which is why it shares only the `u16` ↔ proportion conversions with
//! today's engine (the rest of [`crate::sparse`] and [`crate::fixed`] saturates or uses
//! `safe_div`, which give the same numbers on sane inputs and other numbers at the edges).

mod epoch;
mod input;
mod output;
pub mod payout;

pub use epoch::{epoch_with, run_epoch};
pub use input::{EpochInputV103, HotkeyId, InputErrorV103, Rows};
pub use output::EpochOutputV103;

use serde::{Deserialize, Serialize};

pub const SCHEMA_V103: &str = "yuma-epoch-vector/v103";

/// A `yuma-epoch-vector/v103` file (`shared/vectors/yuma-v103/SCHEMA.md`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VectorFileV103 {
    pub schema: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub input: EpochInputV103,
    #[serde(default)]
    pub expected: Option<EpochOutputV103>,
}
