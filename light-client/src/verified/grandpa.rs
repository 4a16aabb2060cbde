//! GRANDPA justifications, judged by weight.
//!
//! A justification proves a block final when authorities holding more than two thirds of the
//! set's weight precommitted, in one round of one set, to that block or to its descendants. The
//! rules are Substrate's (`GrandpaJustification::verify_with_voter_set`, finality-grandpa's
//! `validate_commit` with the justified block as the base):
//! - every precommit is signed by a member of the set, over `(1, target hash, target number,
//!   round, set id)`, with ed25519 as Substrate verifies it (ZIP-215, through the same
//!   `ed25519-zebra` crate); no member's weight counts twice (an equivocator's second vote is
//!   checked like any other, as finality-grandpa keeps it, and adds nothing);
//! - every precommit targets the justified block or a descendant of it: the link is walked
//!   through the justification's `votes_ancestries` headers, hashed here, one height at a time,
//!   and every one of those headers must be on some walk (nothing unexplained rides along);
//! - the signers' weight reaches `total − ⌊(total − 1) / 3⌋`, summed in `u128`, so no set's
//!   weights can wrap around into a pass.
//!
//! smoldot's own verifier counts signers rather than weighing them (the same on Bittensor,
//! where every authority weighs 1) and lets precommits on another fork count towards the
//! threshold as long as enough of them agree; weighing here keeps a heavy minority on a fork
//! from lending its weight to a light majority on the target.
//!
//! Threat model: the justification comes from an endpoint that may have forged any byte of it.
//! Nothing here allocates more than the input's size, and the ancestry is bounded.

use super::BLOCK_NUMBER_BYTES;
use super::checkpoint::Authority;
use crate::hex::to_hex;
use smoldot::finality::decode;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The most `votes_ancestries` headers taken: precommits vote a few blocks above the target at
/// most; a long list is only a way to make the check slow.
pub const MAX_ANCESTRY: usize = 4096;

/// What a justification says it finalizes, once its signatures and weight hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Justified {
    pub number: u64,
    pub hash: [u8; 32],
    pub round: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JustificationError {
    Undecodable,
    /// The set has no weight: nothing can be final under it.
    EmptySet,
    NotAuthority {
        key: [u8; 32],
    },
    /// The signature does not verify for this set id and round (or the key is not a key).
    BadSignature {
        key: [u8; 32],
    },
    /// A precommit for a block below the one the justification finalizes.
    BelowTarget {
        number: u64,
        target: u64,
    },
    /// A precommit that does not descend from the target through the ancestry given (another
    /// fork, or a header left out).
    NotDescendant {
        number: u64,
        hash: [u8; 32],
    },
    /// Ancestry headers that no precommit needs.
    UnusedAncestry {
        count: usize,
    },
    TooMuchAncestry {
        count: usize,
    },
    InsufficientWeight {
        signed: u128,
        needed: u128,
        total: u128,
    },
}

impl fmt::Display for JustificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undecodable => write!(f, "it does not decode"),
            Self::EmptySet => write!(f, "the authority set has no weight"),
            Self::NotAuthority { key } => {
                write!(f, "signed by {}, which is not in the set", to_hex(key))
            }
            Self::BadSignature { key } => write!(
                f,
                "a signature by {} does not verify: signed by another key, or for another set \
                 id or another round",
                to_hex(key)
            ),
            Self::BelowTarget { number, target } => write!(
                f,
                "a precommit for block #{number} is below the block it claims final (#{target})"
            ),
            Self::NotDescendant { number, hash } => write!(
                f,
                "a precommit for block #{number} ({}) does not descend from the block it claims \
                 final: another fork, or its ancestry left out",
                to_hex(hash)
            ),
            Self::UnusedAncestry { count } => write!(
                f,
                "{count} of its vote ancestry headers link no precommit to the block it finalizes"
            ),
            Self::TooMuchAncestry { count } => write!(
                f,
                "{count} vote ancestry headers (at most {MAX_ANCESTRY} are read)"
            ),
            Self::InsufficientWeight {
                signed,
                needed,
                total,
            } => write!(
                f,
                "it carries {signed} of the set's weight of {total}; {needed} (more than two \
                 thirds) is needed"
            ),
        }
    }
}

impl std::error::Error for JustificationError {}

/// The block a justification names, before anything in it is checked: tells a fetcher which
/// headers to bring.
pub fn target(justification: &[u8]) -> Result<(u64, [u8; 32]), JustificationError> {
    let decoded = decode::decode_grandpa_justification(justification, BLOCK_NUMBER_BYTES)
        .map_err(|_| JustificationError::Undecodable)?;
    Ok((decoded.target_number, *decoded.target_hash))
}

/// The weight a set must reach: more than two thirds of `total`, as finality-grandpa's
/// `VoterSet::threshold` computes it.
pub fn threshold(total: u128) -> u128 {
    total - total.saturating_sub(1) / 3
}

/// Checks `justification` against the set `authorities` with id `set_id`.
pub fn verify(
    justification: &[u8],
    set_id: u64,
    authorities: &[Authority],
) -> Result<Justified, JustificationError> {
    let decoded = decode::decode_grandpa_justification(justification, BLOCK_NUMBER_BYTES)
        .map_err(|_| JustificationError::Undecodable)?;

    // A key listed twice weighs the sum of its entries; zero weights vote for nothing.
    let mut weights: BTreeMap<[u8; 32], u128> = BTreeMap::new();
    for authority in authorities.iter().filter(|a| a.weight > 0) {
        *weights.entry(authority.public_key).or_default() += u128::from(authority.weight);
    }
    let total: u128 = weights.values().sum();
    if total == 0 {
        return Err(JustificationError::EmptySet);
    }

    let ancestry = decoded.votes_ancestries;
    if ancestry.len() > MAX_ANCESTRY {
        return Err(JustificationError::TooMuchAncestry {
            count: ancestry.len(),
        });
    }
    // Header hash → (parent hash, number).
    let ancestry: BTreeMap<[u8; 32], ([u8; 32], u64)> = ancestry
        .map(|header| {
            (
                header.hash(BLOCK_NUMBER_BYTES),
                (*header.parent_hash, header.number),
            )
        })
        .collect();

    let target_hash = *decoded.target_hash;
    let target_number = decoded.target_number;
    let mut signers: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut used: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut signed: u128 = 0;
    for precommit in decoded.precommits.iter() {
        let key = *precommit.authority_public_key;
        let weight = *weights
            .get(&key)
            .ok_or(JustificationError::NotAuthority { key })?;
        let first_vote = signers.insert(key);
        let number = u32::try_from(precommit.target_number)
            .map_err(|_| JustificationError::BadSignature { key })?;
        let mut message = Vec::with_capacity(1 + 32 + 4 + 8 + 8);
        message.push(1u8); // a precommit
        message.extend_from_slice(precommit.target_hash);
        message.extend_from_slice(&number.to_le_bytes());
        message.extend_from_slice(&decoded.round.to_le_bytes());
        message.extend_from_slice(&set_id.to_le_bytes());
        ed25519_zebra::VerificationKey::try_from(key)
            .and_then(|verifier| {
                verifier.verify(
                    &ed25519_zebra::Signature::from_bytes(precommit.signature),
                    &message,
                )
            })
            .map_err(|_| JustificationError::BadSignature { key })?;

        // Down from the precommit's block to the target, one height at a time.
        if precommit.target_number < target_number {
            return Err(JustificationError::BelowTarget {
                number: precommit.target_number,
                target: target_number,
            });
        }
        let not_descendant = || JustificationError::NotDescendant {
            number: precommit.target_number,
            hash: *precommit.target_hash,
        };
        let (mut hash, mut number) = (*precommit.target_hash, precommit.target_number);
        while number > target_number {
            let (parent, claimed) = ancestry.get(&hash).ok_or_else(not_descendant)?;
            if *claimed != number {
                return Err(not_descendant());
            }
            used.insert(hash);
            hash = *parent;
            number -= 1;
        }
        if hash != target_hash {
            return Err(not_descendant());
        }
        if first_vote {
            signed += weight;
        }
    }

    if used.len() != ancestry.len() {
        return Err(JustificationError::UnusedAncestry {
            count: ancestry.len() - used.len(),
        });
    }
    let needed = threshold(total);
    if signed < needed {
        return Err(JustificationError::InsufficientWeight {
            signed,
            needed,
            total,
        });
    }
    Ok(Justified {
        number: target_number,
        hash: target_hash,
        round: decoded.round,
    })
}

#[cfg(test)]
mod tests {
    use super::threshold;

    #[test]
    fn the_threshold_is_more_than_two_thirds() {
        assert_eq!(threshold(1), 1);
        assert_eq!(threshold(3), 3);
        assert_eq!(threshold(4), 3);
        assert_eq!(threshold(5), 4);
        assert_eq!(threshold(6), 5);
        assert_eq!(threshold(7), 5);
        // Never two thirds or less, never more than everything.
        for total in 1..1000u128 {
            let t = threshold(total);
            assert!(t * 3 > total * 2 && t <= total, "{total}: {t}");
            assert!((t - 1) * 3 <= total * 2, "{total}: {t} is not the least");
        }
        let huge = u128::from(u64::MAX) * 3;
        assert!(threshold(huge) * 3 > huge * 2);
    }
}
