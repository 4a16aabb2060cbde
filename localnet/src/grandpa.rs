//! GRANDPA finality: the node signs for the whole authority set.
//!
//! The development chain starts with one GRANDPA authority, `//Alice` (ed25519), with weight 1:
//! her precommit alone is more than two thirds of the set, so every block she commits to is
//! final. The node writes the same justification a Substrate node would: a commit for the block,
//! signed for a round and the authority set id, with no vote ancestries (the precommit targets
//! the block itself). Light clients check it against the set they follow, so these bytes are
//! what makes the chain's finality verifiable, not this node's word.
//!
//! The set can change (a test-only genesis schedules one, see `genesis::schedule_grandpa_change`):
//! [`Voters`] follows the set the way a light client does, from the `ScheduledChange` digests
//! of the node's own headers, not from the runtime's storage (whose `CurrentSetId` counts a
//! change from when it is scheduled, not from when it is enacted). The node holds the keys of
//! the development accounts and signs with every one in the set.

use crate::genesis::DEV_ACCOUNTS;
use smoldot::header::{self, DigestItemRef, GrandpaConsensusLogRef};
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::keys::Ed25519Signer;

/// GRANDPA's vote kinds, as SCALE enum indices: prevote 0, precommit 1, primary propose 2.
const PRECOMMIT: u8 = 1;

/// The bytes a voter signs for a precommit on `(hash, number)` in `round` of `set_id`.
pub fn precommit_payload(hash: &[u8; 32], number: u32, round: u64, set_id: u64) -> Vec<u8> {
    let mut payload = Vec::with_capacity(1 + 32 + 4 + 8 + 8);
    payload.push(PRECOMMIT);
    payload.extend_from_slice(hash);
    payload.extend_from_slice(&number.to_le_bytes());
    payload.extend_from_slice(&round.to_le_bytes());
    payload.extend_from_slice(&set_id.to_le_bytes());
    payload
}

/// A SCALE-encoded `GrandpaJustification` finalizing `(hash, number)`: round, commit (target and
/// one signed precommit per voter), and an empty list of vote ancestries.
pub fn justification(
    voters: &[Ed25519Signer],
    hash: &[u8; 32],
    number: u32,
    round: u64,
    set_id: u64,
) -> Vec<u8> {
    let payload = precommit_payload(hash, number, round, set_id);
    let mut out = Vec::with_capacity(8 + 36 + 5 + voters.len() * (36 + 64 + 32) + 1);
    out.extend_from_slice(&round.to_le_bytes());
    out.extend_from_slice(hash);
    out.extend_from_slice(&number.to_le_bytes());
    // Compact length of the precommits; a set of more than 63 dev keys cannot exist.
    out.push(u8::try_from(voters.len()).unwrap_or(u8::MAX) << 2);
    for voter in voters {
        out.extend_from_slice(hash);
        out.extend_from_slice(&number.to_le_bytes());
        out.extend_from_slice(&voter.sign_now(&payload));
        out.extend_from_slice(&voter.account());
    }
    out.push(0); // compact length 0: no vote ancestries
    out
}

/// A GRANDPA authority: ed25519 public key and weight.
pub type Authority = ([u8; 32], u64);

/// The authority set in force and the keys this node signs its justifications with.
pub struct Voters {
    pub set_id: u64,
    pub authorities: Vec<Authority>,
    signers: Vec<Ed25519Signer>,
}

impl Voters {
    /// The set that finalizes blocks from genesis on. Its id is 0 whatever the runtime's
    /// storage says: that is how every client counts (smoldot does the same).
    pub fn genesis(authorities: Vec<Authority>) -> Result<Self, String> {
        Self::new(0, authorities)
    }

    fn new(set_id: u64, authorities: Vec<Authority>) -> Result<Self, String> {
        let signers = authorities
            .iter()
            .map(|(key, _)| {
                DEV_ACCOUNTS
                    .iter()
                    .map(|name| Ed25519Signer::dev(name))
                    .find(|signer| &signer.account() == key)
                    .ok_or_else(|| {
                        format!(
                            "GRANDPA authority {} of set {set_id} is not a development key this \
                             node holds: it cannot finalize",
                            to_hex(key)
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            set_id,
            authorities,
            signers,
        })
    }

    /// The justification of block `(hash, number)` by this set, in the round of its number.
    pub fn justify(&self, hash: &[u8; 32], number: u32) -> Vec<u8> {
        justification(&self.signers, hash, number, u64::from(number), self.set_id)
    }

    /// The set after a block whose (sealed or not) header is `scale_header`: the next set when
    /// the header schedules a change, which on this chain takes effect at once (delay 0, as
    /// Substrate's warp sync requires: the block is the last one the old set finalizes).
    pub fn after(
        &self,
        scale_header: &[u8],
        block_number_bytes: usize,
    ) -> Result<Option<Self>, String> {
        let decoded = header::decode(scale_header, block_number_bytes)
            .map_err(|e| format!("header does not decode: {e}"))?;
        for item in decoded.digest.logs() {
            match item {
                DigestItemRef::GrandpaConsensus(GrandpaConsensusLogRef::ScheduledChange(
                    change,
                )) => {
                    if change.delay != 0 {
                        return Err(format!(
                            "block #{} schedules a GRANDPA change {} blocks later; this node \
                             enacts changes of delay 0 only",
                            decoded.number, change.delay
                        ));
                    }
                    let next = change
                        .next_authorities
                        .map(|a| (*a.public_key, a.weight.get()))
                        .collect();
                    return Self::new(self.set_id + 1, next).map(Some);
                }
                DigestItemRef::GrandpaConsensus(GrandpaConsensusLogRef::ForcedChange {
                    ..
                }) => {
                    return Err(format!(
                        "block #{} forces a GRANDPA change; this node does not follow forced \
                         changes",
                        decoded.number
                    ));
                }
                _ => {}
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoldot::finality::verify;

    /// smoldot, the light client we serve, accepts the justification for the right set id and
    /// refuses it for another.
    #[test]
    fn smoldot_accepts_the_justification() {
        let alice = Ed25519Signer::dev("Alice");
        let hash = [7u8; 32];
        let bytes = justification(std::slice::from_ref(&alice), &hash, 42, 42, 0);
        let key = alice.account();
        let check = |set_id| {
            verify::verify_justification(verify::JustificationVerifyConfig {
                justification: &bytes[..],
                block_number_bytes: 4,
                authorities_set_id: set_id,
                authorities_list: std::iter::once(&key[..]),
                randomness_seed: [0; 32],
            })
        };
        assert!(check(0).is_ok(), "{:?}", check(0).err());
        assert!(check(1).is_err());
    }

    /// A set of two equal voters needs both: with both the justification verifies, with one
    /// it has too little weight.
    #[test]
    fn every_voter_of_the_set_signs() {
        let voters: Vec<_> = ["Bob", "Charlie"].map(Ed25519Signer::dev).into();
        let keys: Vec<_> = voters.iter().map(|v| v.account()).collect();
        let hash = [9u8; 32];
        let check = |bytes: &[u8]| {
            verify::verify_justification(verify::JustificationVerifyConfig {
                justification: bytes,
                block_number_bytes: 4,
                authorities_set_id: 1,
                authorities_list: keys.iter().map(|k| &k[..]),
                randomness_seed: [0; 32],
            })
        };
        let both = justification(&voters, &hash, 31, 31, 1);
        assert!(check(&both).is_ok(), "{:?}", check(&both).err());
        let one = justification(&voters[..1], &hash, 31, 31, 1);
        assert!(matches!(
            check(&one),
            Err(verify::JustificationVerifyError::NotEnoughSignatures)
        ));
    }

    /// The set follows a header's `ScheduledChange` of delay 0, and refuses what it cannot
    /// follow (a delayed change) in words; a set with a key the node does not hold is refused.
    #[test]
    fn voters_follow_the_header() {
        use smoldot::header::{
            DigestItem, DigestRef, GrandpaAuthority, GrandpaConsensusLog, GrandpaScheduledChange,
            HeaderRef,
        };
        let authority = |name: &str| GrandpaAuthority {
            public_key: Ed25519Signer::dev(name).account(),
            weight: std::num::NonZero::new(1).unwrap_or(std::num::NonZero::<u64>::MIN),
        };
        let header_with = |delay: u64| {
            let change = GrandpaScheduledChange {
                next_authorities: vec![authority("Bob"), authority("Charlie")],
                delay,
            };
            let items = [DigestItem::GrandpaConsensus(
                GrandpaConsensusLog::ScheduledChange(change),
            )];
            HeaderRef {
                parent_hash: &[0; 32],
                number: 30,
                state_root: &[0; 32],
                extrinsics_root: &[0; 32],
                digest: DigestRef::from_slice(&items).unwrap_or_else(|e| panic!("digest: {e}")),
            }
            .scale_encoding_vec(4)
        };
        let genesis = Voters::genesis(vec![(Ed25519Signer::dev("Alice").account(), 1)])
            .unwrap_or_else(|e| panic!("{e}"));
        let next = genesis
            .after(&header_with(0), 4)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no change seen"));
        assert_eq!(next.set_id, 1);
        assert_eq!(next.authorities.len(), 2);
        let delayed = genesis.after(&header_with(5), 4).err().unwrap_or_default();
        assert!(delayed.contains("delay 0 only"), "{delayed}");
        let stranger = Voters::genesis(vec![([3; 32], 1)])
            .err()
            .unwrap_or_default();
        assert!(stranger.contains("not a development key"), "{stranger}");
    }
}
