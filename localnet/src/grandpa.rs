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

/// The authority set in `:grandpa_authorities`: a version byte (1), then
/// `Vec<(ed25519 public key, weight u64)>`.
pub fn authorities(raw: &[u8]) -> Option<Vec<([u8; 32], u64)>> {
    let (&version, rest) = raw.split_first()?;
    if version != 1 {
        return None;
    }
    let (&len, mut rest) = rest.split_first()?;
    // Sets larger than 63 need a longer compact length; a local chain never has one.
    if len & 0b11 != 0 {
        return None;
    }
    let mut set = Vec::new();
    for _ in 0..(len >> 2) {
        let (key, tail) = rest.split_first_chunk::<32>()?;
        let (weight, tail) = tail.split_first_chunk::<8>()?;
        set.push((*key, u64::from_le_bytes(*weight)));
        rest = tail;
    }
    rest.is_empty().then_some(set)
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

    #[test]
    fn authority_sets_decode() {
        let mut raw = vec![1, 4];
        raw.extend_from_slice(&[9; 32]);
        raw.extend_from_slice(&1u64.to_le_bytes());
        assert_eq!(authorities(&raw), Some(vec![([9; 32], 1)]));
        assert_eq!(authorities(&raw[..raw.len() - 1]), None);
        assert_eq!(authorities(&[2, 0]), None);
    }
}
