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
//! - the justification holds for the set in force ([`super::grandpa::verify`]: signatures,
//!   vote ancestry, more than two thirds of the set's weight);
//! - no authority set change takes effect strictly inside the range: a change scheduled in
//!   block N with delay d is enacted by the justification of block N + d, signed by the old set,
//!   and only after it does the new set (id + 1) sign. A change is read only from headers the set
//!   in force finalizes in the same step, so it is as authenticated as they are.
//!
//! Forced changes are never followed. A forced change is how a chain replaces a set that stopped
//! finalizing, on the word of the chain's governance, with no justification by the old set; a
//! light client cannot tell that word from an endpoint's forgery (a header carrying
//! `ForcedChange(→ the attacker's key, delay 0)` and a justification by that key). So:
//! - a forced change in a header no justification of the set in force covers is refused with
//!   [`FinalityError::ForcedChange`], which says a new checkpoint is needed if the chain really
//!   did it; the endpoint that served it is not believed;
//! - one in a header the set in force did finalize is authenticated: those headers are accepted,
//!   and the client stops there ([`Finality::halted`]), since what comes after is signed by a set
//!   it cannot verify. It keeps what it proved; a new checkpoint from after the change moves it on.
//!
//! Threat model: every header and justification comes from an endpoint that may forge, withhold,
//! replay (an old justification, another chain's) or reorder them. Nothing changes on an error.
//!
//! Pure: no I/O, no clock. The fetcher decides which justification to ask for.

use super::checkpoint::{Authority, Checkpoint};
use super::grandpa::{self, JustificationError};
use crate::header::{GrandpaChange, Header};
use crate::hex::to_hex;
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
    /// The Aura slot it was authored in, if any (genesis has none).
    pub slot: Option<u64>,
    /// The SCALE header, as hashed.
    pub scale: Vec<u8>,
}

impl VerifiedHeader {
    /// Decodes a header and computes its hash (nothing about it is verified yet).
    fn decode(scale: &[u8]) -> Result<(Self, Vec<GrandpaChange>), FinalityError> {
        let decoded = Header::decode(scale)
            .map_err(|e| FinalityError::Header(format!("a header does not decode: {e}")))?;
        let changes = decoded.grandpa_changes().map_err(|e| {
            FinalityError::Header(format!("the header of block #{}: {e}", decoded.number))
        })?;
        Ok((
            VerifiedHeader {
                number: u64::from(decoded.number),
                hash: decoded.hash,
                parent_hash: decoded.parent_hash,
                state_root: decoded.state_root,
                runtime_updated: decoded.runtime_updated(),
                slot: decoded.aura_slot(),
                scale: scale.to_vec(),
            },
            changes,
        ))
    }
}

/// A scheduled authority set change read from a finalized header, not yet in force.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    activates_at: u64,
    authorities: Vec<Authority>,
}

impl Pending {
    fn of(number: u64, change: GrandpaChange) -> Self {
        Pending {
            activates_at: number.saturating_add(u64::from(change.delay)),
            authorities: change
                .next_authorities
                .into_iter()
                .map(|(public_key, weight)| Authority { public_key, weight })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalityError {
    /// A header is not what it says it is, or does not decode.
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
    /// The justification does not hold for the set in force.
    Justification {
        set_id: u64,
        error: JustificationError,
    },
    /// An authority set change takes effect at block `at`, inside the range: that block's own
    /// justification must be accepted first.
    ChangeSkipped { at: u64 },
    /// The chain (or an endpoint pretending to be it) signalled a forced authority set change
    /// at block `at`. `authenticated`: the set in force finalized that header, so the chain
    /// really did; otherwise nothing vouches for it.
    ForcedChange { at: u64, authenticated: bool },
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
            FinalityError::Justification { set_id, error } => match error {
                JustificationError::NotAuthority { key } => write!(
                    f,
                    "the justification fails for authority set {set_id}: signed by {}, which \
                     is not in authority set {set_id}",
                    to_hex(key)
                ),
                JustificationError::BadSignature { key } => write!(
                    f,
                    "the justification fails for authority set {set_id}: a signature by {} \
                     does not verify: signed by another key, or for another set id than \
                     {set_id} or another round",
                    to_hex(key)
                ),
                other => write!(
                    f,
                    "the justification fails for authority set {set_id}: {other}"
                ),
            },
            FinalityError::ChangeSkipped { at } => write!(
                f,
                "the authority set changes at block #{at}, inside the range; that block's own \
                 justification must come first"
            ),
            FinalityError::ForcedChange {
                at,
                authenticated: false,
            } => write!(
                f,
                "block #{at} signals a forced GRANDPA authority change that the authority set \
                 in force did not finalize. A light client cannot tell a real forced change \
                 from a forged one, so taoscope does not follow it: if the chain really forced \
                 a change, a new checkpoint is needed (make one after the change with \
                 `taoscope checkpoint` from a node you trust)"
            ),
            FinalityError::ForcedChange {
                at,
                authenticated: true,
            } => write!(
                f,
                "the chain forced a GRANDPA authority change at block #{at} (a block the set \
                 in force finalized); the blocks after it are signed by a set taoscope cannot \
                 verify. A new checkpoint is needed: make one after the change with `taoscope \
                 checkpoint` from a node you trust"
            ),
        }
    }
}

impl std::error::Error for FinalityError {}

/// The finalized chain as far as it has been proven, and the set that signs what comes next.
#[derive(Clone, Debug)]
pub struct Finality {
    genesis_hash: [u8; 32],
    set_id: u64,
    authorities: Vec<Authority>,
    finalized: VerifiedHeader,
    pending: Option<Pending>,
    /// The block of an authenticated forced change: nothing after it can be verified.
    halted: Option<u64>,
    /// Justifications accepted, for the Trust panel.
    justifications_verified: u64,
}

/// What a justification says it finalizes, before anything is verified: tells the fetcher
/// which headers to bring.
pub fn justification_target(justification: &[u8]) -> Result<(u64, [u8; 32]), FinalityError> {
    grandpa::target(justification).map_err(|_| FinalityError::Undecodable)
}

/// The set changes of one header: at most one, as the runtime schedules them (a second while
/// one is pending is refused by `pallet_grandpa`), so more is not a chain this code knows.
fn single_change(
    number: u64,
    changes: Vec<GrandpaChange>,
) -> Result<Option<GrandpaChange>, FinalityError> {
    let mut changes = changes.into_iter();
    let first = changes.next();
    if changes.next().is_some() {
        return Err(FinalityError::Header(format!(
            "the header of block #{number} announces more than one authority set change"
        )));
    }
    Ok(first)
}

impl Finality {
    pub fn new(checkpoint: &Checkpoint) -> Result<Self, FinalityError> {
        let (finalized, changes) = VerifiedHeader::decode(&checkpoint.header)?;
        // A change the checkpoint block itself schedules with a delay is still to come (one
        // with no delay is enacted by the block's own justification: the checkpoint's set
        // already is the new one). A forced change there cannot be in the checkpoint's set.
        let pending = match single_change(finalized.number, changes)? {
            Some(change) if change.forced => {
                return Err(FinalityError::ForcedChange {
                    at: finalized.number,
                    authenticated: false,
                });
            }
            Some(change) => Some(Pending::of(finalized.number, change))
                .filter(|p| p.activates_at > finalized.number),
            None => None,
        };
        Ok(Finality {
            genesis_hash: checkpoint.genesis_hash,
            set_id: checkpoint.set_id,
            authorities: checkpoint.authorities.clone(),
            finalized,
            pending,
            halted: None,
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

    /// Why the client cannot go further, when the chain forced an authority change.
    pub fn halted(&self) -> Option<FinalityError> {
        self.halted.map(|at| FinalityError::ForcedChange {
            at,
            authenticated: true,
        })
    }

    /// The finalized block and its set as a checkpoint (for the next start), when nothing is
    /// pending that the checkpoint format could not carry.
    pub fn checkpoint(&self, created_at_ms: u64, source: String) -> Option<Checkpoint> {
        if self.pending.is_some() || self.halted.is_some() {
            return None;
        }
        Some(Checkpoint {
            genesis_hash: self.genesis_hash,
            number: self.finalized.number,
            hash: self.finalized.hash,
            header: self.finalized.scale.clone(),
            set_id: self.set_id,
            authorities: self.authorities.clone(),
            created_at_ms: Some(created_at_ms),
            source: Some(source),
        })
    }

    /// Accepts `headers` (the blocks after our finalized one, in order, up to the justified
    /// target) when `justification` proves the last one final; returns them verified. On any
    /// error nothing changes.
    pub fn advance(
        &mut self,
        headers: &[Vec<u8>],
        justification: &[u8],
    ) -> Result<Vec<VerifiedHeader>, FinalityError> {
        if let Some(halted) = self.halted() {
            return Err(halted);
        }
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
        let mut pending = self.pending.clone();
        let mut forced_at = None;
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
            if Some(header.number) != parent.number.checked_add(1) {
                return Err(FinalityError::BrokenChain {
                    number: header.number,
                    why: format!("it follows block #{}", parent.number),
                });
            }
            let is_target = header.number == target_number;
            // A scheduled change that takes effect here: only the target's own justification
            // (by the old set) may enact it.
            if pending
                .as_ref()
                .is_some_and(|p| p.activates_at == header.number && !is_target)
            {
                return Err(FinalityError::ChangeSkipped { at: header.number });
            }
            match single_change(header.number, changes)? {
                Some(change) if change.forced => {
                    forced_at.get_or_insert(header.number);
                }
                Some(change) => {
                    if pending.is_some() {
                        return Err(FinalityError::Header(format!(
                            "block #{} schedules an authority set change while another is \
                             pending",
                            header.number
                        )));
                    }
                    let scheduled = Pending::of(header.number, change);
                    if scheduled.activates_at == header.number && !is_target {
                        return Err(FinalityError::ChangeSkipped { at: header.number });
                    }
                    pending = Some(scheduled);
                }
                None => {}
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

        // Always the set in force: never one a header in this very range announces.
        if let Err(error) = grandpa::verify(justification, self.set_id, &self.authorities) {
            return Err(match forced_at {
                // Nothing vouches for the forced change: say what it would take, not only that
                // the signatures fail.
                Some(at) => FinalityError::ForcedChange {
                    at,
                    authenticated: false,
                },
                None => FinalityError::Justification {
                    set_id: self.set_id,
                    error,
                },
            });
        }

        // Accepted. A change enacted by this justification puts the next set in force.
        if let Some(change) = pending.take_if(|p| p.activates_at == target_number) {
            self.set_id = self.set_id.checked_add(1).ok_or_else(|| {
                FinalityError::Header("the authority set id cannot count any higher".into())
            })?;
            self.authorities = change.authorities;
        }
        self.pending = pending;
        self.halted = forced_at;
        self.finalized = target.clone();
        self.justifications_verified += 1;
        Ok(chain)
    }
}
