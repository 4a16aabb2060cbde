//! GRANDPA finality, as one voter that holds the whole authority set.
//!
//! The development chain has one GRANDPA authority, `//Alice` (ed25519), with weight 1: her
//! precommit alone is more than two thirds of the set, so every block she commits to is final.
//! The node writes the same justification a Substrate node would: a commit for the block, signed
//! for a round and the authority set id, with no vote ancestries (the precommit targets the
//! block itself). Light clients check it against the set they follow, so these bytes are what
//! makes the chain's finality verifiable, not this node's word.

use taoscope_light_client::extrinsic::Signer;
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
/// one signed precommit), and an empty list of vote ancestries.
pub fn justification(
    voter: &Ed25519Signer,
    hash: &[u8; 32],
    number: u32,
    round: u64,
    set_id: u64,
) -> Vec<u8> {
    let signature = voter.sign_now(&precommit_payload(hash, number, round, set_id));
    let mut out = Vec::with_capacity(8 + 36 + 1 + 36 + 64 + 32 + 1);
    out.extend_from_slice(&round.to_le_bytes());
    out.extend_from_slice(hash);
    out.extend_from_slice(&number.to_le_bytes());
    out.push(1 << 2); // compact length 1: one precommit
    out.extend_from_slice(hash);
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&signature);
    out.extend_from_slice(&voter.account());
    out.push(0); // compact length 0: no vote ancestries
    out
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
        let bytes = justification(&alice, &hash, 42, 42, 0);
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
}
