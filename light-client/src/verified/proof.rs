//! Storage, proven: values and key ranges read out of Merkle proofs against a finalized state
//! root.
//!
//! An endpoint answers `state_getReadProof` with trie nodes. We hash them ourselves, start at
//! the node whose hash is the state root of a header [`super::finality`] has proven final, and
//! walk down: a value (or its absence) is accepted only when the walk reaches it through nodes
//! we hold. Prefix iteration never trusts the endpoint's key list: the proof of a page must
//! show each key and that no key lies between two of them, or after the last when the page
//! says it is the end (a branch node lists which children exist, so a key left out is a child
//! the walk sees and cannot explain).
//!
//! Pure: the fetcher brings the nodes.

use smoldot::trie as nibble;
use smoldot::trie::proof_decode::{self, DecodedTrieProof};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// The nodes do not decode as trie nodes, repeat, or hang off nothing.
    Malformed(String),
    /// No node in the proof hashes to the state root: the proof is for another block, or forged.
    WrongRoot { state_root: String },
    /// The proof stops before it reaches `key` (truncated, or nodes left out).
    Incomplete { key: String },
    /// The endpoint's key list is not what the proof shows.
    KeysDiffer { why: String },
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed(why) => write!(f, "the storage proof is malformed: {why}"),
            ProofError::WrongRoot { state_root } => write!(
                f,
                "no node of the storage proof hashes to the block's state root {state_root}: \
                 the proof is forged or for another block"
            ),
            ProofError::Incomplete { key } => write!(
                f,
                "the storage proof stops before key {key}: it was truncated or nodes were left out"
            ),
            ProofError::KeysDiffer { why } => {
                write!(f, "the endpoint's list of keys is not the chain's: {why}")
            }
        }
    }
}

impl std::error::Error for ProofError {}

/// Storage entries (key, value), in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A proof decoded and checked against one state root.
pub struct Proof {
    decoded: DecodedTrieProof<Vec<u8>>,
    state_root: [u8; 32],
}

impl Proof {
    /// Decodes `nodes` (as `state_getReadProof` lists them) and checks that they hang off
    /// `state_root`.
    pub fn new(state_root: [u8; 32], nodes: &[Vec<u8>]) -> Result<Self, ProofError> {
        let mut encoded = Vec::new();
        parity_scale_codec::Encode::encode_to(
            &parity_scale_codec::Compact(nodes.len() as u64),
            &mut encoded,
        );
        for node in nodes {
            parity_scale_codec::Encode::encode_to(node, &mut encoded);
        }
        let decoded =
            proof_decode::decode_and_verify_proof(proof_decode::Config { proof: encoded })
                .map_err(|e| {
                    ProofError::Malformed(match e {
                        proof_decode::Error::UnusedProofEntry => {
                            "a node hangs off no other node: it was changed, or belongs elsewhere"
                                .into()
                        }
                        proof_decode::Error::DuplicateProofEntry => "a node is listed twice".into(),
                        proof_decode::Error::InvalidFormat(_) => "a node is not a trie node".into(),
                    })
                })?;
        if decoded.trie_root_proof_entry(&state_root).is_none() {
            return Err(ProofError::WrongRoot {
                state_root: crate::hex::to_hex(&state_root),
            });
        }
        // A node with neither a value nor a child is in no chain's state (an empty state's root
        // is one, and a running chain's state is never empty). smoldot's decoder lets it through
        // and its key iteration assumes it away (found by `fuzz/fuzz_targets/proof.rs`).
        let hollow = decoded.iter_ordered().any(|(_, entry)| {
            let node = entry.trie_node_info;
            matches!(node.storage_value, proof_decode::StorageValue::None)
                && node.children.children().all(|c| c.merkle_value().is_none())
        });
        if hollow {
            return Err(ProofError::Malformed(
                "a trie node with neither a value nor children".into(),
            ));
        }
        Ok(Proof {
            decoded,
            state_root,
        })
    }

    /// The value at `key`, or `None` when the proof shows there is none.
    pub fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProofError> {
        self.decoded
            .storage_value(&self.state_root, key)
            .map(|found| found.map(|(value, _)| value.to_vec()))
            .map_err(|_| incomplete(key))
    }

    /// The keys with `prefix` in order, starting after `after` (or at the prefix itself), at
    /// most `limit`; and, when `need_end`, whether the proof shows there are no more.
    fn keys(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        need_end: bool,
    ) -> Result<(Vec<Vec<u8>>, bool), ProofError> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        loop {
            // A full page need not show what follows it (the next page's proof will).
            if keys.len() == limit && !need_end {
                return Ok((keys, false));
            }
            let (from, or_equal) = match keys.last().map(Vec::as_slice).or(after) {
                Some(key) => (key, false),
                None => (prefix, true),
            };
            let next = self
                .decoded
                .next_key(
                    &self.state_root,
                    nibble::bytes_to_nibbles(from.iter().copied()),
                    or_equal,
                    nibble::bytes_to_nibbles(prefix.iter().copied()),
                    false,
                )
                .map_err(|_| incomplete(from))?;
            let Some(nibbles) = next else {
                return Ok((keys, true));
            };
            if keys.len() == limit {
                return Ok((keys, false));
            }
            let nibbles: Vec<nibble::Nibble> = nibbles.collect();
            if !nibbles.len().is_multiple_of(2) {
                return Err(ProofError::Malformed(
                    "a storage value sits at a key of odd length".into(),
                ));
            }
            keys.push(nibble::nibbles_to_bytes_suffix_extend(nibbles.into_iter()).collect());
        }
    }

    /// Checks one page of a prefix iteration: `claimed` are the keys the endpoint listed after
    /// `after` (for at most `page_size`); the proof must show exactly these keys, in order, with
    /// nothing between, and — when fewer than `page_size` came — nothing after. Returns the
    /// entries and whether the iteration is complete.
    pub fn page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        claimed: &[Vec<u8>],
        page_size: usize,
    ) -> Result<(Entries, bool), ProofError> {
        let complete = claimed.len() < page_size;
        let (keys, end) = self.keys(prefix, after, claimed.len(), complete)?;
        let hex = crate::hex::to_hex;
        if let Some((index, (proven, listed))) = keys
            .iter()
            .zip(claimed)
            .enumerate()
            .find(|(_, (a, b))| a != b)
        {
            return Err(ProofError::KeysDiffer {
                why: format!(
                    "key {index} of the page is {}, the endpoint listed {}",
                    hex(proven),
                    hex(listed)
                ),
            });
        }
        if let Some(extra) = claimed.get(keys.len()) {
            return Err(ProofError::KeysDiffer {
                why: format!(
                    "the endpoint listed {} which the chain does not hold",
                    hex(extra)
                ),
            });
        }
        if complete && !end {
            let last = claimed
                .last()
                .map(Vec::as_slice)
                .or(after)
                .unwrap_or(prefix);
            return Err(ProofError::KeysDiffer {
                why: format!(
                    "the endpoint said the keys end after {}, the chain has more",
                    hex(last)
                ),
            });
        }
        let entries = keys
            .into_iter()
            .map(|key| {
                let value = self.value(&key)?.ok_or_else(|| incomplete(&key))?;
                Ok((key, value))
            })
            .collect::<Result<Vec<_>, ProofError>>()?;
        Ok((entries, complete))
    }
}

fn incomplete(key: &[u8]) -> ProofError {
    ProofError::Incomplete {
        key: crate::hex::to_hex(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzzer's find: the empty trie's root node alone, which smoldot's key iteration does
    /// not expect. Refused as no chain's state.
    #[test]
    fn a_hollow_node_is_refused() {
        let empty = vec![0u8];
        let root = crate::hashing::blake2_256(&empty);
        let error = Proof::new(root, &[empty]).err();
        assert!(
            matches!(&error, Some(ProofError::Malformed(why)) if why.contains("neither")),
            "{error:?}"
        );
    }
}
