//! Finality: which headers are final, judged by GRANDPA justifications alone.
//!
//! [`Finality`] holds the last block it accepted as final and the authority set that finalizes
//! the next ones. An endpoint offers a justification with the headers from our finalized block
//! to its target; [`Finality::advance`] accepts them only when
//! - the headers form one chain from our finalized block (each names the previous one's hash
//!   as parent, numbers in sequence), so the endpoint cannot slip in a header from a fork or a
//!   header whose hash is not what it claims (we hash every header ourselves);
//! - the justification targets the last of them and is newer than what we hold (a finalized
//!   head never goes back);
//! - its precommits are signed by distinct members of the set in force at the target, for that
//!   set's id and the justification's round, with more than two thirds of the set's weight
//!   (smoldot checks the signatures and vote ancestry; we add the weights);
//! - no authority set change takes effect strictly inside the range: a change scheduled in
//!   block N with delay d is enacted by the justification of block N + d, signed by the old set,
//!   and only after it does the new set (id + 1) sign. Forced changes switch at N + d without
//!   the old set's word, as Substrate's light clients do.
//!
//! Pure: no I/O, no clock. The fetcher decides which justification to ask for.

use super::BLOCK_NUMBER_BYTES;
use super::checkpoint::{Authority, Checkpoint};
use crate::metadata::to_hex;
use smoldot::finality::{decode, verify};
use smoldot::header::{self, DigestItemRef, GrandpaConsensusLogRef};
use std::fmt;

/// A header whose place in the finalized chain has been proven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedHeader {
    pub number: u64,
    pub hash: [u8; 32],
    pub parent_hash: [u8; 32],
    pub state_root: [u8; 32],
    /// The block changed the runtime's code or heap pages (a `RuntimeEnvironmentUpdated`
    /// digest item): what was learned from the old `:code` no longer holds.
    pub runtime_updated: bool,
    /// The SCALE header, as hashed.
    pub scale: Vec<u8>,
}

impl VerifiedHeader {
    /// Decodes a header and computes its hash (nothing about it is verified yet).
    fn decode(scale: &[u8]) -> Result<(Self, Vec<Change>), FinalityError> {
        let decoded = header::decode(scale, BLOCK_NUMBER_BYTES)
            .map_err(|e| FinalityError::Header(format!("a header does not decode: {e}")))?;
        let mut changes = Vec::new();
        for item in decoded.digest.logs() {
            let (change, forced) = match item {
                DigestItemRef::GrandpaConsensus(GrandpaConsensusLogRef::ScheduledChange(c)) => {
                    (c, false)
                }
                DigestItemRef::GrandpaConsensus(GrandpaConsensusLogRef::ForcedChange {
                    change,
                    ..
                }) => (change, true),
                _ => continue,
            };
            changes.push(Change {
                activates_at: decoded.number.saturating_add(change.delay),
                forced,
                authorities: change
                    .next_authorities
                    .map(|a| Authority {
                        public_key: *a.public_key,
                        weight: a.weight.get(),
                    })
                    .collect(),
            });
        }
        Ok((
            VerifiedHeader {
                number: decoded.number,
                hash: decoded.hash(BLOCK_NUMBER_BYTES),
                parent_hash: *decoded.parent_hash,
                state_root: *decoded.state_root,
                runtime_updated: decoded.digest.has_runtime_environment_updated(),
                scale: scale.to_vec(),
            },
            changes,
        ))
    }
}

/// An authority set change read from a header's digest, not yet in force.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Change {
    activates_at: u64,
    forced: bool,
    authorities: Vec<Authority>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalityError {
    /// A header or justification is not what it says it is, or does not decode.
    Header(String),
    /// The justification does not decode.
    Undecodable,
    /// The justification is for a block at or below our finalized one.
    NotNewer { finalized: u64, claimed: u64 },
    /// No headers came with a justification for a later block.
    NoHeaders { target: u64 },
    /// The headers do not form one chain from our finalized block.
    BrokenChain { number: u64, why: String },
    /// The justification finalizes another block than the headers lead to.
    TargetMismatch {
        justified: String,
        headers_end: String,
    },
    /// The signatures do not hold for the set in force.
    Justification { set_id: u64, why: String },
    /// Distinct authorities signed, but not more than two thirds of the set's weight.
    InsufficientWeight {
        set_id: u64,
        signed: u64,
        total: u64,
    },
    /// An authority set change takes effect at block `at`, inside the range: that block's own
    /// justification must be accepted first.
    ChangeSkipped { at: u64 },
}

impl fmt::Display for FinalityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FinalityError::Header(why) => write!(f, "{why}"),
            FinalityError::Undecodable => write!(f, "the justification does not decode"),
            FinalityError::NotNewer { finalized, claimed } => write!(
                f,
                "the endpoint's finalized block #{claimed} is not after #{finalized}, already \
                 proven final: a finalized head never goes back"
            ),
            FinalityError::NoHeaders { target } => write!(
                f,
                "a justification for block #{target} came without the headers that link it to \
                 our finalized block"
            ),
            FinalityError::BrokenChain { number, why } => {
                write!(f, "the header of block #{number} does not link: {why}")
            }
            FinalityError::TargetMismatch {
                justified,
                headers_end,
            } => write!(
                f,
                "the justification finalizes {justified} but the headers lead to {headers_end}"
            ),
            FinalityError::Justification { set_id, why } => {
                write!(
                    f,
                    "the justification fails for authority set {set_id}: {why}"
                )
            }
            FinalityError::InsufficientWeight {
                set_id,
                signed,
                total,
            } => write!(
                f,
                "the justification carries {signed} of authority set {set_id}'s weight of \
                 {total}; more than two thirds is needed"
            ),
            FinalityError::ChangeSkipped { at } => write!(
                f,
                "the authority set changes at block #{at}, inside the range; that block's own \
                 justification must come first"
            ),
        }
    }
}

impl std::error::Error for FinalityError {}

/// The finalized chain as far as it has been proven, and the set that signs what comes next.
#[derive(Clone, Debug)]
pub struct Finality {
    set_id: u64,
    authorities: Vec<Authority>,
    finalized: VerifiedHeader,
    pending: Option<Change>,
    /// Justifications accepted, for the Trust panel.
    justifications_verified: u64,
}

/// What a justification says it finalizes, before anything is verified: tells the fetcher
/// which headers to bring.
pub fn justification_target(justification: &[u8]) -> Result<(u64, [u8; 32]), FinalityError> {
    let decoded = decode::decode_grandpa_justification(justification, BLOCK_NUMBER_BYTES)
        .map_err(|_| FinalityError::Undecodable)?;
    Ok((decoded.target_number, *decoded.target_hash))
}

impl Finality {
    pub fn new(checkpoint: &Checkpoint) -> Result<Self, FinalityError> {
        let (finalized, changes) = VerifiedHeader::decode(&checkpoint.header)?;
        Ok(Finality {
            set_id: checkpoint.set_id,
            authorities: checkpoint.authorities.clone(),
            finalized,
            // A change the checkpoint block itself schedules with a delay is still to come.
            pending: changes
                .into_iter()
                .find(|c| c.activates_at > checkpoint.number),
            justifications_verified: 0,
        })
    }

    pub fn finalized(&self) -> &VerifiedHeader {
        &self.finalized
    }

    pub fn set_id(&self) -> u64 {
        self.set_id
    }

    pub fn authorities(&self) -> &[Authority] {
        &self.authorities
    }

    pub fn justifications_verified(&self) -> u64 {
        self.justifications_verified
    }

    /// Accepts `headers` (the blocks after our finalized one, in order, up to the justified
    /// target) when `justification` proves the last one final; returns them verified. On any
    /// error nothing changes.
    pub fn advance(
        &mut self,
        headers: &[Vec<u8>],
        justification: &[u8],
        randomness_seed: [u8; 32],
    ) -> Result<Vec<VerifiedHeader>, FinalityError> {
        let (target_number, target_hash) = justification_target(justification)?;
        if target_number <= self.finalized.number {
            return Err(FinalityError::NotNewer {
                finalized: self.finalized.number,
                claimed: target_number,
            });
        }
        if headers.is_empty() {
            return Err(FinalityError::NoHeaders {
                target: target_number,
            });
        }

        let mut chain: Vec<VerifiedHeader> = Vec::with_capacity(headers.len());
        let mut set_id = self.set_id;
        let mut authorities = self.authorities.clone();
        let mut pending = self.pending.clone();
        for scale in headers {
            let (header, changes) = VerifiedHeader::decode(scale)?;
            let parent = chain.last().unwrap_or(&self.finalized);
            if header.parent_hash != parent.hash {
                return Err(FinalityError::BrokenChain {
                    number: header.number,
                    why: format!(
                        "its parent is {}, not {} (block #{})",
                        to_hex(&header.parent_hash),
                        to_hex(&parent.hash),
                        parent.number
                    ),
                });
            }
            if header.number != parent.number + 1 {
                return Err(FinalityError::BrokenChain {
                    number: header.number,
                    why: format!("it follows block #{}", parent.number),
                });
            }
            // A change scheduled earlier that takes effect here.
            if let Some(change) = pending.take_if(|c| c.activates_at == header.number) {
                if !change.forced && header.number != target_number {
                    return Err(FinalityError::ChangeSkipped { at: header.number });
                }
                if change.forced || header.number != target_number {
                    set_id += 1;
                    authorities = change.authorities;
                } else {
                    pending = Some(change); // enacted by this very justification
                }
            }
            // The earliest change in a block counts; no new one while one is pending.
            if pending.is_none()
                && let Some(change) = changes.into_iter().next()
            {
                if change.activates_at == header.number && header.number != target_number {
                    if !change.forced {
                        return Err(FinalityError::ChangeSkipped { at: header.number });
                    }
                    set_id += 1;
                    authorities = change.authorities;
                } else {
                    pending = Some(change);
                }
            }
            chain.push(header);
        }
        let Some(target) = chain.last() else {
            return Err(FinalityError::NoHeaders {
                target: target_number,
            });
        };
        if target.hash != target_hash || target.number != target_number {
            return Err(FinalityError::TargetMismatch {
                justified: format!("#{target_number} ({})", to_hex(&target_hash)),
                headers_end: format!("#{} ({})", target.number, to_hex(&target.hash)),
            });
        }

        check_signatures(justification, set_id, &authorities, randomness_seed)?;

        // Accepted. A change enacted by this justification puts the next set in force.
        if let Some(change) = pending.take_if(|c| c.activates_at == target_number) {
            set_id += 1;
            authorities = change.authorities;
        }
        self.set_id = set_id;
        self.authorities = authorities;
        self.pending = pending;
        self.finalized = target.clone();
        self.justifications_verified += 1;
        Ok(chain)
    }
}

/// smoldot verifies the signatures, distinct signers and vote ancestry (and a count threshold,
/// which equals the weight threshold when weights are equal, as on Bittensor); the weights are
/// added here so that unequal sets are judged by weight too.
fn check_signatures(
    justification: &[u8],
    set_id: u64,
    authorities: &[Authority],
    randomness_seed: [u8; 32],
) -> Result<(), FinalityError> {
    verify::verify_justification(verify::JustificationVerifyConfig {
        justification,
        block_number_bytes: BLOCK_NUMBER_BYTES,
        authorities_set_id: set_id,
        authorities_list: authorities.iter().map(|a| &a.public_key[..]),
        randomness_seed,
    })
    .map_err(|error| FinalityError::Justification {
        set_id,
        why: explain(&error, set_id),
    })?;

    let decoded = decode::decode_grandpa_justification(justification, BLOCK_NUMBER_BYTES)
        .map_err(|_| FinalityError::Undecodable)?;
    let total: u64 = authorities.iter().map(|a| a.weight).sum();
    let signed: u64 = decoded
        .precommits
        .iter()
        .filter_map(|p| {
            authorities
                .iter()
                .find(|a| &a.public_key == p.authority_public_key)
        })
        .map(|a| a.weight)
        .sum();
    if u128::from(signed) * 3 <= u128::from(total) * 2 {
        return Err(FinalityError::InsufficientWeight {
            set_id,
            signed,
            total,
        });
    }
    Ok(())
}

fn explain(error: &verify::JustificationVerifyError, set_id: u64) -> String {
    use verify::JustificationVerifyError as E;
    match error {
        E::InvalidFormat => "it does not decode".into(),
        E::BadPublicKey => "a signer's key is not a valid ed25519 key".into(),
        E::BadSignature => format!(
            "a signature does not verify: signed by another key, or for another set id than \
             {set_id} or another round"
        ),
        E::DuplicateSignature { authority_key } => {
            format!("authority {} signed twice", to_hex(authority_key))
        }
        E::NotAuthority { authority_key } => format!(
            "signed by {}, which is not in authority set {set_id}",
            to_hex(authority_key)
        ),
        E::NotEnoughSignatures => "fewer than two thirds of the authorities signed".into(),
        E::BadAncestry | E::UnusedAncestryEntry => {
            "its votes' ancestry does not link to the block it finalizes".into()
        }
        E::TargetMismatch => "its votes do not finalize the block it names".into(),
    }
}
