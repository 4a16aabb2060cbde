//! Which epoch algorithm a runtime ran: a table from runtime versions to the algorithms this
//! engine reproduces exactly.
//!
//! An audit must recompute an epoch with the code of the runtime that ran it. Between two
//! versions we have verified against the chain's own code there may be others whose epoch
//! differs in ways nobody has checked; for those the answer is "not supported", shown as such,
//! never the nearest algorithm.

use std::fmt;
use std::ops::RangeInclusive;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// subtensor bf50605d (March 2023): [`crate::v103`].
    Spec103,
    /// subtensor 14bc6f9f (spec 461): [`crate::run_epoch`].
    Current,
}

impl Algorithm {
    pub fn describe(self) -> &'static str {
        match self {
            Algorithm::Spec103 => "the spec-103 epoch (subtensor bf50605d, March 2023)",
            Algorithm::Current => "the spec-461 epoch (subtensor 14bc6f9f)",
        }
    }
}

/// `(spec_name, spec_versions, algorithm)`: only versions whose epoch was checked against the
/// chain's code at that version.
const TABLE: &[(&str, RangeInclusive<u32>, Algorithm)] = &[
    ("node-subtensor", 103..=103, Algorithm::Spec103),
    ("node-subtensor", 461..=461, Algorithm::Current),
];

/// A runtime version this engine cannot vouch for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub spec_name: String,
    pub spec_version: u32,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verified: Vec<String> = TABLE
            .iter()
            .map(|(name, versions, _)| {
                if versions.start() == versions.end() {
                    format!("{name} {}", versions.start())
                } else {
                    format!("{name} {}–{}", versions.start(), versions.end())
                }
            })
            .collect();
        write!(
            f,
            "{} spec {}: no epoch algorithm has been verified for this runtime version, so none \
             is recomputed (verified: {})",
            self.spec_name,
            self.spec_version,
            verified.join(", ")
        )
    }
}

impl std::error::Error for Unsupported {}

/// The algorithm of `spec_name` at `spec_version`, or why there is none.
pub fn algorithm_for(spec_name: &str, spec_version: u32) -> Result<Algorithm, Unsupported> {
    TABLE
        .iter()
        .find(|(name, versions, _)| *name == spec_name && versions.contains(&spec_version))
        .map(|(_, _, algorithm)| *algorithm)
        .ok_or_else(|| Unsupported {
            spec_name: spec_name.to_string(),
            spec_version,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_between_the_verified_ones_are_not_guessed() {
        assert_eq!(algorithm_for("node-subtensor", 103), Ok(Algorithm::Spec103));
        assert_eq!(algorithm_for("node-subtensor", 461), Ok(Algorithm::Current));
        for version in [102, 104, 219, 460, 462] {
            let error = algorithm_for("node-subtensor", version).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("verified: node-subtensor 103, node-subtensor 461")
            );
        }
        assert!(algorithm_for("polkadot", 103).is_err());
    }
}
